//! The world-switch test commands (`rmm_conformance::payload::switch`).

use core::sync::atomic::{AtomicU64, Ordering};

use rmm_conformance::payload::switch;

use crate::asm;

/// SCTLR_EL1.nTWI \[16\]: WFI at EL0 does not trap to EL1.
const SCTLR_NTWI: u64 = 1 << 16;

/// The vector of the last exception taken from EL0 (see [`exception_from_el0`]).
static EL0_VECTOR: AtomicU64 = AtomicU64::new(u64::MAX);

/// Carries out world-switch command `a[0]`; its results.
pub fn run(a: &[u64; 31]) -> [u64; 31] {
    let mut r = [0u64; 31];
    match a[0] {
        switch::T32_WFI => {
            let code = asm::switch::t32_wfi_code();
            let sctlr = asm::switch::sctlr();
            // SAFETY: only nTWI changes.
            unsafe { asm::switch::set_sctlr(sctlr | SCTLR_NTWI) };
            EL0_VECTOR.store(u64::MAX, Ordering::Relaxed);
            // SAFETY: the SPSR names AArch32 User mode; the code traps (WFI with the
            // host's TRAP_WFI) or takes an Undefined Instruction exception to EL1 at a
            // UDF before it could touch memory.
            unsafe { asm::switch::run(code, switch::T32_USR_SPSR) };
            let [esr, elr, _, spsr] = asm::exception_regs();
            // SAFETY: the value the payload ran with.
            unsafe { asm::switch::set_sctlr(sctlr) };
            r[..4].copy_from_slice(&[
                esr,
                elr.wrapping_sub(code),
                spsr,
                EL0_VECTOR.load(Ordering::Relaxed),
            ]);
        }
        switch::DISR => {
            r[0] = asm::switch::disr();
            asm::switch::set_disr(a[1]);
            r[1] = asm::switch::disr();
        }
        switch::SPIN => asm::switch::spin(a[1]),
        other => r[0] = other ^ rmm_conformance::payload::HEADER_MAGIC,
    }
    r
}

/// From the exception handler: an exception taken from EL0 code [`run`] started ends
/// that code (the command then reads the syndrome). Returns if none is running.
pub fn exception_from_el0(vector: u64) {
    if asm::switch::running() {
        EL0_VECTOR.store(vector, Ordering::Relaxed);
        asm::switch::back_to_el1();
    }
}
