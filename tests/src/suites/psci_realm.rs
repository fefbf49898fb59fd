//! PSCI from a running realm (PSCI 1.1, DEN0022; DEN0137 1.0, A4.3.7 and B5.3's PSCI
//! commands): PSCI_VERSION, PSCI_FEATURES, CPU_SUSPEND, AFFINITY_INFO, CPU_ON of a REC
//! that then runs, CPU_OFF, SYSTEM_OFF and SYSTEM_RESET. Calls the RMM forwards come to
//! the host as PSCI exits and are completed with RMI_PSCI_COMPLETE. The realm side of
//! each test is a [`Program`]; a REC that PSCI_CPU_ON turns on runs the same program
//! (context id [`PROGRAM_CPU_ON_MAGIC`]) and tells itself apart by MPIDR.

use rmi_abi::{RmiError, RmiFid, RmiRecEnter, RmiRecExit};
use rsi_abi::fid;
use zerocopy::FromZeros;

use super::rec_exit::{enter, report, report_exit, start_with, CALL, ZERO};
use crate::builder::{teardown, Pool};
use crate::payload::PROGRAM_CPU_ON_MAGIC;
use crate::program::{Program, RealmCode};
use crate::realm::RealmEnv;
use crate::vmm::{self, Vm};
use crate::{Checks, Failure, Host, Outcome, TestDef};

/// The tests of this module.
pub const TESTS: &[TestDef] = &[
    TestDef {
        name: "psci_version_features_and_cpu_suspend",
        run: version_features_suspend,
    },
    TestDef {
        name: "psci_affinity_info_cpu_on_and_cpu_off",
        run: affinity_on_off,
    },
    TestDef {
        name: "psci_system_off_and_system_reset",
        run: system_off_reset,
    },
];

/// The realm programs of this module.
pub(super) const PROGRAMS: [&Program; 4] = [
    &Program {
        name: "psci_version_features_and_cpu_suspend",
        run: version_features_suspend_realm,
    },
    &Program {
        name: "psci_affinity_info_cpu_on_and_cpu_off",
        run: affinity_on_off_realm,
    },
    &Program {
        name: "psci_system_off",
        run: system_off_realm,
    },
    &Program {
        name: "psci_system_reset",
        run: system_reset_realm,
    },
];

const PSCI_VERSION: u64 = 0x8400_0000;
const CPU_SUSPEND_32: u64 = 0x8400_0001;
const CPU_SUSPEND_64: u64 = 0xC400_0001;
const CPU_OFF: u64 = 0x8400_0002;
const CPU_ON_32: u64 = 0x8400_0003;
const CPU_ON_64: u64 = 0xC400_0003;
const AFFINITY_INFO_32: u64 = 0x8400_0004;
const AFFINITY_INFO_64: u64 = 0xC400_0004;
const MIGRATE: u64 = 0x8400_0005;
const MIGRATE_INFO_TYPE: u64 = 0x8400_0006;
const SYSTEM_OFF: u64 = 0x8400_0008;
const SYSTEM_RESET: u64 = 0x8400_0009;
const PSCI_FEATURES: u64 = 0x8400_000A;
const CPU_FREEZE: u64 = 0x8400_000B;
const SYSTEM_SUSPEND_64: u64 = 0xC400_000E;
const SYSTEM_RESET2: u64 = 0x8400_0012;
const SMCCC_VERSION: u64 = 0x8000_0000;

/// PSCI return codes and AFFINITY_INFO states (DEN0022 5.2.2, 5.1.5).
const SUCCESS: u64 = 0;
const NOT_SUPPORTED: u64 = -1i64 as u64;
const INVALID_PARAMETERS: u64 = -2i64 as u64;
const ON: u64 = 0;
const OFF: u64 = 1;

/// RecEnter flags: TRAP_WFI.
const TRAP_WFI: u64 = 1 << 2;
/// RmiRecExitReason: PSCI.
const EXIT_PSCI: u64 = 3;
/// MPIDR_EL1's affinity fields.
const AFFINITY: u64 = 0xFF_00FF_FFFF;

/// The functions realm PSCI implements (A4.3.7: PSCI 1.1 without MIGRATE and
/// SYSTEM_SUSPEND), SMCCC_VERSION, and CPU_ON_64 with X1[63:32] set (only W1 names the
/// function); PSCI_FEATURES answers SUCCESS for each.
const IMPLEMENTED: [u64; 13] = [
    PSCI_VERSION,
    PSCI_FEATURES,
    CPU_SUSPEND_32,
    CPU_SUSPEND_64,
    CPU_OFF,
    CPU_ON_32,
    CPU_ON_64,
    AFFINITY_INFO_32,
    AFFINITY_INFO_64,
    SYSTEM_OFF,
    SYSTEM_RESET,
    SMCCC_VERSION,
    0xFFFF_FFFF_0000_0000 | CPU_ON_64,
];
/// Functions it does not: NOT_SUPPORTED (CPU_OFF has no SMC64 form; RSI_VERSION is no
/// PSCI function).
const NOT_IMPLEMENTED: [u64; 7] = [
    MIGRATE,
    MIGRATE_INFO_TYPE,
    0xC400_0002,
    CPU_FREEZE,
    SYSTEM_SUSPEND_64,
    SYSTEM_RESET2,
    fid::RSI_VERSION as u64,
];

fn version_features_suspend_realm(r: &mut dyn RealmEnv) {
    let v = r.smc(PSCI_VERSION, &[7, 8, 9]);
    let mut not_success = 0u64;
    for (i, &f) in IMPLEMENTED.iter().enumerate() {
        if r.smc(PSCI_FEATURES, &[f])[0] != SUCCESS {
            not_success |= 1 << i;
        }
    }
    let mut supported = 0u64;
    for (i, &f) in NOT_IMPLEMENTED.iter().enumerate() {
        if r.smc(PSCI_FEATURES, &[f])[0] != NOT_SUPPORTED {
            supported |= 1 << i;
        }
    }
    let migrate_info = r.smc(MIGRATE_INFO_TYPE, &[])[0];
    let s64 = r.smc(
        CPU_SUSPEND_64,
        &[0xFFFF_FFFF_0000_0001, 0x8_1000, 0x1234, 0x4444],
    );
    let s32 = r.smc(CPU_SUSPEND_32, &[0xABCD_0000_0000_0002, 0x8_1000, 7]);
    let mut out = [0u64; 17];
    out[..4].copy_from_slice(&v[..4]);
    out[4] = not_success;
    out[5] = supported;
    out[6] = migrate_info;
    out[7..12].copy_from_slice(&s64[..5]);
    out[12..16].copy_from_slice(&s32[..4]);
    report(r, &out);
    r.wfi();
}

/// A REC exit due to PSCI (A4.3.7): reason PSCI, gprs[0] the function, gprs[1..=3] the
/// arguments the RMM forwards and nothing else, no syndrome, immediate or RIPAS fields.
fn psci_exit(c: &mut Checks, exit: &RmiRecExit, fid: u64, args: [u64; 3]) -> Result<(), Failure> {
    c.eq("exit reason: PSCI", exit.exit_reason.into(), EXIT_PSCI)?;
    c.eq("esr", exit.esr, 0)?;
    c.eq("far", exit.far, 0)?;
    c.eq("hpfar", exit.hpfar, 0)?;
    c.eq("imm", exit.imm.into(), 0)?;
    c.eq("pmu_ovf_status", exit.pmu_ovf_status.into(), 0)?;
    c.eq("ripas_base", exit.ripas_base, 0)?;
    c.eq("ripas_top", exit.ripas_top, 0)?;
    c.eq("gprs[0]: the function", exit.gprs[0], fid)?;
    for (&g, &a) in exit.gprs[1..4].iter().zip(args.iter()) {
        c.eq("gprs[1..=3]: the forwarded arguments", g, a)?;
    }
    c.holds("gprs[4..]: zero", exit.gprs[4..].iter().all(|&g| g == 0))
}

/// The WFI exit that ends a program.
fn wfi_exit(c: &mut Checks, exit: &RmiRecExit) -> Result<(), Failure> {
    c.eq("exit reason: sync", exit.exit_reason.into(), 0)?;
    c.eq("esr: EC WFx, TI WFI", exit.esr, 0x01 << 26)
}

/// PSCI 1.1 and DEN0137 1.0, A4.3.7: PSCI_VERSION is 1.1 (x1..x3 zero whatever the
/// caller passed); PSCI_FEATURES is SUCCESS for every function realm PSCI implements
/// and for SMCCC_VERSION (only W1 names the function), NOT_SUPPORTED for MIGRATE,
/// MIGRATE_INFO_TYPE, an SMC64 CPU_OFF, CPU_FREEZE, SYSTEM_SUSPEND, SYSTEM_RESET2 and a
/// non-PSCI function; MIGRATE_INFO_TYPE itself NOT_SUPPORTED. CPU_SUSPEND (SMC64, then
/// SMC32) exits to the host with the 32-bit power_state only (the entry point and
/// context are not forwarded), needs no completion, and returns SUCCESS with x1..x3
/// zero and x4 the realm's.
fn version_features_suspend(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let (vm, _) = start_with(h, &pool, c, PROGRAMS[0], 1, &[(CALL, &ZERO)])?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    psci_exit(c, &exit, CPU_SUSPEND_64, [1, 0, 0])?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    psci_exit(c, &exit, CPU_SUSPEND_32, [2, 0, 0])?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    let r = report_exit(c, &exit)?;
    let want: [(&str, u64); 16] = [
        ("PSCI_VERSION: 1.1", 0x1_0001),
        ("... x1 zero", 0),
        ("... x2 zero", 0),
        ("... x3 zero", 0),
        ("PSCI_FEATURES not SUCCESS for (bit n = IMPLEMENTED[n])", 0),
        (
            "PSCI_FEATURES not NOT_SUPPORTED for (bit n = NOT_IMPLEMENTED[n])",
            0,
        ),
        ("MIGRATE_INFO_TYPE: NOT_SUPPORTED", NOT_SUPPORTED),
        ("CPU_SUSPEND (SMC64): SUCCESS", SUCCESS),
        ("... x1", 0),
        ("... x2", 0),
        ("... x3", 0),
        ("... x4 the realm's", 0x4444),
        ("CPU_SUSPEND (SMC32): SUCCESS", SUCCESS),
        ("... x1", 0),
        ("... x2", 0),
        ("... x3", 0),
    ];
    for (&(what, want), &got) in want.iter().zip(r.iter()) {
        c.eq(what, got, want)?;
    }
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    wfi_exit(c, &exit)?;
    Ok(teardown(h, &pool, c, &[vm.realm.rd], &vm.recs[..1])?)
}

/// REC 0: AFFINITY_INFO failures and itself, CPU_ON of REC 1 (forwarded), a report,
/// CPU_OFF. REC 1 (turned on, running the same program): AFFINITY_INFO of REC 0,
/// CPU_ON of REC 0, AFFINITY_INFO again (each forwarded), a report.
fn affinity_on_off_realm(r: &mut dyn RealmEnv) {
    let entry = crate::payload::BASE_IPA;
    if r.mpidr() & AFFINITY == 0 {
        let aff = |r: &mut dyn RealmEnv, a: &[u64]| r.smc(AFFINITY_INFO_64, a)[0];
        let values = [
            aff(r, &[1, 1]),
            aff(r, &[2, 0]),
            aff(r, &[0x1_0000_0000, 0]),
            aff(r, &[0, 0]),
            r.smc(CPU_ON_64, &[1, entry, PROGRAM_CPU_ON_MAGIC])[0],
        ];
        report(r, &values);
        r.smc(CPU_OFF, &[1, 2, 3]);
        // Not resumed after CPU_OFF.
    } else {
        let off = r.smc(AFFINITY_INFO_64, &[0, 0]);
        let on = r.smc(CPU_ON_64, &[0, entry, PROGRAM_CPU_ON_MAGIC]);
        let after = r.smc(AFFINITY_INFO_64, &[0, 0]);
        let mut values = [0u64; 12];
        values[..4].copy_from_slice(&off[..4]);
        values[4..8].copy_from_slice(&on[..4]);
        values[8..12].copy_from_slice(&after[..4]);
        report_at(r, CALL + 0x100, &values);
    }
    loop {
        r.wfi();
    }
}

/// [`report`] through the host call structure at `at`.
fn report_at(r: &mut dyn RealmEnv, at: u64, values: &[u64]) {
    let mut call = [0u8; 256];
    for (j, v) in values.iter().enumerate() {
        call[8 + 8 * j..16 + 8 * j].copy_from_slice(&v.to_le_bytes());
    }
    if r.write(at, &call).is_ok() {
        r.smc(fid::RSI_HOST_CALL as u64, &[at]);
    }
}

/// REC_ENTER of REC `i`: only x0.
fn enter_status(h: &dyn Host, vm: &Vm, i: usize) -> u64 {
    let mut e = RmiRecEnter::new_zeroed();
    e.flags = TRAP_WFI;
    vmm::enter(h, vm, i, &e).0
}

/// PSCI 1.1 AFFINITY_INFO and CPU_ON/CPU_OFF between two RECs (DEN0137 1.0,
/// A4.3.7): AFFINITY_INFO with a lowest affinity level above 0, of an MPIDR that names
/// no REC, or with Aff3 set: INVALID_PARAMETERS; of the caller: ON (0), answered by the
/// RMM. CPU_ON of REC 1 is forwarded (entry point and context id in the exit), REC 1
/// not runnable until the host completes it with SUCCESS, then CPU_ON returns SUCCESS.
/// CPU_OFF exits with no arguments and REC 0 is then not runnable (`rec_runnable`).
/// REC 1 starts at the entry point CPU_ON gave (it runs the same program): its
/// AFFINITY_INFO of REC 0 is forwarded (REC 1 not enterable until it is completed,
/// `rec_psci`) and answered OFF; its CPU_ON of REC 0 forwarded and completed, SUCCESS;
/// AFFINITY_INFO then ON.
fn affinity_on_off(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let pages = [(CALL, &ZERO)];
    let (vm, RealmCode { entry, .. }) = start_with(h, &pool, c, PROGRAMS[1], 2, &pages)?;
    let (r0, r1) = (vm.recs[0], vm.recs[1]);
    let complete = |calling, target| h.rmi(RmiFid::PsciComplete, &[calling, target, SUCCESS])[0];
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    psci_exit(c, &exit, CPU_ON_64, [1, entry, PROGRAM_CPU_ON_MAGIC])?;
    c.status(
        "REC 1 before CPU_ON completes: rec_runnable",
        enter_status(h, &vm, 1),
        Err(RmiError::Rec),
    )?;
    c.status("psci complete: SUCCESS", complete(r0, r1), Ok(()))?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    let r = report_exit(c, &exit)?;
    let want: [(&str, u64); 5] = [
        (
            "AFFINITY_INFO, level 1: INVALID_PARAMETERS",
            INVALID_PARAMETERS,
        ),
        (
            "AFFINITY_INFO, no such REC: INVALID_PARAMETERS",
            INVALID_PARAMETERS,
        ),
        (
            "AFFINITY_INFO, Aff3 set: INVALID_PARAMETERS",
            INVALID_PARAMETERS,
        ),
        ("AFFINITY_INFO of itself: ON", ON),
        ("CPU_ON, completed by the host: SUCCESS", SUCCESS),
    ];
    for (&(what, want), &got) in want.iter().zip(r.iter()) {
        c.eq(what, got, want)?;
    }
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    psci_exit(c, &exit, CPU_OFF, [0, 0, 0])?;
    c.status(
        "REC 0 after CPU_OFF: rec_runnable",
        enter_status(h, &vm, 0),
        Err(RmiError::Rec),
    )?;
    let exit = enter(h, &vm, c, 1, TRAP_WFI, |_| {})?;
    psci_exit(c, &exit, AFFINITY_INFO_64, [0, 0, 0])?;
    c.status(
        "REC 1 with AFFINITY_INFO pending: rec_psci",
        enter_status(h, &vm, 1),
        Err(RmiError::Rec),
    )?;
    c.status("psci complete (REC 0 off)", complete(r1, r0), Ok(()))?;
    let exit = enter(h, &vm, c, 1, TRAP_WFI, |_| {})?;
    psci_exit(c, &exit, CPU_ON_64, [0, entry, PROGRAM_CPU_ON_MAGIC])?;
    c.status("psci complete: SUCCESS", complete(r1, r0), Ok(()))?;
    let exit = enter(h, &vm, c, 1, TRAP_WFI, |_| {})?;
    psci_exit(c, &exit, AFFINITY_INFO_64, [0, 0, 0])?;
    c.status("psci complete (REC 0 on)", complete(r1, r0), Ok(()))?;
    let exit = enter(h, &vm, c, 1, TRAP_WFI, |_| {})?;
    let r = report_exit(c, &exit)?;
    let want: [(&str, u64); 12] = [
        ("REC 1: AFFINITY_INFO of REC 0 after CPU_OFF: OFF", OFF),
        ("... x1", 0),
        ("... x2", 0),
        ("... x3", 0),
        ("REC 1: CPU_ON of REC 0: SUCCESS", SUCCESS),
        ("... x1", 0),
        ("... x2", 0),
        ("... x3", 0),
        ("REC 1: AFFINITY_INFO of REC 0: ON", ON),
        ("... x1", 0),
        ("... x2", 0),
        ("... x3", 0),
    ];
    for (&(what, want), &got) in want.iter().zip(r.iter()) {
        c.eq(what, got, want)?;
    }
    let exit = enter(h, &vm, c, 1, TRAP_WFI, |_| {})?;
    wfi_exit(c, &exit)?;
    Ok(teardown(h, &pool, c, &[vm.realm.rd], &vm.recs[..2])?)
}

fn system_off_realm(r: &mut dyn RealmEnv) {
    r.smc(SYSTEM_OFF, &[7, 8, 9]);
    loop {
        r.wfi();
    }
}

fn system_reset_realm(r: &mut dyn RealmEnv) {
    r.smc(SYSTEM_RESET, &[7, 8, 9]);
    loop {
        r.wfi();
    }
}

/// DEN0137 1.0, A4.3.7 and RMI_REC_ENTER: PSCI SYSTEM_OFF, then SYSTEM_RESET in a
/// second realm: a PSCI exit with the function and no arguments; the realm is then
/// SYSTEM_OFF, so REC_ENTER of the caller fails with RMI_ERROR_REALM index 1
/// (`system_off`), and of the other REC too, before its `rec_runnable` is looked at.
fn system_off_reset(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    for (program, fid) in [(PROGRAMS[2], SYSTEM_OFF), (PROGRAMS[3], SYSTEM_RESET)] {
        let pool = Pool::new(h);
        let (vm, _) = start_with(h, &pool, c, program, 2, &[(CALL, &ZERO)])?;
        let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
        psci_exit(c, &exit, fid, [0, 0, 0])?;
        c.status(
            "REC_ENTER after it: system_off",
            enter_status(h, &vm, 0),
            Err(RmiError::Realm(1)),
        )?;
        c.status(
            "REC_ENTER of the other REC: system_off before rec_runnable",
            enter_status(h, &vm, 1),
            Err(RmiError::Realm(1)),
        )?;
        teardown(h, &pool, c, &[vm.realm.rd], &vm.recs[..2])?;
    }
    Ok(())
}
