//! The RMM's stage-1 translation at Realm EL2.
//!
//! One set of tables, built once at cold boot and used by every CPU (TTBR0_EL2, 4 KiB
//! granule, 41-bit VA starting at level 0):
//! - **Realm window** (VA = PA, output in the Realm PAS): the RMM image with per-section
//!   permissions (text read-only executable, rodata read-only, everything else
//!   read-write execute-never: nothing is both writable and executable, and
//!   SCTLR_EL2.WXN enforces it) and an invalid guard page below every CPU's stack and
//!   below the emergency stacks ([`super::map`]), the rest of DRAM read-write execute-never (where
//!   delegated granules are reached), and the platform's devices (console, GIC) as
//!   Device-nGnRE.
//! - **Non-secure window** (VA = PA + [`NS_ALIAS`], output in the Non-secure PAS): the
//!   platform's DRAM, read-write execute-never, for copying host memory in and out. An access there
//!   to a granule the GPT does not give to the Non-secure PAS faults, and the copy
//!   routine recovers (see `vectors`).
//!
//! The descriptors are built by `aarch64-paging` ([`super::map::build`], unit-tested on
//! the host) in a pool of tables in `.bss`, without `unsafe`; only turning the MMU on is
//! assembly.

use core::arch::asm;
use core::sync::atomic::{AtomicU64, Ordering};

pub use super::map::{ImageLayout, PageMap, NS_ALIAS};
use super::map::{TablePool, MAIR};

/// The platform whose DRAM and devices are mapped.
const LAYOUT: crate::layout::Layout = crate::layout::PLATFORM;
/// TCR_EL2: T0SZ 23 (41-bit VA), inner/outer WB WA walks, inner shareable, 4 KiB
/// granule, 40-bit PA, RES1 bits 23 and 31.
const TCR: u64 = 23 | 1 << 8 | 1 << 10 | 3 << 12 | 2 << 16 | 1 << 23 | 1 << 31;
/// SCTLR_EL2: RES1 bits, M, C, SA, I, WXN.
const SCTLR: u64 = 0x30C5_0830 | 1 | 1 << 2 | 1 << 3 | 1 << 12 | 1 << 19;
/// SCTLR_EL2.IESB \[21\] (FEAT_IESB; RES0 without it): an implicit Error
/// Synchronization event at every exception taken to EL2 and before every exception
/// return from it, so that a realm's SError pending at its exit is deferred into
/// DISR_EL1 at the exception entry, before any RMM instruction (the lower-EL vectors'
/// explicit ESB does the same a few instructions later on a CPU without FEAT_IESB).
const SCTLR_IESB: u64 = 1 << 21;

/// SCTLR_EL2 for a CPU whose ID_AA64MMFR2_EL1 is `mmfr2`: [`SCTLR`], and IESB with
/// FEAT_IESB (ID_AA64MMFR2_EL1.IESB \[15:12\] != 0).
const fn sctlr_el2(mmfr2: u64) -> u64 {
    if mmfr2 >> 12 & 0xF != 0 {
        SCTLR | SCTLR_IESB
    } else {
        SCTLR
    }
}

/// The tables of the map.
static TABLES: TablePool = TablePool::new();
/// The physical address of the root table, once [`build`] has run.
static ROOT: AtomicU64 = AtomicU64::new(0);

/// Builds the tables (cold boot, once, before any CPU enables the MMU).
///
/// # Panics
/// If the layout cannot be mapped with the pool's tables: cold boot stops with the
/// reason on the console.
pub fn build(image: ImageLayout) {
    super::stack::init(image);
    let map = super::map::build(&TABLES, &LAYOUT, &image)
        .unwrap_or_else(|e| panic!("the RMM's stage-1 map: {e}"));
    ROOT.store(map.to_physical().0 as u64, Ordering::Release);
    // The map is the RMM's for good: dropping it would hand its tables back.
    core::mem::forget(map);
}

/// Turns on the MMU and caches on this CPU with the tables [`build`] wrote.
pub fn enable() {
    let sctlr = sctlr_el2(super::sysreg::read(crate::SysReg::ID_AA64MMFR2_EL1));
    // SAFETY: the tables map the code and stack in use at their own addresses (VA = PA)
    // with the same memory contents, so execution continues unchanged; stale TLB entries
    // of EL2 are invalidated first. The barriers order the table writes before the walk.
    // IESB only adds error synchronisation events.
    unsafe {
        asm!(
            "dsb ish",
            "msr mair_el2, {mair}",
            "msr tcr_el2, {tcr}",
            "msr ttbr0_el2, {ttbr}",
            "isb",
            "tlbi alle2",
            "dsb ish",
            "isb",
            "msr sctlr_el2, {sctlr}",
            "isb",
            mair = in(reg) MAIR,
            tcr = in(reg) TCR,
            ttbr = in(reg) ROOT.load(Ordering::Acquire),
            sctlr = in(reg) sctlr,
            options(nostack),
        );
    }
}

/// The virtual address through which Non-secure physical address `pa` is reached.
pub const fn ns_va(pa: u64) -> u64 {
    pa + NS_ALIAS
}

/// Whether `[pa, pa + len)` is inside the Non-secure window.
pub fn ns_window_covers(pa: u64, len: u64) -> bool {
    let end = pa.saturating_add(len);
    LAYOUT
        .dram_windows
        .iter()
        .any(|&(b, e)| b <= pa && end <= e)
}
