//! `rmm-fuzz`: runs fuzzing campaigns over the hosted RMM (see the library's docs).
//!
//! ```text
//! rmm-fuzz [--seed S] [--seeds N] [--steps N] [--concurrent] [--verbose]
//! ```
//! Runs `--seeds` campaigns (default 1) of `--steps` steps each (default 100000), from
//! seeds S, S+1, ... (default 1); with `--concurrent`, in batches on several CPUs at
//! once (`rmm_fuzz::concurrent`). On a failure it prints the shrunk steps as a
//! regression test and exits with status 1; on a hang (a step that makes no progress
//! for 30 s) it prints the step and exits with status 3.

use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str, default: u64| -> u64 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("{name} takes a number"))
            })
            .unwrap_or(default)
    };
    let seed = value("--seed", 1);
    let seeds = value("--seeds", 1);
    let steps = value("--steps", 100_000) as usize;
    let concurrent = args.iter().any(|a| a == "--concurrent");
    let start = Instant::now();
    let mut total = rmm_fuzz::Stats::default();
    for s in seed..seed + seeds {
        let t = Instant::now();
        let outcome = if concurrent {
            rmm_fuzz::concurrent::run(s, steps)
        } else {
            rmm_fuzz::run(s, steps)
        };
        match outcome {
            Ok(stats) => {
                println!(
                    "seed {s}: {} steps, {} successful calls, {} realm runs, {:.1} s",
                    stats.steps,
                    stats.successes,
                    stats.realm_runs,
                    t.elapsed().as_secs_f64()
                );
                total.add(&stats);
            }
            Err((failure, shrunk)) => {
                println!(
                    "seed {s}: FAILED after step {}: {}",
                    failure.step, failure.what
                );
                let replayed = rmm_fuzz::replay(&shrunk);
                if replayed.is_ok() {
                    println!(
                        "not reproduced by a sequential replay: the failure needs the concurrency; the last steps, in the order the model took them in:"
                    );
                    for step in shrunk.iter().rev().take(8).rev() {
                        print!("{}", step.to_rust());
                    }
                    return ExitCode::FAILURE;
                }
                let what = replayed
                    .as_ref()
                    .err()
                    .map_or(failure.what.as_str(), |f| f.what.as_str());
                println!(
                    "shrunk to {} steps; regression test:\n\n{}",
                    shrunk.len(),
                    rmm_fuzz::regression_test(&format!("fuzz_seed_{s}"), what, &shrunk)
                );
                return ExitCode::FAILURE;
            }
        }
    }
    for (name, (calls, ok)) in &total.by_command {
        println!("  {name:<22} {calls:>9} calls {ok:>9} successful");
    }
    if args.iter().any(|a| a == "--verbose") {
        for ((name, x0), n) in &total.by_status {
            println!("  {name:<22} x0 {x0:#06x}: {n}");
        }
    }
    if concurrent {
        println!(
            "  {} batches: {} with two steps naming a common granule, {} explained only by another order than the CPUs' own",
            total.batches, total.contended, total.reordered
        );
    }
    println!(
        "campaign{}: {} seeds, {} steps, {} successful calls, {} realm runs, 0 failures, {:.1} s",
        if concurrent { " (concurrent)" } else { "" },
        seeds,
        total.steps,
        total.successes,
        total.realm_runs,
        start.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
