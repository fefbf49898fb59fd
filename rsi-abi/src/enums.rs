//! RSI enumerations (DEN0137 1.0, B5.4 "RSI types"). Decoding is strict: reserved
//! encodings are rejected. Conversions from the RMI types with the same meaning are
//! provided where the RMM forwards a value between the two interfaces.

use rmi_abi::{RmiHashAlgorithm, RmiResponse, RmiRipas};

rmi_abi::abi_enum! {
    /// DEN0137 1.0, B5.4.7 `RsiRipas` (8 bits).
    ///
    /// The 1.0-rel0 table also lists `RSI_DEV` = 3 (device memory). No 1.0 RMI command
    /// can produce it (`RmiRipas` has no DEV) and RSI_IPA_STATE_SET accepts only
    /// EMPTY and RAM, but 3 is not a reserved encoding of this type, so it decodes.
    pub enum RsiRipas: u8 {
        /// RSI_EMPTY: no Realm resources are mapped at the address.
        Empty = 0,
        /// RSI_RAM: private code or data owned by the Realm is mapped at the address.
        Ram = 1,
        /// RSI_DESTROYED: inaccessible to the Realm because of a Host action.
        Destroyed = 2,
        /// RSI_DEV: memory of an assigned Realm device is mapped at the address.
        Dev = 3,
    }
}

rmi_abi::abi_enum! {
    /// DEN0137 1.0, B5.4.6 `RsiResponse` (1 bit), RSI_IPA_STATE_SET output `x2`.
    pub enum RsiResponse: u8 {
        /// RSI_ACCEPT: the Host accepted the request.
        Accept = 0,
        /// RSI_REJECT: the Host rejected the request.
        Reject = 1,
    }
}

rmi_abi::abi_enum! {
    /// DEN0137 1.0, B5.4.8 `RsiRipasChangeDestroyed` (1 bit), the `destroyed` field of
    /// `RsiRipasChangeFlags`.
    pub enum RsiRipasChangeDestroyed: u8 {
        /// RSI_NO_CHANGE_DESTROYED: a RIPAS change from DESTROYED is not permitted.
        NoChangeDestroyed = 0,
        /// RSI_CHANGE_DESTROYED: a RIPAS change from DESTROYED is permitted.
        ChangeDestroyed = 1,
    }
}

rmi_abi::abi_enum! {
    /// DEN0137 1.0, B5.4.2 `RsiHashAlgorithm` (8 bits), `RsiRealmConfig.hash_algo`.
    pub enum RsiHashAlgorithm: u8 {
        /// RSI_HASH_SHA_256.
        Sha256 = 0,
        /// RSI_HASH_SHA_512.
        Sha512 = 1,
    }
}

impl From<RmiRipas> for RsiRipas {
    fn from(r: RmiRipas) -> Self {
        match r {
            RmiRipas::Empty => Self::Empty,
            RmiRipas::Ram => Self::Ram,
            RmiRipas::Destroyed => Self::Destroyed,
        }
    }
}

impl TryFrom<RsiRipas> for RmiRipas {
    /// `RsiRipas::Dev`, which has no RMI 1.0 counterpart.
    type Error = RsiRipas;

    fn try_from(r: RsiRipas) -> Result<Self, RsiRipas> {
        match r {
            RsiRipas::Empty => Ok(Self::Empty),
            RsiRipas::Ram => Ok(Self::Ram),
            RsiRipas::Destroyed => Ok(Self::Destroyed),
            RsiRipas::Dev => Err(r),
        }
    }
}

impl From<RmiResponse> for RsiResponse {
    fn from(r: RmiResponse) -> Self {
        match r {
            RmiResponse::Accept => Self::Accept,
            RmiResponse::Reject => Self::Reject,
        }
    }
}

impl From<RmiHashAlgorithm> for RsiHashAlgorithm {
    fn from(h: RmiHashAlgorithm) -> Self {
        match h {
            RmiHashAlgorithm::Sha256 => Self::Sha256,
            RmiHashAlgorithm::Sha512 => Self::Sha512,
        }
    }
}
