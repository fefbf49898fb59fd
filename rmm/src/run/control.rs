//! The EL2 controls a realm runs under: which of its accesses trap to the RMM, and the
//! identification and counter values it sees. `docs/firmware.md` ("The realm's
//! registers") says for every register whether it is switched, trapped or left.

use crate::cpu_features::CpuFeatures;

/// HCR_EL2 fields (Arm ARM, D23.2 "HCR_EL2").
pub mod hcr {
    /// Stage-2 translation for EL1&0.
    pub const VM: u64 = 1 << 0;
    /// Set/way invalidation override: DC ISW behaves as DC CISW.
    pub const SWIO: u64 = 1 << 1;
    /// Protected table walk: a stage-1 walk to stage-2 Device memory faults.
    pub const PTW: u64 = 1 << 2;
    /// FIQs to EL2, virtual FIQs to EL1.
    pub const FMO: u64 = 1 << 3;
    /// IRQs to EL2, virtual IRQs to EL1.
    pub const IMO: u64 = 1 << 4;
    /// SErrors to EL2, virtual SErrors to EL1.
    pub const AMO: u64 = 1 << 5;
    /// Force broadcast of TLB and instruction cache maintenance.
    pub const FB: u64 = 1 << 9;
    /// Barrier shareability upgrade: inner shareable.
    pub const BSU_IS: u64 = 1 << 10;
    /// Trap WFI.
    pub const TWI: u64 = 1 << 13;
    /// Trap WFE.
    pub const TWE: u64 = 1 << 14;
    /// Trap reads of the feature ID registers (ID group 3).
    pub const TID3: u64 = 1 << 18;
    /// Trap SMC.
    pub const TSC: u64 = 1 << 19;
    /// Trap IMPLEMENTATION DEFINED system registers and instructions.
    pub const TIDCP: u64 = 1 << 20;
    /// Trap ACTLR_EL1.
    pub const TACR: u64 = 1 << 21;
    /// Trap data cache maintenance by set/way.
    pub const TSW: u64 = 1 << 22;
    /// EL1 is AArch64.
    pub const RW: u64 = 1 << 31;
    /// Trap LORegion registers (FEAT_LOR).
    pub const TLOR: u64 = 1 << 35;
    /// Trap error record registers (FEAT_RAS).
    pub const TERR: u64 = 1 << 36;
    /// Stage 2 forces the memory type and cacheability (FEAT_S2FWB).
    pub const FWB: u64 = 1 << 46;
}

/// HCR_EL2 while a realm runs, for every CPU (the feature-dependent traps are added by
/// [`hcr_realm`]):
///
/// - VM, RW: stage 2 on, EL1 AArch64; FWB: the RMM decides the memory type of protected
///   memory; PTW: a realm's stage-1 walk never reads Device memory.
/// - IMO, FMO, AMO: physical interrupts and SErrors go to R-EL2 (the REC exits to the
///   host), the realm's interrupts are virtual, from the list registers.
/// - TSC: SMCs (RSI, PSCI) trap to the RMM.
/// - FB, BSU inner shareable: TLB maintenance and barriers reach every CPU the realm's
///   RECs may run on.
/// - SWIO, TSW: set/way cache maintenance (which acts on the physical caches, shared
///   with the Normal world) traps and is UNDEFINED for the realm.
/// - TACR, TIDCP: ACTLR_EL1 and the IMPLEMENTATION DEFINED registers (CPU-wide state
///   EL3 does not switch) trap and are UNDEFINED for the realm.
/// - API and APK clear: pointer authentication instructions (when enabled by the
///   realm's SCTLR_EL1) and the key registers trap and are UNDEFINED (the RMM does not
///   switch the keys, which are the Normal world's EL1 registers). ATA clear: MTE tag
///   registers trap. EnSCXT clear: SCXTNUM_ELx trap.
/// - TID3: reads of the feature ID registers trap; the run loop answers them with the
///   values RMI_FEATURES and the realm's parameters allow ([`super::id_regs`]).
///   TID1 and TID2 clear: REVIDR_EL1, AIDR_EL1 and the cache identification registers
///   (CTR_EL0, CLIDR_EL1, CCSIDR_EL1) describe the physical CPU and its caches, not
///   features (DEN0137 1.0 asks nothing of them; the realm's MIDR is VPIDR_EL2's).
pub const HCR_REALM: u64 = hcr::VM
    | hcr::SWIO
    | hcr::PTW
    | hcr::FMO
    | hcr::IMO
    | hcr::AMO
    | hcr::FB
    | hcr::BSU_IS
    | hcr::TID3
    | hcr::TSC
    | hcr::TIDCP
    | hcr::TACR
    | hcr::TSW
    | hcr::RW
    | hcr::FWB;

/// HCR_EL2 for a realm on a CPU with `f`: [`HCR_REALM`], plus TERR with FEAT_RAS (the
/// error record registers are CPU-wide) and TLOR with FEAT_LOR (the LORegion registers
/// are EL1 registers the RMM does not switch). The bits are RES0 without the features.
pub fn hcr_realm(f: &CpuFeatures) -> u64 {
    let mut v = HCR_REALM;
    if f.ras {
        v |= hcr::TERR;
    }
    if f.lor {
        v |= hcr::TLOR;
    }
    v
}

/// MDCR_EL2 fields (Arm ARM, D23.2 "MDCR_EL2").
pub mod mdcr {
    /// HPMN [4:0]: event counters reserved for EL1/EL0 (kept as EL3 and the RMM left
    /// it: the PMU is trapped anyway).
    pub const HPMN_MASK: u64 = 0x1F;
    /// Trap PMCR_EL0.
    pub const TPMCR: u64 = 1 << 5;
    /// Trap every PMU register.
    pub const TPM: u64 = 1 << 6;
    /// Trap debug registers (DBGB/W*, MDSCR_EL1, DCC).
    pub const TDA: u64 = 1 << 9;
    /// Trap the OS lock and power-down registers.
    pub const TDOSA: u64 = 1 << 10;
    /// Trap the debug ROM address registers.
    pub const TDRA: u64 = 1 << 11;
    /// Trap the statistical profiling registers (FEAT_SPE); E2PB [13:12] = 0 keeps the
    /// profiling buffer's controls trapped.
    pub const TPMS: u64 = 1 << 14;
    /// Trap the trace filter controls (FEAT_TRF).
    pub const TTRF: u64 = 1 << 19;
    /// HPMD \[17\] (FEAT_PMUv3p1): event counting prohibited at EL2 (the counters below
    /// HPMN; with PMCR_EL0.DP the cycle counter too).
    pub const HPMD: u64 = 1 << 17;
    /// HCCD \[23\] (FEAT_PMUv3p5): cycle counting prohibited at EL2.
    pub const HCCD: u64 = 1 << 23;
}

/// The EL2 counting prohibitions the CPU implements: MDCR_EL2.HPMD (FEAT_PMUv3p1) and
/// HCCD (FEAT_PMUv3p5).
fn mdcr_el2_counting_prohibited(f: &CpuFeatures) -> u64 {
    let mut v = 0;
    if f.pmu_v3p1() {
        v |= mdcr::HPMD;
    }
    if f.pmu_v3p5() {
        v |= mdcr::HCCD;
    }
    v
}

/// MDCR_EL2 of the RMM itself, set at boot on every CPU (EL3 switches MDCR_EL2 between
/// the worlds, so this is the Realm world's): `current` with HPMD and HCCD where
/// implemented, so that no counter the Normal world programs counts the RMM's own
/// execution at R-EL2, and with a PMU of `pmcr_n` event counters (PMCR_EL0.N, at least
/// one) HPMN = N: every counter is in the first range, the one HPMD covers.
pub fn mdcr_rmm(f: &CpuFeatures, current: u64, pmcr_n: u64) -> u64 {
    let mut v = current | mdcr_el2_counting_prohibited(f);
    if f.pmu_v3() && pmcr_n != 0 {
        v = v & !mdcr::HPMN_MASK | pmcr_n & mdcr::HPMN_MASK;
    }
    v
}

/// PMCNTENCLR_EL0 that disables every counter: the cycle counter (bit 31) and the
/// event counters (bits 30:0; the bits of counters not implemented are RAZ/WI).
pub const PMCNTEN_ALL: u64 = 0xFFFF_FFFF;

/// MDCR_EL2 while a realm runs, from the value outside the realm: HPMN kept, the PMU
/// (not offered to realms: RMI_FEATURES reports PMU_EN 0) and the self-hosted debug,
/// profiling and trace registers trapped (UNDEFINED for the realm; the breakpoint and
/// watchpoint registers are the Normal world's, which EL3 does not switch); counting at
/// EL2 prohibited (HPMD, HCCD where implemented; the run loop also disables every
/// counter for the run, which covers the realm's EL1 and EL0). TDE and HPME are 0.
pub fn mdcr_realm(f: &CpuFeatures, outside: u64) -> u64 {
    let mut v = outside & mdcr::HPMN_MASK
        | mdcr::TPMCR
        | mdcr::TPM
        | mdcr::TDA
        | mdcr::TDOSA
        | mdcr::TDRA
        | mdcr_el2_counting_prohibited(f);
    if f.spe {
        v |= mdcr::TPMS;
    }
    if f.trf {
        v |= mdcr::TTRF;
    }
    v
}

/// HCRX_EL2 while a realm runs (FEAT_HCX only): 0, so the EL1 registers of later
/// features that HCRX_EL2 enables (TCR2_EL1, SCTLR2_EL1, GCS, FPMR, LS64 ...) trap
/// and are UNDEFINED for the realm rather than reaching the Normal world's copies.
pub const HCRX_REALM: u64 = 0;

/// CNTVOFF_EL2 while a realm runs: the realm's virtual counter is the physical counter
/// (DEN0137 1.0 offers no counter offset).
pub const CNTVOFF_REALM: u64 = 0;

#[cfg(test)]
mod tests {
    use super::*;

    fn features(ras: bool, lor: bool, spe: bool, trf: bool) -> CpuFeatures {
        CpuFeatures {
            pmuver: 0,
            pa_bits: 48,
            vmid_bits: 16,
            brps: 5,
            wrps: 3,
            gic_list_regs: 15,
            ras,
            lor,
            hcx: false,
            spe,
            trf,
            pauth: false,
            sve: false,
            lpa2: false,
            sha2: platform::sha::Sha2Isa::None,
        }
    }

    #[test]
    fn hcr_bits() {
        // VM 0, SWIO 1, PTW 2, FMO 3, IMO 4, AMO 5, FB 9, BSU 10 (0b01), TID3 18, TSC
        // 19, TIDCP 20, TACR 21, TSW 22, RW 31, FWB 46 (Arm ARM, HCR_EL2).
        let want: u64 = 0b11_1111
            | 1 << 9
            | 1 << 10
            | 1 << 18
            | 1 << 19
            | 1 << 20
            | 1 << 21
            | 1 << 22
            | 1 << 31
            | 1 << 46;
        assert_eq!(HCR_REALM, want);
        assert_eq!(hcr_realm(&features(false, false, false, false)), want);
        assert_eq!(
            hcr_realm(&features(true, true, false, false)),
            want | 1 << 35 | 1 << 36
        );
        // Never TGE (27), E2H (34), API (41), APK (40), ATA (56).
        for bit in [27, 34, 40, 41, 56] {
            assert_eq!(hcr_realm(&features(true, true, true, true)) >> bit & 1, 0);
        }
    }

    #[test]
    fn mdcr_bits() {
        // HPMN kept; TPMCR 5, TPM 6, TDA 9, TDOSA 10, TDRA 11; TPMS 14, TTRF 19 with
        // the features; TDE (8) and everything else cleared.
        let outside = 0xFFFF_FFFF;
        let base = 0x1F | 1 << 5 | 1 << 6 | 1 << 9 | 1 << 10 | 1 << 11;
        assert_eq!(
            mdcr_realm(&features(false, false, false, false), outside),
            base
        );
        assert_eq!(
            mdcr_realm(&features(false, false, true, true), 6),
            6 | base & !0x1F | 1 << 14 | 1 << 19
        );
        // HPMD 17 with PMUv3p1 (0b0100), HCCD 23 with PMUv3p5 (0b0110).
        let p1 = CpuFeatures {
            pmuver: 0b0100,
            ..features(false, false, false, false)
        };
        let p5 = CpuFeatures {
            pmuver: 0b0111,
            ..p1
        };
        assert_eq!(mdcr_realm(&p1, 0), base & !0x1F | 1 << 17);
        assert_eq!(mdcr_realm(&p5, 0), base & !0x1F | 1 << 17 | 1 << 23);
        // At boot: HPMN = N, the prohibitions, the rest kept; nothing without PMUv3.
        assert_eq!(mdcr_rmm(&p5, 1 << 9 | 3, 8), 1 << 9 | 8 | 1 << 17 | 1 << 23);
        let none = features(false, false, false, false);
        assert_eq!(mdcr_rmm(&none, 1 << 9 | 3, 8), 1 << 9 | 3);
        let imp_def = CpuFeatures {
            pmuver: 0xF,
            ..none
        };
        assert_eq!(mdcr_rmm(&imp_def, 3, 8), 3);
    }
}
