//! RMI return codes: packing and unpacking.

use proptest::prelude::*;
use rmi_abi::status::{decode_result, pack, return_code, unpack};
use rmi_abi::{RmiError, RmiStatus};

#[test]
fn status_values() {
    let all = [
        (RmiStatus::Success, 0u8),
        (RmiStatus::ErrorInput, 1),
        (RmiStatus::ErrorRealm, 2),
        (RmiStatus::ErrorRec, 3),
        (RmiStatus::ErrorRtt, 4),
    ];
    for (s, v) in all {
        assert_eq!(s as u8, v);
        assert_eq!(RmiStatus::try_from(v), Ok(s));
    }
    assert_eq!(RmiStatus::try_from(5), Err(5));
    assert_eq!(RmiStatus::try_from(u8::MAX), Err(u8::MAX));
}

#[test]
fn return_codes() {
    assert_eq!(RmiError::Rtt(3).return_code(), 0x304);
    assert_eq!(RmiError::Rtt(-1).return_code(), 0xFF04);
    assert_eq!(RmiError::Input.return_code(), 0x1);
    assert_eq!(RmiError::Realm(1).return_code(), 0x102);
    assert_eq!(RmiError::Rec.return_code(), 0x3);
    assert_eq!(pack(RmiStatus::ErrorRtt, 2), 0x204);
    assert_eq!(return_code::<()>(&Ok(())), 0);
    assert_eq!(return_code::<u8>(&Err(RmiError::Realm(0))), 0x2);
}

#[test]
fn unpack_rejects_malformed_codes() {
    assert_eq!(unpack(0x304), Ok((RmiStatus::ErrorRtt, 3)));
    assert_eq!(unpack(0x1_0000), Err(0x1_0000));
    assert_eq!(unpack(0x05), Err(0x05));
    assert_eq!(unpack(u64::MAX), Err(u64::MAX));
    assert_eq!(decode_result(0), Ok(Ok(())));
    assert_eq!(decode_result(0x100), Err(0x100));
    assert_eq!(decode_result(0x101), Err(0x101));
    assert_eq!(decode_result(0x103), Err(0x103));
    assert_eq!(decode_result(0xFF04), Ok(Err(RmiError::Rtt(-1))));
}

fn any_error() -> impl Strategy<Value = RmiError> {
    prop_oneof![
        Just(RmiError::Input),
        Just(RmiError::Rec),
        any::<u8>().prop_map(RmiError::Realm),
        any::<i8>().prop_map(RmiError::Rtt),
    ]
}

proptest! {
    #[test]
    fn error_round_trip(e in any_error()) {
        let code = e.return_code();
        prop_assert_eq!(code >> 16, 0);
        prop_assert_eq!(code & 0xFF, e.status() as u64);
        prop_assert_eq!(decode_result(code), Ok(Err(e)));
    }

    #[test]
    fn unpack_inverts_pack(s in 0u8..=4, index in any::<u8>()) {
        let status = RmiStatus::try_from(s).unwrap();
        prop_assert_eq!(unpack(pack(status, index)), Ok((status, index)));
    }

    #[test]
    fn high_bits_always_rejected(code in any::<u64>().prop_filter("high", |c| c >> 16 != 0)) {
        prop_assert_eq!(unpack(code), Err(code));
        prop_assert_eq!(decode_result(code), Err(code));
    }
}
