//! Worlds: their SCR_EL3 configuration, their initial state and the switch between
//! them.
//!
//! SCR_EL3 per world: Realm NSE = 1, NS = 1; Non-secure NSE = 0, NS = 1; both with
//! RW (AArch64 below EL3) and HCE (HVC enabled), and the enables of the features whose
//! EL2 registers [`crate::sysreg::save_el2`] switches (pointer authentication APK/API,
//! FGTEn, ECVEn, HXEn, TCR2En, SCTLR2En). IRQ, FIQ and external aborts stay with the
//! lower ELs (IRQ = FIQ = EA = 0) and granule protection faults are reported to the EL
//! that made the access (GPF = 0), so a Normal-world access to a Realm granule is a
//! data abort at NS-EL2 with a GPF fault status.

use crate::percpu::{PerCpu, World};
use crate::sysreg::{self, Features};

const SCR_NS: u64 = 1 << 0;
const SCR_HCE: u64 = 1 << 8;
const SCR_RW: u64 = 1 << 10;
const SCR_APK: u64 = 1 << 16;
const SCR_API: u64 = 1 << 17;
const SCR_FGTEN: u64 = 1 << 27;
const SCR_ECVEN: u64 = 1 << 28;
const SCR_HXEN: u64 = 1 << 38;
const SCR_TCR2EN: u64 = 1 << 43;
const SCR_SCTLR2EN: u64 = 1 << 44;
const SCR_NSE: u64 = 1 << 62;

/// PSTATE a world is entered with: EL2h, D, A, I and F masked.
pub const SPSR_EL2H_DAIF: u64 = 0x3C9;

/// ICC_SRE_EL2 at world entry: SRE | Enable (system register interface, lower-EL access).
pub const ICC_SRE_EL2_INIT: u64 = 0x9;

/// SCR_EL3 for `world`.
pub fn scr(world: World, f: &Features) -> u64 {
    let mut v = SCR_RW | SCR_HCE | SCR_NS;
    if f.pauth {
        v |= SCR_APK | SCR_API;
    }
    if f.fgt {
        v |= SCR_FGTEN;
    }
    if f.ecv {
        v |= SCR_ECVEN;
    }
    if f.hcx {
        v |= SCR_HXEN;
    }
    if f.tcr2 {
        v |= SCR_TCR2EN;
    }
    if f.sctlr2 {
        v |= SCR_SCTLR2EN;
    }
    if world == World::Realm {
        v |= SCR_NSE;
    }
    v
}

/// Prepares both worlds of `cpu`: the EL2 state they start from is the CPU's EL2 state
/// as found (reset values, with ICC_SRE_EL2 = SRE | Enable); each starts at `entry` at
/// EL2h with interrupts masked and x0..x3 = the given arguments (Realm) or zero
/// (Non-secure).
pub fn init_contexts(cpu: &mut PerCpu, realm_entry: u64, realm_args: [u64; 4], ns_entry: u64) {
    let f = cpu.features;
    sysreg::write_icc_sre_el2(ICC_SRE_EL2_INIT);
    for (w, entry) in [(World::Realm, realm_entry), (World::NonSecure, ns_entry)] {
        let ctx = &mut cpu.ctx[w as usize];
        sysreg::save_el2(&f, &mut ctx.el2);
        ctx.scr = scr(w, &f);
        ctx.gprs.elr = entry;
        ctx.gprs.spsr = SPSR_EL2H_DAIF;
    }
    cpu.ctx[World::Realm as usize].gprs.x[..4].copy_from_slice(&realm_args);
}

/// Loads `world`'s EL2 state and SCR_EL3 and makes it the world the next exception
/// return resumes. The running world's EL2 state must have been saved (or be
/// disposable).
fn load(cpu: &mut PerCpu, world: World) {
    let f = cpu.features;
    sysreg::restore_el2(&f, &cpu.ctx[world as usize].el2);
    sysreg::write_scr_el3(cpu.ctx[world as usize].scr);
    cpu.set_world(world);
}

/// Switches from the running world to `to`: saves the running world's EL2 state and
/// loads `to`'s. The exception return then resumes `to` from its saved registers.
pub fn switch(cpu: &mut PerCpu, to: World) {
    let f = cpu.features;
    let from = cpu.world;
    sysreg::save_el2(&f, &mut cpu.ctx[from as usize].el2);
    load(cpu, to);
}

/// Enters `world` for the first time on this CPU (never returns to the caller).
pub fn enter(cpu: &'static mut PerCpu, world: World) -> ! {
    load(cpu, world);
    crate::asm::enter_lower(cpu)
}
