//! Direct physical memory access by EL3 (MMU off: Root PAS, Device-nGnRnE).

use crate::layout::{GRANULE_SIZE, RMM_SHARED_BUF};

/// Copies `page` into the RMM shared page (the boot manifest).
///
/// Must run before granule protection checks are enabled: the shared page is in the
/// Realm PAS, which EL3's MMU-off (Root PAS) accesses cannot reach once checks are on.
pub fn write_shared_page(page: &[u8; GRANULE_SIZE as usize]) {
    let dst = RMM_SHARED_BUF as *mut u64;
    for (i, w) in page.chunks_exact(8).enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        // SAFETY: the shared page is one granule of DRAM reserved for the RMM-EL3
        // interface; no world runs yet and GPC is still off, so EL3 owns it. `i` stays
        // below 512, inside the page, and the address is 8-byte aligned.
        unsafe { core::ptr::write_volatile(dst.add(i), u64::from_le_bytes(b)) };
    }
}
