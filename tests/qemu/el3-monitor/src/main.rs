//! A minimal EL3 monitor for running `rmm.img` in QEMU `virt` without TF-A (a test
//! fixture, not product code).
//!
//! It presents the layout and boot contract TF-A gives an RMM on QEMU `virt` with RME
//! (RMM-EL3 interface 0.4, boot manifest 0.3), stated in the fixture itself
//! ([`rmm_el3`], [`layout`]: facts from TF-A's sources), not taken from the RMM's
//! `platform` crate:
//!
//! - every CPU starts at reset in the secure flash at 0x0 (`-bios`); CPU 0 cold boots,
//!   the others wait in a pen ([`asm`], [`boot`]);
//! - the granule protection table puts secure RAM in the Root PAS, the RMM carve-out
//!   and shared page in the Realm PAS and the rest of DRAM in the Non-secure PAS at
//!   4 KiB granularity ([`gpt`]);
//! - the RMM is entered at R-EL2 at 0x4010_0000 with the cold-boot arguments; once it
//!   reports `RMM_BOOT_COMPLETE` the secondaries warm boot it, then CPU 0 starts the
//!   Normal-world test host at NS-EL2 at 0x6000_0000 ([`boot`]); the secondaries then
//!   wait until the test host powers them on with PSCI `CPU_ON` ([`psci`]);
//! - SMCs are served per world ([`smc`]): GTSI delegation, the attestation key and
//!   platform token ([`attest`]), RMI forwarding and completion, and a test-exit call that ends QEMU through semihosting ([`semihost`]);
//! - a world switch saves and restores the EL2 state of each world ([`world`]);
//! - the GIC's Secure configuration lets the Normal world take its interrupts
//!   ([`gic`]).
//!
//! All `unsafe` code and assembly lives in [`asm`], [`sysreg`], [`uart`], [`gpt`],
//! [`gic`], [`mem`], [`percpu`] and [`semihost`].
//!
//! On the host this crate builds to a stub that says what it is, so that the workspace
//! builds and lints everywhere.

#![cfg_attr(target_os = "none", no_std, no_main)]
#![cfg_attr(target_os = "none", deny(unsafe_op_in_unsafe_fn))]

#[cfg(target_os = "none")]
mod asm;
#[cfg(target_os = "none")]
mod attest;
#[cfg(target_os = "none")]
mod boot;
#[cfg(target_os = "none")]
mod fault;
#[cfg(target_os = "none")]
mod gic;
#[cfg(target_os = "none")]
mod gpt;
#[cfg(target_os = "none")]
mod layout;
#[cfg(target_os = "none")]
mod mem;
#[cfg(target_os = "none")]
mod percpu;
#[cfg(target_os = "none")]
mod psci;
#[cfg(target_os = "none")]
mod rmm_el3;
#[cfg(target_os = "none")]
mod semihost;
#[cfg(target_os = "none")]
mod smc;
#[cfg(target_os = "none")]
mod sysreg;
#[cfg(target_os = "none")]
mod uart;
#[cfg(target_os = "none")]
mod world;

/// Host build: this is bare-metal firmware for QEMU; there is nothing to run here.
#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!(
        "rmm-test-el3-monitor is an EL3 firmware fixture for QEMU (aarch64-unknown-none); \
         run it with `cargo xtask run`"
    );
}
