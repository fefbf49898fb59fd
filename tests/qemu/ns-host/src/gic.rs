//! The GICv3 as the Normal world uses it at NS-EL2 (GICv3 architecture, IHI 0069):
//! its own CPU interface through the ICC_* system registers, its CPU's redistributor
//! for the enable and priority of an SGI or PPI, and SGIs to another CPU.
//!
//! EL3 has enabled affinity routing, made every SGI and PPI Non-secure Group 1 and
//! woken the redistributors (the EL3 test monitor's `gic` module; TF-A's GIC driver
//! likewise, except SGIs 8..15, which TF-A's QEMU port keeps Secure: the host uses SGIs
//! below 8). Neither enables Non-secure Group 1 at the distributor: the host does
//! ([`init_distributor`]), as a Normal-world OS does. ICC_SRE_EL2.SRE must be set (the
//! EL3s set it; [`enable_cpu_if`] makes sure).

use core::arch::asm;

/// The SGI that wakes CPU 1 for a mailbox request ([`crate::smp`]).
pub const WAKE_SGI: u32 = 1;
/// The SGI CPU 1 sends CPU 0 while a realm runs there ([`crate::realm_irq`]).
pub const TEST_SGI: u32 = 2;
/// The Non-secure EL2 physical timer's PPI (CNTHP, INTID 26: Arm BSA, the GIC PPI
/// assignment QEMU `virt` uses).
pub const CNTHP_PPI: u32 = 26;
/// ICC_IAR1_EL1's answer when nothing is pending.
pub const SPURIOUS: u32 = 1023;

/// The distributor of QEMU `virt`.
const GICD_BASE: usize = 0x0800_0000;
/// GICD_CTLR, Non-secure view (GICD_CTLR.DS = 0): EnableGrp1A [1] (= EnableGrp1NS),
/// ARE_NS [4], RWP [31].
const GICD_CTLR: usize = 0x0;
const CTLR_ENABLE_GRP1A: u32 = 1 << 1;
const CTLR_ARE_NS: u32 = 1 << 4;
const CTLR_RWP: u32 = 1 << 31;
/// First redistributor of QEMU `virt`; each is two 64 KiB frames (RD_base, SGI_base).
const GICR_BASE: usize = 0x080A_0000;
const GICR_STRIDE: usize = 0x2_0000;
const SGI_BASE: usize = 0x1_0000;
const GICR_TYPER: usize = 0x8;
const GICR_ISENABLER0: usize = SGI_BASE + 0x100;
const GICR_ICENABLER0: usize = SGI_BASE + 0x180;
const GICR_ICPENDR0: usize = SGI_BASE + 0x280;
const GICR_IPRIORITYR: usize = SGI_BASE + 0x400;
/// GICR_TYPER: Last [4]; Affinity_Value [63:32].
const TYPER_LAST: u64 = 1 << 4;
const MAX_REDISTRIBUTORS: usize = 64;

/// The priority the host gives its interrupts (a Non-secure write: the GIC keeps
/// `0x80 | value >> 1`, still above the priority mask 0xFF).
const PRIORITY: u8 = 0x80;

fn mpidr() -> u64 {
    let v: u64;
    // SAFETY: reading MPIDR_EL1 has no side effect.
    unsafe { asm!("mrs {}, mpidr_el1", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// This CPU's redistributor (RD_base): the one whose GICR_TYPER.Affinity_Value is
/// this CPU's MPIDR affinity.
fn redistributor() -> usize {
    let m = mpidr();
    let affinity = ((m >> 8 & 0xFF00_0000) | (m & 0xFF_FFFF)) as u32;
    for i in 0..MAX_REDISTRIBUTORS {
        let rd = GICR_BASE + i * GICR_STRIDE;
        // SAFETY: GICR_TYPER of a redistributor frame of QEMU `virt` (8-byte aligned
        // MMIO, Device memory with the MMU off); no Rust object lives there. The scan
        // stops at the frame marked Last.
        let typer = unsafe { core::ptr::read_volatile((rd + GICR_TYPER) as *const u64) };
        if (typer >> 32) as u32 == affinity {
            return rd;
        }
        if typer & TYPER_LAST != 0 {
            break;
        }
    }
    panic!("no GIC redistributor for MPIDR {m:#x}");
}

fn write32(addr: usize, v: u32) {
    // SAFETY: `addr` is a 32-bit register of the distributor or of this CPU's
    // redistributor (the offsets above, from `redistributor()`), MMIO no Rust object
    // lives in.
    unsafe { core::ptr::write_volatile(addr as *mut u32, v) }
}

fn read32(addr: usize) -> u32 {
    // SAFETY: as in `write32`.
    unsafe { core::ptr::read_volatile(addr as *const u32) }
}

/// The list registers this CPU's GIC virtual CPU interface implements:
/// ICH_VTR_EL2.ListRegs \[4:0\] + 1 (GICv3 architecture, IHI 0069, ICH_VTR_EL2).
pub fn list_registers() -> usize {
    let v: u64;
    // SAFETY: reading ICH_VTR_EL2 at EL2 has no side effect.
    unsafe { asm!("mrs {}, S3_4_C12_C11_1", out(reg) v, options(nomem, nostack, preserves_flags)) };
    (v & 0x1F) as usize + 1
}

/// Enables Non-secure Group 1 interrupts at the distributor (affinity routing on),
/// once, before any CPU waits for one.
pub fn init_distributor() {
    let ctlr = GICD_BASE + GICD_CTLR;
    write32(ctlr, read32(ctlr) | CTLR_ARE_NS | CTLR_ENABLE_GRP1A);
    while read32(ctlr) & CTLR_RWP != 0 {
        core::hint::spin_loop();
    }
}

/// Sets ICC_SRE_EL2.SRE (system register access to the CPU interface), the priority
/// mask ICC_PMR_EL1 = 0xFF and ICC_IGRPEN1_EL1 = 1: Group 1 interrupts of a priority
/// above the mask are signalled to this CPU (taken only where PSTATE.I allows; the host
/// keeps it masked, so they wake WFI and stay pending).
pub fn enable_cpu_if() {
    crate::asm::enable_icc_sre_el2();
    // SAFETY: the CPU interface's own registers; no effect on memory.
    unsafe {
        asm!(
            "msr S3_0_C4_C6_0, {pmr}",
            "msr S3_0_C12_C12_7, {en}",
            "isb",
            pmr = in(reg) 0xFFu64,
            en = in(reg) 1u64,
            options(nomem, nostack, preserves_flags),
        )
    };
}

/// ICC_IGRPEN1_EL1 = 0: no Group 1 interrupt is signalled to this CPU any more.
pub fn disable_cpu_if() {
    // SAFETY: as in `enable_cpu_if`.
    unsafe {
        asm!(
            "msr S3_0_C12_C12_7, xzr",
            "isb",
            options(nomem, nostack, preserves_flags)
        )
    };
}

/// Disables SGI or PPI `intid` at this CPU's redistributor and clears it if pending.
pub fn disable(intid: u32) {
    assert!(intid < 32);
    let rd = redistributor();
    write32(rd + GICR_ICENABLER0, 1 << intid);
    write32(rd + GICR_ICPENDR0, 1 << intid);
}

/// Enables SGI or PPI `intid` (below 32) at this CPU's redistributor, at the host's
/// priority.
pub fn enable(intid: u32) {
    assert!(intid < 32);
    let rd = redistributor();
    let prio = rd + GICR_IPRIORITYR + (intid as usize & !3);
    let shift = 8 * (intid % 4);
    let v = read32(prio) & !(0xFF << shift) | u32::from(PRIORITY) << shift;
    write32(prio, v);
    write32(rd + GICR_ISENABLER0, 1 << intid);
}

/// ICC_SGI1R_EL1: Non-secure Group 1 SGI `intid` to the CPU `cpu` (QEMU `virt`: Aff0 =
/// `cpu` below 16, Aff1..3 zero): TargetList [15:0], INTID [27:24]. Earlier stores are
/// made visible first (DSB), so the target sees what the SGI announces.
pub fn send_sgi(intid: u32, cpu: usize) {
    assert!(intid < 16 && cpu < 16);
    let v = u64::from(intid) << 24 | 1u64 << cpu;
    // SAFETY: generating an SGI has no effect on this program's memory.
    unsafe {
        asm!("dsb sy", "msr S3_0_C12_C11_5, {}", "isb", in(reg) v, options(nostack, preserves_flags))
    };
}

/// ICC_IAR1_EL1: acknowledges the highest-priority pending Group 1 interrupt; its INTID
/// or [`SPURIOUS`].
pub fn acknowledge() -> u32 {
    let v: u64;
    // SAFETY: acknowledging changes only the GIC's state; no effect on memory.
    unsafe { asm!("mrs {}, S3_0_C12_C12_0", out(reg) v, options(nomem, nostack, preserves_flags)) };
    (v & 0xFF_FFFF) as u32
}

/// ICC_EOIR1_EL1 = `intid` (EOImode 0: priority drop and deactivation).
pub fn end_of_interrupt(intid: u32) {
    // SAFETY: as for `acknowledge`.
    unsafe {
        asm!("msr S3_0_C12_C12_1, {}", "isb", in(reg) u64::from(intid), options(nomem, nostack, preserves_flags))
    };
}

/// WFI: waits until an interrupt is pending at this CPU (PSTATE.I masked: it is not
/// taken).
pub fn wait_for_interrupt() {
    // SAFETY: waiting has no effect on memory.
    unsafe { asm!("dsb sy", "wfi", options(nomem, nostack, preserves_flags)) };
}
