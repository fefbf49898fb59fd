//! The RTT walk (DEN0137 1.0, A5.5.10): from the realm's start-level RTTs down to a
//! target level, stopping early at an entry that is not TABLE.
//!
//! Locking: the caller holds the RD locked; the walk locks the start-level RTT, then
//! each child before releasing its parent (hand over hand), and returns with the RTT
//! it stopped in still locked. RTT memory is only reached through a locked RTT
//! (`&mut Locked<RttKind>`), and the memory an ASSIGNED entry maps only through the
//! walk that holds that entry's RTT locked ([`Walk::target`]).

use crate::Storage;

use platform::{Arch, PhysAddr, PinnedRealmGranule, Stage2Scope};
use rmi_abi::enums::RmiRipas;
use rmi_abi::GRANULE_SIZE;

use super::entry::{DescFormat, Rtte};
use super::geometry::{entries_at, entry_index, entry_size, Level, ENTRIES};
use crate::granule::{GranuleTable, Locked, RttKind};
use crate::realm::RealmInfo;

/// The entries of a mapped RTT granule.
pub fn entries_mut(g: &mut platform::GranuleMem) -> &mut [u64; ENTRIES] {
    zerocopy::transmute_mut!(g)
}

/// Reads entry `index` of the locked RTT `rtt`.
pub fn read_desc<A: Arch>(arch: &A, rtt: &mut Locked<'_, RttKind>, index: usize) -> u64 {
    entries_mut(&mut arch.map_realm(rtt))[index]
}

/// Writes entry `index` of the locked RTT `rtt`.
pub fn write_desc<A: Arch>(arch: &A, rtt: &mut Locked<'_, RttKind>, index: usize, desc: u64) {
    entries_mut(&mut arch.map_realm(rtt))[index] = desc;
}

/// Where a walk stopped.
///
/// Only [`walk`] makes one, and only [`Walk::set`] changes its entry: the fields are
/// private so that a `Walk` (and the [`WalkTarget`] proof it hands out) always stands
/// for an RTT this module locked and an entry read from it.
///
/// ```compile_fail,E0451
/// use rmm::rtt::walk::Walk;
/// use rmm::rtt::Rtte;
/// use rmm::granule::{Locked, RttKind};
/// fn forge(rtt: Locked<'_, RttKind>) -> Walk<'_> {
///     let entry = Rtte::Assigned { pa: 0x4200_0000, ripas: rmi_abi::enums::RmiRipas::Ram };
///     Walk { level: 3, rtt, index: 0, entry } // error: the fields are private
/// }
/// ```
pub struct Walk<'g> {
    level: Level,
    rtt: Locked<'g, RttKind>,
    index: usize,
    entry: Rtte,
    format: DescFormat,
}

/// The invalid descriptor an entry holds between break and make (Arm ARM D8.16.1): only
/// ever seen under the RTT's lock, or by a realm's walk, which faults and is retried.
const BREAK: u64 = 0;

impl Walk<'_> {
    /// Replaces the entry the walk stopped at, keeping the RTT's reference count (its
    /// TABLE and ASSIGNED entries: what makes an RTT live).
    ///
    /// A valid descriptor is replaced with break-before-make (Arm ARM D8.16.1): it is
    /// made invalid, everything the TLBs may hold from it is invalidated (the leaf, or
    /// the whole range a table mapped), and only then is the new entry written.
    pub fn set<A: Arch>(&mut self, arch: &A, realm: &RealmInfo, ipa: u64, entry: Rtte) {
        let old = self.entry;
        let old_desc = old.encode(self.level, self.format);
        let new_desc = entry.encode(self.level, self.format);
        let replaced = old_desc & 1 != 0 && old != entry;
        if replaced {
            let brk = if new_desc & 1 != 0 { BREAK } else { new_desc };
            write_desc(arch, &mut self.rtt, self.index, brk);
            arch.invalidate_stage2(realm.vmid, cached_scope(old, self.level, ipa));
        }
        if !replaced || new_desc & 1 != 0 {
            write_desc(arch, &mut self.rtt, self.index, new_desc);
        }
        match (counts(old), counts(entry)) {
            (false, true) => {
                // At most 512 entries count; the 10-bit count cannot overflow.
                let ok = self.rtt.granule().try_get(1);
                debug_assert!(ok);
            }
            (true, false) => self.rtt.granule().put(1),
            _ => {}
        }
        self.entry = entry;
    }
}

/// The granule an ASSIGNED entry maps, owned through the walk that holds the entry's RTT
/// locked: no command can unmap the entry (DATA_DESTROY, RTT_SET_RIPAS...) and so free
/// or reassign the granule before this proof, which borrows the walk, is dropped.
pub struct WalkTarget<'w, 'g> {
    _walk: &'w mut Walk<'g>,
    pa: PhysAddr,
}

impl PinnedRealmGranule for WalkTarget<'_, '_> {
    fn pinned_pa(&self) -> PhysAddr {
        self.pa
    }
}

impl<'g> Walk<'g> {
    /// The level of the RTT the walk stopped in.
    pub fn level(&self) -> Level {
        self.level
    }

    /// That RTT, locked.
    pub fn rtt(&self) -> &Locked<'g, RttKind> {
        &self.rtt
    }

    /// That RTT, locked, for reading and writing other entries of it.
    pub fn rtt_mut(&mut self) -> &mut Locked<'g, RttKind> {
        &mut self.rtt
    }

    /// The index of the entry for the IPA in that RTT.
    pub fn index(&self) -> usize {
        self.index
    }

    /// That entry.
    pub fn entry(&self) -> Rtte {
        self.entry
    }

    /// The realm's descriptor layout.
    pub fn format(&self) -> DescFormat {
        self.format
    }

    /// Entry `index` of the RTT the walk stopped in (another entry of the same table).
    pub fn read_entry(&mut self, arch: &impl Arch, index: usize) -> Rtte {
        let level = self.level;
        read_entry(arch, &mut self.rtt, index, level, self.format)
    }

    /// Writes entry `index` of the RTT the walk stopped in, which must not be a valid
    /// descriptor replaced by another valid one (that needs [`Walk::set`]'s
    /// break-before-make); the caller invalidates what a valid old entry left cached.
    pub fn write_entry(&mut self, arch: &impl Arch, index: usize, entry: Rtte) {
        let level = self.level;
        write_desc(arch, &mut self.rtt, index, entry.encode(level, self.format));
        if index == self.index {
            self.entry = entry;
        }
    }

    /// [`skip_non_live`] in the RTT the walk stopped in, from `ipa`.
    pub fn skip_non_live(&mut self, arch: &impl Arch, ipa: u64) -> u64 {
        let level = self.level;
        skip_non_live(arch, &mut self.rtt, level, self.format, ipa)
    }

    /// [`scan_entries`] in the RTT the walk stopped in, from `ipa`, below `top`.
    pub fn scan_until(
        &mut self,
        arch: &impl Arch,
        ipa: u64,
        top: u64,
        stop: impl Fn(Rtte) -> bool,
    ) -> u64 {
        let level = self.level;
        scan_entries(arch, &mut self.rtt, level, self.format, ipa, top, stop)
    }

    /// The protected granule containing `ipa` that the entry the walk stopped at maps, if
    /// it is ASSIGNED with RIPAS RAM, and the offset of `ipa` within that granule. The
    /// entry is read again under the lock: the proof follows the table, not a copy.
    pub fn target(&mut self, arch: &impl Arch, ipa: u64) -> Option<(WalkTarget<'_, 'g>, usize)> {
        let (level, index) = (self.level, self.index);
        let entry = read_entry(arch, &mut self.rtt, index, level, self.format);
        debug_assert_eq!(entry, self.entry, "the walk's entry changed under its lock");
        match entry {
            Rtte::Assigned {
                pa,
                ripas: RmiRipas::Ram,
            } => {
                let in_entry = ipa & (entry_size(self.level) - 1);
                let pa = PhysAddr(pa + (in_entry & !(GRANULE_SIZE as u64 - 1)));
                let offset = (in_entry & (GRANULE_SIZE as u64 - 1)) as usize;
                Some((WalkTarget { _walk: self, pa }, offset))
            }
            _ => None,
        }
    }
}

/// What the TLBs may hold from the valid entry `old` at `level` for `ipa`: the leaf's
/// translation, or for a table everything translated through it, its whole range.
fn cached_scope(old: Rtte, level: Level, ipa: u64) -> Stage2Scope {
    let size = entry_size(level);
    let base = ipa & !(size - 1);
    match old {
        Rtte::Table(_) => Stage2Scope::Range { base, size },
        _ => Stage2Scope::Leaf { ipa: base, level },
    }
}

/// Whether an entry counts in its RTT's reference count: whether it makes the RTT live
/// ([`Rtte::makes_rtt_live`], DEN0137 1.0 A5.5.8), which RTT_DESTROY and REALM_DESTROY
/// test. Not [`Rtte::is_live`]: an ASSIGNED_NS entry is live but its RTT is not.
pub fn counts(e: Rtte) -> bool {
    e.makes_rtt_live()
}

/// DEN0137 1.0, `RttSkipNonLiveEntries`: the IPA of the first live entry at or after
/// `ipa` in the level `level` RTT at `rtt` (descriptors in the layout `fmt`), or the
/// end of that RTT's range (512 entries; 16 at level -1).
pub fn skip_non_live<A: Arch>(
    arch: &A,
    rtt: &mut Locked<'_, RttKind>,
    level: Level,
    fmt: DescFormat,
    ipa: u64,
) -> u64 {
    scan_entries(arch, rtt, level, fmt, ipa, u64::MAX, Rtte::is_live)
}

/// The one scan of consecutive RTT entries: the IPA of the first entry of the level
/// `level` RTT at `rtt`, from the one containing `ipa` on and starting below `top`, for
/// which `stop` holds; otherwise the end of that RTT's range or `top`, whichever is
/// lower. The spec's `RttSkipNonLiveEntries` and `RttSkipEntriesWithRipas`, the
/// `walk_top` of RMI_RTT_INIT_RIPAS and the run RSI_IPA_STATE_GET reports are this scan
/// with different `stop`s.
pub fn scan_entries<A: Arch>(
    arch: &A,
    rtt: &mut Locked<'_, RttKind>,
    level: Level,
    fmt: DescFormat,
    ipa: u64,
    top: u64,
    stop: impl Fn(Rtte) -> bool,
) -> u64 {
    let size = entry_size(level);
    let n = entries_at(level);
    let table_base = ipa & !(size * n as u64 - 1);
    let first = ((ipa >> size.trailing_zeros()) as usize) & (n - 1);
    let pa = rtt.pa();
    let mut m = arch.map_realm(rtt);
    let entries = entries_mut(&mut m);
    // Only entries below `top` are scanned; the result without a stop is the end of
    // the table or `top`, whichever is lower, however the scan ended.
    let end = match top.checked_sub(table_base) {
        Some(d) => n.min(usize::try_from(d.div_ceil(size)).unwrap_or(n)),
        None => 0,
    };
    let stops = |i: usize, desc: u64| {
        stop(Rtte::decode(desc, level, fmt).unwrap_or_else(|| corrupt(pa, i, desc)))
    };
    match first_stop(&entries[..], first, end, stops) {
        Some(i) => table_base + i as u64 * size,
        None => (table_base + n as u64 * size).min(top),
    }
}

/// The index of the first of `entries[first..end]` whose descriptor `stops` (given
/// its index and the descriptor), if any.
///
/// `stops` is a function of the descriptor alone, so a descriptor equal to the last one
/// that did not stop does not stop either: runs of identical entries (the unassigned
/// bulk of most tables) cost a compare, not a decode, and are compared eight entries
/// per step (their differences or-ed together, no branch per entry).
fn first_stop(
    entries: &[u64],
    first: usize,
    end: usize,
    stops: impl Fn(usize, u64) -> bool,
) -> Option<usize> {
    let mut i = first;
    while i < end {
        let desc = entries[i];
        if stops(i, desc) {
            return Some(i);
        }
        i += 1;
        i += entries[i..end]
            .chunks_exact(8)
            .take_while(|eight| eight.iter().fold(0, |diff, &e| diff | (e ^ desc)) == 0)
            .count()
            * 8;
        while i < end && entries[i] == desc {
            i += 1;
        }
    }
    None
}

/// An RTT entry that does not decode: the tables hold only descriptors this RMM wrote,
/// so this is a broken invariant, not a host error.
fn corrupt(rtt: PhysAddr, index: usize, desc: u64) -> ! {
    panic!("RTT {rtt} entry {index} holds an unknown descriptor {desc:#x}")
}

/// Decodes entry `index` of the locked level `level` RTT `rtt`, in the layout `fmt`.
pub fn read_entry<A: Arch>(
    arch: &A,
    rtt: &mut Locked<'_, RttKind>,
    index: usize,
    level: Level,
    fmt: DescFormat,
) -> Rtte {
    let desc = read_desc(arch, rtt, index);
    Rtte::decode(desc, level, fmt).unwrap_or_else(|| corrupt(rtt.pa(), index, desc))
}

/// Walks the realm's RTTs for `ipa` (inside the IPA space) down to `target` (at least
/// the start level).
pub fn walk<'g, A: Arch, S: Storage>(
    arch: &A,
    granules: &'g GranuleTable<S>,
    realm: &RealmInfo,
    ipa: u64,
    target: Level,
) -> Walk<'g> {
    let geo = &realm.geometry;
    let format = geo.format;
    let root = geo.root_index(ipa);
    let root_pa = PhysAddr(realm.rtt_base + (root / ENTRIES) as u64 * 4096);
    let mut rtt = lock_rtt(granules, root_pa);
    let mut level = geo.start_level;
    let mut index = root % ENTRIES;
    loop {
        let entry = read_entry(arch, &mut rtt, index, level, format);
        match entry {
            Rtte::Table(next) if level < target => {
                // Lock the child before the parent is released.
                rtt = lock_rtt(granules, PhysAddr(next));
                level += 1;
                index = entry_index(ipa, level);
            }
            _ => {
                return Walk {
                    level,
                    rtt,
                    index,
                    entry,
                    format,
                }
            }
        }
    }
}

/// Locks an RTT granule that the realm's tables point at.
pub fn lock_rtt<S: Storage>(granules: &GranuleTable<S>, pa: PhysAddr) -> Locked<'_, RttKind> {
    granules
        .lock_as::<RttKind>(pa)
        .unwrap_or_else(|e| panic!("RTT invariant broken: {pa} is not an RTT ({e:?})"))
}

#[cfg(test)]
mod tests {
    use super::first_stop;

    /// `first_stop` against its definition, the first index in `first..end` whose
    /// descriptor stops: tables of runs of two descriptors that do not stop (of every
    /// length around the eight-entry step) with stopping descriptors among them, every
    /// start and end in a window.
    #[test]
    fn first_stop_is_the_first_stopping_entry() {
        const GO_A: u64 = 0x10;
        const GO_B: u64 = 0x20;
        const STOP: u64 = 0x31;
        let stops = |_: usize, d: u64| d & 1 == 1;
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..400 {
            let mut t = [0u64; 512];
            let mut i = 0;
            while i < t.len() {
                let r = next();
                let len = (r % 21) as usize + 1;
                let d = match (r >> 8) % 8 {
                    0 => STOP,
                    1..=4 => GO_A,
                    _ => GO_B,
                };
                for e in t.iter_mut().skip(i).take(len) {
                    *e = d;
                }
                i += len;
            }
            for first in (0..40).chain(470..512) {
                for end in [first, first + 1, first + 9, first + 17, 512] {
                    let end = end.min(512);
                    let want = (first..end).find(|&k| stops(k, t[k]));
                    assert_eq!(first_stop(&t, first, end, stops), want, "{first}..{end}");
                }
            }
        }
    }
}
