//! RMI_REALM_CREATE, RMI_REALM_ACTIVATE, RMI_REALM_DESTROY, RMI_REC_AUX_COUNT.

use rmi_abi::features::FeatureReg0;
use rmi_abi::{RmiError, RmiFid};

use crate::builder::{create_realm, destroy_realm, teardown, write_params, Pool, RealmSpec};
use crate::{Checks, Host, Outcome, TestDef};

/// The tests of this module.
pub const TESTS: &[TestDef] = &[
    TestDef {
        name: "realm_lifecycle",
        run: lifecycle,
    },
    TestDef {
        name: "realm_create_failure_conditions",
        run: create_failures,
    },
    TestDef {
        name: "realm_create_start_level_configurations",
        run: start_levels,
    },
    TestDef {
        name: "realm_activate_destroy_failure_conditions",
        run: activate_destroy_failures,
    },
    TestDef {
        name: "realm_destroy_not_live_with_unprotected_mappings",
        run: destroy_with_ns_mappings,
    },
];

const INPUT: Result<(), RmiError> = Err(RmiError::Input);

/// Create, count aux granules, activate, destroy, undelegate.
fn lifecycle(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    for hash_algo in [0u8, 1] {
        let spec = RealmSpec {
            hash_algo,
            vmid: 7,
            ..RealmSpec::default()
        };
        let r = create_realm(h, &pool, c, spec)?;
        let aux = h.rmi(RmiFid::RecAuxCount, &[r.rd]);
        c.status("rec aux count", aux[0], Ok(()))?;
        c.holds("aux count <= 16", aux[1] <= 16)?;
        c.status("activate", h.rmi(RmiFid::RealmActivate, &[r.rd])[0], Ok(()))?;
        let mut b = [0u8; 8];
        c.holds("RD is not host-accessible", !h.read_ns(r.rd, &mut b))?;
        destroy_realm(h, c, &r)?;
        c.holds(
            "RD back with the host, zeroed",
            h.read_ns(r.rd, &mut b) && b == [0; 8],
        )?;
    }
    Ok(())
}

/// DEN0137 1.0, RMI_REALM_CREATE failure conditions, one per check.
fn create_failures(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let f = FeatureReg0::decode(h.rmi(RmiFid::Features, &[0])[1]).unwrap_or_default();
    let rtt_base = pool.ns_contiguous(2, 0x2000);
    pool.delegate(c, rtt_base)?;
    pool.delegate(c, rtt_base + 0x1000)?;
    let rd = pool.delegated(c)?;
    let params_pa = pool.ns();
    let good = RealmSpec::default().params(rtt_base);
    let create = |c: &mut Checks, what, p: &rmi_abi::RmiRealmParams, want| {
        c.holds("write params", write_params(h, params_pa, p))?;
        c.status(what, h.rmi(RmiFid::RealmCreate, &[rd, params_pa])[0], want)
    };
    let cr = |c: &mut Checks, what, rd: u64, params: u64| {
        c.status(what, h.rmi(RmiFid::RealmCreate, &[rd, params])[0], INPUT)
    };
    c.holds("write params", write_params(h, params_pa, &good))?;
    cr(c, "params_align", rd, params_pa + 8)?;
    cr(c, "params_bound", rd, h.non_memory_addr())?;
    cr(c, "params_pas", rd, rtt_base)?;

    let mut p = good;
    p.flags = 1 << 3;
    create(c, "params_valid: reserved flag", &p, INPUT)?;
    let mut p = good;
    p.hash_algo = 2;
    create(c, "params_valid: hash algorithm", &p, INPUT)?;
    type Spoil = fn(&mut rmi_abi::RmiRealmParams, &FeatureReg0);
    let unsupported: [(&'static str, Spoil); 9] = [
        ("params_supp: s2sz above S2SZ", |p, f| p.s2sz = f.s2sz + 1),
        ("params_supp: s2sz 31", |p, _| p.s2sz = 31),
        ("params_supp: num_bps 0", |p, _| p.num_bps = 0),
        ("params_supp: num_bps above NUM_BPS", |p, f| {
            p.num_bps = f.num_bps + 1
        }),
        ("params_supp: num_wps 0", |p, _| p.num_wps = 0),
        ("params_supp: num_wps above NUM_WPS", |p, f| {
            p.num_wps = f.num_wps + 1
        }),
        ("params_supp: LPA2 not supported", |p, _| p.flags = 1),
        ("params_supp: SVE not supported", |p, _| p.flags = 2),
        ("params_supp: PMU not supported", |p, _| p.flags = 4),
    ];
    for (what, bad) in unsupported {
        let mut p = good;
        bad(&mut p, &f);
        if what.contains("LPA2") && f.lpa2
            || what.contains("SVE") && f.sve_en
            || what.contains("PMU") && f.pmu_en
        {
            continue;
        }
        create(c, what, &p, INPUT)?;
    }
    let mut p = good;
    p.rtt_base = rd;
    p.rtt_num_start = 1;
    p.s2sz = 39;
    create(c, "alias: RD is the start table", &p, INPUT)?;
    c.holds("write params", write_params(h, params_pa, &good))?;
    cr(c, "rd_align", rd + 0x100, params_pa)?;
    cr(c, "rd_bound", h.non_memory_addr(), params_pa)?;
    cr(c, "rd_state (NS)", pool.ns(), params_pa)?;
    let mut p = good;
    p.rtt_base = rtt_base + 0x1000;
    create(c, "rtt_align", &p, INPUT)?;
    let mut p = good;
    p.rtt_num_start = 1;
    create(
        c,
        "rtt_num_level: 40 bits at level 1 need 2 tables",
        &p,
        INPUT,
    )?;
    let mut p = good;
    p.rtt_level_start = 3;
    create(c, "rtt_num_level: start level 3", &p, INPUT)?;
    let mut p = good;
    p.rtt_level_start = -1;
    create(c, "rtt_num_level: start level -1 without LPA2", &p, INPUT)?;
    let other = pool.ns_contiguous(2, 0x2000);
    pool.delegate(c, other)?;
    let mut p = good;
    p.rtt_base = other;
    create(c, "rtt_state: second start table not delegated", &p, INPUT)?;
    if h.vmid_bits() < 16 {
        let mut p = good;
        p.vmid = 1 << h.vmid_bits();
        create(c, "vmid_valid: beyond the VMID width", &p, INPUT)?;
    }
    // Success, then the same VMID again for another realm.
    create(c, "good parameters", &good, Ok(()))?;
    let rd2 = pool.delegated(c)?;
    pool.delegate(c, other + 0x1000)?;
    let mut p = good;
    p.rtt_base = other;
    c.holds("write params", write_params(h, params_pa, &p))?;
    c.status(
        "vmid_valid: in use",
        h.rmi(RmiFid::RealmCreate, &[rd2, params_pa])[0],
        INPUT,
    )?;
    p.vmid = 2;
    c.holds("write params", write_params(h, params_pa, &p))?;
    c.status(
        "other VMID",
        h.rmi(RmiFid::RealmCreate, &[rd2, params_pa])[0],
        Ok(()),
    )?;
    c.status(
        "rd_state (already an RD)",
        h.rmi(RmiFid::RealmCreate, &[rd2, params_pa])[0],
        INPUT,
    )?;
    teardown(h, &pool, c, &[rd, rd2], &[])?;
    Ok(())
}

/// Start level and table count combinations that are valid for the IPA width.
fn start_levels(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let cases = [
        (48u8, 0i64, 1u32),
        (39, 1, 1),
        (42, 1, 8),
        (43, 1, 16),
        (32, 1, 1),
        (34, 2, 16),
    ];
    for (i, (s2sz, start_level, num_start)) in cases.into_iter().enumerate() {
        let spec = RealmSpec {
            s2sz,
            start_level,
            num_start,
            vmid: 10 + i as u16,
            hash_algo: 0,
            lpa2: false,
        };
        let r = create_realm(h, &pool, c, spec)?;
        destroy_realm(h, c, &r)?;
    }
    Ok(())
}

/// DEN0137 1.0, RMI_REALM_ACTIVATE and RMI_REALM_DESTROY failure conditions, and
/// RMI_REC_AUX_COUNT's.
fn activate_destroy_failures(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let r = create_realm(h, &pool, c, RealmSpec::default())?;
    let ns = pool.ns();
    for (fid, name) in [
        (RmiFid::RealmActivate, "activate"),
        (RmiFid::RealmDestroy, "destroy"),
        (RmiFid::RecAuxCount, "rec aux count"),
    ] {
        let _ = name;
        c.status("rd_align", h.rmi(fid, &[r.rd + 8])[0], INPUT)?;
        c.status("rd_bound", h.rmi(fid, &[h.non_memory_addr()])[0], INPUT)?;
        c.status("rd_state (NS)", h.rmi(fid, &[ns])[0], INPUT)?;
        c.status("rd_state (an RTT)", h.rmi(fid, &[r.rtt_base])[0], INPUT)?;
    }
    c.status("activate", h.rmi(RmiFid::RealmActivate, &[r.rd])[0], Ok(()))?;
    c.status(
        "realm_state",
        h.rmi(RmiFid::RealmActivate, &[r.rd])[0],
        Err(RmiError::Realm(0)),
    )?;
    // A live start table keeps the realm alive.
    let rtt = pool.delegated(c)?;
    c.status(
        "rtt create",
        h.rmi(RmiFid::RttCreate, &[r.rd, rtt, 0, 2])[0],
        Ok(()),
    )?;
    c.status(
        "realm_live",
        h.rmi(RmiFid::RealmDestroy, &[r.rd])[0],
        Err(RmiError::Realm(0)),
    )?;
    let d = h.rmi(RmiFid::RttDestroy, &[r.rd, 0, 2]);
    c.status("rtt destroy", d[0], Ok(()))?;
    c.eq("destroyed rtt", d[1], rtt)?;
    destroy_realm(h, c, &r)?;
    c.status(
        "rd_state (destroyed)",
        h.rmi(RmiFid::RealmDestroy, &[r.rd])[0],
        INPUT,
    )?;
    pool.release(c)?;
    Ok(())
}

/// DEN0137 1.0, A2.1.4 and A5.5.8: a realm whose start-level RTTs hold only ASSIGNED_NS
/// entries (unprotected 1 GiB blocks) is not live, since those entries do not make an
/// RTT live: RMI_REALM_DESTROY succeeds without RMI_RTT_UNMAP_UNPROTECTED, and the RD
/// and the start tables are DELEGATED again (B4.3.10.3).
fn destroy_with_ns_mappings(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    const GIB: u64 = 1 << 30;
    const UNPROTECTED: u64 = 1 << 39;
    let pool = Pool::new(h);
    let r = create_realm(h, &pool, c, RealmSpec::default())?;
    let host = pool.ns() & !(GIB - 1);
    let desc = host | 0b110 << 2 | 0b11 << 6;
    for ipa in [UNPROTECTED, UNPROTECTED + 3 * GIB] {
        c.status(
            "map a level-1 block",
            h.rmi(RmiFid::RttMapUnprotected, &[r.rd, ipa, 1, desc])[0],
            Ok(()),
        )?;
    }
    let e = h.rmi(RmiFid::RttReadEntry, &[r.rd, UNPROTECTED, 1]);
    c.status("read entry", e[0], Ok(()))?;
    c.eq("state ASSIGNED", e[2], 1)?;
    // REALM_DESTROY succeeds; the RD and the start tables can be undelegated.
    destroy_realm(h, c, &r)?;
    pool.release(c)?;
    Ok(())
}
