//! Realm execution on the simulation.
//!
//! A realm program is ordinary Rust code (`Fn(&mut RealmCpu)`) registered under an
//! entry address; a REC created with that PC runs it. Each REC's program runs on a
//! thread of its own that hands control back and forth with the RMM: the RMM's
//! [`platform::Arch::run_realm`] resumes the program with the realm's registers, and the
//! program runs until it does something that takes an exception to EL2 (an SMC, a
//! trapped WFI, a stage-2 fault, a pending physical interrupt), which returns control
//! with the syndrome in ESR_EL2/FAR_EL2/HPFAR_EL2.
//!
//! The realm's memory accesses are translated through the simulation's stage-2 TLB
//! ([`super::tlb`], over its own walker [`super::s2walk`]) from the VTCR_EL2/VTTBR_EL2
//! values the RMM programmed, and its interrupts come from the simulated GIC virtual
//! CPU interface of the CPU it runs on.
//! A realm sees exceptions the RMM injects the way the architecture delivers them: a
//! resume at its EL1 vector with ESR_EL1/FAR_EL1/ELR_EL1/SPSR_EL1 set. The simulation
//! has its own model of exception entry to EL1 ([`el1_exception_entry`]); an injected
//! exception that does not match it (wrong vector for the EL and stack pointer the
//! realm was using, wrong PSTATE, SPSR_EL1 or ELR_EL1, an EC for the wrong EL) fails
//! the test.

use std::collections::HashMap;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, Weak};

use platform::addr::PhysAddr;
use platform::arch::{CpuId, RealmRegs, RealmTrap};
use platform::sysreg::{SysReg, SysRegEncoding};

use super::el2_traps::{el1_access, El1Access};
use super::s2walk::{Access, AccessFault, S2Config};
use super::SimHw;

/// A realm program.
pub type RealmProgram = Arc<dyn Fn(&mut RealmCpu) + Send + Sync>;

/// ESR_EL2 exception classes the simulated realm raises.
pub mod ec {
    /// Trapped WFI/WFE.
    pub const WFX: u64 = 0x01;
    /// HVC from AArch64.
    pub const HVC64: u64 = 0x16;
    /// SMC from AArch64.
    pub const SMC64: u64 = 0x17;
    /// Trapped MSR, MRS or System instruction.
    pub const SYSREG: u64 = 0x18;
    /// Instruction abort from a lower EL.
    pub const IABT_LOWER: u64 = 0x20;
    /// Data abort from a lower EL.
    pub const DABT_LOWER: u64 = 0x24;
}

/// ESR.IL: a 32-bit instruction (Arm ARM, ESR_ELx.IL: 0 for a 16-bit T32 instruction;
/// 1 for every A64 and A32 instruction, and for instruction aborts, data aborts without
/// a valid instruction syndrome, SErrors and EC 0x00 whatever the instruction).
const IL: u64 = 1 << 25;
/// PSTATE (SPSR layout) M\[4\]: AArch32 state.
const PSTATE_NRW: u64 = 1 << 4;
/// PSTATE (SPSR layout, AArch32) T \[5\]: the T32 instruction set.
const PSTATE_T: u64 = 1 << 5;
/// SCTLR_EL1.nTWI \[16\]: WFI at EL0 does not trap to EL1.
const SCTLR_NTWI: u64 = 1 << 16;
/// How many times the simulation re-executes an instruction that cannot complete
/// before it fails the test: the RMM keeps resuming the realm at it.
pub const MAX_REEXECUTIONS: u32 = 1000;

/// Offsets of the four synchronous exception vectors from VBAR_EL1: current EL with
/// SP_EL0, current EL with SP_ELx, lower EL using AArch64, lower EL using AArch32.
pub const SYNC_VECTORS: [u64; 4] = [0x000, 0x200, 0x400, 0x600];

/// Exception entry to EL1 as the Arm ARM defines it (`AArch64.TakeException`, target
/// EL1, and D1.3.1 "Exception vectors"), for a PE whose PSTATE (in the SPSR layout) was
/// `from`: returns the vector offset from VBAR_EL1 and the PSTATE the handler runs
/// with. `sctlr` is SCTLR_EL1; the ID registers say which optional PSTATE fields exist
/// (FEAT_PAN, FEAT_SSBS, FEAT_MTE, FEAT_NMI, FEAT_EBEP).
pub fn el1_exception_entry(from: u64, sctlr: u64, mmfr1: u64, pfr1: u64, dfr1: u64) -> (u64, u64) {
    let has = |reg: u64, lsb: u32| (reg >> lsb) & 0xF != 0;
    let el = (from >> 2) & 3;
    let aarch32 = from & (1 << 4) != 0;
    let offset = match (el, aarch32, from & 1) {
        (0, true, _) => 0x600,
        (0, false, _) => 0x400,
        (_, _, 0) => 0x000,
        _ => 0x200,
    };
    // Fields carried over: N, Z, C, V [31:28] and DIT [24].
    let mut pstate = from & (0xF << 28 | 1 << 24);
    // M = EL1h, nRW = 0; D, A, I, F set. SS [21], IL [20], UAO [23], BTYPE [11:10]
    // are cleared by not being carried.
    pstate |= 0b0101 | 0b1111 << 6;
    // PAN [22]: set when SCTLR_EL1.SPAN == 0, otherwise unchanged.
    if has(mmfr1, 20) {
        let span = sctlr >> 23 & 1 == 1;
        pstate |= if span { from & (1 << 22) } else { 1 << 22 };
    }
    // SSBS [12] := SCTLR_EL1.DSSBS [44].
    if has(pfr1, 4) {
        pstate |= (sctlr >> 44 & 1) << 12;
    }
    // TCO [25] := 1.
    if has(pfr1, 8) {
        pstate |= 1 << 25;
    }
    // ALLINT [13] := NOT SCTLR_EL1.SPINTMASK [62].
    if has(pfr1, 36) {
        pstate |= (!sctlr >> 62 & 1) << 13;
    }
    // PM [32] := 1.
    if has(dfr1, 48) {
        pstate |= 1 << 32;
    }
    (offset, pstate)
}

/// How the realm was resumed after a data abort it took to EL2.
enum Resumed {
    /// At its exception vector: the RMM injected this exception.
    Injected(RealmException),
    /// Past the faulting instruction: the access was emulated.
    SteppedOver,
    /// At the faulting instruction: try the access again.
    Retry,
}

/// An exception the realm received (one the RMM injected), as its EL1 handler sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RealmException {
    /// ESR_EL1 of the exception.
    pub esr: u64,
    /// FAR_EL1.
    pub far: u64,
    /// ELR_EL1: the address of the instruction that took it.
    pub elr: u64,
    /// SPSR_EL1: the realm's PSTATE when it took it.
    pub spsr: u64,
    /// The vector the realm resumed at, as an offset from VBAR_EL1.
    pub vector: u64,
    /// The PSTATE the handler runs with.
    pub pstate: u64,
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

/// The unwinding payload that restarts a realm program: its REC was entered at a
/// program's entry point instead of where it stopped (PSCI_CPU_ON after PSCI_CPU_OFF
/// restarts a REC at the entry point CPU_ON names).
struct Restarted;

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

    /// Whether a program is registered at `entry`.
    fn has_program(&self, entry: u64) -> bool {
        self.programs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(&entry)
    }

    /// Forgets the realm threads whose stage-2 tables start at `root`: that table is
    /// being scrubbed, so its realm is gone (a new realm may reuse the address, and its
    /// RECs are new).
    pub(super) fn forget_root(&self, root: PhysAddr) {
        let mut threads = self.threads.lock().unwrap_or_else(|e| e.into_inner());
        threads.retain(|&(vttbr, _), _| vttbr & 0x0000_FFFF_FFFF_F000 != root.0);
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
                t32_narrow: false,
                serror_with_exception: None,
            };
            loop {
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    program(&mut cpu);
                    // A program that returns halts: every later entry traps as a WFI.
                    loop {
                        cpu.trap_sync(ec::WFX << 26 | IL, 0, 0);
                    }
                }));
                match run {
                    // Entered again at its entry point: run it from the start.
                    Err(payload) if payload.is::<Restarted>() => continue,
                    Err(payload) => std::panic::resume_unwind(payload),
                    Ok(()) => unreachable!("a program that returns traps for ever"),
                }
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
    /// In T32 state, whether the instructions the program executes are 16-bit
    /// encodings ([`RealmCpu::set_t32_narrow`]).
    t32_narrow: bool,
    /// The syndrome of an SError that becomes pending as the realm takes its next
    /// synchronous exception ([`RealmCpu::serror_with_next_exception`]).
    serror_with_exception: Option<u64>,
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
        if let RealmTrap::Sync = kind {
            if let Some(e) = self.serror_with_exception.take() {
                // Pending from the exception's entry to EL2 on: PSTATE.A is set there.
                self.hw().raise_serror(self.cpu, e);
            }
        }
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
        // Every instruction of the realm program starts here: a step at its EL.
        super::pmu::tick(self.hw().cpu(self.cpu), self.el());
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

    /// Whether the last resume delivered an injected synchronous exception for the
    /// instruction the realm executed with registers `before`: the PC is at the vector
    /// exception entry from `before.pstate` selects. If so, checks the entry against the
    /// architecture (ELR_EL1, SPSR_EL1, the handler's PSTATE, the EC's EL), returns the
    /// exception and "returns" from the handler past the instruction (an ERET to
    /// ELR_EL1 plus the instruction's length `len` with SPSR_EL1).
    ///
    /// # Panics
    /// If the realm was resumed at another synchronous vector, or the entry state is not
    /// the architecture's.
    fn injected(&mut self, before: &RealmRegs, len: u64) -> Option<RealmException> {
        let vbar = self.read_sysreg(SysReg::VBAR_EL1) & !0x7FF;
        let (offset, want_pstate) = el1_exception_entry(
            before.pstate,
            self.read_sysreg(SysReg::SCTLR_EL1),
            self.read_sysreg(SysReg::ID_AA64MMFR1_EL1),
            self.read_sysreg(SysReg::ID_AA64PFR1_EL1),
            self.read_sysreg(SysReg::ID_AA64DFR1_EL1),
        );
        let pc = self.regs.pc;
        if pc != vbar.wrapping_add(offset) {
            let resumed = [before.pc, before.pc.wrapping_add(len)];
            for other in SYNC_VECTORS {
                assert!(
                    pc != vbar.wrapping_add(other) || resumed.contains(&pc),
                    "exception injected at VBAR_EL1 + {other:#x}; from PSTATE {:#x} the \
                     architecture takes it to VBAR_EL1 + {offset:#x}",
                    before.pstate
                );
            }
            return None;
        }
        let e = RealmException {
            esr: self.read_sysreg(SysReg::ESR_EL1),
            far: self.read_sysreg(SysReg::FAR_EL1),
            elr: self.read_sysreg(SysReg::ELR_EL1),
            spsr: self.read_sysreg(SysReg::SPSR_EL1),
            vector: offset,
            pstate: self.regs.pstate,
        };
        assert_eq!(
            e.pstate, want_pstate,
            "PSTATE on exception entry from {:#x}",
            before.pstate
        );
        assert_eq!(
            e.spsr, before.pstate,
            "SPSR_EL1: the PSTATE before the exception"
        );
        assert_eq!(
            e.elr, before.pc,
            "ELR_EL1: the instruction that took the exception"
        );
        let class = e.esr >> 26;
        if matches!(class, 0x20 | 0x21 | 0x24 | 0x25) {
            let from_el1 = (before.pstate >> 2) & 3 == 1;
            assert_eq!(
                class & 1 == 1,
                from_el1,
                "abort EC {class:#x} names the wrong EL (taken from PSTATE {:#x})",
                before.pstate
            );
        }
        // The realm's handler returns past the instruction.
        self.regs.pc = e.elr.wrapping_add(len);
        self.regs.pstate = e.spsr;
        Some(e)
    }

    /// An asynchronous error caused by what the realm just did (a store to a device,
    /// say) makes an SError with syndrome `esr` pending on its CPU now: the realm takes
    /// it to EL2 at its next instruction (HCR_EL2.AMO routes it there; PSTATE.A at EL1
    /// does not mask an exception to a higher EL).
    pub fn serror_now(&mut self, esr: u64) {
        self.hw().raise_serror(self.cpu, esr);
    }

    /// An asynchronous error the realm caused becomes pending just as its next
    /// instruction takes a synchronous exception to EL2 (an SMC, a trapped WFI, an
    /// abort): the SError is pending at R-EL2, where exception entry masked it.
    pub fn serror_with_next_exception(&mut self, esr: u64) {
        self.serror_with_exception = Some(esr);
    }

    /// Sets PSTATE (SPSR layout) as the realm's own EL1 code would: `MSR SPSel`, `MSR
    /// DAIF`, an ERET to EL0... The next instruction runs with it.
    pub fn set_pstate(&mut self, pstate: u64) {
        self.regs.pstate = pstate;
    }

    /// The exception level the realm runs at (PSTATE.EL).
    fn el(&self) -> u64 {
        (self.regs.pstate >> 2) & 3
    }

    /// In T32 state (AArch32 EL0 with PSTATE.T set), makes the instructions the program
    /// executes from now on 16-bit encodings (`narrow`) or 32-bit ones: a trapped one
    /// reports ESR_EL2.IL 0 or 1, and the PE moves past it by 2 or 4 bytes. A64 and
    /// A32 instructions are always 32 bits.
    pub fn set_t32_narrow(&mut self, narrow: bool) {
        self.t32_narrow = narrow;
    }

    /// The length in bytes of the instruction the realm executes next.
    ///
    /// # Panics
    /// In AArch32 state at EL1 (HCR_EL2.RW makes EL1 AArch64: an exception return to
    /// AArch32 EL1 is illegal) or on a CPU without AArch32 at EL0
    /// (ID_AA64PFR0_EL1.EL0 \[3:0\] is not 0b0010).
    fn insn_len(&self) -> u64 {
        let p = self.regs.pstate;
        if p & PSTATE_NRW == 0 {
            return 4;
        }
        assert_eq!(self.el(), 0, "AArch32 state at EL1 with HCR_EL2.RW set");
        assert_eq!(
            self.read_sysreg(SysReg::ID_AA64PFR0_EL1) & 0xF,
            0b0010,
            "the simulated CPU does not implement AArch32 at EL0"
        );
        if p & PSTATE_T != 0 && self.t32_narrow {
            2
        } else {
            4
        }
    }

    /// ESR_ELx.ISS.SF of a store's data abort: 1 for a 64-bit register in AArch64
    /// state; AArch32 registers are 32 bits.
    fn sf(&self) -> u64 {
        if self.regs.pstate & PSTATE_NRW == 0 {
            1 << 15
        } else {
            0
        }
    }

    /// ESR_EL2.IL of an exception the realm's next instruction takes that reports the
    /// instruction's length (a trapped instruction, a data abort with a valid
    /// instruction syndrome).
    fn il(&self) -> u64 {
        if self.insn_len() == 4 {
            IL
        } else {
            0
        }
    }

    /// Issues `smc #0` with x0 = `fid` and x1.. = `args`; returns x0..x30 after the
    /// RMM resumes the realm past the SMC. Resumed at the SMC itself (a call the RMM
    /// retries after an exit), the realm executes it again.
    ///
    /// # Panics
    /// At EL0, where SMC is UNDEFINED (taken to EL1, not to the RMM).
    pub fn smc(&mut self, fid: u64, args: &[u64]) -> [u64; 31] {
        self.smc_imm(0, fid, args)
    }

    /// [`RealmCpu::smc`] with the immediate `imm` (`smc #imm`, ESR_EL2.ISS imm16).
    pub fn smc_imm(&mut self, imm: u16, fid: u64, args: &[u64]) -> [u64; 31] {
        assert_ne!(self.el(), 0, "SMC at EL0 is UNDEFINED");
        self.take_interrupts();
        self.regs.gprs[0] = fid;
        self.regs.gprs[1..=args.len()].copy_from_slice(args);
        let pc = self.regs.pc;
        for _ in 0..MAX_REEXECUTIONS {
            self.trap_sync(ec::SMC64 << 26 | IL | imm as u64, 0, 0);
            if self.regs.pc == pc.wrapping_add(4) {
                return self.regs.gprs;
            }
            if self.regs.pc != pc && self.hw().realms.has_program(self.regs.pc) {
                // PSCI_CPU_OFF, then CPU_ON at a program's entry point: start over.
                std::panic::resume_unwind(Box::new(Restarted));
            }
            // Resumed at the SMC (its arguments still in place): it executes again.
            assert_eq!(
                self.regs.pc, pc,
                "the RMM must resume the realm after its SMC, or at it"
            );
            self.take_interrupts();
        }
        panic!("the realm executed an SMC {MAX_REEXECUTIONS} times")
    }

    /// Branches to `pc`: the realm's next instruction is there.
    pub fn set_pc(&mut self, pc: u64) {
        self.regs.pc = pc;
    }

    /// Sets general-purpose register `n` (x0..x30), as an instruction of the realm
    /// would.
    pub fn set_gpr(&mut self, n: usize, value: u64) {
        self.regs.gprs[n] = value;
    }

    /// Issues `hvc #imm` at EL1. HVC is taken to EL2 with the preferred return address
    /// the next instruction. Returns x0..x30 if the RMM resumes the realm past it, or
    /// the exception the RMM injected instead.
    ///
    /// # Panics
    /// At EL0, where HVC is UNDEFINED (taken to EL1, not to the RMM).
    pub fn hvc(&mut self, imm: u16) -> Result<[u64; 31], RealmException> {
        assert_ne!(self.el(), 0, "HVC at EL0 is UNDEFINED");
        self.take_interrupts();
        let before = self.regs;
        self.regs.pc = before.pc.wrapping_add(4);
        self.trap_sync(ec::HVC64 << 26 | IL | imm as u64, 0, 0);
        if let Some(e) = self.injected(&before, 4) {
            return Err(e);
        }
        assert_eq!(
            self.regs.pc,
            before.pc.wrapping_add(4),
            "the RMM must resume the realm after its HVC"
        );
        Ok(self.regs.gprs)
    }

    /// Executes an instruction that traps to EL2 with syndrome `esr` (EC, IL, ISS), as
    /// a trapped MSR/MRS does; the trap's preferred return address is the instruction
    /// itself. `Ok` once the RMM resumes the realm past it (emulated), the exception if
    /// it injected one; resumed at the instruction, the realm executes it again.
    ///
    /// # Panics
    /// After [`MAX_REEXECUTIONS`] executions.
    pub fn trapped(&mut self, esr: u64) -> Result<(), RealmException> {
        for _ in 0..MAX_REEXECUTIONS {
            self.take_interrupts();
            let before = self.regs;
            let len = if esr & IL != 0 { 4 } else { 2 };
            self.trap_sync(esr, 0, 0);
            if let Some(e) = self.injected(&before, len) {
                return Err(e);
            }
            if self.regs.pc == before.pc.wrapping_add(len) {
                return Ok(());
            }
            self.assert_at(&before, len);
        }
        panic!(
            "the realm executed a trapped instruction (ESR {esr:#x}) {MAX_REEXECUTIONS} \
             times: the RMM resumes it at the instruction without handling it"
        )
    }

    /// `MRS x<rt>, <enc>` at EL1: the register's value if the access completes on the
    /// CPU; if the EL2 controls trap it ([`super::el2_traps`]), an exception to EL2
    /// with the syndrome of a trapped MRS (EC 0x18, IL, the encoding, Rt, Direction 1),
    /// and the value is what the RMM put in x<rt> before it resumed the realm past the
    /// instruction (x31 reads as zero). `Err` if the RMM injected an exception instead.
    ///
    /// # Panics
    /// If the register is not implemented on the simulated CPU (UNDEFINED at EL1, not
    /// the RMM's to handle), or after [`MAX_REEXECUTIONS`] traps without progress.
    pub fn mrs(&mut self, enc: SysRegEncoding, rt: usize) -> Result<u64, RealmException> {
        self.sysreg_access(enc, rt, true)?;
        Ok(if rt == 31 { 0 } else { self.regs.gprs[rt] })
    }

    /// `MSR <enc>, x<rt>` at EL1 with x<rt> = `value` (ignored for x31, which reads as
    /// zero): written to the CPU's register if the access completes there, else a trap
    /// to EL2 (EC 0x18, Direction 0), as for [`RealmCpu::mrs`].
    ///
    /// # Panics
    /// As [`RealmCpu::mrs`].
    pub fn msr(
        &mut self,
        enc: SysRegEncoding,
        rt: usize,
        value: u64,
    ) -> Result<(), RealmException> {
        if rt != 31 {
            self.regs.gprs[rt] = value;
        }
        self.sysreg_access(enc, rt, false)
    }

    fn sysreg_access(
        &mut self,
        enc: SysRegEncoding,
        rt: usize,
        read: bool,
    ) -> Result<(), RealmException> {
        assert!(rt <= 31, "no register x{rt}");
        assert_eq!(
            self.el(),
            1,
            "the simulation models EL1 system register accesses only"
        );
        self.take_interrupts();
        let hw = self.hw();
        let sys = hw.cpu(self.cpu);
        match el1_access(sys, enc, read) {
            El1Access::Undefined => panic!("{enc} is not implemented on the simulated CPU"),
            El1Access::Completes => {
                if read {
                    let v = sys.read_encoding(enc);
                    if rt != 31 {
                        self.regs.gprs[rt] = v;
                    }
                } else {
                    let v = if rt == 31 { 0 } else { self.regs.gprs[rt] };
                    sys.write_encoding(enc, v);
                }
                self.regs.pc = self.regs.pc.wrapping_add(4);
                Ok(())
            }
            El1Access::Redirected(reg) => {
                if read {
                    let v = sys.read(reg);
                    if rt != 31 {
                        self.regs.gprs[rt] = v;
                    }
                } else {
                    sys.write(reg, if rt == 31 { 0 } else { self.regs.gprs[rt] });
                }
                self.regs.pc = self.regs.pc.wrapping_add(4);
                Ok(())
            }
            El1Access::TrapsToEl2 => {
                drop(hw);
                let esr = ec::SYSREG << 26 | IL | enc.iss() | (rt as u64) << 5 | read as u64;
                self.trapped(esr)
            }
        }
    }

    /// An access at `ipa` that takes the stage-2 abort `esr` (EC data or instruction
    /// abort from a lower EL, its DFSC/IFSC) for its first `times` executions, as the
    /// hardware reports faults the simulation's walker does not produce itself (a
    /// permission fault on a TLB entry, a TLB conflict, an external abort...), FAR and
    /// HPFAR naming `ipa`. After that the access is a one-byte read (or, for an
    /// instruction abort, a fetch) translated as usual. `Ok` when the access completes
    /// or the RMM steps over it, the exception if the RMM injected one.
    ///
    /// # Panics
    /// After [`MAX_REEXECUTIONS`] executions that take the fault.
    pub fn fault(&mut self, esr: u64, ipa: u64, times: u32) -> Result<(), RealmException> {
        let iabt = esr >> 26 == ec::IABT_LOWER;
        for faulted in 0..MAX_REEXECUTIONS {
            self.take_interrupts();
            if faulted >= times {
                return if iabt {
                    self.fetch(ipa)
                } else {
                    self.read(ipa, &mut [0u8; 1])
                };
            }
            let before = self.regs;
            let len = self.insn_len();
            self.trap_sync(esr, ipa, (ipa >> 12) << 4);
            if let Some(e) = self.injected(&before, len) {
                return Err(e);
            }
            if self.regs.pc == before.pc.wrapping_add(len) {
                return Ok(());
            }
            self.assert_at(&before, len);
        }
        panic!(
            "the realm executed an access that faults (ESR {esr:#x} at {ipa:#x}) \
             {MAX_REEXECUTIONS} times: the RMM resumes it without curing the fault"
        )
    }

    /// The FP/SIMD registers (V0..V31, FPCR, FPSR) as the realm sees them: those of the
    /// CPU it runs on.
    pub fn fp(&self) -> platform::arch::FpRegs {
        self.hw().cpu(self.cpu).fp()
    }

    /// Writes the realm's FP/SIMD registers (FP/SIMD instructions of the realm).
    pub fn set_fp(&mut self, value: &platform::arch::FpRegs) {
        self.hw().cpu(self.cpu).set_fp(value)
    }

    /// Executes WFI: traps to EL2 if HCR_EL2.TWI is set, else completes at once. The
    /// trap's syndrome has IL for the instruction's length (a 16-bit T32 WFI reports
    /// IL 0), and the RMM must resume the realm past it: at the PC plus that length.
    ///
    /// # Panics
    /// At EL0 with SCTLR_EL1.nTWI 0: the WFI traps to the realm's own EL1, which the
    /// simulation does not model.
    pub fn wfi(&mut self) {
        self.take_interrupts();
        if self.el() == 0 {
            assert!(
                self.read_sysreg(SysReg::SCTLR_EL1) & SCTLR_NTWI != 0,
                "WFI at EL0 with SCTLR_EL1.nTWI 0 traps to EL1 (not modelled)"
            );
        }
        let len = self.insn_len();
        if self.hw().cpu(self.cpu).read(SysReg::HCR_EL2) & (1 << 13) != 0 {
            let pc = self.regs.pc;
            self.trap_sync(ec::WFX << 26 | self.il(), 0, 0);
            assert_eq!(
                self.regs.pc,
                pc.wrapping_add(len),
                "the RMM must resume the realm after the WFI ({len} bytes)"
            );
        } else {
            self.regs.pc = self.regs.pc.wrapping_add(len);
        }
    }

    /// Fails the test unless the realm was resumed at the instruction `before` names
    /// (to execute it again): the RMM resumed it neither there, nor past the
    /// instruction (`len` bytes), nor at an exception vector.
    fn assert_at(&self, before: &RealmRegs, len: u64) {
        assert_eq!(
            self.regs.pc, before.pc,
            "the RMM resumed the realm neither at the instruction ({:#x}) nor past its \
             {len} bytes",
            before.pc
        );
    }

    /// The stage-2 configuration and VMID the RMM programmed on this CPU.
    fn s2(&self) -> (S2Config, u16) {
        let hw = self.hw();
        let sys = hw.cpu(self.cpu);
        super::tlb::stage2_regs(sys.read(SysReg::VTCR_EL2), sys.read(SysReg::VTTBR_EL2))
    }

    /// The syndrome of a data abort: IL is the instruction's length when the
    /// instruction syndrome `isv` is valid, and 1 without it (Arm ARM, ESR_ELx.IL).
    fn abort_syndrome(&self, fault: &AccessFault, write: bool, isv: u64) -> u64 {
        let dfsc = match fault {
            AccessFault::Stage2(f) => f.fsc().unwrap_or(0) as u64,
            // A granule protection fault on the output: GPF (DFSC 0b101000).
            AccessFault::Gpf(_) => 0b10_1000,
        };
        let il = if isv != 0 { self.il() } else { IL };
        ec::DABT_LOWER << 26 | il | isv | (write as u64) << 6 | dfsc
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
        let esr = self.abort_syndrome(f, write, iss);
        let before = self.regs;
        let len = self.insn_len();
        self.trap_sync(esr, ipa, (ipa >> 12) << 4);
        if let Some(e) = self.injected(&before, len) {
            Resumed::Injected(e)
        } else if self.regs.pc == before.pc.wrapping_add(len) {
            Resumed::SteppedOver
        } else {
            self.assert_at(&before, len);
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
        assert!(
            !sf || self.regs.pstate & PSTATE_NRW == 0,
            "AArch32 has no 64-bit target registers"
        );
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
                    self.regs.pc = self.regs.pc.wrapping_add(self.insn_len());
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
                    self.regs.pc = self.regs.pc.wrapping_add(self.insn_len());
                    return Ok(());
                }
                Err(f) => {
                    let iss = 1 << 24 | (size as u64) << 22 | (srt as u64) << 16 | self.sf();
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
            let before = self.regs;
            let len = self.insn_len();
            self.trap_sync(esr, ipa, (ipa >> 12) << 4);
            if let Some(e) = self.injected(&before, len) {
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
