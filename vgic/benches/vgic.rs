//! REC entry + exit GIC path against the model: validate + load + restore +
//! save + exit_report, for 0, 4 and 16 valid List registers on a 16-LR
//! interface. Prints ns/iter; asserts nothing about timing.
//!
//! Run with `cargo bench -p vgic`.

use std::hint::black_box;
use std::time::Instant;

use vgic::sim::{SimConfig, SimGicCpuIf};
use vgic::{validate, GicCpuIf, VgicState, MAX_LRS};

const ITERS: u32 = 200_000;
const ROUNDS: usize = 5;

fn host_lrs(valid: usize) -> [u64; MAX_LRS] {
    let mut lrs = [0u64; MAX_LRS];
    for (i, slot) in lrs.iter_mut().enumerate().take(valid) {
        // Pending, Group 1, priority 0xa0, distinct vINTIDs.
        *slot = (1 << 62) | (1 << 60) | (0xa0 << 48) | (32 + i as u64);
    }
    lrs
}

/// One REC entry and exit, as the RMM performs them.
fn entry_exit(cpu: &mut SimGicCpuIf, state: &mut VgicState, hcr: u64, lrs: &[u64; MAX_LRS]) -> u64 {
    let features = cpu.features();
    let Ok(v) = validate(&features, hcr, lrs) else {
        return u64::MAX;
    };
    state.load(v);
    state.restore(cpu);
    state.save(cpu);
    let report = state.exit_report();
    report.hcr ^ report.lrs[MAX_LRS - 1] ^ report.misr
}

fn main() {
    let mut cpu = SimGicCpuIf::new(SimConfig::new(16)).expect("16-LR model");
    println!("vgic REC entry+exit path (validate, load, restore, save, exit_report), 16-LR model");
    for valid in [0usize, 4, 16] {
        let lrs = host_lrs(valid);
        let mut state = VgicState::new();
        let mut best = f64::MAX;
        for _ in 0..ROUNDS {
            let start = Instant::now();
            let mut acc = 0u64;
            for _ in 0..ITERS {
                acc ^= entry_exit(
                    black_box(&mut cpu),
                    black_box(&mut state),
                    black_box(0x0a),
                    black_box(&lrs),
                );
            }
            black_box(acc);
            let ns = start.elapsed().as_nanos() as f64 / f64::from(ITERS);
            best = best.min(ns);
        }
        println!("  {valid:2} valid LRs: {best:8.1} ns/iter (best of {ROUNDS} x {ITERS})");
    }

    // Validation alone, the part that grows with the number of valid LRs.
    let features = cpu.features();
    for valid in [0usize, 4, 16] {
        let lrs = host_lrs(valid);
        let start = Instant::now();
        for _ in 0..ITERS {
            black_box(validate(black_box(&features), black_box(0x0a), black_box(&lrs)).is_ok());
        }
        let ns = start.elapsed().as_nanos() as f64 / f64::from(ITERS);
        println!("  validate only, {valid:2} valid LRs: {ns:8.1} ns/iter");
    }
}
