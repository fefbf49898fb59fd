//! `cargo xtask <command>`: build orchestration for the RMM.
//!
//! - `build [--debug] [--platform qemu|fvp]`: builds the firmware for
//!   `aarch64-unknown-none-softfloat` (no FP/SIMD code, see `docs/firmware.md`) and writes the flat image `rmm.img` (QEMU `virt`, the default)
//!   or `rmm-fvp.img` (FVP Base RevC), entry at offset 0, with the ELF beside it, in the
//!   target directory (`target/`, or `$CARGO_TARGET_DIR`). The build fails if the ELF
//!   has FP/SIMD code or a stack frame over the limit (`elfcheck.rs`), or if the
//!   firmware's dependency tree reaches the hosted simulation (`deptree.rs`).
//! - `check-elf ELF`: the same checks on any firmware ELF (e.g. an older build).
//! - `bench [N]`: instructions per RMI command (callgrind) next to the reference's.
//! - `bench --qemu [--runs N] [--phases]`: AArch64 instructions per RMI command of
//!   `rmm.img` in QEMU under TF-A (`-icount`), less EL3's share, next to the reference's;
//!   with `--phases`, also where each command's instructions go, from a bench build with
//!   phase marks.
//! - `fuzz [--smoke] [...]`: the stateful fuzzer of the hosted RMM (see `fuzz.rs`).
//! - `run [--el3 monitor|tf-a] [--smp N] [--suite ...]`: builds `rmm.img` and the QEMU
//!   test fixtures and runs them in QEMU, under the project's EL3 test monitor or under
//!   TF-A built from Debian's source package (see `qemu.rs`, `tfa.rs`).
//! - `linux [--smp N] [--mem MIB]`: Debian's arm64 Linux kernel booted to userspace in a
//!   realm on `rmm.img` by the test host's VMM (see `linux/mod.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod a64;
mod bench;
mod bench_qemu;
mod deptree;
mod elfcheck;
mod fuzz;
mod image;
mod linux;
mod qemu;
mod stacks;
mod tfa;
mod token;

/// The firmware's target: AArch64 bare metal without FP/SIMD code generation. EL3 does
/// not switch the FP/SIMD registers between worlds, so R-EL2 code must not touch them
/// (see `docs/firmware.md`, FP/SIMD policy).
const FIRMWARE_TARGET: &str = "aarch64-unknown-none-softfloat";
/// The QEMU fixtures' target (they may use FP/SIMD; the test host must, to check the
/// RMM leaves it alone).
const FIXTURE_TARGET: &str = "aarch64-unknown-none";

/// Makes sure the pinned toolchain has `targets`: rustup installs a toolchain file's
/// targets only with the toolchain itself, not into one that is already there.
fn ensure_targets(targets: &[&str]) -> Result<(), String> {
    let root = workspace_root();
    let installed = match Command::new("rustup")
        .current_dir(&root)
        .args(["target", "list", "--installed"])
        .output()
    {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        // No rustup (a toolchain from elsewhere): cargo will say if a target is missing.
        _ => return Ok(()),
    };
    let missing: Vec<&str> = targets
        .iter()
        .copied()
        .filter(|t| !installed.lines().any(|l| l.trim() == *t))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing rustup target(s) {}", missing.join(" "));
    let status = Command::new("rustup")
        .current_dir(&root)
        .args(["target", "add"])
        .args(&missing)
        .status()
        .map_err(|e| format!("running rustup: {e}"))?;
    if !status.success() {
        return Err(format!("rustup target add {} failed", missing.join(" ")));
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("build") => {
            let debug = args[1..].iter().any(|a| a == "--debug");
            match args[1..].iter().position(|a| a == "--platform") {
                None => build(debug, Platform::Qemu, Variant::Normal).map(|_| ()),
                Some(i) => match args.get(i + 2).map(String::as_str) {
                    Some("qemu") => build(debug, Platform::Qemu, Variant::Normal).map(|_| ()),
                    Some("fvp") => build(debug, Platform::Fvp, Variant::Normal).map(|_| ()),
                    _ => Err("--platform takes qemu or fvp".to_string()),
                },
            }
        }
        Some("run") => return qemu::run(&args[1..]),
        Some("linux") => return linux::run(&args[1..]),
        Some("check-elf") => match args.get(1) {
            Some(path) => std::fs::read(path)
                .map_err(|e| format!("{path}: {e}"))
                .and_then(|elf| elfcheck::check(path, &elf, true)),
            None => Err("check-elf takes the path of a firmware ELF".to_string()),
        },
        Some("bench") if args[1..].iter().any(|a| a == "--qemu") => bench_qemu::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        _ => Err(format!(
            "usage: cargo xtask build [--debug] [--platform qemu|fvp]\n       cargo xtask check-elf ELF\n       cargo xtask bench [ITERATIONS]\n       cargo xtask bench --qemu [--runs N] [--phases]\n       {}\n       {}\n       {}",
            qemu::USAGE,
            linux::USAGE,
            fuzz::USAGE
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// The platform a firmware image is built for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// QEMU `virt` with RME: `rmm.img`.
    Qemu,
    /// Arm FVP Base RevC with RME: `rmm-fvp.img`.
    Fvp,
}

/// Which firmware image.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The product image.
    Normal,
    /// The image that overflows its stack at cold boot on purpose (feature
    /// `stack-overflow-test`): `rmm-stack-overflow-test.img`, for
    /// `cargo xtask run --stack-overflow-test` only.
    StackOverflowTest,
    /// The bench image with phase marks (feature `phases`): `rmm-phases.img`, for
    /// `cargo xtask bench --qemu --phases` only.
    Phases,
}

/// A built firmware image.
pub struct Built {
    /// The flat image.
    pub img: PathBuf,
    /// The ELF it was made from.
    pub elf: PathBuf,
}

/// Builds the firmware for `platform` and writes `rmm.img` (QEMU) or `rmm-fvp.img`
/// with the ELF beside it into the target directory.
fn build(debug: bool, platform: Platform, variant: Variant) -> Result<Built, String> {
    ensure_targets(&[FIRMWARE_TARGET])?;
    let root = workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let features = match (platform, variant) {
        (Platform::Fvp, Variant::Normal) => "firmware,fvp",
        (Platform::Fvp, Variant::StackOverflowTest) => "firmware,fvp,stack-overflow-test",
        (Platform::Qemu, Variant::Normal) => "firmware",
        (Platform::Qemu, Variant::StackOverflowTest) => "firmware,stack-overflow-test",
        (Platform::Fvp, Variant::Phases) => "firmware,fvp,phases",
        (Platform::Qemu, Variant::Phases) => "firmware,phases",
    };
    deptree::check_firmware_tree(&root, &cargo, features, FIRMWARE_TARGET)?;
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(&root).args([
        "build",
        "-p",
        "rmm",
        "--bin",
        "rmm",
        "--features",
        features,
        "--target",
        FIRMWARE_TARGET,
    ]);
    if !debug {
        cmd.arg("--release");
    }
    let status = cmd.status().map_err(|e| format!("running cargo: {e}"))?;
    if !status.success() {
        return Err(format!("firmware build failed ({status})"));
    }
    let profile = if debug { "debug" } else { "release" };
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let elf_path = target_dir.join(FIRMWARE_TARGET).join(profile).join("rmm");
    let elf = std::fs::read(&elf_path).map_err(|e| format!("{}: {e}", elf_path.display()))?;
    let img = image::flatten(&elf)?;
    let out = target_dir;
    let name = match (platform, variant) {
        (Platform::Fvp, Variant::Normal) => "rmm-fvp",
        (Platform::Fvp, Variant::StackOverflowTest) => "rmm-fvp-stack-overflow-test",
        (Platform::Qemu, Variant::Normal) => "rmm",
        (Platform::Qemu, Variant::StackOverflowTest) => "rmm-stack-overflow-test",
        (Platform::Fvp, Variant::Phases) => "rmm-fvp-phases",
        (Platform::Qemu, Variant::Phases) => "rmm-phases",
    };
    let elf_out = out.join(format!("{name}.elf"));
    std::fs::write(&elf_out, &elf).map_err(|e| e.to_string())?;
    // The image is written only when the ELF passes (the ELF stays, to be looked at).
    elfcheck::check(&format!("{name}.elf"), &elf, !debug)?;
    let img_path = out.join(format!("{name}.img"));
    std::fs::write(&img_path, &img.bytes).map_err(|e| e.to_string())?;
    println!(
        "{name}.img: {} bytes, load address {:#x}, entry {:#x} ({})",
        img.bytes.len(),
        img.load_addr,
        img.entry,
        img_path.display()
    );
    Ok(Built {
        img: img_path,
        elf: elf_out,
    })
}
