//! RIPAS changes and PSCI on the hosted machine: RSI_IPA_STATE_GET/SET with
//! RMI_RTT_SET_RIPAS, the PSCI calls a realm makes with RMI_PSCI_COMPLETE, and the
//! attestation calls that are not implemented yet. Realm programs assert what the realm
//! sees inside the closure; the test, playing the host, asserts the exit records and the
//! RMI results. Expected values are written out from DEN0137 1.0 and PSCI 1.1, not taken
//! from the RMM's own constants.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use platform::SysReg;
use platform_sim::realm::{RealmCpu, RealmProgram};
use rmi_abi::{RmiError, RmiFid, RmiRecEnter, RmiRecExit};
use rmm::hosted::Machine;
use rmm_conformance::builder::{
    create_realm, create_rec, load_pages, map_low_ipa, rec_params, Pool, RealmSpec,
};
use rmm_conformance::Checks;
use rsi_abi::fid;
use zerocopy::{FromBytes, FromZeros, IntoBytes};

/// REC 0's entry point.
const ENTRY: u64 = 0x8_0000;
/// The entry point PSCI_CPU_ON gives REC 1.
const ENTRY1: u64 = 0x9_0000;
/// The first Unprotected IPA of a 40-bit realm.
const UNPROTECTED: u64 = 1 << 39;

const RSI_VERSION: u64 = fid::RSI_VERSION as u64;
const RSI_ATTESTATION_TOKEN_INIT: u64 = fid::RSI_ATTESTATION_TOKEN_INIT as u64;
const RSI_ATTESTATION_TOKEN_CONTINUE: u64 = fid::RSI_ATTESTATION_TOKEN_CONTINUE as u64;
const RSI_IPA_STATE_SET: u64 = fid::RSI_IPA_STATE_SET as u64;
const RSI_IPA_STATE_GET: u64 = fid::RSI_IPA_STATE_GET as u64;
const RSI_ERROR_INPUT: u64 = 1;
const EMPTY: u64 = 0;
const RAM: u64 = 1;
const DESTROYED: u64 = 2;
const ACCEPT: u64 = 0;
const REJECT: u64 = 1;
const CHANGE_DESTROYED: u64 = 1;

const PSCI_VERSION: u64 = 0x8400_0000;
const PSCI_CPU_SUSPEND_32: u64 = 0x8400_0001;
const PSCI_CPU_SUSPEND_64: u64 = 0xC400_0001;
const PSCI_CPU_OFF: u64 = 0x8400_0002;
const PSCI_CPU_ON_32: u64 = 0x8400_0003;
const PSCI_CPU_ON_64: u64 = 0xC400_0003;
const PSCI_AFFINITY_INFO_32: u64 = 0x8400_0004;
const PSCI_AFFINITY_INFO_64: u64 = 0xC400_0004;
const PSCI_MIGRATE_INFO_TYPE: u64 = 0x8400_0006;
const PSCI_SYSTEM_OFF: u64 = 0x8400_0008;
const PSCI_SYSTEM_RESET: u64 = 0x8400_0009;
const PSCI_FEATURES: u64 = 0x8400_000A;
const PSCI_SUCCESS: u64 = 0;
const PSCI_OFF: u64 = 1;
const PSCI_NOT_SUPPORTED: u64 = -1i64 as u64;
const PSCI_INVALID_PARAMETERS: u64 = -2i64 as u64;
const PSCI_DENIED: u64 = -3i64 as u64;
const PSCI_ALREADY_ON: u64 = -4i64 as u64;
const PSCI_INVALID_ADDRESS: u64 = -9i64 as u64;

/// RecEnter flags.
const TRAP_WFI: u64 = 1 << 2;
const RIPAS_RESPONSE_REJECT: u64 = 1 << 4;
/// RmiRttEntryState.
const UNASSIGNED: u64 = 0;
const ASSIGNED: u64 = 1;

fn input() -> u64 {
    RmiError::Input.return_code()
}

fn rtt(level: i8) -> u64 {
    RmiError::Rtt(level).return_code()
}

/// An active 40-bit realm (level-1 start, two tables) with:
/// - a level-2 RTT over [0, 1 GiB) and a level-3 RTT over [0, 2 MiB);
/// - RIPAS RAM on [0, 2 MiB), 16 DATA pages at IPA 0..0x10000, RIPAS EMPTY elsewhere;
/// - RECs 0..n: REC 0 runnable at `ENTRY`, the others not runnable;
///
/// and another realm (VMID 2, not active) with two RECs, for commands naming a REC of
/// the wrong realm.
struct World {
    m: Machine,
    rd: u64,
    recs: Vec<u64>,
    runs: Vec<u64>,
    other_rd: u64,
    other_recs: Vec<u64>,
    next_ns: AtomicUsize,
}

fn ok(m: &Machine, fid: RmiFid, args: &[u64]) -> [u64; 5] {
    let r = m.rmi(0, fid, args);
    assert_eq!(r[0], 0, "{fid:?} {args:x?}");
    r
}

impl World {
    fn new(n_recs: u64, programs: Vec<(u64, RealmProgram)>) -> Self {
        let m = Machine::with_defaults();
        for (entry, p) in programs {
            m.hw().register_realm_program(entry, p);
        }
        let (rd, recs, runs, other_rd, other_recs) = {
            let pool = Pool::new(&m);
            let mut c = Checks::new();
            let realm = create_realm(&m, &pool, &mut c, RealmSpec::default()).unwrap();
            map_low_ipa(&m, &pool, &mut c, realm.rd, 0x20_0000).unwrap();
            let src = pool.ns();
            load_pages(&m, &pool, &mut c, realm.rd, src, 16).unwrap();
            let recs: Vec<u64> = (0..n_recs)
                .map(|i| create_rec(&m, &pool, &mut c, realm.rd, rec_params(i, ENTRY)).unwrap())
                .collect();
            ok(&m, RmiFid::RealmActivate, &[realm.rd]);
            let runs = (0..n_recs).map(|_| pool.ns()).collect();
            let spec = RealmSpec {
                vmid: 2,
                ..RealmSpec::default()
            };
            let other = create_realm(&m, &pool, &mut c, spec).unwrap();
            let other_recs = (0..2)
                .map(|i| create_rec(&m, &pool, &mut c, other.rd, rec_params(i, ENTRY)).unwrap())
                .collect();
            (realm.rd, recs, runs, other.rd, other_recs)
        };
        World {
            m,
            rd,
            recs,
            runs,
            other_rd,
            other_recs,
            next_ns: AtomicUsize::new(1000),
        }
    }

    /// A world whose REC 0 runs `program`.
    fn one(n_recs: u64, program: impl Fn(&mut RealmCpu) + Send + Sync + 'static) -> Self {
        Self::new(n_recs, vec![(ENTRY, Arc::new(program) as RealmProgram)])
    }

    fn delegated(&self) -> u64 {
        let pa = self
            .m
            .ns_granule(self.next_ns.fetch_add(1, Ordering::SeqCst));
        ok(&self.m, RmiFid::GranuleDelegate, &[pa]);
        pa
    }

    /// An address that is not memory.
    fn non_memory(&self) -> u64 {
        let c = self.m.hw().config();
        c.layout.dram_base.0 + c.dram_size
    }

    /// RMI_REC_ENTER of REC `i` on `cpu` with `enter`; returns x0 and the exit record.
    fn enter_with(&self, i: usize, cpu: usize, enter: &RmiRecEnter) -> (u64, RmiRecExit) {
        self.m.host_write(self.runs[i], enter.as_bytes()).unwrap();
        let x0 = self
            .m
            .rmi(cpu, RmiFid::RecEnter, &[self.recs[i], self.runs[i]])[0];
        let mut page = [0u8; 4096];
        self.m.host_read(self.runs[i], &mut page).unwrap();
        (x0, RmiRecExit::read_from_bytes(&page[0x800..]).unwrap())
    }

    /// RMI_REC_ENTER of REC `i` on `cpu` with `flags`, expected to succeed.
    fn enter_on(&self, i: usize, cpu: usize, flags: u64) -> RmiRecExit {
        let mut e = RmiRecEnter::new_zeroed();
        e.flags = flags;
        let (x0, exit) = self.enter_with(i, cpu, &e);
        assert_eq!(x0, 0, "REC_ENTER of REC {i} failed");
        exit
    }

    /// [`World::enter_on`] for REC 0 on CPU 0, WFI trapped.
    fn enter(&self) -> RmiRecExit {
        self.enter_on(0, 0, TRAP_WFI)
    }

    /// REC_ENTER's x0 alone.
    fn enter_status(&self, i: usize) -> u64 {
        let mut e = RmiRecEnter::new_zeroed();
        e.flags = TRAP_WFI;
        self.enter_with(i, 0, &e).0
    }

    fn set_ripas(&self, rd: u64, rec: u64, base: u64, top: u64) -> [u64; 5] {
        self.m.rmi(0, RmiFid::RttSetRipas, &[rd, rec, base, top])
    }

    /// RMI_RTT_SET_RIPAS for REC 0 of the realm; returns x0 and x1.
    fn set(&self, base: u64, top: u64) -> (u64, u64) {
        let r = self.set_ripas(self.rd, self.recs[0], base, top);
        (r[0], r[1])
    }

    /// RMI_RTT_READ_ENTRY at the page level: (level, state, RIPAS).
    fn read_entry(&self, ipa: u64) -> (u64, u64, u64) {
        let r = ok(&self.m, RmiFid::RttReadEntry, &[self.rd, ipa, 3]);
        (r[1], r[2], r[4])
    }

    fn psci_complete(&self, calling: u64, target: u64, status: u64) -> u64 {
        self.m
            .rmi(0, RmiFid::PsciComplete, &[calling, target, status])[0]
    }
}

/// An exit record that is zero except for its reason and the fields named.
fn assert_only(exit: &RmiRecExit, reason: u8) {
    assert_eq!(exit.exit_reason, reason, "exit reason");
    assert_eq!(
        (exit.esr, exit.far, exit.hpfar),
        (0, 0, 0),
        "esr, far, hpfar"
    );
    assert_eq!(exit.imm, 0, "imm");
    assert_eq!(exit.pmu_ovf_status, 0, "pmu_ovf_status");
}

/// A REC exit due to RIPAS change pending (A4.3.8): reason 4, the region and RIPAS,
/// nothing else but the GIC and timer fields.
fn assert_ripas_exit(exit: &RmiRecExit, base: u64, top: u64, ripas: u64) {
    assert_only(exit, 4);
    assert_eq!(exit.gprs, [0; 31], "gprs");
    assert_eq!(
        (exit.ripas_base, exit.ripas_top, exit.ripas_value as u64),
        (base, top, ripas),
        "ripas_base, ripas_top, ripas_value"
    );
}

/// A REC exit due to PSCI (A4.3.7, A4.3.3): reason 3, gprs[0] the FID, gprs[1..=3] the
/// arguments, nothing else but the GIC and timer fields.
fn assert_psci_exit(exit: &RmiRecExit, fid: u64, args: [u64; 3]) {
    assert_only(exit, 3);
    let mut gprs = [0u64; 31];
    gprs[0] = fid;
    gprs[1..4].copy_from_slice(&args);
    assert_eq!(exit.gprs, gprs, "gprs");
    assert_eq!(
        (exit.ripas_base, exit.ripas_top, exit.ripas_value),
        (0, 0, 0),
        "ripas fields"
    );
}

fn assert_wfi_exit(exit: &RmiRecExit) {
    assert_eq!(exit.exit_reason, 0);
    assert_eq!(exit.esr, 0x01 << 26, "EC WFx, TI 0");
    assert_eq!(exit.gprs, [0; 31]);
    assert_eq!((exit.ripas_base, exit.ripas_top), (0, 0));
}

/// A synchronous external abort the RMM injected (DFSC 0b010000).
fn assert_sea(e: platform_sim::realm::RealmException) {
    assert_eq!(e.esr & 0x3F, 0b01_0000, "SEA, esr {:#x}", e.esr);
}

// ---------------------------------------------------------------------------------
// RSI_IPA_STATE_GET / RSI_IPA_STATE_SET and RMI_RTT_SET_RIPAS
// ---------------------------------------------------------------------------------

#[test]
fn ipa_state_get_and_set_failure_conditions() {
    let w = World::one(1, |cpu| {
        let set = |cpu: &mut RealmCpu, a: &[u64]| cpu.smc(RSI_IPA_STATE_SET, a)[0];
        // base_align, top_align, size_valid, rgn_bound, ripas_valid
        assert_eq!(
            set(cpu, &[0x800, 0x2000, RAM, 0]),
            RSI_ERROR_INPUT,
            "base_align"
        );
        assert_eq!(
            set(cpu, &[0x1000, 0x2800, RAM, 0]),
            RSI_ERROR_INPUT,
            "top_align"
        );
        assert_eq!(
            set(cpu, &[0x2000, 0x2000, RAM, 0]),
            RSI_ERROR_INPUT,
            "size_valid"
        );
        assert_eq!(
            set(cpu, &[0x3000, 0x2000, RAM, 0]),
            RSI_ERROR_INPUT,
            "size_valid"
        );
        assert_eq!(
            set(cpu, &[UNPROTECTED - 0x1000, UNPROTECTED + 0x1000, RAM, 0]),
            RSI_ERROR_INPUT,
            "rgn_bound: top unprotected"
        );
        assert_eq!(
            set(cpu, &[UNPROTECTED, UNPROTECTED + 0x1000, EMPTY, 0]),
            RSI_ERROR_INPUT,
            "rgn_bound: unprotected"
        );
        assert_eq!(
            set(cpu, &[0x1000, 0x2000, DESTROYED, 0]),
            RSI_ERROR_INPUT,
            "ripas_valid"
        );
        assert_eq!(
            set(cpu, &[0x1000, 0x2000, 3, 0]),
            RSI_ERROR_INPUT,
            "ripas_valid (DEV)"
        );
        // Precedence is not specified; the first listed is reported.
        assert_eq!(set(cpu, &[0x800, 0x800, 2, 0]), RSI_ERROR_INPUT);

        let get = |cpu: &mut RealmCpu, a: &[u64]| cpu.smc(RSI_IPA_STATE_GET, a);
        assert_eq!(get(cpu, &[0x800, 0x2000])[0], RSI_ERROR_INPUT, "base_align");
        assert_eq!(get(cpu, &[0x1000, 0x2800])[0], RSI_ERROR_INPUT, "end_align");
        assert_eq!(
            get(cpu, &[0x2000, 0x2000])[0],
            RSI_ERROR_INPUT,
            "size_valid"
        );
        assert_eq!(
            get(cpu, &[UNPROTECTED - 0x1000, UNPROTECTED + 0x1000])[0],
            RSI_ERROR_INPUT,
            "rgn_bound"
        );
        // Successes: the run of equal RIPAS within the RTT the walk reaches.
        assert_eq!(&get(cpu, &[0, 0x20_0000])[..3], &[0, 0x20_0000, RAM]);
        assert_eq!(
            &get(cpu, &[0x1_0000, 0x40_0000])[..3],
            &[0, 0x20_0000, RAM],
            "level-3 RTT ends at 2 MiB"
        );
        assert_eq!(
            &get(cpu, &[0x3000, 0x5000])[..3],
            &[0, 0x5000, RAM],
            "capped at top"
        );
        assert_eq!(
            &get(cpu, &[0x20_0000, 0x80_0000])[..3],
            &[0, 0x80_0000, EMPTY]
        );
        assert_eq!(
            &get(cpu, &[0x20_0000, UNPROTECTED])[..3],
            &[0, 0x4000_0000, EMPTY],
            "level-2 RTT ends at 1 GiB"
        );
        assert_eq!(
            &get(cpu, &[UNPROTECTED - 0x1000, UNPROTECTED])[..3],
            &[0, UNPROTECTED, EMPTY],
            "last protected granule"
        );
        cpu.wfi();
    });
    assert_wfi_exit(&w.enter());
}

#[test]
fn ipa_state_set_to_empty_in_two_host_calls() {
    let w = World::one(1, |cpu| {
        let mut b = [0u8; 8];
        cpu.read(0x8000, &mut b).unwrap();
        let r = cpu.smc(RSI_IPA_STATE_SET, &[0x8000, 0x1_8000, EMPTY, 0]);
        assert_eq!(&r[..3], &[0, 0x1_8000, ACCEPT], "SUCCESS, new_base = top");
        let r = cpu.smc(RSI_IPA_STATE_GET, &[0x8000, 0x2_0000]);
        assert_eq!(&r[..3], &[0, 0x1_8000, EMPTY]);
        let r = cpu.smc(RSI_IPA_STATE_GET, &[0x1_8000, 0x2_0000]);
        assert_eq!(&r[..3], &[0, 0x2_0000, RAM]);
        // A now-EMPTY page, DATA or not, gets an SEA; its neighbours do not.
        assert_sea(cpu.read(0x8000, &mut b).unwrap_err());
        assert_sea(cpu.read(0xF008, &mut b).unwrap_err());
        assert_sea(cpu.read(0x1_7000, &mut b).unwrap_err());
        cpu.read(0x7000, &mut b).unwrap();
        cpu.wfi();
    });
    let exit = w.enter();
    assert_ripas_exit(&exit, 0x8000, 0x1_8000, EMPTY);
    let tlbi_before = w.m.hw().stage2_invalidations().len();
    assert_eq!(w.set(0x8000, 0x1_0000), (0, 0x1_0000));
    // The 8 DATA pages mapped RAM are unmapped with a TLB invalidation each; the
    // unassigned ones were never valid.
    let tlbi = w.m.hw().stage2_invalidations()[tlbi_before..].to_vec();
    let want: Vec<_> = (8..16u64).map(|i| (1u16, Some(i * 0x1000))).collect();
    assert_eq!(tlbi, want);
    assert_eq!(w.set(0x1_0000, 0x1_8000), (0, 0x1_8000));
    assert_eq!(w.m.hw().stage2_invalidations().len(), tlbi_before + 8);
    assert_eq!(w.read_entry(0x8000), (3, ASSIGNED, EMPTY));
    assert_eq!(w.read_entry(0xF000), (3, ASSIGNED, EMPTY));
    assert_eq!(w.read_entry(0x1_0000), (3, UNASSIGNED, EMPTY));
    assert_eq!(w.read_entry(0x1_7000), (3, UNASSIGNED, EMPTY));
    assert_eq!(w.read_entry(0x7000), (3, ASSIGNED, RAM));
    assert_eq!(w.read_entry(0x1_8000), (3, UNASSIGNED, RAM));
    // The request is complete: nothing more may be applied.
    assert_eq!(w.set(0x1_8000, 0x1_9000).0, input(), "top_bound");
    assert_wfi_exit(&w.enter());
    // After an exit that is not a RIPAS change no request is pending (A4.3.8).
    assert_eq!(w.set(0, 0x1000).0, input());
}

#[test]
fn ipa_state_set_to_ram_blocks_and_part_of_a_block() {
    let w = World::one(1, |cpu| {
        let r = cpu.smc(RSI_IPA_STATE_SET, &[0x20_0000, 0x60_0000, RAM, 0]);
        assert_eq!(&r[..3], &[0, 0x60_0000, ACCEPT]);
        let r = cpu.smc(RSI_IPA_STATE_GET, &[0x20_0000, 0x100_0000]);
        assert_eq!(&r[..3], &[0, 0x60_0000, RAM]);
        let r = cpu.smc(RSI_IPA_STATE_GET, &[0x60_0000, 0x100_0000]);
        assert_eq!(&r[..3], &[0, 0x100_0000, EMPTY]);
        // Reserved bits of x3 (above [7:0]) and x4 are ignored.
        let r = cpu.smc(
            RSI_IPA_STATE_SET,
            &[0x60_0000, 0x60_3000, RAM | 0x100, 1 << 7],
        );
        assert_eq!(&r[..3], &[0, 0x60_3000, ACCEPT]);
        let r = cpu.smc(RSI_IPA_STATE_GET, &[0x60_0000, 0x80_0000]);
        assert_eq!(&r[..3], &[0, 0x60_3000, RAM]);
        let r = cpu.smc(RSI_IPA_STATE_GET, &[0x60_3000, 0x80_0000]);
        assert_eq!(&r[..3], &[0, 0x80_0000, EMPTY]);
        cpu.wfi();
    });
    assert_ripas_exit(&w.enter(), 0x20_0000, 0x60_0000, RAM);
    // Two 2 MiB UNASSIGNED blocks in one call.
    assert_eq!(w.set(0x20_0000, 0x60_0000), (0, 0x60_0000));
    assert_eq!(w.read_entry(0x20_0000), (2, UNASSIGNED, RAM));
    assert_eq!(w.read_entry(0x40_0000), (2, UNASSIGNED, RAM));
    assert_eq!(w.read_entry(0x60_0000), (2, UNASSIGNED, EMPTY));
    assert_ripas_exit(&w.enter(), 0x60_0000, 0x60_3000, RAM);
    // Part of a block: no_progress until the host splits it.
    assert_eq!(w.set(0x60_0000, 0x60_3000).0, rtt(2), "no_progress");
    let t = w.delegated();
    ok(&w.m, RmiFid::RttCreate, &[w.rd, t, 0x60_0000, 3]);
    assert_eq!(w.set(0x60_0000, 0x60_3000), (0, 0x60_3000));
    assert_eq!(w.read_entry(0x60_2000), (3, UNASSIGNED, RAM));
    assert_eq!(w.read_entry(0x60_3000), (3, UNASSIGNED, EMPTY));
    assert_wfi_exit(&w.enter());
}

#[test]
fn ipa_state_set_rejected() {
    let w = World::one(1, |cpu| {
        let r = cpu.smc(RSI_IPA_STATE_SET, &[0x40_0000, 0x80_0000, RAM, 0]);
        assert_eq!(&r[..3], &[0, 0x40_0000, REJECT], "rejected, nothing done");
        let r = cpu.smc(RSI_IPA_STATE_GET, &[0x40_0000, 0x80_0000]);
        assert_eq!(&r[..3], &[0, 0x80_0000, EMPTY], "nothing changed");
        let r = cpu.smc(RSI_IPA_STATE_SET, &[0x40_0000, 0x80_0000, RAM, 0]);
        assert_eq!(
            &r[..3],
            &[0, 0x60_0000, REJECT],
            "[base, new_base) done, rest rejected"
        );
        let r = cpu.smc(RSI_IPA_STATE_SET, &[0x60_0000, 0x80_0000, RAM, 0]);
        assert_eq!(
            &r[..3],
            &[0, 0x80_0000, ACCEPT],
            "complete: REJECT does not apply"
        );
        let r = cpu.smc(RSI_IPA_STATE_SET, &[0x1_0000, 0x1_2000, EMPTY, 0]);
        assert_eq!(&r[..3], &[0, 0x1_0000, ACCEPT], "EMPTY cannot be rejected");
        let r = cpu.smc(RSI_IPA_STATE_GET, &[0x1_0000, 0x1_2000]);
        assert_eq!(&r[..3], &[0, 0x1_2000, RAM], "nothing changed");
        cpu.wfi();
    });
    assert_ripas_exit(&w.enter(), 0x40_0000, 0x80_0000, RAM);
    let exit = w.enter_on(0, 0, TRAP_WFI | RIPAS_RESPONSE_REJECT);
    assert_ripas_exit(&exit, 0x40_0000, 0x80_0000, RAM);
    assert_eq!(w.read_entry(0x40_0000), (2, UNASSIGNED, EMPTY));
    assert_eq!(w.set(0x40_0000, 0x60_0000), (0, 0x60_0000));
    let exit = w.enter_on(0, 0, TRAP_WFI | RIPAS_RESPONSE_REJECT);
    assert_ripas_exit(&exit, 0x60_0000, 0x80_0000, RAM);
    assert_eq!(w.set(0x60_0000, 0x80_0000), (0, 0x80_0000));
    let exit = w.enter_on(0, 0, TRAP_WFI | RIPAS_RESPONSE_REJECT);
    assert_ripas_exit(&exit, 0x1_0000, 0x1_2000, EMPTY);
    assert_wfi_exit(&w.enter_on(0, 0, TRAP_WFI | RIPAS_RESPONSE_REJECT));
    assert_eq!(w.read_entry(0x1_0000), (3, UNASSIGNED, RAM));
    // The unfinished request ended with that entry (A4.3.8: no request after an exit
    // that is not a RIPAS change).
    assert_eq!(w.set(0x1_0000, 0x1_2000).0, input(), "no request pending");
    assert_eq!(w.read_entry(0x1_0000), (3, UNASSIGNED, RAM));
}

#[test]
fn ipa_state_set_from_destroyed_needs_change_destroyed() {
    let w = World::one(1, |cpu| {
        let r = cpu.smc(RSI_IPA_STATE_GET, &[0xE000, 0x20_0000]);
        assert_eq!(&r[..3], &[0, 0xF000, RAM]);
        let r = cpu.smc(RSI_IPA_STATE_GET, &[0xF000, 0x20_0000]);
        assert_eq!(&r[..3], &[0, 0x1_0000, DESTROYED]);
        let r = cpu.smc(RSI_IPA_STATE_SET, &[0xE000, 0x1_1000, RAM, 0]);
        assert_eq!(
            &r[..3],
            &[0, 0xF000, ACCEPT],
            "stopped at the DESTROYED page"
        );
        let r = cpu.smc(
            RSI_IPA_STATE_SET,
            &[0xF000, 0x1_1000, RAM, CHANGE_DESTROYED],
        );
        assert_eq!(&r[..3], &[0, 0x1_1000, ACCEPT]);
        let r = cpu.smc(RSI_IPA_STATE_GET, &[0xE000, 0x20_0000]);
        assert_eq!(&r[..3], &[0, 0x20_0000, RAM]);
        cpu.wfi();
    });
    // RMI_DATA_DESTROY of the DATA page at 0xF000: RIPAS DESTROYED.
    ok(&w.m, RmiFid::DataDestroy, &[w.rd, 0xF000]);
    assert_eq!(w.read_entry(0xF000), (3, UNASSIGNED, DESTROYED));
    assert_ripas_exit(&w.enter(), 0xE000, 0x1_1000, RAM);
    // 0xE000 already RAM: progress; 0xF000 DESTROYED without CHANGE_DESTROYED: stop.
    assert_eq!(w.set(0xE000, 0x1_1000), (0, 0xF000));
    assert_eq!(
        w.set(0xF000, 0x1_1000).0,
        rtt(3),
        "no_progress at DESTROYED"
    );
    assert_ripas_exit(&w.enter(), 0xF000, 0x1_1000, RAM);
    assert_eq!(w.set(0xF000, 0x1_1000), (0, 0x1_1000));
    assert_eq!(w.read_entry(0xF000), (3, UNASSIGNED, RAM));
    assert_wfi_exit(&w.enter());
}

#[test]
fn rtt_set_ripas_failure_conditions() {
    let w = World::one(2, |cpu| {
        let r = cpu.smc(RSI_IPA_STATE_SET, &[0x20_1000, 0x20_5000, RAM, 0]);
        assert_eq!(&r[..3], &[0, 0x20_5000, ACCEPT]);
        let r = cpu.smc(RSI_IPA_STATE_SET, &[0x40_0000, 0x40_2000, RAM, 0]);
        assert_eq!(&r[..3], &[0, 0x40_0000, ACCEPT], "nothing applied");
        // Part of a block that is EMPTY already: done at once.
        let r = cpu.smc(RSI_IPA_STATE_SET, &[0x40_1000, 0x40_3000, EMPTY, 0]);
        assert_eq!(&r[..3], &[0, 0x40_3000, ACCEPT]);
        cpu.wfi();
    });
    let (rd, rec) = (w.rd, w.recs[0]);
    let (base, top) = (0x20_1000, 0x20_5000);
    assert_ripas_exit(&w.enter(), base, top, RAM);
    let nm = w.non_memory();
    let s = |rd, rec, base, top| w.set_ripas(rd, rec, base, top)[0];
    assert_eq!(s(rd + 8, rec, base, top), input(), "rd_align");
    assert_eq!(s(nm, rec, base, top), input(), "rd_bound");
    assert_eq!(s(w.recs[1], rec, base, top), input(), "rd_state");
    assert_eq!(s(rd, rec + 8, base, top), input(), "rec_align");
    assert_eq!(s(rd, nm, base, top), input(), "rec_bound");
    assert_eq!(s(rd, w.other_rd, base, top), input(), "rec_gran_state");
    assert_eq!(s(rd, rd, base, top), input(), "rec_gran_state (the RD)");
    assert_eq!(
        s(w.other_rd, rec, base, top),
        RmiError::Rec.return_code(),
        "rec_owner"
    );
    assert_eq!(
        s(rd, w.recs[1], base, top),
        input(),
        "REC 1 has no request: top_bound"
    );
    assert_eq!(s(rd, rec, base, base), input(), "size_valid");
    assert_eq!(s(rd, rec, base, base - 0x1000), input(), "size_valid");
    assert_eq!(s(rd, rec, base + 0x1000, top), input(), "base_bound");
    assert_eq!(s(rd, rec, base - 0x1000, top), input(), "base_bound");
    assert_eq!(s(rd, rec, base, top + 0x1000), input(), "top_bound");
    assert_eq!(
        s(rd, rec, base, top),
        rtt(2),
        "base_align: inside a level-2 block"
    );
    assert_eq!(
        s(rd, rec, base, top - 0x800),
        rtt(2),
        "base_align before top_gran_align"
    );
    let t = w.delegated();
    ok(&w.m, RmiFid::RttCreate, &[rd, t, 0x20_0000, 3]);
    assert_eq!(s(rd, rec, base, top - 0x800), input(), "top_gran_align");
    assert_eq!(w.set(base, 0x20_3000), (0, 0x20_3000));
    assert_eq!(
        s(rd, rec, base, top),
        input(),
        "base_bound: progress moved on"
    );
    assert_eq!(w.set(0x20_3000, top), (0, top));

    assert_ripas_exit(&w.enter(), 0x40_0000, 0x40_2000, RAM);
    assert_eq!(
        s(rd, rec, 0x40_0000, 0x40_1800),
        input(),
        "top_gran_align before no_progress"
    );
    assert_eq!(s(rd, rec, 0x40_0000, 0x40_2000), rtt(2), "no_progress");
    assert_eq!(w.read_entry(0x40_0000), (2, UNASSIGNED, EMPTY));

    assert_ripas_exit(&w.enter(), 0x40_1000, 0x40_3000, EMPTY);
    assert_eq!(w.set(0x40_1000, 0x40_3000), (0, 0x40_3000));
    assert_eq!(
        w.read_entry(0x40_0000),
        (2, UNASSIGNED, EMPTY),
        "no change, no split"
    );
    assert_wfi_exit(&w.enter());
}

#[test]
fn a_running_rec_is_not_changed_by_set_ripas_or_psci_complete() {
    let b = Arc::new(Barrier::new(2));
    let rb = b.clone();
    let w = World::one(2, move |cpu| {
        rb.wait();
        rb.wait();
        cpu.wfi();
    });
    std::thread::scope(|s| {
        let t = s.spawn(|| w.enter_on(0, 0, TRAP_WFI));
        b.wait();
        // REC 0 runs on CPU 0; the host acts on CPU 1.
        let r =
            w.m.rmi(1, RmiFid::RttSetRipas, &[w.rd, w.recs[0], 0, 0x1000]);
        assert_eq!(r[0], RmiError::Rec.return_code(), "rec_state");
        let r = w.m.rmi(1, RmiFid::PsciComplete, &[w.recs[0], w.recs[1], 0]);
        assert_eq!(r[0], input(), "pending: a running REC has no request");
        let r = w.m.rmi(1, RmiFid::RecEnter, &[w.recs[0], w.runs[1]]);
        assert_eq!(r[0], RmiError::Rec.return_code(), "rec_state");
        b.wait();
        assert_wfi_exit(&t.join().unwrap());
    });
}

// ---------------------------------------------------------------------------------
// PSCI
// ---------------------------------------------------------------------------------

#[test]
fn psci_version_and_features() {
    let w = World::one(1, |cpu| {
        let r = cpu.smc(PSCI_VERSION, &[7, 8, 9]);
        assert_eq!(&r[..4], &[0x1_0001, 0, 0, 0], "PSCI 1.1; x1..x3 zero");
        for f in [
            PSCI_VERSION,
            PSCI_FEATURES,
            PSCI_CPU_SUSPEND_32,
            PSCI_CPU_SUSPEND_64,
            PSCI_CPU_OFF,
            PSCI_CPU_ON_32,
            PSCI_CPU_ON_64,
            PSCI_AFFINITY_INFO_32,
            PSCI_AFFINITY_INFO_64,
            PSCI_SYSTEM_OFF,
            PSCI_SYSTEM_RESET,
            0x8000_0000, // SMCCC_VERSION
            // x1[63:32] are SBZ: only the 32-bit function ID counts.
            0xFFFF_FFFF_0000_0000 | PSCI_CPU_ON_64,
        ] {
            assert_eq!(cpu.smc(PSCI_FEATURES, &[f])[0], PSCI_SUCCESS, "{f:#x}");
        }
        for f in [
            0x8400_0005u64, // MIGRATE
            PSCI_MIGRATE_INFO_TYPE,
            0xC400_0002, // no SMC64 CPU_OFF
            0x8400_000B, // CPU_FREEZE
            0xC400_000E, // SYSTEM_SUSPEND
            0x8400_0012, // SYSTEM_RESET2
            RSI_VERSION,
        ] {
            assert_eq!(
                cpu.smc(PSCI_FEATURES, &[f])[0],
                PSCI_NOT_SUPPORTED,
                "{f:#x}"
            );
        }
        assert_eq!(cpu.smc(PSCI_MIGRATE_INFO_TYPE, &[])[0], PSCI_NOT_SUPPORTED);
        cpu.wfi();
    });
    assert_wfi_exit(&w.enter());
}

#[test]
fn psci_cpu_suspend_exits_and_returns_success() {
    let w = World::one(1, |cpu| {
        let r = cpu.smc(
            PSCI_CPU_SUSPEND_64,
            &[0xFFFF_FFFF_0000_0001, 0x8_1000, 0x1234, 0x4444],
        );
        assert_eq!(&r[..5], &[PSCI_SUCCESS, 0, 0, 0, 0x4444], "x4.. preserved");
        let r = cpu.smc(PSCI_CPU_SUSPEND_32, &[0xABCD_0000_0000_0002, 0x8_1000, 7]);
        assert_eq!(&r[..4], &[PSCI_SUCCESS, 0, 0, 0]);
        cpu.wfi();
    });
    // power_state is 32 bits; the entry point and context, which the RMM ignores, are
    // not forwarded.
    assert_psci_exit(&w.enter(), PSCI_CPU_SUSPEND_64, [1, 0, 0]);
    // No completion needed: the REC can be entered again at once.
    assert_psci_exit(&w.enter(), PSCI_CPU_SUSPEND_32, [2, 0, 0]);
    assert_wfi_exit(&w.enter());
}

#[test]
fn psci_cpu_on_completed_then_both_recs_run() {
    let rec1_ran = Arc::new(AtomicUsize::new(0));
    let ran = rec1_ran.clone();
    let rec0: RealmProgram = Arc::new(|cpu: &mut RealmCpu| {
        let on = |cpu: &mut RealmCpu, a: &[u64]| cpu.smc(PSCI_CPU_ON_64, a)[0];
        // entry, mpidr, runnable: answered by the RMM.
        assert_eq!(on(cpu, &[1, UNPROTECTED, 0]), PSCI_INVALID_ADDRESS, "entry");
        assert_eq!(
            on(cpu, &[3, ENTRY1, 0]),
            PSCI_INVALID_PARAMETERS,
            "mpidr: no REC 3"
        );
        assert_eq!(
            on(cpu, &[0x11, ENTRY1, 0]),
            PSCI_INVALID_PARAMETERS,
            "Aff0[7:4]"
        );
        assert_eq!(
            on(cpu, &[1 << 24, ENTRY1, 0]),
            PSCI_INVALID_PARAMETERS,
            "bit 24"
        );
        assert_eq!(
            on(cpu, &[3, UNPROTECTED, 0]),
            PSCI_INVALID_ADDRESS,
            "entry first"
        );
        assert_eq!(on(cpu, &[0, ENTRY1, 0]), PSCI_ALREADY_ON, "itself");
        // Forwarded; the host denies, then accepts.
        let r = cpu.smc(PSCI_CPU_ON_64, &[1, ENTRY1, 0xC0FFEE]);
        assert_eq!(&r[..4], &[PSCI_DENIED, 0, 0, 0]);
        let r = cpu.smc(PSCI_CPU_ON_64, &[1, ENTRY1, 0xC0FFEE]);
        assert_eq!(&r[..4], &[PSCI_SUCCESS, 0, 0, 0]);
        // SMC32: W registers. REC 1 is on now.
        let r = cpu.smc(PSCI_CPU_ON_32, &[0xFFFF_FFFF_0000_0001, ENTRY1, 5]);
        assert_eq!(r[0], PSCI_ALREADY_ON);
        let r = cpu.smc(PSCI_AFFINITY_INFO_64, &[1, 0]);
        assert_eq!(&r[..4], &[PSCI_SUCCESS, 0, 0, 0], "REC 1 ON");
        let r = cpu.smc(PSCI_AFFINITY_INFO_32, &[2, 0xFFFF_FFFF_0000_0000]);
        assert_eq!(&r[..4], &[PSCI_OFF, 0, 0, 0], "REC 2 OFF");
        cpu.wfi();
    });
    let rec1: RealmProgram = Arc::new(move |cpu: &mut RealmCpu| {
        let regs = *cpu.regs();
        assert_eq!(regs.pc, ENTRY1, "entry point");
        assert_eq!(regs.gprs[0], 0xC0FFEE, "x0 = context_id");
        assert_eq!(&regs.gprs[1..], &[0; 30], "x1..x30 zero");
        assert_eq!(regs.pstate, 0x3C5, "EL1h, exceptions masked");
        assert_eq!(cpu.read_sysreg(SysReg::SCTLR_EL1), 0x30D0_0800, "MMU off");
        assert_eq!(cpu.smc(RSI_VERSION, &[0x1_0000])[0], 0);
        ran.fetch_add(1, Ordering::SeqCst);
        cpu.wfi();
    });
    let w = World::new(3, vec![(ENTRY, rec0), (ENTRY1, rec1)]);
    let (r0, r1, r2) = (w.recs[0], w.recs[1], w.recs[2]);
    let exit = w.enter();
    assert_psci_exit(&exit, PSCI_CPU_ON_64, [1, ENTRY1, 0xC0FFEE]);
    assert_eq!(w.enter_status(0), RmiError::Rec.return_code(), "rec_psci");
    assert_eq!(
        w.enter_status(1),
        RmiError::Rec.return_code(),
        "rec_runnable"
    );

    // RMI_PSCI_COMPLETE failure conditions.
    let nm = w.non_memory();
    let pc = |a, b, st| w.psci_complete(a, b, st);
    assert_eq!(pc(r0, r0, 0), input(), "alias");
    assert_eq!(pc(r0 + 8, r1, 0), input(), "calling_align");
    assert_eq!(pc(nm, r1, 0), input(), "calling_bound");
    assert_eq!(pc(w.rd, r1, 0), input(), "calling_state");
    assert_eq!(pc(r0, r1 + 8, 0), input(), "target_align");
    assert_eq!(pc(r0, nm, 0), input(), "target_bound");
    assert_eq!(pc(r0, w.rd, 0), input(), "target_state");
    assert_eq!(pc(r1, r0, 0), input(), "pending: REC 1 has no request");
    assert_eq!(pc(r0, w.other_recs[1], 0), input(), "owner (MPIDR 1 too)");
    assert_eq!(pc(r0, r2, 0), input(), "target: MPIDR 2, not 1");
    for st in [
        PSCI_INVALID_PARAMETERS,
        PSCI_ALREADY_ON,
        PSCI_OFF,
        0xFFFF_FFFD,
    ] {
        assert_eq!(pc(r0, r1, st), input(), "status {st:#x} not permitted");
    }
    assert_eq!(
        w.enter_status(0),
        RmiError::Rec.return_code(),
        "still pending"
    );
    assert_eq!(
        pc(r0, r1, PSCI_DENIED),
        0,
        "denied: permitted for an OFF target"
    );
    assert_eq!(pc(r0, r1, 0), input(), "pending: completed");
    assert_eq!(
        w.enter_status(1),
        RmiError::Rec.return_code(),
        "REC 1 still off"
    );

    assert_psci_exit(&w.enter(), PSCI_CPU_ON_64, [1, ENTRY1, 0xC0FFEE]);
    assert_eq!(pc(r0, r1, PSCI_SUCCESS), 0);

    // Both RECs run at once, from two host threads on two CPUs.
    std::thread::scope(|s| {
        let t1 = s.spawn(|| w.enter_on(1, 1, TRAP_WFI));
        let t0 = s.spawn(|| {
            assert_psci_exit(&w.enter_on(0, 0, TRAP_WFI), PSCI_CPU_ON_32, [1, ENTRY1, 5]);
            // REC 1 is runnable (maybe running): DENIED is not permitted.
            assert_eq!(pc(r0, r1, PSCI_DENIED), input(), "status");
            assert_eq!(pc(r0, r1, PSCI_SUCCESS), 0, "on_already");
            let exit = w.enter_on(0, 0, TRAP_WFI);
            assert_psci_exit(&exit, PSCI_AFFINITY_INFO_64, [1, 0, 0]);
            assert_eq!(
                pc(r0, r1, PSCI_DENIED),
                input(),
                "AFFINITY_INFO: SUCCESS only"
            );
            assert_eq!(pc(r0, r1, PSCI_SUCCESS), 0, "affinity_on");
            let exit = w.enter_on(0, 0, TRAP_WFI);
            assert_psci_exit(&exit, PSCI_AFFINITY_INFO_32, [2, 0, 0]);
            assert_eq!(pc(r0, r2, PSCI_SUCCESS), 0, "affinity_off");
            w.enter_on(0, 0, TRAP_WFI)
        });
        assert_wfi_exit(&t0.join().unwrap());
        assert_wfi_exit(&t1.join().unwrap());
    });
    assert_eq!(rec1_ran.load(Ordering::SeqCst), 1);
}

#[test]
fn psci_affinity_info_and_cpu_off() {
    let rec0: RealmProgram = Arc::new(|cpu: &mut RealmCpu| {
        let aff = |cpu: &mut RealmCpu, a: &[u64]| cpu.smc(PSCI_AFFINITY_INFO_64, a)[0];
        assert_eq!(aff(cpu, &[1, 1]), PSCI_INVALID_PARAMETERS, "target_bound");
        assert_eq!(aff(cpu, &[2, 0]), PSCI_INVALID_PARAMETERS, "target_match");
        assert_eq!(
            aff(cpu, &[0x1_0000_0000, 0]),
            PSCI_INVALID_PARAMETERS,
            "Aff3 1: REC 2^20"
        );
        assert_eq!(aff(cpu, &[0, 0]), PSCI_SUCCESS, "itself: ON");
        assert_eq!(cpu.smc(PSCI_CPU_ON_64, &[1, ENTRY1, 0])[0], PSCI_SUCCESS);
        cpu.smc(PSCI_CPU_OFF, &[1, 2, 3]);
        unreachable!("PSCI_CPU_OFF returned");
    });
    let rec1: RealmProgram = Arc::new(|cpu: &mut RealmCpu| {
        let r = cpu.smc(PSCI_AFFINITY_INFO_64, &[0, 0]);
        assert_eq!(&r[..4], &[PSCI_OFF, 0, 0, 0], "REC 0 is off");
        let r = cpu.smc(PSCI_CPU_ON_64, &[0, ENTRY, 9]);
        assert_eq!(r[0], PSCI_SUCCESS, "REC 0 turned on again");
        let r = cpu.smc(PSCI_AFFINITY_INFO_64, &[0, 0]);
        assert_eq!(r[0], PSCI_SUCCESS, "REC 0 is on");
        cpu.wfi();
    });
    let w = World::new(2, vec![(ENTRY, rec0), (ENTRY1, rec1)]);
    let (r0, r1) = (w.recs[0], w.recs[1]);
    assert_psci_exit(&w.enter(), PSCI_CPU_ON_64, [1, ENTRY1, 0]);
    assert_eq!(w.psci_complete(r0, r1, PSCI_SUCCESS), 0);
    // CPU_OFF has no arguments: x1..x3 are not forwarded.
    assert_psci_exit(&w.enter(), PSCI_CPU_OFF, [0, 0, 0]);
    assert_eq!(
        w.enter_status(0),
        RmiError::Rec.return_code(),
        "rec_runnable"
    );

    assert_psci_exit(
        &w.enter_on(1, 0, TRAP_WFI),
        PSCI_AFFINITY_INFO_64,
        [0, 0, 0],
    );
    assert_eq!(w.enter_status(1), RmiError::Rec.return_code(), "rec_psci");
    assert_eq!(w.psci_complete(r1, r0, PSCI_SUCCESS), 0, "affinity_off");
    assert_psci_exit(&w.enter_on(1, 0, TRAP_WFI), PSCI_CPU_ON_64, [0, ENTRY, 9]);
    assert_eq!(w.psci_complete(r1, r0, PSCI_SUCCESS), 0, "on_success");
    assert_psci_exit(
        &w.enter_on(1, 0, TRAP_WFI),
        PSCI_AFFINITY_INFO_64,
        [0, 0, 0],
    );
    assert_eq!(w.psci_complete(r1, r0, PSCI_SUCCESS), 0, "affinity_on");
    assert_wfi_exit(&w.enter_on(1, 0, TRAP_WFI));
    // REC 0 is runnable again (its program, stopped inside CPU_OFF, is not resumed
    // here: the simulation's realm threads cannot restart at a new entry point).
}

fn system_off(fid: u64) {
    let w = World::one(2, move |cpu| {
        cpu.smc(fid, &[7, 8, 9]);
        unreachable!("{fid:#x} returned");
    });
    assert_psci_exit(&w.enter(), fid, [0, 0, 0]);
    let off = RmiError::Realm(1).return_code();
    assert_eq!(w.enter_status(0), off, "system_off");
    assert_eq!(w.enter_status(1), off, "system_off before rec_runnable");
}

#[test]
fn psci_system_off() {
    system_off(PSCI_SYSTEM_OFF);
}

#[test]
fn psci_system_reset() {
    system_off(PSCI_SYSTEM_RESET);
}

// ---------------------------------------------------------------------------------
// Attestation (the token itself: tests/attestation.rs)
// ---------------------------------------------------------------------------------

#[test]
fn attestation_token_continue_signs_before_it_copies() {
    let w = World::one(1, |cpu| {
        let challenge = [0x11u64; 8];
        let r = cpu.smc(RSI_ATTESTATION_TOKEN_CONTINUE, &[0x3000, 0, 0x1000]);
        assert_eq!(r[0], 2, "RSI_ERROR_STATE before any INIT");
        let r = cpu.smc(RSI_ATTESTATION_TOKEN_INIT, &challenge);
        assert_eq!(r[0], 0, "RSI_SUCCESS");
        // The first CONTINUE makes a signing step: RSI_INCOMPLETE, nothing written.
        let r = cpu.smc(RSI_ATTESTATION_TOKEN_CONTINUE, &[0x3000, 0, 0x1000]);
        assert_eq!((r[0], r[1]), (3, 0), "RSI_INCOMPLETE, len 0");
        cpu.wfi();
    });
    assert_wfi_exit(&w.enter());
}
