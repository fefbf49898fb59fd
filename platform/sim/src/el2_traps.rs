//! Which of a realm's system register accesses trap to EL2, under the EL2 controls the
//! RMM programmed: a model of the Arm ARM's access pseudocode for the registers the
//! simulated realm reaches with [`super::realm::RealmCpu::mrs`] and
//! [`super::realm::RealmCpu::msr`] (at EL1, HCR_EL2.TGE 0, E2H 0, EL3 trapping nothing),
//! CPTR_EL2 as the world switch writes it for the realm ([`platform::cptr::realm`]).

use platform::sysreg::{SysReg, SysRegEncoding};

use super::cpu::SysRegFile;

/// What an EL1 MRS/MSR of a register does on the simulated CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum El1Access {
    /// It completes on the CPU's register (the realm reads or writes the hardware).
    Completes,
    /// It traps to EL2 with EC 0x18 (trapped MSR/MRS).
    TrapsToEl2,
    /// The register is not implemented on this CPU: UNDEFINED at EL1.
    Undefined,
    /// It completes on another register of the CPU (an EL2 register standing in for
    /// the EL1 one, as VDISR_EL2 for DISR_EL1 while HCR_EL2.AMO is set).
    Redirected(SysReg),
}

/// HCR_EL2.TACR: trap ACTLR_EL1.
const HCR_TACR: u64 = 1 << 21;
/// HCR_EL2.TID3: trap reads of the feature ID registers.
const HCR_TID3: u64 = 1 << 18;
/// HCR_EL2.TERR: trap the error record registers.
const HCR_TERR: u64 = 1 << 36;
/// HCR_EL2.AMO: physical SErrors to EL2; EL1's DISR_EL1 is VDISR_EL2.
const HCR_AMO: u64 = 1 << 5;
/// HCR_EL2.APK: the pointer authentication key registers do not trap.
const HCR_APK: u64 = 1 << 40;
/// MDCR_EL2.TPM: trap the PMU registers.
const MDCR_TPM: u64 = 1 << 6;
/// MDCR_EL2.TDA: trap the debug registers other than the OS lock, power-down and ROM
/// address registers.
const MDCR_TDA: u64 = 1 << 9;
/// MDCR_EL2.TDOSA: trap OSLAR, OSLSR, OSDLR and DBGPRCR.
const MDCR_TDOSA: u64 = 1 << 10;
/// MDCR_EL2.TDRA: trap MDRAR_EL1.
const MDCR_TDRA: u64 = 1 << 11;
/// CPTR_EL2.TTA: trap the trace unit's System registers.
const CPTR_TTA: u64 = platform::cptr::TTA;
/// CPTR_EL2.TAM: trap the activity monitors' registers (FEAT_AMUv1).
const CPTR_TAM: u64 = platform::cptr::TAM;

/// Whether the CPU implements FEAT_PAuth (ID_AA64ISAR1_EL1.APA [7:4], API [11:8], GPA
/// [27:24], GPI [31:28]; ID_AA64ISAR2_EL1.GPA3 [11:8], APA3 [15:12]).
pub fn has_pauth(cpu: &SysRegFile) -> bool {
    let isar1 = cpu.read(SysReg::ID_AA64ISAR1_EL1);
    let isar2 = cpu.read(SysReg::ID_AA64ISAR2_EL1);
    let nz = |r: u64, lsb: u32| r >> lsb & 0xF != 0;
    nz(isar1, 4) || nz(isar1, 8) || nz(isar1, 24) || nz(isar1, 28) || nz(isar2, 8) || nz(isar2, 12)
}

/// Whether the CPU implements FEAT_RAS (ID_AA64PFR0_EL1.RAS [31:28] != 0).
pub fn has_ras(cpu: &SysRegFile) -> bool {
    cpu.read(SysReg::ID_AA64PFR0_EL1) >> 28 & 0xF != 0
}

/// What an EL1 access (`read` for MRS) of `enc` does on `cpu`.
pub fn el1_access(cpu: &SysRegFile, enc: SysRegEncoding, read: bool) -> El1Access {
    let hcr = cpu.read(SysReg::HCR_EL2);
    let mdcr = cpu.read(SysReg::MDCR_EL2);
    let cptr = cpu.read(SysReg::CPTR_EL2);
    let trap = |cond: bool| {
        if cond {
            El1Access::TrapsToEl2
        } else {
            El1Access::Completes
        }
    };
    let SysRegEncoding {
        op0,
        op1,
        crn,
        crm,
        op2,
    } = enc;
    match (op0, op1, crn, crm, op2) {
        // The feature ID space (Arm ARM D23.3.1, "op0 == 0b11, op1 == 0b000, CRn ==
        // 0b0000, CRm == {0b0001..0b0111}"): reads trap with HCR_EL2.TID3.
        (3, 0, 0, 1..=7, _) if read => trap(hcr & HCR_TID3 != 0),
        // Pointer authentication keys: trapped unless HCR_EL2.APK.
        (3, 0, 2, 1..=3, _) => {
            if has_pauth(cpu) {
                trap(hcr & HCR_APK == 0)
            } else {
                El1Access::Undefined
            }
        }
        // ACTLR_EL1.
        (3, 0, 1, 0, 1) => trap(hcr & HCR_TACR != 0),
        // DISR_EL1 (FEAT_RAS): with HCR_EL2.AMO, EL1's accesses are VDISR_EL2's (Arm
        // ARM, DISR_EL1 accessibility pseudocode).
        (3, 0, 12, 1, 1) => {
            if !has_ras(cpu) {
                El1Access::Undefined
            } else if hcr & HCR_AMO != 0 {
                El1Access::Redirected(SysReg::VDISR_EL2)
            } else {
                El1Access::Completes
            }
        }
        // Error record registers (ERRIDR, ERRSELR, ERX*).
        (3, 0, 5, 3..=5, _) => trap(hcr & HCR_TERR != 0),
        // PMU: PMCR..PMSELR, PMCCNTR..PMXEVCNTR, PMUSERENR..PMOVSSET (CRn 9, CRm
        // 12..14), the event counters and types (CRn 14, CRm 8..15), PMINTENSET/CLR.
        (3, 3, 9, 12..=14, _) | (3, 3, 14, 8..=15, _) | (3, 0, 9, 14, 1 | 2) => {
            trap(mdcr & MDCR_TPM != 0)
        }
        // OSLAR_EL1, OSLSR_EL1, OSDLR_EL1, DBGPRCR_EL1.
        (2, 0, 1, 0 | 1 | 3 | 4, 4) => trap(mdcr & MDCR_TDOSA != 0),
        // MDRAR_EL1.
        (2, 0, 1, 0, 0) => trap(mdcr & MDCR_TDRA != 0),
        // The other debug registers: MDCCINT, MDSCR, DBGB/W*, OSDTR*, OSECCR,
        // DBGCLAIM*, DBGAUTHSTATUS (op1 0) and the DCC registers (op1 3).
        (2, 0 | 3, _, _, _) => trap(mdcr & MDCR_TDA != 0),
        // The trace unit's System registers (op0 2, op1 1: TRC*): UNDEFINED without a
        // System register interface to a trace unit (ID_AA64DFR0_EL1.TraceVer [7:4]
        // 0), else trapped with CPTR_EL2.TTA.
        (2, 1, _, _, _) => {
            if cpu.read(SysReg::ID_AA64DFR0_EL1) >> 4 & 0xF == 0 {
                El1Access::Undefined
            } else {
                trap(cptr & CPTR_TTA != 0)
            }
        }
        // The activity monitors (op0 3, op1 3, CRn 13, CRm 2..=7: AMCR_EL0, AMCFGR_EL0,
        // AMCGCR_EL0, AMUSERENR_EL0, AMCNTEN*, AMEVCNTR*, AMEVTYPER*): UNDEFINED without
        // FEAT_AMUv1 (ID_AA64PFR0_EL1.AMU [47:44] 0), else trapped with CPTR_EL2.TAM.
        (3, 3, 13, 2..=7, _) => {
            if platform::cptr::has_amu(cpu.read(SysReg::ID_AA64PFR0_EL1)) {
                trap(cptr & CPTR_TAM != 0)
            } else {
                El1Access::Undefined
            }
        }
        _ => El1Access::Completes,
    }
}
