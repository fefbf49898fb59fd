//! The stage-2 TLB of the simulation: translations cached per VMID, used on a hit even
//! when the tables in memory no longer give them, as on hardware; and the checks that
//! make a missing break-before-make or a missing invalidation fail the test that
//! caused it.
//!
//! # What is cached
//!
//! Arm ARM (DDI 0487) D8.13 ("Translation Lookaside Buffers") lets a PE cache any
//! translation that a walk from a live `VTTBR_EL2` could produce, at any time (also
//! speculatively), and keep it until an invalidation covers it. The model keeps:
//!
//! - **leaf entries**: a valid page or block descriptor with its access flag set (a
//!   descriptor that would give an Access flag fault is not cached), with the whole
//!   walk it came from (every descriptor's address and value);
//! - **table entries** (walk caches): each valid table descriptor a walk went through,
//!   with the walk down to it.
//!
//! Entries are tagged with the VMID (`VTTBR_EL2.VMID`, 16 bits when `VTCR_EL2.VS` is
//! set, else 8) and remember the table root they were walked from. The TLB is shared by
//! all simulated CPUs (a superset of what per-PE TLBs could hold, since every
//! invalidation the RMM issues is broadcast, `*IS`).
//!
//! They are filled when a realm's access walks ([`Tlb::access`], [`Tlb::translate`]) and
//! speculatively when a realm is entered ([`Tlb::prefetch`]: every valid leaf and table
//! reachable from the tables). An access uses a cached leaf when there is one: a stale
//! entry is used. [`Tlb::invalidate`] drops what a stage-2 invalidation covers (Arm ARM
//! `TLBI IPAS2E1IS` at an IPA: every entry used to translate it, at any level;
//! `TLBI VMALLS12E1IS`: the whole VMID) and, like a `TLBI` followed by `DSB`,
//! completes only once every access in flight that may have used an old entry is done.
//!
//! # What is an error
//!
//! Each of these is a violation of the architecture's rules for changing translation
//! tables, reported with a panic naming the VMID, the IPA, the descriptor's address and
//! its cached and current values:
//!
//! - **Break-before-make** (Arm ARM D8.16.1, "Using break-before-make when updating
//!   translation table entries"): a descriptor a cached entry was walked through is now
//!   valid but differs from the cached one in its output address, its block size or its
//!   type (table, block, page). Replacing a valid descriptor needs an invalid one and an
//!   invalidation of the old entry in between; an entry still cached proves the
//!   invalidation did not happen. Checked at each use of an entry and, for every entry
//!   of the VMID, at each invalidation.
//! - **A translation outliving its granule**: when the RMM scrubs a granule
//!   ([`platform::Arch::zero_granule`], on every path back to DELEGATED) or EL3
//!   undelegates one, no cached entry (of any VMID) may have been walked through it,
//!   continue into it (a table entry whose next-level table it is) or output to it in
//!   the Realm PAS.
//! - **VMID reuse**: a realm hitting an entry walked from another table root with the
//!   same VMID (a destroyed realm's translation).
//!
//! None of these can be reported for a correct sequence run concurrently: an entry
//! is checked against memory only while it is known to be cached, and a walk that
//! overlapped an invalidation is not cached.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Condvar, Mutex, MutexGuard};

use super::memory::{holds_mapping, PhysMem};
use super::s2walk::{
    self, decode_type, leaf_translation, level_shift, output_address, Access, AccessFault,
    DescType, S2Config, S2Fault, Translation, WalkPath, WalkStep, FINAL_LEVEL,
};
use platform::addr::{PhysAddr, GRANULE_SIZE};
use platform::arch::{Pas, Stage2Scope};

/// The stage-2 configuration and VMID a CPU's `VTCR_EL2` and `VTTBR_EL2` select (Arm
/// ARM D8.2 and D24.2, `VTCR_EL2` and `VTTBR_EL2`), 4 KiB granule:
///
/// - `T0SZ` \[5:0\]: the IPA width, `64 - T0SZ`;
/// - `DS` \[32\] (FEAT_LPA2): the 52-bit descriptor layout, and the start level from
///   `SL2` \[33\] with `SL0` \[7:6\] (Table D8-19: `SL2 = 1, SL0 = 0b00` is level -1, `SL2
///   = 1` with any other `SL0` is reserved, read here as an invalid level 4 that every
///   walk rejects); without `DS`, `SL2` is RES0 and `SL0` alone selects levels 2, 1, 0, 3;
/// - `VTTBR_EL2.BADDR`: bits \[47:1\] of the root, and when it represents a 52-bit
///   address (`DS = 1`, or `PS = 0b110`) root bits \[51:48\] from register bits \[5:2\]
///   (bits \[5:1\] are then not part of the low address);
/// - `VS` \[19\]: a 16-bit VMID in `VTTBR_EL2` \[63:48\], else 8 bits \[55:48\].
pub fn stage2_regs(vtcr: u64, vttbr: u64) -> (S2Config, u16) {
    let ipa_bits = 64 - (vtcr & 0x3F) as u32;
    let ds = vtcr & (1 << 32) != 0;
    let sl2 = ds && vtcr & (1 << 33) != 0;
    let start_level = match (sl2, (vtcr >> 6) & 3) {
        (false, 0) => 2,
        (false, 1) => 1,
        (false, 2) => 0,
        (false, _) => 3,
        (true, 0) => -1,
        (true, _) => 4,
    };
    let ps_52 = (vtcr >> 16) & 7 == 0b110;
    let root = if ds || ps_52 {
        (vttbr & 0x0000_FFFF_FFFF_FFC0) | ((vttbr >> 2) & 0xF) << 48
    } else {
        vttbr & 0x0000_FFFF_FFFF_FFFE
    };
    let cfg = S2Config {
        root: PhysAddr(root),
        ipa_bits,
        start_level,
        num_root_tables: S2Config::root_tables(ipa_bits, start_level).unwrap_or(0),
        lpa2: ds,
    };
    // VTCR_EL2.VS (bit 19): 16-bit VMID; otherwise VMID[15:8] are not used.
    let vmid = (vttbr >> 48) as u16;
    let vmid = if vtcr & (1 << 19) != 0 {
        vmid
    } else {
        vmid & 0xFF
    };
    (cfg, vmid)
}

/// Where an entry lives in the TLB: VMID, level and first IPA of what its last
/// descriptor maps, and whether it is a leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    vmid: u16,
    level: i8,
    base: u64,
    leaf: bool,
}

/// A cached translation (leaf) or walk (table).
#[derive(Clone, Copy, Debug)]
struct Cached {
    id: u64,
    /// The configuration it was walked with (root, IPA width, LPA2).
    cfg: S2Config,
    key: Key,
    /// The walk, ending at the leaf or table descriptor.
    path: WalkPath,
}

impl Cached {
    fn last(&self) -> WalkStep {
        *self.path.last().expect("a cached walk read a descriptor")
    }

    fn size(&self) -> u64 {
        1 << level_shift(self.key.level)
    }

    fn covers(&self, ipa: u64) -> bool {
        ipa & !(self.size() - 1) == self.key.base
    }

    fn overlaps(&self, base: u64, size: u64) -> bool {
        self.key.base < base.saturating_add(size) && base < self.key.base + self.size()
    }

    /// Why this entry depends on the granule at `g`, if it does.
    fn depends_on(&self, g: u64) -> Option<String> {
        let granule = |pa: u64| pa & !(GRANULE_SIZE as u64 - 1);
        if let Some(s) = self.path.steps().iter().find(|s| granule(s.pa) == g) {
            return Some(format!(
                "its walk read the level {} descriptor at {:#x} ({:#x})",
                s.level, s.pa, s.desc
            ));
        }
        let last = self.last();
        let oa = output_address(last.desc, self.cfg.lpa2);
        if !self.key.leaf {
            if granule(oa) == g {
                return Some(format!(
                    "its level {} table descriptor at {:#x} ({:#x}) points there",
                    last.level, last.pa, last.desc
                ));
            }
            return None;
        }
        let base = oa & !(self.size() - 1);
        if self.leaf_pas() == Pas::Realm && base <= g && g < base + self.size() {
            return Some(format!(
                "its level {} leaf at {:#x} ({:#x}) outputs there",
                last.level, last.pa, last.desc
            ));
        }
        None
    }

    fn leaf_pas(&self) -> Pas {
        // NS, descriptor bit 55 (FEAT_RME, Realm stage 2).
        if self.last().desc & (1 << 55) != 0 {
            Pas::NonSecure
        } else {
            Pas::Realm
        }
    }

    fn describe(&self) -> String {
        let mut s = format!(
            "VMID {} {} entry for IPA {:#x} (level {}, root {}), walk:",
            self.key.vmid,
            if self.key.leaf { "leaf" } else { "table" },
            self.key.base,
            self.key.level,
            self.cfg.root
        );
        for st in self.path.steps() {
            let _ = write!(s, " [L{} {:#x} = {:#x}]", st.level, st.pa, st.desc);
        }
        s
    }
}

/// Whether replacing the cached descriptor `old` at `level` by `now` without an
/// invalidation in between breaks break-before-make (Arm ARM D8.16.1): `now` is valid
/// and differs in type (table, block or page, hence block size) or output address.
fn breaks_bbm(old: u64, now: u64, level: i8, lpa2: bool) -> bool {
    let ty = decode_type(now, level, lpa2);
    if ty == DescType::Invalid {
        return false;
    }
    if ty != decode_type(old, level, lpa2) {
        return true;
    }
    let mask = match ty {
        DescType::Leaf => !((1u64 << level_shift(level)) - 1),
        _ => !(GRANULE_SIZE as u64 - 1),
    };
    output_address(now, lpa2) & mask != output_address(old, lpa2) & mask
}

/// The first descriptor of `e`'s walk that `read` now gives a value breaking
/// break-before-make for, as a report.
fn bbm_violation(e: &Cached, mut read: impl FnMut(u64) -> Option<u64>) -> Option<String> {
    for st in e.path.steps() {
        let Some(now) = read(st.pa) else { continue };
        if breaks_bbm(st.desc, now, st.level, e.cfg.lpa2) {
            return Some(format!(
                "break-before-make violated: the level {} descriptor at {:#x} changed from \
                 {:#x} to {:#x} (both valid, different output or size) while this entry \
                 was cached, with no invalidation of it in between: {}",
                st.level,
                st.pa,
                st.desc,
                now,
                e.describe()
            ));
        }
    }
    None
}

/// How long an invalidation waits for the accesses in flight before it reports a
/// deadlock instead of hanging the test.
const INFLIGHT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Default)]
struct State {
    entries: HashMap<Key, Cached>,
    next_id: u64,
    /// Number of invalidations so far.
    epoch: u64,
    /// Accesses in flight, by the epoch they started in.
    inflight: HashMap<u64, usize>,
    log: Vec<(u16, Stage2Scope)>,
}

/// A walk to cache once the access that made it is done.
struct Fill {
    cfg: S2Config,
    vmid: u16,
    ipa: u64,
    path: WalkPath,
}

/// What an access in flight has to finish with.
struct Op {
    epoch: u64,
    fills: Vec<Fill>,
    /// Entries found broken at use: confirmed if still cached at the end.
    broken: Vec<(Key, u64, String)>,
}

/// The stage-2 TLB (see the module documentation).
#[derive(Default)]
pub struct Tlb {
    state: Mutex<State>,
    done: Condvar,
}

impl Tlb {
    /// An empty TLB.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every stage-2 invalidation made so far, oldest first.
    pub fn log(&self) -> Vec<(u16, Stage2Scope)> {
        self.lock().log.clone()
    }

    /// Number of entries cached (leaves and tables) for `vmid`.
    pub fn cached(&self, vmid: u16) -> usize {
        self.lock()
            .entries
            .keys()
            .filter(|k| k.vmid == vmid)
            .count()
    }

    fn begin(&self) -> Op {
        let mut s = self.lock();
        let epoch = s.epoch;
        *s.inflight.entry(epoch).or_default() += 1;
        Op {
            epoch,
            fills: Vec::new(),
            broken: Vec::new(),
        }
    }

    fn end(&self, op: Op) {
        let mut reports = Vec::new();
        {
            let mut s = self.lock();
            let n = s.inflight.get_mut(&op.epoch).expect("access registered");
            *n -= 1;
            if *n == 0 {
                s.inflight.remove(&op.epoch);
            }
            for (key, id, report) in op.broken {
                // Cached all along (from before the check until now): no invalidation
                // covered it while the tables read otherwise.
                if s.entries.get(&key).is_some_and(|e| e.id == id) {
                    reports.push(report);
                }
            }
            // A walk that overlapped an invalidation may hold what it invalidated.
            if s.epoch == op.epoch {
                for f in op.fills {
                    insert_walk(&mut s, &f);
                }
            }
        }
        self.done.notify_all();
        if let Some(r) = reports.first() {
            panic!("stage-2 TLB: {r}");
        }
    }

    /// One translation for an access in flight: a cached leaf if there is one (checked
    /// against the tables), otherwise a walk (cached when the access ends).
    fn translate_in(
        &self,
        op: &mut Op,
        mem: &PhysMem,
        cfg: &S2Config,
        vmid: u16,
        ipa: u64,
        access: Access,
    ) -> Result<Translation, S2Fault> {
        let hits: Vec<Cached> = {
            let s = self.lock();
            (cfg.start_level.max(0)..=FINAL_LEVEL)
                .rev()
                .filter_map(|level| {
                    let key = Key {
                        vmid,
                        level,
                        base: ipa & !((1u64 << level_shift(level)) - 1),
                        leaf: true,
                    };
                    s.entries.get(&key).copied()
                })
                .collect()
        };
        for e in &hits {
            if e.cfg.root != cfg.root {
                op.broken.push((
                    e.key,
                    e.id,
                    format!(
                        "VMID {vmid} reused without invalidation: a realm with root {} hit \
                         {}",
                        cfg.root,
                        e.describe()
                    ),
                ));
                continue;
            }
            let read = |pa: u64| {
                let mut b = [0u8; 8];
                mem.read(PhysAddr(pa), Pas::Realm, &mut b).ok()?;
                Some(u64::from_le_bytes(b))
            };
            if let Some(r) = bbm_violation(e, read) {
                op.broken.push((e.key, e.id, r));
            }
        }
        if let Some(e) = hits.first() {
            let last = e.last();
            return leaf_translation(&e.cfg, last.desc, last.level, ipa, access);
        }
        let (result, path) = s2walk::walk_path(mem, cfg, ipa, access);
        op.fills.push(Fill {
            cfg: *cfg,
            vmid,
            ipa,
            path,
        });
        result
    }

    /// Translates `ipa` for `access` as the MMU of a realm's PE with this TLB: a cached
    /// leaf if there is one, otherwise a walk of the tables (then cached).
    ///
    /// # Panics
    /// On a cached entry that shows a break-before-make violation or VMID reuse.
    pub fn translate(
        &self,
        mem: &PhysMem,
        cfg: &S2Config,
        vmid: u16,
        ipa: u64,
        access: Access,
    ) -> Result<Translation, S2Fault> {
        let mut op = self.begin();
        let r = self.translate_in(&mut op, mem, cfg, vmid, ipa, access);
        self.end(op);
        r
    }

    /// A realm's data access ([`s2walk::access`]) translated through this TLB: every
    /// page translated and checked before any byte moves.
    ///
    /// # Panics
    /// As [`Tlb::translate`].
    pub fn access(
        &self,
        mem: &PhysMem,
        cfg: &S2Config,
        vmid: u16,
        ipa: u64,
        buf: &mut [u8],
        write: bool,
    ) -> Result<(), AccessFault> {
        let mut op = self.begin();
        let r = s2walk::access_with(mem, ipa, buf, write, |at, a| {
            self.translate_in(&mut op, mem, cfg, vmid, at, a)
        });
        self.end(op);
        r
    }

    /// Caches, speculatively, every valid leaf (with its access flag set) and table
    /// descriptor reachable from `cfg`'s root, as a PE entering the realm may (Arm ARM
    /// D8.13: translations may be cached at any time). Tables being written at this
    /// moment are skipped, and nothing is cached if an invalidation happens meanwhile.
    pub fn prefetch(&self, mem: &PhysMem, cfg: &S2Config, vmid: u16) {
        if cfg.validate().is_err() {
            return;
        }
        let epoch = self.lock().epoch;
        let mut walks = Vec::new();
        let level_size = 1u64 << level_shift(cfg.start_level);
        for t in 0..u64::from(cfg.num_root_tables) {
            let table = cfg.root.0 + t * GRANULE_SIZE as u64;
            let base = t * 512 * level_size;
            scan(
                mem,
                cfg,
                table,
                cfg.start_level,
                base,
                WalkPath::default(),
                &mut walks,
            );
        }
        let mut s = self.lock();
        if s.epoch != epoch {
            return;
        }
        for (ipa, path) in walks {
            insert_walk(
                &mut s,
                &Fill {
                    cfg: *cfg,
                    vmid,
                    ipa,
                    path,
                },
            );
        }
    }

    /// A stage-2 invalidation for `vmid` (`Arch::invalidate_stage2`): drops the entries
    /// `scope` covers, checks every entry of the VMID against the tables
    /// (break-before-make), and waits for the accesses in flight to complete (unless
    /// the calling thread holds a mapped granule such an access could be waiting for).
    ///
    /// # Panics
    /// On a break-before-make violation.
    pub fn invalidate(&self, mem: &PhysMem, vmid: u16, scope: Stage2Scope) {
        let mut reports = Vec::new();
        let mut s = self.lock();
        let mut read_cache: HashMap<u64, Option<u64>> = HashMap::new();
        let mut read = |pa: u64| {
            *read_cache
                .entry(pa)
                .or_insert_with(|| mem.try_read_u64(PhysAddr(pa), Pas::Realm)?.ok())
        };
        for e in s.entries.values().filter(|e| e.key.vmid == vmid) {
            if let Some(r) = bbm_violation(e, &mut read) {
                reports.push(r);
            }
        }
        s.entries.retain(|k, e| {
            k.vmid != vmid
                || match scope {
                    Stage2Scope::Leaf { ipa, .. } => !e.covers(ipa),
                    Stage2Scope::Range { base, size } => !e.overlaps(base, size),
                    Stage2Scope::Vmid => false,
                }
        });
        s.epoch += 1;
        let epoch = s.epoch;
        s.log.push((vmid, scope));
        if !holds_mapping() {
            let deadline = std::time::Instant::now() + INFLIGHT_WAIT;
            while s.inflight.keys().any(|&e| e < epoch) {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                assert!(
                    !left.is_zero(),
                    "stage-2 TLB: invalidation of VMID {vmid} waited {INFLIGHT_WAIT:?} for \
                     realm accesses in flight (deadlock?)"
                );
                s = self
                    .done
                    .wait_timeout(s, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
        drop(s);
        if let Some(r) = reports.first() {
            panic!("stage-2 TLB at invalidation of VMID {vmid} ({scope:?}): {r}");
        }
    }

    /// Checks that no cached entry depends on the granule at `pa` as it leaves its
    /// current use (`why`: scrubbed by the RMM, undelegated by EL3).
    ///
    /// # Panics
    /// If one does: an invalidation is missing.
    pub fn check_released(&self, pa: PhysAddr, why: &str) {
        let g = pa.0 & !(GRANULE_SIZE as u64 - 1);
        let s = self.lock();
        let report = s
            .entries
            .values()
            .find_map(|e| Some((e.depends_on(g)?, e.describe())));
        drop(s);
        if let Some((how, entry)) = report {
            panic!(
                "stage-2 TLB: granule {g:#x} {why} while a translation depending on it is \
                 still cached ({how}; missing invalidation): {entry}"
            );
        }
    }
}

/// Caches the leaf and the table descriptors of one walk, keeping an entry already
/// cached under the same key (a TLB may hold both; keeping the older one keeps what
/// the checks need to see).
fn insert_walk(s: &mut State, f: &Fill) {
    let steps = f.path.steps();
    for (i, st) in steps.iter().enumerate() {
        let leaf = match decode_type(st.desc, st.level, f.cfg.lpa2) {
            DescType::Invalid => break,
            DescType::Table => false,
            // Access flag fault: not cached.
            DescType::Leaf if st.desc & (1 << 10) == 0 => break,
            DescType::Leaf => true,
        };
        let key = Key {
            vmid: f.vmid,
            level: st.level,
            base: f.ipa & !((1u64 << level_shift(st.level)) - 1),
            leaf,
        };
        if !s.entries.contains_key(&key) {
            s.next_id += 1;
            let id = s.next_id;
            s.entries.insert(
                key,
                Cached {
                    id,
                    cfg: f.cfg,
                    key,
                    path: f.path.prefix(i + 1),
                },
            );
        }
        if leaf {
            break;
        }
    }
}

/// Collects, into `out`, a walk for every valid leaf and every table descriptor
/// reachable from the level `level` table at `table`, which maps IPAs from `base`.
fn scan(
    mem: &PhysMem,
    cfg: &S2Config,
    table: u64,
    level: i8,
    base: u64,
    path: WalkPath,
    out: &mut Vec<(u64, WalkPath)>,
) {
    let Some(Ok(g)) = mem.try_read_granule(PhysAddr(table), Pas::Realm) else {
        return;
    };
    let size = 1u64 << level_shift(level);
    for (i, b) in g.0.chunks_exact(8).enumerate() {
        let ipa = base + i as u64 * size;
        if ipa >> cfg.ipa_bits != 0 {
            break;
        }
        let desc = u64::from_le_bytes(b.try_into().expect("8 bytes"));
        let mut p = path;
        let step = WalkStep {
            pa: table + i as u64 * 8,
            desc,
            level,
        };
        match decode_type(desc, level, cfg.lpa2) {
            DescType::Invalid => {}
            DescType::Leaf => {
                p.push(step);
                out.push((ipa, p));
            }
            DescType::Table => {
                p.push(step);
                out.push((ipa, p));
                let next = output_address(desc, cfg.lpa2) & !(GRANULE_SIZE as u64 - 1);
                scan(mem, cfg, next, level + 1, ipa, p, out);
            }
        }
    }
}
