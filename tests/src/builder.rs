//! Host-side helpers for building realms in tests, in the style of a hypervisor:
//! granule allocation, realm parameters, realm creation.

use core::cell::Cell;

use rmi_abi::{RmiError, RmiFid, RmiRealmParams, RmiRecMpidr, RmiRecParams};
use zerocopy::{FromZeros, IntoBytes};

use crate::{Checks, Failure, Host};

/// Hands out Non-secure granules to a test, in address order, never the same twice.
pub struct Pool<'h> {
    host: &'h dyn Host,
    base: u64,
    next: Cell<usize>,
    /// Whether the granules are the host's memory above 2^48
    /// ([`Host::high_ns_granule`]).
    high: bool,
    /// Granules `[start, end)` that hold a host's realm code
    /// ([`crate::vmm::build_code`]): released in one check, so that a suite makes as
    /// many checks where the host loads code into the realm as where it does not.
    code: Cell<Option<(usize, usize)>>,
}

impl<'h> Pool<'h> {
    /// A pool starting at the host's first usable granule.
    pub fn new(host: &'h dyn Host) -> Self {
        Self {
            host,
            base: host.ns_granule(0),
            next: Cell::new(0),
            high: false,
            code: Cell::new(None),
        }
    }

    /// A pool of the host's memory at or above 2^48, if it has any.
    pub fn high(host: &'h dyn Host) -> Option<Self> {
        Some(Self {
            host,
            base: host.high_ns_granule(0)?,
            next: Cell::new(0),
            high: true,
            code: Cell::new(None),
        })
    }

    /// Granule `n` of the pool's memory.
    fn granule(&self, n: usize) -> u64 {
        if self.high {
            self.host
                .high_ns_granule(n)
                .unwrap_or_else(|| panic!("granule {n} is beyond the pool above 2^48"))
        } else {
            self.host.ns_granule(n)
        }
    }

    /// Undelegates every granule handed out so far that the host cannot access (each
    /// undelegation a check): the end of a test, once its realms are destroyed.
    pub fn release(&self, c: &mut Checks) -> Result<(), Failure> {
        let code = self.code.get();
        let mut code_released = true;
        for n in 0..self.next.get() as u64 {
            let pa = self.base + n * 4096;
            if code.is_some_and(|(start, end)| (start as u64..end as u64).contains(&n)) {
                if !self.host.granule_accessible(pa) {
                    code_released &= self.host.rmi(RmiFid::GranuleUndelegate, &[pa])[0] == 0;
                }
                continue;
            }
            if !self.host.granule_accessible(pa) {
                c.status(
                    "undelegate",
                    self.host.rmi(RmiFid::GranuleUndelegate, &[pa])[0],
                    Ok(()),
                )?;
            }
        }
        if code.is_some() {
            c.holds("undelegate the realm code's granules", code_released)?;
        }
        Ok(())
    }

    /// Runs `load`, which takes granules from the pool for a host's realm code: they
    /// are released in one check ([`Pool::release`]). At most once per pool.
    pub fn for_code<T>(&self, load: impl FnOnce(&Self) -> T) -> T {
        let start = self.next.get();
        let t = load(self);
        self.code.set(Some((start, self.next.get())));
        t
    }

    /// The next free Non-secure granule.
    pub fn ns(&self) -> u64 {
        let n = self.next.get();
        self.next.set(n + 1);
        self.granule(n)
    }

    /// `count` consecutive Non-secure granules whose first is aligned to `align` bytes.
    pub fn ns_contiguous(&self, count: usize, align: u64) -> u64 {
        loop {
            let n = self.next.get();
            let pa = self.granule(n);
            if pa.is_multiple_of(align) {
                self.next.set(n + count);
                return pa;
            }
            self.next.set(n + 1);
        }
    }

    /// Delegates `pa` (a check).
    pub fn delegate(&self, c: &mut Checks, pa: u64) -> Result<u64, Failure> {
        c.status(
            "delegate",
            self.host.rmi(RmiFid::GranuleDelegate, &[pa])[0],
            Ok(()),
        )?;
        Ok(pa)
    }

    /// A freshly delegated granule.
    pub fn delegated(&self, c: &mut Checks) -> Result<u64, Failure> {
        let pa = self.ns();
        self.delegate(c, pa)
    }
}

/// What a test asks of a realm.
#[derive(Clone, Copy, Debug)]
pub struct RealmSpec {
    /// IPA width.
    pub s2sz: u8,
    /// RTT start level.
    pub start_level: i64,
    /// Concatenated start-level RTTs.
    pub num_start: u32,
    /// VMID.
    pub vmid: u16,
    /// Hash algorithm (0 SHA-256, 1 SHA-512).
    pub hash_algo: u8,
    /// The LPA2 flag (RmiRealmFlags bit 0).
    pub lpa2: bool,
}

impl Default for RealmSpec {
    /// A 40-bit realm starting at level 1 with two concatenated tables, SHA-256.
    fn default() -> Self {
        Self {
            s2sz: 40,
            start_level: 1,
            num_start: 2,
            vmid: 1,
            hash_algo: 0,
            lpa2: false,
        }
    }
}

impl RealmSpec {
    /// The parameters for this realm with its start tables at `rtt_base`.
    pub fn params(&self, rtt_base: u64) -> RmiRealmParams {
        let mut p = RmiRealmParams::new_zeroed();
        p.flags = self.lpa2 as u64;
        p.s2sz = self.s2sz;
        p.num_bps = 1;
        p.num_wps = 1;
        p.hash_algo = self.hash_algo;
        p.vmid = self.vmid;
        p.rtt_base = rtt_base;
        p.rtt_level_start = self.start_level;
        p.rtt_num_start = self.num_start;
        p.rpv = [0x5A; 64];
        p
    }
}

/// A realm created by [`create_realm`].
#[derive(Clone, Copy, Debug)]
pub struct Realm {
    /// The RD.
    pub rd: u64,
    /// The first start-level RTT.
    pub rtt_base: u64,
    /// The NS granule holding the parameters.
    pub params_pa: u64,
    /// The specification used.
    pub spec: RealmSpec,
}

/// Writes parameters to a host granule.
pub fn write_params(h: &dyn Host, pa: u64, p: &RmiRealmParams) -> bool {
    h.write_ns(pa, p.as_bytes())
}

/// Delegates an RD and start tables, writes the parameters and creates the realm.
pub fn create_realm(
    h: &dyn Host,
    pool: &Pool<'_>,
    c: &mut Checks,
    spec: RealmSpec,
) -> Result<Realm, Failure> {
    let rtt_base = pool.ns_contiguous(spec.num_start as usize, spec.num_start as u64 * 4096);
    for i in 0..spec.num_start as u64 {
        pool.delegate(c, rtt_base + i * 4096)?;
    }
    let rd = pool.delegated(c)?;
    let params_pa = pool.ns();
    c.holds(
        "write params",
        write_params(h, params_pa, &spec.params(rtt_base)),
    )?;
    c.status(
        "realm create",
        h.rmi(RmiFid::RealmCreate, &[rd, params_pa])[0],
        Ok(()),
    )?;
    Ok(Realm {
        rd,
        rtt_base,
        params_pa,
        spec,
    })
}

/// Destroys a realm with no RECs and no live start tables and undelegates its RD and
/// start tables.
pub fn destroy_realm(h: &dyn Host, c: &mut Checks, r: &Realm) -> Result<(), Failure> {
    c.status(
        "realm destroy",
        h.rmi(RmiFid::RealmDestroy, &[r.rd])[0],
        Ok(()),
    )?;
    c.status(
        "undelegate rd",
        h.rmi(RmiFid::GranuleUndelegate, &[r.rd])[0],
        Ok(()),
    )?;
    for i in 0..r.spec.num_start as u64 {
        let pa = r.rtt_base + i * 4096;
        c.status(
            "undelegate rtt",
            h.rmi(RmiFid::GranuleUndelegate, &[pa])[0],
            Ok(()),
        )?;
    }
    Ok(())
}

/// Creates the level 2 and level 3 RTTs covering IPA 0 in the realm at `rd`, whose RTT
/// start level must be 1, and, when `ram_top` is not 0, sets RIPAS RAM on
/// `[0, ram_top)` with RMI_RTT_INIT_RIPAS (`ram_top` at most 2 MiB).
pub fn map_low_ipa(
    h: &dyn Host,
    pool: &Pool<'_>,
    c: &mut Checks,
    rd: u64,
    ram_top: u64,
) -> Result<(), Failure> {
    map_low_ipa_from(h, pool, c, rd, 1, ram_top)
}

/// [`map_low_ipa`] for a realm whose RTT start level is `start` (-1..=2): creates the
/// RTTs of every level below it, down to level 3, covering IPA 0.
pub fn map_low_ipa_from(
    h: &dyn Host,
    pool: &Pool<'_>,
    c: &mut Checks,
    rd: u64,
    start: i64,
    ram_top: u64,
) -> Result<(), Failure> {
    for level in start + 1..=3 {
        let t = pool.delegated(c)?;
        c.status(
            "rtt create",
            h.rmi(RmiFid::RttCreate, &[rd, t, 0, level as u64])[0],
            Ok(()),
        )?;
    }
    if ram_top != 0 {
        c.status(
            "init ripas",
            h.rmi(RmiFid::RttInitRipas, &[rd, 0, ram_top])[0],
            Ok(()),
        )?;
    }
    Ok(())
}

/// `count` DATA granules at IPA 0 upwards, each created by RMI_DATA_CREATE without
/// measurement (flags 0) from the NS page `src`, in a realm whose low IPA space has its
/// RTTs ([`map_low_ipa`]).
pub fn load_pages(
    h: &dyn Host,
    pool: &Pool<'_>,
    c: &mut Checks,
    rd: u64,
    src: u64,
    count: u64,
) -> Result<(), Failure> {
    for i in 0..count {
        let data = pool.delegated(c)?;
        c.status(
            "data create",
            h.rmi(RmiFid::DataCreate, &[rd, data, i * 0x1000, src, 0])[0],
            Ok(()),
        )?;
    }
    Ok(())
}

/// Parameters of REC `index`: its MPIDR from the index (DEN0137 1.0, A2.3.3); REC 0 is
/// runnable and starts at `entry`, the others wait for PSCI_CPU_ON.
pub fn rec_params(index: u64, entry: u64) -> RmiRecParams {
    let mut p = RmiRecParams::new_zeroed();
    p.flags = (index == 0) as u64;
    p.mpidr = RmiRecMpidr::from_index(index).map_or(u64::MAX, RmiRecMpidr::bits);
    p.pc = if index == 0 { entry } else { 0 };
    p
}

/// Creates a REC of the realm at `rd` from `params`, with as many freshly delegated
/// auxiliary granules as RMI_REC_AUX_COUNT asks for; returns the REC's address.
pub fn create_rec(
    h: &dyn Host,
    pool: &Pool<'_>,
    c: &mut Checks,
    rd: u64,
    mut params: RmiRecParams,
) -> Result<u64, Failure> {
    let r = h.rmi(RmiFid::RecAuxCount, &[rd]);
    c.status("rec aux count", r[0], Ok(()))?;
    let aux = r[1] as usize;
    params.num_aux = aux as u64;
    for a in params.aux.iter_mut().take(aux) {
        *a = pool.delegated(c)?;
    }
    let params_pa = pool.ns();
    c.holds("write rec params", h.write_ns(params_pa, params.as_bytes()))?;
    let rec = pool.delegated(c)?;
    c.status(
        "rec create",
        h.rmi(RmiFid::RecCreate, &[rd, rec, params_pa])[0],
        Ok(()),
    )?;
    Ok(rec)
}

/// The end of a test: destroys `recs` and then the realms `rds` with everything mapped
/// in them ([`crate::teardown`]), and gives every granule of `pool` back to the host.
/// Each REC_DESTROY and REALM_DESTROY is a check.
pub fn teardown(
    h: &dyn Host,
    pool: &Pool<'_>,
    c: &mut Checks,
    rds: &[u64],
    recs: &[u64],
) -> Result<(), Failure> {
    for &rec in recs {
        c.status("rec destroy", h.rmi(RmiFid::RecDestroy, &[rec])[0], Ok(()))?;
    }
    for &rd in rds {
        if let Some((start, ipa_bits)) = crate::teardown::probe_realm(h, rd) {
            crate::teardown::clear_realm(h, rd, start, ipa_bits, &mut || Some(pool.ns()));
        }
        c.status(
            "realm destroy",
            h.rmi(RmiFid::RealmDestroy, &[rd])[0],
            Ok(()),
        )?;
    }
    pool.release(c)
}

/// Checks a packed status against an expected error.
pub fn expect_err(c: &mut Checks, what: &'static str, x0: u64, e: RmiError) -> Result<(), Failure> {
    c.status(what, x0, Err(e))
}
