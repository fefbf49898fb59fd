//! The firmware's per-CPU scratch memory: one [`Scratch`] per CPU the image supports,
//! in `.bss`, owned by that CPU's RMI loop.

use core::cell::UnsafeCell;

use platform::CpuId;
use rmm::percpu::{PerCpu, Scratch};

use crate::entry::MAX_CPUS;

/// The scratch memory of every CPU, indexed by CPU id.
struct Slots([UnsafeCell<Scratch>; MAX_CPUS]);

// SAFETY: slot `i` is only ever reached through `rmi_loop(CpuId(i))`, which only CPU `i`
// calls (see its contract), so no slot is shared between CPUs.
unsafe impl Sync for Slots {}

static SLOTS: Slots = Slots([const { UnsafeCell::new(Scratch::ZERO) }; MAX_CPUS]);

/// The RMI loop context of CPU `cpu`, with that CPU's scratch memory.
///
/// # Safety
/// Only CPU `cpu` may call this, from its boot entry point (cold or warm), and no
/// earlier context of the same CPU may still be used: each entry from EL3 starts the
/// CPU afresh on its own stack (`rmm_entry`), abandoning whatever the CPU ran before,
/// so the context returned by a previous entry is dead.
pub unsafe fn rmi_loop(cpu: CpuId) -> PerCpu<'static> {
    let slot = SLOTS
        .0
        .get(cpu.0)
        .unwrap_or_else(|| panic!("CPU {} has no scratch slot", cpu.0));
    // SAFETY: by this function's contract, this CPU is the only user of the slot and
    // holds no other reference to it.
    PerCpu::new(cpu, unsafe { &mut *slot.get() })
}
