//! RMI flag words: bit positions, setters and rejection of reserved bits.

use proptest::prelude::*;
use rmi_abi::{RmiRealmFlags, RmiRecCreateFlags, RmiRecEnterFlags, RmiRecRunnable, RmiResponse};

#[test]
fn realm_flags_bits() {
    assert_eq!(RmiRealmFlags::DEFINED, 0b111);
    assert_eq!(RmiRealmFlags::ZERO.with_lpa2(true).bits(), 1);
    assert_eq!(RmiRealmFlags::ZERO.with_sve(true).bits(), 2);
    assert_eq!(RmiRealmFlags::ZERO.with_pmu(true).bits(), 4);
    let f = RmiRealmFlags::decode(0b101).unwrap();
    assert!(f.lpa2() && !f.sve() && f.pmu());
    assert_eq!(f.with_lpa2(false).bits(), 0b100);
    assert_eq!(RmiRealmFlags::decode(0b1000), Err(0b1000));
    assert_eq!(RmiRealmFlags::decode(u64::MAX), Err(u64::MAX));
    assert_eq!(RmiRealmFlags::try_from(1 << 63), Err(1 << 63));
}

#[test]
fn rec_create_flags_bits() {
    assert_eq!(RmiRecCreateFlags::DEFINED, 1);
    let f = RmiRecCreateFlags::decode(1).unwrap();
    assert!(f.runnable());
    assert_eq!(f.runnable_state(), RmiRecRunnable::Runnable);
    assert_eq!(
        RmiRecCreateFlags::ZERO.runnable_state(),
        RmiRecRunnable::NotRunnable
    );
    assert_eq!(RmiRecCreateFlags::decode(2), Err(2));
    assert_eq!(RmiRecCreateFlags::decode(3), Err(3));
    assert_eq!(RmiRecCreateFlags::decode(u64::MAX), Err(u64::MAX));
}

#[test]
fn rec_enter_flags_bits() {
    assert_eq!(RmiRecEnterFlags::DEFINED, 0x1F);
    let z = RmiRecEnterFlags::ZERO;
    assert_eq!(z.with_emul_mmio(true).bits(), 1 << 0);
    assert_eq!(z.with_inject_sea(true).bits(), 1 << 1);
    assert_eq!(z.with_trap_wfi(true).bits(), 1 << 2);
    assert_eq!(z.with_trap_wfe(true).bits(), 1 << 3);
    assert_eq!(z.with_ripas_response(RmiResponse::Reject).bits(), 1 << 4);
    let f = RmiRecEnterFlags::decode(0b1_0110).unwrap();
    assert!(!f.emul_mmio() && f.inject_sea() && f.trap_wfi() && !f.trap_wfe());
    assert_eq!(f.ripas_response(), RmiResponse::Reject);
    assert_eq!(f.with_ripas_response(RmiResponse::Accept).bits(), 0b0_0110);
    assert_eq!(RmiRecEnterFlags::decode(1 << 5), Err(1 << 5));
    assert_eq!(RmiRecEnterFlags::decode(u64::MAX), Err(u64::MAX));
}

proptest! {
    #[test]
    fn enter_flags_decode_iff_no_reserved_bits(v in any::<u64>()) {
        match RmiRecEnterFlags::decode(v) {
            Ok(f) => { prop_assert_eq!(v >> 5, 0); prop_assert_eq!(f.bits(), v); }
            Err(e) => { prop_assert_ne!(v >> 5, 0); prop_assert_eq!(e, v); }
        }
    }

    #[test]
    fn realm_flags_setters_round_trip(lpa2: bool, sve: bool, pmu: bool) {
        let f = RmiRealmFlags::ZERO.with_lpa2(lpa2).with_sve(sve).with_pmu(pmu);
        prop_assert_eq!(f.bits(), lpa2 as u64 | (sve as u64) << 1 | (pmu as u64) << 2);
        prop_assert_eq!(RmiRealmFlags::decode(f.bits()), Ok(f));
        prop_assert_eq!((f.lpa2(), f.sve(), f.pmu()), (lpa2, sve, pmu));
    }
}
