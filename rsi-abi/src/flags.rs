//! `RsiRipasChangeFlags` (DEN0137 1.0, B5.4.9): RSI_IPA_STATE_SET `x4`. Bit 0 is
//! `destroyed`; bits `[63:1]` are reserved (SBZ) and rejected by `decode`.

use crate::enums::RsiRipasChangeDestroyed;
use tock_registers::register_bitfields;

register_bitfields! [u64,
    /// DEN0137 1.0, B5.4.9 `RsiRipasChangeFlags` layout.
    #[allow(missing_docs)] // the generated `Register` marker and field values
    pub RIPAS_CHANGE_FLAGS [
        /// `destroyed` `[0]`: an `RsiRipasChangeDestroyed`.
        DESTROYED OFFSET(0) NUMBITS(1) []
    ]
];

rmi_abi::abi_fieldset! {
    /// DEN0137 1.0, B5.4.9 `RsiRipasChangeFlags`.
    pub struct RsiRipasChangeFlags: RIPAS_CHANGE_FLAGS {
        /// `destroyed`: a RIPAS change from DESTROYED is permitted
        /// (RSI_CHANGE_DESTROYED).
        change_destroyed, with_change_destroyed: DESTROYED;
    }
    other_fields: []
}

impl RsiRipasChangeFlags {
    /// The `destroyed` field as its enumeration.
    pub const fn destroyed(self) -> RsiRipasChangeDestroyed {
        if self.change_destroyed() {
            RsiRipasChangeDestroyed::ChangeDestroyed
        } else {
            RsiRipasChangeDestroyed::NoChangeDestroyed
        }
    }
}
