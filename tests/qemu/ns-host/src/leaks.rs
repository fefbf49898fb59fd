//! Between tests: finds granules of the test pool that a test left inaccessible to the
//! host (the tests are meant to clean up after themselves) and reports them. It then
//! tears down what was left ([`rmm_conformance::teardown`]: RECs, realms with their RTTs
//! and data)
//! and undelegates every granule it can. If the RMM still holds some, the pool moves
//! past them, so that one failing test does not make the following ones fail at their
//! first delegation.

use core::fmt::Write;

use rmi_abi::RmiFid;
use rmm_conformance::{check, teardown, Host};

use crate::host::QemuHost;
use crate::uart::Uart;

/// Scratch granules for unfolding blocks (Non-secure DRAM below the GPT-check granule).
const SCRATCH: u64 = 0x6FE0_0000;
const SCRATCH_GRANULES: u64 = 16;

/// Granules of the whole pool the host cannot access (what the runner checks after
/// each test).
fn inaccessible(host: &QemuHost) -> impl Iterator<Item = u64> + '_ {
    check::inaccessible_pool_granules(host, host.ns_granule(0))
}

/// Checks the pool of `host` after the test `name`; returns the host the next test
/// should use and whether the test leaked granules.
pub fn after_test(name: &str, host: QemuHost) -> (QemuHost, bool) {
    let found = inaccessible(&host).count();
    if found == 0 {
        return (host, false);
    }
    let first = inaccessible(&host).next().unwrap_or(0);
    let recs = inaccessible(&host)
        .filter(|&pa| teardown::destroy_rec(&host, pa))
        .count();
    let mut used = 0;
    let mut scratch = || {
        used += 1;
        (used <= SCRATCH_GRANULES).then(|| SCRATCH + (used - 1) * 4096)
    };
    let realms = inaccessible(&host)
        .filter(|&pa| teardown::destroy_realm(&host, pa, &mut scratch))
        .count();
    for pa in inaccessible(&host) {
        host.rmi(RmiFid::GranuleUndelegate, &[pa]);
    }
    let held = inaccessible(&host).count();
    // Past the last granule the RMM still holds.
    let next = match inaccessible(&host).last() {
        None => host,
        Some(last) => host.moved_on(((last - host.ns_granule(0)) / 4096 + 1) as usize),
    };
    let _ = write!(
        Uart,
        "Note: {name} left {found} pool granule(s) inaccessible to the host (first {first:#x}); \
         the host destroyed {recs} REC(s) and {realms} realm(s) and undelegated the rest; \
         {held} still held by the RMM"
    );
    if held != 0 {
        let _ = write!(
            Uart,
            ", later tests use granules from {:#x}",
            next.ns_granule(0)
        );
    }
    let _ = writeln!(Uart);
    (next, true)
}
