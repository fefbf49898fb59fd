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
    /// DRAM the RMM maps (Realm and Non-secure windows), as [base, end) ranges aligned to
    /// 1 GiB; the boot manifest says which parts of it the host may delegate.
    pub dram_windows: &'static [(u64, u64)],
    /// Device range mapped Device-nGnRE (the console), aligned to 2 MiB, below 1 GiB.
    pub devices: (u64, u64),
    /// The most granules the RMM tracks (sizes the granule metadata array).
    pub max_granules: usize,
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
    dram_windows: &[(0x4000_0000, 0x1_0000_0000)],
    devices: (0x0800_0000, 0x0A00_0000),
    // The 3 GiB TF-A describes.
    max_granules: (3 << 30) / 4096,
};

/// The Arm FVP Base RevC with RME, laid out as TF-A does for an RMM (`arm_def.h` with
/// ENABLE_RME): DRAM1 at 0x8000_0000 (2 GiB) ends with the L1 GPT (1 MiB), EL3's TZC
/// DRAM (3 MiB) and the shared buffer (4 KiB); the Realm carve-out (32 MiB - 4 KiB)
/// sits below them, at 0xFDC0_0000. DRAM2 is 0x8_8000_0000. The RMM uses UART3.
pub const FVP_BASE_REVC: Layout = Layout {
    name: "fvp-base-revc",
    dram_base: PhysAddr(0x8000_0000),
    rmm_base: PhysAddr(0xFDC0_0000),
    rmm_limit: PhysAddr(0xFFBF_F000),
    shared_buf: PhysAddr(0xFFBF_F000),
    ns_dram_base: PhysAddr(0x8000_0000),
    uart: PhysAddr(0x1C0C_0000),
    max_cpus: 16,
    dram_windows: &[(0x8000_0000, 0x1_0000_0000), (0x8_8000_0000, 0x9_0000_0000)],
    devices: (0x1C00_0000, 0x1C20_0000),
    // DRAM1 less the 64 MiB secure carve-out, and 2 GiB of DRAM2.
    max_granules: ((2 << 30) - (64 << 20) + (2 << 30)) / 4096,
};

/// The platform the firmware is built for: `fvp` feature for the FVP, QEMU otherwise.
#[cfg(feature = "fvp")]
pub const PLATFORM: Layout = FVP_BASE_REVC;
/// The platform the firmware is built for: `fvp` feature for the FVP, QEMU otherwise.
#[cfg(not(feature = "fvp"))]
pub const PLATFORM: Layout = QEMU_VIRT;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_are_consistent() {
        for l in [QEMU_VIRT, FVP_BASE_REVC] {
            assert!(l.rmm_base.is_granule_aligned() && l.shared_buf.is_granule_aligned());
            assert!(
                l.rmm_base < l.rmm_limit && l.rmm_limit <= l.shared_buf,
                "{}",
                l.name
            );
            let in_dram = |pa: u64| l.dram_windows.iter().any(|&(b, e)| b <= pa && pa < e);
            assert!(
                in_dram(l.rmm_base.0) && in_dram(l.shared_buf.0),
                "{}",
                l.name
            );
            for &(b, e) in l.dram_windows {
                assert!(
                    b % (1 << 30) == 0 && e % (1 << 30) == 0 && b < e,
                    "{}",
                    l.name
                );
            }
            assert!(l.devices.1 <= 1 << 30 && l.devices.0 < l.devices.1);
            assert!(
                l.devices.0 <= l.uart.0 && l.uart.0 < l.devices.1,
                "{}",
                l.name
            );
        }
        assert_eq!(
            FVP_BASE_REVC.rmm_limit.0 - FVP_BASE_REVC.rmm_base.0,
            0x200_0000 - 0x1000
        );
    }
}
