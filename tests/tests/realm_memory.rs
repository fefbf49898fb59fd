//! Hosted checks of the realm memory the RMM builds, against oracles that are not the
//! RMM: the simulation's own stage-2 walker, hashes computed here from spec offsets, and
//! the GPT and granule states after concurrent use.

use std::sync::{Arc, Mutex};

use platform::{Pas, PhysAddr, Stage2Scope, SysReg};
use platform_sim::realm::RealmCpu;
use platform_sim::s2walk::{self, Access, S2Config, S2FaultKind, MEMATTR_FWB_NORMAL_WB};
use platform_sim::{SimConfig, SysRegDefaults};
use rmi_abi::{RmiError, RmiFid, RmiRecEnter, RmiRecExit};
use rmm::granule::GranuleState;
use rmm::hosted::Machine;
use rmm::realm::Rd;
use rmm_conformance::builder::{create_realm, create_rec, rec_params, Pool, Realm, RealmSpec};
use rmm_conformance::Checks;
use sha2::{Digest, Sha256, Sha512};
use zerocopy::{FromBytes, FromZeros, IntoBytes};

const MIB2: u64 = 1 << 21;
const GIB: u64 = 1 << 30;
const UNPROTECTED: u64 = 1 << 39;
/// RmiRttEntryState ASSIGNED and RmiRipas RAM, DESTROYED.
const ASSIGNED: u64 = 1;
const UNASSIGNED: u64 = 0;
const RAM: u64 = 1;
const DESTROYED: u64 = 2;
/// RmiRecEnter flags: trap WFI.
const TRAP_WFI: u64 = 4;

fn rmi(m: &Machine, fid: RmiFid, args: &[u64]) -> [u64; 5] {
    m.rmi(0, fid, args)
}

fn ok(m: &Machine, fid: RmiFid, args: &[u64]) -> [u64; 5] {
    let r = rmi(m, fid, args);
    assert_eq!(r[0], 0, "{fid:?} {args:x?}");
    r
}

fn s2(r: &Realm) -> S2Config {
    S2Config {
        root: PhysAddr(r.rtt_base),
        ipa_bits: r.spec.s2sz as u32,
        start_level: r.spec.start_level as i8,
        num_root_tables: r.spec.num_start,
        lpa2: false,
    }
}

fn rd_of(m: &Machine, r: &Realm) -> Rd {
    Rd::read_from_prefix(&m.hw().mem().inspect(PhysAddr(r.rd)).0)
        .unwrap()
        .0
}

fn new_realm<'a>(m: &'a Machine, pool: &Pool<'a>, spec: RealmSpec) -> Realm {
    let mut c = Checks::new();
    create_realm(m, pool, &mut c, spec).expect("realm created")
}

/// What the RMM built is what the architecture walks: protected pages map the DATA
/// granules as Normal Write-Back, read/write, Realm PAS, with the host's contents;
/// unassigned and EMPTY entries fault; unprotected mappings output to the Non-secure
/// PAS; a folded range is one 2 MiB block.
#[test]
fn stage2_tables_translate_as_the_architecture_walks_them() {
    let m = Machine::with_defaults();
    let pool = Pool::new(&m);
    let r = new_realm(&m, &pool, RealmSpec::default());
    let cfg = s2(&r);
    assert_eq!(cfg.validate(), Ok(()));
    let l2 = pool.ns();
    let l3 = pool.ns();
    ok(&m, RmiFid::GranuleDelegate, &[l2]);
    ok(&m, RmiFid::GranuleDelegate, &[l3]);
    ok(&m, RmiFid::RttCreate, &[r.rd, l2, 0, 2]);
    ok(&m, RmiFid::RttCreate, &[r.rd, l3, 0, 3]);

    let src = pool.ns();
    let content: Vec<u8> = (0..4096u32).map(|i| (i * 7 + 3) as u8).collect();
    m.host_write(src, &content).unwrap();
    let data = pool.ns();
    ok(&m, RmiFid::GranuleDelegate, &[data]);
    ok(&m, RmiFid::DataCreate, &[r.rd, data, 0x5000, src, 1]);

    let t = s2walk::walk(m.hw().mem(), &cfg, 0x5123, Access::Write).expect("mapped");
    assert_eq!(t.pa, data + 0x123);
    assert_eq!(t.level, 3);
    assert_eq!(t.pas, Pas::Realm);
    assert!(t.s2ap_read && t.s2ap_write);
    assert_eq!(t.mem_attr, MEMATTR_FWB_NORMAL_WB);
    assert_eq!(t.sh, 0b11);
    let mut back = vec![0u8; 4096];
    s2walk::read_ipa(m.hw().mem(), &cfg, 0x5000, &mut back).unwrap();
    assert_eq!(back, content, "the realm sees the measured contents");

    // Unassigned (EMPTY or RAM) and assigned-EMPTY entries are not translated.
    for ipa in [0x4000u64, 0x6000, MIB2, 1 << 30] {
        let f = s2walk::walk(m.hw().mem(), &cfg, ipa, Access::Read).unwrap_err();
        assert_eq!(f.kind, S2FaultKind::Translation, "{ipa:#x}");
    }
    let f = s2walk::walk(m.hw().mem(), &cfg, 0x4000, Access::Read).unwrap_err();
    assert_eq!(f.level, 3);
    let f = s2walk::walk(m.hw().mem(), &cfg, 1 << 30, Access::Read).unwrap_err();
    assert_eq!(f.level, 1);
    let unknown = pool.ns();
    ok(&m, RmiFid::GranuleDelegate, &[unknown]);
    ok(&m, RmiFid::DataCreateUnknown, &[r.rd, unknown, 0x7000]);
    assert!(
        s2walk::walk(m.hw().mem(), &cfg, 0x7000, Access::Read).is_err(),
        "RIPAS EMPTY"
    );
    // INIT_RIPAS makes the assigned page accessible (zero contents).
    ok(&m, RmiFid::RttInitRipas, &[r.rd, 0x6000, 0x8000]);
    let t = s2walk::walk(m.hw().mem(), &cfg, 0x7000, Access::Read).unwrap();
    assert_eq!(t.pa, unknown);
    assert!(
        s2walk::walk(m.hw().mem(), &cfg, 0x6000, Access::Read).is_err(),
        "unassigned RAM"
    );

    // Unprotected: host memory through the Non-secure PAS.
    let shared = pool.ns();
    m.host_write(shared, b"shared page").unwrap();
    let ul2 = pool.ns();
    let ul3 = pool.ns();
    ok(&m, RmiFid::GranuleDelegate, &[ul2]);
    ok(&m, RmiFid::GranuleDelegate, &[ul3]);
    ok(&m, RmiFid::RttCreate, &[r.rd, ul2, UNPROTECTED, 2]);
    ok(&m, RmiFid::RttCreate, &[r.rd, ul3, UNPROTECTED, 3]);
    let desc = shared | 0b110 << 2 | 0b01 << 6; // read-only
    ok(
        &m,
        RmiFid::RttMapUnprotected,
        &[r.rd, UNPROTECTED + 0x2000, 3, desc],
    );
    let t = s2walk::walk(m.hw().mem(), &cfg, UNPROTECTED + 0x2004, Access::Read).unwrap();
    assert_eq!((t.pa, t.pas), (shared + 4, Pas::NonSecure));
    assert!(t.s2ap_read && !t.s2ap_write);
    assert_eq!(t.xn, 0b10, "unprotected mappings are execute-never");
    assert_eq!(t.sh, 0b11);
    let mut b = [0u8; 11];
    s2walk::read_ipa(m.hw().mem(), &cfg, UNPROTECTED + 0x2000, &mut b).unwrap();
    assert_eq!(&b, b"shared page");
    let f = s2walk::walk(m.hw().mem(), &cfg, UNPROTECTED + 0x2000, Access::Write).unwrap_err();
    assert_eq!(f.kind, S2FaultKind::Permission);

    // A folded, fully assigned 2 MiB range is one block descriptor at level 2.
    let l3b = pool.ns();
    ok(&m, RmiFid::GranuleDelegate, &[l3b]);
    ok(&m, RmiFid::RttCreate, &[r.rd, l3b, MIB2, 3]);
    ok(&m, RmiFid::RttInitRipas, &[r.rd, MIB2, 2 * MIB2]);
    let base = pool.ns_contiguous(512, MIB2);
    for i in 0..512 {
        ok(&m, RmiFid::GranuleDelegate, &[base + i * 4096]);
        ok(
            &m,
            RmiFid::DataCreateUnknown,
            &[r.rd, base + i * 4096, MIB2 + i * 4096],
        );
    }
    ok(&m, RmiFid::RttFold, &[r.rd, MIB2, 3]);
    let t = s2walk::walk(m.hw().mem(), &cfg, MIB2 + 0x12_3456, Access::Read).unwrap();
    assert_eq!((t.pa, t.level, t.block_size), (base + 0x12_3456, 2, MIB2));
    // Destroying the data behind it removes the translation.
    ok(&m, RmiFid::RttCreate, &[r.rd, l3b, MIB2, 3]);
    ok(&m, RmiFid::DataDestroy, &[r.rd, MIB2 + 0x12_3000]);
    assert!(s2walk::walk(m.hw().mem(), &cfg, MIB2 + 0x12_3456, Access::Read).is_err());
    assert!(
        m.hw().mem().is_zero(PhysAddr(base + 0x12_3000)),
        "destroyed data is scrubbed"
    );
}

/// The realm's start tables pass the walker's own geometry checks for every start
/// level the RMM accepts.
#[test]
fn start_table_geometry_is_architectural() {
    let m = Machine::with_defaults();
    let pool = Pool::new(&m);
    for (i, (s2sz, level, n)) in [(48u8, 0i64, 1u32), (40, 1, 2), (43, 1, 16), (34, 2, 16)]
        .into_iter()
        .enumerate()
    {
        let spec = RealmSpec {
            s2sz,
            start_level: level,
            num_start: n,
            vmid: 20 + i as u16,
            hash_algo: 1,
            lpa2: false,
        };
        let r = new_realm(&m, &pool, spec);
        assert_eq!(s2(&r).validate(), Ok(()), "{spec:?}");
        let top = 1u64 << (s2sz - 1);
        // The last protected IPA faults (unassigned); the first unprotected likewise.
        for ipa in [top - 4096, top] {
            let f = s2walk::walk(m.hw().mem(), &s2(&r), ipa, Access::Read).unwrap_err();
            assert_eq!((f.kind, f.level), (S2FaultKind::Translation, level as i8));
        }
    }
}

fn params_image(r: &Realm) -> [u8; 4096] {
    // DEN0137 1.0 B4.3.9.4: a zeroed RmiRealmParams keeping flags (0x0), s2sz (0x8),
    // sve_vl (0x10), num_bps (0x18), num_wps (0x20), pmu_num_ctrs (0x28), hash_algo (0x30).
    let mut img = [0u8; 4096];
    img[0x8] = r.spec.s2sz;
    img[0x18] = 1;
    img[0x20] = 1;
    img[0x30] = r.spec.hash_algo;
    img
}

fn hash(algo: u8, parts: &[&[u8]]) -> [u8; 64] {
    let mut out = [0u8; 64];
    if algo == 0 {
        let mut h = Sha256::new();
        parts.iter().for_each(|p| h.update(p));
        out[..32].copy_from_slice(&h.finalize());
    } else {
        let mut h = Sha512::new();
        parts.iter().for_each(|p| h.update(p));
        out.copy_from_slice(&h.finalize());
    }
    out
}

/// RIM after REALM_CREATE, DATA_CREATE and RTT_INIT_RIPAS equals a hash of descriptor
/// bytes laid out here from the specification (C1.11, C1.13), whichever SHA-2
/// instructions ID_AA64ISAR0_EL1.SHA2 \[15:12\] reports: SHA-256 and SHA-512 (the RMM
/// hashes through `Arch::sha256_blocks`/`sha512_blocks`), SHA-256 only (SHA-512 in
/// software), none (software only).
#[test]
fn rim_matches_independent_computation() {
    let isar0s = [0b0010u64 << 12, 0b0001 << 12, 0];
    for (algo, isar0) in [0u8, 1].into_iter().flat_map(|a| isar0s.map(|i| (a, i))) {
        let m = Machine::new(SimConfig {
            sysregs: SysRegDefaults::default().with(SysReg::ID_AA64ISAR0_EL1, isar0),
            ..SimConfig::default()
        });
        let pool = Pool::new(&m);
        let r = new_realm(
            &m,
            &pool,
            RealmSpec {
                hash_algo: algo,
                ..RealmSpec::default()
            },
        );
        let mut rim = hash(algo, &[&params_image(&r)]);
        assert_eq!(rd_of(&m, &r).measurements[0], rim, "RIM after REALM_CREATE");
        assert_eq!(rd_of(&m, &r).measurements[1], [0; 64], "REMs start at zero");

        for _ in 0..2 {
            let g = pool.ns();
            ok(&m, RmiFid::GranuleDelegate, &[g]);
            let level = if rmi(&m, RmiFid::RttReadEntry, &[r.rd, 0, 2])[1] == 1 {
                2
            } else {
                3
            };
            ok(&m, RmiFid::RttCreate, &[r.rd, g, 0, level]);
        }
        // RTT_INIT_RIPAS of two pages: one descriptor per entry.
        ok(&m, RmiFid::RttInitRipas, &[r.rd, 0x1000, 0x3000]);
        for base in [0x1000u64, 0x2000] {
            let mut d = [0u8; 0x100];
            d[0] = 2;
            d[0x8..0x10].copy_from_slice(&0x100u64.to_le_bytes());
            d[0x10..0x50].copy_from_slice(&rim);
            d[0x50..0x58].copy_from_slice(&base.to_le_bytes());
            d[0x58..0x60].copy_from_slice(&(base + 0x1000).to_le_bytes());
            rim = hash(algo, &[&d]);
        }
        assert_eq!(
            rd_of(&m, &r).measurements[0],
            rim,
            "RIM after RTT_INIT_RIPAS"
        );

        // DATA_CREATE with content measured, then without.
        let src = pool.ns();
        m.host_write(src, &[0xAB; 4096]).unwrap();
        for (ipa, flags) in [(0x5000u64, 1u64), (0x6000, 0)] {
            let data = pool.ns();
            ok(&m, RmiFid::GranuleDelegate, &[data]);
            ok(&m, RmiFid::DataCreate, &[r.rd, data, ipa, src, flags]);
            let mut d = [0u8; 0x100];
            d[0] = 0;
            d[0x8..0x10].copy_from_slice(&0x100u64.to_le_bytes());
            d[0x10..0x50].copy_from_slice(&rim);
            d[0x50..0x58].copy_from_slice(&ipa.to_le_bytes());
            d[0x58..0x60].copy_from_slice(&flags.to_le_bytes());
            if flags == 1 {
                d[0x60..0xA0].copy_from_slice(&hash(algo, &[&[0xAB; 4096]]));
            }
            rim = hash(algo, &[&d]);
            assert_eq!(
                rd_of(&m, &r).measurements[0],
                rim,
                "RIM after DATA_CREATE {flags}"
            );
        }
        // DATA_CREATE_UNKNOWN is not measured.
        let data = pool.ns();
        ok(&m, RmiFid::GranuleDelegate, &[data]);
        ok(&m, RmiFid::DataCreateUnknown, &[r.rd, data, 0x7000]);
        assert_eq!(rd_of(&m, &r).measurements[0], rim);
        // A failed command does not measure.
        assert_eq!(
            rmi(&m, RmiFid::DataCreate, &[r.rd, data, 0x7000, src, 1])[0],
            1
        );
        assert_eq!(rd_of(&m, &r).measurements[0], rim);

        // REC_CREATE: runnable RECs extend the RIM (C1.12), others do not.
        let aux_count = ok(&m, RmiFid::RecAuxCount, &[r.rd])[1] as usize;
        for (index, runnable) in [(0u64, true), (1, false)] {
            let rec = pool.ns();
            ok(&m, RmiFid::GranuleDelegate, &[rec]);
            let mut p = [0u8; 4096];
            p[0] = runnable as u8;
            p[0x100] = index as u8; // mpidr: Aff0
            p[0x200..0x208].copy_from_slice(&0x8_0000u64.to_le_bytes());
            for (i, g) in (0x300..0x340).step_by(8).enumerate() {
                p[g..g + 8].copy_from_slice(&(0x1111 * (i as u64 + 1)).to_le_bytes());
            }
            p[0x800..0x808].copy_from_slice(&(aux_count as u64).to_le_bytes());
            for i in 0..aux_count {
                let a = pool.ns();
                ok(&m, RmiFid::GranuleDelegate, &[a]);
                p[0x808 + 8 * i..0x810 + 8 * i].copy_from_slice(&a.to_le_bytes());
            }
            let params = pool.ns();
            m.host_write(params, &p).unwrap();
            ok(&m, RmiFid::RecCreate, &[r.rd, rec, params]);
            if runnable {
                // Measured image: flags, pc and gprs only (B4.3.12.4).
                let mut img = p;
                img[0x100..0x108].fill(0);
                img[0x800..].fill(0);
                let mut d = [0u8; 0x100];
                d[0] = 1;
                d[0x8..0x10].copy_from_slice(&0x100u64.to_le_bytes());
                d[0x10..0x50].copy_from_slice(&rim);
                d[0x50..0x90].copy_from_slice(&hash(algo, &[&img]));
                rim = hash(algo, &[&d]);
            }
            assert_eq!(
                rd_of(&m, &r).measurements[0],
                rim,
                "RIM after REC_CREATE {index}"
            );
        }
    }
}

/// Several CPUs issue realm, RTT and delegation commands naming overlapping granules,
/// in both address orders. Every call completes with an RMI status, nothing deadlocks,
/// and at the end the RMM's granule states, the GPT and the contents agree.
/// Aborts the test process if `flag` is not set within `secs`: a deadlock must fail
/// the run, not hang it.
fn watchdog(flag: std::sync::Arc<std::sync::atomic::AtomicBool>, secs: u64) {
    std::thread::spawn(move || {
        for _ in 0..secs * 10 {
            if flag.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        eprintln!("deadlock: concurrent RMI calls did not complete within {secs} s");
        std::process::abort();
    });
}

#[test]
fn concurrent_commands_on_overlapping_granules() {
    let finished = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    watchdog(finished.clone(), 120);
    let m = Machine::with_defaults();
    let pool: Vec<u64> = (0..6).map(|i| m.ns_granule(64 + i)).collect();
    let params = m.ns_granule(200);
    // One-table 39-bit realms, so any granule can be a start table.
    let mut spec = RealmSpec {
        s2sz: 39,
        start_level: 1,
        num_start: 1,
        ..RealmSpec::default()
    };
    let done = std::sync::atomic::AtomicUsize::new(0);
    let successes: [std::sync::atomic::AtomicUsize; 7] = Default::default();
    // Rounds of 4 x 3000 calls until every kind of command has succeeded at least once
    // (which interleaving lets each succeed is up to the scheduler), at most 20.
    let mut rounds = 0;
    for _round in 0..20 {
        rounds += 1;
        std::thread::scope(|s| {
            for cpu in 0..4usize {
                let (m, pool, done, successes) = (&m, &pool, &done, &successes);
                s.spawn(move || {
                    let mut x = 0x9E37_79B9u64 + cpu as u64;
                    for _ in 0..3000 {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        let a = pool[(x % 6) as usize];
                        let b = pool[((x >> 8) % 6) as usize];
                        let op = ((x >> 16) % 7) as usize;
                        let r = match op {
                            0 | 1 => m.rmi(cpu, RmiFid::GranuleDelegate, &[a]),
                            2 => m.rmi(cpu, RmiFid::GranuleUndelegate, &[a]),
                            3 => m.rmi(cpu, RmiFid::RealmCreate, &[a, params]),
                            4 => m.rmi(cpu, RmiFid::RealmDestroy, &[a]),
                            5 => m.rmi(cpu, RmiFid::RttCreate, &[a, b, 0, 2]),
                            _ => m.rmi(cpu, RmiFid::RttDestroy, &[a, 0, 2]),
                        };
                        let status = r[0] & 0xFF;
                        assert!(status <= 4, "status {:#x}", r[0]);
                        if r[0] == 0 {
                            successes[op].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                    done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                });
            }
            // The parameters name pool[0] as the start table; the threads rewrite nothing.
            spec.vmid = 3;
            m.host_write(params, zerocopy::IntoBytes::as_bytes(&spec.params(pool[0])))
                .unwrap();
        });
        if successes
            .iter()
            .all(|a| a.load(std::sync::atomic::Ordering::Relaxed) > 0)
        {
            break;
        }
    }
    finished.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        done.load(std::sync::atomic::Ordering::SeqCst),
        4 * rounds,
        "every thread finished"
    );
    let ok_counts: Vec<usize> = successes
        .iter()
        .map(|a| a.load(std::sync::atomic::Ordering::Relaxed))
        .collect();
    // Every kind of command succeeded at least once: the run really contended.
    assert!(
        ok_counts.iter().all(|&n| n > 0),
        "successes per command: {ok_counts:?}"
    );
    // Tear everything down and check that every granule returns to the host, zeroed.
    for _ in 0..3 {
        for &g in &pool {
            let _ = m.rmi(0, RmiFid::RttDestroy, &[g, 0, 2]);
            let _ = m.rmi(0, RmiFid::RealmDestroy, &[g]);
        }
    }
    for &g in &pool {
        let state = m.granule_state(g).unwrap();
        match state {
            GranuleState::Ns => assert_eq!(m.pas(g), Some(Pas::NonSecure)),
            GranuleState::Delegated | GranuleState::Rtt => assert_eq!(m.pas(g), Some(Pas::Realm)),
            other => panic!("granule {g:#x} left in {other:?}"),
        }
        if state == GranuleState::Delegated {
            assert!(
                m.hw().mem().is_zero(PhysAddr(g)),
                "DELEGATED granule {g:#x} not zero"
            );
            assert_eq!(m.rmi(0, RmiFid::GranuleUndelegate, &[g])[0], 0);
        }
    }
    let leftover_rtts = pool
        .iter()
        .filter(|&&g| m.granule_state(g) == Some(GranuleState::Rtt))
        .count();
    assert_eq!(leftover_rtts, 0, "every RTT was destroyed with its realm");
    let _ = RmiError::Input;
}

/// What a realm program read, for the host to check.
type Seen = Arc<Mutex<Vec<u64>>>;

/// Reads the 64-bit word at `ipa` in the realm and records it.
fn read_word(cpu: &mut RealmCpu, seen: &Seen, ipa: u64) {
    let mut b = [0u8; 8];
    cpu.read(ipa, &mut b).expect("realm read");
    seen.lock().unwrap().push(u64::from_le_bytes(b));
}

/// Registers `program` at `entry`, creates the realm's REC 0 starting there and
/// activates the realm; returns the REC and a RecRun granule.
fn start(
    m: &Machine,
    pool: &Pool<'_>,
    r: &Realm,
    entry: u64,
    program: impl Fn(&mut RealmCpu) + Send + Sync + 'static,
) -> (u64, u64) {
    m.hw().register_realm_program(entry, Arc::new(program));
    let mut c = Checks::new();
    let rec = create_rec(m, pool, &mut c, r.rd, rec_params(0, entry)).expect("REC created");
    ok(m, RmiFid::RealmActivate, &[r.rd]);
    (rec, pool.ns())
}

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

/// The invalidations made since the log had `from` entries.
fn invalidations_since(m: &Machine, from: usize) -> Vec<(u16, Stage2Scope)> {
    m.hw().stage2_invalidation_log()[from..].to_vec()
}

/// A default realm (VMID 1) whose IPAs [2 MiB, 4 MiB) are RIPAS RAM and ASSIGNED to
/// 512 contiguous DATA granules from a 2 MiB-aligned base, page `i` holding the word
/// `i`, under a level-3 RTT; folded into one level-2 block if `fold`. Returns the
/// realm, the base of the data and the level-3 RTT (DELEGATED again if folded).
fn block_realm(m: &Machine, pool: &Pool<'_>, fold: bool) -> (Realm, u64, u64) {
    let r = new_realm(m, pool, RealmSpec::default());
    let l2 = pool.ns();
    let l3 = pool.ns();
    ok(m, RmiFid::GranuleDelegate, &[l2]);
    ok(m, RmiFid::GranuleDelegate, &[l3]);
    ok(m, RmiFid::RttCreate, &[r.rd, l2, 0, 2]);
    ok(m, RmiFid::RttCreate, &[r.rd, l3, MIB2, 3]);
    ok(m, RmiFid::RttInitRipas, &[r.rd, MIB2, 2 * MIB2]);
    let base = pool.ns_contiguous(512, MIB2);
    let src = pool.ns();
    for i in 0..512u64 {
        m.host_write(src, &i.to_le_bytes()).unwrap();
        ok(m, RmiFid::GranuleDelegate, &[base + i * 4096]);
        ok(
            m,
            RmiFid::DataCreate,
            &[r.rd, base + i * 4096, MIB2 + i * 4096, src, 0],
        );
    }
    if fold {
        assert_eq!(ok(m, RmiFid::RttFold, &[r.rd, MIB2, 3])[1], l3);
    }
    (r, base, l3)
}

/// A realm reads from a 2 MiB block; the host then unfolds it into pages with
/// RTT_CREATE. Replacing the valid block descriptor by a table is break-before-make
/// (Arm ARM D8.16.1): invalid descriptor, invalidation of the block, then the table; the
/// simulated TLB, holding the block, reports a table written over it. The realm then
/// reads the same data through the pages.
#[test]
fn unfolding_a_block_the_realm_used_breaks_before_make() {
    let m = Machine::with_defaults();
    let pool = Pool::new(&m);
    let (r, base, _) = block_realm(&m, &pool, true);
    let seen = Seen::default();
    let s = seen.clone();
    let (rec, run) = start(&m, &pool, &r, 0x8_0000, move |cpu| loop {
        read_word(cpu, &s, MIB2 + 5 * 0x1000);
        read_word(cpu, &s, MIB2 + 511 * 0x1000);
        cpu.wfi();
    });
    enter_until_wfi(&m, rec, run);
    assert_eq!(*seen.lock().unwrap(), [5, 511]);

    let from = m.hw().stage2_invalidation_log().len();
    let l3 = pool.ns();
    ok(&m, RmiFid::GranuleDelegate, &[l3]);
    ok(&m, RmiFid::RttCreate, &[r.rd, l3, MIB2, 3]);
    assert_eq!(
        invalidations_since(&m, from),
        [(
            1,
            Stage2Scope::Leaf {
                ipa: MIB2,
                level: 2
            }
        )],
        "the block, once"
    );
    assert_eq!(
        rmi(&m, RmiFid::RttReadEntry, &[r.rd, MIB2 + 0x5000, 3]),
        [0, 3, ASSIGNED, base + 0x5000, RAM]
    );
    enter_until_wfi(&m, rec, run);
    assert_eq!(*seen.lock().unwrap(), [5, 511, 5, 511]);
}

/// A realm reads pages of a level-3 RTT; the host then folds it into a block. The table
/// descriptor is replaced by a block (break-before-make), and what the table mapped is
/// invalidated over its whole 2 MiB range before the RTT is scrubbed: an invalidation
/// of one IPA would leave the other pages' translations cached, walking through the
/// scrubbed RTT.
#[test]
fn folding_pages_the_realm_used_invalidates_the_tables_range() {
    let m = Machine::with_defaults();
    let pool = Pool::new(&m);
    let (r, base, l3) = block_realm(&m, &pool, false);
    let seen = Seen::default();
    let s = seen.clone();
    let (rec, run) = start(&m, &pool, &r, 0x8_0000, move |cpu| loop {
        read_word(cpu, &s, MIB2 + 5 * 0x1000);
        read_word(cpu, &s, MIB2 + 511 * 0x1000);
        cpu.wfi();
    });
    enter_until_wfi(&m, rec, run);
    assert_eq!(*seen.lock().unwrap(), [5, 511]);

    let from = m.hw().stage2_invalidation_log().len();
    assert_eq!(ok(&m, RmiFid::RttFold, &[r.rd, MIB2, 3])[1], l3);
    assert_eq!(
        invalidations_since(&m, from),
        [(
            1,
            Stage2Scope::Range {
                base: MIB2,
                size: MIB2
            }
        )],
        "the table's range, once"
    );
    assert_eq!(m.granule_state(l3), Some(GranuleState::Delegated));
    assert!(m.hw().mem().is_zero(PhysAddr(l3)), "the RTT is scrubbed");
    assert_eq!(
        rmi(&m, RmiFid::RttReadEntry, &[r.rd, MIB2, 2]),
        [0, 2, ASSIGNED, base, RAM]
    );
    enter_until_wfi(&m, rec, run);
    assert_eq!(*seen.lock().unwrap(), [5, 511, 5, 511]);
}

/// A realm reads a DATA page; the host destroys it and reuses the granule as DATA at
/// another IPA. The destroyed page's translation is invalidated before the granule is
/// scrubbed, so the realm reads the reused granule as the zeroes it now holds.
#[test]
fn destroyed_data_reused_elsewhere_is_not_reached_through_its_old_ipa() {
    let m = Machine::with_defaults();
    let pool = Pool::new(&m);
    let r = new_realm(&m, &pool, RealmSpec::default());
    let mut c = Checks::new();
    rmm_conformance::builder::map_low_ipa(&m, &pool, &mut c, r.rd, MIB2).unwrap();
    let src = pool.ns();
    m.host_write(src, &[0xA1; 4096]).unwrap();
    let data = pool.ns();
    ok(&m, RmiFid::GranuleDelegate, &[data]);
    ok(&m, RmiFid::DataCreate, &[r.rd, data, 0x5000, src, 0]);
    let seen = Seen::default();
    let s = seen.clone();
    let (rec, run) = start(&m, &pool, &r, 0x8_0000, move |cpu| {
        read_word(cpu, &s, 0x5000);
        cpu.wfi();
        read_word(cpu, &s, 0x6000);
        cpu.wfi();
    });
    enter_until_wfi(&m, rec, run);
    assert_eq!(*seen.lock().unwrap(), [0xA1A1_A1A1_A1A1_A1A1]);

    let from = m.hw().stage2_invalidation_log().len();
    let d = ok(&m, RmiFid::DataDestroy, &[r.rd, 0x5000]);
    assert_eq!(d[1], data);
    assert_eq!(
        invalidations_since(&m, from),
        [(
            1,
            Stage2Scope::Leaf {
                ipa: 0x5000,
                level: 3
            }
        )]
    );
    assert_eq!(
        rmi(&m, RmiFid::RttReadEntry, &[r.rd, 0x5000, 3]),
        [0, 3, UNASSIGNED, 0, DESTROYED]
    );
    ok(&m, RmiFid::DataCreateUnknown, &[r.rd, data, 0x6000]);
    enter_until_wfi(&m, rec, run);
    assert_eq!(*seen.lock().unwrap(), [0xA1A1_A1A1_A1A1_A1A1, 0]);
}

/// A realm reads host memory through an unprotected level-1 block in its start-level
/// RTT; the host destroys the realm without unmapping it (an RTT whose only valid
/// entries are ASSIGNED_NS is not live, DEN0137 1.0 A5.5.8). The RMM must invalidate
/// the VMID before it scrubs the start tables and frees the VMID: another realm given
/// the same VMID then reads its own mapping at that IPA, not the destroyed realm's.
#[test]
fn realm_destroy_invalidates_the_vmid_before_it_is_reused() {
    let m = Machine::with_defaults();
    let pool = Pool::new(&m);
    let r = new_realm(&m, &pool, RealmSpec::default());
    let host = pool.ns();
    m.host_write(host, &0x1111u64.to_le_bytes()).unwrap();
    // 1 GiB of host memory from 0x4000_0000, Normal WB, read/write.
    let dram = 0x4000_0000u64;
    assert!(host - dram < GIB);
    let desc = dram | 0b110 << 2 | 0b11 << 6;
    ok(&m, RmiFid::RttMapUnprotected, &[r.rd, UNPROTECTED, 1, desc]);
    let ipa = UNPROTECTED + (host - dram);
    let seen = Seen::default();
    let s = seen.clone();
    let (rec, run) = start(&m, &pool, &r, 0x8_0000, move |cpu| loop {
        read_word(cpu, &s, ipa);
        cpu.wfi();
    });
    enter_until_wfi(&m, rec, run);
    assert_eq!(*seen.lock().unwrap(), [0x1111]);

    ok(&m, RmiFid::RecDestroy, &[rec]);
    let from = m.hw().stage2_invalidation_log().len();
    ok(&m, RmiFid::RealmDestroy, &[r.rd]);
    assert_eq!(invalidations_since(&m, from), [(1, Stage2Scope::Vmid)]);

    // A new realm with VMID 1 maps another host page at the same IPA.
    let r2 = new_realm(&m, &pool, RealmSpec::default());
    for (level, align) in [(2u64, GIB), (3, MIB2)] {
        let t = pool.ns();
        ok(&m, RmiFid::GranuleDelegate, &[t]);
        ok(
            &m,
            RmiFid::RttCreate,
            &[r2.rd, t, ipa & !(align - 1), level],
        );
    }
    let host2 = pool.ns();
    m.host_write(host2, &0x2222u64.to_le_bytes()).unwrap();
    let desc2 = host2 | 0b110 << 2 | 0b11 << 6;
    ok(&m, RmiFid::RttMapUnprotected, &[r2.rd, ipa, 3, desc2]);
    let seen2 = Seen::default();
    let s2 = seen2.clone();
    let (rec2, run2) = start(&m, &pool, &r2, 0x9_0000, move |cpu| loop {
        read_word(cpu, &s2, ipa);
        cpu.wfi();
    });
    enter_until_wfi(&m, rec2, run2);
    assert_eq!(*seen2.lock().unwrap(), [0x2222]);
}

/// A realm reads host memory through a level-3 RTT of unprotected mappings; the host
/// destroys that RTT without unmapping them (it is not live, DEN0137 1.0 A5.5.8). The
/// mappings' translations walk through the RTT, so its whole range is invalidated
/// before it is scrubbed.
#[test]
fn destroying_an_rtt_of_unprotected_mappings_invalidates_its_range() {
    let m = Machine::with_defaults();
    let pool = Pool::new(&m);
    let r = new_realm(&m, &pool, RealmSpec::default());
    let mut tables = Vec::new();
    for level in [2u64, 3] {
        let t = pool.ns();
        ok(&m, RmiFid::GranuleDelegate, &[t]);
        ok(&m, RmiFid::RttCreate, &[r.rd, t, UNPROTECTED, level]);
        tables.push(t);
    }
    let host = pool.ns();
    m.host_write(host, &0x3333u64.to_le_bytes()).unwrap();
    let desc = host | 0b110 << 2 | 0b11 << 6;
    for page in [0u64, 0x1000, 0x7000] {
        ok(
            &m,
            RmiFid::RttMapUnprotected,
            &[r.rd, UNPROTECTED + page, 3, desc],
        );
    }
    let seen = Seen::default();
    let s = seen.clone();
    let (rec, run) = start(&m, &pool, &r, 0x8_0000, move |cpu| {
        read_word(cpu, &s, UNPROTECTED + 0x1000);
        read_word(cpu, &s, UNPROTECTED + 0x7000);
        loop {
            cpu.wfi();
        }
    });
    enter_until_wfi(&m, rec, run);
    assert_eq!(*seen.lock().unwrap(), [0x3333, 0x3333]);

    let from = m.hw().stage2_invalidation_log().len();
    let d = ok(&m, RmiFid::RttDestroy, &[r.rd, UNPROTECTED, 3]);
    assert_eq!(d[1], tables[1]);
    assert_eq!(
        invalidations_since(&m, from),
        [(
            1,
            Stage2Scope::Range {
                base: UNPROTECTED,
                size: MIB2
            }
        )]
    );
    assert!(m.hw().mem().is_zero(PhysAddr(tables[1])));
    enter_until_wfi(&m, rec, run);
}

/// After RTT_UNMAP_UNPROTECTED the realm must no longer reach the host page
/// (the entry is UNASSIGNED_NS, a translation fault). A cached translation from before
/// the unmap must have been invalidated.
#[test]
fn an_unmapped_unprotected_page_is_not_reached_through_a_stale_translation() {
    let m = Machine::with_defaults();
    let pool = Pool::new(&m);
    let r = new_realm(&m, &pool, RealmSpec::default());
    for level in [2u64, 3] {
        let t = pool.ns();
        ok(&m, RmiFid::GranuleDelegate, &[t]);
        ok(&m, RmiFid::RttCreate, &[r.rd, t, UNPROTECTED, level]);
    }
    let host = pool.ns();
    m.host_write(host, &0x3333u64.to_le_bytes()).unwrap();
    let desc = host | 0b110 << 2 | 0b11 << 6;
    ok(
        &m,
        RmiFid::RttMapUnprotected,
        &[r.rd, UNPROTECTED + 0x1000, 3, desc],
    );
    let seen = Seen::default();
    let s = seen.clone();
    let (rec, run) = start(&m, &pool, &r, 0x8_0000, move |cpu| {
        read_word(cpu, &s, UNPROTECTED + 0x1000);
        cpu.wfi();
        let mut b = [0u8; 8];
        let res = cpu.read(UNPROTECTED + 0x1000, &mut b);
        s.lock().unwrap().push(if res.is_ok() {
            u64::from_le_bytes(b)
        } else {
            u64::MAX
        });
        loop {
            cpu.wfi();
        }
    });
    enter_until_wfi(&m, rec, run);
    assert_eq!(*seen.lock().unwrap(), [0x3333]);
    ok(
        &m,
        RmiFid::RttUnmapUnprotected,
        &[r.rd, UNPROTECTED + 0x1000, 3],
    );
    // The host may now reuse its page for anything.
    m.host_write(host, &0x4444u64.to_le_bytes()).unwrap();
    let mut e = RmiRecEnter::new_zeroed();
    e.flags = TRAP_WFI;
    m.host_write(run, e.as_bytes()).unwrap();
    ok(&m, RmiFid::RecEnter, &[rec, run]);
    let mut page = [0u8; 4096];
    m.host_read(run, &mut page).unwrap();
    let exit = RmiRecExit::read_from_bytes(&page[0x800..]).unwrap();
    assert_eq!(
        exit.esr >> 26,
        0x24,
        "the realm's read of the unmapped page must exit with a data abort; it read {:x?}",
        seen.lock().unwrap()
    );
}

/// RMI_DATA_CREATE failing on a condition that comes after src_pas in DEN0137 1.0's
/// order (B4.3.1.2: realm_state, rtt_walk, rtte_state), with a readable source page
/// of non-zero bytes and MEASURE_CONTENT: the status is that condition's, and nothing
/// changed: the DATA granule is DELEGATED and all zero (as delegation left it), the RIM
/// and the RTT entry are as before. Then the same granule takes a DATA_CREATE that
/// succeeds, with the source's bytes.
#[test]
fn a_data_create_failing_after_src_pas_leaves_the_granule_zero() {
    let m = Machine::with_defaults();
    let pool = Pool::new(&m);
    let r = new_realm(&m, &pool, RealmSpec::default());
    let mut c = Checks::new();
    rmm_conformance::builder::map_low_ipa(&m, &pool, &mut c, r.rd, 0).unwrap();
    let src = pool.ns();
    m.host_write(src, &[0xC3; 4096]).unwrap();
    let data = pool.ns();
    ok(&m, RmiFid::GranuleDelegate, &[data]);
    let unchanged = |what: &str, ipa: u64, before: [u64; 5], rim: [u8; 64]| {
        assert_eq!(
            m.granule_state(data),
            Some(GranuleState::Delegated),
            "{what}"
        );
        assert!(
            m.hw()
                .mem()
                .inspect(PhysAddr(data))
                .0
                .iter()
                .all(|&b| b == 0),
            "{what}: the DATA granule is not zero"
        );
        assert_eq!(rd_of(&m, &r).measurements[0], rim, "{what}: RIM");
        assert_eq!(
            rmi(&m, RmiFid::RttReadEntry, &[r.rd, ipa, 3]),
            before,
            "{what}: RTT entry"
        );
    };
    let code = |e: RmiError| rmi_abi::status::return_code::<()>(&Err(e));
    let fail = |what: &str, ipa: u64, want: RmiError| {
        let before = rmi(&m, RmiFid::RttReadEntry, &[r.rd, ipa, 3]);
        let rim = rd_of(&m, &r).measurements[0];
        assert_eq!(
            rmi(&m, RmiFid::DataCreate, &[r.rd, data, ipa, src, 1])[0],
            code(want),
            "{what}"
        );
        unchanged(what, ipa, before, rim);
    };
    // rtt_walk: no level 3 table at 2 MiB (the walk ends at level 2).
    fail("rtt_walk", 0x20_0000, RmiError::Rtt(2));
    // rtte_state: the entry at 0x1000 is ASSIGNED.
    let other = pool.ns();
    ok(&m, RmiFid::GranuleDelegate, &[other]);
    ok(&m, RmiFid::DataCreate, &[r.rd, other, 0x1000, src, 1]);
    fail("rtte_state", 0x1000, RmiError::Rtt(3));
    // The granule is usable: a DATA_CREATE into it succeeds with the source's bytes.
    ok(&m, RmiFid::DataCreate, &[r.rd, data, 0x2000, src, 0]);
    assert!(m
        .hw()
        .mem()
        .inspect(PhysAddr(data))
        .0
        .iter()
        .all(|&b| b == 0xC3));
    ok(&m, RmiFid::DataDestroy, &[r.rd, 0x2000]);
    assert_eq!(m.granule_state(data), Some(GranuleState::Delegated));
    // realm_state: the realm is ACTIVE.
    ok(&m, RmiFid::RealmActivate, &[r.rd]);
    fail("realm_state", 0x3000, RmiError::Realm(0));
}
