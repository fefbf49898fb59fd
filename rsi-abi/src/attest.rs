//! Attestation constants (DEN0137 1.0, A7.2 "Realm attestation", B5.3.1, B5.3.2).
//!
//! The spec sets no maximum token size: RSI_ATTESTATION_TOKEN_INIT returns an upper
//! bound in `x1`, and RSI_ATTESTATION_TOKEN_CONTINUE copies at most one granule per
//! call (offset < 4096, offset + size <= 4096).

/// Size in bytes of the challenge passed in `x1..x8` of RSI_ATTESTATION_TOKEN_INIT and
/// of the Realm challenge claim.
pub const ATTEST_CHALLENGE_SIZE: usize = 64;

/// CBOR tag of the CCA attestation token collection (`#6.399`).
pub const CCA_TOKEN_TAG: u64 = 399;
/// Collection key of the CCA platform token (0xACCA).
pub const CCA_PLATFORM_TOKEN_LABEL: u64 = 44234;
/// Collection key of the Realm delegated token.
pub const CCA_REALM_DELEGATED_TOKEN_LABEL: u64 = 44241;

/// Realm claim label: challenge (EAT nonce), 64 bytes.
pub const REALM_CHALLENGE_LABEL: u64 = 10;
/// Realm claim label: profile (EAT profile).
pub const REALM_PROFILE_LABEL: u64 = 265;
/// Realm claim label: Realm Personalization Value, 64 bytes.
pub const REALM_PERSONALIZATION_VALUE_LABEL: u64 = 44235;
/// Realm claim label: Realm hash algorithm identifier (text).
pub const REALM_HASH_ALGO_ID_LABEL: u64 = 44236;
/// Realm claim label: Realm public key (COSE_Key).
pub const REALM_PUBLIC_KEY_LABEL: u64 = 44237;
/// Realm claim label: Realm Initial Measurement.
pub const REALM_INITIAL_MEASUREMENT_LABEL: u64 = 44238;
/// Realm claim label: Realm Extensible Measurements (array of 4).
pub const REALM_EXTENSIBLE_MEASUREMENTS_LABEL: u64 = 44239;
/// Realm claim label: hash algorithm identifier of the Realm public key (text).
pub const REALM_PUBLIC_KEY_HASH_ALGO_ID_LABEL: u64 = 44240;

/// Value of the Realm profile claim for this version of the token format.
pub const REALM_PROFILE: &str = "tag:arm.com,2023:realm#1.0.0";
