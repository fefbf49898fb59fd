//! A realm's writes to the GICv3 SGI generation registers (DEN0137 1.0, A4.3.4 REC
//! exit due to a synchronous exception): HCR_EL2.IMO/FMO trap
//! them to the RMM, which cannot deliver an SGI itself and so exits to the host with
//! the syndrome and the value written, so that the host can send the IPI to the
//! target REC. The realm side is a [`Program`], run hosted and at R-EL1 in QEMU.

use rmi_abi::RmiRecExit;

use super::rec_exit::{enter, report, report_exit, start_with, CALL, ZERO};
use crate::builder::{teardown, Pool};
use crate::program::Program;
use crate::realm::{RealmEnv, SgiRegister};
use crate::{Checks, Failure, Host, Outcome, TestDef};

/// The tests of this module.
pub const TESTS: &[TestDef] = &[TestDef {
    name: "rec_exit_sgi_register_writes",
    run: sgi_writes,
}];

/// The realm program of this module.
pub(super) const PROGRAM: Program = Program {
    name: "rec_exit_sgi_register_writes",
    run: sgi_writes_realm,
};

/// What the realm writes to each register: an SGI INTID [27:24], a target list [15:0]
/// and Aff1 [23:16] (ICC_SGI1R_EL1's layout, the same for the other two), distinct
/// per register, with IRM [40] clear.
const WRITES: [(SgiRegister, u64); 3] = [
    (SgiRegister::Sgi1r, 3 << 24 | 0x0002),
    (SgiRegister::Asgi1r, 5 << 24 | 1 << 16 | 0x0001),
    (SgiRegister::Sgi0r, 0xF << 24 | 0x8003),
];

/// What the realm reports once every write has been emulated.
const DONE: u64 = 0x5617_D0E5;

fn sgi_writes_realm(r: &mut dyn RealmEnv) {
    for (reg, value) in WRITES {
        r.gic_write_sgi(reg, value);
    }
    report(r, &[DONE]);
    r.wfi();
}

/// ESR_EL2 of a trapped MSR/MRS: EC 0x18, IL 1.
const SYSREG_TRAP: u64 = 0x18 << 26 | 1 << 25;
/// RecEnter flags: TRAP_WFI.
const TRAP_WFI: u64 = 1 << 2;

/// The exit of one write: reason SYNC, ESR the MSR's syndrome with Rt zero (the value
/// is in gprs[0] instead: A4.3.4 exposes what the host needs to emulate the write), the
/// written value in gprs[0] and nothing else, FAR and HPFAR zero.
fn sgi_exit(
    c: &mut Checks,
    exit: &RmiRecExit,
    reg: SgiRegister,
    value: u64,
) -> Result<(), Failure> {
    c.eq("exit reason: sync", exit.exit_reason.into(), 0)?;
    c.eq(
        "esr: EC 0x18, IL, the register, a write, Rt 0",
        exit.esr,
        SYSREG_TRAP | reg.iss(),
    )?;
    c.eq("far", exit.far, 0)?;
    c.eq("hpfar", exit.hpfar, 0)?;
    c.eq("gprs[0]: the value written", exit.gprs[0], value)?;
    c.holds("gprs[1..]: zero", exit.gprs[1..].iter().all(|&g| g == 0))
}

/// GICv3 architecture (HCR_EL2.IMO/FMO) and DEN0137 1.0, A4.3.4: a realm's MSR to ICC_SGI1R_EL1, ICC_ASGI1R_EL1 and
/// ICC_SGI0R_EL1 each exit with its own syndrome and value; entered again, the realm
/// continues after the instruction (it reaches its report after the three writes)
/// and then its trapped WFI.
fn sgi_writes(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let (vm, _) = start_with(h, &pool, c, &PROGRAM, 1, &[(CALL, &ZERO)])?;
    for (reg, value) in WRITES {
        let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
        sgi_exit(c, &exit, reg, value)?;
    }
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    let r = report_exit(c, &exit)?;
    c.eq("the realm continued past the three writes", r[0], DONE)?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    c.eq("exit reason: sync", exit.exit_reason.into(), 0)?;
    c.eq("esr: EC WFx, TI WFI", exit.esr, 0x01 << 26)?;
    Ok(teardown(h, &pool, c, &[vm.realm.rd], &vm.recs[..1])?)
}
