//! RMI command return codes (DEN0137 1.0, `RmiCommandReturnCode`, `RmiStatusCode`).
//!
//! A command returns `x0 = status | (index << 8)`: the status code in bits `[7:0]` and,
//! for the statuses that carry one, an index in bits `[15:8]`.

/// `RmiStatusCode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RmiStatus {
    /// RMI_SUCCESS: the command completed successfully.
    Success = 0,
    /// RMI_ERROR_INPUT: the value of a command input was invalid.
    ErrorInput = 1,
    /// RMI_ERROR_REALM: an attribute of a Realm does not match the expected value.
    ErrorRealm = 2,
    /// RMI_ERROR_REC: an attribute of a REC does not match the expected value.
    ErrorRec = 3,
    /// RMI_ERROR_RTT: an RTT walk terminated before reaching the target level, or an
    /// RTT entry has an unexpected state. The index is the RTT level.
    ErrorRtt = 4,
}

impl TryFrom<u8> for RmiStatus {
    type Error = u8;

    /// Decodes a status code; values that are not RMI 1.0 status codes are returned
    /// as the error.
    fn try_from(v: u8) -> Result<Self, u8> {
        Ok(match v {
            0 => Self::Success,
            1 => Self::ErrorInput,
            2 => Self::ErrorRealm,
            3 => Self::ErrorRec,
            4 => Self::ErrorRtt,
            other => return Err(other),
        })
    }
}

/// A failed RMI command: its status (never `Success`) and its index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RmiError {
    /// RMI_ERROR_INPUT (index 0).
    Input,
    /// RMI_ERROR_REALM with its index (RMI_REC_ENTER: 0 realm NEW, 1 realm SYSTEM_OFF).
    Realm(u8),
    /// RMI_ERROR_REC (index 0).
    Rec,
    /// RMI_ERROR_RTT with the RTT level at which the walk stopped or the entry was found.
    /// Level -1 (LPA2) is carried as its two's-complement byte.
    Rtt(i8),
}

impl RmiError {
    /// The status code of this error.
    pub const fn status(self) -> RmiStatus {
        match self {
            Self::Input => RmiStatus::ErrorInput,
            Self::Realm(_) => RmiStatus::ErrorRealm,
            Self::Rec => RmiStatus::ErrorRec,
            Self::Rtt(_) => RmiStatus::ErrorRtt,
        }
    }

    /// The index field of this error.
    pub const fn index(self) -> u8 {
        match self {
            Self::Input | Self::Rec => 0,
            Self::Realm(i) => i,
            Self::Rtt(level) => level as u8,
        }
    }

    /// The packed return code, `status | index << 8`.
    pub const fn return_code(self) -> u64 {
        pack(self.status(), self.index())
    }
}

/// Packs a status code and index into the value returned in `x0`.
pub const fn pack(status: RmiStatus, index: u8) -> u64 {
    status as u64 | (index as u64) << 8
}

/// The packed return code of a command result: 0 for success.
pub const fn return_code<T>(r: &Result<T, RmiError>) -> u64 {
    match r {
        Ok(_) => RmiStatus::Success as u64,
        Err(e) => e.return_code(),
    }
}

/// Decodes a packed return code into its status and index. Bits above `[15:0]` must be
/// zero and the status must be an RMI 1.0 status; anything else is returned as the error.
pub fn unpack(x0: u64) -> Result<(RmiStatus, u8), u64> {
    if x0 >> 16 != 0 {
        return Err(x0);
    }
    let status = RmiStatus::try_from(x0 as u8).map_err(|_| x0)?;
    Ok((status, (x0 >> 8) as u8))
}

/// Decodes a packed return code into a command result (the inverse of [`return_code`]).
/// A success with a non-zero index, or an index on a status that carries none, is
/// rejected.
pub fn decode_result(x0: u64) -> Result<Result<(), RmiError>, u64> {
    let (status, index) = unpack(x0)?;
    Ok(match (status, index) {
        (RmiStatus::Success, 0) => Ok(()),
        (RmiStatus::ErrorInput, 0) => Err(RmiError::Input),
        (RmiStatus::ErrorRec, 0) => Err(RmiError::Rec),
        (RmiStatus::ErrorRealm, i) => Err(RmiError::Realm(i)),
        (RmiStatus::ErrorRtt, l) => Err(RmiError::Rtt(l as i8)),
        _ => return Err(x0),
    })
}
