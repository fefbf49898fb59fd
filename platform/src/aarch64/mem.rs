//! Access to granules by physical address.
//!
//! Until the RMM's stage-1 translation is enabled the MMU is off: R-EL2 data accesses
//! then go to the Realm PAS at their physical address, so a Realm granule is reached at
//! its own address. Non-secure memory can only be reached through a mapping with the NS
//! attribute, which needs the stage-1 MMU; before that exists an NS access is reported
//! as a fatal error rather than attempted in the wrong PAS.

use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;

use crate::addr::PhysAddr;
use crate::arch::{GranuleMem, NsFault};

/// A Realm granule mapped for the RMM's exclusive use.
pub struct Mapped<'a> {
    ptr: NonNull<GranuleMem>,
    _lt: PhantomData<&'a mut GranuleMem>,
}

impl Deref for Mapped<'_> {
    type Target = GranuleMem;
    fn deref(&self) -> &GranuleMem {
        // SAFETY: `ptr` is the identity address of a Realm granule that the caller of
        // `map_realm` owns exclusively (it holds the granule's lock or the granule is the
        // RMM's own), so no other reference to it exists while `self` lives.
        unsafe { self.ptr.as_ref() }
    }
}

impl DerefMut for Mapped<'_> {
    fn deref_mut(&mut self) -> &mut GranuleMem {
        // SAFETY: as for `deref`; `&mut self` makes this the only live reference.
        unsafe { self.ptr.as_mut() }
    }
}

/// Maps the Realm granule at `pa` (granule aligned).
pub fn map_realm<'a>(pa: PhysAddr) -> Mapped<'a> {
    assert!(
        pa.is_granule_aligned() && pa.0 != 0,
        "map of invalid granule {pa}"
    );
    Mapped {
        ptr: NonNull::new(pa.0 as *mut GranuleMem).unwrap_or(NonNull::dangling()),
        _lt: PhantomData,
    }
}

/// Reads from a Non-secure granule. Needs the stage-1 MMU (an NS mapping), which is
/// not enabled yet: until then every Non-secure access is refused as a fault.
pub fn read_ns(pa: PhysAddr, _offset: usize, _buf: &mut [u8]) -> Result<(), NsFault> {
    log::warn!("Non-secure read of {pa} refused: no NS mapping yet");
    Err(NsFault { pa })
}

/// Writes to a Non-secure granule; refused like [`read_ns`] until the MMU is on.
pub fn write_ns(pa: PhysAddr, _offset: usize, _buf: &[u8]) -> Result<(), NsFault> {
    log::warn!("Non-secure write of {pa} refused: no NS mapping yet");
    Err(NsFault { pa })
}
