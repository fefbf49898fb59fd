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
