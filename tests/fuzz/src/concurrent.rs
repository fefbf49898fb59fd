//! The concurrent mode: batches of steps on different CPUs at once, one host thread
//! per CPU, as a host with several CPUs makes RMI calls.
//!
//! Each batch is 2 to 4 steps generated from the same model, on distinct CPUs (each
//! with its own host pages), started together; half the batches concentrate on one
//! realm (its RD and RECs named mostly), so that commands on shared granules meet. Once all have returned, the model takes
//! in their results in an order consistent with them: the first order (of at most
//! 4! = 24) in which every success is one the specification allows after the steps
//! before it. None is a failure: no sequential execution explains the results, so the
//! RMM's commands were not atomic. The invariants are then checked as after a
//! sequential step, except "a failed call changed nothing", which other CPUs' calls
//! make unobservable. A watchdog ends the run if a batch does not finish
//! ([`crate::watchdog`]).

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;

use rand_core::{Rng, SeedableRng};
use rand_xorshift::XorShiftRng;
use rmm::hosted::Machine;

use crate::shadow::Shadow;
use crate::{check, gen, shrink, watchdog, Failure, Stats, Step};

/// The number of simulated CPUs, one host thread each.
const CPUS: usize = 4;

/// A host thread: runs each step it is sent on its CPU (host writes, then the SMC) and
/// sends back the result, or the RMM's panic.
fn host_thread(
    m: Arc<Machine>,
    steps: Receiver<Step>,
    results: Sender<(usize, Result<[u64; 5], String>)>,
) {
    for step in steps {
        let cpu = step.cpu;
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            crate::host_writes(&m, &step);
            m.smc(step.cpu, step.fid, step.args)
        }))
        .map_err(|p| format!("the RMM panicked: {}", crate::panic_message(&*p)));
        if results.send((cpu, r)).is_err() {
            return;
        }
    }
}

/// Whether two steps of `batch` name a common pool granule, counting a REC as its
/// realm's RD too (commands that meet on a lock or a reference).
fn shares_granules(model: &Shadow, batch: &[Step]) -> bool {
    let named = |step: &Step| -> std::collections::BTreeSet<u64> {
        let mut set = std::collections::BTreeSet::new();
        for &a in &step.args {
            if model.index(a).is_some() {
                set.insert(a);
                if let Some(rec) = model.recs.get(&a) {
                    set.insert(rec.rd);
                }
            }
        }
        set
    };
    let sets: Vec<_> = batch.iter().map(named).collect();
    sets.iter()
        .enumerate()
        .any(|(i, a)| sets[i + 1..].iter().any(|b| !a.is_disjoint(b)))
}

/// Every order of `0..n`, the identity first.
fn orders(n: usize) -> Vec<Vec<usize>> {
    fn rec(prefix: &mut Vec<usize>, n: usize, out: &mut Vec<Vec<usize>>) {
        if prefix.len() == n {
            out.push(prefix.clone());
            return;
        }
        for i in 0..n {
            if !prefix.contains(&i) {
                prefix.push(i);
                rec(prefix, n, out);
                prefix.pop();
            }
        }
    }
    let mut out = Vec::new();
    rec(&mut Vec::new(), n, &mut out);
    out
}

/// The model after `batch` returned `rets`, in the first order consistent with them;
/// the order, or why none is.
pub fn linearize(
    m: &Machine,
    model: &Shadow,
    batch: &[Step],
    rets: &[[u64; 5]],
) -> Result<(Shadow, Vec<usize>), String> {
    let mut why = Vec::new();
    for order in orders(batch.len()) {
        let mut trial = model.clone();
        match order
            .iter()
            .try_for_each(|&i| trial.apply(m, &batch[i], rets[i]))
        {
            Ok(()) => return Ok((trial, order)),
            Err(e) => why.push(format!("{order:?}: {e}")),
        }
    }
    Err(format!(
        "no order of the batch explains its results {rets:x?}: {}",
        why.join("; ")
    ))
}

/// Runs `steps` steps (in batches) from `seed`. A failure comes with the steps of the
/// run in the order the model took them in, shrunk if a sequential replay of them
/// fails too (else as they were: the failure needed the concurrency).
pub fn run(seed: u64, steps: usize) -> Result<Stats, (Failure, Vec<Step>)> {
    let m = Arc::new(crate::machine());
    let mut model = Shadow::new(&m);
    let mut g = gen::Gen::new(seed);
    let mut rng = XorShiftRng::seed_from_u64(seed ^ 0xC0C0);
    let (results_tx, results) = channel();
    let senders: Vec<Sender<Step>> = (0..CPUS)
        .map(|_| {
            let (tx, rx) = channel();
            let (m, r) = (m.clone(), results_tx.clone());
            std::thread::spawn(move || host_thread(m, rx, r));
            tx
        })
        .collect();
    let watchdog = watchdog::Watchdog::start();
    let mut log: Vec<Step> = Vec::with_capacity(steps);
    let mut stats = Stats::default();
    let mut batch_no = 0usize;
    let fail = |log: &[Step], step: usize, what: String| {
        let shrunk = shrink::shrink(log);
        (Failure { step, what }, shrunk)
    };
    while stats.steps < steps {
        // 2..=4 distinct CPUs.
        let k = 2 + (rng.next_u64() % 3) as usize;
        let mut cpus: Vec<usize> = (0..CPUS).collect();
        for i in 0..CPUS {
            cpus.swap(i, i + (rng.next_u64() as usize) % (CPUS - i));
        }
        cpus.truncate(k);
        // Half the batches concentrate on one realm, so that its commands meet.
        let rds: Vec<u64> = model.realms.keys().copied().collect();
        let focus = (!rds.is_empty() && rng.next_u64() % 2 == 0)
            .then(|| rds[(rng.next_u64() as usize) % rds.len()]);
        g.focus(focus);
        let batch: Vec<Step> = cpus.iter().map(|&c| g.step_on(&m, &model, c)).collect();
        g.focus(None);
        watchdog.describe(format!("seed {seed} (concurrent), batch {batch:x?}"));
        watchdog.beat(batch_no);
        for step in &batch {
            senders[step.cpu]
                .send(step.clone())
                .expect("host thread alive");
        }
        let mut rets = vec![[0u64; 5]; k];
        let mut panicked = None;
        for _ in 0..k {
            let (cpu, r) = results.recv().expect("host threads alive");
            let i = batch
                .iter()
                .position(|s| s.cpu == cpu)
                .expect("a CPU of the batch");
            match r {
                Ok(ret) => rets[i] = ret,
                Err(e) => panicked = Some(e),
            }
        }
        if let Some(e) = panicked {
            log.extend(batch.iter().cloned());
            return Err(fail(&log, log.len() - 1, e));
        }
        let (next, order) = match linearize(&m, &model, &batch, &rets) {
            Ok(x) => x,
            Err(e) => {
                log.extend(batch.iter().cloned());
                return Err(fail(&log, log.len() - 1, e));
            }
        };
        model = next;
        stats.batches += 1;
        stats.contended += shares_granules(&model, &batch) as usize;
        stats.reordered += (order.windows(2).any(|w| w[0] > w[1])) as usize;
        for &i in &order {
            log.push(batch[i].clone());
            let ran = rets[i][0] == 0 && batch[i].fid == rmi_abi::RmiFid::RecEnter.id() as u64;
            stats.count(&batch[i], rets[i][0], ran);
        }
        let checked = batch
            .iter()
            .zip(&rets)
            .try_for_each(|(step, &ret)| check::after_step(&m, &model, step, ret))
            .and_then(|()| {
                if batch_no % check::SWEEP_EVERY == check::SWEEP_EVERY - 1 {
                    check::full(&m, &model)
                } else {
                    Ok(())
                }
            });
        if let Err(e) = checked {
            return Err(fail(&log, log.len() - 1, e));
        }
        batch_no += 1;
    }
    if let Err(e) = check::full(&m, &model) {
        return Err(fail(&log, log.len(), e));
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    #[test]
    fn orders_are_all_permutations_identity_first() {
        let o = super::orders(3);
        assert_eq!(o.len(), 6);
        assert_eq!(o[0], vec![0, 1, 2]);
        let set: std::collections::BTreeSet<_> = o.into_iter().collect();
        assert_eq!(set.len(), 6);
    }
}
