//! RMI_PSCI_COMPLETE (DEN0137 1.0, B4.3.7): the failure conditions a host can reach
//! without running a realm (no REC has a PSCI request pending until a realm makes
//! one). The conditions after `pending` need a realm's PSCI_CPU_ON or
//! PSCI_AFFINITY_INFO and are covered by the hosted realm tests.

use rmi_abi::{RmiError, RmiFid};

use super::ripas::ENTRY;
use crate::builder::{create_realm, create_rec, rec_params, teardown, Pool, RealmSpec};
use crate::{Checks, Host, Outcome, TestDef};

/// The tests of this module.
pub const TESTS: &[TestDef] = &[TestDef {
    name: "psci_complete_failure_conditions",
    run: psci_complete_failures,
}];

const INPUT: Result<(), RmiError> = Err(RmiError::Input);

fn psci_complete_failures(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let r = create_realm(h, &pool, c, RealmSpec::default())?;
    let rec0 = create_rec(h, &pool, c, r.rd, rec_params(0, ENTRY))?;
    let rec1 = create_rec(h, &pool, c, r.rd, rec_params(1, ENTRY))?;
    let nm = h.non_memory_addr();
    let pc = |calling: u64, target: u64| h.rmi(RmiFid::PsciComplete, &[calling, target, 0])[0];
    c.status("alias", pc(rec0, rec0), INPUT)?;
    c.status("calling_align", pc(rec0 + 8, rec1), INPUT)?;
    c.status("calling_bound", pc(nm, rec1), INPUT)?;
    c.status("calling_state (NS)", pc(pool.ns(), rec1), INPUT)?;
    c.status("calling_state (the RD)", pc(r.rd, rec1), INPUT)?;
    c.status("target_align", pc(rec0, rec1 + 8), INPUT)?;
    c.status("target_bound", pc(rec0, nm), INPUT)?;
    c.status("target_state (NS)", pc(rec0, pool.ns()), INPUT)?;
    c.status("target_state (the RD)", pc(rec0, r.rd), INPUT)?;
    c.status("pending: no request", pc(rec0, rec1), INPUT)?;
    c.status("pending: no request", pc(rec1, rec0), INPUT)?;
    teardown(h, &pool, c, &[r.rd], &[rec0, rec1])?;
    Ok(())
}
