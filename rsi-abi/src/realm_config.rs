//! `RsiRealmConfig` (DEN0137 1.0, B5.4.5): the 4 KiB Realm buffer filled by
//! RSI_REALM_CONFIG (x1 = its IPA, granule aligned). Offsets checked against the spec
//! table and Linux `arch/arm64/include/asm/rsi_smc.h` `struct realm_config`.
//! "Unused bits of the RsiRealmConfig structure MBZ": the RMM must write zeros to every
//! `_padN` byte (start from [`RsiRealmConfig::default`]).

use core::fmt;
use core::mem::{offset_of, size_of};
use rmi_abi::{GRANULE_SIZE, RPV_SIZE};
use static_assertions::const_assert_eq;
use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};

/// DEN0137 1.0, B5.4.5 `RsiRealmConfig`.
#[derive(Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct RsiRealmConfig {
    /// 0x000 `ipa_width` (UInt64): IPA width in bits.
    pub ipa_width: u64,
    /// 0x008 `hash_algo`: `RsiHashAlgorithm` (8 bits).
    pub hash_algo: u8,
    _pad0: [u8; 0x200 - 0x9],
    /// 0x200 `rpv` (Bits512): Realm Personalization Value.
    pub rpv: [u8; RPV_SIZE],
    _pad1: [u8; GRANULE_SIZE - 0x240],
}

const_assert_eq!(size_of::<RsiRealmConfig>(), GRANULE_SIZE);
const_assert_eq!(offset_of!(RsiRealmConfig, ipa_width), 0x000);
const_assert_eq!(offset_of!(RsiRealmConfig, hash_algo), 0x008);
const_assert_eq!(offset_of!(RsiRealmConfig, rpv), 0x200);

impl Default for RsiRealmConfig {
    /// All zero.
    fn default() -> Self {
        Self::new_zeroed()
    }
}

impl fmt::Debug for RsiRealmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsiRealmConfig")
            .field("ipa_width", &self.ipa_width)
            .field("hash_algo", &self.hash_algo)
            .field("rpv", &self.rpv)
            .finish_non_exhaustive()
    }
}
