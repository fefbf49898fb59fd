//! RMI enumerations: every encoding, the first invalid value, truncation traps and
//! `u64::MAX`.

use rmi_abi::*;

macro_rules! check_enum {
    ($ty:ident, [$($variant:ident = $val:expr),+ $(,)?], first_invalid = $bad:expr) => {{
        let expected = [$(($ty::$variant, $val as u64)),+];
        assert_eq!($ty::ALL.len(), expected.len(), stringify!($ty));
        for (i, (v, raw)) in expected.into_iter().enumerate() {
            assert_eq!($ty::ALL[i], v);
            assert_eq!(v.raw() as u64, raw);
            assert_eq!(u64::from(v), raw);
            assert_eq!($ty::decode(raw), Ok(v));
            assert_eq!($ty::try_from(raw), Ok(v));
            assert_eq!($ty::try_from(raw as u8), Ok(v));
        }
        let bad: u64 = $bad;
        assert_eq!($ty::decode(bad), Err(bad), stringify!($ty));
        assert_eq!($ty::try_from(bad as u8), Err(bad as u8));
        assert_eq!($ty::decode(u64::MAX), Err(u64::MAX));
        assert_eq!($ty::try_from(u8::MAX), Err(u8::MAX));
        // A valid low byte with higher bits set must not decode (no truncation).
        assert_eq!($ty::decode(0x100), Err(0x100));
        assert_eq!($ty::decode(1 << 63), Err(1 << 63));
    }};
}

#[test]
fn ripas() {
    check_enum!(
        RmiRipas,
        [Empty = 0, Ram = 1, Destroyed = 2],
        first_invalid = 3
    );
}

#[test]
fn rtt_entry_state() {
    check_enum!(
        RmiRttEntryState,
        [Unassigned = 0, Assigned = 1, Table = 2],
        first_invalid = 3
    );
}

#[test]
fn realm_state() {
    check_enum!(
        RmiRealmState,
        [New = 0, Active = 1, SystemOff = 2],
        first_invalid = 3
    );
}

#[test]
fn rec_exit_reason() {
    check_enum!(
        RmiRecExitReason,
        [
            Sync = 0,
            Irq = 1,
            Fiq = 2,
            Psci = 3,
            RipasChange = 4,
            HostCall = 5,
            Serror = 6
        ],
        first_invalid = 7
    );
}

#[test]
fn data_flags() {
    check_enum!(
        RmiDataFlags,
        [NoMeasureContent = 0, MeasureContent = 1],
        first_invalid = 2
    );
    assert_eq!(
        RmiDataMeasureContent::decode(1),
        Ok(RmiDataFlags::MeasureContent)
    );
}

#[test]
fn hash_algorithm() {
    check_enum!(
        RmiHashAlgorithm,
        [Sha256 = 0, Sha512 = 1],
        first_invalid = 2
    );
    assert_eq!(RmiHashAlgorithm::Sha256.digest_size(), 32);
    assert_eq!(RmiHashAlgorithm::Sha512.digest_size(), 64);
}

#[test]
fn response() {
    check_enum!(RmiResponse, [Accept = 0, Reject = 1], first_invalid = 2);
    assert_eq!(RmiResponse::from(true), RmiResponse::Reject);
    assert_eq!(RmiResponse::from(false), RmiResponse::Accept);
}

#[test]
fn pmu_overflow_status() {
    check_enum!(
        RmiPmuOverflowStatus,
        [NotActive = 0, Active = 1],
        first_invalid = 2
    );
}

#[test]
fn rec_runnable() {
    check_enum!(
        RmiRecRunnable,
        [NotRunnable = 0, Runnable = 1],
        first_invalid = 2
    );
    assert_eq!(RmiRecRunnable::from(true), RmiRecRunnable::Runnable);
    assert_eq!(RmiRecRunnable::from(false), RmiRecRunnable::NotRunnable);
}
