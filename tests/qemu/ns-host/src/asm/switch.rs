//! Registers the world-switch tests read and write at NS-EL2 (`crate::realm_switch`).

use core::arch::asm;

/// ID_AA64PFR0_EL1 (EL0 \[3:0\]: 0b0010 when EL0 can run AArch32).
pub fn id_aa64pfr0() -> u64 {
    let v: u64;
    // SAFETY: reading an identification register has no side effect.
    unsafe { asm!("mrs {}, id_aa64pfr0_el1", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}
