//! `cargo xtask run --el3 tf-a`: real TF-A as EL3, built from Debian's source package.
//!
//! 1. The tools come from Debian (`apt-get install`, only what is missing): the cross
//!    compiler `gcc-aarch64-linux-gnu`, `make`, a host `gcc` and `libssl-dev` (TF-A's
//!    `fiptool`), `dpkg-dev` and `xz-utils` (to unpack the source package).
//! 2. The source is Debian trixie's `arm-trusted-firmware` source package (2.12.1),
//!    fetched at run time with a private APT configuration under `target/tf-a/apt`
//!    (one `deb-src` entry for trixie, signed by the Debian archive keyring):
//!    `apt-get update`, `apt-get source --download-only`, then `dpkg-source -x`, which
//!    also applies Debian's patches. Nothing downloaded is part of the repository. Once
//!    unpacked, the source is reused; delete `target/tf-a` to fetch it again.
//! 3. The build, `make PLAT=qemu ENABLE_RME=1 QEMU_USE_GIC_DRIVER=QEMU_GICV3
//!    RMM=target/rmm.img BL33=<the NS test host> all fip`, lives in
//!    `target/tf-a/<Debian version>/build-<hash of the options>`: a rerun rebuilds only
//!    what changed (the FIP, when `rmm.img` or the test host did). TF-A's makefiles do
//!    not track their options, hence the hash: other options get a fresh tree.
//! 4. The flash image is made as TF-A's QEMU documentation describes: `bl1.bin` at
//!    offset 0 and `fip.bin` at 0x4_0000 (`flash.bin`, given to QEMU as `-bios`).
//!
//! TF-A's BL2 loads the test host (BL33) at 0x6000_0000 (`NS_IMAGE_OFFSET`) and BL31
//! enters it at NS-EL2 with interrupts masked, as the project's own monitor does; BL31
//! loads `rmm.img` at 0x4010_0000 and boots it with RMM-EL3 interface 0.4. TF-A ends
//! the run with PSCI `SYSTEM_OFF` (QEMU exits with status 0 whatever the tests did), so
//! the verdict comes from the console: [`verdict`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The Debian suite whose source package is built.
const SUITE: &str = "trixie";
/// The source package.
const PACKAGE: &str = "arm-trusted-firmware";
/// The upstream TF-A version trixie ships (the one the project states it boots on).
const EXPECTED_UPSTREAM: &str = "2.12.1";
/// Debian's archive and its keyring.
const ARCHIVE: &str = "http://deb.debian.org/debian";
const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";
/// The cross compiler prefix of Debian's `gcc-aarch64-linux-gnu`.
const CROSS_COMPILE: &str = "aarch64-linux-gnu-";
/// Where the FIP goes in the flash image (TF-A's QEMU port, `PLAT_QEMU_FIP_BASE`).
const FIP_OFFSET: usize = 0x4_0000;
/// Written into the unpacked source once `dpkg-source -x` has finished.
const SOURCE_STAMP: &str = ".xtask-unpacked";

/// The TF-A build options besides `RMM=` and `BL33=`: QEMU `virt`, RME (BL31 with the
/// RMMD and the GPT library, BL2 loading the RMM), and the GICv3 driver (TF-A's QEMU
/// default is GICv2; `cargo xtask run` starts QEMU with `gic-version=3`).
const MAKE_OPTIONS: &[&str] = &[
    "PLAT=qemu",
    "ENABLE_RME=1",
    "QEMU_USE_GIC_DRIVER=QEMU_GICV3",
];

/// A command the TF-A build needs, and the Debian package that provides it.
const TOOLS: &[(&str, &str)] = &[
    ("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"),
    ("make", "make"),
    ("gcc", "gcc"),
    ("dpkg-source", "dpkg-dev"),
    ("xz", "xz-utils"),
];
/// A header `fiptool` includes, and its package.
const OPENSSL_HEADER: (&str, &str) = ("/usr/include/openssl/sha.h", "libssl-dev");

/// Fetches (once), builds (incrementally) and packs TF-A with `rmm` as its RMM and
/// `bl33` as the Normal-world image, under `target/tf-a`; returns the flash image
/// (`flash.bin`: BL1 and the FIP with BL2, BL31, the RMM and BL33).
pub fn flash_image(target: &Path, rmm: &Path, bl33: &Path) -> Result<PathBuf, String> {
    ensure_tools()?;
    let base = target.join("tf-a");
    let (version, src) = source(&base)?;
    let upstream = version.split(['+', '-']).next().unwrap_or(&version);
    if upstream != EXPECTED_UPSTREAM {
        eprintln!(
            "xtask run: warning: Debian {SUITE} ships TF-A {upstream} now, not \
             {EXPECTED_UPSTREAM} (docs/firmware.md states which versions are known to boot)"
        );
    }
    let args = make_args(&version);
    let build_dir = base
        .join(&version)
        .join(format!("build-{:016x}", fnv1a(&args.join(" "))));
    let release = build_dir.join("qemu").join("release");
    // make repacks the FIP only when an input is newer than it: a different RMM or BL33
    // that happens to be older (another image built earlier) would be left out.
    match std::fs::remove_file(release.join("fip.bin")) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("removing the old FIP: {e}"))
        }
        _ => {}
    }
    build(&src, &build_dir, &args, rmm, bl33)?;
    let path = base.join(&version).join("flash.bin");
    make_flash(&release.join("bl1.bin"), &release.join("fip.bin"), &path)?;
    println!("TF-A {version} (Debian {SUITE}): {}", path.display());
    Ok(path)
}

/// Whether `cmd` runs (is on `PATH`).
fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Installs the Debian packages of the tools that are missing.
fn ensure_tools() -> Result<(), String> {
    let mut missing: Vec<&str> = TOOLS
        .iter()
        .filter(|(cmd, _)| !have(cmd))
        .map(|&(_, pkg)| pkg)
        .collect();
    if !Path::new(OPENSSL_HEADER.0).exists() {
        missing.push(OPENSSL_HEADER.1);
    }
    if missing.is_empty() {
        return Ok(());
    }
    if !have("apt-get") {
        return Err(format!(
            "building TF-A needs {} and Debian's apt to fetch its source package",
            missing.join(", ")
        ));
    }
    eprintln!(
        "xtask run: installing {} from Debian (apt-get)",
        missing.join(" ")
    );
    let sudo = !is_root();
    let apt = |args: &[&str]| -> Result<(), String> {
        let mut cmd = if sudo {
            let mut c = Command::new("sudo");
            c.arg("apt-get");
            c
        } else {
            Command::new("apt-get")
        };
        let ok = cmd
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(args)
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            Ok(())
        } else {
            Err(format!(
                "`apt-get {}` failed: install {} yourself",
                args.join(" "),
                missing.join(" ")
            ))
        }
    };
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(&missing);
    apt(&install)
}

pub(crate) fn run_logged(cmd: &mut Command, what: &str, log: &Path) -> Result<(), String> {
    let file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = file.try_clone().map_err(|e| e.to_string())?;
    let status = cmd
        .stdout(file)
        .stderr(err)
        .status()
        .map_err(|e| format!("{what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        Err(format!(
            "{what} failed ({status}); last lines of {}:\n{}",
            log.display(),
            tail.join("\n")
        ))
    }
}

fn mkdir(p: &Path) -> Result<(), String> {
    std::fs::create_dir_all(p).map_err(|e| format!("{}: {e}", p.display()))
}

/// The unpacked source: `(Debian version, directory)`. Reuses the last one unpacked
/// under `base`; otherwise fetches it (see the module documentation).
fn source(base: &Path) -> Result<(String, PathBuf), String> {
    let current = base.join("source-version");
    if let Ok(v) = std::fs::read_to_string(&current) {
        let v = v.trim().to_string();
        let src = base.join(&v).join("src");
        if src.join(SOURCE_STAMP).exists() {
            return Ok((v, src));
        }
    }
    let apt_dir = base.join("apt");
    let etc = apt_dir.join("etc");
    let parts = etc.join("sources.list.d");
    let lists = apt_dir.join("lists");
    let cache = apt_dir.join("cache");
    for d in [
        &parts,
        &lists.join("partial"),
        &cache.join("archives/partial"),
    ] {
        mkdir(d)?;
    }
    let list = etc.join("sources.list");
    std::fs::write(
        &list,
        format!("deb-src [signed-by={KEYRING}] {ARCHIVE} {SUITE} main\n"),
    )
    .map_err(|e| format!("{}: {e}", list.display()))?;
    let opts = [
        format!("Dir::Etc::SourceList={}", list.display()),
        format!("Dir::Etc::SourceParts={}", parts.display()),
        format!("Dir::State::Lists={}", lists.display()),
        format!("Dir::Cache={}", cache.display()),
    ];
    let apt = |dir: &Path| {
        let mut c = Command::new("apt-get");
        c.current_dir(dir);
        for o in &opts {
            c.arg("-o").arg(o);
        }
        c
    };
    println!("TF-A: fetching Debian {SUITE}'s {PACKAGE} source package");
    run_logged(
        apt(base).args(["update", "-q"]),
        "apt-get update (private configuration, deb-src trixie)",
        &apt_dir.join("update.log"),
    )?;
    let dl = base.join("download");
    if dl.exists() {
        std::fs::remove_dir_all(&dl).map_err(|e| format!("{}: {e}", dl.display()))?;
    }
    mkdir(&dl)?;
    run_logged(
        apt(&dl).args(["source", "--download-only", "-q", PACKAGE]),
        "apt-get source",
        &apt_dir.join("source.log"),
    )?;
    let dsc = std::fs::read_dir(&dl)
        .map_err(|e| format!("{}: {e}", dl.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "dsc"))
        .ok_or("apt-get source fetched no .dsc")?;
    let text = std::fs::read_to_string(&dsc).map_err(|e| format!("{}: {e}", dsc.display()))?;
    let version = dsc_version(&text).ok_or("no Version in the .dsc")?;
    let src = base.join(&version).join("src");
    if src.exists() {
        std::fs::remove_dir_all(&src).map_err(|e| format!("{}: {e}", src.display()))?;
    }
    mkdir(&base.join(&version))?;
    run_logged(
        Command::new("dpkg-source").arg("-x").arg(&dsc).arg(&src),
        "dpkg-source -x",
        &base.join(&version).join("unpack.log"),
    )?;
    std::fs::write(src.join(SOURCE_STAMP), &version).map_err(|e| e.to_string())?;
    std::fs::write(&current, &version).map_err(|e| e.to_string())?;
    println!("TF-A: unpacked {PACKAGE} {version} in {}", src.display());
    Ok((version, src))
}

/// The `Version:` field of a `.dsc`.
fn dsc_version(dsc: &str) -> Option<String> {
    dsc.lines()
        .find_map(|l| l.strip_prefix("Version:"))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The `make` options that decide what is built (besides the images, which `make`
/// tracks as files). `BUILD_STRING` names the Debian version in TF-A's banner (by
/// default TF-A takes `git describe` of the enclosing tree, under `target/` this
/// project's).
fn make_args(version: &str) -> Vec<String> {
    let mut a = vec![format!("CROSS_COMPILE={CROSS_COMPILE}")];
    a.extend(MAKE_OPTIONS.iter().map(|s| s.to_string()));
    a.push(format!("BUILD_STRING=debian-{version}"));
    a
}

/// 64-bit FNV-1a (the build tree's key).
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `make ARGS RMM=... BL33=... all fip` in `src` with the build tree in `build_dir`.
fn build(
    src: &Path,
    build_dir: &Path,
    args: &[String],
    rmm: &Path,
    bl33: &Path,
) -> Result<(), String> {
    mkdir(build_dir)?;
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut cmd = Command::new("make");
    cmd.current_dir(src)
        .arg(format!("-j{jobs}"))
        .args(args)
        .arg(format!("RMM={}", rmm.display()))
        .arg(format!("BL33={}", bl33.display()))
        .arg(format!("BUILD_BASE={}", build_dir.display()))
        .args(["all", "fip"]);
    let start = std::time::Instant::now();
    run_logged(&mut cmd, "TF-A build", &build_dir.join("make.log"))?;
    println!(
        "TF-A: built in {:.1} s (make {} RMM=... BL33=... all fip; log {})",
        start.elapsed().as_secs_f64(),
        MAKE_OPTIONS.join(" "),
        build_dir.join("make.log").display()
    );
    Ok(())
}

/// `bl1` at offset 0 and `fip` at [`FIP_OFFSET`] in one file.
fn flash_bytes(bl1: &[u8], fip: &[u8]) -> Result<Vec<u8>, String> {
    if bl1.len() > FIP_OFFSET {
        return Err(format!(
            "bl1.bin is {} bytes, more than the {FIP_OFFSET:#x} before the FIP",
            bl1.len()
        ));
    }
    let mut out = bl1.to_vec();
    out.resize(FIP_OFFSET, 0);
    out.extend_from_slice(fip);
    Ok(out)
}

fn make_flash(bl1: &Path, fip: &Path, out: &Path) -> Result<(), String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let bytes = flash_bytes(&read(bl1)?, &read(fip)?)?;
    let mut f = std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    f.write_all(&bytes)
        .map_err(|e| format!("{}: {e}", out.display()))
}

/// The console line the test host prints before powering off when EL3 has no
/// `TEST_EXIT` (`tests/qemu/ns-host/src/run.rs`, `EXIT_STATUS_LINE`), then the status.
const EXIT_STATUS_LINE: &str = "NS test host: exit status ";
/// What the RMM logs when its boot fails (TF-A then runs the Normal world anyway and
/// answers every RMI call with SMC_UNK).
const RMM_BOOT_FAILED: &str = "RMM boot failed";
/// Exit status of a run whose RMM did not boot (as under the test monitor).
const EXIT_RMM_BOOT_FAILED: u8 = 2;

/// The run's status from its console: the status the test host printed, 2 if the RMM
/// reported a boot failure instead, 1 if the host said nothing.
pub fn verdict(lines: &[String]) -> u8 {
    let printed = lines.iter().find_map(|l| {
        let rest = l.split(EXIT_STATUS_LINE).nth(1)?;
        rest.split(' ').next()?.parse::<u8>().ok()
    });
    let boot_failed = lines.iter().any(|l| l.contains(RMM_BOOT_FAILED));
    match printed {
        _ if boot_failed => EXIT_RMM_BOOT_FAILED,
        Some(s) => s,
        None => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &[&str]) -> Vec<String> {
        s.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn flash_layout() {
        let f = flash_bytes(&[1, 2, 3], &[9, 8]).unwrap();
        assert_eq!(f.len(), FIP_OFFSET + 2);
        assert_eq!(&f[..4], &[1, 2, 3, 0]);
        assert_eq!(&f[FIP_OFFSET..], &[9, 8]);
        assert!(flash_bytes(&vec![0; FIP_OFFSET + 1], &[]).is_err());
    }

    #[test]
    fn build_key() {
        // FNV-1a test vectors.
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(
            fnv1a(&make_args("2.12.1+dfsg-1").join(" ")),
            fnv1a(&make_args("2.12.1+dfsg-2").join(" "))
        );
    }

    #[test]
    fn dsc() {
        let d = "Format: 3.0 (quilt)\nSource: arm-trusted-firmware\nVersion: 2.12.1+dfsg-1\n";
        assert_eq!(dsc_version(d).as_deref(), Some("2.12.1+dfsg-1"));
        assert_eq!(dsc_version("Source: x\n"), None);
    }

    #[test]
    fn verdicts() {
        let pass = lines(&[
            "NS test host: PASS (35 passed, 0 failed, 1 skipped; 0 test(s) did not clean up)",
            "NS test host: exit status 0 (EL3 has no TEST_EXIT: PSCI SYSTEM_OFF)",
        ]);
        assert_eq!(verdict(&pass), 0);
        let fail = lines(&["NS test host: exit status 1 (EL3 has no TEST_EXIT: PSCI SYSTEM_OFF)"]);
        assert_eq!(verdict(&fail), 1);
        assert_eq!(verdict(&lines(&["NOTICE:  BL31: v2.12.1(release):"])), 1);
        let mut boot = pass.clone();
        boot.insert(0, "[ERROR] RMM boot failed: ManifestDataError".into());
        assert_eq!(verdict(&boot), 2);
    }
}
