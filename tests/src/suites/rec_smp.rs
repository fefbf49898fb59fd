//! RECs on two CPUs: two RECs of a realm running at the same time on CPU 0 and CPU 1,
//! each then entered on the other CPU, and a REC that runs on one CPU refused on the
//! other (DEN0137 1.0, RMI_REC_ENTER and RMI_REC_DESTROY, failure condition
//! `rec_state`: the REC is running). The realm side is one [`Program`] both RECs run,
//! telling themselves apart by MPIDR; they meet through a page of host memory mapped
//! at an unprotected IPA, which the host reads too, so that it knows a REC is running
//! before it acts.

use rmi_abi::{RmiError, RmiFid, RmiRecEnter, RmiRecExit};
use rsi_abi::fid;
use zerocopy::{FromBytes, FromZeros, IntoBytes};

use crate::builder::{teardown, Pool, RealmSpec};
use crate::program::Program;
use crate::realm::RealmEnv;
use crate::vmm::{self, RealmImage, Vm};
use crate::{Checks, Failure, Host, Outcome, TestDef};

/// The tests of this module.
pub const TESTS: &[TestDef] = &[TestDef {
    name: "rec_enter_two_recs_on_two_cpus_at_once",
    run: two_cpus,
}];

/// The realm program of this module.
pub(super) const PROGRAM: Program = Program {
    name: "rec_enter_two_recs_on_two_cpus_at_once",
    run: two_cpus_realm,
};

/// The host call structures of the RECs' reports: REC `i`'s at `CALL + 0x100 * i`.
const CALL: u64 = 0x3000;
/// RIPAS RAM on [0, RAM_TOP).
const RAM_TOP: u64 = 0x20_0000;
/// The unprotected IPA of the shared host page (the first of a 40-bit realm's
/// unprotected half).
const SHARED_IPA: u64 = 1 << 39;
/// RTT_MAP_UNPROTECTED's attributes for the shared page: MemAttr Normal Write-Back
/// ([5:2] = 0b0110), S2AP read/write ([7:6] = 0b11).
const SHARED_ATTRS: u64 = 0b110 << 2 | 0b11 << 6;
/// A REC's mark in the shared page: word `2 * round + rec` holds `MARK | round << 8 |
/// rec` once REC `rec` runs its round `round`.
const MARK: u64 = 0x5EC5_0000_0000_0000;
/// A value each REC keeps on its stack from its first entry to its last and reports in
/// every round (its state follows it from CPU to CPU).
const TOKEN: u64 = 0x70CE_0000_0000_0000;
/// How many times a REC reads the other's mark before it gives up (the other REC
/// starts a few RMI calls later).
const REALM_POLLS: u32 = 1 << 22;
/// How many times the host reads a REC's mark before it gives up.
const HOST_POLLS: u32 = 1 << 22;
/// RecEnter flags: TRAP_WFI (a REC done with its rounds exits at its WFI).
const TRAP_WFI: u64 = 1 << 2;
/// RmiRecExitReason: host call.
const EXIT_HOST_CALL: u64 = 5;
/// MPIDR_EL1's affinity fields Aff3 [39:32], Aff2..Aff0 [23:0].
const AFFINITY: u64 = 0xFF_00FF_FFFF;

fn mark(round: u64, rec: u64) -> u64 {
    MARK | round << 8 | rec
}

fn shared_word(round: u64, rec: u64) -> u64 {
    8 * (2 * round + rec)
}

/// The report of REC `rec`: `values` in x0.. of a host call (immediate 0).
fn report(r: &mut dyn RealmEnv, rec: u64, values: &[u64]) {
    let mut call = [0u8; 256];
    for (j, v) in values.iter().enumerate() {
        call[8 + 8 * j..16 + 8 * j].copy_from_slice(&v.to_le_bytes());
    }
    let at = CALL + 0x100 * rec;
    if r.write(at, &call).is_ok() {
        r.smc(fid::RSI_HOST_CALL as u64, &[at]);
    }
}

/// Each REC, in each of two rounds: writes its mark, waits for the other REC's (a
/// bounded number of reads), and reports its index, the round, whether it saw the
/// other's mark, its MPIDR_EL1 and its token.
fn two_cpus_realm(r: &mut dyn RealmEnv) {
    let me = r.mpidr() & AFFINITY;
    let other = me ^ 1;
    let token = TOKEN | me;
    for round in 0..2 {
        let _ = r.write(
            SHARED_IPA + shared_word(round, me),
            &mark(round, me).to_le_bytes(),
        );
        let mut saw = 0;
        for _ in 0..REALM_POLLS {
            let mut b = [0u8; 8];
            if r.read(SHARED_IPA + shared_word(round, other), &mut b)
                .is_ok()
                && u64::from_le_bytes(b) == mark(round, other)
            {
                saw = 1;
                break;
            }
        }
        let mpidr = r.mpidr();
        report(r, me, &[me, round, saw, mpidr & AFFINITY, token]);
    }
    loop {
        r.wfi();
    }
}

/// Reads the host page at `pa` until REC `rec`'s mark of `round` appears (bounded).
fn wait_for_mark(h: &dyn Host, pa: u64, round: u64, rec: u64) -> bool {
    (0..HOST_POLLS).any(|_| {
        let mut b = [0u8; 8];
        h.read_ns(pa + shared_word(round, rec), &mut b) && u64::from_le_bytes(b) == mark(round, rec)
    })
}

/// A REC's report of `round` (A4.5 host call exit): the immediate 0 and x0..x4.
fn check_report(c: &mut Checks, exit: &RmiRecExit, rec: u64, round: u64) -> Result<(), Failure> {
    c.eq(
        "exit reason: host call",
        exit.exit_reason.into(),
        EXIT_HOST_CALL,
    )?;
    c.eq("host call immediate", exit.imm.into(), 0)?;
    c.eq("the REC's index (from its MPIDR)", exit.gprs[0], rec)?;
    c.eq("the round", exit.gprs[1], round)?;
    c.eq(
        "it saw the other REC's mark while it ran: both ran at once",
        exit.gprs[2],
        1,
    )?;
    c.eq(
        "MPIDR_EL1: the REC's, whichever CPU runs it",
        exit.gprs[3],
        rec,
    )?;
    c.eq(
        "its token, kept across entries on both CPUs",
        exit.gprs[4],
        TOKEN | rec,
    )
}

/// RMI_REC_ENTER of REC `i` on CPU 0, expected to succeed: the exit record.
fn enter(h: &dyn Host, vm: &Vm, c: &mut Checks, i: usize) -> Result<RmiRecExit, Failure> {
    let mut e = RmiRecEnter::new_zeroed();
    e.flags = TRAP_WFI;
    let (x0, exit) = vmm::enter(h, vm, i, &e);
    c.status("rec enter on CPU 0", x0, Ok(()))?;
    Ok(exit)
}

/// RMI_REC_ENTER of REC `i` on CPU 1, with `during` run on CPU 0 meanwhile, expected
/// to succeed: the exit record.
fn enter_on_cpu1(
    h: &dyn Host,
    vm: &Vm,
    c: &mut Checks,
    i: usize,
    during: &mut dyn FnMut(&mut Checks) -> Result<(), Failure>,
) -> Result<RmiRecExit, Failure> {
    let mut e = RmiRecEnter::new_zeroed();
    e.flags = TRAP_WFI;
    let run = vm.runs[i];
    c.holds("write the RecEnter page", h.write_ns(run, e.as_bytes()))?;
    let mut inner = Ok(());
    let r = h.smc_during(
        1,
        RmiFid::RecEnter.id() as u64,
        [vm.recs[i], run, 0, 0, 0, 0],
        &mut || inner = during(c),
    );
    c.holds("an SMC on CPU 1 while CPU 0 runs", r.is_some())?;
    inner?;
    let r = r.unwrap_or_default();
    c.status("rec enter on CPU 1", r[0], Ok(()))?;
    let mut page = [0u8; 0x800];
    c.holds("read the exit record", h.read_ns(run + 0x800, &mut page))?;
    Ok(RmiRecExit::read_from_bytes(&page[..]).unwrap_or_else(|_| RmiRecExit::new_zeroed()))
}

static ZERO: [u8; 4096] = [0; 4096];

/// DEN0137 1.0, RMI_REC_ENTER on two CPUs. A realm of two runnable RECs and a host
/// page at an unprotected IPA. Round 0: REC 0 is entered on CPU 1; once its mark is in
/// the page (it runs), RMI_REC_ENTER and RMI_REC_DESTROY of REC 0 on CPU 0 fail with
/// RMI_ERROR_REC (`rec_state`: the REC is running), and REC 1 is entered on CPU 0: each
/// REC sees the other's mark while it waits, so both ran at the same time, and exits
/// with a host call reporting it. Round 1: the same with the CPUs swapped, REC 1 on
/// CPU 1 and REC 0 on CPU 0, each on the CPU it did not run on before: MPIDR_EL1 is
/// still the REC's and its own state came with it.
fn two_cpus(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    if h.num_cpus() < 2 {
        return Err(Outcome::Skipped("needs two CPUs"));
    }
    let Some(code) = h.realm_code(&PROGRAM) else {
        return Err(Outcome::Skipped("this host cannot run realm code"));
    };
    let pool = Pool::new(h);
    let image = RealmImage {
        spec: RealmSpec::default(),
        pages: &[(CALL, &ZERO)],
        ram_top: RAM_TOP,
        entry: code.entry,
        recs: 2,
    };
    let vm = vmm::build_code_all_runnable(h, &pool, c, &image, &code)?;
    let rd = vm.realm.rd;
    let shared = pool.ns();
    c.holds("clear the shared page", h.write_ns(shared, &ZERO[..64]))?;
    for level in [2u64, 3] {
        let rtt = pool.delegated(c)?;
        c.status(
            "rtt create (unprotected)",
            h.rmi(RmiFid::RttCreate, &[rd, rtt, SHARED_IPA, level])[0],
            Ok(()),
        )?;
    }
    c.status(
        "map the shared page unprotected",
        h.rmi(
            RmiFid::RttMapUnprotected,
            &[rd, SHARED_IPA, 3, shared | SHARED_ATTRS],
        )[0],
        Ok(()),
    )?;
    let spare_run = pool.ns();
    c.holds(
        "write a RecEnter page",
        h.write_ns(spare_run, RmiRecEnter::new_zeroed().as_bytes()),
    )?;
    // (REC on CPU 1, REC on CPU 0) per round.
    for (round, on_cpu1, on_cpu0) in [(0u64, 0usize, 1usize), (1, 1, 0)] {
        let mut cpu0_exit = None;
        let cpu1_exit = enter_on_cpu1(h, &vm, c, on_cpu1, &mut |c| {
            c.holds(
                "the REC entered on CPU 1 runs (its mark is in the shared page)",
                wait_for_mark(h, shared, round, on_cpu1 as u64),
            )?;
            let running = vm.recs[on_cpu1];
            c.status(
                "REC_ENTER of the REC running on CPU 1: rec_state",
                h.rmi(RmiFid::RecEnter, &[running, spare_run])[0],
                Err(RmiError::Rec),
            )?;
            c.status(
                "REC_DESTROY of the REC running on CPU 1: rec_state",
                h.rmi(RmiFid::RecDestroy, &[running])[0],
                Err(RmiError::Rec),
            )?;
            cpu0_exit = Some(enter(h, &vm, c, on_cpu0)?);
            Ok(())
        })?;
        let cpu0_exit = cpu0_exit.unwrap_or_else(RmiRecExit::new_zeroed);
        check_report(c, &cpu0_exit, on_cpu0 as u64, round)?;
        check_report(c, &cpu1_exit, on_cpu1 as u64, round)?;
    }
    Ok(teardown(h, &pool, c, &[rd], &vm.recs[..2])?)
}
