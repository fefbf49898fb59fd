//! Tests of the simulation's stage-2 TLB model against tables built by hand (Arm ARM
//! VMSAv8-64 stage-2 descriptors, 4 KiB granule): a cached translation is used after the
//! tables change, and each rule the model enforces (break-before-make, no translation
//! outliving its granule, no VMID reuse without invalidation) fires on a sequence that
//! breaks it and stays silent on the correct sequence, also when a realm translates
//! concurrently.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use platform::el3::RMM_GTSI_UNDELEGATE;
use platform::{Arch, CpuId, OwnedGranule, Pas, PhysAddr, Stage2Scope};
use platform_sim::s2walk::{Access, S2Config, S2Fault, S2FaultKind};
use platform_sim::tlb::{stage2_regs, Tlb};
use platform_sim::{PhysMem, SimArch, SimConfig, SimHw};

/// Inside the default simulated DRAM (0x4000_0000, 256 MiB).
const BASE: u64 = 0x4800_0000;
/// Leaf attributes of a protected RAM mapping: MemAttr 0b0110 [5:2], S2AP RW [7:6], SH
/// Inner Shareable [9:8], AF [10].
const ATTR_RW: u64 = (0b0110 << 2) | (0b11 << 6) | (0b11 << 8) | (1 << 10);
/// The same, read-only (S2AP 0b01).
const ATTR_RO: u64 = (0b0110 << 2) | (0b01 << 6) | (0b11 << 8) | (1 << 10);
const TABLE: u64 = 0b11;
const PAGE: u64 = 0b11;
const BLOCK: u64 = 0b01;
const MIB2: u64 = 1 << 21;

// A 39-bit realm starting at level 1 (one root table): L1[0] -> L2, L2[0] -> L3, L3[i]
// -> pages; L2[1] maps IPA 2 MiB.
const L1: u64 = BASE;
const L2: u64 = BASE + 0x1000;
const L3: u64 = BASE + 0x2000;
/// A second level-3 table (for unfolding a block).
const L3B: u64 = BASE + 0x3000;
/// A second realm's root.
const L1B: u64 = BASE + 0x4000;
/// Output pages and a 2 MiB block.
const OUT: u64 = BASE + 0x10_0000;
const OUT2: u64 = BASE + 0x11_0000;
const BLK: u64 = BASE + 0x20_0000;
const VMID: u16 = 7;

fn mem() -> PhysMem {
    let m = PhysMem::new(PhysAddr(BASE), 4 << 20);
    m.set_pas_range(PhysAddr(BASE), 4 << 20, Pas::Realm);
    m
}

fn put(m: &PhysMem, pa: u64, desc: u64) {
    m.write(PhysAddr(pa), Pas::Root, &desc.to_le_bytes())
        .unwrap();
}

fn cfg(root: u64) -> S2Config {
    S2Config {
        root: PhysAddr(root),
        ipa_bits: 39,
        start_level: 1,
        num_root_tables: 1,
        lpa2: false,
    }
}

/// The tree above, with pages at IPA 0 (OUT) and 0x1000 (OUT + 0x1000) and a 2 MiB
/// block at IPA 2 MiB (BLK).
fn tables(m: &PhysMem) -> S2Config {
    put(m, L1, L2 | TABLE);
    put(m, L2, L3 | TABLE);
    put(m, L3, OUT | ATTR_RW | PAGE);
    put(m, L3 + 8, (OUT + 0x1000) | ATTR_RW | PAGE);
    put(m, L2 + 8, BLK | ATTR_RW | BLOCK);
    cfg(L1)
}

fn pa(t: &Tlb, m: &PhysMem, c: &S2Config, ipa: u64) -> Result<u64, S2Fault> {
    t.translate(m, c, VMID, ipa, Access::Read).map(|t| t.pa)
}

fn leaf(ipa: u64, level: i8) -> Stage2Scope {
    Stage2Scope::Leaf { ipa, level }
}

#[test]
fn the_registers_select_the_configuration_and_vmid() {
    // T0SZ 25 (39 bits), SL0 1 (level 1), VS set: 16-bit VMID.
    let (c, vmid) = stage2_regs(25 | 1 << 6 | 1 << 19, 0x1234 << 48 | L1);
    assert_eq!(c, cfg(L1));
    assert_eq!(vmid, 0x1234);
    // VS clear: 8-bit VMID.
    let (_, vmid) = stage2_regs(25 | 1 << 6, 0x1234 << 48 | L1);
    assert_eq!(vmid, 0x34);
}

/// Arm ARM D8.2 Table D8-19 and VTTBR_EL2.BADDR with FEAT_LPA2: DS (bit 32) selects
/// the 52-bit layout, SL2 (bit 33) with SL0 = 0 level -1, and the root's bits [51:48]
/// come from VTTBR_EL2 bits [5:2].
#[test]
fn ds_and_sl2_select_lpa2_and_level_minus_1() {
    const DS: u64 = 1 << 32;
    const SL2: u64 = 1 << 33;
    let root = 0x000D_0000_4000_0000u64;
    let vttbr = 0x0042 << 48 | (root & 0x0000_FFFF_FFFF_F000) | (root >> 48) << 2;
    // T0SZ 12 (52 bits), SL2 1, SL0 0: level -1, one table.
    let (c, vmid) = stage2_regs(12 | DS | SL2 | 1 << 19, vttbr);
    assert_eq!(
        c,
        S2Config {
            root: PhysAddr(root),
            ipa_bits: 52,
            start_level: -1,
            num_root_tables: 1,
            lpa2: true,
        }
    );
    assert_eq!(vmid, 0x42, "VMID bits are not address bits");
    // DS with SL0 alone: level 0 with 16 concatenated tables for 52 bits.
    let (c, _) = stage2_regs(12 | DS | 2 << 6, vttbr);
    assert_eq!((c.start_level, c.num_root_tables, c.lpa2), (0, 16, true));
    // SL2 with SL0 != 0 is reserved: no walk is valid.
    let (c, _) = stage2_regs(12 | DS | SL2 | 1 << 6, vttbr);
    assert!(c.validate().is_err());
    // Without DS, SL2 is RES0 and the root has 48 bits: bits [5:2] are not address.
    let (c, _) = stage2_regs(25 | SL2 | 1 << 6, 0x1000_3000 | 0b1100);
    assert_eq!((c.start_level, c.lpa2), (1, false));
    assert_eq!(c.root, PhysAddr(0x1000_300C & !1));
}

#[test]
fn a_cached_translation_is_used_until_it_is_invalidated() {
    let m = mem();
    let c = tables(&m);
    let t = Tlb::new();
    assert_eq!(pa(&t, &m, &c, 0x123), Ok(OUT + 0x123));
    // Leaf and the two table descriptors above it.
    assert_eq!(t.cached(VMID), 3);
    // Break: the page is invalid in memory, but the TLB still translates it.
    put(&m, L3, 0);
    assert_eq!(pa(&t, &m, &c, 0x123), Ok(OUT + 0x123));
    // An invalidation of another VMID or another IPA changes nothing.
    t.invalidate(&m, VMID + 1, Stage2Scope::Vmid);
    t.invalidate(&m, VMID, leaf(0x1000, 3));
    assert_eq!(pa(&t, &m, &c, 0x123), Ok(OUT + 0x123));
    // Invalidated: the walk sees the invalid page.
    t.invalidate(&m, VMID, leaf(0, 3));
    assert_eq!(
        pa(&t, &m, &c, 0x123),
        Err(S2Fault {
            kind: S2FaultKind::Translation,
            level: 3
        })
    );
    assert_eq!(
        t.log(),
        vec![
            (VMID + 1, Stage2Scope::Vmid),
            (VMID, leaf(0x1000, 3)),
            (VMID, leaf(0, 3))
        ]
    );
}

#[test]
fn cached_permissions_are_used_and_an_attribute_change_is_not_a_violation() {
    let m = mem();
    let c = tables(&m);
    let t = Tlb::new();
    t.translate(&m, &c, VMID, 0, Access::Write).unwrap();
    // Same output, read-only: no break-before-make needed (the rule covers output,
    // size and type), and the stale read/write entry is still used.
    put(&m, L3, OUT | ATTR_RO | PAGE);
    assert!(t.translate(&m, &c, VMID, 0, Access::Write).is_ok());
    t.invalidate(&m, VMID, leaf(0, 3));
    assert_eq!(
        t.translate(&m, &c, VMID, 0, Access::Write),
        Err(S2Fault {
            kind: S2FaultKind::Permission,
            level: 3
        })
    );
}

#[test]
fn a_leaf_without_its_access_flag_is_not_cached() {
    let m = mem();
    let c = tables(&m);
    let t = Tlb::new();
    put(&m, L3, OUT | (ATTR_RW & !(1 << 10)) | PAGE);
    assert_eq!(
        pa(&t, &m, &c, 0),
        Err(S2Fault {
            kind: S2FaultKind::AccessFlag,
            level: 3
        })
    );
    // Only the two table descriptors were cached.
    assert_eq!(t.cached(VMID), 2);
    put(&m, L3, OUT2 | ATTR_RW | PAGE);
    assert_eq!(pa(&t, &m, &c, 0), Ok(OUT2));
}

#[test]
fn prefetch_caches_every_valid_leaf_and_table() {
    let m = mem();
    let c = tables(&m);
    let t = Tlb::new();
    t.prefetch(&m, &c, VMID);
    // L1[0], L2[0] (tables), L3[0], L3[1] (pages), L2[1] (block).
    assert_eq!(t.cached(VMID), 5);
    put(&m, L3 + 8, 0);
    put(&m, L2 + 8, 0);
    assert_eq!(pa(&t, &m, &c, 0x1004), Ok(OUT + 0x1004));
    assert_eq!(pa(&t, &m, &c, MIB2 + 0x1_2345), Ok(BLK + 0x1_2345));
}

#[test]
fn break_invalidate_make_is_silent() {
    let m = mem();
    let c = tables(&m);
    let t = Tlb::new();
    t.prefetch(&m, &c, VMID);
    // Page: a new output.
    put(&m, L3, 0);
    t.invalidate(&m, VMID, leaf(0, 3));
    t.check_released(PhysAddr(OUT), "scrubbed");
    put(&m, L3, OUT2 | ATTR_RW | PAGE);
    assert_eq!(pa(&t, &m, &c, 0), Ok(OUT2));
    // Block to table (unfold), invalidating the block at any IPA inside it.
    put(&m, L2 + 8, 0);
    t.invalidate(&m, VMID, leaf(MIB2 + 0x7000, 2));
    for i in 0..512u64 {
        put(&m, L3B + 8 * i, (BLK + i * 0x1000) | ATTR_RW | PAGE);
    }
    put(&m, L2 + 8, L3B | TABLE);
    assert_eq!(pa(&t, &m, &c, MIB2 + 0x5004), Ok(BLK + 0x5004));
    // Table to block (fold), invalidating the table's whole range.
    t.prefetch(&m, &c, VMID);
    put(&m, L2 + 8, 0);
    t.invalidate(
        &m,
        VMID,
        Stage2Scope::Range {
            base: MIB2,
            size: MIB2,
        },
    );
    t.check_released(PhysAddr(L3B), "scrubbed");
    put(&m, L2 + 8, BLK | ATTR_RW | BLOCK);
    assert_eq!(pa(&t, &m, &c, MIB2 + 0x5004), Ok(BLK + 0x5004));
    t.invalidate(&m, VMID, Stage2Scope::Vmid);
    assert_eq!(t.cached(VMID), 0);
}

#[test]
#[should_panic(expected = "break-before-make violated: the level 3 descriptor at 0x48002000")]
fn a_new_output_without_break_is_found_at_use() {
    let m = mem();
    let c = tables(&m);
    let t = Tlb::new();
    pa(&t, &m, &c, 0).unwrap();
    put(&m, L3, OUT2 | ATTR_RW | PAGE);
    let _ = pa(&t, &m, &c, 0);
}

#[test]
#[should_panic(expected = "break-before-make violated: the level 3 descriptor at 0x48002000")]
fn a_new_output_without_break_is_found_at_invalidation() {
    let m = mem();
    let c = tables(&m);
    let t = Tlb::new();
    pa(&t, &m, &c, 0).unwrap();
    put(&m, L3, OUT2 | ATTR_RW | PAGE);
    t.invalidate(&m, VMID, leaf(0, 3));
}

#[test]
#[should_panic(expected = "break-before-make violated: the level 3 descriptor at 0x48002000")]
fn invalid_then_new_without_invalidation_is_a_violation() {
    let m = mem();
    let c = tables(&m);
    let t = Tlb::new();
    pa(&t, &m, &c, 0).unwrap();
    put(&m, L3, 0);
    put(&m, L3, OUT2 | ATTR_RW | PAGE);
    let _ = pa(&t, &m, &c, 0);
}

#[test]
#[should_panic(
    expected = "the level 2 descriptor at 0x48001008 changed from 0x482007d9 to 0x48003003"
)]
fn a_block_replaced_by_a_table_without_break_is_a_violation() {
    let m = mem();
    let c = tables(&m);
    let t = Tlb::new();
    pa(&t, &m, &c, MIB2).unwrap();
    for i in 0..512u64 {
        put(&m, L3B + 8 * i, (BLK + i * 0x1000) | ATTR_RW | PAGE);
    }
    put(&m, L2 + 8, L3B | TABLE);
    t.invalidate(&m, VMID, leaf(MIB2, 2));
}

#[test]
#[should_panic(
    expected = "the level 2 descriptor at 0x48001000 changed from 0x48002003 to 0x481007d9"
)]
fn a_table_replaced_by_a_block_without_break_is_a_violation() {
    let m = mem();
    let c = tables(&m);
    let t = Tlb::new();
    pa(&t, &m, &c, 0x1000).unwrap();
    put(&m, L2, OUT | ATTR_RW | BLOCK);
    let _ = pa(&t, &m, &c, 0x1000);
}

#[test]
#[should_panic(expected = "break-before-make violated: the level 2 descriptor at 0x48001000")]
fn a_fold_invalidating_one_ipa_leaves_the_other_pages_stale() {
    let m = mem();
    let c = tables(&m);
    let t = Tlb::new();
    t.prefetch(&m, &c, VMID);
    // Break and invalidate, but only IPA 0: the page at 0x1000 stays cached.
    put(&m, L2, 0);
    t.invalidate(&m, VMID, leaf(0, 2));
    put(&m, L2, OUT | ATTR_RW | BLOCK);
    let _ = pa(&t, &m, &c, 0x1000);
}

#[test]
#[should_panic(expected = "granule 0x48100000 scrubbed while a translation depending on it")]
fn scrubbing_a_granule_a_cached_leaf_outputs_to_is_a_violation() {
    let m = mem();
    let c = tables(&m);
    let t = Tlb::new();
    pa(&t, &m, &c, 0).unwrap();
    put(&m, L3, 0);
    t.check_released(PhysAddr(OUT), "scrubbed");
}

#[test]
#[should_panic(expected = "granule 0x48205000 scrubbed while a translation depending on it")]
fn scrubbing_a_page_inside_a_cached_block_is_a_violation() {
    let m = mem();
    let c = tables(&m);
    let t = Tlb::new();
    pa(&t, &m, &c, MIB2).unwrap();
    put(&m, L2 + 8, 0);
    t.check_released(PhysAddr(BLK + 0x5000), "scrubbed");
}

#[test]
#[should_panic(expected = "granule 0x48002000 scrubbed while a translation depending on it")]
fn scrubbing_a_table_a_cached_walk_went_through_is_a_violation() {
    let m = mem();
    let c = tables(&m);
    let t = Tlb::new();
    t.prefetch(&m, &c, VMID);
    // The table is unhooked and IPA 0 invalidated; the page at 0x1000 still walks
    // through it.
    put(&m, L2, 0);
    t.invalidate(&m, VMID, leaf(0, 2));
    t.check_released(PhysAddr(L3), "scrubbed");
}

#[test]
#[should_panic(expected = "points there")]
fn scrubbing_a_table_a_cached_table_entry_points_to_is_a_violation() {
    let m = mem();
    let c = tables(&m);
    let t = Tlb::new();
    // Nothing valid below L2[0]: only the table descriptors are cached.
    put(&m, L3, 0);
    put(&m, L3 + 8, 0);
    assert!(pa(&t, &m, &c, 0).is_err());
    put(&m, L2, 0);
    t.check_released(PhysAddr(L3), "scrubbed");
}

#[test]
fn an_unprotected_leaf_does_not_hold_the_host_granule() {
    let m = mem();
    let c = tables(&m);
    let t = Tlb::new();
    // NS (bit 55): the output is Non-secure memory, which the host may reuse.
    put(&m, L3, OUT | ATTR_RW | PAGE | 1 << 55);
    pa(&t, &m, &c, 0).unwrap();
    t.check_released(PhysAddr(OUT), "scrubbed");
}

#[test]
#[should_panic(expected = "granule 0x48100000 undelegated by EL3 while a translation")]
fn undelegating_a_granule_a_cached_leaf_outputs_to_is_a_violation() {
    let hw = SimHw::new(SimConfig::default());
    let arch = SimArch(hw.clone());
    let m = hw.mem();
    m.set_pas_range(PhysAddr(BASE), 4 << 20, Pas::Realm);
    let c = tables(m);
    pa(hw.tlb(), m, &c, 0).unwrap();
    put(m, L3, 0);
    arch.el3_call(CpuId(0), RMM_GTSI_UNDELEGATE, &[OUT]);
}

#[test]
fn undelegating_after_invalidation_is_silent() {
    let hw = SimHw::new(SimConfig::default());
    let arch = SimArch(hw.clone());
    let m = hw.mem();
    m.set_pas_range(PhysAddr(BASE), 4 << 20, Pas::Realm);
    let c = tables(m);
    pa(hw.tlb(), m, &c, 0).unwrap();
    put(m, L3, 0);
    arch.invalidate_stage2(VMID, leaf(0, 3));
    arch.zero_granule(&mut Owned(PhysAddr(OUT)));
    assert_eq!(arch.el3_call(CpuId(0), RMM_GTSI_UNDELEGATE, &[OUT])[0], 0);
    assert_eq!(m.pas(PhysAddr(OUT)), Some(Pas::NonSecure));
    // The log keeps its (VMID, IPA or None) summary.
    arch.invalidate_stage2(
        VMID,
        Stage2Scope::Range {
            base: 0,
            size: MIB2,
        },
    );
    arch.invalidate_stage2(VMID, Stage2Scope::Vmid);
    assert_eq!(
        hw.stage2_invalidations(),
        vec![(VMID, Some(0)), (VMID, None), (VMID, None)]
    );
}

#[test]
#[should_panic(expected = "VMID 7 reused without invalidation")]
fn a_new_realm_hitting_a_destroyed_realms_translation_is_a_violation() {
    let m = mem();
    let c = tables(&m);
    let t = Tlb::new();
    pa(&t, &m, &c, 0).unwrap();
    // Another realm, same VMID, its own tables mapping IPA 0 elsewhere.
    put(&m, L1B, L2 | TABLE);
    let _ = pa(&t, &m, &cfg(L1B), 0);
}

#[test]
fn a_new_realm_after_a_vmid_invalidation_walks_its_own_tables() {
    let m = mem();
    let c = tables(&m);
    let t = Tlb::new();
    pa(&t, &m, &c, 0).unwrap();
    t.invalidate(&m, VMID, Stage2Scope::Vmid);
    assert_eq!(
        pa(&t, &m, &cfg(L1B), 0),
        Err(S2Fault {
            kind: S2FaultKind::Translation,
            level: 1
        })
    );
}

/// A correct break-before-make loop on one CPU while another translates and prefetches
/// the same IPA: the concurrent use of stale and fresh entries must never be reported.
#[test]
fn correct_sequences_are_silent_under_concurrent_use() {
    let m = Arc::new(mem());
    let c = tables(&m);
    let t = Arc::new(Tlb::new());
    let stop = Arc::new(AtomicBool::new(false));
    let realm = {
        let (m, t, stop) = (m.clone(), t.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let mut b = [0u8; 8];
                let _ = t.access(&m, &c, VMID, 0x10, &mut b, n.is_multiple_of(2));
                let _ = t.access(&m, &c, VMID, MIB2 + 0x3_0000, &mut b, false);
                if n.is_multiple_of(16) {
                    t.prefetch(&m, &c, VMID);
                }
                n += 1;
            }
        })
    };
    for i in 0..2000u64 {
        let (old, new) = if i.is_multiple_of(2) {
            (OUT, OUT2)
        } else {
            (OUT2, OUT)
        };
        put(&m, L3, 0);
        t.invalidate(&m, VMID, leaf(0, 3));
        t.check_released(PhysAddr(old), "scrubbed");
        put(&m, L3, new | ATTR_RW | PAGE);
        // Unfold and fold the block at 2 MiB.
        put(&m, L2 + 8, 0);
        t.invalidate(&m, VMID, leaf(MIB2, 2));
        for j in 0..512u64 {
            put(&m, L3B + 8 * j, (BLK + j * 0x1000) | ATTR_RW | PAGE);
        }
        put(&m, L2 + 8, L3B | TABLE);
        put(&m, L2 + 8, 0);
        t.invalidate(
            &m,
            VMID,
            Stage2Scope::Range {
                base: MIB2,
                size: MIB2,
            },
        );
        t.check_released(PhysAddr(L3B), "scrubbed");
        put(&m, L2 + 8, BLK | ATTR_RW | BLOCK);
    }
    stop.store(true, Ordering::Relaxed);
    realm.join().expect("no violation reported");
}

/// This test's claim to a granule, standing for the lock the RMM would hold.
struct Owned(PhysAddr);

impl OwnedGranule for Owned {
    fn owned_pa(&self) -> PhysAddr {
        self.0
    }
}
