//! RMI_RTT_SET_RIPAS (DEN0137 1.0, B4.3.21; A5.4 RIPAS change).

use crate::Storage;

use platform::{Arch, PhysAddr};
use rmi_abi::enums::RmiRipas;
use rmi_abi::RmiError;

use crate::granule::{RdKind, RecKind};
use crate::rec::rec_mut;
use crate::rsi::ipa_state::entry_ripas;
use crate::rtt::geometry::{entry_index, entry_size, is_level_aligned, ENTRIES, PAGE_LEVEL};
use crate::rtt::walk::walk;
use crate::rtt::Rtte;
use crate::Rmm;

/// The granule size.
const GRANULE: u64 = 4096;

/// The REC's pending RIPAS change request (A2.3.2 `ripas_*` attributes).
struct Request {
    /// `rec.owner`.
    owner: u64,
    /// `rec.ripas_addr`: the next address whose RIPAS is to change.
    addr: u64,
    /// `rec.ripas_top`.
    top: u64,
    /// `rec.ripas_value`.
    value: RmiRipas,
    /// `rec.ripas_destroyed == CHANGE_DESTROYED`.
    change_destroyed: bool,
}

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// DEN0137 1.0, B4.3.21 RMI_RTT_SET_RIPAS (x1 RD, x2 REC, x3 base, x4 top); returns
    /// x1 = out_top, the top of the range whose RIPAS now is the requested one.
    ///
    /// Failure conditions, in the specification's order: rd_align, rd_bound, rd_state,
    /// rec_align, rec_bound, rec_gran_state (ERROR_INPUT); rec_state (the REC is running
    /// on a CPU), rec_owner (ERROR_REC); size_valid, base_bound (`base` is not
    /// `rec.ripas_addr`), top_bound (ERROR_INPUT); base_align (ERROR_RTT at the walk's
    /// level); top_gran_align (ERROR_INPUT, which the reference lacks); no_progress
    /// (ERROR_RTT at the walk's level). A REC with no request pending has
    /// `ripas_addr == ripas_top == 0` (A4.3.8), so size_valid or top_bound rejects it.
    ///
    /// The RD and the REC are both named by the host: they are locked in address order
    /// ([`crate::granule::GranuleTable::lock_pair_as`]), then the RTTs are walked.
    ///
    /// The entries changed are those of the RTT the walk to `base` reached, from `base`
    /// up to `walk_top` (`RttSkipEntriesWithRipas`: the first TABLE entry, or with
    /// NO_CHANGE_DESTROYED the first DESTROYED one, the end of that RTT, or `top`,
    /// aligned down to the entry size). UNASSIGNED entries change RIPAS; ASSIGNED
    /// entries keep their DATA and change RIPAS, a RAM mapping becoming invalid (with a
    /// stage-2 TLB invalidation) or valid (no invalidation: nothing invalid is cached).
    /// DESTROYED changes only with CHANGE_DESTROYED. No entry changes state, so no
    /// reference count does.
    ///
    /// Decision where the spec's formula makes no progress: if the entry at `base`
    /// already has the requested RIPAS and `top` lies within it (so `walk_top`, aligned
    /// down, is at or below `base`; base_align lets an unaligned `base` through in
    /// exactly this case), every IPA in `[base, top)` already has the requested RIPAS
    /// and out_top is `top`, rather than `MinAddress(top, walk_top)`, which would not
    /// advance (or would move `rec.ripas_addr` below `base`).
    pub(super) fn rtt_set_ripas(
        &self,
        rd: PhysAddr,
        rec: PhysAddr,
        base: u64,
        top: u64,
    ) -> Result<[u64; 1], RmiError> {
        // rd_align, rd_bound, rd_state, rec_align, rec_bound, rec_gran_state
        let (mut rd_lock, mut rec_lock) = self.granules.lock_pair_as::<RdKind, RecKind>(rd, rec)?;
        // rec_state: a running REC holds a reference on its granule (and its contents
        // are written back when it exits, so they must not change meanwhile).
        if rec_lock.granule().refcount() != 0 {
            return Err(RmiError::Rec);
        }
        let req = {
            let mut m = self.arch.map_realm(&mut rec_lock);
            let r = rec_mut(&mut m);
            Request {
                owner: r.rd,
                addr: r.ripas_base,
                top: r.ripas_top,
                value: RmiRipas::decode(r.ripas_value as u64).unwrap_or(RmiRipas::Empty),
                change_destroyed: r.ripas_change_destroyed != 0,
            }
        };
        // rec_owner
        if req.owner != rd.0 {
            return Err(RmiError::Rec);
        }
        // size_valid
        if top <= base {
            return Err(RmiError::Input);
        }
        // base_bound
        if base != req.addr {
            return Err(RmiError::Input);
        }
        // top_bound
        if top > req.top {
            return Err(RmiError::Input);
        }
        // From here `base` is the progress of a request RSI_IPA_STATE_SET validated:
        // granule aligned, and `[base, top)` within the Protected IPA space.
        let realm = self.realm_info(&mut rd_lock);
        let mut w = walk(&self.arch, &self.granules, &realm, base, PAGE_LEVEL);
        let ripas = entry_ripas(w.entry())
            .unwrap_or_else(|| panic!("protected IPA {base:#x} has RTT entry {:?}", w.entry()));
        // base_align
        if !is_level_aligned(base, w.level()) && ripas != req.value {
            return Err(RmiError::Rtt(w.level()));
        }
        // top_gran_align
        if !top.is_multiple_of(GRANULE) {
            return Err(RmiError::Input);
        }
        // walk_top = RttSkipEntriesWithRipas(rtt, level, base, top, !change_destroyed)
        let size = entry_size(w.level());
        let table_base = base & !(size * ENTRIES as u64 - 1);
        let first = entry_index(base, w.level());
        let scan_end = w.scan_until(&self.arch, base, top, |e| match e {
            Rtte::Table(_) => true,
            e => !req.change_destroyed && entry_ripas(e) == Some(RmiRipas::Destroyed),
        });
        let walk_top = scan_end & !(size - 1);
        // no_progress
        if walk_top == base && ripas != req.value {
            return Err(RmiError::Rtt(w.level()));
        }
        // Apply the change to every entry in [base, walk_top).
        // (walk_top >= table_base: both top and the first entry's IPA are.)
        let end = ((walk_top - table_base) / size) as usize;
        for i in first..end {
            let ipa = table_base + i as u64 * size;
            let old = w.read_entry(&self.arch, i);
            let new = match old {
                Rtte::Unassigned(r) if r != req.value => Rtte::Unassigned(req.value),
                Rtte::Assigned { pa, ripas: r } if r != req.value => Rtte::Assigned {
                    pa,
                    ripas: req.value,
                },
                _ => continue,
            };
            w.write_entry(&self.arch, i, new);
            // A RAM mapping was a valid descriptor the TLBs may hold.
            if matches!(
                old,
                Rtte::Assigned {
                    ripas: RmiRipas::Ram,
                    ..
                }
            ) {
                self.arch.invalidate_stage2(
                    realm.vmid,
                    platform::Stage2Scope::Leaf {
                        ipa,
                        level: w.level(),
                    },
                );
            }
        }
        let out_top = if walk_top <= base {
            // Only when the entry at `base` already has the requested RIPAS and `top`
            // lies within it (see the decision above).
            debug_assert!(ripas == req.value && scan_end == top);
            top
        } else {
            walk_top
        };
        // ripas_addr
        rec_mut(&mut self.arch.map_realm(&mut rec_lock)).ripas_base = out_top;
        Ok([out_top])
    }
}
