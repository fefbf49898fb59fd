//! Features of the CPU the RMM runs on, read once at boot from the ID registers, and
//! what the RMM offers realms on top of them (RMI_FEATURES register 0).

use platform::sha::Sha2Isa;
use platform::{Arch, CpuId, SysReg};
use rmi_abi::features::FeatureReg0;

use crate::granule::REFCOUNT_MAX;

/// What the RMM needs to know of the CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuFeatures {
    /// Physical address width in bits (ID_AA64MMFR0_EL1.PARange).
    pub pa_bits: u32,
    /// VMID width in bits: 16 with FEAT_VMID16 (ID_AA64MMFR1_EL1.VMIDBits = 0b0010),
    /// else 8.
    pub vmid_bits: u32,
    /// Breakpoints minus one (ID_AA64DFR0_EL1.BRPs).
    pub brps: u8,
    /// Watchpoints minus one (ID_AA64DFR0_EL1.WRPs).
    pub wrps: u8,
    /// Implemented GIC list registers minus one (ICH_VTR_EL2.ListRegs).
    pub gic_list_regs: u8,
    /// FEAT_RAS (ID_AA64PFR0_EL1.RAS [31:28] != 0): error record registers exist.
    pub ras: bool,
    /// FEAT_LOR (ID_AA64MMFR1_EL1.LO [19:16] != 0): LORegion registers exist.
    pub lor: bool,
    /// FEAT_HCX (ID_AA64MMFR1_EL1.HCX [43:40] != 0): HCRX_EL2 exists.
    pub hcx: bool,
    /// FEAT_SPE (ID_AA64DFR0_EL1.PMSVer [35:32] != 0): MDCR_EL2.TPMS exists.
    pub spe: bool,
    /// FEAT_TRF (ID_AA64DFR0_EL1.TraceFilt [43:40] != 0): MDCR_EL2.TTRF exists.
    pub trf: bool,
    /// FEAT_PAuth (ID_AA64ISAR1_EL1.APA [7:4], API [11:8], GPA [27:24] or GPI [31:28],
    /// or ID_AA64ISAR2_EL1.GPA3 [11:8] or APA3 [15:12] != 0): the key registers exist
    /// and HCR_EL2.API/APK are defined.
    pub pauth: bool,
    /// FEAT_SVE (ID_AA64PFR0_EL1.SVE [35:32] != 0): the Z registers are wider than the
    /// V registers.
    pub sve: bool,
    /// FEAT_LPA2 at stage 2 with the 4 KiB granule ([`lpa2_at_stage2`]): 52-bit IPAs and
    /// output addresses, `VTCR_EL2.DS`.
    pub lpa2: bool,
    /// The PMU version, ID_AA64DFR0_EL1.PMUVer \[11:8\]: 0 none, 0b0001 FEAT_PMUv3,
    /// 0b0100 PMUv3p1, 0b0101 PMUv3p4, 0b0110 PMUv3p5 and later, 0xF an IMPLEMENTATION
    /// DEFINED PMU (not PMUv3).
    pub pmuver: u8,
    /// The SHA-2 instructions the RMM hashes with: ID_AA64ISAR0_EL1.SHA2 \[15:12\]
    /// ([`Sha2Isa::from_isar0`]), set to none at cold boot if they fail the known
    /// answers ([`crate::hash::choose`]).
    pub sha2: Sha2Isa,
}

/// Whether the 4 KiB granule at stage 2 supports 52-bit input and output addresses
/// (FEAT_LPA2), from ID_AA64MMFR0_EL1: TGran4_2 \[43:40\] = `0b0011`; or TGran4_2 =
/// `0b0000` ("support at stage 2 is identified in TGran4") and TGran4 \[31:28\] =
/// `0b0001` (Arm ARM D24.2, ID_AA64MMFR0_EL1).
pub const fn lpa2_at_stage2(mmfr0: u64) -> bool {
    match (mmfr0 >> 40) & 0xF {
        0b0011 => true,
        0b0000 => (mmfr0 >> 28) & 0xF == 0b0001,
        _ => false,
    }
}

/// Decodes ID_AA64MMFR0_EL1.PARange [3:0] into a width in bits; reserved encodings
/// give `None`.
pub const fn pa_range_bits(mmfr0: u64) -> Option<u32> {
    Some(match mmfr0 & 0xF {
        0 => 32,
        1 => 36,
        2 => 40,
        3 => 42,
        4 => 44,
        5 => 48,
        6 => 52,
        _ => return None,
    })
}

pub use crate::rtt::geometry::{MAX_IPA_BITS_LPA2, MAX_IPA_BITS_NO_LPA2};
/// The smallest IPA width a realm may have (DEN0137 1.0: PARange 0b0000 width).
pub const MIN_IPA_BITS: u32 = 32;

impl CpuFeatures {
    /// Reads the features of `cpu`. A reserved PARange is treated as the smallest
    /// architectural width, 32 bits.
    pub fn read<A: Arch>(arch: &A, cpu: CpuId) -> Self {
        let mmfr0 = arch.read_sysreg(cpu, SysReg::ID_AA64MMFR0_EL1);
        let mmfr1 = arch.read_sysreg(cpu, SysReg::ID_AA64MMFR1_EL1);
        let dfr0 = arch.read_sysreg(cpu, SysReg::ID_AA64DFR0_EL1);
        let vtr = arch.read_sysreg(cpu, SysReg::ICH_VTR_EL2);
        let pfr0 = arch.read_sysreg(cpu, SysReg::ID_AA64PFR0_EL1);
        let isar1 = arch.read_sysreg(cpu, SysReg::ID_AA64ISAR1_EL1);
        let isar2 = arch.read_sysreg(cpu, SysReg::ID_AA64ISAR2_EL1);
        let field = |reg: u64, lsb: u32| (reg >> lsb) & 0xF != 0;
        Self {
            pa_bits: pa_range_bits(mmfr0).unwrap_or(32),
            vmid_bits: if (mmfr1 >> 4) & 0xF == 0b0010 { 16 } else { 8 },
            brps: ((dfr0 >> 12) & 0xF) as u8,
            wrps: ((dfr0 >> 20) & 0xF) as u8,
            gic_list_regs: (vtr & 0xF) as u8,
            ras: field(pfr0, 28),
            lor: field(mmfr1, 16),
            hcx: field(mmfr1, 40),
            spe: field(dfr0, 32),
            trf: field(dfr0, 40),
            pauth: [4, 8, 24, 28].iter().any(|&l| field(isar1, l))
                || field(isar2, 8)
                || field(isar2, 12),
            sve: field(pfr0, 32),
            lpa2: lpa2_at_stage2(mmfr0),
            pmuver: ((dfr0 >> 8) & 0xF) as u8,
            sha2: Sha2Isa::from_isar0(arch.read_sysreg(cpu, SysReg::ID_AA64ISAR0_EL1)),
        }
    }

    /// FEAT_PMUv3: PMCR_EL0, PMCNTENSET_EL0 and the counters exist.
    pub fn pmu_v3(&self) -> bool {
        self.pmuver != 0 && self.pmuver != 0xF
    }

    /// FEAT_PMUv3p1: MDCR_EL2.HPMD exists.
    pub fn pmu_v3p1(&self) -> bool {
        self.pmu_v3() && self.pmuver >= 0b0100
    }

    /// FEAT_PMUv3p5: MDCR_EL2.HCCD exists.
    pub fn pmu_v3p5(&self) -> bool {
        self.pmu_v3() && self.pmuver >= 0b0110
    }

    /// The largest realm IPA width: the PA width (a stage 2 IPA size is at most the PA
    /// size, Arm ARM `AArch64.S2MinTxSZ`), capped by the descriptor format: 52 bits with
    /// FEAT_LPA2, 48 without.
    pub fn max_ipa_bits(&self) -> u32 {
        let cap = if self.lpa2 {
            MAX_IPA_BITS_LPA2
        } else {
            MAX_IPA_BITS_NO_LPA2
        };
        self.pa_bits.min(cap)
    }

    /// DEN0137 1.0, RmiFeatureRegister0 as this RMM reports it. LPA2 when the CPU has
    /// it at stage 2, with S2SZ up to 52; SVE and the PMU are not offered to realms
    /// (the RMM does not yet switch their state); both hash algorithms are; the REC
    /// count is bounded by [`MAX_RECS_ORDER`].
    pub fn feature_reg0(&self) -> FeatureReg0 {
        FeatureReg0 {
            s2sz: self.max_ipa_bits() as u8,
            lpa2: self.lpa2,
            sve_en: false,
            sve_vl: 0,
            num_bps: self.brps,
            num_wps: self.wrps,
            pmu_en: false,
            pmu_num_ctrs: 0,
            hash_sha_256: true,
            hash_sha_512: true,
            gicv3_num_lrs: self.gic_list_regs,
            max_recs_order: MAX_RECS_ORDER,
        }
    }
}

/// MAX_RECS_ORDER of RMI_FEATURES: a realm has at most 2^10 - 1 RECs at once
/// (DEN0137 1.0, B4.3.12.2 `num_recs`: REC_CREATE fails when
/// `realm.num_recs == 2 ^ max_recs_order - 1`). The RD's reference count holds
/// `num_recs`, so it must reach that value.
pub const MAX_RECS_ORDER: u8 = 10;

const _: () = assert!((1 << MAX_RECS_ORDER) - 1 <= REFCOUNT_MAX as u32);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pa_range() {
        let want = [32, 36, 40, 42, 44, 48, 52];
        for (enc, bits) in want.iter().enumerate() {
            assert_eq!(pa_range_bits(enc as u64 | 0xF0), Some(*bits));
        }
        assert_eq!(pa_range_bits(7), None);
        assert_eq!(pa_range_bits(0xF), None);
    }

    #[test]
    fn feature_register() {
        let f = CpuFeatures {
            pa_bits: 52,
            vmid_bits: 16,
            brps: 5,
            wrps: 3,
            gic_list_regs: 15,
            ras: false,
            lor: false,
            hcx: false,
            spe: false,
            trf: false,
            pauth: false,
            sve: false,
            lpa2: false,
            pmuver: 0b0111,
            sha2: Sha2Isa::None,
        };
        let r = f.feature_reg0();
        assert_eq!(r.s2sz, 48, "capped without LPA2");
        assert_eq!(r.max_recs_order, 10);
        // S2SZ 48, NUM_BPS 5 at [19:14], NUM_WPS 3 at [25:20], both hashes [33:32],
        // GICV3_NUM_LRS 15 at [37:34], MAX_RECS_ORDER 10 at [41:38].
        let want = 48 | 5 << 14 | 3 << 20 | 3 << 32 | 15 << 34 | 10 << 38;
        assert_eq!(r.encode(), Ok(want));
        let f40 = CpuFeatures { pa_bits: 40, ..f };
        assert_eq!(f40.feature_reg0().s2sz, 40);
        // With FEAT_LPA2: LPA2 [8] and S2SZ 52.
        let l = CpuFeatures { lpa2: true, ..f };
        assert_eq!(l.feature_reg0().encode(), Ok(want & !0xFF | 52 | 1 << 8));
        // LPA2 with a 48-bit PA: the IPA width is still bounded by the PA width.
        let l48 = CpuFeatures { pa_bits: 48, ..l };
        assert_eq!(l48.feature_reg0().s2sz, 48);
        assert!(l48.feature_reg0().lpa2);
    }

    /// Arm ARM D24.2, ID_AA64MMFR0_EL1.TGran4_2 and TGran4.
    #[test]
    fn lpa2_from_the_granule_fields() {
        let mmfr0 = |tgran4: u64, tgran4_2: u64| 0b0110 | tgran4 << 28 | tgran4_2 << 40;
        assert!(lpa2_at_stage2(mmfr0(0b0001, 0b0011)), "QEMU max");
        assert!(lpa2_at_stage2(mmfr0(0b0000, 0b0011)));
        assert!(
            !lpa2_at_stage2(mmfr0(0b0001, 0b0010)),
            "stage 2 without 52 bits"
        );
        assert!(
            !lpa2_at_stage2(mmfr0(0b0001, 0b0001)),
            "no 4 KiB at stage 2"
        );
        assert!(lpa2_at_stage2(mmfr0(0b0001, 0b0000)), "as TGran4");
        assert!(!lpa2_at_stage2(mmfr0(0b0000, 0b0000)));
        assert!(!lpa2_at_stage2(mmfr0(0b1111, 0b0000)));
    }
}
