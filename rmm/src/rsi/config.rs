//! RSI_REALM_CONFIG.

use crate::Storage;

use platform::Arch;
use rsi_abi::{RsiRealmConfig, RsiStatus};
use zerocopy::FromZeros;

use crate::run::realm_mem::RealmMemError;
use crate::run::{RunCtx, Step};
use crate::Rmm;

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// DEN0137 1.0, RSI_REALM_CONFIG: x1 = IPA of a 4 KiB buffer (granule aligned,
    /// protected) that receives the realm's configuration. An unaligned or unprotected
    /// address is ERROR_INPUT; an unmapped one exits to the host with a stage-2 fault
    /// and the call is retried on the next entry.
    pub(super) fn rsi_realm_config(&self, ctx: &mut RunCtx<'_>) -> Step {
        let ipa = ctx.arg(1);
        if !ipa.is_multiple_of(4096) || !ctx.realm.geometry.is_protected(ipa) {
            return ctx.ret_status(RsiStatus::ErrorInput);
        }
        let rpv = self.with_rd(ctx, |d| d.rpv);
        // Built in place: the buffer is a whole granule of the realm's.
        let written = self.with_realm_granule(ctx.rd, ipa, |g, _| {
            let cfg: &mut RsiRealmConfig = zerocopy::transmute_mut!(g);
            cfg.zero();
            cfg.ipa_width = ctx.realm.geometry.ipa_bits as u64;
            cfg.hash_algo = ctx.realm.hash_algo.raw();
            cfg.rpv = rpv;
        });
        match written {
            Ok(()) => ctx.ret_status(RsiStatus::Success),
            Err(RealmMemError::Empty) => ctx.ret_status(RsiStatus::ErrorInput),
            Err(RealmMemError::Unmapped(level)) => {
                ctx.step_back();
                ctx.exit_rsi_stage2_fault(ipa, level);
                Step::Exit
            }
        }
    }
}
