//! A REC forced out by a Normal-world interrupt (DEN0137 1.0, A4.3.5: REC exit due to
//! IRQ). The realm payload executes WFI with WFI not trapped (RecEnter.flags
//! TRAP_WFI clear), so it stays in the realm until something interrupts it; a
//! physical interrupt of the host's becomes pending at the CPU, which, with
//! HCR_EL2.IMO set while the realm runs, takes it to R-EL2, and the RMM exits the REC.
//! The host then finds its own interrupt still pending at its GIC CPU interface,
//! acknowledges and completes it, and enters the REC again: the WFI has completed and
//! the payload sends its result.
//!
//! Two interrupts, one after the other: the host's Non-secure EL2 physical timer
//! (CNTHP, PPI 26), set to fire 20 ms after the REC is entered on CPU 0, and SGI 2
//! sent by CPU 1 ([`crate::smp::post_sgi`]) 20 ms after it was asked to. Neither EL3
//! switches CNTHP between the worlds (the RMM does not use it), and both route IRQs
//! below EL3 (SCR_EL3.IRQ = 0), so both reach the RMM while the realm runs.

use core::arch::asm;

use rmi_abi::RmiRecEnter;
use rmm_conformance::builder::Pool;
use rmm_conformance::payload::cmd;
use rmm_conformance::{Checks, Failure, Host, Outcome, TestDef};
use zerocopy::FromZeros;

use crate::realm_run::Payload;
use crate::{gic, smp};

/// The test, run with the realm tests.
pub const TEST: TestDef = TestDef {
    name: "realm_run_ns_irq_forces_exit",
    run,
};

/// RmiRecExitReason: IRQ (DEN0137 1.0, B4.4.19).
const EXIT_IRQ: u64 = 1;
/// How long after it is set the host's timer fires, and after CPU 1 is asked the SGI
/// comes.
const DELAY_MS: u64 = 20;
/// CNTHP_CTL_EL2: ENABLE [0], IMASK [1], ISTATUS [2].
pub(crate) const CTL_ENABLE: u64 = 1 << 0;
const CTL_ISTATUS: u64 = 1 << 2;

fn cntfrq() -> u64 {
    let v: u64;
    // SAFETY: reading the counter frequency has no side effect.
    unsafe { asm!("mrs {}, cntfrq_el0", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// CNTHP_CVAL_EL2 = `cval`, then CNTHP_CTL_EL2 = `ctl` (the Non-secure EL2 physical
/// timer, the host's own). Also the path-length bench's interrupt source
/// ([`crate::bench`]).
pub(crate) fn set_cnthp(ctl: u64, cval: u64) {
    // SAFETY: programming the EL2 physical timer at EL2 has no effect on memory; its
    // interrupt is taken nowhere (PSTATE.I stays masked at NS-EL2).
    unsafe {
        asm!(
            "msr S3_4_C14_C2_2, {cval}",
            "msr S3_4_C14_C2_1, {ctl}",
            "isb",
            cval = in(reg) cval,
            ctl = in(reg) ctl,
            options(nomem, nostack, preserves_flags),
        )
    };
}

fn cnthp_ctl() -> u64 {
    let v: u64;
    // SAFETY: reading the timer's control register has no side effect.
    unsafe {
        asm!("isb", "mrs {}, S3_4_C14_C2_1", out(reg) v, options(nomem, nostack, preserves_flags))
    };
    v
}

/// A REC exit due to IRQ: reason IRQ, no syndrome (A4.3.5: ESR, FAR, HPFAR zero).
fn irq_exit(c: &mut Checks, exit: &rmi_abi::RmiRecExit) -> Result<(), Failure> {
    c.eq("exit reason: IRQ", exit.exit_reason.into(), EXIT_IRQ)?;
    c.eq("esr", exit.esr, 0)?;
    c.eq("far", exit.far, 0)?;
    c.eq("hpfar", exit.hpfar, 0)
}

/// After the IRQ exit: the host's interrupt `intid` is the one pending at its CPU
/// interface; acknowledged (with `quiesce` run before its EOI) and completed, nothing
/// else is pending; the next entry completes the realm's WFI.
fn take_and_resume(
    h: &dyn Host,
    p: &Payload,
    c: &mut Checks,
    intid: u32,
    quiesce: impl FnOnce(),
) -> Result<(), Failure> {
    c.eq(
        "ICC_IAR1_EL1: the host's interrupt, still pending",
        gic::acknowledge().into(),
        intid.into(),
    )?;
    quiesce();
    gic::end_of_interrupt(intid);
    c.eq(
        "ICC_IAR1_EL1 after EOI: nothing else pending",
        gic::acknowledge().into(),
        gic::SPURIOUS.into(),
    )?;
    let r = p.results_after(h, c, &RmiRecEnter::new_zeroed())?;
    c.eq("the realm's WFI completed: its result", r[0], 0)
}

fn run(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let p = Payload::start(h, &pool, c, None)?;
    p.first_entry(h, c)?;
    gic::enable_cpu_if();
    let r = (|| -> Result<(), Failure> {
        gic::enable(gic::CNTHP_PPI);
        // Without -icount the counter is real time: a host CPU thread descheduled for
        // the delay (a loaded machine) lets the timer fire before the entry. That says
        // nothing of the RMM, so the timer is set again with a longer delay, a few
        // times, before the check is taken as failed.
        for attempt in 0..4 {
            let cval = crate::asm::cntpct() + cntfrq() / 1000 * (DELAY_MS << attempt);
            set_cnthp(CTL_ENABLE, cval);
            if cnthp_ctl() & CTL_ISTATUS == 0 {
                break;
            }
            set_cnthp(0, 0);
        }
        c.holds(
            "the host's timer has not fired before the entry",
            cnthp_ctl() & CTL_ISTATUS == 0 && cnthp_ctl() & CTL_ENABLE != 0,
        )?;
        let exit = p.command(h, c, cmd::WFI, &[], 0)?;
        irq_exit(c, &exit)?;
        c.holds(
            "the host's timer fired (CNTHP_CTL_EL2.ISTATUS)",
            cnthp_ctl() & CTL_ISTATUS != 0,
        )?;
        // The timer's interrupt is a level: stop the timer before the EOI.
        take_and_resume(h, &p, c, gic::CNTHP_PPI, || set_cnthp(0, 0))?;
        gic::disable(gic::CNTHP_PPI);
        if h.num_cpus() < 2 {
            return Ok(());
        }
        gic::enable(gic::TEST_SGI);
        let sgi = smp::post_sgi(DELAY_MS, gic::TEST_SGI, 0);
        let exit = p.command(h, c, cmd::WFI, &[], 0)?;
        smp::wait(sgi);
        irq_exit(c, &exit)?;
        take_and_resume(h, &p, c, gic::TEST_SGI, || {})?;
        gic::disable(gic::TEST_SGI);
        Ok(())
    })();
    set_cnthp(0, 0);
    gic::disable(gic::CNTHP_PPI);
    gic::disable(gic::TEST_SGI);
    gic::disable_cpu_if();
    r?;
    p.finish(h, &pool, c)
}
