//! RTT levels and start-level configuration for the 4 KiB granule (no LPA2).

use rmi_abi::GRANULE_SIZE;

/// An RTT level, -1..=3 architecturally; this RMM uses 0..=3 (no LPA2).
pub type Level = i8;

/// Entries per RTT (one granule of 8-byte descriptors).
pub const ENTRIES: usize = GRANULE_SIZE / 8;
/// The page level (DEN0137 1.0, `RMM_RTT_PAGE_LEVEL`).
pub const PAGE_LEVEL: Level = 3;
/// The lowest level that may hold a block (1 GiB blocks at level 1).
pub const MIN_BLOCK_LEVEL: Level = 1;
/// The lowest start level this RMM supports (no LPA2, so no level -1).
pub const MIN_START_LEVEL: Level = 0;
/// The most concatenated start-level tables the architecture allows.
pub const MAX_START_TABLES: u32 = 16;

/// log2 of the size of the IPA range one entry of a level `level` RTT describes.
pub const fn entry_shift(level: Level) -> u32 {
    (12 + 9 * (3 - level as i32)) as u32
}

/// DEN0137 1.0, `RttLevelSize`: bytes of IPA space one entry at `level` describes.
pub const fn entry_size(level: Level) -> u64 {
    1 << entry_shift(level)
}

/// DEN0137 1.0, `AddrIsRttLevelAligned`.
pub const fn is_level_aligned(addr: u64, level: Level) -> bool {
    addr & (entry_size(level) - 1) == 0
}

/// The start-level layout of a realm's RTT tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RttGeometry {
    /// IPA width in bits.
    pub ipa_bits: u32,
    /// Start level.
    pub start_level: Level,
    /// Number of concatenated start-level tables.
    pub num_start: u32,
}

impl RttGeometry {
    /// DEN0137 1.0, `RttConfigIsValid`: whether `start_level` and `num_start` are
    /// consistent with an IPA width of `ipa_bits` and supported here. The start level
    /// must resolve at least one IPA bit, the IPA bits above a single start-level table
    /// are covered by exactly `num_start` concatenated tables (at most 16), and level 0
    /// needs a PA width of at least 44 bits (Arm ARM, VTCR_EL2.SL0 for 4 KiB granules).
    pub fn new(ipa_bits: u32, start_level: i64, num_start: u64, pa_bits: u32) -> Option<Self> {
        if !(MIN_START_LEVEL as i64..=2).contains(&start_level) {
            return None;
        }
        let start_level = start_level as Level;
        if start_level == 0 && pa_bits < 44 {
            return None;
        }
        // IPA bits resolved by the start level: above its entries' span.
        let resolved = ipa_bits as i32 - entry_shift(start_level) as i32;
        if resolved < 1 {
            return None;
        }
        // Bits beyond one table's 9 are covered by concatenated tables.
        let tables = if resolved > 9 {
            1u64 << (resolved - 9)
        } else {
            1
        };
        if tables > MAX_START_TABLES as u64 || tables != num_start {
            return None;
        }
        Some(Self {
            ipa_bits,
            start_level,
            num_start: num_start as u32,
        })
    }

    /// The index, across the concatenated start tables, of the start-level entry that
    /// maps `ipa`.
    pub fn root_index(&self, ipa: u64) -> usize {
        let mask = self.num_start as u64 * ENTRIES as u64 - 1;
        ((ipa >> entry_shift(self.start_level)) & mask) as usize
    }

    /// DEN0137 1.0, `RttLevelIsValid`.
    pub fn level_is_valid(&self, level: i64) -> bool {
        (self.start_level as i64..=PAGE_LEVEL as i64).contains(&level)
    }

    /// DEN0137 1.0, `RttLevelIsBlockOrPage`.
    pub fn level_is_block_or_page(&self, level: i64) -> bool {
        self.level_is_valid(level) && level >= MIN_BLOCK_LEVEL as i64
    }

    /// DEN0137 1.0, `AddrIsProtected`: below the top IPA bit.
    pub fn is_protected(&self, ipa: u64) -> bool {
        ipa < 1 << (self.ipa_bits - 1)
    }

    /// Whether `ipa` is inside the realm's IPA space.
    pub fn in_range(&self, ipa: u64) -> bool {
        ipa < 1 << self.ipa_bits
    }
}

/// The index within a level `level` RTT of the entry that maps `ipa` (DEN0137 1.0,
/// `RttEntryIndex`), for non-start levels.
pub const fn entry_index(ipa: u64, level: Level) -> usize {
    ((ipa >> entry_shift(level)) as usize) & (ENTRIES - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(entry_size(3), 0x1000);
        assert_eq!(entry_size(2), 0x20_0000);
        assert_eq!(entry_size(1), 0x4000_0000);
        assert_eq!(entry_size(0), 0x80_0000_0000);
        assert!(is_level_aligned(0x4000_0000, 1));
        assert!(!is_level_aligned(0x20_0000, 1));
        assert_eq!(entry_index(0x4020_3000, 3), 3);
        assert_eq!(entry_index(0x4020_3000, 2), 1);
        assert_eq!(entry_index(0x4020_3000, 1), 1);
    }

    #[test]
    fn start_configurations() {
        let g = |ipa, l, n| RttGeometry::new(ipa, l, n, 48);
        assert!(g(48, 0, 1).is_some());
        assert!(g(40, 0, 1).is_some());
        assert!(g(39, 0, 1).is_none(), "level 0 must resolve a bit");
        assert!(g(39, 1, 1).is_some());
        assert!(g(40, 1, 2).is_some());
        assert!(g(40, 1, 1).is_none());
        assert!(g(42, 1, 8).is_some());
        assert!(g(43, 1, 16).is_some());
        assert!(g(44, 1, 32).is_none(), "more than 16 tables");
        assert!(g(32, 1, 1).is_some());
        assert!(g(32, 1, 4).is_none(), "32 bits at level 1 fit one table");
        assert!(g(32, 2, 1).is_none(), "32 bits at level 2 need 4 tables");
        assert!(g(32, 2, 4).is_some());
        assert!(g(34, 2, 16).is_some());
        assert!(g(35, 2, 32).is_none());
        assert!(g(30, 2, 1).is_some());
        assert!(g(48, 3, 1).is_none(), "level 3 start not supported");
        assert!(g(48, -1, 1).is_none(), "level -1 needs LPA2");
        assert!(
            RttGeometry::new(40, 0, 1, 40).is_none(),
            "level 0 needs 44-bit PA"
        );
        let geo = g(40, 1, 2).unwrap();
        assert_eq!(geo.root_index((1 << 40) - 1), 1023);
        assert_eq!(
            geo.root_index(0x80_0000_0000),
            512,
            "bit 39 selects the second table"
        );
        assert!(geo.is_protected(0x7F_FFFF_F000));
        assert!(!geo.is_protected(0x80_0000_0000));
        assert!(geo.in_range(0xFF_FFFF_FFFF));
        assert!(!geo.in_range(0x100_0000_0000));
    }
}
