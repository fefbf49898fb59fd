//! RMI_RTT_SET_RIPAS (DEN0137 1.0, B4.3.21): the failure conditions a host can reach
//! without running a realm. A REC that has made no RIPAS change request has
//! `ripas_addr == ripas_top == 0` (A4.3.8), so every range fails size_valid, base_bound
//! or top_bound; the conditions after those need a realm's request and are covered by
//! the hosted realm tests.

use rmi_abi::{RmiError, RmiFid};

use crate::builder::{create_realm, create_rec, rec_params, teardown, Pool, RealmSpec};
use crate::{Checks, Host, Outcome, TestDef};

/// The tests of this module.
pub const TESTS: &[TestDef] = &[TestDef {
    name: "rtt_set_ripas_failure_conditions",
    run: set_ripas_failures,
}];

/// The entry point of the RECs these tests create.
pub(super) const ENTRY: u64 = 0x8_0000;

const INPUT: Result<(), RmiError> = Err(RmiError::Input);

fn set_ripas_failures(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let r = create_realm(h, &pool, c, RealmSpec::default())?;
    let rec = create_rec(h, &pool, c, r.rd, rec_params(0, ENTRY))?;
    let other_spec = RealmSpec {
        vmid: 2,
        ..RealmSpec::default()
    };
    let other = create_realm(h, &pool, c, other_spec)?;
    let other_rec = create_rec(h, &pool, c, other.rd, rec_params(0, ENTRY))?;
    let nm = h.non_memory_addr();
    let s = |rd: u64, rec: u64, base: u64, top: u64| {
        h.rmi(RmiFid::RttSetRipas, &[rd, rec, base, top])[0]
    };
    c.status("rd_align", s(r.rd + 8, rec, 0, 0x1000), INPUT)?;
    c.status("rd_bound", s(nm, rec, 0, 0x1000), INPUT)?;
    c.status("rd_state (NS)", s(pool.ns(), rec, 0, 0x1000), INPUT)?;
    c.status("rd_state (a REC)", s(other_rec, rec, 0, 0x1000), INPUT)?;
    c.status("rec_align", s(r.rd, rec + 8, 0, 0x1000), INPUT)?;
    c.status("rec_bound", s(r.rd, nm, 0, 0x1000), INPUT)?;
    c.status("rec_gran_state (NS)", s(r.rd, pool.ns(), 0, 0x1000), INPUT)?;
    c.status("rec_gran_state (the RD)", s(r.rd, r.rd, 0, 0x1000), INPUT)?;
    c.status("rec_owner", s(other.rd, rec, 0, 0x1000), Err(RmiError::Rec))?;
    c.status(
        "rec_gran_state before rec_owner",
        s(other.rd, rec + 8, 0, 0x1000),
        INPUT,
    )?;
    c.status("size_valid: top == base", s(r.rd, rec, 0, 0), INPUT)?;
    c.status(
        "size_valid: top < base",
        s(r.rd, rec, 0x2000, 0x1000),
        INPUT,
    )?;
    c.status(
        "base_bound: no request",
        s(r.rd, rec, 0x1000, 0x2000),
        INPUT,
    )?;
    c.status("top_bound: no request", s(r.rd, rec, 0, 0x1000), INPUT)?;
    teardown(h, &pool, c, &[r.rd, other.rd], &[rec, other_rec])?;
    Ok(())
}
