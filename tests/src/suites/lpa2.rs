//! FEAT_LPA2 realms (DEN0137 1.0, A3.1.2): RMI_FEATURES' LPA2 and S2SZ, REALM_CREATE
//! with the LPA2 flag, 52-bit IPAs and start level -1, the RTT and DATA commands on
//! such realms, and the `*_bound2` conditions of realms without LPA2.
//!
//! Expected values come from DEN0137 1.0 and the Arm ARM: the stage 2 start levels and
//! concatenations of D8.2 (Tables D8-20 to D8-23), the FEAT_LPA2 descriptor layout of
//! D8.3 (OA\[49:12\] in bits \[49:12\], OA\[51:50\] in bits \[9:8\]), which is the layout of
//! the `desc` values RMI_RTT_MAP_UNPROTECTED takes and RMI_RTT_READ_ENTRY returns for
//! such a realm (B4.3.19, B4.3.20), and the ID_AA64MMFR0_EL1 fields of D24.2.
//!
//! The tests that need the platform to offer LPA2 are skipped where it does not. Those
//! that need memory at or above 2^48 ([`Host::high_ns_granule`]) run their checks of it
//! only where there is some (the hosted simulation's LPA2 machine); elsewhere the same
//! tests use low memory, and map unprotected addresses above 2^48 (which need no
//! memory behind them).

use rmi_abi::features::FeatureReg0;
use rmi_abi::{RmiError, RmiFid, RmiRealmParams};

use crate::builder::{
    create_realm, destroy_realm, map_low_ipa, teardown, write_params, Pool, RealmSpec,
};
use crate::{Checks, Failure, Host, Outcome, TestDef};

/// The tests of this module.
pub const TESTS: &[TestDef] = &[
    TestDef {
        name: "lpa2_features",
        run: features,
    },
    TestDef {
        name: "lpa2_realm_create_configurations",
        run: create_configurations,
    },
    TestDef {
        name: "lpa2_realm_create_failure_conditions",
        run: create_failures,
    },
    TestDef {
        name: "lpa2_realm_and_rtts_above_2_pow_48",
        run: granules_above_48,
    },
    TestDef {
        name: "lpa2_rtt_create_destroy_fold_read_entry",
        run: rtt_commands,
    },
    TestDef {
        name: "lpa2_rtt_fold_unfold_assigned_block",
        run: fold_assigned,
    },
    TestDef {
        name: "lpa2_data_create",
        run: data_create,
    },
    TestDef {
        name: "lpa2_rtt_map_unprotected",
        run: map_unprotected,
    },
];

const INPUT: Result<(), RmiError> = Err(RmiError::Input);
/// RmiRttEntryState and RmiRipas encodings.
const UNASSIGNED: u64 = 0;
const ASSIGNED: u64 = 1;
const TABLE: u64 = 2;
const EMPTY: u64 = 0;
const RAM: u64 = 1;
/// A 52-bit realm: protected IPAs below 2^51.
const UNPROTECTED_52: u64 = 1 << 51;
/// A protected IPA with bits above 48 set: level -1 index 7.
const HIGH_IPA: u64 = 0x7_0000_0000_0000;
const MIB2: u64 = 1 << 21;
const GIB: u64 = 1 << 30;
/// MemAttr 0b110 (Normal Write-Back, FEAT_S2FWB) and S2AP read/write.
const NS_WB_RW: u64 = 0b110 << 2 | 0b11 << 6;
/// A Non-secure address with PA bits 51, 50 and 48 set, 2 MiB aligned: mapped
/// unprotected, never accessed.
const NS_HIGH_PA: u64 = 0x000D_0000_0020_0000;

/// The FEAT_LPA2 descriptor layout of an output address (Arm ARM D8.3): OA\[49:12\] in
/// bits \[49:12\], OA\[51:50\] in bits \[9:8\].
pub const fn lpa2_desc_addr(pa: u64) -> u64 {
    (pa & 0x0003_FFFF_FFFF_F000) | ((pa >> 50) & 0b11) << 8
}

/// An RTT level as RMI passes it (Int64 in a register).
const fn lvl(level: i64) -> u64 {
    level as u64
}

/// The 52-bit realm starting at level -1 with one table.
fn spec_52(vmid: u16) -> RealmSpec {
    RealmSpec {
        s2sz: 52,
        start_level: -1,
        num_start: 1,
        vmid,
        hash_algo: 0,
        lpa2: true,
    }
}

/// Feature register 0, or `Skipped` unless it offers LPA2 with 52-bit IPAs.
fn lpa2_52_or_skip(h: &dyn Host, c: &mut Checks) -> Result<FeatureReg0, Outcome> {
    let r = h.rmi(RmiFid::Features, &[0]);
    c.status("features", r[0], Ok(()))?;
    match FeatureReg0::decode(r[1]) {
        Ok(f) if f.lpa2 && f.s2sz == 52 => Ok(f),
        _ => Err(Outcome::Skipped(
            "RMI_FEATURES offers no LPA2 with S2SZ 52 on this platform",
        )),
    }
}

/// Checks RTT_READ_ENTRY's outputs: walk level, state, desc, RIPAS.
fn read(
    h: &dyn Host,
    c: &mut Checks,
    rd: u64,
    ipa: u64,
    level: i64,
    want: [u64; 4],
) -> Result<(), Failure> {
    let e = h.rmi(RmiFid::RttReadEntry, &[rd, ipa, lvl(level)]);
    c.status("read entry", e[0], Ok(()))?;
    c.eq("walk level", e[1], want[0])?;
    c.eq("state", e[2], want[1])?;
    c.eq("desc", e[3], want[2])?;
    c.eq("ripas", e[4], want[3])
}

/// RTT_CREATE of `rtt` (delegated) at `ipa`, `level`.
fn rtt_create(
    h: &dyn Host,
    c: &mut Checks,
    rd: u64,
    rtt: u64,
    ipa: u64,
    level: i64,
) -> Result<(), Failure> {
    c.status(
        "rtt create",
        h.rmi(RmiFid::RttCreate, &[rd, rtt, ipa, lvl(level)])[0],
        Ok(()),
    )
}

/// The RTTs of every level from 0 to `to` covering `ipa` in a realm starting at
/// level -1, from `pool`; their addresses, level 0 first.
fn rtts_down_to(
    h: &dyn Host,
    pool: &Pool<'_>,
    c: &mut Checks,
    rd: u64,
    ipa: u64,
    to: i64,
) -> Result<[u64; 4], Failure> {
    let mut rtts = [0; 4];
    for level in 0..=to {
        let rtt = pool.delegated(c)?;
        rtt_create(h, c, rd, rtt, ipa, level)?;
        rtts[level as usize] = rtt;
    }
    Ok(rtts)
}

/// ID_AA64MMFR0_EL1.PARange (Arm ARM D24.2) as a width in bits.
fn pa_range_bits(mmfr0: u64) -> Option<u8> {
    Some(match mmfr0 & 0xF {
        0 => 32,
        1 => 36,
        2 => 40,
        3 => 42,
        4 => 44,
        5 => 48,
        6 => 52,
        _ => return None,
    })
}

/// DEN0137 1.0, B4.4.6: LPA2 is 1 exactly when the CPU's 4 KiB granule at stage 2
/// supports 52-bit addresses (Arm ARM D24.2, ID_AA64MMFR0_EL1.TGran4_2 = 0b0011, or
/// TGran4_2 = 0b0000 and TGran4 = 0b0001), and S2SZ, the largest IPA width, is the PA
/// width (a stage 2 IPA size is at most PAMax) capped at 52 bits with LPA2, 48
/// without (T0SZ >= 16 without VTCR_EL2.DS).
fn features(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let mmfr0 = h.id_aa64mmfr0();
    let (tgran4, tgran4_2) = ((mmfr0 >> 28) & 0xF, (mmfr0 >> 40) & 0xF);
    let lpa2 = tgran4_2 == 0b0011 || (tgran4_2 == 0 && tgran4 == 0b0001);
    let Some(pa) = pa_range_bits(mmfr0) else {
        return Err(Outcome::Skipped("reserved ID_AA64MMFR0_EL1.PARange"));
    };
    let r = h.rmi(RmiFid::Features, &[0]);
    c.status("features", r[0], Ok(()))?;
    let f = FeatureReg0::decode(r[1]).unwrap_or_default();
    c.eq("LPA2 [8]", f.lpa2 as u64, lpa2 as u64)?;
    let cap = if lpa2 { 52 } else { 48 };
    c.eq("S2SZ [7:0]", f.s2sz.into(), pa.min(cap).into())?;
    Ok(())
}

/// Arm ARM D8.2 with VTCR_EL2.DS = 1: start level -1 for 49..=52 bits (one table),
/// level 0 with 2..=16 concatenated tables for 49..=52 bits, and the 48-bit
/// configurations, all with the LPA2 flag. Each realm's start-level entries read
/// UNASSIGNED (EMPTY) at level `start`, protected and unprotected (B4.3.9.3:
/// rtte_p_states, rtte_up_states), and level `start - 1` is not a level of it.
fn create_configurations(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    lpa2_52_or_skip(h, c)?;
    let pool = Pool::new(h);
    let cases = [
        (52u8, -1i64, 1u32),
        (49, -1, 1),
        (52, 0, 16),
        (50, 0, 4),
        (49, 0, 2),
        (48, 0, 1),
        (40, 1, 2),
    ];
    for (i, (s2sz, start_level, num_start)) in cases.into_iter().enumerate() {
        let spec = RealmSpec {
            s2sz,
            start_level,
            num_start,
            vmid: 30 + i as u16,
            hash_algo: 0,
            lpa2: true,
        };
        let r = create_realm(h, &pool, c, spec)?;
        let start = lvl(start_level);
        read(h, c, r.rd, 0, start_level, [start, UNASSIGNED, 0, EMPTY])?;
        let unprotected = 1u64 << (s2sz - 1);
        read(
            h,
            c,
            r.rd,
            unprotected,
            start_level,
            [start, UNASSIGNED, 0, EMPTY],
        )?;
        let last = (1u64 << s2sz) - (1 << (12 + 9 * (3 - start_level)));
        read(h, c, r.rd, last, start_level, [start, UNASSIGNED, 0, EMPTY])?;
        c.status(
            "read entry: level_bound below the start level",
            h.rmi(RmiFid::RttReadEntry, &[r.rd, 0, lvl(start_level - 1)])[0],
            INPUT,
        )?;
        c.status(
            "read entry: ipa_bound",
            h.rmi(RmiFid::RttReadEntry, &[r.rd, 1 << s2sz, start])[0],
            INPUT,
        )?;
        destroy_realm(h, c, &r)?;
    }
    // A realm without LPA2 has no level -1.
    let r = create_realm(h, &pool, c, RealmSpec::default())?;
    c.status(
        "read entry at level -1 of a realm without LPA2: level_bound",
        h.rmi(RmiFid::RttReadEntry, &[r.rd, 0, lvl(-1)])[0],
        INPUT,
    )?;
    destroy_realm(h, c, &r)?;
    Ok(())
}

/// DEN0137 1.0, RMI_REALM_CREATE: the LPA2 configurations that fail, each with
/// ERROR_INPUT and no side effect (the same granules then make a realm).
///
/// - params_supp (`RealmParamsSupported`): s2sz above S2SZ; s2sz above 48 without the
///   LPA2 flag (A3.1.2: LPA2 is what allows the larger IPA width).
/// - rtt_num_level (`RttConfigIsValid`, Arm ARM D8.2 Tables D8-20 to D8-22): level -1
///   without LPA2, or resolving no IPA bit (48 bits), or with concatenated tables; level
///   0 for 52 bits with other than 16 tables; level 1 for 52 bits; level -2.
/// - rtt_align: 16 start tables not aligned to 64 KiB.
fn create_failures(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    lpa2_52_or_skip(h, c)?;
    let pool = Pool::new(h);
    let rtt_base = pool.ns_contiguous(16, 16 * 4096);
    for i in 0..16 {
        pool.delegate(c, rtt_base + i * 4096)?;
    }
    let rd = pool.delegated(c)?;
    let params_pa = pool.ns();
    let create = |c: &mut Checks, what, p: &RmiRealmParams, want| {
        c.holds("write params", write_params(h, params_pa, p))?;
        c.status(what, h.rmi(RmiFid::RealmCreate, &[rd, params_pa])[0], want)
    };
    let with = |s2sz: u8, start: i64, n: u32, lpa2: bool| {
        let mut p = spec_52(5).params(rtt_base);
        p.s2sz = s2sz;
        p.rtt_level_start = start;
        p.rtt_num_start = n;
        p.flags = lpa2 as u64;
        p
    };
    // (what, s2sz, rtt_level_start, rtt_num_start, LPA2 flag); the parameters are built
    // one at a time (each is a granule: no array of them on a small stack).
    let cases: [(&'static str, u8, i64, u32, bool); 13] = [
        ("params_supp: s2sz 53 above S2SZ", 53, -1, 1, true),
        ("params_supp: s2sz 49 without LPA2", 49, -1, 1, false),
        ("params_supp: s2sz 52 without LPA2", 52, -1, 1, false),
        (
            "params_supp: s2sz 52 at level 0 without LPA2",
            52,
            0,
            16,
            false,
        ),
        (
            "params_supp: s2sz 49 at level 0 without LPA2",
            49,
            0,
            2,
            false,
        ),
        ("rtt_num_level: level -1 without LPA2", 48, -1, 1, false),
        (
            "rtt_num_level: level -1 resolves no bit of 48",
            48,
            -1,
            1,
            true,
        ),
        (
            "rtt_num_level: no concatenation at level -1",
            52,
            -1,
            2,
            true,
        ),
        (
            "rtt_num_level: 52 bits at level 0 need 16 tables",
            52,
            0,
            8,
            true,
        ),
        ("rtt_num_level: 52 bits at level 0, 1 table", 52, 0, 1, true),
        ("rtt_num_level: 52 bits at level 1", 52, 1, 16, true),
        ("rtt_num_level: level -2", 52, -2, 1, true),
        (
            "rtt_num_level: 49 bits at level 0 need 2 tables",
            49,
            0,
            1,
            true,
        ),
    ];
    for (what, s2sz, start, n, lpa2) in cases {
        create(c, what, &with(s2sz, start, n, lpa2), INPUT)?;
    }
    let mut p = with(52, 0, 16, true);
    p.rtt_base = rtt_base + 0x8000;
    create(c, "rtt_align: 16 tables at a 32 KiB boundary", &p, INPUT)?;
    // Nothing changed: the granules make a 52-bit realm at level 0 with 16 tables.
    create(
        c,
        "52 bits, level 0, 16 tables",
        &with(52, 0, 16, true),
        Ok(()),
    )?;
    // An IPA the 16th start table maps.
    read(h, c, rd, 0xF_8000_0000_0000, 0, [0, UNASSIGNED, 0, EMPTY])?;
    teardown(h, &pool, c, &[rd], &[])?;
    Ok(())
}

/// DEN0137 1.0: the RD and start-level RTTs of an LPA2 realm may be anywhere in
/// delegable memory, above 2^48 too (REALM_CREATE has no bound on them), and so may an
/// RD of a realm without LPA2. The start tables of a realm without LPA2 cannot be at or
/// above 2^48: VTTBR_EL2.BADDR holds a 48-bit address when VTCR_EL2.DS is 0 (Arm ARM
/// D24.2; the spec lists no condition, the RMM reports ERROR_INPUT, docs/design.md).
fn granules_above_48(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    lpa2_52_or_skip(h, c)?;
    let Some(high) = Pool::high(h) else {
        return Err(Outcome::Skipped("no memory at or above 2^48"));
    };
    let pool = Pool::new(h);
    let rtt = high.delegated(c)?;
    let rd = high.delegated(c)?;
    let params_pa = pool.ns();
    let mut p = spec_52(6).params(rtt);
    c.holds("write params", write_params(h, params_pa, &p))?;
    c.status(
        "realm create: RD and RTT above 2^48",
        h.rmi(RmiFid::RealmCreate, &[rd, params_pa])[0],
        Ok(()),
    )?;
    read(h, c, rd, HIGH_IPA, -1, [lvl(-1), UNASSIGNED, 0, EMPTY])?;
    // An RTT below it, also above 2^48.
    let l0 = high.delegated(c)?;
    rtt_create(h, c, rd, l0, HIGH_IPA, 0)?;
    read(
        h,
        c,
        rd,
        HIGH_IPA,
        -1,
        [lvl(-1), TABLE, lpa2_desc_addr(l0), EMPTY],
    )?;
    let d = h.rmi(RmiFid::RttDestroy, &[rd, HIGH_IPA, 0]);
    c.status("rtt destroy", d[0], Ok(()))?;
    c.eq("rtt destroyed", d[1], l0)?;
    c.status(
        "realm destroy",
        h.rmi(RmiFid::RealmDestroy, &[rd])[0],
        Ok(()),
    )?;
    // Without LPA2: start tables above 2^48 are refused, an RD above 2^48 is not.
    let rtt2 = high.ns_contiguous(2, 0x2000);
    high.delegate(c, rtt2)?;
    high.delegate(c, rtt2 + 0x1000)?;
    p = RealmSpec::default().params(rtt2);
    c.holds("write params", write_params(h, params_pa, &p))?;
    c.status(
        "realm create without LPA2: start tables above 2^48",
        h.rmi(RmiFid::RealmCreate, &[rd, params_pa])[0],
        INPUT,
    )?;
    let low = pool.ns_contiguous(2, 0x2000);
    pool.delegate(c, low)?;
    pool.delegate(c, low + 0x1000)?;
    p = RealmSpec::default().params(low);
    c.holds("write params", write_params(h, params_pa, &p))?;
    c.status(
        "realm create without LPA2: RD above 2^48",
        h.rmi(RmiFid::RealmCreate, &[rd, params_pa])[0],
        Ok(()),
    )?;
    c.status(
        "realm destroy",
        h.rmi(RmiFid::RealmDestroy, &[rd])[0],
        Ok(()),
    )?;
    high.release(c)?;
    pool.release(c)?;
    Ok(())
}

/// RMI_RTT_CREATE, RMI_RTT_DESTROY, RMI_RTT_FOLD and RMI_RTT_READ_ENTRY in a 52-bit
/// realm starting at level -1 (DEN0137 1.0, B4.3.15-17, B4.3.20): failure conditions
/// at the new levels, a TABLE at level -1 in the LPA2 layout, unfolding and folding a
/// level 0 RTT into a level -1 entry, the `top` of RTT_DESTROY from a level -1 RTT (16
/// entries: the next IPA after its last is 2^52), and rtt_bound2 for a realm without
/// LPA2 where there is memory above 2^48.
fn rtt_commands(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    lpa2_52_or_skip(h, c)?;
    let pool = Pool::new(h);
    let high = Pool::high(h);
    let rtts = high.as_ref().unwrap_or(&pool);
    let r = create_realm(h, &pool, c, spec_52(7))?;
    let rd = r.rd;
    let t = rtts.delegated(c)?;
    let create = |ipa: u64, level: i64| h.rmi(RmiFid::RttCreate, &[rd, t, ipa, lvl(level)])[0];
    c.status("level_bound: the start level -1", create(0, -1), INPUT)?;
    c.status("level_bound: level -2", create(0, -2), INPUT)?;
    c.status("ipa_align: level 0 needs 2^48", create(1 << 39, 0), INPUT)?;
    c.status("ipa_bound: 2^52", create(1 << 52, 0), INPUT)?;
    c.status(
        "rtt_walk: level 1 under an UNASSIGNED level -1 entry",
        create(0, 1),
        Err(RmiError::Rtt(-1)),
    )?;
    // Level 0 at IPA 0 and at a protected IPA above 2^48, and down to level 3.
    rtt_create(h, c, rd, t, HIGH_IPA, 0)?;
    read(
        h,
        c,
        rd,
        HIGH_IPA,
        -1,
        [lvl(-1), TABLE, lpa2_desc_addr(t), EMPTY],
    )?;
    read(h, c, rd, HIGH_IPA, 3, [0, UNASSIGNED, 0, EMPTY])?;
    let spare = rtts.delegated(c)?;
    c.status(
        "rtte_state: level 0 again",
        h.rmi(RmiFid::RttCreate, &[rd, spare, HIGH_IPA, 0])[0],
        Err(RmiError::Rtt(-1)),
    )?;
    let low = rtts_down_to(h, rtts, c, rd, 0, 3)?;
    for level in 0..=3i64 {
        read(
            h,
            c,
            rd,
            0,
            level - 1,
            [
                lvl(level - 1),
                TABLE,
                lpa2_desc_addr(low[level as usize]),
                EMPTY,
            ],
        )?;
    }
    read(h, c, rd, 0x1000, 3, [3, UNASSIGNED, 0, EMPTY])?;
    // rtt_live: the level 1 RTT holds a TABLE.
    let d = h.rmi(RmiFid::RttDestroy, &[rd, 0, 1]);
    c.status("rtt_live", d[0], Err(RmiError::Rtt(1)))?;
    // Fold the level 0 RTT at HIGH_IPA into its level -1 entry (all UNASSIGNED EMPTY).
    let f = h.rmi(RmiFid::RttFold, &[rd, HIGH_IPA, 0]);
    c.status("fold level 0", f[0], Ok(()))?;
    c.eq("folded rtt", f[1], t)?;
    read(h, c, rd, HIGH_IPA, 0, [lvl(-1), UNASSIGNED, 0, EMPTY])?;
    c.status(
        "fold again: rtte_state at level -1",
        h.rmi(RmiFid::RttFold, &[rd, HIGH_IPA, 0])[0],
        Err(RmiError::Rtt(-1)),
    )?;
    // An unprotected level 0 RTT: RTT_DESTROY's top is the end of the level -1 RTT.
    rtt_create(h, c, rd, t, UNPROTECTED_52, 0)?;
    read(h, c, rd, UNPROTECTED_52, 0, [0, UNASSIGNED, 0, EMPTY])?;
    let d = h.rmi(RmiFid::RttDestroy, &[rd, UNPROTECTED_52, 0]);
    c.status("rtt destroy level 0", d[0], Ok(()))?;
    c.eq("destroyed rtt", d[1], t)?;
    c.eq("top: end of the level -1 RTT", d[2], 1 << 52)?;
    let d = h.rmi(RmiFid::RttDestroy, &[rd, UNPROTECTED_52, 0]);
    c.status("destroy again: rtt_walk", d[0], Err(RmiError::Rtt(-1)))?;
    c.eq("top", d[2], 1 << 52)?;
    // rtt_bound2: a realm without LPA2 may not take an RTT above 2^48.
    if let Some(high) = &high {
        let r48 = create_realm(h, &pool, c, RealmSpec::default())?;
        let t2 = high.delegated(c)?;
        c.status(
            "rtt_bound2: without LPA2, an RTT above 2^48",
            h.rmi(RmiFid::RttCreate, &[r48.rd, t2, 0, 2])[0],
            INPUT,
        )?;
        c.status(
            "the same RTT in the LPA2 realm",
            h.rmi(RmiFid::RttCreate, &[rd, t2, UNPROTECTED_52, 0])[0],
            Ok(()),
        )?;
        destroy_realm(h, c, &r48)?;
    }
    teardown(h, &pool, c, &[rd], &[])?;
    if let Some(high) = &high {
        high.release(c)?;
    }
    Ok(())
}

/// RMI_RTT_FOLD of a level 3 RTT of 512 contiguous ASSIGNED pages into a level 2
/// block in a 52-bit realm (DEN0137 1.0, B4.3.17, A5.5.6 RttFold: homogeneous entries
/// whose output addresses are contiguous and block aligned), with the DATA above 2^48
/// where there is memory there: RTT_READ_ENTRY gives the block's address in the
/// FEAT_LPA2 layout (OA[51:50] in bits [9:8]); RTT_CREATE unfolds it into pages again,
/// each with its own address; the pages are destroyed one by one.
fn fold_assigned(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    lpa2_52_or_skip(h, c)?;
    let pool = Pool::new(h);
    let high = Pool::high(h);
    let mem = high.as_ref().unwrap_or(&pool);
    let r = create_realm(h, &pool, c, spec_52(9))?;
    let rd = r.rd;
    // HIGH_IPA is aligned at every level: the RTTs of levels 0-3 and the block there.
    let ipa = HIGH_IPA;
    let rtts = rtts_down_to(h, &pool, c, rd, ipa, 3)?;
    let base = mem.ns_contiguous(512, MIB2);
    for i in 0..512 {
        mem.delegate(c, base + i * 0x1000)?;
        c.status(
            "data create unknown",
            h.rmi(
                RmiFid::DataCreateUnknown,
                &[rd, base + i * 0x1000, ipa + i * 0x1000],
            )[0],
            Ok(()),
        )?;
    }
    let f = h.rmi(RmiFid::RttFold, &[rd, ipa, 3]);
    c.status("fold the level 3 RTT", f[0], Ok(()))?;
    c.eq("folded rtt", f[1], rtts[3])?;
    read(h, c, rd, ipa, 3, [2, ASSIGNED, lpa2_desc_addr(base), EMPTY])?;
    let l3 = pool.delegated(c)?;
    rtt_create(h, c, rd, l3, ipa, 3)?;
    read(
        h,
        c,
        rd,
        ipa + 0x7000,
        3,
        [3, ASSIGNED, lpa2_desc_addr(base + 0x7000), EMPTY],
    )?;
    for i in 0..512 {
        let d = h.rmi(RmiFid::DataDestroy, &[rd, ipa + i * 0x1000]);
        c.status("data destroy", d[0], Ok(()))?;
        c.eq("data", d[1], base + i * 0x1000)?;
    }
    teardown(h, &pool, c, &[rd], &[])?;
    if let Some(high) = &high {
        high.release(c)?;
    }
    Ok(())
}

/// RMI_DATA_CREATE and RMI_DATA_CREATE_UNKNOWN at a protected IPA above 2^48 of a
/// 52-bit realm (DEN0137 1.0, B4.3.1, B4.3.2): ASSIGNED entries whose RTT_READ_ENTRY
/// desc has the DATA address in the LPA2 layout, RIPAS RAM and EMPTY; RMI_DATA_DESTROY
/// gives the address back, with `top` the next live entry, then the end of the level 3
/// RTT; ipa_bound at the unprotected half; data_bound2 for a realm without LPA2 where
/// there is memory above 2^48 (the LPA2 realm then takes that granule).
fn data_create(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    lpa2_52_or_skip(h, c)?;
    let pool = Pool::new(h);
    let high = Pool::high(h);
    let mem = high.as_ref().unwrap_or(&pool);
    let r = create_realm(h, &pool, c, spec_52(8))?;
    let rd = r.rd;
    rtts_down_to(h, &pool, c, rd, HIGH_IPA, 3)?;
    let src = pool.ns();
    c.holds("write source", h.write_ns(src, &[0xA5; 4096]))?;
    let data = mem.delegated(c)?;
    let unknown = mem.delegated(c)?;
    c.status(
        "data create: ipa_bound (unprotected)",
        h.rmi(RmiFid::DataCreate, &[rd, data, UNPROTECTED_52, src, 1])[0],
        INPUT,
    )?;
    c.status(
        "data create unknown: ipa_bound (unprotected)",
        h.rmi(RmiFid::DataCreateUnknown, &[rd, data, UNPROTECTED_52])[0],
        INPUT,
    )?;
    if let Some(high) = &high {
        let r48 = create_realm(h, &pool, c, RealmSpec::default())?;
        map_low_ipa(h, &pool, c, r48.rd, 0)?;
        let d2 = high.delegated(c)?;
        c.status(
            "data_bound2: data create without LPA2, DATA above 2^48",
            h.rmi(RmiFid::DataCreate, &[r48.rd, d2, 0x1000, src, 1])[0],
            INPUT,
        )?;
        c.status(
            "data_bound2: data create unknown without LPA2",
            h.rmi(RmiFid::DataCreateUnknown, &[r48.rd, d2, 0x1000])[0],
            INPUT,
        )?;
        read(h, c, r48.rd, 0x1000, 3, [3, UNASSIGNED, 0, EMPTY])?;
        c.holds(
            "destroy the realm without LPA2",
            crate::teardown::destroy_realm(h, r48.rd, &mut || Some(pool.ns())),
        )?;
        c.status(
            "the same granule in the LPA2 realm",
            h.rmi(RmiFid::DataCreateUnknown, &[rd, d2, HIGH_IPA + 0x3000])[0],
            Ok(()),
        )?;
    }
    c.status(
        "data create",
        h.rmi(RmiFid::DataCreate, &[rd, data, HIGH_IPA, src, 1])[0],
        Ok(()),
    )?;
    c.status(
        "data create unknown",
        h.rmi(RmiFid::DataCreateUnknown, &[rd, unknown, HIGH_IPA + 0x1000])[0],
        Ok(()),
    )?;
    read(
        h,
        c,
        rd,
        HIGH_IPA,
        3,
        [3, ASSIGNED, lpa2_desc_addr(data), RAM],
    )?;
    read(
        h,
        c,
        rd,
        HIGH_IPA + 0x1000,
        3,
        [3, ASSIGNED, lpa2_desc_addr(unknown), EMPTY],
    )?;
    let spare = mem.delegated(c)?;
    c.status(
        "rtte_state: the entry is ASSIGNED",
        h.rmi(RmiFid::DataCreateUnknown, &[rd, spare, HIGH_IPA])[0],
        Err(RmiError::Rtt(3)),
    )?;
    let d = h.rmi(RmiFid::DataDestroy, &[rd, HIGH_IPA]);
    c.status("data destroy", d[0], Ok(()))?;
    c.eq("data destroyed", d[1], data)?;
    c.eq("top: the next live entry", d[2], HIGH_IPA + 0x1000)?;
    let d = h.rmi(RmiFid::DataDestroy, &[rd, HIGH_IPA + 0x1000]);
    c.status("data destroy", d[0], Ok(()))?;
    c.eq("data destroyed", d[1], unknown)?;
    let want_top = if high.is_some() {
        HIGH_IPA + 0x3000
    } else {
        HIGH_IPA + MIB2
    };
    c.eq("top", d[2], want_top)?;
    teardown(h, &pool, c, &[rd], &[])?;
    if let Some(high) = &high {
        high.release(c)?;
    }
    Ok(())
}

/// RMI_RTT_MAP_UNPROTECTED in a 52-bit realm (DEN0137 1.0, B4.3.19): a 2 MiB block at a
/// Non-secure address with PA bits 51, 50 and 48 set, its desc in the LPA2 layout
/// (OA\[51:50\] in bits \[9:8\]) read back as given (B4.3.20 state_unprot), unfolded into
/// pages by RTT_CREATE (A5.5.7: contiguous addresses) and folded back (A5.5.6); a
/// Non-cacheable page; addr_align, attr_valid; addr_bound for a realm without LPA2,
/// for which the same address bits are out of range.
fn map_unprotected(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    lpa2_52_or_skip(h, c)?;
    let pool = Pool::new(h);
    let r = create_realm(h, &pool, c, spec_52(9))?;
    let rd = r.rd;
    let u = UNPROTECTED_52;
    rtts_down_to(h, &pool, c, rd, u, 2)?;
    let map = |rd: u64, ipa: u64, level: i64, desc: u64| {
        h.rmi(RmiFid::RttMapUnprotected, &[rd, ipa, lvl(level), desc])[0]
    };
    let block = lpa2_desc_addr(NS_HIGH_PA) | NS_WB_RW;
    c.holds("the desc uses bits [9:8]", block & (0b11 << 8) == 0b11 << 8)?;
    c.status(
        "addr_align: a 4 KiB address at level 2",
        map(rd, u, 2, lpa2_desc_addr(NS_HIGH_PA + 0x1000) | NS_WB_RW),
        INPUT,
    )?;
    c.status("attr_valid: AF", map(rd, u, 2, block | 1 << 10), INPUT)?;
    c.status(
        "attr_valid: bit 50 is no address bit",
        map(rd, u, 2, block | 1 << 50),
        INPUT,
    )?;
    c.status(
        "level_bound: level 0 (no blocks)",
        map(rd, u, 0, lpa2_desc_addr(0) | NS_WB_RW),
        INPUT,
    )?;
    c.status("map a 2 MiB block", map(rd, u, 2, block), Ok(()))?;
    read(h, c, rd, u, 2, [2, ASSIGNED, block, EMPTY])?;
    // Unfold into pages: each maps its part of the block.
    let l3 = pool.delegated(c)?;
    rtt_create(h, c, rd, l3, u, 3)?;
    for page in [0u64, 0x5000, MIB2 - 0x1000] {
        read(
            h,
            c,
            rd,
            u + page,
            3,
            [
                3,
                ASSIGNED,
                lpa2_desc_addr(NS_HIGH_PA + page) | NS_WB_RW,
                EMPTY,
            ],
        )?;
    }
    let f = h.rmi(RmiFid::RttFold, &[rd, u, 3]);
    c.status("fold back", f[0], Ok(()))?;
    c.eq("folded rtt", f[1], l3)?;
    read(h, c, rd, u, 2, [2, ASSIGNED, block, EMPTY])?;
    let m = h.rmi(RmiFid::RttUnmapUnprotected, &[rd, u, 2]);
    c.status("unmap the block", m[0], Ok(()))?;
    c.eq("top: end of the level 2 RTT", m[1], u + GIB)?;
    // A Non-cacheable read-only page (MemAttr 0b101, S2AP 0b01).
    rtt_create(h, c, rd, l3, u, 3)?;
    let page = lpa2_desc_addr(NS_HIGH_PA + 0x3000) | 0b101 << 2 | 0b01 << 6;
    c.status("map a page", map(rd, u + 0x3000, 3, page), Ok(()))?;
    read(h, c, rd, u + 0x3000, 3, [3, ASSIGNED, page, EMPTY])?;
    // Without LPA2 the same address bits are out of range (addr_bound) and bits [9:8]
    // are not the host's.
    let r48 = create_realm(h, &pool, c, RealmSpec::default())?;
    let u48 = 1u64 << 39;
    c.status(
        "addr_bound without LPA2: bit 48",
        map(r48.rd, u48 + GIB, 1, 1 << 48 | NS_WB_RW),
        INPUT,
    )?;
    c.status(
        "addr_bound without LPA2: bits [9:8]",
        map(r48.rd, u48 + GIB, 1, 0x4000_0000 | 0b11 << 8 | NS_WB_RW),
        INPUT,
    )?;
    c.status(
        "a 48-bit address without LPA2",
        map(r48.rd, u48 + GIB, 1, 0x4000_0000 | NS_WB_RW),
        Ok(()),
    )?;
    read(
        h,
        c,
        r48.rd,
        u48 + GIB,
        1,
        [1, ASSIGNED, 0x4000_0000 | NS_WB_RW, EMPTY],
    )?;
    teardown(h, &pool, c, &[rd, r48.rd], &[])?;
    Ok(())
}
