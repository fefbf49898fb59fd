//! The host's own hardware the VMM uses (all of its `unsafe` code): the EL2 physical
//! timer (CNTHP, PPI 26) as a preemption and wake-up timer, and (through
//! [`crate::gic`]) the physical GIC set-up that lets it interrupt a running realm.
//!
//! A REC runs until something makes it exit; a vCPU spinning on a lock another vCPU
//! holds (all RECs share CPU 0) exits only on an interrupt. So before each
//! RMI_REC_ENTER the VMM arms CNTHP: its PPI, Group 1 Non-secure (EL3 makes every PPI
//! so, as TF-A does; the host enables Group 1 at the distributor), enabled in CPU 0's
//! redistributor, interrupts the realm at R-EL2 (HCR_EL2.IMO), and the RMM exits with
//! reason IRQ. The VMM never takes the interrupt
//! itself (PSTATE.I stays masked at NS-EL2): it disarms the timer after the exit, which
//! drops the level-sensitive PPI again. With every vCPU waiting (WFI), the VMM arms the
//! timer for the earliest virtual timer deadline and waits in WFI, which a pending
//! interrupt ends even while masked.

use core::arch::asm;

/// Enables Non-secure Group 1 at the distributor, CNTHP's PPI in CPU 0's redistributor
/// and the CPU interface ([`crate::gic`]: EL3 made the PPI Non-secure Group 1).
pub fn init() {
    disarm();
    crate::gic::init_distributor();
    crate::gic::enable(crate::gic::CNTHP_PPI);
    crate::gic::enable_cpu_if();
}

/// CNTPCT_EL0.
pub fn now() -> u64 {
    crate::asm::cntpct()
}

/// CNTFRQ_EL0, ticks per second.
pub fn freq() -> u64 {
    let v: u64;
    // SAFETY: reading the counter frequency has no side effect.
    unsafe { asm!("mrs {}, cntfrq_el0", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// Arms CNTHP to fire when the count reaches `cval`.
pub fn arm(cval: u64) {
    // SAFETY: CNTHP_CVAL_EL2/CNTHP_CTL_EL2 are this EL's own timer, used by nothing
    // else; ENABLE with IMASK clear raises PPI 26, which is never taken (PSTATE.I).
    unsafe {
        asm!(
            "msr cnthp_cval_el2, {cval}",
            "msr cnthp_ctl_el2, {one}",
            "isb",
            cval = in(reg) cval,
            one = in(reg) 1u64,
            options(nomem, nostack, preserves_flags)
        )
    };
}

/// Disarms CNTHP (its interrupt line drops).
pub fn disarm() {
    // SAFETY: as in `arm`; writing 0 disables the timer.
    unsafe {
        asm!(
            "msr cnthp_ctl_el2, xzr",
            "isb",
            options(nomem, nostack, preserves_flags)
        )
    };
}

/// Waits until the count reaches `cval` (or any interrupt is pending).
pub fn wait_until(cval: u64) {
    if now() >= cval {
        return;
    }
    arm(cval);
    // SAFETY: WFI only waits; a pending interrupt (CNTHP's above at the latest) ends
    // it even with PSTATE.I masked.
    unsafe { asm!("dsb sy", "wfi", options(nomem, nostack, preserves_flags)) };
    disarm();
}

/// How many list registers the GIC's virtual CPU interface has: ICH_VTR_EL2.ListRegs
/// [4:0] + 1 (IHI 0069, 12.4.9); needs ICC_SRE_EL2.SRE ([`init`]).
pub fn num_lrs() -> usize {
    let v: u64;
    // SAFETY: reading an ID-like GIC register at EL2 with the system register
    // interface enabled has no side effect.
    unsafe { asm!("mrs {}, ich_vtr_el2", out(reg) v, options(nomem, nostack, preserves_flags)) };
    (v & 0x1F) as usize + 1
}
