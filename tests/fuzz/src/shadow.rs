//! The host's shadow model: what the specification says the state of every pool
//! granule and realm is after the commands that succeeded, built from the commands'
//! arguments, their outputs and the host's own pages alone (never from the RMM's
//! memory or bookkeeping).
//!
//! Only successful commands change the model (DEN0137 1.0, B1: a command that fails
//! has no effect). A success whose preconditions the model says did not hold (a
//! DELEGATE of a granule that is not NS, a DATA_CREATE into a granule that is not
//! DELEGATED...) is itself a failure of the run.

use std::collections::BTreeMap;

use rmi_abi::{RmiFid, RmiRealmParams, RmiRecExit, RmiRecParams};
use rmm::hosted::Machine;
use zerocopy::FromBytes;

use crate::{Step, POOL};

/// A granule's state as the host must believe it (DEN0137 1.0, A2.2 granule states).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GState {
    /// Not delegated.
    Ns,
    /// Delegated, unused.
    Delegated,
    /// The RD of a realm.
    Rd,
    /// A REC of realm `rd`.
    Rec {
        /// Its realm.
        rd: u64,
    },
    /// An auxiliary granule of REC `rec`.
    RecAux {
        /// Its REC.
        rec: u64,
    },
    /// An RTT of realm `rd`.
    Rtt {
        /// Its realm.
        rd: u64,
    },
    /// Realm `rd`'s memory at `ipa`.
    Data {
        /// Its realm.
        rd: u64,
        /// The IPA it was created at.
        ipa: u64,
    },
}

/// A realm as the host created it.
#[derive(Clone, Debug)]
pub struct RealmShadow {
    /// IPA width.
    pub s2sz: u8,
    /// RTT start level.
    pub start_level: i8,
    /// Concatenated start tables.
    pub num_start: u32,
    /// First start table.
    pub rtt_base: u64,
    /// VMID.
    pub vmid: u16,
    /// Its RECs, in creation order.
    pub recs: Vec<u64>,
    /// RECs created so far (the next REC's index).
    pub rec_index: u64,
    /// Whether RMI_REALM_ACTIVATE succeeded on it.
    pub active: bool,
    /// Sentinels of the DATA granules created with contents, by granule.
    pub sentinels: BTreeMap<u64, [u8; 16]>,
}

/// A REC as the host created it.
#[derive(Clone, Debug)]
pub struct RecShadow {
    /// Its realm.
    pub rd: u64,
    /// Its auxiliary granules.
    pub aux: Vec<u64>,
    /// The RIPAS change it last asked for, if its last exit was one: (base, top).
    pub ripas_request: Option<(u64, u64)>,
    /// Its MPIDR (from its parameters).
    pub mpidr: u64,
    /// The PSCI request it made in its last exit, until PSCI_COMPLETE: (function,
    /// the target MPIDR, x1 of the call).
    pub psci_request: Option<(u64, u64)>,
}

/// The model.
#[derive(Clone)]
pub struct Shadow {
    /// The first pool granule.
    pub base: u64,
    /// The state of each pool granule.
    pub states: Vec<GState>,
    /// Realms by RD.
    pub realms: BTreeMap<u64, RealmShadow>,
    /// RECs by address.
    pub recs: BTreeMap<u64, RecShadow>,
    /// RTTs created with RTT_CREATE (not start tables): (realm, IPA, level) by address.
    pub rtts: BTreeMap<u64, (u64, u64, i64)>,
    /// Unprotected mappings made with RTT_MAP_UNPROTECTED: level by (realm, IPA).
    pub unprot: BTreeMap<(u64, u64), i64>,
    /// Sentinels that have left the host's pages (their DATA granule was created):
    /// none may appear in Non-secure memory again.
    pub secrets: std::collections::HashSet<[u8; 16]>,
    last_success: bool,
    last_ran_realm: bool,
    last_x0: u64,
}

/// The range of IPAs a level-`level` RTT maps (4 KiB granule: 9 bits per level).
pub fn span(level: i64) -> u64 {
    1u64 << (12 + 9 * (4 - level.clamp(0, 3)) as u32)
}

fn fail<T>(what: String) -> Result<T, String> {
    Err(what)
}

impl Shadow {
    /// Every pool granule NS, no realm.
    pub fn new(m: &Machine) -> Self {
        Self {
            base: m.ns_granule(0),
            states: vec![GState::Ns; POOL],
            realms: BTreeMap::new(),
            recs: BTreeMap::new(),
            rtts: BTreeMap::new(),
            unprot: BTreeMap::new(),
            secrets: Default::default(),
            last_success: false,
            last_ran_realm: false,
            last_x0: 0,
        }
    }

    /// The pool index of `pa`, if it is a pool granule.
    pub fn index(&self, pa: u64) -> Option<usize> {
        if pa < self.base || !pa.is_multiple_of(4096) {
            return None;
        }
        let i = ((pa - self.base) / 4096) as usize;
        (i < POOL).then_some(i)
    }

    /// The address of pool granule `i`.
    pub fn pa(&self, i: usize) -> u64 {
        self.base + i as u64 * 4096
    }

    /// The state of `pa` (`None` outside the pool).
    pub fn state(&self, pa: u64) -> Option<GState> {
        self.index(pa).map(|i| self.states[i])
    }

    /// Whether a DATA granule of realm `rd` was created at `ipa`.
    pub fn data_at(&self, rd: u64, ipa: u64) -> bool {
        self.states.contains(&GState::Data { rd, ipa })
    }

    /// The deepest table of realm `rd` the host built that covers `ipa`: (its base
    /// IPA, its level); the start level (base 0) when no RTT_CREATE table does.
    pub fn deepest_table(&self, rd: u64, ipa: u64) -> (u64, i64) {
        let start = self.realms.get(&rd).map_or(0, |r| r.start_level as i64);
        self.rtts
            .values()
            .filter(|&&(owner, base, level)| owner == rd && ipa >= base && ipa - base < span(level))
            .map(|&(_, base, level)| (base, level))
            .max_by_key(|&(_, level)| level)
            .unwrap_or((0, start))
    }

    /// The reference count each RTT of realm `rd` must have (DEN0137 1.0, A5.5.8: the
    /// entries that make an RTT live are its TABLE and ASSIGNED entries at protected
    /// IPAs): one per child table, and one per entry that maps the realm's DATA
    /// granules (a page, or a block after a fold), by RTT address.
    pub fn rtt_references(&self, rd: u64) -> BTreeMap<u64, u16> {
        let Some(r) = self.realms.get(&rd) else {
            return BTreeMap::new();
        };
        let start = r.start_level as i64;
        // Every table by (level, base IPA).
        let mut tables: BTreeMap<(i64, u64), u64> = BTreeMap::new();
        for t in 0..r.num_start as u64 {
            tables.insert((start, t * span(start)), r.rtt_base + t * 4096);
        }
        for (&pa, &(owner, ipa, level)) in &self.rtts {
            if owner == rd {
                tables.insert((level, ipa), pa);
            }
        }
        let mut refs: BTreeMap<u64, u16> = tables.values().map(|&pa| (pa, 0)).collect();
        // The table holding the entry for `ipa` one level above `level`.
        let parent = |ipa: u64, level: i64| -> Option<u64> {
            let l = level - 1;
            tables.get(&(l, ipa & !(span(l) - 1))).copied()
        };
        for &(level, ipa) in tables.keys() {
            if level > start {
                if let Some(p) = parent(ipa, level) {
                    *refs.entry(p).or_default() += 1;
                }
            }
        }
        let mut entries = std::collections::BTreeSet::new();
        for g in &self.states {
            if let GState::Data { rd: owner, ipa } = *g {
                if owner != rd {
                    continue;
                }
                let (base, level) = self.deepest_table(rd, ipa);
                let table = tables.get(&(level, base & !(span(level) - 1)));
                if let Some(&t) = table {
                    let entry = (ipa - base) / (span(level) / 512);
                    entries.insert((t, entry));
                }
            }
        }
        for (t, _) in entries {
            *refs.entry(t).or_default() += 1;
        }
        refs
    }

    /// Whether the last step succeeded.
    pub fn last_success(&self) -> bool {
        self.last_success
    }

    /// x0 of the last step.
    pub fn last_x0(&self) -> u64 {
        self.last_x0
    }

    /// Whether the last step ran a realm.
    pub fn last_ran_realm(&self) -> bool {
        self.last_ran_realm
    }

    /// Changes the state of `pa` from `from` to `to`; a failure if it was not `from`
    /// (the command should have failed) or `pa` is outside the pool (the generator only
    /// succeeds inside it).
    fn transition(&mut self, what: &str, pa: u64, from: GState, to: GState) -> Result<(), String> {
        let Some(i) = self.index(pa) else {
            return fail(format!("{what} succeeded on {pa:#x}, outside the pool"));
        };
        if self.states[i] != from {
            return fail(format!(
                "{what} succeeded on {pa:#x}, which was {:?}, not {from:?}",
                self.states[i]
            ));
        }
        self.states[i] = to;
        Ok(())
    }

    /// Requires `pa` to be in `want`.
    fn require(&self, what: &str, pa: u64, want: GState) -> Result<(), String> {
        match self.state(pa) {
            Some(s) if s == want => Ok(()),
            s => fail(format!(
                "{what} succeeded naming {pa:#x}, which was {s:?}, not {want:?}"
            )),
        }
    }

    fn read_page(m: &Machine, pa: u64) -> [u8; 4096] {
        let mut b = [0u8; 4096];
        let _ = m.host_read(pa, &mut b);
        b
    }

    /// Updates the model after `step` returned `ret`.
    pub fn apply(&mut self, m: &Machine, step: &Step, ret: [u64; 5]) -> Result<(), String> {
        self.last_success = ret[0] == 0;
        self.last_x0 = ret[0];
        self.last_ran_realm = false;
        let Some(fid) = RmiFid::decode(step.fid) else {
            return Ok(());
        };
        let a = step.args;
        if fid == RmiFid::RecEnter && ret[0] == 0 {
            self.last_ran_realm = true;
            let mut page = Self::read_page(m, a[1]);
            let exit = RmiRecExit::read_from_bytes(&page[0x800..]).expect("2 KiB");
            if let Some(rec) = self.recs.get_mut(&a[0]) {
                // RMI_EXIT_RIPAS_CHANGE (4): the request RTT_SET_RIPAS must follow.
                rec.ripas_request =
                    (exit.exit_reason == 4).then_some((exit.ripas_base, exit.ripas_top));
                // RMI_EXIT_PSCI (3) with CPU_ON or AFFINITY_INFO: PSCI_COMPLETE must
                // follow, naming the REC with the MPIDR in gprs[1].
                let fid = exit.gprs[0] & 0xBFFF_FFFF;
                rec.psci_request = (exit.exit_reason == 3
                    && matches!(fid, 0x8400_0003 | 0x8400_0004))
                .then_some((exit.gprs[0], exit.gprs[1]));
            }
            page.fill(0);
        }
        if ret[0] != 0 {
            return Ok(());
        }
        use GState::*;
        match fid {
            RmiFid::GranuleDelegate => self.transition("GRANULE_DELEGATE", a[0], Ns, Delegated),
            RmiFid::GranuleUndelegate => self.transition("GRANULE_UNDELEGATE", a[0], Delegated, Ns),
            RmiFid::RealmCreate => {
                let page = Self::read_page(m, a[1]);
                let p = RmiRealmParams::read_from_bytes(&page).expect("4 KiB");
                self.transition("REALM_CREATE (rd)", a[0], Delegated, Rd)?;
                for t in 0..p.rtt_num_start as u64 {
                    self.transition(
                        "REALM_CREATE (start RTT)",
                        p.rtt_base + t * 4096,
                        Delegated,
                        Rtt { rd: a[0] },
                    )?;
                }
                self.realms.insert(
                    a[0],
                    RealmShadow {
                        s2sz: p.s2sz,
                        start_level: p.rtt_level_start as i8,
                        num_start: p.rtt_num_start,
                        rtt_base: p.rtt_base,
                        vmid: p.vmid,
                        recs: Vec::new(),
                        rec_index: 0,
                        active: false,
                        sentinels: BTreeMap::new(),
                    },
                );
                Ok(())
            }
            RmiFid::RealmActivate => {
                self.require("REALM_ACTIVATE", a[0], Rd)?;
                let r = self.realms.get_mut(&a[0]).expect("an RD has a realm");
                if r.active {
                    return fail(format!("REALM_ACTIVATE of {:#x} succeeded twice", a[0]));
                }
                r.active = true;
                Ok(())
            }
            RmiFid::RealmDestroy => {
                self.require("REALM_DESTROY", a[0], Rd)?;
                let r = self.realms.remove(&a[0]).expect("an RD has a realm");
                if !r.recs.is_empty() {
                    return fail(format!(
                        "REALM_DESTROY of {:#x} with RECs {:x?}",
                        a[0], r.recs
                    ));
                }
                for (i, s) in self.states.iter().enumerate() {
                    let pa = self.base + i as u64 * 4096;
                    let start = pa >= r.rtt_base && pa < r.rtt_base + r.num_start as u64 * 4096;
                    if !start && matches!(*s, Rtt { rd } | Data { rd, .. } if rd == a[0]) {
                        return fail(format!(
                            "REALM_DESTROY of {:#x} while {pa:#x} is still its {s:?}",
                            a[0]
                        ));
                    }
                }
                self.transition("REALM_DESTROY (rd)", a[0], Rd, Delegated)?;
                for t in 0..r.num_start as u64 {
                    let pa = r.rtt_base + t * 4096;
                    self.transition("REALM_DESTROY (start RTT)", pa, Rtt { rd: a[0] }, Delegated)?;
                }
                self.unprot.retain(|&(rd, _), _| rd != a[0]);
                Ok(())
            }
            RmiFid::RecCreate => {
                let page = Self::read_page(m, a[2]);
                let p = RmiRecParams::read_from_bytes(&page).expect("4 KiB");
                self.require("REC_CREATE (rd)", a[0], Rd)?;
                self.transition("REC_CREATE (rec)", a[1], Delegated, Rec { rd: a[0] })?;
                let aux: Vec<u64> = p.aux[..(p.num_aux as usize).min(16)].to_vec();
                for &x in &aux {
                    self.transition("REC_CREATE (aux)", x, Delegated, RecAux { rec: a[1] })?;
                }
                let r = self.realms.get_mut(&a[0]).expect("an RD has a realm");
                r.recs.push(a[1]);
                r.rec_index += 1;
                self.recs.insert(
                    a[1],
                    RecShadow {
                        rd: a[0],
                        aux,
                        ripas_request: None,
                        mpidr: p.mpidr,
                        psci_request: None,
                    },
                );
                Ok(())
            }
            RmiFid::RecDestroy => {
                let Some(rec) = self.recs.remove(&a[0]) else {
                    return fail(format!("REC_DESTROY succeeded on {:#x}, not a REC", a[0]));
                };
                self.transition("REC_DESTROY (rec)", a[0], Rec { rd: rec.rd }, Delegated)?;
                for x in rec.aux {
                    self.transition("REC_DESTROY (aux)", x, RecAux { rec: a[0] }, Delegated)?;
                }
                if let Some(r) = self.realms.get_mut(&rec.rd) {
                    r.recs.retain(|&x| x != a[0]);
                }
                Ok(())
            }
            RmiFid::RttCreate => {
                self.require("RTT_CREATE (rd)", a[0], Rd)?;
                self.transition("RTT_CREATE", a[1], Delegated, Rtt { rd: a[0] })?;
                self.rtts.insert(a[1], (a[0], a[2], a[3] as i64));
                Ok(())
            }
            RmiFid::RttDestroy | RmiFid::RttFold => {
                self.require("RTT_DESTROY/FOLD (rd)", a[0], Rd)?;
                self.transition("RTT_DESTROY/FOLD (x1)", ret[1], Rtt { rd: a[0] }, Delegated)?;
                match self.rtts.remove(&ret[1]) {
                    Some((rd, ipa, level)) if rd == a[0] && level == a[2] as i64 && ipa == a[1] => {
                        // Unprotected mappings in its range go with it (destroy), or
                        // become one block of the parent (fold).
                        let inside: Vec<(u64, u64)> = self
                            .unprot
                            .range((rd, ipa)..(rd, ipa + span(level)))
                            .map(|(&k, _)| k)
                            .collect();
                        for k in &inside {
                            self.unprot.remove(k);
                        }
                        if fid == RmiFid::RttFold && !inside.is_empty() {
                            self.unprot.insert((rd, ipa), level - 1);
                        }
                        Ok(())
                    }
                    other => fail(format!(
                        "{fid:?}({:#x}, {:#x}, {}) destroyed RTT {:#x}, created as {other:x?}",
                        a[0], a[1], a[2] as i64, ret[1]
                    )),
                }
            }
            RmiFid::DataCreate | RmiFid::DataCreateUnknown => {
                self.require("DATA_CREATE (rd)", a[0], Rd)?;
                self.transition(
                    "DATA_CREATE",
                    a[1],
                    Delegated,
                    Data {
                        rd: a[0],
                        ipa: a[2],
                    },
                )?;
                if fid == RmiFid::DataCreate {
                    // The source's sentinel (its first 16 bytes, as the step wrote
                    // them) is the realm's now; the host forgets it.
                    let mut sentinel = [0u8; 16];
                    if step.clears.contains(&a[3]) {
                        for &(pa, v) in &step.writes {
                            if pa == a[3] || pa == a[3] + 8 {
                                let off = (pa - a[3]) as usize;
                                sentinel[off..off + 8].copy_from_slice(&v.to_le_bytes());
                            }
                        }
                    } else {
                        sentinel.copy_from_slice(&Self::read_page(m, a[3])[..16]);
                    }
                    if sentinel != [0; 16] {
                        self.secrets.insert(sentinel);
                        if let Some(r) = self.realms.get_mut(&a[0]) {
                            r.sentinels.insert(a[1], sentinel);
                        }
                    }
                    // The host forgets it: from now on only the realm has it.
                    let _ = m.host_write(a[3], &[0u8; 4096]);
                }
                Ok(())
            }
            RmiFid::DataDestroy => {
                self.require("DATA_DESTROY (rd)", a[0], Rd)?;
                self.transition(
                    "DATA_DESTROY (x1)",
                    ret[1],
                    Data {
                        rd: a[0],
                        ipa: a[1],
                    },
                    Delegated,
                )?;
                if let Some(r) = self.realms.get_mut(&a[0]) {
                    r.sentinels.remove(&ret[1]);
                }
                Ok(())
            }
            RmiFid::RttSetRipas => {
                self.require("RTT_SET_RIPAS (rd)", a[0], Rd)?;
                self.require("RTT_SET_RIPAS (rec)", a[1], Rec { rd: a[0] })?;
                // DEN0137 1.0, RMI_RTT_SET_RIPAS: base is the REC's ripas_addr, top at
                // most its ripas_top, and x1 (the new ripas_addr) in (base, top].
                let rec = self.recs.get_mut(&a[1]).expect("a REC granule has a REC");
                match rec.ripas_request {
                    Some((b, t)) if a[2] == b && a[3] <= t && ret[1] > b && ret[1] <= a[3] => {
                        rec.ripas_request = (ret[1] < t).then_some((ret[1], t));
                        Ok(())
                    }
                    req => fail(format!(
                        "RTT_SET_RIPAS({:#x}, {:#x}, {:#x}, {:#x}) returned {:#x} for the request {req:x?}",
                        a[0], a[1], a[2], a[3], ret[1]
                    )),
                }
            }
            RmiFid::PsciComplete => {
                let calling = self.state(a[0]);
                let target = self.state(a[1]);
                match (calling, target) {
                    (Some(Rec { rd: r1 }), Some(Rec { rd: r2 })) if r1 == r2 => {
                        let rec = self.recs.get_mut(&a[0]).expect("a REC granule has a REC");
                        if rec.psci_request.take().is_none() {
                            return fail(format!(
                                "PSCI_COMPLETE succeeded on {:#x}, which made no PSCI request",
                                a[0]
                            ));
                        }
                        Ok(())
                    }
                    _ => fail(format!(
                        "PSCI_COMPLETE succeeded on {:#x} ({calling:?}) and {:#x} ({target:?})",
                        a[0], a[1]
                    )),
                }
            }
            RmiFid::RttMapUnprotected => {
                self.require("RTT_MAP_UNPROTECTED", a[0], Rd)?;
                if self.unprot.insert((a[0], a[1]), a[2] as i64).is_some() {
                    return fail(format!(
                        "RTT_MAP_UNPROTECTED({:#x}, {:#x}) succeeded on a mapped IPA",
                        a[0], a[1]
                    ));
                }
                Ok(())
            }
            RmiFid::RttUnmapUnprotected => {
                self.require("RTT_UNMAP_UNPROTECTED", a[0], Rd)?;
                match self.unprot.remove(&(a[0], a[1])) {
                    Some(l) if l == a[2] as i64 => Ok(()),
                    other => fail(format!(
                        "RTT_UNMAP_UNPROTECTED({:#x}, {:#x}, {}) succeeded; mapped: {other:?}",
                        a[0], a[1], a[2] as i64
                    )),
                }
            }
            RmiFid::RttInitRipas | RmiFid::RttReadEntry | RmiFid::RecAuxCount => {
                self.require("an RTT command", a[0], Rd)
            }
            RmiFid::RecEnter => match self.state(a[0]) {
                Some(Rec { .. }) => Ok(()),
                s => fail(format!("REC_ENTER succeeded on {:#x} ({s:?})", a[0])),
            },
            RmiFid::Version | RmiFid::Features => Ok(()),
        }
    }
}
