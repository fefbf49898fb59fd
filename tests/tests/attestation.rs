//! Attestation (DEN0137 1.0, A7.2): the keys and platform token the RMM gets from EL3 at
//! boot.

use p384::ecdsa::SigningKey;
use platform::el3::{RMM_ATTEST_GET_PLAT_TOKEN, RMM_ATTEST_GET_REALM_KEY};
use platform::sim::el3::{El3Attest, SIM_REALM_KEY};
use platform::sim::SimConfig;
use rmi_abi::RmiFid;
use rmm::hosted::Machine;
use sha2::{Digest, Sha256};

/// The COSE_Key of the test RAK's public key, built here from RFC 9052/9053: a map of 4,
/// kty (1) EC2 (2), crv (-1) P-384 (2), x (-2) and y (-3) as 48-byte bstrs.
fn sim_rak_cose_key() -> Vec<u8> {
    let vk = *SigningKey::from_slice(&SIM_REALM_KEY)
        .unwrap()
        .verifying_key();
    let p = vk.to_encoded_point(false);
    let mut k = vec![0xA4, 0x01, 0x02, 0x20, 0x02, 0x21, 0x58, 0x30];
    k.extend_from_slice(p.x().unwrap());
    k.extend_from_slice(&[0x22, 0x58, 0x30]);
    k.extend_from_slice(p.y().unwrap());
    k
}

#[test]
fn cold_boot_gets_the_realm_key_and_the_platform_token_for_the_rak_hash() {
    let m = Machine::with_defaults();
    let sb = m.hw().config().layout.shared_buf.0;
    let calls = m.hw().el3().calls();
    let key: Vec<_> = calls
        .iter()
        .filter(|c| c.fid == RMM_ATTEST_GET_REALM_KEY)
        .collect();
    assert_eq!(key.len(), 1);
    assert_eq!(
        key[0].args[..3],
        [sb, 4096, 0],
        "shared buffer, its size, SECP384R1"
    );
    assert_eq!(key[0].ret, 0);
    let token_calls: Vec<_> = calls
        .iter()
        .filter(|c| c.fid == RMM_ATTEST_GET_PLAT_TOKEN)
        .collect();
    assert!(token_calls.len() > 1, "the token comes in several hunks");
    for c in &token_calls {
        assert_eq!(
            c.args[..3],
            [sb, 4096, 32],
            "challenge size 32 on every call"
        );
        assert_eq!(c.ret, 0);
    }
    let challenge: [u8; 32] = Sha256::digest(sim_rak_cose_key()).into();
    let rmm = m.rmm().unwrap();
    let data = rmm.attest().read();
    assert!(data.ready());
    assert_eq!(&data.rak_public()[..], &sim_rak_cose_key()[..]);
    assert_eq!(
        data.platform_token(),
        &platform::sim::attest::platform_token(&challenge)[..],
        "the platform token EL3 signed for the hash of the RAK's COSE_Key"
    );
    // The private key was cleared from the shared buffer.
    let shared = m.hw().mem().inspect(platform::PhysAddr(sb));
    assert_ne!(&shared.0[..48], &SIM_REALM_KEY[..]);
}

#[test]
fn an_el3_without_attestation_does_not_stop_the_boot() {
    for mode in [El3Attest::NoRealmKey, El3Attest::NoPlatformToken] {
        let m = Machine::new(SimConfig {
            el3_attest: mode,
            ..SimConfig::default()
        });
        assert_eq!(m.hw().el3().boot_status(), vec![Some(0); 4], "{mode:?}");
        assert!(!m.rmm().unwrap().attest().read().ready(), "{mode:?}");
        assert_eq!(m.rmi(0, RmiFid::Version, &[0x1_0000])[0], 0, "RMI works");
    }
}

#[test]
fn a_busy_el3_is_asked_again() {
    let m = Machine::new(SimConfig {
        el3_attest: El3Attest::BusyOnce,
        ..SimConfig::default()
    });
    let rets: Vec<u64> = m
        .hw()
        .el3()
        .calls()
        .iter()
        .filter(|c| c.fid == RMM_ATTEST_GET_PLAT_TOKEN)
        .map(|c| c.ret)
        .collect();
    assert_eq!(rets[0], platform::el3::El3Error::Again.code());
    assert!(rets[1..].iter().all(|&r| r == 0));
    assert!(m.rmm().unwrap().attest().read().ready());
}
