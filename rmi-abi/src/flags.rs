//! RMI flag words (DEN0137 1.0, B4.4.11, B4.4.13, B4.4.15). Each is 64 bits wide and
//! every bit not named here is reserved (SBZ): [`decode`](RmiRealmFlags::decode) rejects
//! a value with any reserved bit set.

use crate::bits::{field_get, field_set};
use crate::enums::{RmiRecRunnable, RmiResponse};
use tock_registers::register_bitfields;

register_bitfields! [u64,
    /// DEN0137 1.0, B4.4.11 `RmiRealmFlags` layout.
    #[allow(missing_docs)] // the generated `Register` marker and field values
    pub REALM_FLAGS [
        /// `lpa2` `[0]`: LPA2 enabled.
        LPA2 OFFSET(0) NUMBITS(1) [],
        /// `sve` `[1]`: SVE enabled.
        SVE OFFSET(1) NUMBITS(1) [],
        /// `pmu` `[2]`: PMU enabled.
        PMU OFFSET(2) NUMBITS(1) []
    ],
    /// DEN0137 1.0, B4.4.13 `RmiRecCreateFlags` layout.
    #[allow(missing_docs)] // the generated `Register` marker and field values
    pub REC_CREATE_FLAGS [
        /// `runnable` `[0]`: an `RmiRecRunnable`.
        RUNNABLE OFFSET(0) NUMBITS(1) []
    ],
    /// DEN0137 1.0, B4.4.15 `RmiRecEnterFlags` layout.
    #[allow(missing_docs)] // the generated `Register` marker and field values
    pub REC_ENTER_FLAGS [
        /// `emul_mmio` `[0]`: the Host completed emulation of an Emulatable Data Abort.
        EMUL_MMIO OFFSET(0) NUMBITS(1) [],
        /// `inject_sea` `[1]`: inject a Synchronous External Abort into the Realm.
        INJECT_SEA OFFSET(1) NUMBITS(1) [],
        /// `trap_wfi` `[2]`: trap WFI executed by the Realm.
        TRAP_WFI OFFSET(2) NUMBITS(1) [],
        /// `trap_wfe` `[3]`: trap WFE executed by the Realm.
        TRAP_WFE OFFSET(3) NUMBITS(1) [],
        /// `ripas_response` `[4]`: an `RmiResponse` to a RIPAS change request.
        RIPAS_RESPONSE OFFSET(4) NUMBITS(1) []
    ]
];

crate::abi_fieldset! {
    /// DEN0137 1.0, B4.4.11 `RmiRealmFlags`: `RmiRealmParams.flags`.
    pub struct RmiRealmFlags: REALM_FLAGS {
        /// `lpa2`: LPA2 (52-bit IPA with 4 KiB granules) is enabled.
        lpa2, with_lpa2: LPA2;
        /// `sve`: SVE is enabled.
        sve, with_sve: SVE;
        /// `pmu`: the PMU is enabled.
        pmu, with_pmu: PMU;
    }
    other_fields: []
}

crate::abi_fieldset! {
    /// DEN0137 1.0, B4.4.13 `RmiRecCreateFlags`: `RmiRecParams.flags`.
    pub struct RmiRecCreateFlags: REC_CREATE_FLAGS {
        /// `runnable`: the REC is eligible for execution (RMI_RUNNABLE).
        runnable, with_runnable: RUNNABLE;
    }
    other_fields: []
}

crate::abi_fieldset! {
    /// DEN0137 1.0, B4.4.15 `RmiRecEnterFlags`: `RmiRecEnter.flags`.
    pub struct RmiRecEnterFlags: REC_ENTER_FLAGS {
        /// `emul_mmio`: the Host has completed emulation of an Emulatable Data Abort
        /// (RMI_EMULATED_MMIO).
        emul_mmio, with_emul_mmio: EMUL_MMIO;
        /// `inject_sea`: inject a Synchronous External Abort into the Realm
        /// (RMI_INJECT_SEA).
        inject_sea, with_inject_sea: INJECT_SEA;
        /// `trap_wfi`: trap WFI execution by the Realm (RMI_TRAP).
        trap_wfi, with_trap_wfi: TRAP_WFI;
        /// `trap_wfe`: trap WFE execution by the Realm (RMI_TRAP).
        trap_wfe, with_trap_wfe: TRAP_WFE;
    }
    other_fields: [RIPAS_RESPONSE]
}

impl RmiRecCreateFlags {
    /// The `runnable` field as its enumeration.
    pub const fn runnable_state(self) -> RmiRecRunnable {
        if self.runnable() {
            RmiRecRunnable::Runnable
        } else {
            RmiRecRunnable::NotRunnable
        }
    }
}

impl RmiRecEnterFlags {
    /// `ripas_response`: the Host's response to the pending RIPAS change request.
    pub const fn ripas_response(self) -> RmiResponse {
        if field_get(REC_ENTER_FLAGS::RIPAS_RESPONSE, self.0) != 0 {
            RmiResponse::Reject
        } else {
            RmiResponse::Accept
        }
    }

    /// Returns a copy with `ripas_response` set to `response`.
    pub const fn with_ripas_response(self, response: RmiResponse) -> Self {
        Self(field_set(
            REC_ENTER_FLAGS::RIPAS_RESPONSE,
            self.0,
            response as u64,
        ))
    }
}
