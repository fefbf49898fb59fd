//! RTT entries (DEN0137 1.0, A5.5.4) and their encoding in stage-2 descriptors.
//!
//! Valid descriptors are architectural (Arm ARM, VMSAv8-64 stage 2, 4 KiB granule):
//! - TABLE: `[1:0] = 0b11` at levels 0..=2, next-level table address in `[47:12]`.
//! - ASSIGNED with RIPAS RAM: a block (`0b01`, levels 1..=2) or page (`0b11`, level 3)
//!   with MemAttr `0b0110` (Normal Write-Back under FEAT_S2FWB), S2AP read/write,
//!   Inner Shareable, AF set.
//! - ASSIGNED_NS: as above with the host's address, MemAttr[2:0] and S2AP, bit 55 (NS:
//!   output in the Non-secure PAS), AF set, execute-never, shareability from MemAttr.
//!
//! Entries the realm cannot access are invalid descriptors (bit 0 clear), whose other
//! bits the hardware ignores; the RMM keeps its state there: HIPAS in `[4:2]`, RIPAS in
//! `[6:5]`, and for ASSIGNED (RIPAS EMPTY or DESTROYED) the DATA granule's address.

use rmi_abi::enums::{RmiRipas, RmiRttEntryState};

use super::geometry::{Level, PAGE_LEVEL};

const VALID: u64 = 1 << 0;
const TABLE_OR_PAGE: u64 = 1 << 1;
const ADDR_MASK: u64 = 0x0000_FFFF_FFFF_F000;
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

const HIPAS_SHIFT: u32 = 2;
const HIPAS_MASK: u64 = 0x7 << HIPAS_SHIFT;
const HIPAS_UNASSIGNED: u64 = 0;
const HIPAS_ASSIGNED: u64 = 1;
const HIPAS_UNASSIGNED_NS: u64 = 2;
const RIPAS_SHIFT: u32 = 5;
const RIPAS_MASK: u64 = 0x3 << RIPAS_SHIFT;

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
    /// ASSIGNED_NS (unprotected IPA): the host-controlled attributes (address,
    /// MemAttr[2:0], S2AP), as the host gave them.
    AssignedNs(u64),
    /// TABLE: the next-level RTT at `pa`.
    Table(u64),
}

impl Rtte {
    /// Encodes the entry as a descriptor of a level `level` RTT.
    pub fn encode(self, level: Level) -> u64 {
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
            } => pa & ADDR_MASK | leaf_type | MEMATTR_NORMAL_WB | S2AP_RW | SH_INNER | AF,
            Rtte::Assigned { pa, ripas } => {
                pa & ADDR_MASK | HIPAS_ASSIGNED << HIPAS_SHIFT | (ripas.raw() as u64) << RIPAS_SHIFT
            }
            Rtte::UnassignedNs => HIPAS_UNASSIGNED_NS << HIPAS_SHIFT,
            Rtte::AssignedNs(host) => {
                let sh = if host_memattr_is_cacheable(host) {
                    SH_INNER
                } else {
                    SH_OUTER
                };
                host & (ADDR_MASK | MEMATTR_HOST_MASK | S2AP_MASK) | leaf_type | sh | AF | XN | NS
            }
            Rtte::Table(pa) => pa & ADDR_MASK | VALID | TABLE_OR_PAGE,
        }
    }

    /// Decodes a descriptor read from a level `level` RTT. Only descriptors this RMM
    /// writes are meaningful; anything else decodes to `None`.
    pub fn decode(desc: u64, level: Level) -> Option<Self> {
        if desc & VALID == 0 {
            let ripas = RmiRipas::decode((desc & RIPAS_MASK) >> RIPAS_SHIFT).ok()?;
            return match (desc & HIPAS_MASK) >> HIPAS_SHIFT {
                HIPAS_UNASSIGNED => Some(Rtte::Unassigned(ripas)),
                HIPAS_ASSIGNED if ripas != RmiRipas::Ram => Some(Rtte::Assigned {
                    pa: desc & ADDR_MASK,
                    ripas,
                }),
                HIPAS_UNASSIGNED_NS => Some(Rtte::UnassignedNs),
                _ => None,
            };
        }
        let is_table_or_page = desc & TABLE_OR_PAGE != 0;
        if level < PAGE_LEVEL && is_table_or_page {
            return Some(Rtte::Table(desc & ADDR_MASK));
        }
        if level == PAGE_LEVEL && !is_table_or_page {
            return None;
        }
        if desc & NS != 0 {
            Some(Rtte::AssignedNs(
                desc & (ADDR_MASK | MEMATTR_HOST_MASK | S2AP_MASK),
            ))
        } else {
            Some(Rtte::Assigned {
                pa: desc & ADDR_MASK,
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
            Rtte::Assigned { .. } | Rtte::AssignedNs(_) | Rtte::Table(_)
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

    /// The values RMI_RTT_READ_ENTRY reports: state, descriptor, RIPAS (DEN0137 1.0,
    /// B4.3.20; `RttEntryState` folds the NS states into UNASSIGNED / ASSIGNED).
    pub fn read_entry(self) -> (RmiRttEntryState, u64, RmiRipas) {
        match self {
            Rtte::Unassigned(ripas) => (RmiRttEntryState::Unassigned, 0, ripas),
            Rtte::Assigned { pa, ripas } => (RmiRttEntryState::Assigned, pa, ripas),
            Rtte::UnassignedNs => (RmiRttEntryState::Unassigned, 0, RmiRipas::Empty),
            Rtte::AssignedNs(host) => (RmiRttEntryState::Assigned, host, RmiRipas::Empty),
            Rtte::Table(pa) => (RmiRttEntryState::Table, pa, RmiRipas::Empty),
        }
    }
}

/// Whether a host MemAttr[2:0] (FEAT_S2FWB encoding) is cacheable Normal memory.
fn host_memattr_is_cacheable(desc: u64) -> bool {
    (desc & MEMATTR_HOST_MASK) >> MEMATTR_SHIFT & 0b110 == 0b110
}

/// DEN0137 1.0, `RttDescriptorIsValidForUnprotected`: only the host-controlled fields
/// (address, MemAttr[2:0], S2AP) may be set, and MemAttr must be an architecturally
/// valid FEAT_S2FWB encoding (Device types `0b0xx`, Normal Non-cacheable `0b101`,
/// Normal Write-Back `0b110`, stage-1 attributes `0b111`; `0b100` is reserved).
pub fn is_valid_for_unprotected(desc: u64) -> bool {
    let allowed = ADDR_MASK | MEMATTR_HOST_MASK | S2AP_MASK;
    desc & !allowed == 0 && (desc & MEMATTR_MASK) >> MEMATTR_SHIFT != 0b100
}

/// The output address field of a descriptor the host passed.
pub fn host_desc_addr(desc: u64) -> u64 {
    desc & ADDR_MASK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn architectural_encodings() {
        let page = Rtte::Assigned {
            pa: 0x8000_1000,
            ripas: RmiRipas::Ram,
        }
        .encode(3);
        assert_eq!(
            page,
            0x8000_1000 | 0b11 | 0b0110 << 2 | 3 << 6 | 3 << 8 | 1 << 10
        );
        let block = Rtte::Assigned {
            pa: 0x8020_0000,
            ripas: RmiRipas::Ram,
        }
        .encode(2);
        assert_eq!(block & 0b11, 0b01);
        assert_eq!(Rtte::Table(0x9000_0000).encode(1), 0x9000_0003);
        let ns = Rtte::AssignedNs(0x4000_2000 | 0b101 << 2 | 1 << 6).encode(3);
        assert_eq!(
            ns,
            0x4000_2000 | 0b11 | 0b101 << 2 | 1 << 6 | 2 << 8 | 1 << 10 | 2 << 53 | 1 << 55
        );
        let ns_wb = Rtte::AssignedNs(0x4000_2000 | 0b110 << 2 | 3 << 6).encode(3);
        assert_eq!(ns_wb & (3 << 8), 3 << 8, "cacheable: inner shareable");
        assert_eq!(Rtte::Unassigned(RmiRipas::Empty).encode(3), 0);
        assert_eq!(Rtte::Unassigned(RmiRipas::Ram).encode(3), 1 << 5);
        assert_eq!(Rtte::UnassignedNs.encode(2), 2 << 2);
    }

    #[test]
    fn round_trips() {
        let all = [
            Rtte::Unassigned(RmiRipas::Empty),
            Rtte::Unassigned(RmiRipas::Ram),
            Rtte::Unassigned(RmiRipas::Destroyed),
            Rtte::Assigned {
                pa: 0x8000_0000,
                ripas: RmiRipas::Empty,
            },
            Rtte::Assigned {
                pa: 0x8000_0000,
                ripas: RmiRipas::Ram,
            },
            Rtte::Assigned {
                pa: 0x8000_0000,
                ripas: RmiRipas::Destroyed,
            },
            Rtte::UnassignedNs,
            Rtte::AssignedNs(0x4000_0000 | 0b110 << 2 | 3 << 6),
        ];
        for level in 1..=3 {
            for e in all {
                assert_eq!(
                    Rtte::decode(e.encode(level), level),
                    Some(e),
                    "{e:?} at {level}"
                );
            }
        }
        for level in 0..=2 {
            let t = Rtte::Table(0x8100_0000);
            assert_eq!(Rtte::decode(t.encode(level), level), Some(t));
        }
        assert_eq!(Rtte::decode(0b01, 3), None, "a block at level 3 is invalid");
        assert_eq!(Rtte::decode(7 << 2, 3), None, "unknown HIPAS");
        assert_eq!(Rtte::decode(3 << 5, 3), None, "unknown RIPAS");
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
            (Rtte::AssignedNs(0x4000_0000), true, false),
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
        assert!(!is_valid_for_unprotected(1 << 48), "address above 48 bits");
    }
}
