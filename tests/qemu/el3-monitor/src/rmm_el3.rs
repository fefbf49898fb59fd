//! The RMM-EL3 interface as TF-A implements it for QEMU `virt` (TF-A v2.12/v2.13: RMM-EL3
//! interface 0.4/0.6, boot manifest 0.3), written out here from TF-A's
//! `include/services/rmmd_svc.h`, `include/services/rmm_core_manifest.h` and
//! `plat/qemu/common/qemu_common.c`.
//!
//! This is the monitor's own statement of those facts, deliberately independent of the
//! RMM's `platform` crate: were the RMM to misread the interface, sharing its constants
//! would make the monitor misread it the same way and the run would still pass. With two
//! statements a disagreement fails the run, as it would under TF-A.

use crate::layout::{DRAM_BASE, DRAM_END, GRANULE_SIZE, UART0_BASE};

/// `RMM_GTSI_DELEGATE` (`SMC64_RMMD_EL3_FID(0)`): x1 = PA, Non-secure -> Realm.
pub const RMM_GTSI_DELEGATE: u32 = 0xC400_01B0;
/// `RMM_GTSI_UNDELEGATE` (`SMC64_RMMD_EL3_FID(1)`): x1 = PA, Realm -> Non-secure.
pub const RMM_GTSI_UNDELEGATE: u32 = 0xC400_01B1;
/// `RMM_BOOT_COMPLETE` (`SMC64_RMMD_EL3_FID(0x1F)`, the last of 0x1B0..=0x1CF): x1 =
/// boot status.
pub const RMM_BOOT_COMPLETE: u32 = 0xC400_01CF;
/// `RMM_RMI_REQ_COMPLETE` (`SMC64_RMI_FID(0x3F)`, the last of the RMI range): RMM
/// x1..=x5 become the Normal world's x0..=x4.
pub const RMM_RMI_REQ_COMPLETE: u32 = 0xC400_018F;

/// The first and last function numbers of the RMI range (`RMI_FNUM_MIN_VALUE`,
/// `RMI_FNUM_MAX_VALUE`) as SMC64 fast calls of the standard secure service.
pub const RMI_FIRST: u32 = 0xC400_0150;
/// See [`RMI_FIRST`].
pub const RMI_LAST: u32 = 0xC400_018F;

/// The interface version passed in x1 at cold boot: 0.4 (TF-A v2.12), encoded as
/// `RMM_EL3_IFC_VERSION`: major in bits [30:16], minor in bits [15:0].
pub const IFC_VERSION: u64 = 0x0000_0004;

/// Results of RMM -> EL3 calls, in x0 (`E_RMM_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i64)]
pub enum El3Status {
    /// `E_RMM_OK`.
    Ok = 0,
    /// `E_RMM_UNK`: unknown function.
    Unk = -1,
    /// `E_RMM_BAD_ADDR`.
    BadAddr = -2,
    /// `E_RMM_BAD_PAS`.
    BadPas = -3,
}

impl El3Status {
    /// The value in x0.
    pub const fn code(self) -> u64 {
        self as i64 as u64
    }
}

/// `RMM_BOOT_COMPLETE` x1 codes (`E_RMM_BOOT_*`), with their names.
pub const BOOT_ERRORS: [(i64, &str); 7] = [
    (-1, "E_RMM_BOOT_UNKNOWN"),
    (-2, "E_RMM_BOOT_VERSION_MISMATCH"),
    (-3, "E_RMM_BOOT_CPUS_OUT_OF_RANGE"),
    (-4, "E_RMM_BOOT_CPU_ID_OUT_OF_RANGE"),
    (-5, "E_RMM_BOOT_INVALID_SHARED_BUFFER"),
    (-6, "E_RMM_BOOT_MANIFEST_VERSION_NOT_SUPPORTED"),
    (-7, "E_RMM_BOOT_MANIFEST_DATA_ERROR"),
];

/// The name of an `RMM_BOOT_COMPLETE` status.
pub fn boot_error_name(status: u64) -> &'static str {
    BOOT_ERRORS
        .iter()
        .find(|(code, _)| *code as u64 == status)
        .map_or("not a boot error code", |(_, name)| name)
}

/// Boot manifest version 0.3 (`RMMD_MANIFEST_VERSION`: major [30:16], minor [15:0]).
const MANIFEST_VERSION: u64 = 0x0000_0003;

/// Byte offsets of boot manifest 0.3 as TF-A lays it out on QEMU (the table in
/// `plat_rmmd_load_manifest`): a 64-byte header, the DRAM bank array right after it,
/// the console array after the banks.
mod offset {
    pub const VERSION: usize = 0; // u32, then u32 padding
    pub const PLAT_DATA: usize = 8;
    pub const DRAM_NUM: usize = 16;
    pub const DRAM_PTR: usize = 24;
    pub const DRAM_CHECKSUM: usize = 32;
    pub const CONSOLE_NUM: usize = 40;
    pub const CONSOLE_PTR: usize = 48;
    pub const CONSOLE_CHECKSUM: usize = 56;
    /// bank[0]: base, size.
    pub const BANK0: usize = 64;
    /// console[0]: base, map_pages, name[8], clk_in_hz, baud_rate, flags.
    pub const CONSOLE0: usize = 80;
    /// End of console[0].
    pub const END: usize = 128;
}

fn put(page: &mut [u8], off: usize, v: u64) {
    page[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

fn get(page: &[u8], off: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&page[off..off + 8]);
    u64::from_le_bytes(b)
}

/// The checksum of a `{num, ptr, checksum}` list: `num + ptr + (the array's 64-bit
/// words) + checksum == 0` modulo 2^64, every word counted (TF-A v2.13 on QEMU, and
/// TF-A's FVP port).
fn checksum(page: &[u8], num: u64, ptr: u64, array: core::ops::Range<usize>) -> u64 {
    let mut sum = num.wrapping_add(ptr);
    for off in array.step_by(8) {
        sum = sum.wrapping_add(get(page, off));
    }
    sum.wrapping_neg()
}

/// Writes the boot manifest TF-A gives an RMM on QEMU `virt` into `page`, which EL3 then
/// places at physical address `page_pa` (the shared page): one DRAM bank (all of DRAM,
/// `NS_DRAM0_BASE`, `NS_DRAM0_SIZE`) and UART0 as a PL011 already set up by EL3
/// (`clk_in_hz` = 1, 115200 baud, one page).
pub fn write_boot_manifest(page: &mut [u8; GRANULE_SIZE as usize], page_pa: u64) {
    page.fill(0);
    page[offset::VERSION..offset::VERSION + 4]
        .copy_from_slice(&(MANIFEST_VERSION as u32).to_le_bytes());
    put(page, offset::PLAT_DATA, 0);

    let bank_ptr = page_pa + offset::BANK0 as u64;
    put(page, offset::BANK0, DRAM_BASE);
    put(page, offset::BANK0 + 8, DRAM_END - DRAM_BASE);
    put(page, offset::DRAM_NUM, 1);
    put(page, offset::DRAM_PTR, bank_ptr);
    let sum = checksum(page, 1, bank_ptr, offset::BANK0..offset::CONSOLE0);
    put(page, offset::DRAM_CHECKSUM, sum);

    let console_ptr = page_pa + offset::CONSOLE0 as u64;
    put(page, offset::CONSOLE0, UART0_BASE as u64);
    put(page, offset::CONSOLE0 + 8, 1);
    page[offset::CONSOLE0 + 16..offset::CONSOLE0 + 21].copy_from_slice(b"pl011");
    put(page, offset::CONSOLE0 + 24, 1);
    put(page, offset::CONSOLE0 + 32, 115_200);
    put(page, offset::CONSOLE0 + 40, 0);
    put(page, offset::CONSOLE_NUM, 1);
    put(page, offset::CONSOLE_PTR, console_ptr);
    let sum = checksum(page, 1, console_ptr, offset::CONSOLE0..offset::END);
    put(page, offset::CONSOLE_CHECKSUM, sum);
}
