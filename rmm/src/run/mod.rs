//! Running a REC: what happens between RMI_REC_ENTER and the REC exit it returns.
//!
//! - [`control`]: the EL2 controls and traps a realm runs under.
//! - [`debug_regs`]: the self-hosted debug registers as a realm sees them (RAZ/WI).
//! - [`entry`]: completing the previous exit from the host's `RecEnter` values.
//! - [`exit`]: building the exit record, with only the fields the spec allows.
//! - [`id_regs`]: the feature ID registers as a realm reads them.
//! - [`inject`]: taking a synchronous exception to the realm's EL1.
//! - [`trap`]: deciding, for each exception the realm takes to EL2, whether the RMM
//!   handles it and resumes the realm or exits to the host.
//! - [`realm_mem`]: the RMM's own accesses to realm memory (RSI buffers).

pub mod control;
pub mod debug_regs;
pub mod entry;
pub mod exit;
pub mod id_regs;
pub mod inject;
pub mod realm_mem;
pub mod trap;

use crate::Storage;

use platform::{Arch, CpuId, FpRegs, PhysAddr, RealmRegs, SysReg};
use rmi_abi::flags::RmiRecEnterFlags;
use rmi_abi::{RmiRecEnter, RmiRecExit};

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
    /// Whether the Normal world's SVE state must be preserved in full: the CPU has
    /// FEAT_SVE and the call's SMCCC SVE hint bit is clear (SMCCC 1.3: the hint says
    /// the caller has no live state in the Z registers above bit 127, P0..P15 and FFR;
    /// without it the callee preserves that state).
    pub host_sve_live: bool,
}

pub use control::HCR_REALM;
/// HCR_EL2.TWI: trap WFI.
pub const HCR_TWI: u64 = control::hcr::TWI;
/// HCR_EL2.TWE: trap WFE.
pub const HCR_TWE: u64 = control::hcr::TWE;

/// The values of the EL2 registers the RMM changes for a realm run, as they were
/// before it (restored after it).
struct Outside {
    hcr: u64,
    cnthctl: u64,
    mdcr: u64,
    vpidr: u64,
    cntvoff: u64,
    /// With FEAT_HCX.
    hcrx: Option<u64>,
    /// With FEAT_PMUv3: the Normal world's counter enables (PMCNTENSET_EL0), all
    /// cleared for the run.
    pmcnten: Option<u64>,
    /// With FEAT_RAS: VDISR_EL2, the deferred virtual SError record that is EL1's
    /// DISR_EL1 while HCR_EL2.AMO is set (the REC's is loaded for the run).
    vdisr: Option<u64>,
}

/// VTCR_EL2 for a realm (Arm ARM D24.2, VTCR_EL2; D8.2, Table D8-19): T0SZ \[5:0\] from
/// the IPA width, the start level in SL0 \[7:6\] (and SL2 \[33\] for level -1), walks
/// inner/outer write-back (IRGN0, ORGN0) Inner Shareable (SH0 \[13:12\], which with LPA2
/// is also the shareability of every descriptor), 4 KiB granule (TG0 = 0), the PA size
/// PS \[18:16\] (at most 48 bits without LPA2, whose descriptors cannot express more),
/// 16-bit VMIDs (VS \[19\]) when implemented, RES1 bit 31, and DS \[32\] for a realm
/// created with LPA2.
pub fn vtcr(realm: &RealmInfo, pa_bits: u32, vmid16: bool) -> u64 {
    let g = &realm.geometry;
    let lpa2 = g.format.is_lpa2();
    let (sl2, sl0): (u64, u64) = match g.start_level {
        -1 => (1, 0),
        0 => (0, 2),
        1 => (0, 1),
        _ => (0, 0),
    };
    let pa_bits = if lpa2 { pa_bits } else { pa_bits.min(48) };
    let ps: u64 = match pa_bits {
        32 => 0,
        36 => 1,
        40 => 2,
        42 => 3,
        44 => 4,
        48 => 5,
        _ => 6,
    };
    (64 - g.ipa_bits as u64)
        | sl0 << 6
        | 1 << 8
        | 1 << 10
        | 3 << 12
        | ps << 16
        | (vmid16 as u64) << 19
        | 1 << 31
        | (lpa2 as u64) << 32
        | sl2 << 33
}

/// VTTBR_EL2 for a realm (Arm ARM D24.2, VTTBR_EL2): the VMID in \[63:48\] and the first
/// start-level RTT in BADDR: bits \[47:12\] in place and, with LPA2 (`VTCR_EL2.DS = 1`,
/// BADDR is a 52-bit address), bits \[51:48\] in register bits \[5:2\].
pub fn vttbr(realm: &RealmInfo) -> u64 {
    let base = realm.rtt_base;
    let high = if realm.geometry.format.is_lpa2() {
        (base >> 48 & 0xF) << 2
    } else {
        0
    };
    (base & 0x0000_FFFF_FFFF_F000) | high | (realm.vmid as u64) << 48
}

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// Runs the REC until an exit the host must see, building its exit record in
    /// `exit`. `host_fp` is where the Normal world's FP/SIMD registers are kept while
    /// the realm's are loaded.
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    pub(crate) fn run_rec(
        &self,
        cpu: CpuId,
        rec: &mut Rec,
        exit: &mut RmiRecExit,
        host_fp: &mut FpRegs,
        rd: PhysAddr,
        realm: RealmInfo,
        entry: Entry<'_>,
    ) {
        let Entry {
            enter,
            flags,
            host_sve_live,
        } = entry;
        let regs = RealmRegs {
            gprs: rec.gprs,
            pc: rec.pc,
            pstate: rec.pstate,
        };
        exit::clear(exit);
        let mut ctx = RunCtx {
            cpu,
            rec,
            rd,
            realm,
            regs,
            exit,
        };

        // The Normal world's FP/SIMD registers out, the realm's in: from here to the
        // restore below the registers hold the realm's values (the RMM itself has no
        // FP/SIMD code; CPTR_EL2 traps it).
        // With live SVE state, the whole Z registers too: loading the realm's V
        // registers (and its FP/SIMD code) zeroes their bits above 127.
        if host_sve_live {
            self.arch.save_host_sve(cpu);
        }
        self.arch.save_fp(cpu, host_fp);
        self.arch.load_fp(cpu, &ctx.rec.fp);
        // Host state of the registers the realm owns while it runs.
        let mut host_el1 = [0u64; EL1_REGS.len()];
        for (v, &r) in host_el1.iter_mut().zip(EL1_REGS.iter()) {
            *v = self.arch.read_sysreg(cpu, r);
        }
        // The Normal world's deferred error record (EL3 does not switch DISR_EL1): kept,
        // and clear while the REC runs, so that a record found after an exit is the
        // realm's.
        let host_disr = self.features.ras.then(|| {
            let v = self.arch.read_sysreg(cpu, SysReg::DISR_EL1);
            self.arch.write_sysreg(cpu, SysReg::DISR_EL1, 0);
            v
        });
        let outside = self.enter_controls(cpu, flags);
        if outside.vdisr.is_some() {
            self.arch
                .write_sysreg(cpu, SysReg::VDISR_EL2, ctx.rec.vdisr);
        }
        for (&r, &v) in EL1_REGS.iter().zip(ctx.rec.el1.iter()) {
            self.arch.write_sysreg(cpu, r, v);
        }
        let vmid16 = self.features.vmid_bits == 16;
        self.arch.write_sysreg(
            cpu,
            SysReg::VTCR_EL2,
            vtcr(&ctx.realm, self.features.pa_bits, vmid16),
        );
        self.arch
            .write_sysreg(cpu, SysReg::VTTBR_EL2, vttbr(&ctx.realm));
        self.arch
            .write_sysreg(cpu, SysReg::VMPIDR_EL2, 1 << 31 | mpidr_el1(ctx.rec.mpidr));
        // The Normal world's own ICH_* state out (EL3 switches none of the list and
        // active-priority registers), the REC's in.
        // (The host's validated values are in the REC already: RMI_REC_ENTER loaded them.)
        let host_gic = vgic::HostGicState::save(&mut self.arch.gic(cpu, self.gic));
        ctx.rec.vgic.restore(&mut self.arch.gic(cpu, self.gic));
        phase!(self.arch, RecLoaded);

        if let Step::Resume = self.complete_previous_exit(&mut ctx, enter, flags) {
            // The timer masks for the outputs the host last saw: the realm is only ever
            // entered while its timers still show those (check_timers), so they hold
            // for every entry of this run.
            self.mask_timers(&ctx);
            loop {
                if let Step::Exit = self.check_timers(&mut ctx) {
                    break;
                }
                if self.serror_pending(cpu) {
                    // Not the realm's (it has not run since the last exit synchronised
                    // its errors): the realm is not entered, and the SError stays
                    // pending for the host to take.
                    ctx.exit_interrupt(false);
                    break;
                }
                let t = self.arch.run_realm(cpu, &mut ctx.regs);
                if let Some(Step::Exit) = self.deferred_serror(&mut ctx, t) {
                    break;
                }
                if let Step::Exit = self.handle_trap(&mut ctx, t) {
                    break;
                }
            }
        }

        let mut gic_if = self.arch.gic(cpu, self.gic);
        ctx.rec.vgic.save(&mut gic_if);
        host_gic.restore(&mut gic_if);
        drop(gic_if);
        for (v, &r) in ctx.rec.el1.iter_mut().zip(EL1_REGS.iter()) {
            *v = self.arch.read_sysreg(cpu, r);
        }
        for (&r, &v) in EL1_REGS.iter().zip(host_el1.iter()) {
            self.arch.write_sysreg(cpu, r, v);
        }
        if outside.vdisr.is_some() {
            ctx.rec.vdisr = self.arch.read_sysreg(cpu, SysReg::VDISR_EL2);
        }
        self.leave_controls(cpu, &outside);
        if let Some(v) = host_disr {
            self.arch.write_sysreg(cpu, SysReg::DISR_EL1, v);
        }
        self.arch.save_fp(cpu, &mut ctx.rec.fp);
        self.arch.load_fp(cpu, host_fp);
        if host_sve_live {
            self.arch.restore_host_sve(cpu);
        }
        phase!(self.arch, RecSaved);
        self.finish_exit(&mut ctx);
    }

    /// Sets the EL2 controls for the realm ([`control`]): HCR_EL2 (WFI/WFE traps as
    /// the host asked), MDCR_EL2, VPIDR_EL2 (the CPU's MIDR), CNTVOFF_EL2 and, with
    /// FEAT_HCX, HCRX_EL2; with FEAT_PMUv3 disables every PMU counter. Returns what
    /// they were (and, with FEAT_RAS, VDISR_EL2, which the caller loads with the
    /// REC's).
    fn enter_controls(&self, cpu: CpuId, flags: RmiRecEnterFlags) -> Outside {
        let read = |r| self.arch.read_sysreg(cpu, r);
        let outside = Outside {
            hcr: read(SysReg::HCR_EL2),
            cnthctl: read(SysReg::CNTHCTL_EL2),
            mdcr: read(SysReg::MDCR_EL2),
            vpidr: read(SysReg::VPIDR_EL2),
            cntvoff: read(SysReg::CNTVOFF_EL2),
            hcrx: self.features.hcx.then(|| read(SysReg::HCRX_EL2)),
            vdisr: self.features.ras.then(|| read(SysReg::VDISR_EL2)),
            pmcnten: self.features.pmu_v3().then(|| read(SysReg::PMCNTENSET_EL0)),
        };
        let mut hcr = control::hcr_realm(&self.features);
        if flags.trap_wfi() {
            hcr |= HCR_TWI;
        }
        if flags.trap_wfe() {
            hcr |= HCR_TWE;
        }
        let write = |r, v| self.arch.write_sysreg(cpu, r, v);
        // No counter the Normal world programmed counts the realm (at EL1 or EL0,
        // which MDCR_EL2 cannot exclude, nor the host's filters reliably: the host
        // sets them) or the RMM while the REC runs.
        if outside.pmcnten.is_some() {
            write(SysReg::PMCNTENCLR_EL0, control::PMCNTEN_ALL);
        }
        write(
            SysReg::MDCR_EL2,
            control::mdcr_realm(&self.features, outside.mdcr),
        );
        write(SysReg::VPIDR_EL2, read(SysReg::MIDR_EL1));
        write(SysReg::CNTVOFF_EL2, control::CNTVOFF_REALM);
        if outside.hcrx.is_some() {
            write(SysReg::HCRX_EL2, control::HCRX_REALM);
        }
        write(SysReg::HCR_EL2, hcr);
        outside
    }

    /// Puts back the EL2 controls [`Rmm::enter_controls`] changed, CNTHCTL_EL2, the PMU
    /// counter enables and, with FEAT_RAS, VDISR_EL2.
    fn leave_controls(&self, cpu: CpuId, o: &Outside) {
        let write = |r, v| self.arch.write_sysreg(cpu, r, v);
        write(SysReg::HCR_EL2, o.hcr);
        write(SysReg::CNTHCTL_EL2, o.cnthctl);
        write(SysReg::MDCR_EL2, o.mdcr);
        write(SysReg::VPIDR_EL2, o.vpidr);
        write(SysReg::CNTVOFF_EL2, o.cntvoff);
        if let Some(v) = o.hcrx {
            write(SysReg::HCRX_EL2, v);
        }
        if let Some(v) = o.vdisr {
            write(SysReg::VDISR_EL2, v);
        }
        if let Some(v) = o.pmcnten {
            write(SysReg::PMCNTENSET_EL0, v);
        }
    }

    /// Whether a physical SError is pending on `cpu` (ISR_EL1.A at EL2: R-EL2 runs with
    /// PSTATE.A set, so it waits there).
    fn serror_pending(&self, cpu: CpuId) -> bool {
        self.arch.read_sysreg(cpu, SysReg::ISR_EL1) & ISR_A != 0
    }

    /// With FEAT_RAS: an SError of the realm that was pending when it took exception
    /// `t` to R-EL2, which the Error Synchronization Barrier at the lower-EL vector
    /// (and, with FEAT_IESB, at exception entry) deferred into DISR_EL1. It is the
    /// REC's exit (A4.3.10), with DISR_EL1's syndrome; the record is cleared. The
    /// exception `t` is not handled: its instruction executes again when the REC is
    /// entered again (a trapped SMC, WFx, MSR/MRS and an abort return to the
    /// instruction itself), except HVC, whose preferred return address is the next
    /// instruction: the PC is moved back to it.
    fn deferred_serror(&self, ctx: &mut RunCtx<'_>, t: platform::RealmTrap) -> Option<Step> {
        if !self.features.ras {
            return None;
        }
        let disr = self.arch.read_sysreg(ctx.cpu, SysReg::DISR_EL1);
        if disr & DISR_A == 0 {
            return None;
        }
        self.arch.write_sysreg(ctx.cpu, SysReg::DISR_EL1, 0);
        if let platform::RealmTrap::Sync = t {
            let esr = self.arch.read_sysreg(ctx.cpu, SysReg::ESR_EL2);
            if (esr & exit::esr::EC_MASK) >> 26 == trap::EC_HVC64 {
                ctx.step_back();
            }
        }
        ctx.exit_serror(EC_SERROR << 26 | exit::esr::IL | disr & DISR_SYNDROME);
        Some(Step::Exit)
    }

    /// DEN0137 1.0, A6.2: before the realm runs, an EL1 timer whose output is asserted
    /// is masked (CNTHCTL_EL2.CNTVMASK/CNTPMASK) so that the realm can make progress
    /// while the host delivers its virtual interrupt; if a timer's output differs from
    /// what the host last saw, the REC exits (IRQ) so that the host can update the
    /// virtual interrupt.
    ///
    /// This is the check before each entry; the masks, which depend only on what the
    /// host last saw, are set once per run ([`Rmm::mask_timers`]).
    fn check_timers(&self, ctx: &mut RunCtx<'_>) -> Step {
        let v = self.arch.read_sysreg(ctx.cpu, SysReg::CNTV_CTL_EL0);
        let p = self.arch.read_sysreg(ctx.cpu, SysReg::CNTP_CTL_EL0);
        let now = timer_asserted(v) as u8 | (timer_asserted(p) as u8) << 1;
        if now != ctx.rec.timer_asserted {
            ctx.exit_interrupt(false);
            return Step::Exit;
        }
        Step::Resume
    }

    /// CNTHCTL_EL2 for the run: EL1 access to the physical counter and timer, and the
    /// mask of each EL1 timer whose output the host last saw asserted (A6.2).
    fn mask_timers(&self, ctx: &RunCtx<'_>) {
        let seen = ctx.rec.timer_asserted as u64;
        let mask = (seen & 1) << CNTHCTL_CNTVMASK_SHIFT | (seen >> 1 & 1) << CNTHCTL_CNTPMASK_SHIFT;
        self.arch
            .write_sysreg(ctx.cpu, SysReg::CNTHCTL_EL2, CNTHCTL_EL1_ACCESS | mask);
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

/// ISR_EL1.A \[8\]: a physical SError is pending (read at EL2).
const ISR_A: u64 = 1 << 8;
/// DISR_EL1.A \[31\]: an SError was deferred by an ESB.
const DISR_A: u64 = 1 << 31;
/// DISR_EL1 \[24:0\]: the deferred SError's syndrome, in ESR_ELx.ISS's layout (IDS,
/// AET, EA, DFSC).
const DISR_SYNDROME: u64 = 0x1FF_FFFF;
/// ESR_ELx.EC of an SError interrupt.
const EC_SERROR: u64 = 0x2F;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtt::entry::DescFormat;
    use crate::rtt::RttGeometry;
    use rmi_abi::enums::{RmiHashAlgorithm, RmiRealmState};

    fn realm(ipa_bits: u32, start: i64, n: u64, format: DescFormat, rtt_base: u64) -> RealmInfo {
        RealmInfo {
            state: RmiRealmState::New,
            geometry: RttGeometry::new(ipa_bits, start, n, 52, format).unwrap(),
            rtt_base,
            hash_algo: RmiHashAlgorithm::Sha256,
            vmid: 0x1234,
            num_bps: 1,
            num_wps: 1,
        }
    }

    /// Arm ARM D24.2, VTCR_EL2 and VTTBR_EL2; D8.2 Table D8-19 (SL2:SL0 = 1:00 is level
    /// -1).
    #[test]
    fn vtcr_and_vttbr_for_lpa2_and_48_bit_realms() {
        const COMMON: u64 = 1 << 8 | 1 << 10 | 3 << 12 | 1 << 19 | 1 << 31;
        let r = realm(40, 1, 2, DescFormat::Pa48, 0x8000_2000);
        // T0SZ 24, SL0 1, PS 48 bits (0b101) even on a 52-bit CPU, no DS.
        assert_eq!(vtcr(&r, 52, true), 24 | 1 << 6 | 0b101 << 16 | COMMON);
        assert_eq!(vttbr(&r), 0x1234 << 48 | 0x8000_2000);
        let r = realm(52, -1, 1, DescFormat::Lpa2, 0x000D_0000_4000_3000);
        // T0SZ 12, SL0 0 with SL2 [33], PS 52 bits (0b110), DS [32].
        assert_eq!(
            vtcr(&r, 52, true),
            12 | 0b110 << 16 | COMMON | 1 << 32 | 1 << 33
        );
        // BADDR[51:48] = 0xD in bits [5:2].
        assert_eq!(vttbr(&r), 0x1234 << 48 | 0x4000_3000 | 0xD << 2);
        let r = realm(49, 0, 2, DescFormat::Lpa2, 0x4000_2000);
        assert_eq!(
            vtcr(&r, 52, false) & !COMMON,
            15 | 2 << 6 | 0b110 << 16 | 1 << 32
        );
        // LPA2 on a 48-bit CPU: PS from the PA size.
        let r = realm(44, 0, 1, DescFormat::Lpa2, 0x4000_2000);
        assert_eq!((vtcr(&r, 48, true) >> 16) & 7, 0b101);
    }
}
