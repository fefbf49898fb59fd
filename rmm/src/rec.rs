//! The REC (realm execution context, DEN0137 1.0 A2.3): a realm vCPU's state, kept in
//! the REC granule itself.

use platform::{FpRegs, GranuleMem, SysReg};
use rmi_abi::rec_params::REC_PARAMS_AUX_GRANULES_MAX;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::rsi::counts::SmcCounts;

/// The realm EL1 (and EL0) system registers the RMM saves on REC exit and restores on
/// REC entry, in the order of [`Rec::el1`].
pub const EL1_REGS: [SysReg; 28] = [
    SysReg::SCTLR_EL1,
    SysReg::TCR_EL1,
    SysReg::TTBR0_EL1,
    SysReg::TTBR1_EL1,
    SysReg::MAIR_EL1,
    SysReg::AMAIR_EL1,
    SysReg::VBAR_EL1,
    SysReg::ELR_EL1,
    SysReg::SPSR_EL1,
    SysReg::ESR_EL1,
    SysReg::FAR_EL1,
    SysReg::AFSR0_EL1,
    SysReg::AFSR1_EL1,
    SysReg::CONTEXTIDR_EL1,
    SysReg::CPACR_EL1,
    SysReg::CSSELR_EL1,
    SysReg::PAR_EL1,
    SysReg::SP_EL0,
    SysReg::SP_EL1,
    SysReg::TPIDR_EL0,
    SysReg::TPIDRRO_EL0,
    SysReg::TPIDR_EL1,
    SysReg::CNTKCTL_EL1,
    SysReg::MDSCR_EL1,
    SysReg::CNTV_CTL_EL0,
    SysReg::CNTV_CVAL_EL0,
    SysReg::CNTP_CTL_EL0,
    SysReg::CNTP_CVAL_EL0,
];

/// Index of a register in [`EL1_REGS`].
pub const fn el1_index(reg: SysReg) -> usize {
    let mut i = 0;
    while i < EL1_REGS.len() {
        if EL1_REGS[i] as u16 == reg as u16 {
            return i;
        }
        i += 1;
    }
    panic!("not a saved EL1 register")
}

/// SCTLR_EL1 at REC creation: its RES1 bits, MMU and caches off.
pub const SCTLR_EL1_RESET: u64 = 0x30D0_0800;
/// PSTATE at REC creation: EL1h, all exceptions masked.
pub const PSTATE_EL1H_MASKED: u64 = 0x3C5;

rmi_abi::abi_enum! {
    /// Why the REC last exited, as far as the next entry needs to know.
    pub enum LastExit: u8 {
        /// Nothing the next entry completes.
        Other = 0,
        /// An emulatable data abort (unprotected IPA, valid syndrome).
        EmulatableAbort = 1,
        /// A data abort at an unprotected IPA without a valid syndrome.
        UnprotectedAbort = 2,
        /// A PSCI call forwarded to the host.
        Psci = 3,
        /// A host call.
        HostCall = 4,
        /// A RIPAS change request.
        RipasChange = 5,
    }
}

/// The REC as stored at the start of the REC granule.
#[derive(Clone, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct Rec {
    /// The realm's FP/SIMD registers while the REC is not running (first: 16-byte
    /// aligned at the start of the granule, as the save/restore code needs).
    pub fp: FpRegs,
    /// The owning realm's RD.
    pub rd: u64,
    /// The REC's index in its realm (creation order).
    pub index: u64,
    /// The `RmiRecMpidr` value it was created with.
    pub mpidr: u64,
    /// 1 if the REC is RUNNABLE.
    pub runnable: u8,
    /// [`LastExit`] encoding.
    pub last_exit: u8,
    /// 1 while a PSCI request naming another REC awaits RMI_PSCI_COMPLETE.
    pub psci_pending: u8,
    /// 1 while a host call awaits the next entry.
    pub host_call_pending: u8,
    /// 1 while a RIPAS change request awaits the host's response.
    pub ripas_pending: u8,
    /// RSI_IPA_STATE_SET's `CHANGE_DESTROYED` flag of the pending request.
    pub ripas_change_destroyed: u8,
    /// RIPAS requested.
    pub ripas_value: u8,
    /// The EL1 timers' outputs as the host last saw them in an exit record: bit 0 the
    /// virtual timer, bit 1 the physical timer (asserted = ENABLE, ISTATUS, not IMASK).
    pub timer_asserted: u8,
    /// Program counter on next entry.
    pub pc: u64,
    /// PSTATE on next entry.
    pub pstate: u64,
    /// General-purpose registers x0..x30.
    pub gprs: [u64; 31],
    /// Saved EL1 registers, in [`EL1_REGS`] order.
    pub el1: [u64; 32],
    /// GIC virtual CPU interface state.
    pub vgic: vgic::VgicState,
    /// ESR_EL2 of the last exit (for completing an emulated access).
    pub last_esr: u64,
    /// With FEAT_RAS: the realm's DISR_EL1, which is VDISR_EL2 while it runs
    /// (HCR_EL2.AMO): zero for a new REC, kept across exits and CPUs.
    pub vdisr: u64,
    /// Unused: keeps the size a multiple of the structure's 16-byte alignment (no
    /// padding, which `IntoBytes` refuses).
    pub reserved: u64,
    /// How far the pending RIPAS change has got (the spec's `rec.ripas_addr`): the
    /// base of the part not yet changed.
    pub ripas_base: u64,
    /// Top of the pending RIPAS change.
    pub ripas_top: u64,
    /// IPA of the RsiHostCall structure of the pending host call.
    pub host_call_ipa: u64,
    /// MPIDR named by the pending PSCI request.
    pub psci_target: u64,
    /// Number of auxiliary granules.
    pub num_aux: u64,
    /// Auxiliary granules.
    pub aux: [u64; REC_PARAMS_AUX_GRANULES_MAX],
    /// The SMCs the REC's realm made, by kind (reported at RMI_REC_DESTROY).
    pub smc_calls: SmcCounts,
}

#[derive(FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
struct RecGranule {
    rec: Rec,
    _rest: [u8; 4096 - core::mem::size_of::<Rec>()],
}

/// The REC in a mapped REC granule.
pub fn rec_mut(g: &mut GranuleMem) -> &mut Rec {
    let page: &mut RecGranule = zerocopy::transmute_mut!(g);
    &mut page.rec
}

impl Rec {
    /// The [`LastExit`] recorded.
    pub fn last_exit(&self) -> LastExit {
        LastExit::decode(self.last_exit.into()).unwrap_or(LastExit::Other)
    }

    /// Resets the execution state of a new REC: the given PC and x0..x7, EL1h with
    /// exceptions masked, EL1 registers at their reset values, GIC state empty.
    pub fn reset(&mut self, pc: u64, args: &[u64; 8]) {
        self.pc = pc;
        self.pstate = PSTATE_EL1H_MASKED;
        self.gprs = [0; 31];
        self.gprs[..8].copy_from_slice(args);
        self.el1 = [0; 32];
        self.el1[el1_index(SysReg::SCTLR_EL1)] = SCTLR_EL1_RESET;
        self.fp = FpRegs::ZERO;
        self.vgic = vgic::VgicState::new();
        self.vdisr = 0;
        self.last_exit = LastExit::Other.raw();
        self.psci_pending = 0;
        self.host_call_pending = 0;
        self.ripas_pending = 0;
        self.smc_calls = SmcCounts::default();
    }
}
