//! Access to granules by physical address, through the windows of [`super::mmu`]:
//! Realm granules at VA = PA, Non-secure granules at VA = PA + `NS_ALIAS` with the
//! fault-tolerant copy of [`super::vectors`].

use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;

use super::{mmu, vectors};
use crate::addr::{PhysAddr, GRANULE_SIZE};
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
        // `Arch::map_realm` owns exclusively: the mapping borrows an `OwnedGranule`
        // proof (a held lock, or the RMM's own memory) for its whole life, so no other
        // reference to the granule exists while `self` lives.
        unsafe { self.ptr.as_ref() }
    }
}

impl DerefMut for Mapped<'_> {
    fn deref_mut(&mut self) -> &mut GranuleMem {
        // SAFETY: as for `deref`; `&mut self` makes this the only live reference.
        unsafe { self.ptr.as_mut() }
    }
}

/// Maps the Realm granule at `pa` (granule aligned). Only for [`crate::Arch::map_realm`],
/// which holds the proof of ownership for the mapping's lifetime.
pub(super) fn map_realm<'a>(pa: PhysAddr) -> Mapped<'a> {
    assert!(
        pa.is_granule_aligned() && pa.0 != 0,
        "map of invalid granule {pa}"
    );
    Mapped {
        ptr: NonNull::new(pa.0 as *mut GranuleMem).unwrap_or(NonNull::dangling()),
        _lt: PhantomData,
    }
}

/// Zeroes the Realm granule at `pa` with `DC ZVA`, four blocks (`DCZID_EL0.BS`) per
/// iteration; with `DC ZVA` prohibited (`DCZID_EL0.DZP`) or blocks over 1 KiB it falls
/// back to stores. Only for
/// [`crate::Arch::zero_granule`], whose caller proves it owns the granule.
pub(super) fn zero_granule(pa: PhysAddr) {
    let dczid: u64;
    // SAFETY: reading DCZID_EL0 has no side effects.
    unsafe { core::arch::asm!("mrs {}, dczid_el0", out(reg) dczid, options(nomem, nostack)) };
    let block = 4usize << (dczid & 0xf);
    if dczid & (1 << 4) != 0 || block > 1024 {
        map_realm(pa).0.fill(0);
        return;
    }
    // Holding the mapping for the loop keeps the granule borrowed exclusively.
    let mut granule = map_realm(pa);
    let base = granule.0.as_mut_ptr();
    // Four blocks per iteration (block is at most 1 KiB here, so 4 blocks divide 4096).
    for off in (0..4096).step_by(4 * block) {
        // SAFETY: `base + off` up to `base + off + 4 * block` lies in the granule (4 *
        // block divides 4096), which is mapped Normal Write-Back at VA = PA and
        // exclusively borrowed through `granule`; each DC ZVA writes zeros to exactly
        // the `block` bytes at its aligned address.
        unsafe {
            core::arch::asm!(
                "dc zva, {a}",
                "add {a}, {a}, {b}",
                "dc zva, {a}",
                "add {a}, {a}, {b}",
                "dc zva, {a}",
                "add {a}, {a}, {b}",
                "dc zva, {a}",
                a = inout(reg) base.add(off) => _,
                b = in(reg) block,
                options(nostack, preserves_flags)
            )
        };
    }
}

/// The address of byte `offset` of the Realm granule at `pa`, for `len` bytes.
fn realm_range(pa: PhysAddr, offset: usize, len: usize) -> *mut u8 {
    assert!(
        pa.is_granule_aligned() && pa.0 != 0 && offset + len <= GRANULE_SIZE,
        "realm data access outside granule {pa}: {offset:#x}+{len:#x}"
    );
    (pa.0 as usize + offset) as *mut u8
}

/// Copies `words` doublewords from `src` to `dst`, each with one 64-bit load and one
/// 64-bit store (single-copy atomic at 8-byte alignment), in assembly: outside Rust's
/// memory model, so a realm CPU accessing the same words at the same time is not a
/// data race on this side, as with volatile accesses, at a third of their cost.
///
/// # Safety
/// `src` and `dst` must be 8-byte aligned and valid for `8 * words` bytes of reads and
/// writes respectively; at most one of them may be memory other agents access.
unsafe fn copy_doublewords(dst: *mut u8, src: *const u8, words: usize) {
    if words == 0 {
        return;
    }
    // SAFETY: guaranteed by the caller; the loop touches exactly the `words`
    // doublewords from each pointer.
    unsafe {
        core::arch::asm!(
            "1:  ldr {t}, [{s}], #8",
            "    str {t}, [{d}], #8",
            "    subs {n}, {n}, #1",
            "    b.ne 1b",
            s = inout(reg) src => _,
            d = inout(reg) dst => _,
            n = inout(reg) words => _,
            t = out(reg) _,
            options(nostack)
        )
    }
}

/// Copies `len` bytes from `src` to `dst`: doublewords ([`copy_doublewords`]) where
/// both sides are 8-byte aligned, volatile bytes elsewhere.
///
/// # Safety
/// As for [`copy_doublewords`], for `len` bytes.
unsafe fn copy_realm(dst: *mut u8, src: *const u8, len: usize) {
    let mut i = 0;
    while i < len {
        // SAFETY: `i < len`: both `src + i` and `dst + i` are in the ranges the caller
        // vouches for.
        unsafe {
            let (d, s) = (dst.add(i), src.add(i));
            if (d as usize | s as usize).is_multiple_of(8) && len - i >= 8 {
                let words = (len - i) / 8;
                copy_doublewords(d, s, words);
                i += 8 * words;
            } else {
                core::ptr::write_volatile(d, core::ptr::read_volatile(s));
                i += 1;
            }
        }
    }
}

/// Copies realm memory (a DATA granule realm CPUs may access at the same time) into
/// `buf`: doublewords where both sides are 8-byte aligned (each single-copy atomic),
/// bytes elsewhere, none of it a Rust access the realm's stores could race with.
pub(super) fn read_realm_data(pa: PhysAddr, offset: usize, buf: &mut [u8]) {
    let src = realm_range(pa, offset, buf.len());
    // SAFETY: the source lies in the granule (checked by `realm_range`), which is Realm
    // memory mapped at VA = PA and pinned to the realm for the caller's proof; `buf` is
    // ours, valid for its length.
    unsafe { copy_realm(buf.as_mut_ptr(), src, buf.len()) }
}

/// Copies `buf` into realm memory (see [`read_realm_data`]).
pub(super) fn write_realm_data(pa: PhysAddr, offset: usize, buf: &[u8]) {
    let dst = realm_range(pa, offset, buf.len());
    // SAFETY: as for `read_realm_data`, with the roles swapped.
    unsafe { copy_realm(dst, buf.as_ptr(), buf.len()) }
}

/// Reads from a Non-secure granule through the Non-secure window.
pub fn read_ns(pa: PhysAddr, offset: usize, buf: &mut [u8]) -> Result<(), NsFault> {
    let at = pa.0 + offset as u64;
    if !mmu::ns_window_covers(at, buf.len() as u64) {
        return Err(NsFault { pa });
    }
    // SAFETY: `buf` is valid for writes of its length; the source is inside the
    // Non-secure window, where a granule protection fault is recovered by `ns_copy`.
    let ok = unsafe { vectors::ns_copy(buf.as_mut_ptr(), mmu::ns_va(at) as *const u8, buf.len()) };
    if ok {
        Ok(())
    } else {
        Err(NsFault { pa })
    }
}

/// Writes to a Non-secure granule through the Non-secure window.
pub fn write_ns(pa: PhysAddr, offset: usize, buf: &[u8]) -> Result<(), NsFault> {
    let at = pa.0 + offset as u64;
    if !mmu::ns_window_covers(at, buf.len() as u64) {
        return Err(NsFault { pa });
    }
    // SAFETY: as for `read_ns`, with the roles swapped.
    let ok = unsafe { vectors::ns_copy(mmu::ns_va(at) as *mut u8, buf.as_ptr(), buf.len()) };
    if ok {
        Ok(())
    } else {
        Err(NsFault { pa })
    }
}
