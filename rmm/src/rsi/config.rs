//! RSI_REALM_CONFIG.

use crate::Storage;

use core::mem::offset_of;

use platform::Arch;
use rsi_abi::{RsiRealmConfig, RsiStatus};

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
        // Written in place, field by field: the buffer is a whole granule of the realm's.
        let ipa_width = ctx.realm.geometry.ipa_bits as u64;
        let hash_algo = ctx.realm.hash_algo.raw();
        let written = self.with_realm_granule(ctx.rd, ipa, |page| {
            page.zero();
            page.write(
                offset_of!(RsiRealmConfig, ipa_width),
                &ipa_width.to_le_bytes(),
            );
            page.write(offset_of!(RsiRealmConfig, hash_algo), &[hash_algo]);
            page.write(offset_of!(RsiRealmConfig, rpv), &rpv);
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
