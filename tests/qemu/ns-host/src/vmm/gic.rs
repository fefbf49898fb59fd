//! The realm's GICv3 (Arm GIC architecture specification, IHI 0069): a distributor and
//! one redistributor per vCPU emulated from MMIO exits, without an ITS or LPIs, with a
//! single security state (GICD_CTLR.DS = 1, as a hypervisor's virtual GIC presents it),
//! affinity routing always on. The CPU interface is the hardware's virtual one, which
//! the RMM loads from the list registers the VMM puts in RecRun ([`Gic::fill_lrs`]):
//! every interrupt reaches the realm as a pending vINTID in a list register, and the
//! VMM learns that the realm took it (active) and EOI'd it (invalid) from the list
//! registers of the exit record ([`Gic::sync_lrs`]).
//!
//! Interrupts: SGIs 0..15 (edge: pending from a trapped ICC_SGI1R_EL1 write or
//! GICR_ISPENDR0 until put in a list register), the virtual timer's PPI 27 (level, per
//! vCPU, from the timer state the exit records report), and SPIs 32..63 (level; the
//! UART's SPI 1 is the only source).

use rmm_conformance::linux_boot::{GICR_STRIDE, MAX_VCPUS};

/// The virtual timer's PPI.
pub const VTIMER_INTID: u32 = 27;

/// ICH_LR<n>_EL2 fields (IHI 0069, 12.4.6): State [63:62], HW [61], Group [60],
/// Priority [55:48], vINTID [31:0].
const LR_PENDING: u64 = 0b01 << 62;
const LR_STATE: u64 = 0b11 << 62;
const LR_GROUP1: u64 = 1 << 60;
/// Priority bits the hardware implements (5, QEMU's: the low three are RES0 in LRs).
const PRIORITY_MASK: u8 = 0xF8;

/// Distributor registers (offsets).
const GICD_CTLR: u64 = 0x0000;
const GICD_TYPER: u64 = 0x0004;
const GICD_IIDR: u64 = 0x0008;
const GICD_IGROUPR: u64 = 0x0080;
const GICD_ISENABLER: u64 = 0x0100;
const GICD_ICENABLER: u64 = 0x0180;
const GICD_ISPENDR: u64 = 0x0200;
const GICD_ICPENDR: u64 = 0x0280;
const GICD_IPRIORITYR: u64 = 0x0400;
const GICD_IROUTER: u64 = 0x6000;
const PIDR2: u64 = 0xFFE8;
/// GICD_CTLR/GICR_PIDR2: ArchRev 3 (GICv3) in [7:4].
const PIDR2_GICV3: u64 = 0x3B;
/// GICD_CTLR: EnableGrp0 [0], EnableGrp1 [1], ARE [4] (RAO), DS [6] (RAO).
const CTLR_ENABLES: u32 = 0b11;
const CTLR_ARE_DS: u32 = 1 << 4 | 1 << 6;
/// GICD_TYPER: IDbits [23:19] = 9 (10-bit INTIDs, no LPIs), ITLinesNumber [4:0] = 1.
const TYPER: u64 = 9 << 19 | 1;

/// Redistributor RD_base registers.
const GICR_CTLR: u64 = 0x0000;
const GICR_TYPER: u64 = 0x0008;
const GICR_WAKER: u64 = 0x0014;
/// SGI_base (RD_base + 64 KiB) registers.
const SGI_BASE: u64 = 0x1_0000;
const GICR_IGROUPR0: u64 = SGI_BASE + 0x0080;
const GICR_ISENABLER0: u64 = SGI_BASE + 0x0100;
const GICR_ICENABLER0: u64 = SGI_BASE + 0x0180;
const GICR_ISPENDR0: u64 = SGI_BASE + 0x0200;
const GICR_ICPENDR0: u64 = SGI_BASE + 0x0280;
const GICR_IPRIORITYR: u64 = SGI_BASE + 0x0400;
const GICR_ICFGR0: u64 = SGI_BASE + 0x0C00;
const GICR_ICFGR1: u64 = SGI_BASE + 0x0C04;
const GICR_IGRPMODR0: u64 = SGI_BASE + 0x0D00;
/// GICR_WAKER: ProcessorSleep [1], ChildrenAsleep [2].
const WAKER_SLEEP: u32 = 1 << 1;
const WAKER_ASLEEP: u32 = 1 << 2;

/// One vCPU's redistributor and interrupt state.
#[derive(Clone, Copy)]
struct Redist {
    waker: u32,
    group: u32,
    enabled: u32,
    /// SGIs (and PPIs set through ISPENDR0) pending, not yet in a list register.
    pending: u32,
    priority: [u8; 32],
    icfgr1: u32,
    grpmod: u32,
    /// The virtual timer's output as the last exit reported it.
    vtimer: bool,
    /// The list registers as the realm left them at the last exit (what goes back in
    /// on the next entry, with new interrupts added in invalid slots).
    lrs: [u64; 16],
}

impl Redist {
    const fn new() -> Redist {
        Redist {
            waker: WAKER_SLEEP | WAKER_ASLEEP,
            group: 0,
            enabled: 0,
            pending: 0,
            priority: [0; 32],
            icfgr1: 0,
            grpmod: 0,
            vtimer: false,
            lrs: [0; 16],
        }
    }
}

/// The emulated GIC.
pub struct Gic {
    ctlr: u32,
    group: u32,
    enabled: u32,
    pending: u32,
    priority: [u8; 32],
    icfgr: [u32; 2],
    grpmod: u32,
    /// IROUTER of each SPI.
    router: [u64; 32],
    /// SPIs whose input line is asserted.
    level: u32,
    redist: [Redist; MAX_VCPUS as usize],
    vcpus: usize,
    /// Each vCPU's MPIDR affinity (Aff3.Aff2.Aff1.Aff0 as in GICR_TYPER [63:32]).
    aff: [u32; MAX_VCPUS as usize],
    /// How many list registers the hardware has.
    num_lrs: usize,
    /// Interrupts put into list registers, and taken (acknowledged and EOI'd) by the
    /// realm, by INTID class: SGI, PPI, SPI.
    pub injected: [u64; 3],
    pub retired: [u64; 3],
}

fn class(intid: u32) -> usize {
    match intid {
        0..=15 => 0,
        16..=31 => 1,
        _ => 2,
    }
}

/// Reads `size` bytes at `off` of a little-endian register file given as bytes.
fn bytes_read(b: &[u8], off: usize, size: usize) -> u64 {
    let mut v = 0u64;
    for i in (0..size).rev() {
        v = v << 8 | u64::from(*b.get(off + i).unwrap_or(&0));
    }
    v
}

fn bytes_write(b: &mut [u8], off: usize, size: usize, value: u64) {
    for i in 0..size {
        if let Some(x) = b.get_mut(off + i) {
            *x = (value >> (8 * i)) as u8;
        }
    }
}

impl Gic {
    /// A GIC for `vcpus` vCPUs whose MPIDRs have the affinities `aff`, on hardware with
    /// `num_lrs` list registers.
    pub fn new(vcpus: usize, aff: [u32; MAX_VCPUS as usize], num_lrs: usize) -> Gic {
        Gic {
            ctlr: 0,
            group: 0,
            enabled: 0,
            pending: 0,
            priority: [0; 32],
            icfgr: [0; 2],
            grpmod: 0,
            router: [0; 32],
            level: 0,
            redist: [Redist::new(); MAX_VCPUS as usize],
            vcpus,
            aff,
            num_lrs: num_lrs.min(16),
            injected: [0; 3],
            retired: [0; 3],
        }
    }

    /// A distributor read.
    pub fn dist_read(&self, off: u64, size: usize) -> u64 {
        let word = |bits: u32, n: u64| if n == 1 { u64::from(bits) } else { 0 };
        match off {
            GICD_CTLR => u64::from(self.ctlr | CTLR_ARE_DS),
            GICD_TYPER => TYPER,
            GICD_IIDR => 0,
            0x0080..=0x00FC => word(self.group, (off - GICD_IGROUPR) / 4),
            0x0100..=0x017C => word(self.enabled, (off - GICD_ISENABLER) / 4),
            0x0180..=0x01FC => word(self.enabled, (off - GICD_ICENABLER) / 4),
            0x0200..=0x027C => word(self.pending | self.level, (off - GICD_ISPENDR) / 4),
            0x0280..=0x02FC => word(self.pending | self.level, (off - GICD_ICPENDR) / 4),
            0x0420..=0x043F => {
                bytes_read(&self.priority, (off - GICD_IPRIORITYR - 32) as usize, size)
            }
            0x0C08 => self.icfgr[0].into(),
            0x0C0C => self.icfgr[1].into(),
            0x0D04 => self.grpmod.into(),
            0x6100..=0x61FF => {
                let n = ((off - GICD_IROUTER) / 8 - 32) as usize;
                let v = self.router[n];
                if off % 8 == 4 {
                    v >> 32
                } else if size == 4 {
                    v & 0xFFFF_FFFF
                } else {
                    v
                }
            }
            PIDR2 => PIDR2_GICV3,
            _ => 0,
        }
    }

    /// A distributor write.
    pub fn dist_write(&mut self, off: u64, size: usize, value: u64) {
        let v = value as u32;
        let spi_word = |o: u64, base: u64| (o - base) / 4 == 1;
        match off {
            GICD_CTLR => self.ctlr = v & CTLR_ENABLES,
            0x0080..=0x00FC if spi_word(off, GICD_IGROUPR) => self.group = v,
            0x0100..=0x017C if spi_word(off, GICD_ISENABLER) => self.enabled |= v,
            0x0180..=0x01FC if spi_word(off, GICD_ICENABLER) => self.enabled &= !v,
            0x0200..=0x027C if spi_word(off, GICD_ISPENDR) => self.pending |= v,
            0x0280..=0x02FC if spi_word(off, GICD_ICPENDR) => self.pending &= !v,
            0x0420..=0x043F => bytes_write(
                &mut self.priority,
                (off - GICD_IPRIORITYR - 32) as usize,
                size,
                value,
            ),
            0x0C08 => self.icfgr[0] = v,
            0x0C0C => self.icfgr[1] = v,
            0x0D04 => self.grpmod = v,
            0x6100..=0x61FF => {
                let n = ((off - GICD_IROUTER) / 8 - 32) as usize;
                let r = &mut self.router[n];
                *r = if off % 8 == 4 {
                    (*r & 0xFFFF_FFFF) | value << 32
                } else if size == 4 {
                    (*r & !0xFFFF_FFFF) | (value & 0xFFFF_FFFF)
                } else {
                    value
                };
            }
            _ => {}
        }
    }

    /// A redistributor read at `off` from the first redistributor's base.
    pub fn redist_read(&self, off: u64, size: usize) -> Option<u64> {
        let cpu = (off / GICR_STRIDE) as usize;
        let o = off % GICR_STRIDE;
        let r = self.redist.get(cpu).filter(|_| cpu < self.vcpus)?;
        let typer = u64::from(self.aff[cpu]) << 32
            | (cpu as u64) << 8
            | if cpu + 1 == self.vcpus { 1 << 4 } else { 0 };
        Some(match o {
            GICR_CTLR => 0,
            GICR_TYPER => {
                if size == 8 {
                    typer
                } else {
                    typer & 0xFFFF_FFFF
                }
            }
            0x000C => typer >> 32,
            GICR_WAKER => r.waker.into(),
            PIDR2 => PIDR2_GICV3,
            GICR_IGROUPR0 => r.group.into(),
            GICR_ISENABLER0 | GICR_ICENABLER0 => r.enabled.into(),
            GICR_ISPENDR0 | GICR_ICPENDR0 => {
                (r.pending | if r.vtimer { 1 << VTIMER_INTID } else { 0 }).into()
            }
            0x1_0400..=0x1_041F => bytes_read(&r.priority, (o - GICR_IPRIORITYR) as usize, size),
            // SGIs are edge-triggered (0b10 per INTID, read-only).
            GICR_ICFGR0 => 0xAAAA_AAAA,
            GICR_ICFGR1 => r.icfgr1.into(),
            GICR_IGRPMODR0 => r.grpmod.into(),
            _ => 0,
        })
    }

    /// A redistributor write; `false` outside every vCPU's frames.
    pub fn redist_write(&mut self, off: u64, size: usize, value: u64) -> bool {
        let cpu = (off / GICR_STRIDE) as usize;
        let o = off % GICR_STRIDE;
        if cpu >= self.vcpus {
            return false;
        }
        let r = &mut self.redist[cpu];
        let v = value as u32;
        match o {
            GICR_WAKER => {
                r.waker = if v & WAKER_SLEEP != 0 {
                    WAKER_SLEEP | WAKER_ASLEEP
                } else {
                    0
                }
            }
            GICR_IGROUPR0 => r.group = v,
            GICR_ISENABLER0 => r.enabled |= v,
            GICR_ICENABLER0 => r.enabled &= !v,
            GICR_ISPENDR0 => r.pending |= v,
            GICR_ICPENDR0 => r.pending &= !v,
            0x1_0400..=0x1_041F => {
                bytes_write(&mut r.priority, (o - GICR_IPRIORITYR) as usize, size, value)
            }
            GICR_ICFGR1 => r.icfgr1 = v,
            GICR_IGRPMODR0 => r.grpmod = v,
            _ => {}
        }
        true
    }

    /// A trapped ICC_SGI1R_EL1 write (IHI 0069, 12.2.22): INTID [27:24], IRM [40] (all
    /// but self), Aff3 [55:48], Aff2 [39:32], Aff1 [23:16], TargetList [15:0] (Aff0
    /// values 0..15 of the RS range [47:44]). Makes the SGI pending on its targets.
    pub fn sgi(&mut self, from: usize, value: u64) {
        let intid = (value >> 24) & 0xF;
        let irm = value >> 40 & 1 == 1;
        let aff3 = (value >> 48) & 0xFF;
        let aff2 = (value >> 32) & 0xFF;
        let aff1 = (value >> 16) & 0xFF;
        let rs = (value >> 44) & 0xF;
        let list = value & 0xFFFF;
        for cpu in 0..self.vcpus {
            let a = u64::from(self.aff[cpu]);
            let hit = if irm {
                cpu != from
            } else {
                let aff0 = a & 0xFF;
                a >> 24 == aff3
                    && (a >> 16) & 0xFF == aff2
                    && (a >> 8) & 0xFF == aff1
                    && aff0 >> 4 == rs
                    && list >> (aff0 & 0xF) & 1 == 1
            };
            if hit {
                self.redist[cpu].pending |= 1 << intid;
            }
        }
    }

    /// Sets the input line of SPI `spi` (0-based).
    pub fn set_spi_level(&mut self, spi: u32, high: bool) {
        if high {
            self.level |= 1 << spi;
        } else {
            self.level &= !(1 << spi);
        }
    }

    /// The vCPU an SPI is routed to (IROUTER: Interrupt_Routing_Mode 1 means any; else
    /// the vCPU with that affinity, vCPU 0 if none has it).
    fn spi_target(&self, spi: usize) -> usize {
        let r = self.router[spi];
        if r >> 31 & 1 == 1 {
            return 0;
        }
        let aff = ((r >> 32 & 0xFF) << 24 | (r & 0xFF_FFFF)) as u32;
        (0..self.vcpus).find(|&c| self.aff[c] == aff).unwrap_or(0)
    }

    fn in_lr(&self, cpu: usize, intid: u32) -> bool {
        self.redist[cpu].lrs[..self.num_lrs]
            .iter()
            .any(|&lr| lr & LR_STATE != 0 && lr as u32 == intid)
    }

    /// Whether vCPU `cpu` has an interrupt pending that it has enabled (what ends a
    /// WFI), in a list register or not yet.
    pub fn has_pending(&self, cpu: usize) -> bool {
        let r = &self.redist[cpu];
        if r.lrs[..self.num_lrs]
            .iter()
            .any(|&lr| lr & LR_STATE == LR_PENDING)
        {
            return true;
        }
        let mut found = false;
        self.for_each_candidate(cpu, |_, _| found = true);
        found
    }

    /// Calls `f(intid, priority)` for each interrupt that should be pending in vCPU
    /// `cpu`'s list registers and is not there yet.
    fn for_each_candidate(&self, cpu: usize, mut f: impl FnMut(u32, u8)) {
        if self.ctlr & 0b10 == 0 {
            return;
        }
        let r = &self.redist[cpu];
        let mut local = r.pending & r.enabled & r.group;
        if r.vtimer && r.enabled & r.group & (1 << VTIMER_INTID) != 0 {
            local |= 1 << VTIMER_INTID;
        }
        for intid in 0..32u32 {
            if local >> intid & 1 == 1 && !self.in_lr(cpu, intid) {
                f(intid, r.priority[intid as usize]);
            }
        }
        let spis = (self.pending | self.level) & self.enabled & self.group;
        for spi in 0..32usize {
            let intid = spi as u32 + 32;
            if spis >> spi & 1 == 1 && self.spi_target(spi) == cpu && !self.in_lr(cpu, intid) {
                f(intid, self.priority[spi]);
            }
        }
    }

    /// The list registers for vCPU `cpu`'s next entry: those the last exit reported,
    /// with pending interrupts added in the invalid ones.
    pub fn fill_lrs(&mut self, cpu: usize) -> [u64; 16] {
        let mut adds = [(0u32, 0u8); 16];
        let mut n = 0;
        self.for_each_candidate(cpu, |intid, prio| {
            if n < adds.len() {
                adds[n] = (intid, prio);
                n += 1;
            }
        });
        // Highest priority (lowest value) first, should there be too few LRs.
        adds[..n].sort_unstable_by_key(|a| a.1);
        let mut next = 0;
        for slot in 0..self.num_lrs {
            if next == n {
                break;
            }
            if self.redist[cpu].lrs[slot] & LR_STATE != 0 {
                continue;
            }
            let (intid, prio) = adds[next];
            next += 1;
            self.redist[cpu].lrs[slot] =
                LR_PENDING | LR_GROUP1 | u64::from(prio & PRIORITY_MASK) << 48 | u64::from(intid);
            self.injected[class(intid)] += 1;
            // Edge-triggered: the pending state moves into the list register.
            match intid {
                0..=15 => self.redist[cpu].pending &= !(1 << intid),
                32..=63 => self.pending &= !(1 << (intid - 32)),
                _ => {}
            }
        }
        self.redist[cpu].lrs
    }

    /// Takes vCPU `cpu`'s list registers from its exit record and its virtual timer's
    /// output (`cntv_ctl`: ENABLE [0], IMASK [1], ISTATUS [2]); a level-sensitive
    /// interrupt still only pending whose line has dropped is taken back.
    pub fn sync_lrs(&mut self, cpu: usize, lrs: &[u64; 16], cntv_ctl: u64) {
        self.redist[cpu].vtimer = cntv_ctl & 0b111 == 0b101;
        for (slot, &reported) in lrs.iter().enumerate().take(self.num_lrs) {
            let before = self.redist[cpu].lrs[slot];
            let mut now = reported;
            if before & LR_STATE != 0 && now & LR_STATE == 0 {
                self.retired[class(before as u32)] += 1;
            }
            if now & LR_STATE == LR_PENDING {
                let intid = now as u32;
                let dropped = match intid {
                    VTIMER_INTID => !self.redist[cpu].vtimer,
                    32..=63 => (self.level | self.pending) >> (intid - 32) & 1 == 0,
                    _ => false,
                };
                if dropped {
                    now = 0;
                }
            }
            self.redist[cpu].lrs[slot] = now;
        }
    }

    /// Marks vCPU `cpu`'s virtual timer as asserted (its deadline has passed while it
    /// did not run).
    pub fn set_vtimer(&mut self, cpu: usize) {
        self.redist[cpu].vtimer = true;
    }

    /// The virtual timer's output as last reported for vCPU `cpu`.
    pub fn vtimer(&self, cpu: usize) -> bool {
        self.redist[cpu].vtimer
    }
}
