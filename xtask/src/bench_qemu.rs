//! `cargo xtask bench --qemu`: AArch64 instructions per RMI command of `rmm.img` on QEMU
//! under Debian's TF-A, beside the C reference's figures measured the same way.
//!
//! Method (the reference's, `docs/benchmarks.md`): QEMU runs with `-icount shift=0 -smp
//! 1`, where the generic counter advances exactly once per instruction executed on any
//! EL. The Normal-world test host in its bench mode (`tests/qemu/ns-host/src/bench.rs`)
//! times each call as `mrs cntpct; smc; mrs cntpct` less the same around a `nop`: the
//! instructions of EL3, R-EL2 and the realm for that round trip. A second boot puts the
//! RMM stub (`tests/qemu/rmm-stub`) where `rmm.img` was, under the same TF-A: it counts
//! its own instructions and returns the count, so EL3's share of each kind of call (the
//! world switch; for DELEGATE and UNDELEGATE, the switch and the GTSI call) is measured,
//! not assumed. The table shows each command's round trip less EL3's share: the RMM's
//! own instructions (with the realm's few for REC_ENTER, as the reference counts them).
//!
//! Every sample of a command must agree (the bench takes several per boot, after a
//! warm-up); `--runs N` (default 2) boots N times and compares the boots too. The bench
//! says which commands were not deterministic and uses their smallest sample.
//! Nothing asserts on counts: this is information, not a test.
//!
//! `--phases` also builds `rmm-phases.img` (the RMM's `phases` feature: counter reads at
//! phase boundaries of every RMI call, `platform::phase`) and boots it once with the
//! same workload. The firmware logs each call's marks (`phases: <fid> <name>@<offset>
//! ...`) after the last of them, before the completing SMC; each is paired with the
//! host's sample line that follows it. The breakdown shows, per command, the counter's
//! advance from mark to mark less one mark's own cost (logged at boot, `phases:
//! calibration <n>`), beside the figure of `rmm.img` (the log makes the phase build's
//! round trips longer, so its totals are not used). For DELEGATE and UNDELEGATE, EL3's
//! GTSI share measured with the stub is taken off the phase around the GTSI call.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::qemu;
use crate::stacks::StackProbe;

/// The C reference's own instructions per call (TF-RMM v0.6.0 release under TF-A
/// v2.12.0 release, QEMU 10.0, same method; the shared measurement notes), and the
/// targets of the performance work, where it set one.
const REFERENCE: &[(&str, Option<u64>, Option<u64>)] = &[
    ("version", Some(93), Some(60)),
    ("features", Some(172), None),
    ("granule_delegate", Some(741), Some(400)),
    ("granule_undelegate", Some(161), Some(100)),
    ("realm_create", Some(182_851), Some(20_000)),
    ("realm_create_sha512", None, None),
    ("rec_aux_count", Some(390), None),
    ("rtt_create_l1", Some(1_945), Some(1_945 / 2)),
    ("rtt_create_l2", Some(2_269), Some(2_269 / 2)),
    ("rtt_create_l3", Some(2_582), Some(2_582 / 2)),
    ("rtt_init_ripas", None, None),
    ("rtt_init_ripas_sha512", None, None),
    ("data_create", Some(197_754), Some(15_000)),
    ("data_create_sha512", None, None),
    ("data_create_unmeasured", Some(19_612), Some(3_000)),
    ("data_create_unmeasured_sha512", None, None),
    ("data_create_unknown", Some(1_839), None),
    ("rec_create", Some(202_166), Some(20_000)),
    ("rec_create_sha512", None, None),
    ("realm_activate", Some(397), None),
    ("rec_enter_first", Some(10_674), None),
    ("rec_enter_host_call", Some(12_503), Some(6_000)),
    ("rec_enter_rsi_version_host_call", Some(12_779), None),
    ("rsi_version", Some(276), Some(150)),
    // The reference's IRQ-exit figures are of its host build under callgrind (x86-64
    // instructions, emulation subtracted: the shared measurement notes, section 4): its
    // AArch64 run did not time IRQ exits. Its second is with 16 valid list registers,
    // ours with all QEMU's GICv3 implements (4).
    ("rec_enter_irq", Some(8_814), None),
    ("rec_enter_irq_4_lrs", Some(9_980), None),
    ("rec_destroy", None, None),
    ("data_destroy", None, None),
    ("data_destroy_last", None, None),
    ("rtt_destroy_l3", None, None),
    ("rtt_destroy_l2", None, None),
    ("rtt_destroy_l1", None, None),
    ("realm_destroy", None, None),
];

/// Commands whose reference figure is of the reference's host build (x86-64
/// instructions under callgrind), not of its AArch64 run: shown with a `*` and no ratio.
const HOST_BUILD_REFERENCE: &[&str] = &["rec_enter_irq", "rec_enter_irq_4_lrs"];

/// Realm instructions of the RSI_VERSION block in the bench realm's program
/// (`movz`, `movk`, `movz`, `smc`), taken off the difference of the two kinds of
/// entry, as the reference does.
const RSI_VERSION_REALM_INSTRUCTIONS: u64 = 4;

/// How long one boot may take.
const TIMEOUT: Duration = Duration::from_secs(900);

/// Samples per command name, in the order they came.
type Samples = BTreeMap<String, Vec<u64>>;

struct Options {
    runs: usize,
    /// `--phases`: also boot the bench build with phase marks and print the breakdown.
    phases: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        runs: 2,
        phases: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--qemu" => {}
            "--phases" => o.phases = true,
            "--runs" => {
                o.runs = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&n| n >= 1)
                    .ok_or("--runs takes a count of at least 1")?;
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

/// `cargo xtask bench --qemu [--runs N] [--phases]`.
pub fn run(args: &[String]) -> Result<(), String> {
    let opts = parse(args)?;
    qemu::check_qemu()?;
    let root = crate::workspace_root();
    let target = qemu::target_dir(&root);
    let rmm = crate::build(false, crate::Platform::Qemu, crate::Variant::Normal)?;
    let phased = if opts.phases {
        Some(crate::build(
            false,
            crate::Platform::Qemu,
            crate::Variant::Phases,
        )?)
    } else {
        None
    };
    let out = target.join("qemu-bench");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let fixtures = qemu::build_fixtures(&root, &out)?;
    let stub = qemu::fixture_image(&root, &out, "rmm-test-rmm-stub", qemu::RMM_ADDR)?;
    let flash_rmm = flash(
        &target,
        &rmm.img,
        &fixtures.ns_host,
        &out.join("flash-rmm.bin"),
    )?;
    let flash_stub = flash(
        &target,
        &stub,
        &fixtures.ns_host,
        &out.join("flash-stub.bin"),
    )?;

    let mut el3 = BTreeMap::new();
    let stub_lines = boot(&out, &flash_stub, &fixtures.realm, "mode:bench-el3", None)?;
    for l in &stub_lines {
        if let Some((name, total, own)) = parse_el3_sample(l) {
            el3.entry(name)
                .or_insert_with(Vec::new)
                .push(total.saturating_sub(own));
        }
    }
    let mut boots: Vec<Samples> = Vec::new();
    let mut hwm = None;
    for _ in 0..opts.runs {
        let lines = boot(
            &out,
            &flash_rmm,
            &fixtures.realm,
            "mode:bench",
            Some(&rmm.elf),
        )?;
        let mut samples = Samples::new();
        for l in &lines {
            if let Some((name, n)) = parse_sample(l) {
                samples.entry(name).or_default().push(n);
            }
            if let Some((_, used, _)) = qemu::parse_high_water(l) {
                hwm = hwm.max(Some(used));
            }
        }
        boots.push(samples);
    }
    let image_size = std::fs::metadata(&rmm.img).map(|m| m.len()).unwrap_or(0);
    let ours = report(&el3, &boots, image_size, hwm)?;
    if let Some(phased) = phased {
        let flash_phases = flash(
            &target,
            &phased.img,
            &fixtures.ns_host,
            &out.join("flash-phases.bin"),
        )?;
        let lines = boot(
            &out,
            &flash_phases,
            &fixtures.realm,
            "mode:bench",
            Some(&phased.elf),
        )?;
        // The GTSI calls' EL3 share is in their handlers' phase.
        let gtsi: BTreeMap<String, u64> = ["granule_delegate", "granule_undelegate"]
            .iter()
            .filter_map(|&c| {
                let extra = el3_share(&el3, c)?.checked_sub(el3_share(&el3, "version")?)?;
                Some((c.to_string(), extra))
            })
            .collect();
        phase_report(&collect_phases(&lines)?, &ours, &gtsi);
    }
    Ok(())
}

/// TF-A's flash image with `rmm` as its RMM and the test host as BL33, copied to `to`
/// (the TF-A build writes one flash image; the bench needs two).
fn flash(target: &Path, rmm: &Path, bl33: &Path, to: &Path) -> Result<PathBuf, String> {
    let built = crate::tfa::flash_image(target, rmm, bl33)?;
    std::fs::copy(&built, to).map_err(|e| format!("{}: {e}", to.display()))?;
    Ok(to.to_path_buf())
}

/// Boots QEMU with `flash` and the parameter block `mode`, `-icount shift=0 -smp 1`;
/// returns the console once the test host has ended the run with status 0. With `elf`
/// (the RMM's), the console has the RMM's stack high-water mark read after the run.
fn boot(
    out: &Path,
    flash: &Path,
    realm: &Path,
    mode: &str,
    elf: Option<&Path>,
) -> Result<Vec<String>, String> {
    let params = out.join(format!("params-{}.bin", mode.replace(':', "-")));
    std::fs::write(&params, qemu::params_block(mode))
        .map_err(|e| format!("{}: {e}", params.display()))?;
    let mut cmd = qemu::machine(1);
    cmd.args(["-icount", "shift=0", "-bios"])
        .arg(flash)
        .arg("-device")
        .arg(qemu::loader(&params, qemu::PARAMS_ADDR))
        .arg("-device")
        .arg(qemu::loader(realm, qemu::REALM_IMAGE_ADDR))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let probe = elf
        .map(|elf| StackProbe::attach(&mut cmd, out, elf, 1))
        .transpose()?;
    println!("running: {cmd:?}");
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("starting QEMU: {e}"))?;
    let mut console = qemu::Console::attach(&mut child);
    if let Some(probe) = probe {
        console = console.with_probe(probe);
    }
    let (_, lines) = qemu::wait(&mut child, &console, TIMEOUT)?;
    println!(
        "bench: boot with {mode} took {:.1} s",
        start.elapsed().as_secs_f64()
    );
    match crate::tfa::verdict(&lines) {
        0 if lines.iter().any(|l| l.trim_end() == "bench: done") => Ok(lines),
        status => Err(format!(
            "the {mode} boot did not complete (test host status {status}); last lines:\n{}",
            lines[lines.len().saturating_sub(15)..].join("\n")
        )),
    }
}

/// `bench: <name> <n>`.
fn parse_sample(line: &str) -> Option<(String, u64)> {
    let mut w = line.strip_prefix("bench: ")?.split_whitespace();
    let name = w.next()?;
    let n = w.next()?.parse().ok()?;
    w.next().is_none().then(|| (name.to_string(), n))
}

/// `bench-el3: <name> <n> own <own>`.
fn parse_el3_sample(line: &str) -> Option<(String, u64, u64)> {
    let mut w = line.strip_prefix("bench-el3: ")?.split_whitespace();
    let name = w.next()?.to_string();
    let total = w.next()?.parse().ok()?;
    (w.next()? == "own").then_some(())?;
    let own = w.next()?.parse().ok()?;
    Some((name, total, own))
}

/// The one value all samples agree on, or the smallest and a note.
fn settle(samples: &[u64]) -> (u64, bool) {
    let min = samples.iter().copied().min().unwrap_or(0);
    (min, samples.iter().all(|&s| s == min))
}

/// EL3's share for `command`: its own measurement where the stub made one (the GTSI
/// commands), otherwise the world switch measured on RMI_VERSION.
fn el3_share(el3: &BTreeMap<String, Vec<u64>>, command: &str) -> Option<u64> {
    let of = |name: &str| el3.get(name).map(|s| settle(s).0);
    match command {
        "granule_delegate" | "granule_undelegate" => of(command),
        _ => of("version"),
    }
}

/// Prints the table and the machine-readable lines; returns the RMM's own figure per
/// command.
fn report(
    el3: &BTreeMap<String, Vec<u64>>,
    boots: &[Samples],
    image_size: u64,
    hwm: Option<u64>,
) -> Result<BTreeMap<String, u64>, String> {
    let switch = el3_share(el3, "version").ok_or("the stub boot gave no RMI_VERSION sample")?;
    let mut nondeterministic = Vec::new();
    for (name, samples) in el3 {
        if !settle(samples).1 {
            nondeterministic.push(format!("EL3 {name} {samples:?}"));
        }
    }
    // Every boot's samples of a command together.
    let mut all = Samples::new();
    for b in boots {
        for (name, s) in b {
            all.entry(name.clone()).or_default().extend(s);
        }
    }
    let mut ours = BTreeMap::new();
    for (name, samples) in &all {
        let (n, same) = settle(samples);
        if !same {
            nondeterministic.push(format!("{name} {samples:?}"));
        }
        let share = el3_share(el3, name).unwrap_or(switch);
        ours.insert(name.clone(), n.saturating_sub(share));
    }
    if let (Some(&with), Some(&without)) = (
        ours.get("rec_enter_rsi_version_host_call"),
        ours.get("rec_enter_host_call"),
    ) {
        ours.insert(
            "rsi_version".to_string(),
            with.saturating_sub(without + RSI_VERSION_REALM_INSTRUCTIONS),
        );
    }
    println!();
    println!(
        "EL3's share (TF-A, measured with the RMM stub): {switch} per RMI round trip; \
         GRANULE_DELEGATE {}, GRANULE_UNDELEGATE {} (with the GTSI call)",
        fmt_opt(el3_share(el3, "granule_delegate")),
        fmt_opt(el3_share(el3, "granule_undelegate")),
    );
    println!(
        "{:<34} {:>10} {:>10} {:>7} {:>8}",
        "command", "ours", "reference", "ratio", "target"
    );
    for &(name, reference, target) in REFERENCE {
        let Some(&n) = ours.get(name) else {
            println!("{name:<34} {:>10}", "(no sample)");
            continue;
        };
        let host_build = HOST_BUILD_REFERENCE.contains(&name);
        let ratio = match reference {
            Some(r) if !host_build => format!("{:.2}", n as f64 / r as f64),
            _ => "-".to_string(),
        };
        let met = match target {
            Some(t) if n <= t => format!("{t} ok"),
            Some(t) => format!("{t} MISSED"),
            None => "-".to_string(),
        };
        let reference = match reference {
            Some(r) if host_build => format!("{}*", group(r)),
            Some(r) => group(r),
            None => "-".to_string(),
        };
        println!(
            "{name:<34} {:>10} {reference:>10} {ratio:>7} {met:>8}",
            group(n)
        );
    }
    // Commands the table does not list (another list register count, say).
    for (name, &n) in &ours {
        if !REFERENCE.iter().any(|&(r, _, _)| r == name) {
            println!(
                "{name:<34} {:>10} {:>10} {:>7} {:>8}",
                group(n),
                "-",
                "-",
                "-"
            );
        }
    }
    println!(
        "(* the reference's host build, x86-64 instructions under callgrind: its AArch64 run \
         did not time IRQ exits; its second is with 16 valid list registers, QEMU's GICv3 \
         has 4)"
    );
    println!();
    for &(name, reference, _) in REFERENCE {
        if let Some(n) = ours.get(name) {
            println!(
                "path-length: {name} ours={n} reference={}",
                reference.map_or("-".to_string(), |r| r.to_string())
            );
        }
    }
    println!("path-length: el3_share ours={switch} reference=1037");
    println!("image: rmm.img {image_size} bytes");
    match hwm {
        Some(h) => println!("stack: high-water mark {h} bytes (CPU 0, over the bench boots)"),
        None => println!("stack: no high-water mark reported"),
    }
    if nondeterministic.is_empty() {
        println!(
            "deterministic: every sample of every command agreed ({} boot(s))",
            boots.len()
        );
    } else {
        println!(
            "NOT deterministic (smallest sample used): {}",
            nondeterministic.join("; ")
        );
    }
    Ok(ours)
}

/// A command's phase marks in one call: each mark's name and counter offset from the
/// first.
type Marks = Vec<(String, u64)>;

/// What the phase boot logged.
#[derive(Debug, Default, PartialEq)]
struct PhaseSamples {
    /// The cost of one mark (`phases: calibration <n>`).
    calibration: u64,
    /// Per command, the marks of each timed call.
    by_command: BTreeMap<String, Vec<Marks>>,
}

/// A `phases:` line of the firmware (after its logger's prefix).
#[derive(Debug, PartialEq)]
enum PhaseLine {
    Calibration(u64),
    Marks(Marks),
}

/// `phases: calibration <n>` or `phases: <fid> <name>@<offset>...`.
fn parse_phase_line(line: &str) -> Option<PhaseLine> {
    let rest = &line[line.find("phases: ")? + "phases: ".len()..];
    let mut w = rest.split_whitespace();
    let first = w.next()?;
    if first == "calibration" {
        return w.next()?.parse().ok().map(PhaseLine::Calibration);
    }
    first.strip_prefix("0x")?;
    let marks = w
        .map(|m| {
            let (name, at) = m.split_once('@')?;
            Some((name.to_string(), at.parse().ok()?))
        })
        .collect::<Option<Marks>>()?;
    Some(PhaseLine::Marks(marks))
}

/// Pairs each timed call of the host (`bench: <name> <n>`) with the marks the firmware
/// logged just before it (at the end of that call, before its completing SMC).
fn collect_phases(lines: &[String]) -> Result<PhaseSamples, String> {
    let mut out = PhaseSamples::default();
    let mut calibrated = false;
    let mut last: Option<Marks> = None;
    for l in lines {
        match parse_phase_line(l) {
            Some(PhaseLine::Calibration(n)) => {
                out.calibration = n;
                calibrated = true;
            }
            Some(PhaseLine::Marks(m)) => last = Some(m),
            None => {
                if let Some((name, _)) = parse_sample(l) {
                    let marks = last
                        .take()
                        .ok_or_else(|| format!("the phase boot logged no marks for {name}"))?;
                    out.by_command.entry(name).or_default().push(marks);
                }
            }
        }
    }
    if !calibrated {
        return Err("the phase boot logged no calibration".to_string());
    }
    Ok(out)
}

/// The instructions of each phase of `marks`: from each mark to the next, less one
/// mark's own cost.
fn phase_costs(marks: &Marks, calibration: u64) -> Vec<(String, u64)> {
    marks
        .windows(2)
        .map(|w| {
            (
                format!("{} -> {}", w[0].0, w[1].0),
                w[1].1.saturating_sub(w[0].1).saturating_sub(calibration),
            )
        })
        .collect()
}

/// The phase of a command whose handler makes EL3's GTSI call.
const GTSI_PHASE: &str = "el3_call -> el3_done";

/// Per command, the instructions per phase, beside the product image's figure. `gtsi`:
/// EL3's share beyond the world switch of the commands that call EL3 in their handler,
/// taken off that phase.
fn phase_report(p: &PhaseSamples, ours: &BTreeMap<String, u64>, gtsi: &BTreeMap<String, u64>) {
    println!();
    println!("Phases: the bench build with phase marks (rmm-phases.img), one boot.");
    println!(
        "  Each phase is the counter's advance from one mark to the next less one mark's own \
         {} instructions;",
        p.calibration
    );
    println!(
        "  the first figure is rmm.img's, less EL3's share; outside the phases: the SMC's \
         return into the RMI loop before the first mark, the code after the last, and what \
         the marks change in the code around them."
    );
    println!(
        "  realm_enter -> realm_exit is the world switch both ways with the realm's own \
         instructions and its exception entry."
    );
    let mut nondeterministic = Vec::new();
    let names = REFERENCE
        .iter()
        .map(|&(n, _, _)| n.to_string())
        .filter(|n| p.by_command.contains_key(n))
        .chain(
            p.by_command
                .keys()
                .filter(|n| !REFERENCE.iter().any(|&(r, _, _)| r == n.as_str()))
                .cloned(),
        );
    for name in names {
        let samples = &p.by_command[&name];
        if samples.iter().any(|s| s != &samples[0]) {
            nondeterministic.push(name.clone());
        }
        let mut costs = phase_costs(&samples[0], p.calibration);
        if let Some(&extra) = gtsi.get(&name) {
            for (phase, n) in costs.iter_mut() {
                if phase == GTSI_PHASE {
                    *n = n.saturating_sub(extra);
                    phase.push_str(&format!(" (EL3's GTSI call, {extra}, taken off)"));
                }
            }
        }
        let marked: u64 = costs.iter().map(|(_, n)| n).sum();
        match ours.get(&name) {
            Some(&total) => println!(
                "{name}: {} in rmm.img, {} in the phases, {} outside them",
                group(total),
                group(marked),
                total as i64 - marked as i64
            ),
            None => println!("{name}: {} in the phases", group(marked)),
        }
        for (phase, n) in &costs {
            println!("  {phase:<32} {:>10}", group(*n));
        }
        let line: Vec<String> = costs
            .iter()
            .map(|(phase, n)| {
                let short = phase.split(" (").next().unwrap_or(phase);
                format!("{}={n}", short.replace(" -> ", ">"))
            })
            .collect();
        println!("path-phases: {name} {}", line.join(" "));
    }
    if nondeterministic.is_empty() {
        println!("phases deterministic: every call of a command had the same marks");
    } else {
        println!(
            "phases NOT deterministic (first call shown): {}",
            nondeterministic.join(", ")
        );
    }
}

fn fmt_opt(v: Option<u64>) -> String {
    v.map_or("-".to_string(), group)
}

/// `n` with thousands separators.
fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples() {
        assert_eq!(
            parse_sample("bench: version 370"),
            Some(("version".into(), 370))
        );
        assert_eq!(parse_sample("bench: done"), None);
        assert_eq!(
            parse_sample("bench: RMM path lengths (counter delta around a nop: 2)"),
            None
        );
        assert_eq!(
            parse_el3_sample("bench-el3: granule_delegate 23000 own 21"),
            Some(("granule_delegate".into(), 23000, 21))
        );
        assert_eq!(parse_el3_sample("bench-el3: version 1000 x 11"), None);
    }

    #[test]
    fn phases() {
        assert_eq!(
            parse_phase_line("[INFO ] phases: calibration 9"),
            Some(PhaseLine::Calibration(9))
        );
        assert_eq!(
            parse_phase_line("phases: 0xc4000150 entry@0 handler@17 complete@40"),
            Some(PhaseLine::Marks(vec![
                ("entry".into(), 0),
                ("handler".into(), 17),
                ("complete".into(), 40)
            ]))
        );
        assert_eq!(parse_phase_line("phases: 0xc4000150 entry@x"), None);
        let lines: Vec<String> = [
            "phases: calibration 5",
            "phases: 0xc4000150 entry@0 handler@17 complete@40",
            "bench: version 100",
            "phases: 0xc4000150 entry@0 handler@10",
            "phases: 0xc4000150 entry@0 handler@17 complete@40",
            "bench: version 100",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let p = collect_phases(&lines).unwrap();
        assert_eq!(p.calibration, 5);
        assert_eq!(p.by_command["version"].len(), 2);
        assert_eq!(
            phase_costs(&p.by_command["version"][1], p.calibration),
            vec![
                ("entry -> handler".to_string(), 12),
                ("handler -> complete".to_string(), 18)
            ]
        );
        assert!(collect_phases(&lines[..1]).is_ok());
        assert!(collect_phases(&["bench: version 1".to_string()]).is_err());
    }

    #[test]
    fn settling() {
        assert_eq!(settle(&[5, 5, 5]), (5, true));
        assert_eq!(settle(&[6, 5, 7]), (5, false));
        assert_eq!(group(1_234_567), "1,234,567");
        assert_eq!(group(999), "999");
    }

    #[test]
    fn options() {
        let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(parse(&a(&["--qemu"])).unwrap().runs, 2);
        assert!(!parse(&a(&["--qemu"])).unwrap().phases);
        assert!(parse(&a(&["--qemu", "--phases"])).unwrap().phases);
        assert_eq!(parse(&a(&["--qemu", "--runs", "3"])).unwrap().runs, 3);
        assert!(parse(&a(&["--qemu", "--runs", "0"])).is_err());
        assert!(parse(&a(&["--qemu", "--frobnicate"])).is_err());
    }
}
