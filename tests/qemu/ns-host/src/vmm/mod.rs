//! A small VMM: boots the Linux kernel `cargo xtask linux` staged in Non-secure memory
//! as a realm on the RMM, and runs it to power-off (a test fixture, not product code).
//!
//! - [`realm`]: the realm's memory (RTTs on demand, measured DATA_CREATE of the kernel,
//!   initramfs and device tree, DATA_CREATE_UNKNOWN of RAM on first touch, RIPAS
//!   changes, unprotected mappings of shared memory).
//! - [`gic`], [`pl011`]: the devices the realm sees, emulated from MMIO exits at the
//!   unprotected alias of their addresses; interrupts reach the realm only through the
//!   list registers of RecRun.
//! - [`hw`]: the host's preemption timer (all vCPUs are RECs run in turn on CPU 0).
//! - [`stats`]: what the boot exercised.
//!
//! The boot follows the arm64 boot protocol (the kernel's
//! `Documentation/arch/arm64/booting.rst`): REC 0 starts at the `Image`'s first
//! instruction with x0 = the device tree's IPA and x1..x3 = 0, MMU off (the RMM's REC
//! reset state: EL1h, interrupts masked); the others wait for PSCI CPU_ON.

mod gic;
mod hw;
mod pl011;
mod realm;
mod stats;

use core::fmt::Write;

use rmi_abi::{RmiFid, RmiRecEnter, RmiRecExit, RmiRecMpidr};
use rmm_conformance::builder::{create_realm, create_rec, rec_params, Pool, RealmSpec};
use rmm_conformance::linux_boot::{
    LinuxBoot, FLAG_VERBOSE, GICD_BASE, GICD_SIZE, GICR_BASE, GICR_STRIDE, IPA_BITS,
    LINUX_BOOT_ADDR, LINUX_BOOT_MAGIC, MAX_VCPUS, RAM_BASE, SHARED_BIT, UART_BASE, UART_SIZE,
    UART_SPI,
};
use rmm_conformance::{Checks, Host};
use zerocopy::{FromBytes, FromZeros, IntoBytes};

use crate::host::QemuHost;
use crate::uart::Uart;
use gic::Gic;
use pl011::Pl011;
use realm::{Memory, RmiFailure};
use stats::{Kind, Stats};

/// Reads the boot block `cargo xtask linux` loads, if there is one.
pub fn boot_block() -> Option<LinuxBoot> {
    let mut b = [0u8; core::mem::size_of::<LinuxBoot>()];
    if !crate::asm::read_phys(LINUX_BOOT_ADDR, &mut b) {
        return None;
    }
    let boot = LinuxBoot::read_from_bytes(&b).ok()?;
    (boot.magic == LINUX_BOOT_MAGIC).then_some(boot)
}

/// RmiRecExitReason (DEN0137 1.0, B4.4.19).
const EXIT_SYNC: u8 = 0;
const EXIT_IRQ: u8 = 1;
const EXIT_FIQ: u8 = 2;
const EXIT_PSCI: u8 = 3;
const EXIT_RIPAS_CHANGE: u8 = 4;
const EXIT_HOST_CALL: u8 = 5;
const EXIT_SERROR: u8 = 6;
/// RmiRecEnterFlags: EMUL_MMIO [0], TRAP_WFI [2], RIPAS_RESPONSE [4] (reject).
const EMUL_MMIO: u64 = 1;
const TRAP_WFI: u64 = 1 << 2;
const RIPAS_REJECT: u64 = 1 << 4;
/// ESR_EL2 (Arm ARM D24.2): EC [31:26]; data aborts ISV [24], SAS [23:22], WnR [6];
/// WFx TI [0]; MSR/MRS traps Op0 [21:20], Op2 [19:17], Op1 [16:14], CRn [13:10],
/// CRm [4:1], Direction [0].
const EC_WFX: u64 = 0x01;
const EC_SYSREG: u64 = 0x18;
const EC_IABT_LOWER: u64 = 0x20;
const EC_DABT_LOWER: u64 = 0x24;
const ESR_ISV: u64 = 1 << 24;
const ESR_WNR: u64 = 1 << 6;
/// ICC_SGI1R_EL1 (op0 3, op1 0, CRn 12, CRm 11, op2 5) as ISS bits [21:1].
const ISS_SYSREG_MASK: u64 = 0x3F_FC1E;
const ISS_ICC_SGI1R: u64 = 3 << 20 | 5 << 17 | 12 << 10 | 11 << 1;
/// PSCI function identifiers (DEN0022), SMC32 and SMC64 forms folded by clearing
/// bit 30.
const PSCI_CPU_SUSPEND: u64 = 0x8400_0001;
const PSCI_CPU_OFF: u64 = 0x8400_0002;
const PSCI_CPU_ON: u64 = 0x8400_0003;
const PSCI_AFFINITY_INFO: u64 = 0x8400_0004;
const PSCI_SYSTEM_OFF: u64 = 0x8400_0008;
const PSCI_SYSTEM_RESET: u64 = 0x8400_0009;
/// RmiRipas: EMPTY 0, RAM 1.
const RIPAS_RAM: u8 = 1;

/// A vCPU's scheduling state.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// Not started (waits for PSCI CPU_ON), or off again (CPU_OFF).
    Off,
    /// Ready to run.
    Runnable,
    /// In WFI until an interrupt is pending.
    Wfi,
}

/// One vCPU: its REC, RecRun granule and what its next entry carries.
#[derive(Clone, Copy)]
struct Vcpu {
    rec: u64,
    run: u64,
    state: State,
    /// Flags and gprs of the next RMI_REC_ENTER (completing the last exit).
    flags: u64,
    gprs: [u64; 8],
    /// The virtual timer's deadline (CNTV_CVAL) while enabled and unmasked.
    deadline: Option<u64>,
}

/// How a boot ended.
enum End {
    PoweredOff,
    Failed,
}

/// The VMM's state.
struct Vmm<'h> {
    mem: Memory<'h>,
    vcpus: [Vcpu; MAX_VCPUS as usize],
    n: usize,
    gic: Gic,
    uart: Pl011,
    stats: Stats,
    ram: core::ops::Range<u64>,
    verbose: bool,
    slice: u64,
}

fn fail_rmi(f: RmiFailure) -> End {
    let _ = writeln!(
        Uart,
        "VMM: FAIL: {:?} at {:#x}: status {:#x}",
        f.fid, f.ipa, f.x0
    );
    End::Failed
}

/// Boots the realm and runs it; the run's exit status.
pub fn boot_linux(boot: &LinuxBoot) -> u32 {
    let mut u = Uart;
    if !boot.valid() {
        let _ = writeln!(u, "VMM: FAIL: the Linux boot block is invalid: {boot:?}");
        return crate::run::EXIT_FAIL;
    }
    hw::init();
    let host = QemuHost::new();
    let h: &dyn Host = &host;
    let _ = writeln!(
        u,
        "VMM: realm of {} vCPU(s), {} MiB RAM at IPA {RAM_BASE:#x}, {IPA_BITS}-bit IPAs \
         (shared bit {SHARED_BIT:#x}); kernel {} bytes at {:#x}, initramfs {} bytes at \
         {:#x}, device tree {} bytes at {:#x}",
        boot.vcpus,
        boot.ram_size >> 20,
        boot.kernel.size,
        boot.kernel.ipa,
        boot.initrd.size,
        boot.initrd.ipa,
        boot.dtb.size,
        boot.dtb.ipa
    );
    let start = hw::now();
    let mut c = Checks::new();
    let pool = Pool::new(h);
    let spec = RealmSpec {
        s2sz: IPA_BITS,
        ..RealmSpec::default()
    };
    let Ok(r) = create_realm(h, &pool, &mut c, spec) else {
        let _ = writeln!(u, "VMM: FAIL: RMI_REALM_CREATE");
        return crate::run::EXIT_FAIL;
    };
    let mut mem = Memory {
        h,
        pool,
        rd: r.rd,
        rtts: 0,
        data_measured: 0,
        data_unknown: 0,
        unprotected: 0,
    };
    let ram = RAM_BASE..RAM_BASE + boot.ram_size;
    let built = (|| {
        mem.init_ripas(ram.start, ram.end)?;
        for blob in [&boot.kernel, &boot.initrd, &boot.dtb] {
            for off in (0..blob.size).step_by(4096) {
                mem.data_create(blob.ipa + off, blob.ns_pa + off)?;
            }
        }
        Ok(())
    })();
    if let Err(f) = built {
        fail_rmi(f);
        return crate::run::EXIT_FAIL;
    }
    let n = boot.vcpus as usize;
    let mut vcpus = [Vcpu {
        rec: 0,
        run: 0,
        state: State::Off,
        flags: 0,
        gprs: [0; 8],
        deadline: None,
    }; MAX_VCPUS as usize];
    let mut aff = [0u32; MAX_VCPUS as usize];
    for (i, v) in vcpus.iter_mut().enumerate().take(n) {
        let mut p = rec_params(i as u64, boot.kernel.ipa);
        if i == 0 {
            p.gprs = [boot.dtb.ipa, 0, 0, 0, 0, 0, 0, 0];
        }
        let mpidr = p.mpidr;
        let Ok(rec) = create_rec(h, &mem.pool, &mut c, r.rd, p) else {
            let _ = writeln!(u, "VMM: FAIL: RMI_REC_CREATE of REC {i}");
            return crate::run::EXIT_FAIL;
        };
        v.rec = rec;
        v.run = mem.pool.ns();
        v.state = if i == 0 { State::Runnable } else { State::Off };
        aff[i] = (mpidr & 0xFF_FFFF | (mpidr >> 32 & 0xFF) << 24) as u32;
    }
    if h.rmi(RmiFid::RealmActivate, &[r.rd])[0] != 0 {
        let _ = writeln!(u, "VMM: FAIL: RMI_REALM_ACTIVATE");
        return crate::run::EXIT_FAIL;
    }
    let freq = hw::freq().max(1);
    let _ = writeln!(
        u,
        "VMM: realm built in {} ms: {} measured DATA granules, {} RTTs; entering REC 0 at \
         {:#x} with x0 = {:#x}",
        (hw::now() - start) * 1000 / freq,
        mem.data_measured,
        mem.rtts + u64::from(spec.num_start),
        boot.kernel.ipa,
        boot.dtb.ipa
    );
    let mut vmm = Vmm {
        mem,
        vcpus,
        n,
        gic: Gic::new(n, aff, hw::num_lrs()),
        uart: Pl011::new(),
        stats: Stats::new(),
        ram,
        verbose: boot.flags & FLAG_VERBOSE != 0,
        // Two milliseconds: a tick of a 500 Hz scheduler.
        slice: freq / 500,
    };
    let run_start = hw::now();
    let end = vmm.run();
    vmm.uart.flush();
    let secs_x10 = (hw::now() - run_start) * 10 / freq;
    vmm.stats.print(n);
    let _ = writeln!(
        u,
        "VMM: the realm ran {}.{} s: {} granules given as DATA on demand, {} Non-secure \
         granules mapped unprotected, {} RTTs created, {} bytes had their RIPAS changed; \
         interrupts injected (SGI/PPI/SPI) {:?}, retired {:?}; {} characters of console \
         output",
        secs_x10 / 10,
        secs_x10 % 10,
        vmm.mem.data_unknown,
        vmm.mem.unprotected,
        vmm.mem.rtts,
        vmm.stats.ripas_bytes,
        vmm.gic.injected,
        vmm.gic.retired,
        vmm.uart.chars,
    );
    match end {
        End::PoweredOff => {
            // The RMM reports each REC's SMCs, by kind, when it is destroyed: the RSI
            // calls it completed without an exit are seen nowhere else.
            for (i, v) in vmm.vcpus.iter().enumerate().take(n) {
                let r = h.rmi(RmiFid::RecDestroy, &[v.rec])[0];
                let _ = writeln!(
                    u,
                    "VMM: RMI_REC_DESTROY of vCPU {i}'s REC {:#x}: {r:#x}",
                    v.rec
                );
            }
            let _ = writeln!(u, "VMM: realm powered off (PSCI SYSTEM_OFF)");
            crate::run::EXIT_PASS
        }
        End::Failed => crate::run::EXIT_FAIL,
    }
}

/// The IPA of a data or instruction abort: HPFAR_EL2.FIPA [43:4] is IPA [51:12], and
/// the RMM reports FAR's offset in the granule (DEN0137 1.0, A4.3.4.3).
fn fault_ipa(exit: &RmiRecExit) -> u64 {
    (exit.hpfar >> 4) << 12 | (exit.far & 0xFFF)
}

impl Vmm<'_> {
    fn say(&self, args: core::fmt::Arguments<'_>) {
        let _ = writeln!(Uart, "VMM: {args}");
    }

    /// Picks the next vCPU to run, round robin after `last`, waking those in WFI with
    /// an interrupt pending; waits for the earliest timer when none can run.
    fn pick(&mut self, last: usize) -> Option<usize> {
        loop {
            let now = hw::now();
            for i in 0..self.n {
                let v = &self.vcpus[i];
                if v.state == State::Off {
                    continue;
                }
                if v.deadline.is_some_and(|d| d <= now) {
                    self.gic.set_vtimer(i);
                }
                if v.state == State::Wfi && self.gic.has_pending(i) {
                    self.vcpus[i].state = State::Runnable;
                }
            }
            for k in 1..=self.n {
                let i = (last + k) % self.n;
                if self.vcpus[i].state == State::Runnable {
                    return Some(i);
                }
            }
            let next = self.vcpus[..self.n]
                .iter()
                .filter(|v| v.state == State::Wfi)
                .filter_map(|v| v.deadline)
                .min()?;
            hw::wait_until(next);
        }
    }

    fn run(&mut self) -> End {
        let mut last = self.n - 1;
        loop {
            let Some(i) = self.pick(last) else {
                self.say(format_args!(
                    "FAIL: every vCPU is off or waits with no timer armed"
                ));
                return End::Failed;
            };
            last = i;
            let exit = self.enter(i);
            let Some(exit) = exit else {
                return End::Failed;
            };
            if let Some(end) = self.handle(i, &exit) {
                return end;
            }
        }
    }

    /// RMI_REC_ENTER of vCPU `i` with its pending interrupts in the list registers and
    /// the preemption timer armed; the exit record (`None` if the entry failed).
    fn enter(&mut self, i: usize) -> Option<RmiRecExit> {
        let mut e = RmiRecEnter::new_zeroed();
        let v = self.vcpus[i];
        e.flags = v.flags | TRAP_WFI;
        e.gprs[..8].copy_from_slice(&v.gprs);
        e.gicv3_lrs = self.gic.fill_lrs(i);
        self.vcpus[i].flags = 0;
        self.vcpus[i].gprs = [0; 8];
        let now = hw::now();
        let mut until = now + self.slice;
        if let Some(d) = v.deadline.filter(|_| !self.gic.vtimer(i)) {
            until = until.min(d.max(now + 1));
        }
        let h = self.mem.h;
        let _ = h.write_ns(v.run, &e.as_bytes()[..0x388]);
        hw::arm(until);
        let x0 = h.rmi(RmiFid::RecEnter, &[v.rec, v.run])[0];
        hw::disarm();
        self.stats.entries += 1;
        let mut page = [0u8; 0x800];
        let _ = h.read_ns(v.run + 0x800, &mut page);
        let exit = RmiRecExit::read_from_bytes(&page[..]).ok()?;
        if x0 != 0 {
            self.say(format_args!(
                "FAIL: RMI_REC_ENTER of vCPU {i} returned {x0:#x}"
            ));
            return None;
        }
        self.gic.sync_lrs(i, &exit.gicv3_lrs, exit.cntv_ctl);
        self.vcpus[i].deadline = (exit.cntv_ctl & 0b11 == 0b01).then_some(exit.cntv_cval);
        let routine = exit.exit_reason == EXIT_IRQ
            || (exit.exit_reason == EXIT_SYNC
                && exit.esr >> 26 == EC_DABT_LOWER
                && exit.esr & ESR_ISV == 0);
        if self.verbose && !routine {
            self.say(format_args!(
                "vCPU {i}: exit {} esr {:#x} far {:#x} hpfar {:#x} x0 {:#x} x1 {:#x} \
                 cntv_ctl {:#x}",
                exit.exit_reason,
                exit.esr,
                exit.far,
                exit.hpfar,
                exit.gprs[0],
                exit.gprs[1],
                exit.cntv_ctl
            ));
        }
        Some(exit)
    }

    fn vcpu_of_mpidr(&self, mpidr: u64) -> Option<usize> {
        (0..self.n).find(|&i| {
            RmiRecMpidr::from_index(i as u64).is_some_and(|m| m.bits() == mpidr & 0xFF_00FF_FFFF)
        })
    }

    /// Handles vCPU `i`'s exit; `Some` when the boot is over.
    fn handle(&mut self, i: usize, exit: &RmiRecExit) -> Option<End> {
        match exit.exit_reason {
            EXIT_SYNC => return self.sync(i, exit),
            EXIT_IRQ => self.stats.count(i, Kind::Irq),
            EXIT_FIQ => self.stats.count(i, Kind::Fiq),
            EXIT_PSCI => return self.psci(i, exit),
            EXIT_RIPAS_CHANGE => {
                let ram = exit.ripas_value == RIPAS_RAM;
                self.stats.count(
                    i,
                    if ram {
                        Kind::RipasRam
                    } else {
                        Kind::RipasEmpty
                    },
                );
                let (base, top) = (exit.ripas_base, exit.ripas_top);
                match self.mem.set_ripas(self.vcpus[i].rec, base, top) {
                    Ok(done) => self.stats.ripas_bytes += done - base,
                    Err(f) => {
                        self.say(format_args!(
                            "RIPAS change {base:#x}..{top:#x} to {} rejected: {:?} status {:#x}",
                            exit.ripas_value, f.fid, f.x0
                        ));
                        self.vcpus[i].flags |= RIPAS_REJECT;
                    }
                }
            }
            EXIT_HOST_CALL => {
                self.stats.count(i, Kind::HostCall);
                self.vcpus[i].gprs.copy_from_slice(&exit.gprs[..8]);
            }
            EXIT_SERROR => {
                self.stats.count(i, Kind::SError);
                self.say(format_args!(
                    "FAIL: vCPU {i}: SError exit, ESR {:#x}",
                    exit.esr
                ));
                return Some(End::Failed);
            }
            r => {
                self.say(format_args!("FAIL: vCPU {i}: unknown exit reason {r}"));
                return Some(End::Failed);
            }
        }
        None
    }

    fn psci(&mut self, i: usize, exit: &RmiRecExit) -> Option<End> {
        let fid = exit.gprs[0] & !(1 << 30);
        match fid {
            PSCI_CPU_ON | PSCI_AFFINITY_INFO => {
                let on = fid == PSCI_CPU_ON;
                self.stats.count(
                    i,
                    if on {
                        Kind::PsciCpuOn
                    } else {
                        Kind::PsciAffinityInfo
                    },
                );
                let Some(t) = self.vcpu_of_mpidr(exit.gprs[1]) else {
                    self.say(format_args!(
                        "FAIL: PSCI call {fid:#x} names MPIDR {:#x}, no such vCPU",
                        exit.gprs[1]
                    ));
                    return Some(End::Failed);
                };
                let h = self.mem.h;
                let r = h.rmi(
                    RmiFid::PsciComplete,
                    &[self.vcpus[i].rec, self.vcpus[t].rec, 0],
                );
                if r[0] != 0 {
                    self.say(format_args!(
                        "FAIL: RMI_PSCI_COMPLETE({i}, {t}) returned {:#x}",
                        r[0]
                    ));
                    return Some(End::Failed);
                }
                if on {
                    self.say(format_args!(
                        "vCPU {i}: PSCI CPU_ON of vCPU {t} (MPIDR {:#x}) at {:#x}",
                        exit.gprs[1], exit.gprs[2]
                    ));
                    self.vcpus[t].state = State::Runnable;
                }
            }
            PSCI_CPU_OFF => {
                self.stats.count(i, Kind::PsciCpuOff);
                self.vcpus[i].state = State::Off;
            }
            PSCI_CPU_SUSPEND => {
                self.stats.count(i, Kind::PsciCpuSuspend);
                self.vcpus[i].state = State::Wfi;
            }
            PSCI_SYSTEM_OFF => {
                self.stats.count(i, Kind::PsciSystemOff);
                return Some(End::PoweredOff);
            }
            PSCI_SYSTEM_RESET => {
                self.stats.count(i, Kind::PsciSystemReset);
                self.say(format_args!(
                    "FAIL: vCPU {i}: the realm reset itself (PSCI SYSTEM_RESET; a panic?)"
                ));
                return Some(End::Failed);
            }
            _ => self.stats.count(i, Kind::PsciOther),
        }
        None
    }

    fn sync(&mut self, i: usize, exit: &RmiRecExit) -> Option<End> {
        let ec = exit.esr >> 26 & 0x3F;
        match ec {
            EC_WFX => {
                self.stats.count(i, Kind::Wfi);
                if exit.esr & 1 == 0 {
                    self.vcpus[i].state = State::Wfi;
                }
            }
            EC_SYSREG => {
                if exit.esr & ISS_SYSREG_MASK == ISS_ICC_SGI1R && exit.esr & 1 == 0 {
                    self.stats.count(i, Kind::Sgi);
                    self.gic.sgi(i, exit.gprs[0]);
                } else {
                    self.stats.count(i, Kind::OtherSysreg);
                }
            }
            EC_DABT_LOWER | EC_IABT_LOWER => return self.abort(i, exit, ec == EC_IABT_LOWER),
            _ => {
                self.say(format_args!(
                    "FAIL: vCPU {i}: unexpected SYNC exit, ESR {:#x}",
                    exit.esr
                ));
                return Some(End::Failed);
            }
        }
        None
    }

    fn abort(&mut self, i: usize, exit: &RmiRecExit, instr: bool) -> Option<End> {
        let ipa = fault_ipa(exit);
        let unprotected = ipa & SHARED_BIT != 0;
        let pa = ipa & !SHARED_BIT;
        let in_ram = self.ram.contains(&pa);
        if !unprotected && in_ram {
            self.stats.count(
                i,
                if instr {
                    Kind::RamInstrFault
                } else {
                    Kind::RamFault
                },
            );
            return self
                .mem
                .data_create_unknown(ipa & !0xFFF)
                .err()
                .map(fail_rmi);
        }
        if unprotected && in_ram {
            self.stats.count(i, Kind::SharedFault);
            return self.mem.map_unprotected(ipa).err().map(fail_rmi);
        }
        if !unprotected || instr || exit.esr & ESR_ISV == 0 {
            self.say(format_args!(
                "FAIL: vCPU {i}: abort at IPA {ipa:#x} (ESR {:#x}) the VMM cannot serve",
                exit.esr
            ));
            return Some(End::Failed);
        }
        let size = 1usize << (exit.esr >> 22 & 3);
        let write = exit.esr & ESR_WNR != 0;
        let value = exit.gprs[0];
        let mut read = 0;
        let ok = if (UART_BASE..UART_BASE + UART_SIZE).contains(&pa) {
            let off = pa - UART_BASE;
            if write {
                self.stats.count(i, Kind::UartWrite);
                self.uart.write(off, value);
            } else {
                self.stats.count(i, Kind::UartRead);
                read = self.uart.read(off);
            }
            let level = self.uart.irq();
            self.gic.set_spi_level(UART_SPI, level);
            true
        } else if (GICD_BASE..GICD_BASE + GICD_SIZE).contains(&pa) {
            let off = pa - GICD_BASE;
            if write {
                self.stats.count(i, Kind::GicdWrite);
                self.gic.dist_write(off, size, value);
            } else {
                self.stats.count(i, Kind::GicdRead);
                read = self.gic.dist_read(off, size);
            }
            true
        } else if (GICR_BASE..GICR_BASE + GICR_STRIDE * self.n as u64).contains(&pa) {
            let off = pa - GICR_BASE;
            if write {
                self.stats.count(i, Kind::GicrWrite);
                self.gic.redist_write(off, size, value)
            } else {
                self.stats.count(i, Kind::GicrRead);
                match self.gic.redist_read(off, size) {
                    Some(v) => {
                        read = v;
                        true
                    }
                    None => false,
                }
            }
        } else {
            false
        };
        if !ok {
            self.say(format_args!(
                "FAIL: vCPU {i}: MMIO {} at IPA {ipa:#x}: no device there",
                if write { "write" } else { "read" }
            ));
            return Some(End::Failed);
        }
        self.vcpus[i].flags |= EMUL_MMIO;
        if !write {
            let mask = if size == 8 {
                u64::MAX
            } else {
                (1u64 << (8 * size)) - 1
            };
            self.vcpus[i].gprs[0] = read & mask;
        }
        None
    }
}
