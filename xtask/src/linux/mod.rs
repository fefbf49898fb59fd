//! `cargo xtask linux`: Debian's arm64 Linux kernel booted as a realm on `rmm.img`, in
//! QEMU, under the project's EL3 test monitor, by the VMM of the Normal-world test
//! host (`tests/qemu/ns-host/src/vmm`).
//!
//! ```text
//! cargo xtask linux [--smp N] [--mem MIB] [--timeout SECS] [--verbose] [-- QEMU-ARGS...]
//! ```
//!
//! 1. Builds `rmm.img` and the QEMU fixtures as `cargo xtask run` does.
//! 2. Fetches (once; cached under `target/linux`) Debian's kernel and busybox
//!    ([`debian`]): the newest `linux-image-7.3.*-cloud-arm64` of trixie-backports, whose
//!    kernel is in its `linux-binary-*` dependency (`/usr/lib/modules/<version>/vmlinuz`,
//!    an uncompressed arm64 `Image` with an EFI stub, 4 KiB pages: no decompression
//!    is needed), its `linux-modules-*` dependency (for `arm-cca-guest`) and trixie's
//!    `busybox-static`; every `.deb` checked against the package index's SHA-256.
//! 3. Writes the initramfs ([`initramfs`]), the device tree ([`dtb`]) and the boot block
//!    (`rmm_conformance::linux_boot`) for `--smp` vCPUs (default 2) and `--mem` MiB of
//!    realm RAM (default 512), and boots QEMU with them staged in Non-secure memory.
//! 4. Streams the console. Passes (exit 0) only if the test host reports the realm
//!    powered off with PSCI `SYSTEM_OFF`, `/init`'s marker line appeared before and
//!    the attestation token `/init` printed verifies for this run's fresh challenge
//!    (`crate::token::check_linux`); otherwise fails with the last console lines.
//!    Prints the table of the realm's SMCs the RMM reported ([`smc_table`]).

mod cpio;
pub mod debian;
mod dtb;
mod fdt;
mod initramfs;
mod smc_table;

use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use rmm_conformance::linux_boot::{
    Blob, LinuxBoot, FLAG_VERBOSE, INIT_MARKER, LINUX_BOOT_ADDR, LINUX_BOOT_MAGIC, MAX_VCPUS,
    RAM_BASE, STAGING_BASE, STAGING_END,
};
use zerocopy::IntoBytes;

use crate::qemu;

/// The kernel series the issue asks for, from trixie-backports, and its flavour.
const KERNEL_SERIES: &str = "7.3.";
const KERNEL_FLAVOUR: &str = "-cloud-arm64";
/// The kernel command line. `console=ttyAMA0`: the PL011 (its driver and `/dev/console`);
/// `earlycon`: the same UART from `stdout-path` before the driver probes; `rdinit=/init`;
/// `swiotlb=512` (1 MiB of bounce buffers, 512 slabs of 2 KiB: a realm's DMA goes through
/// them, shared with the host; the default 64 MiB would be made shared, and zeroed, for
/// nothing, as the realm has no DMA device); `nokaslr` (no seed anyway);
/// `panic=-1` (a panic resets at once: PSCI `SYSTEM_RESET`, which the VMM reports).
const BOOTARGS: &str =
    "console=ttyAMA0 earlycon=pl011,0x8009000000 rdinit=/init swiotlb=512 nokaslr panic=-1";
/// Console lines shown when the boot fails.
const TAIL_LINES: usize = 40;
/// The test host's line when the realm powered off (`tests/qemu/ns-host/src/vmm`).
const POWERED_OFF: &str = "VMM: realm powered off (PSCI SYSTEM_OFF)";

/// The usage line.
pub const USAGE: &str =
    "cargo xtask linux [--smp N] [--mem MIB] [--timeout SECS] [--verbose] [-- QEMU-ARGS...]";

struct Options {
    vcpus: u32,
    mem_mib: u64,
    timeout: Duration,
    verbose: bool,
    qemu_args: Vec<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        vcpus: 2,
        mem_mib: 512,
        timeout: Duration::from_secs(900),
        verbose: false,
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
                o.vcpus = value("--smp")?
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_VCPUS).contains(n))
                    .ok_or(format!("--smp takes 1..={MAX_VCPUS}"))?;
            }
            "--mem" => {
                o.mem_mib = value("--mem")?
                    .parse()
                    .ok()
                    .filter(|n| (64..=1024).contains(n) && n % 2 == 0)
                    .ok_or("--mem takes an even number of MiB in 64..=1024")?;
            }
            "--timeout" => {
                o.timeout = Duration::from_secs(
                    value("--timeout")?
                        .parse()
                        .map_err(|_| "--timeout takes seconds")?,
                )
            }
            "--verbose" => o.verbose = true,
            "--" => {
                o.qemu_args = it.cloned().collect();
                break;
            }
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok(o)
}

/// `cargo xtask linux ARGS`.
pub fn run(args: &[String]) -> ExitCode {
    match try_run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask linux: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What the boot needs from Debian.
struct Assets {
    /// The Debian kernel package and its version.
    kernel_package: String,
    kernel_version: String,
    /// The kernel `Image`.
    image: PathBuf,
    /// busybox (static, arm64).
    busybox: PathBuf,
    /// The kernel's modules (`.../kernel`, from its `linux-modules-*` package).
    modules: PathBuf,
}

/// The arm64 `Image` header (the kernel's `Documentation/arch/arm64/booting.rst`): magic
/// `ARM\x64` at offset 56, `image_size` at 16, `flags` at 24 (bit 0 big-endian, bits
/// \[2:1\] the page size, 1 = 4 KiB). Returns `image_size`.
fn image_size(image: &[u8]) -> Result<u64, String> {
    let word = |off: usize| {
        image
            .get(off..off + 8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    };
    let magic = image.get(56..60).ok_or("kernel image too short")?;
    if magic != b"ARM\x64" {
        return Err("not an arm64 kernel Image (no ARM\\x64 magic at offset 56)".into());
    }
    let size = word(16).ok_or("kernel image too short")?;
    let flags = word(24).ok_or("kernel image too short")?;
    if flags & 1 != 0 {
        return Err("big-endian kernel".into());
    }
    if (flags >> 1) & 3 != 1 {
        return Err(format!(
            "kernel page size field {} (want 1: 4 KiB pages)",
            (flags >> 1) & 3
        ));
    }
    if size == 0 {
        return Err("image_size 0 (a kernel older than 3.17)".into());
    }
    Ok(size)
}

fn read(p: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))
}

fn write(p: &Path, b: &[u8]) -> Result<(), String> {
    std::fs::write(p, b).map_err(|e| format!("{}: {e}", p.display()))
}

/// Finds the file named `name` under `dir`.
fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        if p.is_dir() {
            if let Some(f) = find(&p, name) {
                return Some(f);
            }
        } else if p.file_name().is_some_and(|n| n == name) {
            return Some(p);
        }
    }
    None
}

/// Fetches and unpacks the kernel and busybox under `base` (once: a later run reuses
/// what `assets.txt` names).
fn assets(base: &Path) -> Result<Assets, String> {
    let stamp = base.join("assets.txt");
    if let Ok(s) = std::fs::read_to_string(&stamp) {
        let l: Vec<&str> = s.lines().collect();
        if let [pkg, ver, image, busybox, modules] = l[..] {
            let a = Assets {
                kernel_package: pkg.into(),
                kernel_version: ver.into(),
                image: image.into(),
                busybox: busybox.into(),
                modules: modules.into(),
            };
            if a.image.exists() && a.busybox.exists() && a.modules.is_dir() {
                return Ok(a);
            }
        }
    }
    let apt = debian::Apt::new(&base.join("apt"))?;
    println!("linux: fetching Debian's package index (arm64: trixie, trixie-backports)");
    apt.update()?;
    let prefix = format!("linux-image-{KERNEL_SERIES}");
    let mut images: Vec<String> = apt
        .names(&prefix)?
        .into_iter()
        .filter(|n| n.ends_with(KERNEL_FLAVOUR) && !n.contains("-unsigned") && !n.ends_with("-dbg"))
        .collect();
    images.sort_by_key(|n| debian::version_key(&n[prefix.len() - KERNEL_SERIES.len()..]));
    let name = images.pop().ok_or_else(|| {
        format!("no linux-image-{KERNEL_SERIES}*{KERNEL_FLAVOUR} in trixie-backports")
    })?;
    let image_pkg = apt.show(&name)?;
    let debs = base.join("debs");
    let mut pkgs = vec![image_pkg.clone()];
    // Since 6.17 Debian splits the kernel out into `linux-binary-*`; older packages
    // have it themselves. The modules (`arm-cca-guest` for attestation) are in
    // `linux-modules-*`.
    for d in &image_pkg.depends {
        if d.starts_with("linux-binary-") || d.starts_with("linux-modules-") {
            pkgs.push(apt.show(d)?);
        }
    }
    pkgs.push(apt.show("busybox-static")?);
    let root = base.join(format!("root-{}", image_pkg.version));
    if root.exists() {
        std::fs::remove_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    }
    for p in &pkgs {
        let deb = apt.download(p, &debs)?;
        println!(
            "linux: {} {} (SHA-256 {} as in the index)",
            p.name, p.version, p.sha256
        );
        debian::unpack(&deb, &root)?;
    }
    let image = find(&root, "vmlinuz")
        .or_else(|| {
            std::fs::read_dir(root.join("boot")).ok().and_then(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .find(|p| p.to_string_lossy().contains("vmlinuz-"))
            })
        })
        .ok_or(format!("no vmlinuz in {name} or its linux-binary package"))?;
    let busybox = ["usr/bin/busybox", "bin/busybox"]
        .iter()
        .map(|p| root.join(p))
        .find(|p| p.is_file())
        .ok_or("no /usr/bin/busybox or /bin/busybox in busybox-static")?;
    let modules = find(&root, "arm-cca-guest.ko.xz")
        .and_then(|p| Some(p.ancestors().find(|d| d.ends_with("kernel"))?.to_path_buf()))
        .ok_or(format!("no arm-cca-guest.ko.xz in the modules of {name}"))?;
    let a = Assets {
        kernel_package: name,
        kernel_version: image_pkg.version,
        image,
        busybox,
        modules,
    };
    write(
        &stamp,
        format!(
            "{}\n{}\n{}\n{}\n{}\n",
            a.kernel_package,
            a.kernel_version,
            a.image.display(),
            a.busybox.display(),
            a.modules.display()
        )
        .as_bytes(),
    )?;
    Ok(a)
}

const MIB2: u64 = 0x20_0000;

fn align_up(v: u64, a: u64) -> u64 {
    v.div_ceil(a) * a
}

/// Where each image goes, in the realm and in the staging area.
struct Layout {
    boot: LinuxBoot,
}

fn layout(
    opts: &Options,
    kernel_len: u64,
    image_size: u64,
    initrd_len: u64,
) -> Result<Layout, String> {
    let ram_size = opts.mem_mib << 20;
    let kernel_ipa = RAM_BASE;
    // The device tree after the kernel's image_size, in a 2 MiB region of its own
    // (booting.rst: the blob is mapped with 2 MiB blocks); the initramfs after it.
    let dtb_ipa = align_up(kernel_ipa + image_size.max(kernel_len), MIB2);
    let initrd_ipa = dtb_ipa + MIB2;
    let ns_kernel = STAGING_BASE;
    let ns_dtb = align_up(ns_kernel + kernel_len, MIB2);
    let ns_initrd = ns_dtb + MIB2;
    let boot = LinuxBoot {
        magic: LINUX_BOOT_MAGIC,
        vcpus: opts.vcpus.into(),
        ram_size,
        kernel: Blob {
            ns_pa: ns_kernel,
            size: kernel_len,
            ipa: kernel_ipa,
        },
        kernel_image_size: image_size,
        initrd: Blob {
            ns_pa: ns_initrd,
            size: initrd_len,
            ipa: initrd_ipa,
        },
        // The size is set once the tree is written (it names the initrd range).
        dtb: Blob {
            ns_pa: ns_dtb,
            size: 0,
            ipa: dtb_ipa,
        },
        flags: if opts.verbose { FLAG_VERBOSE } else { 0 },
    };
    if ns_initrd + initrd_len > STAGING_END {
        return Err("the kernel and initramfs do not fit the staging area".into());
    }
    if initrd_ipa + initrd_len + (64 << 20) > RAM_BASE + ram_size {
        return Err(format!(
            "{} MiB of realm RAM is too little for the kernel and initramfs",
            opts.mem_mib
        ));
    }
    Ok(Layout { boot })
}

fn try_run(args: &[String]) -> Result<ExitCode, String> {
    let opts = parse(args).map_err(|e| format!("{e}\nusage: {USAGE}"))?;
    let start = Instant::now();
    qemu::check_qemu()?;
    let root = crate::workspace_root();
    let target = qemu::target_dir(&root);
    let rmm = crate::build(false, crate::Platform::Qemu, crate::Variant::Normal)?;
    let out = target.join("qemu");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let qemu::Fixtures {
        monitor, ns_host, ..
    } = qemu::build_fixtures(&root, &out)?;

    let base = target.join("linux");
    std::fs::create_dir_all(&base).map_err(|e| format!("{}: {e}", base.display()))?;
    let fetch = Instant::now();
    let a = assets(&base)?;
    let kernel = read(&a.image)?;
    let isize = image_size(&kernel)?;
    println!(
        "linux: kernel {} ({}): {} bytes, image_size {isize:#x} ({}), fetched in {:.1} s",
        a.kernel_package,
        a.kernel_version,
        kernel.len(),
        a.image.display(),
        fetch.elapsed().as_secs_f64()
    );
    let challenge = fresh_challenge();
    let mut modules: [Vec<u8>; 3] = Default::default();
    for (m, name) in modules.iter_mut().zip(initramfs::MODULES) {
        let f = format!("{name}.ko.xz");
        *m = read(&find(&a.modules, &f).ok_or(format!("no {f} under {}", a.modules.display()))?)?;
    }
    let initrd = initramfs::build(&read(&a.busybox)?, &modules, &challenge);
    let mut l = layout(&opts, kernel.len() as u64, isize, initrd.len() as u64)?;
    let dtb = dtb::build(&dtb::RealmTree {
        vcpus: opts.vcpus,
        ram_size: l.boot.ram_size,
        initrd: (l.boot.initrd.ipa, l.boot.initrd.ipa + initrd.len() as u64),
        bootargs: BOOTARGS,
    });
    l.boot.dtb.size = dtb.len() as u64;
    if !l.boot.valid() {
        return Err(format!(
            "internal: boot block fails its own checks: {:?}",
            l.boot
        ));
    }
    let initrd_path = base.join("initramfs.cpio");
    let dtb_path = base.join("realm.dtb");
    let boot_path = base.join("boot.bin");
    write(&initrd_path, &initrd)?;
    write(&dtb_path, &dtb)?;
    write(&boot_path, l.boot.as_bytes())?;
    println!(
        "linux: {} vCPU(s), {} MiB RAM at {RAM_BASE:#x}; kernel at IPA {:#x}, device tree \
         ({} bytes) at {:#x}, initramfs ({} bytes) at {:#x}; bootargs `{BOOTARGS}`",
        opts.vcpus,
        opts.mem_mib,
        l.boot.kernel.ipa,
        dtb.len(),
        l.boot.dtb.ipa,
        initrd.len(),
        l.boot.initrd.ipa
    );

    let mut cmd = qemu::machine(2);
    cmd.args(["-semihosting-config", "enable=on,target=native", "-bios"])
        .arg(&monitor);
    for (file, addr) in [
        (&rmm.img, qemu::RMM_ADDR),
        (&ns_host, qemu::NS_HOST_ADDR),
        (&boot_path, LINUX_BOOT_ADDR),
        (&a.image, l.boot.kernel.ns_pa),
        (&dtb_path, l.boot.dtb.ns_pa),
        (&initrd_path, l.boot.initrd.ns_pa),
    ] {
        cmd.arg("-device").arg(qemu::loader(file, addr));
    }
    cmd.args(&opts.qemu_args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let probe = crate::stacks::StackProbe::attach(&mut cmd, &out, &rmm.elf, 2)?;
    println!("running: {cmd:?}");
    let boot_start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("starting {}: {e}", qemu::QEMU))?;
    let console = qemu::Console::attach(&mut child).with_probe(probe);
    let waited = qemu::wait(&mut child, &console, opts.timeout);
    let secs = boot_start.elapsed().as_secs_f64();
    let (status, lines) = match waited {
        Ok(v) => v,
        Err(e) => {
            return Err(e);
        }
    };
    let smcs = smc_table::gather(&lines);
    if smcs.is_empty() {
        println!("xtask linux: the RMM reported no SMCs (no REC was destroyed)");
    } else {
        println!("xtask linux: the realm's SMCs, as the RMM counted them (RSI, PSCI, SMCCC):");
        for l in smc_table::render(&smcs) {
            println!("xtask linux: {l}");
        }
    }
    let attest = attestation(&lines, &challenge, &root);
    match &attest {
        Ok(msg) => println!("xtask linux: {msg}"),
        Err(msg) => eprintln!("xtask linux: FAIL: {msg}"),
    }
    let verdict = verdict(&lines).and_then(|m| attest.map(|_| m));
    match verdict {
        Ok(marker) => {
            println!("xtask linux: {marker}");
            println!(
                "xtask linux: pass: the realm reached /init and powered off; QEMU ran {secs:.1} s, \
                 {:.1} s in all",
                start.elapsed().as_secs_f64()
            );
            match status.code() {
                Some(0) => Ok(ExitCode::SUCCESS),
                c => {
                    eprintln!("xtask linux: but QEMU exited with {c:?}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Err(why) => {
            eprintln!("xtask linux: FAIL: {why} (QEMU {status}, {secs:.1} s); last console lines:");
            let from = lines.len().saturating_sub(TAIL_LINES);
            for l in &lines[from..] {
                eprintln!("  | {l}");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

/// A challenge for this run's token (64 bytes, as RSI_ATTESTATION_TOKEN_INIT takes):
/// SHA-512 of the time and the process, so that a token from another run does not pass.
fn fresh_challenge() -> [u8; 64] {
    use sha2::{Digest, Sha512};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut h = Sha512::new();
    h.update(b"cargo xtask linux challenge");
    h.update(now.as_nanos().to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.finalize().into()
}

/// The token `/init` printed ([`initramfs::TOKEN_LINE`] lines), verified for `challenge`.
fn attestation(lines: &[String], challenge: &[u8; 64], root: &Path) -> Result<String, String> {
    let mut token = Vec::new();
    let mut provider = None;
    let mut end = false;
    for l in lines {
        let Some(rest) = l.split(initramfs::TOKEN_LINE).nth(1) else {
            continue;
        };
        let rest = rest.trim();
        if let Some(f) = rest.strip_prefix("failed: ") {
            return Err(format!("attestation in the realm failed: {f}"));
        } else if let Some(p) = rest.strip_prefix("provider ") {
            provider = Some(p.to_string());
        } else if let Some(b) = rest.strip_prefix("bytes ") {
            for x in b.split_whitespace() {
                token.push(u8::from_str_radix(x, 16).map_err(|_| format!("`{l}`: not hex"))?);
            }
        } else if rest == "end" {
            end = true;
        }
    }
    if !end {
        return Err("/init printed no complete attestation token".into());
    }
    let report = crate::token::check_linux(&token, challenge, root)?;
    Ok(format!(
        "TSM report provider {}: {report}",
        provider.as_deref().unwrap_or("?")
    ))
}

/// The run's verdict from its console: the marker line, or why it failed.
fn verdict(lines: &[String]) -> Result<String, String> {
    let marker = lines.iter().position(|l| l.contains(INIT_MARKER));
    let off = lines.iter().position(|l| l.contains(POWERED_OFF));
    match (marker, off) {
        (Some(m), Some(o)) if m < o => Ok(lines[m].trim().to_string()),
        (Some(_), Some(_)) => Err("the realm powered off before /init's marker line".into()),
        (Some(_), None) => Err("/init ran but the realm did not power off cleanly".into()),
        (None, _) => Err("/init's marker line never appeared".into()),
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
        let o = parse(&args(&["--smp", "1", "--mem", "256", "--", "-d", "int"])).unwrap();
        assert_eq!((o.vcpus, o.mem_mib), (1, 256));
        assert_eq!(o.qemu_args, args(&["-d", "int"]));
        assert_eq!(parse(&[]).unwrap().vcpus, 2);
        assert!(parse(&args(&["--smp", "5"])).is_err());
        assert!(parse(&args(&["--mem", "63"])).is_err());
        assert!(parse(&args(&["--x"])).is_err());
    }

    #[test]
    fn image_header() {
        let mut h = vec![0u8; 64];
        h[56..60].copy_from_slice(b"ARM\x64");
        h[16..24].copy_from_slice(&0x28d_0000u64.to_le_bytes());
        h[24] = 0b010;
        assert_eq!(image_size(&h), Ok(0x28d_0000));
        h[24] = 0b110;
        assert!(image_size(&h).is_err());
        h[24] = 0b011;
        assert!(image_size(&h).is_err());
        h[56] = b'X';
        assert!(image_size(&h).is_err());
    }

    #[test]
    fn the_layout_keeps_the_boot_protocol() {
        let o = parse(&[]).unwrap();
        let l = layout(&o, 41_795_520, 0x28d_0000, 2_000_000).unwrap();
        let mut b = l.boot;
        b.dtb.size = 4096;
        assert!(b.valid());
        assert_eq!(b.kernel.ipa % MIB2, 0);
        assert!(b.dtb.ipa >= b.kernel.ipa + 0x28d_0000);
        assert_eq!(b.dtb.ipa % MIB2, 0);
        assert!(b.initrd.ipa >= b.dtb.ipa + MIB2);
    }

    #[test]
    fn verdicts() {
        let l = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let ok = l(&[
            "RMM-LINUX-INIT: uname -r 7.3.4",
            "VMM: realm powered off (PSCI SYSTEM_OFF)",
        ]);
        assert!(verdict(&ok).is_ok());
        assert!(verdict(&ok[..1]).is_err());
        assert!(verdict(&ok[1..]).is_err());
        assert!(verdict(&[ok[1].clone(), ok[0].clone()]).is_err());
    }
}
