//! The layout of the RMM's own memory and the stage-1 permissions each page of the
//! carve-out gets: pure computation, without `unsafe`, also built for the host so that
//! its unit tests run under `cargo test` (see `lib.rs`).
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

/// Bytes of each CPU's stack.
pub const STACK_SIZE: u64 = 0x4000;
/// Bytes of the unmapped guard below each stack (one page).
pub const GUARD_SIZE: u64 = 0x1000;
/// Distance between two CPUs' stack slots (guard and stack).
pub const STACK_STRIDE: u64 = GUARD_SIZE + STACK_SIZE;
/// The word `rmm_entry` fills each CPU's stack with before any code uses it, for the
/// high-water mark ([`super::stack`]): "STKPAINT" read as a little-endian word.
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

/// Level-3 page descriptor bits (Arm ARM D8.3 "Translation table descriptor formats",
/// stage 1, one VA range: AP[1] is RES1).
pub mod desc {
    /// Valid.
    pub const VALID: u64 = 1 << 0;
    /// Table (levels 0..=2) or page (level 3).
    pub const TABLE: u64 = 1 << 1;
    /// AttrIndx 0: MAIR attribute 0, Device-nGnRE.
    pub const ATTR_DEVICE: u64 = 0 << 2;
    /// AttrIndx 1: MAIR attribute 1, Normal Write-Back.
    pub const ATTR_NORMAL: u64 = 1 << 2;
    /// NS: output in the Non-secure PAS (from the Realm state).
    pub const NS: u64 = 1 << 5;
    /// AP[1], RES1 in a translation regime with one VA range.
    pub const AP_RES1: u64 = 1 << 6;
    /// AP[2]: read-only.
    pub const AP_RO: u64 = 1 << 7;
    /// Inner Shareable.
    pub const SH_INNER: u64 = 3 << 8;
    /// Access flag.
    pub const AF: u64 = 1 << 10;
    /// Execute-never (XN, stage 1 at EL2 with one VA range).
    pub const XN: u64 = 1 << 54;
}

impl PageMap {
    /// The level-3 descriptor attributes (all but the output address).
    pub const fn attrs(self) -> u64 {
        use desc::*;
        const NORMAL_PAGE: u64 = VALID | TABLE | ATTR_NORMAL | AP_RES1 | SH_INNER | AF;
        match self {
            PageMap::Invalid => 0,
            PageMap::ReadExecute => NORMAL_PAGE | AP_RO,
            PageMap::ReadOnly => NORMAL_PAGE | AP_RO | XN,
            PageMap::ReadWrite => NORMAL_PAGE | XN,
        }
    }
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

    #[test]
    fn descriptors() {
        use desc::*;
        assert_eq!(PageMap::Invalid.attrs() & VALID, 0);
        let rx = PageMap::ReadExecute.attrs();
        assert!(rx & VALID != 0 && rx & AP_RO != 0 && rx & XN == 0);
        let ro = PageMap::ReadOnly.attrs();
        assert!(ro & VALID != 0 && ro & AP_RO != 0 && ro & XN != 0);
        let rw = PageMap::ReadWrite.attrs();
        assert!(rw & VALID != 0 && rw & AP_RO == 0 && rw & XN != 0);
        for m in [PageMap::ReadExecute, PageMap::ReadOnly, PageMap::ReadWrite] {
            // Level-3 page, Normal memory, accessed: bits [1:0] = 0b11, AttrIndx 1, AF.
            assert_eq!(m.attrs() & 0b11, 0b11);
            assert_eq!(m.attrs() >> 2 & 0b111, 1);
            assert!(m.attrs() & AF != 0);
        }
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
}
