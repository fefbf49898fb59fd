//! The per-CPU stacks at run time: where they are, for the exception report's guard
//! page check.
//!
//! The layout itself is [`super::map`]'s; `linker/rmm.ld` reserves it and `rmm_entry`
//! points each CPU's SP at the top of its stack, painted with
//! [`super::map::STACK_PAINT`]. How deep the stacks were used (the high-water mark) is
//! read from memory by whoever runs the firmware, after the run (`cargo xtask run`
//! saves the stacks through QEMU's monitor and scans them): nothing of it costs the
//! RMI path an instruction.

use core::sync::atomic::{AtomicU64, Ordering};

use spin::Once;

use super::map::ImageLayout;

static LAYOUT: Once<ImageLayout> = Once::new();

/// The bottom of the emergency stacks, read by the exception vector code; 0 until
/// [`init`].
pub(super) static EMERGENCY_STACKS: AtomicU64 = AtomicU64::new(0);

/// Records the layout (cold boot, when the stage-1 map is built from it).
pub fn init(layout: ImageLayout) {
    LAYOUT.call_once(|| layout);
    EMERGENCY_STACKS.store(layout.emergency_stacks(), Ordering::Release);
}

/// Whose guard page `addr` is in (see [`ImageLayout::guard_of`]); `None` before
/// [`init`] or outside the guard pages.
pub fn guard_of(addr: u64) -> Option<Option<u64>> {
    LAYOUT.get()?.guard_of(addr)
}
