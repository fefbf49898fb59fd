//! The RMM's platform layer.
//!
//! - [`arch`]: the narrow architecture interface the RMM core is written against
//!   (EL3 calls, granule access in a given physical address space, system registers).
//! - [`cptr`]: the CPTR_EL2 values the world switch writes for the RMM and a realm.
//! - [`el3`]: the RMM-EL3 interface (SMC identifiers, error codes, boot arguments).
//! - [`manifest`]: the boot manifest EL3 places in the shared buffer.
//! - [`layout`]: the physical memory layouts of the supported platforms.
//! - [`phase`]: the points of an RMI call a `phases` build marks for the bench.
//! - [`sha`]: SHA-256/512 constants (FIPS 180-4) and the portable block compression.
//! - [`tlbi`]: stage-2 TLB invalidation by IPA: the CPU's instructions for it
//!   (FEAT_TLBIRANGE) and the operands that cover a range.
//! - `aarch64` (firmware builds only): the hardware implementation of [`Arch`]: SMC to
//!   EL3, system registers, granule access, the console. All of the platform's `unsafe`
//!   code and inline assembly lives there.
//!
//! This crate is what ships in `rmm.img`. The hosted simulation that implements [`Arch`]
//! for `cargo test` is the separate crate `platform-sim` (`platform/sim/`), which no
//! firmware build depends on.

#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod addr;
pub mod arch;
pub mod cptr;
pub mod el3;
pub mod layout;
pub mod manifest;
pub mod phase;
pub mod sha;
pub mod tlbi;
#[macro_use]
pub mod sysreg;

#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod aarch64;
/// The firmware's memory layout computation, built on the host too for its unit tests.
#[cfg(all(test, not(all(target_arch = "aarch64", target_os = "none"))))]
#[path = "aarch64/map.rs"]
#[allow(dead_code)] // only the tests use it on the host
mod aarch64_map;

pub use addr::{GranuleIdx, PhysAddr};
pub use arch::{
    Arch, CpuId, FpRegs, GranuleMem, LiveVectors, NsFault, OwnedGranule, Pas, PinnedRealmGranule,
    RealmRegs, RealmTrap, Stage2Scope,
};
pub use sysreg::{SysReg, SysRegEncoding};
