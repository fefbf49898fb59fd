//! Instruction fetches by a realm (DEN0137 1.0, A5.2.6 realm accesses to memory,
//! A4.3.4.2 REC exit due to an instruction abort): from RAM with a DATA page the
//! realm runs the code there; from an unprotected IPA or RIPAS EMPTY it takes a
//! synchronous external abort with no exit; from protected RIPAS RAM that is
//! UNASSIGNED the REC exits so the host can map it. The realm side is a [`Program`],
//! run hosted and at R-EL1 in QEMU (`RealmEnv::fetch`: a branch to the IPA, whose
//! instruction is a RET).

use rmi_abi::RmiFid;

use super::rec_exit::{enter, esr_of, report, report_exit, start_with, CALL, ZERO};
use crate::builder::{teardown, Pool};
use crate::program::Program;
use crate::realm::{RealmEnv, RET, UDF_ESR};
use crate::{Checks, Host, Outcome, TestDef};

/// The tests of this module.
pub const TESTS: &[TestDef] = &[TestDef {
    name: "rec_exit_instruction_aborts",
    run: instruction_aborts,
}];

/// The realm program of this module.
pub(super) const PROGRAM: Program = Program {
    name: "rec_exit_instruction_aborts",
    run: instruction_aborts_realm,
};

/// A DATA page whose first instruction is a RET.
const CODE_IPA: u64 = 0x2000;
/// A protected IPA with RIPAS RAM and nothing mapped (UNASSIGNED).
const UNASSIGNED_IPA: u64 = 0x18_0000;
/// A protected IPA with RIPAS EMPTY (past the realm's RAM).
const EMPTY_IPA: u64 = 0x40_0000;
/// An unprotected IPA with nothing mapped (the realm's IPA width is 40 bits).
const UNPROTECTED_IPA: u64 = (1 << 39) + 0x1000;

/// ESR_EL1 of the SEA the RMM injects for an instruction fetch at EL1h: EC 0x21
/// (instruction abort, current EL), IL 1 (RES1 for instruction aborts, Arm ARM
/// ESR_ELx.IL), IFSC 0b010000 (synchronous external abort).
const SEA_IABT_EL1: u64 = 0x21 << 26 | 1 << 25 | 0b01_0000;
/// The exit's ESR for an instruction abort at a protected IPA (A4.3.4.2: EC, SET, EA
/// and IFSC only): EC 0x20 (instruction abort, lower EL), IFSC translation fault at
/// level 3.
const IABT_EXIT: u64 = 0x20 << 26 | 0b00_0111;
/// RecEnter flags: TRAP_WFI.
const TRAP_WFI: u64 = 1 << 2;

/// A page whose first word is [`RET`] (the rest zero).
static RET_PAGE: [u8; 4096] = {
    let mut p = [0u8; 4096];
    let w = RET.to_le_bytes();
    p[0] = w[0];
    p[1] = w[1];
    p[2] = w[2];
    p[3] = w[3];
    p
};

fn instruction_aborts_realm(r: &mut dyn RealmEnv) {
    let values = [
        esr_of(r.fetch(CODE_IPA)),
        esr_of(r.fetch(UNPROTECTED_IPA)),
        esr_of(r.fetch(EMPTY_IPA)),
        esr_of(r.fetch(UNASSIGNED_IPA)),
    ];
    report(r, &values);
    r.wfi();
}

/// DEN0137 1.0, A5.2.6 and A4.3.4.2: a fetch from a DATA page runs its RET; one from
/// an unprotected IPA with no mapping and one from RIPAS EMPTY each give the realm an
/// SEA (ESR_EL1 0x86000010) with no exit; one from UNASSIGNED RAM exits with reason
/// SYNC, the exit's ESR EC and IFSC only, FAR zero, HPFAR the IPA's page and no
/// registers; after RMI_DATA_CREATE_UNKNOWN the entry retries the fetch, which now
/// reaches the new page: zeros, so its first word is `UDF #0` and the realm takes an
/// Undefined Instruction exception (it ran the page's content, not an abort again).
fn instruction_aborts(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let pages = [(CALL, &ZERO), (CODE_IPA, &RET_PAGE)];
    let (vm, _) = start_with(h, &pool, c, &PROGRAM, 1, &pages)?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    c.eq("exit reason: sync", exit.exit_reason.into(), 0)?;
    c.eq(
        "esr: instruction abort, translation level 3",
        exit.esr,
        IABT_EXIT,
    )?;
    c.eq("far: zero", exit.far, 0)?;
    c.eq(
        "hpfar: the IPA's page",
        exit.hpfar,
        (UNASSIGNED_IPA >> 12) << 4,
    )?;
    c.holds("gprs: zero", exit.gprs.iter().all(|&g| g == 0))?;
    let data = pool.delegated(c)?;
    c.status(
        "data create unknown",
        h.rmi(
            RmiFid::DataCreateUnknown,
            &[vm.realm.rd, data, UNASSIGNED_IPA],
        )[0],
        Ok(()),
    )?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    let r = report_exit(c, &exit)?;
    c.eq("a DATA page's RET: no exception", r[0], 0)?;
    c.eq("unprotected, unmapped: SEA (ESR_EL1)", r[1], SEA_IABT_EL1)?;
    c.eq("RIPAS EMPTY: SEA (ESR_EL1)", r[2], SEA_IABT_EL1)?;
    c.eq(
        "UNASSIGNED RAM, then mapped: the zero word UNDEFINED",
        r[3],
        UDF_ESR,
    )?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    c.eq("exit reason: sync", exit.exit_reason.into(), 0)?;
    c.eq("esr: EC WFx, TI WFI", exit.esr, 0x01 << 26)?;
    Ok(teardown(h, &pool, c, &[vm.realm.rd], &vm.recs[..1])?)
}
