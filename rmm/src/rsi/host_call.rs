//! RSI_HOST_CALL (DEN0137 1.0, A4.5, B5.3.4).

use crate::Storage;

use platform::Arch;
use rsi_abi::host_call::HOST_CALL_SIZE;
use rsi_abi::{RsiHostCall, RsiStatus};
use zerocopy::{FromZeros, IntoBytes};

use crate::rec::LastExit;
use crate::run::realm_mem::RealmMemError;
use crate::run::{RunCtx, Step};
use crate::Rmm;

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// DEN0137 1.0, RSI_HOST_CALL: x1 = IPA of an RsiHostCall structure (256-byte
    /// aligned, protected). Exits to the host with its immediate and x0..x30; the host's
    /// x0..x30 from the next RMI_REC_ENTER are written back into the structure.
    pub(super) fn rsi_host_call(&self, ctx: &mut RunCtx<'_>) -> Step {
        let ipa = ctx.arg(1);
        if !ipa.is_multiple_of(HOST_CALL_SIZE as u64) || !ctx.realm.geometry.is_protected(ipa) {
            return ctx.ret_status(RsiStatus::ErrorInput);
        }
        let mut call = RsiHostCall::new_zeroed();
        match self.realm_read(ctx.rd, ipa, call.as_mut_bytes()) {
            Ok(()) => {}
            Err(RealmMemError::Empty) => return ctx.ret_status(RsiStatus::ErrorInput),
            Err(RealmMemError::Unmapped(level)) => {
                ctx.step_back();
                ctx.exit_rsi_stage2_fault(ipa, level);
                return Step::Exit;
            }
        }
        ctx.rec.host_call_pending = 1;
        ctx.rec.host_call_ipa = ipa;
        ctx.rec.last_exit = LastExit::HostCall.raw();
        ctx.regs.gprs[0] = RsiStatus::Success.raw();
        ctx.exit_host_call(call.imm, &call.gprs);
        Step::Exit
    }
}
