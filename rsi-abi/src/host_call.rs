//! `RsiHostCall` (DEN0137 1.0, B5.4.3): the 256-byte Realm structure named by
//! RSI_HOST_CALL `x1` (256-byte aligned, failure condition `addr_align`).
//!
//! `imm` is **UInt16** at 0x0 (spec table B5.4.3; Linux `rsi_smc.h` declares `u16`;
//! the reference TF-RMM reads 32 bits, the spec wins); bytes 0x2..0x8 are padding.
//! "Unused bits of the RsiHostCall structure SBZ". The RMM copies `imm` to
//! `RmiRecExit.imm`, also 16 bits.

use core::mem::{offset_of, size_of};
use static_assertions::const_assert_eq;
use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};

/// Number of general-purpose registers (x0..x30) in `RsiHostCall.gprs`.
pub const HOST_CALL_GPRS: usize = 31;

/// Size and required alignment of an `RsiHostCall` in Realm memory.
pub const HOST_CALL_SIZE: usize = 0x100;

/// DEN0137 1.0, B5.4.3 `RsiHostCall`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct RsiHostCall {
    /// 0x000 `imm` (UInt16): immediate value.
    pub imm: u16,
    _pad0: [u8; 6],
    /// 0x008 `gprs[0..31]` (Bits64): register values exchanged with the Host.
    pub gprs: [u64; HOST_CALL_GPRS],
}

const_assert_eq!(size_of::<RsiHostCall>(), HOST_CALL_SIZE);
const_assert_eq!(offset_of!(RsiHostCall, imm), 0x000);
const_assert_eq!(offset_of!(RsiHostCall, gprs), 0x008);

impl Default for RsiHostCall {
    /// All zero.
    fn default() -> Self {
        Self::new_zeroed()
    }
}
