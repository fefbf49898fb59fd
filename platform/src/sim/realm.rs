//! Realm execution on the simulation.
//!
//! A realm program is ordinary Rust code (`Fn(&mut RealmCpu)`) registered under an
//! entry address; a REC created with that PC runs it. Each REC's program runs on a
//! thread of its own that hands control back and forth with the RMM: the RMM's
//! [`crate::Arch::run_realm`] resumes the program with the realm's registers, and the
//! program runs until it does something that takes an exception to EL2 (an SMC, a
//! trapped WFI, a stage-2 fault, a pending physical interrupt), which returns control
//! with the syndrome in ESR_EL2/FAR_EL2/HPFAR_EL2.
//!
//! The realm's memory accesses are translated through the simulation's stage-2 TLB
//! ([`super::tlb`], over its own walker [`super::s2walk`]) from the VTCR_EL2/VTTBR_EL2
//! values the RMM programmed, and its interrupts come from the simulated GIC virtual
//! CPU interface of the CPU it runs on.
//! A realm sees exceptions the RMM injects the way the architecture delivers them: a
//! resume at VBAR_EL1 + 0x200 with ESR_EL1/FAR_EL1/ELR_EL1 set.

use std::collections::HashMap;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, Weak};

use crate::arch::{CpuId, RealmRegs, RealmTrap};
use crate::sysreg::SysReg;

use super::s2walk::{Access, AccessFault, S2Config};
use super::SimHw;

/// A realm program.
pub type RealmProgram = Arc<dyn Fn(&mut RealmCpu) + Send + Sync>;

/// ESR_EL2 exception classes the simulated realm raises.
pub mod ec {
    /// Trapped WFI/WFE.
    pub const WFX: u64 = 0x01;
    /// SMC from AArch64.
    pub const SMC64: u64 = 0x17;
    /// Instruction abort from a lower EL.
    pub const IABT_LOWER: u64 = 0x20;
    /// Data abort from a lower EL.
    pub const DABT_LOWER: u64 = 0x24;
}

/// ESR.IL: a 32-bit instruction.
const IL: u64 = 1 << 25;
/// Offset of the synchronous, current EL with SPx vector.
pub const VECTOR_SYNC_CURRENT: u64 = 0x200;

/// How the realm was resumed after a data abort it took to EL2.
enum Resumed {
    /// At its exception vector: the RMM injected this exception.
    Injected(RealmException),
    /// Past the faulting instruction: the access was emulated.
    SteppedOver,
    /// At the faulting instruction: try the access again.
    Retry,
}

/// An exception the realm received (an abort the RMM injected).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RealmException {
    /// ESR_EL1 of the exception.
    pub esr: u64,
    /// FAR_EL1.
    pub far: u64,
}

struct Resume {
    regs: RealmRegs,
    cpu: CpuId,
}

struct Trap {
    regs: RealmRegs,
    kind: RealmTrap,
    esr: u64,
    far: u64,
    hpfar: u64,
}

struct Thread {
    to_realm: Sender<Resume>,
    from_realm: Receiver<Trap>,
}

/// Realm threads by (VTTBR_EL2, VMPIDR_EL2): one per REC.
type ThreadMap = HashMap<(u64, u64), Arc<Mutex<Thread>>>;

/// The unwinding payload that ends a realm thread whose machine is gone.
struct MachineGone;

/// Realm programs and running realm threads of one machine.
#[derive(Default)]
pub struct RealmRuntime {
    programs: Mutex<HashMap<u64, RealmProgram>>,
    threads: Mutex<ThreadMap>,
}

impl RealmRuntime {
    /// Registers `program` to run when a REC is entered for the first time at `entry`.
    pub fn register(&self, entry: u64, program: RealmProgram) {
        self.programs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(entry, program);
    }

    /// Runs the realm identified by the CPU's VTTBR_EL2 and VMPIDR_EL2 (one thread per
    /// REC) until it traps.
    pub(super) fn run(&self, hw: &Arc<SimHw>, cpu: CpuId, regs: &mut RealmRegs) -> RealmTrap {
        let sys = hw.cpu(cpu);
        let hcr = sys.read(SysReg::HCR_EL2);
        assert!(
            hcr & 1 != 0,
            "realm entered with HCR_EL2.VM clear: no stage 2"
        );
        let key = (sys.read(SysReg::VTTBR_EL2), sys.read(SysReg::VMPIDR_EL2));
        let thread = {
            let mut threads = self.threads.lock().unwrap_or_else(|e| e.into_inner());
            threads
                .entry(key)
                .or_insert_with(|| {
                    let programs = self.programs.lock().unwrap_or_else(|e| e.into_inner());
                    let program = programs
                        .get(&regs.pc)
                        .unwrap_or_else(|| panic!("no realm program at entry {:#x}", regs.pc))
                        .clone();
                    Arc::new(Mutex::new(spawn(Arc::downgrade(hw), program)))
                })
                .clone()
        };
        let t = thread.lock().unwrap_or_else(|e| e.into_inner());
        t.to_realm
            .send(Resume { regs: *regs, cpu })
            .expect("realm thread alive");
        let trap = t.from_realm.recv().expect("realm thread alive");
        sys.force(SysReg::ESR_EL2, trap.esr);
        sys.force(SysReg::FAR_EL2, trap.far);
        sys.force(SysReg::HPFAR_EL2, trap.hpfar);
        *regs = trap.regs;
        trap.kind
    }
}

fn spawn(hw: Weak<SimHw>, program: RealmProgram) -> Thread {
    let (to_realm, resumes) = channel::<Resume>();
    let (traps, from_realm) = channel::<Trap>();
    std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let Ok(first) = resumes.recv() else { return };
            let mut cpu = RealmCpu {
                hw,
                resumes,
                traps,
                regs: first.regs,
                cpu: first.cpu,
            };
            program(&mut cpu);
            // A program that returns halts: every later entry traps as a WFI.
            loop {
                cpu.trap_sync(ec::WFX << 26 | IL, 0, 0);
            }
        }));
        if let Err(payload) = outcome {
            if !payload.is::<MachineGone>() {
                std::panic::resume_unwind(payload);
            }
        }
    });
    Thread {
        to_realm,
        from_realm,
    }
}

/// What a realm program runs on: the realm's registers and its view of the machine.
pub struct RealmCpu {
    hw: Weak<SimHw>,
    resumes: Receiver<Resume>,
    traps: Sender<Trap>,
    regs: RealmRegs,
    cpu: CpuId,
}

/// The width of a single load or store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessSize {
    /// 8 bits.
    B1 = 0,
    /// 16 bits.
    B2 = 1,
    /// 32 bits.
    B4 = 2,
    /// 64 bits.
    B8 = 3,
}

impl AccessSize {
    fn bytes(self) -> usize {
        1 << self as usize
    }
}

impl RealmCpu {
    fn hw(&self) -> Arc<SimHw> {
        match self.hw.upgrade() {
            Some(hw) => hw,
            None => std::panic::resume_unwind(Box::new(MachineGone)),
        }
    }

    /// The realm's registers as of the last resume.
    pub fn regs(&self) -> &RealmRegs {
        &self.regs
    }

    /// The CPU this REC currently runs on.
    pub fn cpu(&self) -> CpuId {
        self.cpu
    }

    /// Reads one of the realm's EL1 system registers.
    pub fn read_sysreg(&self, reg: SysReg) -> u64 {
        self.hw().read_reg(self.cpu, reg)
    }

    /// Writes one of the realm's EL1 system registers.
    pub fn write_sysreg(&self, reg: SysReg, value: u64) {
        self.hw().cpu(self.cpu).write(reg, value)
    }

    /// Takes a synchronous exception to EL2 and waits to be resumed.
    fn trap_sync(&mut self, esr: u64, far: u64, hpfar: u64) {
        self.trap(RealmTrap::Sync, esr, far, hpfar)
    }

    fn trap(&mut self, kind: RealmTrap, esr: u64, far: u64, hpfar: u64) {
        let t = Trap {
            regs: self.regs,
            kind,
            esr,
            far,
            hpfar,
        };
        if self.traps.send(t).is_err() {
            std::panic::resume_unwind(Box::new(MachineGone));
        }
        match self.resumes.recv() {
            Ok(r) => {
                self.regs = r.regs;
                self.cpu = r.cpu;
            }
            Err(_) => std::panic::resume_unwind(Box::new(MachineGone)),
        }
    }

    /// Takes pending physical exceptions for this CPU: an SError or FIQ the test raised,
    /// an IRQ the test raised, or an EL1 timer whose output CNTHCTL_EL2 does not mask.
    fn take_interrupts(&mut self) {
        loop {
            let hw = self.hw();
            let (kind, esr) = if let Some(esr) = hw.take_serror(self.cpu) {
                (RealmTrap::SError, esr)
            } else if hw.take_fiq(self.cpu) {
                (RealmTrap::Fiq, 0)
            } else if hw.take_irq(self.cpu) || hw.timer_irq(self.cpu) {
                (RealmTrap::Irq, 0)
            } else {
                return;
            };
            drop(hw);
            self.trap(kind, esr, 0, 0);
        }
    }

    /// Whether the last resume delivered an injected synchronous exception (PC at the
    /// realm's vector); if so, returns it and "returns" from the handler to ELR_EL1.
    fn injected(&mut self) -> Option<RealmException> {
        let vbar = self.read_sysreg(SysReg::VBAR_EL1);
        if self.regs.pc != vbar + VECTOR_SYNC_CURRENT {
            return None;
        }
        let e = RealmException {
            esr: self.read_sysreg(SysReg::ESR_EL1),
            far: self.read_sysreg(SysReg::FAR_EL1),
        };
        // The realm's handler returns past the faulting instruction.
        self.regs.pc = self.read_sysreg(SysReg::ELR_EL1) + 4;
        self.regs.pstate = self.read_sysreg(SysReg::SPSR_EL1);
        Some(e)
    }

    /// Issues `smc #0` with x0 = `fid` and x1.. = `args`; returns x0..x30 after the
    /// RMM resumes the realm. The RMM must have advanced the PC past the SMC.
    pub fn smc(&mut self, fid: u64, args: &[u64]) -> [u64; 31] {
        self.take_interrupts();
        self.regs.gprs[0] = fid;
        self.regs.gprs[1..=args.len()].copy_from_slice(args);
        let pc = self.regs.pc;
        self.trap_sync(ec::SMC64 << 26 | IL, 0, 0);
        assert_eq!(
            self.regs.pc,
            pc + 4,
            "the RMM must resume the realm after its SMC"
        );
        self.regs.gprs
    }

    /// Executes WFI: traps to EL2 if HCR_EL2.TWI is set, else completes at once.
    pub fn wfi(&mut self) {
        self.take_interrupts();
        if self.hw().cpu(self.cpu).read(SysReg::HCR_EL2) & (1 << 13) != 0 {
            let pc = self.regs.pc;
            self.trap_sync(ec::WFX << 26 | IL, 0, 0);
            assert_eq!(
                self.regs.pc,
                pc + 4,
                "the RMM must resume the realm after WFI"
            );
        }
    }

    /// The stage-2 configuration and VMID the RMM programmed on this CPU.
    fn s2(&self) -> (S2Config, u16) {
        let hw = self.hw();
        let sys = hw.cpu(self.cpu);
        super::tlb::stage2_regs(sys.read(SysReg::VTCR_EL2), sys.read(SysReg::VTTBR_EL2))
    }

    fn abort_syndrome(fault: &AccessFault, write: bool, isv: u64) -> u64 {
        let dfsc = match fault {
            AccessFault::Stage2(f) => f.fsc().unwrap_or(0) as u64,
            // A granule protection fault on the output: GPF (DFSC 0b101000).
            AccessFault::Gpf(_) => 0b10_1000,
        };
        ec::DABT_LOWER << 26 | IL | isv | (write as u64) << 6 | dfsc
    }

    /// One translated access of at most a page; `Err` is the fault.
    fn access_once(&self, ipa: u64, buf: &mut [u8], write: bool) -> Result<(), AccessFault> {
        let hw = self.hw();
        let (cfg, vmid) = self.s2();
        hw.tlb().access(hw.mem(), &cfg, vmid, ipa, buf, write)
    }

    /// Takes the data abort `f` of an access at `ipa` to EL2 with instruction syndrome
    /// `iss` (0 when the access reports none) and says how the realm was resumed.
    fn abort(&mut self, f: &AccessFault, ipa: u64, write: bool, iss: u64) -> Resumed {
        let esr = Self::abort_syndrome(f, write, iss);
        let pc = self.regs.pc;
        self.trap_sync(esr, ipa, (ipa >> 12) << 4);
        if let Some(e) = self.injected() {
            Resumed::Injected(e)
        } else if self.regs.pc == pc + 4 {
            Resumed::SteppedOver
        } else {
            Resumed::Retry
        }
    }

    /// Reads (or writes, with `write`) memory at `ipa` with accesses that report no
    /// instruction syndrome (ISV = 0, like a load pair): a stage-2 fault exits to the
    /// RMM, and the access is retried when the realm is resumed, unless an exception
    /// was injected instead.
    pub fn access(&mut self, ipa: u64, buf: &mut [u8], write: bool) -> Result<(), RealmException> {
        loop {
            self.take_interrupts();
            match self.access_once(ipa, buf, write) {
                Ok(()) => return Ok(()),
                Err(f) => {
                    if let Resumed::Injected(e) = self.abort(&f, ipa, write, 0) {
                        return Err(e);
                    }
                }
            }
        }
    }

    /// Reads `buf.len()` bytes at `ipa` (see [`RealmCpu::access`]).
    pub fn read(&mut self, ipa: u64, buf: &mut [u8]) -> Result<(), RealmException> {
        self.access(ipa, buf, false)
    }

    /// Writes `buf` at `ipa` (see [`RealmCpu::access`]).
    pub fn write(&mut self, ipa: u64, buf: &[u8]) -> Result<(), RealmException> {
        let mut b = buf.to_vec();
        self.access(ipa, &mut b, true)
    }

    /// A single load of `size` at `ipa` into register `srt` (`LDR`/`LDRS*`): on a
    /// stage-2 fault the syndrome is valid (ISV = 1, SAS, SSE, SRT, SF), so the RMM can
    /// let the host emulate it; the loaded value (extended as the instruction says) is
    /// returned from the register.
    pub fn load(
        &mut self,
        ipa: u64,
        size: AccessSize,
        srt: usize,
        sign_extend: bool,
        sf: bool,
    ) -> Result<u64, RealmException> {
        loop {
            self.take_interrupts();
            let mut b = [0u8; 8];
            let n = size.bytes();
            match self.access_once(ipa, &mut b[..n], false) {
                Ok(()) => {
                    let v = extend(u64::from_le_bytes(b), size, sign_extend, sf);
                    if srt != 31 {
                        self.regs.gprs[srt] = v;
                    }
                    self.regs.pc += 4;
                    return Ok(v);
                }
                Err(f) => {
                    let iss = 1 << 24
                        | (size as u64) << 22
                        | (sign_extend as u64) << 21
                        | (srt as u64) << 16
                        | (sf as u64) << 15;
                    match self.abort(&f, ipa, false, iss) {
                        Resumed::Injected(e) => return Err(e),
                        // Emulated: the RMM wrote the register and stepped over the load.
                        Resumed::SteppedOver => {
                            return Ok(if srt == 31 { 0 } else { self.regs.gprs[srt] })
                        }
                        Resumed::Retry => {}
                    }
                }
            }
        }
    }

    /// A single store of `size` bytes of register `srt` (holding `value`) at `ipa`
    /// (`STR`): like [`RealmCpu::load`], with WnR = 1.
    pub fn store(
        &mut self,
        ipa: u64,
        size: AccessSize,
        srt: usize,
        value: u64,
    ) -> Result<(), RealmException> {
        if srt != 31 {
            self.regs.gprs[srt] = value;
        }
        let value = if srt == 31 { 0 } else { value };
        loop {
            self.take_interrupts();
            let n = size.bytes();
            let mut b = value.to_le_bytes();
            match self.access_once(ipa, &mut b[..n], true) {
                Ok(()) => {
                    self.regs.pc += 4;
                    return Ok(());
                }
                Err(f) => {
                    let iss = 1 << 24 | (size as u64) << 22 | (srt as u64) << 16 | 1 << 15;
                    match self.abort(&f, ipa, true, iss) {
                        Resumed::Injected(e) => return Err(e),
                        Resumed::SteppedOver => return Ok(()),
                        Resumed::Retry => {}
                    }
                }
            }
        }
    }

    /// Fetches an instruction at `ipa` (stage-1 translation off: VA = IPA): a stage-2
    /// fault is an instruction abort to EL2 (EC 0x20, IFSC, FAR, HPFAR), retried when
    /// the realm is resumed unless an exception was injected. `Ok` when the fetch
    /// translates to memory the realm may execute.
    pub fn fetch(&mut self, ipa: u64) -> Result<(), RealmException> {
        loop {
            self.take_interrupts();
            let hw = self.hw();
            let (cfg, vmid) = self.s2();
            let fault = match hw
                .tlb()
                .translate(hw.mem(), &cfg, vmid, ipa, Access::Execute)
            {
                Ok(_) => return Ok(()),
                Err(f) => f,
            };
            drop(hw);
            let esr = ec::IABT_LOWER << 26 | IL | fault.fsc().unwrap_or(0) as u64;
            self.trap_sync(esr, ipa, (ipa >> 12) << 4);
            if let Some(e) = self.injected() {
                return Err(e);
            }
        }
    }

    /// Runs `f` on the GIC virtual CPU interface of the CPU this REC runs on.
    pub fn gic<R>(&mut self, f: impl FnOnce(&mut vgic::sim::SimGicCpuIf) -> R) -> R {
        let hw = self.hw();
        let mut gic = hw.gic_model(self.cpu);
        f(&mut gic)
    }
}

/// What the CPU writes to the target register of a load.
fn extend(raw: u64, size: AccessSize, sign: bool, sf: bool) -> u64 {
    let bits = size.bytes() as u32 * 8;
    let v = if bits == 64 {
        raw
    } else {
        raw & ((1 << bits) - 1)
    };
    let v = if sign && bits < 64 && v >> (bits - 1) & 1 == 1 {
        v | !((1u64 << bits) - 1)
    } else {
        v
    };
    if sf {
        v
    } else {
        v & 0xFFFF_FFFF
    }
}
