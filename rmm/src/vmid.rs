//! VMID allocation: each live realm has its own VMID (DEN0137 1.0, `VmidIsFree`,
//! `VmidIsValid`).

use core::sync::atomic::{AtomicU64, Ordering};

/// DEN0137 1.0, `VmidIsValid`: `vmid` fits the implemented VMID width (`width` bits:
/// 8, or 16 with FEAT_VMID16).
pub fn is_valid(vmid: u16, width: u32) -> bool {
    (vmid as u32) < 1 << width
}

/// The set of VMIDs in use: one bit per 16-bit VMID (8 KiB, so it lives in the RMM's
/// [`crate::Storage`], never on a stack).
pub struct VmidSet {
    bits: [AtomicU64; 1024],
}

impl VmidSet {
    /// No VMID in use.
    pub const fn new() -> Self {
        Self {
            bits: [const { AtomicU64::new(0) }; 1024],
        }
    }

    /// Claims `vmid`; `false` if it is already in use (`VmidIsFree`).
    pub fn try_reserve(&self, vmid: u16) -> bool {
        let bit = 1 << (vmid % 64);
        self.bits[vmid as usize / 64].fetch_or(bit, Ordering::AcqRel) & bit == 0
    }

    /// Returns `vmid` to the free set.
    pub fn release(&self, vmid: u16) {
        let bit = 1 << (vmid % 64);
        self.bits[vmid as usize / 64].fetch_and(!bit, Ordering::AcqRel);
    }
}

impl Default for VmidSet {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_and_release() {
        let s = VmidSet::new();
        assert!(s.try_reserve(0));
        assert!(!s.try_reserve(0));
        assert!(s.try_reserve(255));
        s.release(0);
        assert!(s.try_reserve(0));
        assert!(s.try_reserve(0xFFFF));
        assert!(!s.try_reserve(0xFFFF));
    }

    #[test]
    fn validity_follows_the_width() {
        assert!(is_valid(255, 8));
        assert!(!is_valid(256, 8), "beyond 8 bits");
        assert!(is_valid(0xFFFF, 16));
    }
}
