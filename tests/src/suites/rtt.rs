//! RMI commands on RTTs: RTT_CREATE, RTT_DESTROY, RTT_FOLD, RTT_READ_ENTRY,
//! RTT_MAP_UNPROTECTED, RTT_UNMAP_UNPROTECTED, RTT_INIT_RIPAS.
//!
//! The realm is 40 bits wide with two start tables at level 1: protected IPAs are
//! below 2^39, and each level-1 entry spans 1 GiB.

use rmi_abi::{RmiError, RmiFid};

use crate::builder::{create_realm, destroy_realm, teardown, Pool, Realm, RealmSpec};
use crate::{Checks, Failure, Host, Outcome, TestDef};

/// The tests of this module.
pub const TESTS: &[TestDef] = &[
    TestDef {
        name: "rtt_create_read_destroy",
        run: create_read_destroy,
    },
    TestDef {
        name: "rtt_create_failure_conditions",
        run: create_failures,
    },
    TestDef {
        name: "rtt_destroy_failure_conditions",
        run: destroy_failures,
    },
    TestDef {
        name: "rtt_read_entry_failure_conditions",
        run: read_entry_failures,
    },
    TestDef {
        name: "rtt_init_ripas",
        run: init_ripas,
    },
    TestDef {
        name: "rtt_init_ripas_failure_conditions",
        run: init_ripas_failures,
    },
    TestDef {
        name: "rtt_fold_unfold_unassigned",
        run: fold_unassigned,
    },
    TestDef {
        name: "rtt_fold_unfold_assigned_block",
        run: fold_assigned,
    },
    TestDef {
        name: "rtt_map_unmap_unprotected",
        run: map_unmap,
    },
    TestDef {
        name: "rtt_map_unprotected_failure_conditions",
        run: map_failures,
    },
    TestDef {
        name: "rtt_destroy_not_live_with_unprotected_mappings",
        run: destroy_with_ns_mappings,
    },
];

const INPUT: Result<(), RmiError> = Err(RmiError::Input);
const UNPROTECTED: u64 = 1 << 39;
const GIB: u64 = 1 << 30;
const MIB2: u64 = 1 << 21;
/// RmiRttEntryState and RmiRipas encodings.
const UNASSIGNED: u64 = 0;
const ASSIGNED: u64 = 1;
const TABLE: u64 = 2;
const EMPTY: u64 = 0;
const RAM: u64 = 1;
const DESTROYED: u64 = 2;

fn rtt_err(level: i8) -> Result<(), RmiError> {
    Err(RmiError::Rtt(level))
}

/// RTT_CREATE of a fresh delegated granule (a check).
pub fn rtt_create(
    h: &dyn Host,
    pool: &Pool<'_>,
    c: &mut Checks,
    r: &Realm,
    ipa: u64,
    level: u64,
) -> Result<u64, Failure> {
    let rtt = pool.delegated(c)?;
    c.status(
        "rtt create",
        h.rmi(RmiFid::RttCreate, &[r.rd, rtt, ipa, level])[0],
        Ok(()),
    )?;
    Ok(rtt)
}

/// Checks RTT_READ_ENTRY's outputs.
fn read(
    h: &dyn Host,
    c: &mut Checks,
    r: &Realm,
    ipa: u64,
    level: u64,
    want: [u64; 4],
) -> Result<(), Failure> {
    let e = h.rmi(RmiFid::RttReadEntry, &[r.rd, ipa, level]);
    c.status("read entry", e[0], Ok(()))?;
    c.eq("walk level", e[1], want[0])?;
    c.eq("state", e[2], want[1])?;
    c.eq("desc", e[3], want[2])?;
    c.eq("ripas", e[4], want[3])
}

fn create_read_destroy(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let r = create_realm(h, &pool, c, RealmSpec::default())?;
    read(h, c, &r, 0, 1, [1, UNASSIGNED, 0, EMPTY])?;
    read(h, c, &r, 0x3000, 3, [1, UNASSIGNED, 0, EMPTY])?;
    read(h, c, &r, UNPROTECTED, 1, [1, UNASSIGNED, 0, EMPTY])?;
    let l2 = rtt_create(h, &pool, c, &r, 0, 2)?;
    read(h, c, &r, 0, 1, [1, TABLE, l2, EMPTY])?;
    let l3 = rtt_create(h, &pool, c, &r, 0, 3)?;
    read(h, c, &r, 0, 2, [2, TABLE, l3, EMPTY])?;
    read(h, c, &r, 0x5000, 3, [3, UNASSIGNED, 0, EMPTY])?;
    // A second L2 in the other start table (IPA 512 GiB - 1 GiB).
    let top_l1 = UNPROTECTED - GIB;
    let l2b = rtt_create(h, &pool, c, &r, top_l1, 2)?;
    read(h, c, &r, top_l1 + 0x1000, 3, [2, UNASSIGNED, 0, EMPTY])?;

    let d = h.rmi(RmiFid::RttDestroy, &[r.rd, 0, 3]);
    c.status("destroy L3", d[0], Ok(()))?;
    c.eq("destroyed L3", d[1], l3)?;
    c.eq("top: end of the L2 table", d[2], GIB)?;
    read(h, c, &r, 0, 2, [2, UNASSIGNED, 0, DESTROYED])?;
    let d = h.rmi(RmiFid::RttDestroy, &[r.rd, 0, 2]);
    c.status("destroy L2", d[0], Ok(()))?;
    c.eq("destroyed L2", d[1], l2)?;
    c.eq("top: the next live entry", d[2], top_l1)?;
    read(h, c, &r, 0, 1, [1, UNASSIGNED, 0, DESTROYED])?;
    let d = h.rmi(RmiFid::RttDestroy, &[r.rd, top_l1, 2]);
    c.status("destroy second L2", d[0], Ok(()))?;
    c.eq("top: end of the start table", d[2], UNPROTECTED)?;
    for pa in [l3, l2, l2b] {
        c.status(
            "undelegate",
            h.rmi(RmiFid::GranuleUndelegate, &[pa])[0],
            Ok(()),
        )?;
    }
    destroy_realm(h, c, &r)?;
    Ok(())
}

fn create_failures(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let r = create_realm(h, &pool, c, RealmSpec::default())?;
    let rtt = pool.delegated(c)?;
    let cr = |rd: u64, rtt: u64, ipa: u64, level: u64| {
        h.rmi(RmiFid::RttCreate, &[rd, rtt, ipa, level])[0]
    };
    c.status("rd_align", cr(r.rd + 8, rtt, 0, 2), INPUT)?;
    c.status("rd_bound", cr(h.non_memory_addr(), rtt, 0, 2), INPUT)?;
    c.status("rd_state", cr(rtt, rtt, 0, 2), INPUT)?;
    c.status("level_bound: start level", cr(r.rd, rtt, 0, 1), INPUT)?;
    c.status("level_bound: 4", cr(r.rd, rtt, 0, 4), INPUT)?;
    c.status("level_bound: 0", cr(r.rd, rtt, 0, 0), INPUT)?;
    c.status("level_bound: -1", cr(r.rd, rtt, 0, u64::MAX), INPUT)?;
    c.status("ipa_align", cr(r.rd, rtt, MIB2, 2), INPUT)?;
    c.status("ipa_bound", cr(r.rd, rtt, 1 << 40, 2), INPUT)?;
    c.status("rtt_align", cr(r.rd, rtt + 8, 0, 2), INPUT)?;
    c.status("rtt_bound", cr(r.rd, h.non_memory_addr(), 0, 2), INPUT)?;
    c.status("rtt_state (NS)", cr(r.rd, pool.ns(), 0, 2), INPUT)?;
    c.status("rtt_state (the RD)", cr(r.rd, r.rd, 0, 2), INPUT)?;
    c.status("rtt_walk", cr(r.rd, rtt, 0, 3), rtt_err(1))?;
    // Precedence: ipa_align before rtt_walk.
    c.status("ipa_align before rtt_walk", cr(r.rd, rtt, 0x1000, 3), INPUT)?;
    let l2 = rtt_create(h, &pool, c, &r, 0, 2)?;
    c.status(
        "rtte_state (already a table)",
        cr(r.rd, rtt, 0, 2),
        rtt_err(1),
    )?;
    let l3 = rtt_create(h, &pool, c, &r, 0, 3)?;
    c.status("rtte_state at level 2", cr(r.rd, rtt, 0, 3), rtt_err(2))?;
    c.status(
        "unused rtt still delegated",
        h.rmi(RmiFid::GranuleUndelegate, &[rtt])[0],
        Ok(()),
    )?;
    c.status(
        "destroy",
        h.rmi(RmiFid::RttDestroy, &[r.rd, 0, 3])[0],
        Ok(()),
    )?;
    c.status(
        "destroy",
        h.rmi(RmiFid::RttDestroy, &[r.rd, 0, 2])[0],
        Ok(()),
    )?;
    let _ = (l2, l3);
    teardown(h, &pool, c, &[r.rd], &[])?;
    Ok(())
}

fn destroy_failures(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let r = create_realm(h, &pool, c, RealmSpec::default())?;
    let ds = |rd: u64, ipa: u64, level: u64| h.rmi(RmiFid::RttDestroy, &[rd, ipa, level]);
    c.status("rd_align", ds(r.rd + 8, 0, 2)[0], INPUT)?;
    c.status("rd_bound", ds(h.non_memory_addr(), 0, 2)[0], INPUT)?;
    c.status("rd_state", ds(r.rtt_base, 0, 2)[0], INPUT)?;
    c.status("level_bound: start level", ds(r.rd, 0, 1)[0], INPUT)?;
    c.status("level_bound: 4", ds(r.rd, 0, 4)[0], INPUT)?;
    c.status("ipa_align", ds(r.rd, 0x1000, 3)[0], INPUT)?;
    c.status("ipa_bound", ds(r.rd, 1 << 40, 2)[0], INPUT)?;
    let d = ds(r.rd, 0, 3);
    c.status("rtt_walk", d[0], rtt_err(1))?;
    c.eq("rtt_walk top", d[2], UNPROTECTED)?;
    let d = ds(r.rd, 0, 2);
    c.status("rtte_state", d[0], rtt_err(1))?;
    c.eq("rtte_state top", d[2], UNPROTECTED)?;
    let l2 = rtt_create(h, &pool, c, &r, 0, 2)?;
    let _l3 = rtt_create(h, &pool, c, &r, 0, 3)?;
    let d = ds(r.rd, 0, 2);
    c.status("rtt_live", d[0], rtt_err(2))?;
    c.eq("rtt_live top", d[2], 0)?;
    let d = ds(r.rd, GIB, 2);
    c.status("rtte_state with a live entry before", d[0], rtt_err(1))?;
    c.eq("top: nothing live after", d[2], UNPROTECTED)?;
    c.status("destroy L3", ds(r.rd, 0, 3)[0], Ok(()))?;
    let d = ds(r.rd, 0, 2);
    c.status("destroy L2", d[0], Ok(()))?;
    c.eq("destroyed", d[1], l2)?;
    teardown(h, &pool, c, &[r.rd], &[])?;
    Ok(())
}

fn read_entry_failures(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let r = create_realm(h, &pool, c, RealmSpec::default())?;
    let rd = |rd: u64, ipa: u64, level: u64| h.rmi(RmiFid::RttReadEntry, &[rd, ipa, level])[0];
    c.status("rd_align", rd(r.rd + 8, 0, 3), INPUT)?;
    c.status("rd_bound", rd(h.non_memory_addr(), 0, 3), INPUT)?;
    c.status("rd_state", rd(pool.ns(), 0, 3), INPUT)?;
    c.status("level_bound: below start", rd(r.rd, 0, 0), INPUT)?;
    c.status("level_bound: 4", rd(r.rd, 0, 4), INPUT)?;
    c.status("ipa_align", rd(r.rd, 0x1000, 2), INPUT)?;
    c.status("ipa_bound", rd(r.rd, 1 << 40, 1), INPUT)?;
    c.status("start level is readable", rd(r.rd, GIB, 1), Ok(()))?;
    teardown(h, &pool, c, &[r.rd], &[])?;
    Ok(())
}

fn init_ripas(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let r = create_realm(h, &pool, c, RealmSpec::default())?;
    // At level 1 without tables below: whole 1 GiB entries.
    let x = h.rmi(RmiFid::RttInitRipas, &[r.rd, GIB, 3 * GIB]);
    c.status("init ripas, level 1", x[0], Ok(()))?;
    c.eq("top", x[1], 3 * GIB)?;
    read(h, c, &r, GIB, 1, [1, UNASSIGNED, 0, RAM])?;
    read(h, c, &r, 2 * GIB, 1, [1, UNASSIGNED, 0, RAM])?;
    read(h, c, &r, 3 * GIB, 1, [1, UNASSIGNED, 0, EMPTY])?;
    // Down to pages: stops at the top given.
    rtt_create(h, &pool, c, &r, 0, 2)?;
    rtt_create(h, &pool, c, &r, 0, 3)?;
    let x = h.rmi(RmiFid::RttInitRipas, &[r.rd, 0x1000, 0x3000]);
    c.status("init ripas, pages", x[0], Ok(()))?;
    c.eq("top", x[1], 0x3000)?;
    read(h, c, &r, 0, 3, [3, UNASSIGNED, 0, EMPTY])?;
    read(h, c, &r, 0x1000, 3, [3, UNASSIGNED, 0, RAM])?;
    read(h, c, &r, 0x2000, 3, [3, UNASSIGNED, 0, RAM])?;
    read(h, c, &r, 0x3000, 3, [3, UNASSIGNED, 0, EMPTY])?;
    // Already RAM is accepted; the range is capped at the end of the L3 table.
    let x = h.rmi(RmiFid::RttInitRipas, &[r.rd, 0x2000, GIB]);
    c.status("init ripas to the end of the table", x[0], Ok(()))?;
    c.eq("top: end of the L3 table", x[1], MIB2)?;
    // From level 2, the walk stops before the L3 table at 0.
    let x = h.rmi(RmiFid::RttInitRipas, &[r.rd, MIB2, 3 * MIB2]);
    c.status("init ripas, level 2", x[0], Ok(()))?;
    c.eq("top", x[1], 3 * MIB2)?;
    read(h, c, &r, MIB2, 2, [2, UNASSIGNED, 0, RAM])?;
    teardown(h, &pool, c, &[r.rd], &[])?;
    Ok(())
}

fn init_ripas_failures(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let r = create_realm(h, &pool, c, RealmSpec::default())?;
    let ir = |rd: u64, base: u64, top: u64| h.rmi(RmiFid::RttInitRipas, &[rd, base, top])[0];
    c.status("rd_align", ir(r.rd + 8, 0, 0x1000), INPUT)?;
    c.status("rd_bound", ir(h.non_memory_addr(), 0, 0x1000), INPUT)?;
    c.status("rd_state", ir(pool.ns(), 0, 0x1000), INPUT)?;
    c.status("size_valid: top == base", ir(r.rd, 0x1000, 0x1000), INPUT)?;
    c.status("size_valid: top < base", ir(r.rd, 0x2000, 0x1000), INPUT)?;
    c.status(
        "top_bound: unprotected",
        ir(r.rd, 0, UNPROTECTED + 0x1000),
        INPUT,
    )?;
    rtt_create(h, &pool, c, &r, 0, 2)?;
    c.status(
        "base_align at level 2",
        ir(r.rd, 0x1000, 0x2000),
        rtt_err(2),
    )?;
    c.status(
        "no_progress: less than an L2 entry",
        ir(r.rd, 0, 0x1000),
        rtt_err(2),
    )?;
    rtt_create(h, &pool, c, &r, 0, 3)?;
    c.status("top_gran_align", ir(r.rd, 0, 0x1800), INPUT)?;
    let data = pool.delegated(c)?;
    c.status(
        "data create unknown",
        h.rmi(RmiFid::DataCreateUnknown, &[r.rd, data, 0x4000])[0],
        Ok(()),
    )?;
    c.status("rtte_state: assigned", ir(r.rd, 0x4000, 0x5000), rtt_err(3))?;
    c.status("activate", h.rmi(RmiFid::RealmActivate, &[r.rd])[0], Ok(()))?;
    // Precedence: size_valid and top_bound before realm_state.
    c.status(
        "size_valid before realm_state",
        ir(r.rd, 0x1000, 0x1000),
        INPUT,
    )?;
    c.status("realm_state", ir(r.rd, 0, 0x1000), Err(RmiError::Realm(0)))?;
    teardown(h, &pool, c, &[r.rd], &[])?;
    Ok(())
}

fn fold_unassigned(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let r = create_realm(h, &pool, c, RealmSpec::default())?;
    rtt_create(h, &pool, c, &r, 0, 2)?;
    let l3 = rtt_create(h, &pool, c, &r, 0, 3)?;
    c.status(
        "init ripas",
        h.rmi(RmiFid::RttInitRipas, &[r.rd, 0, 0x1000])[0],
        Ok(()),
    )?;
    let f = h.rmi(RmiFid::RttFold, &[r.rd, 0, 3]);
    c.status("rtt_homo: one RAM, the rest EMPTY", f[0], rtt_err(3))?;
    c.status(
        "init ripas",
        h.rmi(RmiFid::RttInitRipas, &[r.rd, 0x1000, MIB2])[0],
        Ok(()),
    )?;
    let f = h.rmi(RmiFid::RttFold, &[r.rd, 0, 3]);
    c.status("fold", f[0], Ok(()))?;
    c.eq("folded rtt", f[1], l3)?;
    read(h, c, &r, 0, 2, [2, UNASSIGNED, 0, RAM])?;
    c.status(
        "rtt_walk: no table any more",
        h.rmi(RmiFid::RttFold, &[r.rd, 0, 3])[0],
        rtt_err(2),
    )?;
    c.status(
        "the folded RTT is delegated",
        h.rmi(RmiFid::GranuleUndelegate, &[l3])[0],
        Ok(()),
    )?;
    // Unfold: the new table inherits RAM.
    rtt_create(h, &pool, c, &r, 0, 3)?;
    read(h, c, &r, 0x1F_F000, 3, [3, UNASSIGNED, 0, RAM])?;
    c.status(
        "level_bound",
        h.rmi(RmiFid::RttFold, &[r.rd, 0, 1])[0],
        INPUT,
    )?;
    c.status(
        "ipa_align",
        h.rmi(RmiFid::RttFold, &[r.rd, 0x1000, 3])[0],
        INPUT,
    )?;
    teardown(h, &pool, c, &[r.rd], &[])?;
    Ok(())
}

fn fold_assigned(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let r = create_realm(h, &pool, c, RealmSpec::default())?;
    rtt_create(h, &pool, c, &r, 0, 2)?;
    let l3 = rtt_create(h, &pool, c, &r, MIB2, 3)?;
    // 512 contiguous DATA granules, 2 MiB aligned, mapped at [2 MiB, 4 MiB).
    let base = pool.ns_contiguous(512, MIB2);
    for i in 0..512 {
        pool.delegate(c, base + i * 0x1000)?;
        let x = h.rmi(
            RmiFid::DataCreateUnknown,
            &[r.rd, base + i * 0x1000, MIB2 + i * 0x1000],
        );
        c.status("data create unknown", x[0], Ok(()))?;
    }
    let f = h.rmi(RmiFid::RttFold, &[r.rd, MIB2, 3]);
    c.status("fold assigned", f[0], Ok(()))?;
    c.eq("folded rtt", f[1], l3)?;
    read(h, c, &r, MIB2, 2, [2, ASSIGNED, base, EMPTY])?;
    c.status(
        "rtt_live after fold",
        h.rmi(RmiFid::RttDestroy, &[r.rd, 0, 2])[0],
        rtt_err(2),
    )?;
    // Unfold into pages again, then destroy the data.
    let l3b = rtt_create(h, &pool, c, &r, MIB2, 3)?;
    read(
        h,
        c,
        &r,
        MIB2 + 0x7000,
        3,
        [3, ASSIGNED, base + 0x7000, EMPTY],
    )?;
    for i in 0..512 {
        let d = h.rmi(RmiFid::DataDestroy, &[r.rd, MIB2 + i * 0x1000]);
        c.status("data destroy", d[0], Ok(()))?;
        c.eq("data", d[1], base + i * 0x1000)?;
        let want_top = if i == 511 {
            2 * MIB2
        } else {
            MIB2 + (i + 1) * 0x1000
        };
        c.eq("top", d[2], want_top)?;
    }
    read(h, c, &r, MIB2, 3, [3, UNASSIGNED, 0, EMPTY])?;
    let d = h.rmi(RmiFid::RttDestroy, &[r.rd, MIB2, 3]);
    c.status("destroy L3", d[0], Ok(()))?;
    c.eq("destroyed", d[1], l3b)?;
    teardown(h, &pool, c, &[r.rd], &[])?;
    Ok(())
}

fn map_unmap(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let r = create_realm(h, &pool, c, RealmSpec::default())?;
    let ipa = UNPROTECTED;
    rtt_create(h, &pool, c, &r, ipa, 2)?;
    read(h, c, &r, ipa, 2, [2, UNASSIGNED, 0, EMPTY])?;
    rtt_create(h, &pool, c, &r, ipa, 3)?;
    let ns = pool.ns();
    let desc = ns | 0b110 << 2 | 0b11 << 6;
    c.status(
        "map",
        h.rmi(RmiFid::RttMapUnprotected, &[r.rd, ipa + 0x3000, 3, desc])[0],
        Ok(()),
    )?;
    read(h, c, &r, ipa + 0x3000, 3, [3, ASSIGNED, desc, EMPTY])?;
    c.status(
        "map again: rtte_state",
        h.rmi(RmiFid::RttMapUnprotected, &[r.rd, ipa + 0x3000, 3, desc])[0],
        rtt_err(3),
    )?;
    let u = h.rmi(RmiFid::RttUnmapUnprotected, &[r.rd, ipa, 3]);
    c.status("unmap an unassigned entry: rtte_state", u[0], rtt_err(3))?;
    c.eq("top: the mapped entry", u[1], ipa + 0x3000)?;
    // An unprotected table with a mapping is not live: it can be destroyed.
    let u = h.rmi(RmiFid::RttUnmapUnprotected, &[r.rd, ipa + 0x3000, 3]);
    c.status("unmap", u[0], Ok(()))?;
    c.eq("top: end of the table", u[1], ipa + MIB2)?;
    read(h, c, &r, ipa + 0x3000, 3, [3, UNASSIGNED, 0, EMPTY])?;
    c.status(
        "map",
        h.rmi(RmiFid::RttMapUnprotected, &[r.rd, ipa, 3, desc])[0],
        Ok(()),
    )?;
    c.status(
        "destroy a table holding NS mappings",
        h.rmi(RmiFid::RttDestroy, &[r.rd, ipa, 3])[0],
        Ok(()),
    )?;
    read(h, c, &r, ipa, 2, [2, UNASSIGNED, 0, EMPTY])?;
    // A 2 MiB block mapping.
    let block = pool.ns_contiguous(512, MIB2);
    let bdesc = block | 0b101 << 2 | 0b01 << 6;
    c.status(
        "map block",
        h.rmi(RmiFid::RttMapUnprotected, &[r.rd, ipa + MIB2, 2, bdesc])[0],
        Ok(()),
    )?;
    read(h, c, &r, ipa + MIB2, 2, [2, ASSIGNED, bdesc, EMPTY])?;
    let u = h.rmi(RmiFid::RttUnmapUnprotected, &[r.rd, ipa + MIB2, 2]);
    c.status("unmap block", u[0], Ok(()))?;
    c.eq("top", u[1], ipa + GIB)?;
    teardown(h, &pool, c, &[r.rd], &[])?;
    Ok(())
}

fn map_failures(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let r = create_realm(h, &pool, c, RealmSpec::default())?;
    let ipa = UNPROTECTED;
    let ns = pool.ns();
    let desc = ns | 0b110 << 2 | 0b11 << 6;
    let map = |rd: u64, ipa: u64, level: u64, desc: u64| {
        h.rmi(RmiFid::RttMapUnprotected, &[rd, ipa, level, desc])[0]
    };
    c.status("attr_valid: valid bit", map(r.rd, ipa, 3, desc | 1), INPUT)?;
    c.status(
        "attr_valid: MemAttr 0b100",
        map(r.rd, ipa, 3, ns | 0b100 << 2),
        INPUT,
    )?;
    c.status("attr_valid: AF", map(r.rd, ipa, 3, desc | 1 << 10), INPUT)?;
    c.status(
        "attr_valid before rd_align",
        map(r.rd + 8, ipa, 3, desc | 1),
        INPUT,
    )?;
    c.status("rd_align", map(r.rd + 8, ipa, 3, desc), INPUT)?;
    c.status("rd_state", map(ns, ipa, 3, desc), INPUT)?;
    c.status("addr_align: 1 GiB block", map(r.rd, ipa, 1, desc), INPUT)?;
    let gdesc = GIB | 0b110 << 2 | 0b11 << 6;
    c.status(
        "1 GiB block at the start level",
        map(r.rd, ipa + GIB, 1, gdesc),
        Ok(()),
    )?;
    read(h, c, &r, ipa + GIB, 1, [1, ASSIGNED, gdesc, EMPTY])?;
    let u = h.rmi(RmiFid::RttUnmapUnprotected, &[r.rd, ipa + GIB, 1]);
    c.status("unmap 1 GiB block", u[0], Ok(()))?;
    c.eq("top: end of the second start table", u[1], 1 << 40)?;
    c.status("level_bound: 0", map(r.rd, ipa, 0, desc), INPUT)?;
    c.status("addr_align: 2 MiB block", map(r.rd, ipa, 2, desc), INPUT)?;
    c.status("ipa_align", map(r.rd, ipa + 0x800, 3, desc), INPUT)?;
    c.status("ipa_bound: protected", map(r.rd, 0x1000, 3, desc), INPUT)?;
    c.status(
        "ipa_bound: beyond the IPA space",
        map(r.rd, 1 << 40, 3, desc),
        INPUT,
    )?;
    c.status("rtt_walk", map(r.rd, ipa, 3, desc), rtt_err(1))?;
    let u = h.rmi(RmiFid::RttUnmapUnprotected, &[r.rd, ipa, 3]);
    c.status("unmap rtt_walk", u[0], rtt_err(1))?;
    c.eq("unmap top", u[1], ipa + (1 << 39))?;
    c.status(
        "unmap ipa_bound: protected",
        h.rmi(RmiFid::RttUnmapUnprotected, &[r.rd, 0, 3])[0],
        INPUT,
    )?;
    c.status(
        "unmap level_bound",
        h.rmi(RmiFid::RttUnmapUnprotected, &[r.rd, ipa, 0])[0],
        INPUT,
    )?;
    teardown(h, &pool, c, &[r.rd], &[])?;
    Ok(())
}

/// DEN0137 1.0, A5.5.8: an ASSIGNED_NS entry is a live entry, but it does not make its
/// RTT live (only ASSIGNED and TABLE do). RTTs holding only unprotected mappings, pages
/// (level 3) or a 2 MiB block (level 2), are destroyed without unmapping them
/// (B4.3.16: rtt_live does not hold), and `top` stops at the next live entry, an
/// ASSIGNED_NS block (`RttSkipNonLiveEntries`).
fn destroy_with_ns_mappings(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let r = create_realm(h, &pool, c, RealmSpec::default())?;
    let ipa = UNPROTECTED;
    let l2 = rtt_create(h, &pool, c, &r, ipa, 2)?;
    let l3 = rtt_create(h, &pool, c, &r, ipa, 3)?;
    let ns = pool.ns();
    let desc = ns | 0b110 << 2 | 0b11 << 6;
    for page in [0u64, 0x1000, MIB2 - 0x1000] {
        c.status(
            "map page",
            h.rmi(RmiFid::RttMapUnprotected, &[r.rd, ipa + page, 3, desc])[0],
            Ok(()),
        )?;
    }
    let block = pool.ns_contiguous(512, MIB2);
    let bdesc = block | 0b110 << 2 | 0b11 << 6;
    c.status(
        "map block",
        h.rmi(RmiFid::RttMapUnprotected, &[r.rd, ipa + MIB2, 2, bdesc])[0],
        Ok(()),
    )?;
    let d = h.rmi(RmiFid::RttDestroy, &[r.rd, ipa, 3]);
    c.status("destroy L3 holding ASSIGNED_NS pages", d[0], Ok(()))?;
    c.eq("destroyed L3", d[1], l3)?;
    c.eq("top: the ASSIGNED_NS block", d[2], ipa + MIB2)?;
    read(h, c, &r, ipa, 3, [2, UNASSIGNED, 0, EMPTY])?;
    read(h, c, &r, ipa + MIB2, 2, [2, ASSIGNED, bdesc, EMPTY])?;
    let d = h.rmi(RmiFid::RttDestroy, &[r.rd, ipa, 2]);
    c.status("destroy L2 holding an ASSIGNED_NS block", d[0], Ok(()))?;
    c.eq("destroyed L2", d[1], l2)?;
    c.eq("top: end of the start table", d[2], 2 * UNPROTECTED)?;
    read(h, c, &r, ipa + MIB2, 2, [1, UNASSIGNED, 0, EMPTY])?;
    for pa in [l3, l2] {
        c.status(
            "undelegate",
            h.rmi(RmiFid::GranuleUndelegate, &[pa])[0],
            Ok(()),
        )?;
    }
    destroy_realm(h, c, &r)?;
    Ok(())
}
