//! `cargo xtask fuzz`: the stateful fuzzer of the hosted RMM (`tests/fuzz`), built with
//! optimisations and run on the pinned stable toolchain.
//!
//! ```text
//! cargo xtask fuzz [--smoke] [--seed S] [--seeds N] [--steps N]
//! ```
//! `--smoke` is CI's fixed-seed campaign (seeds 1..=20, 50,000 steps each: about a
//! minute). Any other arguments go to `rmm-fuzz` as they are. The exit status is the
//! fuzzer's: non-zero when a run failed (its shrunk steps are printed as a regression
//! test).

use std::process::Command;

use crate::workspace_root;

/// The usage line of `fuzz`.
pub const USAGE: &str = "cargo xtask fuzz [--smoke] [--seed S] [--seeds N] [--steps N]";

/// `cargo xtask fuzz ARGS`.
pub fn run(args: &[String]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut pass: Vec<String> = args.iter().filter(|a| *a != "--smoke").cloned().collect();
    if args.iter().any(|a| a == "--smoke") {
        pass = ["--seed", "1", "--seeds", "20", "--steps", "50000"]
            .map(String::from)
            .to_vec();
    }
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["run", "--release", "--quiet", "-p", "rmm-fuzz", "--"])
        .args(&pass)
        .status()
        .map_err(|e| format!("running cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the fuzzer failed ({status})"))
    }
}
