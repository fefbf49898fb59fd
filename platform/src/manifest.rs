//! The boot manifest EL3 writes at the start of the RMM's shared buffer before cold boot
//! (RMM-EL3 interface, boot manifest version 0.3; later 0.x versions only append lists,
//! which this RMM ignores).
//!
//! Layout (all fields little-endian):
//! | offset | field |
//! |---|---|
//! | 0x00 | version (u32: major [30:16], minor [15:0]), padding (u32) |
//! | 0x08 | plat_data (PA) |
//! | 0x10 | NS DRAM banks: {num, ptr, checksum} |
//! | 0x28 | consoles: {num, ptr, checksum} |
//!
//! Each list's checksum makes `num + ptr + (sum of the array's 64-bit words) + checksum`
//! zero modulo 2^64.
//!
//! TF-A up to v2.12 (and so Debian's 2.12.1) writes the console list checksum on QEMU
//! without the console's name word: its `plat_rmmd_load_manifest` sums num, ptr, base,
//! map_pages, clk_in_hz and baud_rate (flags is always zero there). TF-A v2.13 sums
//! every word. The RMM accepts both sums for the console list (and says which one held,
//! [`ConsoleChecksum`]), and only the complete sum for the DRAM list.

use core::mem::size_of;

use rmi_abi::AbiVersion;
use static_assertions::const_assert_eq;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::addr::GRANULE_SIZE;
use crate::el3::BootError;

/// The oldest manifest version the RMM understands: 0.3.
pub const MANIFEST_VERSION: AbiVersion = AbiVersion::new(0, 3);
/// The most DRAM banks the RMM accepts.
pub const MAX_DRAM_BANKS: usize = 8;
/// The most consoles the RMM accepts.
pub const MAX_CONSOLES: usize = 4;

/// A `{num, ptr, checksum}` list descriptor.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct ListHeader {
    /// Number of array entries.
    pub num: u64,
    /// Physical address of the array.
    pub ptr: u64,
    /// Checksum over `num`, `ptr` and the array.
    pub checksum: u64,
}

/// The fixed part of the manifest (version 0.3).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct ManifestHeader {
    /// Manifest version.
    pub version: u32,
    /// RES0.
    pub padding: u32,
    /// Platform-specific data (PA), unused by this RMM.
    pub plat_data: u64,
    /// Non-secure DRAM banks.
    pub dram: ListHeader,
    /// Consoles.
    pub consoles: ListHeader,
}

/// A Non-secure DRAM bank.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DramBank {
    /// Base physical address.
    pub base: u64,
    /// Size in bytes.
    pub size: u64,
}

/// A console the RMM may use.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct ConsoleInfo {
    /// Base physical address of the UART.
    pub base: u64,
    /// Pages to map.
    pub map_pages: u64,
    /// NUL-padded name, e.g. `pl011`.
    pub name: [u8; 8],
    /// UART input clock; 1 means "already configured, do not reprogram the divisor".
    pub clk_in_hz: u64,
    /// Baud rate.
    pub baud_rate: u64,
    /// Flags (none defined).
    pub flags: u64,
}

const_assert_eq!(size_of::<ListHeader>(), 24);
const_assert_eq!(size_of::<ManifestHeader>(), 0x40);
const_assert_eq!(core::mem::offset_of!(ManifestHeader, plat_data), 0x08);
const_assert_eq!(core::mem::offset_of!(ManifestHeader, dram), 0x10);
const_assert_eq!(core::mem::offset_of!(ManifestHeader, consoles), 0x28);
const_assert_eq!(size_of::<DramBank>(), 16);
const_assert_eq!(size_of::<ConsoleInfo>(), 48);
const_assert_eq!(core::mem::offset_of!(ConsoleInfo, name), 0x10);
const_assert_eq!(core::mem::offset_of!(ConsoleInfo, flags), 0x28);

/// Offset of [`ConsoleInfo::name`] in 64-bit words.
const CONSOLE_NAME_WORD: usize = core::mem::offset_of!(ConsoleInfo, name) / 8;

/// Which sum the console list's checksum completes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsoleChecksum {
    /// Every word of the array, as the manifest defines it.
    AllWords,
    /// Every word except each console's name: the sum TF-A up to v2.12 writes on QEMU,
    /// an EL3 bug fixed in TF-A v2.13.
    NameExcluded,
}

/// A validated manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The version EL3 wrote.
    pub version: AbiVersion,
    /// DRAM banks, sorted and non-overlapping; `dram[..num_dram]` are valid.
    pub dram: [DramBank; MAX_DRAM_BANKS],
    /// Number of DRAM banks.
    pub num_dram: usize,
    /// Consoles; `consoles[..num_consoles]` are valid.
    pub consoles: [ConsoleInfo; MAX_CONSOLES],
    /// Number of consoles.
    pub num_consoles: usize,
}

impl Manifest {
    /// The DRAM banks.
    pub fn dram_banks(&self) -> &[DramBank] {
        &self.dram[..self.num_dram]
    }

    /// The consoles.
    pub fn console_list(&self) -> &[ConsoleInfo] {
        &self.consoles[..self.num_consoles]
    }
}

/// The array's 64-bit words (little-endian).
fn words(bytes: &[u8]) -> impl Iterator<Item = u64> + '_ {
    bytes
        .chunks_exact(8)
        .map(|w| u64::from_le_bytes(w.try_into().unwrap_or([0; 8])))
}

/// Sum making a list's checksum valid.
fn list_sum(num: u64, ptr: u64, bytes: &[u8]) -> u64 {
    words(bytes).fold(num.wrapping_add(ptr), u64::wrapping_add)
}

/// The console list's sum as TF-A up to v2.12 computes it: each console's name word left
/// out.
fn console_sum_without_names(num: u64, ptr: u64, bytes: &[u8]) -> u64 {
    bytes
        .chunks_exact(size_of::<ConsoleInfo>())
        .flat_map(|c| {
            words(c)
                .enumerate()
                .filter(|&(i, _)| i != CONSOLE_NAME_WORD)
                .map(|(_, w)| w)
        })
        .fold(num.wrapping_add(ptr), u64::wrapping_add)
}

/// The checksum value EL3 writes for a list.
pub fn list_checksum(num: u64, ptr: u64, array: &[u8]) -> u64 {
    list_sum(num, ptr, array).wrapping_neg()
}

/// Locates a list's array inside the shared buffer `buf` (at physical address `buf_pa`);
/// its checksum is not checked yet.
fn list_bytes<'a>(
    buf: &'a [u8; GRANULE_SIZE],
    buf_pa: u64,
    list: &ListHeader,
    elem_size: usize,
    max: usize,
) -> Result<&'a [u8], BootError> {
    if list.num as usize > max || list.num > max as u64 {
        return Err(BootError::ManifestDataError);
    }
    let len = list.num as usize * elem_size;
    let off = list
        .ptr
        .checked_sub(buf_pa)
        .ok_or(BootError::ManifestDataError)?;
    if off % 8 != 0 || off > GRANULE_SIZE as u64 || GRANULE_SIZE - (off as usize) < len {
        return Err(BootError::ManifestDataError);
    }
    Ok(&buf[off as usize..off as usize + len])
}

/// Whether `sum + checksum` is zero modulo 2^64.
fn completes(sum: u64, list: &ListHeader) -> bool {
    sum.wrapping_add(list.checksum) == 0
}

/// Parses and validates the manifest held in `buf`, a copy of the shared buffer at
/// physical address `buf_pa`. Array pointers must point inside the buffer. DRAM banks
/// must be non-empty, granule aligned, sorted, non-overlapping and below `2^pa_bits`.
/// A console list checksum without the console names is accepted with a warning on the
/// log that names the EL3 bug ([`ConsoleChecksum::NameExcluded`]).
pub fn parse(buf: &[u8; GRANULE_SIZE], buf_pa: u64, pa_bits: u32) -> Result<Manifest, BootError> {
    let (m, console_checksum) = parse_checked(buf, buf_pa, pa_bits)?;
    if console_checksum == ConsoleChecksum::NameExcluded {
        log::warn!(
            "boot manifest: the console list checksum leaves out the console name \
             (EL3 bug of TF-A up to v2.12 on QEMU, fixed in v2.13); accepted"
        );
    }
    Ok(m)
}

/// [`parse`], also saying which sum the console list's checksum completes.
pub fn parse_checked(
    buf: &[u8; GRANULE_SIZE],
    buf_pa: u64,
    pa_bits: u32,
) -> Result<(Manifest, ConsoleChecksum), BootError> {
    let (hdr, _) =
        ManifestHeader::read_from_prefix(buf).map_err(|_| BootError::ManifestDataError)?;
    let version = AbiVersion::decode(hdr.version as u64)
        .map_err(|_| BootError::ManifestVersionNotSupported)?;
    if version.major != MANIFEST_VERSION.major || version.minor < MANIFEST_VERSION.minor {
        return Err(BootError::ManifestVersionNotSupported);
    }

    let mut m = Manifest {
        version,
        dram: [DramBank::default(); MAX_DRAM_BANKS],
        num_dram: 0,
        consoles: [ConsoleInfo::default(); MAX_CONSOLES],
        num_consoles: 0,
    };

    let bank_bytes = list_bytes(
        buf,
        buf_pa,
        &hdr.dram,
        size_of::<DramBank>(),
        MAX_DRAM_BANKS,
    )?;
    if bank_bytes.is_empty()
        || !completes(list_sum(hdr.dram.num, hdr.dram.ptr, bank_bytes), &hdr.dram)
    {
        return Err(BootError::ManifestDataError);
    }
    let pa_limit = 1u128 << pa_bits;
    let mut prev_end = 0u128;
    for (i, chunk) in bank_bytes.chunks_exact(size_of::<DramBank>()).enumerate() {
        let bank = DramBank::read_from_bytes(chunk).map_err(|_| BootError::ManifestDataError)?;
        let g = GRANULE_SIZE as u64 - 1;
        let end = bank.base as u128 + bank.size as u128;
        if bank.size == 0 || bank.base == 0 || bank.base & g != 0 || bank.size & g != 0 {
            return Err(BootError::ManifestDataError);
        }
        if (bank.base as u128) < prev_end || end > pa_limit {
            return Err(BootError::ManifestDataError);
        }
        prev_end = end;
        m.dram[i] = bank;
    }
    m.num_dram = bank_bytes.len() / size_of::<DramBank>();

    let console_bytes = list_bytes(
        buf,
        buf_pa,
        &hdr.consoles,
        size_of::<ConsoleInfo>(),
        MAX_CONSOLES,
    )?;
    let (num, ptr) = (hdr.consoles.num, hdr.consoles.ptr);
    let console_checksum = if completes(list_sum(num, ptr, console_bytes), &hdr.consoles) {
        ConsoleChecksum::AllWords
    } else if completes(
        console_sum_without_names(num, ptr, console_bytes),
        &hdr.consoles,
    ) {
        ConsoleChecksum::NameExcluded
    } else {
        return Err(BootError::ManifestDataError);
    };
    for (i, chunk) in console_bytes
        .chunks_exact(size_of::<ConsoleInfo>())
        .enumerate()
    {
        m.consoles[i] =
            ConsoleInfo::read_from_bytes(chunk).map_err(|_| BootError::ManifestDataError)?;
    }
    m.num_consoles = console_bytes.len() / size_of::<ConsoleInfo>();
    Ok((m, console_checksum))
}

/// Writes a version 0.3 manifest into `buf` (at physical address `buf_pa`) the way EL3
/// does: header at offset 0, DRAM banks at 0x40, consoles after them, checksums filled.
/// Used by the simulated EL3 and the test monitor.
///
/// # Panics
/// If the lists do not fit the limits above.
pub fn write(
    buf: &mut [u8; GRANULE_SIZE],
    buf_pa: u64,
    banks: &[DramBank],
    consoles: &[ConsoleInfo],
) {
    assert!(banks.len() <= MAX_DRAM_BANKS && consoles.len() <= MAX_CONSOLES);
    let bank_off = size_of::<ManifestHeader>();
    let console_off = bank_off + size_of_val(banks);
    let bank_bytes = banks.as_bytes();
    let console_bytes = consoles.as_bytes();
    buf[bank_off..console_off].copy_from_slice(bank_bytes);
    buf[console_off..console_off + console_bytes.len()].copy_from_slice(console_bytes);
    let list = |num: usize, off: usize, bytes: &[u8]| {
        let ptr = buf_pa + off as u64;
        ListHeader {
            num: num as u64,
            ptr,
            checksum: list_checksum(num as u64, ptr, bytes),
        }
    };
    let hdr = ManifestHeader {
        version: MANIFEST_VERSION.encode() as u32,
        padding: 0,
        plat_data: 0,
        dram: list(banks.len(), bank_off, bank_bytes),
        consoles: list(consoles.len(), console_off, console_bytes),
    };
    buf[..bank_off].copy_from_slice(hdr.as_bytes());
}

/// The console entry TF-A describes on QEMU `virt`: PL011 at 0x0900_0000, already
/// configured (clk_in_hz = 1), 115200 baud.
pub const QEMU_PL011: ConsoleInfo = ConsoleInfo {
    base: 0x0900_0000,
    map_pages: 1,
    name: *b"pl011\0\0\0",
    clk_in_hz: 1,
    baud_rate: 115_200,
    flags: 0,
};

#[cfg(test)]
mod tests {
    use super::*;

    const PA: u64 = 0x418F_F000;
    const BANK: DramBank = DramBank {
        base: 0x4000_0000,
        size: 0xC000_0000,
    };

    fn good() -> [u8; GRANULE_SIZE] {
        let mut b = [0u8; GRANULE_SIZE];
        write(&mut b, PA, &[BANK], &[QEMU_PL011]);
        b
    }

    fn hdr(b: &[u8; GRANULE_SIZE]) -> ManifestHeader {
        ManifestHeader::read_from_prefix(b).unwrap().0
    }

    fn set_hdr(b: &mut [u8; GRANULE_SIZE], h: ManifestHeader) {
        b[..0x40].copy_from_slice(h.as_bytes());
    }

    #[test]
    fn writes_the_layout_tf_a_uses_on_qemu() {
        let b = good();
        let h = hdr(&b);
        assert_eq!(h.version, 3);
        assert_eq!(h.dram.num, 1);
        assert_eq!(h.dram.ptr, 0x418F_F040);
        assert_eq!(h.consoles.num, 1);
        assert_eq!(h.consoles.ptr, 0x418F_F050);
        assert_eq!(&b[0x40..0x48], &0x4000_0000u64.to_le_bytes());
        assert_eq!(&b[0x48..0x50], &0xC000_0000u64.to_le_bytes());
        assert_eq!(&b[0x60..0x65], b"pl011");
        // Checksum rule: num + ptr + words + checksum == 0.
        let s = 1u64
            .wrapping_add(0x418F_F040)
            .wrapping_add(0x4000_0000)
            .wrapping_add(0xC000_0000);
        assert_eq!(s.wrapping_add(h.dram.checksum), 0);
    }

    #[test]
    fn parses_a_good_manifest() {
        let m = parse(&good(), PA, 40).unwrap();
        assert_eq!(m.version, AbiVersion::new(0, 3));
        assert_eq!(m.dram_banks(), &[BANK]);
        assert_eq!(m.console_list(), &[QEMU_PL011]);
    }

    #[test]
    fn later_minor_versions_are_accepted_and_other_majors_rejected() {
        let mut b = good();
        let h = hdr(&b);
        set_hdr(&mut b, ManifestHeader { version: 5, ..h });
        assert_eq!(parse(&b, PA, 40).unwrap().version, AbiVersion::new(0, 5));
        for v in [2u32, 0x1_0003, 0x8000_0003] {
            let h = hdr(&b);
            set_hdr(&mut b, ManifestHeader { version: v, ..h });
            assert_eq!(
                parse(&b, PA, 40),
                Err(BootError::ManifestVersionNotSupported),
                "{v:#x}"
            );
        }
    }

    /// The console list checksum TF-A up to v2.12 writes on QEMU (`plat_rmmd_load_manifest`
    /// in `plat/qemu/common/qemu_common.c`): num + ptr + base + map_pages + clk_in_hz +
    /// baud_rate, negated; the name word is left out (flags, also left out, is always
    /// zero there). Fixed in v2.13 ("fix(qemu): fix RMM manifest checksum calculation").
    fn tf_a_2_12_console_checksum(ptr: u64, c: &ConsoleInfo) -> u64 {
        1u64.wrapping_add(ptr)
            .wrapping_add(c.base)
            .wrapping_add(c.map_pages)
            .wrapping_add(c.clk_in_hz)
            .wrapping_add(c.baud_rate)
            .wrapping_neg()
    }

    #[test]
    fn the_correct_console_checksum_is_accepted_as_such() {
        let (_, rule) = parse_checked(&good(), PA, 40).unwrap();
        assert_eq!(rule, ConsoleChecksum::AllWords);
    }

    #[test]
    fn tf_a_2_12_console_checksum_without_the_name_is_accepted_and_flagged() {
        let mut b = good();
        let mut h = hdr(&b);
        h.consoles.checksum = tf_a_2_12_console_checksum(h.consoles.ptr, &QEMU_PL011);
        assert_ne!(h.consoles.checksum, hdr(&good()).consoles.checksum);
        set_hdr(&mut b, h);
        let (m, rule) = parse_checked(&b, PA, 40).unwrap();
        assert_eq!(rule, ConsoleChecksum::NameExcluded);
        assert_eq!(m.console_list(), &[QEMU_PL011]);
        assert_eq!(m.dram_banks(), &[BANK]);
    }

    #[test]
    fn console_checksums_matching_neither_rule_are_rejected() {
        let good_sum = hdr(&good()).consoles.checksum;
        let tf_a_sum = tf_a_2_12_console_checksum(0x418F_F050, &QEMU_PL011);
        for wrong in [good_sum.wrapping_add(1), tf_a_sum.wrapping_sub(1), 0] {
            let mut b = good();
            let h = hdr(&b);
            set_hdr(
                &mut b,
                ManifestHeader {
                    consoles: ListHeader {
                        checksum: wrong,
                        ..h.consoles
                    },
                    ..h
                },
            );
            assert_eq!(
                parse(&b, PA, 40),
                Err(BootError::ManifestDataError),
                "{wrong:#x}"
            );
        }
        // The lenient rule leaves out the name word only: a changed flags word (zero in
        // every manifest TF-A 2.12 writes) still breaks it.
        let mut b = good();
        let mut h = hdr(&b);
        h.consoles.checksum = tf_a_2_12_console_checksum(h.consoles.ptr, &QEMU_PL011);
        set_hdr(&mut b, h);
        b[0x50 + 0x28] = 1;
        assert_eq!(parse(&b, PA, 40), Err(BootError::ManifestDataError));
        // And the DRAM list gets no such leniency.
        let mut b = good();
        let mut h = hdr(&b);
        h.dram.checksum = h.dram.checksum.wrapping_add(0x4000_0000);
        set_hdr(&mut b, h);
        assert_eq!(parse(&b, PA, 40), Err(BootError::ManifestDataError));
    }

    #[test]
    fn bad_checksums_are_rejected() {
        let mut b = good();
        b[0x48] ^= 0x10; // bank size changed, checksum not updated
        assert_eq!(parse(&b, PA, 40), Err(BootError::ManifestDataError));
        let mut b = good();
        b[0x60] = b'P'; // console name is part of the sum
        assert_eq!(parse(&b, PA, 40), Err(BootError::ManifestDataError));
    }

    #[test]
    fn bank_rules() {
        let cases: &[&[DramBank]] = &[
            &[],
            &[DramBank {
                base: 0x4000_0800,
                size: 0x1000,
            }],
            &[DramBank {
                base: 0x4000_0000,
                size: 0x1800,
            }],
            &[DramBank {
                base: 0x4000_0000,
                size: 0,
            }],
            &[DramBank {
                base: 0,
                size: 0x1000,
            }],
            // overlapping
            &[
                DramBank {
                    base: 0x4000_0000,
                    size: 0x2000,
                },
                DramBank {
                    base: 0x4000_1000,
                    size: 0x1000,
                },
            ],
            // unsorted
            &[
                DramBank {
                    base: 0x8000_0000,
                    size: 0x1000,
                },
                DramBank {
                    base: 0x4000_0000,
                    size: 0x1000,
                },
            ],
            // beyond a 40-bit PA space
            &[DramBank {
                base: 0xFF_FFFF_F000,
                size: 0x2000,
            }],
        ];
        for banks in cases {
            let mut b = [0u8; GRANULE_SIZE];
            write(&mut b, PA, banks, &[]);
            assert_eq!(
                parse(&b, PA, 40),
                Err(BootError::ManifestDataError),
                "{banks:?}"
            );
        }
        let mut b = [0u8; GRANULE_SIZE];
        let two = [
            DramBank {
                base: 0x4000_0000,
                size: 0x1000,
            },
            DramBank {
                base: 0x4000_1000,
                size: 0x1000,
            },
        ];
        write(&mut b, PA, &two, &[]);
        assert_eq!(parse(&b, PA, 40).unwrap().dram_banks(), &two);
    }

    #[test]
    fn arrays_must_lie_in_the_buffer() {
        let mut b = good();
        let mut h = hdr(&b);
        h.dram.ptr = PA - 0x40;
        h.dram.checksum = list_checksum(1, h.dram.ptr, &b[0x40..0x50]);
        set_hdr(&mut b, h);
        assert_eq!(parse(&b, PA, 40), Err(BootError::ManifestDataError));
        let mut b = good();
        let mut h = hdr(&b);
        h.dram.num = MAX_DRAM_BANKS as u64 + 1;
        set_hdr(&mut b, h);
        assert_eq!(parse(&b, PA, 40), Err(BootError::ManifestDataError));
        let mut b = good();
        let mut h = hdr(&b);
        h.consoles.ptr = PA + GRANULE_SIZE as u64 - 40;
        set_hdr(&mut b, h);
        assert_eq!(parse(&b, PA, 40), Err(BootError::ManifestDataError));
    }
}
