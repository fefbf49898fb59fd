//! `RmiRecRun` (DEN0137 1.0, B4.4.20): the 4 KiB NS granule named by RMI_REC_ENTER
//! `x2`, holding [`RmiRecEnter`] at 0x000 and [`RmiRecExit`] at 0x800.

use crate::rec_enter::RmiRecEnter;
use crate::rec_exit::RmiRecExit;
use crate::GRANULE_SIZE;
use core::mem::{offset_of, size_of};
use static_assertions::const_assert_eq;
use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};

/// Number of general-purpose registers (x0..x30) in `RmiRecEnter.gprs` and
/// `RmiRecExit.gprs`.
pub const REC_RUN_GPRS: usize = 31;

/// Number of GICv3 list registers in `RmiRecEnter.gicv3_lrs` and
/// `RmiRecExit.gicv3_lrs`; RMI_FEATURES `GICV3_NUM_LRS` + 1 of them are used.
pub const REC_GIC_NUM_LRS: usize = 16;

/// DEN0137 1.0, B4.4.20 `RmiRecRun`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct RmiRecRun {
    /// 0x000 `enter`: entry information (Host to RMM).
    pub enter: RmiRecEnter,
    /// 0x800 `exit`: exit information (RMM to Host).
    pub exit: RmiRecExit,
}

const_assert_eq!(size_of::<RmiRecRun>(), GRANULE_SIZE);
const_assert_eq!(offset_of!(RmiRecRun, enter), 0x000);
const_assert_eq!(offset_of!(RmiRecRun, exit), 0x800);

impl Default for RmiRecRun {
    /// All zero.
    fn default() -> Self {
        Self::new_zeroed()
    }
}
