//! The feature ID registers as a realm reads them (HCR_EL2.TID3 traps the reads; the
//! run loop writes the value computed here to the MRS's Rt).
//!
//! A realm sees only what RMI_FEATURES offers and its parameters select (DEN0137 1.0,
//! RmiFeatureRegister0 and RmiRealmParams): no SVE (SVE_EN 0), no
//! PMU (PMU_EN 0), its own breakpoint and watchpoint counts, and none of the features
//! whose state the RMM does not switch or whose controls it keeps trapped (SME, MTE,
//! SPE, TRBE, trace, AMU, MPAM, RAS error records, LORegions, GCS, the features
//! HCRX_EL2 enables, EL2 and its stage 2). Fields are passed through from the
//! hardware only where listed below (an allow-list: a field this RMM does not know
//! reads as zero, "not implemented"); the AArch32 ID registers and every reserved or
//! unknown encoding of the ID space read as zero, and EL0 and EL1 are reported
//! AArch64-only. Field layouts: Arm ARM, D23.2 (ID_AA64PFR0_EL1 ... ID_AA64MMFR2_EL1).

use platform::{SysReg, SysRegEncoding};

use crate::cpu_features::CpuFeatures;
use crate::realm::RealmInfo;

/// A 4-bit ID field at bit `lsb`.
const fn f(lsb: u32) -> u64 {
    0xF << lsb
}

/// The value `v` in the 4-bit field at `lsb`.
const fn at(lsb: u32, v: u64) -> u64 {
    v << lsb
}

/// The hardware's value of the field at `lsb` of `reg`, but at most `max` (ID fields
/// are "higher is more", Arm ARM D19.1.3, for the fields capped here).
fn capped(reg: u64, lsb: u32, max: u64) -> u64 {
    at(lsb, (reg >> lsb & 0xF).min(max))
}

/// ID_AA64PFR0_EL1 fields passed through: FP [19:16], AdvSIMD [23:20], DIT [51:48],
/// CSV3 [63:60]. EL0 [3:0] and EL1 [7:4] read 0b0001 (AArch64 only: HCR_EL2.RW makes
/// EL1 AArch64 and the RMM offers no AArch32), EL2 [11:8] 0, EL3 [15:12] at most
/// 0b0001, GIC [27:24] at most 0b0001 (the GICv3 virtual CPU interface), CSV2 [59:56]
/// at most 0b0001 (SCXTNUM_ELx trap: HCR_EL2.EnSCXT 0). Zero: RAS [31:28] (the error
/// records trap), SVE [35:32], SEL2 [39:36], MPAM [43:40], AMU [47:44], RME [55:52].
const PFR0_PASS: u64 = f(16) | f(20) | f(48) | f(60);
/// ID_AA64PFR1_EL1 fields passed through: BT [3:0], SSBS [7:4]. Zero: MTE, RAS_frac,
/// MPAM_frac, SME, RNDR_trap, CSV2_frac, NMI, MTE_frac, GCS, THE, MTEX, DF2, PFAR.
const PFR1_PASS: u64 = f(0) | f(4);
/// ID_AA64ISAR0_EL1: every instruction field but TME [27:24] (AES, SHA1, SHA2, CRC32,
/// Atomic, RDM, SHA3, SM3, SM4, DP, FHM, TS, TLB, RNDR); [3:0] is RES0.
const ISAR0_PASS: u64 = !0xF & !f(24);
/// ID_AA64ISAR1_EL1 fields passed through: DPB [3:0], JSCVT [15:12], FCMA [19:16],
/// LRCPC [23:20], FRINTTS [35:32], SB [39:36], SPECRES [43:40], BF16 [47:44], DGH
/// [51:48], I8MM [55:52], XS [59:56]. Zero: LS64 [63:60] (HCRX_EL2 keeps it trapped).
const ISAR1_PASS: u64 =
    f(0) | f(12) | f(16) | f(20) | f(32) | f(36) | f(40) | f(44) | f(48) | f(52) | f(56);
/// ID_AA64ISAR1_EL1 pointer authentication fields: APA [7:4], API [11:8], GPA
/// [27:24], GPI [31:28].
const ISAR1_PAUTH: u64 = f(4) | f(8) | f(24) | f(28);
/// ID_AA64ISAR2_EL1 fields passed through: RPRES [7:4], BC [23:20], CLRBHB [31:28],
/// PRFMSLC [43:40], RPRFM [51:48], CSSC [55:52]. Zero: WFxT (the WFx exit reports no
/// timeout), MOPS (HCRX_EL2.MSCEn 0), SYSREG_128, SYSINSTR_128 and the fields this
/// RMM does not know.
const ISAR2_PASS: u64 = f(4) | f(20) | f(28) | f(40) | f(48) | f(52);
/// ID_AA64ISAR2_EL1 pointer authentication fields: GPA3 [11:8], APA3 [15:12],
/// PAC_frac [27:24].
const ISAR2_PAUTH: u64 = f(8) | f(12) | f(24);
/// ID_AA64MMFR0_EL1 fields passed through: PARange [3:0] (at least the realm's IPA
/// width: RMI_FEATURES caps S2SZ at it), ASIDBits [7:4], BigEnd [11:8], SNSMem
/// [15:12], BigEndEL0 [19:16], TGran64 [27:24], ExS [47:44]. TGran16 [23:20] at most
/// 0b0001 and TGran4 [31:28] 0b0000 unless the hardware says 0b1111 (not implemented)
/// (no 52-bit addresses: LPA2 is not offered), ECV [63:60] at most 0b0001 (no CNTPOFF_EL2). Zero: the stage-2 granule
/// fields [43:32] and FGT [59:56] (EL2 features).
const MMFR0_PASS: u64 = f(0) | f(4) | f(8) | f(12) | f(16) | f(24) | f(44);
/// ID_AA64MMFR1_EL1 fields passed through: HPDS [15:12], PAN [23:20], SpecSEI
/// [27:24], ETS [39:36], AFP [47:44], nTLBPA [51:48], CMOW [59:56], ECBHB [63:60].
/// HAFDBS [3:0] at most 0b0010. Zero: VMIDBits, VH, XNX, TWED, HCX (EL2 features),
/// LO (the LORegion registers trap), TIDCP1.
const MMFR1_PASS: u64 = f(12) | f(20) | f(24) | f(36) | f(44) | f(48) | f(56) | f(60);
/// ID_AA64MMFR2_EL1 fields passed through: CnP [3:0], UAO [7:4], LSM [11:8], IESB
/// [15:12], VARange [19:16], CCIDX [23:20], ST [31:28], AT [35:32], IDS [39:36], TTL
/// [51:48], BBM [55:52], E0PD [63:60]. Zero: NV [27:24], FWB [43:40], EVT [59:56]
/// (EL2 features).
const MMFR2_PASS: u64 =
    f(0) | f(4) | f(8) | f(12) | f(16) | f(20) | f(28) | f(32) | f(36) | f(48) | f(52) | f(60);

/// ID_AA64DFR0_EL1.DebugVer 0b0110: the Armv8.0 debug architecture (the realm's debug
/// registers are RAZ/WI, nothing later is offered).
const DEBUGVER_V8: u64 = 0b0110;
/// ID_AA64DFR0_EL1.DoubleLock 0b1111: OSDLR_EL1 is RAZ/WI (FEAT_DoubleLock not
/// implemented).
const DOUBLELOCK_NONE: u64 = 0b1111;

/// The value of the realm's ID_AA64DFR0_EL1: DebugVer Armv8 [3:0], BRPs [15:12] and
/// WRPs [23:20] from the realm's parameters, CTX_CMPs [31:28] 0 (one context-aware
/// breakpoint), DoubleLock [39:36] 0b1111; TraceVer, PMUVer (PMU_EN 0), PMSS, SEBEP,
/// PMSVer, TraceFilt, TraceBuffer, MTPMU, BRBE, ExtTrcBuff, HPMN0 zero.
pub fn dfr0(realm: &RealmInfo) -> u64 {
    at(0, DEBUGVER_V8)
        | at(12, realm.num_bps as u64 & 0xF)
        | at(20, realm.num_wps as u64 & 0xF)
        | at(36, DOUBLELOCK_NONE)
}

/// Whether `enc` is in the feature ID space HCR_EL2.TID3 traps (Arm ARM, HCR_EL2.TID3:
/// op0 3, op1 0, CRn 0, CRm 1..=7, any op2).
pub fn is_id_space(enc: SysRegEncoding) -> bool {
    enc.op0 == 3 && enc.op1 == 0 && enc.crn == 0 && (1..=7).contains(&enc.crm)
}

/// What the realm is given of the features the CPU may have.
#[derive(Clone, Copy, Debug)]
pub struct Offered {
    /// Pointer authentication (its ID fields pass through).
    pub pauth: bool,
}

impl Offered {
    /// What a realm is given on a CPU with `f`. Pointer authentication never is: its
    /// keys are EL1 registers the RMM would have to switch, and R-EL2 reaches them
    /// only if EL3 sets SCR_EL3.APK for the Realm world, which TF-A does not do by
    /// default; the realm's PAC instructions and key accesses trap (HCR_EL2.API/APK
    /// clear) and are UNDEFINED (`docs/firmware.md`, the realm's registers).
    pub fn on(f: &CpuFeatures) -> Self {
        let _ = f.pauth;
        Self { pauth: false }
    }
}

/// The value the realm reads from the ID register `enc` (one of [`is_id_space`]);
/// `hw` reads the CPU's own register.
pub fn realm_value(
    enc: SysRegEncoding,
    realm: &RealmInfo,
    offered: Offered,
    hw: impl Fn(SysReg) -> u64,
) -> u64 {
    let pauth = |mask: u64| if offered.pauth { mask } else { 0 };
    match SysReg::from_encoding(enc) {
        Some(SysReg::ID_AA64PFR0_EL1) => {
            let r = hw(SysReg::ID_AA64PFR0_EL1);
            r & PFR0_PASS
                | at(0, 1)
                | at(4, 1)
                | capped(r, 12, 1)
                | capped(r, 24, 1)
                | capped(r, 56, 1)
        }
        Some(SysReg::ID_AA64PFR1_EL1) => hw(SysReg::ID_AA64PFR1_EL1) & PFR1_PASS,
        Some(SysReg::ID_AA64DFR0_EL1) => dfr0(realm),
        Some(SysReg::ID_AA64ISAR0_EL1) => hw(SysReg::ID_AA64ISAR0_EL1) & ISAR0_PASS,
        Some(SysReg::ID_AA64ISAR1_EL1) => {
            hw(SysReg::ID_AA64ISAR1_EL1) & (ISAR1_PASS | pauth(ISAR1_PAUTH))
        }
        Some(SysReg::ID_AA64ISAR2_EL1) => {
            hw(SysReg::ID_AA64ISAR2_EL1) & (ISAR2_PASS | pauth(ISAR2_PAUTH))
        }
        Some(SysReg::ID_AA64MMFR0_EL1) => {
            let r = hw(SysReg::ID_AA64MMFR0_EL1);
            let tgran4 = if r >> 28 & 0xF == 0xF { f(28) } else { 0 };
            r & MMFR0_PASS | capped(r, 20, 1) | tgran4 | capped(r, 60, 1)
        }
        Some(SysReg::ID_AA64MMFR1_EL1) => {
            let r = hw(SysReg::ID_AA64MMFR1_EL1);
            r & MMFR1_PASS | capped(r, 0, 2)
        }
        Some(SysReg::ID_AA64MMFR2_EL1) => hw(SysReg::ID_AA64MMFR2_EL1) & MMFR2_PASS,
        // ID_AA64ZFR0_EL1 (SVE not offered), ID_AA64DFR1_EL1, the other ID_AA64*
        // registers (PFR2, SMFR0, FPFR0, DFR2, AFR0/1, ISAR3, MMFR3/4), the AArch32
        // ID registers and the reserved encodings.
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_space() {
        assert!(is_id_space(SysReg::ID_AA64PFR0_EL1.encoding()));
        assert!(is_id_space(SysRegEncoding::new(3, 0, 0, 1, 0))); // ID_PFR0_EL1
        assert!(is_id_space(SysRegEncoding::new(3, 0, 0, 7, 7))); // reserved
        assert!(!is_id_space(SysReg::MIDR_EL1.encoding()));
        assert!(!is_id_space(SysRegEncoding::new(3, 1, 0, 0, 7))); // AIDR_EL1
    }
}
