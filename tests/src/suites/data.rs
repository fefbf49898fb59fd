//! RMI_DATA_CREATE, RMI_DATA_CREATE_UNKNOWN and RMI_DATA_DESTROY.

use rmi_abi::{RmiError, RmiFid};

use crate::builder::{create_realm, teardown, Pool, Realm, RealmSpec};
use crate::suites::rtt::rtt_create;
use crate::{Checks, Failure, Host, Outcome, TestDef};

/// The tests of this module.
pub const TESTS: &[TestDef] = &[
    TestDef {
        name: "data_create_destroy",
        run: create_destroy,
    },
    TestDef {
        name: "data_create_failure_conditions",
        run: create_failures,
    },
    TestDef {
        name: "data_create_unknown_failure_conditions",
        run: unknown_failures,
    },
    TestDef {
        name: "data_destroy_failure_conditions",
        run: destroy_failures,
    },
];

const INPUT: Result<(), RmiError> = Err(RmiError::Input);
const UNPROTECTED: u64 = 1 << 39;

fn rtt_err(level: i8) -> Result<(), RmiError> {
    Err(RmiError::Rtt(level))
}

/// A realm with L2 and L3 tables covering IPA [0, 2 MiB).
fn realm_with_l3(h: &dyn Host, pool: &Pool<'_>, c: &mut Checks) -> Result<Realm, Failure> {
    let r = create_realm(h, pool, c, RealmSpec::default())?;
    rtt_create(h, pool, c, &r, 0, 2)?;
    rtt_create(h, pool, c, &r, 0, 3)?;
    Ok(r)
}

fn entry(h: &dyn Host, r: &Realm, ipa: u64) -> [u64; 5] {
    h.rmi(RmiFid::RttReadEntry, &[r.rd, ipa, 3])
}

fn create_destroy(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let r = realm_with_l3(h, &pool, c)?;
    let src = pool.ns();
    c.holds("write source", h.write_ns(src, &[0xAB; 4096]))?;
    let d1 = pool.delegated(c)?;
    let d2 = pool.delegated(c)?;
    let d3 = pool.delegated(c)?;
    c.status(
        "measured",
        h.rmi(RmiFid::DataCreate, &[r.rd, d1, 0x1000, src, 1])[0],
        Ok(()),
    )?;
    c.status(
        "not measured",
        h.rmi(RmiFid::DataCreate, &[r.rd, d2, 0x2000, src, 0])[0],
        Ok(()),
    )?;
    c.status(
        "unknown",
        h.rmi(RmiFid::DataCreateUnknown, &[r.rd, d3, 0x3000])[0],
        Ok(()),
    )?;
    let e = entry(h, &r, 0x1000);
    c.eq("state", e[2], 1)?;
    c.eq("address", e[3], d1)?;
    c.eq("RIPAS RAM", e[4], 1)?;
    let e = entry(h, &r, 0x3000);
    c.eq("unknown: state", e[2], 1)?;
    c.eq("unknown: address", e[3], d3)?;
    c.eq("unknown: RIPAS kept (EMPTY)", e[4], 0)?;
    let mut b = [0u8; 16];
    c.holds("DATA is not host-accessible", !h.read_ns(d1, &mut b))?;
    // DATA_CREATE_UNKNOWN needs no NEW realm.
    c.status("activate", h.rmi(RmiFid::RealmActivate, &[r.rd])[0], Ok(()))?;
    let d4 = pool.delegated(c)?;
    c.status(
        "unknown in an active realm",
        h.rmi(RmiFid::DataCreateUnknown, &[r.rd, d4, 0x5000])[0],
        Ok(()),
    )?;
    let x = h.rmi(RmiFid::DataDestroy, &[r.rd, 0x1000]);
    c.status("destroy", x[0], Ok(()))?;
    c.eq("data", x[1], d1)?;
    c.eq("top: next live entry", x[2], 0x2000)?;
    let e = entry(h, &r, 0x1000);
    c.eq("state", e[2], 0)?;
    c.eq("RIPAS RAM became DESTROYED", e[4], 2)?;
    let x = h.rmi(RmiFid::DataDestroy, &[r.rd, 0x3000]);
    c.eq("top", x[2], 0x5000)?;
    c.eq("RIPAS EMPTY stays EMPTY", entry(h, &r, 0x3000)[4], 0)?;
    c.status(
        "destroy",
        h.rmi(RmiFid::DataDestroy, &[r.rd, 0x2000])[0],
        Ok(()),
    )?;
    let x = h.rmi(RmiFid::DataDestroy, &[r.rd, 0x5000]);
    c.eq("top: end of the table", x[2], 0x20_0000)?;
    c.status(
        "undelegate",
        h.rmi(RmiFid::GranuleUndelegate, &[d1])[0],
        Ok(()),
    )?;
    c.holds("scrubbed", h.read_ns(d1, &mut b) && b == [0; 16])?;
    teardown(h, &pool, c, &[r.rd], &[])?;
    Ok(())
}

fn create_failures(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let r = realm_with_l3(h, &pool, c)?;
    let src = pool.ns();
    c.holds("write source", h.write_ns(src, &[0x5A; 4096]))?;
    let data = pool.delegated(c)?;
    let dc = |rd: u64, data: u64, ipa: u64, src: u64, flags: u64| {
        h.rmi(RmiFid::DataCreate, &[rd, data, ipa, src, flags])[0]
    };
    c.status(
        "flags: reserved value",
        dc(r.rd, data, 0x1000, src, 2),
        INPUT,
    )?;
    c.status("src_align", dc(r.rd, data, 0x1000, src + 8, 0), INPUT)?;
    c.status(
        "src_bound",
        dc(r.rd, data, 0x1000, h.non_memory_addr(), 0),
        INPUT,
    )?;
    c.status("src_pas", dc(r.rd, data, 0x1000, data, 0), INPUT)?;
    c.status("data_align", dc(r.rd, data + 8, 0x1000, src, 0), INPUT)?;
    c.status(
        "data_bound",
        dc(r.rd, h.non_memory_addr(), 0x1000, src, 0),
        INPUT,
    )?;
    c.status(
        "data_state (NS)",
        dc(r.rd, pool.ns(), 0x1000, src, 0),
        INPUT,
    )?;
    c.status("data_state (the RD)", dc(r.rd, r.rd, 0x1000, src, 0), INPUT)?;
    c.status("rd_align", dc(r.rd + 8, data, 0x1000, src, 0), INPUT)?;
    c.status("rd_state", dc(data, data, 0x1000, src, 0), INPUT)?;
    c.status("ipa_align", dc(r.rd, data, 0x1800, src, 0), INPUT)?;
    c.status(
        "ipa_bound: unprotected",
        dc(r.rd, data, UNPROTECTED, src, 0),
        INPUT,
    )?;
    c.status("rtt_walk", dc(r.rd, data, 0x20_0000, src, 0), rtt_err(2))?;
    c.status(
        "rtt_walk at level 1",
        dc(r.rd, data, 0x4000_0000, src, 0),
        rtt_err(1),
    )?;
    // Precedence: src_pas (ERROR_INPUT) before rtt_walk.
    c.status(
        "src_pas before rtt_walk",
        dc(r.rd, data, 0x20_0000, r.rd, 1),
        INPUT,
    )?;
    c.status("create", dc(r.rd, data, 0x1000, src, 0), Ok(()))?;
    let data2 = pool.delegated(c)?;
    c.status("rtte_state", dc(r.rd, data2, 0x1000, src, 0), rtt_err(3))?;
    c.status(
        "src_pas before rtte_state",
        dc(r.rd, data2, 0x1000, r.rd, 1),
        INPUT,
    )?;
    c.status("activate", h.rmi(RmiFid::RealmActivate, &[r.rd])[0], Ok(()))?;
    c.status(
        "realm_state",
        dc(r.rd, data2, 0x2000, src, 0),
        Err(RmiError::Realm(0)),
    )?;
    // Precedence: ipa_bound before realm_state, realm_state before rtt_walk.
    c.status(
        "ipa_bound before realm_state",
        dc(r.rd, data2, UNPROTECTED, src, 0),
        INPUT,
    )?;
    c.status(
        "realm_state before rtt_walk",
        dc(r.rd, data2, 0x4000_0000, src, 1),
        Err(RmiError::Realm(0)),
    )?;
    c.status(
        "src_pas before realm_state",
        dc(r.rd, data2, 0x2000, r.rd, 1),
        INPUT,
    )?;
    // None of the failed commands changed the DATA granule (it was zero when
    // delegated), though the source was readable in the later ones: the host sees
    // zeros once it is back.
    c.status(
        "undelegate",
        h.rmi(RmiFid::GranuleUndelegate, &[data2])[0],
        Ok(()),
    )?;
    for off in (0..4096).step_by(256) {
        let mut b = [0xFFu8; 256];
        c.holds("read DATA", h.read_ns(data2 + off, &mut b))?;
        c.holds("failed commands left DATA zero", b == [0; 256])?;
    }
    teardown(h, &pool, c, &[r.rd], &[])?;
    Ok(())
}

fn unknown_failures(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let r = realm_with_l3(h, &pool, c)?;
    let data = pool.delegated(c)?;
    let du = |rd: u64, data: u64, ipa: u64| h.rmi(RmiFid::DataCreateUnknown, &[rd, data, ipa])[0];
    c.status("data_align", du(r.rd, data + 8, 0x1000), INPUT)?;
    c.status("data_bound", du(r.rd, h.non_memory_addr(), 0x1000), INPUT)?;
    c.status("data_state", du(r.rd, pool.ns(), 0x1000), INPUT)?;
    c.status("rd_align", du(r.rd + 8, data, 0x1000), INPUT)?;
    c.status("rd_state", du(data, data, 0x1000), INPUT)?;
    c.status("ipa_align", du(r.rd, data, 0x10), INPUT)?;
    c.status("ipa_bound", du(r.rd, data, UNPROTECTED + 0x1000), INPUT)?;
    c.status("rtt_walk", du(r.rd, data, 0x20_0000), rtt_err(2))?;
    c.status("create", du(r.rd, data, 0), Ok(()))?;
    let data2 = pool.delegated(c)?;
    c.status("rtte_state", du(r.rd, data2, 0), rtt_err(3))?;
    teardown(h, &pool, c, &[r.rd], &[])?;
    Ok(())
}

fn destroy_failures(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let r = realm_with_l3(h, &pool, c)?;
    let dd = |rd: u64, ipa: u64| h.rmi(RmiFid::DataDestroy, &[rd, ipa]);
    c.status("rd_align", dd(r.rd + 8, 0)[0], INPUT)?;
    c.status("rd_state", dd(pool.ns(), 0)[0], INPUT)?;
    c.status("ipa_align", dd(r.rd, 0x100)[0], INPUT)?;
    c.status("ipa_bound", dd(r.rd, UNPROTECTED)[0], INPUT)?;
    let x = dd(r.rd, 0x20_0000);
    c.status("rtt_walk", x[0], rtt_err(2))?;
    c.eq("rtt_walk top", x[2], 0x4000_0000)?;
    let data = pool.delegated(c)?;
    c.status(
        "create",
        h.rmi(RmiFid::DataCreateUnknown, &[r.rd, data, 0x9000])[0],
        Ok(()),
    )?;
    let x = dd(r.rd, 0x1000);
    c.status("rtte_state", x[0], rtt_err(3))?;
    c.eq("rtte_state top: the next live entry", x[2], 0x9000)?;
    c.status(
        "rtt_live",
        h.rmi(RmiFid::RttDestroy, &[r.rd, 0, 3])[0],
        rtt_err(3),
    )?;
    teardown(h, &pool, c, &[r.rd], &[])?;
    Ok(())
}
