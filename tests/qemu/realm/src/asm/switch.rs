//! The instructions of the world-switch tests (`rmm_conformance::payload::switch`):
//! code at the realm's EL0 in AArch32 state, DISR_EL1.
//!
//! [`run`] saves the caller's callee-saved registers and SP, and `eret`s to EL0 at
//! the code with the SPSR given. The first exception EL0 takes comes back to EL1 at the
//! payload's vectors (lower EL using AArch32); the handler calls [`back_to_el1`], which
//! returns from [`run`] on the saved stack, leaving ESR_EL1, ELR_EL1 and SPSR_EL1 as the
//! exception set them. The vector frame and the handler's are abandoned below the
//! saved SP.

use core::arch::{asm, global_asm};
use core::sync::atomic::{AtomicU64, Ordering};

/// SP of [`run`]'s frame while EL0 runs, 0 otherwise.
static EL0_SAVED_SP: AtomicU64 = AtomicU64::new(0);

global_asm!(
    ".text",
    ".balign 4",
    // T32 code (16-bit encodings): WFI, then UDFs, each a distinct immediate, so that
    // the one the PE reaches tells where it resumed after the WFI.
    ".global realm_t32_wfi_code",
    "realm_t32_wfi_code:",
    "    .hword 0xbf30", // wfi
    "    .hword 0xde01", // udf #1
    "    .hword 0xde02", // udf #2
    "    .hword 0xde03", // udf #3
    "    .hword 0xde04", // udf #4
    "",
    // x0 = EL0 entry (ELR_EL1), x1 = SPSR_EL1.
    ".balign 4",
    ".global realm_el0_run",
    "realm_el0_run:",
    "    sub sp, sp, #96",
    "    stp x19, x20, [sp, #0]",
    "    stp x21, x22, [sp, #16]",
    "    stp x23, x24, [sp, #32]",
    "    stp x25, x26, [sp, #48]",
    "    stp x27, x28, [sp, #64]",
    "    stp x29, x30, [sp, #80]",
    "    adrp x9, {saved}",
    "    add x9, x9, :lo12:{saved}",
    "    mov x10, sp",
    "    str x10, [x9]",
    "    msr elr_el1, x0",
    "    msr spsr_el1, x1",
    "    eret",
    "",
    ".global realm_el0_return",
    "realm_el0_return:",
    "    adrp x9, {saved}",
    "    add x9, x9, :lo12:{saved}",
    "    ldr x10, [x9]",
    "    str xzr, [x9]",
    "    mov sp, x10",
    "    ldp x19, x20, [sp, #0]",
    "    ldp x21, x22, [sp, #16]",
    "    ldp x23, x24, [sp, #32]",
    "    ldp x25, x26, [sp, #48]",
    "    ldp x27, x28, [sp, #64]",
    "    ldp x29, x30, [sp, #80]",
    "    add sp, sp, #96",
    "    ret",
    saved = sym EL0_SAVED_SP,
);

unsafe extern "C" {
    static realm_t32_wfi_code: u8;
}

/// The address of the T32 code: `wfi`, `udf #1`, `udf #2`, `udf #3`, `udf #4`.
pub fn t32_wfi_code() -> u64 {
    core::ptr::addr_of!(realm_t32_wfi_code) as u64
}

/// Whether EL0 code started by [`run`] is running (the exception handler then calls
/// [`back_to_el1`]).
pub fn running() -> bool {
    EL0_SAVED_SP.load(Ordering::Relaxed) != 0
}

/// Runs EL0 at `entry` with SPSR_EL1 `spsr` until it takes an exception to EL1; then
/// returns, with ESR_EL1, ELR_EL1 and SPSR_EL1 describing that exception.
///
/// # Safety
/// `spsr` must name EL0 (AArch32 User mode or EL0t), and the code at `entry` must take
/// an exception to EL1 before it touches anything but its registers.
pub unsafe fn run(entry: u64, spsr: u64) {
    // SAFETY: `realm_el0_run` saves x19..x30 and SP and comes back through
    // `realm_el0_return` with them restored; x0..x18 are declared clobbered, and the
    // EL0 code (by the caller's contract) writes no memory.
    unsafe {
        asm!(
            "bl realm_el0_run",
            inout("x0") entry => _, inout("x1") spsr => _,
            out("x2") _, out("x3") _, out("x4") _, out("x5") _, out("x6") _, out("x7") _,
            out("x8") _, out("x9") _, out("x10") _, out("x11") _, out("x12") _,
            out("x13") _, out("x14") _, out("x15") _, out("x16") _, out("x17") _,
            out("x18") _, out("x30") _,
        );
    }
}

/// From the exception handler, while [`running`]: returns from [`run`].
pub fn back_to_el1() -> ! {
    // SAFETY: `run`'s frame is still on the EL1 stack below the saved SP (the exception
    // and its handler pushed only below it); `realm_el0_return` restores it.
    unsafe { asm!("b realm_el0_return", options(noreturn)) }
}

/// SCTLR_EL1.
pub fn sctlr() -> u64 {
    let v: u64;
    // SAFETY: reading an EL1 register has no side effect.
    unsafe { asm!("mrs {}, sctlr_el1", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// SCTLR_EL1 = `v`.
///
/// # Safety
/// `v` must keep the payload running (the MMU off, little-endian).
pub unsafe fn set_sctlr(v: u64) {
    // SAFETY: by the caller's contract.
    unsafe { asm!("msr sctlr_el1, {}", "isb", in(reg) v, options(nostack)) }
}

/// DISR_EL1 (FEAT_RAS; VDISR_EL2 while HCR_EL2.AMO is set, as it is for a realm).
pub fn disr() -> u64 {
    let v: u64;
    // SAFETY: reading the deferred error record has no side effect.
    unsafe { asm!("mrs {}, S3_0_C12_C1_1", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// DISR_EL1 = `v`.
pub fn set_disr(v: u64) {
    // SAFETY: the record is only read back by the payload; no exception depends on it.
    unsafe { asm!("msr S3_0_C12_C1_1, {}", "isb", in(reg) v, options(nomem, nostack)) }
}

/// Counts `n` down to zero, one loop iteration per count.
pub fn spin(n: u64) {
    // SAFETY: arithmetic on one register and a branch; no memory access.
    unsafe {
        asm!(
            "cbz {n}, 2f",
            "1: subs {n}, {n}, #1",
            "b.ne 1b",
            "2:",
            n = inout(reg) n => _,
            options(nomem, nostack),
        )
    }
}
