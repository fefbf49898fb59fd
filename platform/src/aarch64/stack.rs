//! The per-CPU stacks at run time: where they are (for the exception report's guard
//! page check), and how deep the RMI loop has used them (the high-water mark).
//!
//! The layout itself is [`super::map`]'s; `linker/rmm.ld` reserves it and `rmm_entry`
//! points each CPU's SP at the top of its stack.

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

/// How often (in RMI calls per CPU) the high-water mark is measured by a full scan.
const SCAN_PERIOD: u64 = 256;
/// Words below the mark checked on every call.
const WINDOW_WORDS: u64 = 8;
// `window_painted` loads exactly this many.
const _: () = assert!(WINDOW_WORDS == 8);

/// Per CPU: the lowest address found written (0: not measured yet).
static MARK: [AtomicU64; crate::layout::PLATFORM.max_cpus] =
    [const { AtomicU64::new(0) }; crate::layout::PLATFORM.max_cpus];
/// Per CPU: the bottom of the window checked on every call, `MARK - 8 * WINDOW_WORDS`
/// clamped to the stack's bottom (set with `MARK`).
static WINDOW: [AtomicU64; crate::layout::PLATFORM.max_cpus] =
    [const { AtomicU64::new(0) }; crate::layout::PLATFORM.max_cpus];
/// Per CPU: RMI calls seen. Only the CPU itself writes its counter.
static CALLS: [AtomicU64; crate::layout::PLATFORM.max_cpus] =
    [const { AtomicU64::new(0) }; crate::layout::PLATFORM.max_cpus];

fn painted(addr: u64) -> bool {
    // SAFETY: `addr` is an 8-byte aligned word of this CPU's own stack at or below the
    // deepest word found written so far (the scans stop at the first written word, which
    // is at or below the live frames), so in dead stack: mapped read-write, and no other
    // code or CPU uses it now. A volatile read, so the
    // compiler assumes nothing about the dead stack's contents.
    unsafe { core::ptr::read_volatile(addr as *const u64) == super::map::STACK_PAINT }
}

/// Whether the [`WINDOW_WORDS`] (8) words from `low` all still hold the paint: four
/// paired loads, their differences from the paint or-ed together.
fn window_painted(low: u64) -> bool {
    let diff: u64;
    // SAFETY: `[low, low + 64)` are 8-byte aligned words of this CPU's own stack just
    // below the deepest word found written so far (the caller checks the window is
    // whole), so dead stack as for `painted`; the asm only reads them.
    unsafe {
        core::arch::asm!(
            "ldp {a}, {b}, [{low}]",
            "ldp {c}, {d}, [{low}, #16]",
            "eor {a}, {a}, {p}",
            "eor {b}, {b}, {p}",
            "orr {a}, {a}, {b}",
            "eor {c}, {c}, {p}",
            "eor {d}, {d}, {p}",
            "orr {c}, {c}, {d}",
            "orr {a}, {a}, {c}",
            "ldp {b}, {c}, [{low}, #32]",
            "ldp {d}, {e}, [{low}, #48]",
            "eor {b}, {b}, {p}",
            "eor {c}, {c}, {p}",
            "orr {b}, {b}, {c}",
            "eor {d}, {d}, {p}",
            "eor {e}, {e}, {p}",
            "orr {d}, {d}, {e}",
            "orr {a}, {a}, {b}",
            "orr {a}, {a}, {d}",
            low = in(reg) low,
            p = in(reg) super::map::STACK_PAINT,
            a = out(reg) diff,
            b = out(reg) _,
            c = out(reg) _,
            d = out(reg) _,
            e = out(reg) _,
            options(readonly, nostack, preserves_flags)
        )
    };
    diff == 0
}

/// The stack high-water mark of the RMI loop: call once per RMI call (from `serve`).
///
/// `rmm_entry` paints each CPU's stack with [`super::map::STACK_PAINT`] before any code
/// runs; the mark is the lowest word that no longer holds the paint. It is measured:
///
/// - on the first call and every [`SCAN_PERIOD`] calls, by a full scan from the stack's
///   bottom up to the first written word (a few hundred loads, amortised to a few per
///   call);
/// - on every other call, by checking the [`WINDOW_WORDS`] words just below the last
///   mark, which catches a path going a little deeper at once and triggers a full scan.
///   Everything this check needs is kept per CPU by the last scan (the mark and the
///   window's bottom), so a call costs a counter update and the window's loads.
///
/// Checking only the word below the mark would miss a deeper frame that reserves space
/// it never writes (saved registers at its top, an unused buffer below them): the word
/// just below the old mark keeps its paint while words further down do not. The full
/// scan finds any such write within [`SCAN_PERIOD`] calls; a path first taken in the
/// last calls before the machine stops can be missed, which the margin the xtask
/// applies to the mark, and the static frame check of every function, cover. Space a
/// frame reserves and never writes is invisible to any painting method; the static
/// frame limit bounds it.
///
/// A deeper mark is logged at Info level: `stack high-water mark: CPU n: B of S bytes`.
pub fn note_rmi_call(cpu: crate::CpuId) {
    let n = cpu.0;
    let Some(calls) = CALLS.get(n) else {
        return;
    };
    let count = calls.load(Ordering::Relaxed);
    calls.store(count + 1, Ordering::Relaxed);
    let mark = MARK[n].load(Ordering::Relaxed);
    let low = WINDOW[n].load(Ordering::Relaxed);
    // A window cut short by the stack's bottom is checked by a full scan.
    if mark == 0
        || count.is_multiple_of(SCAN_PERIOD)
        || mark - low != 8 * WINDOW_WORDS
        || !window_painted(low)
    {
        scan(n);
    }
}

/// The full scan of CPU `n`'s stack (see [`note_rmi_call`]).
#[inline(never)]
fn scan(n: usize) {
    let Some(layout) = LAYOUT.get() else {
        return;
    };
    if n as u64 >= layout.cpus {
        return;
    }
    let bottom = layout.stack_bottom(n as u64);
    let top = layout.stack_top(n as u64);
    let mark = match MARK[n].load(Ordering::Relaxed) {
        0 => top,
        m => m,
    };
    let mut lowest = bottom;
    while lowest < mark && painted(lowest) {
        lowest += 8;
    }
    if lowest < mark {
        MARK[n].store(lowest, Ordering::Relaxed);
        let window = lowest.saturating_sub(8 * WINDOW_WORDS).max(bottom);
        WINDOW[n].store(window, Ordering::Relaxed);
        log::info!(
            "stack high-water mark: CPU {n}: {} of {} bytes",
            top - lowest,
            super::map::STACK_SIZE
        );
    }
}
