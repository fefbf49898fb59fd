//! The payload's header, entry, exception vectors, and every instruction it needs
//! exactly (SMC, loads and stores with a known syndrome, system registers, FP/SIMD
//! around a call).
//!
//! Entry (R-EL1, EL1h, DAIF masked, MMU off: IPA = VA, data accesses Device at stage 1,
//! hence `strict-align` code): enable FP/SIMD at EL1 (CPACR_EL1.FPEN), store V0..V31,
//! FPCR and FPSR as the REC's first entry found them ([`INITIAL_FP`]), install the
//! vectors, zero `.bss`, take the stack and call [`crate::commands::main`] with the
//! x0 and x1 the REC started with. Another REC of the realm (MPIDR_EL1.Aff0 from 1 to
//! [`RECS`] - 1) only installs the vectors and takes a stack of its own (below REC 0's)
//! before it calls `main`: it runs a suite's program at the same time as REC 0, and
//! the exception catcher ([`expect`]) keeps its state per REC.
//!
//! Exceptions: every vector saves the caller-saved registers and calls
//! [`crate::commands::exception`] with the vector index; if it returns (an exception
//! the payload expected, [`expect`]), the handler resumes at ELR_EL1 + 4.

use core::arch::{asm, global_asm};
use core::cell::UnsafeCell;
use core::sync::atomic::{compiler_fence, AtomicU64, Ordering};

use rmm_conformance::payload::HEADER_MAGIC;

pub mod switch;

/// CPACR_EL1.FPEN = 0b11: FP/SIMD not trapped at EL1 or EL0.
const CPACR_FPEN: u64 = 3 << 20;

/// V0..V31 (low, high word), FPCR and FPSR, 16-byte aligned (with the MMU off, data
/// accesses are Device at stage 1 and must be aligned to their size, 16 for a Q
/// register).
#[repr(C, align(16))]
pub struct FpWords(pub [u64; 66]);

/// [`FpWords`] as the first instruction found them (in `.data`: the `.bss` zeroing at
/// entry comes after the store).
#[unsafe(link_section = ".data")]
pub static INITIAL_FP: InitialFp = InitialFp([const { AtomicU64::new(0) }; 66]);

/// [`INITIAL_FP`]'s type: written once by the entry code, read with atomics.
#[repr(C, align(16))]
pub struct InitialFp(pub [AtomicU64; 66]);

global_asm!(
    ".section .text.header, \"ax\"",
    ".global realm_header",
    "realm_header:",
    "    b realm_start",
    "    nop",
    "    .quad {magic}",
    "    .quad __realm_size",
    "realm_start:",
    "    msr daifset, #0xf",
    "    mov x19, x0",
    "    mov x20, x1",
    "    mov x0, #{fpen}",
    "    msr cpacr_el1, x0",
    "    isb",
    // RECs other than REC 0 (MPIDR_EL1.Aff0) start at 5: below.
    "    mrs x21, mpidr_el1",
    "    and x21, x21, #0xff",
    "    cbnz x21, 5f",
    "    adrp x0, {initial}",
    "    add x0, x0, :lo12:{initial}",
    "    stp q0, q1, [x0, #0]",
    "    stp q2, q3, [x0, #32]",
    "    stp q4, q5, [x0, #64]",
    "    stp q6, q7, [x0, #96]",
    "    stp q8, q9, [x0, #128]",
    "    stp q10, q11, [x0, #160]",
    "    stp q12, q13, [x0, #192]",
    "    stp q14, q15, [x0, #224]",
    "    stp q16, q17, [x0, #256]",
    "    stp q18, q19, [x0, #288]",
    "    stp q20, q21, [x0, #320]",
    "    stp q22, q23, [x0, #352]",
    "    stp q24, q25, [x0, #384]",
    "    stp q26, q27, [x0, #416]",
    "    stp q28, q29, [x0, #448]",
    "    stp q30, q31, [x0, #480]",
    "    mrs x1, fpcr",
    "    mrs x2, fpsr",
    "    add x0, x0, #512",
    "    stp x1, x2, [x0]",
    rmm_test_support::set_vbar!("1", "realm_vectors"),
    rmm_test_support::zero_bss!("x0", "x1"),
    "    adrp x0, __stack_top",
    "    add x0, x0, :lo12:__stack_top",
    "    mov sp, x0",
    "4:  mov x0, x19",
    "    mov x1, x20",
    "    bl {main}",
    "1:  wfi",
    "    b 1b",
    // Another REC (x21 = its index): the vectors, its own stack below REC 0's, no
    // `.bss` zeroing (REC 0 did it, and may run meanwhile). Beyond the stacks: WFI.
    "5:  cmp x21, #{recs}",
    "    b.hs 1b",
    rmm_test_support::set_vbar!("1", "realm_vectors"),
    "    adrp x0, __stack_top",
    "    add x0, x0, :lo12:__stack_top",
    "    mov x1, #{stack_size}",
    "    msub x0, x21, x1, x0",
    "    mov sp, x0",
    "    b 4b",
    magic = const HEADER_MAGIC,
    recs = const RECS,
    stack_size = const STACK_SIZE,
    fpen = const CPACR_FPEN,
    initial = sym INITIAL_FP,
    main = sym crate::commands::main,
);

global_asm!(
    ".section .text.vectors, \"ax\"",
    ".balign 2048",
    ".global realm_vectors",
    "realm_vectors:",
    ".irp idx, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15",
    ".balign 128",
    "    stp x0, x1, [sp, #-176]!",
    "    mov x0, #\\idx",
    "    b realm_exception_common",
    ".endr",
    "realm_exception_common:",
    "    stp x2, x3, [sp, #16]",
    "    stp x4, x5, [sp, #32]",
    "    stp x6, x7, [sp, #48]",
    "    stp x8, x9, [sp, #64]",
    "    stp x10, x11, [sp, #80]",
    "    stp x12, x13, [sp, #96]",
    "    stp x14, x15, [sp, #112]",
    "    stp x16, x17, [sp, #128]",
    "    stp x18, x29, [sp, #144]",
    "    str x30, [sp, #160]",
    "    bl {handler}",
    "    mrs x0, elr_el1",
    "    add x0, x0, #4",
    "    msr elr_el1, x0",
    "    ldp x2, x3, [sp, #16]",
    "    ldp x4, x5, [sp, #32]",
    "    ldp x6, x7, [sp, #48]",
    "    ldp x8, x9, [sp, #64]",
    "    ldp x10, x11, [sp, #80]",
    "    ldp x12, x13, [sp, #96]",
    "    ldp x14, x15, [sp, #112]",
    "    ldp x16, x17, [sp, #128]",
    "    ldp x18, x29, [sp, #144]",
    "    ldr x30, [sp, #160]",
    "    ldp x0, x1, [sp], #176",
    "    eret",
    handler = sym crate::commands::exception,
);

/// How many RECs can run the payload at once (each has a stack: `REALM_RECS` in the
/// link script).
pub const RECS: usize = 2;
/// Each REC's stack (`REALM_STACK_SIZE` in the link script).
const STACK_SIZE: usize = 0x4000;

/// Per REC (index = MPIDR_EL1.Aff0): whether an exception is expected (set by
/// [`expect`], cleared by the handler). In `.data`, so that REC 0's `.bss` zeroing
/// cannot clear another REC's.
#[unsafe(link_section = ".data")]
static EXPECTING: [AtomicU64; RECS] = [const { AtomicU64::new(0) }; RECS];
/// Per REC: ESR_EL1 and ELR_EL1 of the expected exception (0 if none was taken).
#[unsafe(link_section = ".data")]
static CAUGHT: [[AtomicU64; 2]; RECS] = [const { [AtomicU64::new(0), AtomicU64::new(0)] }; RECS];

/// This REC's index (MPIDR_EL1.Aff0; below [`RECS`], or the entry would not have run
/// the payload).
fn rec() -> usize {
    (mpidr() & 0xFF) as usize % RECS
}

/// MPIDR_EL1 (the REC's MPIDR, from VMPIDR_EL2).
pub fn mpidr() -> u64 {
    let v: u64;
    // SAFETY: reading MPIDR_EL1 has no side effect.
    unsafe { asm!("mrs {}, mpidr_el1", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// ESR_EL1, ELR_EL1, FAR_EL1, SPSR_EL1 (in the exception handler).
pub fn exception_regs() -> [u64; 4] {
    let s = rmm_test_support::fault::Syndrome::el1();
    [s.esr, s.elr, s.far, s.spsr]
}

/// Per REC: where [`fetch`] resumes after an exception (0: after the instruction).
#[unsafe(link_section = ".data")]
static RESUME: [AtomicU64; RECS] = [const { AtomicU64::new(0) }; RECS];

/// In the exception handler: if an exception was expected, records it and returns
/// true (the handler then resumes after the instruction, or where [`fetch`] asked).
pub fn take_expected() -> bool {
    let (expecting, caught) = (&EXPECTING[rec()], &CAUGHT[rec()]);
    if expecting.load(Ordering::Relaxed) == 0 {
        return false;
    }
    expecting.store(0, Ordering::Relaxed);
    let r = exception_regs();
    caught[0].store(r[0], Ordering::Relaxed);
    caught[1].store(r[1], Ordering::Relaxed);
    let resume = RESUME[rec()].load(Ordering::Relaxed);
    if resume != 0 {
        // The handler adds 4 to ELR_EL1 before it returns.
        // SAFETY: ELR_EL1 is the handler's own return address; it now returns to the
        // instruction after `fetch`'s branch, with the registers `fetch` declared.
        unsafe { asm!("msr elr_el1, {}", in(reg) resume - 4, options(nomem, nostack)) }
    }
    true
}

/// Branches to `ipa` with x30 = the instruction after the branch, under [`expect`]:
/// the code there returns (a RET), or the fetch or that instruction takes an
/// exception and the handler resumes after the branch. Returns ESR_EL1 of it, 0 if
/// none.
pub fn fetch(ipa: u64) -> u64 {
    let resume = &RESUME[rec()];
    let (esr, _) = expect(|| {
        // SAFETY: the code at `ipa` is a RET (back to label 2 with nothing changed) or
        // faults; either way execution continues at label 2 with only x30 (declared)
        // and the flags-free registers the handler restores.
        unsafe {
            asm!(
                "adr x30, 2f",
                "str x30, [{resume}]",
                "br {target}",
                "2:",
                resume = in(reg) resume.as_ptr(),
                target = in(reg) ipa,
                out("x30") _,
                options(nostack),
            )
        }
    });
    resume.store(0, Ordering::Relaxed);
    esr
}

/// Runs `f` expecting at most one synchronous exception at the instruction it
/// executes; returns (ESR_EL1, ELR_EL1) of it, or zeros if none was taken.
pub fn expect(f: impl FnOnce()) -> (u64, u64) {
    let (expecting, caught) = (&EXPECTING[rec()], &CAUGHT[rec()]);
    caught[0].store(0, Ordering::Relaxed);
    caught[1].store(0, Ordering::Relaxed);
    expecting.store(1, Ordering::Relaxed);
    // The access in `f` stays between the two stores (the exception handler runs on
    // this CPU: a compiler fence is enough).
    compiler_fence(Ordering::SeqCst);
    f();
    compiler_fence(Ordering::SeqCst);
    expecting.store(0, Ordering::Relaxed);
    (
        caught[0].load(Ordering::Relaxed),
        caught[1].load(Ordering::Relaxed),
    )
}

/// `smc #0` with x0 = `fid` and x1.. = `args` (at most 17); returns x0..x17.
pub fn smc(fid: u64, args: &[u64]) -> [u64; 18] {
    let mut a = [0u64; 17];
    a[..args.len()].copy_from_slice(args);
    let mut r = [0u64; 18];
    // SAFETY: an SMC from R-EL1 traps to the RMM, which returns to the next instruction
    // with results in x0..x17 at most (every one declared); it touches only the memory
    // the payload named in the arguments, which the payload no longer uses as Rust
    // objects while the call runs (they are read back afterwards).
    unsafe {
        asm!(
            "smc #0",
            inout("x0") fid => r[0], inout("x1") a[0] => r[1], inout("x2") a[1] => r[2],
            inout("x3") a[2] => r[3], inout("x4") a[3] => r[4], inout("x5") a[4] => r[5],
            inout("x6") a[5] => r[6], inout("x7") a[6] => r[7], inout("x8") a[7] => r[8],
            inout("x9") a[8] => r[9], inout("x10") a[9] => r[10], inout("x11") a[10] => r[11],
            inout("x12") a[11] => r[12], inout("x13") a[12] => r[13],
            inout("x14") a[13] => r[14], inout("x15") a[14] => r[15],
            inout("x16") a[15] => r[16], inout("x17") a[16] => r[17],
            options(nostack),
        );
    }
    r
}

/// The payload's FP/SIMD fill and what the registers held after the call made from it
/// (one CPU; only [`set_fp_fill`], [`smc_fp_filled`] and [`fp_after`] touch them, and
/// none of them runs during another).
struct FpBuffers(UnsafeCell<(FpWords, FpWords)>);
// SAFETY: the payload runs on one CPU and the exception handler does not touch these.
unsafe impl Sync for FpBuffers {}
static FP_BUFFERS: FpBuffers = FpBuffers(UnsafeCell::new((FpWords([0; 66]), FpWords([0; 66]))));

/// Sets the fill's V words (V0.lo, V0.hi, V1.lo...) to `f(j)`.
pub fn set_fp_fill(f: fn(usize) -> u64) {
    // SAFETY: see FpBuffers: no other reference to the buffers exists now.
    let (fill, _) = unsafe { &mut *FP_BUFFERS.0.get() };
    for (j, w) in fill.0[..64].iter_mut().enumerate() {
        *w = f(j);
    }
}

/// [`smc_fp`] from the fill, storing the registers after the call for [`fp_after`].
pub fn smc_fp_filled(fid: u64, x1: u64, fpcr: u64, fpsr: u64) -> u64 {
    // SAFETY: see FpBuffers.
    let (fill, after) = unsafe { &mut *FP_BUFFERS.0.get() };
    smc_fp(fid, x1, fill, fpcr, fpsr, after)
}

/// V0..V31 (words), FPCR and FPSR as they were right after [`smc_fp_filled`]'s call.
pub fn fp_after() -> [u64; 66] {
    // SAFETY: see FpBuffers.
    let (_, after) = unsafe { &*FP_BUFFERS.0.get() };
    after.0
}

/// `smc #0` (x0 = `fid`, x1 = `x1`) with V0..V31 = `v`, FPCR = `fpcr`, FPSR = `fpsr`
/// loaded right before it and V0..V31, FPCR, FPSR stored in `out` right after it, in
/// one block: no code of the payload runs in between. Returns x0. The payload's own
/// FPCR and FPSR are put back afterwards.
fn smc_fp(fid: u64, x1: u64, v: &FpWords, fpcr: u64, fpsr: u64, out: &mut FpWords) -> u64 {
    let r0;
    // SAFETY: x20 points at 528 readable bytes, x21 at 528 writable bytes, both 16-byte
    // aligned (FpWords) as Q accesses with the MMU off need. Every V register is
    // declared clobbered and FPCR/FPSR are restored; the SMC returns to the next
    // instruction (x0..x17 declared).
    unsafe {
        asm!(
            "mrs x24, fpcr",
            "mrs x25, fpsr",
            "ldp q0, q1, [x20, #0]",
            "ldp q2, q3, [x20, #32]",
            "ldp q4, q5, [x20, #64]",
            "ldp q6, q7, [x20, #96]",
            "ldp q8, q9, [x20, #128]",
            "ldp q10, q11, [x20, #160]",
            "ldp q12, q13, [x20, #192]",
            "ldp q14, q15, [x20, #224]",
            "ldp q16, q17, [x20, #256]",
            "ldp q18, q19, [x20, #288]",
            "ldp q20, q21, [x20, #320]",
            "ldp q22, q23, [x20, #352]",
            "ldp q24, q25, [x20, #384]",
            "ldp q26, q27, [x20, #416]",
            "ldp q28, q29, [x20, #448]",
            "ldp q30, q31, [x20, #480]",
            "msr fpcr, x22",
            "msr fpsr, x23",
            "isb",
            "smc #0",
            "stp q0, q1, [x21, #0]",
            "stp q2, q3, [x21, #32]",
            "stp q4, q5, [x21, #64]",
            "stp q6, q7, [x21, #96]",
            "stp q8, q9, [x21, #128]",
            "stp q10, q11, [x21, #160]",
            "stp q12, q13, [x21, #192]",
            "stp q14, q15, [x21, #224]",
            "stp q16, q17, [x21, #256]",
            "stp q18, q19, [x21, #288]",
            "stp q20, q21, [x21, #320]",
            "stp q22, q23, [x21, #352]",
            "stp q24, q25, [x21, #384]",
            "stp q26, q27, [x21, #416]",
            "stp q28, q29, [x21, #448]",
            "stp q30, q31, [x21, #480]",
            "mrs x26, fpcr",
            "mrs x27, fpsr",
            "add x21, x21, #512",
            "stp x26, x27, [x21]",
            "msr fpcr, x24",
            "msr fpsr, x25",
            "isb",
            inout("x0") fid => r0, inout("x1") x1 => _,
            out("x2") _, out("x3") _, out("x4") _, out("x5") _, out("x6") _, out("x7") _,
            out("x8") _, out("x9") _, out("x10") _, out("x11") _, out("x12") _,
            out("x13") _, out("x14") _, out("x15") _, out("x16") _, out("x17") _,
            in("x20") v.0.as_ptr(), inout("x21") out.0.as_mut_ptr() => _,
            in("x22") fpcr, in("x23") fpsr,
            out("x24") _, out("x25") _, out("x26") _, out("x27") _,
            out("v0") _, out("v1") _, out("v2") _, out("v3") _, out("v4") _, out("v5") _,
            out("v6") _, out("v7") _, out("v8") _, out("v9") _, out("v10") _, out("v11") _,
            out("v12") _, out("v13") _, out("v14") _, out("v15") _, out("v16") _,
            out("v17") _, out("v18") _, out("v19") _, out("v20") _, out("v21") _,
            out("v22") _, out("v23") _, out("v24") _, out("v25") _, out("v26") _,
            out("v27") _, out("v28") _, out("v29") _, out("v30") _, out("v31") _,
            options(nostack),
        );
    }
    r0
}

/// WFI.
pub fn wfi() {
    // SAFETY: waits for an interrupt (or traps to the RMM); no effect on memory.
    unsafe { asm!("wfi", options(nomem, nostack, preserves_flags)) }
}

/// One load of the given kind (`payload::load`) at `addr`; the target register's value.
pub fn load(addr: u64, kind: u64) -> u64 {
    use rmm_conformance::payload::load;
    let v: u64;
    // SAFETY: `addr` is an emulated device (an unprotected IPA the host emulates) or
    // the payload's own memory; a load has no effect on Rust objects.
    unsafe {
        match kind {
            load::W32 => asm!("ldr w0, [x1]", out("x0") v, in("x1") addr, options(nostack)),
            load::SX16_X => asm!("ldrsh x0, [x1]", out("x0") v, in("x1") addr, options(nostack)),
            load::B8 => asm!("ldrb w0, [x1]", out("x0") v, in("x1") addr, options(nostack)),
            load::SX8_W => asm!("ldrsb w0, [x1]", out("x0") v, in("x1") addr, options(nostack)),
            load::H16 => asm!("ldrh w0, [x1]", out("x0") v, in("x1") addr, options(nostack)),
            _ => asm!("ldr x0, [x1]", out("x0") v, in("x1") addr, options(nostack)),
        }
    }
    v
}

/// One store of the low `size` bytes of `value` at `addr` (from W1, or X1 for 8).
pub fn store(addr: u64, size: u64, value: u64) {
    // SAFETY: `addr` is an emulated device (an unprotected IPA the host emulates), not
    // memory of any Rust object.
    unsafe {
        match size {
            1 => asm!("strb w1, [x0]", in("x0") addr, in("x1") value, options(nostack)),
            2 => asm!("strh w1, [x0]", in("x0") addr, in("x1") value, options(nostack)),
            4 => asm!("str w1, [x0]", in("x0") addr, in("x1") value, options(nostack)),
            _ => asm!("str x1, [x0]", in("x0") addr, in("x1") value, options(nostack)),
        }
    }
}

/// Reads the byte at IPA `ipa` (= VA) under [`expect`]: the byte, or ESR_EL1 of the
/// exception the load took (a synchronous external abort the RMM or the host injected,
/// say).
pub fn read_byte(ipa: u64) -> Result<u8, u64> {
    let mut v = 0u8;
    // SAFETY: a single volatile byte load from realm memory that is no Rust object the
    // payload uses (the caller names test memory); an exception it takes is caught by
    // `expect` and the handler resumes after the load.
    let (esr, _) = expect(|| v = unsafe { core::ptr::read_volatile(ipa as *const u8) });
    if esr == 0 {
        Ok(v)
    } else {
        Err(esr)
    }
}

/// Writes `v` to the byte at IPA `ipa` (= VA) under [`expect`]; ESR_EL1 if the store
/// took an exception.
pub fn write_byte(ipa: u64, v: u8) -> Result<(), u64> {
    // SAFETY: as for `read_byte`: a single volatile byte store to test memory.
    let (esr, _) = expect(|| unsafe { core::ptr::write_volatile(ipa as *mut u8, v) });
    if esr == 0 {
        Ok(())
    } else {
        Err(esr)
    }
}

/// Copies `buf.len()` bytes from the payload's memory at IPA `ipa` (= VA).
pub fn read_mem(ipa: u64, buf: &mut [u8]) {
    // SAFETY: the caller names realm memory the payload owns (its .bss pages or the
    // leak page), not a Rust object borrowed elsewhere; byte copies, so alignment
    // does not matter.
    unsafe { core::ptr::copy_nonoverlapping(ipa as *const u8, buf.as_mut_ptr(), buf.len()) }
}

/// Reads and writes of the EL1 registers of the leak test, in
/// `payload::leak_page` order.
macro_rules! el1_regs {
    ($($r:literal),* $(,)?) => {
        /// The EL1 registers, in `payload::leak_page` order.
        pub fn read_el1() -> [u64; rmm_conformance::payload::leak_page::EL1_COUNT] {
            [$({
                let v: u64;
                // SAFETY: reading an EL1 register at EL1 has no side effect.
                unsafe { asm!(concat!("mrs {}, ", $r), out(reg) v, options(nomem, nostack, preserves_flags)) }
                v
            }),*]
        }

        /// Writes the EL1 registers (same order).
        ///
        /// # Safety
        /// The values must leave the payload running: VBAR_EL1 pointing at vectors
        /// before any exception, CPACR_EL1.FPEN set, SCTLR_EL1 with the MMU off and
        /// little-endian data, the timers not asserting.
        pub unsafe fn write_el1(v: &[u64; rmm_conformance::payload::leak_page::EL1_COUNT]) {
            let mut i = 0;
            $(
                // SAFETY: by the function's contract.
                unsafe { asm!(concat!("msr ", $r, ", {}"), "isb", in(reg) v[i], options(nostack)) }
                i += 1;
            )*
            let _ = i;
        }
    };
}

el1_regs!(
    "sctlr_el1",
    "tcr_el1",
    "ttbr0_el1",
    "ttbr1_el1",
    "mair_el1",
    "amair_el1",
    "vbar_el1",
    "elr_el1",
    "spsr_el1",
    "esr_el1",
    "far_el1",
    "afsr0_el1",
    "afsr1_el1",
    "contextidr_el1",
    "cpacr_el1",
    "csselr_el1",
    "par_el1",
    "sp_el0",
    "tpidr_el0",
    "tpidrro_el0",
    "tpidr_el1",
    "cntkctl_el1",
    "cntv_ctl_el0",
    "cntv_cval_el0",
    "cntp_ctl_el0",
    "cntp_cval_el0",
);

/// The GICv3 virtual CPU interface as the realm sees it (ICC_* at EL1 with
/// HCR_EL2.IMO set: the ICV_* registers).
pub mod gic {
    use core::arch::asm;

    /// ICC_PMR_EL1 = `v`.
    pub fn set_pmr(v: u64) {
        // SAFETY: a GIC CPU interface register write; no effect on memory.
        unsafe { asm!("msr S3_0_C4_C6_0, {}", "isb", in(reg) v, options(nomem, nostack)) }
    }

    /// ICC_IGRPEN1_EL1 = `v`.
    pub fn set_igrpen1(v: u64) {
        // SAFETY: as above.
        unsafe { asm!("msr S3_0_C12_C12_7, {}", "isb", in(reg) v, options(nomem, nostack)) }
    }

    /// Reads ICC_IAR1_EL1 (acknowledges the highest-priority pending interrupt).
    pub fn iar1() -> u64 {
        let v: u64;
        // SAFETY: as above.
        unsafe { asm!("mrs {}, S3_0_C12_C12_0", out(reg) v, options(nomem, nostack)) }
        v
    }

    /// ICC_EOIR1_EL1 = `intid`.
    pub fn eoir1(intid: u64) {
        // SAFETY: as above.
        unsafe { asm!("msr S3_0_C12_C12_1, {}", "isb", in(reg) intid, options(nomem, nostack)) }
    }

    /// ICC_SGI1R_EL1 (`op2` 5), ICC_ASGI1R_EL1 (6) or ICC_SGI0R_EL1 (7) = `v`.
    pub fn sgi(op2: u64, v: u64) {
        // SAFETY: as above (HCR_EL2.IMO/FMO trap the write to the RMM, which makes it a
        // REC exit; no SGI is sent).
        unsafe {
            match op2 {
                5 => asm!("msr S3_0_C12_C11_5, {}", "isb", in(reg) v, options(nomem, nostack)),
                6 => asm!("msr S3_0_C12_C11_6, {}", "isb", in(reg) v, options(nomem, nostack)),
                _ => asm!("msr S3_0_C12_C11_7, {}", "isb", in(reg) v, options(nomem, nostack)),
            }
        }
    }
}

/// Executes instruction `n` of `payload::undef` once (under [`expect`]); returns its
/// address.
pub fn undef_insn(n: usize) -> u64 {
    use rmm_conformance::payload::undef;
    let at: u64;
    // SAFETY: each instruction either traps (the handler resumes after it, clobbering
    // nothing: it saves every caller-saved register) or has an effect only on x0 (and
    // for SME, the streaming mode it would enter, which the RMM refuses). The PAC case
    // sets SCTLR_EL1.EnIA around one instruction and restores SCTLR_EL1; the payload's
    // code has no pointer authentication instructions, so nothing else is signed.
    unsafe {
        match n {
            undef::PAUTH_KEY => {
                asm!("adr {a}, 1f", "1: msr S3_0_C2_C1_0, xzr", a = out(reg) at, options(nostack))
            }
            undef::SVE => {
                asm!("adr {a}, 1f", "1: .inst 0x04bf5020", a = out(reg) at, out("x0") _, options(nostack))
            }
            undef::SME => {
                asm!("adr {a}, 1f", "1: .inst 0xd503477f", a = out(reg) at, options(nostack))
            }
            undef::PMU => {
                asm!("adr {a}, 1f", "1: mrs x0, pmcr_el0", a = out(reg) at, out("x0") _, options(nostack))
            }
            undef::TRACE => {
                asm!("adr {a}, 1f", "1: mrs x0, S2_1_C0_C1_0", a = out(reg) at, out("x0") _, options(nostack))
            }
            undef::ACTLR => {
                asm!("adr {a}, 1f", "1: mrs x0, actlr_el1", a = out(reg) at, out("x0") _, options(nostack))
            }
            undef::PAUTH_KEY_READ => {
                asm!("adr {a}, 1f", "1: mrs x0, S3_0_C2_C1_0", a = out(reg) at, out("x0") _, options(nostack))
            }
            undef::PAC => asm!(
                "mrs {s}, sctlr_el1",
                "orr {t}, {s}, #(1 << 31)",
                "msr sctlr_el1, {t}",
                "isb",
                "adr {a}, 1f",
                "1: .inst 0xdac10020",
                "msr sctlr_el1, {s}",
                "isb",
                a = out(reg) at, s = out(reg) _, t = out(reg) _, out("x0") _, options(nostack)
            ),
            _ => asm!("adr {a}, 1f", "1: hvc #0", a = out(reg) at, options(nostack)),
        }
    }
    at
}

/// CNTV_CVAL_EL0 = `cval`, then CNTV_CTL_EL0 = `ctl`.
pub fn set_cntv(ctl: u64, cval: u64) {
    // SAFETY: the EL1 virtual timer; its interrupt reaches the payload only through
    // the list registers the host fills (with PSTATE.I masked it is never taken).
    unsafe {
        asm!(
            "msr cntv_cval_el0, {v}", "msr cntv_ctl_el0, {c}", "isb",
            v = in(reg) cval, c = in(reg) ctl, options(nomem, nostack),
        )
    }
}

/// The EL1 physical timer: CNTP_CVAL_EL0 = `cval`, CNTP_CTL_EL0 = `ctl`.
pub fn set_cntp(ctl: u64, cval: u64) {
    // SAFETY: as for `set_cntv` (the RMM lets EL1 reach the physical timer,
    // CNTHCTL_EL2.EL1PCEN).
    unsafe {
        asm!(
            "msr cntp_cval_el0, {v}", "msr cntp_ctl_el0, {c}", "isb",
            v = in(reg) cval, c = in(reg) ctl, options(nomem, nostack),
        )
    }
}

/// CNTP_CTL_EL0.
pub fn cntp_ctl() -> u64 {
    let v: u64;
    // SAFETY: reading a timer register has no side effect.
    unsafe { asm!("mrs {}, cntp_ctl_el0", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// CPACR_EL1 = `v`.
pub fn set_cpacr(v: u64) {
    // SAFETY: the caller keeps FPEN set (the payload uses FP/SIMD).
    unsafe { asm!("msr cpacr_el1, {}", "isb", in(reg) v, options(nomem, nostack)) }
}

/// Reads of the feature ID registers of `rmm_conformance::realm_id::REGS`, in order.
macro_rules! id_regs {
    ($($r:literal),* $(,)?) => {
        /// The realm's view of `rmm_conformance::realm_id::REGS` (each read traps to
        /// the RMM with HCR_EL2.TID3).
        pub fn id_regs() -> [u64; rmm_conformance::realm_id::COUNT] {
            [$({
                let v: u64;
                // SAFETY: reading an identification register has no side effect.
                unsafe { asm!(concat!("mrs {}, ", $r), out(reg) v, options(nomem, nostack, preserves_flags)) }
                v
            }),*]
        }
    };
}

id_regs!(
    "S3_0_C0_C4_0",
    "S3_0_C0_C4_1",
    "S3_0_C0_C5_0",
    "S3_0_C0_C5_1",
    "S3_0_C0_C6_0",
    "S3_0_C0_C6_1",
    "S3_0_C0_C6_2",
    "S3_0_C0_C7_0",
    "S3_0_C0_C7_1",
    "S3_0_C0_C7_2",
    "S3_0_C0_C4_4",
    "S3_0_C0_C4_5",
    "S3_0_C0_C4_2",
    "S3_0_C0_C7_3",
    "S3_0_C0_C5_4",
    "S3_0_C0_C1_0",
    "S3_0_C0_C3_0",
    "S3_0_C0_C7_7",
);

/// Carries out access `n` of `payload::debug` (under [`expect`]); the value read (0 for
/// a write).
pub fn debug_access(n: usize) -> u64 {
    use rmm_conformance::payload::debug;
    let mut v: u64 = 0;
    // SAFETY: debug register accesses: the RMM emulates them (RAZ/WI) or the access
    // takes an exception the handler catches; neither touches memory.
    unsafe {
        match n {
            debug::MSR_MDSCR => {
                asm!("msr mdscr_el1, {}", "isb", in(reg) 1u64 << 12, options(nostack))
            }
            debug::MSR_OSLAR => asm!("msr oslar_el1, xzr", "isb", options(nostack)),
            debug::MSR_OSDLR => asm!("msr S2_0_C1_C3_4, xzr", "isb", options(nostack)),
            debug::MSR_DBGBCR0 => {
                asm!("msr dbgbcr0_el1, {}", "isb", in(reg) debug::DBGBCR_ENABLED, options(nostack))
            }
            debug::MRS_MDSCR => asm!("mrs {}, mdscr_el1", out(reg) v, options(nostack)),
            debug::MRS_OSLSR => asm!("mrs {}, oslsr_el1", out(reg) v, options(nostack)),
            debug::MRS_DBGBCR0 => asm!("mrs {}, dbgbcr0_el1", out(reg) v, options(nostack)),
            debug::MRS_DBGBVR0 => asm!("mrs {}, dbgbvr0_el1", out(reg) v, options(nostack)),
            _ => asm!("mrs {}, mdccsr_el0", out(reg) v, options(nostack)),
        }
    }
    v
}
