//! Simulated physical memory with a granule protection table.
//!
//! DRAM is one or more banks of granules anywhere in the 52-bit physical address space
//! (a bank far above the first, beyond 2^48, costs only its own granules: the address
//! space between banks is not memory). Each granule has a physical address space (its
//! GPT entry) and contents that are allocated on first write (an untouched granule reads
//! as zero), so a 256 MiB machine costs little until it is used.
//!
//! Every access names the PAS it is made through. An access through another PAS than the
//! granule's, or to an address outside DRAM, is a [`GpFault`]. The RMM-facing wrappers in
//! [`super::SimArch`] turn a fault into a panic naming the address, so an RMM that touches
//! memory it does not own fails its test loudly.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard};

use platform::addr::{PhysAddr, GRANULE_SHIFT, GRANULE_SIZE};
use platform::arch::{GranuleMem, Pas};

/// A granule protection fault (or an access outside simulated memory).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GpFault {
    /// The faulting physical address.
    pub pa: PhysAddr,
    /// The PAS the access was made through.
    pub access: Pas,
    /// The granule's PAS, or `None` when the address is not memory.
    pub actual: Option<Pas>,
}

impl GpFault {
    /// Reports the fault as fatal: panics with a message naming the accessor and address.
    pub fn raise(self, who: &str) -> ! {
        panic!("{who}: {self}")
    }
}

impl fmt::Display for GpFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.actual {
            Some(pas) => write!(
                f,
                "granule protection fault at {}: access through {:?} PAS, granule is {:?}",
                self.pa, self.access, pas
            ),
            None => write!(
                f,
                "external abort: no memory at {} ({:?} access)",
                self.pa, self.access
            ),
        }
    }
}

struct Granule {
    pas: AtomicU8,
    data: Mutex<Option<Box<GranuleMem>>>,
}

/// A granule mapped for exclusive access (holds the granule's lock while alive).
pub struct Mapped<'a> {
    guard: MutexGuard<'a, Option<Box<GranuleMem>>>,
}

thread_local! {
    /// How many [`Mapped`] granules the current thread holds.
    static MAPPED_HERE: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
}

/// Whether the current thread holds a [`Mapped`] granule: then it must not wait for
/// another thread's memory access (which may need that granule).
pub(crate) fn holds_mapping() -> bool {
    MAPPED_HERE.with(|n| n.get() != 0)
}

impl Drop for Mapped<'_> {
    fn drop(&mut self) {
        MAPPED_HERE.with(|n| n.set(n.get() - 1));
    }
}

impl core::ops::Deref for Mapped<'_> {
    type Target = GranuleMem;
    fn deref(&self) -> &GranuleMem {
        self.guard.as_deref().unwrap_or(&GranuleMem::ZERO)
    }
}

impl core::ops::DerefMut for Mapped<'_> {
    fn deref_mut(&mut self) -> &mut GranuleMem {
        self.guard.get_or_insert_with(|| Box::new(GranuleMem::ZERO))
    }
}

/// One bank of DRAM: its first address and its granules.
struct Bank {
    base: u64,
    granules: Box<[Granule]>,
}

impl Bank {
    fn new(base: PhysAddr, size: u64) -> Self {
        assert!(base.is_granule_aligned() && size.is_multiple_of(GRANULE_SIZE as u64));
        let n = (size >> GRANULE_SHIFT) as usize;
        let granules = (0..n)
            .map(|_| Granule {
                pas: AtomicU8::new(Pas::NonSecure as u8),
                data: Mutex::new(None),
            })
            .collect();
        Self {
            base: base.0,
            granules,
        }
    }

    fn size(&self) -> u64 {
        (self.granules.len() as u64) << GRANULE_SHIFT
    }
}

/// Simulated DRAM and its GPT entries.
pub struct PhysMem {
    banks: Vec<Bank>,
}

fn pas_from(v: u8) -> Pas {
    match v {
        0 => Pas::NonSecure,
        1 => Pas::Secure,
        2 => Pas::Realm,
        _ => Pas::Root,
    }
}

impl PhysMem {
    /// `size` bytes of DRAM at `base`, all Non-secure and zero.
    pub fn new(base: PhysAddr, size: u64) -> Self {
        Self::with_banks(&[(base, size)])
    }

    /// DRAM made of the banks `(base, size)`, all Non-secure and zero. The banks must be
    /// granule aligned, non-empty, disjoint and below 2^52 (the largest physical address
    /// size, FEAT_LPA/FEAT_LPA2).
    pub fn with_banks(banks: &[(PhysAddr, u64)]) -> Self {
        let mut banks: Vec<Bank> = banks.iter().map(|&(b, s)| Bank::new(b, s)).collect();
        banks.sort_by_key(|b| b.base);
        for b in &banks {
            assert!(b.size() != 0, "empty DRAM bank at {:#x}", b.base);
            assert!(
                b.base
                    .checked_add(b.size())
                    .is_some_and(|end| end <= 1 << 52),
                "DRAM bank at {:#x} beyond 52 bits",
                b.base
            );
        }
        for w in banks.windows(2) {
            assert!(
                w[0].base + w[0].size() <= w[1].base,
                "DRAM banks at {:#x} and {:#x} overlap",
                w[0].base,
                w[1].base
            );
        }
        Self { banks }
    }

    /// First address of DRAM (of its lowest bank).
    pub fn base(&self) -> PhysAddr {
        PhysAddr(self.banks[0].base)
    }

    /// Size of DRAM in bytes (all banks).
    pub fn size(&self) -> u64 {
        self.banks.iter().map(Bank::size).sum()
    }

    /// Whether `pa` is inside DRAM.
    pub fn contains(&self, pa: PhysAddr) -> bool {
        self.granule(pa).is_some()
    }

    fn granule(&self, pa: PhysAddr) -> Option<&Granule> {
        self.banks.iter().find_map(|b| {
            let off = pa.0.checked_sub(b.base)?;
            b.granules.get(usize::try_from(off >> GRANULE_SHIFT).ok()?)
        })
    }

    /// The PAS of the granule holding `pa`, or `None` outside DRAM.
    pub fn pas(&self, pa: PhysAddr) -> Option<Pas> {
        self.granule(pa)
            .map(|g| pas_from(g.pas.load(Ordering::Acquire)))
    }

    /// Sets the PAS of the granule holding `pa` (EL3's GPT update). Returns the old PAS.
    ///
    /// # Panics
    /// Outside DRAM.
    pub fn set_pas(&self, pa: PhysAddr, pas: Pas) -> Pas {
        let g = self
            .granule(pa)
            .unwrap_or_else(|| panic!("GPT update outside DRAM at {pa}"));
        pas_from(g.pas.swap(pas as u8, Ordering::AcqRel))
    }

    /// Sets the PAS of every granule in `[base, base + size)`.
    pub fn set_pas_range(&self, base: PhysAddr, size: u64, pas: Pas) {
        let mut pa = base.0;
        while pa < base.0 + size {
            self.set_pas(PhysAddr(pa), pas);
            pa += GRANULE_SIZE as u64;
        }
    }

    fn check(&self, pa: PhysAddr, access: Pas) -> Result<&Granule, GpFault> {
        let g = self.granule(pa).ok_or(GpFault {
            pa,
            access,
            actual: None,
        })?;
        let actual = pas_from(g.pas.load(Ordering::Acquire));
        // Root may access every PAS; every other world only its own.
        if access != Pas::Root && actual != access {
            return Err(GpFault {
                pa,
                access,
                actual: Some(actual),
            });
        }
        Ok(g)
    }

    /// Maps the granule at `pa` (aligned) through `access` for exclusive use.
    pub fn map(&self, pa: PhysAddr, access: Pas) -> Result<Mapped<'_>, GpFault> {
        assert!(pa.is_granule_aligned(), "granule mapping of unaligned {pa}");
        let g = self.check(pa, access)?;
        let guard = g.data.lock().unwrap_or_else(|e| e.into_inner());
        MAPPED_HERE.with(|n| n.set(n.get() + 1));
        Ok(Mapped { guard })
    }

    /// Runs `f` on the contents of the granule at `pa` (`None` if never written, i.e.
    /// zero), checked for `access`, without waiting: `None` if the granule is mapped or
    /// being accessed by someone else at this moment.
    fn try_with_data<R>(
        &self,
        pa: PhysAddr,
        access: Pas,
        f: impl FnOnce(Option<&GranuleMem>) -> R,
    ) -> Option<Result<R, GpFault>> {
        let g = match self.check(pa, access) {
            Ok(g) => g,
            Err(fault) => return Some(Err(fault)),
        };
        let data = match g.data.try_lock() {
            Ok(d) => d,
            Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return None,
        };
        Some(Ok(f(data.as_deref())))
    }

    /// Reads the little-endian 64-bit word at `pa` (8-byte aligned) through `access`
    /// without waiting: `None` if the granule is mapped or being accessed by someone
    /// else at this moment.
    pub(crate) fn try_read_u64(&self, pa: PhysAddr, access: Pas) -> Option<Result<u64, GpFault>> {
        let off = (pa.0 as usize) & (GRANULE_SIZE - 1) & !7;
        self.try_with_data(pa, access, |d| {
            d.map_or(0, |d| {
                u64::from_le_bytes(d.0[off..off + 8].try_into().expect("8 bytes"))
            })
        })
    }

    /// Copies the granule at `pa` (aligned) through `access` without waiting: `None`
    /// if it is mapped or being accessed by someone else at this moment.
    pub(crate) fn try_read_granule(
        &self,
        pa: PhysAddr,
        access: Pas,
    ) -> Option<Result<Box<GranuleMem>, GpFault>> {
        self.try_with_data(pa, access, |d| {
            Box::new(d.cloned().unwrap_or(GranuleMem::ZERO))
        })
    }

    /// Reads `buf.len()` bytes at `pa` through `access`; the range may span granules,
    /// each of which is checked.
    pub fn read(&self, pa: PhysAddr, access: Pas, buf: &mut [u8]) -> Result<(), GpFault> {
        self.for_each_chunk(pa, buf.len(), access, |g, off, range| {
            let data = g.data.lock().unwrap_or_else(|e| e.into_inner());
            match data.as_deref() {
                Some(d) => buf[range.clone()].copy_from_slice(&d.0[off..off + range.len()]),
                None => buf[range].fill(0),
            }
        })
    }

    /// Writes `buf` at `pa` through `access`; the range may span granules.
    pub fn write(&self, pa: PhysAddr, access: Pas, buf: &[u8]) -> Result<(), GpFault> {
        self.for_each_chunk(pa, buf.len(), access, |g, off, range| {
            let mut data = g.data.lock().unwrap_or_else(|e| e.into_inner());
            let d = data.get_or_insert_with(|| Box::new(GranuleMem::ZERO));
            d.0[off..off + range.len()].copy_from_slice(&buf[range]);
        })
    }

    /// Checks every granule of `[pa, pa + len)` first, then calls `f` per granule with
    /// the offset inside it and the matching range of the caller's buffer.
    fn for_each_chunk(
        &self,
        pa: PhysAddr,
        len: usize,
        access: Pas,
        mut f: impl FnMut(&Granule, usize, core::ops::Range<usize>),
    ) -> Result<(), GpFault> {
        let end = pa.0.checked_add(len as u64).ok_or(GpFault {
            pa,
            access,
            actual: None,
        })?;
        let mut at = pa.0;
        while at < end {
            self.check(PhysAddr(at), access)?;
            at = (at | (GRANULE_SIZE as u64 - 1)) + 1;
        }
        let mut at = pa.0;
        while at < end {
            let off = (at as usize) & (GRANULE_SIZE - 1);
            let n = (GRANULE_SIZE - off).min((end - at) as usize);
            let done = (at - pa.0) as usize;
            let g = self.check(PhysAddr(at), access)?;
            f(g, off, done..done + n);
            at += n as u64;
        }
        Ok(())
    }

    /// Test oracle: the contents of a granule whatever its PAS (no GPT check), as an
    /// external observer of the hardware would see them. Not reachable from the RMM.
    pub fn inspect(&self, pa: PhysAddr) -> Box<GranuleMem> {
        let g = self
            .granule(pa)
            .unwrap_or_else(|| panic!("inspect outside DRAM at {pa}"));
        let data = g.data.lock().unwrap_or_else(|e| e.into_inner());
        data.clone().unwrap_or_else(|| Box::new(GranuleMem::ZERO))
    }

    /// Test oracle: whether a granule is all zero.
    pub fn is_zero(&self, pa: PhysAddr) -> bool {
        self.inspect(pa).0.iter().all(|&b| b == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: PhysAddr = PhysAddr(0x4000_0000);

    fn mem() -> PhysMem {
        PhysMem::new(BASE, 16 * 4096)
    }

    #[test]
    fn untouched_memory_reads_zero_and_writes_round_trip() {
        let m = mem();
        let mut b = [0xAAu8; 16];
        m.read(PhysAddr(0x4000_1000), Pas::NonSecure, &mut b)
            .unwrap();
        assert_eq!(b, [0; 16]);
        // A write spanning two granules.
        let data: Vec<u8> = (0..32).collect();
        m.write(PhysAddr(0x4000_1FF0), Pas::NonSecure, &data)
            .unwrap();
        let mut back = [0u8; 32];
        m.read(PhysAddr(0x4000_1FF0), Pas::NonSecure, &mut back)
            .unwrap();
        assert_eq!(&back[..], &data[..]);
        assert_eq!(m.inspect(PhysAddr(0x4000_2000)).0[..16], data[16..]);
        assert_eq!(m.inspect(PhysAddr(0x4000_1000)).0[0xFF0..], data[..16]);
    }

    #[test]
    fn access_through_the_wrong_pas_faults() {
        let m = mem();
        assert_eq!(m.set_pas(PhysAddr(0x4000_3000), Pas::Realm), Pas::NonSecure);
        let mut b = [0u8; 8];
        let f = m
            .read(PhysAddr(0x4000_3008), Pas::NonSecure, &mut b)
            .unwrap_err();
        assert_eq!(
            f,
            GpFault {
                pa: PhysAddr(0x4000_3008),
                access: Pas::NonSecure,
                actual: Some(Pas::Realm)
            }
        );
        assert!(m.map(PhysAddr(0x4000_3000), Pas::Realm).is_ok());
        let f = m.map(PhysAddr(0x4000_4000), Pas::Realm).err().unwrap();
        assert_eq!(f.actual, Some(Pas::NonSecure));
        // Root accesses everything.
        m.read(PhysAddr(0x4000_3000), Pas::Root, &mut b).unwrap();
        // Outside DRAM.
        let f = m
            .read(PhysAddr(0x3FFF_F000), Pas::NonSecure, &mut b)
            .unwrap_err();
        assert_eq!(f.actual, None);
        let f = m
            .read(PhysAddr(0x4001_0000), Pas::NonSecure, &mut b)
            .unwrap_err();
        assert_eq!(f.actual, None);
    }

    #[test]
    fn a_spanning_write_is_checked_before_any_byte_is_written() {
        let m = mem();
        m.set_pas(PhysAddr(0x4000_2000), Pas::Secure);
        let f = m
            .write(PhysAddr(0x4000_1FFC), Pas::NonSecure, &[1; 8])
            .unwrap_err();
        assert_eq!(f.pa, PhysAddr(0x4000_2000));
        assert!(m.is_zero(PhysAddr(0x4000_1000)));
    }

    #[test]
    fn mapped_granule_persists_writes() {
        let m = mem();
        m.set_pas(PhysAddr(0x4000_5000), Pas::Realm);
        {
            let mut g = m.map(PhysAddr(0x4000_5000), Pas::Realm).unwrap();
            assert_eq!(g.0[100], 0);
            g.0[100] = 7;
        }
        assert_eq!(m.inspect(PhysAddr(0x4000_5000)).0[100], 7);
        assert!(!m.is_zero(PhysAddr(0x4000_5000)));
    }

    /// Banks far apart, one of them above 2^48: each is memory, the space between is
    /// not.
    #[test]
    fn sparse_banks_above_2_pow_48() {
        let high = PhysAddr(0xF_0000_0000_0000);
        let m = PhysMem::with_banks(&[(high, 4 * 4096), (BASE, 4 * 4096)]);
        assert_eq!(m.base(), BASE);
        assert_eq!(m.size(), 8 * 4096);
        assert!(m.contains(PhysAddr(0x4000_3000)) && m.contains(PhysAddr(high.0 + 0x3000)));
        assert!(!m.contains(PhysAddr(0x4000_4000)));
        assert!(!m.contains(PhysAddr(high.0 - 0x1000)));
        assert!(!m.contains(PhysAddr(high.0 + 0x4000)));
        m.write(PhysAddr(high.0 + 0x1008), Pas::NonSecure, &[7; 8])
            .unwrap();
        assert_eq!(m.inspect(PhysAddr(high.0 + 0x1000)).0[8..16], [7; 8]);
        assert!(m.is_zero(PhysAddr(0x4000_1000)), "banks do not alias");
        assert_eq!(m.set_pas(high, Pas::Realm), Pas::NonSecure);
        let f = m.read(high, Pas::NonSecure, &mut [0; 8]).unwrap_err();
        assert_eq!(f.actual, Some(Pas::Realm));
    }

    #[test]
    #[should_panic(expected = "overlap")]
    fn overlapping_banks_are_refused() {
        PhysMem::with_banks(&[(BASE, 2 * 4096), (PhysAddr(BASE.0 + 4096), 4096)]);
    }

    #[test]
    #[should_panic(expected = "granule protection fault at 0x40006000")]
    fn raise_names_the_address() {
        let m = mem();
        m.map(PhysAddr(0x4000_6000), Pas::Realm)
            .err()
            .unwrap()
            .raise("RMM");
    }
}
