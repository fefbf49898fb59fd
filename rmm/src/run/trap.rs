//! Handling an exception the realm took to EL2 (DEN0137 1.0, A4.3.4).

use core::ops::Deref;

use platform::{Arch, RealmTrap, SysReg};

use super::exit::esr;
use super::inject::Injection;
use super::realm_mem::RealmMemError;
use super::{RunCtx, Step};
use crate::granule::Granule;
use crate::rec::LastExit;
use crate::Rmm;

/// ESR_EL2 exception classes the RMM handles.
mod ec {
    pub const WFX: u64 = 0x01;
    pub const SMC64: u64 = 0x17;
    pub const IABT_LOWER: u64 = 0x20;
    pub const DABT_LOWER: u64 = 0x24;
}

impl<A: Arch, S: Deref<Target = [Granule]>> Rmm<A, S> {
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
        match (e & esr::EC_MASK) >> 26 {
            ec::SMC64 => {
                // A trapped SMC returns to the instruction itself: step over it.
                ctx.regs.pc += 4;
                self.handle_smc(ctx)
            }
            ec::WFX => {
                ctx.regs.pc += 4;
                ctx.exit_wfx(e);
                Step::Exit
            }
            ec::DABT_LOWER | ec::IABT_LOWER => self.handle_abort(ctx, e),
            _ => {
                // Anything else the realm cannot do: an Undefined exception to the realm
                // would be right; until then, report it to the host as is.
                ctx.exit_abort(e, 0, false);
                Step::Exit
            }
        }
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
                ctx.rec.last_exit = LastExit::EmulatableAbort as u8;
                ctx.rec.last_esr = e;
                ctx.exit_emulatable_abort(e, far, hpfar, written);
            } else {
                ctx.rec.last_exit = LastExit::UnprotectedAbort as u8;
                ctx.rec.last_esr = e;
                ctx.exit_abort(e, hpfar, true);
            }
            return Step::Exit;
        }
        // Protected: what the RTT says decides.
        match self.realm_pa(ctx.rd, ipa) {
            // Mapped after all (another CPU just mapped it): run again.
            Ok(_) => Step::Resume,
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
