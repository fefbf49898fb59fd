//! The simulated platform's attestation material: the realm attestation key (RAK) EL3
//! hands the RMM, and the CCA platform token, a COSE_Sign1 (ES384) over the platform
//! claims of DEN0137 1.0, A7.2.3.2, signed with the platform's initial attestation key
//! (IAK). Both keys are fixed test keys.
//!
//! The token binds the realm token through its challenge claim: EL3 signs whatever
//! challenge the RMM passes (the hash of the RAK public key, A7.2.3.2.2), so a verifier
//! that recomputes the hash from the realm token checks the RMM's side of the binding.

use std::sync::Mutex;

use minicbor::Encoder;
use p384::ecdsa::signature::hazmat::PrehashSigner;
use p384::ecdsa::{Signature, SigningKey};
use sha2::{Digest, Sha256, Sha384};

/// The realm attestation key the simulated EL3 hands out (RMM_ATTEST_GET_REALM_KEY): a
/// P-384 private scalar, 48 bytes big-endian. For tests only.
pub const SIM_REALM_KEY: [u8; 48] = test_scalar(37, 11);

/// The platform's initial attestation key (IAK), which signs the platform token: a
/// P-384 private scalar. For tests only.
pub const SIM_IAK: [u8; 48] = test_scalar(53, 7);

/// A recognisable test scalar: byte `i` is `i * mul + add` (mod 256). Its top byte is
/// far below the group order's (0xFF), so it is a valid non-zero P-384 scalar.
const fn test_scalar(mul: u8, add: u8) -> [u8; 48] {
    let mut k = [0u8; 48];
    let mut i = 0;
    while i < 48 {
        k[i] = (i as u8).wrapping_mul(mul).wrapping_add(add);
        i += 1;
    }
    k
}

/// EAT profile of the platform token (DEN0137 1.0, A7.2.3.2.1).
pub const PLATFORM_PROFILE: &str = "tag:arm.com,2023:cca_platform#1.0.0";

/// Platform claim labels (DEN0137 1.0, A7.2.3.2).
pub mod label {
    /// EAT profile.
    pub const PROFILE: u64 = 265;
    /// EAT nonce: the challenge (hash of the RAK public key).
    pub const CHALLENGE: u64 = 10;
    /// PSA implementation ID (32 bytes).
    pub const IMPLEMENTATION_ID: u64 = 2396;
    /// EAT ueid: the instance ID (33 bytes, first 0x01).
    pub const INSTANCE_ID: u64 = 256;
    /// Platform configuration.
    pub const CONFIG: u64 = 2401;
    /// PSA lifecycle.
    pub const LIFECYCLE: u64 = 2395;
    /// PSA software components.
    pub const SW_COMPONENTS: u64 = 2399;
    /// Verification service hint.
    pub const VERIFICATION_SERVICE: u64 = 2400;
    /// Platform hash algorithm ID.
    pub const HASH_ALGO_ID: u64 = 2402;
}

/// The lifecycle claim of the simulated platform: `psa-lifecycle-secured` (0x3000).
pub const LIFECYCLE_SECURED: u64 = 0x3000;

/// The IAK's signing key.
fn iak() -> SigningKey {
    SigningKey::from_slice(&SIM_IAK).expect("the test IAK is a valid scalar")
}

/// The IAK's public key as a SEC1 uncompressed point (0x04 || x || y).
pub fn iak_public_sec1() -> Vec<u8> {
    iak()
        .verifying_key()
        .to_encoded_point(false)
        .as_bytes()
        .to_vec()
}

/// The platform claims with `challenge`, CBOR-encoded.
fn platform_claims(challenge: &[u8]) -> Vec<u8> {
    let instance_id: Vec<u8> = core::iter::once(0x01)
        .chain(Sha256::digest(iak_public_sec1()))
        .collect();
    let mut e = Encoder::new(Vec::new());
    let ok: Result<(), minicbor::encode::Error<core::convert::Infallible>> = (|| {
        e.map(9)?;
        e.u64(label::PROFILE)?.str(PLATFORM_PROFILE)?;
        e.u64(label::CHALLENGE)?.bytes(challenge)?;
        e.u64(label::IMPLEMENTATION_ID)?.bytes(&[0xA5; 32])?;
        e.u64(label::INSTANCE_ID)?.bytes(&instance_id)?;
        e.u64(label::CONFIG)?.bytes(&[0xCF, 0xCF, 0xCF, 0xCF])?;
        e.u64(label::LIFECYCLE)?.u64(LIFECYCLE_SECURED)?;
        e.u64(label::SW_COMPONENTS)?.array(1)?;
        e.map(5)?;
        e.u64(1)?.str("BL31")?;
        e.u64(2)?
            .bytes(&Sha256::digest(b"simulated EL3 firmware"))?;
        e.u64(4)?.str("1.0.0")?;
        e.u64(5)?
            .bytes(&Sha256::digest(b"simulated firmware signer"))?;
        e.u64(6)?.str("sha-256")?;
        e.u64(label::VERIFICATION_SERVICE)?
            .str("https://verifier.invalid/cca")?;
        e.u64(label::HASH_ALGO_ID)?.str("sha-256")?;
        Ok(())
    })();
    ok.expect("encoding into a Vec cannot fail");
    e.into_writer()
}

/// The protected header of an ES384 COSE_Sign1: `{1: -35}` (RFC 9053, ECDSA w/ SHA-384).
pub const ES384_PROTECTED: [u8; 4] = [0xA1, 0x01, 0x38, 0x22];

/// A COSE_Sign1_Tagged (RFC 9052, tag 18) of `payload` with ES384 under `key`: the
/// signature is over `Sig_structure = ["Signature1", protected, h'', payload]`.
pub fn cose_sign1_es384(key: &SigningKey, payload: &[u8]) -> Vec<u8> {
    let mut tbs = Encoder::new(Vec::new());
    tbs.array(4)
        .and_then(|e| e.str("Signature1"))
        .and_then(|e| e.bytes(&ES384_PROTECTED))
        .and_then(|e| e.bytes(&[]))
        .and_then(|e| e.bytes(payload))
        .expect("encoding into a Vec cannot fail");
    let digest = Sha384::digest(tbs.into_writer());
    let sig: Signature = key.sign_prehash(&digest).expect("ES384 signing");
    let mut e = Encoder::new(Vec::new());
    e.tag(minicbor::data::Tag::new(18))
        .and_then(|e| e.array(4))
        .and_then(|e| e.bytes(&ES384_PROTECTED))
        .and_then(|e| e.map(0))
        .and_then(|e| e.bytes(payload))
        .and_then(|e| e.bytes(&sig.to_bytes()))
        .expect("encoding into a Vec cannot fail");
    e.into_writer()
}

/// The platform token for `challenge`: a COSE_Sign1_Tagged signed with the IAK.
/// Deterministic (RFC 6979 nonces), so the same challenge gives the same bytes; the last
/// one is cached, as every machine's RMM asks for the same challenge at boot.
pub fn platform_token(challenge: &[u8]) -> Vec<u8> {
    static LAST: Mutex<Option<(Vec<u8>, Vec<u8>)>> = Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((c, t)) = last.as_ref() {
        if c == challenge {
            return t.clone();
        }
    }
    let token = cose_sign1_es384(&iak(), &platform_claims(challenge));
    *last = Some((challenge.to_vec(), token.clone()));
    token
}
