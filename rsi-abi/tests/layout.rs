//! Byte positions of RsiRealmConfig (B5.4.5) and RsiHostCall (B5.4.3).

use rsi_abi::{RsiHostCall, RsiRealmConfig, HOST_CALL_GPRS, HOST_CALL_SIZE};
use zerocopy::{FromBytes, FromZeros, IntoBytes};

#[test]
fn realm_config_offsets() {
    let mut c = RsiRealmConfig::new_zeroed();
    c.ipa_width = 0x0102_0304_0506_0730;
    c.hash_algo = 0x5A;
    c.rpv = core::array::from_fn(|i| 0xC0 | i as u8);
    let mut e = [0u8; 4096];
    e[0..8].copy_from_slice(&0x0102_0304_0506_0730u64.to_le_bytes());
    e[8] = 0x5A;
    e[0x200..0x240].copy_from_slice(&c.rpv);
    assert_eq!(c.as_bytes(), &e[..]);
    assert_eq!(c.as_bytes()[0x23F], 0xFF);
    assert_eq!(RsiRealmConfig::read_from_bytes(&e[..]).unwrap(), c);
    assert!(RsiRealmConfig::default().as_bytes().iter().all(|&b| b == 0));
}

#[test]
fn host_call_offsets() {
    let mut h = RsiHostCall::new_zeroed();
    h.imm = 0xBEEF;
    h.gprs = core::array::from_fn(|i| 0x7700 + i as u64);
    let mut e = [0u8; 256];
    e[0..2].copy_from_slice(&[0xEF, 0xBE]);
    for i in 0..HOST_CALL_GPRS {
        e[8 + 8 * i..16 + 8 * i].copy_from_slice(&(0x7700 + i as u64).to_le_bytes());
    }
    assert_eq!(h.as_bytes(), &e[..]);
    // imm is 16 bits: bytes 2..8 are padding.
    assert_eq!(&h.as_bytes()[2..8], &[0; 6]);
    // gprs[30] is the last doubleword of the 256-byte structure.
    assert_eq!(&h.as_bytes()[0xF8..0x100], &0x771Eu64.to_le_bytes());
    assert_eq!(HOST_CALL_SIZE, 256);
    assert_eq!(RsiHostCall::read_from_bytes(&e[..]).unwrap(), h);
}
