//! The granule protection table (FEAT_RME): PPS 40 bits (1 TiB), PGS 4 KiB, L0GPTSZ
//! 1 GiB.
//!
//! - Level 0: 1024 entries of 1 GiB. The first four GiB (flash, devices, secure RAM and
//!   DRAM 0x4000_0000..0x1_0000_0000) point at level 1 tables; every other GiB is a
//!   block descriptor with GPI_ANY.
//! - Level 1: per GiB, 16384 granule descriptors of 16 4-bit GPIs (64 KiB each).
//!   GiB 0 is GPI_ANY except secure RAM (Root: the monitor's data, stacks and these
//!   tables). DRAM is Non-secure except the RMM carve-out and shared page (Realm).
//!
//! The tables live in secure RAM and are written with the MMU off, that is with
//! non-cacheable stores, so GPCCR_EL3 declares table walks non-cacheable and outer
//! shareable: no cache maintenance is needed between a table update and the walks
//! that see it. A GPI change is followed by `DC CIPAPA` of the granule in its old PAS
//! before, and `TLBI PAALLOS` after (QEMU implements the by-address `TLBI RPALOS` as
//! the same full invalidation; PAALLOS is a correct superset).

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::rmm_el3::El3Status;

use crate::layout::{
    DRAM_BASE, DRAM_END, GRANULE_SIZE, RMM_BASE, RMM_REALM_END, SECURE_RAM_BASE, SECURE_RAM_SIZE,
};
use crate::sysreg::{self, Features};

/// A granule protection information value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Gpi {
    /// No access from any PAS.
    NoAccess = 0x0,
    /// Secure PAS only.
    Secure = 0x8,
    /// Non-secure PAS only.
    NonSecure = 0x9,
    /// Root PAS only.
    Root = 0xA,
    /// Realm PAS only.
    Realm = 0xB,
    /// Any PAS.
    Any = 0xF,
}

impl Gpi {
    fn from_bits(b: u64) -> Option<Gpi> {
        Some(match b {
            0x0 => Gpi::NoAccess,
            0x8 => Gpi::Secure,
            0x9 => Gpi::NonSecure,
            0xA => Gpi::Root,
            0xB => Gpi::Realm,
            0xF => Gpi::Any,
            _ => return None,
        })
    }

    /// The NS (bit 63) and NSE (bit 62) bits naming this PAS in a `DC CIPAPA` operand.
    fn pas_bits(self) -> u64 {
        match self {
            Gpi::NonSecure => 1 << 63,
            Gpi::Root => 1 << 62,
            Gpi::Realm => 3 << 62,
            _ => 0,
        }
    }

    /// A level 1 descriptor with every granule set to this GPI.
    const fn all(self) -> u64 {
        (self as u64) * 0x1111_1111_1111_1111
    }
}

/// Protected physical address size: 40 bits.
const PPS_BITS: u32 = 40;
/// Bits covered by one level 0 entry (L0GPTSZ = 0: 30 bits).
const L0_SHIFT: u32 = 30;
const L0_ENTRIES: usize = 1 << (PPS_BITS - L0_SHIFT);
/// Granules per level 1 descriptor.
const GRANULES_PER_L1: u64 = 16;
const L1_ENTRIES: usize = 1 << (L0_SHIFT - 12 - 4);
/// GiBs with a level 1 table.
const L1_TABLES: usize = (DRAM_END >> L0_SHIFT) as usize;

const L0_BLOCK: u64 = 0x1;
const L0_TABLE: u64 = 0x3;

/// GPCCR_EL3 fields.
const GPCCR_PPS_40: u64 = 0b010;
const GPCCR_SH_OUTER: u64 = 0b10 << 12;
const GPCCR_PGS_4K: u64 = 0b00 << 14;
const GPCCR_GPC: u64 = 1 << 16;
const GPCCR_L0GPTSZ_SHIFT: u32 = 20;

#[repr(C, align(8192))]
struct L0Table(UnsafeCell<[u64; L0_ENTRIES]>);

#[repr(C, align(131072))]
struct L1Table(UnsafeCell<[u64; L1_ENTRIES]>);

// SAFETY: the tables are only written under `LOCK` (or by CPU 0 before any other CPU
// runs monitor code), with volatile accesses; the hardware walker reads them.
unsafe impl Sync for L0Table {}
// SAFETY: as for `L0Table`.
unsafe impl Sync for L1Table {}

// Level 0 needs 8 KiB alignment (2^(PPS - L0GPTSZ + 3)), level 1 128 KiB
// (2^(L0GPTSZ - PGS - 1)).
static L0: L0Table = L0Table(UnsafeCell::new([0; L0_ENTRIES]));
static L1: [L1Table; L1_TABLES] = [const { L1Table(UnsafeCell::new([0; L1_ENTRIES])) }; L1_TABLES];

/// Serialises GPT updates between CPUs.
static LOCK: AtomicBool = AtomicBool::new(false);

/// The level 1 descriptor covering `pa` (which must be below [`DRAM_END`]).
fn l1_entry(pa: u64) -> *mut u64 {
    let table = (pa >> L0_SHIFT) as usize;
    let index = ((pa >> 12) / GRANULES_PER_L1) as usize % L1_ENTRIES;
    // `table` < L1_TABLES because pa < DRAM_END; `index` < L1_ENTRIES.
    L1[table].0.get().cast::<u64>().wrapping_add(index)
}

fn gpi_shift(pa: u64) -> u64 {
    ((pa >> 12) % GRANULES_PER_L1) * 4
}

fn read_l1(pa: u64) -> u64 {
    // SAFETY: `l1_entry` points inside a static level 1 table; the access is aligned.
    unsafe { core::ptr::read_volatile(l1_entry(pa)) }
}

fn write_l1(pa: u64, v: u64) {
    // SAFETY: as for `read_l1`; writers hold `LOCK` or run before other CPUs start.
    unsafe { core::ptr::write_volatile(l1_entry(pa), v) }
}

/// The GPI of the granule at `pa` (below [`DRAM_END`]).
pub fn gpi(pa: u64) -> Option<Gpi> {
    Gpi::from_bits((read_l1(pa) >> gpi_shift(pa)) & 0xF)
}

fn set_gpi(pa: u64, gpi: Gpi) {
    let shift = gpi_shift(pa);
    let e = read_l1(pa);
    write_l1(pa, (e & !(0xF << shift)) | ((gpi as u64) << shift));
}

/// Sets every granule of `[base, base + size)` (granule aligned, below DRAM_END).
fn set_range(base: u64, size: u64, gpi: Gpi) {
    let mut pa = base;
    while pa < base + size {
        if pa.is_multiple_of(GRANULES_PER_L1 * GRANULE_SIZE)
            && base + size - pa >= GRANULES_PER_L1 * GRANULE_SIZE
        {
            write_l1(pa, gpi.all());
            pa += GRANULES_PER_L1 * GRANULE_SIZE;
        } else {
            set_gpi(pa, gpi);
            pa += GRANULE_SIZE;
        }
    }
}

/// Fills the tables with the boot layout. CPU 0 only, before GPC is enabled.
pub fn build() {
    for (t, table) in L1.iter().enumerate() {
        let fill = if t == 0 { Gpi::Any } else { Gpi::NonSecure };
        let base = table.0.get().cast::<u64>();
        for i in 0..L1_ENTRIES {
            // SAFETY: `i` is inside the static table; no walker uses it yet.
            unsafe { core::ptr::write_volatile(base.add(i), fill.all()) };
        }
    }
    set_range(SECURE_RAM_BASE, SECURE_RAM_SIZE, Gpi::Root);
    set_range(RMM_BASE, RMM_REALM_END - RMM_BASE, Gpi::Realm);
    let l0 = L0.0.get().cast::<u64>();
    for i in 0..L0_ENTRIES {
        let desc = match L1.get(i) {
            Some(table) => table.0.get() as u64 | L0_TABLE,
            None => ((Gpi::Any as u64) << 4) | L0_BLOCK,
        };
        // SAFETY: `i` is inside the static level 0 table; no walker uses it yet.
        unsafe { core::ptr::write_volatile(l0.add(i), desc) };
    }
}

/// Addresses of the level 0 table and of the level 1 tables' span, for the boot log.
pub fn table_span() -> (u64, u64, u64) {
    let l1 = L1.as_ptr() as u64;
    (
        L0.0.get() as u64,
        l1,
        l1 + (L1_TABLES * L1_ENTRIES * 8) as u64,
    )
}

/// Programs GPTBR_EL3 and GPCCR_EL3 on this CPU and enables granule protection checks.
/// The tables must have been built.
pub fn enable(f: &Features) -> Result<(), &'static str> {
    if !f.rme {
        return Err("the CPU has no FEAT_RME (QEMU needs -cpu max,x-rme=on)");
    }
    if f.pa_bits < PPS_BITS {
        return Err("the physical address size is below the GPT's 40 bits");
    }
    let cfg = GPCCR_PPS_40 | GPCCR_SH_OUTER | GPCCR_PGS_4K;
    // SAFETY: checks are still off; the base points at the level 0 table `build` filled.
    unsafe {
        sysreg::write_gptbr_el3(L0.0.get() as u64 >> 12);
        sysreg::write_gpccr_el3(cfg);
    }
    tlbi_paall();
    // SAFETY: the tables map secure RAM (this code's data, stacks and the tables) Root
    // and flash and devices GPI_ANY, so EL3 keeps running.
    unsafe { sysreg::write_gpccr_el3(cfg | GPCCR_GPC) };
    let l0gptsz = (sysreg::gpccr_el3() >> GPCCR_L0GPTSZ_SHIFT) & 0xF;
    if l0gptsz != u64::from(L0_SHIFT - 30) {
        return Err("GPCCR_EL3.L0GPTSZ is not 1 GiB");
    }
    Ok(())
}

/// Moves the granule at `pa` from `from` to `to` (RMM_GTSI_DELEGATE / UNDELEGATE).
/// `BadAddr` if `pa` is unaligned or outside DRAM; `BadPas` if the granule is not in
/// `from`.
pub fn transition(pa: u64, from: Gpi, to: Gpi) -> Result<(), El3Status> {
    if !pa.is_multiple_of(GRANULE_SIZE) || !(DRAM_BASE..DRAM_END).contains(&pa) {
        return Err(El3Status::BadAddr);
    }
    while LOCK
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        core::hint::spin_loop();
    }
    let result = if gpi(pa) == Some(from) {
        flush_granule_to_popa(pa, from);
        set_gpi(pa, to);
        tlbi_paallos();
        Ok(())
    } else {
        Err(El3Status::BadPas)
    };
    LOCK.store(false, Ordering::Release);
    result
}

/// `DC CIPAPA` over the granule at `pa` in `pas`: no stale line of the old PAS may be
/// written back over the new owner's data.
fn flush_granule_to_popa(pa: u64, pas: Gpi) {
    let line = 4u64 << ((sysreg::ctr_el0() >> 16) & 0xF);
    let mut a = pa;
    while a < pa + GRANULE_SIZE {
        let op = a | pas.pas_bits();
        // SAFETY: DC CIPAPA (sys #6, c7, c14, #1) cleans and invalidates a cache line by
        // PA to the point of physical aliasing; it changes no architectural register or
        // memory contents as seen by the program.
        unsafe {
            core::arch::asm!("sys #6, c7, c14, #1, {}", in(reg) op, options(nostack, preserves_flags))
        };
        a += line;
    }
    // SAFETY: a barrier has no effect on memory contents or registers.
    unsafe { core::arch::asm!("dsb sy", options(nostack, preserves_flags)) };
}

/// `TLBI PAALLOS`: invalidates GPT information cached by any CPU, after the table
/// store is visible.
fn tlbi_paallos() {
    // SAFETY: TLB maintenance (sys #6, c8, c1, #4 = TLBI PAALLOS) and barriers only
    // drop cached translations; they change no memory or register contents.
    unsafe {
        core::arch::asm!(
            "dsb sy",
            "sys #6, c8, c1, #4",
            "dsb sy",
            "isb",
            options(nostack, preserves_flags)
        )
    };
}

/// `TLBI PAALL` on this CPU only (before enabling checks).
fn tlbi_paall() {
    // SAFETY: as for `tlbi_paallos` (sys #6, c8, c7, #4 = TLBI PAALL).
    unsafe {
        core::arch::asm!(
            "dsb sy",
            "sys #6, c8, c7, #4",
            "dsb sy",
            "isb",
            options(nostack, preserves_flags)
        )
    };
}
