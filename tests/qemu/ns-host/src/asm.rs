//! Entry, exception vectors, SMC, and physical memory copies with a fault fix-up.
//!
//! Entry (NS-EL2, MMU off, from the EL3 monitor): mask interrupts, stop trapping
//! FP/SIMD at EL2 (Rust code uses it), install the vectors, zero `.bss` (which holds
//! the stack), take the stack and call [`crate::run::ns_main`].
//!
//! Memory accesses the tests make to Non-secure physical addresses go through
//! `ns_copy`, a byte loop. A data abort taken at NS-EL2 whose return address lies inside
//! that loop (a granule protection fault on a delegated granule, or an external abort
//! where there is no memory) is fixed up by the vector code: it records ESR_EL2 and
//! FAR_EL2 in [`LAST_FAULT`] and resumes at `ns_copy_fault`, which returns 1 to the
//! caller. Only caller-saved registers (x9..x12) are used by the fix-up: the fault can
//! only happen inside a call to `ns_copy`. Any other exception is fatal
//! ([`crate::fault::unexpected`]).

use core::arch::{asm, global_asm};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU64, Ordering};

pub mod switch;

/// ESR_EL2 and FAR_EL2 of the last fixed-up fault (written by the vector code).
pub static LAST_FAULT: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

const STACK_SIZE: usize = 0x10000;

/// The stack (in `.bss`).
#[repr(C, align(16))]
pub struct Stack(UnsafeCell<[u8; STACK_SIZE]>);

// SAFETY: only used as the single CPU's stack, through SP.
unsafe impl Sync for Stack {}

/// The test host's stack.
pub static STACK: Stack = Stack(UnsafeCell::new([0; STACK_SIZE]));

/// CPTR_EL2 (HCR_EL2.E2H = 0): RES1 bits and TZ/TSM set (SVE and SME trapped, unused
/// here), TFP clear (FP/SIMD not trapped).
const CPTR_EL2: u64 = 0x33FF;

global_asm!(
    ".section .text.entry, \"ax\"",
    ".global ns_entry",
    "ns_entry:",
    "    msr daifset, #0xf",
    "    mov x0, #{cptr}",
    "    msr cptr_el2, x0",
    "    isb",
    rmm_test_support::set_vbar!("2", "ns_vectors"),
    rmm_test_support::zero_bss!("x0", "x1"),
    "    adrp x0, {stack}",
    "    add x0, x0, :lo12:{stack}",
    "    mov x1, #{stack_size}",
    "    add x0, x0, x1",
    "    mov sp, x0",
    "    bl {main}",
    "3:  wfi",
    "    b 3b",
    cptr = const CPTR_EL2,
    stack = sym STACK,
    stack_size = const STACK_SIZE,
    main = sym crate::run::ns_main,
);

global_asm!(
    ".section .text.vectors, \"ax\"",
    // Current EL with SP_EL2, synchronous (entry 4): the only exception expected.
    rmm_test_support::vector_table!("ns_vectors", 4 => "ns_sync_spx", others => "ns_fatal"),
    "ns_sync_spx:",
    "    mrs x9, esr_el2",
    "    lsr x10, x9, #26",
    "    cmp x10, #0x25",
    "    b.ne 1f",
    "    mrs x10, elr_el2",
    "    adrp x11, ns_copy_start",
    "    add x11, x11, :lo12:ns_copy_start",
    "    cmp x10, x11",
    "    b.lo 1f",
    "    adrp x11, ns_copy_end",
    "    add x11, x11, :lo12:ns_copy_end",
    "    cmp x10, x11",
    "    b.hs 1f",
    "    adrp x11, {fault}",
    "    add x11, x11, :lo12:{fault}",
    "    mrs x12, far_el2",
    "    stp x9, x12, [x11]",
    "    adrp x10, ns_copy_fault",
    "    add x10, x10, :lo12:ns_copy_fault",
    "    msr elr_el2, x10",
    "    eret",
    "1:  mov x0, #4",
    "ns_fatal:",
    "    bl {fatal}",
    "    b .",
    fault = sym LAST_FAULT,
    fatal = sym crate::fault::unexpected,
);

// ns_copy(dst = x0, src = x1, len = x2) -> x0 = 0, or 1 if an access faulted.
global_asm!(
    ".section .text.ns_copy, \"ax\"",
    ".global ns_copy",
    "ns_copy:",
    "ns_copy_start:",
    "    cbz x2, 2f",
    "1:  ldrb w3, [x1], #1",
    "    strb w3, [x0], #1",
    "    subs x2, x2, #1",
    "    b.ne 1b",
    "2:  mov x0, #0",
    "    ret",
    "ns_copy_end:",
    "ns_copy_fault:",
    "    mov x0, #1",
    "    ret",
);

unsafe extern "C" {
    fn ns_copy(dst: *mut u8, src: *const u8, len: usize) -> u64;
}

/// Where the test host itself lives; tests must not write there.
const IMAGE: core::ops::Range<u64> = 0x6000_0000..0x6100_0000;

/// Reads `buf.len()` bytes at physical address `pa`; `false` if an access faulted.
pub fn read_phys(pa: u64, buf: &mut [u8]) -> bool {
    // SAFETY: `buf` is valid for writes of its length; reads of `pa..` either succeed
    // or fault, and a fault is fixed up (the copy stops and returns 1).
    unsafe { ns_copy(buf.as_mut_ptr(), pa as *const u8, buf.len()) == 0 }
}

/// Writes `data` at physical address `pa`; `false` if an access faulted.
///
/// # Panics
/// If the range overlaps the test host's own image, stack or data.
pub fn write_phys(pa: u64, data: &[u8]) -> bool {
    let end = pa.saturating_add(data.len() as u64);
    assert!(
        end <= IMAGE.start || pa >= IMAGE.end,
        "a test wrote into the test host's own memory at {pa:#x}"
    );
    // SAFETY: `data` is valid for reads; the destination is outside this program's
    // memory (checked above), so the write cannot change any Rust object; a fault is
    // fixed up.
    unsafe { ns_copy(pa as *mut u8, data.as_ptr(), data.len()) == 0 }
}

/// Forgets the last recorded fault.
pub fn clear_fault() {
    LAST_FAULT[0].store(0, Ordering::Relaxed);
    LAST_FAULT[1].store(0, Ordering::Relaxed);
}

/// ESR_EL2 and FAR_EL2 of the last fixed-up fault (0 if none since [`clear_fault`]).
pub fn last_fault() -> (u64, u64) {
    (
        LAST_FAULT[0].load(Ordering::Relaxed),
        LAST_FAULT[1].load(Ordering::Relaxed),
    )
}

/// The RMI call's `asm!`: `$template` (which contains `smc #0`), x0 = `$fid`, x1..x6 =
/// `$args`, x0..x4 into the results, x5..x17 clobbered (SMCCC 1.2 allows results
/// there), and `$named` operands of the template; evaluates to x0..x4. [`smc`] and
/// [`timed_smc`] differ only by the counter reads around the SMC.
macro_rules! rmi_smc_asm {
    ($fid:expr, $args:expr, [$($template:literal),+], $($named:tt)*) => {{
        let (r0, r1, r2, r3, r4): (u64, u64, u64, u64, u64);
        let args: [u64; 6] = $args;
        asm!(
            $($template),+,
            $($named)*
            inout("x0") $fid => r0, inout("x1") args[0] => r1, inout("x2") args[1] => r2,
            inout("x3") args[2] => r3, inout("x4") args[3] => r4,
            inout("x5") args[4] => _, inout("x6") args[5] => _,
            out("x7") _, out("x8") _, out("x9") _, out("x10") _, out("x11") _,
            out("x12") _, out("x13") _, out("x14") _, out("x15") _, out("x16") _,
            out("x17") _,
            options(nostack),
        );
        [r0, r1, r2, r3, r4]
    }};
}

/// `smc #0` with x0 = `fid`, x1..x6 = `args`; returns x0..x4. x5..x17 are treated as
/// clobbered (SMCCC 1.2 allows results there).
pub fn smc(fid: u64, args: [u64; 6]) -> [u64; 5] {
    // SAFETY: the EL3 monitor returns to the next instruction with results in x0..x4
    // and every other register preserved or, at worst, x5..x17 changed, which the asm
    // declares; the call touches no memory of this program.
    unsafe { rmi_smc_asm!(fid, args, ["smc #0"],) }
}

/// [`smc`] timed by the generic counter: `mrs cntpct_el0; smc #0; mrs cntpct_el0` with
/// nothing else between the reads, for the QEMU path-length bench (`crate::bench`),
/// where `-icount shift=0` advances the counter once per instruction executed on any
/// EL. Returns x0..x4 and the difference of the two reads.
pub fn timed_smc(fid: u64, args: [u64; 6]) -> ([u64; 5], u64) {
    let (t0, t1): (u64, u64);
    // SAFETY: as for `smc`; the counter reads have no side effect. `t0` and `t1` get
    // registers outside x0..x17 (all of those are operands here), which SMCCC requires
    // EL3 to preserve, so the first read survives the call.
    let r = unsafe {
        rmi_smc_asm!(
            fid,
            args,
            ["mrs {t0}, cntpct_el0", "smc #0", "mrs {t1}, cntpct_el0"],
            t0 = out(reg) t0, t1 = out(reg) t1,
        )
    };
    (r, t1.wrapping_sub(t0))
}

/// The same two counter reads around a `nop`: what [`timed_smc`]'s difference holds
/// besides the SMC's round trip (2 under `-icount shift=0`: the first read and the
/// `nop`).
pub fn timed_nop() -> u64 {
    let (t0, t1): (u64, u64);
    // SAFETY: counter reads and a `nop` have no side effect.
    unsafe {
        asm!(
            "mrs {t0}, cntpct_el0",
            "nop",
            "mrs {t1}, cntpct_el0",
            t0 = out(reg) t0, t1 = out(reg) t1,
            options(nomem, nostack, preserves_flags),
        );
    }
    t1.wrapping_sub(t0)
}

/// ID_AA64MMFR0_EL1 (PARange, the translation granule fields).
pub fn id_aa64mmfr0() -> u64 {
    let v: u64;
    // SAFETY: reading an identification register has no side effect.
    unsafe {
        asm!("mrs {}, id_aa64mmfr0_el1", out(reg) v, options(nomem, nostack, preserves_flags))
    }
    v
}

/// ID_AA64MMFR1_EL1 (VMIDBits and friends).
pub fn id_aa64mmfr1() -> u64 {
    let v: u64;
    // SAFETY: reading an identification register has no side effect.
    unsafe {
        asm!("mrs {}, id_aa64mmfr1_el1", out(reg) v, options(nomem, nostack, preserves_flags))
    }
    v
}

/// CNTPCT_EL0, the physical count.
pub fn cntpct() -> u64 {
    let v: u64;
    // SAFETY: reading the counter has no side effect.
    unsafe {
        asm!("isb", "mrs {}, cntpct_el0", out(reg) v, options(nomem, nostack, preserves_flags))
    }
    v
}

/// CNTFRQ_EL0, the counter's frequency in Hz.
pub fn cntfrq() -> u64 {
    let v: u64;
    // SAFETY: reading the frequency register has no side effect.
    unsafe { asm!("mrs {}, cntfrq_el0", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// Issues `smc #0` with x0 = `fid`, x1 = `x1`, x2 = x3 = 0 and a distinct pattern in
/// x4..x17 and x20..x28; returns x0 and the registers among those that came back
/// changed, as a bit mask (bit n = xn).
pub fn smc_clobbered(fid: u64, x1: u64) -> (u64, u32) {
    let p = |n: u64| 0x5A5A_0000_0000_0000 | (n << 8) | n;
    let (r0, r4, r5, r6, r7, r8, r9, r10, r11, r12, r13, r14, r15, r16, r17);
    let (r20, r21, r22, r23, r24, r25, r26, r27, r28);
    // SAFETY: as for `smc`; every register the call may change is an operand here.
    unsafe {
        asm!(
            "smc #0",
            inout("x0") fid => r0, inout("x1") x1 => _, inout("x2") 0u64 => _,
            inout("x3") 0u64 => _, inout("x4") p(4) => r4, inout("x5") p(5) => r5,
            inout("x6") p(6) => r6, inout("x7") p(7) => r7, inout("x8") p(8) => r8,
            inout("x9") p(9) => r9, inout("x10") p(10) => r10, inout("x11") p(11) => r11,
            inout("x12") p(12) => r12, inout("x13") p(13) => r13, inout("x14") p(14) => r14,
            inout("x15") p(15) => r15, inout("x16") p(16) => r16, inout("x17") p(17) => r17,
            inout("x20") p(20) => r20, inout("x21") p(21) => r21, inout("x22") p(22) => r22,
            inout("x23") p(23) => r23, inout("x24") p(24) => r24, inout("x25") p(25) => r25,
            inout("x26") p(26) => r26, inout("x27") p(27) => r27, inout("x28") p(28) => r28,
            options(nostack),
        );
    }
    let back: [(u64, u64); 23] = [
        (4, r4),
        (5, r5),
        (6, r6),
        (7, r7),
        (8, r8),
        (9, r9),
        (10, r10),
        (11, r11),
        (12, r12),
        (13, r13),
        (14, r14),
        (15, r15),
        (16, r16),
        (17, r17),
        (20, r20),
        (21, r21),
        (22, r22),
        (23, r23),
        (24, r24),
        (25, r25),
        (26, r26),
        (27, r27),
        (28, r28),
    ];
    let changed = back
        .iter()
        .filter(|&&(n, v)| v != p(n))
        .fold(0u32, |m, &(n, _)| m | 1 << n);
    (r0, changed)
}

/// What [`smc_fp`] saw: the SMC's results, and the FP/SIMD state just before and just
/// after the `smc` instruction.
pub struct FpSmc {
    /// x0..x4 after the call.
    pub x: [u64; 5],
    /// V0..V31 after the call (as Q registers, little-endian lanes).
    pub v: [u128; 32],
    /// FPCR and FPSR as read back after being set, right before the call.
    pub before: (u64, u64),
    /// FPCR and FPSR right after the call.
    pub after: (u64, u64),
}

/// `smc #0` like [`smc`], with the FP/SIMD state set up around it in the same asm block,
/// so that no code of this program runs between the set-up, the call and the read-back:
/// V0..V31 = `v`, FPCR = `fpcr`, FPSR = `fpsr` before the `smc`; V0..V31, FPCR and
/// FPSR stored right after it. The program's own FPCR and FPSR are restored at the end
/// (its V registers are declared clobbered).
pub fn smc_fp(fid: u64, args: [u64; 6], v: &[u128; 32], fpcr: u64, fpsr: u64) -> FpSmc {
    let mut out = [0u128; 32];
    let (r0, r1, r2, r3, r4);
    let (fpcr_before, fpsr_before, fpcr_after, fpsr_after);
    // SAFETY: x20 points at 512 readable bytes (`v`), x21 at 512 writable bytes (`out`),
    // 16-byte aligned (u128 arrays); the EL3 monitor returns to the next instruction
    // with results in x0..x4 and at worst x5..x17 changed (declared), x20..x28
    // preserved (SMCCC); every V register is declared clobbered and FPCR/FPSR are put
    // back as they were, so the compiler's assumptions about FP state hold after the
    // block. The SMC touches no memory of this program.
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
            "mrs x22, fpcr",
            "mrs x23, fpsr",
            "smc #0",
            "mrs x26, fpcr",
            "mrs x27, fpsr",
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
            "msr fpcr, x24",
            "msr fpsr, x25",
            "isb",
            inout("x0") fid => r0, inout("x1") args[0] => r1, inout("x2") args[1] => r2,
            inout("x3") args[2] => r3, inout("x4") args[3] => r4,
            inout("x5") args[4] => _, inout("x6") args[5] => _,
            out("x7") _, out("x8") _, out("x9") _, out("x10") _, out("x11") _,
            out("x12") _, out("x13") _, out("x14") _, out("x15") _, out("x16") _,
            out("x17") _,
            in("x20") v.as_ptr(), in("x21") out.as_mut_ptr(),
            inout("x22") fpcr => fpcr_before, inout("x23") fpsr => fpsr_before,
            out("x24") _, out("x25") _, out("x26") fpcr_after, out("x27") fpsr_after,
            out("v0") _, out("v1") _, out("v2") _, out("v3") _, out("v4") _, out("v5") _,
            out("v6") _, out("v7") _, out("v8") _, out("v9") _, out("v10") _, out("v11") _,
            out("v12") _, out("v13") _, out("v14") _, out("v15") _, out("v16") _,
            out("v17") _, out("v18") _, out("v19") _, out("v20") _, out("v21") _,
            out("v22") _, out("v23") _, out("v24") _, out("v25") _, out("v26") _,
            out("v27") _, out("v28") _, out("v29") _, out("v30") _, out("v31") _,
            options(nostack),
        );
    }
    FpSmc {
        x: [r0, r1, r2, r3, r4],
        v: out,
        before: (fpcr_before, fpsr_before),
        after: (fpcr_after, fpsr_after),
    }
}

/// Reads and writes of the EL1 registers the leak test fills (the Normal world's EL1
/// state, which EL3 does not switch between worlds): the payload's common list
/// (`rmm_conformance::payload::leak_page`) in its order, then SP_EL1 and MDSCR_EL1.
macro_rules! el1_regs {
    ($($r:literal),* $(,)?) => {
        /// How many: the common list, SP_EL1, MDSCR_EL1.
        pub const EL1_COUNT: usize = [$($r),*].len();

        /// The EL1 registers.
        pub fn read_el1() -> [u64; EL1_COUNT] {
            [$({
                let v: u64;
                // SAFETY: reading an EL1 register at EL2 has no side effect.
                unsafe { asm!(concat!("mrs {}, ", $r), out(reg) v, options(nomem, nostack, preserves_flags)) }
                v
            }),*]
        }

        /// Writes the EL1 registers. They only configure EL1 and EL0 of the Normal
        /// world, which never run here (the host runs at EL2 with HCR_EL2 as the
        /// monitor left it, TGE clear and E2H clear): no effect on this program.
        pub fn write_el1(v: &[u64; EL1_COUNT]) {
            let mut i = 0;
            $(
                // SAFETY: see the function's comment.
                unsafe { asm!(concat!("msr ", $r, ", {}"), in(reg) v[i], options(nomem, nostack, preserves_flags)) }
                i += 1;
            )*
            let _ = i;
            // SAFETY: a barrier; no effect on memory.
            unsafe { asm!("isb", options(nomem, nostack, preserves_flags)) }
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
    "sp_el1",
    "mdscr_el1",
);

/// Whether the CPU has pointer authentication (Arm ARM, ID_AA64ISAR1_EL1.APA [7:4],
/// API [11:8], GPA [27:24], GPI [31:28]; ID_AA64ISAR2_EL1.APA3 [15:12], GPA3 [11:8]).
pub fn has_pauth() -> bool {
    let (isar1, isar2): (u64, u64);
    // SAFETY: reading identification registers has no side effect.
    unsafe {
        asm!(
            "mrs {}, id_aa64isar1_el1",
            "mrs {}, S3_0_C0_C6_2",
            out(reg) isar1, out(reg) isar2,
            options(nomem, nostack, preserves_flags),
        )
    }
    isar1 & 0xFF00_0FF0 != 0 || isar2 & 0xFF00 != 0
}

macro_rules! pauth_keys {
    ($($r:literal),* $(,)?) => {
        /// The pointer authentication keys APIA, APIB, APDA, APDB, APGA (Lo, Hi each).
        /// Only with [`has_pauth`] (and SCR_EL3.APK set, as the monitor does).
        pub fn read_pauth_keys() -> [u64; 10] {
            [$({
                let v: u64;
                // SAFETY: reading a key register at EL2 has no side effect.
                unsafe { asm!(concat!("mrs {}, ", $r), out(reg) v, options(nomem, nostack, preserves_flags)) }
                v
            }),*]
        }

        /// Writes the keys. This program does not use pointer authentication (no
        /// PAC instructions are generated for this target), so its own code is not
        /// affected.
        pub fn write_pauth_keys(v: &[u64; 10]) {
            let mut i = 0;
            $(
                // SAFETY: see the function's comment.
                unsafe { asm!(concat!("msr ", $r, ", {}"), in(reg) v[i], options(nomem, nostack, preserves_flags)) }
                i += 1;
            )*
            let _ = i;
            // SAFETY: a barrier; no effect on memory.
            unsafe { asm!("isb", options(nomem, nostack, preserves_flags)) }
        }
    };
}

pauth_keys!(
    "S3_0_C2_C1_0",
    "S3_0_C2_C1_1",
    "S3_0_C2_C1_2",
    "S3_0_C2_C1_3",
    "S3_0_C2_C2_0",
    "S3_0_C2_C2_1",
    "S3_0_C2_C2_2",
    "S3_0_C2_C2_3",
    "S3_0_C2_C3_0",
    "S3_0_C2_C3_1",
);

/// Reads of the feature ID registers of `rmm_conformance::realm_id::REGS`, in order.
macro_rules! id_regs {
    ($($r:literal),* $(,)?) => {
        /// This CPU's own values of `rmm_conformance::realm_id::REGS` (read at NS-EL2,
        /// where nothing traps them).
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

/// DBGBVR0_EL1, DBGBCR0_EL1 and MDSCR_EL1 of the Normal world.
pub fn debug_regs() -> [u64; 3] {
    let (bvr, bcr, mdscr): (u64, u64, u64);
    // SAFETY: reading debug registers at EL2 has no side effect.
    unsafe {
        asm!(
            "mrs {}, dbgbvr0_el1",
            "mrs {}, dbgbcr0_el1",
            "mrs {}, mdscr_el1",
            out(reg) bvr, out(reg) bcr, out(reg) mdscr,
            options(nomem, nostack, preserves_flags),
        )
    }
    [bvr, bcr, mdscr]
}

/// Sets DBGBVR0_EL1, DBGBCR0_EL1 and MDSCR_EL1 (the order of [`debug_regs`]).
pub fn set_debug_regs(v: &[u64; 3]) {
    // SAFETY: breakpoint 0 and MDSCR_EL1 configure self-hosted debug of EL1 and EL0 of
    // the Normal world (and of EL2 only with MDSCR_EL1.KDE and the breakpoint's HMC,
    // which the tests never set): this program, at EL2, takes no debug exception.
    unsafe {
        asm!(
            "msr dbgbvr0_el1, {}",
            "msr dbgbcr0_el1, {}",
            "msr mdscr_el1, {}",
            "isb",
            in(reg) v[0], in(reg) v[1], in(reg) v[2],
            options(nomem, nostack, preserves_flags),
        )
    }
}

/// Sets ICC_SRE_EL2.SRE [0] and Enable [3] (the GIC system register interface at EL2,
/// without which ICH_*_EL2 accesses are UNDEFINED), keeping the other bits.
pub fn enable_icc_sre_el2() {
    // SAFETY: enables system register access to the GIC at EL2 (and lets EL1 choose
    // it); no effect on memory. EL3 lets EL2 write it (ICC_SRE_EL3.Enable).
    unsafe {
        asm!(
            "mrs {t}, S3_4_C12_C9_5",
            "orr {t}, {t}, #1",
            "orr {t}, {t}, #8",
            "msr S3_4_C12_C9_5, {t}",
            "isb",
            t = out(reg) _,
            options(nomem, nostack, preserves_flags),
        )
    }
}

macro_rules! ich_lrs {
    ($($n:literal => $r:literal),* $(,)?) => {
        /// ICH_LR<n>_EL2, n below the implemented count (an unimplemented list register
        /// is UNDEFINED); 0 for n > 15.
        pub fn ich_lr(n: usize) -> u64 {
            let mut v: u64 = 0;
            match n {
                // SAFETY: reading a GIC list register at EL2 (ICC_SRE_EL2.SRE set) has
                // no side effect.
                $( $n => unsafe { asm!(concat!("mrs {}, ", $r), out(reg) v, options(nomem, nostack, preserves_flags)) }, )*
                _ => {}
            }
            v
        }

        /// Writes ICH_LR<n>_EL2, n below the implemented count; ignored for n > 15.
        pub fn set_ich_lr(n: usize, v: u64) {
            match n {
                // SAFETY: a list register of this world's virtual CPU interface, whose
                // ICH_HCR_EL2.En the test keeps clear: nothing is signalled.
                $( $n => unsafe { asm!(concat!("msr ", $r, ", {}"), in(reg) v, options(nomem, nostack, preserves_flags)) }, )*
                _ => {}
            }
        }
    };
}

ich_lrs!(
    0 => "S3_4_C12_C12_0", 1 => "S3_4_C12_C12_1", 2 => "S3_4_C12_C12_2", 3 => "S3_4_C12_C12_3",
    4 => "S3_4_C12_C12_4", 5 => "S3_4_C12_C12_5", 6 => "S3_4_C12_C12_6", 7 => "S3_4_C12_C12_7",
    8 => "S3_4_C12_C13_0", 9 => "S3_4_C12_C13_1", 10 => "S3_4_C12_C13_2", 11 => "S3_4_C12_C13_3",
    12 => "S3_4_C12_C13_4", 13 => "S3_4_C12_C13_5", 14 => "S3_4_C12_C13_6", 15 => "S3_4_C12_C13_7",
);

/// ICH_AP0R0_EL2, ICH_AP1R0_EL2, ICH_VMCR_EL2, ICH_HCR_EL2.
pub fn ich_state() -> [u64; 4] {
    let (ap0, ap1, vmcr, hcr): (u64, u64, u64, u64);
    // SAFETY: reading GIC virtual interface control registers at EL2 has no side effect.
    unsafe {
        asm!(
            "mrs {}, S3_4_C12_C8_0",
            "mrs {}, S3_4_C12_C9_0",
            "mrs {}, S3_4_C12_C11_7",
            "mrs {}, S3_4_C12_C11_0",
            out(reg) ap0, out(reg) ap1, out(reg) vmcr, out(reg) hcr,
            options(nomem, nostack, preserves_flags),
        )
    }
    [ap0, ap1, vmcr, hcr]
}

/// Writes ICH_AP0R0_EL2, ICH_AP1R0_EL2, ICH_VMCR_EL2, ICH_HCR_EL2 (in that order, the
/// order of [`ich_state`]).
pub fn set_ich_state(v: &[u64; 4]) {
    // SAFETY: this world's virtual CPU interface, which runs no guest here (EL1 never
    // runs); the test keeps ICH_HCR_EL2.En clear, so nothing is signalled.
    unsafe {
        asm!(
            "msr S3_4_C12_C8_0, {}",
            "msr S3_4_C12_C9_0, {}",
            "msr S3_4_C12_C11_7, {}",
            "msr S3_4_C12_C11_0, {}",
            "isb",
            in(reg) v[0], in(reg) v[1], in(reg) v[2], in(reg) v[3],
            options(nomem, nostack, preserves_flags),
        )
    }
}

/// The largest SVE vector length, in bytes (2048 bits).
pub const SVE_MAX_VL: usize = 256;

/// Z0..Z31 and P0..P15 at any vector length up to [`SVE_MAX_VL`] (the first VL bytes
/// of each Z slot and VL / 8 bytes of each P slot are used).
#[repr(C, align(16))]
pub struct SveRegs {
    /// Z0..Z31.
    pub z: [[u8; SVE_MAX_VL]; 32],
    /// P0..P15.
    pub p: [[u8; SVE_MAX_VL / 8]; 16],
}

/// CPTR_EL2 of this program with TZ [8] clear: SVE not trapped at EL2.
const CPTR_EL2_SVE: u64 = CPTR_EL2 & !(1 << 8);

/// Whether the CPU has SVE (ID_AA64PFR0_EL1.SVE [35:32] != 0).
pub fn has_sve() -> bool {
    let v: u64;
    // SAFETY: reading an identification register has no side effect.
    unsafe { asm!("mrs {}, id_aa64pfr0_el1", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v >> 32 & 0xF != 0
}

/// Enables SVE at NS-EL2 at the largest vector length (CPTR_EL2.TZ clear, ZCR_EL2.LEN
/// 15) and returns that length in bytes. Only with [`has_sve`].
pub fn sve_enable() -> usize {
    let vl: usize;
    // SAFETY: CPTR_EL2 and ZCR_EL2 only control SVE at EL2 and below, which this
    // program uses only in `smc_with_sve`; EL3 enables SVE for the Normal world.
    unsafe {
        asm!(
            ".arch_extension sve",
            "msr cptr_el2, {c}",
            "isb",
            "mov {t}, #15",
            "msr S3_4_C1_C2_0, {t}",
            "isb",
            "rdvl {vl}, #1",
            ".arch_extension nosve",
            c = in(reg) CPTR_EL2_SVE, t = out(reg) _, vl = out(reg) vl,
            options(nomem, nostack, preserves_flags),
        )
    }
    vl
}

/// Traps SVE at NS-EL2 again (this program's CPTR_EL2).
pub fn sve_disable() {
    // SAFETY: as for `sve_enable`.
    unsafe {
        asm!("msr cptr_el2, {}", "isb", in(reg) CPTR_EL2, options(nomem, nostack, preserves_flags))
    }
}

/// `smc #0` (x0 = `fid`, x1..x5 = `args`) with Z0..Z31 and P0..P15 loaded from `load`
/// right before it and stored in `store` right after it, in one block: no code of this
/// program runs in between. Needs [`sve_enable`]. Returns x0.
pub fn smc_with_sve(fid: u64, args: [u64; 5], load: &SveRegs, store: &mut SveRegs) -> u64 {
    let r0;
    // SAFETY: x9 and x10 point at SveRegs (32 Z slots of the largest vector length,
    // then 16 P slots), readable and writable respectively; every V/Z register is
    // declared clobbered (P registers and FFR are not Rust-visible state); the SMC
    // returns to the next instruction with x0..x17 as declared.
    unsafe {
        asm!(
            ".arch_extension sve",
            "mov x11, x9",
            ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
            "    ldr z\\n, [x11]",
            "    add x11, x11, #256",
            ".endr",
            ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15",
            "    ldr p\\n, [x11]",
            "    add x11, x11, #32",
            ".endr",
            "smc #0",
            "mov x11, x10",
            ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
            "    str z\\n, [x11]",
            "    add x11, x11, #256",
            ".endr",
            ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15",
            "    str p\\n, [x11]",
            "    add x11, x11, #32",
            ".endr",
            ".arch_extension nosve",
            inout("x0") fid => r0, inout("x1") args[0] => _, inout("x2") args[1] => _,
            inout("x3") args[2] => _, inout("x4") args[3] => _, inout("x5") args[4] => _,
            out("x6") _, out("x7") _, out("x8") _,
            in("x9") load as *const SveRegs, in("x10") store as *mut SveRegs,
            out("x11") _, out("x12") _, out("x13") _, out("x14") _, out("x15") _,
            out("x16") _, out("x17") _,
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

/// The SVE test's register images (one CPU; only [`with_sve_buffers`] lends them).
struct SveBuffers(UnsafeCell<[SveRegs; 2]>);
// SAFETY: this program runs on one CPU and `with_sve_buffers` is not reentrant (its
// callers do not nest it, and no exception handler touches the buffers).
unsafe impl Sync for SveBuffers {}
static SVE_BUFFERS: SveBuffers = SveBuffers(UnsafeCell::new(
    [const {
        SveRegs {
            z: [[0; SVE_MAX_VL]; 32],
            p: [[0; SVE_MAX_VL / 8]; 16],
        }
    }; 2],
));

/// Runs `f` with the two SVE register images (to load, to store into).
pub fn with_sve_buffers<R>(f: impl FnOnce(&mut SveRegs, &mut SveRegs) -> R) -> R {
    // SAFETY: see SveBuffers: no other reference to the buffers exists while `f` runs.
    let [a, b] = unsafe { &mut *SVE_BUFFERS.0.get() };
    f(a, b)
}
