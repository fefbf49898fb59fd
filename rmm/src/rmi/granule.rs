//! RMI_GRANULE_DELEGATE and RMI_GRANULE_UNDELEGATE.

use crate::Storage;

use platform::el3::{El3Error, RMM_GTSI_DELEGATE, RMM_GTSI_UNDELEGATE};
use platform::{Arch, CpuId, PhysAddr};
use rmi_abi::RmiError;

use crate::granule::{DelegatedKind, GranuleState, NsKind};
use crate::Rmm;

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// DEN0137 1.0, RMI_GRANULE_DELEGATE: NS -> DELEGATED.
    ///
    /// Failure conditions, in order:
    /// - `gran_align`: `addr` not granule aligned -> ERROR_INPUT
    /// - `gran_bound`: `addr` not delegable memory -> ERROR_INPUT
    /// - `gran_state`: granule state is not NS -> ERROR_INPUT
    /// - `gran_gpt`: EL3 refuses the PAS change (the granule is not in the Non-secure
    ///   PAS) -> ERROR_INPUT
    ///
    /// On success the granule is zero-filled (a DELEGATED granule is always zero).
    pub(super) fn granule_delegate(&self, cpu: CpuId, addr: PhysAddr) -> Result<(), RmiError> {
        // gran_align
        if !addr.is_granule_aligned() {
            return Err(RmiError::Input);
        }
        // gran_bound, gran_state
        let g = self.granules.lock_as::<NsKind>(addr)?;
        // gran_gpt
        phase!(self.arch, El3Call);
        let [x0, ..] = self.arch.el3_call(cpu, RMM_GTSI_DELEGATE, &[addr.0]);
        phase!(self.arch, El3Done);
        if let Err(e) = El3Error::check(x0) {
            log::debug!("GTSI delegate {addr} refused: {e:?}");
            return Err(RmiError::Input);
        }
        // DELEGATED only once zero: the lock is held until then.
        let mut g = g.transition::<DelegatedKind>();
        self.arch.zero_granule(&mut g);
        Ok(())
    }

    /// DEN0137 1.0, RMI_GRANULE_UNDELEGATE: DELEGATED -> NS.
    ///
    /// Failure conditions, in order:
    /// - `gran_align`: `addr` not granule aligned -> ERROR_INPUT
    /// - `gran_bound`: `addr` not delegable memory -> ERROR_INPUT
    /// - `gran_state`: granule state is not DELEGATED -> ERROR_INPUT
    ///
    /// The granule is already zero (DELEGATED invariant), so nothing of the realm world
    /// reaches the host.
    pub(super) fn granule_undelegate(&self, cpu: CpuId, addr: PhysAddr) -> Result<(), RmiError> {
        // gran_align
        if !addr.is_granule_aligned() {
            return Err(RmiError::Input);
        }
        // gran_bound
        let g = self.granules.lock(addr).ok_or(RmiError::Input)?;
        // gran_state
        if !g.is(GranuleState::Delegated) {
            return Err(RmiError::Input);
        }
        phase!(self.arch, El3Call);
        let [x0, ..] = self.arch.el3_call(cpu, RMM_GTSI_UNDELEGATE, &[addr.0]);
        phase!(self.arch, El3Done);
        if let Err(e) = El3Error::check(x0) {
            // EL3 delegated this granule for us; refusing it back is an EL3 fault. The
            // granule stays DELEGATED (and zero), and the host is told its input failed.
            log::error!("GTSI undelegate {addr} refused by EL3: {e:?}");
            return Err(RmiError::Input);
        }
        g.set_state_and_unlock(GranuleState::Ns);
        Ok(())
    }
}
