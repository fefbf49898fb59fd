//! Taking a synchronous exception to the realm's EL1: the one place the RMM injects an
//! exception into a realm (Arm ARM, D1.3 "Exception entry", pseudocode
//! `AArch64.TakeException`).
//!
//! The realm's registers are loaded on the CPU while the RMM handles a trap, so the
//! exception is taken the way the PE would take it: ESR_EL1, FAR_EL1 (aborts only),
//! ELR_EL1 and SPSR_EL1 are written, and the realm resumes at its vector with the
//! PSTATE exception entry gives it.

use crate::Storage;

use platform::{Arch, SysReg};

use super::exit::esr;
use super::RunCtx;
use crate::Rmm;

/// A synchronous exception the RMM takes to the realm's EL1.
///
/// ESR_EL1.IL is 1 for every one of them, also when the realm's instruction was a
/// 16-bit T32 one: the Arm ARM (DDI 0487L, D24.2.40, ESR_EL1.IL) has IL 1 for an
/// exception reported with EC 0x00, for an Instruction Abort and for a Data Abort
/// whose ISV is 0, and the injected aborts report no instruction syndrome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Injection {
    /// An Undefined Instruction exception: ESR_EL1.EC 0x00 ("unknown reason"), IL 1
    /// (Arm ARM, ESR_ELx: IL is 1 for exceptions reported with EC 0x00). The preferred
    /// return address is the instruction itself.
    Undefined,
    /// A synchronous external abort on an instruction fetch at `far` (IFSC 0b010000).
    InstructionAbort {
        /// The faulting address, or `None` when it is not known (ESR_EL1.FnV set).
        far: Option<u64>,
    },
    /// A synchronous external abort on a data access at `far` (DFSC 0b010000).
    DataAbort {
        /// The faulting address, or `None` when it is not known (ESR_EL1.FnV set).
        far: Option<u64>,
        /// Whether the access was a write (ESR_EL1.WnR).
        write: bool,
    },
}

/// PSTATE fields in the SPSR_ELx layout, for exceptions taken from AArch64 (Arm ARM,
/// SPSR_EL1).
mod pstate {
    /// N, Z, C, V [31:28].
    pub const NZCV: u64 = 0xF << 28;
    /// PM [32] (FEAT_EBEP).
    pub const PM: u64 = 1 << 32;
    /// TCO [25] (FEAT_MTE).
    pub const TCO: u64 = 1 << 25;
    /// DIT [24] (FEAT_DIT).
    pub const DIT: u64 = 1 << 24;
    /// PAN [22] (FEAT_PAN).
    pub const PAN: u64 = 1 << 22;
    /// ALLINT [13] (FEAT_NMI).
    pub const ALLINT: u64 = 1 << 13;
    /// SSBS [12] (FEAT_SSBS).
    pub const SSBS: u64 = 1 << 12;
    /// D, A, I, F [9:6].
    pub const DAIF: u64 = 0xF << 6;
    /// M[4]: the exception was taken from AArch32.
    pub const NRW: u64 = 1 << 4;
    /// M[3:2]: the exception level.
    pub const M_EL_SHIFT: u32 = 2;
    /// M[0]: SP_ELx selected.
    pub const M_SP: u64 = 1;
    /// M[3:0] = EL1h.
    pub const EL1H: u64 = 0b0101;
}

/// SCTLR_EL1 fields that exception entry to EL1 reads.
mod sctlr {
    /// SPAN [23]: 0 sets PSTATE.PAN on exception entry.
    pub const SPAN: u64 = 1 << 23;
    /// DSSBS [44]: the PSTATE.SSBS value on exception entry.
    pub const DSSBS: u64 = 1 << 44;
    /// SPINTMASK [62] (FEAT_NMI): PSTATE.ALLINT on exception entry is its inverse.
    pub const SPINTMASK: u64 = 1 << 62;
}

/// Where the realm was when it took the exception: the vector offset and the EC
/// variant depend on it (Arm ARM, D1.3.1 "Exception vectors").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// EL1 using SP_EL0 (EL1t): "current EL with SP_EL0", offset 0x000.
    El1Sp0,
    /// EL1 using SP_EL1 (EL1h): "current EL with SP_ELx", offset 0x200.
    El1SpX,
    /// EL0 in AArch64: "lower EL using AArch64", offset 0x400.
    El0Aarch64,
    /// EL0 in AArch32: "lower EL using AArch32", offset 0x600.
    El0Aarch32,
}

impl Origin {
    /// Decodes the PSTATE (SPSR layout) the realm had. Realm EL1 is AArch64
    /// (HCR_EL2.RW), so only EL0 can be AArch32.
    fn of(spsr: u64) -> Self {
        if spsr & pstate::NRW != 0 {
            Origin::El0Aarch32
        } else if (spsr >> pstate::M_EL_SHIFT) & 3 == 0 {
            Origin::El0Aarch64
        } else if spsr & pstate::M_SP != 0 {
            Origin::El1SpX
        } else {
            Origin::El1Sp0
        }
    }

    /// Offset of the synchronous exception vector from VBAR_EL1.
    const fn vector_offset(self) -> u64 {
        match self {
            Origin::El1Sp0 => 0x000,
            Origin::El1SpX => 0x200,
            Origin::El0Aarch64 => 0x400,
            Origin::El0Aarch32 => 0x600,
        }
    }

    /// Whether the exception is taken from a lower EL (EL0) rather than from EL1.
    const fn lower_el(self) -> bool {
        matches!(self, Origin::El0Aarch64 | Origin::El0Aarch32)
    }
}

/// ESR_ELx exception classes of the injected exceptions (Arm ARM, ESR_EL1.EC).
mod ec {
    pub const UNKNOWN: u64 = 0x00;
    pub const IABT_LOWER: u64 = 0x20;
    pub const IABT_CURRENT: u64 = 0x21;
    pub const DABT_LOWER: u64 = 0x24;
    pub const DABT_CURRENT: u64 = 0x25;
}

/// I/DFSC of a synchronous external abort, not on a translation table walk.
const FSC_SEA: u64 = 0b01_0000;

/// The realm features exception entry depends on, from the ID registers the realm
/// sees (HCR_EL2.TID3 is clear: the hardware's).
#[derive(Clone, Copy, Debug, Default)]
struct EntryFeatures {
    /// FEAT_PAN (ID_AA64MMFR1_EL1.PAN [23:20] != 0).
    pan: bool,
    /// FEAT_SSBS (ID_AA64PFR1_EL1.SSBS [7:4] != 0).
    ssbs: bool,
    /// FEAT_MTE (ID_AA64PFR1_EL1.MTE [11:8] != 0).
    mte: bool,
    /// FEAT_NMI (ID_AA64PFR1_EL1.NMI [39:36] != 0).
    nmi: bool,
    /// FEAT_EBEP (ID_AA64DFR1_EL1.EBEP [51:48] != 0).
    ebep: bool,
}

impl EntryFeatures {
    fn read<A: Arch>(arch: &A, cpu: platform::CpuId) -> Self {
        let field = |v: u64, shift: u32| (v >> shift) & 0xF != 0;
        let mmfr1 = arch.read_sysreg(cpu, SysReg::ID_AA64MMFR1_EL1);
        let pfr1 = arch.read_sysreg(cpu, SysReg::ID_AA64PFR1_EL1);
        let dfr1 = arch.read_sysreg(cpu, SysReg::ID_AA64DFR1_EL1);
        Self {
            pan: field(mmfr1, 20),
            ssbs: field(pfr1, 4),
            mte: field(pfr1, 8),
            nmi: field(pfr1, 36),
            ebep: field(dfr1, 48),
        }
    }
}

/// The PSTATE (SPSR layout) of the realm on entry to its EL1 exception handler, from
/// the PSTATE `old` it had and its SCTLR_EL1 (Arm ARM, `AArch64.TakeException` with
/// target EL1): EL1h, AArch64, D, A, I and F masked; N, Z, C, V and DIT unchanged;
/// PAN set if SCTLR_EL1.SPAN is 0, else unchanged; SSBS from SCTLR_EL1.DSSBS; TCO set;
/// ALLINT the inverse of SCTLR_EL1.SPINTMASK; PM set; UAO, BTYPE, SS and IL cleared.
/// Bits of features the CPU does not have are RES0. FEAT_GCS is not offered to realms
/// (GCSCR_EL1 is not part of a REC's context), so EXLOCK stays clear.
fn entry_pstate(old: u64, sctlr_el1: u64, f: EntryFeatures) -> u64 {
    let mut new = (old & (pstate::NZCV | pstate::DIT)) | pstate::DAIF | pstate::EL1H;
    if f.pan && (sctlr_el1 & sctlr::SPAN == 0 || old & pstate::PAN != 0) {
        new |= pstate::PAN;
    }
    if f.ssbs && sctlr_el1 & sctlr::DSSBS != 0 {
        new |= pstate::SSBS;
    }
    if f.mte {
        new |= pstate::TCO;
    }
    if f.nmi && sctlr_el1 & sctlr::SPINTMASK == 0 {
        new |= pstate::ALLINT;
    }
    if f.ebep {
        new |= pstate::PM;
    }
    new
}

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// Takes `exc` to the realm's EL1 as if the realm's instruction at `ctx.regs.pc`
    /// had caused it: ESR_EL1 (the EC variant for the EL it was taken from), FAR_EL1
    /// for aborts, ELR_EL1 = that PC, SPSR_EL1 = the realm's PSTATE, then the realm
    /// resumes at VBAR_EL1 plus the vector offset for where it was (EL1t 0x000, EL1h
    /// 0x200, EL0 AArch64 0x400, EL0 AArch32 0x600) with the PSTATE of
    /// [`entry_pstate`].
    pub(super) fn inject(&self, ctx: &mut RunCtx<'_>, exc: Injection) {
        let cpu = ctx.cpu;
        let origin = Origin::of(ctx.regs.pstate);
        let lower = origin.lower_el();
        let fnv = |far: Option<u64>| if far.is_none() { esr::FNV } else { 0 };
        let (esr_el1, far) = match exc {
            Injection::Undefined => (ec::UNKNOWN << 26 | esr::IL, None),
            Injection::InstructionAbort { far } => {
                let class = if lower {
                    ec::IABT_LOWER
                } else {
                    ec::IABT_CURRENT
                };
                (class << 26 | esr::IL | fnv(far) | FSC_SEA, Some(far))
            }
            Injection::DataAbort { far, write } => {
                let class = if lower {
                    ec::DABT_LOWER
                } else {
                    ec::DABT_CURRENT
                };
                let wnr = if write { esr::WNR } else { 0 };
                (class << 26 | esr::IL | fnv(far) | wnr | FSC_SEA, Some(far))
            }
        };
        self.arch.write_sysreg(cpu, SysReg::ESR_EL1, esr_el1);
        if let Some(far) = far {
            self.arch
                .write_sysreg(cpu, SysReg::FAR_EL1, far.unwrap_or(0));
        }
        self.arch.write_sysreg(cpu, SysReg::ELR_EL1, ctx.regs.pc);
        self.arch
            .write_sysreg(cpu, SysReg::SPSR_EL1, ctx.regs.pstate);
        let sctlr = self.arch.read_sysreg(cpu, SysReg::SCTLR_EL1);
        let features = EntryFeatures::read(&self.arch, cpu);
        // VBAR_EL1 [10:0] are RES0.
        let vbar = self.arch.read_sysreg(cpu, SysReg::VBAR_EL1) & !0x7FF;
        ctx.regs.pc = vbar.wrapping_add(origin.vector_offset());
        ctx.regs.pstate = entry_pstate(ctx.regs.pstate, sctlr, features);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_vectors() {
        assert_eq!(Origin::of(0x3C5), Origin::El1SpX);
        assert_eq!(Origin::of(0x3C4), Origin::El1Sp0);
        assert_eq!(Origin::of(0x000), Origin::El0Aarch64);
        assert_eq!(Origin::of(0x010), Origin::El0Aarch32);
        assert_eq!(Origin::El1Sp0.vector_offset(), 0);
        assert_eq!(Origin::El0Aarch64.vector_offset(), 0x400);
    }

    #[test]
    fn entry_pstate_follows_take_exception() {
        let none = EntryFeatures::default();
        // From EL0 with NZCV, BTYPE, SS, IL, UAO set: NZCV kept, the rest cleared.
        let old = 0xF000_0000 | 3 << 10 | 1 << 21 | 1 << 20 | 1 << 23;
        assert_eq!(entry_pstate(old, 0, none), 0xF000_0000 | 0x3C5);
        let all = EntryFeatures {
            pan: true,
            ssbs: true,
            mte: true,
            nmi: true,
            ebep: true,
        };
        assert_eq!(
            entry_pstate(0, 0, all),
            0x3C5 | 1 << 22 | 1 << 25 | 1 << 13 | 1 << 32
        );
        assert_eq!(
            entry_pstate(0, sctlr::SPAN | sctlr::DSSBS | sctlr::SPINTMASK, all),
            0x3C5 | 1 << 12 | 1 << 25 | 1 << 32,
            "SPAN 1 leaves PAN as it was (clear), DSSBS 1 sets SSBS"
        );
        assert_eq!(
            entry_pstate(1 << 22, sctlr::SPAN, all) & 1 << 22,
            1 << 22,
            "SPAN 1: PAN unchanged"
        );
    }
}
