//! `RmiRecParams` (DEN0137 1.0, B4.4.19): the 4 KiB NS granule named by RMI_REC_CREATE
//! `x3`. Offsets checked against the spec table and Linux `rmi_smc.h`
//! `struct rec_params`. "Unused bits of the RmiRecParams structure SBZ".

use crate::GRANULE_SIZE;
use core::fmt;
use core::mem::{offset_of, size_of};
use static_assertions::const_assert_eq;
use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};

/// Number of general-purpose registers (x0..x7) set by the Host at REC creation.
pub const REC_PARAMS_GPRS: usize = 8;

/// Size of the `aux` array: the most auxiliary granules a REC can take. The number
/// actually used is the RMI_REC_AUX_COUNT result.
pub const REC_PARAMS_AUX_GRANULES_MAX: usize = 16;

/// DEN0137 1.0, B4.4.19 `RmiRecParams`.
#[derive(Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct RmiRecParams {
    /// 0x000 `flags`: `RmiRecCreateFlags`.
    pub flags: u64,
    _pad0: [u8; 0xF8],
    /// 0x100 `mpidr`: `RmiRecMpidr`.
    pub mpidr: u64,
    _pad1: [u8; 0xF8],
    /// 0x200 `pc` (Bits64): initial program counter.
    pub pc: u64,
    _pad2: [u8; 0xF8],
    /// 0x300 `gprs[0..8]` (Bits64): initial x0..x7.
    pub gprs: [u64; REC_PARAMS_GPRS],
    _pad3: [u8; 0x800 - 0x340],
    /// 0x800 `num_aux` (UInt64): number of auxiliary granules.
    pub num_aux: u64,
    /// 0x808 `aux[0..16]` (Address): PAs of the auxiliary granules.
    pub aux: [u64; REC_PARAMS_AUX_GRANULES_MAX],
    _pad4: [u8; GRANULE_SIZE - 0x888],
}

const_assert_eq!(size_of::<RmiRecParams>(), GRANULE_SIZE);
const_assert_eq!(offset_of!(RmiRecParams, flags), 0x000);
const_assert_eq!(offset_of!(RmiRecParams, mpidr), 0x100);
const_assert_eq!(offset_of!(RmiRecParams, pc), 0x200);
const_assert_eq!(offset_of!(RmiRecParams, gprs), 0x300);
const_assert_eq!(offset_of!(RmiRecParams, num_aux), 0x800);
const_assert_eq!(offset_of!(RmiRecParams, aux), 0x808);

impl RmiRecParams {
    /// The fields of the image whose hash is the `content` of the REC measurement
    /// descriptor of RMI_REC_CREATE (DEN0137 1.0, B4.3.12.4), as (offset, bytes) in
    /// ascending offset order: `flags`, `pc` and `gprs`. Every other byte of the 4 KiB
    /// image is zero (see [`RmiRecParams::measured_image`]).
    pub fn measured_fields(&self) -> [(usize, &[u8]); 3] {
        [
            (offset_of!(Self, flags), self.flags.as_bytes()),
            (offset_of!(Self, pc), self.pc.as_bytes()),
            (offset_of!(Self, gprs), self.gprs.as_bytes()),
        ]
    }

    /// That image: a zero-filled `RmiRecParams` holding only the
    /// [`RmiRecParams::measured_fields`] copied from `self`.
    pub fn measured_image(&self) -> Self {
        let mut m = Self::new_zeroed();
        for (off, bytes) in self.measured_fields() {
            m.as_mut_bytes()[off..off + bytes.len()].copy_from_slice(bytes);
        }
        m
    }

    /// Whether every padding (SBZ) byte is zero.
    pub fn padding_is_zero(&self) -> bool {
        let pads: [&[u8]; 5] = [
            &self._pad0,
            &self._pad1,
            &self._pad2,
            &self._pad3,
            &self._pad4,
        ];
        pads.iter().all(|p| p.iter().all(|&b| b == 0))
    }
}

impl Default for RmiRecParams {
    /// All zero.
    fn default() -> Self {
        Self::new_zeroed()
    }
}

impl fmt::Debug for RmiRecParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RmiRecParams")
            .field("flags", &self.flags)
            .field("mpidr", &self.mpidr)
            .field("pc", &self.pc)
            .field("gprs", &self.gprs)
            .field("num_aux", &self.num_aux)
            .field("aux", &self.aux)
            .finish_non_exhaustive()
    }
}
