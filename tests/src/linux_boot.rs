//! The contract between `cargo xtask linux` and the Normal-world test host's VMM
//! (`tests/qemu/ns-host/src/vmm`): where the Linux kernel, its initramfs and device tree
//! are in Non-secure memory, where they go in the realm, and the realm's device map.
//!
//! The xtask lays everything out (it also writes the device tree, which must agree with
//! the devices the VMM emulates) and describes it in a [`LinuxBoot`] block that QEMU's
//! loader puts at [`LINUX_BOOT_ADDR`]; the test host finds the block there (magic
//! [`LINUX_BOOT_MAGIC`]) and boots the realm instead of running the conformance suite.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Where the block is loaded: Non-secure DRAM, the page below the test host's run
/// parameters.
pub const LINUX_BOOT_ADDR: u64 = 0x5FFF_E000;
/// The block's first eight bytes.
pub const LINUX_BOOT_MAGIC: u64 = u64::from_le_bytes(*b"RMMLINUX");

/// Where the xtask stages the images in Non-secure memory (QEMU's loader), below the
/// realm payload's window at 0x5F00_0000: 464 MiB.
pub const STAGING_BASE: u64 = 0x4200_0000;
/// End of the staging area.
pub const STAGING_END: u64 = 0x5F00_0000;

/// The realm's IPA width: a 40-bit realm, RTTs from level 1 (two concatenated tables);
/// Linux takes the width from RSI_REALM_CONFIG and makes bit 39 its shared bit.
pub const IPA_BITS: u8 = 40;
/// The top bit of the IPA space: set, an unprotected (shared) IPA.
pub const SHARED_BIT: u64 = 1 << (IPA_BITS - 1);

/// Base of the realm's RAM (as QEMU `virt` has it).
pub const RAM_BASE: u64 = 0x4000_0000;
/// The GICv3 distributor's IPA (64 KiB), as in QEMU `virt`. Linux maps device memory
/// shared: its accesses reach the unprotected alias `| SHARED_BIT`.
pub const GICD_BASE: u64 = 0x0800_0000;
/// Size of the distributor's frame.
pub const GICD_SIZE: u64 = 0x1_0000;
/// The first redistributor (RD_base and SGI_base, 128 KiB each, one per vCPU).
pub const GICR_BASE: u64 = 0x080A_0000;
/// Size of one redistributor (GICv3: two 64 KiB frames).
pub const GICR_STRIDE: u64 = 0x2_0000;
/// The PL011 UART.
pub const UART_BASE: u64 = 0x0900_0000;
/// Size of the UART's frame.
pub const UART_SIZE: u64 = 0x1000;
/// The UART's interrupt: SPI 1 (INTID 33).
pub const UART_SPI: u32 = 1;
/// The PL011's reference clock (a fixed clock in the device tree).
pub const UART_CLOCK_HZ: u32 = 24_000_000;

/// The most vCPUs the VMM runs (each a REC, all on CPU 0).
pub const MAX_VCPUS: u32 = 4;

/// An image in Non-secure memory and where it goes in the realm.
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct Blob {
    /// Physical address in Non-secure memory (4 KiB aligned).
    pub ns_pa: u64,
    /// Size in bytes.
    pub size: u64,
    /// IPA in the realm (4 KiB aligned).
    pub ipa: u64,
}

/// The boot block.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct LinuxBoot {
    /// [`LINUX_BOOT_MAGIC`].
    pub magic: u64,
    /// Number of vCPUs (RECs), 1..=[`MAX_VCPUS`].
    pub vcpus: u64,
    /// Size of the realm's RAM from [`RAM_BASE`].
    pub ram_size: u64,
    /// The kernel `Image` (arm64 boot protocol: at a 2 MiB aligned RAM address).
    pub kernel: Blob,
    /// The kernel's effective size from its header (`image_size`: text to the end of
    /// `.bss`); the RAM it occupies beyond the file is zero-filled on demand.
    pub kernel_image_size: u64,
    /// The initramfs (newc cpio), described in the device tree's `/chosen`.
    pub initrd: Blob,
    /// The device tree blob: REC 0 starts at the kernel with x0 = its IPA.
    pub dtb: Blob,
    /// Flags: [`FLAG_VERBOSE`].
    pub flags: u64,
}

/// Print every REC exit (slow; for debugging).
pub const FLAG_VERBOSE: u64 = 1;

impl LinuxBoot {
    /// The block's checks: magic, vCPU count, and every image inside the staging area
    /// and inside the realm's RAM.
    pub fn valid(&self) -> bool {
        let ram = RAM_BASE..RAM_BASE + self.ram_size;
        let blob_ok = |b: &Blob| {
            b.size != 0
                && b.ns_pa.is_multiple_of(4096)
                && b.ipa.is_multiple_of(4096)
                && b.ns_pa >= STAGING_BASE
                && b.ns_pa
                    .checked_add(b.size)
                    .is_some_and(|e| e <= STAGING_END)
                && ram.contains(&b.ipa)
                && b.ipa.checked_add(b.size).is_some_and(|e| e <= ram.end)
        };
        self.magic == LINUX_BOOT_MAGIC
            && (1..=u64::from(MAX_VCPUS)).contains(&self.vcpus)
            && self.ram_size.is_multiple_of(0x20_0000)
            && self.ram_size != 0
            && blob_ok(&self.kernel)
            && blob_ok(&self.initrd)
            && blob_ok(&self.dtb)
            && self.kernel.ipa.is_multiple_of(0x20_0000)
    }
}

/// The marker line `/init` prints once userspace runs; the xtask passes only if it
/// appears (then the realm must power off).
pub const INIT_MARKER: &str = "RMM-LINUX-INIT:";
