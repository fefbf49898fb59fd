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

/// ID_AA64DFR0_EL1 (PMUVer \[11:8\]).
pub fn id_aa64dfr0() -> u64 {
    let v: u64;
    // SAFETY: reading an identification register has no side effect.
    unsafe { asm!("mrs {}, id_aa64dfr0_el1", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// The PMU registers the PMU test programs: PMCR_EL0, PMCNTENSET_EL0, PMCCFILTR_EL0,
/// PMCCNTR_EL0.
pub struct Pmu {
    /// PMCR_EL0.
    pub pmcr: u64,
    /// PMCNTENSET_EL0 (the counter enables).
    pub cnten: u64,
    /// PMCCFILTR_EL0.
    pub ccfiltr: u64,
    /// PMCCNTR_EL0.
    pub ccntr: u64,
}

/// Reads [`Pmu`]'s registers (FEAT_PMUv3).
pub fn pmu() -> Pmu {
    let (pmcr, cnten, ccfiltr, ccntr): (u64, u64, u64, u64);
    // SAFETY: reading PMU registers at EL2 has no side effect.
    unsafe {
        asm!(
            "isb",
            "mrs {}, pmcr_el0", "mrs {}, pmcntenset_el0", "mrs {}, pmccfiltr_el0",
            "mrs {}, pmccntr_el0",
            out(reg) pmcr, out(reg) cnten, out(reg) ccfiltr, out(reg) ccntr,
            options(nomem, nostack, preserves_flags),
        )
    }
    Pmu {
        pmcr,
        cnten,
        ccfiltr,
        ccntr,
    }
}

/// Writes PMCCFILTR_EL0, PMCCNTR_EL0, PMCR_EL0, then sets the enables of PMCNTENSET_EL0
/// after clearing all (PMCNTENCLR_EL0), in that order.
pub fn set_pmu(p: &Pmu) {
    // SAFETY: the PMU only counts; the host has no overflow interrupt enabled.
    unsafe {
        asm!(
            "msr pmccfiltr_el0, {}", "msr pmccntr_el0, {}", "msr pmcr_el0, {}",
            "msr pmcntenclr_el0, {}", "msr pmcntenset_el0, {}", "isb",
            in(reg) p.ccfiltr, in(reg) p.ccntr, in(reg) p.pmcr, in(reg) 0xFFFF_FFFFu64,
            in(reg) p.cnten,
            options(nomem, nostack, preserves_flags),
        )
    }
}
