//! A Normal-world test host for running the conformance suite against `rmm.img` in
//! QEMU (a test fixture, not product code).
//!
//! The EL3 test monitor enters it at NS-EL2 at 0x6000_0000, on CPU 0, once the RMM
//! has booted. It implements [`rmm_conformance::Host`] on the real machine ([`host`]):
//! RMI calls are `smc #0`, Non-secure memory is accessed directly with a fix-up that
//! turns a granule protection fault into a failed access ([`asm`]). It runs an explicit
//! GPT check ([`gpt_check`]), a check of the SMC path ([`smc_check`]), the selected
//! conformance tests ([`params`]), the realm tests with the realm payload at R-EL1
//! ([`realm_run`]), the FP/SIMD and SVE state across the commands that hash
//! ([`sha_check`]) and, over every SMC of the run, a check that the RMM
//! preserves the FP/SIMD registers ([`fp_check`]), prints
//! every `Test=... Result=...` line and the summary on UART0, reports granules a test
//! left behind and tears down what they left ([`leaks`]), and ends QEMU through the monitor with status 0 if
//! everything passed, 1 otherwise ([`run`]). Under TF-A (BL33, entered the same way at
//! NS-EL2 at 0x6000_0000) it prints that status and powers off with PSCI `SYSTEM_OFF`.
//!
//! At its start it powers CPU 1 on with PSCI `CPU_ON` ([`smp`]): the tests run on CPU 0
//! and make calls on CPU 1 through a mailbox, woken by an SGI ([`gic`]).
//!
//! With the boot block of `cargo xtask linux` in memory it runs no tests: its VMM
//! ([`vmm`]) boots Linux in a realm instead (on CPU 0 only).
//!
//! All `unsafe` code and assembly lives in [`asm`], [`uart`], [`params`], [`smp`],
//! [`gic`], [`realm_irq`] (the host's EL2 timer) and `vmm::hw`.
//!
//! On the host this crate builds to a stub that says what it is.

#![cfg_attr(target_os = "none", no_std, no_main)]
#![cfg_attr(target_os = "none", deny(unsafe_op_in_unsafe_fn))]

#[cfg(target_os = "none")]
mod asm;
#[cfg(target_os = "none")]
mod attest_token;
#[cfg(target_os = "none")]
mod bench;
#[cfg(target_os = "none")]
mod fault;
#[cfg(target_os = "none")]
mod fp_check;
#[cfg(target_os = "none")]
mod gic;
#[cfg(target_os = "none")]
mod gpt_check;
#[cfg(target_os = "none")]
mod host;
#[cfg(target_os = "none")]
mod leaks;
#[cfg(target_os = "none")]
mod params;
#[cfg(target_os = "none")]
mod realm_irq;
#[cfg(target_os = "none")]
mod realm_run;
#[cfg(target_os = "none")]
mod realm_switch;
#[cfg(target_os = "none")]
mod run;
#[cfg(target_os = "none")]
mod sha_check;
#[cfg(target_os = "none")]
mod smc_check;
#[cfg(target_os = "none")]
mod smp;
#[cfg(target_os = "none")]
mod uart;
#[cfg(target_os = "none")]
mod vmm;

/// Host build: this is bare-metal code for QEMU; there is nothing to run here.
#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!(
        "rmm-test-ns-host is a Normal-world (NS-EL2) fixture for QEMU (aarch64-unknown-none); \
         run it with `cargo xtask run`"
    );
}
