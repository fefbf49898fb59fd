//! Interface version encoding (RmiInterfaceVersion).

use proptest::prelude::*;
use rmi_abi::{AbiVersion, RMI_ABI_VERSION};

#[test]
fn version_1_0() {
    assert_eq!(RMI_ABI_VERSION.encode(), 0x1_0000);
    assert_eq!(AbiVersion::decode(0x1_0000), Ok(AbiVersion::new(1, 0)));
    assert_eq!(AbiVersion::new(1, 1).encode(), 0x1_0001);
    assert_eq!(AbiVersion::new(0x7FFF, 0xFFFF).encode(), 0x7FFF_FFFF);
}

#[test]
fn reserved_bits_rejected() {
    assert_eq!(AbiVersion::decode(0x8000_0000), Err(0x8000_0000));
    assert_eq!(
        AbiVersion::decode(1 << 32 | 0x1_0000),
        Err(1 << 32 | 0x1_0000)
    );
    assert_eq!(AbiVersion::decode(u64::MAX), Err(u64::MAX));
}

#[test]
fn ordering_is_major_then_minor() {
    assert!(AbiVersion::new(1, 0) < AbiVersion::new(1, 1));
    assert!(AbiVersion::new(1, 0xFFFF) < AbiVersion::new(2, 0));
}

proptest! {
    #[test]
    fn round_trip(major in 0u16..0x8000, minor in any::<u16>()) {
        let v = AbiVersion::new(major, minor);
        prop_assert_eq!(v.encode(), (major as u64) << 16 | minor as u64);
        prop_assert_eq!(AbiVersion::decode(v.encode()), Ok(v));
    }

    #[test]
    fn decode_accepts_exactly_31_bit_values(raw in any::<u64>()) {
        prop_assert_eq!(AbiVersion::decode(raw).is_ok(), raw < 1 << 31);
    }
}
