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

/// How many pool granules are checked: the window the runner checks after each test.
const WINDOW: usize = check::POOL_WINDOW;

/// Granules of the window the host cannot access.
fn inaccessible(host: &QemuHost) -> impl Iterator<Item = u64> + '_ {
    (0..WINDOW)
        .map(|n| host.ns_granule(n))
        .filter(|&pa| !host.granule_accessible(pa))
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
    let next = if held == 0 {
        host
    } else {
        host.moved_on(WINDOW)
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
