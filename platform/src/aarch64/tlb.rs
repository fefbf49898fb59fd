//! TLB maintenance.

use core::arch::asm;

/// Invalidates every EL1&0 (stage 1 and stage 2) TLB entry, for all VMIDs, on every CPU
/// of the Inner Shareable domain, and waits for completion.
pub fn invalidate_all_el1() {
    // SAFETY: TLB invalidation and barriers change no memory and no register the
    // compiler knows of; they only drop cached translations, which are refetched.
    unsafe {
        asm!(
            "dsb ishst",
            "tlbi alle1is",
            "dsb ish",
            "isb",
            options(nostack, preserves_flags)
        )
    }
}
