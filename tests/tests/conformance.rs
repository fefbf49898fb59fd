//! Runs the conformance suite against the hosted simulation machine, one fresh machine
//! per test, and fails if any test fails: once on the default machine (48-bit PA, no
//! FEAT_LPA2), once on a machine with FEAT_LPA2, a 52-bit PA and memory above 2^48
//! (`SimConfig::lpa2`).

use platform_sim::SimConfig;
use rmm::hosted::Machine;
use rmm_conformance::{check, suites};

fn main() {
    let mut failed = 0;
    for (name, config) in [
        ("default machine", SimConfig::default()),
        ("FEAT_LPA2 machine", SimConfig::lpa2()),
    ] {
        let mut out = String::new();
        let summary = check::run(suites::all(), |_| Machine::new(config.clone()), &mut out)
            .expect("formatting to a String");
        println!("== {name}");
        print!("{out}");
        failed += summary.failed;
    }
    if failed != 0 {
        std::process::exit(1);
    }
}
