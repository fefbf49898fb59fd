//! RMI_FEATURES.

use crate::Storage;

use platform::Arch;
use rmi_abi::features::RMI_FEATURE_REGISTER_0_INDEX;

use super::Completion;
use crate::Rmm;

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// DEN0137 1.0, RMI_FEATURES: x1 = feature register index; returns x1 = its value.
    /// Register 0 is [`crate::cpu_features::CpuFeatures::feature_reg0`]; every other
    /// index reads as zero. No failure conditions.
    pub(super) fn rmi_features(&self, index: u64) -> Completion {
        let value = if index == RMI_FEATURE_REGISTER_0_INDEX {
            // The fields are built from 4-bit ID register fields and constants, all of
            // which fit; an overflow would be an RMM bug, reported as zero features.
            self.features.feature_reg0().encode().unwrap_or(0)
        } else {
            0
        };
        Completion::ok([value])
    }
}
