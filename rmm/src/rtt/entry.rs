//! RTT entries (DEN0137 1.0, A5.5.4) and their encoding in stage-2 descriptors.
//!
//! Valid descriptors are architectural (Arm ARM D8.3, VMSAv8-64 stage 2, 4 KiB granule),
//! in one of two layouts ([`DescFormat`]) chosen per realm:
//! - without LPA2 the output address is OA\[47:12\] in bits \[47:12\] and bits \[9:8\] are
//!   SH, the shareability;
//! - with LPA2 (`VTCR_EL2.DS = 1`) the output address is OA\[49:12\] in bits \[49:12\] and
//!   OA\[51:50\] in bits \[9:8\]; the shareability of every descriptor is
//!   `VTCR_EL2.SH0` (Inner Shareable, [`crate::run::vtcr`]).
//!
//! The entries:
//! - TABLE: `[1:0] = 0b11` at levels -1..=2, the next-level table's address.
//! - ASSIGNED with RIPAS RAM: a block (`0b01`, levels 1..=2) or page (`0b11`, level 3)
//!   with MemAttr `0b0110` (Normal Write-Back under FEAT_S2FWB), S2AP read/write,
//!   Inner Shareable, AF set.
//! - ASSIGNED_NS: as above with the host's address, MemAttr\[2:0\] and S2AP, bit 55 (NS:
//!   output in the Non-secure PAS), AF set, execute-never; without LPA2 the
//!   shareability follows MemAttr (Inner if cacheable, Outer if not; A5.5.11).
//!
//! Entries the realm cannot access are invalid descriptors (bit 0 clear), whose other
//! bits the hardware ignores; the RMM keeps its state there: HIPAS in `[4:2]`, RIPAS in
//! `[6:5]`, and for ASSIGNED (RIPAS EMPTY or DESTROYED) the DATA granule's address, in
//! the realm's address layout.

use rmi_abi::enums::{RmiRipas, RmiRttEntryState};

use super::geometry::{entry_size, Level, ENTRIES, PAGE_LEVEL};

const VALID: u64 = 1 << 0;
const TABLE_OR_PAGE: u64 = 1 << 1;
/// OA\[47:12\] in bits \[47:12\].
const ADDR_MASK_48: u64 = 0x0000_FFFF_FFFF_F000;
/// OA\[49:12\] in bits \[49:12\] (LPA2).
const ADDR_MASK_49_12: u64 = 0x0003_FFFF_FFFF_F000;
/// OA\[51:50\] in bits \[9:8\] (LPA2).
const ADDR_51_50_SHIFT: u32 = 8;
const ADDR_51_50_MASK: u64 = 0x3 << ADDR_51_50_SHIFT;
const MEMATTR_SHIFT: u32 = 2;
const MEMATTR_MASK: u64 = 0xF << MEMATTR_SHIFT;
const MEMATTR_HOST_MASK: u64 = 0x7 << MEMATTR_SHIFT;
/// MemAttr `0b0110`: Normal, Write-Back, under FEAT_S2FWB.
const MEMATTR_NORMAL_WB: u64 = 0b0110 << MEMATTR_SHIFT;
const S2AP_MASK: u64 = 0x3 << 6;
const S2AP_RW: u64 = 0x3 << 6;
const SH_INNER: u64 = 0x3 << 8;
const SH_OUTER: u64 = 0x2 << 8;
const AF: u64 = 1 << 10;
/// XN `0b10`: execute-never at EL1 and EL0.
const XN: u64 = 0b10 << 53;
/// Realm stage 2 (RME): output address in the Non-secure PAS.
const NS: u64 = 1 << 55;
/// The host-controlled attributes of an unprotected mapping other than its address
/// (A5.5.11): MemAttr\[2:0\] and S2AP.
const HOST_ATTR_MASK: u64 = MEMATTR_HOST_MASK | S2AP_MASK;

const HIPAS_SHIFT: u32 = 2;
const HIPAS_MASK: u64 = 0x7 << HIPAS_SHIFT;
const HIPAS_UNASSIGNED: u64 = 0;
const HIPAS_ASSIGNED: u64 = 1;
const HIPAS_UNASSIGNED_NS: u64 = 2;
const RIPAS_SHIFT: u32 = 5;
const RIPAS_MASK: u64 = 0x3 << RIPAS_SHIFT;

/// The layout of a realm's stage-2 descriptors (Arm ARM D8.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DescFormat {
    /// `VTCR_EL2.DS = 0`: 48-bit output addresses, SH in bits \[9:8\].
    Pa48,
    /// `VTCR_EL2.DS = 1` (FEAT_LPA2): 52-bit output addresses, OA\[51:50\] in bits
    /// \[9:8\], shareability from `VTCR_EL2.SH0`.
    Lpa2,
}

impl DescFormat {
    /// The format of a realm created with (`true`) or without the LPA2 flag.
    pub const fn of(lpa2: bool) -> Self {
        if lpa2 {
            Self::Lpa2
        } else {
            Self::Pa48
        }
    }

    /// Whether this is FEAT_LPA2's layout.
    pub const fn is_lpa2(self) -> bool {
        matches!(self, Self::Lpa2)
    }

    /// The descriptor bits that hold a (4 KiB aligned) output address.
    pub const fn addr_bits(self) -> u64 {
        match self {
            Self::Pa48 => ADDR_MASK_48,
            Self::Lpa2 => ADDR_MASK_49_12 | ADDR_51_50_MASK,
        }
    }

    /// The output address field of `desc`, as a physical address.
    pub const fn addr(self, desc: u64) -> u64 {
        match self {
            Self::Pa48 => desc & ADDR_MASK_48,
            Self::Lpa2 => {
                desc & ADDR_MASK_49_12 | ((desc & ADDR_51_50_MASK) >> ADDR_51_50_SHIFT) << 50
            }
        }
    }

    /// The output address field holding `pa` (4 KiB aligned, below 2^48 or 2^52).
    pub const fn addr_field(self, pa: u64) -> u64 {
        match self {
            Self::Pa48 => pa & ADDR_MASK_48,
            Self::Lpa2 => pa & ADDR_MASK_49_12 | ((pa >> 50) & 0x3) << ADDR_51_50_SHIFT,
        }
    }

    /// The shareability bits of a valid descriptor: `sh` without LPA2, none with it
    /// (`VTCR_EL2.SH0` applies).
    const fn sh(self, sh: u64) -> u64 {
        match self {
            Self::Pa48 => sh,
            Self::Lpa2 => 0,
        }
    }
}

/// An RTT entry, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rtte {
    /// UNASSIGNED (protected IPA), with its RIPAS.
    Unassigned(RmiRipas),
    /// ASSIGNED (protected IPA): a DATA granule (or block) at `pa`, with its RIPAS.
    Assigned {
        /// Output address.
        pa: u64,
        /// RIPAS.
        ripas: RmiRipas,
    },
    /// UNASSIGNED_NS (unprotected IPA).
    UnassignedNs,
    /// ASSIGNED_NS (unprotected IPA): the host-controlled attributes, as the host gave
    /// them (A5.5.11).
    AssignedNs {
        /// Output address (Non-secure PAS).
        pa: u64,
        /// MemAttr\[2:0\] and S2AP, in their descriptor bits.
        attrs: u64,
    },
    /// TABLE: the next-level RTT at `pa`.
    Table(u64),
}

impl Rtte {
    /// Encodes the entry as a descriptor of a level `level` RTT in the layout `fmt`.
    pub fn encode(self, level: Level, fmt: DescFormat) -> u64 {
        let leaf_type = if level == PAGE_LEVEL {
            VALID | TABLE_OR_PAGE
        } else {
            VALID
        };
        match self {
            Rtte::Unassigned(ripas) => {
                HIPAS_UNASSIGNED << HIPAS_SHIFT | (ripas.raw() as u64) << RIPAS_SHIFT
            }
            Rtte::Assigned {
                pa,
                ripas: RmiRipas::Ram,
            } => {
                fmt.addr_field(pa) | leaf_type | MEMATTR_NORMAL_WB | S2AP_RW | fmt.sh(SH_INNER) | AF
            }
            Rtte::Assigned { pa, ripas } => {
                fmt.addr_field(pa)
                    | HIPAS_ASSIGNED << HIPAS_SHIFT
                    | (ripas.raw() as u64) << RIPAS_SHIFT
            }
            Rtte::UnassignedNs => HIPAS_UNASSIGNED_NS << HIPAS_SHIFT,
            Rtte::AssignedNs { pa, attrs } => {
                let sh = if host_memattr_is_cacheable(attrs) {
                    SH_INNER
                } else {
                    SH_OUTER
                };
                fmt.addr_field(pa) | attrs & HOST_ATTR_MASK | leaf_type | fmt.sh(sh) | AF | XN | NS
            }
            Rtte::Table(pa) => fmt.addr_field(pa) | VALID | TABLE_OR_PAGE,
        }
    }

    /// Decodes a descriptor read from a level `level` RTT in the layout `fmt`. Only
    /// descriptors this RMM writes are meaningful; anything else decodes to `None`.
    pub fn decode(desc: u64, level: Level, fmt: DescFormat) -> Option<Self> {
        if desc & VALID == 0 {
            let ripas = RmiRipas::decode((desc & RIPAS_MASK) >> RIPAS_SHIFT).ok()?;
            return match (desc & HIPAS_MASK) >> HIPAS_SHIFT {
                HIPAS_UNASSIGNED => Some(Rtte::Unassigned(ripas)),
                HIPAS_ASSIGNED if ripas != RmiRipas::Ram => Some(Rtte::Assigned {
                    pa: fmt.addr(desc),
                    ripas,
                }),
                HIPAS_UNASSIGNED_NS => Some(Rtte::UnassignedNs),
                _ => None,
            };
        }
        let is_table_or_page = desc & TABLE_OR_PAGE != 0;
        if level < PAGE_LEVEL && is_table_or_page {
            return Some(Rtte::Table(fmt.addr(desc)));
        }
        if level == PAGE_LEVEL && !is_table_or_page {
            return None;
        }
        if desc & NS != 0 {
            Some(Rtte::AssignedNs {
                pa: fmt.addr(desc),
                attrs: desc & HOST_ATTR_MASK,
            })
        } else {
            Some(Rtte::Assigned {
                pa: fmt.addr(desc),
                ripas: RmiRipas::Ram,
            })
        }
    }

    /// DEN0137 1.0, A5.5.8, RTTE liveness: an entry is live if it holds a physical
    /// address (ASSIGNED, ASSIGNED_NS or TABLE). `RttSkipNonLiveEntries` (the `top` of
    /// RTT_DESTROY, RTT_UNMAP_UNPROTECTED, DATA_DESTROY) looks for these.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            Rtte::Assigned { .. } | Rtte::AssignedNs { .. } | Rtte::Table(_)
        )
    }

    /// DEN0137 1.0, A5.5.8, RTT liveness: an RTT is live if one of its entries is
    /// ASSIGNED or TABLE, an entry referencing another RMM object (a DATA granule, an
    /// RTT). ASSIGNED_NS is a live entry that does not make its RTT live: the spec's
    /// example is an unprotected RTT holding ASSIGNED_NS entries, which is not live, so
    /// RTT_DESTROY (`RttIsLive`) and REALM_DESTROY (`RealmIsLive`: a live start-level
    /// RTT) do not need it unmapped first. The RMM keeps this count in the RTT
    /// granule's reference count.
    pub fn makes_rtt_live(self) -> bool {
        matches!(self, Rtte::Assigned { .. } | Rtte::Table(_))
    }

    /// This entry's child at byte offset `off` of its range, when the entry is unfolded
    /// into an RTT one level down (DEN0137 1.0, RMI_RTT_CREATE: a block's children map
    /// consecutive parts of its output range; every other entry is copied).
    pub fn child_at(self, off: u64) -> Self {
        match self {
            Rtte::Assigned { pa, ripas } => Rtte::Assigned {
                pa: pa + off,
                ripas,
            },
            Rtte::AssignedNs { pa, attrs } => Rtte::AssignedNs {
                pa: pa + off,
                attrs,
            },
            other => other,
        }
    }

    /// The values RMI_RTT_READ_ENTRY reports: state, descriptor, RIPAS (DEN0137 1.0,
    /// B4.3.20; `RttEntryState` folds the NS states into UNASSIGNED / ASSIGNED). The
    /// descriptor is in the realm's layout `fmt`, as the host passes one to
    /// RMI_RTT_MAP_UNPROTECTED: the address (with LPA2, OA\[51:50\] in bits \[9:8\]), and
    /// for ASSIGNED_NS MemAttr and S2AP; every other field zero.
    pub fn read_entry(self, fmt: DescFormat) -> (RmiRttEntryState, u64, RmiRipas) {
        match self {
            Rtte::Unassigned(ripas) => (RmiRttEntryState::Unassigned, 0, ripas),
            Rtte::Assigned { pa, ripas } => (RmiRttEntryState::Assigned, fmt.addr_field(pa), ripas),
            Rtte::UnassignedNs => (RmiRttEntryState::Unassigned, 0, RmiRipas::Empty),
            Rtte::AssignedNs { pa, attrs } => (
                RmiRttEntryState::Assigned,
                fmt.addr_field(pa) | attrs,
                RmiRipas::Empty,
            ),
            Rtte::Table(pa) => (RmiRttEntryState::Table, fmt.addr_field(pa), RmiRipas::Empty),
        }
    }
}

/// Fills `entries`, a new level `level` RTT, with the unfolding of its parent entry
/// `parent` (DEN0137 1.0, RMI_RTT_CREATE: entry `i` is [`Rtte::child_at`] offset `i`
/// entries), in the layout `fmt`; returns how many of them make the RTT live.
///
/// Children differ only in their output address, whose descriptor field is the address
/// itself (OA\[51:50\] with LPA2 never change inside an aligned block), so the first
/// child's descriptor plus `i` entry sizes is child `i`'s: one encode, not 512.
///
/// `entries` must be all zero on entry: the new RTT is a DELEGATED granule, and a
/// DELEGATED granule is all zero (`Rmm::scrub`, RMI_GRANULE_DELEGATE). Entries
/// whose descriptor is zero (children UNASSIGNED with RIPAS EMPTY, the state of every
/// IPA of a new realm) are therefore not written at all.
pub fn unfold(parent: Rtte, level: Level, fmt: DescFormat, entries: &mut [u64; ENTRIES]) -> u16 {
    debug_assert!(
        entries.iter().all(|&e| e == 0),
        "unfold into a non-zero table"
    );
    let first = parent.child_at(0);
    let desc = first.encode(level, fmt);
    let step = match first {
        Rtte::Assigned { .. } | Rtte::AssignedNs { .. } => entry_size(level),
        _ => 0,
    };
    let live = if first.makes_rtt_live() {
        ENTRIES as u16
    } else {
        0
    };
    if step == 0 {
        if desc == 0 {
            return live;
        }
        // One descriptor everywhere: eight entries per iteration, four paired stores.
        for eight in entries.chunks_exact_mut(8) {
            eight.fill(desc);
        }
        return live;
    }
    // Four entries per iteration: two paired stores and no multiplication.
    let mut d = desc;
    for four in entries.chunks_exact_mut(4) {
        four[0] = d;
        four[1] = d + step;
        four[2] = d + 2 * step;
        four[3] = d + 3 * step;
        d += 4 * step;
    }
    live
}

/// Whether a host MemAttr[2:0] (FEAT_S2FWB encoding) is cacheable Normal memory.
fn host_memattr_is_cacheable(desc: u64) -> bool {
    (desc & MEMATTR_HOST_MASK) >> MEMATTR_SHIFT & 0b110 == 0b110
}

/// DEN0137 1.0, `RttDescriptorIsValidForUnprotected`: only the host-controlled fields
/// (address, MemAttr\[2:0\], S2AP) may be set, and MemAttr must be an architecturally
/// valid FEAT_S2FWB encoding (Device types `0b0xx`, Normal Non-cacheable `0b101`,
/// Normal Write-Back `0b110`, stage-1 attributes `0b111`; `0b100` is reserved).
///
/// The condition is checked before the RD is known (attr_valid precedes rd_align), so
/// the address field is that of either layout: bits \[49:12\] and \[9:8\] (FEAT_LPA2's,
/// which contains the 48-bit one). [`UnprotectedDesc::decode`] then reads it in the
/// realm's layout; without LPA2, bits \[49:48\] and \[9:8\] make an address at or above
/// 2^48, which addr_bound rejects.
pub fn is_valid_for_unprotected(desc: u64) -> bool {
    let allowed = DescFormat::Lpa2.addr_bits() | HOST_ATTR_MASK;
    desc & !allowed == 0 && (desc & MEMATTR_MASK) >> MEMATTR_SHIFT != 0b100
}

/// A host's RMI_RTT_MAP_UNPROTECTED descriptor, read in a realm's layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnprotectedDesc {
    /// The output address (`rtte.addr`): with LPA2, OA\[51:50\] from bits \[9:8\];
    /// without it, bits \[49:48\] and \[9:8\] are read as address bits \[49:48\] and
    /// \[51:50\] as well, so that a descriptor using them names an address above 2^48.
    pub addr: u64,
    /// MemAttr\[2:0\] and S2AP.
    pub attrs: u64,
}

impl UnprotectedDesc {
    /// Reads a descriptor that [`is_valid_for_unprotected`] accepted.
    pub fn decode(desc: u64) -> Self {
        Self {
            addr: DescFormat::Lpa2.addr(desc),
            attrs: desc & HOST_ATTR_MASK,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P48: DescFormat = DescFormat::Pa48;
    const LPA2: DescFormat = DescFormat::Lpa2;

    fn ns(desc: u64) -> Rtte {
        let d = UnprotectedDesc::decode(desc);
        Rtte::AssignedNs {
            pa: d.addr,
            attrs: d.attrs,
        }
    }

    #[test]
    fn architectural_encodings() {
        let page = Rtte::Assigned {
            pa: 0x8000_1000,
            ripas: RmiRipas::Ram,
        }
        .encode(3, P48);
        assert_eq!(
            page,
            0x8000_1000 | 0b11 | 0b0110 << 2 | 3 << 6 | 3 << 8 | 1 << 10
        );
        let block = Rtte::Assigned {
            pa: 0x8020_0000,
            ripas: RmiRipas::Ram,
        }
        .encode(2, P48);
        assert_eq!(block & 0b11, 0b01);
        assert_eq!(Rtte::Table(0x9000_0000).encode(1, P48), 0x9000_0003);
        let n = ns(0x4000_2000 | 0b101 << 2 | 1 << 6).encode(3, P48);
        assert_eq!(
            n,
            0x4000_2000 | 0b11 | 0b101 << 2 | 1 << 6 | 2 << 8 | 1 << 10 | 2 << 53 | 1 << 55
        );
        let ns_wb = ns(0x4000_2000 | 0b110 << 2 | 3 << 6).encode(3, P48);
        assert_eq!(ns_wb & (3 << 8), 3 << 8, "cacheable: inner shareable");
        assert_eq!(Rtte::Unassigned(RmiRipas::Empty).encode(3, P48), 0);
        assert_eq!(Rtte::Unassigned(RmiRipas::Ram).encode(3, P48), 1 << 5);
        assert_eq!(Rtte::UnassignedNs.encode(2, P48), 2 << 2);
    }

    /// Arm ARM D8.3 with `VTCR_EL2.DS = 1`: OA\[49:12\] in bits \[49:12\], OA\[51:50\] in
    /// bits \[9:8\], no SH field.
    #[test]
    fn lpa2_encodings() {
        // PA bits 51, 50, 48 and 12 set.
        let pa = 0x000D_0000_0000_1000;
        let page = Rtte::Assigned {
            pa,
            ripas: RmiRipas::Ram,
        }
        .encode(3, LPA2);
        assert_eq!(
            page,
            0x0001_0000_0000_1000 | 0b11 << 8 | 0b11 | 0b0110 << 2 | 3 << 6 | 1 << 10
        );
        let low = Rtte::Assigned {
            pa: 0x8000_1000,
            ripas: RmiRipas::Ram,
        }
        .encode(3, LPA2);
        assert_eq!(low & (3 << 8), 0, "no SH bits: VTCR_EL2.SH0 applies");
        assert_eq!(
            Rtte::Table(0x000E_0000_4000_0000).encode(-1, LPA2),
            0x0002_0000_4000_0000 | 0b11 << 8 | 0b11
        );
        let n = ns(0x0003_0000_0020_0000 | 0b10 << 8 | 0b101 << 2 | 1 << 6).encode(2, LPA2);
        assert_eq!(
            n,
            0x0003_0000_0020_0000
                | 0b10 << 8
                | 0b01
                | 0b101 << 2
                | 1 << 6
                | 1 << 10
                | 2 << 53
                | 1 << 55,
            "non-cacheable: no Outer Shareable SH, the address bits stay"
        );
        let destroyed = Rtte::Assigned {
            pa,
            ripas: RmiRipas::Destroyed,
        };
        assert_eq!(destroyed.encode(3, LPA2) & 1, 0);
        assert_eq!(
            destroyed.read_entry(LPA2),
            (
                RmiRttEntryState::Assigned,
                0x0001_0000_0000_1000 | 3 << 8,
                RmiRipas::Destroyed
            )
        );
        assert_eq!(DescFormat::Lpa2.addr(page), pa);
    }

    #[test]
    fn round_trips() {
        let all = |pa: u64| {
            [
                Rtte::Unassigned(RmiRipas::Empty),
                Rtte::Unassigned(RmiRipas::Ram),
                Rtte::Unassigned(RmiRipas::Destroyed),
                Rtte::Assigned {
                    pa,
                    ripas: RmiRipas::Empty,
                },
                Rtte::Assigned {
                    pa,
                    ripas: RmiRipas::Ram,
                },
                Rtte::Assigned {
                    pa,
                    ripas: RmiRipas::Destroyed,
                },
                Rtte::UnassignedNs,
                Rtte::AssignedNs {
                    pa,
                    attrs: 0b110 << 2 | 3 << 6,
                },
                Rtte::AssignedNs {
                    pa,
                    attrs: 0b001 << 2 | 1 << 6,
                },
            ]
        };
        for (fmt, pa) in [
            (P48, 0x8000_0000),
            (LPA2, 0x8000_0000),
            (LPA2, 0x000F_FFFF_C000_0000),
        ] {
            for level in 1..=3 {
                for e in all(pa) {
                    assert_eq!(
                        Rtte::decode(e.encode(level, fmt), level, fmt),
                        Some(e),
                        "{e:?} at {level} in {fmt:?}"
                    );
                }
            }
            for level in -1..=2 {
                let t = Rtte::Table(pa | 0x1000);
                assert_eq!(Rtte::decode(t.encode(level, fmt), level, fmt), Some(t));
            }
        }
        assert_eq!(
            Rtte::decode(0b01, 3, P48),
            None,
            "a block at level 3 is invalid"
        );
        assert_eq!(Rtte::decode(7 << 2, 3, P48), None, "unknown HIPAS");
        assert_eq!(Rtte::decode(3 << 5, 3, P48), None, "unknown RIPAS");
    }

    /// DEN0137 1.0, A5.5.8: which states make an entry live, and which make its RTT
    /// live.
    #[test]
    fn entry_liveness_and_rtt_liveness() {
        let cases = [
            (Rtte::Unassigned(RmiRipas::Empty), false, false),
            (Rtte::Unassigned(RmiRipas::Ram), false, false),
            (Rtte::Unassigned(RmiRipas::Destroyed), false, false),
            (
                Rtte::Assigned {
                    pa: 0x8000_0000,
                    ripas: RmiRipas::Empty,
                },
                true,
                true,
            ),
            (
                Rtte::Assigned {
                    pa: 0x8000_0000,
                    ripas: RmiRipas::Ram,
                },
                true,
                true,
            ),
            (
                Rtte::Assigned {
                    pa: 0x8000_0000,
                    ripas: RmiRipas::Destroyed,
                },
                true,
                true,
            ),
            (Rtte::UnassignedNs, false, false),
            (
                Rtte::AssignedNs {
                    pa: 0x4000_0000,
                    attrs: 0,
                },
                true,
                false,
            ),
            (Rtte::Table(0x8100_0000), true, true),
        ];
        for (e, entry_live, rtt_live) in cases {
            assert_eq!(e.is_live(), entry_live, "RTTE liveness of {e:?}");
            assert_eq!(e.makes_rtt_live(), rtt_live, "RTT liveness from {e:?}");
        }
    }

    #[test]
    fn unprotected_descriptor_rules() {
        assert!(is_valid_for_unprotected(0x4000_1000 | 0b110 << 2 | 3 << 6));
        assert!(is_valid_for_unprotected(0x4000_1000));
        assert!(!is_valid_for_unprotected(0x4000_1000 | 0b100 << 2));
        assert!(
            !is_valid_for_unprotected(0x4000_1000 | 1 << 5),
            "MemAttr[3] is RES0"
        );
        assert!(
            !is_valid_for_unprotected(0x4000_1000 | 1),
            "valid bit is the RMM's"
        );
        assert!(
            !is_valid_for_unprotected(0x4000_1000 | 1 << 10),
            "AF is the RMM's"
        );
        assert!(
            !is_valid_for_unprotected(0x4000_1000 | 1 << 55),
            "NS is the RMM's"
        );
        assert!(!is_valid_for_unprotected(1 << 50), "address above 52 bits");
        // Address bits [49:48] and OA[51:50] in [9:8] are an address in the LPA2
        // layout, at or above 2^48: valid descriptors whose address addr_bound rejects
        // for a realm without LPA2.
        for d in [1u64 << 48, 1 << 49, 1 << 8, 1 << 9] {
            assert!(is_valid_for_unprotected(d), "{d:#x}");
            assert!(UnprotectedDesc::decode(d).addr >= 1 << 48, "{d:#x}");
        }
        assert_eq!(
            UnprotectedDesc::decode(0x0001_0000_0020_0000 | 0b10 << 8 | 0b110 << 2 | 3 << 6),
            UnprotectedDesc {
                addr: 0x0009_0000_0020_0000,
                attrs: 0b110 << 2 | 3 << 6
            }
        );
    }

    /// `unfold` against the definition: every child encoded on its own.
    #[test]
    fn unfold_matches_children_encoded_one_by_one() {
        let parents = [
            Rtte::Unassigned(RmiRipas::Empty),
            Rtte::Unassigned(RmiRipas::Ram),
            Rtte::Unassigned(RmiRipas::Destroyed),
            Rtte::UnassignedNs,
            Rtte::Assigned {
                pa: 0x000D_0000_4000_0000,
                ripas: RmiRipas::Ram,
            },
            Rtte::Assigned {
                pa: 0x8000_0000,
                ripas: RmiRipas::Empty,
            },
            Rtte::Assigned {
                pa: 0x000F_FFFF_C000_0000,
                ripas: RmiRipas::Destroyed,
            },
            ns(0x0003_0000_4000_0000 | 0b10 << 8 | 0b101 << 2 | 1 << 6),
            ns(0x7FC0_0000 | 0b111 << 2 | 3 << 6),
        ];
        for fmt in [P48, LPA2] {
            for level in [2, 3] {
                for parent in parents {
                    let oa = parent.read_entry(LPA2).1;
                    if fmt == P48 && (oa >> 48 != 0 || oa & (3 << 8) != 0) {
                        continue; // an output address above 48 bits needs LPA2
                    }
                    let parent = match parent {
                        Rtte::Assigned { pa, ripas } => Rtte::Assigned {
                            pa: pa & !(entry_size(level - 1) - 1),
                            ripas,
                        },
                        Rtte::AssignedNs { pa, attrs } => Rtte::AssignedNs {
                            pa: pa & !(entry_size(level - 1) - 1),
                            attrs,
                        },
                        other => other,
                    };
                    let mut entries = [0u64; ENTRIES];
                    let live = unfold(parent, level, fmt, &mut entries);
                    for (i, &d) in entries.iter().enumerate() {
                        let child = parent.child_at(i as u64 * entry_size(level));
                        assert_eq!(
                            d,
                            child.encode(level, fmt),
                            "{parent:?} {fmt:?} L{level} [{i}]"
                        );
                        assert_eq!(Rtte::decode(d, level, fmt), Some(child));
                    }
                    let expect = if parent.makes_rtt_live() { 512 } else { 0 };
                    assert_eq!(live, expect, "{parent:?}");
                }
            }
        }
    }
}
