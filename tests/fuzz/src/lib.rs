//! A stateful fuzzer of the RMM on the hosted simulation.
//!
//! The host is the adversary: a run is a long sequence of [`Step`]s, each a set of
//! Non-secure memory writes (parameter pages, RecRun pages, DATA sources) and one SMC on
//! a CPU, with arguments drawn from pools that make deep states likely ([`gen`]): the
//! granules the host believes to be in each state, IPAs at RTT level boundaries,
//! protected and unprotected, and garbage. Realms that get entered run a realm program
//! of random RSI calls, memory touches and WFIs ([`realm`]).
//!
//! After every step the invariant checker ([`check`]) compares the machine against a
//! shadow model the host keeps from the architecture and the specification alone
//! ([`shadow`]): the state of every pool granule as the RMM reports it and its PAS in
//! the GPT, zero contents of DELEGATED granules, the RD reference count against the
//! RECs, the realms' translation tables read in the architectural descriptor format,
//! and sentinels the host plants in every DATA source page, which must never come back
//! to Non-secure memory; each DATA granule mapped by exactly one ASSIGNED entry of its
//! realm; every RTT's reference count equal to the entries that make it live; exit
//! records that hold only the fields their exit reason sets. A command that succeeds
//! must have been allowed to (its granules in the states the specification requires),
//! and one that fails must have changed nothing the host can observe, nor the RMM's
//! granule states ([`check::snapshot`]).
//!
//! A run is reproducible from its seed. A failing run is shrunk ([`shrink`]) to a short
//! sequence of steps, printed as a regression test ([`Step::to_rust`]).

pub mod check;
pub mod concurrent;
pub mod gen;
pub mod realm;
pub mod shadow;
pub mod shrink;
pub mod watchdog;

use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};

use platform_sim::SimConfig;
use rmm::hosted::Machine;

/// The number of pool granules the fuzzer uses (the first of the host's Non-secure
/// DRAM): small enough that deep states are reached and every granule can be checked
/// after every step.
pub const POOL: usize = 512;

/// The first pool granules are the host's own pages (parameters, RecRun, DATA
/// sources): the generator names them as RMI arguments only when it means to.
pub const HOST_PAGES: usize = 24;

/// The IPA at which every REC of the fuzzer starts: the realm program.
pub const REALM_ENTRY: u64 = 0x7_0000;

/// One step of a run: Non-secure memory the host writes (8-byte words), then an SMC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Words the host writes before the call: (physical address, value).
    pub writes: Vec<(u64, u64)>,
    /// Pages the host zeroes before the call.
    pub clears: Vec<u64>,
    /// The CPU the call is made on.
    pub cpu: usize,
    /// x0.
    pub fid: u64,
    /// x1..=x6.
    pub args: [u64; 6],
}

impl Step {
    /// This step as a Rust expression (a `Step` literal).
    pub fn to_rust(&self) -> String {
        let mut s = String::from("        Step {\n            writes: vec![");
        for (pa, v) in &self.writes {
            let _ = write!(s, "({pa:#x}, {v:#x}), ");
        }
        s.push_str("],\n            clears: vec![");
        for pa in &self.clears {
            let _ = write!(s, "{pa:#x}, ");
        }
        let a = self.args;
        let _ = write!(
            s,
            "],\n            cpu: {},\n            fid: {:#x},\n            args: [{:#x}, {:#x}, {:#x}, {:#x}, {:#x}, {:#x}],\n        }},\n",
            self.cpu, self.fid, a[0], a[1], a[2], a[3], a[4], a[5]
        );
        s
    }
}

/// Why a run failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The index of the step after which it was found.
    pub step: usize,
    /// What was wrong.
    pub what: String,
}

/// The machine a run uses: the default simulated machine (QEMU `virt` layout, 256 MiB,
/// 4 CPUs) with the realm program registered.
pub fn machine() -> Machine {
    let m = Machine::new(SimConfig::default());
    m.hw()
        .register_realm_program(REALM_ENTRY, std::sync::Arc::new(realm::program));
    m
}

/// Replays `steps` on a fresh machine, checking the invariants after each; the first
/// failure (an invariant violation, or a panic of the RMM).
pub fn replay(steps: &[Step]) -> Result<(), Failure> {
    let m = machine();
    let mut model = shadow::Shadow::new(&m);
    for (i, step) in steps.iter().enumerate() {
        exec(&m, &mut model, step, i).map_err(|what| Failure { step: i, what })?;
    }
    check::full(&m, &model).map_err(|what| Failure {
        step: steps.len(),
        what,
    })
}

/// Runs step number `index` and checks the invariants after it (all of them every
/// [`check::SWEEP_EVERY`] steps).
pub fn exec(
    m: &Machine,
    model: &mut shadow::Shadow,
    step: &Step,
    index: usize,
) -> Result<(), String> {
    let mut before = None;
    let result = catch_unwind(AssertUnwindSafe(|| {
        host_writes(m, step);
        before = Some(check::snapshot(m, model, step));
        m.smc(step.cpu, step.fid, step.args)
    }));
    let ret = result.map_err(|p| format!("the RMM panicked: {}", panic_message(&*p)))?;
    if ret[0] != 0 {
        if let Some(before) = &before {
            check::unchanged(m, model, step, before)?;
        }
    }
    model.apply(m, step, ret)?;
    check::after_step(m, model, step, ret)?;
    if index % check::SWEEP_EVERY == check::SWEEP_EVERY - 1 {
        check::full(m, model)?;
    }
    Ok(())
}

/// The message of a panic's payload.
pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic".into())
}

/// The host's memory writes of `step` (a write to a page the host no longer owns
/// faults and is lost, as on hardware).
pub(crate) fn host_writes(m: &Machine, step: &Step) {
    for &pa in &step.clears {
        let _ = m.host_write(pa, &[0u8; 4096]);
    }
    for &(pa, v) in &step.writes {
        let _ = m.host_write(pa, &v.to_le_bytes());
    }
}

/// The outcome of a campaign over one seed.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Steps run.
    pub steps: usize,
    /// Calls that succeeded (x0 = RMI_SUCCESS).
    pub successes: usize,
    /// REC entries that ran a realm.
    pub realm_runs: usize,
    /// Concurrent batches run.
    pub batches: usize,
    /// Concurrent batches whose results only an order other than the CPUs' own
    /// explains.
    pub reordered: usize,
    /// Concurrent batches in which two steps name a common granule.
    pub contended: usize,
    /// Per RMI command: (calls, successes).
    pub by_command: std::collections::BTreeMap<String, (usize, usize)>,
    /// Per RMI command and return code (status and index): how often.
    pub by_status: std::collections::BTreeMap<(String, u64), usize>,
}

impl Stats {
    /// Counts `step`, which returned `x0` (and ran a realm if `ran`).
    pub fn count(&mut self, step: &Step, x0: u64, ran: bool) {
        let ok = x0 == 0;
        self.steps += 1;
        self.successes += ok as usize;
        self.realm_runs += ran as usize;
        let name = rmi_abi::RmiFid::decode(step.fid)
            .map_or_else(|| "(not an RMI command)".to_string(), |f| format!("{f:?}"));
        *self
            .by_status
            .entry((name.clone(), x0 & 0xFFFF))
            .or_default() += 1;
        let e = self.by_command.entry(name).or_default();
        e.0 += 1;
        e.1 += ok as usize;
    }

    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Stats) {
        self.steps += other.steps;
        self.successes += other.successes;
        self.realm_runs += other.realm_runs;
        self.batches += other.batches;
        self.reordered += other.reordered;
        self.contended += other.contended;
        for (k, (c, s)) in &other.by_command {
            let e = self.by_command.entry(k.clone()).or_default();
            e.0 += c;
            e.1 += s;
        }
        for (k, n) in &other.by_status {
            *self.by_status.entry(k.clone()).or_default() += n;
        }
    }
}

/// Runs `steps` steps from `seed`; on a failure, shrinks it and returns the failure
/// with the shrunk steps.
pub fn run(seed: u64, steps: usize) -> Result<Stats, (Failure, Vec<Step>)> {
    let m = machine();
    let mut model = shadow::Shadow::new(&m);
    let mut g = gen::Gen::new(seed);
    let mut log = Vec::with_capacity(steps);
    let mut stats = Stats::default();
    let watchdog = watchdog::Watchdog::start();
    watchdog.describe(format!("seed {seed} (sequential)"));
    for i in 0..steps {
        watchdog.beat(i);
        let step = g.step(&m, &model);
        log.push(step.clone());
        if let Err(what) = exec(&m, &mut model, &step, i) {
            let failure = Failure { step: i, what };
            let shrunk = shrink::shrink(&log);
            return Err((failure, shrunk));
        }
        stats.count(&step, model.last_x0(), model.last_ran_realm());
    }
    if let Err(what) = check::full(&m, &model) {
        let failure = Failure { step: steps, what };
        let shrunk = shrink::shrink(&log);
        return Err((failure, shrunk));
    }
    Ok(stats)
}

/// A regression test for `steps`, ready to paste into `tests/fuzz/tests/regressions.rs`:
/// it replays them with the invariant checker, so it fails until the defect is fixed.
pub fn regression_test(name: &str, what: &str, steps: &[Step]) -> String {
    let mut s = format!(
        "/// Found by `cargo xtask fuzz`: {what}\n#[test]\nfn {name}() {{\n    let steps = [\n"
    );
    for step in steps {
        s.push_str(&step.to_rust());
    }
    s.push_str("    ];\n    if let Err(f) = rmm_fuzz::replay(&steps) {\n        panic!(\"step {}: {}\", f.step, f.what);\n    }\n}\n");
    s
}
