//! RmiRecMpidr: layout, REC index mapping and MPIDR_EL1 conversion.

use proptest::prelude::*;
use rmi_abi::mpidr::{MPIDR_EL1_REC_AFFINITY_MASK, REC_INDEX_LIMIT};
use rmi_abi::RmiRecMpidr;

#[test]
fn layout_matches_b4_4_18() {
    assert_eq!(RmiRecMpidr::DEFINED, 0xFFFF_FF0F);
    let m = RmiRecMpidr::decode(0x44_33_22_01).unwrap();
    assert_eq!(
        (m.aff0(), m.aff1(), m.aff2(), m.aff3()),
        (1, 0x22, 0x33, 0x44)
    );
    assert_eq!(m.index(), 1 | 0x22 << 4 | 0x33 << 12 | 0x44 << 20);
}

#[test]
fn index_examples_from_a2_3_3() {
    let at = |i| RmiRecMpidr::from_index(i).unwrap().bits();
    assert_eq!(at(0), 0);
    assert_eq!(at(1), 1);
    assert_eq!(at(15), 0xF);
    assert_eq!(at(16), 0x100);
    assert_eq!(at(4096), 0x1_0000);
    assert_eq!(at(1_048_576), 0x100_0000);
    assert_eq!(at(REC_INDEX_LIMIT - 1), 0xFFFF_FF0F);
    assert_eq!(RmiRecMpidr::from_index(REC_INDEX_LIMIT), None);
    assert_eq!(RmiRecMpidr::from_index(u64::MAX), None);
}

#[test]
fn reserved_bits_rejected() {
    // Aff0 > 15 (bits [7:4]).
    assert_eq!(RmiRecMpidr::decode(0x10), Err(0x10));
    assert_eq!(RmiRecMpidr::decode(0xF0), Err(0xF0));
    // Bits [63:32], e.g. the architectural Aff3 position.
    assert_eq!(RmiRecMpidr::decode(1 << 32), Err(1 << 32));
    assert_eq!(RmiRecMpidr::decode(u64::MAX), Err(u64::MAX));
}

#[test]
fn mpidr_el1_conversion_moves_aff3() {
    let m = RmiRecMpidr::decode(0xAB_12_34_05).unwrap();
    assert_eq!(m.to_mpidr_el1(), 0xAB_0012_3405);
    assert_eq!(RmiRecMpidr::from_mpidr_el1(0xAB_0012_3405), Ok(m));
    assert_eq!(MPIDR_EL1_REC_AFFINITY_MASK, 0xFF_00FF_FF0F);
    // MT (bit 24), U (bit 30), RES1 (bit 31) and Aff0[7:4] are not affinity bits here.
    for bad in [1u64 << 24, 1 << 30, 1 << 31, 0x10, 1 << 40] {
        assert_eq!(RmiRecMpidr::from_mpidr_el1(bad), Err(bad));
    }
}

proptest! {
    #[test]
    fn index_round_trip(i in 0..REC_INDEX_LIMIT) {
        let m = RmiRecMpidr::from_index(i).unwrap();
        prop_assert_eq!(m.index(), i);
        prop_assert_eq!(RmiRecMpidr::decode(m.bits()), Ok(m));
        prop_assert_eq!(RmiRecMpidr::from_mpidr_el1(m.to_mpidr_el1()), Ok(m));
    }

    #[test]
    fn decode_index_round_trip(v in any::<u64>()) {
        match RmiRecMpidr::decode(v) {
            Ok(m) => prop_assert_eq!(RmiRecMpidr::from_index(m.index()), Some(m)),
            Err(e) => { prop_assert_eq!(e, v); prop_assert_ne!(v & !0xFFFF_FF0F, 0); }
        }
    }
}
