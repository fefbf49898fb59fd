//! Runs the conformance suite against the hosted simulation machine, one fresh machine
//! per test, and fails if any test fails.

use rmm::hosted::Machine;
use rmm_conformance::{check, suites};

fn main() {
    let mut out = String::new();
    let summary = check::run(suites::all(), |_| Machine::with_defaults(), &mut out)
        .expect("formatting to a String");
    print!("{out}");
    if summary.failed != 0 {
        std::process::exit(1);
    }
}
