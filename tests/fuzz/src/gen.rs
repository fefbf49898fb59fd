//! The step generator: RMI calls with arguments drawn from pools that make deep states
//! likely (the granules the shadow model says are in each state, IPAs at RTT level
//! boundaries, protected and unprotected), mixed with garbage (unaligned and
//! out-of-range values, wrong states, random words in parameter pages).

use rand_core::{Rng, SeedableRng};
use rand_xorshift::XorShiftRng;
use rmi_abi::RmiFid;
use rmm::hosted::Machine;

use crate::shadow::{GState, Shadow};
use crate::{Step, HOST_PAGES, POOL, REALM_ENTRY};

/// Host pages by use: parameter pages, RecRun pages, DATA sources (one of each per CPU,
/// so that steps on different CPUs never share a host page), host memory for
/// unprotected mappings.
const PARAMS: std::ops::Range<usize> = 0..4;
const RUNS: std::ops::Range<usize> = 4..8;
const SOURCES: std::ops::Range<usize> = 8..12;
const SHARED: std::ops::Range<usize> = 12..HOST_PAGES;

/// The realm shapes the generator asks for: (IPA width, start level, start tables).
/// A start level L resolves `s2sz - (12 + 9 * (3 - L))` bits, 9 per table.
const SHAPES: [(u8, i64, u32); 4] = [(39, 1, 1), (40, 1, 2), (44, 0, 1), (32, 2, 4)];

/// The size of the range one entry of a level-`level` RTT maps.
fn size(level: i64) -> u64 {
    1u64 << (12 + 9 * (3 - level.clamp(0, 3)) as u32)
}

/// The generator of one run.
pub struct Gen {
    rng: XorShiftRng,
    /// A realm being torn down (its RECs, DATA and RTTs destroyed, then it), step by
    /// step, when the pool runs short of free granules.
    teardown: Option<u64>,
    /// The last teardown step: (its function, its first two arguments).
    last_teardown: Option<(RmiFid, u64, u64)>,
    /// The CPU every step is made on, when the caller chooses (concurrent batches).
    force_cpu: Option<usize>,
    /// The realm a concurrent batch concentrates on, if any: its steps then name it
    /// and its RECs mostly, so that commands on shared granules meet.
    focus: Option<u64>,
}

/// The most realms alive at once: beyond it one is torn down, so that realms keep
/// being created (and VMIDs freed) through a long run.
const MAX_REALMS: usize = 6;

/// The VMIDs the generator uses (a few more than [`MAX_REALMS`] can hold, so that a
/// VMID in use is named now and then).
const VMIDS: u64 = 12;

/// Below this many NS or DELEGATED pool granules a realm is torn down.
const LOW_WATER: usize = 48;

impl Gen {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: XorShiftRng::seed_from_u64(seed),
            teardown: None,
            last_teardown: None,
            force_cpu: None,
            focus: None,
        }
    }

    /// The next step of tearing down the realm at `rd`: a REC, then DATA (unfolding a
    /// block first if DATA_DESTROY met one), then the deepest RTTs, then the realm;
    /// `None` when it is gone.
    fn teardown_step(&mut self, s: &Shadow, rd: u64) -> Option<Step> {
        let r = s.realms.get(&rd)?;
        let cpu = self.cpu();
        let step = if let Some(&rec) = r.recs.first() {
            (RmiFid::RecDestroy, vec![rec])
        } else if let Some(ipa) = s.states.iter().find_map(|g| match *g {
            GState::Data { rd: owner, ipa } if owner == rd => Some(ipa),
            _ => None,
        }) {
            let block = ipa & !((2 << 20) - 1);
            let stuck = self.last_teardown == Some((RmiFid::DataDestroy, rd, ipa))
                && s.last_x0() == rmi_abi::RmiError::Rtt(2).return_code();
            if stuck {
                // DATA_DESTROY met a level-2 block: unfold it.
                let rtt = self.granule(s, |g| g == GState::Delegated);
                (RmiFid::RttCreate, vec![rd, rtt, block, 3])
            } else {
                (RmiFid::DataDestroy, vec![rd, ipa])
            }
        } else if let Some((_, &(_, ipa, level))) = s
            .rtts
            .iter()
            .filter(|(_, t)| t.0 == rd)
            .max_by_key(|(_, t)| t.2)
        {
            (RmiFid::RttDestroy, vec![rd, ipa, level as u64])
        } else {
            (RmiFid::RealmDestroy, vec![rd])
        };
        self.last_teardown = Some((step.0, step.1[0], *step.1.get(1).unwrap_or(&0)));
        Some(self.rmi(cpu, step.0, &step.1))
    }

    /// The CPU of the next step: the forced one, or any of the four.
    fn cpu(&mut self) -> usize {
        match self.force_cpu {
            Some(c) => c,
            None => self.below(4) as usize,
        }
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.rng.next_u64() % n
        }
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn word(&mut self) -> u64 {
        self.rng.next_u64()
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> Option<T> {
        (!xs.is_empty()).then(|| xs[self.below(xs.len() as u64) as usize])
    }

    /// A pool granule in a state `f` accepts (beyond the host pages), or a random pool
    /// granule when there is none.
    fn granule(&mut self, s: &Shadow, f: impl Fn(GState) -> bool) -> u64 {
        let matching: Vec<u64> = (HOST_PAGES..POOL)
            .filter(|&i| f(s.states[i]))
            .map(|i| s.pa(i))
            .collect();
        match self.pick(&matching) {
            Some(pa) if !self.chance(5) => pa,
            _ => s.pa(HOST_PAGES + self.below((POOL - HOST_PAGES) as u64) as usize),
        }
    }

    /// The host page of kind `range` that belongs to `cpu`.
    fn host_page(&mut self, s: &Shadow, range: std::ops::Range<usize>, cpu: usize) -> u64 {
        s.pa(range.start + cpu % (range.end - range.start))
    }

    /// A page of host memory to map at unprotected IPAs.
    fn shared_page(&mut self, s: &Shadow) -> u64 {
        s.pa(SHARED.start + self.below((SHARED.end - SHARED.start) as u64) as usize)
    }

    /// An address that is wrong in some way: unaligned, outside memory, in the RMM.
    fn garbage_addr(&mut self, s: &Shadow, m: &Machine) -> u64 {
        match self.below(5) {
            0 => s.pa(self.below(POOL as u64) as usize) + 8 * (1 + self.below(511)),
            1 => m.hw().config().layout.rmm_base.0,
            2 => m.hw().config().layout.dram_base.0 + m.hw().config().dram_size,
            3 => 0,
            _ => self.word(),
        }
    }

    /// An argument granule: mostly one the model says is in a state `f` accepts.
    fn arg(&mut self, s: &Shadow, m: &Machine, f: impl Fn(GState) -> bool) -> u64 {
        if self.chance(4) {
            self.garbage_addr(s, m)
        } else {
            self.granule(s, f)
        }
    }

    /// Concentrates the next steps on the realm at `rd` (`None`: no preference).
    pub fn focus(&mut self, rd: Option<u64>) {
        self.focus = rd;
    }

    /// The focused realm, when it is still there and the dice say so.
    fn focused(&mut self, s: &Shadow) -> Option<u64> {
        let rd = self.focus.filter(|rd| s.realms.contains_key(rd))?;
        self.chance(75).then_some(rd)
    }

    /// The RECs to pick from: the focused realm's, or all.
    fn rec_pool(&mut self, s: &Shadow) -> Vec<u64> {
        if let Some(rd) = self.focused(s) {
            let recs = s.realms[&rd].recs.clone();
            if !recs.is_empty() {
                return recs;
            }
        }
        s.recs.keys().copied().collect()
    }

    fn rd(&mut self, s: &Shadow, m: &Machine) -> u64 {
        if let Some(rd) = self.focused(s) {
            return rd;
        }
        let rds: Vec<u64> = s.realms.keys().copied().collect();
        match self.pick(&rds) {
            Some(rd) if !self.chance(4) => rd,
            _ => self.arg(s, m, |g| g == GState::Rd),
        }
    }

    /// A realm that is still NEW (what DATA_CREATE, RTT_INIT_RIPAS and REC_CREATE need),
    /// mostly.
    fn new_rd(&mut self, s: &Shadow, m: &Machine) -> u64 {
        if let Some(rd) = self.focused(s) {
            return rd;
        }
        let rds: Vec<u64> = s
            .realms
            .iter()
            .filter(|(_, r)| !r.active)
            .map(|(&rd, _)| rd)
            .collect();
        match self.pick(&rds) {
            Some(rd) if !self.chance(10) => rd,
            _ => self.rd(s, m),
        }
    }

    fn level(&mut self) -> i64 {
        match self.below(20) {
            0 => 0,
            1 => 4,
            2 => -1,
            3..=5 => 1,
            6..=11 => 2,
            _ => 3,
        }
    }

    /// An IPA of the realm at `rd` (a known shape, else 40 bits) aligned to `level`
    /// mostly: in the first 4 MiB, at level boundaries, in the unprotected half, or out
    /// of range.
    fn ipa(&mut self, s: &Shadow, rd: u64, level: i64) -> u64 {
        let s2sz = s.realms.get(&rd).map_or(40, |r| r.s2sz) as u32;
        let size = |l: i64| 1u64 << (12 + 9 * (3 - l.clamp(0, 3)) as u32);
        let raw = match self.below(10) {
            0..=5 => self.below(4 << 20),
            6 => self.below(4) * size(1).min(1 << (s2sz - 1)),
            7 | 8 => (1 << (s2sz - 1)) + self.below(4 << 20),
            _ => self.word() & ((1 << (s2sz + 1)) - 1),
        };
        if self.chance(95) {
            raw & !(size(level) - 1)
        } else {
            raw
        }
    }

    /// An IPA where the realm's memory is built: its first 4 MiB, protected or
    /// unprotected; `None` for an unknown realm.
    fn hot_ipa(&mut self, s: &Shadow, rd: u64) -> Option<u64> {
        let r = s.realms.get(&rd)?;
        let unprotected = if self.chance(25) {
            1u64 << (r.s2sz - 1)
        } else {
            0
        };
        Some(unprotected + (self.below(4 << 20) & !0xFFF))
    }

    /// The base IPA of one of the realm's level-3 RTTs in its protected half.
    fn leaf_table(&mut self, s: &Shadow, rd: u64) -> Option<u64> {
        let top = 1u64 << (s.realms.get(&rd)?.s2sz - 1);
        let leaves: Vec<u64> = s
            .rtts
            .values()
            .filter(|&&(owner, ipa, level)| owner == rd && level == 3 && ipa < top)
            .map(|&(_, ipa, _)| ipa)
            .collect();
        self.pick(&leaves)
    }

    fn rmi(&self, cpu: usize, fid: RmiFid, args: &[u64]) -> Step {
        let mut a = [0u64; 6];
        a[..args.len()].copy_from_slice(args);
        Step {
            writes: Vec::new(),
            clears: Vec::new(),
            cpu,
            fid: fid.id() as u64,
            args: a,
        }
    }

    /// The next step: a call, and now and then the host scribbling over a pool granule
    /// (its own memory while it is NS; a write to a delegated one faults and is lost).
    pub fn step(&mut self, m: &Machine, s: &Shadow) -> Step {
        self.force_cpu = None;
        self.next(m, s)
    }

    /// The next step, made on `cpu` (one step of a concurrent batch).
    pub fn step_on(&mut self, m: &Machine, s: &Shadow, cpu: usize) -> Step {
        self.force_cpu = Some(cpu);
        let step = self.next(m, s);
        self.force_cpu = None;
        step
    }

    fn next(&mut self, m: &Machine, s: &Shadow) -> Step {
        let delegated = (HOST_PAGES..POOL)
            .filter(|&i| s.states[i] == GState::Delegated)
            .count();
        let free = (HOST_PAGES..POOL)
            .filter(|&i| matches!(s.states[i], GState::Ns | GState::Delegated))
            .count();
        if self.teardown.is_none()
            && (free < LOW_WATER || (s.realms.len() > MAX_REALMS && self.chance(5)))
        {
            let rds: Vec<u64> = s.realms.keys().copied().collect();
            self.teardown = self.pick(&rds);
        }
        if let Some(rd) = self.teardown {
            if self.chance(70) {
                match self.teardown_step(s, rd) {
                    Some(step) => return step,
                    None => self.teardown = None,
                }
            }
        }
        let mut step = if delegated < 12 && self.chance(50) {
            // Keep a stock of DELEGATED granules: every creating command needs them.
            let g = self.granule(s, |g| g == GState::Ns);
            let cpu = self.cpu();
            self.rmi(cpu, RmiFid::GranuleDelegate, &[g])
        } else {
            self.call(m, s)
        };
        if self.chance(10) {
            let g = s.pa(HOST_PAGES + self.below((POOL - HOST_PAGES) as u64) as usize);
            step.writes.push((g + 8 * self.below(512), self.word()));
        }
        step
    }

    fn call(&mut self, m: &Machine, s: &Shadow) -> Step {
        let cpu = self.cpu();
        let delegated = |g| g == GState::Delegated;
        match self.below(100) {
            0..=11 => {
                let g = self.arg(s, m, |g| g == GState::Ns);
                self.rmi(cpu, RmiFid::GranuleDelegate, &[g])
            }
            12..=16 => {
                let g = self.arg(s, m, delegated);
                self.rmi(cpu, RmiFid::GranuleUndelegate, &[g])
            }
            17..=21 if s.realms.len() < MAX_REALMS || self.chance(10) => {
                self.realm_create(m, s, cpu)
            }
            17..=21 => self.rec_enter(m, s, cpu),
            22..=23 => {
                // Activate realms that have been built a little (a REC and some
                // memory), so that NEW realms stay around for DATA_CREATE and friends.
                let built: Vec<u64> = s
                    .realms
                    .iter()
                    .filter(|(&rd, r)| {
                        !r.active
                            && !r.recs.is_empty()
                            && s.states
                                .iter()
                                .any(|g| matches!(*g, GState::Data { rd: o, .. } if o == rd))
                    })
                    .map(|(&rd, _)| rd)
                    .collect();
                let rd = match self.pick(&built) {
                    Some(rd) if self.chance(90) => rd,
                    _ if self.chance(80) => return self.data_create(m, s, cpu),
                    _ => self.rd(s, m),
                };
                self.rmi(cpu, RmiFid::RealmActivate, &[rd])
            }
            25..=26 => {
                let rd = self.rd(s, m);
                self.rmi(cpu, RmiFid::RealmDestroy, &[rd])
            }
            27..=31 => self.rec_create(m, s, cpu),
            32 => {
                let rec = self.arg(s, m, |g| matches!(g, GState::Rec { .. }));
                self.rmi(cpu, RmiFid::RecDestroy, &[rec])
            }
            33 => {
                let rec = self.arg(s, m, |g| matches!(g, GState::Rec { .. }));
                let run = self.host_page(s, RUNS, cpu);
                self.rmi(cpu, RmiFid::RecEnter, &[rec, run])
            }
            34..=43 => {
                let rd = self.rd(s, m);
                let rtt = self.arg(s, m, delegated);
                let (ipa, level) = match self.hot_ipa(s, rd) {
                    // One level below the deepest table that covers a hot IPA: its
                    // parent exists, so the walk succeeds.
                    Some(ipa) if self.chance(70) => {
                        let (_, level) = s.deepest_table(rd, ipa);
                        let level = level + 1;
                        (ipa & !(size(level - 1) - 1), level)
                    }
                    _ => {
                        let level = self.level();
                        (self.ipa(s, rd, level - 1), level)
                    }
                };
                self.rmi(cpu, RmiFid::RttCreate, &[rd, rtt, ipa, level as u64])
            }
            44..=47 => {
                let rd = self.rd(s, m);
                let level = self.level();
                let ipa = self.ipa(s, rd, level - 1);
                let fid = if self.chance(50) {
                    RmiFid::RttDestroy
                } else {
                    RmiFid::RttFold
                };
                self.rmi(cpu, fid, &[rd, ipa, level as u64])
            }
            48..=49 => {
                let rd = self.rd(s, m);
                let level = self.level();
                let ipa = self.ipa(s, rd, level);
                self.rmi(cpu, RmiFid::RttReadEntry, &[rd, ipa, level as u64])
            }
            50..=53 => {
                let mapped: Vec<(u64, u64, i64)> = s
                    .unprot
                    .iter()
                    .map(|(&(rd, ipa), &l)| (rd, ipa, l))
                    .collect();
                if self.chance(35) {
                    if let Some((rd, ipa, level)) = self.pick(&mapped) {
                        return self.rmi(
                            cpu,
                            RmiFid::RttUnmapUnprotected,
                            &[rd, ipa, level as u64],
                        );
                    }
                }
                let rd = self.rd(s, m);
                let level = if self.chance(80) { 3 } else { self.level() };
                let ipa = match s.realms.get(&rd) {
                    Some(r) if self.chance(70) => {
                        (1u64 << (r.s2sz - 1)) + (self.below(4 << 20) & !(size(level) - 1))
                    }
                    _ => self.ipa(s, rd, level),
                };
                let host = self.shared_page(s);
                let desc = if self.chance(90) {
                    host | 0b11 << 6 | 0b110 << 2
                } else {
                    self.word()
                };
                if self.chance(60) {
                    self.rmi(
                        cpu,
                        RmiFid::RttMapUnprotected,
                        &[rd, ipa, level as u64, desc],
                    )
                } else {
                    self.rmi(cpu, RmiFid::RttUnmapUnprotected, &[rd, ipa, level as u64])
                }
            }
            54..=58 => {
                let rd = self.new_rd(s, m);
                let base = match self.leaf_table(s, rd) {
                    Some(t) if self.chance(80) => t + 4096 * self.below(512),
                    _ => self.ipa(s, rd, 3),
                };
                let top = if self.chance(70) {
                    base + 4096 * (1 + self.below(16))
                } else {
                    base + 4096 * (1 + self.below(600))
                };
                self.rmi(cpu, RmiFid::RttInitRipas, &[rd, base, top])
            }
            59..=66 => self.data_create(m, s, cpu),
            67..=70 => {
                let rd = self.rd(s, m);
                let ipa = self.ipa(s, rd, 3);
                self.rmi(cpu, RmiFid::DataDestroy, &[rd, ipa])
            }
            71..=82 => self.rec_enter(m, s, cpu),
            83..=85 => {
                let recs: Vec<u64> = self.rec_pool(s);
                let pending: Vec<u64> = s
                    .recs
                    .iter()
                    .filter(|(_, r)| r.ripas_request.is_some())
                    .map(|(&a, _)| a)
                    .collect();
                if pending.is_empty() && self.chance(70) {
                    return self.rec_enter(m, s, cpu);
                }
                let rec = match self.pick(&pending) {
                    Some(r) if self.chance(90) => r,
                    _ => self.pick(&recs).unwrap_or_else(|| self.arg(s, m, |_| true)),
                };
                let owner = s.recs.get(&rec).map(|r| r.rd);
                let rd = owner.unwrap_or_else(|| self.rd(s, m));
                let (base, top) = match s.recs.get(&rec).and_then(|r| r.ripas_request) {
                    Some((b, t)) if self.chance(80) => {
                        let end = if self.chance(50) {
                            t
                        } else {
                            b + 4096 * (1 + self.below(8))
                        };
                        (b, end)
                    }
                    _ => {
                        let b = self.ipa(s, rd, 3);
                        (b, b + 4096 * (1 + self.below(8)))
                    }
                };
                self.rmi(cpu, RmiFid::RttSetRipas, &[rd, rec, base, top])
            }
            86..=88 => {
                let recs: Vec<u64> = self.rec_pool(s);
                let pending: Vec<u64> = s
                    .recs
                    .iter()
                    .filter(|(_, r)| r.psci_request.is_some())
                    .map(|(&a, _)| a)
                    .collect();
                if pending.is_empty() && self.chance(70) {
                    return self.rec_enter(m, s, cpu);
                }
                let calling = match self.pick(&pending) {
                    Some(c) if self.chance(90) => c,
                    _ => self.pick(&recs).unwrap_or_else(|| self.arg(s, m, |_| true)),
                };
                // The REC the call names: the one of the realm with the MPIDR the realm
                // asked for, mostly.
                let named = s.recs.get(&calling).and_then(|c| {
                    let (_, mpidr) = c.psci_request?;
                    s.recs
                        .iter()
                        .find(|(_, r)| r.rd == c.rd && r.mpidr == mpidr)
                        .map(|(&a, _)| a)
                });
                let target = match named {
                    Some(t) if self.chance(90) => t,
                    _ => self.pick(&recs).unwrap_or_else(|| self.arg(s, m, |_| true)),
                };
                let status = match self.below(4) {
                    0 => self.word(),
                    1 => u64::MAX - 2, // PSCI_DENIED (-3)
                    _ => 0,
                };
                self.rmi(cpu, RmiFid::PsciComplete, &[calling, target, status])
            }
            89..=90 => {
                let rd = self.rd(s, m);
                self.rmi(cpu, RmiFid::RecAuxCount, &[rd])
            }
            91..=92 => {
                let x = if self.chance(50) { 0 } else { self.word() };
                self.rmi(cpu, RmiFid::Features, &[x])
            }
            93..=94 => {
                let v = if self.chance(50) {
                    1 << 16
                } else {
                    self.word()
                };
                self.rmi(cpu, RmiFid::Version, &[v])
            }
            _ => {
                // Any function identifier in the RMI range, with random arguments.
                let fid = 0xC400_0150 + self.below(0x40);
                let mut step = self.rmi(cpu, RmiFid::Version, &[]);
                step.fid = fid;
                for a in step.args.iter_mut() {
                    *a = self.word();
                }
                step
            }
        }
    }

    /// Writes `words` (offset, value) of a host page into the step.
    fn write_words(step: &mut Step, page: u64, words: &[(u64, u64)]) {
        step.clears.push(page);
        for &(off, v) in words {
            step.writes.push((page + off, v));
        }
    }

    fn realm_create(&mut self, m: &Machine, s: &Shadow, cpu: usize) -> Step {
        let (s2sz, level, n) = self.pick(&SHAPES).expect("shapes");
        let rd = self.arg(s, m, |g| g == GState::Delegated);
        // Start tables: `n` consecutive DELEGATED granules aligned to n granules.
        let runs: Vec<u64> = (HOST_PAGES..POOL)
            .step_by(n as usize)
            .filter(|&i| {
                i + n as usize <= POOL
                    && s.pa(i).is_multiple_of(n as u64 * 4096)
                    && (0..n as usize).all(|k| s.states[i + k] == GState::Delegated)
            })
            .map(|i| s.pa(i))
            .collect();
        let rtt_base = match self.pick(&runs) {
            Some(b) if !self.chance(5) => b,
            None if self.chance(80) => {
                // Work towards one: delegate a granule of an aligned run of NS ones.
                let start = HOST_PAGES.next_multiple_of(n as usize);
                let run =
                    start + n as usize * self.below(((POOL - start) / n as usize) as u64) as usize;
                if let Some(k) = (run..run + n as usize).find(|&k| s.states[k] == GState::Ns) {
                    return self.rmi(cpu, RmiFid::GranuleDelegate, &[s.pa(k)]);
                }
                self.arg(s, m, |g| g == GState::Delegated)
            }
            _ => self.arg(s, m, |g| g == GState::Delegated),
        };
        let params = self.host_page(s, PARAMS, cpu);
        let free: Vec<u64> = (1..=VMIDS)
            .filter(|&v| s.realms.values().all(|r| r.vmid as u64 != v))
            .collect();
        let vmid = match self.pick(&free) {
            Some(v) if self.chance(90) => v,
            _ => 1 + self.below(VMIDS),
        };
        let mut words = vec![
            (0x008, s2sz as u64),
            (0x018, 1), // num_bps
            (0x020, 1), // num_wps
            (0x030, self.below(2)),
            (0x400, self.word()),
            (0x800, vmid),
            (0x808, rtt_base),
            (0x810, level as u64),
            (0x818, n as u64),
        ];
        if self.chance(10) {
            // A word anywhere: a reserved flag, a padding byte, a bad encoding.
            words.push((8 * self.below(512), self.word()));
        }
        let mut step = self.rmi(cpu, RmiFid::RealmCreate, &[rd, params]);
        Self::write_words(&mut step, params, &words);
        step
    }

    fn rec_create(&mut self, m: &Machine, s: &Shadow, cpu: usize) -> Step {
        let rd = self.new_rd(s, m);
        let rec = self.arg(s, m, |g| g == GState::Delegated);
        let params = self.host_page(s, PARAMS, cpu);
        let index = s.realms.get(&rd).map_or(0, |r| r.rec_index);
        let index = if self.chance(90) {
            index
        } else {
            self.below(4)
        };
        let mpidr = (index & 0xF) | ((index >> 4) & 0xFF) << 8;
        // RMI_REC_AUX_COUNT answers without side effects.
        let aux_count = m.rmi(0, RmiFid::RecAuxCount, &[rd]);
        let n = if aux_count[0] == 0 { aux_count[1] } else { 2 };
        let n = if self.chance(95) { n } else { self.below(18) };
        let mut words = vec![
            (0x000, self.chance(90) as u64), // runnable
            (0x100, mpidr),
            (0x200, REALM_ENTRY),
            (0x300, self.word()), // x0: the realm program's seed
            (0x800, n),
        ];
        for k in 0..n.min(16) {
            let a = self.arg(s, m, |g| g == GState::Delegated);
            words.push((0x808 + 8 * k, a));
        }
        let mut step = self.rmi(cpu, RmiFid::RecCreate, &[rd, rec, params]);
        Self::write_words(&mut step, params, &words);
        step
    }

    fn data_create(&mut self, m: &Machine, s: &Shadow, cpu: usize) -> Step {
        let rd = self.new_rd(s, m);
        let data = self.arg(s, m, |g| g == GState::Delegated);
        // An IPA in a level-3 RTT of the realm that no DATA granule holds, mostly.
        let ipa = match self.leaf_table(s, rd) {
            Some(t) if self.chance(85) => {
                let free: Vec<u64> = (0..512)
                    .map(|k| t + 4096 * k)
                    .filter(|&ipa| !s.data_at(rd, ipa))
                    .collect();
                self.pick(&free).unwrap_or(t)
            }
            _ => self.ipa(s, rd, 3),
        };
        if self.chance(30) {
            return self.rmi(cpu, RmiFid::DataCreateUnknown, &[rd, data, ipa]);
        }
        let src = if self.chance(95) {
            self.host_page(s, SOURCES, cpu)
        } else {
            self.arg(s, m, |_| true)
        };
        let flags = if self.chance(95) {
            self.below(2)
        } else {
            self.word()
        };
        let mut step = self.rmi(cpu, RmiFid::DataCreate, &[rd, data, ipa, src, flags]);
        // A fresh sentinel in the first 16 bytes (never zero), content after it.
        let words = [
            (0, self.word() | 1),
            (8, self.word()),
            (8 * (2 + self.below(510)), self.word()),
        ];
        Self::write_words(&mut step, src, &words);
        step
    }

    fn rec_enter(&mut self, m: &Machine, s: &Shadow, cpu: usize) -> Step {
        let recs: Vec<u64> = self.rec_pool(s);
        let rec = match self.pick(&recs) {
            Some(r) if !self.chance(5) => r,
            _ => self.arg(s, m, |g| matches!(g, GState::Rec { .. })),
        };
        let run = if self.chance(97) {
            self.host_page(s, RUNS, cpu)
        } else {
            self.arg(s, m, |_| true)
        };
        // flags: TRAP_WFI mostly (a realm in WFI returns), the others at random.
        let mut flags = 1 << 2;
        for bit in [0u64, 1, 3, 4] {
            if self.chance(15) {
                flags |= 1 << bit;
            }
        }
        if self.chance(3) {
            flags = self.word();
        }
        let mut words = vec![(0x000, flags)];
        for r in 0..(self.below(4)) {
            words.push((0x200 + 8 * self.below(31), self.word() >> (r * 16)));
        }
        if self.chance(20) {
            // GIC state: ICH_HCR_EL2 host bits (UIE, LRENPIE, NPIE, VGrp*) and LRs,
            // mostly valid pending group-1 interrupts, sometimes duplicates or junk.
            let hcr = if self.chance(80) {
                self.below(0x10) << 1
            } else {
                self.word()
            };
            words.push((0x300, hcr));
            for lr in 0..self.below(5) {
                let v = if self.chance(80) {
                    1 << 62 | 1 << 60 | 0xA0 << 48 | (32 + self.below(3))
                } else {
                    self.word()
                };
                words.push((0x308 + 8 * lr, v));
            }
        }
        let mut step = self.rmi(cpu, RmiFid::RecEnter, &[rec, run]);
        Self::write_words(&mut step, run, &words);
        step
    }
}
