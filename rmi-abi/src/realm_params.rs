//! `RmiRealmParams` (DEN0137 1.0, B4.4.12): the 4 KiB NS granule named by
//! RMI_REALM_CREATE `x2`. Offsets and widths checked against the spec table; Linux
//! `rmi_smc.h` `struct realm_params` has the same offsets (it declares the one-byte
//! fields as `u64`, so a Linux host writes zeros to the bytes after them).
//!
//! "Unused bits of the RmiRealmParams structure SBZ": every `_padN` byte.

use crate::{GRANULE_SIZE, RPV_SIZE};
use core::fmt;
use core::mem::{offset_of, size_of};
use static_assertions::const_assert_eq;
use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};

/// DEN0137 1.0, B4.4.12 `RmiRealmParams`.
#[derive(Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct RmiRealmParams {
    /// 0x000 `flags`: `RmiRealmFlags` (decode with `RmiRealmFlags::decode`).
    pub flags: u64,
    /// 0x008 `s2sz` (UInt8): requested IPA width in bits.
    pub s2sz: u8,
    _pad0: [u8; 7],
    /// 0x010 `sve_vl` (UInt8): requested SVE vector length, `ZCR_ELx.LEN` encoding.
    pub sve_vl: u8,
    _pad1: [u8; 7],
    /// 0x018 `num_bps` (UInt8): breakpoints minus one (0 is reserved).
    pub num_bps: u8,
    _pad2: [u8; 7],
    /// 0x020 `num_wps` (UInt8): watchpoints minus one (0 is reserved).
    pub num_wps: u8,
    _pad3: [u8; 7],
    /// 0x028 `pmu_num_ctrs` (UInt8): requested number of PMU counters.
    pub pmu_num_ctrs: u8,
    _pad4: [u8; 7],
    /// 0x030 `hash_algo`: `RmiHashAlgorithm` (8 bits) used to measure the Realm.
    pub hash_algo: u8,
    _pad5: [u8; 0x400 - 0x31],
    /// 0x400 `rpv` (Bits512): Realm Personalization Value.
    pub rpv: [u8; RPV_SIZE],
    _pad6: [u8; 0x800 - 0x440],
    /// 0x800 `vmid` (Bits16): VMID.
    pub vmid: u16,
    _pad7: [u8; 6],
    /// 0x808 `rtt_base` (Address): PA of the first starting-level RTT.
    pub rtt_base: u64,
    /// 0x810 `rtt_level_start` (Int64): RTT starting level.
    pub rtt_level_start: i64,
    /// 0x818 `rtt_num_start` (UInt32): number of starting-level RTTs.
    pub rtt_num_start: u32,
    _pad8: [u8; GRANULE_SIZE - 0x81C],
}

const_assert_eq!(size_of::<RmiRealmParams>(), GRANULE_SIZE);
const_assert_eq!(offset_of!(RmiRealmParams, flags), 0x000);
const_assert_eq!(offset_of!(RmiRealmParams, s2sz), 0x008);
const_assert_eq!(offset_of!(RmiRealmParams, sve_vl), 0x010);
const_assert_eq!(offset_of!(RmiRealmParams, num_bps), 0x018);
const_assert_eq!(offset_of!(RmiRealmParams, num_wps), 0x020);
const_assert_eq!(offset_of!(RmiRealmParams, pmu_num_ctrs), 0x028);
const_assert_eq!(offset_of!(RmiRealmParams, hash_algo), 0x030);
const_assert_eq!(offset_of!(RmiRealmParams, rpv), 0x400);
const_assert_eq!(offset_of!(RmiRealmParams, vmid), 0x800);
const_assert_eq!(offset_of!(RmiRealmParams, rtt_base), 0x808);
const_assert_eq!(offset_of!(RmiRealmParams, rtt_level_start), 0x810);
const_assert_eq!(offset_of!(RmiRealmParams, rtt_num_start), 0x818);

impl RmiRealmParams {
    /// The fields of the image hashed into the RIM by RMI_REALM_CREATE (DEN0137 1.0,
    /// B4.3.9.4), as (offset, bytes) in ascending offset order: `flags`, `s2sz`,
    /// `sve_vl`, `num_bps`, `num_wps`, `pmu_num_ctrs` and `hash_algo`. Every other byte
    /// of the 4 KiB image is zero (see [`RmiRealmParams::measured_image`]).
    pub fn measured_fields(&self) -> [(usize, &[u8]); 7] {
        [
            (offset_of!(Self, flags), self.flags.as_bytes()),
            (offset_of!(Self, s2sz), self.s2sz.as_bytes()),
            (offset_of!(Self, sve_vl), self.sve_vl.as_bytes()),
            (offset_of!(Self, num_bps), self.num_bps.as_bytes()),
            (offset_of!(Self, num_wps), self.num_wps.as_bytes()),
            (offset_of!(Self, pmu_num_ctrs), self.pmu_num_ctrs.as_bytes()),
            (offset_of!(Self, hash_algo), self.hash_algo.as_bytes()),
        ]
    }

    /// The image hashed into the RIM by RMI_REALM_CREATE (DEN0137 1.0, B4.3.9.4): a
    /// zero-filled `RmiRealmParams` holding only the [`RmiRealmParams::measured_fields`]
    /// copied from `self`.
    pub fn measured_image(&self) -> Self {
        let mut m = Self::new_zeroed();
        for (off, bytes) in self.measured_fields() {
            m.as_mut_bytes()[off..off + bytes.len()].copy_from_slice(bytes);
        }
        m
    }

    /// Whether every padding (SBZ) byte is zero.
    pub fn padding_is_zero(&self) -> bool {
        let pads: [&[u8]; 9] = [
            &self._pad0,
            &self._pad1,
            &self._pad2,
            &self._pad3,
            &self._pad4,
            &self._pad5,
            &self._pad6,
            &self._pad7,
            &self._pad8,
        ];
        pads.iter().all(|p| p.iter().all(|&b| b == 0))
    }
}

impl Default for RmiRealmParams {
    /// All zero.
    fn default() -> Self {
        Self::new_zeroed()
    }
}

impl fmt::Debug for RmiRealmParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RmiRealmParams")
            .field("flags", &self.flags)
            .field("s2sz", &self.s2sz)
            .field("sve_vl", &self.sve_vl)
            .field("num_bps", &self.num_bps)
            .field("num_wps", &self.num_wps)
            .field("pmu_num_ctrs", &self.pmu_num_ctrs)
            .field("hash_algo", &self.hash_algo)
            .field("rpv", &self.rpv)
            .field("vmid", &self.vmid)
            .field("rtt_base", &self.rtt_base)
            .field("rtt_level_start", &self.rtt_level_start)
            .field("rtt_num_start", &self.rtt_num_start)
            .finish_non_exhaustive()
    }
}
