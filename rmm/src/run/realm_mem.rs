//! The RMM's own accesses to realm memory at an IPA (RSI buffers such as RsiHostCall and
//! RsiRealmConfig): translated through the realm's RTTs with the RD locked, and done
//! while the RTT entry that maps the memory stays locked.
//!
//! Holding the leaf RTT locked is what keeps the DATA granule the realm's for the
//! duration of the access: DATA_DESTROY (and so UNDELEGATE, or DATA_CREATE into another
//! realm) and RIPAS changes must lock that RTT first. The mapping borrows the walk
//! ([`crate::rtt::walk::Walk::target`]), so it cannot outlive the lock.

use platform::{Arch, GranuleMem, PhysAddr};
use rmi_abi::enums::RmiRipas;

use crate::granule::RdKind;
use crate::rtt::geometry::{Level, PAGE_LEVEL};
use crate::rtt::walk::{walk, Walk};
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
    match w.entry {
        Rtte::Assigned {
            ripas: RmiRipas::Ram,
            ..
        } => Ok(()),
        Rtte::Assigned {
            ripas: RmiRipas::Empty,
            ..
        }
        | Rtte::Unassigned(RmiRipas::Empty) => Err(RealmMemError::Empty),
        _ => Err(RealmMemError::Unmapped(w.level)),
    }
}

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// Runs `f` on the realm granule that backs the protected `ipa` of the realm at `rd`
    /// (if its RIPAS is RAM and a DATA granule is mapped there), with the offset of `ipa`
    /// in the granule. The RD and the RTT entry mapping the granule stay locked while `f`
    /// runs, so `f` must not take either lock again.
    pub(crate) fn with_realm_granule<R>(
        &self,
        rd: PhysAddr,
        ipa: u64,
        f: impl FnOnce(&mut GranuleMem, usize) -> R,
    ) -> Result<R, RealmMemError> {
        let mut rd_lock = self
            .granules
            .lock_as::<RdKind>(rd)
            .unwrap_or_else(|e| panic!("a running REC's RD {rd} is not an RD ({e:?})"));
        let realm = self.realm_info(&mut rd_lock);
        let mut w = walk(&self.arch, &self.granules, &realm, ipa, PAGE_LEVEL);
        classify(&w)?;
        let (mut target, offset) = w
            .target(ipa)
            .unwrap_or_else(|| unreachable!("an ASSIGNED RAM entry maps a granule"));
        let r = f(&mut self.arch.map_realm(&mut target), offset);
        Ok(r)
    }

    /// Whether the protected `ipa` of the realm at `rd` is mapped realm memory (RIPAS
    /// RAM, ASSIGNED), as the RTT says now; nothing is accessed.
    pub(crate) fn ipa_mapping(&self, rd: PhysAddr, ipa: u64) -> Result<(), RealmMemError> {
        let mut rd_lock = self
            .granules
            .lock_as::<RdKind>(rd)
            .unwrap_or_else(|e| panic!("a running REC's RD {rd} is not an RD ({e:?})"));
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
        self.with_realm_granule(rd, ipa, |g, off| {
            buf.copy_from_slice(&g.0[off..off + buf.len()])
        })
    }

    /// Writes `buf` to realm memory at `ipa` (within one granule).
    pub(crate) fn realm_write(
        &self,
        rd: PhysAddr,
        ipa: u64,
        buf: &[u8],
    ) -> Result<(), RealmMemError> {
        self.with_realm_granule(rd, ipa, |g, off| {
            g.0[off..off + buf.len()].copy_from_slice(buf)
        })
    }
}
