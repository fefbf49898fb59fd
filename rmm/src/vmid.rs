//! VMID allocation: each live realm has its own VMID (DEN0137 1.0, `VmidIsFree`,
//! `VmidIsValid`).

use core::sync::atomic::{AtomicU64, Ordering};

/// The set of VMIDs in use: one bit per 16-bit VMID (8 KiB).
pub struct VmidSet {
    bits: [AtomicU64; 1024],
    width: u32,
}

impl VmidSet {
    /// No VMID in use; VMIDs are `width` bits wide (8, or 16 with FEAT_VMID16).
    pub const fn new(width: u32) -> Self {
        Self {
            bits: [const { AtomicU64::new(0) }; 1024],
            width,
        }
    }

    /// DEN0137 1.0, `VmidIsValid`: within the implemented VMID width.
    pub fn is_valid(&self, vmid: u16) -> bool {
        (vmid as u32) < 1 << self.width
    }

    /// Claims `vmid`; `false` if it is invalid or already in use (`VmidIsFree`).
    pub fn try_reserve(&self, vmid: u16) -> bool {
        if !self.is_valid(vmid) {
            return false;
        }
        let bit = 1 << (vmid % 64);
        self.bits[vmid as usize / 64].fetch_or(bit, Ordering::AcqRel) & bit == 0
    }

    /// Returns `vmid` to the free set.
    pub fn release(&self, vmid: u16) {
        let bit = 1 << (vmid % 64);
        self.bits[vmid as usize / 64].fetch_and(!bit, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_and_release() {
        let s = VmidSet::new(8);
        assert!(s.try_reserve(0));
        assert!(!s.try_reserve(0));
        assert!(s.try_reserve(255));
        assert!(!s.try_reserve(256), "beyond 8 bits");
        s.release(0);
        assert!(s.try_reserve(0));
        let s = VmidSet::new(16);
        assert!(s.try_reserve(0xFFFF));
        assert!(!s.try_reserve(0xFFFF));
    }
}
