//! Handling an exception the realm took to EL2 (DEN0137 1.0, A4.3.4).

use crate::Storage;

use platform::{Arch, RealmTrap, Stage2Scope, SysReg, SysRegEncoding};

use super::debug_regs;
use super::exit::esr;
use super::id_regs;
use super::inject::Injection;
use super::realm_mem::RealmMemError;
use super::{RunCtx, Step};
use crate::rec::LastExit;
use crate::Rmm;

/// ESR_EL2 exception classes a realm can cause at R-EL2 with [`super::HCR_REALM`]
/// (Arm ARM, ESR_EL2.EC). Any other class is not the realm's to cause: it gets an
/// Undefined Instruction exception.
mod ec {
    /// Trapped WFI/WFE (HCR_EL2.TWI/TWE, when the host asks for them).
    pub const WFX: u64 = 0x01;
    /// HVC from AArch64: always taken to EL2; realms use the SMC conduit (DEN0137 1.0,
    /// B1.1), so the RMM treats HVC as UNDEFINED.
    pub const HVC64: u64 = 0x16;
    /// SMC from AArch64, trapped by HCR_EL2.TSC: RSI, PSCI, SMCCC.
    pub const SMC64: u64 = 0x17;
    /// Trapped MSR/MRS: with HCR_EL2.TID3, reads of the feature ID registers; with
    /// MDCR_EL2.TDA/TDOSA/TDRA, the debug registers; with CPTR_EL2.TTA, the trace
    /// unit's registers; with
    /// HCR_EL2.IMO/FMO set, writes to the GIC SGI generation registers; with
    /// ICH_HCR_EL2.TDIR (the host may set it), writes to ICC_DIR_EL1.
    pub const SYSREG: u64 = 0x18;
    /// Instruction abort from a lower EL (stage 2).
    pub const IABT_LOWER: u64 = 0x20;
    /// Data abort from a lower EL (stage 2).
    pub const DABT_LOWER: u64 = 0x24;
}

/// ESR_EL2.EC of an HVC from AArch64 ([`ec::HVC64`]).
pub(super) const EC_HVC64: u64 = ec::HVC64;

/// ESR_EL2.ISS of a trapped SMC: imm16 [15:0].
const SMC_IMM_MASK: u64 = 0xFFFF;

/// A trapped MSR/MRS (ESR_EL2.EC 0x18): its ISS fields (Arm ARM, "ISS encoding for an
/// exception from MSR, MRS, or System instruction execution in AArch64 state").
mod sysreg_iss {
    /// Op0 [21:20], Op2 [19:17], Op1 [16:14], CRn [13:10], CRm [4:1]: the register.
    pub const REG_MASK: u64 = 0x3 << 20 | 0x7 << 17 | 0x7 << 14 | 0xF << 10 | 0xF << 1;
    /// Rt [9:5].
    pub const RT_SHIFT: u32 = 5;
    /// Rt [9:5], as a mask.
    pub const RT_MASK: u64 = 0x1F << RT_SHIFT;
    /// Direction [0]: 1 for a read (MRS).
    pub const READ: u64 = 1;

    /// The REG_MASK bits of the register `S<op0>_<op1>_C<crn>_C<crm>_<op2>`.
    pub const fn reg(op0: u64, op1: u64, crn: u64, crm: u64, op2: u64) -> u64 {
        op0 << 20 | op2 << 17 | op1 << 14 | crn << 10 | crm << 1
    }

    /// The trapped registers whose writes the host emulates (GICv3 architecture: with
    /// HCR_EL2.IMO/FMO set, EL1 writes to ICC_SGI1R_EL1, ICC_ASGI1R_EL1 and
    /// ICC_SGI0R_EL1 trap to EL2; with ICH_HCR_EL2.TDIR, writes to ICC_DIR_EL1 do).
    pub const HOST_EMULATED_WRITES: [u64; 4] = [
        reg(3, 0, 12, 11, 5), // ICC_SGI1R_EL1
        reg(3, 0, 12, 11, 6), // ICC_ASGI1R_EL1
        reg(3, 0, 12, 11, 7), // ICC_SGI0R_EL1
        reg(3, 0, 12, 11, 1), // ICC_DIR_EL1
    ];
}

/// A stage-2 fault status code (ESR_EL2.DFSC/IFSC [5:0]), as far as the RMM's
/// handling of a protected-IPA abort tells them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FaultStatus {
    /// Translation fault, level -1..3 (0b0001LL, 0b101011).
    Translation,
    /// TLB conflict abort (0b110000).
    TlbConflict,
    /// Anything else: address size, access flag or permission fault, alignment
    /// fault, synchronous external abort or parity/ECC error (on the access or on the
    /// walk), granule protection fault, unsupported atomic update, IMPLEMENTATION
    /// DEFINED faults.
    Other,
}

impl FaultStatus {
    fn of(esr_el2: u64) -> Self {
        match esr_el2 & esr::FSC_MASK {
            0b00_0100..=0b00_0111 | 0b10_1011 => FaultStatus::Translation,
            0b11_0000 => FaultStatus::TlbConflict,
            _ => FaultStatus::Other,
        }
    }
}

/// Size of an A64 instruction.
const A64_INSN_SIZE: u64 = 4;

/// The length of the instruction an exception with syndrome `esr_el2` was taken on
/// (Arm ARM, ESR_ELx.IL): 2 bytes for a 16-bit T32 instruction (IL 0; a realm's EL0 may
/// run AArch32), else 4.
pub(crate) fn insn_size(esr_el2: u64) -> u64 {
    if esr_el2 & esr::IL != 0 {
        4
    } else {
        2
    }
}

impl RunCtx<'_> {
    /// Moves the realm's PC past the instruction it trapped on, whose syndrome is
    /// `esr_el2`: by its length ([`insn_size`]). The PC wraps at the top of the address
    /// space, as the PE's does.
    pub(crate) fn step_over(&mut self, esr_el2: u64) {
        self.regs.pc = self.regs.pc.wrapping_add(insn_size(esr_el2));
    }

    /// Writes general-purpose register `rt` of the realm as an instruction with that
    /// destination does: x31 (XZR) discards the value.
    pub(crate) fn write_gpr(&mut self, rt: usize, value: u64) {
        if let Some(r) = self.regs.gprs.get_mut(rt) {
            *r = value;
        }
    }

    /// Moves the realm's PC back to the instruction before it (an SMC that is to be
    /// executed again, an HVC whose exception returns to it), wrapping like
    /// [`RunCtx::step_over`]. Both are A64 instructions: ESR_EL2.EC 0x17 and 0x16 are
    /// taken from AArch64 state only (SMC and HVC are UNDEFINED at EL0, the one EL a
    /// realm may run in AArch32), so the instruction is 4 bytes.
    pub(crate) fn step_back(&mut self) {
        self.regs.pc = self.regs.pc.wrapping_sub(A64_INSN_SIZE);
    }
}

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// Decides what an exception taken from the realm leads to.
    pub(super) fn handle_trap(&self, ctx: &mut RunCtx<'_>, trap: RealmTrap) -> Step {
        match trap {
            RealmTrap::Irq => {
                ctx.exit_interrupt(false);
                Step::Exit
            }
            RealmTrap::Fiq => {
                ctx.exit_interrupt(true);
                Step::Exit
            }
            RealmTrap::SError => {
                let e = self.arch.read_sysreg(ctx.cpu, SysReg::ESR_EL2);
                ctx.exit_serror(e);
                Step::Exit
            }
            RealmTrap::Sync => self.handle_sync(ctx),
        }
    }

    fn handle_sync(&self, ctx: &mut RunCtx<'_>) -> Step {
        let e = self.arch.read_sysreg(ctx.cpu, SysReg::ESR_EL2);
        let class = (e & esr::EC_MASK) >> 26;
        // The SMC first: the exception class of every RSI call.
        if class == ec::SMC64 {
            // A trapped SMC returns to the instruction itself: step over it. EC 0x17 is
            // taken from AArch64 state only, so the SMC is an A64 instruction (IL 1).
            ctx.regs.pc = ctx.regs.pc.wrapping_add(A64_INSN_SIZE);
            if e & SMC_IMM_MASK != 0 {
                // SMCCC calls use SMC #0; no function is reached through another
                // immediate.
                return ctx.ret(crate::rsi::SMCCC_NOT_SUPPORTED);
            }
            return self.handle_smc(ctx);
        }
        self.handle_other_sync(ctx, e, class)
    }

    /// A synchronous exception other than an SMC. Out of line, so that the SMC's test
    /// stays one compare instead of joining this decision tree.
    #[inline(never)]
    fn handle_other_sync(&self, ctx: &mut RunCtx<'_>, e: u64, class: u64) -> Step {
        match class {
            ec::WFX => {
                ctx.step_over(e);
                ctx.exit_wfx(e);
                Step::Exit
            }
            ec::DABT_LOWER | ec::IABT_LOWER => self.handle_abort(ctx, e),
            ec::HVC64 => {
                // HVC is taken to EL2 with ELR_EL2 past it; as an UNDEFINED instruction
                // it returns to itself.
                ctx.step_back();
                self.inject(ctx, Injection::Undefined);
                Step::Resume
            }
            ec::SYSREG => self.handle_sysreg(ctx, e),
            _ => {
                // Nothing else is the realm's to cause with HCR_REALM: the instruction is
                // UNDEFINED for it (a trap returns to the instruction itself).
                self.inject(ctx, Injection::Undefined);
                Step::Resume
            }
        }
    }

    /// A trapped MSR/MRS: a read of a feature ID register gets the realm's value
    /// ([`id_regs`]) in Rt, and the realm continues past it; a debug register is RAZ/WI
    /// ([`debug_regs`]), the realm continuing past the access; a write to a GIC register
    /// the host emulates exits to the host with the syndrome (Rt cleared) and the value
    /// written in `gprs[0]`, the realm's PC past the instruction; anything else is
    /// UNDEFINED for the realm.
    fn handle_sysreg(&self, ctx: &mut RunCtx<'_>, e: u64) -> Step {
        let reg = e & sysreg_iss::REG_MASK;
        let write = e & sysreg_iss::READ == 0;
        let rt = ((e & sysreg_iss::RT_MASK) >> sysreg_iss::RT_SHIFT) as usize;
        let enc = SysRegEncoding::from_iss(e);
        if !write && id_regs::is_id_space(enc) {
            let v =
                id_regs::realm_value(enc, &ctx.realm, id_regs::Offered::on(&self.features), |r| {
                    self.arch.read_sysreg(ctx.cpu, r)
                });
            ctx.write_gpr(rt, v);
            ctx.step_over(e);
            return Step::Resume;
        }
        if debug_regs::is_raz_wi(enc) {
            if !write {
                ctx.write_gpr(rt, debug_regs::read_value(enc));
            }
            ctx.step_over(e);
            return Step::Resume;
        }
        if !(write && sysreg_iss::HOST_EMULATED_WRITES.contains(&reg)) {
            self.inject(ctx, Injection::Undefined);
            return Step::Resume;
        }
        let value = if rt == 31 { 0 } else { ctx.regs.gprs[rt] };
        ctx.step_over(e);
        ctx.exit.exit_reason = rmi_abi::enums::RmiRecExitReason::Sync.raw();
        ctx.exit.esr = e & !sysreg_iss::RT_MASK;
        ctx.exit.gprs[0] = value;
        Step::Exit
    }

    /// DEN0137 1.0, A5.2.7/A5.2.8 and A4.3.4.2/A4.3.4.3: stage-2 aborts.
    fn handle_abort(&self, ctx: &mut RunCtx<'_>, e: u64) -> Step {
        let far = self.arch.read_sysreg(ctx.cpu, SysReg::FAR_EL2);
        let hpfar = self.arch.read_sysreg(ctx.cpu, SysReg::HPFAR_EL2);
        let ipa = (hpfar >> 4) << 12 | (far & 0xFFF);
        let geo = ctx.realm.geometry;
        // Outside the IPA space: SEA to the realm.
        if !geo.in_range(ipa) {
            self.inject(ctx, abort_injection(e, far));
            return Step::Resume;
        }
        let is_iabt = (e & esr::EC_MASK) >> 26 == ec::IABT_LOWER;
        if !geo.is_protected(ipa) {
            // A5.2.6: the realm may not execute from an unprotected IPA: SEA.
            if is_iabt {
                self.inject(ctx, abort_injection(e, far));
                return Step::Resume;
            }
            if e & esr::ISV != 0 {
                let written = if e & esr::WNR != 0 {
                    let srt = ((e >> esr::SRT_SHIFT) & 0x1F) as usize;
                    let v = if srt == 31 { 0 } else { ctx.regs.gprs[srt] };
                    let bits = 8u32 << ((e & esr::SAS_MASK) >> 22);
                    if bits == 64 {
                        v
                    } else {
                        v & ((1u64 << bits) - 1)
                    }
                } else {
                    0
                };
                ctx.rec.last_exit = LastExit::EmulatableAbort.raw();
                ctx.rec.last_esr = e;
                ctx.exit_emulatable_abort(e, far, hpfar, written);
            } else {
                ctx.rec.last_exit = LastExit::UnprotectedAbort.raw();
                ctx.rec.last_esr = e;
                ctx.exit_abort(e, hpfar, true);
            }
            return Step::Exit;
        }
        // Protected: what the RTT says decides.
        match self.ipa_mapping(ctx.rd, ipa) {
            Ok(_) => self.abort_on_assigned_ram(ctx, e, far),
            // RIPAS EMPTY: SEA to the realm.
            Err(RealmMemError::Empty) => {
                self.inject(ctx, abort_injection(e, far));
                Step::Resume
            }
            // UNASSIGNED RAM or DESTROYED: the host must act (A4.3.4.2 for an instruction
            // abort: EC, SET, EA, IFSC and HPFAR; A4.3.4.3 for a data abort).
            Err(RealmMemError::Unmapped(_)) => {
                ctx.exit_abort(e, hpfar, false);
                Step::Exit
            }
        }
    }

    /// A stage-2 abort at a protected IPA whose RTT entry is ASSIGNED with RIPAS RAM
    /// by the time the RMM looks (DEN0137 1.0, A5.2: the realm may access it):
    ///
    /// - A translation fault: the entry became valid after the walk that faulted
    ///   (another CPU mapped it). Re-executing the access succeeds: the realm resumes.
    /// - A TLB conflict abort: stale translations overlap the valid one. The Arm ARM's
    ///   remedy is TLB invalidation, after which the access can succeed: the RMM
    ///   invalidates the realm's stage-2 translations and the realm resumes.
    /// - Any other fault (address size, access flag, permission, alignment, external
    ///   abort or parity error on the access or on the walk, granule protection fault,
    ///   unsupported atomic update, IMPLEMENTATION DEFINED): re-executing takes the
    ///   same fault for ever, and there is nothing for the host to do about an entry
    ///   that is already valid (an exit would only repeat). The access completes with
    ///   a synchronous external abort to the realm, as an access to RIPAS EMPTY memory
    ///   does, so that the realm can make progress.
    fn abort_on_assigned_ram(&self, ctx: &mut RunCtx<'_>, e: u64, far: u64) -> Step {
        match FaultStatus::of(e) {
            FaultStatus::Translation => {}
            FaultStatus::TlbConflict => self
                .arch
                .invalidate_stage2(ctx.realm.vmid, Stage2Scope::Vmid),
            FaultStatus::Other => self.inject(ctx, abort_injection(e, far)),
        }
        Step::Resume
    }
}

/// The synchronous external abort that reports the realm's stage-2 abort `esr_el2` at
/// `far` to the realm.
fn abort_injection(esr_el2: u64, far: u64) -> Injection {
    if (esr_el2 & esr::EC_MASK) >> 26 == ec::IABT_LOWER {
        Injection::InstructionAbort { far: Some(far) }
    } else {
        Injection::DataAbort {
            far: Some(far),
            write: esr_el2 & esr::WNR != 0,
        }
    }
}
