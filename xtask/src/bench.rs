//! `cargo xtask bench`: instructions per RMI command on the hosted build, counted with
//! callgrind, next to the reference implementation's figures.
//!
//! Method (as `docs/benchmarks.md` describes for the reference): the bench binary
//! `tests/benches/rmi.rs` runs a realm lifecycle N times, each RMI call through its own
//! non-inlined `bench_<command>` wrapper. For each wrapper, callgrind collects only while
//! that wrapper runs (`--toggle-collect`); the inclusive cost of the simulation's
//! `SimArch` methods (never inlined) that stand in for hardware operations is then
//! subtracted, as the reference's "net" figure subtracts its own stand-ins. Copies of
//! host and realm memory are not hardware operations but the RMM's work (the reference
//! counts its own), so [`COUNTED`] methods stay in the figure.

use std::path::PathBuf;
use std::process::Command;

/// The reference implementation's net instructions per call (x86-64, TF-RMM v0.6.0,
/// release build; `shared` measurement notes), averaged where our lifecycle mixes
/// variants (SHA-256 and SHA-512 realms alternate; RTT levels 1-3).
const REFERENCE: &[(&str, u64)] = &[
    ("version", 356),
    ("features", 660),
    ("granule_delegate", 1_185),
    ("granule_undelegate", 649),
    ("realm_create", (301_266 + 178_968) / 2),
    ("realm_activate", 980),
    ("rec_aux_count", 962),
    ("rtt_create", (2_809 + 3_439 + 4_066) / 3),
    ("rtt_init_ripas", 21_349),
    ("data_create", (288_092 + 158_372) / 2),
    ("data_create_unmeasured", 26_628),
    ("data_create_unknown", 3_809),
    ("rtt_read_entry", 3_775),
    ("rec_create", 229_983),
    ("rec_enter_irq", 8_814),
    ("rec_enter_irq_16_lrs", 9_980),
    ("rec_enter_rejected_gic", 2_509),
    ("rec_enter_rejected_dup_vintid", 2_655),
    ("rec_enter_rsi_version", 9_439),
    ("rec_enter_host_call", 12_165),
    ("rec_enter_host_call_complete", 12_075),
    ("rtt_destroy", 9_540),
    ("data_destroy", 8_653),
    ("rec_destroy", 10_018),
    ("realm_destroy", 2_184),
];

fn bench_binary(root: &std::path::Path) -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root)
        .args([
            "bench",
            "-p",
            "rmm-conformance",
            "--bench",
            "rmi",
            "--no-run",
            "--message-format=json",
        ])
        .output()
        .map_err(|e| format!("running cargo: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    for line in text.lines() {
        if line.contains("\"kind\":[\"bench\"]") && line.contains("\"name\":\"rmi\"") {
            if let Some(i) = line.find("\"executable\":\"") {
                let rest = &line[i + 14..];
                if let Some(end) = rest.find('"') {
                    return Ok(PathBuf::from(&rest[..end]));
                }
            }
        }
    }
    Err("no bench executable in cargo's output".into())
}

/// Total instructions (Ir) in a callgrind output file.
fn total_ir(path: &std::path::Path) -> Result<u64, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    text.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("no totals in {}", path.display()))
}

/// `SimArch` methods whose cost is the RMM's own work and stays in the figure: the
/// copies of Non-secure and realm memory (on hardware they are the RMM's loads and
/// stores; the simulation's version, with its GPT checks and locks, is dearer, so this
/// errs against us).
const COUNTED: &[&str] = &[
    "::read_ns",
    "::write_ns",
    "::read_realm_data",
    "::write_realm_data",
];

/// Instructions spent inside the simulation's `SimArch` methods that stand in for
/// hardware (all but [`COUNTED`]): the inclusive cost of every call arc into such a
/// method from a caller that is not itself a `SimArch` method (so nested calls count
/// once). Read straight from the
/// callgrind file: `fn=`/`cfn=` name the caller and callee (names are compressed to
/// `(id)` after their first use) and the line after `calls=` holds the arc's inclusive
/// cost, position first.
fn simulation_ir(path: &std::path::Path) -> Result<u64, String> {
    const SIM: &str = "SimArch as platform::arch::Arch>::";
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut names = std::collections::HashMap::<String, String>::new();
    let mut resolve = |v: &str| -> String {
        let v = v.trim();
        match v.strip_prefix('(').and_then(|r| r.split_once(')')) {
            Some((id, rest)) if !rest.trim().is_empty() => {
                names.insert(id.to_string(), rest.trim().to_string());
                rest.trim().to_string()
            }
            Some((id, _)) => names.get(id).cloned().unwrap_or_default(),
            None => v.to_string(),
        }
    };
    let (mut caller, mut callee) = (String::new(), String::new());
    let mut lines = text.lines();
    let mut sum = 0;
    while let Some(line) = lines.next() {
        if let Some(v) = line.strip_prefix("fn=") {
            caller = resolve(v);
        } else if let Some(v) = line.strip_prefix("cfn=") {
            callee = resolve(v);
        } else if line.starts_with("calls=") {
            let cost = lines.next().unwrap_or_default();
            let stand_in = callee.contains(SIM) && !COUNTED.iter().any(|c| callee.contains(c));
            if stand_in && !caller.contains(SIM) {
                sum += cost
                    .split_whitespace()
                    .nth(1)
                    .and_then(|c| c.parse::<u64>().ok())
                    .ok_or_else(|| format!("bad call cost line {cost:?}"))?;
            }
        }
    }
    Ok(sum)
}

/// `cargo xtask bench [N]`.
pub fn run(args: &[String]) -> Result<(), String> {
    let iterations = args.first().cloned().unwrap_or_else(|| "4".into());
    let root = crate::workspace_root();
    let exe = bench_binary(&root)?;
    let out = Command::new(&exe)
        .arg(&iterations)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "bench run failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let calls: Vec<(String, u64)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut w = l.strip_prefix("calls bench_")?.split_whitespace();
            Some((w.next()?.to_string(), w.next()?.parse().ok()?))
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("rmm-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    println!(
        "{:<30} {:>8} {:>12} {:>12} {:>7}",
        "command", "calls", "Ir/call", "reference", "ratio"
    );
    for (name, n) in &calls {
        let file = dir.join(format!("{name}.out"));
        let status = Command::new("valgrind")
            .args(["--tool=callgrind", "--collect-atstart=no"])
            .arg(format!("--toggle-collect=*::bench_{name}"))
            .arg(format!("--callgrind-out-file={}", file.display()))
            .arg(&exe)
            .arg(&iterations)
            .output()
            .map_err(|e| format!("running valgrind (is it installed?): {e}"))?;
        if !status.status.success() {
            return Err(format!("valgrind failed for {name}"));
        }
        let net = total_ir(&file)?.saturating_sub(simulation_ir(&file)?);
        let per_call = net / n.max(&1);
        let reference = REFERENCE.iter().find(|(r, _)| r == name).map(|(_, v)| *v);
        match reference {
            Some(r) => println!(
                "{name:<30} {n:>8} {per_call:>12} {r:>12} {:>7.2}",
                per_call as f64 / r as f64
            ),
            None => println!("{name:<30} {n:>8} {per_call:>12} {:>12} {:>7}", "-", "-"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "REC_CREATE and REC_DESTROY handle the REC and its auxiliary granules: here 1 + \
         RMI_REC_AUX_COUNT, in the reference's figures 1 + 16; their ratios compare \
         different amounts of work (the saving is memory per REC)."
    );
    Ok(())
}
