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
//! The tables live in `.bss`; descriptors are written with atomic stores (no `unsafe`);
//! only turning the MMU on is assembly.

use core::arch::asm;
use core::sync::atomic::{AtomicU64, Ordering};

/// VA offset of the Non-secure window.
pub const NS_ALIAS: u64 = 1 << 40;

const ENTRIES: usize = 512;
const GIB: u64 = 1 << 30;
const MIB2: u64 = 1 << 21;
const PAGE: u64 = 1 << 12;

/// The platform whose DRAM and devices are mapped.
const LAYOUT: crate::layout::Layout = crate::layout::PLATFORM;
/// Level-3 tables for the 2 MiB blocks of the carve-out (and shared buffer), mapped page
/// by page: up to 32 MiB.
const FINE_TABLES: usize = 16;

use super::map::desc::*;
pub use super::map::{ImageLayout, PageMap};

const BLOCK_RW: u64 = VALID | ATTR_NORMAL | AP_RES1 | SH_INNER | AF | XN;
const BLOCK_DEVICE: u64 = VALID | ATTR_DEVICE | AP_RES1 | AF | XN;

/// MAIR_EL2: attribute 0 Device-nGnRE, attribute 1 Normal Write-Back RA/WA.
const MAIR: u64 = 0x04 | 0xFF << 8;
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

#[repr(C, align(4096))]
struct Table([AtomicU64; ENTRIES]);

impl Table {
    const fn new() -> Self {
        Self([const { AtomicU64::new(0) }; ENTRIES])
    }

    fn set(&self, i: usize, desc: u64) {
        self.0[i].store(desc, Ordering::Relaxed);
    }

    fn pa(&self) -> u64 {
        self as *const Self as u64
    }
}

static L0: Table = Table::new();
static L1_REALM: Table = Table::new();
static L1_NS: Table = Table::new();
static L2_DEVICE: Table = Table::new();
static L2_IMAGE: Table = Table::new();
static L3_IMAGE: [Table; FINE_TABLES] = [const { Table::new() }; FINE_TABLES];

/// Builds the tables (cold boot, once, before any CPU enables the MMU).
pub fn build(image: ImageLayout) {
    super::stack::init(image);
    L0.set(0, L1_REALM.pa() | VALID | TABLE);
    L0.set((NS_ALIAS >> 39) as usize, L1_NS.pa() | VALID | TABLE);
    L1_REALM.set(0, L2_DEVICE.pa() | VALID | TABLE);
    let (mut pa, device_end) = LAYOUT.devices;
    while pa < device_end {
        L2_DEVICE.set((pa / MIB2) as usize, pa | BLOCK_DEVICE);
        pa += MIB2;
    }
    let image_gib = image.text / GIB;
    for &(base, end) in LAYOUT.dram_windows {
        for gib in (base / GIB)..(end / GIB) {
            let block = gib * GIB;
            L1_NS.set(gib as usize, block | BLOCK_RW | NS);
            if gib == image_gib {
                L1_REALM.set(gib as usize, L2_IMAGE.pa() | VALID | TABLE);
            } else {
                L1_REALM.set(gib as usize, block | BLOCK_RW);
            }
        }
    }
    // The image's GiB: 2 MiB blocks, except the carve-out and shared buffer, page by page.
    let gib_base = image_gib * GIB;
    let first = ((LAYOUT.rmm_base.0 - gib_base) / MIB2) as usize;
    let fine = first..first + FINE_TABLES;
    for i in 0..ENTRIES {
        let block = gib_base + i as u64 * MIB2;
        if !fine.contains(&i) {
            L2_IMAGE.set(i, block | BLOCK_RW);
            continue;
        }
        let t = &L3_IMAGE[i - first];
        for j in 0..ENTRIES {
            let page = block + j as u64 * PAGE;
            let desc = match image.page_map(page) {
                PageMap::Invalid => 0,
                m => page | m.attrs(),
            };
            t.set(j, desc);
        }
        L2_IMAGE.set(i, t.pa() | VALID | TABLE);
    }
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
            ttbr = in(reg) L0.pa(),
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

// The carve-out and shared buffer fit the fine-mapped blocks, within one GiB.
const _: () = {
    let gib = LAYOUT.rmm_base.0 / GIB * GIB;
    let first = (LAYOUT.rmm_base.0 - gib) / MIB2;
    let last = (LAYOUT.shared_buf.0 + PAGE - 1 - gib) / MIB2;
    assert!(last - first < FINE_TABLES as u64 && last < ENTRIES as u64);
};
