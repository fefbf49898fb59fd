//! The granule lock and reference-count protocol, model-checked with loom.
//!
//! Built only with `--cfg loom` (`RUSTFLAGS="--cfg loom" cargo test -p rmm --lib
//! --release granule::model_check`), where the table's atomics are loom's: every model
//! below runs the real [`GranuleTable`] code (`lock_as`, `lock_pair_as`, `transition`,
//! `try_get`/`put`) in the order a pair of RMI commands takes its locks and references,
//! and loom explores the interleavings (and the weak-memory outcomes of the orderings
//! used) up to a preemption bound. A granule's memory is a word accessed with relaxed
//! loads and stores only under its lock (or, for a REC, while no one runs it; the crate
//! forbids the `unsafe` that loom's checked `UnsafeCell` needs): a lock that failed to
//! exclude loses one of two read-modify-writes, and an Acquire/Release pairing too weak
//! to order the accesses lets loom return a stale value, either of which fails the
//! model's assertions; a cycle of lock waits is reported as a deadlock; and each model
//! asserts the outcome the command pair must have.
//!
//! The command pairs are those that share granules: REC_ENTER against RTT_SET_RIPAS,
//! PSCI_COMPLETE and REC_DESTROY (the running REC holds a reference instead of its
//! lock), DATA_CREATE against RTT_DESTROY (hand-over-hand RTT locks under the RD), two
//! PSCI_COMPLETEs naming one pair of RECs in opposite orders, and DELEGATE against
//! UNDELEGATE.

extern crate std;

use loom::sync::atomic::AtomicU64;
use loom::sync::Arc;
use loom::thread;
use std::vec::Vec;

use platform::manifest::DramBank;
use platform::PhysAddr;

use super::*;

struct TestStorage(Vec<Granule>, crate::vmid::VmidSet);

impl crate::Storage for TestStorage {
    fn granules(&self) -> &[Granule] {
        &self.0
    }
    fn vmids(&self) -> &crate::vmid::VmidSet {
        &self.1
    }
    fn attest(&self) -> &crate::attest::AttestStore {
        static NONE: crate::attest::AttestStore = crate::attest::AttestStore::new();
        &NONE
    }
}

const BASE: u64 = 0x4000_0000;

/// The address of granule `i` of the model's memory.
fn pa(i: u64) -> PhysAddr {
    PhysAddr(BASE + i * 4096)
}

/// A table of `n` granules in the given states, and one memory cell per granule.
struct World {
    table: GranuleTable<TestStorage>,
    mem: Vec<AtomicU64>,
}

impl World {
    fn new(states: &[GranuleState]) -> Arc<Self> {
        let storage = TestStorage(
            states.iter().map(|_| Granule::new()).collect(),
            Default::default(),
        );
        let bank = DramBank {
            base: BASE,
            size: states.len() as u64 * 4096,
        };
        let table = GranuleTable::new(&[bank], storage).expect("fits");
        for (i, &s) in states.iter().enumerate() {
            table.lock(pa(i as u64)).expect("tracked").set_state(s);
        }
        Arc::new(Self {
            table,
            mem: states.iter().map(|_| AtomicU64::new(0)).collect(),
        })
    }

    /// Granule `i`'s memory, read as plain memory (relaxed: ordered only by the
    /// protocol around it).
    fn read(&self, i: usize) -> u64 {
        self.mem[i].load(Ordering::Relaxed)
    }

    /// Granule `i`'s memory, written as plain memory.
    fn write(&self, i: usize, v: u64) {
        self.mem[i].store(v, Ordering::Relaxed)
    }

    /// A read-modify-write of granule `i`'s memory that only mutual exclusion makes
    /// atomic.
    fn bump(&self, i: usize) {
        let v = self.read(i);
        self.write(i, v + 1);
    }

    fn state(&self, i: u64) -> GranuleState {
        self.table.get(pa(i)).expect("tracked").state()
    }

    fn refcount(&self, i: u64) -> u16 {
        self.table.get(pa(i)).expect("tracked").refcount()
    }
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(f);
}

/// DELEGATE and UNDELEGATE of one granule at once: each checks the state under the
/// lock and changes it there; the outcome is one of the two sequential orders.
#[test]
fn delegate_against_undelegate() {
    model(|| {
        let w = World::new(&[GranuleState::Ns]);
        let w1 = w.clone();
        let delegate = thread::spawn(move || {
            let Ok(g) = w1.table.lock_as::<NsKind>(pa(0)) else {
                return false;
            };
            w1.write(0, 0); // scrub
            g.transition::<DelegatedKind>();
            true
        });
        let undelegated = {
            let mut g = w.table.lock(pa(0)).expect("tracked");
            if g.state() == GranuleState::Delegated {
                g.set_state(GranuleState::Ns);
                true
            } else {
                false
            }
        };
        let delegated = delegate.join().expect("no panic");
        assert!(delegated, "DELEGATE of an NS granule cannot fail here");
        let want = if undelegated {
            GranuleState::Ns
        } else {
            GranuleState::Delegated
        };
        assert_eq!(w.state(0), want);
    });
}

/// UNDELEGATE's state change fused with the unlock, against a reference-count update
/// made without the lock and another CPU waiting for the lock: no update is lost, and
/// the waiter, once it has the lock, sees the new state and what was written under the
/// lock before it.
#[test]
fn set_state_and_unlock_against_refcount_and_waiter() {
    model(|| {
        let w = World::new(&[GranuleState::Delegated]);
        let w1 = w.clone();
        let w2 = w.clone();
        let holder = thread::spawn(move || {
            let g = w1.table.lock(pa(0)).expect("tracked");
            w1.bump(0);
            g.set_state_and_unlock(GranuleState::Ns);
        });
        let counter = thread::spawn(move || {
            assert!(w2.table.get(pa(0)).expect("tracked").try_get(1));
        });
        {
            let g = w.table.lock(pa(0)).expect("tracked");
            match g.state() {
                GranuleState::Ns => assert_eq!(w.read(0), 1, "the write under the lock"),
                GranuleState::Delegated => assert_eq!(w.read(0), 0, "holder not yet run"),
                s => panic!("state {s:?}"),
            }
        }
        holder.join().expect("no panic");
        counter.join().expect("no panic");
        assert_eq!(w.state(0), GranuleState::Ns);
        assert_eq!(w.refcount(0), 1);
        drop(
            w.table
                .lock(pa(0))
                .expect("unlocked: the lock can be taken again"),
        );
    });
}

/// Granules of the REC models.
const RD: u64 = 0;
const REC_A: u64 = 1;
const REC_B: u64 = 2;

/// REC_ENTER of `rec` (RMI_REC_ENTER's sequence, `rmi::run`): the REC locked alone to
/// find its RD, then the RD and the REC locked as a pair, the REC copied and checked
/// idle (no reference), a reference taken and the locks dropped; the realm runs on
/// the copy (here: adds 100); the REC is locked again, the copy written back, the
/// reference dropped. `false` if the REC was not one (destroyed first).
fn rec_enter(w: &World, rec: u64) -> bool {
    if w.table.lock_as::<RecKind>(pa(rec)).is_err() {
        return false;
    }
    let copy = {
        let Ok((_rd, rec_lock)) = w.table.lock_pair_as::<RdKind, RecKind>(pa(RD), pa(rec)) else {
            return false;
        };
        let copy = w.read(rec as usize);
        assert_eq!(
            rec_lock.granule().refcount(),
            0,
            "no other CPU runs it here"
        );
        assert!(rec_lock.granule().try_get(1));
        copy
    };
    let after_run = copy + 100;
    let l = w
        .table
        .lock_as::<RecKind>(pa(rec))
        .expect("a running REC stays a REC: its reference keeps REC_DESTROY away");
    w.write(rec as usize, after_run);
    l.granule().put(1);
    true
}

/// REC_ENTER against RTT_SET_RIPAS naming the same REC: SET_RIPAS locks the RD and
/// REC as a pair and updates the REC only if no one runs it (else ERROR_REC); the
/// REC's write-back at the end of REC_ENTER must never undo a SET_RIPAS that
/// succeeded.
#[test]
fn rec_enter_against_rtt_set_ripas() {
    model(|| {
        let w = World::new(&[GranuleState::Rd, GranuleState::Rec]);
        let w1 = w.clone();
        let enter = thread::spawn(move || rec_enter(&w1, REC_A));
        let set = {
            let (_rd, rec) = w
                .table
                .lock_pair_as::<RdKind, RecKind>(pa(RD), pa(REC_A))
                .expect("states");
            if rec.granule().refcount() != 0 {
                false // ERROR_REC: running
            } else {
                w.bump(REC_A as usize); // ripas_base moves on
                true
            }
        };
        assert!(enter.join().expect("no panic"));
        let want = if set { 101 } else { 100 };
        assert_eq!(w.read(REC_A as usize), want, "set_ripas succeeded: {set}");
        assert_eq!(w.refcount(REC_A), 0);
    });
}

/// REC_ENTER against REC_DESTROY: a running REC holds a reference, so REC_DESTROY
/// (REC locked, reference count checked) fails with ERROR_REC while it runs, and the
/// REC is never destroyed under a running CPU.
#[test]
fn rec_enter_against_rec_destroy() {
    model(|| {
        let w = World::new(&[GranuleState::Rd, GranuleState::Rec]);
        // The REC's reference on its RD.
        assert!(w.table.get(pa(RD)).expect("tracked").try_get(1));
        let w1 = w.clone();
        let enter = thread::spawn(move || rec_enter(&w1, REC_A));
        let destroyed = {
            let rec = w.table.lock_as::<RecKind>(pa(REC_A)).expect("a REC");
            if rec.granule().refcount() != 0 {
                false
            } else {
                w.write(REC_A as usize, 0); // scrub
                rec.transition::<DelegatedKind>();
                w.table.get(pa(RD)).expect("tracked").put(1);
                true
            }
        };
        let entered = enter.join().expect("no panic");
        assert!(
            entered || destroyed,
            "REC_ENTER fails only on a destroyed REC"
        );
        if destroyed {
            assert_eq!(w.state(REC_A), GranuleState::Delegated);
            assert_eq!(w.read(REC_A as usize), 0, "scrubbed after any write-back");
            assert_eq!(w.refcount(RD), 0);
        } else {
            assert_eq!(w.state(REC_A), GranuleState::Rec);
            assert_eq!(w.refcount(RD), 1);
        }
        assert_eq!(w.refcount(REC_A), 0);
    });
}

/// PSCI_COMPLETE(calling, target) (`rmi::psci_complete`): both RECs locked as a pair
/// in address order; the target is updated only when no one runs it (a running target
/// counts as on), the calling REC always.
fn psci_complete(w: &World, calling: u64, target: u64) -> bool {
    let (c, t) = w
        .table
        .lock_pair_as::<RecKind, RecKind>(pa(calling), pa(target))
        .expect("states");
    assert_eq!(
        c.granule().refcount(),
        0,
        "the calling REC is not running here"
    );
    let target_running = t.granule().refcount() != 0;
    if !target_running {
        w.bump(target as usize);
    }
    w.bump(calling as usize);
    !target_running
}

/// REC_ENTER of the target against PSCI_COMPLETE: the target's write-back never
/// undoes what PSCI_COMPLETE wrote into it.
#[test]
fn rec_enter_against_psci_complete() {
    model(|| {
        let w = World::new(&[GranuleState::Rd, GranuleState::Rec, GranuleState::Rec]);
        let w1 = w.clone();
        let enter = thread::spawn(move || rec_enter(&w1, REC_B));
        let wrote_target = psci_complete(&w, REC_A, REC_B);
        assert!(enter.join().expect("no panic"));
        assert_eq!(w.read(REC_A as usize), 1);
        let want = if wrote_target { 101 } else { 100 };
        assert_eq!(w.read(REC_B as usize), want);
    });
}

/// Two PSCI_COMPLETEs naming one pair of RECs in opposite orders: the pair is locked
/// in address order, so they cannot deadlock, and each excludes the other.
#[test]
fn psci_complete_pairs_in_opposite_orders() {
    model(|| {
        let w = World::new(&[GranuleState::Rd, GranuleState::Rec, GranuleState::Rec]);
        let w1 = w.clone();
        let t = thread::spawn(move || psci_complete(&w1, REC_B, REC_A));
        assert!(psci_complete(&w, REC_A, REC_B));
        assert!(t.join().expect("no panic"));
        assert_eq!(w.read(REC_A as usize), 2);
        assert_eq!(w.read(REC_B as usize), 2);
    });
}

/// Granules of the RTT model: the RD, a parent RTT whose entry links the child RTT,
/// the child RTT (level 3), and a DELEGATED granule.
const PARENT: u64 = 1;
const CHILD: u64 = 2;
const DATA: u64 = 3;

/// DATA_CREATE against RTT_DESTROY of the RTT the data would go into. DATA_CREATE
/// (`rmi::data`): DATA and RD locked as a pair, then the RTTs hand over hand from the
/// parent; the entry assigned in the child and counted. RTT_DESTROY (`rmi::rtt`): the
/// RD, the parent, the child; a child with live entries is ERROR_RTT, else it is
/// unlinked from the parent and scrubbed back to DELEGATED. Never both: the child
/// destroyed with the DATA granule assigned in it.
#[test]
fn data_create_against_rtt_destroy() {
    model(|| {
        let w = World::new(&[
            GranuleState::Rd,
            GranuleState::Rtt,
            GranuleState::Rtt,
            GranuleState::Delegated,
        ]);
        // The parent's entry links the child (and counts).
        w.write(PARENT as usize, 1);
        assert!(w.table.get(pa(PARENT)).expect("tracked").try_get(1));
        let w1 = w.clone();
        let create = thread::spawn(move || {
            let w = &w1;
            let (data, _rd) = w
                .table
                .lock_pair_as::<DelegatedKind, RdKind>(pa(DATA), pa(RD))
                .expect("states");
            let parent = w.table.lock_as::<RttKind>(pa(PARENT)).expect("an RTT");
            if w.read(PARENT as usize) == 0 {
                return false; // ERROR_RTT: the walk stops at the parent
            }
            let child = w.table.lock_as::<RttKind>(pa(CHILD)).expect("a linked RTT");
            drop(parent);
            w.write(CHILD as usize, 1);
            assert!(child.granule().try_get(1));
            data.transition::<DataKind>();
            true
        });
        let destroyed = {
            let _rd = w.table.lock_as::<RdKind>(pa(RD)).expect("an RD");
            let parent = w.table.lock_as::<RttKind>(pa(PARENT)).expect("an RTT");
            assert_eq!(w.read(PARENT as usize), 1, "nothing else unlinks it");
            let child = w.table.lock_as::<RttKind>(pa(CHILD)).expect("linked");
            if child.granule().refcount() != 0 {
                false // ERROR_RTT: live
            } else {
                w.write(PARENT as usize, 0);
                parent.granule().put(1);
                w.write(CHILD as usize, 0);
                child.transition::<DelegatedKind>();
                true
            }
        };
        let created = create.join().expect("no panic");
        assert!(created != destroyed, "exactly one of them succeeds");
        if created {
            assert_eq!(w.state(CHILD), GranuleState::Rtt);
            assert_eq!((w.read(CHILD as usize), w.refcount(CHILD)), (1, 1));
            assert_eq!(w.state(DATA), GranuleState::Data);
        } else {
            assert_eq!(w.state(CHILD), GranuleState::Delegated);
            assert_eq!((w.read(PARENT as usize), w.refcount(PARENT)), (0, 0));
            assert_eq!(w.state(DATA), GranuleState::Delegated);
        }
    });
}
