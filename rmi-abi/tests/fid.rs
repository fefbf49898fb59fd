//! RMI function identifiers: exact values and decoding rules.

use rmi_abi::fid::*;
use rmi_abi::RmiFid;

#[test]
fn identifiers_match_den0137_table() {
    let expected: [(RmiFid, u32); 23] = [
        (RmiFid::Version, 0xC400_0150),
        (RmiFid::GranuleDelegate, 0xC400_0151),
        (RmiFid::GranuleUndelegate, 0xC400_0152),
        (RmiFid::DataCreate, 0xC400_0153),
        (RmiFid::DataCreateUnknown, 0xC400_0154),
        (RmiFid::DataDestroy, 0xC400_0155),
        (RmiFid::RealmActivate, 0xC400_0157),
        (RmiFid::RealmCreate, 0xC400_0158),
        (RmiFid::RealmDestroy, 0xC400_0159),
        (RmiFid::RecCreate, 0xC400_015A),
        (RmiFid::RecDestroy, 0xC400_015B),
        (RmiFid::RecEnter, 0xC400_015C),
        (RmiFid::RttCreate, 0xC400_015D),
        (RmiFid::RttDestroy, 0xC400_015E),
        (RmiFid::RttMapUnprotected, 0xC400_015F),
        (RmiFid::RttReadEntry, 0xC400_0161),
        (RmiFid::RttUnmapUnprotected, 0xC400_0162),
        (RmiFid::PsciComplete, 0xC400_0164),
        (RmiFid::Features, 0xC400_0165),
        (RmiFid::RttFold, 0xC400_0166),
        (RmiFid::RecAuxCount, 0xC400_0167),
        (RmiFid::RttInitRipas, 0xC400_0168),
        (RmiFid::RttSetRipas, 0xC400_0169),
    ];
    assert_eq!(RmiFid::ALL.len(), expected.len());
    for (fid, id) in expected {
        assert_eq!(fid.id(), id);
        assert_eq!(RmiFid::decode(id as u64), Some(fid));
    }
    assert_eq!(RMI_VERSION, 0xC400_0150);
    assert_eq!(RMI_RTT_SET_RIPAS, 0xC400_0169);
    assert_eq!(RMI_REC_ENTER, 0xC400_015C);
}

#[test]
fn sve_hint_is_ignored() {
    assert_eq!(SMCCC_SVE_HINT, 0x1_0000);
    assert_eq!(RmiFid::decode(0xC400_0150 | 1 << 16), Some(RmiFid::Version));
    assert_eq!(RmiFid::decode(0xC401_015C), Some(RmiFid::RecEnter));
}

#[test]
fn holes_and_out_of_range_do_not_decode() {
    for hole in [
        0xC400_0156u64,
        0xC400_0160,
        0xC400_0163,
        0xC400_016A,
        0xC400_018F,
    ] {
        assert_eq!(RmiFid::decode(hole), None, "{hole:#x}");
    }
    assert_eq!(RmiFid::decode(0xC400_014F), None);
    assert_eq!(RmiFid::decode(0xC400_0190), None);
    assert_eq!(RmiFid::decode(u64::MAX), None);
    // The SMC32 form is not an RMI command.
    assert_eq!(RmiFid::decode(0x8400_0150), None);
}

#[test]
fn range_check() {
    assert!(is_rmi_range(0xC400_0150));
    assert!(is_rmi_range(0xC400_018F));
    assert!(is_rmi_range(0xC400_0170 | 1 << 16));
    assert!(!is_rmi_range(0xC400_014F));
    assert!(!is_rmi_range(0xC400_0190));
    assert!(!is_rmi_range(0xC400_0190 | 1 << 32));
}

/// SMCCC (DEN0028) 2.5: "The Function Identifier is passed on W0 on every SMC and HVC
/// call": bits [63:32] of X0 are not part of it.
#[test]
fn function_id_is_w0() {
    assert_eq!(RmiFid::decode(0xC400_0150 | 1 << 32), Some(RmiFid::Version));
    assert_eq!(
        RmiFid::decode(0xFFFF_FFFF_0000_0000 | RMI_REC_ENTER as u64),
        Some(RmiFid::RecEnter)
    );
    assert_eq!(
        RmiFid::decode(0x8000_0000_0001_0000 | RMI_DATA_CREATE as u64),
        Some(RmiFid::DataCreate)
    );
    assert_eq!(RmiFid::decode(0xC400_0156 | 1 << 40), None);
    assert!(is_rmi_range(0xC400_0150 | 1 << 32));
    assert!(is_rmi_range(0xFFFF_FFFF_C400_018F));
}
