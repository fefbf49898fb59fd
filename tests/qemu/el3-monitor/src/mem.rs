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

/// Copies `data` into the RMM shared page at `offset`, byte by byte.
///
/// The page must be in the Root PAS while this runs ([`crate::attest`] moves it there
/// around its accesses): EL3's MMU-off accesses are Root PAS accesses.
pub fn write_shared(offset: usize, data: &[u8]) {
    assert!(offset + data.len() <= GRANULE_SIZE as usize);
    let dst = RMM_SHARED_BUF as *mut u8;
    for (i, &b) in data.iter().enumerate() {
        // SAFETY: inside the shared page (asserted above), which the caller has made
        // Root PAS and which only EL3 touches while the RMM waits in its SMC.
        unsafe { core::ptr::write_volatile(dst.add(offset + i), b) };
    }
}

/// Copies `out.len()` bytes of the RMM shared page from `offset` into `out`, byte by
/// byte; the page must be in the Root PAS (see [`write_shared`]).
pub fn read_shared(offset: usize, out: &mut [u8]) {
    assert!(offset + out.len() <= GRANULE_SIZE as usize);
    let src = RMM_SHARED_BUF as *const u8;
    for (i, b) in out.iter_mut().enumerate() {
        // SAFETY: as in `write_shared`.
        *b = unsafe { core::ptr::read_volatile(src.add(offset + i)) };
    }
}
