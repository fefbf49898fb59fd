//! The Secure side of the GICv3 set-up the Normal world needs, as EL3 firmware does it
//! (GICv3 architecture, IHI 0069): with two security states (GICD_CTLR.DS = 0) the
//! group of an interrupt, the distributor's group enables and a redistributor's
//! power state are reachable by Secure accesses only, so the Normal world cannot take
//! an interrupt until EL3 has
//!
//! - set GICD_CTLR.ARE_S and ARE_NS (affinity routing in both states; CPU 0, once:
//!   [`init_distributor`]);
//! - on each CPU, woken its redistributor (GICR_WAKER.ProcessorSleep cleared, then
//!   ChildrenAsleep read as 0) and made every SGI and PPI Non-secure Group 1
//!   (GICR_IGROUPR0 all ones, GICR_IGRPMODR0 zero) ([`init_redistributor`]).
//!
//! What else the Normal world uses it sets itself, as under TF-A (whose GIC driver
//! does the same and enables only the Secure groups): the Non-secure Group 1 enable
//! (GICD_CTLR.EnableGrp1NS, which Non-secure accesses reach as EnableGrp1A), the
//! interrupts' enables and priorities, its CPU interface. EL3 accesses from Root state with the MMU off are Secure accesses. The RMM
//! never touches the distributor or redistributors.

use crate::uart::println;

/// GIC distributor of QEMU `virt`.
const GICD_BASE: usize = 0x0800_0000;
/// First redistributor of QEMU `virt`; each is two 64 KiB frames (RD_base, SGI_base).
const GICR_BASE: usize = 0x080A_0000;
const GICR_STRIDE: usize = 0x2_0000;
const SGI_BASE: usize = 0x1_0000;

const GICD_CTLR: usize = 0x0;
const GICR_TYPER: usize = 0x8;
const GICR_WAKER: usize = 0x14;
const GICR_IGROUPR0: usize = SGI_BASE + 0x80;
const GICR_IGRPMODR0: usize = SGI_BASE + 0xD00;

/// GICD_CTLR (Secure view): ARE_S [4], ARE_NS [5], RWP [31].
const CTLR_ARE_S: u32 = 1 << 4;
const CTLR_ARE_NS: u32 = 1 << 5;
const CTLR_RWP: u32 = 1 << 31;
/// GICR_WAKER: ProcessorSleep [1], ChildrenAsleep [2].
const WAKER_PROCESSOR_SLEEP: u32 = 1 << 1;
const WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;
/// GICR_TYPER: Last [4]; Affinity_Value [63:32].
const TYPER_LAST: u64 = 1 << 4;

/// The most redistributors looked at.
const MAX_REDISTRIBUTORS: usize = 64;
/// Polls of RWP / ChildrenAsleep before giving up.
const POLLS: u32 = 1_000_000;

fn read32(addr: usize) -> u32 {
    // SAFETY: `addr` is a 32-bit register of the GIC's MMIO frames (the constants above,
    // inside the distributor's or a redistributor's frames of QEMU `virt`), which are
    // not memory any Rust object lives in; EL3's MMU-off accesses are Device-nGnRnE.
    unsafe { core::ptr::read_volatile(addr as *const u32) }
}

fn write32(addr: usize, v: u32) {
    // SAFETY: as in `read32`.
    unsafe { core::ptr::write_volatile(addr as *mut u32, v) }
}

fn read64(addr: usize) -> u64 {
    // SAFETY: as in `read32`, for a 64-bit register (8-byte aligned).
    unsafe { core::ptr::read_volatile(addr as *const u64) }
}

/// Enables affinity routing for both security states at the distributor (CPU 0,
/// before any CPU enters a lower EL).
pub fn init_distributor() {
    let ctlr = read32(GICD_BASE + GICD_CTLR);
    write32(GICD_BASE + GICD_CTLR, ctlr | CTLR_ARE_S | CTLR_ARE_NS);
    let mut polls = 0;
    while read32(GICD_BASE + GICD_CTLR) & CTLR_RWP != 0 && polls < POLLS {
        polls += 1;
    }
}

/// The redistributor whose GICR_TYPER.Affinity_Value is `affinity` (Aff3.Aff2.Aff1.Aff0
/// of the CPU's MPIDR_EL1), if any.
fn redistributor(affinity: u32) -> Option<usize> {
    (0..MAX_REDISTRIBUTORS)
        .map(|i| GICR_BASE + i * GICR_STRIDE)
        .scan(false, |last, rd| {
            if *last {
                return None;
            }
            let typer = read64(rd + GICR_TYPER);
            *last = typer & TYPER_LAST != 0;
            Some((rd, (typer >> 32) as u32))
        })
        .find(|&(_, a)| a == affinity)
        .map(|(rd, _)| rd)
}

/// Wakes this CPU's redistributor and makes its SGIs and PPIs Non-secure Group 1.
/// `mpidr` is the CPU's MPIDR_EL1.
pub fn init_redistributor(mpidr: u64) {
    let affinity = ((mpidr >> 8 & 0xFF00_0000) | (mpidr & 0xFF_FFFF)) as u32;
    let Some(rd) = redistributor(affinity) else {
        println!("GIC: no redistributor for MPIDR {mpidr:#x}; the Normal world gets no interrupts on this CPU");
        return;
    };
    let waker = read32(rd + GICR_WAKER);
    write32(rd + GICR_WAKER, waker & !WAKER_PROCESSOR_SLEEP);
    let mut polls = 0;
    while read32(rd + GICR_WAKER) & WAKER_CHILDREN_ASLEEP != 0 && polls < POLLS {
        polls += 1;
    }
    write32(rd + GICR_IGROUPR0, u32::MAX);
    write32(rd + GICR_IGRPMODR0, 0);
}
