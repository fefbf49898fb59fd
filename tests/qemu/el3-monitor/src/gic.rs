//! The GIC set-up EL3 owns (IHI 0069): with two security states (GICD_CTLR.DS = 0) only
//! Secure accesses can make interrupts Non-secure, so EL3 does it, as TF-A's GICv3
//! driver does on QEMU: affinity routing on for both states, Group 1 Non-secure
//! enabled in the distributor, every SPI, SGI and PPI Group 1 Non-secure, and the boot
//! CPU's redistributor awake. Nothing is enabled: the Normal world enables the
//! interrupts it uses (the test host's VMM, its EL2 timer's PPI 26).

use crate::uart::println;

/// QEMU `virt`'s distributor and CPU 0's redistributor.
const GICD_BASE: usize = 0x0800_0000;
const GICR0_BASE: usize = 0x080A_0000;
/// GICD_CTLR (Secure view): EnableGrp1NS [1], ARE_S [4], ARE_NS [5], RWP [31].
const GICD_CTLR: usize = 0x0000;
const CTLR_ENABLE_G1NS: u32 = 1 << 1;
const CTLR_ARE_S: u32 = 1 << 4;
const CTLR_ARE_NS: u32 = 1 << 5;
const CTLR_RWP: u32 = 1 << 31;
/// GICD_TYPER.ITLinesNumber [4:0].
const GICD_TYPER: usize = 0x0004;
const GICD_IGROUPR: usize = 0x0080;
/// GICR_WAKER: ProcessorSleep [1], ChildrenAsleep [2].
const GICR_WAKER: usize = 0x0014;
const WAKER_SLEEP: u32 = 1 << 1;
const WAKER_ASLEEP: u32 = 1 << 2;
/// GICR_IGROUPR0 in the SGI_base frame.
const GICR_IGROUPR0: usize = 0x1_0000 + 0x0080;

fn read(addr: usize) -> u32 {
    // SAFETY: a 32-bit GIC register of QEMU virt, reached with the MMU off (Device
    // memory); reading it has no side effect.
    unsafe { core::ptr::read_volatile(addr as *const u32) }
}

fn write(addr: usize, v: u32) {
    // SAFETY: a 32-bit GIC register of QEMU virt written from EL3 (Secure) during cold
    // boot, before any other world runs; it only changes interrupt grouping and
    // routing, no memory.
    unsafe { core::ptr::write_volatile(addr as *mut u32, v) }
}

/// Groups every interrupt Group 1 Non-secure and wakes CPU 0's redistributor.
pub fn init() {
    write(
        GICD_BASE + GICD_CTLR,
        CTLR_ARE_S | CTLR_ARE_NS | CTLR_ENABLE_G1NS,
    );
    while read(GICD_BASE + GICD_CTLR) & CTLR_RWP != 0 {}
    let lines = (read(GICD_BASE + GICD_TYPER) & 0x1F) as usize + 1;
    // IGROUPR<n> for n >= 1: the SPIs (IGROUPR0 is the redistributors' with ARE).
    for n in 1..lines {
        write(GICD_BASE + GICD_IGROUPR + 4 * n, u32::MAX);
    }
    write(
        GICR0_BASE + GICR_WAKER,
        read(GICR0_BASE + GICR_WAKER) & !WAKER_SLEEP,
    );
    while read(GICR0_BASE + GICR_WAKER) & WAKER_ASLEEP != 0 {}
    write(GICR0_BASE + GICR_IGROUPR0, u32::MAX);
    println!(
        "GIC: affinity routing on, {} SPIs and CPU 0's SGIs/PPIs Group 1 Non-secure, none enabled",
        (lines - 1) * 32
    );
}
