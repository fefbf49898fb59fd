//! RMI_VERSION.

use crate::Storage;

use platform::Arch;
use rmi_abi::version::RMI_ABI_VERSION;
use rmi_abi::{AbiVersion, RmiError};

use super::Completion;
use crate::Rmm;

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// DEN0137 1.0, RMI_VERSION: x1 = requested version; returns x1 = lowest and x2 =
    /// highest implemented version whatever the status. The status is ERROR_INPUT unless
    /// the requested version is one this RMM implements (1.0 only); a value that is not a
    /// version encoding (bit 31 or bits [63:32] set) is not implemented either.
    pub(super) fn rmi_version(&self, requested: u64) -> Completion {
        let v = RMI_ABI_VERSION.encode();
        let status = match AbiVersion::decode(requested) {
            Ok(req) if req == RMI_ABI_VERSION => Ok(()),
            _ => Err(RmiError::Input),
        };
        Completion::new(status, [v, v])
    }
}
