//! The layout of the RMM's own memory, the stage-1 permissions each page of the
//! carve-out gets, and the building of the stage-1 tables from them with
//! `aarch64-paging`: without `unsafe`, also built for the host so that its unit tests
//! (an independent table walk over the tables built) run under `cargo test` (see
//! `lib.rs`).
//!
//! Per-CPU stacks (laid out by `linker/rmm.ld`, which checks these sizes against the
//! ones below at link time):
//!
//! ```text
//! __stacks_start: [guard 4 KiB][stack CPU 0, 16 KiB][guard][stack CPU 1] ... __stacks_end
//! __stacks_end:   [guard 4 KiB][emergency stack CPU 0, 2 KiB][CPU 1] ...
//! ```
//!
//! Guard pages are invalid in the stage-1 map, so running off the bottom of a stack
//! faults (a data abort with FAR in the guard page) instead of overwriting whatever lies
//! below; the exception vector switches to the CPU's emergency stack to report it.

use core::ptr::NonNull;

use aarch64_paging::descriptor::{El23Attributes, PhysicalAddress};
use aarch64_paging::paging::{Constraints, El2, MemoryRegion, PageTable, RootTable, Translation};
use aarch64_paging::MapError;

use crate::layout::Layout;

/// Bytes of each CPU's stack.
pub const STACK_SIZE: u64 = 0x4000;
/// Bytes of the unmapped guard below each stack (one page).
pub const GUARD_SIZE: u64 = 0x1000;
/// Distance between two CPUs' stack slots (guard and stack).
pub const STACK_STRIDE: u64 = GUARD_SIZE + STACK_SIZE;
/// The word `rmm_entry` fills each CPU's stack with before any code uses it, for the
/// high-water mark, read from memory after a run (`cargo xtask run`): "STKPAINT" read
/// as a little-endian word.
pub const STACK_PAINT: u64 = u64::from_le_bytes(*b"STKPAINT");

/// Bytes of each CPU's emergency stack, used only to report an unexpected exception.
pub const EMERGENCY_STACK_SIZE: u64 = 0x800;

const PAGE: u64 = 0x1000;

/// The image's section boundaries and stack area (linker symbols, as addresses).
#[derive(Clone, Copy, Debug)]
pub struct ImageLayout {
    /// Start of `.text` (the image base).
    pub text: u64,
    /// End of `.text`, start of read-only data.
    pub text_end: u64,
    /// End of read-only data; everything after is read-write.
    pub rodata_end: u64,
    /// Start of the stack slots (`__stacks_start`, page aligned).
    pub stacks: u64,
    /// CPUs with a stack slot.
    pub cpus: u64,
}

/// What a page of the carve-out is mapped as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageMap {
    /// Not mapped: a guard page.
    Invalid,
    /// Read-only, executable (text).
    ReadExecute,
    /// Read-only, execute-never (rodata).
    ReadOnly,
    /// Read-write, execute-never (data, bss, stacks, the rest of the carve-out).
    ReadWrite,
}

/// Attributes of every Normal-memory mapping (Arm ARM D8.3, stage 1 at EL2 with one VA
/// range): valid, MAIR attribute 1 (Normal Write-Back), AP\[1\] RES1, Inner Shareable,
/// access flag set.
const NORMAL: El23Attributes = El23Attributes::VALID
    .union(El23Attributes::ATTRIBUTE_INDEX_1)
    .union(El23Attributes::USER_RES1)
    .union(El23Attributes::INNER_SHAREABLE)
    .union(El23Attributes::ACCESSED);

/// Attributes of the device window: MAIR attribute 0 (Device-nGnRE), execute-never.
pub const DEVICE: El23Attributes = El23Attributes::VALID
    .union(El23Attributes::ATTRIBUTE_INDEX_0)
    .union(El23Attributes::USER_RES1)
    .union(El23Attributes::ACCESSED)
    .union(El23Attributes::XN);

/// MAIR_EL2 for [`NORMAL`] and [`DEVICE`]: attribute 0 Device-nGnRE, attribute 1 Normal
/// Write-Back Read/Write-Allocate, inner and outer.
pub const MAIR: u64 = 0x04 | 0xFF << 8;

/// VA offset of the Non-secure window.
pub const NS_ALIAS: u64 = 1 << 40;

/// The root level of the map: TCR_EL2.T0SZ 23 (41-bit VA) starts the walk at level 0.
pub const ROOT_LEVEL: usize = 0;

/// Translation tables the map can use: the root, a level-1 table each for the Realm
/// and Non-secure windows, a level-2 table for the devices and for the image's GiB,
/// and level-3 tables for the 2 MiB blocks where the image's permissions change
/// (text, rodata, guard pages). Building fails at cold boot, loudly, if it needs more;
/// the host tests build every platform's map with this many.
pub const MAX_TABLES: usize = 16;

impl PageMap {
    /// The attributes of a page mapped as `self`, or `None` for [`PageMap::Invalid`].
    pub const fn attrs(self) -> Option<El23Attributes> {
        match self {
            PageMap::Invalid => None,
            PageMap::ReadExecute => Some(NORMAL.union(El23Attributes::READ_ONLY)),
            PageMap::ReadOnly => Some(
                NORMAL
                    .union(El23Attributes::READ_ONLY)
                    .union(El23Attributes::XN),
            ),
            PageMap::ReadWrite => Some(NORMAL.union(El23Attributes::XN)),
        }
    }
}

/// A fixed set of [`MAX_TABLES`] zeroed translation tables (in `.bss` on the firmware)
/// that [`TableAlloc`] hands out; they are never freed: the map lives as long as the RMM.
pub struct TablePool {
    tables: [PageTable<El23Attributes>; MAX_TABLES],
}

impl TablePool {
    /// A pool with every table zeroed.
    pub const fn new() -> Self {
        Self {
            tables: [PageTable::EMPTY; MAX_TABLES],
        }
    }

    /// The physical (= virtual: the Realm window maps VA = PA) address of a table.
    fn pa(t: &PageTable<El23Attributes>) -> PhysicalAddress {
        PhysicalAddress(t as *const PageTable<El23Attributes> as usize)
    }

    /// The table at `pa`, if it is one of the pool's.
    pub fn table_at(&self, pa: usize) -> Option<&PageTable<El23Attributes>> {
        self.tables.iter().find(|t| Self::pa(t).0 == pa)
    }
}

impl Default for TablePool {
    fn default() -> Self {
        Self::new()
    }
}

/// The `aarch64-paging` allocator over a [`TablePool`], handing its tables out in
/// order. The tables' descriptors are atomics, so pointers derived from a shared
/// reference let the library write them. (The count is a plain integer: the map is
/// built with the MMU off, where memory is Device memory and exclusive accesses are not
/// guaranteed to work.)
pub struct TableAlloc<'p> {
    pool: &'p TablePool,
    used: usize,
}

impl TableAlloc<'_> {
    /// How many tables have been handed out.
    pub fn used(&self) -> usize {
        self.used
    }
}

impl Translation<El23Attributes> for TableAlloc<'_> {
    fn allocate_table(&mut self) -> (NonNull<PageTable<El23Attributes>>, PhysicalAddress) {
        let t =
            self.pool.tables.get(self.used).unwrap_or_else(|| {
                panic!("the RMM's stage-1 map needs more than {MAX_TABLES} tables")
            });
        self.used += 1;
        (NonNull::from(t), TablePool::pa(t))
    }

    unsafe fn deallocate_table(&mut self, _table: NonNull<PageTable<El23Attributes>>) {
        // Never freed: the pool's tables are the map for the RMM's lifetime.
    }

    fn physical_to_virtual(&self, pa: PhysicalAddress) -> NonNull<PageTable<El23Attributes>> {
        let t = self
            .pool
            .table_at(pa.0)
            .unwrap_or_else(|| panic!("{pa} is not a stage-1 table of the RMM"));
        NonNull::from(t)
    }
}

/// The RMM's stage-1 map.
pub type StageOneMap<'p> = RootTable<El2, TableAlloc<'p>>;

/// Builds the RMM's stage-1 map of the platform `layout` with the image at `image`
/// from `pool` (see `mmu`'s module documentation for what is mapped how): the devices,
/// the Realm window (VA = PA, all of DRAM read-write execute-never, then the image's
/// text read-only executable, its rodata read-only and its guard pages invalid) and the
/// Non-secure window (VA = PA + [`NS_ALIAS`], DRAM read-write execute-never, NS).
/// `aarch64-paging` maps with the largest blocks the ranges allow and splits a block
/// only where the permissions change within it.
pub fn build<'p>(
    pool: &'p TablePool,
    layout: &Layout,
    image: &ImageLayout,
) -> Result<StageOneMap<'p>, MapError> {
    let mut root = RootTable::new(TableAlloc { pool, used: 0 }, ROOT_LEVEL, El2);
    let mut map = |va: u64, end: u64, pa: u64, attrs: Option<El23Attributes>| {
        let region = MemoryRegion::new(va as usize, end as usize);
        let attrs = attrs.unwrap_or(El23Attributes::empty());
        root.map_range(
            &region,
            PhysicalAddress(pa as usize),
            attrs,
            Constraints::empty(),
        )
    };
    let (dev, dev_end) = layout.devices;
    map(dev, dev_end, dev, Some(DEVICE))?;
    for &(base, end) in layout.dram_windows {
        map(base, end, base, PageMap::ReadWrite.attrs())?;
        let ns = PageMap::ReadWrite
            .attrs()
            .map(|a| a.union(El23Attributes::NS));
        map(base + NS_ALIAS, end + NS_ALIAS, base, ns)?;
    }
    map(
        image.text,
        image.text_end,
        image.text,
        PageMap::ReadExecute.attrs(),
    )?;
    let rodata = image.text_end;
    map(rodata, image.rodata_end, rodata, PageMap::ReadOnly.attrs())?;
    for cpu in 0..image.cpus {
        let guard = image.stack_bottom(cpu) - GUARD_SIZE;
        map(guard, guard + GUARD_SIZE, guard, PageMap::Invalid.attrs())?;
    }
    let guard = image.stacks_end();
    map(guard, guard + GUARD_SIZE, guard, PageMap::Invalid.attrs())?;
    Ok(root)
}

impl ImageLayout {
    /// End of the stack slots (`__stacks_end`).
    pub const fn stacks_end(&self) -> u64 {
        self.stacks + self.cpus * STACK_STRIDE
    }

    /// The bottom of the emergency stacks (after their guard page).
    pub const fn emergency_stacks(&self) -> u64 {
        self.stacks_end() + GUARD_SIZE
    }

    /// The lowest address of `cpu`'s stack (just above its guard page).
    pub const fn stack_bottom(&self, cpu: u64) -> u64 {
        self.stacks + cpu * STACK_STRIDE + GUARD_SIZE
    }

    /// The initial SP of `cpu` (one past the top of its stack).
    pub const fn stack_top(&self, cpu: u64) -> u64 {
        self.stacks + (cpu + 1) * STACK_STRIDE
    }

    /// Whose guard page `addr` is in: `Some(Some(cpu))` for a CPU's stack guard,
    /// `Some(None)` for the guard below the emergency stacks, `None` if it is not in a
    /// guard page.
    pub fn guard_of(&self, addr: u64) -> Option<Option<u64>> {
        if addr >= self.stacks && addr < self.stacks_end() {
            let off = addr - self.stacks;
            return (off % STACK_STRIDE < GUARD_SIZE).then_some(Some(off / STACK_STRIDE));
        }
        (addr >= self.stacks_end() && addr < self.emergency_stacks()).then_some(None)
    }

    /// The stage-1 mapping of the carve-out page at `page`.
    pub fn page_map(&self, page: u64) -> PageMap {
        if page >= self.text && page < self.text_end {
            PageMap::ReadExecute
        } else if page >= self.text_end && page < self.rodata_end {
            PageMap::ReadOnly
        } else if self.guard_of(page).is_some() {
            PageMap::Invalid
        } else {
            PageMap::ReadWrite
        }
    }
}

const _: () = assert!(STACK_SIZE.is_multiple_of(PAGE) && GUARD_SIZE == PAGE);
const _: () = assert!(EMERGENCY_STACK_SIZE.is_multiple_of(16));

#[cfg(test)]
mod tests {
    use super::*;

    const L: ImageLayout = ImageLayout {
        text: 0x4010_0000,
        text_end: 0x4011_4000,
        rodata_end: 0x4011_a000,
        stacks: 0x4020_0000,
        cpus: 4,
    };

    /// Arm ARM D8.3 (VMSAv8-64 stage 1 descriptors, one VA range): the bits each page
    /// kind must have, stated here rather than from the library's names.
    #[test]
    fn descriptors() {
        const VALID: usize = 1;
        const ATTR_INDEX: usize = 0b111 << 2;
        const AP_2_RO: usize = 1 << 7;
        const AF: usize = 1 << 10;
        const SH: usize = 0b11 << 8;
        const XN: usize = 1 << 54;
        assert_eq!(PageMap::Invalid.attrs(), None);
        let bits = |m: PageMap| m.attrs().unwrap().bits();
        for (m, ro, xn) in [
            (PageMap::ReadExecute, true, false),
            (PageMap::ReadOnly, true, true),
            (PageMap::ReadWrite, false, true),
        ] {
            let b = bits(m);
            assert_eq!(b & VALID, VALID, "{m:?}");
            assert_eq!(
                (b & ATTR_INDEX) >> 2,
                1,
                "{m:?}: Normal memory, MAIR attribute 1"
            );
            assert_eq!(b & SH, SH, "{m:?}: Inner Shareable");
            assert_eq!(b & AF, AF, "{m:?}");
            assert_eq!(b & AP_2_RO != 0, ro, "{m:?}");
            assert_eq!(b & XN != 0, xn, "{m:?}");
        }
        assert_eq!((DEVICE.bits() & ATTR_INDEX) >> 2, 0);
        assert_eq!(DEVICE.bits() & XN, XN);
        // MAIR_EL2 attribute 0 Device-nGnRE (0x04), attribute 1 Normal WB RA/WA (0xFF).
        assert_eq!(MAIR & 0xFF, 0x04);
        assert_eq!(MAIR >> 8 & 0xFF, 0xFF);
    }

    #[test]
    fn sections() {
        assert_eq!(L.page_map(0x4010_0000), PageMap::ReadExecute);
        assert_eq!(L.page_map(0x4011_3000), PageMap::ReadExecute);
        assert_eq!(L.page_map(0x4011_4000), PageMap::ReadOnly);
        assert_eq!(L.page_map(0x4011_9000), PageMap::ReadOnly);
        assert_eq!(L.page_map(0x4011_a000), PageMap::ReadWrite);
    }

    #[test]
    fn every_stack_has_an_invalid_guard_page_below_it() {
        for cpu in 0..L.cpus {
            let bottom = L.stack_bottom(cpu);
            assert_eq!(bottom, 0x4020_0000 + cpu * 0x5000 + 0x1000);
            assert_eq!(L.stack_top(cpu), bottom + STACK_SIZE);
            assert_eq!(L.page_map(bottom - PAGE), PageMap::Invalid, "CPU {cpu}");
            assert_eq!(L.guard_of(bottom - 1), Some(Some(cpu)));
            assert_eq!(L.guard_of(bottom - PAGE), Some(Some(cpu)));
            for page in (bottom..bottom + STACK_SIZE).step_by(PAGE as usize) {
                assert_eq!(L.page_map(page), PageMap::ReadWrite, "{page:#x}");
                assert_eq!(L.guard_of(page), None);
            }
        }
        // Nothing below the first guard or above the last stack is a stack guard.
        assert_eq!(L.page_map(L.stacks - PAGE), PageMap::ReadWrite);
        assert_eq!(L.stacks_end(), 0x4021_4000);
    }

    #[test]
    fn emergency_stacks_sit_above_their_own_guard() {
        assert_eq!(L.page_map(L.stacks_end()), PageMap::Invalid);
        assert_eq!(L.guard_of(L.stacks_end()), Some(None));
        assert_eq!(L.emergency_stacks(), 0x4021_5000);
        assert_eq!(L.page_map(L.emergency_stacks()), PageMap::ReadWrite);
        assert_eq!(L.guard_of(L.emergency_stacks()), None);
    }

    /// What an independent VMSAv8-64 walk (4 KiB granule, 41-bit VA, start level 0,
    /// Arm ARM D8.2) finds for `va` in tables built from `pool`: the leaf descriptor's
    /// output address and attribute bits (upper and lower attributes and the valid bit),
    /// or `None` for a
    /// translation fault.
    fn translate(pool: &TablePool, root: usize, va: u64) -> Option<(u64, u64)> {
        const OA: u64 = 0x0000_FFFF_FFFF_F000;
        let mut table = root;
        for level in 0..=3u32 {
            let shift = 39 - 9 * level;
            let index = (va >> shift & 0x1FF) as usize;
            let mut bytes = [0u8; 4096];
            pool.table_at(table)
                .expect("a table of the pool")
                .write_to(&mut bytes)
                .unwrap();
            let desc = u64::from_le_bytes(bytes[index * 8..index * 8 + 8].try_into().unwrap());
            match (desc & 0b11, level) {
                (0b00 | 0b10, _) => return None,
                (0b01, 0 | 3) => return None, // no level 0 blocks; 0b01 reserved at level 3
                (0b11, 0..=2) => table = (desc & OA) as usize,
                _ => {
                    let size = 1u64 << shift;
                    let pa = (desc & OA & !(size - 1)) | (va & (size - 1));
                    return Some((pa, desc & !OA & !0b10));
                }
            }
        }
        unreachable!()
    }

    /// Every page of the image, its guard pages, the devices and both DRAM windows
    /// translate as `mmu`'s documentation says, on each platform's layout, with the
    /// firmware's table budget.
    #[test]
    fn built_map_translates_as_documented() {
        const VALID: u64 = 1;
        const RO: u64 = 1 << 7;
        const XN: u64 = 1 << 54;
        const NS: u64 = 1 << 5;
        const NORMAL_ATTR: u64 = 1 << 2;
        for layout in [crate::layout::QEMU_VIRT, crate::layout::FVP_BASE_REVC] {
            let base = layout.rmm_base.0;
            let image = ImageLayout {
                text: base,
                text_end: base + 0x5_3000,
                rodata_end: base + 0x6_1000,
                stacks: base + 0x8_0000,
                cpus: layout.max_cpus as u64,
            };
            let pool = Box::new(TablePool::new());
            let map = build(&pool, &layout, &image).expect("the map builds");
            let used = map.translation().used();
            assert!(used <= MAX_TABLES, "{used} tables");
            let root = map.to_physical().0;
            let at = |va: u64| translate(&pool, root, va);
            let page =
                |va: u64| at(va).map(|(pa, attrs)| (pa == va, attrs & (VALID | RO | XN | NS)));
            // The image, a page past each end of each section, and every stack page.
            let end = image.emergency_stacks() + layout.max_cpus as u64 * EMERGENCY_STACK_SIZE;
            for va in (base..end + 0x20_0000).step_by(PAGE as usize) {
                let want = image.page_map(va).attrs().map(|a| a.bits() as u64);
                let got = at(va);
                match want {
                    None => assert_eq!(got, None, "{} {va:#x}: a guard page", layout.name),
                    Some(attrs) => {
                        let (pa, a) = got.unwrap_or_else(|| panic!("{va:#x} unmapped"));
                        assert_eq!(pa, va, "{va:#x}: VA = PA");
                        assert_eq!(
                            a & (RO | XN | NS | NORMAL_ATTR),
                            attrs & (RO | XN | NORMAL_ATTR)
                        );
                    }
                }
            }
            assert_eq!(page(image.text), Some((true, VALID | RO)));
            assert_eq!(page(image.text_end), Some((true, VALID | RO | XN)));
            assert_eq!(page(image.rodata_end), Some((true, VALID | XN)));
            for cpu in 0..image.cpus {
                assert_eq!(
                    at(image.stack_bottom(cpu) - PAGE),
                    None,
                    "CPU {cpu}'s guard"
                );
            }
            // Both DRAM windows, first and last page of each.
            for &(b, e) in layout.dram_windows {
                for pa in [b, e - PAGE] {
                    assert_eq!(page(pa), Some((true, VALID | XN)), "{pa:#x}");
                    let ns = at(pa + NS_ALIAS).unwrap_or_else(|| panic!("NS {pa:#x}"));
                    assert_eq!(ns.0, pa);
                    assert_eq!(ns.1 & (VALID | RO | XN | NS), VALID | XN | NS);
                }
                assert_eq!(at(e + NS_ALIAS), None, "past the NS window");
            }
            // Devices: Device-nGnRE (attribute 0), execute-never.
            let (pa, attrs) = at(layout.uart.0).unwrap();
            assert_eq!(pa, layout.uart.0);
            assert_eq!(attrs & (0b111 << 2 | XN), XN);
            assert_eq!(at(layout.devices.1), None, "past the device window");
        }
    }
}
