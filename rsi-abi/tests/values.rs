//! RSI status codes, enumerations, flags, version and constants.

use proptest::prelude::*;
use rmi_abi::{RmiHashAlgorithm, RmiResponse, RmiRipas};
use rsi_abi::attest::*;
use rsi_abi::measurement::*;
use rsi_abi::*;

macro_rules! check_enum {
    ($ty:ident, [$($variant:ident = $val:expr),+ $(,)?], first_invalid = $bad:expr) => {{
        let expected = [$(($ty::$variant, $val as u64)),+];
        assert_eq!($ty::ALL.len(), expected.len(), stringify!($ty));
        for (v, raw) in expected {
            assert_eq!(u64::from(v), raw);
            assert_eq!($ty::decode(raw), Ok(v));
            assert_eq!($ty::try_from(raw as u8), Ok(v));
        }
        let bad: u64 = $bad;
        assert_eq!($ty::try_from(bad), Err(bad), stringify!($ty));
        assert_eq!($ty::decode(u64::MAX), Err(u64::MAX));
        assert_eq!($ty::decode(0x100), Err(0x100));
    }};
}

#[test]
fn status_codes() {
    check_enum!(
        RsiStatus,
        [
            Success = 0,
            ErrorInput = 1,
            ErrorState = 2,
            Incomplete = 3,
            ErrorUnknown = 4
        ],
        first_invalid = 5
    );
    assert_eq!(RsiStatus::ErrorUnknown.raw(), 4u64);
}

#[test]
fn enumerations() {
    check_enum!(
        RsiRipas,
        [Empty = 0, Ram = 1, Destroyed = 2, Dev = 3],
        first_invalid = 4
    );
    check_enum!(RsiResponse, [Accept = 0, Reject = 1], first_invalid = 2);
    check_enum!(
        RsiRipasChangeDestroyed,
        [NoChangeDestroyed = 0, ChangeDestroyed = 1],
        first_invalid = 2
    );
    check_enum!(
        RsiHashAlgorithm,
        [Sha256 = 0, Sha512 = 1],
        first_invalid = 2
    );
}

#[test]
fn conversions_from_rmi() {
    assert_eq!(RsiRipas::from(RmiRipas::Destroyed), RsiRipas::Destroyed);
    assert_eq!(RmiRipas::try_from(RsiRipas::Ram), Ok(RmiRipas::Ram));
    assert_eq!(RmiRipas::try_from(RsiRipas::Dev), Err(RsiRipas::Dev));
    assert_eq!(RsiResponse::from(RmiResponse::Reject), RsiResponse::Reject);
    assert_eq!(
        RsiHashAlgorithm::from(RmiHashAlgorithm::Sha512),
        RsiHashAlgorithm::Sha512
    );
    for r in RmiRipas::ALL {
        assert_eq!(u64::from(RsiRipas::from(*r)), u64::from(*r));
    }
}

#[test]
fn ripas_change_flags() {
    assert_eq!(RsiRipasChangeFlags::DEFINED, 1);
    let f = RsiRipasChangeFlags::decode(1).unwrap();
    assert!(f.change_destroyed());
    assert_eq!(f.destroyed(), RsiRipasChangeDestroyed::ChangeDestroyed);
    assert_eq!(
        RsiRipasChangeFlags::ZERO.destroyed(),
        RsiRipasChangeDestroyed::NoChangeDestroyed
    );
    assert_eq!(RsiRipasChangeFlags::ZERO.with_change_destroyed(true), f);
    assert_eq!(RsiRipasChangeFlags::decode(2), Err(2));
    assert_eq!(RsiRipasChangeFlags::decode(u64::MAX), Err(u64::MAX));
}

#[test]
fn version_and_constants() {
    assert_eq!(RSI_ABI_VERSION.encode(), 0x1_0000);
    assert_eq!(AbiVersion::decode(0x1_0000), Ok(RSI_ABI_VERSION));
    assert_eq!((MEASUREMENT_SLOT_RIM, MEASUREMENT_SLOT_REM_FIRST), (0, 1));
    assert_eq!((MEASUREMENT_SLOT_REM_LAST, MEASUREMENT_SLOTS), (4, 5));
    assert_eq!(MAX_MEASUREMENT_SIZE, 64);
    assert!(is_readable_slot(0) && is_readable_slot(4) && !is_readable_slot(5));
    assert!(!is_extendable_slot(0) && is_extendable_slot(1) && is_extendable_slot(4));
    assert!(!is_extendable_slot(5) && !is_extendable_slot(u64::MAX));
    assert_eq!(ATTEST_CHALLENGE_SIZE, 64);
    assert_eq!(CCA_TOKEN_TAG, 399);
    assert_eq!(
        (CCA_PLATFORM_TOKEN_LABEL, CCA_REALM_DELEGATED_TOKEN_LABEL),
        (0xACCA, 44241)
    );
    assert_eq!(REALM_PERSONALIZATION_VALUE_LABEL, 44235);
    assert_eq!(REALM_PUBLIC_KEY_HASH_ALGO_ID_LABEL, 44240);
    assert_eq!(REALM_PROFILE, "tag:arm.com,2023:realm#1.0.0");
}

proptest! {
    #[test]
    fn status_decode_accepts_only_0_to_4(v in any::<u64>()) {
        match RsiStatus::decode(v) {
            Ok(s) => { prop_assert!(v <= 4); prop_assert_eq!(u64::from(s), v); }
            Err(e) => { prop_assert!(v > 4); prop_assert_eq!(e, v); }
        }
    }
}
