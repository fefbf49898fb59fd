//! RSI_IPA_STATE_GET and RSI_IPA_STATE_SET (DEN0137 1.0, B5.3.5, B5.3.6, A5.4).
//!
//! RSI_IPA_STATE_SET does not change anything itself: it records the request in the REC
//! and exits to the host (A4.3.8), which applies it with RMI_RTT_SET_RIPAS; the result
//! reaches the realm on the next RMI_REC_ENTER (`complete_previous_exit`).

use crate::Storage;

use platform::Arch;
use rmi_abi::enums::RmiRipas;
use rsi_abi::{RsiRipas, RsiRipasChangeFlags, RsiStatus};

use crate::rec::LastExit;
use crate::rtt::geometry::PAGE_LEVEL;
use crate::rtt::walk::walk;
use crate::rtt::{RttGeometry, Rtte};
use crate::run::{RunCtx, Step};
use crate::Rmm;

/// The granule size, the alignment RSI_IPA_STATE_* require.
const GRANULE: u64 = 4096;

/// DEN0137 1.0, B3.6 `AddrRangeIsProtected`: `[base, top)` is a non-empty range of
/// Protected IPAs.
pub fn range_is_protected(geo: &RttGeometry, base: u64, top: u64) -> bool {
    top > base && geo.is_protected(base) && geo.is_protected(top - 1)
}

/// The range checks RSI_IPA_STATE_GET and RSI_IPA_STATE_SET share, in the
/// specification's order (all RSI_ERROR_INPUT): `base` granule aligned, `top` granule
/// aligned, `top > base`, the whole range protected.
fn range_valid(geo: &RttGeometry, base: u64, top: u64) -> bool {
    base.is_multiple_of(GRANULE)
        && top.is_multiple_of(GRANULE)
        && top > base
        && range_is_protected(geo, base, top)
}

/// The RIPAS of an RTT entry at a Protected IPA (`None` for a TABLE entry, or an NS
/// state, which a Protected IPA never has).
pub fn entry_ripas(e: Rtte) -> Option<RmiRipas> {
    match e {
        Rtte::Unassigned(r) | Rtte::Assigned { ripas: r, .. } => Some(r),
        _ => None,
    }
}

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// DEN0137 1.0, B5.3.5 RSI_IPA_STATE_GET (x1 base, x2 top); returns x1 = out_top and
    /// x2 = the RIPAS of every IPA in `[base, out_top)`, with `base < out_top <= top`.
    ///
    /// Failure conditions (RSI_ERROR_INPUT), in the specification's order: base_align,
    /// end_align, size_valid, rgn_bound.
    ///
    /// `out_top` is the end of the run of entries with the same RIPAS as the one at
    /// `base`, within the RTT the walk to `base` reached (at most one RTT is scanned, so
    /// the call is bounded); the realm calls again from `out_top` for the rest.
    pub(super) fn rsi_ipa_state_get(&self, ctx: &mut RunCtx<'_>) -> Step {
        let (base, top) = (ctx.arg(1), ctx.arg(2));
        // base_align, end_align, size_valid, rgn_bound
        if !range_valid(&ctx.realm.geometry, base, top) {
            return ctx.ret_status(RsiStatus::ErrorInput);
        }
        let (out_top, ripas) = self.ripas_run(ctx, base, top);
        ctx.regs.gprs[1] = out_top;
        ctx.regs.gprs[2] = RsiRipas::from(ripas).raw() as u64;
        ctx.ret_status(RsiStatus::Success)
    }

    /// The RIPAS at the Protected IPA `base` and the end of the run of entries sharing
    /// it in the RTT the walk reached, capped at `top`. Locks the RD, then walks.
    fn ripas_run(&self, ctx: &RunCtx<'_>, base: u64, top: u64) -> (u64, RmiRipas) {
        let mut rd = self.lock_running_rd(ctx.rd);
        let realm = self.realm_info(&mut rd);
        let mut w = walk(&self.arch, &self.granules, &realm, base, PAGE_LEVEL);
        let ripas = entry_ripas(w.entry())
            .unwrap_or_else(|| panic!("protected IPA {base:#x} has RTT entry {:?}", w.entry()));
        let end = w.scan_until(&self.arch, base, top, |e| entry_ripas(e) != Some(ripas));
        (end, ripas)
    }

    /// DEN0137 1.0, B5.3.6 RSI_IPA_STATE_SET (x1 base, x2 top, x3 RIPAS, x4 flags).
    ///
    /// Failure conditions (RSI_ERROR_INPUT), in the specification's order: base_align,
    /// top_align, size_valid, rgn_bound, ripas_valid (EMPTY or RAM only).
    ///
    /// On success the request is recorded in the REC (`rec.ripas_addr` = `base`,
    /// `rec.ripas_top`, `rec.ripas_value`, `rec.ripas_destroyed`) and the REC exits due
    /// to RIPAS change pending (A4.3.8). The command completes on the next entry: x0 =
    /// RSI_SUCCESS, x1 = `new_base` (how far the host got), x2 = the response.
    ///
    /// The spec types `ripas` as X3\[7:0\] and `flags` as the `RsiRipasChangeFlags`
    /// fieldset; the other bits are SBZ with no failure condition, so they are ignored.
    pub(super) fn rsi_ipa_state_set(&self, ctx: &mut RunCtx<'_>) -> Step {
        let (base, top) = (ctx.arg(1), ctx.arg(2));
        let ripas = ctx.arg(3) & 0xFF;
        let flags = RsiRipasChangeFlags::decode(ctx.arg(4) & RsiRipasChangeFlags::DEFINED)
            .unwrap_or(RsiRipasChangeFlags::ZERO);
        // base_align, top_align, size_valid, rgn_bound
        if !range_valid(&ctx.realm.geometry, base, top) {
            return ctx.ret_status(RsiStatus::ErrorInput);
        }
        // ripas_valid
        let value = match RsiRipas::decode(ripas) {
            Ok(RsiRipas::Empty) => RmiRipas::Empty,
            Ok(RsiRipas::Ram) => RmiRipas::Ram,
            _ => return ctx.ret_status(RsiStatus::ErrorInput),
        };
        let rec = &mut *ctx.rec;
        rec.ripas_pending = 1;
        rec.ripas_base = base;
        rec.ripas_top = top;
        rec.ripas_value = value.raw();
        rec.ripas_change_destroyed = flags.change_destroyed() as u8;
        rec.last_exit = LastExit::RipasChange.raw();
        ctx.exit_ripas_change(base, top, value);
        Step::Exit
    }
}
