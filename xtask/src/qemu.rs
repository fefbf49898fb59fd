//! `cargo xtask run`: boots `rmm.img` in QEMU with the project's own EL3 test monitor
//! and Normal-world test host (no TF-A), with the realm payload the test host runs in
//! realms loaded beside them, streams the console and exits with QEMU's status.
//!
//! ```text
//! cargo xtask run [--el3 monitor|tf-a] [--smp N] [--suite [-]PREFIX[,...]] [--timeout SECS]
//!                 [--stack-overflow-test] [-- QEMU-ARGS...]
//! ```
//!
//! - `--el3` (default `monitor`): the project's EL3 test monitor, or TF-A built from
//!   Debian's source package with `rmm.img` and the test host in its FIP (`tfa.rs`); the
//!   QEMU machine is the same. Under TF-A the run's status is the one the test host
//!   prints before PSCI `SYSTEM_OFF` ([`crate::tfa::verdict`]).
//! - `--smp N` (default 2): CPUs. CPU 0 cold boots the RMM and runs the test host; the
//!   others warm boot the RMM and park.
//! - `--suite`: run only the conformance tests whose names start with one of the
//!   prefixes (e.g. `rmi_,granule_`) and with none of those written `-prefix` (e.g.
//!   `-realm_create_failure`); default all. The test host's own checks always run.
//! - `--timeout` (default 120): a run that has not ended by then is killed and fails.
//! - `--stack-overflow-test`: instead of the suite, boot the image built with the
//!   `stack-overflow-test` feature, which recurses into the guard page below CPU 0's
//!   stack at cold boot, and pass only if the console shows exactly that fault reported
//!   as a stack overflow (FAR in CPU 0's guard page) and nothing else happening after it
//!   (no panic, no second report, no boot completion); QEMU is then stopped.
//! - anything after `--` is passed to QEMU (e.g. `-d int,guest_errors -D /tmp/q.log`).
//!
//! The console (QEMU's standard output) is streamed to standard output and kept for the
//! checks that read it.
//!
//! Exit status: 0 when every selected test passed; 1 when a test failed; 2 RMM boot
//! failure; 3 unexpected exception from a lower EL at EL3; 4 exception or panic in the
//! monitor; 5 monitor set-up error; 6/7 unexpected exception/panic in the test host;
//! 8 the tests passed but the stack budget did not: the largest stack high-water mark
//! read from memory after the run (`stacks.rs`), plus [`STACK_MARGIN`], exceeds the
//! stack size;
//! 9 the tests passed but the RMM did not report its attestation key and platform token
//! from EL3 at cold boot ([`ATTEST_READY`]); 10 the tests passed but the attestation
//! token a realm got, as the test host printed it, does not verify (`token.rs`); 11 the
//! tests passed but the RMM did not report at cold boot that the CPU's SHA-2
//! instructions pass its known answers and that it hashes with them
//! ([`SHA2_HARDWARE`]: QEMU's `max` CPU has FEAT_SHA256 and FEAT_SHA512); 12 the tests
//! passed but the RMM did not report at cold boot that it invalidates ranges of IPAs
//! with the range TLBI instructions ([`TLBI_BY_RANGE`]: the `max` CPU has
//! FEAT_TLBIRANGE), so the suite's RTT destroy and fold scenarios would not have
//! exercised them.

use std::cell::RefCell;
use std::io::{BufRead, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitCode, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::stacks::{self, StackProbe};
use crate::{image, workspace_root, FIXTURE_TARGET};

/// Where the test host is loaded and entered.
pub(crate) const NS_HOST_ADDR: u64 = 0x6000_0000;
/// Where `rmm.img` is loaded.
pub(crate) const RMM_ADDR: u64 = 0x4010_0000;
/// Where the test host finds the realm payload (`tests/qemu/ns-host/src/params.rs`),
/// linked at IPA [`REALM_IPA`].
pub(crate) const REALM_IMAGE_ADDR: u64 = 0x5F00_0000;
const REALM_IPA: u64 = 0x8_0000;
/// Where the test host reads its parameters (see `tests/qemu/ns-host/src/params.rs`).
pub(crate) const PARAMS_ADDR: u64 = 0x5FFF_F000;
const PARAMS_MAGIC: &[u8; 8] = b"RMMQEMU1";
pub(crate) const QEMU: &str = "qemu-system-aarch64";

/// Which EL3 firmware boots the RMM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum El3 {
    /// The project's EL3 test monitor (`tests/qemu/el3-monitor`).
    Monitor,
    /// TF-A from Debian's source package (`tfa.rs`).
    TfA,
}

struct Options {
    el3: El3,
    smp: u32,
    suite: String,
    timeout: Duration,
    stack_overflow_test: bool,
    qemu_args: Vec<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        el3: El3::Monitor,
        smp: 2,
        suite: String::new(),
        timeout: Duration::from_secs(120),
        stack_overflow_test: false,
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
            "--el3" => {
                o.el3 = match value("--el3")?.as_str() {
                    "monitor" => El3::Monitor,
                    "tf-a" => El3::TfA,
                    _ => return Err("--el3 takes monitor or tf-a".into()),
                }
            }
            "--suite" => o.suite = value("--suite")?,
            "--timeout" => {
                let s: u64 = value("--timeout")?
                    .parse()
                    .map_err(|_| "--timeout takes seconds")?;
                o.timeout = Duration::from_secs(s);
            }
            "--stack-overflow-test" => o.stack_overflow_test = true,
            "--" => {
                o.qemu_args = it.cloned().collect();
                break;
            }
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    if o.stack_overflow_test && o.el3 == El3::TfA {
        return Err("--stack-overflow-test runs under the test monitor only".into());
    }
    Ok(o)
}

/// The usage line of `run`.
pub const USAGE: &str = "cargo xtask run [--el3 monitor|tf-a] [--smp N] [--suite [-]PREFIX[,...]] \
                         [--timeout SECS] [--stack-overflow-test] [-- QEMU-ARGS...]";

pub(crate) fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// The QEMU fixtures' flat images.
pub(crate) struct Fixtures {
    /// The EL3 test monitor.
    pub monitor: PathBuf,
    /// The Normal-world test host.
    pub ns_host: PathBuf,
    /// The realm payload.
    pub realm: PathBuf,
}

/// Builds the fixtures (release, bare metal: the EL3 monitor, the test host, the realm
/// payload and the bench's RMM stub) and returns the flat images of the first three.
pub(crate) fn build_fixtures(root: &Path, out: &Path) -> Result<Fixtures, String> {
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
            "-p",
            "rmm-test-realm",
            "-p",
            "rmm-test-rmm-stub",
        ])
        .status()
        .map_err(|e| format!("running cargo: {e}"))?;
    if !status.success() {
        return Err(format!("fixture build failed ({status})"));
    }
    Ok(Fixtures {
        monitor: fixture_image(root, out, "rmm-test-el3-monitor", 0)?,
        ns_host: fixture_image(root, out, "rmm-test-ns-host", NS_HOST_ADDR)?,
        realm: fixture_image(root, out, "rmm-test-realm", REALM_IPA)?,
    })
}

/// The flat image `out/NAME.bin` of the fixture `name` that [`build_fixtures`] built,
/// which must load at `want_addr`.
pub(crate) fn fixture_image(
    root: &Path,
    out: &Path,
    name: &str,
    want_addr: u64,
) -> Result<PathBuf, String> {
    let elf_path = target_dir(root)
        .join(FIXTURE_TARGET)
        .join("release")
        .join(name);
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
}

/// The parameter block the test host reads at [`PARAMS_ADDR`].
pub(crate) fn params_block(suite: &str) -> Vec<u8> {
    let mut b = PARAMS_MAGIC.to_vec();
    b.extend_from_slice(&(suite.len() as u32).to_le_bytes());
    b.extend_from_slice(suite.as_bytes());
    b
}

/// Makes sure QEMU is there, installing it on Debian if it is missing
/// (`.ci/install-qemu`, the one place that knows how).
pub(crate) fn check_qemu() -> Result<(), String> {
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
    let variant = if opts.stack_overflow_test {
        crate::Variant::StackOverflowTest
    } else {
        crate::Variant::Normal
    };
    let rmm = crate::build(false, crate::Platform::Qemu, variant)?;
    let out = target_dir(&root).join("qemu");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let Fixtures {
        monitor,
        ns_host,
        realm,
    } = build_fixtures(&root, &out)?;
    let params = out.join("params.bin");
    std::fs::write(&params, params_block(&opts.suite))
        .map_err(|e| format!("{}: {e}", params.display()))?;

    let mut cmd = machine(opts.smp);
    cmd.args(["-semihosting-config", "enable=on,target=native", "-bios"]);
    match opts.el3 {
        El3::Monitor => cmd
            .arg(&monitor)
            .arg("-device")
            .arg(loader(&rmm.img, RMM_ADDR))
            .arg("-device")
            .arg(loader(&ns_host, NS_HOST_ADDR)),
        // TF-A loads both from its FIP.
        El3::TfA => cmd.arg(crate::tfa::flash_image(
            &target_dir(&root),
            &rmm.img,
            &ns_host,
        )?),
    };
    cmd.arg("-device")
        .arg(loader(&params, PARAMS_ADDR))
        .arg("-device")
        .arg(loader(&realm, REALM_IMAGE_ADDR))
        .args(&opts.qemu_args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let probe = if opts.stack_overflow_test {
        None
    } else {
        Some(StackProbe::attach(
            &mut cmd,
            &out,
            &rmm.elf,
            u64::from(opts.smp),
        )?)
    };
    println!("running: {cmd:?}");
    let mut child = cmd.spawn().map_err(|e| format!("starting {QEMU}: {e}"))?;
    let console = Console::attach(&mut child);
    let Some(probe) = probe else {
        return stack_overflow_test(child, console, &rmm.elf, opts.timeout);
    };
    let console = console.with_probe(probe);
    let (status, lines) = wait(&mut child, &console, opts.timeout)?;
    let stack = check_stack_budget(&lines);
    match &stack {
        Ok(msg) => println!("xtask run: {msg}"),
        Err(msg) => eprintln!("xtask run: {msg}"),
    }
    let attest = check_attestation(&lines);
    match &attest {
        Ok(msg) => println!("xtask run: {msg}"),
        Err(msg) => eprintln!("xtask run: {msg}"),
    }
    let sha2 = check_sha2(&lines);
    match &sha2 {
        Ok(msg) => println!("xtask run: {msg}"),
        Err(msg) => eprintln!("xtask run: {msg}"),
    }
    let tlbi = check_tlbi_range(&lines);
    match &tlbi {
        Ok(msg) => println!("xtask run: {msg}"),
        Err(msg) => eprintln!("xtask run: {msg}"),
    }
    let platform = match opts.el3 {
        El3::Monitor => crate::token::Platform::TestMonitor,
        El3::TfA => crate::token::Platform::TfASample,
    };
    let token = crate::token::check(
        &lines,
        platform,
        selected(&opts.suite, "realm_run_attestation_token"),
        &root,
    );
    match &token {
        Ok(msg) => println!("xtask run: {msg}"),
        Err(msg) => eprintln!("xtask run: {msg}"),
    }
    // TF-A powers the machine off (status 0) whatever the tests did: the test host
    // printed the run's status.
    let code = match (opts.el3, status.code()) {
        (El3::TfA, Some(0)) => {
            let v = crate::tfa::verdict(&lines);
            println!("xtask run: TF-A powered the machine off; the run's status is {v}");
            Some(i32::from(v))
        }
        (_, code) => code,
    };
    match code {
        Some(0) if stack.is_err() => Ok(ExitCode::from(STACK_BUDGET_EXCEEDED)),
        Some(0) if attest.is_err() => Ok(ExitCode::from(ATTESTATION_UNAVAILABLE)),
        Some(0) if token.is_err() => Ok(ExitCode::from(TOKEN_NOT_VERIFIED)),
        Some(0) if sha2.is_err() => Ok(ExitCode::from(SHA2_NOT_IN_HARDWARE)),
        Some(0) if tlbi.is_err() => Ok(ExitCode::from(TLBI_RANGE_UNUSED)),
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

/// QEMU `virt` with RME as every run here uses it: GICv3, `-cpu max,x-rme=on`, `smp`
/// CPUs, 3 GiB, the console on stdio. The caller adds the firmware and the images.
pub(crate) fn machine(smp: u32) -> Command {
    let mut cmd = Command::new(QEMU);
    cmd.args([
        "-M",
        "virt,secure=on,virtualization=on,gic-version=3",
        "-cpu",
        "max,x-rme=on",
        "-smp",
        &smp.to_string(),
        "-m",
        "3G",
        "-nographic",
    ]);
    cmd
}

/// The `-device` argument that puts `file` raw at physical address `addr`.
pub(crate) fn loader(file: &Path, addr: u64) -> String {
    format!("loader,file={},addr={addr:#x},force-raw=on", file.display())
}

/// Bytes of stack kept free beyond the deepest use the run measured: for paths the
/// suite does not reach and for frames that reserve space they never write (invisible
/// to painting). A quarter of the 16 KiB stack.
const STACK_MARGIN: u64 = 4096;
/// Exit status of a run whose tests passed but whose stack high-water mark plus
/// [`STACK_MARGIN`] exceeds the stack size (or that reported no mark).
const STACK_BUDGET_EXCEEDED: u8 = 8;

/// Exit status of a run whose tests passed but whose RMM did not get its attestation
/// material at boot.
const ATTESTATION_UNAVAILABLE: u8 = 9;
/// Exit status of a run whose tests passed but whose realm's attestation token, as
/// the test host printed it, does not verify (or was not printed): `token.rs`.
const TOKEN_NOT_VERIFIED: u8 = 10;

/// Exit status of a run whose tests passed but whose RMM does not hash with the CPU's
/// SHA-2 instructions after checking them against its known answers.
const SHA2_NOT_IN_HARDWARE: u8 = 11;

/// What the RMM logs at cold boot when FEAT_SHA256 and FEAT_SHA512 pass its FIPS 180-4
/// known answers on the real instructions and it hashes with them
/// (`rmm::hash::SHA2_INSTRUCTIONS_OK`, then the features).
const SHA2_HARDWARE: &str = "SHA-2: the CPU's instructions pass the FIPS 180-4 known answers; hashing with FEAT_SHA256 and FEAT_SHA512";

/// Whether the console shows the RMM hashing with the SHA-2 instructions.
fn check_sha2(lines: &[String]) -> Result<String, String> {
    match lines.iter().find(|l| l.contains(SHA2_HARDWARE)) {
        Some(_) => Ok("SHA-2: FEAT_SHA256 and FEAT_SHA512 pass the known answers at boot; the RMM hashes with them".into()),
        None => Err(format!(
            "SHA-2: the RMM did not report `{SHA2_HARDWARE}` at boot (see its `SHA-2:` line)"
        )),
    }
}

/// Exit status of a run whose tests passed but whose RMM does not invalidate ranges of
/// IPAs with the range TLBI instructions.
const TLBI_RANGE_UNUSED: u8 = 12;

/// What the RMM logs at cold boot when the CPU has FEAT_TLBIRANGE and it uses it
/// (`TLBI_BY_RANGE` of `rmm/src/main.rs`).
const TLBI_BY_RANGE: &str = "stage-2 TLB invalidation of a range: TLBI RIPAS2E1IS (FEAT_TLBIRANGE)";

/// Whether the console shows the RMM invalidating ranges with the range instructions.
fn check_tlbi_range(lines: &[String]) -> Result<String, String> {
    if lines.iter().any(|l| l.contains(TLBI_BY_RANGE)) {
        Ok("TLB: the RMM invalidates ranges of IPAs with TLBI RIPAS2E1IS (FEAT_TLBIRANGE)".into())
    } else {
        Err(format!(
            "TLB: the RMM did not report `{TLBI_BY_RANGE}` at boot (see its `stage-2 TLB` line)"
        ))
    }
}

/// Whether the test host runs test `name` with the `--suite` filter `filter` (the
/// rule of `tests/qemu/ns-host/src/params.rs`: a plain prefix includes, `-prefix`
/// excludes, no plain prefix includes everything).
fn selected(filter: &str, name: &str) -> bool {
    let prefixes = || filter.split(',').map(str::trim).filter(|p| !p.is_empty());
    let mut include = prefixes().filter(|p| !p.starts_with('-')).peekable();
    let included = include.peek().is_none() || include.any(|p| name.starts_with(p));
    let excluded = prefixes()
        .filter_map(|p| p.strip_prefix('-'))
        .any(|p| name.starts_with(p));
    included && !excluded
}
/// What the RMM logs once cold boot has the realm attestation key and the platform
/// token from EL3 (`rmm::attest::fetch_from_el3`).
const ATTEST_READY: &str = "attestation: realm attestation key from EL3, platform token of ";

/// Whether the console shows the RMM's attestation material obtained at boot.
fn check_attestation(lines: &[String]) -> Result<String, String> {
    match lines.iter().find(|l| l.contains(ATTEST_READY)) {
        Some(l) => Ok(l
            .split("attestation: ")
            .nth(1)
            .unwrap_or_default()
            .to_string()),
        None => Err("attestation: the RMM did not get its key and platform token from EL3".into()),
    }
}

/// A high-water mark line (`stacks::report_line`):
/// `... stack high-water mark: CPU n: USED of SIZE bytes`; returns (cpu, used, size).
pub(crate) fn parse_high_water(line: &str) -> Option<(u64, u64, u64)> {
    let rest = line.split("stack high-water mark: CPU ").nth(1)?;
    let (cpu, rest) = rest.split_once(": ")?;
    let (used, rest) = rest.split_once(" of ")?;
    let size = rest.strip_suffix(" bytes")?;
    Some((cpu.parse().ok()?, used.parse().ok()?, size.parse().ok()?))
}

/// The stack budget check over a whole run's console: the maximum mark reported, with
/// [`STACK_MARGIN`], must fit the stack size the firmware reports.
fn check_stack_budget(lines: &[String]) -> Result<String, String> {
    let Some((cpu, used, size)) = lines
        .iter()
        .filter_map(|l| parse_high_water(l))
        .max_by_key(|m| m.1)
    else {
        return Err("stack budget: no stack high-water mark was read after the run".into());
    };
    let msg = format!(
        "stack budget: high-water mark {used} bytes (CPU {cpu}) + margin {STACK_MARGIN} = {} \
         of {size} bytes per CPU stack",
        used + STACK_MARGIN
    );
    if used + STACK_MARGIN > size {
        Err(format!("{msg}: exceeded"))
    } else {
        Ok(format!("{msg}: ok"))
    }
}

/// What the test host prints when its run is over and the RMM's stacks may be read
/// (`tests/qemu/ns-host/src/run.rs`, `STACKS_READABLE_LINE`); it then waits for a byte
/// on the console.
pub(crate) const STACKS_READABLE_LINE: &str = "NS test host: done; the RMM's stacks may be read";

/// QEMU's console, line by line: each line is echoed to standard output as it comes
/// and handed to the checks. With QEMU's standard input piped, [`wait`] answers the test
/// host's [`STACKS_READABLE_LINE`], after reading the RMM's stacks if the console has a
/// [`StackProbe`].
pub(crate) struct Console {
    lines: mpsc::Receiver<String>,
    stdin: RefCell<Option<ChildStdin>>,
    probe: Option<StackProbe>,
}

impl Console {
    pub(crate) fn attach(child: &mut Child) -> Console {
        let stdin = RefCell::new(child.stdin.take());
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("QEMU's stdout is piped");
        std::thread::spawn(move || {
            let mut reader = std::io::BufReader::new(stdout);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let mut out = std::io::stdout().lock();
                        let _ = out.write_all(&buf);
                        let _ = out.flush();
                        let line = String::from_utf8_lossy(&buf);
                        if tx
                            .send(line.trim_end_matches(['\r', '\n']).to_string())
                            .is_err()
                        {
                            break;
                        }
                    }
                }
            }
        });
        Console {
            lines: rx,
            stdin,
            probe: None,
        }
    }

    /// The same console, reading the RMM's stacks with `probe` when the run is over.
    pub(crate) fn with_probe(self, probe: StackProbe) -> Console {
        Console {
            probe: Some(probe),
            ..self
        }
    }

    /// On the test host's [`STACKS_READABLE_LINE`]: the stacks' high-water marks (as
    /// console lines that [`parse_high_water`] reads) if there is a probe, then the
    /// byte that lets the host end its run.
    fn stacks_readable(&self, into: &mut Vec<String>) {
        if let Some(probe) = &self.probe {
            match probe.read() {
                Ok(marks) => {
                    for (cpu, used) in marks.into_iter().enumerate() {
                        let line = stacks::report_line(cpu as u64, used);
                        println!("{line}");
                        into.push(line);
                    }
                }
                Err(e) => {
                    let line = format!("xtask: reading the RMM's stacks failed: {e}");
                    eprintln!("{line}");
                    into.push(line);
                }
            }
        }
        if let Some(stdin) = self.stdin.borrow_mut().as_mut() {
            let _ = stdin.write_all(b"\n").and_then(|()| stdin.flush());
        }
    }

    /// The lines that have arrived by now.
    fn drain(&self, into: &mut Vec<String>) {
        while let Ok(l) = self.lines.try_recv() {
            into.push(l);
        }
    }
}

/// Waits for QEMU to exit (killing it after `timeout`); returns its status and the
/// console.
pub(crate) fn wait(
    child: &mut Child,
    console: &Console,
    timeout: Duration,
) -> Result<(ExitStatus, Vec<String>), String> {
    let deadline = Instant::now() + timeout;
    let mut lines = Vec::new();
    let mut seen = 0;
    let status = loop {
        console.drain(&mut lines);
        let readable = lines[seen..]
            .iter()
            .any(|l| l.trim_end() == STACKS_READABLE_LINE);
        seen = lines.len();
        if readable {
            console.stacks_readable(&mut lines);
            seen = lines.len();
        }
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "timeout: QEMU still running after {} s, killed",
                    timeout.as_secs()
                ));
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    // The reader thread ends at EOF; collect what it has left.
    while let Ok(l) = console.lines.recv_timeout(Duration::from_millis(500)) {
        lines.push(l);
    }
    Ok((status, lines))
}

/// The lines the stack overflow test image must produce, and how long to keep watching
/// after the report for anything else.
const OVERFLOW_MARKER: &str = "stack overflow test: recursing into the guard page";
const OVERFLOW_REPORT: &str =
    "RMM: stack overflow on CPU 0: the guard page below CPU 0's stack was hit";
const EXCEPTION_REPORT: &str = "RMM: unexpected exception on CPU 0: sync, current EL (EC 0x25)";
const QUIET_AFTER_REPORT: Duration = Duration::from_secs(2);

fn stack_overflow_test(
    mut child: Child,
    console: Console,
    elf: &Path,
    timeout: Duration,
) -> Result<ExitCode, String> {
    let guard = guard_page_of_cpu0(elf)?;
    let deadline = Instant::now() + timeout;
    let mut lines = Vec::new();
    let mut reported_at = None;
    loop {
        console.drain(&mut lines);
        if reported_at.is_none() && lines.iter().any(|l| l.contains(EXCEPTION_REPORT)) {
            reported_at = Some(Instant::now());
        }
        if reported_at.is_some_and(|t| t.elapsed() >= QUIET_AFTER_REPORT) {
            break;
        }
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            console.drain(&mut lines);
            return Err(format!(
                "stack overflow test: QEMU exited ({status}) instead of the RMM parking after \
                 the report"
            ));
        }
        if Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    console.drain(&mut lines);
    match check_overflow_console(&lines, guard) {
        Ok(far) => {
            println!(
                "xtask run: stack overflow test passed: guard page fault at FAR {far:#x} \
                 (CPU 0's guard page {:#x}..{:#x}) reported, CPU parked, nothing else ran",
                guard.0, guard.1
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("xtask run: stack overflow test FAILED: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `[start, end)` of the guard page below CPU 0's stack: the first page of
/// `__stacks_start` (see `platform::aarch64::map`, and [`stacks`] for the layout).
fn guard_page_of_cpu0(elf: &Path) -> Result<(u64, u64), String> {
    let start = stacks::stacks_start(elf)?;
    Ok((start, start + stacks::GUARD_SIZE))
}

/// Checks the console of the stack overflow test; returns the reported FAR.
fn check_overflow_console(lines: &[String], guard: (u64, u64)) -> Result<u64, String> {
    let count = |pat: &str| lines.iter().filter(|l| l.contains(pat)).count();
    if count(OVERFLOW_MARKER) != 1 {
        return Err("the test image did not start its recursion".into());
    }
    let marker = lines
        .iter()
        .position(|l| l.contains(OVERFLOW_MARKER))
        .expect("counted");
    if count(OVERFLOW_REPORT) != 1 {
        return Err(format!(
            "expected one `{OVERFLOW_REPORT}` line, got {}",
            count(OVERFLOW_REPORT)
        ));
    }
    if count("RMM: unexpected exception") != 1 || count(EXCEPTION_REPORT) != 1 {
        return Err(format!(
            "expected exactly one exception report, `{EXCEPTION_REPORT}`"
        ));
    }
    let report = lines
        .iter()
        .find(|l| l.contains(OVERFLOW_REPORT))
        .expect("counted");
    let far = report
        .split("FAR 0x")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_hexdigit()).next())
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .ok_or("no FAR in the report")?;
    if !(guard.0..guard.1).contains(&far) {
        return Err(format!(
            "FAR {far:#x} is not in CPU 0's guard page {:#x}..{:#x}",
            guard.0, guard.1
        ));
    }
    // After the marker: only the two report lines, from the RMM or anyone else.
    let after: Vec<&String> = lines[marker + 1..]
        .iter()
        .filter(|l| !l.trim().is_empty())
        .collect();
    if after.len() != 2 {
        return Err(format!(
            "expected only the two report lines after the recursion started, got: {after:?}"
        ));
    }
    for bad in ["RMM panic", "cold boot complete", "Test="] {
        if count(bad) != 0 {
            return Err(format!("unexpected `{bad}` on the console"));
        }
    }
    Ok(far)
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
        assert!(!parse(&[]).unwrap().stack_overflow_test);
        assert_eq!(parse(&[]).unwrap().el3, El3::Monitor);
        assert_eq!(parse(&args(&["--el3", "tf-a"])).unwrap().el3, El3::TfA);
        assert!(parse(&args(&["--el3", "tf-a", "--stack-overflow-test"])).is_err());
        assert!(parse(&args(&["--el3", "bl31"])).is_err());
        assert!(
            parse(&args(&["--stack-overflow-test"]))
                .unwrap()
                .stack_overflow_test
        );
    }

    fn lines(s: &[&str]) -> Vec<String> {
        s.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn overflow_console() {
        let guard = (0x4030_0000, 0x4030_1000);
        let good = lines(&[
            "[INFO ] RMM for Arm CCA (DEN0137 1.0), 0.1.0 qemu-virt",
            "[INFO ] stack overflow test: recursing into the guard page",
            "RMM: stack overflow on CPU 0: the guard page below CPU 0's stack was hit (FAR 0x40300ff0, SP 0x40300ff0, ELR 0x40101234, ESR 0x96000047)",
            "RMM: unexpected exception on CPU 0: sync, current EL (EC 0x25), ESR 0x96000047, ELR 0x40101234, FAR 0x40300ff0, SPSR 0x3c9, SP 0x40300ff0",
        ]);
        assert_eq!(check_overflow_console(&good, guard), Ok(0x4030_0ff0));
        // FAR outside the guard page.
        let mut far_elsewhere = good.clone();
        far_elsewhere[2] = far_elsewhere[2].replace("FAR 0x40300ff0", "FAR 0x40301ff0");
        assert!(check_overflow_console(&far_elsewhere, guard).is_err());
        // No report; a panic; something running after the fault.
        assert!(check_overflow_console(&good[..2], guard).is_err());
        let mut panicked = good.clone();
        panicked.push("RMM panic: oops".into());
        assert!(check_overflow_console(&panicked, guard).is_err());
        let mut went_on = good.clone();
        went_on.push("EL3: RMM cold boot complete on CPU 0".into());
        assert!(check_overflow_console(&went_on, guard).is_err());
    }

    #[test]
    fn attestation_at_boot() {
        let ok = lines(&[
            "[INFO ] RMM for Arm CCA",
            "[INFO ] attestation: realm attestation key from EL3, platform token of 415 bytes",
        ]);
        assert_eq!(
            check_attestation(&ok).unwrap(),
            "realm attestation key from EL3, platform token of 415 bytes"
        );
        let failed = lines(&["[ERROR] attestation unavailable: RealmKey(Unknown); ..."]);
        assert!(check_attestation(&failed).is_err());
    }

    #[test]
    fn stack_budget() {
        assert_eq!(
            parse_high_water("[INFO ] stack high-water mark: CPU 0: 5120 of 16384 bytes"),
            Some((0, 5120, 16384))
        );
        assert_eq!(parse_high_water("stack high-water mark: CPU 0: lots"), None);
        let run = lines(&[
            "[INFO ] stack high-water mark: CPU 0: 3000 of 16384 bytes",
            "Test=x checks=1 Result=Passed",
            "[INFO ] stack high-water mark: CPU 0: 12288 of 16384 bytes",
        ]);
        assert!(check_stack_budget(&run).is_ok());
        let mut deep = run.clone();
        deep.push("[INFO ] stack high-water mark: CPU 1: 12289 of 16384 bytes".into());
        assert!(check_stack_budget(&deep).is_err());
        assert!(check_stack_budget(&run[1..2]).is_err());
    }

    #[test]
    fn suite_selection() {
        assert!(selected("", "realm_run_x"));
        assert!(selected("realm_run_", "realm_run_x"));
        assert!(!selected("granule", "realm_run_x"));
        assert!(!selected("-realm_run", "realm_run_x"));
        assert!(selected("-granule", "realm_run_x"));
    }

    #[test]
    fn params_layout() {
        let b = params_block("granule");
        assert_eq!(&b[..8], b"RMMQEMU1");
        assert_eq!(&b[8..12], &7u32.to_le_bytes());
        assert_eq!(&b[12..], b"granule");
    }
}
