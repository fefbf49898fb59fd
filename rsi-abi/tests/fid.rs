//! RSI function identifiers.

use rsi_abi::fid::*;
use rsi_abi::RsiFid;

#[test]
fn identifiers_match_den0137_table() {
    let expected: [(RsiFid, u32); 10] = [
        (RsiFid::Version, 0xC400_0190),
        (RsiFid::Features, 0xC400_0191),
        (RsiFid::MeasurementRead, 0xC400_0192),
        (RsiFid::MeasurementExtend, 0xC400_0193),
        (RsiFid::AttestTokenInit, 0xC400_0194),
        (RsiFid::AttestTokenContinue, 0xC400_0195),
        (RsiFid::RealmConfig, 0xC400_0196),
        (RsiFid::IpaStateSet, 0xC400_0197),
        (RsiFid::IpaStateGet, 0xC400_0198),
        (RsiFid::HostCall, 0xC400_0199),
    ];
    assert_eq!(RsiFid::ALL.len(), expected.len());
    for (fid, id) in expected {
        assert_eq!(fid.id(), id);
        assert_eq!(RsiFid::decode(id as u64), Some(fid));
        assert_eq!(RsiFid::decode(id as u64 | 1 << 16), Some(fid));
    }
    assert_eq!(RSI_ATTESTATION_TOKEN_INIT, 0xC400_0194);
    assert_eq!(RSI_ATTESTATION_TOKEN_CONTINUE, 0xC400_0195);
    assert_eq!(RSI_HOST_CALL, 0xC400_0199);
}

#[test]
fn non_rsi_identifiers_do_not_decode() {
    assert_eq!(RsiFid::decode(0xC400_019A), None);
    assert_eq!(RsiFid::decode(0xC400_018F), None);
    assert_eq!(RsiFid::decode(0xC400_0150), None);
    assert_eq!(RsiFid::decode(0x8400_0190), None);
    assert_eq!(RsiFid::decode(u64::MAX), None);
}

#[test]
fn range_check() {
    assert_eq!((RSI_RANGE_START, RSI_RANGE_END), (0xC400_0190, 0xC400_01AF));
    assert!(is_rsi_range(0xC400_0190));
    assert!(is_rsi_range(0xC400_01AF));
    assert!(is_rsi_range(0xC401_01A0));
    assert!(!is_rsi_range(0xC400_018F));
    assert!(!is_rsi_range(0xC400_01B0));
    assert!(!is_rsi_range(0xC400_01B0 | 1 << 32));
}

/// SMCCC (DEN0028) 2.5: the function identifier is W0; bits [63:32] of X0 are not part
/// of it.
#[test]
fn function_id_is_w0() {
    assert_eq!(RsiFid::decode(0xC400_0190 | 1 << 32), Some(RsiFid::Version));
    assert_eq!(
        RsiFid::decode(0xFFFF_FFFF_0000_0000 | RSI_HOST_CALL as u64),
        Some(RsiFid::HostCall)
    );
    assert!(is_rsi_range(0xC400_0190 | 1 << 32));
}

/// DEN0137 1.0, B5.3: the output values of each command, X0 upwards.
#[test]
fn output_registers_per_command() {
    let want = [
        (RsiFid::Version, 3),
        (RsiFid::Features, 2),
        (RsiFid::MeasurementRead, 9),
        (RsiFid::MeasurementExtend, 1),
        (RsiFid::AttestTokenInit, 2),
        (RsiFid::AttestTokenContinue, 2),
        (RsiFid::RealmConfig, 1),
        (RsiFid::IpaStateSet, 3),
        (RsiFid::IpaStateGet, 3),
        (RsiFid::HostCall, 1),
    ];
    for (fid, n) in want {
        assert_eq!(fid.output_regs(), n, "{fid:?}");
        assert!(fid.output_regs() <= RSI_RESULT_REGS);
    }
    assert_eq!(RSI_RESULT_REGS, 17);
}
