//! RMI_REC_CREATE and RMI_REC_DESTROY.

use rmi_abi::{RmiError, RmiFid, RmiRecParams};
use zerocopy::{FromZeros, IntoBytes};

use crate::builder::{create_realm, destroy_realm, teardown, Pool, Realm, RealmSpec};
use crate::{Checks, Failure, Host, Outcome, TestDef};

/// The tests of this module.
pub const TESTS: &[TestDef] = &[
    TestDef {
        name: "rec_create_destroy",
        run: create_destroy,
    },
    TestDef {
        name: "rec_create_failure_conditions",
        run: create_failures,
    },
    TestDef {
        name: "rec_destroy_failure_conditions",
        run: destroy_failures,
    },
];

const INPUT: Result<(), RmiError> = Err(RmiError::Input);
const REALM: Result<(), RmiError> = Err(RmiError::Realm(0));

/// Parameters for REC number `index` with the given auxiliary granules.
fn params(index: u64, aux: &[u64], runnable: bool) -> RmiRecParams {
    let mut p = RmiRecParams::new_zeroed();
    p.flags = runnable as u64;
    p.mpidr = (index & 0xF) | ((index >> 4) & 0xFF) << 8;
    p.pc = 0x8_0000;
    p.gprs = [1, 2, 3, 4, 5, 6, 7, 8];
    p.num_aux = aux.len() as u64;
    p.aux[..aux.len()].copy_from_slice(aux);
    p
}

/// Delegated auxiliary granules, as many as RMI_REC_AUX_COUNT asks for.
fn aux_granules(
    h: &dyn Host,
    pool: &Pool<'_>,
    c: &mut Checks,
    r: &Realm,
) -> Result<([u64; 16], usize), Failure> {
    let count = h.rmi(RmiFid::RecAuxCount, &[r.rd]);
    c.status("aux count", count[0], Ok(()))?;
    let mut aux = [0u64; 16];
    for a in aux.iter_mut().take(count[1] as usize) {
        *a = pool.delegated(c)?;
    }
    Ok((aux, count[1] as usize))
}

/// Creates REC `index` (a check).
fn rec_create(
    h: &dyn Host,
    pool: &Pool<'_>,
    c: &mut Checks,
    r: &Realm,
    index: u64,
) -> Result<(u64, [u64; 16], usize), Failure> {
    let (aux, n) = aux_granules(h, pool, c, r)?;
    let rec = pool.delegated(c)?;
    let pp = pool.ns();
    c.holds(
        "write params",
        h.write_ns(pp, params(index, &aux[..n], true).as_bytes()),
    )?;
    c.status(
        "rec create",
        h.rmi(RmiFid::RecCreate, &[r.rd, rec, pp])[0],
        Ok(()),
    )?;
    Ok((rec, aux, n))
}

fn create_destroy(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let r = create_realm(h, &pool, c, RealmSpec::default())?;
    let (rec0, aux0, n) = rec_create(h, &pool, c, &r, 0)?;
    let (rec1, aux1, _) = rec_create(h, &pool, c, &r, 1)?;
    let mut b = [0u8; 8];
    c.holds("REC not host-accessible", !h.read_ns(rec0, &mut b))?;
    c.status(
        "realm_live with RECs",
        h.rmi(RmiFid::RealmDestroy, &[r.rd])[0],
        REALM,
    )?;
    c.status(
        "undelegate an aux granule in use",
        h.rmi(RmiFid::GranuleUndelegate, &[aux0[0]])[0],
        INPUT,
    )?;
    for (rec, aux) in [(rec0, aux0), (rec1, aux1)] {
        c.status("rec destroy", h.rmi(RmiFid::RecDestroy, &[rec])[0], Ok(()))?;
        c.status(
            "undelegate rec",
            h.rmi(RmiFid::GranuleUndelegate, &[rec])[0],
            Ok(()),
        )?;
        for &a in &aux[..n] {
            c.status(
                "undelegate aux",
                h.rmi(RmiFid::GranuleUndelegate, &[a])[0],
                Ok(()),
            )?;
        }
    }
    destroy_realm(h, c, &r)?;
    Ok(())
}

fn create_failures(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let r = create_realm(h, &pool, c, RealmSpec::default())?;
    let (aux, n) = aux_granules(h, &pool, c, &r)?;
    let aux = &aux[..n];
    let rec = pool.delegated(c)?;
    let pp = pool.ns();
    let create = |c: &mut Checks, what, rd: u64, rec: u64, p: &RmiRecParams, want| {
        c.holds("write params", h.write_ns(pp, p.as_bytes()))?;
        c.status(what, h.rmi(RmiFid::RecCreate, &[rd, rec, pp])[0], want)
    };
    let good = params(0, aux, true);
    c.holds("write params", h.write_ns(pp, good.as_bytes()))?;
    c.status(
        "params_align",
        h.rmi(RmiFid::RecCreate, &[r.rd, rec, pp + 8])[0],
        INPUT,
    )?;
    c.status(
        "params_bound",
        h.rmi(RmiFid::RecCreate, &[r.rd, rec, h.non_memory_addr()])[0],
        INPUT,
    )?;
    c.status(
        "params_pas",
        h.rmi(RmiFid::RecCreate, &[r.rd, rec, rec])[0],
        INPUT,
    )?;
    let mut p = good;
    p.flags = 2;
    create(c, "flags: reserved bit", r.rd, rec, &p, INPUT)?;
    create(c, "rec_align", r.rd, rec + 8, &good, INPUT)?;
    create(c, "rec_bound", r.rd, h.non_memory_addr(), &good, INPUT)?;
    create(c, "rec_state (NS)", r.rd, pool.ns(), &good, INPUT)?;
    create(c, "rec_state (the RD)", r.rd, r.rd, &good, INPUT)?;
    create(c, "rd_align", r.rd + 8, rec, &good, INPUT)?;
    create(c, "rd_state", rec, aux[0], &good, INPUT)?;
    let mut p = good;
    p.mpidr = 1;
    create(c, "mpidr_index: index 1 before 0", r.rd, rec, &p, INPUT)?;
    let mut p = good;
    p.mpidr = 1 << 4;
    create(c, "mpidr: reserved bits", r.rd, rec, &p, INPUT)?;
    let mut p = good;
    p.num_aux = n as u64 + 1;
    create(c, "num_aux", r.rd, rec, &p, INPUT)?;
    if n > 0 {
        let mut p = good;
        p.aux[0] += 8;
        create(c, "aux_align", r.rd, rec, &p, INPUT)?;
        let mut p = good;
        p.aux[0] = rec;
        create(c, "aux_alias: the REC", r.rd, rec, &p, INPUT)?;
        let mut p = good;
        p.aux[0] = pool.ns();
        create(c, "aux_state (NS)", r.rd, rec, &p, INPUT)?;
        let mut p = good;
        p.aux[0] = r.rd;
        create(c, "aux_state (the RD)", r.rd, rec, &p, INPUT)?;
    }
    if n > 1 {
        let mut p = good;
        p.aux[1] = p.aux[0];
        create(c, "aux_alias: twice the same", r.rd, rec, &p, INPUT)?;
    }
    create(c, "good", r.rd, rec, &good, Ok(()))?;
    c.status(
        "rec_state (a REC)",
        h.rmi(RmiFid::RecCreate, &[r.rd, rec, pp])[0],
        INPUT,
    )?;
    c.status("activate", h.rmi(RmiFid::RealmActivate, &[r.rd])[0], Ok(()))?;
    let (aux2, _) = aux_granules(h, &pool, c, &r)?;
    let rec2 = pool.delegated(c)?;
    create(
        c,
        "realm_state",
        r.rd,
        rec2,
        &params(1, &aux2[..n], false),
        REALM,
    )?;
    // Precedence: realm_state before mpidr_index and num_aux.
    let mut p = params(5, &aux2[..n], false);
    p.num_aux = 17;
    create(c, "realm_state before mpidr_index", r.rd, rec2, &p, REALM)?;
    teardown(h, &pool, c, &[r.rd], &[rec])?;
    Ok(())
}

fn destroy_failures(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let r = create_realm(h, &pool, c, RealmSpec::default())?;
    let (rec, _, _) = rec_create(h, &pool, c, &r, 0)?;
    let d = |pa: u64| h.rmi(RmiFid::RecDestroy, &[pa])[0];
    c.status("rec_align", d(rec + 8), INPUT)?;
    c.status("rec_bound", d(h.non_memory_addr()), INPUT)?;
    c.status("rec_gran_state (RD)", d(r.rd), INPUT)?;
    c.status("rec_gran_state (NS)", d(pool.ns()), INPUT)?;
    c.status("destroy", d(rec), Ok(()))?;
    c.status("rec_gran_state (destroyed)", d(rec), INPUT)?;
    teardown(h, &pool, c, &[r.rd], &[])?;
    Ok(())
}
