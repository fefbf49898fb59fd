//! What a realm must read from the feature ID registers, field by field, from the Arm
//! ARM's layouts (D23.2, ID_AA64PFR0_EL1 ... ID_AA64MMFR2_EL1) and what DEN0137 1.0
//! offers realms (RmiFeatureRegister0: no SVE, no PMU; RmiRealmParams: the breakpoint
//! and watchpoint counts). Written independently of the RMM's own tables: the hosted
//! tests and the QEMU test host compare the realm's reads with [`expected`] computed
//! from the hardware's values.

/// The registers the tests read, in the order of [`REGS`] (`S<op0>_<op1>_C<n>_C<m>_<op2>`).
pub const REGS: [(u8, u8, u8, u8, u8); COUNT] = [
    (3, 0, 0, 4, 0), // ID_AA64PFR0_EL1
    (3, 0, 0, 4, 1), // ID_AA64PFR1_EL1
    (3, 0, 0, 5, 0), // ID_AA64DFR0_EL1
    (3, 0, 0, 5, 1), // ID_AA64DFR1_EL1
    (3, 0, 0, 6, 0), // ID_AA64ISAR0_EL1
    (3, 0, 0, 6, 1), // ID_AA64ISAR1_EL1
    (3, 0, 0, 6, 2), // ID_AA64ISAR2_EL1
    (3, 0, 0, 7, 0), // ID_AA64MMFR0_EL1
    (3, 0, 0, 7, 1), // ID_AA64MMFR1_EL1
    (3, 0, 0, 7, 2), // ID_AA64MMFR2_EL1
    (3, 0, 0, 4, 4), // ID_AA64ZFR0_EL1
    (3, 0, 0, 4, 5), // ID_AA64SMFR0_EL1
    (3, 0, 0, 4, 2), // ID_AA64PFR2_EL1
    (3, 0, 0, 7, 3), // ID_AA64MMFR3_EL1
    (3, 0, 0, 5, 4), // ID_AA64AFR0_EL1
    (3, 0, 0, 1, 0), // ID_PFR0_EL1 (AArch32)
    (3, 0, 0, 3, 0), // MVFR0_EL1 (AArch32)
    (3, 0, 0, 7, 7), // reserved
];
/// How many.
pub const COUNT: usize = 18;

/// Indexes into [`REGS`].
pub mod reg {
    /// ID_AA64PFR0_EL1.
    pub const PFR0: usize = 0;
    /// ID_AA64PFR1_EL1.
    pub const PFR1: usize = 1;
    /// ID_AA64DFR0_EL1.
    pub const DFR0: usize = 2;
    /// ID_AA64ISAR1_EL1.
    pub const ISAR1: usize = 5;
    /// ID_AA64ISAR2_EL1.
    pub const ISAR2: usize = 6;
    /// ID_AA64ZFR0_EL1.
    pub const ZFR0: usize = 10;
}

/// Names, for failure messages.
pub const NAMES: [&str; COUNT] = [
    "realm ID_AA64PFR0_EL1",
    "realm ID_AA64PFR1_EL1",
    "realm ID_AA64DFR0_EL1",
    "realm ID_AA64DFR1_EL1",
    "realm ID_AA64ISAR0_EL1",
    "realm ID_AA64ISAR1_EL1",
    "realm ID_AA64ISAR2_EL1",
    "realm ID_AA64MMFR0_EL1",
    "realm ID_AA64MMFR1_EL1",
    "realm ID_AA64MMFR2_EL1",
    "realm ID_AA64ZFR0_EL1 (no SVE)",
    "realm ID_AA64SMFR0_EL1 (no SME)",
    "realm ID_AA64PFR2_EL1",
    "realm ID_AA64MMFR3_EL1",
    "realm ID_AA64AFR0_EL1",
    "realm ID_PFR0_EL1 (no AArch32)",
    "realm MVFR0_EL1 (no AArch32)",
    "realm reserved ID encoding S3_0_C0_C7_7",
];

/// What the realm reads in one 4-bit field.
#[derive(Clone, Copy)]
enum Rule {
    /// The hardware's value.
    Hw,
    /// The hardware's value, at most this.
    AtMost(u64),
    /// This value.
    Is(u64),
    /// The hardware's value if the realm has pointer authentication, else 0.
    PauthHw,
    /// TGran4: 0b1111 (not implemented) if the hardware says so, else 0b0000
    /// (implemented without 52-bit addresses).
    Tgran4,
}

use Rule::*;

/// (register, field LSB, rule); every field not listed reads as zero.
const FIELDS: &[(usize, u32, Rule)] = &[
    // ID_AA64PFR0_EL1: EL0 and EL1 AArch64 only; EL2 absent; EL3 AArch64; FP,
    // AdvSIMD; GIC system register interface v3; DIT; CSV2 without SCXTNUM; CSV3.
    // Absent: RAS, SVE (SVE_EN 0), SEL2, MPAM, AMU, RME.
    (0, 0, Is(1)),
    (0, 4, Is(1)),
    (0, 12, AtMost(1)),
    (0, 16, Hw),
    (0, 20, Hw),
    (0, 24, AtMost(1)),
    (0, 48, Hw),
    (0, 56, AtMost(1)),
    (0, 60, Hw),
    // ID_AA64PFR1_EL1: BT, SSBS. Absent: MTE, SME, NMI, GCS, MPAM_frac, RAS_frac...
    (1, 0, Hw),
    (1, 4, Hw),
    // ID_AA64DFR0_EL1: DebugVer Armv8 (0b0110); BRPs, WRPs from the parameters
    // (filled in by `expected`); DoubleLock not implemented (0b1111). Absent:
    // TraceVer, PMUVer (PMU_EN 0), PMSVer (SPE), TraceFilt, TraceBuffer, BRBE...
    (2, 0, Is(0b0110)),
    (2, 36, Is(0b1111)),
    // ID_AA64ISAR0_EL1: everything but TME [27:24].
    (4, 4, Hw),
    (4, 8, Hw),
    (4, 12, Hw),
    (4, 16, Hw),
    (4, 20, Hw),
    (4, 28, Hw),
    (4, 32, Hw),
    (4, 36, Hw),
    (4, 40, Hw),
    (4, 44, Hw),
    (4, 48, Hw),
    (4, 52, Hw),
    (4, 56, Hw),
    (4, 60, Hw),
    // ID_AA64ISAR1_EL1: DPB, APA, API, JSCVT, FCMA, LRCPC, GPA, GPI, FRINTTS, SB,
    // SPECRES, BF16, DGH, I8MM, XS. Absent: LS64.
    (5, 0, Hw),
    (5, 4, PauthHw),
    (5, 8, PauthHw),
    (5, 12, Hw),
    (5, 16, Hw),
    (5, 20, Hw),
    (5, 24, PauthHw),
    (5, 28, PauthHw),
    (5, 32, Hw),
    (5, 36, Hw),
    (5, 40, Hw),
    (5, 44, Hw),
    (5, 48, Hw),
    (5, 52, Hw),
    (5, 56, Hw),
    // ID_AA64ISAR2_EL1: RPRES, GPA3, APA3, BC, PAC_frac, CLRBHB, PRFMSLC, RPRFM,
    // CSSC. Absent: WFxT, MOPS, SYSREG_128, SYSINSTR_128...
    (6, 4, Hw),
    (6, 8, PauthHw),
    (6, 12, PauthHw),
    (6, 20, Hw),
    (6, 24, PauthHw),
    (6, 28, Hw),
    (6, 40, Hw),
    (6, 48, Hw),
    (6, 52, Hw),
    // ID_AA64MMFR0_EL1: PARange, ASIDBits, BigEnd, SNSMem, BigEndEL0, TGran16
    // without 52-bit, TGran64, TGran4 without 52-bit, ExS, ECV without CNTPOFF.
    // Absent: the stage-2 granule fields and FGT (EL2).
    (7, 0, Hw),
    (7, 4, Hw),
    (7, 8, Hw),
    (7, 12, Hw),
    (7, 16, Hw),
    (7, 20, AtMost(1)),
    (7, 24, Hw),
    (7, 28, Tgran4),
    (7, 44, Hw),
    (7, 60, AtMost(1)),
    // ID_AA64MMFR1_EL1: HAFDBS (access flag and dirty state), HPDS, PAN, SpecSEI,
    // ETS, AFP, nTLBPA, CMOW, ECBHB. Absent: VMIDBits, VH, LO, XNX, TWED, HCX,
    // TIDCP1.
    (8, 0, AtMost(2)),
    (8, 12, Hw),
    (8, 20, Hw),
    (8, 24, Hw),
    (8, 36, Hw),
    (8, 44, Hw),
    (8, 48, Hw),
    (8, 56, Hw),
    (8, 60, Hw),
    // ID_AA64MMFR2_EL1: CnP, UAO, LSM, IESB, VARange, CCIDX, ST, AT, IDS, TTL, BBM,
    // E0PD. Absent: NV, FWB, EVT.
    (9, 0, Hw),
    (9, 4, Hw),
    (9, 8, Hw),
    (9, 12, Hw),
    (9, 16, Hw),
    (9, 20, Hw),
    (9, 28, Hw),
    (9, 32, Hw),
    (9, 36, Hw),
    (9, 48, Hw),
    (9, 52, Hw),
    (9, 60, Hw),
];

/// The values a realm created with `num_bps` and `num_wps` (RmiRealmParams, the
/// ID_AA64DFR0_EL1.BRPs/WRPs encoding) must read from [`REGS`] on a CPU whose own
/// values are `hw`; `pauth` says whether the realm is given pointer authentication.
pub fn expected(hw: &[u64; COUNT], num_bps: u8, num_wps: u8, pauth: bool) -> [u64; COUNT] {
    let mut want = [0u64; COUNT];
    for &(r, lsb, rule) in FIELDS {
        let h = hw[r] >> lsb & 0xF;
        let v = match rule {
            Hw => h,
            AtMost(m) => h.min(m),
            Is(v) => v,
            PauthHw => {
                if pauth {
                    h
                } else {
                    0
                }
            }
            Tgran4 => {
                if h == 0xF {
                    0xF
                } else {
                    0
                }
            }
        };
        want[r] |= v << lsb;
    }
    want[reg::DFR0] |= u64::from(num_bps & 0xF) << 12 | u64::from(num_wps & 0xF) << 20;
    want
}
