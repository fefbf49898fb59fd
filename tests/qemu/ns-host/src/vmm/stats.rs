//! What the boot exercised: every REC exit the VMM handled, by kind, printed as a table
//! when the realm has powered off (or failed).

use core::fmt::Write;

use crate::uart::Uart;

/// The kinds of exit the VMM tells apart.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Kind {
    /// SYNC: WFI (TRAP_WFI).
    Wfi,
    /// SYNC: a trapped ICC_SGI1R_EL1 write (an IPI).
    Sgi,
    /// SYNC: another trapped GIC system register write.
    OtherSysreg,
    /// SYNC: emulated MMIO, by device and direction.
    UartRead,
    UartWrite,
    GicdRead,
    GicdWrite,
    GicrRead,
    GicrWrite,
    /// SYNC: a data abort on protected RAM not yet given to the realm
    /// (DATA_CREATE_UNKNOWN).
    RamFault,
    /// SYNC: an instruction abort on such RAM.
    RamInstrFault,
    /// SYNC: an abort at an unprotected IPA of RAM the realm shares
    /// (RTT_MAP_UNPROTECTED).
    SharedFault,
    /// IRQ: the VMM's preemption timer (or another physical interrupt).
    Irq,
    /// FIQ.
    Fiq,
    /// PSCI, by function.
    PsciCpuOn,
    PsciAffinityInfo,
    PsciCpuOff,
    PsciCpuSuspend,
    PsciSystemOff,
    PsciSystemReset,
    PsciOther,
    /// RIPAS change requests, by the RIPAS asked for.
    RipasRam,
    RipasEmpty,
    /// A host call.
    HostCall,
    /// SError.
    SError,
}

const KINDS: usize = Kind::SError as usize + 1;

const NAMES: [(&str, &str); KINDS] = [
    ("SYNC", "WFI (trapped)"),
    ("SYNC", "ICC_SGI1R_EL1 write (IPI)"),
    ("SYNC", "other GIC system register write"),
    ("SYNC", "MMIO read, PL011"),
    ("SYNC", "MMIO write, PL011"),
    ("SYNC", "MMIO read, GIC distributor"),
    ("SYNC", "MMIO write, GIC distributor"),
    ("SYNC", "MMIO read, GIC redistributor"),
    ("SYNC", "MMIO write, GIC redistributor"),
    ("SYNC", "data abort, unassigned RAM (DATA_CREATE_UNKNOWN)"),
    ("SYNC", "instruction abort, unassigned RAM"),
    (
        "SYNC",
        "abort, unprotected IPA of RAM (RTT_MAP_UNPROTECTED)",
    ),
    ("IRQ", "physical interrupt (the VMM's preemption timer)"),
    ("FIQ", "physical FIQ"),
    ("PSCI", "CPU_ON (RMI_PSCI_COMPLETE)"),
    ("PSCI", "AFFINITY_INFO (RMI_PSCI_COMPLETE)"),
    ("PSCI", "CPU_OFF"),
    ("PSCI", "CPU_SUSPEND"),
    ("PSCI", "SYSTEM_OFF"),
    ("PSCI", "SYSTEM_RESET"),
    ("PSCI", "other"),
    ("RIPAS_CHANGE", "to RAM (RSI_IPA_STATE_SET)"),
    (
        "RIPAS_CHANGE",
        "to EMPTY (RSI_IPA_STATE_SET, shared memory)",
    ),
    ("HOST_CALL", "RSI_HOST_CALL"),
    ("SERROR", "SError"),
];

/// Exit counts, per vCPU.
pub struct Stats {
    counts: [[u64; KINDS]; 4],
    /// REC entries.
    pub entries: u64,
    /// Granules whose RIPAS changed (RTT_SET_RIPAS ranges).
    pub ripas_bytes: u64,
}

impl Stats {
    /// All zero.
    pub const fn new() -> Stats {
        Stats {
            counts: [[0; KINDS]; 4],
            entries: 0,
            ripas_bytes: 0,
        }
    }

    /// Counts one exit of `kind` on vCPU `cpu`.
    pub fn count(&mut self, cpu: usize, kind: Kind) {
        self.counts[cpu.min(3)][kind as usize] += 1;
    }

    /// Prints the table (kinds that never happened are left out).
    pub fn print(&self, vcpus: usize) {
        let mut u = Uart;
        let _ = writeln!(u, "VMM: REC exits by kind ({} REC entries):", self.entries);
        let _ = write!(
            u,
            "VMM: | exit reason  | kind                                                 |"
        );
        for c in 0..vcpus {
            let _ = write!(u, " vCPU {c} |");
        }
        let _ = writeln!(u);
        for (k, (reason, what)) in NAMES.iter().enumerate() {
            let total: u64 = (0..vcpus).map(|c| self.counts[c][k]).sum();
            if total == 0 {
                continue;
            }
            let _ = write!(u, "VMM: | {reason:<12} | {what:<52} |");
            for c in 0..vcpus {
                let _ = write!(u, " {:>6} |", self.counts[c][k]);
            }
            let _ = writeln!(u);
        }
    }
}
