//! The conformance tests, one module per command group.

mod attest;
mod data;
mod dispatch;
mod features;
mod granule;
mod lpa2;
mod psci;
mod psci_realm;
mod realm;
mod rec;
mod rec_enter;
mod rec_exit;
mod rec_exit_fetch;
mod rec_exit_sgi;
mod rec_exit_timer;
mod rec_smp;
mod ripas;
mod ripas_change;
mod rsi;
pub mod rtt;
mod version;

use crate::program::Program;
use crate::TestDef;

/// Every conformance test, in run order.
pub const ALL: &[&[TestDef]] = &[
    version::TESTS,
    dispatch::TESTS,
    features::TESTS,
    granule::TESTS,
    realm::TESTS,
    rtt::TESTS,
    lpa2::TESTS,
    data::TESTS,
    rec::TESTS,
    ripas::TESTS,
    psci::TESTS,
    attest::TESTS,
    rec_enter::TESTS,
    rec_exit::TESTS,
    rec_exit_timer::TESTS,
    rec_exit_sgi::TESTS,
    rec_exit_fetch::TESTS,
    rsi::TESTS,
    ripas_change::TESTS,
    psci_realm::TESTS,
    rec_smp::TESTS,
];

/// Iterates over every test.
pub fn all() -> impl Iterator<Item = &'static TestDef> {
    ALL.iter().flat_map(|s| s.iter())
}

/// Every realm program of the suites ([`crate::program`]): the realm payload runs them
/// by their index here.
pub const PROGRAMS: &[&Program] = &[
    &attest::PROGRAM,
    rec_exit::PROGRAMS[0],
    rec_exit::PROGRAMS[1],
    rec_exit::PROGRAMS[2],
    &rec_smp::PROGRAM,
    &rec_enter::PROGRAM,
    rsi::PROGRAMS[0],
    rsi::PROGRAMS[1],
    rsi::PROGRAMS[2],
    rsi::PROGRAMS[3],
    psci_realm::PROGRAMS[0],
    psci_realm::PROGRAMS[1],
    psci_realm::PROGRAMS[2],
    psci_realm::PROGRAMS[3],
    ripas_change::PROGRAMS[0],
    ripas_change::PROGRAMS[1],
    ripas_change::PROGRAMS[2],
    &rec_exit_sgi::PROGRAM,
    &rec_exit_fetch::PROGRAM,
    rec_exit_timer::PROGRAMS[0],
    rec_exit_timer::PROGRAMS[1],
];
