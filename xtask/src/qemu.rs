//! `cargo xtask run`: boots `rmm.img` in QEMU with the project's own EL3 test monitor
//! and Normal-world test host (no TF-A), streams the console and exits with QEMU's
//! status.
//!
//! ```text
//! cargo xtask run [--smp N] [--suite [-]PREFIX[,...]] [--timeout SECS] [-- QEMU-ARGS...]
//! ```
//!
//! - `--smp N` (default 2): CPUs. CPU 0 cold boots the RMM and runs the test host; the
//!   others warm boot the RMM and park.
//! - `--suite`: run only the conformance tests whose names start with one of the
//!   prefixes (e.g. `rmi_,granule_`) and with none of those written `-prefix` (e.g.
//!   `-realm_create_failure`); default all. The test host's own checks always run.
//! - `--timeout` (default 120): a run that has not ended by then is killed and fails.
//! - anything after `--` is passed to QEMU (e.g. `-d int,guest_errors -D /tmp/q.log`).
//!
//! Exit status: 0 when every selected test passed; 1 when a test failed; 2 RMM boot
//! failure; 3 unexpected exception from a lower EL at EL3; 4 exception or panic in the
//! monitor; 5 monitor set-up error; 6/7 unexpected exception/panic in the test host.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::{image, workspace_root, FIXTURE_TARGET};

/// Where the test host is loaded and entered.
const NS_HOST_ADDR: u64 = 0x6000_0000;
/// Where `rmm.img` is loaded.
const RMM_ADDR: u64 = 0x4010_0000;
/// Where the test host reads its parameters (see `tests/qemu/ns-host/src/params.rs`).
const PARAMS_ADDR: u64 = 0x5FFF_F000;
const PARAMS_MAGIC: &[u8; 8] = b"RMMQEMU1";
const QEMU: &str = "qemu-system-aarch64";

struct Options {
    smp: u32,
    suite: String,
    timeout: Duration,
    qemu_args: Vec<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        smp: 2,
        suite: String::new(),
        timeout: Duration::from_secs(120),
        qemu_args: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match a.as_str() {
            "--smp" => {
                o.smp = value("--smp")?
                    .parse()
                    .ok()
                    .filter(|n| (1..=8).contains(n))
                    .ok_or("--smp takes 1..=8")?;
            }
            "--suite" => o.suite = value("--suite")?,
            "--timeout" => {
                let s: u64 = value("--timeout")?
                    .parse()
                    .map_err(|_| "--timeout takes seconds")?;
                o.timeout = Duration::from_secs(s);
            }
            "--" => {
                o.qemu_args = it.cloned().collect();
                break;
            }
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok(o)
}

/// The usage line of `run`.
pub const USAGE: &str =
    "cargo xtask run [--smp N] [--suite [-]PREFIX[,...]] [--timeout SECS] [-- QEMU-ARGS...]";

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// Builds the two fixtures (release, bare metal) and returns their flat images.
fn build_fixtures(root: &Path, out: &Path) -> Result<(PathBuf, PathBuf), String> {
    crate::ensure_targets(&[FIXTURE_TARGET])?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--release",
            "--target",
            FIXTURE_TARGET,
            "-p",
            "rmm-test-el3-monitor",
            "-p",
            "rmm-test-ns-host",
        ])
        .status()
        .map_err(|e| format!("running cargo: {e}"))?;
    if !status.success() {
        return Err(format!("fixture build failed ({status})"));
    }
    let elf_dir = target_dir(root).join(FIXTURE_TARGET).join("release");
    let flat = |name: &str, want_addr: u64| -> Result<PathBuf, String> {
        let elf_path = elf_dir.join(name);
        let elf = std::fs::read(&elf_path).map_err(|e| format!("{}: {e}", elf_path.display()))?;
        let img = image::flatten(&elf)?;
        if img.load_addr != want_addr {
            return Err(format!(
                "{name}: load address {:#x}, expected {want_addr:#x}",
                img.load_addr
            ));
        }
        let path = out.join(format!("{name}.bin"));
        std::fs::write(&path, &img.bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        println!(
            "{name}.bin: {} bytes at {:#x} ({})",
            img.bytes.len(),
            img.load_addr,
            path.display()
        );
        Ok(path)
    };
    Ok((
        flat("rmm-test-el3-monitor", 0)?,
        flat("rmm-test-ns-host", NS_HOST_ADDR)?,
    ))
}

/// The parameter block the test host reads at [`PARAMS_ADDR`].
fn params_block(suite: &str) -> Vec<u8> {
    let mut b = PARAMS_MAGIC.to_vec();
    b.extend_from_slice(&(suite.len() as u32).to_le_bytes());
    b.extend_from_slice(suite.as_bytes());
    b
}

/// Makes sure QEMU is there, installing it on Debian if it is missing
/// (`.ci/install-qemu`, the one place that knows how).
fn check_qemu() -> Result<(), String> {
    if !qemu_present() {
        let script = crate::workspace_root().join(".ci/install-qemu");
        eprintln!(
            "xtask run: {QEMU} not found; installing it with {}",
            script.display()
        );
        let ok = Command::new("bash")
            .arg(&script)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            eprintln!("xtask run: installing QEMU failed");
        }
    }
    match Command::new(QEMU)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Err(format!(
            "{QEMU} not found: QEMU 8.0 or later with RME support is needed (Debian bookworm: \
             add bookworm-backports to the APT sources, then \
             `apt-get install -t bookworm-backports qemu-system-arm`)"
        )),
        Err(e) => Err(format!("running {QEMU}: {e}")),
    }
}

fn qemu_present() -> bool {
    Command::new(QEMU)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// `cargo xtask run ARGS`.
pub fn run(args: &[String]) -> ExitCode {
    match try_run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask run: {e}");
            ExitCode::FAILURE
        }
    }
}

fn try_run(args: &[String]) -> Result<ExitCode, String> {
    let opts = parse(args).map_err(|e| format!("{e}\nusage: {USAGE}"))?;
    check_qemu()?;
    let root = workspace_root();
    let rmm_img = crate::build(false, crate::Platform::Qemu)?;
    let out = target_dir(&root).join("qemu");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let (monitor, ns_host) = build_fixtures(&root, &out)?;
    let params = out.join("params.bin");
    std::fs::write(&params, params_block(&opts.suite))
        .map_err(|e| format!("{}: {e}", params.display()))?;

    let loader = |file: &Path, addr: u64| {
        format!("loader,file={},addr={addr:#x},force-raw=on", file.display())
    };
    let mut cmd = Command::new(QEMU);
    cmd.args([
        "-M",
        "virt,secure=on,virtualization=on,gic-version=3",
        "-cpu",
        "max,x-rme=on",
        "-smp",
        &opts.smp.to_string(),
        "-m",
        "3G",
        "-nographic",
        "-semihosting-config",
        "enable=on,target=native",
        "-bios",
    ])
    .arg(&monitor)
    .arg("-device")
    .arg(loader(&rmm_img, RMM_ADDR))
    .arg("-device")
    .arg(loader(&ns_host, NS_HOST_ADDR))
    .arg("-device")
    .arg(loader(&params, PARAMS_ADDR))
    .args(&opts.qemu_args)
    .stdin(Stdio::null());
    println!("running: {cmd:?}");
    let mut child = cmd.spawn().map_err(|e| format!("starting {QEMU}: {e}"))?;
    let deadline = Instant::now() + opts.timeout;
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "timeout: QEMU still running after {} s, killed",
                    opts.timeout.as_secs()
                ));
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    match status.code() {
        Some(0) => {
            println!("xtask run: QEMU exited with status 0 (pass)");
            Ok(ExitCode::SUCCESS)
        }
        Some(code) => {
            eprintln!("xtask run: QEMU exited with status {code} (fail)");
            Ok(ExitCode::from(u8::try_from(code).unwrap_or(1).max(1)))
        }
        None => Err(format!("QEMU ended without a status ({status})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn options() {
        let o = parse(&args(&[
            "--smp",
            "1",
            "--suite",
            "granule,rmi_version",
            "--",
            "-d",
            "int",
        ]))
        .unwrap();
        assert_eq!(o.smp, 1);
        assert_eq!(o.suite, "granule,rmi_version");
        assert_eq!(o.qemu_args, args(&["-d", "int"]));
        assert_eq!(parse(&[]).unwrap().smp, 2);
        assert!(parse(&args(&["--smp", "0"])).is_err());
        assert!(parse(&args(&["--smp"])).is_err());
        assert!(parse(&args(&["--bogus"])).is_err());
    }

    #[test]
    fn params_layout() {
        let b = params_block("granule");
        assert_eq!(&b[..8], b"RMMQEMU1");
        assert_eq!(&b[8..12], &7u32.to_le_bytes());
        assert_eq!(&b[12..], b"granule");
    }
}
