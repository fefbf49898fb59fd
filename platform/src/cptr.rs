//! CPTR_EL2, in its layout for HCR_EL2.E2H = 0 (Arm ARM, D24.2 "CPTR_EL2"): the values
//! the world switch writes while the RMM runs and while a realm runs. The firmware's
//! world switch (`aarch64::world`) and the simulation's (`platform-sim`) both write these, so
//! the hosted tests see the traps the firmware sets.

/// RES1 bit 13.
const RES1_13: u64 = 1 << 13;
/// TSM \[12\]: traps SME (RES1 without FEAT_SME).
const TSM: u64 = 1 << 12;
/// TFP \[10\]: traps FP/SIMD.
pub const TFP: u64 = 1 << 10;
/// RES1 bit 9.
const RES1_9: u64 = 1 << 9;
/// TZ \[8\]: traps SVE (RES1 without FEAT_SVE).
pub const TZ: u64 = 1 << 8;
/// RES1 bits 7:0.
const RES1_7_0: u64 = 0xff;
/// TTA \[20\]: traps EL1 and EL0 accesses to the trace unit's System registers.
pub const TTA: u64 = 1 << 20;
/// TAM \[30\] (FEAT_AMUv1; RES0 without it): traps EL1 and EL0 accesses to the
/// activity monitors' registers (AMCR_EL0, AMUSERENR_EL0, AMCNTEN*, AMEVCNTR*,
/// AMEVTYPER*...).
pub const TAM: u64 = 1 << 30;

/// CPTR_EL2 while the RMM runs: the RES1 bits 13, 9 and 7:0, plus TSM, TFP and TZ.
/// TTA, TAM and TCPAC are 0 (TTA and TAM trap only EL1 and EL0 accesses). Any FP/SIMD,
/// SVE or SME instruction at R-EL2 traps and is reported (`docs/firmware.md`, FP/SIMD
/// policy).
pub const RMM: u64 = RES1_13 | TSM | RES1_9 | TFP | TZ | RES1_7_0;

/// CPTR_EL2 while a realm runs on a CPU with (`amu`) or without FEAT_AMUv1: as [`RMM`]
/// with TFP clear, so that the realm uses FP/SIMD (its own registers, loaded before the
/// entry); SVE and SME trap to R-EL2 (not offered to realms: RMI_FEATURES reports
/// SVE_EN 0), and so do the trace unit's registers (TTA: the realm's
/// ID_AA64DFR0_EL1.TraceVer is 0) and, with FEAT_AMUv1, the activity monitors (TAM:
/// the realm's ID_AA64PFR0_EL1.AMU is 0, and the counters and their enables are
/// CPU-wide state the Normal world owns; EL3 does not switch them). The RMM answers
/// each trapped access with an Undefined Instruction exception.
pub const fn realm(amu: bool) -> u64 {
    let v = RMM & !TFP | TTA;
    if amu {
        v | TAM
    } else {
        v
    }
}

/// Whether ID_AA64PFR0_EL1 `pfr0` reports FEAT_AMUv1 (AMU \[47:44\] != 0).
pub const fn has_amu(pfr0: u64) -> bool {
    pfr0 >> 44 & 0xF != 0
}

const _: () = assert!(RMM == 0x37ff && realm(false) == 0x10_33ff && realm(true) == 0x4010_33ff);
