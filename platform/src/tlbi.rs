//! Stage-2 TLB invalidation by IPA: which instructions the CPU has for it, and the
//! sequence of `TLBI` operands that covers a range of IPAs with them.
//!
//! Pure computation, tested on the host; the firmware's `aarch64::tlb` executes the
//! operations. Two instructions invalidate the stage-2 entries of the current VMID by
//! IPA, from every level of the walk, on every PE of the Inner Shareable domain (Arm ARM
//! DDI 0487, C5.5 "A64 System instructions for TLB maintenance"):
//!
//! - `TLBI IPAS2E1IS`: the entries translating one IPA, so one 4 KiB page of the range
//!   each (operand: IPA\[51:12\] in bits \[39:0\], TTL 0, no level hint);
//! - `TLBI RIPAS2E1IS` (FEAT_TLBIRANGE, C5.5.22): the entries translating any IPA in
//!   `[BaseADDR, BaseADDR + (NUM + 1) * 2^(5 * SCALE + 1) * granule)`, so from 2 pages
//!   (SCALE 0, NUM 0) to 2^21 pages, 8 GiB of 4 KiB pages (SCALE 3, NUM 31), in one
//!   instruction. Operand: TG \[47:46\] (0b01: 4 KiB granule; entries of another
//!   granule need not be invalidated), SCALE \[45:44\], NUM \[43:39\], TTL \[38:37\]
//!   (0b00: entries of any level), BaseADDR \[36:0\]: IPA\[48:12\], or IPA\[52:16\] when
//!   the CPU has FEAT_LPA2 and `VTCR_EL2.DS` is 1 (the 4 KiB granule then treats
//!   IPA\[15:12\] as zero, so the range starts 64 KiB aligned). NS, bit 63, is RES0 in
//!   Realm state.
//!
//! Neither is required to remove entries that combine stage 1 and stage 2: the caller
//! follows them with `TLBI VMALLE1IS` (see `aarch64::tlb`).

/// The stage-2 invalidations by IPA a CPU implements, from ID_AA64ISAR0_EL1.TLB,
/// bits \[59:56\] (Arm ARM D24.2, ID_AA64ISAR0_EL1): 0b0000 none of the Outer Shareable
/// or range instructions, 0b0001 FEAT_TLBIOS, 0b0010 FEAT_TLBIOS and FEAT_TLBIRANGE.
/// The one decoder of that field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum IpaTlbi {
    /// `TLBI IPAS2E1IS` only: a range is invalidated one page at a time.
    #[default]
    PerPage,
    /// `TLBI RIPAS2E1IS` too (FEAT_TLBIRANGE).
    Range,
}

impl IpaTlbi {
    /// Decodes ID_AA64ISAR0_EL1. Reserved values above 0b0010 are read as 0b0010 (the ID
    /// scheme's fields grow: a larger value includes what the smaller ones give).
    pub const fn from_isar0(isar0: u64) -> Self {
        match (isar0 >> 56) & 0xF {
            0b0000 | 0b0001 => Self::PerPage,
            _ => Self::Range,
        }
    }
}

/// One stage-2 invalidation by IPA: the instruction and its operand (`Xt`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpaOp {
    /// `TLBI IPAS2E1IS, Xt`.
    Page(u64),
    /// `TLBI RIPAS2E1IS, Xt`.
    Range(u64),
}

/// The 4 KiB translation granule.
const PAGE_SHIFT: u32 = 12;
/// TG = 0b01, the 4 KiB granule, at bits \[47:46\].
const TG_4K: u64 = 0b01 << 46;
/// The largest NUM (5 bits) and SCALE (2 bits).
const MAX_NUM: u64 = 31;
const MAX_SCALE: u32 = 3;
/// BaseADDR, bits \[36:0\].
const BASE_ADDR_MASK: u64 = (1 << 37) - 1;
/// The alignment of a range's start when BaseADDR is IPA\[52:16\] (`VTCR_EL2.DS` 1).
const DS_BASE_SHIFT: u32 = 16;

/// The `TLBI IPAS2E1IS` operand for the page holding `ipa`: IPA\[51:12\] in bits
/// \[39:0\], TTL 0 (no level hint).
pub const fn page_operand(ipa: u64) -> u64 {
    (ipa >> PAGE_SHIFT) & ((1 << 40) - 1)
}

/// The `TLBI RIPAS2E1IS` operand for `(num + 1) * 2^(5 * scale + 1)` pages of 4 KiB
/// from `base` (`scale` <= 3, `num` <= 31), for any level (TTL 0). `ds` is the value
/// of `VTCR_EL2.DS` when the instruction executes: with it, BaseADDR is IPA\[52:16\]
/// and `base` must be 64 KiB aligned; without, IPA\[48:12\].
pub const fn range_operand(scale: u32, num: u64, base: u64, ds: bool) -> u64 {
    let base_addr = if ds {
        base >> DS_BASE_SHIFT
    } else {
        base >> PAGE_SHIFT
    };
    TG_4K | (scale as u64) << 44 | num << 39 | (base_addr & BASE_ADDR_MASK)
}

/// The invalidations that cover the 4 KiB pages of `[base, base + size)` with the
/// instructions `tlbi` offers, in increasing IPA order; `ds` as for [`range_operand`].
pub fn ipa_ops(tlbi: IpaTlbi, base: u64, size: u64, ds: bool) -> IpaOps {
    let page = 1 << PAGE_SHIFT;
    IpaOps {
        next: base & !(page - 1),
        end: (base + size).next_multiple_of(page),
        tlbi,
        ds,
    }
}

/// The iterator [`ipa_ops`] returns.
///
/// With FEAT_TLBIRANGE each step takes the largest SCALE whose unit, 2^(5 * SCALE + 1)
/// pages, fits in what is left, and as many of those units as fit, up to 32 (NUM + 1):
/// what is left after it is less than one unit, so the next step takes a smaller SCALE
/// and a range needs at most one instruction per SCALE (more at SCALE 3 only past
/// 8 GiB) and then one `IPAS2E1IS` for an odd last page, which no range covers alone.
/// With `ds`, pages before the first 64 KiB boundary go one at a time (a range cannot
/// start there); a step at SCALE 1 or more moves by a multiple of 64 pages, so only
/// the last range (SCALE 0, followed by at most one page) can end off a boundary.
/// Without `ds`, pages at or above 2^49, which BaseADDR cannot name, go one at a time
/// (`IPAS2E1IS` takes IPA\[51:12\] whatever `VTCR_EL2.DS`).
#[derive(Clone, Debug)]
pub struct IpaOps {
    next: u64,
    end: u64,
    tlbi: IpaTlbi,
    ds: bool,
}

impl Iterator for IpaOps {
    type Item = IpaOp;

    fn next(&mut self) -> Option<IpaOp> {
        if self.next >= self.end {
            return None;
        }
        let pages = (self.end - self.next) >> PAGE_SHIFT;
        // Whether BaseADDR can name `next`: IPA[48:12] holds IPAs below 2^49 (a realm
        // with 52-bit IPAs may be above, with VTCR_EL2.DS 0 in force), IPA[52:16] only
        // 64 KiB boundaries.
        let shift = if self.ds { DS_BASE_SHIFT } else { PAGE_SHIFT };
        let encodable = self.next & ((1 << shift) - 1) == 0 && self.next >> shift <= BASE_ADDR_MASK;
        if self.tlbi == IpaTlbi::PerPage || pages == 1 || !encodable {
            let op = IpaOp::Page(page_operand(self.next));
            self.next += 1 << PAGE_SHIFT;
            return Some(op);
        }
        // pages >= 2: the largest SCALE with 2^(5 * SCALE + 1) <= pages (log2 >= 1;
        // written without `ilog2`, whose zero case would be a panic path).
        let log2 = u64::BITS - 1 - pages.leading_zeros();
        let scale = ((log2 - 1) / 5).min(MAX_SCALE);
        let unit_shift = 5 * scale + 1;
        let units = (pages >> unit_shift).min(MAX_NUM + 1);
        let op = IpaOp::Range(range_operand(scale, units - 1, self.next, self.ds));
        self.next += units << (unit_shift + PAGE_SHIFT);
        Some(op)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;

    fn ops(base: u64, size: u64, ds: bool) -> Vec<IpaOp> {
        ipa_ops(IpaTlbi::Range, base, size, ds).collect()
    }

    /// The IPAs an operation covers, by the Arm ARM's definitions (C5.5.22, and
    /// `IPAS2E1IS`: one page), as `[start, end)`.
    fn covered(op: IpaOp, ds: bool) -> (u64, u64) {
        match op {
            IpaOp::Page(xt) => {
                assert_eq!(xt >> 40, 0, "IPAS2E1IS: TTL and RES0 bits clear");
                (xt << 12, (xt << 12) + 4096)
            }
            IpaOp::Range(xt) => {
                assert_eq!(xt >> 48, 0, "NS and bits [62:48] clear");
                assert_eq!((xt >> 46) & 3, 0b01, "TG: 4 KiB");
                assert_eq!((xt >> 37) & 3, 0, "TTL: any level");
                let scale = (xt >> 44) & 3;
                let num = (xt >> 39) & 0x1F;
                let base_addr = xt & ((1 << 37) - 1);
                let start = if ds { base_addr << 16 } else { base_addr << 12 };
                (start, start + (num + 1) * (1 << (5 * scale + 1)) * 4096)
            }
        }
    }

    /// The operations cover `[base, base + size)` exactly, one after another.
    fn assert_tiles(base: u64, size: u64, ds: bool) -> usize {
        let list = ops(base, size, ds);
        let mut at = base;
        for &op in &list {
            let (start, end) = covered(op, ds);
            assert_eq!(start, at, "{op:x?} of [{base:#x}, +{size:#x}) ds {ds}");
            at = end;
        }
        assert_eq!(at, base + size, "[{base:#x}, +{size:#x}) ds {ds}");
        list.len()
    }

    /// ID_AA64ISAR0_EL1.TLB, bits [59:56] (Arm ARM D24.2).
    #[test]
    fn the_feature_from_the_id_register() {
        assert_eq!(IpaTlbi::from_isar0(0), IpaTlbi::PerPage);
        assert_eq!(
            IpaTlbi::from_isar0(0b0001 << 56),
            IpaTlbi::PerPage,
            "TLBIOS only"
        );
        assert_eq!(IpaTlbi::from_isar0(0b0010 << 56), IpaTlbi::Range);
        assert_eq!(
            IpaTlbi::from_isar0(!(0xF << 56)),
            IpaTlbi::PerPage,
            "other fields set"
        );
        assert_eq!(IpaTlbi::from_isar0(0b0011 << 56), IpaTlbi::Range, "grows");
    }

    /// A level-3 RTT's range, 512 pages: SCALE 1 (64-page units), NUM 7. Operand by
    /// hand: TG 0b01 << 46 = 0x4000_0000_0000, SCALE 1 << 44 = 0x1000_0000_0000, NUM
    /// 7 << 39 = 0x0380_0000_0000, BaseADDR 0x4020_0000 >> 12 = 0x4_0200 (or with DS,
    /// >> 16 = 0x4020).
    #[test]
    fn two_mib_in_one_instruction() {
        assert_eq!(
            ops(0x4020_0000, 2 * MIB, false),
            [IpaOp::Range(0x5380_0004_0200)]
        );
        assert_eq!(
            ops(0x4020_0000, 2 * MIB, true),
            [IpaOp::Range(0x5380_0000_4020)]
        );
        // High in a 48-bit IPA space: BaseADDR 0xFFFF_FFE0_0000 >> 12 = 0xF_FFFF_FE00.
        assert_eq!(
            ops(0xFFFF_FFE0_0000, 2 * MIB, false),
            [IpaOp::Range(0x538F_FFFF_FE00)]
        );
    }

    /// No range is one page (the smallest, SCALE 0 NUM 0, is two): IPAS2E1IS, IPA[51:12].
    #[test]
    fn a_single_page_is_ipas2e1is() {
        assert_eq!(ops(0x4020_3000, 4096, false), [IpaOp::Page(0x4_0203)]);
        assert_eq!(ops(0x4020_3000, 4096, true), [IpaOp::Page(0x4_0203)]);
        // Two pages are the smallest range: TG only, NUM 0, SCALE 0.
        assert_eq!(
            ops(0x4020_3000, 8192, false),
            [IpaOp::Range(0x4000_0004_0203)]
        );
    }

    /// The largest range of one instruction: SCALE 3, NUM 31, 32 * 2^16 pages = 8 GiB.
    /// 0x4000_0000_0000 | 3 << 44 (0x3000_0000_0000) | 31 << 39 (0x0F80_0000_0000).
    #[test]
    fn eight_gib_is_the_most_one_instruction_covers() {
        assert_eq!(ops(0, 8 * GIB, false), [IpaOp::Range(0x7F80_0000_0000)]);
        // 1 GiB (a level-2 RTT's range): SCALE 3, NUM 3; base 1 GiB >> 12 = 0x4_0000.
        assert_eq!(ops(GIB, GIB, false), [IpaOp::Range(0x7180_0004_0000)]);
        // 16 GiB: two of the largest, the second at 8 GiB (BaseADDR 0x20_0000).
        assert_eq!(
            ops(0, 16 * GIB, false),
            [
                IpaOp::Range(0x7F80_0000_0000),
                IpaOp::Range(0x7F80_0020_0000)
            ]
        );
    }

    /// Ranges that take more than one instruction below 8 GiB.
    #[test]
    fn ranges_needing_more_instructions() {
        // 3 pages: a 2-page range, then IPAS2E1IS for the third (0x1000_2000 >> 12).
        assert_eq!(
            ops(0x1000_0000, 3 * 4096, false),
            [IpaOp::Range(0x4000_0001_0000), IpaOp::Page(0x1_0002)]
        );
        // 2 MiB + 8 KiB: SCALE 1 NUM 7, then SCALE 0 NUM 0 at 0x4040_0000.
        assert_eq!(
            ops(0x4020_0000, 2 * MIB + 8192, false),
            [
                IpaOp::Range(0x5380_0004_0200),
                IpaOp::Range(0x4000_0004_0400)
            ]
        );
        // With DS a range starts on 64 KiB: 0xF000 goes alone, then 16 pages from
        // 0x1_0000 (SCALE 0, NUM 7, BaseADDR 0x1_0000 >> 16 = 1).
        assert_eq!(
            ops(0xF000, 17 * 4096, true),
            [IpaOp::Page(0xF), IpaOp::Range(0x4380_0000_0001)]
        );
    }

    /// BaseADDR is IPA[48:12] without DS: from 2^49 up (a 52-bit realm's IPAs) only
    /// IPAS2E1IS can name a page (IPA[51:12]: 2^49 >> 12 = 0x20_0000_0000); with DS,
    /// IPA[52:16]: 2^49 >> 16 = 0x2_0000_0000.
    #[test]
    fn high_ipas_of_a_52_bit_realm() {
        let base = 1 << 49;
        let list = ops(base, 2 * MIB, false);
        assert_eq!(list.len(), 512);
        assert_eq!(list[0], IpaOp::Page(0x20_0000_0000));
        assert_eq!(list[511], IpaOp::Page(0x20_0000_01FF));
        assert_eq!(ops(base, 2 * MIB, true), [IpaOp::Range(0x5382_0000_0000)]);
        // Just below 2^49 a range can still start: BaseADDR 0x1F_FFFF_FE00.
        assert_eq!(
            ops(base - 2 * MIB, 2 * MIB, false),
            [IpaOp::Range(0x539F_FFFF_FE00)]
        );
        assert_tiles(base - 2 * MIB, 4 * MIB, false);
        assert_tiles(0xF_FFFF_FFFF_F000, 4096, true);
    }

    /// Whatever the range, the operations cover it exactly, in few instructions.
    #[test]
    fn any_range_is_covered_exactly() {
        let bases = [0, 0x1000, 0xF000, 0x1_0000, 0x4020_0000, 0x7FFF_F000, GIB];
        let sizes = [
            4096,
            8192,
            3 * 4096,
            63 * 4096,
            64 * 4096,
            65 * 4096,
            2 * MIB,
            2 * MIB + 4096,
            GIB - 4096,
            GIB,
            8 * GIB + 12 * 4096,
            512 * GIB,
        ];
        for ds in [false, true] {
            for &b in &bases {
                for &s in &sizes {
                    let n = assert_tiles(b, s, ds);
                    // One per SCALE below 8 GiB, one more per further 8 GiB, a last
                    // page, and with DS up to 15 leading pages.
                    let bound = 4 + (s >> 33) as usize + 1 + if ds { 15 } else { 0 };
                    assert!(n <= bound, "[{b:#x}, +{s:#x}) ds {ds}: {n} operations");
                }
            }
        }
    }

    /// Without FEAT_TLBIRANGE: one IPAS2E1IS per page, in order.
    #[test]
    fn per_page_without_the_feature() {
        let list: Vec<_> = ipa_ops(IpaTlbi::PerPage, 0x4020_0000, 2 * MIB, false).collect();
        assert_eq!(list.len(), 512);
        for (i, op) in list.iter().enumerate() {
            assert_eq!(*op, IpaOp::Page(0x4_0200 + i as u64));
        }
    }
}
