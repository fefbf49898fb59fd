//! RMI_REC_ENTER failure conditions (DEN0137 1.0, RMI_REC_ENTER): those of its
//! inputs (run_align, run_bound, run_pas, rec_align, rec_bound, rec_gran_state:
//! RMI_ERROR_INPUT), of a realm that is not active yet (realm_new: RMI_ERROR_REALM
//! index 0) and of the REC's state (rec_runnable, rec_mmio, rec_gicv3:
//! RMI_ERROR_REC), each before anything runs; then a successful entry. `system_off`,
//! `rec_psci` and `rec_state` are in `psci_system_off_and_system_reset`,
//! `psci_affinity_info_cpu_on_and_cpu_off` and `rec_enter_two_recs_on_two_cpus_at_once`.

use rmi_abi::{RmiError, RmiFid, RmiRecEnter};
use zerocopy::{FromZeros, IntoBytes};

use super::rec_exit::{start_with, CALL, ZERO};
use crate::builder::{create_realm, create_rec, rec_params, teardown, Pool, RealmSpec};
use crate::program::Program;
use crate::realm::RealmEnv;
use crate::vmm;
use crate::{Checks, Host, Outcome, TestDef};

/// The tests of this module.
pub const TESTS: &[TestDef] = &[TestDef {
    name: "rec_enter_failure_conditions",
    run: failures,
}];

/// The realm program of this module: WFI for ever.
pub(super) const PROGRAM: Program = Program {
    name: "rec_enter_failure_conditions",
    run: idle,
};

fn idle(r: &mut dyn RealmEnv) {
    loop {
        r.wfi();
    }
}

/// RecEnter flags: EMUL_MMIO [0], TRAP_WFI [2].
const EMUL_MMIO: u64 = 1 << 0;
const TRAP_WFI: u64 = 1 << 2;
/// ICH_HCR_EL2.En, which the host may not set (B4.4.15 RmiRecEnter: gicv3_hcr holds
/// only the bits the RMM lets the host control).
const HCR_EN: u64 = 1 << 0;
/// ICH_HCR_EL2.TC (trap common registers), not one of those bits either.
const HCR_TC: u64 = 1 << 10;

const INPUT: Result<(), RmiError> = Err(RmiError::Input);
const REC: Result<(), RmiError> = Err(RmiError::Rec);

fn failures(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    // A realm that is not activated: the input conditions, then realm_new.
    let pool = Pool::new(h);
    let realm = create_realm(h, &pool, c, RealmSpec::default())?;
    let rec = create_rec(
        h,
        &pool,
        c,
        realm.rd,
        rec_params(0, crate::payload::BASE_IPA),
    )?;
    let run = pool.ns();
    c.holds(
        "write the RecEnter page",
        h.write_ns(run, RmiRecEnter::new_zeroed().as_bytes()),
    )?;
    let nm = h.non_memory_addr();
    let e = |rec: u64, run: u64| h.rmi(RmiFid::RecEnter, &[rec, run])[0];
    c.status("run_align", e(rec, run + 8), INPUT)?;
    c.status("run_bound", e(rec, nm), INPUT)?;
    c.status("run_pas (the RD, Realm PAS)", e(rec, realm.rd), INPUT)?;
    c.status("rec_align", e(rec + 8, run), INPUT)?;
    c.status("rec_bound", e(nm, run), INPUT)?;
    c.status("rec_gran_state (the RD)", e(realm.rd, run), INPUT)?;
    c.status("rec_gran_state (an NS granule)", e(run, run), INPUT)?;
    c.status("realm_new", e(rec, run), Err(RmiError::Realm(0)))?;
    c.status("run_pas before realm_new", e(rec, realm.rd), INPUT)?;
    teardown(h, &pool, c, &[realm.rd], &[rec])?;

    // An active realm of two RECs running `PROGRAM` (REC 1 not runnable).
    let pool = Pool::new(h);
    let (vm, _) = start_with(h, &pool, c, &PROGRAM, 2, &[(CALL, &ZERO)])?;
    let enter = |i: usize, edit: &dyn Fn(&mut RmiRecEnter)| {
        let mut en = RmiRecEnter::new_zeroed();
        en.flags = TRAP_WFI;
        edit(&mut en);
        vmm::enter(h, &vm, i, &en)
    };
    c.status("rec_runnable (REC 1)", enter(1, &|_| {}).0, REC)?;
    c.status(
        "rec_mmio (EMUL_MMIO, the REC never ran)",
        enter(0, &|e| e.flags |= EMUL_MMIO).0,
        REC,
    )?;
    c.status(
        "rec_gicv3 (gicv3_hcr.En)",
        enter(0, &|e| e.gicv3_hcr = HCR_EN).0,
        REC,
    )?;
    c.status(
        "rec_gicv3 (gicv3_hcr.TC)",
        enter(0, &|e| e.gicv3_hcr = HCR_TC).0,
        REC,
    )?;
    let (x0, exit) = enter(0, &|_| {});
    c.status("rec enter", x0, Ok(()))?;
    c.eq("exit reason: sync", exit.exit_reason.into(), 0)?;
    c.eq("esr: WFI (the REC ran)", exit.esr, 0x01 << 26)?;
    c.status(
        "rec_mmio (EMUL_MMIO after a WFI exit)",
        enter(0, &|e| e.flags |= EMUL_MMIO).0,
        REC,
    )?;
    let (x0, exit) = enter(0, &|_| {});
    c.status("rec enter again", x0, Ok(()))?;
    c.eq("esr: WFI", exit.esr, 0x01 << 26)?;
    Ok(teardown(h, &pool, c, &[vm.realm.rd], &vm.recs[..2])?)
}
