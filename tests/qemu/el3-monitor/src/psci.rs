//! The PSCI calls the Normal-world test host makes (Arm DEN0022, PSCI 1.1): powering a
//! secondary CPU on into the Normal world, and asking a CPU's state.
//!
//! - `PSCI_VERSION`: 1.1;
//! - `PSCI_FEATURES` (x1 = a function identifier): 0 for the functions below, SMCCC
//!   `NOT_SUPPORTED` for the others;
//! - `CPU_ON` (SMC32 or SMC64: target MPIDR, entry point, context id): the target
//!   starts in the Normal world at the caller's Exception level (NS-EL2), at the entry
//!   point with x0 = the context id, the other general-purpose registers zero, MMU and
//!   caches off and D, A, I, F masked (DEN0022 6.4.3: "CPU_ON"). Results: SUCCESS;
//!   INVALID_PARAMETERS for an MPIDR with bits set outside the affinity fields or one
//!   naming no CPU the monitor booted; ALREADY_ON, ON_PENDING; INVALID_ADDRESS for an
//!   entry point outside the Non-secure DRAM or not 4-byte aligned;
//! - `AFFINITY_INFO` (SMC32 or SMC64: target MPIDR, lowest affinity level): ON (0),
//!   OFF (1) or ON_PENDING (2) of a CPU at affinity level 0; INVALID_PARAMETERS for
//!   another level or an MPIDR naming no CPU;
//! - `SYSTEM_OFF` is handled by [`crate::smc`] (it ends the run).
//!
//! A secondary warm boots the RMM at boot ([`crate::boot`]) and then waits here, OFF,
//! until a `CPU_ON` names it ([`wait_for_cpu_on`]); it then enters the Normal world.
//! There is no `CPU_OFF`: a CPU that is on stays on. The calls the Normal world does
//! not make (CPU_SUSPEND, CPU_OFF, SYSTEM_RESET, MIGRATE...) answer `NOT_SUPPORTED`.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::layout::{DRAM_END, MAX_CPUS, RMM_REALM_END};
use crate::percpu::{PerCpu, World};
use crate::sysreg;
use crate::world;

/// `PSCI_VERSION`.
pub const PSCI_VERSION: u32 = 0x8400_0000;
/// `PSCI_FEATURES`.
pub const PSCI_FEATURES: u32 = 0x8400_000A;
/// `CPU_ON`, SMC32 and SMC64.
pub const CPU_ON_32: u32 = 0x8400_0003;
/// `CPU_ON`, SMC64.
pub const CPU_ON_64: u32 = 0xC400_0003;
/// `AFFINITY_INFO`, SMC32.
pub const AFFINITY_INFO_32: u32 = 0x8400_0004;
/// `AFFINITY_INFO`, SMC64.
pub const AFFINITY_INFO_64: u32 = 0xC400_0004;
/// `SYSTEM_OFF`.
pub const SYSTEM_OFF: u32 = 0x8400_0008;

/// PSCI 1.1 (major [30:16], minor [15:0]).
const VERSION_1_1: u64 = 0x1_0001;

/// PSCI return codes (DEN0022 5.2.2).
const SUCCESS: u64 = 0;
const NOT_SUPPORTED: u64 = -1i64 as u64;
const INVALID_PARAMETERS: u64 = -2i64 as u64;
const ALREADY_ON: u64 = -4i64 as u64;
const ON_PENDING: u64 = -5i64 as u64;
const INVALID_ADDRESS: u64 = -9i64 as u64;

/// `AFFINITY_INFO` results.
const AFF_ON: u64 = 0;
const AFF_OFF: u64 = 1;
const AFF_ON_PENDING: u64 = 2;

/// A CPU's power state as this monitor tracks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
enum Power {
    /// Not running (not present, or its RMM warm boot failed): no PSCI call can name it.
    Absent = 0,
    /// Waiting in EL3 for a `CPU_ON`.
    Off = 1,
    /// A `CPU_ON` named it; it has not entered the Normal world yet.
    OnPending = 2,
    /// Running in the Normal (or Realm) world.
    On = 3,
}

impl Power {
    fn from_u32(v: u32) -> Self {
        match v {
            1 => Power::Off,
            2 => Power::OnPending,
            3 => Power::On,
            _ => Power::Absent,
        }
    }
}

static POWER: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(Power::Absent as u32) }; MAX_CPUS];
/// Entry point and context id of the pending `CPU_ON` of each CPU.
static ENTRY: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static CONTEXT: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

fn power(cpu: usize) -> Power {
    Power::from_u32(POWER[cpu].load(Ordering::Acquire))
}

fn set_power(cpu: usize, p: Power) {
    POWER[cpu].store(p as u32, Ordering::Release);
}

/// Records that CPU 0 runs the Normal world.
pub fn boot_cpu_on() {
    set_power(0, Power::On);
}

/// The CPU a target MPIDR names (affinity fields Aff3 [39:32], Aff2 [23:16], Aff1
/// [15:8], Aff0 [7:0]; QEMU `virt` numbers CPUs Aff1 * 16 + Aff0), if it is one the
/// monitor can run; any other bit set names no CPU.
fn cpu_of(mpidr: u64) -> Option<usize> {
    // Aff3, Aff2 and the bits outside the affinity fields: zero for every CPU here.
    if mpidr >> 16 != 0 {
        return None;
    }
    let (aff1, aff0) = ((mpidr >> 8) & 0xFF, mpidr & 0xFF);
    if aff0 >= 16 {
        return None;
    }
    let id = (aff1 * 16 + aff0) as usize;
    (id < MAX_CPUS).then_some(id)
}

/// Whether `entry` can be a Normal-world entry point: 4-byte aligned, in the
/// Non-secure DRAM past the Realm region (where the test host lives).
fn valid_entry(entry: u64) -> bool {
    entry.is_multiple_of(4) && (RMM_REALM_END..DRAM_END).contains(&entry)
}

/// The arguments of an SMC32 call are W registers.
fn arg(x: &[u64; 31], i: usize, smc64: bool) -> u64 {
    if smc64 {
        x[i]
    } else {
        x[i] & 0xFFFF_FFFF
    }
}

/// Whether `fid` is one of this module's calls.
pub fn handles(fid: u32) -> bool {
    matches!(
        fid,
        PSCI_VERSION | PSCI_FEATURES | CPU_ON_32 | CPU_ON_64 | AFFINITY_INFO_32 | AFFINITY_INFO_64
    )
}

/// A PSCI call `fid` ([`handles`]) from the Normal world with registers `x`: x0.
pub fn call(fid: u32, x: &[u64; 31]) -> u64 {
    let smc64 = fid & (1 << 30) != 0;
    match fid {
        PSCI_VERSION => VERSION_1_1,
        PSCI_FEATURES => {
            let f = x[1] as u32;
            if handles(f) || f == SYSTEM_OFF {
                SUCCESS
            } else {
                NOT_SUPPORTED
            }
        }
        CPU_ON_32 | CPU_ON_64 => cpu_on(arg(x, 1, smc64), arg(x, 2, smc64), arg(x, 3, smc64)),
        _ => affinity_info(arg(x, 1, smc64), arg(x, 2, smc64)),
    }
}

fn cpu_on(target: u64, entry: u64, context: u64) -> u64 {
    let Some(cpu) = cpu_of(target) else {
        return INVALID_PARAMETERS;
    };
    match power(cpu) {
        Power::Absent => return INVALID_PARAMETERS,
        Power::On => return ALREADY_ON,
        Power::OnPending => return ON_PENDING,
        Power::Off => {}
    }
    if !valid_entry(entry) {
        return INVALID_ADDRESS;
    }
    ENTRY[cpu].store(entry, Ordering::Relaxed);
    CONTEXT[cpu].store(context, Ordering::Relaxed);
    // Only the Normal world on CPU 0 makes this call (one caller at a time), and only
    // the target moves it on from OnPending.
    set_power(cpu, Power::OnPending);
    sysreg::sev();
    SUCCESS
}

fn affinity_info(target: u64, level: u64) -> u64 {
    if level != 0 {
        return INVALID_PARAMETERS;
    }
    let Some(cpu) = cpu_of(target) else {
        return INVALID_PARAMETERS;
    };
    match power(cpu) {
        Power::Absent => INVALID_PARAMETERS,
        Power::Off => AFF_OFF,
        Power::OnPending => AFF_ON_PENDING,
        Power::On => AFF_ON,
    }
}

/// Records that secondary `cpu` warm booted the RMM and is OFF.
pub fn powered_off(cpu: usize) {
    set_power(cpu, Power::Off);
}

/// On a secondary [`powered_off`] (the RMM waits in its `RMM_BOOT_COMPLETE` for its
/// first RMI request): waits until a `CPU_ON` names it, then switches the CPU to the
/// Normal world at the entry point, x0 = the context id.
pub fn wait_for_cpu_on(cpu: &mut PerCpu) {
    let id = cpu.id;
    while power(id) != Power::OnPending {
        sysreg::wfe();
    }
    let ns = &mut cpu.ctx[World::NonSecure as usize].gprs;
    ns.x = [0; 31];
    ns.x[0] = CONTEXT[id].load(Ordering::Relaxed);
    ns.sp_el0 = 0;
    ns.elr = ENTRY[id].load(Ordering::Relaxed);
    ns.spsr = world::SPSR_EL2H_DAIF;
    set_power(id, Power::On);
    world::switch(cpu, World::NonSecure);
}
