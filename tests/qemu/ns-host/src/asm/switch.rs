//! Registers the world-switch tests read and write at NS-EL2 (`crate::realm_switch`).

use core::arch::asm;

/// ID_AA64PFR0_EL1 (EL0 \[3:0\]: 0b0010 when EL0 can run AArch32).
pub fn id_aa64pfr0() -> u64 {
    let v: u64;
    // SAFETY: reading an identification register has no side effect.
    unsafe { asm!("mrs {}, id_aa64pfr0_el1", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// VDISR_EL2 (FEAT_RAS).
pub fn vdisr_el2() -> u64 {
    let v: u64;
    // SAFETY: reading an EL2 register at EL2 has no side effect.
    unsafe { asm!("mrs {}, S3_4_C12_C1_1", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// VDISR_EL2 = `v` (FEAT_RAS). The host runs no guest of its own: nothing reads it but
/// the test.
pub fn set_vdisr_el2(v: u64) {
    // SAFETY: as above; the record only matters to a guest at EL1, and there is none.
    unsafe { asm!("msr S3_4_C12_C1_1, {}", "isb", in(reg) v, options(nomem, nostack)) }
}
