//! What the firmware is built from: its dependency tree must not reach the hosted
//! simulation.
//!
//! `platform-sim` (and `rmm`'s `sim` feature, which pulls it in for `rmm::hosted`) exist
//! only for `cargo test`, the fuzzer and the benches. A firmware build that reached
//! them would link a simulator into `rmm.img` (or fail to build for want of `std`, after
//! a confusing error). `cargo xtask build` asks cargo for the firmware's dependency
//! graph, with the same features and target as the build, and fails if the simulator
//! is in it.

use std::path::Path;
use std::process::Command;

/// Packages that only tests may depend on.
const HOSTED_ONLY_PACKAGES: &[&str] = &["platform-sim"];

/// Features that only tests may enable, on any package (`rmm`'s `sim`).
const HOSTED_ONLY_FEATURES: &[&str] = &["sim"];

/// Runs `cargo tree` for the firmware (`rmm` with `features`, for `target`; normal and
/// build dependencies, and the features each enables: what the build compiles, not the
/// dev-dependencies of `rmm`'s tests) and fails if it reaches the simulation.
pub fn check_firmware_tree(
    root: &Path,
    cargo: &str,
    features: &str,
    target: &str,
) -> Result<(), String> {
    let out = Command::new(cargo)
        .current_dir(root)
        .args([
            "tree",
            "-p",
            "rmm",
            "--features",
            features,
            "--target",
            target,
        ])
        .args(["-e", "normal,build,features", "--prefix", "none"])
        .output()
        .map_err(|e| format!("running cargo tree: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo tree of the firmware failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    match hosted_only_line(&String::from_utf8_lossy(&out.stdout)) {
        Some(line) => Err(format!(
            "the firmware (rmm --features {features}, {target}) depends on the hosted \
             simulation: `{line}` is in its `cargo tree`"
        )),
        None => Ok(()),
    }
}

/// The first line of a `cargo tree --prefix none -e features` listing that names a
/// hosted-only package or feature.
fn hosted_only_line(tree: &str) -> Option<&str> {
    tree.lines().map(str::trim).find(|line| {
        // A package line: `name vX.Y.Z (path)`; a feature line: `name feature "f"`.
        let mut words = line.split_whitespace();
        let name = words.next().unwrap_or("");
        match (words.next(), words.next()) {
            (Some("feature"), Some(f)) => {
                HOSTED_ONLY_PACKAGES.contains(&name)
                    || HOSTED_ONLY_FEATURES.contains(&f.trim_matches('"'))
            }
            _ => HOSTED_ONLY_PACKAGES.contains(&name),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::hosted_only_line;

    #[test]
    fn a_tree_without_the_simulation_passes() {
        let tree = "rmm v0.1.0 (/r/rmm)\n\
                    platform v0.1.0 (/r/platform)\n\
                    platform feature \"default\"\n\
                    rmm feature \"firmware\"\n\
                    vgic v0.1.0 (/r/vgic)\n\
                    p384 feature \"arithmetic\"\n";
        assert_eq!(hosted_only_line(tree), None);
    }

    #[test]
    fn the_simulation_crate_or_the_sim_feature_fails() {
        let tree = "rmm v0.1.0 (/r/rmm)\nplatform-sim v0.1.0 (/r/platform/sim)\n";
        assert_eq!(
            hosted_only_line(tree),
            Some("platform-sim v0.1.0 (/r/platform/sim)")
        );
        let tree = "rmm v0.1.0 (/r/rmm)\nplatform-sim feature \"default\"\n";
        assert_eq!(
            hosted_only_line(tree),
            Some("platform-sim feature \"default\"")
        );
        let tree = "rmm feature \"firmware\"\nrmm feature \"sim\"\n";
        assert_eq!(hosted_only_line(tree), Some("rmm feature \"sim\""));
        // A package whose name only contains the word is not the simulation.
        assert_eq!(hosted_only_line("simple v1.0.0\n"), None);
    }
}
