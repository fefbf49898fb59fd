//! Exception vectors at Realm EL2, the fault-tolerant copy from and to Non-secure
//! memory, and the report of unexpected exceptions.
//!
//! `platform_ns_copy(dst, src, len)` copies bytes and returns 0, or 1 if an access
//! faulted: a synchronous data abort taken at EL2 while the PC is inside the routine
//! resumes at its fault exit instead of being reported. The routine and that fix-up use
//! only x0..x10 and x16/x17 (which a call may clobber).
//!
//! An exception from a lower EL is a realm exit: the vector entry hands it to the world
//! switch ([`super::world`]), which returns to the RMM's run loop.
//!
//! Every other exception is reported on the console with its class, ESR, ELR, FAR, SP
//! and the CPU, and the CPU parks: nothing is ever returned to the host from a broken
//! state. The report runs on the CPU's emergency stack ([`super::map`]): the exception
//! may be a stack overflow, SP pointing into the guard page below the CPU's stack, where
//! no Rust code could run. It then says "stack overflow". A second exception while on
//! the emergency stack (a fault in the report itself) parks the CPU without a report.

use core::arch::global_asm;

use super::console;
use super::map::EMERGENCY_STACK_SIZE;
use super::stack;
use super::world;

global_asm!(
    ".section .text.vectors, \"ax\"",
    ".balign 2048",
    ".global platform_vectors",
    "platform_vectors:",
    // Current EL with SP_EL0: unexpected.
    ".balign 128",
    "mov x0, #0",
    "b platform_unexpected",
    ".balign 128",
    "mov x0, #1",
    "b platform_unexpected",
    ".balign 128",
    "mov x0, #2",
    "b platform_unexpected",
    ".balign 128",
    "mov x0, #3",
    "b platform_unexpected",
    // Current EL with SP_ELx: synchronous may be a Non-secure copy fault.
    ".balign 128",
    "b platform_sync_current",
    ".balign 128",
    "mov x0, #5",
    "b platform_unexpected",
    ".balign 128",
    "mov x0, #6",
    "b platform_unexpected",
    ".balign 128",
    "mov x0, #7",
    "b platform_unexpected",
    // Lower EL, AArch64, then AArch32 (a realm's EL0 may be AArch32): realm exits.
    // Only a realm runs below R-EL2, and only inside `platform_realm_enter`
    // (super::world), whose frame is on this stack: save x0/x1, pass the trap kind.
    // First an Error Synchronization Barrier (ESB, `hint #16`: a NOP without
    // FEAT_RAS): an SError the realm caused that is pending now is masked here
    // (exception entry set PSTATE.A), and the barrier defers it into DISR_EL1, where
    // the run loop finds it and reports it as the REC's exit instead of leaving it to
    // whoever unmasks SErrors next (the Normal world, after the RMI call returns).
    ".irp kind, {sync}, {irq}, {fiq}, {serror}, {sync}, {irq}, {fiq}, {serror}",
    ".balign 128",
    "hint #16",
    "stp x0, x1, [sp, #-16]!",
    "mov x0, #\\kind",
    "b platform_realm_exit",
    ".endr",
    "",
    "platform_sync_current:",
    "    mrs x16, elr_el2",
    "    adr x17, platform_ns_copy",
    "    cmp x16, x17",
    "    b.lo 1f",
    "    adr x17, platform_ns_copy_end",
    "    cmp x16, x17",
    "    b.hs 1f",
    "    mrs x17, esr_el2",
    "    lsr x17, x17, #26",
    "    cmp x17, #0x25", // data abort taken without a change of EL
    "    b.ne 1f",
    "    adr x17, platform_ns_copy_fault",
    "    msr elr_el2, x17",
    "    eret",
    "1:  mov x0, #4",
    "platform_unexpected:",
    // x0 = vector index. Switch to this CPU's emergency stack (tpidr_el2 = CPU id, set
    // at entry): [base + cpu * SIZE, + SIZE), base recorded by stack::init (0 before:
    // then there is no console yet either, and the CPU parks).
    "    mrs x5, tpidr_el2",
    "    cmp x5, #{max_cpus}",
    "    b.hs 2f",
    "    adrp x6, {emergency_base}",
    "    ldr x6, [x6, :lo12:{emergency_base}]",
    "    cbz x6, 2f",
    "    mov x7, #{emergency_size}",
    "    madd x7, x5, x7, x6",
    "    add x8, x7, #{emergency_size}",
    "    mov x6, sp",
    "    cmp x6, x7",
    "    b.lo 3f",
    "    cmp x6, x8",
    "    b.lo 2f", // already on it: an exception while reporting one
    "3:  mov sp, x8",
    "    mrs x1, esr_el2",
    "    mrs x2, elr_el2",
    "    mrs x3, far_el2",
    "    mrs x4, spsr_el2",
    "    bl platform_exception_report",
    "2:  wfe",
    "    b 2b",
    "",
    ".text",
    ".balign 8",
    ".global platform_ns_copy",
    "platform_ns_copy:",
    // 128 bytes per iteration in register pairs while both sides are 16-byte aligned
    // (granules, RecRun), then one 64-byte step if 64 or more bytes are left: the
    // first pair of each side post-indexed, so that the pointers move without an ADD,
    // and the count tested where the loop branches back (18 instructions per 128
    // bytes). Then words while 8-byte aligned, then bytes.
    "    orr x3, x0, x1",
    "    tst x3, #15",
    "    b.ne 6f",
    "    subs x2, x2, #128",
    "    b.lo 8f",
    "1:  ldp x3, x4, [x1], #128",
    "    ldp x5, x6, [x1, #-112]",
    "    ldp x7, x8, [x1, #-96]",
    "    ldp x9, x10, [x1, #-80]",
    "    stp x3, x4, [x0], #128",
    "    stp x5, x6, [x0, #-112]",
    "    stp x7, x8, [x0, #-96]",
    "    stp x9, x10, [x0, #-80]",
    "    ldp x3, x4, [x1, #-64]",
    "    ldp x5, x6, [x1, #-48]",
    "    ldp x7, x8, [x1, #-32]",
    "    ldp x9, x10, [x1, #-16]",
    "    stp x3, x4, [x0, #-64]",
    "    stp x5, x6, [x0, #-48]",
    "    stp x7, x8, [x0, #-32]",
    "    stp x9, x10, [x0, #-16]",
    "    subs x2, x2, #128",
    "    b.hs 1b",
    // x2 = what is left less 128; carry out of the ADDS: 64 or more are left.
    "8:  adds x2, x2, #64",
    "    b.lo 2f",
    "    ldp x3, x4, [x1], #64",
    "    ldp x5, x6, [x1, #-48]",
    "    ldp x7, x8, [x1, #-32]",
    "    ldp x9, x10, [x1, #-16]",
    "    stp x3, x4, [x0], #64",
    "    stp x5, x6, [x0, #-48]",
    "    stp x7, x8, [x0, #-32]",
    "    stp x9, x10, [x0, #-16]",
    "    b 6f",
    "2:  add x2, x2, #64",
    "6:  orr x3, x0, x1",
    "    tst x3, #7",
    "    b.ne 5f",
    "4:  subs x2, x2, #8",
    "    b.lo 7f",
    "    ldr x3, [x1], #8",
    "    str x3, [x0], #8",
    "    b 4b",
    "7:  add x2, x2, #8",
    "5:  cbz x2, 3f",
    "    ldrb w3, [x1], #1",
    "    strb w3, [x0], #1",
    "    sub x2, x2, #1",
    "    b 5b",
    "3:  mov x0, #0",
    "    ret",
    "platform_ns_copy_fault:",
    "    mov x0, #1",
    "    ret",
    "platform_ns_copy_end:",
    max_cpus = const crate::layout::PLATFORM.max_cpus,
    emergency_size = const EMERGENCY_STACK_SIZE,
    emergency_base = sym stack::EMERGENCY_STACKS,
    sync = const world::TRAP_SYNC,
    irq = const world::TRAP_IRQ,
    fiq = const world::TRAP_FIQ,
    serror = const world::TRAP_SERROR,
);

unsafe extern "C" {
    static platform_vectors: u8;
    fn platform_ns_copy(dst: *mut u8, src: *const u8, len: usize) -> u64;
}

/// Installs the vectors on this CPU.
pub fn install() {
    let vbar = core::ptr::addr_of!(platform_vectors) as u64;
    // SAFETY: the table is 2 KiB aligned code in this image, valid for the RMM's life.
    unsafe { core::arch::asm!("msr vbar_el2, {}", "isb", in(reg) vbar, options(nostack)) }
}

/// Copies `len` bytes from `src` to `dst` where either side may be Non-secure memory
/// that faults; `false` if it did (some bytes may have been copied).
///
/// # Safety
/// `dst` must be valid for `len` bytes of writes and `src` for `len` bytes of reads,
/// except for the granule protection faults this routine is there to catch; the two
/// ranges must not overlap.
pub unsafe fn ns_copy(dst: *mut u8, src: *const u8, len: usize) -> bool {
    // SAFETY: guaranteed by the caller; faults are recovered by the vector code.
    unsafe { platform_ns_copy(dst, src, len) == 0 }
}

/// Names of the 16 vector entries.
const KINDS: [&str; 16] = [
    "sync, current EL, SP_EL0",
    "IRQ, current EL, SP_EL0",
    "FIQ, current EL, SP_EL0",
    "SError, current EL, SP_EL0",
    "sync, current EL",
    "IRQ, current EL",
    "FIQ, current EL",
    "SError, current EL",
    "sync, lower EL (AArch64)",
    "IRQ, lower EL (AArch64)",
    "FIQ, lower EL (AArch64)",
    "SError, lower EL (AArch64)",
    "sync, lower EL (AArch32)",
    "IRQ, lower EL (AArch32)",
    "FIQ, lower EL (AArch32)",
    "SError, lower EL (AArch32)",
];

/// The owner of a guard page, for the report.
struct Whose(Option<u64>);

impl core::fmt::Display for Whose {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(cpu) => write!(f, "CPU {cpu}'s stack"),
            None => f.write_str("the emergency stacks"),
        }
    }
}

/// The extension whose trap (CPTR_EL2.TFP/TZ/TSM) exception class `ec` is (Arm ARM
/// D23.2 ESR_EL2.EC: 0x07 SIMD&FP, 0x19 SVE, 0x1D SME).
fn trapped_extension(ec: u64) -> Option<&'static str> {
    match ec {
        0x07 => Some("an FP/SIMD"),
        0x19 => Some("an SVE"),
        0x1d => Some("an SME"),
        _ => None,
    }
}

/// ESR_EL2.EC of a data abort without a change of EL (Arm ARM D23.2 ESR_EL2): FAR is
/// valid for it.
const EC_DATA_ABORT_SAME_EL: u64 = 0x25;

#[unsafe(no_mangle)]
extern "C" fn platform_exception_report(
    kind: u64,
    esr: u64,
    elr: u64,
    far: u64,
    spsr: u64,
    cpu: u64,
    sp: u64,
) -> ! {
    let ec = esr >> 26;
    let far_guard = (ec == EC_DATA_ABORT_SAME_EL)
        .then(|| stack::guard_of(far))
        .flatten();
    if let Some(owner) = far_guard.or_else(|| stack::guard_of(sp)) {
        console::write_fmt(format_args!(
            "RMM: stack overflow on CPU {cpu}: the guard page below {} was hit (FAR {far:#x}, SP {sp:#x}, ELR {elr:#x}, ESR {esr:#x})\n",
            Whose(owner),
        ));
    }
    if let Some(what) = trapped_extension(ec) {
        console::write_fmt(format_args!(
            "RMM: {what} instruction at R-EL2 trapped (CPTR_EL2) on CPU {cpu}, ELR {elr:#x}: the RMM must not touch the Normal world's FP/SIMD state\n",
        ));
    }
    console::write_fmt(format_args!(
        "RMM: unexpected exception on CPU {cpu}: {} (EC {ec:#x}), ESR {esr:#x}, ELR {elr:#x}, FAR {far:#x}, SPSR {spsr:#x}, SP {sp:#x}\n",
        KINDS.get(kind as usize).copied().unwrap_or("?"),
    ));
    loop {
        core::hint::spin_loop();
    }
}
