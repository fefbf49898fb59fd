//! The fuzzer as part of the test suite: a short fixed-seed campaign, and the checker
//! shown to catch each kind of defect it exists for (planted in the machine directly,
//! as a buggy RMM would leave it).

use platform::{Pas, PhysAddr};
use rmi_abi::RmiFid;
use rmm_fuzz::check;
use rmm_fuzz::shadow::{GState, Shadow};
use rmm_fuzz::{machine, Step, HOST_PAGES};

#[test]
fn smoke_campaign_finds_nothing() {
    for seed in 1..=3 {
        if let Err((f, shrunk)) = rmm_fuzz::run(seed, 2_000) {
            panic!(
                "seed {seed}: step {}: {}\n{}",
                f.step,
                f.what,
                rmm_fuzz::regression_test("regression", &f.what, &shrunk)
            );
        }
    }
}

fn delegate(m: &rmm::hosted::Machine, s: &mut Shadow, pa: u64) {
    let step = Step {
        writes: vec![],
        clears: vec![],
        cpu: 0,
        fid: RmiFid::GranuleDelegate.id() as u64,
        args: [pa, 0, 0, 0, 0, 0],
    };
    rmm_fuzz::exec(m, s, &step, 0).unwrap();
    assert_eq!(s.state(pa), Some(GState::Delegated));
}

#[test]
fn a_delegated_granule_that_is_not_zero_is_reported() {
    let m = machine();
    let mut s = Shadow::new(&m);
    let pa = s.pa(HOST_PAGES);
    delegate(&m, &mut s, pa);
    check::full(&m, &s).unwrap();
    m.hw()
        .mem()
        .write(PhysAddr(pa + 0x123), Pas::Realm, &[7])
        .unwrap();
    let e = check::full(&m, &s).unwrap_err();
    assert!(
        e.contains(&format!(
            "DELEGATED granule {pa:#x} is not zero: byte 0x123"
        )),
        "{e}"
    );
}

#[test]
fn a_granule_state_the_model_does_not_expect_is_reported() {
    let m = machine();
    let mut s = Shadow::new(&m);
    let pa = s.pa(HOST_PAGES + 1);
    delegate(&m, &mut s, pa);
    // The model is told the host never delegated it: the RMM's answer now disagrees.
    s.states[HOST_PAGES + 1] = GState::Ns;
    let e = check::full(&m, &s).unwrap_err();
    assert!(
        e.contains("the RMM says Some(Delegated), the model Ns"),
        "{e}"
    );
}

#[test]
fn a_realm_sentinel_in_non_secure_memory_is_reported() {
    let m = machine();
    let mut s = Shadow::new(&m);
    let secret = [0x5Au8; 16];
    s.secrets.insert(secret);
    check::full(&m, &s).unwrap();
    let pa = s.pa(3) + 0x40;
    m.host_write(pa, &secret).unwrap();
    let e = check::full(&m, &s).unwrap_err();
    assert!(
        e.contains(&format!("in Non-secure memory at {pa:#x}")),
        "{e}"
    );
}

#[test]
fn an_exit_record_field_the_exit_does_not_set_is_reported() {
    let mut rec = vec![0u8; 0x800];
    // RMI_EXIT_IRQ with the timers and GIC state set: allowed.
    rec[0] = 1;
    rec[0x300..0x308].copy_from_slice(&0x5u64.to_le_bytes());
    rec[0x410..0x418].copy_from_slice(&0x1u64.to_le_bytes());
    check::exit_record(&rec).unwrap();
    // ... but not a general-purpose register.
    rec[0x208] = 0x42;
    let e = check::exit_record(&rec).unwrap_err();
    assert!(e.contains("byte offset 0x208"), "{e}");
    // RMI_EXIT_HOST_CALL reports x0..x30 and the immediate.
    rec[0] = 5;
    rec[0x600] = 7;
    check::exit_record(&rec).unwrap();
    // RMI_EXIT_RIPAS_CHANGE does not.
    rec[0] = 4;
    assert!(check::exit_record(&rec).is_err());
}

#[test]
fn a_failed_call_that_changed_host_memory_is_reported() {
    let m = machine();
    let s = Shadow::new(&m);
    let step = Step {
        writes: vec![],
        clears: vec![],
        cpu: 0,
        fid: RmiFid::GranuleDelegate.id() as u64,
        args: [0x1000, 0, 0, 0, 0, 0],
    };
    let before = check::snapshot(&m, &s, &step);
    check::unchanged(&m, &s, &step, &before).unwrap();
    m.host_write(s.pa(5) + 0x10, &[1]).unwrap();
    let e = check::unchanged(&m, &s, &step, &before).unwrap_err();
    assert!(
        e.contains(&format!("changed the contents of granule {:#x}", s.pa(5))),
        "{e}"
    );
}

#[test]
fn an_rtt_reference_count_that_is_not_its_live_entries_is_reported() {
    // Run the generator until the model has a realm with an RTT of its own.
    let m = machine();
    let mut s = Shadow::new(&m);
    let mut g = rmm_fuzz::gen::Gen::new(7);
    let mut i = 0;
    let rtt = loop {
        let step = g.step(&m, &s);
        rmm_fuzz::exec(&m, &mut s, &step, i).unwrap();
        i += 1;
        if let Some((&pa, _)) = s.rtts.iter().next() {
            break pa;
        }
    };
    check::full(&m, &s).unwrap();
    let rmm = m.rmm().unwrap();
    assert!(rmm.granules().get(PhysAddr(rtt)).unwrap().try_get(1));
    let e = check::full(&m, &s).unwrap_err();
    assert!(
        e.contains(&format!("RTT {rtt:#x} has reference count")),
        "{e}"
    );
}

#[test]
fn concurrent_results_no_order_explains_are_reported() {
    let m = machine();
    let s = Shadow::new(&m);
    let pa = s.pa(HOST_PAGES + 3);
    let delegate = |cpu| Step {
        writes: vec![],
        clears: vec![],
        cpu,
        fid: RmiFid::GranuleDelegate.id() as u64,
        args: [pa, 0, 0, 0, 0, 0],
    };
    let batch = [delegate(0), delegate(1)];
    // One of two DELEGATEs of one granule succeeds: either order explains it.
    let (after, order) =
        rmm_fuzz::concurrent::linearize(&m, &s, &batch, &[[1, 0, 0, 0, 0], [0; 5]]).unwrap();
    assert_eq!(after.state(pa), Some(GState::Delegated));
    assert_eq!(order, vec![0, 1]);
    // Both succeeding: no sequential order allows that.
    let Err(e) = rmm_fuzz::concurrent::linearize(&m, &s, &batch, &[[0; 5], [0; 5]]) else {
        panic!("two successful DELEGATEs of {pa:#x} were explained");
    };
    assert!(e.contains("no order of the batch explains"), "{e}");
}

#[test]
fn concurrent_smoke_campaign_finds_nothing() {
    if let Err((f, _)) = rmm_fuzz::concurrent::run(1, 2_000) {
        panic!("step {}: {}", f.step, f.what);
    }
}
