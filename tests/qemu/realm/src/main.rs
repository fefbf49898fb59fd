//! A realm payload for QEMU (a test fixture, not product code): runs at R-EL1 in a
//! realm the NS test host (`tests/qemu/ns-host`) builds with DATA_CREATE, and carries
//! out the host's commands (`rmm_conformance::payload`), each a handful of real
//! instructions whose effect the host checks through the RMM's REC exits: RSI calls
//! over `smc`, emulated MMIO loads and stores, WFI, the GIC virtual CPU interface, PSCI,
//! FP/SIMD and EL1 register leak checks, instructions the RMM must make UNDEFINED.
//!
//! The realm program is written against `rmm_conformance::realm::RealmEnv` ([`env`]),
//! like the hosted tests' realm programs. All `unsafe` code and assembly lives in
//! [`asm`].
//!
//! On the host this crate builds to a stub that says what it is.

#![cfg_attr(target_os = "none", no_std, no_main)]
#![cfg_attr(target_os = "none", deny(unsafe_op_in_unsafe_fn))]

#[cfg(target_os = "none")]
mod asm;
#[cfg(target_os = "none")]
mod commands;
#[cfg(target_os = "none")]
mod env;
#[cfg(target_os = "none")]
mod switch;

/// Host build: this is bare-metal code for QEMU; there is nothing to run here.
#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!(
        "rmm-test-realm is a realm payload (R-EL1) for QEMU (aarch64-unknown-none); \
         the NS test host loads it under `cargo xtask run`"
    );
}
