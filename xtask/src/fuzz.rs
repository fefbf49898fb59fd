//! `cargo xtask fuzz`: the stateful fuzzer of the hosted RMM (`tests/fuzz`), built with
//! optimisations and run on the pinned stable toolchain.
//!
//! ```text
//! cargo xtask fuzz [--smoke] [--seed S] [--seeds N] [--steps N] [--concurrent] [--verbose]
//! ```
//! `--smoke` is CI's fixed-seed campaign: seeds 1..=20, 50,000 steps each, then seeds
//! 1..=4 of the concurrent mode, 50,000 steps each (about three minutes in all). Any
//! other arguments go to `rmm-fuzz` as they are. The exit status is the
//! fuzzer's: non-zero when a run failed (its shrunk steps are printed as a regression
//! test).

use std::process::Command;

use crate::workspace_root;

/// The usage line of `fuzz`.
pub const USAGE: &str =
    "cargo xtask fuzz [--smoke] [--seed S] [--seeds N] [--steps N] [--concurrent] [--verbose]";

/// `cargo xtask fuzz ARGS`.
pub fn run(args: &[String]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let campaigns: Vec<Vec<String>> = if args.iter().any(|a| a == "--smoke") {
        [
            &["--seed", "1", "--seeds", "20", "--steps", "50000"][..],
            &[
                "--concurrent",
                "--seed",
                "1",
                "--seeds",
                "4",
                "--steps",
                "50000",
            ][..],
        ]
        .iter()
        .map(|a| a.iter().map(|s| s.to_string()).collect())
        .collect()
    } else {
        vec![args.to_vec()]
    };
    for pass in campaigns {
        let status = Command::new(&cargo)
            .current_dir(workspace_root())
            .args(["run", "--release", "--quiet", "-p", "rmm-fuzz", "--"])
            .args(&pass)
            .status()
            .map_err(|e| format!("running cargo: {e}"))?;
        if !status.success() {
            return Err(format!("the fuzzer failed ({status})"));
        }
    }
    Ok(())
}
