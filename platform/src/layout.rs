//! Physical memory layouts of the supported platforms.

use crate::addr::PhysAddr;

/// The memory layout and limits of one platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Platform name, for the console banner.
    pub name: &'static str,
    /// Base of DRAM.
    pub dram_base: PhysAddr,
    /// Where EL3 loads `rmm.img` (entry at offset 0), start of the Realm carve-out.
    pub rmm_base: PhysAddr,
    /// End (exclusive) of the carve-out the RMM image may occupy.
    pub rmm_limit: PhysAddr,
    /// The RMM-EL3 shared buffer (one granule, Realm PAS).
    pub shared_buf: PhysAddr,
    /// First granule of Non-secure DRAM usable by the host.
    pub ns_dram_base: PhysAddr,
    /// Console UART (PL011).
    pub uart: PhysAddr,
    /// The most CPUs the RMM supports on this platform.
    pub max_cpus: usize,
}

/// QEMU `virt` with RME, laid out as TF-A does for an RMM.
pub const QEMU_VIRT: Layout = Layout {
    name: "qemu-virt",
    dram_base: PhysAddr(0x4000_0000),
    rmm_base: PhysAddr(0x4010_0000),
    rmm_limit: PhysAddr(0x418F_F000),
    shared_buf: PhysAddr(0x418F_F000),
    ns_dram_base: PhysAddr(0x4190_0000),
    uart: PhysAddr(0x0900_0000),
    max_cpus: 32,
};
