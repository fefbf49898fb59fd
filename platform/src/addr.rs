//! Physical addresses and granule indices.

use core::fmt;

pub use rmi_abi::GRANULE_SIZE;

/// log2 of [`GRANULE_SIZE`].
pub const GRANULE_SHIFT: u32 = 12;

const _: () = assert!(1 << GRANULE_SHIFT == GRANULE_SIZE);

/// A physical address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct PhysAddr(pub u64);

impl PhysAddr {
    /// Whether the address is aligned to a granule.
    pub const fn is_granule_aligned(self) -> bool {
        self.0 & (GRANULE_SIZE as u64 - 1) == 0
    }

    /// The address `bytes` further on, or `None` on overflow.
    pub const fn checked_add(self, bytes: u64) -> Option<Self> {
        match self.0.checked_add(bytes) {
            Some(v) => Some(Self(v)),
            None => None,
        }
    }

    /// The raw value.
    pub const fn raw(self) -> u64 {
        self.0
    }
}

impl fmt::Debug for PhysAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PA {:#x}", self.0)
    }
}

impl fmt::Display for PhysAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// The index of a granule within a contiguous range of granules (for example the RMM's
/// granule metadata array).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct GranuleIdx(pub usize);
