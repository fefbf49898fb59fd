//! The architecture interface the RMM core is written against.
//!
//! It is deliberately narrow: calls to EL3, access to a granule of physical memory in a
//! given physical address space (PAS), and the system registers of the CPU the RMM runs
//! on. There are two implementations, chosen at compile time: the firmware one
//! (AArch64, `aarch64-unknown-none`) and the hosted simulation (the `platform-sim` crate).
//!
//! The RMM core is generic over [`Arch`] (static dispatch; no trait objects), which lets a
//! test process hold several independent simulated machines at once.

use core::ops::{Deref, DerefMut};

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::addr::{PhysAddr, GRANULE_SIZE};
use crate::sha::{Block256, Block512};
use crate::sysreg::SysReg;

/// A physical address space (Arm RME): the granule protection table assigns one to
/// every granule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Pas {
    /// Non-secure PAS: the normal world's memory.
    NonSecure = 0,
    /// Secure PAS.
    Secure = 1,
    /// Realm PAS: memory of the RMM and of realms.
    Realm = 2,
    /// Root PAS: EL3's memory.
    Root = 3,
}

/// A Non-secure access that faulted (granule protection fault or external abort).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NsFault {
    /// The faulting address.
    pub pa: PhysAddr,
}

/// The linear index of a CPU (the `x0` boot argument of the RMM-EL3 interface).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct CpuId(pub usize);

/// The contents of one granule, aligned so that any RMM structure can be laid over it.
#[derive(Clone, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C, align(4096))]
pub struct GranuleMem(pub [u8; GRANULE_SIZE]);

impl GranuleMem {
    /// A zeroed granule.
    pub const ZERO: Self = Self([0; GRANULE_SIZE]);
}

impl Default for GranuleMem {
    fn default() -> Self {
        Self::ZERO
    }
}

/// The realm's general-purpose registers, PC and PSTATE: what crosses a realm entry
/// and exit besides system registers.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct RealmRegs {
    /// x0..x30.
    pub gprs: [u64; 31],
    /// The PC to resume at (ELR_EL2).
    pub pc: u64,
    /// PSTATE to resume with (SPSR_EL2).
    pub pstate: u64,
}

/// The FP/SIMD registers of the PE (Arm ARM, A1.4 "Supported data types" and C5.2
/// FPCR/FPSR): V0..V31 as 128-bit values (each as two little-endian 64-bit halves, low
/// half first), FPCR and FPSR. With SVE, only the low 128 bits of each Z register.
///
/// EL3 does not switch these between worlds; the RMM switches them between the Normal
/// world and each realm around a REC entry ([`Arch::save_fp`], [`Arch::load_fp`]).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C, align(16))]
pub struct FpRegs {
    /// V0..V31: `[low 64 bits, high 64 bits]`.
    pub v: [[u64; 2]; 32],
    /// FPCR.
    pub fpcr: u64,
    /// FPSR.
    pub fpsr: u64,
}

impl FpRegs {
    /// All zero: the state of a new REC.
    pub const ZERO: Self = Self {
        v: [[0; 2]; 32],
        fpcr: 0,
        fpsr: 0,
    };
    /// Offset of `fpcr` (the save/restore code's layout).
    pub const FPCR_OFFSET: usize = core::mem::offset_of!(FpRegs, fpcr);
}

const _: () = assert!(core::mem::size_of::<FpRegs>() == 528 && FpRegs::FPCR_OFFSET == 512);
const _: () = assert!(core::mem::offset_of!(FpRegs, fpsr) == 520);

/// How much of each vector register holds state that a routine borrowing the SIMD&FP
/// registers must put back ([`Arch::sha256_blocks`], [`Arch::sha512_blocks`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LiveVectors {
    /// V0..V31, 128 bits each: a CPU without FEAT_SVE.
    V128,
    /// The Z registers in full (FEAT_SVE): a write of a V register zeroes, or may zero,
    /// the bits of its Z register above 127 (Arm ARM, "SIMD&FP and SVE registers"),
    /// which SMCCC 1.3 requires an SMC without the SVE hint to preserve.
    SveZ,
}

/// How a realm run ended: the exception taken to EL2. For `Sync`, ESR_EL2, FAR_EL2
/// and HPFAR_EL2 hold the syndrome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RealmTrap {
    /// A synchronous exception (SMC, trapped instruction, abort...).
    Sync,
    /// A physical IRQ.
    Irq,
    /// A physical FIQ.
    Fiq,
    /// An SError.
    SError,
}

/// Proof that its holder owns one granule of Realm PAS memory exclusively: the
/// granule's lock is held, or a lock that pins the granule (the leaf RTT entry mapping
/// a DATA granule), or the granule is memory no one else uses (the RMM's own).
///
/// [`Arch::map_realm`] and [`Arch::zero_granule`] take such a proof instead of a bare
/// physical address, so that code which does not hold the lock a granule needs cannot
/// reach its memory: a mapping is a borrow of the proof. The RMM implements this trait
/// only for its lock guards (and the few proofs that stand for them), whose
/// constructors are private to its granule and RTT-walk modules; the platform crate
/// implements it for nothing, and a `PhysAddr` is not a proof:
///
/// ```compile_fail,E0277
/// fn peek<A: platform::Arch>(arch: &A) -> u8 {
///     let mut pa = platform::PhysAddr(0x4200_0000);
///     arch.map_realm(&mut pa).0[0] // error: `PhysAddr` is not an `OwnedGranule`
/// }
/// ```
pub trait OwnedGranule {
    /// The physical address of the granule owned (granule aligned).
    fn owned_pa(&self) -> PhysAddr;
}

/// Proof that its holder may access a granule of realm memory (a DATA granule) that the
/// realm's own CPUs may read and write at the same time: the RTT entry mapping it is
/// held locked, so the granule stays the realm's, but it is not the RMM's alone.
///
/// Such memory is never mapped as a Rust reference (that would assert an exclusive
/// access the realm does not grant): [`Arch::read_realm_data`] and
/// [`Arch::write_realm_data`] copy with single-copy-atomic accesses the compiler may
/// neither elide nor repeat.
pub trait PinnedRealmGranule {
    /// The physical address of the granule (granule aligned).
    fn pinned_pa(&self) -> PhysAddr;
}

/// What a stage-2 TLB invalidation ([`Arch::invalidate_stage2`]) covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage2Scope {
    /// Every entry used to translate `ipa`, from any level of the walk: the leaf that
    /// maps it, a page or a block at `level` (`ipa` anywhere in it), and the table
    /// descriptors above it (Arm ARM `TLBI IPAS2E1IS`).
    Leaf {
        /// An IPA the leaf maps.
        ipa: u64,
        /// The leaf's level (1..=3), a hint.
        level: i8,
    },
    /// Every entry used to translate any IPA in `[base, base + size)`: what a table
    /// covering that range mapped (its leaves, and its own and its parents' table
    /// descriptors).
    Range {
        /// First IPA (granule aligned).
        base: u64,
        /// Size in bytes (a multiple of the granule).
        size: u64,
    },
    /// Every entry of the VMID, stage 1 and stage 2 (Arm ARM `TLBI VMALLS12E1IS`).
    Vmid,
}

/// The architecture as the RMM sees it.
///
/// Contract for every memory access: the RMM names the PAS it expects the granule to be
/// in (its own mapping's NS attribute). On hardware an access through the wrong PAS is a
/// granule protection fault; the simulation treats it as a fatal error naming the
/// address.
pub trait Arch: Sync {
    /// A granule of Realm PAS memory mapped for the RMM's exclusive use. Dropping it
    /// unmaps the granule.
    type Mapped<'a>: Deref<Target = GranuleMem> + DerefMut
    where
        Self: 'a;

    /// Issues an SMC to EL3 (the RMM-EL3 interface) from CPU `cpu` (on hardware: the
    /// current CPU) with `x0 = fid` and `x1..` from `args` (at most 7, the rest zero);
    /// returns `x0..=x7` as EL3 leaves them.
    fn el3_call(&self, cpu: CpuId, fid: u32, args: &[u64]) -> [u64; 8];

    /// Maps the Realm PAS granule `owner` proves the caller owns into the RMM. The
    /// mapping borrows the proof: it cannot outlive the lock, and the same proof cannot
    /// map the granule twice at once.
    fn map_realm<'a, G: OwnedGranule + ?Sized>(&'a self, owner: &'a mut G) -> Self::Mapped<'a>;

    /// Zeroes the Realm PAS granule `owner` proves the caller owns. On hardware this is
    /// `DC ZVA` per block rather than stores.
    fn zero_granule<G: OwnedGranule + ?Sized>(&self, owner: &mut G);

    /// Copies `buf.len()` bytes of the realm granule `pin` stands for, from `offset`,
    /// into `buf` (the range within the granule).
    fn read_realm_data<G: PinnedRealmGranule + ?Sized>(
        &self,
        pin: &mut G,
        offset: usize,
        buf: &mut [u8],
    );

    /// Copies `buf` into the realm granule `pin` stands for, at `offset` (the range
    /// within the granule).
    fn write_realm_data<G: PinnedRealmGranule + ?Sized>(
        &self,
        pin: &mut G,
        offset: usize,
        buf: &[u8],
    );

    /// Copies `buf.len()` bytes from the Non-secure granule at `pa`, starting at
    /// `offset` within it, into `buf`. The range must not cross the granule.
    ///
    /// The host chooses these addresses, so the access may fault (the granule is not
    /// in the Non-secure PAS, or is not memory): that is reported, never fatal.
    fn read_ns(&self, pa: PhysAddr, offset: usize, buf: &mut [u8]) -> Result<(), NsFault>;

    /// Copies `buf` into the Non-secure granule at `pa`, starting at `offset`; may
    /// fault like [`Arch::read_ns`].
    fn write_ns(&self, pa: PhysAddr, offset: usize, buf: &[u8]) -> Result<(), NsFault>;

    /// Invalidates, on every CPU of the Inner Shareable domain, the cached translations
    /// of the realm with VMID `vmid` that `scope` covers (stage 2, and the combined
    /// stage 1 and 2 entries built on them), and waits for completion: when it returns,
    /// no CPU uses the old translations any more, and every access that used one is
    /// complete (Arm ARM D8.13, TLB maintenance; `TLBI` then `DSB`).
    ///
    /// Called after an RTT entry that was valid has been made invalid (written and not
    /// yet replaced): break-before-make (Arm ARM D8.16.1) is the caller's job.
    fn invalidate_stage2(&self, vmid: u16, scope: Stage2Scope);

    /// The GIC virtual CPU interface of CPU `cpu` (its ICH_*_EL2 registers).
    type Gic<'a>: vgic::GicCpuIf
    where
        Self: 'a;

    /// The GIC virtual CPU interface of CPU `cpu`, whose features the RMM probed when
    /// the CPU booted (with ICC_SRE_EL2.SRE set, from ICH_VTR_EL2 and ICC_CTLR_EL1).
    /// Cheap and infallible: nothing is read here.
    fn gic(&self, cpu: CpuId, features: vgic::GicFeatures) -> Self::Gic<'_>;

    /// Whether this implementation can run realms ([`Arch::run_realm`]). The RMM asks
    /// before RMI_REC_ENTER touches anything.
    fn runs_realms(&self) -> bool;

    /// Runs the realm on `cpu` from `regs`, with the realm's EL1 and stage-2 system
    /// registers already loaded, until it takes an exception to EL2; `regs` then holds
    /// the realm's registers at that point. Only called when [`Arch::runs_realms`].
    fn run_realm(&self, cpu: CpuId, regs: &mut RealmRegs) -> RealmTrap;

    /// Stores the FP/SIMD registers of `cpu` (V0..V31, FPCR, FPSR) in `into`. On
    /// hardware this is the one place besides [`Arch::load_fp`] where the RMM executes
    /// FP/SIMD instructions (with CPTR_EL2.TFP cleared around them).
    fn save_fp(&self, cpu: CpuId, into: &mut FpRegs);

    /// Loads the FP/SIMD registers of `cpu` from `from`.
    fn load_fp(&self, cpu: CpuId, from: &FpRegs);

    /// Keeps aside the SVE state of `cpu` that [`Arch::save_fp`] does not cover: the Z
    /// registers in full, at the largest vector length EL3 allows (their bits above 127
    /// are zeroed by any write of the V registers: the realm's FP/SIMD code and the
    /// load of its registers). P0..P15 and FFR are not kept: neither the RMM nor a
    /// realm can change them (SVE traps, CPTR_EL2.TZ). Kept per CPU, one state at a
    /// time; only called on a CPU with FEAT_SVE, whose SVE EL3 enables for the Realm
    /// world.
    fn save_host_sve(&self, cpu: CpuId);

    /// Puts back the Z registers [`Arch::save_host_sve`] kept (after the low 128 bits
    /// were loaded with [`Arch::load_fp`]).
    fn restore_host_sve(&self, cpu: CpuId);

    /// Compresses `blocks`, in order, into the SHA-256 hash `state` (FIPS 180-4, 6.2.2
    /// steps 1-4 per block) with the SHA-256 instructions (FEAT_SHA256) of the CPU the
    /// caller runs on.
    /// Only called on a CPU whose ID_AA64ISAR0_EL1 reports them
    /// ([`crate::sha::Sha2Isa`]), with `live` [`LiveVectors::SveZ`] on a CPU with
    /// FEAT_SVE. The SIMD&FP registers it borrows are put back bit-exact (`live` says
    /// how much of them), with FPCR and FPSR unchanged: neither the Normal world's nor a
    /// realm's FP/SIMD state changes.
    fn sha256_blocks(&self, live: LiveVectors, state: &mut [u32; 8], blocks: &[Block256]);

    /// [`Arch::sha256_blocks`] for SHA-512 (FIPS 180-4, 6.4.2), with the SHA-512
    /// instructions (FEAT_SHA512).
    fn sha512_blocks(&self, live: LiveVectors, state: &mut [u64; 8], blocks: &[Block512]);

    /// Reads a system register of CPU `cpu` (on hardware: of the current CPU, which is
    /// `cpu`).
    fn read_sysreg(&self, cpu: CpuId, reg: SysReg) -> u64;

    /// Marks that the current CPU has reached `phase` of an RMI call: in a `phases`
    /// build of the firmware, a read of the generic counter kept for the bench's
    /// breakdown ([`crate::phase`]). Nothing by default; the RMM calls it only through
    /// its `phase!` macro, which compiles to nothing without its `phases` feature.
    #[inline(always)]
    fn mark_phase(&self, phase: crate::phase::Phase) {
        let _ = phase;
    }

    /// Writes a system register of CPU `cpu`. A write to ICC_SRE_EL2 is synchronised
    /// (on hardware, followed by an ISB), so that the GIC system register accesses
    /// after it see its effect.
    fn write_sysreg(&self, cpu: CpuId, reg: SysReg, value: u64);
}
