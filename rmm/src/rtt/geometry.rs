//! RTT levels and start-level configuration for the 4 KiB granule, with and without
//! FEAT_LPA2.

use rmi_abi::GRANULE_SIZE;

use super::entry::DescFormat;

/// An RTT level, -1..=3 (-1 only with LPA2).
pub type Level = i8;

/// Entries per RTT (one granule of 8-byte descriptors).
pub const ENTRIES: usize = GRANULE_SIZE / 8;
/// Entries of a level -1 RTT: level -1 resolves at most IPA bits \[51:48\] (Arm ARM
/// D8.2, Table D8-20; no concatenation at level -1). The rest of its granule is unused.
pub const ENTRIES_LEVEL_MINUS_1: usize = 16;

/// The number of entries of an RTT at `level` (DEN0137 1.0 A5.5: "the next IPA after
/// the last entry in rtt" of `RttSkipNonLiveEntries`).
pub const fn entries_at(level: Level) -> usize {
    if level < 0 {
        ENTRIES_LEVEL_MINUS_1
    } else {
        ENTRIES
    }
}
/// The page level (DEN0137 1.0, `RMM_RTT_PAGE_LEVEL`).
pub const PAGE_LEVEL: Level = 3;
/// The lowest level that may hold a block (1 GiB blocks at level 1).
pub const MIN_BLOCK_LEVEL: Level = 1;
/// The lowest start level without LPA2.
pub const MIN_START_LEVEL: Level = 0;
/// The lowest start level with LPA2 (`VTCR_EL2.DS = 1`, `SL2 = 1`).
pub const MIN_START_LEVEL_LPA2: Level = -1;
/// The largest IPA width without LPA2 (Arm ARM D8.2: T0SZ >= 16 with `VTCR_EL2.DS = 0`).
pub const MAX_IPA_BITS_NO_LPA2: u32 = 48;
/// The largest IPA width with LPA2.
pub const MAX_IPA_BITS_LPA2: u32 = 52;
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
    /// The descriptor format of the realm's RTTs: FEAT_LPA2's when the realm was created
    /// with the LPA2 flag (`realm.feat_lpa2`).
    pub format: DescFormat,
}

impl RttGeometry {
    /// DEN0137 1.0, `RttConfigIsValid`: whether `start_level` and `num_start` are
    /// consistent with an IPA width of `ipa_bits` in the descriptor format `format` and
    /// supported here (Arm ARM D8.2, Tables D8-20 to D8-23, stage 2 initial lookup
    /// level and concatenation, 4 KiB granule):
    ///
    /// - the IPA width is at most 48 bits, or 52 with LPA2, and the start level is 0..=2,
    ///   or -1..=2 with LPA2 (level 3 starts need FEAT_TTST, which RME does not imply);
    /// - the start level resolves at least one IPA bit, and the IPA bits above a single
    ///   start-level table are covered by exactly `num_start` concatenated tables (at
    ///   most 16; more than one table at level 0 only with LPA2, where IPA bits \[51:48\]
    ///   may be resolved by 2..=16 tables; none at level -1, whose one table resolves at
    ///   most 4 bits);
    /// - level 0 needs a PA width of at least 44 bits (VTCR_EL2.SL0 for 4 KiB granules).
    pub fn new(
        ipa_bits: u32,
        start_level: i64,
        num_start: u64,
        pa_bits: u32,
        format: DescFormat,
    ) -> Option<Self> {
        let lpa2 = format == DescFormat::Lpa2;
        let (min_level, max_ipa) = if lpa2 {
            (MIN_START_LEVEL_LPA2, MAX_IPA_BITS_LPA2)
        } else {
            (MIN_START_LEVEL, MAX_IPA_BITS_NO_LPA2)
        };
        if ipa_bits > max_ipa || !(min_level as i64..=2).contains(&start_level) {
            return None;
        }
        let start_level = start_level as Level;
        if start_level == 0 && pa_bits < 44 {
            return None;
        }
        // IPA bits resolved by the start level: above its entries' span.
        let resolved = ipa_bits as i32 - entry_shift(start_level) as i32;
        let max_one_table = if start_level < 0 { 4 } else { 9 };
        if resolved < 1 || (start_level < 0 && resolved > max_one_table) {
            return None;
        }
        // Bits beyond one table's are covered by concatenated tables.
        let tables = if resolved > max_one_table {
            1u64 << (resolved - max_one_table)
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
            format,
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
        let g = |ipa, l, n| RttGeometry::new(ipa, l, n, 48, DescFormat::Pa48);
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
        assert!(g(49, 0, 2).is_none(), "49 bits need LPA2");
        assert!(
            RttGeometry::new(40, 0, 1, 40, DescFormat::Pa48).is_none(),
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

    /// Arm ARM D8.2, Tables D8-20 and D8-21 (`VTCR_EL2.DS = 1`): level -1 takes 49..=52
    /// bits in one table, level 0 up to 16 concatenated tables for 49..=52 bits.
    #[test]
    fn lpa2_start_configurations() {
        let g = |ipa, l, n| RttGeometry::new(ipa, l, n, 52, DescFormat::Lpa2);
        for ipa in 49..=52 {
            assert!(g(ipa, -1, 1).is_some(), "{ipa} bits at level -1");
            assert!(g(ipa, -1, 2).is_none(), "no concatenation at level -1");
            assert!(
                g(ipa, 0, 1 << (ipa - 48)).is_some(),
                "{ipa} bits at level 0"
            );
            assert!(g(ipa, 0, 1).is_none());
        }
        assert!(g(48, -1, 1).is_none(), "level -1 must resolve a bit");
        assert!(g(53, -1, 1).is_none());
        assert!(g(53, 0, 32).is_none());
        assert!(g(48, 0, 1).is_some(), "48 bits are allowed with LPA2");
        assert!(g(40, 1, 2).is_some());
        assert!(g(52, -2, 1).is_none());
        let geo = g(52, -1, 1).unwrap();
        assert_eq!(geo.root_index((1 << 52) - 1), 15);
        assert!(geo.is_protected((1 << 51) - 1));
        assert!(!geo.is_protected(1 << 51));
        let geo = g(52, 0, 16).unwrap();
        assert_eq!(geo.root_index(0xF_8000_0000_0000), 15 * 512 + 256);
        assert_eq!(entry_size(-1), 1 << 48);
        assert_eq!(entries_at(-1), 16);
        assert_eq!(entries_at(0), 512);
    }
}
