//! Realms running: what a REC does on an abort, a RIPAS change and a PSCI request the
//! host refuses (DEN0137 1.0, A4.3 REC exits, A5.2 realm memory accesses, A5.4 RIPAS
//! change, A4.3.7 PSCI); the realm timers are in `rec_exit_timer`. Each test's realm side
//! is a [`Program`] ([`crate::program`]): the simulation runs it hosted, the realm
//! payload at R-EL1 in QEMU, with the same checks. The realm reports what it saw in one
//! host call at the end; the host checks every exit record on the way.

use rmi_abi::{RmiError, RmiFid, RmiRecEnter, RmiRecExit};
use rsi_abi::fid;
use zerocopy::FromZeros;

use crate::builder::{teardown, Pool, RealmSpec};
use crate::program::{Program, RealmCode};
use crate::realm::{self, RealmEnv};
use crate::vmm::{self, RealmImage, Vm};
use crate::{Checks, Failure, Host, Outcome, TestDef};

/// The tests of this module.
pub const TESTS: &[TestDef] = &[
    TestDef {
        name: "rec_exit_aborts_inject_sea_or_exit",
        run: aborts,
    },
    TestDef {
        name: "rsi_ipa_state_set_accepted_and_rejected",
        run: ripas_change,
    },
    TestDef {
        name: "psci_cpu_on_denied_by_the_host",
        run: cpu_on_denied,
    },
];

/// The realm programs of this module.
pub(super) const PROGRAMS: [&Program; 3] = [
    &Program {
        name: "rec_exit_aborts_inject_sea_or_exit",
        run: aborts_realm,
    },
    &Program {
        name: "rsi_ipa_state_set_accepted_and_rejected",
        run: ripas_change_realm,
    },
    &Program {
        name: "psci_cpu_on_denied_by_the_host",
        run: cpu_on_denied_realm,
    },
];

/// The host call structure of the realm's report.
pub(super) const CALL: u64 = 0x3000;
/// RIPAS RAM on [0, RAM_TOP) (the realm's level-3 RTT covers it; a level-2 RTT covers
/// the first GiB).
pub(super) const RAM_TOP: u64 = 0x20_0000;
/// A protected IPA with RIPAS EMPTY (past RAM_TOP).
const EMPTY_IPA: u64 = 0x40_0000;
/// A protected IPA with RIPAS RAM and nothing mapped (UNASSIGNED).
const UNASSIGNED_IPA: u64 = 0x18_0000;
/// A DATA page the host destroys before the realm runs (RIPAS DESTROYED).
const DESTROYED_IPA: u64 = 0x1_0000;
/// The first unprotected IPA of a 40-bit realm.
const UNPROTECTED: u64 = 1 << 39;
/// The first IPA past a 40-bit realm's IPA space.
const BEYOND_IPA_WIDTH: u64 = 1 << 40;

/// RmiRecExitReason (DEN0137 1.0, B4.4.19).
const EXIT_SYNC: u64 = 0;
const EXIT_PSCI: u64 = 3;
const EXIT_RIPAS_CHANGE: u64 = 4;
const EXIT_HOST_CALL: u64 = 5;
/// RmiRecEnterFlags (B4.4.15): INJECT_SEA [1], TRAP_WFI [2], RIPAS_RESPONSE [4].
const INJECT_SEA: u64 = 1 << 1;
const TRAP_WFI: u64 = 1 << 2;
const RIPAS_REJECT: u64 = 1 << 4;

/// ESR_EL2 / ESR_EL1 fields (Arm ARM): EC [31:26], IL [25], ISV [24], FnV [10],
/// DFSC [5:0].
const EC_DABT_LOWER: u64 = 0x24 << 26;
const EC_DABT_CURRENT: u64 = 0x25 << 26;
const IL: u64 = 1 << 25;
const ISV: u64 = 1 << 24;
const FNV: u64 = 1 << 10;
const DFSC_TRANSLATION_L1: u64 = 0b00_0101;
const DFSC_TRANSLATION_L3: u64 = 0b00_0111;
const DFSC_SEA: u64 = 0b01_0000;
/// ESR_EL1 of the SEA the RMM injects for a data access at EL1h (A5.2.6): a data abort
/// from the current EL, IL, DFSC synchronous external abort; FAR valid.
const SEA_EL1: u64 = EC_DABT_CURRENT | IL | DFSC_SEA;

/// PSCI (DEN0022) function identifiers and return codes.
const PSCI_CPU_ON_64: u64 = 0xC400_0003;
const PSCI_AFFINITY_INFO_64: u64 = 0xC400_0004;
const PSCI_SUCCESS: u64 = 0;
const PSCI_OFF: u64 = 1;
const PSCI_INVALID_PARAMETERS: u64 = -2i64 as u64;
const PSCI_DENIED: u64 = -3i64 as u64;
const PSCI_ALREADY_ON: u64 = -4i64 as u64;
const PSCI_INVALID_ADDRESS: u64 = -9i64 as u64;

/// RIPAS values and RSI_IPA_STATE_SET responses (B5.4).
const EMPTY: u64 = 0;
const RAM: u64 = 1;
const ACCEPT: u64 = 0;
const REJECT: u64 = 1;

/// The realm's report: `values` in x0.. of a host call (immediate 0) from [`CALL`].
pub(super) fn report(r: &mut dyn RealmEnv, values: &[u64]) {
    let mut gprs = [0u64; 31];
    gprs[..values.len()].copy_from_slice(values);
    let mut call = [0u8; 256];
    for (j, v) in gprs.iter().enumerate() {
        call[8 + 8 * j..16 + 8 * j].copy_from_slice(&v.to_le_bytes());
    }
    if r.write(CALL, &call).is_ok() {
        r.smc(fid::RSI_HOST_CALL as u64, &[CALL]);
    }
}

/// 0 for `Ok`, the ESR_EL1 of the exception for `Err`.
pub(super) fn esr_of<T>(r: Result<T, u64>) -> u64 {
    r.err().unwrap_or(0)
}

pub(super) static ZERO: [u8; 4096] = [0; 4096];

/// A realm of `recs` RECs running `program` the host's way, with the report page and
/// the page at [`DESTROYED_IPA`] loaded; `None` (skipped) where the host runs no realm
/// code.
pub(super) fn start(
    h: &dyn Host,
    pool: &Pool<'_>,
    c: &mut Checks,
    program: &'static Program,
    recs: usize,
) -> Result<(Vm, RealmCode), Outcome> {
    start_with(
        h,
        pool,
        c,
        program,
        recs,
        &[(CALL, &ZERO), (DESTROYED_IPA, &ZERO)],
    )
}

/// [`start`] with `pages` (zero pages at their IPAs, below [`RAM_TOP`]) loaded instead.
pub(super) fn start_with(
    h: &dyn Host,
    pool: &Pool<'_>,
    c: &mut Checks,
    program: &'static Program,
    recs: usize,
    pages: &[(u64, &[u8; 4096])],
) -> Result<(Vm, RealmCode), Outcome> {
    let Some(code) = h.realm_code(program) else {
        return Err(Outcome::Skipped("this host cannot run realm code"));
    };
    let image = RealmImage {
        spec: RealmSpec::default(),
        pages,
        ram_top: RAM_TOP,
        entry: code.entry,
        recs,
    };
    Ok((vmm::build_code(h, pool, c, &image, &code)?, code))
}

/// RMI_REC_ENTER of REC `i` with `flags` (and `edit` applied to the RecEnter page),
/// expected to succeed: the exit record.
pub(super) fn enter(
    h: &dyn Host,
    vm: &Vm,
    c: &mut Checks,
    i: usize,
    flags: u64,
    edit: impl FnOnce(&mut RmiRecEnter),
) -> Result<RmiRecExit, Failure> {
    let mut e = RmiRecEnter::new_zeroed();
    e.flags = flags;
    edit(&mut e);
    let (x0, exit) = vmm::enter(h, vm, i, &e);
    c.status("rec enter", x0, Ok(()))?;
    Ok(exit)
}

/// A stage-2 abort exit (A4.3.4.3): reason SYNC with exactly `esr`, `far`, and HPFAR
/// the IPA's page.
fn abort_exit(
    c: &mut Checks,
    exit: &RmiRecExit,
    esr: u64,
    far: u64,
    ipa: u64,
) -> Result<(), Failure> {
    c.eq("exit reason: sync", exit.exit_reason.into(), EXIT_SYNC)?;
    c.eq("esr", exit.esr, esr)?;
    c.eq("far", exit.far, far)?;
    c.eq("hpfar: the IPA's page", exit.hpfar, (ipa >> 12) << 4)
}

/// The realm's report: a host call exit with immediate 0; its registers.
pub(super) fn report_exit(c: &mut Checks, exit: &RmiRecExit) -> Result<[u64; 31], Failure> {
    c.eq(
        "exit reason: host call",
        exit.exit_reason.into(),
        EXIT_HOST_CALL,
    )?;
    c.eq("host call immediate", exit.imm.into(), 0)?;
    Ok(exit.gprs)
}

fn aborts_realm(r: &mut dyn RealmEnv) {
    let mut b = [0xFFu8; 8];
    let empty = esr_of(r.read(EMPTY_IPA, &mut b));
    let beyond = esr_of(r.read(BEYOND_IPA_WIDTH, &mut b));
    let unprotected = esr_of(r.mmio_read(UNPROTECTED + 0x5008, 1));
    let unassigned = esr_of(r.read(UNASSIGNED_IPA, &mut b));
    report(
        r,
        &[
            empty,
            beyond,
            unprotected,
            unassigned,
            u64::from_le_bytes(b),
        ],
    );
    // The host destroyed this page: the access exits, and is retried, for ever.
    let _ = r.read(DESTROYED_IPA, &mut b);
    r.wfi();
}

/// DEN0137 1.0, A5.2.6 and A4.3.4.3, realm data accesses that do not reach memory:
/// RIPAS EMPTY, and an IPA beyond the realm's IPA width (the stage-2 input-address
/// check), give the realm a synchronous external abort without a REC exit; an
/// unprotected IPA with no mapping exits to the host with the access's syndrome (a
/// single byte load: ISV, SAS 0, DFSC translation at the start level) and the host's
/// INJECT_SEA makes it an SEA with FnV set; a protected UNASSIGNED RAM IPA exits with
/// only EC and DFSC (translation, level 3), FAR hidden, and succeeds once the host maps
/// a granule (DATA_CREATE_UNKNOWN: zeros); a DESTROYED page exits the same way and,
/// the host doing nothing, exits again on the next entry.
fn aborts(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let (vm, _) = start(h, &pool, c, PROGRAMS[0], 1)?;
    let rd = vm.realm.rd;
    let d = h.rmi(RmiFid::DataDestroy, &[rd, DESTROYED_IPA]);
    c.status("data destroy", d[0], Ok(()))?;
    let e = h.rmi(RmiFid::RttReadEntry, &[rd, DESTROYED_IPA, 3]);
    c.status("read entry", e[0], Ok(()))?;
    c.eq("destroyed page: UNASSIGNED", e[2], 0)?;
    c.eq("destroyed page: RIPAS DESTROYED", e[4], 2)?;

    let ipa = UNPROTECTED + 0x5008;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    abort_exit(
        c,
        &exit,
        EC_DABT_LOWER | ISV | DFSC_TRANSLATION_L1,
        0x008,
        ipa,
    )?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI | INJECT_SEA, |_| {})?;
    abort_exit(
        c,
        &exit,
        EC_DABT_LOWER | DFSC_TRANSLATION_L3,
        0,
        UNASSIGNED_IPA,
    )?;
    let data = pool.delegated(c)?;
    c.status(
        "data create unknown",
        h.rmi(RmiFid::DataCreateUnknown, &[rd, data, UNASSIGNED_IPA])[0],
        Ok(()),
    )?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    let r = report_exit(c, &exit)?;
    c.eq("RIPAS EMPTY: SEA (ESR_EL1)", r[0], SEA_EL1)?;
    c.eq("beyond the IPA width: SEA (ESR_EL1)", r[1], SEA_EL1)?;
    c.eq(
        "unprotected, unmapped: the host's SEA, FnV (ESR_EL1)",
        r[2],
        SEA_EL1 | FNV,
    )?;
    c.eq("unassigned RAM, then mapped: no exception", r[3], 0)?;
    c.eq("the newly mapped granule reads zero", r[4], 0)?;
    for _ in 0..2 {
        let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
        abort_exit(
            c,
            &exit,
            EC_DABT_LOWER | DFSC_TRANSLATION_L3,
            0,
            DESTROYED_IPA,
        )?;
    }
    Ok(teardown(h, &pool, c, &[rd], &vm.recs[..1])?)
}

fn ripas_change_realm(r: &mut dyn RealmEnv) {
    let mut out = [0u64; 18];
    let mut put = |i: usize, v: (u64, u64, u64)| {
        out[3 * i..3 * i + 3].copy_from_slice(&[v.0, v.1, v.2]);
    };
    put(0, realm::ipa_state_set(r, 0x40_0000, 0x60_0000, RAM, 0));
    put(1, realm::ipa_state_get(r, 0x40_0000, 0x80_0000));
    put(2, realm::ipa_state_set(r, 0x60_0000, 0x80_0000, RAM, 0));
    put(3, realm::ipa_state_get(r, 0x60_0000, 0x80_0000));
    put(4, realm::ipa_state_set(r, 0x1_0000, 0x1_2000, EMPTY, 0));
    put(5, realm::ipa_state_get(r, 0x1_0000, 0x1_2000));
    report(r, &out);
    r.wfi();
}

/// A RIPAS change exit (A4.3.8): reason RIPAS_CHANGE, the region and RIPAS, no
/// syndrome.
pub(super) fn ripas_exit(
    c: &mut Checks,
    exit: &RmiRecExit,
    base: u64,
    top: u64,
    ripas: u64,
) -> Result<(), Failure> {
    c.eq(
        "exit reason: RIPAS change",
        exit.exit_reason.into(),
        EXIT_RIPAS_CHANGE,
    )?;
    c.eq("esr", exit.esr, 0)?;
    c.eq("ripas_base", exit.ripas_base, base)?;
    c.eq("ripas_top", exit.ripas_top, top)?;
    c.eq("ripas_value", exit.ripas_value.into(), ripas)
}

/// DEN0137 1.0, A5.4 and B5.3.6: RSI_IPA_STATE_SET to RAM of a 2 MiB UNASSIGNED
/// block, which the host applies with RMI_RTT_SET_RIPAS and accepts: SUCCESS, new_base
/// = top, ACCEPT, RAM after; another the host rejects without applying: new_base =
/// base, REJECT, still EMPTY; to EMPTY, which the host cannot refuse: its REJECT is no
/// response for a change to EMPTY, nothing was applied (new_base = base, ACCEPT), and
/// the region stays RAM. RTT entries as the host left them.
fn ripas_change(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let (vm, _) = start(h, &pool, c, PROGRAMS[1], 1)?;
    let (rd, rec) = (vm.realm.rd, vm.recs[0]);
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    ripas_exit(c, &exit, 0x40_0000, 0x60_0000, RAM)?;
    let s = h.rmi(RmiFid::RttSetRipas, &[rd, rec, 0x40_0000, 0x60_0000]);
    c.status("rtt set ripas", s[0], Ok(()))?;
    c.eq("rtt set ripas: top reached", s[1], 0x60_0000)?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    ripas_exit(c, &exit, 0x60_0000, 0x80_0000, RAM)?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI | RIPAS_REJECT, |_| {})?;
    ripas_exit(c, &exit, 0x1_0000, 0x1_2000, EMPTY)?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI | RIPAS_REJECT, |_| {})?;
    let r = report_exit(c, &exit)?;
    let want: [(&str, u64); 18] = [
        ("set RAM, accepted: status", 0),
        ("... new_base = top", 0x60_0000),
        ("... ACCEPT", ACCEPT),
        ("get: status", 0),
        ("... RAM up to the applied top", 0x60_0000),
        ("... RAM", RAM),
        ("set RAM, rejected: status", 0),
        ("... new_base = base", 0x60_0000),
        ("... REJECT", REJECT),
        ("get: status", 0),
        ("... EMPTY to the region's end", 0x80_0000),
        ("... EMPTY", EMPTY),
        ("set EMPTY, refused: status", 0),
        ("... new_base = base", 0x1_0000),
        ("... ACCEPT: EMPTY cannot be rejected", ACCEPT),
        ("get: status", 0),
        ("... RAM, unchanged", 0x1_2000),
        ("... RAM", RAM),
    ];
    for (&(what, want), &got) in want.iter().zip(r.iter()) {
        c.eq(what, got, want)?;
    }
    for (ipa, ripas) in [(0x40_0000u64, RAM), (0x60_0000, EMPTY)] {
        let e = h.rmi(RmiFid::RttReadEntry, &[rd, ipa, 2]);
        c.status("read entry", e[0], Ok(()))?;
        c.eq("level-2 block", e[1], 2)?;
        c.eq("UNASSIGNED", e[2], 0)?;
        c.eq("RIPAS as the host left it", e[4], ripas)?;
    }
    Ok(teardown(h, &pool, c, &[rd], &vm.recs[..1])?)
}

fn cpu_on_denied_realm(r: &mut dyn RealmEnv) {
    // REC 1's entry point: a protected IPA of RAM (it never runs).
    let on = |r: &mut dyn RealmEnv, a: &[u64]| r.smc(PSCI_CPU_ON_64, a);
    let bad_entry = on(r, &[1, UNPROTECTED, 0])[0];
    let no_rec = on(r, &[3, CALL, 0])[0];
    let itself = on(r, &[0, CALL, 0])[0];
    let denied = on(r, &[1, CALL, 0xC0FFEE]);
    let affinity = r.smc(PSCI_AFFINITY_INFO_64, &[1, 0]);
    report(
        r,
        &[
            bad_entry,
            no_rec,
            itself,
            denied[0],
            denied[1],
            denied[2],
            denied[3],
            affinity[0],
        ],
    );
    r.wfi();
}

/// PSCI 1.1 and DEN0137 1.0, A4.3.7: PSCI_CPU_ON that the RMM answers itself
/// (an entry point outside the protected space: INVALID_ADDRESS; no REC with that
/// MPIDR: INVALID_PARAMETERS; the caller itself: ALREADY_ON), then one it forwards: a
/// PSCI exit with the function and its three arguments, REC_ENTER of the caller
/// refused (ERROR_REC) until the host completes it; the host denies it
/// (RMI_PSCI_COMPLETE with DENIED): the realm gets DENIED and x1..x3 zero, and the
/// target stays off (AFFINITY_INFO, forwarded and completed, answers OFF; REC_ENTER
/// of the target is refused).
fn cpu_on_denied(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let (vm, _) = start(h, &pool, c, PROGRAMS[2], 2)?;
    let (r0, r1) = (vm.recs[0], vm.recs[1]);
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    c.eq("exit reason: PSCI", exit.exit_reason.into(), EXIT_PSCI)?;
    c.eq("esr", exit.esr, 0)?;
    let args = [PSCI_CPU_ON_64, 1, CALL, 0xC0FFEE];
    for (g, want) in exit.gprs.iter().zip(args.iter().chain([0u64; 27].iter())) {
        c.eq("gprs: CPU_ON, target, entry, context, then zero", *g, *want)?;
    }
    let (x0, _) = vmm::enter(h, &vm, 0, &RmiRecEnter::new_zeroed());
    c.status("rec enter: PSCI pending", x0, Err(RmiError::Rec))?;
    c.status(
        "psci complete: DENIED",
        h.rmi(RmiFid::PsciComplete, &[r0, r1, PSCI_DENIED])[0],
        Ok(()),
    )?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    c.eq("exit reason: PSCI", exit.exit_reason.into(), EXIT_PSCI)?;
    c.eq(
        "gprs[0]: AFFINITY_INFO",
        exit.gprs[0],
        PSCI_AFFINITY_INFO_64,
    )?;
    c.eq("gprs[1]: target", exit.gprs[1], 1)?;
    c.eq("gprs[2]: lowest affinity level", exit.gprs[2], 0)?;
    c.status(
        "psci complete: SUCCESS",
        h.rmi(RmiFid::PsciComplete, &[r0, r1, PSCI_SUCCESS])[0],
        Ok(()),
    )?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    let r = report_exit(c, &exit)?;
    c.eq(
        "CPU_ON, unprotected entry: INVALID_ADDRESS",
        r[0],
        PSCI_INVALID_ADDRESS,
    )?;
    c.eq(
        "CPU_ON, no such REC: INVALID_PARAMETERS",
        r[1],
        PSCI_INVALID_PARAMETERS,
    )?;
    c.eq("CPU_ON of itself: ALREADY_ON", r[2], PSCI_ALREADY_ON)?;
    c.eq("CPU_ON the host denied: DENIED", r[3], PSCI_DENIED)?;
    c.eq("... x1", r[4], 0)?;
    c.eq("... x2", r[5], 0)?;
    c.eq("... x3", r[6], 0)?;
    c.eq("AFFINITY_INFO of the target: OFF", r[7], PSCI_OFF)?;
    let (x0, _) = vmm::enter(h, &vm, 1, &RmiRecEnter::new_zeroed());
    c.status(
        "rec enter of the target: not runnable",
        x0,
        Err(RmiError::Rec),
    )?;
    Ok(teardown(h, &pool, c, &[vm.realm.rd], &vm.recs[..2])?)
}
