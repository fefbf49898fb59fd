//! The RMM's own accesses to realm memory at an IPA (RSI buffers such as RsiHostCall and
//! RsiRealmConfig): translated through the realm's RTTs with the RD locked.

use core::ops::Deref;

use platform::{Arch, PhysAddr};
use rmi_abi::enums::RmiRipas;

use crate::granule::{Granule, RdKind};
use crate::rtt::geometry::{entry_size, Level, PAGE_LEVEL};
use crate::rtt::walk::walk;
use crate::rtt::Rtte;
use crate::Rmm;

/// Why an IPA could not be accessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RealmMemError {
    /// Not mapped (a stage-2 translation fault would occur) at this RTT level.
    Unmapped(Level),
    /// RIPAS EMPTY: the realm has no memory there.
    Empty,
}

impl<A: Arch, S: Deref<Target = [Granule]>> Rmm<A, S> {
    /// The PA backing the protected `ipa` of the realm at `rd`, if its RIPAS is RAM and
    /// a DATA granule is mapped there.
    pub(crate) fn realm_pa(&self, rd: PhysAddr, ipa: u64) -> Result<PhysAddr, RealmMemError> {
        let rd_lock = self
            .granules
            .lock_as::<RdKind>(rd)
            .unwrap_or_else(|e| panic!("a running REC's RD {rd} is not an RD ({e:?})"));
        let realm = self.realm_info(&rd_lock);
        let w = walk(&self.arch, &self.granules, &realm, ipa, PAGE_LEVEL);
        match w.entry {
            Rtte::Assigned {
                pa,
                ripas: RmiRipas::Ram,
            } => Ok(PhysAddr(pa + (ipa & (entry_size(w.level) - 1)))),
            Rtte::Assigned {
                ripas: RmiRipas::Empty,
                ..
            }
            | Rtte::Unassigned(RmiRipas::Empty) => Err(RealmMemError::Empty),
            _ => Err(RealmMemError::Unmapped(w.level)),
        }
    }

    /// Reads `buf.len()` bytes of realm memory at `ipa` (within one granule).
    pub(crate) fn realm_read(
        &self,
        rd: PhysAddr,
        ipa: u64,
        buf: &mut [u8],
    ) -> Result<(), RealmMemError> {
        let pa = self.realm_pa(rd, ipa)?;
        let off = (pa.0 & 0xFFF) as usize;
        buf.copy_from_slice(&self.arch.map_realm(PhysAddr(pa.0 & !0xFFF)).0[off..off + buf.len()]);
        Ok(())
    }

    /// Writes `buf` to realm memory at `ipa` (within one granule).
    pub(crate) fn realm_write(
        &self,
        rd: PhysAddr,
        ipa: u64,
        buf: &[u8],
    ) -> Result<(), RealmMemError> {
        let pa = self.realm_pa(rd, ipa)?;
        let off = (pa.0 & 0xFFF) as usize;
        self.arch.map_realm(PhysAddr(pa.0 & !0xFFF)).0[off..off + buf.len()].copy_from_slice(buf);
        Ok(())
    }
}
