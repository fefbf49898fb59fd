//! The RMM's own accesses to realm memory at an IPA (RSI buffers such as RsiHostCall and
//! RsiRealmConfig): translated through the realm's RTTs with the RD locked, and done
//! while the RTT entry that maps the memory stays locked.
//!
//! The walk keeps the RD and the leaf RTT locked for the duration of the access, which
//! keeps the DATA granule the realm's: DATA_DESTROY (and so UNDELEGATE, or DATA_CREATE
//! into another realm) and RIPAS changes must lock that RD and RTT first, and wait. The
//! proof of access borrows the walk ([`crate::rtt::walk::Walk::target`]), so it cannot
//! outlive the locks. (Holding the RD also means that the RMI commands on that realm
//! wait for the access; the accesses are short: at most a granule.)
//!
//! The realm's other CPUs may access the same memory meanwhile, so it is never mapped
//! as a Rust reference: [`RealmPage`] copies in and out with the platform's
//! single-copy-atomic accesses ([`Arch::read_realm_data`]).

use platform::{Arch, PhysAddr};
use rmi_abi::enums::RmiRipas;
use rmi_abi::GRANULE_SIZE;

use crate::granule::{Locked, RdKind};
use crate::rtt::geometry::{Level, PAGE_LEVEL};
use crate::rtt::walk::{walk, Walk, WalkTarget};
use crate::rtt::Rtte;
use crate::{Rmm, Storage};

/// Why an IPA could not be accessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RealmMemError {
    /// Not mapped (a stage-2 translation fault would occur) at this RTT level.
    Unmapped(Level),
    /// RIPAS EMPTY: the realm has no memory there.
    Empty,
}

/// What the entry a walk stopped at says about realm memory at its IPA.
fn classify(w: &Walk<'_>) -> Result<(), RealmMemError> {
    match w.entry() {
        Rtte::Assigned {
            ripas: RmiRipas::Ram,
            ..
        } => Ok(()),
        Rtte::Assigned {
            ripas: RmiRipas::Empty,
            ..
        }
        | Rtte::Unassigned(RmiRipas::Empty) => Err(RealmMemError::Empty),
        _ => Err(RealmMemError::Unmapped(w.level())),
    }
}

/// A granule of realm memory the RMM may access, and the offset of the IPA asked for in
/// it: copies only, through the platform.
pub(crate) struct RealmPage<'a, 'w, 'g, A: Arch> {
    arch: &'a A,
    pin: WalkTarget<'w, 'g>,
    offset: usize,
}

impl<A: Arch> RealmPage<'_, '_, '_, A> {
    /// The offset in the granule of the IPA the page was asked for.
    pub(crate) fn offset(&self) -> usize {
        self.offset
    }

    /// Copies `buf.len()` bytes at `offset` in the granule into `buf`.
    pub(crate) fn read(&mut self, offset: usize, buf: &mut [u8]) {
        self.arch.read_realm_data(&mut self.pin, offset, buf)
    }

    /// Copies `buf` to `offset` in the granule.
    pub(crate) fn write(&mut self, offset: usize, buf: &[u8]) {
        self.arch.write_realm_data(&mut self.pin, offset, buf)
    }

    /// Zeroes the whole granule.
    pub(crate) fn zero(&mut self) {
        const ZEROS: [u8; 256] = [0; 256];
        for off in (0..GRANULE_SIZE).step_by(ZEROS.len()) {
            self.write(off, &ZEROS);
        }
    }
}

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// Locks the RD of a running REC's realm. A REC holds a reference on its RD
    /// (RMI_REALM_DESTROY fails `realm_live` while any REC exists), so the granule at `rd` is an
    /// RD for as long as the REC runs: anything else is a broken invariant, not a host
    /// error, and stops the RMM.
    pub(crate) fn lock_running_rd(&self, rd: PhysAddr) -> Locked<'_, RdKind> {
        self.granules
            .lock_as::<RdKind>(rd)
            .unwrap_or_else(|e| panic!("a running REC's RD {rd} is not an RD ({e:?})"))
    }

    /// Runs `f` on the realm granule that backs the protected `ipa` of the realm at `rd`
    /// (if its RIPAS is RAM and a DATA granule is mapped there), with the offset of `ipa`
    /// in the granule. The RD and the RTT entry mapping the granule stay locked while `f`
    /// runs, so `f` must not take either lock again.
    pub(crate) fn with_realm_granule<R>(
        &self,
        rd: PhysAddr,
        ipa: u64,
        f: impl FnOnce(&mut RealmPage<'_, '_, '_, A>) -> R,
    ) -> Result<R, RealmMemError> {
        let mut rd_lock = self.lock_running_rd(rd);
        let realm = self.realm_info(&mut rd_lock);
        let mut w = walk(&self.arch, &self.granules, &realm, ipa, PAGE_LEVEL);
        classify(&w)?;
        let (pin, offset) = w
            .target(&self.arch, ipa)
            .unwrap_or_else(|| unreachable!("an ASSIGNED RAM entry maps a granule"));
        let r = f(&mut RealmPage {
            arch: &self.arch,
            pin,
            offset,
        });
        Ok(r)
    }

    /// Whether the protected `ipa` of the realm at `rd` is mapped realm memory (RIPAS
    /// RAM, ASSIGNED), as the RTT says now; nothing is accessed.
    pub(crate) fn ipa_mapping(&self, rd: PhysAddr, ipa: u64) -> Result<(), RealmMemError> {
        let mut rd_lock = self.lock_running_rd(rd);
        let realm = self.realm_info(&mut rd_lock);
        classify(&walk(&self.arch, &self.granules, &realm, ipa, PAGE_LEVEL))
    }

    /// Reads `buf.len()` bytes of realm memory at `ipa` (within one granule).
    pub(crate) fn realm_read(
        &self,
        rd: PhysAddr,
        ipa: u64,
        buf: &mut [u8],
    ) -> Result<(), RealmMemError> {
        self.with_realm_granule(rd, ipa, |page| {
            let off = page.offset();
            page.read(off, buf)
        })
    }

    /// Writes `buf` to realm memory at `ipa` (within one granule).
    pub(crate) fn realm_write(
        &self,
        rd: PhysAddr,
        ipa: u64,
        buf: &[u8],
    ) -> Result<(), RealmMemError> {
        self.with_realm_granule(rd, ipa, |page| {
            let off = page.offset();
            page.write(off, buf)
        })
    }
}
