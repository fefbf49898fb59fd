//! RSI command return codes (DEN0137 1.0, B5.4.1 `RsiCommandReturnCode`, a 64-bit
//! enumeration written to `x0`).
//!
//! `RSI_ERROR_UNKNOWN` (4) is part of 1.0: it is in the B5.4.1 table of 1.0-rel0 and is
//! the result of RSI_ATTESTATION_TOKEN_CONTINUE failure condition `unknown`; Linux
//! `arch/arm64/include/asm/rsi_smc.h` defines it too.

rmi_abi::abi_enum! {
    /// DEN0137 1.0, B5.4.1 `RsiCommandReturnCode`.
    pub enum RsiStatus: u64 {
        /// RSI_SUCCESS: the command completed successfully.
        Success = 0,
        /// RSI_ERROR_INPUT: the value of a command input caused the command to fail.
        ErrorInput = 1,
        /// RSI_ERROR_STATE: the state of the current Realm or REC does not match the
        /// state expected by the command.
        ErrorState = 2,
        /// RSI_INCOMPLETE: the requested operation is not complete.
        Incomplete = 3,
        /// RSI_ERROR_UNKNOWN: the requested operation failed for an unknown reason.
        ErrorUnknown = 4,
    }
}
