//! `RmiRecEnter` (DEN0137 1.0, B4.4.14): the first half (offset 0x000) of `RmiRecRun`,
//! written by the Host before RMI_REC_ENTER. Offsets checked against the spec table and
//! Linux `rmi_smc.h` `struct rec_enter`. "Unused bits of the RmiRecEnter structure SBZ".

use crate::rec_run::{REC_GIC_NUM_LRS, REC_RUN_GPRS};
use core::fmt;
use core::mem::{offset_of, size_of};
use static_assertions::const_assert_eq;
use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};

/// DEN0137 1.0, B4.4.14 `RmiRecEnter` (2048 bytes).
#[derive(Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct RmiRecEnter {
    /// 0x000 `flags`: `RmiRecEnterFlags`.
    pub flags: u64,
    _pad0: [u8; 0x1F8],
    /// 0x200 `gprs[0..31]` (Bits64): x0..x30 values supplied by the Host.
    pub gprs: [u64; REC_RUN_GPRS],
    _pad1: [u8; 0x8],
    /// 0x300 `gicv3_hcr` (Bits64): GICv3 Hypervisor Control Register value.
    pub gicv3_hcr: u64,
    /// 0x308 `gicv3_lrs[0..16]` (Bits64): GICv3 List Register values.
    pub gicv3_lrs: [u64; REC_GIC_NUM_LRS],
    _pad2: [u8; 0x800 - 0x388],
}

const_assert_eq!(size_of::<RmiRecEnter>(), 0x800);
const_assert_eq!(offset_of!(RmiRecEnter, flags), 0x000);
const_assert_eq!(offset_of!(RmiRecEnter, gprs), 0x200);
const_assert_eq!(offset_of!(RmiRecEnter, gicv3_hcr), 0x300);
const_assert_eq!(offset_of!(RmiRecEnter, gicv3_lrs), 0x308);

impl RmiRecEnter {
    /// Bytes from the start of the structure that hold every field DEN0137 1.0
    /// defines (to the end of `gicv3_lrs`); the rest is reserved, and a reader need not
    /// copy it.
    pub const DEFINED_LEN: usize = 0x388;
}

const_assert_eq!(
    RmiRecEnter::DEFINED_LEN,
    offset_of!(RmiRecEnter, gicv3_lrs) + size_of::<[u64; REC_GIC_NUM_LRS]>()
);

impl Default for RmiRecEnter {
    /// All zero.
    fn default() -> Self {
        Self::new_zeroed()
    }
}

impl fmt::Debug for RmiRecEnter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RmiRecEnter")
            .field("flags", &self.flags)
            .field("gprs", &self.gprs)
            .field("gicv3_hcr", &self.gicv3_hcr)
            .field("gicv3_lrs", &self.gicv3_lrs)
            .finish_non_exhaustive()
    }
}
