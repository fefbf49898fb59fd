//! PSCI calls from realms (DEN0137 1.0, B6): answered in the RMM where the spec says so.

use core::ops::Deref;

use platform::Arch;
use smccc::psci;

use crate::granule::Granule;
use crate::run::{RunCtx, Step};
use crate::Rmm;

/// The PSCI version realms see: 1.1.
pub const PSCI_VERSION_1_1: u64 = 0x1_0001;

impl<A: Arch, S: Deref<Target = [Granule]>> Rmm<A, S> {
    /// Handles `fid` if it is a PSCI function this RMM answers itself; `None` for any
    /// other SMC.
    pub(super) fn handle_psci(&self, ctx: &mut RunCtx<'_>, fid: u64) -> Option<Step> {
        if fid == psci::PSCI_VERSION as u64 {
            return Some(ctx.ret(PSCI_VERSION_1_1));
        }
        if fid == psci::PSCI_FEATURES as u64 {
            let f = ctx.arg(1);
            let supported = f == psci::PSCI_VERSION as u64 || f == psci::PSCI_FEATURES as u64;
            let r = if supported {
                0
            } else {
                psci::error::NOT_SUPPORTED as i64 as u64
            };
            return Some(ctx.ret(r));
        }
        None
    }
}
