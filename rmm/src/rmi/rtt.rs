//! RMI commands on Realm Translation Tables: RTT_CREATE, RTT_DESTROY, RTT_FOLD,
//! RTT_READ_ENTRY, RTT_MAP_UNPROTECTED, RTT_UNMAP_UNPROTECTED, RTT_INIT_RIPAS.

use crate::Storage;

use platform::{Arch, PhysAddr};
use rmi_abi::enums::{RmiRealmState, RmiRipas};
use rmi_abi::RmiError;

use super::Completion;
use super::PA_LIMIT_NO_LPA2;
use crate::granule::{DelegatedKind, Locked, RdKind, RttKind};
use crate::measurement::Measurement;
use crate::realm::{rd_mut, RealmInfo};
use crate::rtt::entry::{is_valid_for_unprotected, unfold, UnprotectedDesc};
use crate::rtt::geometry::{entry_index, entry_size, is_level_aligned, Level, ENTRIES, PAGE_LEVEL};
use crate::rtt::walk::{entries_mut, read_entry, walk};
use crate::rtt::Rtte;
use crate::Rmm;

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// The realm attributes of a locked RD.
    pub(crate) fn realm_info(&self, rd: &mut Locked<'_, RdKind>) -> RealmInfo {
        rd_mut(&mut self.arch.map_realm(rd)).info()
    }

    /// The checks RTT commands share after the RD: `level_bound` (a valid level;
    /// `not_start` excludes the start level, `leaf_only` requires a block or page
    /// level), `ipa_align` (to `align_level`), `ipa_bound` (inside the IPA space).
    fn check_level_ipa(
        realm: &RealmInfo,
        level: i64,
        ipa: u64,
        not_start: bool,
        leaf_only: bool,
        align_to_parent: bool,
    ) -> Result<Level, RmiError> {
        let geo = &realm.geometry;
        // level_bound
        let ok = if leaf_only {
            geo.level_is_block_or_page(level)
        } else {
            geo.level_is_valid(level) && !(not_start && level == geo.start_level as i64)
        };
        if !ok {
            return Err(RmiError::Input);
        }
        let level = level as Level;
        // ipa_align
        let align_level = if align_to_parent { level - 1 } else { level };
        if !is_level_aligned(ipa, align_level) {
            return Err(RmiError::Input);
        }
        // ipa_bound
        if !geo.in_range(ipa) {
            return Err(RmiError::Input);
        }
        Ok(level)
    }

    /// DEN0137 1.0, RMI_RTT_CREATE (x1 RD, x2 RTT, x3 IPA, x4 level). Failure
    /// conditions: rd_align, rd_bound, rd_state, level_bound, ipa_align, ipa_bound,
    /// rtt_align, rtt_bound, rtt_state, rtt_bound2 (ERROR_INPUT); rtt_walk, rtte_state
    /// (ERROR_RTT at the level the walk reached).
    ///
    /// The new RTT unfolds the parent entry: every child entry takes the parent's state
    /// and RIPAS, and an ASSIGNED parent block becomes contiguous child mappings.
    pub(super) fn rtt_create(
        &self,
        rd: PhysAddr,
        rtt: PhysAddr,
        ipa: u64,
        level: i64,
    ) -> Result<(), RmiError> {
        // The RD and the new RTT are both named by the host: locked in address order.
        let (mut rd_lock, mut rtt_lock) =
            match self.granules.lock_pair_as::<RdKind, DelegatedKind>(rd, rtt) {
                Ok(pair) => pair,
                Err(_) => {
                    // Report the first failing condition in the specification's order.
                    self.lock_rd(rd)?;
                    return Err(RmiError::Input);
                }
            };
        let realm = self.realm_info(&mut rd_lock);
        let level = Self::check_level_ipa(&realm, level, ipa, true, false, true)?;
        // rtt_bound2
        if !realm.geometry.format.is_lpa2() && rtt.0 >= PA_LIMIT_NO_LPA2 {
            return Err(RmiError::Input);
        }
        let parent_level = level - 1;
        let mut w = walk(&self.arch, &self.granules, &realm, ipa, parent_level);
        // rtt_walk
        if w.level() < parent_level {
            return Err(RmiError::Rtt(w.level()));
        }
        // rtte_state
        if let Rtte::Table(_) = w.entry() {
            return Err(RmiError::Rtt(w.level()));
        }
        phase!(self.arch, Checked);
        // Unfold the parent entry into the new table.
        let live = {
            let mut m = self.arch.map_realm(&mut rtt_lock);
            unfold(w.entry(), level, realm.geometry.format, entries_mut(&mut m))
        };
        phase!(self.arch, Filled);
        let rtt_lock = rtt_lock.transition::<RttKind>();
        if live != 0 {
            let ok = rtt_lock.granule().try_get(live);
            debug_assert!(ok);
        }
        w.set(&self.arch, &realm, ipa, Rtte::Table(rtt.0));
        drop(rd_lock);
        Ok(())
    }

    /// DEN0137 1.0, RMI_RTT_DESTROY (x1 RD, x2 IPA, x3 level); returns x1 = the RTT
    /// destroyed and x2 = top (the next live entry's IPA), also on ERROR_RTT. Failure
    /// conditions: rd_*, level_bound, ipa_align, ipa_bound (ERROR_INPUT); rtt_walk,
    /// rtte_state (ERROR_RTT at the walk's level, top = walk_top); rtt_live (ERROR_RTT
    /// at `level`, top = `ipa`).
    pub(super) fn rtt_destroy(&self, rd: PhysAddr, ipa: u64, level: i64) -> Completion {
        let mut rd_lock = match self.lock_rd(rd) {
            Ok(l) => l,
            Err(e) => return Completion::new(Err(e), [0, 0]),
        };
        let realm = self.realm_info(&mut rd_lock);
        let level = match Self::check_level_ipa(&realm, level, ipa, true, false, true) {
            Ok(l) => l,
            Err(e) => return Completion::new(Err(e), [0, 0]),
        };
        let mut w = walk(&self.arch, &self.granules, &realm, ipa, level - 1);
        let walk_top = |w: &mut crate::rtt::walk::Walk<'_>| w.skip_non_live(&self.arch, ipa);
        // rtt_walk, rtte_state
        let child = match w.entry() {
            Rtte::Table(child) if w.level() == level - 1 => PhysAddr(child),
            _ => return Completion::new(Err(RmiError::Rtt(w.level())), [0, walk_top(&mut w)]),
        };
        // Internal granules after the RD and the parent: the child RTT.
        let child_lock = crate::rtt::walk::lock_rtt(&self.granules, child);
        // rtt_live
        if child_lock.granule().refcount() != 0 {
            return Completion::new(Err(RmiError::Rtt(level)), [0, ipa]);
        }
        let parent_entry = if realm.geometry.is_protected(ipa) {
            Rtte::Unassigned(RmiRipas::Destroyed)
        } else {
            Rtte::UnassignedNs
        };
        // Unhooks the child and invalidates its whole range (it may hold valid
        // unprotected mappings) before the child is scrubbed.
        w.set(&self.arch, &realm, ipa, parent_entry);
        self.scrub(child_lock);
        let top = walk_top(&mut w);
        Completion::ok([child.0, top])
    }

    /// DEN0137 1.0, RMI_RTT_FOLD (x1 RD, x2 IPA, x3 level); returns x1 = the RTT
    /// destroyed. Failure conditions: rd_*, level_bound, ipa_align, ipa_bound
    /// (ERROR_INPUT); rtt_walk, rtte_state (ERROR_RTT at the walk's level); rtt_homo
    /// (ERROR_RTT at `level`).
    pub(super) fn rtt_fold(
        &self,
        rd: PhysAddr,
        ipa: u64,
        level: i64,
    ) -> Result<[u64; 1], RmiError> {
        let mut rd_lock = self.lock_rd(rd)?;
        let realm = self.realm_info(&mut rd_lock);
        let level = Self::check_level_ipa(&realm, level, ipa, true, false, true)?;
        let mut w = walk(&self.arch, &self.granules, &realm, ipa, level - 1);
        let child = match w.entry() {
            Rtte::Table(child) if w.level() == level - 1 => PhysAddr(child),
            _ => return Err(RmiError::Rtt(w.level())),
        };
        let mut child_lock = crate::rtt::walk::lock_rtt(&self.granules, child);
        // rtt_homo
        let folded = self
            .fold_result(&mut child_lock, level, realm.geometry.format)
            .ok_or(RmiError::Rtt(level))?;
        let live = child_lock.granule().refcount();
        if live != 0 {
            child_lock.granule().put(live);
        }
        // Break (table invalid, its whole range invalidated), then make (the block).
        w.set(&self.arch, &realm, ipa, folded);
        self.scrub(child_lock);
        Ok([child.0])
    }

    /// DEN0137 1.0, `RttIsHomogeneous` / `RttFold`: the parent entry replacing the
    /// level `level` RTT at `rtt`, if its entries allow it (A5.5.6).
    fn fold_result(
        &self,
        rtt: &mut Locked<'_, RttKind>,
        level: Level,
        fmt: crate::rtt::entry::DescFormat,
    ) -> Option<Rtte> {
        let first = read_entry(&self.arch, rtt, 0, level, fmt);
        let size = entry_size(level);
        let parent_size = size * ENTRIES as u64;
        let mut m = self.arch.map_realm(rtt);
        let entries = entries_mut(&mut m);
        let all = |f: &dyn Fn(usize, Rtte) -> bool| {
            entries
                .iter()
                .enumerate()
                .all(|(i, &d)| Rtte::decode(d, level, fmt).is_some_and(|e| f(i, e)))
        };
        let block_ok = level >= 2;
        match first {
            Rtte::Unassigned(r) if all(&|_, e| e == Rtte::Unassigned(r)) => Some(first),
            Rtte::UnassignedNs if all(&|_, e| e == Rtte::UnassignedNs) => Some(first),
            Rtte::Assigned { pa, ripas }
                if block_ok
                    && pa % parent_size == 0
                    && all(&|i, e| {
                        e == Rtte::Assigned {
                            pa: pa + i as u64 * size,
                            ripas,
                        }
                    }) =>
            {
                Some(first)
            }
            Rtte::AssignedNs { pa, attrs }
                if block_ok
                    && pa.is_multiple_of(parent_size)
                    && all(&|i, e| {
                        e == Rtte::AssignedNs {
                            pa: pa + i as u64 * size,
                            attrs,
                        }
                    }) =>
            {
                Some(first)
            }
            _ => None,
        }
    }

    /// DEN0137 1.0, RMI_RTT_READ_ENTRY (x1 RD, x2 IPA, x3 level); returns x1 = the level
    /// the walk reached, x2 = state, x3 = descriptor or address, x4 = RIPAS. Failure
    /// conditions: rd_*, level_bound, ipa_align, ipa_bound (ERROR_INPUT).
    pub(super) fn rtt_read_entry(
        &self,
        rd: PhysAddr,
        ipa: u64,
        level: i64,
    ) -> Result<[u64; 4], RmiError> {
        let mut rd_lock = self.lock_rd(rd)?;
        let realm = self.realm_info(&mut rd_lock);
        let level = Self::check_level_ipa(&realm, level, ipa, false, false, false)?;
        let w = walk(&self.arch, &self.granules, &realm, ipa, level);
        let (state, desc, ripas) = w.entry().read_entry(realm.geometry.format);
        Ok([
            w.level() as u64,
            state.raw() as u64,
            desc,
            ripas.raw() as u64,
        ])
    }

    /// DEN0137 1.0, RMI_RTT_MAP_UNPROTECTED (x1 RD, x2 IPA, x3 level, x4 descriptor).
    /// Failure conditions: attr_valid, rd_*, level_bound, addr_align, addr_bound,
    /// ipa_align, ipa_bound (ERROR_INPUT); rtt_walk, rtte_state (ERROR_RTT).
    pub(super) fn rtt_map_unprotected(
        &self,
        rd: PhysAddr,
        ipa: u64,
        level: i64,
        desc: u64,
    ) -> Result<(), RmiError> {
        // attr_valid
        if !is_valid_for_unprotected(desc) {
            return Err(RmiError::Input);
        }
        let mut rd_lock = self.lock_rd(rd)?;
        let realm = self.realm_info(&mut rd_lock);
        // level_bound
        if !realm.geometry.level_is_block_or_page(level) {
            return Err(RmiError::Input);
        }
        // addr_align, addr_bound
        let host = UnprotectedDesc::decode(desc);
        if !is_level_aligned(host.addr, level as Level)
            || (!realm.geometry.format.is_lpa2() && host.addr >= PA_LIMIT_NO_LPA2)
        {
            return Err(RmiError::Input);
        }
        let level = Self::check_level_ipa(&realm, level, ipa, false, true, false)?;
        // ipa_bound: unprotected only
        if realm.geometry.is_protected(ipa) {
            return Err(RmiError::Input);
        }
        let mut w = walk(&self.arch, &self.granules, &realm, ipa, level);
        // rtt_walk, rtte_state
        if w.level() < level || w.entry() != Rtte::UnassignedNs {
            return Err(RmiError::Rtt(w.level()));
        }
        let entry = Rtte::AssignedNs {
            pa: host.addr,
            attrs: host.attrs,
        };
        w.set(&self.arch, &realm, ipa, entry);
        Ok(())
    }

    /// DEN0137 1.0, RMI_RTT_UNMAP_UNPROTECTED (x1 RD, x2 IPA, x3 level); returns x1 =
    /// top, also on ERROR_RTT. Failure conditions: rd_*, level_bound, ipa_align,
    /// ipa_bound (ERROR_INPUT); rtt_walk, rtte_state (ERROR_RTT, top = walk_top).
    pub(super) fn rtt_unmap_unprotected(&self, rd: PhysAddr, ipa: u64, level: i64) -> Completion {
        let mut rd_lock = match self.lock_rd(rd) {
            Ok(l) => l,
            Err(e) => return Completion::new(Err(e), [0]),
        };
        let realm = self.realm_info(&mut rd_lock);
        let level = match Self::check_level_ipa(&realm, level, ipa, false, true, false) {
            Ok(l) if !realm.geometry.is_protected(ipa) => l,
            Ok(_) => return Completion::new(Err(RmiError::Input), [0]),
            Err(e) => return Completion::new(Err(e), [0]),
        };
        let mut w = walk(&self.arch, &self.granules, &realm, ipa, level);
        if w.level() < level || !matches!(w.entry(), Rtte::AssignedNs { .. }) {
            let top = w.skip_non_live(&self.arch, ipa);
            return Completion::new(Err(RmiError::Rtt(w.level())), [top]);
        }
        w.set(&self.arch, &realm, ipa, Rtte::UnassignedNs);
        Completion::ok([w.skip_non_live(&self.arch, ipa)])
    }

    /// DEN0137 1.0, RMI_RTT_INIT_RIPAS (x1 RD, x2 base, x3 top); returns x1 = the top of
    /// the range whose RIPAS became RAM. Failure conditions, in order: rd_*, size_valid,
    /// top_bound (ERROR_INPUT); realm_state (ERROR_REALM); base_align, rtte_state
    /// (ERROR_RTT); top_gran_align (ERROR_INPUT); no_progress (ERROR_RTT).
    ///
    /// Every entry of the RTT the walk reached, from `base` up to the first TABLE entry,
    /// the end of that RTT or `top` (rounded down to an entry), gets RIPAS RAM, and the
    /// RIM is extended once per entry.
    pub(super) fn rtt_init_ripas(
        &self,
        rd: PhysAddr,
        base: u64,
        top: u64,
    ) -> Result<[u64; 1], RmiError> {
        let mut rd_lock = self.lock_rd(rd)?;
        let realm = self.realm_info(&mut rd_lock);
        // size_valid
        if top <= base {
            return Err(RmiError::Input);
        }
        // top_bound
        if top < 4096 || !realm.geometry.is_protected(top - 4096) {
            return Err(RmiError::Input);
        }
        // realm_state
        if realm.state != RmiRealmState::New {
            return Err(RmiError::Realm(0));
        }
        let mut w = walk(&self.arch, &self.granules, &realm, base, PAGE_LEVEL);
        // base_align
        if !is_level_aligned(base, w.level()) {
            return Err(RmiError::Rtt(w.level()));
        }
        // rtte_state
        if !matches!(w.entry(), Rtte::Unassigned(_)) {
            return Err(RmiError::Rtt(w.level()));
        }
        // top_gran_align
        if !top.is_multiple_of(4096) {
            return Err(RmiError::Input);
        }
        // walk_top: the first TABLE entry, the end of this RTT, or top; entry aligned.
        let size = entry_size(w.level());
        let first = entry_index(base, w.level());
        let walk_top =
            w.scan_until(&self.arch, base, top, |e| matches!(e, Rtte::Table(_))) & !(size - 1);
        // no_progress
        if walk_top == base {
            return Err(RmiError::Rtt(w.level()));
        }
        let mut rim = {
            let mut m = self.arch.map_realm(&mut rd_lock);
            Measurement::from_raw(realm.hash_algo.into(), rd_mut(&mut m).measurements[0])
        };
        let n = ((walk_top - base) / size) as usize;
        let sha2 = self.sha2();
        for i in first..first + n {
            let ipa = base + (i - first) as u64 * size;
            let new = match w.read_entry(&self.arch, i) {
                Rtte::Assigned { pa, .. } => Rtte::Assigned {
                    pa,
                    ripas: RmiRipas::Ram,
                },
                _ => Rtte::Unassigned(RmiRipas::Ram),
            };
            w.write_entry(&self.arch, i, new);
            rim.extend_ripas(&sha2, ipa, ipa + size);
        }
        rd_mut(&mut self.arch.map_realm(&mut rd_lock)).measurements[0] = *rim.as_bytes();
        Ok([walk_top])
    }
}
