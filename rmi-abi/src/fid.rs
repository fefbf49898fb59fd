//! RMI function identifiers (DEN0137 1.0, table "RMI command function identifiers").
//!
//! All RMI commands are SMC64 fast calls owned by the standard secure service
//! (OEN 4), so every identifier has the form `0xC400_0xxx`.

/// SMCCC 1.3 "SVE hint" bit of a function identifier: the caller has no live SVE state.
/// The RMM ignores it when decoding a function identifier.
pub const SMCCC_SVE_HINT: u64 = 1 << 16;

/// The function identifier of an SMC whose X0 is `x0`: W0, bits [31:0] (SMCCC, DEN0028
/// 2.5: "The Function Identifier is passed on W0 on every SMC and HVC call"). Bits
/// [63:32] of X0 are not part of it.
pub const fn w0(x0: u64) -> u32 {
    x0 as u32
}

/// First function identifier of the range reserved for RMI.
pub const RMI_RANGE_START: u32 = 0xC400_0150;
/// Last function identifier of the range reserved for RMI (inclusive).
pub const RMI_RANGE_END: u32 = 0xC400_018F;

/// Declares a table of SMCCC function identifiers: one `u32` constant per command and
/// an enum with `ALL`, `decode` and `id`.
///
/// `decode` takes the raw `x0`: the identifier is W0 ([`w0`]; bits `[63:32]` are not
/// part of it), the SMCCC SVE hint bit ([`SMCCC_SVE_HINT`]) is ignored, and it returns
/// `None` for any identifier not in the table (including unused identifiers inside the
/// interface's range). Shared by the RMI
/// and RSI crates so that both decode identifiers by the same rule.
#[macro_export]
macro_rules! define_fids {
    (
        $(#[$em:meta])*
        pub enum $enum:ident {
            $( $(#[$m:meta])* $name:ident = $konst:ident = $val:expr ),* $(,)?
        }
    ) => {
        $( $(#[$m])* pub const $konst: u32 = $val; )*

        $(#[$em])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u32)]
        pub enum $enum {
            $( $(#[$m])* $name = $val, )*
        }

        impl $enum {
            /// Every command, in function-identifier order.
            pub const ALL: &'static [$enum] = &[$($enum::$name),*];

            /// Decodes the function identifier of an SMC with `x0`: W0 (SMCCC; bits
            /// `[63:32]` are not part of it), the SVE hint bit ignored. Returns `None`
            /// for identifiers that are not commands of this interface, including unused
            /// identifiers inside its range.
            pub const fn decode(x0: u64) -> Option<Self> {
                match $crate::fid::w0(x0) & !($crate::fid::SMCCC_SVE_HINT as u32) {
                    $( $konst => Some($enum::$name), )*
                    _ => None,
                }
            }

            /// The function identifier of this command.
            pub const fn id(self) -> u32 {
                self as u32
            }
        }
    };
}

define_fids! {
    /// An RMI command, decoded from its function identifier.
    pub enum RmiFid {
        /// RMI_VERSION
        Version = RMI_VERSION = 0xC400_0150,
        /// RMI_GRANULE_DELEGATE
        GranuleDelegate = RMI_GRANULE_DELEGATE = 0xC400_0151,
        /// RMI_GRANULE_UNDELEGATE
        GranuleUndelegate = RMI_GRANULE_UNDELEGATE = 0xC400_0152,
        /// RMI_DATA_CREATE
        DataCreate = RMI_DATA_CREATE = 0xC400_0153,
        /// RMI_DATA_CREATE_UNKNOWN
        DataCreateUnknown = RMI_DATA_CREATE_UNKNOWN = 0xC400_0154,
        /// RMI_DATA_DESTROY
        DataDestroy = RMI_DATA_DESTROY = 0xC400_0155,
        /// RMI_REALM_ACTIVATE
        RealmActivate = RMI_REALM_ACTIVATE = 0xC400_0157,
        /// RMI_REALM_CREATE
        RealmCreate = RMI_REALM_CREATE = 0xC400_0158,
        /// RMI_REALM_DESTROY
        RealmDestroy = RMI_REALM_DESTROY = 0xC400_0159,
        /// RMI_REC_CREATE
        RecCreate = RMI_REC_CREATE = 0xC400_015A,
        /// RMI_REC_DESTROY
        RecDestroy = RMI_REC_DESTROY = 0xC400_015B,
        /// RMI_REC_ENTER
        RecEnter = RMI_REC_ENTER = 0xC400_015C,
        /// RMI_RTT_CREATE
        RttCreate = RMI_RTT_CREATE = 0xC400_015D,
        /// RMI_RTT_DESTROY
        RttDestroy = RMI_RTT_DESTROY = 0xC400_015E,
        /// RMI_RTT_MAP_UNPROTECTED
        RttMapUnprotected = RMI_RTT_MAP_UNPROTECTED = 0xC400_015F,
        /// RMI_RTT_READ_ENTRY
        RttReadEntry = RMI_RTT_READ_ENTRY = 0xC400_0161,
        /// RMI_RTT_UNMAP_UNPROTECTED
        RttUnmapUnprotected = RMI_RTT_UNMAP_UNPROTECTED = 0xC400_0162,
        /// RMI_PSCI_COMPLETE
        PsciComplete = RMI_PSCI_COMPLETE = 0xC400_0164,
        /// RMI_FEATURES
        Features = RMI_FEATURES = 0xC400_0165,
        /// RMI_RTT_FOLD
        RttFold = RMI_RTT_FOLD = 0xC400_0166,
        /// RMI_REC_AUX_COUNT
        RecAuxCount = RMI_REC_AUX_COUNT = 0xC400_0167,
        /// RMI_RTT_INIT_RIPAS
        RttInitRipas = RMI_RTT_INIT_RIPAS = 0xC400_0168,
        /// RMI_RTT_SET_RIPAS
        RttSetRipas = RMI_RTT_SET_RIPAS = 0xC400_0169,
    }
}

/// Whether the function identifier of an SMC with `x0` (W0, [`w0`]) lies in the RMI
/// range (SVE hint ignored).
pub const fn is_rmi_range(x0: u64) -> bool {
    let f = w0(x0) & !(SMCCC_SVE_HINT as u32);
    f >= RMI_RANGE_START && f <= RMI_RANGE_END
}
