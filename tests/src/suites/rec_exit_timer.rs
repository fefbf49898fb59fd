//! The realm's EL1 timers on the host's side (DEN0137 1.0, A6.2 realm timers, A4.3.2
//! REC exit due to IRQ): a timer whose output starts asserting exits the REC with its
//! state in the exit record; the host injects the timer's interrupt through a list
//! register, the RMM masks the timer's output so the realm runs, and the realm takes
//! the virtual interrupt from its GIC CPU interface. Once for the virtual timer
//! (CNTV, PPI 27), once for the physical one (CNTP, PPI 30). The realm side is a
//! [`Program`], run hosted and at R-EL1 in QEMU.

use rmi_abi::RmiRecExit;
use rsi_abi::fid;

use super::rec_exit::{enter, report, report_exit, start};
use crate::builder::{teardown, Pool};
use crate::program::Program;
use crate::realm::RealmEnv;
use crate::{Checks, Host, Outcome, TestDef};

/// The tests of this module.
pub const TESTS: &[TestDef] = &[
    TestDef {
        name: "rec_exit_virtual_timer_through_a_list_register",
        run: virtual_timer,
    },
    TestDef {
        name: "rec_exit_physical_timer_through_a_list_register",
        run: physical_timer,
    },
];

/// The realm programs of this module.
pub(super) const PROGRAMS: [&Program; 2] = [
    &Program {
        name: "rec_exit_virtual_timer_through_a_list_register",
        run: virtual_timer_realm,
    },
    &Program {
        name: "rec_exit_physical_timer_through_a_list_register",
        run: physical_timer_realm,
    },
];

/// RmiRecExitReason: IRQ.
const EXIT_IRQ: u64 = 1;
/// RecEnter flags: TRAP_WFI.
const TRAP_WFI: u64 = 1 << 2;
/// CNTx_CTL_EL0: ENABLE [0], ISTATUS [2].
const ENABLE: u64 = 1;
const ISTATUS: u64 = 1 << 2;

/// One of the realm's EL1 timers.
#[derive(Clone, Copy)]
enum Timer {
    /// CNTV_*_EL0.
    Virtual,
    /// CNTP_*_EL0.
    Physical,
}

impl Timer {
    /// The timer's PPI (Arm BSA: EL1 virtual timer 27, EL1 physical timer 30), the
    /// vINTID the host injects.
    fn intid(self) -> u64 {
        match self {
            Timer::Virtual => 27,
            Timer::Physical => 30,
        }
    }

    fn set(self, r: &mut dyn RealmEnv, ctl: u64, cval: u64) {
        match self {
            Timer::Virtual => r.set_virtual_timer(ctl, cval),
            Timer::Physical => r.set_physical_timer(ctl, cval),
        }
    }

    fn ctl(self, r: &mut dyn RealmEnv) -> u64 {
        match self {
            Timer::Virtual => r.virtual_timer_ctl(),
            Timer::Physical => r.physical_timer_ctl(),
        }
    }

    /// The exit record's (ctl, cval) of this timer, and the other timer's ctl.
    fn exit_fields(self, exit: &RmiRecExit) -> (u64, u64, u64) {
        match self {
            Timer::Virtual => (exit.cntv_ctl, exit.cntv_cval, exit.cntp_ctl),
            Timer::Physical => (exit.cntp_ctl, exit.cntp_cval, exit.cntv_ctl),
        }
    }
}

fn timer_realm(r: &mut dyn RealmEnv, t: Timer) {
    r.gic_enable_group1();
    // ENABLE with CVAL 0: the timer condition holds at once.
    t.set(r, ENABLE, 0);
    let version = r.smc(fid::RSI_VERSION as u64, &[0x1_0000])[0];
    let ctl = t.ctl(r);
    let intid = r.gic_acknowledge();
    // The handler stops the timer and completes the interrupt.
    t.set(r, 0, 0);
    r.gic_eoi(intid);
    let after = r.gic_acknowledge();
    report(r, &[version, ctl, intid, after]);
    r.wfi();
}

fn virtual_timer_realm(r: &mut dyn RealmEnv) {
    timer_realm(r, Timer::Virtual)
}

fn physical_timer_realm(r: &mut dyn RealmEnv) {
    timer_realm(r, Timer::Physical)
}

/// DEN0137 1.0, A6.2 and A4.3.2: a realm timer that starts asserting exits the REC
/// with reason IRQ, ESR, FAR, HPFAR zero and the timer's state (CTL ENABLE | ISTATUS,
/// CVAL), the other timer disabled; the host injects the timer's interrupt through a
/// list register, the RMM keeps the timer's output masked so the realm runs, and the
/// realm acknowledges the vINTID (ICC_IAR1_EL1), sees ISTATUS still set, stops the
/// timer and EOIs it; nothing else is pending (1023). The exit's list register is then
/// invalid with the vINTID and the timer reported stopped.
fn timer_through_lr(
    h: &dyn Host,
    c: &mut Checks,
    program: &'static Program,
    t: Timer,
) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let (vm, _) = start(h, &pool, c, program, 1)?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    c.eq("exit reason: IRQ", exit.exit_reason.into(), EXIT_IRQ)?;
    c.eq("esr", exit.esr, 0)?;
    c.eq("far", exit.far, 0)?;
    c.eq("hpfar", exit.hpfar, 0)?;
    let (ctl, cval, other) = t.exit_fields(&exit);
    c.eq("the timer's ctl: ENABLE | ISTATUS", ctl, ENABLE | ISTATUS)?;
    c.eq("the timer's cval", cval, 0)?;
    c.eq("the other timer's ctl: disabled", other, 0)?;
    // ICH_LR<n>_EL2: State pending [63:62] 0b01, Group 1 [60], Priority [55:48].
    let lr = 1 << 62 | 1 << 60 | 0xA0 << 48 | t.intid();
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |e| e.gicv3_lrs[0] = lr)?;
    let r = report_exit(c, &exit)?;
    c.eq("RSI_VERSION status with the timer asserted", r[0], 0)?;
    c.eq("the realm's CTL: ENABLE | ISTATUS", r[1], ENABLE | ISTATUS)?;
    c.eq("ICC_IAR1_EL1: the timer's vINTID", r[2], t.intid())?;
    c.eq("ICC_IAR1_EL1 after EOI: spurious 1023", r[3], 1023)?;
    c.eq(
        "exit LR0: invalid (acknowledged, EOId)",
        exit.gicv3_lrs[0] >> 62,
        0,
    )?;
    c.eq(
        "exit LR0: the vINTID",
        exit.gicv3_lrs[0] & 0xFFFF_FFFF,
        t.intid(),
    )?;
    c.eq("exit: the timer stopped", t.exit_fields(&exit).0, 0)?;
    Ok(teardown(h, &pool, c, &[vm.realm.rd], &vm.recs[..1])?)
}

fn virtual_timer(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    timer_through_lr(h, c, PROGRAMS[0], Timer::Virtual)
}

fn physical_timer(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    timer_through_lr(h, c, PROGRAMS[1], Timer::Physical)
}
