//! The Realm Management Interface (RMI) ABI, DEN0137 1.0 (RMI ABI version 1.0).
//!
//! Everything the host (normal world) and the RMM must agree on byte for byte:
//! function identifiers, status codes and their packing into `x0`, enumerations,
//! feature-register fields and the host-shared structures at their exact offsets.
//! This crate is `no_std`, has no allocation and no `unsafe`; it is shared by the RMM
//! and by test clients.
//!
//! Facts were checked against DEN0137 1.0-rel0 (section numbers in the doc comments
//! refer to it) and the Linux KVM CCA host header `arch/arm64/include/asm/rmi_smc.h`.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bits;
pub mod enums;
pub mod features;
pub mod fid;
pub mod flags;
pub mod mpidr;
pub mod realm_params;
pub mod rec_enter;
pub mod rec_exit;
pub mod rec_params;
pub mod rec_run;
pub mod status;
pub mod version;

/// Size of a granule, and of every 4 KiB host-shared structure (DEN0137 1.0,
/// `RMM_GRANULE_SIZE`).
pub const GRANULE_SIZE: usize = 4096;

/// Size in bytes of the Realm Personalization Value (`Bits512`), in
/// `RmiRealmParams.rpv` and `RsiRealmConfig.rpv`.
pub const RPV_SIZE: usize = 64;

pub use enums::{
    RmiDataFlags, RmiDataMeasureContent, RmiHashAlgorithm, RmiPmuOverflowStatus, RmiRealmState,
    RmiRecExitReason, RmiRecRunnable, RmiResponse, RmiRipas, RmiRttEntryState,
};
pub use features::{FeatureReg0, FieldOverflow};
pub use fid::RmiFid;
pub use flags::{RmiRealmFlags, RmiRecCreateFlags, RmiRecEnterFlags};
pub use mpidr::RmiRecMpidr;
pub use realm_params::RmiRealmParams;
pub use rec_enter::RmiRecEnter;
pub use rec_exit::RmiRecExit;
pub use rec_params::{RmiRecParams, REC_PARAMS_AUX_GRANULES_MAX, REC_PARAMS_GPRS};
pub use rec_run::{RmiRecRun, REC_GIC_NUM_LRS, REC_RUN_GPRS};
pub use status::{RmiError, RmiStatus};
pub use version::{AbiVersion, RMI_ABI_VERSION};
