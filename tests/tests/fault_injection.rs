//! Fault injection: EL3 calls that fail, host pages rewritten and taken away while the
//! RMM copies them, and copies to and from host memory that fault part-way.
//!
//! - EL3 (`SimEl3::fail_next`) answers a GTSI delegate or undelegate, or a boot-time
//!   attestation call, with each RMM-EL3 error code: the RMI command fails with the
//!   status the specification has for it (ERROR_INPUT: DEN0137 1.0 lists no other
//!   failure of GRANULE_DELEGATE/UNDELEGATE), the granule keeps its state, PAS and
//!   contents, and the next call succeeds; a failed attestation call leaves the boot
//!   complete and RMI served.
//! - A copy of RealmParams, RecParams, RecRun or a DATA source is stopped part-way
//!   (`SimHw::gate_ns`) while the host rewrites the rest of the page, or delegates it
//!   on another CPU (its PAS changes mid-copy): the RMM acts on the one copy it took, or
//!   fails with ERROR_INPUT and no side effect.

use std::sync::Arc;
use std::time::Duration;

use platform::el3::{
    El3Error, RMM_ATTEST_GET_PLAT_TOKEN, RMM_ATTEST_GET_REALM_KEY, RMM_GTSI_DELEGATE,
    RMM_GTSI_UNDELEGATE,
};
use platform::{CpuId, Pas, PhysAddr};
use platform_sim::{SimConfig, SimHw};
use rmi_abi::{RmiFid, RmiRecEnter, RmiRecExit};
use rmm::granule::GranuleState;
use rmm::hosted::Machine;
use rmm_conformance::builder::{create_realm, map_low_ipa, rec_params, Pool, RealmSpec};
use rmm_conformance::Checks;
use zerocopy::{FromBytes, FromZeros, IntoBytes};

/// Every RMM-EL3 error code (RMM-EL3 interface, `E_RMM_*`).
const EL3_ERRORS: [El3Error; 6] = [
    El3Error::Unknown,
    El3Error::BadAddr,
    El3Error::BadPas,
    El3Error::NoMem,
    El3Error::Inval,
    El3Error::Again,
];

/// RMI_ERROR_INPUT (DEN0137 1.0, B4.4.19 `RmiStatusCode`), index 0.
const ERROR_INPUT: u64 = 1;

/// How long a gated copy is held while the host acts.
const WINDOW: Duration = Duration::from_millis(100);

fn page(m: &Machine, pa: u64) -> Vec<u8> {
    let mut b = vec![0u8; 4096];
    m.hw()
        .mem()
        .read(PhysAddr(pa), m.pas(pa).unwrap(), &mut b)
        .unwrap();
    b
}

#[test]
fn a_failed_gtsi_delegate_leaves_the_granule_ns_and_the_next_one_succeeds() {
    let m = Machine::with_defaults();
    for (i, e) in EL3_ERRORS.into_iter().enumerate() {
        let pa = m.ns_granule(16 + i);
        m.host_write(pa + 0x40, &[0xA5; 8]).unwrap();
        m.hw().el3().fail_next(RMM_GTSI_DELEGATE, e, 1);
        assert_eq!(
            m.rmi(0, RmiFid::GranuleDelegate, &[pa])[0],
            ERROR_INPUT,
            "{e:?}"
        );
        assert_eq!(m.granule_state(pa), Some(GranuleState::Ns), "{e:?}");
        assert_eq!(m.pas(pa), Some(Pas::NonSecure), "{e:?}");
        let mut b = [0u8; 8];
        m.host_read(pa + 0x40, &mut b).unwrap();
        assert_eq!(b, [0xA5; 8], "{e:?}: the host's data is untouched");
        assert_eq!(m.rmi(1, RmiFid::GranuleDelegate, &[pa])[0], 0, "{e:?}");
        assert_eq!(m.granule_state(pa), Some(GranuleState::Delegated));
        assert_eq!(m.pas(pa), Some(Pas::Realm));
        assert!(page(&m, pa).iter().all(|&b| b == 0), "{e:?}: scrubbed");
    }
}

#[test]
fn a_failed_gtsi_undelegate_leaves_the_granule_delegated_and_the_next_one_succeeds() {
    let m = Machine::with_defaults();
    for (i, e) in EL3_ERRORS.into_iter().enumerate() {
        let pa = m.ns_granule(16 + i);
        assert_eq!(m.rmi(0, RmiFid::GranuleDelegate, &[pa])[0], 0);
        m.hw().el3().fail_next(RMM_GTSI_UNDELEGATE, e, 1);
        assert_eq!(
            m.rmi(2, RmiFid::GranuleUndelegate, &[pa])[0],
            ERROR_INPUT,
            "{e:?}"
        );
        assert_eq!(m.granule_state(pa), Some(GranuleState::Delegated), "{e:?}");
        assert_eq!(m.pas(pa), Some(Pas::Realm), "{e:?}");
        // Still usable as a DELEGATED granule: an RD of a realm, say.
        assert_eq!(m.rmi(3, RmiFid::GranuleUndelegate, &[pa])[0], 0, "{e:?}");
        assert_eq!(m.granule_state(pa), Some(GranuleState::Ns));
        assert_eq!(m.pas(pa), Some(Pas::NonSecure));
        let mut b = vec![0u8; 4096];
        m.host_read(pa, &mut b).unwrap();
        assert!(b.iter().all(|&b| b == 0), "{e:?}: zero when it comes back");
    }
}

/// A machine booted with `fid` failing `times` times with `e`.
fn boot_failing(fid: u32, e: El3Error, times: usize) -> Machine {
    let hw = SimHw::new(SimConfig::default());
    hw.el3().fail_next(fid, e, times);
    let args = hw.cold_boot_args(CpuId(0));
    Machine::boot(hw, args)
}

#[test]
fn failed_attestation_calls_at_boot_leave_the_boot_complete_and_rmi_served() {
    for e in EL3_ERRORS {
        let m = boot_failing(RMM_ATTEST_GET_REALM_KEY, e, 1);
        assert_eq!(m.hw().el3().boot_status(), vec![Some(0); 4], "{e:?}");
        assert!(!m.rmm().unwrap().attest().read().ready(), "{e:?}");
        assert_eq!(m.rmi(0, RmiFid::Version, &[0x1_0000])[0], 0, "{e:?}");
        let pa = m.ns_granule(20);
        assert_eq!(m.rmi(1, RmiFid::GranuleDelegate, &[pa])[0], 0, "{e:?}");

        let m = boot_failing(RMM_ATTEST_GET_PLAT_TOKEN, e, 1);
        assert_eq!(m.hw().el3().boot_status(), vec![Some(0); 4], "{e:?}");
        // E_RMM_AGAIN is asked again (and then succeeds); any other error leaves
        // attestation unavailable.
        assert_eq!(
            m.rmm().unwrap().attest().read().ready(),
            e == El3Error::Again,
            "{e:?}"
        );
        assert_eq!(m.rmi(0, RmiFid::Version, &[0x1_0000])[0], 0, "{e:?}");
    }
}

/// Runs `rmm_side` on CPU 0's thread; when the RMM stops at `gate`, runs `host_side`,
/// holds the gate for [`WINDOW`] and lets the RMM go. Returns what `rmm_side` returned.
fn race<R: Send>(
    gate: &platform_sim::gate::MapGate,
    rmm_side: impl FnOnce() -> R + Send,
    host_side: impl FnOnce() + Send,
) -> R {
    std::thread::scope(|s| {
        let rmm = s.spawn(rmm_side);
        assert!(
            gate.wait_reached(Duration::from_secs(10)),
            "the RMM never copied the host page"
        );
        host_side();
        std::thread::sleep(WINDOW);
        gate.release();
        rmm.join().expect("the RMM side panicked")
    })
}

/// A realm of one start table (39-bit IPA from level 1), so that any DELEGATED granule
/// can be it.
const ONE_TABLE: RealmSpec = RealmSpec {
    s2sz: 39,
    start_level: 1,
    num_start: 1,
    vmid: 1,
    hash_algo: 0,
    lpa2: false,
};

/// RealmParams: RD, two DELEGATED candidate start tables, and valid parameters naming
/// the first.
struct RealmCase {
    m: Machine,
    rd: u64,
    params: u64,
    rtts: [u64; 2],
}

impl RealmCase {
    fn new() -> Self {
        let m = Machine::with_defaults();
        let (rd, params, rtts) = {
            let pool = Pool::new(&m);
            let mut c = Checks::new();
            let rtts = [
                pool.delegated(&mut c).unwrap(),
                pool.delegated(&mut c).unwrap(),
            ];
            let rd = pool.delegated(&mut c).unwrap();
            let params = pool.ns();
            let p = ONE_TABLE.params(rtts[0]);
            m.host_write(params, p.as_bytes()).unwrap();
            (rd, params, rtts)
        };
        Self {
            m,
            rd,
            params,
            rtts,
        }
    }

    fn create(&self) -> u64 {
        self.m.rmi(0, RmiFid::RealmCreate, &[self.rd, self.params])[0]
    }

    /// Rewrites `rtt_base` (0x808, in the second half of the page).
    fn rewrite_rtt_base(&self, to: u64) {
        self.m
            .host_write(self.params + 0x808, &to.to_le_bytes())
            .unwrap();
    }

    fn state(&self, pa: u64) -> Option<GranuleState> {
        self.m.granule_state(pa)
    }
}

#[test]
fn realm_params_rewritten_mid_copy_are_used_as_copied() {
    let t = RealmCase::new();
    let gate = t.m.hw().gate_ns(PhysAddr(t.params), 0x800);
    let x0 = race(&gate, || t.create(), || t.rewrite_rtt_base(t.rtts[1]));
    assert_eq!(x0, 0);
    // The copy's second half named the second table: that is the realm's.
    assert_eq!(t.state(t.rd), Some(GranuleState::Rd));
    assert_eq!(t.state(t.rtts[1]), Some(GranuleState::Rtt));
    assert_eq!(t.state(t.rtts[0]), Some(GranuleState::Delegated));
}

#[test]
fn realm_params_made_invalid_mid_copy_fail_cleanly() {
    let t = RealmCase::new();
    let ns = t.m.ns_granule(40);
    let gate = t.m.hw().gate_ns(PhysAddr(t.params), 0x800);
    let x0 = race(&gate, || t.create(), || t.rewrite_rtt_base(ns));
    assert_eq!(x0, ERROR_INPUT, "rtt_state: the copied rtt_base is NS");
    for pa in [t.rd, t.rtts[0], t.rtts[1]] {
        assert_eq!(t.state(pa), Some(GranuleState::Delegated), "{pa:#x}");
    }
    assert_eq!(t.state(ns), Some(GranuleState::Ns));
    // Nothing was claimed: the same parameters (VMID included) work now.
    t.rewrite_rtt_base(t.rtts[0]);
    assert_eq!(t.create(), 0);
}

#[test]
fn realm_params_delegated_mid_copy_fail_cleanly() {
    let t = RealmCase::new();
    let gate = t.m.hw().gate_ns(PhysAddr(t.params), 0x800);
    let x0 = race(
        &gate,
        || t.create(),
        || assert_eq!(t.m.rmi(1, RmiFid::GranuleDelegate, &[t.params])[0], 0),
    );
    assert_eq!(
        x0, ERROR_INPUT,
        "params_pas: the page left the NS PAS mid-copy"
    );
    for pa in [t.rd, t.rtts[0], t.rtts[1]] {
        assert_eq!(t.state(pa), Some(GranuleState::Delegated), "{pa:#x}");
    }
    assert_eq!(t.m.pas(t.params), Some(Pas::Realm));
    // The host takes its page back, rewrites it, and the same call succeeds.
    assert_eq!(t.m.rmi(1, RmiFid::GranuleUndelegate, &[t.params])[0], 0);
    let p = ONE_TABLE.params(t.rtts[0]);
    t.m.host_write(t.params, p.as_bytes()).unwrap();
    assert_eq!(t.create(), 0);
}

const ENTRY: u64 = 0x8_0000;

/// An active-to-be realm with RAM at [0, 2 MiB): the RD, a pool, and REC parameters
/// (REC 0) in a host page with DELEGATED auxiliary granules.
struct RecCase {
    m: Machine,
    rd: u64,
    rec: u64,
    params: u64,
    aux: Vec<u64>,
    spare: u64,
}

impl RecCase {
    fn new() -> Self {
        let m = Machine::with_defaults();
        m.hw().register_realm_program(
            ENTRY,
            Arc::new(|cpu: &mut platform_sim::realm::RealmCpu| loop {
                // Host call (RSI_HOST_CALL with a RAM buffer), then WFI.
                let _ = cpu.smc(rsi_abi::fid::RSI_HOST_CALL as u64, &[0x1000]);
                cpu.wfi();
            }),
        );
        let (rd, rec, params, aux, spare) = {
            let pool = Pool::new(&m);
            let mut c = Checks::new();
            let realm = create_realm(&m, &pool, &mut c, RealmSpec::default()).unwrap();
            map_low_ipa(&m, &pool, &mut c, realm.rd, 0x20_0000).unwrap();
            let n = m.rmi(0, RmiFid::RecAuxCount, &[realm.rd])[1] as usize;
            let mut p = rec_params(0, ENTRY);
            p.num_aux = n as u64;
            let aux: Vec<u64> = (0..n).map(|_| pool.delegated(&mut c).unwrap()).collect();
            p.aux[..n].copy_from_slice(&aux);
            let params = pool.ns();
            m.host_write(params, p.as_bytes()).unwrap();
            let rec = pool.delegated(&mut c).unwrap();
            let spare = pool.delegated(&mut c).unwrap();
            (realm.rd, rec, params, aux, spare)
        };
        Self {
            m,
            rd,
            rec,
            params,
            aux,
            spare,
        }
    }

    fn create(&self) -> u64 {
        self.m
            .rmi(0, RmiFid::RecCreate, &[self.rd, self.rec, self.params])[0]
    }

    fn unchanged(&self) {
        let rmm = self.m.rmm().unwrap();
        assert_eq!(rmm.granules().get(PhysAddr(self.rd)).unwrap().refcount(), 0);
        for &pa in self.aux.iter().chain([&self.rec, &self.spare]) {
            assert_eq!(
                self.m.granule_state(pa),
                Some(GranuleState::Delegated),
                "{pa:#x}"
            );
        }
    }
}

#[test]
fn rec_params_rewritten_mid_copy_fail_cleanly_or_are_used_as_copied() {
    // The auxiliary list (0x808..) rewritten to name an NS granule: rejected.
    let t = RecCase::new();
    let ns = t.m.ns_granule(40);
    let gate = t.m.hw().gate_ns(PhysAddr(t.params), 0x800);
    let x0 = race(
        &gate,
        || t.create(),
        || t.m.host_write(t.params + 0x808, &ns.to_le_bytes()).unwrap(),
    );
    assert_eq!(x0, ERROR_INPUT, "aux_state: the copied aux[0] is NS");
    t.unchanged();

    // Rewritten to name another DELEGATED granule: that one becomes the auxiliary.
    let gate = t.m.hw().gate_ns(PhysAddr(t.params), 0x800);
    t.m.host_write(t.params + 0x808, &t.aux[0].to_le_bytes())
        .unwrap();
    let x0 = race(
        &gate,
        || t.create(),
        || {
            t.m.host_write(t.params + 0x808, &t.spare.to_le_bytes())
                .unwrap()
        },
    );
    assert_eq!(x0, 0);
    assert_eq!(t.m.granule_state(t.spare), Some(GranuleState::RecAux));
    assert_eq!(t.m.granule_state(t.aux[0]), Some(GranuleState::Delegated));
    assert_eq!(t.m.granule_state(t.rec), Some(GranuleState::Rec));
}

#[test]
fn rec_params_delegated_mid_copy_fail_cleanly() {
    let t = RecCase::new();
    let gate = t.m.hw().gate_ns(PhysAddr(t.params), 0x800);
    let x0 = race(
        &gate,
        || t.create(),
        || assert_eq!(t.m.rmi(1, RmiFid::GranuleDelegate, &[t.params])[0], 0),
    );
    assert_eq!(x0, ERROR_INPUT, "params_pas");
    t.unchanged();
}

/// A REC of an active realm ready to run, with a RecRun page.
fn running_case() -> (RecCase, u64) {
    let t = RecCase::new();
    assert_eq!(t.create(), 0);
    // RAM for the host call's buffer.
    let src = t.m.ns_granule(41);
    assert_eq!(
        t.m.rmi(0, RmiFid::DataCreate, &[t.rd, t.spare, 0x1000, src, 0])[0],
        0
    );
    assert_eq!(t.m.rmi(0, RmiFid::RealmActivate, &[t.rd])[0], 0);
    let run = t.m.ns_granule(42);
    let mut enter = RmiRecEnter::new_zeroed();
    enter.flags = 1 << 2; // TRAP_WFI
    t.m.host_write(run, enter.as_bytes()).unwrap();
    (t, run)
}

fn exit_of(m: &Machine, run: u64) -> RmiRecExit {
    let mut b = [0u8; 4096];
    m.host_read(run, &mut b).unwrap();
    RmiRecExit::read_from_bytes(&b[0x800..]).unwrap()
}

/// RMI_REC_ENTER of the case's REC with `run`, raced against `host_side` when the
/// RMM's copy of the page reaches byte `at`: the call's x0.
fn rec_enter_racing(t: &RecCase, run: u64, at: usize, host_side: impl FnOnce() + Send) -> u64 {
    let gate = t.m.hw().gate_ns(PhysAddr(run), at);
    race(
        &gate,
        || t.m.rmi(0, RmiFid::RecEnter, &[t.rec, run])[0],
        host_side,
    )
}

/// A second RecRun page (flags: trap WFI), and RMI_REC_ENTER of the case's REC with
/// it: the call's x0 and the page.
fn rec_enter_with_a_fresh_page(t: &RecCase) -> (u64, u64) {
    let run2 = t.m.ns_granule(43);
    let mut enter = RmiRecEnter::new_zeroed();
    enter.flags = 1 << 2;
    t.m.host_write(run2, enter.as_bytes()).unwrap();
    (t.m.rmi(0, RmiFid::RecEnter, &[t.rec, run2])[0], run2)
}

#[test]
fn a_rec_run_page_delegated_while_rec_enter_reads_it_fails_cleanly() {
    let (t, run) = running_case();
    // Stop inside the copy of RmiRecEnter, before the GIC list registers.
    let x0 = rec_enter_racing(&t, run, 0x308, || {
        assert_eq!(t.m.rmi(1, RmiFid::GranuleDelegate, &[run])[0], 0)
    });
    assert_eq!(x0, ERROR_INPUT, "run_pas");
    // The REC never ran: it is idle and can be entered with a good page.
    let (x0, run2) = rec_enter_with_a_fresh_page(&t);
    assert_eq!(x0, 0);
    assert_eq!(
        exit_of(&t.m, run2).exit_reason,
        5,
        "its first exit: the host call"
    );
}

#[test]
fn a_rec_run_page_rewritten_mid_copy_is_used_as_copied() {
    let (t, run) = running_case();
    // List register 0 rewritten to all-ones (State pending and active with HW set
    // and reserved bits: invalid for any implementation) once the copy has passed it
    // (0x308..0x310; the copy ends with the last defined field, gicv3_lrs[15], at
    // 0x388): the copy holds the zero LR it read.
    let bad_lr0 = || {
        t.m.host_write(run + 0x308, &u64::MAX.to_le_bytes())
            .unwrap()
    };
    let x0 = rec_enter_racing(&t, run, 0x310, bad_lr0);
    // gicv3_lrs[0] was copied before the gate: the REC ran on the valid copy.
    assert_eq!(x0, 0);
    assert_eq!(exit_of(&t.m, run).exit_reason, 5);
    // Rewritten before the copy: rec_gicv3.
    let x0 = rec_enter_racing(&t, run, 0x300, bad_lr0);
    assert_eq!(
        x0, 3,
        "ERROR_REC: rec_gicv3 on the copy that holds the bad LR"
    );
}

#[test]
fn a_rec_run_page_delegated_while_the_exit_is_written_leaves_the_rec_usable() {
    let (t, run) = running_case();
    // Stop inside the write of the exit record (RmiRecExit at 0x800), after its
    // exit_reason and before the gprs.
    let x0 = rec_enter_racing(&t, run, 0xA00, || {
        assert_eq!(t.m.rmi(1, RmiFid::GranuleDelegate, &[run])[0], 0)
    });
    // The realm ran (that cannot be undone); the exit could not be reported.
    assert_eq!(x0, ERROR_INPUT);
    // Nothing of the exit record reached the page now in the Realm PAS (the
    // delegation scrubbed it, and the RMM's second part faulted).
    assert!(page(&t.m, run).iter().all(|&b| b == 0));
    // The REC is not left running: it can be entered again (its next exit: WFI) and
    // destroyed.
    assert_eq!(rec_enter_with_a_fresh_page(&t).0, 0);
    assert_eq!(t.m.rmi(0, RmiFid::RecDestroy, &[t.rec])[0], 0);
}

#[test]
fn a_data_source_delegated_mid_copy_fails_cleanly() {
    let t = RecCase::new();
    let src = t.m.ns_granule(41);
    t.m.host_write(src, &[0x77; 4096]).unwrap();
    let gate = t.m.hw().gate_ns(PhysAddr(src), 0x800);
    let x0 = race(
        &gate,
        || {
            t.m.rmi(0, RmiFid::DataCreate, &[t.rd, t.spare, 0x1000, src, 1])[0]
        },
        || assert_eq!(t.m.rmi(1, RmiFid::GranuleDelegate, &[src])[0], 0),
    );
    assert_eq!(x0, ERROR_INPUT, "src_pas");
    assert_eq!(t.m.granule_state(t.spare), Some(GranuleState::Delegated));
    assert!(page(&t.m, t.spare).iter().all(|&b| b == 0));
    let e = t.m.rmi(0, RmiFid::RttReadEntry, &[t.rd, 0x1000, 3]);
    assert_eq!((e[0], e[2]), (0, 0), "the entry is still UNASSIGNED");
}

/// The DATA granule gets the source page as it was copied, and the RIM measures that
/// copy: a host that rewrites the rest of the page mid-copy changes neither (DEN0137
/// 1.0, B4.3.1.4: the content hash is over the DATA granule's contents).
#[test]
fn a_data_source_rewritten_mid_copy_is_measured_as_copied() {
    use sha2::{Digest, Sha256};
    let t = RecCase::new();
    let src = t.m.ns_granule(41);
    t.m.host_write(src, &[0x11; 4096]).unwrap();
    let rim_of = |m: &Machine| {
        rmm::realm::Rd::read_from_prefix(&m.hw().mem().inspect(PhysAddr(t.rd)).0)
            .unwrap()
            .0
            .measurements[0]
    };
    let rim = rim_of(&t.m);
    let gate = t.m.hw().gate_ns(PhysAddr(src), 0x800);
    let x0 = race(
        &gate,
        || {
            t.m.rmi(0, RmiFid::DataCreate, &[t.rd, t.spare, 0x1000, src, 1])[0]
        },
        || t.m.host_write(src, &[0x22; 4096]).unwrap(),
    );
    assert_eq!(x0, 0);
    let mut copied = [0x11u8; 4096];
    copied[0x800..].fill(0x22);
    assert_eq!(
        page(&t.m, t.spare),
        copied,
        "the DATA granule holds the copy"
    );
    // C1.11 descriptor over the copy (SHA-256 realm: 32-byte hashes, zero-extended).
    let mut d = [0u8; 0x100];
    d[0x8..0x10].copy_from_slice(&0x100u64.to_le_bytes());
    d[0x10..0x50].copy_from_slice(&rim);
    d[0x50..0x58].copy_from_slice(&0x1000u64.to_le_bytes());
    d[0x58..0x60].copy_from_slice(&1u64.to_le_bytes());
    d[0x60..0x80].copy_from_slice(&Sha256::digest(copied));
    let mut want = [0u8; 64];
    want[..32].copy_from_slice(&Sha256::digest(d));
    assert_eq!(rim_of(&t.m), want, "the RIM measures the copy");
}
