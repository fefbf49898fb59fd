//! RSI function identifiers (DEN0137 1.0, B5.3 "RSI commands").
//!
//! RSI commands are SMC64 fast calls owned by the standard secure service (OEN 4).
//! Decoding follows the same rule as RMI ([`rmi_abi::define_fids`]): the identifier is
//! W0 (SMCCC; bits `[63:32]` of X0 are not part of it) and the SMCCC SVE hint bit is
//! ignored.

pub use rmi_abi::fid::{w0, SMCCC_SVE_HINT};

/// First function identifier of the range reserved for RSI.
pub const RSI_RANGE_START: u32 = 0xC400_0190;
/// Last function identifier of the range reserved for RSI (inclusive).
pub const RSI_RANGE_END: u32 = 0xC400_01AF;

rmi_abi::define_fids! {
    /// An RSI command, decoded from its function identifier.
    pub enum RsiFid {
        /// RSI_VERSION
        Version = RSI_VERSION = 0xC400_0190,
        /// RSI_FEATURES
        Features = RSI_FEATURES = 0xC400_0191,
        /// RSI_MEASUREMENT_READ
        MeasurementRead = RSI_MEASUREMENT_READ = 0xC400_0192,
        /// RSI_MEASUREMENT_EXTEND
        MeasurementExtend = RSI_MEASUREMENT_EXTEND = 0xC400_0193,
        /// RSI_ATTESTATION_TOKEN_INIT
        AttestTokenInit = RSI_ATTEST_TOKEN_INIT = 0xC400_0194,
        /// RSI_ATTESTATION_TOKEN_CONTINUE
        AttestTokenContinue = RSI_ATTEST_TOKEN_CONTINUE = 0xC400_0195,
        /// RSI_REALM_CONFIG
        RealmConfig = RSI_REALM_CONFIG = 0xC400_0196,
        /// RSI_IPA_STATE_SET
        IpaStateSet = RSI_IPA_STATE_SET = 0xC400_0197,
        /// RSI_IPA_STATE_GET
        IpaStateGet = RSI_IPA_STATE_GET = 0xC400_0198,
        /// RSI_HOST_CALL
        HostCall = RSI_HOST_CALL = 0xC400_0199,
    }
}

/// The spec's full name of [`RSI_ATTEST_TOKEN_INIT`].
pub const RSI_ATTESTATION_TOKEN_INIT: u32 = RSI_ATTEST_TOKEN_INIT;
/// The spec's full name of [`RSI_ATTEST_TOKEN_CONTINUE`].
pub const RSI_ATTESTATION_TOKEN_CONTINUE: u32 = RSI_ATTEST_TOKEN_CONTINUE;

/// Registers X0 to X16 carry a command's results; DEN0137 1.0, B1.2: "On return from an
/// RMI or RSI command, any of X0 - X16 which are not specified as output values in the
/// command definition MBZ."
pub const RSI_RESULT_REGS: usize = 17;

impl RsiFid {
    /// How many output values the command returns, in X0 upwards (DEN0137 1.0, the
    /// "Output values" table of each command in B5.3): X0 is always the result.
    pub const fn output_regs(self) -> usize {
        match self {
            // B5.3.10: result, lower, higher.
            Self::Version => 3,
            // B5.3.3: result, value.
            Self::Features => 2,
            // B5.3.8: result, value_0..value_7.
            Self::MeasurementRead => 9,
            // B5.3.7, B5.3.9, B5.3.4: result only.
            Self::MeasurementExtend | Self::RealmConfig | Self::HostCall => 1,
            // B5.3.2: result, size; B5.3.1: result, len.
            Self::AttestTokenInit | Self::AttestTokenContinue => 2,
            // B5.3.5: result, out_top, ripas; B5.3.6: result, new_base, response.
            Self::IpaStateGet | Self::IpaStateSet => 3,
        }
    }
}

/// Whether the function identifier of an SMC with `x0` (W0, [`w0`]) lies in the RSI
/// range (SVE hint ignored).
pub const fn is_rsi_range(x0: u64) -> bool {
    let f = w0(x0) & !(SMCCC_SVE_HINT as u32);
    f >= RSI_RANGE_START && f <= RSI_RANGE_END
}
