//! FEAT_LPA2 realms on the hosted simulation, against oracles that are not the RMM: the
//! simulation's stage-2 walker and TLB read the tables the RMM built from the
//! VTCR_EL2/VTTBR_EL2 it programmed (Arm ARM D8.2, D8.3, D24.2), and the realm's own
//! accesses go through them. The machine has a 52-bit PA space with memory above 2^48
//! (`SimConfig::lpa2`): RD, RTTs, DATA and the Non-secure page the realm reads are all
//! there, so every output address has bits above 48.

use std::sync::{Arc, Mutex};

use platform::{CpuId, Pas, PhysAddr, SysReg};
use platform_sim::realm::RealmCpu;
use platform_sim::s2walk::{self, Access, S2Config, MEMATTR_FWB_NORMAL_WB, SH_FROM_VTCR};
use platform_sim::tlb::stage2_regs;
use platform_sim::SimConfig;
use rmi_abi::{RmiFid, RmiRecEnter, RmiRecExit};
use rmm::hosted::Machine;
use rmm_conformance::builder::{create_rec, rec_params, Pool, RealmSpec};
use rmm_conformance::Checks;
use zerocopy::{FromBytes, FromZeros, IntoBytes};

/// RmiRecEnter flags: trap WFI.
const TRAP_WFI: u64 = 4;
/// The first unprotected IPA of a 52-bit realm.
const UNPROTECTED_52: u64 = 1 << 51;

fn ok(m: &Machine, fid: RmiFid, args: &[u64]) -> [u64; 5] {
    let r = m.rmi(0, fid, args);
    assert_eq!(r[0], 0, "{fid:?} {args:x?}");
    r
}

/// The FEAT_LPA2 descriptor layout of an output address (Arm ARM D8.3).
fn lpa2_desc_addr(pa: u64) -> u64 {
    (pa & 0x0003_FFFF_FFFF_F000) | ((pa >> 50) & 0b11) << 8
}

type Seen = Arc<Mutex<Vec<u64>>>;

/// RMI_REC_ENTER with WFI trapped; the realm must stop at its next WFI.
fn enter_until_wfi(m: &Machine, rec: u64, run: u64) {
    let mut e = RmiRecEnter::new_zeroed();
    e.flags = TRAP_WFI;
    m.host_write(run, e.as_bytes()).unwrap();
    ok(m, RmiFid::RecEnter, &[rec, run]);
    let mut page = [0u8; 4096];
    m.host_read(run, &mut page).unwrap();
    let exit = RmiRecExit::read_from_bytes(&page[0x800..]).unwrap();
    assert_eq!(
        (exit.exit_reason, exit.esr),
        (0, 0x01 << 26),
        "a WFI exit (sync, EC WFx)"
    );
}

/// Creates the realm of `spec` with its start tables and RD from `mem`.
fn realm_in(m: &Machine, mem: &Pool<'_>, params: u64, spec: RealmSpec) -> (u64, u64) {
    let n = spec.num_start as usize;
    let rtt_base = mem.ns_contiguous(n, n as u64 * 4096);
    for i in 0..n as u64 {
        ok(m, RmiFid::GranuleDelegate, &[rtt_base + i * 4096]);
    }
    let rd = mem.ns();
    ok(m, RmiFid::GranuleDelegate, &[rd]);
    m.host_write(params, spec.params(rtt_base).as_bytes())
        .unwrap();
    ok(m, RmiFid::RealmCreate, &[rd, params]);
    (rd, rtt_base)
}

/// RTTs of levels `from..=3` covering `ipa`, from `mem` (each RTT_CREATE at `ipa`
/// aligned to what an entry of the parent level maps).
fn rtts(m: &Machine, mem: &Pool<'_>, rd: u64, ipa: u64, from: i64) {
    for level in from..=3 {
        let parent_span = 1u64 << (12 + 9 * (3 - (level - 1)));
        let t = mem.ns();
        ok(m, RmiFid::GranuleDelegate, &[t]);
        ok(
            m,
            RmiFid::RttCreate,
            &[rd, t, ipa & !(parent_span - 1), level as u64],
        );
    }
}

/// A 52-bit realm starting at level -1, everything it owns above 2^48: a measured DATA
/// page at a protected IPA above 2^48 (and one below 2^48 next to it) and a Non-secure page above 2^48 mapped at an
/// unprotected IPA. The realm reads both and writes its page; the host sees the
/// realm's write in the DATA granule and the values the host wrote, and the walker,
/// configured only from the CPU's VTCR_EL2 and VTTBR_EL2 (DS, SL2, PS, BADDR\[51:48\]),
/// translates both IPAs to those granules with the attributes DEN0137 1.0 A5.5.11
/// requires (shareability from VTCR_EL2.SH0 with DS = 1).
#[test]
fn lpa2_realm_above_2_pow_48_translates_as_the_architecture_walks_it() {
    let m = Machine::new(SimConfig::lpa2());
    let pool = Pool::new(&m);
    let high = Pool::high(&m).expect("memory above 2^48");
    let spec = RealmSpec {
        s2sz: 52,
        start_level: -1,
        num_start: 1,
        vmid: 3,
        hash_algo: 0,
        lpa2: true,
    };
    let (rd, rtt_base) = realm_in(&m, &high, pool.ns(), spec);
    assert!(rtt_base >= 1 << 50 && rd >= 1 << 50);
    let ipa = 0x7_0000_0000_5000u64;
    rtts(&m, &high, rd, ipa, 0);
    let src = pool.ns();
    m.host_write(src, &0x1122_3344_5566_7788u64.to_le_bytes())
        .unwrap();
    let data = high.ns();
    ok(&m, RmiFid::GranuleDelegate, &[data]);
    ok(&m, RmiFid::DataCreate, &[rd, data, ipa, src, 1]);
    // A second page from memory below 2^48: no address bit in descriptor bits [9:8].
    let low_data = pool.ns();
    ok(&m, RmiFid::GranuleDelegate, &[low_data]);
    ok(
        &m,
        RmiFid::DataCreate,
        &[rd, low_data, ipa + 0x1000, src, 1],
    );
    // An unprotected page above 2^48 (PA bits 51 and 50 set).
    let ns = high.ns();
    m.host_write(ns, &0xCAFE_F00Du64.to_le_bytes()).unwrap();
    let uipa = UNPROTECTED_52 + 0x3_0000_0000_2000;
    rtts(&m, &high, rd, uipa, 0);
    let desc = lpa2_desc_addr(ns) | 0b110 << 2 | 0b11 << 6;
    ok(&m, RmiFid::RttMapUnprotected, &[rd, uipa, 3, desc]);

    let seen = Seen::default();
    let s = seen.clone();
    let entry = 0x8_0000;
    m.hw().register_realm_program(
        entry,
        Arc::new(move |cpu: &mut RealmCpu| {
            let mut b = [0u8; 8];
            cpu.read(ipa, &mut b).expect("protected read");
            s.lock().unwrap().push(u64::from_le_bytes(b));
            cpu.read(ipa + 0x1000, &mut b).expect("protected read");
            s.lock().unwrap().push(u64::from_le_bytes(b));
            cpu.read(uipa, &mut b).expect("unprotected read");
            s.lock().unwrap().push(u64::from_le_bytes(b));
            cpu.write(ipa + 8, &0xABCDu64.to_le_bytes())
                .expect("protected write");
            cpu.wfi();
        }),
    );
    let mut c = Checks::new();
    let rec = create_rec(&m, &pool, &mut c, rd, rec_params(0, entry)).unwrap();
    ok(&m, RmiFid::RealmActivate, &[rd]);
    let run = pool.ns();
    enter_until_wfi(&m, rec, run);
    assert_eq!(
        *seen.lock().unwrap(),
        [0x1122_3344_5566_7788, 0x1122_3344_5566_7788, 0xCAFE_F00D]
    );
    assert_eq!(
        m.hw().mem().inspect(PhysAddr(data)).0[8..16],
        0xABCDu64.to_le_bytes()
    );

    // The registers the RMM ran the realm with (Arm ARM D24.2): DS [32], SL2 [33] with
    // SL0 0, T0SZ 12, SH0 Inner Shareable, PS 52 bits, BADDR[51:48] in VTTBR [5:2].
    let cpu = m.hw().cpu(CpuId(0));
    let (vtcr, vttbr) = (cpu.read(SysReg::VTCR_EL2), cpu.read(SysReg::VTTBR_EL2));
    assert_eq!(vtcr & 0x3F, 12, "T0SZ");
    assert_eq!((vtcr >> 32) & 0b11, 0b11, "DS and SL2");
    assert_eq!((vtcr >> 6) & 0b11, 0, "SL0");
    assert_eq!((vtcr >> 12) & 0b11, 0b11, "SH0");
    assert_eq!((vtcr >> 16) & 0b111, 0b110, "PS");
    assert_eq!((vttbr >> 2) & 0xF, rtt_base >> 48, "BADDR[51:48]");
    let (cfg, vmid) = stage2_regs(vtcr, vttbr);
    assert_eq!(vmid, 3);
    assert_eq!(
        cfg,
        S2Config {
            root: PhysAddr(rtt_base),
            ipa_bits: 52,
            start_level: -1,
            num_root_tables: 1,
            lpa2: true,
        }
    );
    let t = s2walk::walk(m.hw().mem(), &cfg, ipa + 8, Access::Write).expect("mapped");
    assert_eq!((t.pa, t.level, t.pas), (data + 8, 3, Pas::Realm));
    assert_eq!((t.mem_attr, t.sh), (MEMATTR_FWB_NORMAL_WB, SH_FROM_VTCR));
    assert!(t.s2ap_read && t.s2ap_write);
    let t = s2walk::walk(m.hw().mem(), &cfg, ipa + 0x1000, Access::Read).expect("mapped");
    assert_eq!((t.pa, t.pas), (low_data, Pas::Realm));
    let t = s2walk::walk(m.hw().mem(), &cfg, uipa, Access::Read).expect("mapped");
    assert_eq!((t.pa, t.level, t.pas), (ns, 3, Pas::NonSecure));
    assert_eq!(t.xn, 0b10, "unprotected mappings are execute-never");
    // The level -1 descriptor is a table descriptor in the LPA2 layout.
    let (d, at) = s2walk::read_entry(m.hw().mem(), &cfg, ipa, -1).unwrap();
    assert_eq!(at, rtt_base + 7 * 8);
    assert_eq!(d & 0b11, 0b11);
    assert_eq!(s2walk::output_address(d, true) >> 48, 0xD);
}

/// A 52-bit realm starting at level 0 with 16 concatenated tables (Arm ARM D8.2, Table
/// D8-21: T0SZ 12, DS 1), and on the same machine a realm without LPA2: each runs with
/// the VTCR_EL2 its geometry needs (DS 1 and SL0 level 0; DS 0 and PS at most 48
/// bits) and its DATA page is where the walker finds it.
#[test]
fn level_0_start_with_16_tables_and_a_48_bit_realm_on_an_lpa2_machine() {
    let m = Machine::new(SimConfig::lpa2());
    let pool = Pool::new(&m);
    let high = Pool::high(&m).expect("memory above 2^48");
    let cases = [
        (
            RealmSpec {
                s2sz: 52,
                start_level: 0,
                num_start: 16,
                vmid: 4,
                hash_algo: 0,
                lpa2: true,
            },
            // The eighth start table, its last protected entry.
            0x7_FF80_0000_1000u64,
            &high,
        ),
        (RealmSpec::default(), 0x1000, &pool),
    ];
    for (i, (spec, ipa, mem)) in cases.into_iter().enumerate() {
        let (rd, rtt_base) = realm_in(&m, mem, pool.ns(), spec);
        rtts(&m, mem, rd, ipa, spec.start_level + 1);
        let src = pool.ns();
        m.host_write(src, &[0x40 + i as u8; 8]).unwrap();
        let data = mem.ns();
        ok(&m, RmiFid::GranuleDelegate, &[data]);
        ok(&m, RmiFid::DataCreate, &[rd, data, ipa, src, 1]);
        let seen = Seen::default();
        let s = seen.clone();
        let entry = 0x8_0000 + 0x1000 * i as u64;
        m.hw().register_realm_program(
            entry,
            Arc::new(move |cpu: &mut RealmCpu| {
                let mut b = [0u8; 8];
                cpu.read(ipa, &mut b).expect("protected read");
                s.lock().unwrap().push(u64::from_le_bytes(b));
                cpu.wfi();
            }),
        );
        let mut c = Checks::new();
        let rec = create_rec(&m, &pool, &mut c, rd, rec_params(0, entry)).unwrap();
        ok(&m, RmiFid::RealmActivate, &[rd]);
        enter_until_wfi(&m, rec, pool.ns());
        assert_eq!(
            *seen.lock().unwrap(),
            [u64::from_le_bytes([0x40 + i as u8; 8])]
        );
        let cpu = m.hw().cpu(CpuId(0));
        let (vtcr, vttbr) = (cpu.read(SysReg::VTCR_EL2), cpu.read(SysReg::VTTBR_EL2));
        let (cfg, _) = stage2_regs(vtcr, vttbr);
        assert_eq!(cfg.root, PhysAddr(rtt_base));
        assert_eq!(cfg.num_root_tables, spec.num_start);
        assert_eq!(cfg.start_level as i64, spec.start_level);
        assert_eq!(cfg.lpa2, spec.lpa2, "VTCR_EL2.DS");
        let ps = (vtcr >> 16) & 0b111;
        assert_eq!(ps, if spec.lpa2 { 0b110 } else { 0b101 }, "PS");
        let t = s2walk::walk(m.hw().mem(), &cfg, ipa, Access::Read).expect("mapped");
        assert_eq!((t.pa, t.pas), (data, Pas::Realm));
    }
}
