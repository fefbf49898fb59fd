//! The Realm Services Interface (RSI) ABI, DEN0137 1.0 (RSI ABI version 1.0).
//!
//! Function identifiers, return codes, enumerations, flags and the Realm-shared
//! structures at their exact offsets. `no_std`, no allocation, no `unsafe`. Shared
//! helpers (version encoding, enum/fieldset/FID macros, granule and RPV sizes) come
//! from [`rmi_abi`] so that each fact is written once. SMCCC and PSCI identifiers
//! used by Realms are not here.
//!
//! Facts were checked against DEN0137 1.0-rel0 (section numbers in the doc comments
//! refer to it) and Linux `arch/arm64/include/asm/rsi_smc.h`.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod attest;
pub mod enums;
pub mod fid;
pub mod flags;
pub mod host_call;
pub mod measurement;
pub mod realm_config;
pub mod status;

pub use rmi_abi::AbiVersion;

/// The RSI ABI version this crate describes: 1.0 (DEN0137 1.0, B5.1;
/// `RsiInterfaceVersion` has the same encoding as `RmiInterfaceVersion`).
pub const RSI_ABI_VERSION: AbiVersion = AbiVersion::new(1, 0);

pub use enums::{RsiHashAlgorithm, RsiResponse, RsiRipas, RsiRipasChangeDestroyed};
pub use fid::RsiFid;
pub use flags::RsiRipasChangeFlags;
pub use host_call::{RsiHostCall, HOST_CALL_GPRS, HOST_CALL_SIZE};
pub use measurement::{MAX_MEASUREMENT_SIZE, MEASUREMENT_SLOTS};
pub use realm_config::RsiRealmConfig;
pub use status::RsiStatus;
