//! Completing the previous REC exit on entry (DEN0137 1.0, A4.2): emulated MMIO,
//! injected SEA, RIPAS change results, PSCI results, host call results.

use crate::Storage;

use platform::Arch;
use rmi_abi::enums::{RmiResponse, RmiRipas};
use rmi_abi::flags::RmiRecEnterFlags;
use rmi_abi::RmiRecEnter;
use rsi_abi::host_call::HOST_CALL_GPRS;
use rsi_abi::{RsiResponse, RsiStatus};
use zerocopy::IntoBytes;

use super::exit::esr;
use super::inject::Injection;
use super::realm_mem::RealmMemError;
use super::{RunCtx, Step};
use crate::rec::LastExit;
use crate::Rmm;

/// Offset of `gprs` in RsiHostCall.
const HOST_CALL_GPRS_OFFSET: u64 = 8;

/// The value a load of the size and signedness in `esr` puts in its 64- or 32-bit
/// target register, from the host's `value` (Arm ARM: LDR/LDRS*, ESR ISS SAS/SSE/SF).
pub fn extend_load(esr_el2: u64, value: u64) -> u64 {
    let bits = 8u32 << ((esr_el2 & esr::SAS_MASK) >> 22);
    let v = if bits == 64 {
        value
    } else {
        value & ((1u64 << bits) - 1)
    };
    let v = if esr_el2 & esr::SSE != 0 && bits < 64 && v >> (bits - 1) & 1 == 1 {
        v | !((1u64 << bits) - 1)
    } else {
        v
    };
    if esr_el2 & esr::SF != 0 {
        v
    } else {
        v & 0xFFFF_FFFF
    }
}

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// Applies what the host supplied for the previous exit. Returns `Step::Exit` if
    /// completing it needs the host again (the host call results cannot be written).
    pub(super) fn complete_previous_exit(
        &self,
        ctx: &mut RunCtx<'_>,
        enter: &RmiRecEnter,
        flags: RmiRecEnterFlags,
    ) -> Step {
        let last = ctx.rec.last_exit();
        ctx.rec.last_exit = LastExit::Other.raw();
        let abort_at_unprotected =
            matches!(last, LastExit::EmulatableAbort | LastExit::UnprotectedAbort);
        if flags.inject_sea() && abort_at_unprotected {
            // A4.2.3: a synchronous external abort instead of the access; emul_mmio is
            // ignored. The REC does not keep the faulting VA of the exit, so FAR_EL1 is
            // reported not valid (ESR_EL1.FnV).
            let write = ctx.rec.last_esr & esr::WNR != 0;
            self.inject(ctx, Injection::DataAbort { far: None, write });
        } else if flags.emul_mmio() && last == LastExit::EmulatableAbort {
            let e = ctx.rec.last_esr;
            if e & esr::WNR == 0 {
                let srt = ((e >> esr::SRT_SHIFT) & 0x1F) as usize;
                if srt != 31 {
                    ctx.regs.gprs[srt] = extend_load(e, enter.gprs[0]);
                }
            }
            ctx.step_over(e);
        }

        // ---- RSI_IPA_STATE_SET (A5.4, B5.3.6, B3.40 RecRipasChangeResponse) ----
        if ctx.rec.ripas_pending != 0 {
            // x1 = new_base: how far RMI_RTT_SET_RIPAS got (rec.ripas_addr). x2 = the
            // response: REJECT only for a request to RAM that is not complete and that
            // the host rejected with enter.flags.ripas_response.
            let rec = &mut *ctx.rec;
            let reject = rec.ripas_value == RmiRipas::Ram.raw()
                && rec.ripas_base != rec.ripas_top
                && flags.ripas_response() == RmiResponse::Reject;
            let response = if reject {
                RsiResponse::Reject
            } else {
                RsiResponse::Accept
            };
            ctx.regs.gprs[0] = RsiStatus::Success.raw();
            ctx.regs.gprs[1] = rec.ripas_base;
            ctx.regs.gprs[2] = response.raw() as u64;
            // A4.3.8: on any later exit rec.ripas_addr and rec.ripas_top are zero, so
            // RMI_RTT_SET_RIPAS names no request until the next RSI_IPA_STATE_SET.
            rec.ripas_pending = 0;
            rec.ripas_base = 0;
            rec.ripas_top = 0;
            rec.ripas_value = 0;
            rec.ripas_change_destroyed = 0;
        }

        // ---- PSCI (A4.2.2) ----
        // After a REC exit due to PSCI, x0..x6 already hold the PSCI results in the REC:
        // the exit wrote them for the calls the host does not complete, and
        // RMI_PSCI_COMPLETE wrote them for the others (RMI_REC_ENTER refuses the REC
        // until then: rec_psci). x7..x30 are the REC's.
        debug_assert!(last != LastExit::Psci || ctx.rec.psci_pending == 0);

        // ---- RSI_HOST_CALL (A4.2.2, A4.5) ----
        if ctx.rec.host_call_pending != 0 {
            // A4.2.2: the host's x0..x30 go to the realm's RsiHostCall structure.
            let gprs: &[u64; HOST_CALL_GPRS] = &enter.gprs;
            let ipa = ctx.rec.host_call_ipa + HOST_CALL_GPRS_OFFSET;
            match self.realm_write(ctx.rd, ipa, gprs.as_bytes()) {
                Ok(()) => ctx.rec.host_call_pending = 0,
                Err(e) => {
                    // Still pending: the host maps the structure and enters again.
                    let level = match e {
                        RealmMemError::Unmapped(level) => level,
                        RealmMemError::Empty => crate::rtt::geometry::PAGE_LEVEL,
                    };
                    ctx.exit_rsi_stage2_fault(ipa, level);
                    return Step::Exit;
                }
            }
        }
        Step::Resume
    }
}
