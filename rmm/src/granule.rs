//! Granule metadata: one 16-bit atomic word per 4 KiB granule of tracked memory.
//!
//! | bits | field |
//! |---|---|
//! | 15 | lock (spin) |
//! | 14:10 | [`GranuleState`] |
//! | 9:0 | reference count |
//!
//! That is 512 KiB of metadata per GiB of delegable memory (2 bytes per 4 KiB granule).
//! The state only changes under the lock. The reference count may change without the
//! lock (for example when a REC is entered), so every update is a read-modify-write on
//! the whole word that never disturbs the other fields.

use core::marker::PhantomData;
#[cfg(not(loom))]
use core::sync::atomic::{AtomicU16, Ordering};
// The model-checked build: loom's atomics explore every interleaving and memory
// ordering the protocol allows (`granule::loom` below).
#[cfg(loom)]
use loom::sync::atomic::{AtomicU16, Ordering};

use platform::addr::GRANULE_SHIFT;
use platform::manifest::DramBank;
use platform::{GranuleIdx, OwnedGranule, PhysAddr};

const LOCK: u16 = 1 << 15;
const STATE_SHIFT: u32 = 10;
const STATE_MASK: u16 = 0x1F << STATE_SHIFT;
const REFCOUNT_MASK: u16 = (1 << STATE_SHIFT) - 1;

/// The largest reference count a granule can hold (10 bits).
pub const REFCOUNT_MAX: u16 = REFCOUNT_MASK;

rmi_abi::abi_enum! {
    /// The state of a granule (DEN0137 1.0, `RmmGranuleState`).
    pub enum GranuleState: u8 {
        /// Not delegated: Non-secure PAS, owned by the host.
        Ns = 0,
        /// Delegated to the realm world, not in use; always zero-filled.
        Delegated = 1,
        /// A realm descriptor.
        Rd = 2,
        /// A realm execution context.
        Rec = 3,
        /// An auxiliary REC granule.
        RecAux = 4,
        /// Realm data.
        Data = 5,
        /// A realm translation table.
        Rtt = 6,
    }
}

impl GranuleState {
    /// The state field of a metadata word. Only [`Granule::set_state`] writes it, with
    /// a member's encoding: anything else is corrupt metadata, a broken invariant.
    const fn from_bits(v: u16) -> Self {
        match Self::decode(((v & STATE_MASK) >> STATE_SHIFT) as u64) {
            Ok(state) => state,
            Err(_) => panic!("corrupt granule metadata state"),
        }
    }
}

/// The metadata word of one granule.
#[derive(Default)]
#[repr(transparent)]
pub struct Granule(AtomicU16);

// (loom's atomics carry its bookkeeping: the size holds for the real build.)
#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<Granule>() == 2);

impl Granule {
    /// A granule in state NS, unlocked, reference count 0.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Granule(AtomicU16::new(0))
    }

    /// A granule in state NS, unlocked, reference count 0 (loom's atomics are not
    /// `const`).
    #[cfg(loom)]
    pub fn new() -> Self {
        Granule(AtomicU16::new(0))
    }

    /// The current state (a snapshot; only stable while locked).
    pub fn state(&self) -> GranuleState {
        GranuleState::from_bits(self.0.load(Ordering::Acquire))
    }

    /// The current reference count.
    pub fn refcount(&self) -> u16 {
        self.0.load(Ordering::Acquire) & REFCOUNT_MASK
    }

    /// Acquires the granule's lock, spinning while another CPU holds it.
    fn lock(&self) {
        while self.0.fetch_or(LOCK, Ordering::Acquire) & LOCK != 0 {
            while self.0.load(Ordering::Relaxed) & LOCK != 0 {
                spin_wait();
            }
        }
    }

    fn unlock(&self) {
        self.0.fetch_and(!LOCK, Ordering::Release);
    }

    /// Applies `f` to the word atomically.
    fn update(&self, f: impl Fn(u16) -> u16) {
        let mut cur = self.0.load(Ordering::Relaxed);
        loop {
            match self
                .0
                .compare_exchange_weak(cur, f(cur), Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(v) => cur = v,
            }
        }
    }

    /// Adds `n` to the reference count; `false` (and no change) if it would overflow.
    pub fn try_get(&self, n: u16) -> bool {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| {
                let rc = (w & REFCOUNT_MASK)
                    .checked_add(n)
                    .filter(|&rc| rc <= REFCOUNT_MAX)?;
                Some(w & !REFCOUNT_MASK | rc)
            })
            .is_ok()
    }

    /// Subtracts `n` from the reference count.
    ///
    /// # Panics
    /// On underflow: an RMM bookkeeping bug.
    pub fn put(&self, n: u16) {
        let ok = self
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| {
                let rc = (w & REFCOUNT_MASK).checked_sub(n)?;
                Some(w & !REFCOUNT_MASK | rc)
            })
            .is_ok();
        assert!(ok, "granule reference count underflow");
    }
}

/// One turn of a spin-wait: a hint to the CPU; under loom, a yield, so that the model
/// checker runs the lock's holder instead of spinning for ever.
#[inline(always)]
fn spin_wait() {
    #[cfg(not(loom))]
    core::hint::spin_loop();
    #[cfg(loom)]
    loom::thread::yield_now();
}

/// A locked granule. The lock is released when the guard is dropped.
pub struct GranuleGuard<'a> {
    granule: &'a Granule,
    pa: PhysAddr,
}

impl GranuleGuard<'_> {
    /// The granule's physical address.
    pub fn pa(&self) -> PhysAddr {
        self.pa
    }

    /// The granule's state.
    pub fn state(&self) -> GranuleState {
        self.granule.state()
    }

    /// The granule's reference count.
    pub fn refcount(&self) -> u16 {
        self.granule.refcount()
    }

    /// Changes the state.
    pub fn set_state(&mut self, state: GranuleState) {
        self.granule
            .update(|w| w & !STATE_MASK | (state as u16) << STATE_SHIFT);
    }

    /// Whether the granule is in `state` (a compare of the state field, without
    /// decoding it).
    pub fn is(&self, state: GranuleState) -> bool {
        self.granule.0.load(Ordering::Relaxed) & STATE_MASK == (state as u16) << STATE_SHIFT
    }

    /// Changes the state and releases the lock in one atomic update of the word (one
    /// read-modify-write instead of two): the release of the lock publishes the new
    /// state and everything written under the lock, as dropping the guard does.
    ///
    /// While the lock is held only its holder changes the state and lock bits, so their
    /// values are known: one exclusive-or flips them to the new state and unlocked, and
    /// leaves the reference count, which other CPUs may change meanwhile, as it is.
    pub fn set_state_and_unlock(self, state: GranuleState) {
        let granule = self.granule;
        core::mem::forget(self);
        let held = granule.0.load(Ordering::Relaxed) & (STATE_MASK | LOCK);
        debug_assert!(held & LOCK != 0, "unlocking a granule that is not locked");
        let new = (state as u16) << STATE_SHIFT;
        granule.0.fetch_xor(held ^ new, Ordering::Release);
    }

    /// The metadata word, for reference-count updates.
    pub fn granule(&self) -> &Granule {
        self.granule
    }
}

impl Drop for GranuleGuard<'_> {
    fn drop(&mut self) {
        self.granule.unlock();
    }
}

/// A granule state as a type, so that a lock guard says what it guards.
pub trait Kind {
    /// The state a granule of this kind is in.
    const STATE: GranuleState;
}

macro_rules! kinds {
    ($($(#[$m:meta])* $name:ident => $state:ident),* $(,)?) => {
        $( $(#[$m])* #[derive(Debug)] pub enum $name {}
           impl Kind for $name { const STATE: GranuleState = GranuleState::$state; } )*
    };
}

kinds! {
    /// A host (Non-secure) granule.
    NsKind => Ns,
    /// A delegated, unused granule.
    DelegatedKind => Delegated,
    /// A realm descriptor.
    RdKind => Rd,
    /// A REC.
    RecKind => Rec,
    /// An auxiliary REC granule.
    RecAuxKind => RecAux,
    /// A DATA granule.
    DataKind => Data,
    /// An RTT.
    RttKind => Rtt,
}

/// Why a granule could not be locked as a given kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockError {
    /// The address is unaligned or not tracked memory (`*_align`, `*_bound`).
    Bound,
    /// The granule is in another state (`*_state`).
    State,
}

/// A locked granule known to be of kind `K`. Unlocks when dropped.
pub struct Locked<'g, K: Kind> {
    guard: GranuleGuard<'g>,
    _kind: PhantomData<K>,
}

impl<'g, K: Kind> Locked<'g, K> {
    /// Checks the state of a locked granule.
    pub fn check(guard: GranuleGuard<'g>) -> Result<Self, LockError> {
        if guard.state() == K::STATE {
            Ok(Self {
                guard,
                _kind: PhantomData,
            })
        } else {
            Err(LockError::State)
        }
    }

    /// The granule's address.
    pub fn pa(&self) -> PhysAddr {
        self.guard.pa
    }

    /// The metadata word (for reference counts).
    pub fn granule(&self) -> &'g Granule {
        self.guard.granule
    }

    /// Changes the granule's state to `T`'s.
    pub fn transition<T: Kind>(mut self) -> Locked<'g, T> {
        self.guard.set_state(T::STATE);
        Locked {
            guard: self.guard,
            _kind: PhantomData,
        }
    }
}

/// The kinds of granule whose own lock is what guards their memory, so that a locked
/// granule of that kind may be mapped. Not DATA: what guards a DATA granule's memory is
/// the RTT entry that maps it (DATA_DESTROY unmaps it under the RTT's lock before it
/// takes the DATA granule's), so realm memory is reached only through the walk that
/// holds that entry locked ([`crate::rtt::walk::Walk::target`]); a DATA granule's own
/// lock would prove neither that it is still mapped nor whose realm it belongs to.
///
/// ```compile_fail,E0277
/// use rmm::granule::{DataKind, GranuleTable};
/// fn peek<A: platform::Arch, S: rmm::Storage>(arch: &A, t: &GranuleTable<S>, pa: platform::PhysAddr) {
///     let mut data = t.lock_as::<DataKind>(pa).unwrap();
///     let _ = arch.map_realm(&mut data); // error: a DATA granule's lock is no proof
/// }
/// ```
pub trait MappedByOwnLock: Kind {}

impl MappedByOwnLock for NsKind {}
impl MappedByOwnLock for DelegatedKind {}
impl MappedByOwnLock for RdKind {}
impl MappedByOwnLock for RecKind {}
impl MappedByOwnLock for RecAuxKind {}
impl MappedByOwnLock for RttKind {}

impl<K: MappedByOwnLock> OwnedGranule for Locked<'_, K> {
    fn owned_pa(&self) -> PhysAddr {
        self.guard.pa
    }
}

/// A range of tracked memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Region {
    base: u64,
    /// Bytes (0 for an unused entry, which then contains nothing).
    size: u64,
    first: usize,
}

/// Maximum number of tracked regions (one per manifest DRAM bank).
pub const MAX_REGIONS: usize = platform::manifest::MAX_DRAM_BANKS;

/// Why a granule table cannot be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableError {
    /// The banks describe more granules than the storage holds.
    TooManyGranules {
        /// Granules described.
        needed: usize,
        /// Granules the storage holds.
        available: usize,
    },
    /// More banks than [`MAX_REGIONS`].
    TooManyBanks,
}

/// The metadata of every granule of the memory the host may delegate: the DRAM banks of
/// the boot manifest.
pub struct GranuleTable<S: crate::Storage> {
    regions: [Region; MAX_REGIONS],
    num_regions: usize,
    storage: S,
}

impl<S: crate::Storage> GranuleTable<S> {
    /// Covers `banks` (sorted, granule aligned) with `storage`, whose words must all be
    /// [`Granule::new`].
    pub fn new(banks: &[DramBank], storage: S) -> Result<Self, TableError> {
        if banks.len() > MAX_REGIONS {
            return Err(TableError::TooManyBanks);
        }
        let mut regions = [Region {
            base: 0,
            size: 0,
            first: 0,
        }; MAX_REGIONS];
        let mut next = 0usize;
        for (r, b) in regions.iter_mut().zip(banks) {
            *r = Region {
                base: b.base,
                size: b.size,
                first: next,
            };
            next += (b.size >> GRANULE_SHIFT) as usize;
        }
        if next > storage.granules().len() {
            return Err(TableError::TooManyGranules {
                needed: next,
                available: storage.granules().len(),
            });
        }
        Ok(Self {
            regions,
            num_regions: banks.len(),
            storage,
        })
    }

    /// The index of the granule at `pa` (granule aligned), or `None` if `pa` is not
    /// tracked memory.
    pub fn index(&self, pa: PhysAddr) -> Option<GranuleIdx> {
        // `base <= pa < base + size` as one unsigned compare: below `base` wraps high.
        self.regions[..self.num_regions]
            .iter()
            .find(|r| pa.0.wrapping_sub(r.base) < r.size)
            .map(|r| GranuleIdx(r.first + ((pa.0 - r.base) >> GRANULE_SHIFT) as usize))
    }

    /// The metadata of the granule at `pa`, or `None` if it is unaligned or untracked.
    pub fn get(&self, pa: PhysAddr) -> Option<&Granule> {
        if !pa.is_granule_aligned() {
            return None;
        }
        self.index(pa).map(|i| &self.storage.granules()[i.0])
    }

    /// Locks the granule at `pa`; `None` if it is unaligned or untracked.
    pub fn lock(&self, pa: PhysAddr) -> Option<GranuleGuard<'_>> {
        let granule = self.get(pa)?;
        granule.lock();
        Some(GranuleGuard { granule, pa })
    }

    /// Locks the granule at `pa` and checks that it is of kind `K`.
    pub fn lock_as<K: Kind>(&self, pa: PhysAddr) -> Result<Locked<'_, K>, LockError> {
        Locked::check(self.lock(pa).ok_or(LockError::Bound)?)
    }

    /// Locks two granules named by one command, in ascending address order (two CPUs
    /// naming the same pair in opposite orders cannot deadlock), checking each one's
    /// kind as soon as it is locked: a granule in another state, in particular one a
    /// realm uses internally (an RTT) and another CPU may be walking, is released at
    /// once rather than held while the other lock is awaited. The same address twice is
    /// a state error.
    pub fn lock_pair_as<KA: Kind, KB: Kind>(
        &self,
        a: PhysAddr,
        b: PhysAddr,
    ) -> Result<(Locked<'_, KA>, Locked<'_, KB>), LockError> {
        if self.get(a).is_none() || self.get(b).is_none() {
            return Err(LockError::Bound);
        }
        if a == b {
            return Err(LockError::State);
        }
        if a < b {
            let la = self.lock_as::<KA>(a)?;
            Ok((la, self.lock_as::<KB>(b)?))
        } else {
            let lb = self.lock_as::<KB>(b)?;
            Ok((self.lock_as::<KA>(a)?, lb))
        }
    }

    /// The metadata storage the table was built on.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// Number of granules tracked.
    pub fn len(&self) -> usize {
        self.regions[..self.num_regions]
            .iter()
            .map(|r| (r.size >> GRANULE_SHIFT) as usize)
            .sum()
    }

    /// Whether no memory is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(all(test, loom))]
mod model_check;

#[cfg(all(test, not(loom)))]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    struct TestStorage(Vec<Granule>, crate::vmid::VmidSet);

    impl crate::Storage for TestStorage {
        fn granules(&self) -> &[Granule] {
            &self.0
        }
        fn vmids(&self) -> &crate::vmid::VmidSet {
            &self.1
        }
        fn attest(&self) -> &crate::attest::AttestStore {
            static NONE: crate::attest::AttestStore = crate::attest::AttestStore::new();
            &NONE
        }
    }

    fn storage(n: usize) -> TestStorage {
        TestStorage((0..n).map(|_| Granule::new()).collect(), Default::default())
    }

    #[test]
    fn indexes_across_banks() {
        let banks = [
            DramBank {
                base: 0x4000_0000,
                size: 0x4000,
            },
            DramBank {
                base: 0x8000_0000,
                size: 0x2000,
            },
        ];
        let t = GranuleTable::new(&banks, storage(6)).unwrap();
        assert_eq!(t.len(), 6);
        assert_eq!(t.index(PhysAddr(0x4000_0000)), Some(GranuleIdx(0)));
        assert_eq!(t.index(PhysAddr(0x4000_3000)), Some(GranuleIdx(3)));
        assert_eq!(t.index(PhysAddr(0x4000_4000)), None);
        assert_eq!(t.index(PhysAddr(0x8000_1000)), Some(GranuleIdx(5)));
        assert_eq!(t.index(PhysAddr(0x3FFF_F000)), None);
        assert!(t.get(PhysAddr(0x4000_0800)).is_none());
        assert_eq!(
            GranuleTable::new(&banks, storage(5)).err(),
            Some(TableError::TooManyGranules {
                needed: 6,
                available: 5
            })
        );
    }

    #[test]
    fn state_and_refcount_share_a_word_without_interference() {
        let t = GranuleTable::new(
            &[DramBank {
                base: 0x4000_0000,
                size: 0x1000,
            }],
            storage(1),
        )
        .unwrap();
        let pa = PhysAddr(0x4000_0000);
        {
            let mut g = t.lock(pa).unwrap();
            assert_eq!(g.state(), GranuleState::Ns);
            g.set_state(GranuleState::Rtt);
            assert!(g.granule().try_get(512));
            assert_eq!(g.refcount(), 512);
            assert_eq!(g.state(), GranuleState::Rtt);
        }
        let g = t.get(pa).unwrap();
        assert_eq!(
            g.0.load(Ordering::Relaxed),
            6 << 10 | 512,
            "unlocked, RTT, 512"
        );
        assert!(!g.try_get(REFCOUNT_MAX - 511));
        assert!(g.try_get(REFCOUNT_MAX - 512));
        assert_eq!(g.refcount(), REFCOUNT_MAX);
        g.put(REFCOUNT_MAX);
        assert_eq!(g.refcount(), 0);
        assert_eq!(g.state(), GranuleState::Rtt);
    }

    #[test]
    #[should_panic(expected = "underflow")]
    fn refcount_underflow_is_a_bug() {
        Granule::new().put(1);
    }

    #[test]
    fn the_lock_excludes_other_threads() {
        let t = GranuleTable::new(
            &[DramBank {
                base: 0x4000_0000,
                size: 0x1000,
            }],
            storage(1),
        )
        .unwrap();
        let counter = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..200 {
                        let _g = t.lock(PhysAddr(0x4000_0000)).unwrap();
                        // A non-atomic read-modify-write made safe only by the lock.
                        let v = counter.load(Ordering::Relaxed);
                        std::thread::yield_now();
                        counter.store(v + 1, Ordering::Relaxed);
                    }
                });
            }
        });
        assert_eq!(counter.load(Ordering::Relaxed), 800);
    }
}
