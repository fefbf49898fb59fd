//! Running a REC: what happens between RMI_REC_ENTER and the REC exit it returns.
//!
//! - [`entry`]: completing the previous exit from the host's `RecEnter` values.
//! - [`exit`]: building the exit record, with only the fields the spec allows.
//! - [`inject`]: taking a synchronous exception to the realm's EL1.
//! - [`trap`]: deciding, for each exception the realm takes to EL2, whether the RMM
//!   handles it and resumes the realm or exits to the host.
//! - [`realm_mem`]: the RMM's own accesses to realm memory (RSI buffers).

pub mod entry;
pub mod exit;
pub mod inject;
pub mod realm_mem;
pub mod trap;

use crate::Storage;

use platform::{Arch, CpuId, PhysAddr, RealmRegs, SysReg};
use rmi_abi::flags::RmiRecEnterFlags;
use rmi_abi::{RmiRecEnter, RmiRecExit};
use vgic::ValidatedState;
use zerocopy::FromZeros;

use crate::realm::RealmInfo;
use crate::rec::{Rec, EL1_REGS};
use crate::Rmm;

/// What the run loop does after handling a trap.
pub enum Step {
    /// Resume the realm.
    Resume,
    /// Return to the host with this exit record.
    Exit,
}

/// Everything a REC run works on: the REC (a copy, written back when the run ends),
/// the realm's registers, the exit record being built.
pub struct RunCtx<'a> {
    /// The CPU running the REC.
    pub cpu: CpuId,
    /// The REC.
    pub rec: &'a mut Rec,
    /// The REC's RD.
    pub rd: PhysAddr,
    /// The realm's attributes at entry.
    pub realm: RealmInfo,
    /// The realm's registers.
    pub regs: RealmRegs,
    /// The exit record.
    pub exit: &'a mut RmiRecExit,
}

/// What the host supplied on entry, validated.
pub struct Entry<'a> {
    /// The RecEnter half of RecRun (a copy).
    pub enter: &'a RmiRecEnter,
    /// Its flags.
    pub flags: RmiRecEnterFlags,
    /// Its GIC state, validated.
    pub gic: ValidatedState,
}

/// HCR_EL2 while a realm runs: VM, SWIO, FMO, IMO, AMO, FB, BSU inner shareable, TSC
/// (SMCs trap to the RMM), RW (EL1 is AArch64), FWB (the RMM decides cacheability of
/// protected memory).
pub const HCR_REALM: u64 =
    1 | 1 << 1 | 1 << 3 | 1 << 4 | 1 << 5 | 1 << 9 | 1 << 10 | 1 << 19 | 1 << 31 | 1 << 46;
/// HCR_EL2.TWI: trap WFI.
pub const HCR_TWI: u64 = 1 << 13;
/// HCR_EL2.TWE: trap WFE.
pub const HCR_TWE: u64 = 1 << 14;

/// VTCR_EL2 for a realm: T0SZ from the IPA width, SL0 from the start level, walks
/// inner/outer write-back inner shareable, 4 KiB granule, the PA size, 16-bit VMIDs
/// when implemented, RES1 bit 31.
pub fn vtcr(realm: &RealmInfo, pa_bits: u32, vmid16: bool) -> u64 {
    let g = &realm.geometry;
    let sl0: u64 = match g.start_level {
        0 => 2,
        1 => 1,
        _ => 0,
    };
    let ps: u64 = match pa_bits {
        32 => 0,
        36 => 1,
        40 => 2,
        42 => 3,
        44 => 4,
        _ => 5,
    };
    (64 - g.ipa_bits as u64)
        | sl0 << 6
        | 1 << 8
        | 1 << 10
        | 3 << 12
        | ps << 16
        | (vmid16 as u64) << 19
        | 1 << 31
}

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// Runs the REC until an exit the host must see, building its exit record in
    /// `exit`.
    pub(crate) fn run_rec(
        &self,
        cpu: CpuId,
        rec: &mut Rec,
        exit: &mut RmiRecExit,
        rd: PhysAddr,
        realm: RealmInfo,
        entry: Entry<'_>,
    ) {
        let Entry { enter, flags, gic } = entry;
        let regs = RealmRegs {
            gprs: rec.gprs,
            pc: rec.pc,
            pstate: rec.pstate,
        };
        exit.zero();
        let mut ctx = RunCtx {
            cpu,
            rec,
            rd,
            realm,
            regs,
            exit,
        };

        // Host state of the registers the realm owns while it runs.
        let mut host_el1 = [0u64; EL1_REGS.len()];
        for (v, &r) in host_el1.iter_mut().zip(EL1_REGS.iter()) {
            *v = self.arch.read_sysreg(cpu, r);
        }
        let host_hcr = self.arch.read_sysreg(cpu, SysReg::HCR_EL2);
        let host_cnthctl = self.arch.read_sysreg(cpu, SysReg::CNTHCTL_EL2);
        for (&r, &v) in EL1_REGS.iter().zip(ctx.rec.el1.iter()) {
            self.arch.write_sysreg(cpu, r, v);
        }
        let mut hcr = HCR_REALM;
        if flags.trap_wfi() {
            hcr |= HCR_TWI;
        }
        if flags.trap_wfe() {
            hcr |= HCR_TWE;
        }
        let vmid16 = self.features.vmid_bits == 16;
        self.arch.write_sysreg(
            cpu,
            SysReg::VTCR_EL2,
            vtcr(&ctx.realm, self.features.pa_bits, vmid16),
        );
        self.arch.write_sysreg(
            cpu,
            SysReg::VTTBR_EL2,
            ctx.realm.rtt_base | (ctx.realm.vmid as u64) << 48,
        );
        self.arch
            .write_sysreg(cpu, SysReg::VMPIDR_EL2, 1 << 31 | mpidr_el1(ctx.rec.mpidr));
        self.arch.write_sysreg(cpu, SysReg::HCR_EL2, hcr);
        ctx.rec.vgic.load(gic);
        ctx.rec.vgic.restore(&mut self.arch.gic(cpu, self.gic));

        if let Step::Resume = self.complete_previous_exit(&mut ctx, enter, flags) {
            loop {
                if let Step::Exit = self.check_timers(&mut ctx) {
                    break;
                }
                let t = self.arch.run_realm(cpu, &mut ctx.regs);
                if let Step::Exit = self.handle_trap(&mut ctx, t) {
                    break;
                }
            }
        }

        let mut gic_if = self.arch.gic(cpu, self.gic);
        ctx.rec.vgic.save(&mut gic_if);
        drop(gic_if);
        for (v, &r) in ctx.rec.el1.iter_mut().zip(EL1_REGS.iter()) {
            *v = self.arch.read_sysreg(cpu, r);
        }
        for (&r, &v) in EL1_REGS.iter().zip(host_el1.iter()) {
            self.arch.write_sysreg(cpu, r, v);
        }
        self.arch.write_sysreg(cpu, SysReg::HCR_EL2, host_hcr);
        self.arch
            .write_sysreg(cpu, SysReg::CNTHCTL_EL2, host_cnthctl);
        self.finish_exit(&mut ctx);
    }

    /// DEN0137 1.0, A6.2: before the realm runs, an EL1 timer whose output is asserted
    /// is masked (CNTHCTL_EL2.CNTVMASK/CNTPMASK) so that the realm can make progress
    /// while the host delivers its virtual interrupt; if a timer's output differs from
    /// what the host last saw, the REC exits (IRQ) so that the host can update the
    /// virtual interrupt.
    fn check_timers(&self, ctx: &mut RunCtx<'_>) -> Step {
        let v = self.arch.read_sysreg(ctx.cpu, SysReg::CNTV_CTL_EL0);
        let p = self.arch.read_sysreg(ctx.cpu, SysReg::CNTP_CTL_EL0);
        let now = timer_asserted(v) as u8 | (timer_asserted(p) as u8) << 1;
        if now != ctx.rec.timer_asserted {
            ctx.exit_interrupt(false);
            return Step::Exit;
        }
        let mask = (now as u64 & 1) << CNTHCTL_CNTVMASK_SHIFT
            | (now as u64 >> 1) << CNTHCTL_CNTPMASK_SHIFT;
        self.arch
            .write_sysreg(ctx.cpu, SysReg::CNTHCTL_EL2, CNTHCTL_EL1_ACCESS | mask);
        Step::Resume
    }

    /// Fields every exit carries: the GIC report and the timers; saves the registers.
    fn finish_exit(&self, ctx: &mut RunCtx<'_>) {
        let report = ctx.rec.vgic.exit_report();
        ctx.exit.gicv3_hcr = report.hcr;
        ctx.exit.gicv3_lrs = report.lrs;
        ctx.exit.gicv3_misr = report.misr;
        ctx.exit.gicv3_vmcr = report.vmcr;
        let el1 = |r| ctx.rec.el1[crate::rec::el1_index(r)];
        ctx.exit.cntv_ctl = el1(SysReg::CNTV_CTL_EL0);
        ctx.exit.cntv_cval = el1(SysReg::CNTV_CVAL_EL0);
        ctx.exit.cntp_ctl = el1(SysReg::CNTP_CTL_EL0);
        ctx.exit.cntp_cval = el1(SysReg::CNTP_CVAL_EL0);
        ctx.rec.timer_asserted = timer_asserted(ctx.exit.cntv_ctl) as u8
            | (timer_asserted(ctx.exit.cntp_ctl) as u8) << 1;
        ctx.rec.gprs = ctx.regs.gprs;
        ctx.rec.pc = ctx.regs.pc;
        ctx.rec.pstate = ctx.regs.pstate;
    }
}

/// CNTHCTL_EL2.CNTVMASK (FEAT_RME): masks the EL1 virtual timer's output.
const CNTHCTL_CNTVMASK_SHIFT: u32 = 18;
/// CNTHCTL_EL2.CNTPMASK (FEAT_RME): masks the EL1 physical timer's output.
const CNTHCTL_CNTPMASK_SHIFT: u32 = 19;
/// CNTHCTL_EL2.EL1PCTEN | EL1PCEN: EL1 may use the physical counter and timer.
const CNTHCTL_EL1_ACCESS: u64 = 0b11;

/// Whether a timer control value (CNTx_CTL_EL0) says the timer asserts its interrupt:
/// ENABLE and ISTATUS set, IMASK clear.
pub fn timer_asserted(ctl: u64) -> bool {
    ctl & 0b111 == 0b101
}

/// The MPIDR_EL1 value a realm sees for a REC created with `RmiRecMpidr` `m`.
pub fn mpidr_el1(m: u64) -> u64 {
    rmi_abi::mpidr::RmiRecMpidr::decode(m)
        .map(|m| m.to_mpidr_el1())
        .unwrap_or(0)
}
