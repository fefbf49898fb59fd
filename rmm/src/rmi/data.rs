//! RMI_DATA_CREATE, RMI_DATA_CREATE_UNKNOWN and RMI_DATA_DESTROY.

use crate::Storage;

use platform::{Arch, PhysAddr};
use rmi_abi::enums::{RmiDataFlags, RmiRealmState, RmiRipas};
use rmi_abi::RmiError;

use super::Completion;
use crate::granule::{DataKind, DelegatedKind, Locked, RdKind};
use crate::measurement::extend_data_field;
use crate::realm::rd_mut;
use crate::rtt::geometry::PAGE_LEVEL;
use crate::rtt::walk::walk;
use crate::rtt::Rtte;
use crate::Rmm;

use super::PA_LIMIT_NO_LPA2;

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// Locks the DATA (DELEGATED) and RD granules in address order; reports the first
    /// failing condition of data_align, data_bound, data_state, data_bound2, rd_align,
    /// rd_bound, rd_state (all ERROR_INPUT).
    fn lock_data_and_rd(
        &self,
        data: PhysAddr,
        rd: PhysAddr,
    ) -> Result<(Locked<'_, DelegatedKind>, Locked<'_, RdKind>), RmiError> {
        let (data_lock, mut rd_lock) = self
            .granules
            .lock_pair_as::<DelegatedKind, RdKind>(data, rd)?;
        // data_bound2: the realm (`realm.feat_lpa2`) is known once the RD is locked.
        let lpa2 = self.realm_info(&mut rd_lock).geometry.format.is_lpa2();
        if !lpa2 && data.0 >= PA_LIMIT_NO_LPA2 {
            return Err(RmiError::Input);
        }
        Ok((data_lock, rd_lock))
    }

    /// DEN0137 1.0, RMI_DATA_CREATE (x1 RD, x2 DATA, x3 IPA, x4 source, x5 flags).
    ///
    /// Failure conditions, in order: src_align, src_bound, src_pas, data_align,
    /// data_bound, data_state, data_bound2, rd_align, rd_bound, rd_state, ipa_align,
    /// ipa_bound (ERROR_INPUT); realm_state (ERROR_REALM); rtt_walk, rtte_state
    /// (ERROR_RTT). Flags other than the two `RmiDataFlags` values are rejected with
    /// ERROR_INPUT before anything else (an invalid encoding of the input).
    ///
    /// The source is copied once, straight into the DATA granule (locked, DELEGATED and
    /// so zero), and what is measured is that granule's content after the copy: the
    /// host cannot change it any more, and the realm gets exactly the bytes measured.
    /// src_pas is the copy faulting. It is checked after the other ERROR_INPUT
    /// conditions (the order among those is not observable: they all report the same
    /// status) and before realm_state, rtt_walk and rtte_state, whose statuses differ.
    /// When one of those fails, or the copy faults part-way, the granule is zeroed
    /// before its lock drops: a DELEGATED granule is all zero.
    pub(super) fn data_create(
        &self,
        rd: PhysAddr,
        data: PhysAddr,
        ipa: u64,
        src: PhysAddr,
        flags: u64,
    ) -> Result<(), RmiError> {
        let flags = RmiDataFlags::decode(flags).map_err(|_| RmiError::Input)?;
        // src_align, src_bound
        if !src.is_granule_aligned() || self.granules.get(src).is_none() {
            return Err(RmiError::Input);
        }
        let (mut data_lock, mut rd_lock) = self.lock_data_and_rd(data, rd)?;
        let realm = self.realm_info(&mut rd_lock);
        // ipa_align, ipa_bound
        if !ipa.is_multiple_of(4096) || !realm.geometry.is_protected(ipa) {
            return Err(RmiError::Input);
        }
        // src_pas
        let copied = self
            .arch
            .read_ns(src, 0, &mut self.arch.map_realm(&mut data_lock).0);
        if copied.is_err() {
            self.scrub(data_lock);
            return Err(RmiError::Input);
        }
        phase!(self.arch, Copied);
        // realm_state
        if realm.state != RmiRealmState::New {
            self.scrub(data_lock);
            return Err(RmiError::Realm(0));
        }
        let mut w = walk(&self.arch, &self.granules, &realm, ipa, PAGE_LEVEL);
        // rtt_walk, rtte_state
        if w.level() < PAGE_LEVEL || !matches!(w.entry(), Rtte::Unassigned(_)) {
            let level = w.level();
            drop(w);
            self.scrub(data_lock);
            return Err(RmiError::Rtt(level));
        }
        phase!(self.arch, Checked);
        {
            let page = self.arch.map_realm(&mut data_lock);
            let mut m = self.arch.map_realm(&mut rd_lock);
            let measured = (flags == RmiDataFlags::MeasureContent).then_some(&page.0);
            // The RD's RIM field is only ever written with a measurement of the realm's
            // algorithm: zero past its digest.
            extend_data_field(
                &mut rd_mut(&mut m).measurements[0],
                realm.hash_algo.into(),
                &self.sha2(),
                ipa,
                flags,
                measured,
            );
        }
        phase!(self.arch, Measured);
        data_lock.transition::<DataKind>();
        w.set(
            &self.arch,
            &realm,
            ipa,
            Rtte::Assigned {
                pa: data.0,
                ripas: RmiRipas::Ram,
            },
        );
        Ok(())
    }

    /// DEN0137 1.0, RMI_DATA_CREATE_UNKNOWN (x1 RD, x2 DATA, x3 IPA). Failure
    /// conditions: data_align, data_bound, data_state, data_bound2, rd_align, rd_bound,
    /// rd_state, ipa_align, ipa_bound (ERROR_INPUT); rtt_walk, rtte_state (ERROR_RTT).
    /// The granule keeps its zero contents and the entry its RIPAS; nothing is measured.
    pub(super) fn data_create_unknown(
        &self,
        rd: PhysAddr,
        data: PhysAddr,
        ipa: u64,
    ) -> Result<(), RmiError> {
        let (data_lock, mut rd_lock) = self.lock_data_and_rd(data, rd)?;
        let realm = self.realm_info(&mut rd_lock);
        if !ipa.is_multiple_of(4096) || !realm.geometry.is_protected(ipa) {
            return Err(RmiError::Input);
        }
        let mut w = walk(&self.arch, &self.granules, &realm, ipa, PAGE_LEVEL);
        let ripas = match w.entry() {
            Rtte::Unassigned(ripas) if w.level() == PAGE_LEVEL => ripas,
            _ => return Err(RmiError::Rtt(w.level())),
        };
        data_lock.transition::<DataKind>();
        w.set(
            &self.arch,
            &realm,
            ipa,
            Rtte::Assigned { pa: data.0, ripas },
        );
        Ok(())
    }

    /// DEN0137 1.0, RMI_DATA_DESTROY (x1 RD, x2 IPA); returns x1 = the DATA granule and
    /// x2 = top (the next live entry), top also on ERROR_RTT. Failure conditions:
    /// rd_align, rd_bound, rd_state, ipa_align, ipa_bound (ERROR_INPUT); rtt_walk,
    /// rtte_state (ERROR_RTT, top = walk_top). RIPAS RAM becomes DESTROYED; the granule
    /// is zeroed and returns to DELEGATED.
    pub(super) fn data_destroy(&self, rd: PhysAddr, ipa: u64) -> Completion {
        let mut rd_lock = match self.lock_rd(rd) {
            Ok(l) => l,
            Err(e) => return Completion::new(Err(e), [0, 0]),
        };
        let realm = self.realm_info(&mut rd_lock);
        if !ipa.is_multiple_of(4096) || !realm.geometry.is_protected(ipa) {
            return Completion::new(Err(RmiError::Input), [0, 0]);
        }
        let mut w = walk(&self.arch, &self.granules, &realm, ipa, PAGE_LEVEL);
        let (pa, ripas) = match w.entry() {
            Rtte::Assigned { pa, ripas } if w.level() == PAGE_LEVEL => (PhysAddr(pa), ripas),
            _ => {
                let top = w.skip_non_live(&self.arch, ipa);
                return Completion::new(Err(RmiError::Rtt(w.level())), [0, top]);
            }
        };
        let new_ripas = if ripas == RmiRipas::Ram {
            RmiRipas::Destroyed
        } else {
            ripas
        };
        w.set(&self.arch, &realm, ipa, Rtte::Unassigned(new_ripas));
        // RTT before DATA in the internal locking order.
        let data_lock = self
            .granules
            .lock_as::<DataKind>(pa)
            .unwrap_or_else(|e| panic!("RTT maps {pa} which is not DATA ({e:?})"));
        self.scrub(data_lock);
        let top = w.skip_non_live(&self.arch, ipa);
        Completion::ok([pa.0, top])
    }
}
