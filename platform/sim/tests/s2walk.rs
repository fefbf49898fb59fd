//! Tests of the simulation's stage-2 walker against tables built by hand, descriptor by
//! descriptor, from the Arm ARM's VMSAv8-64 formats (4 KiB granule). Every expected value
//! is a literal, computed by hand, so a walker that decodes a field wrongly fails.

use platform::{Pas, PhysAddr};
use platform_sim::s2walk::{
    access, output_address, read_entry, read_ipa, walk, write_ipa, Access, AccessFault, S2Config,
    S2ConfigError, S2Fault, S2FaultKind, Translation, SH_FROM_VTCR,
};
use platform_sim::{GpFault, PhysMem};

/// Base of the small simulated DRAM (4 MiB: 1024 granules).
const BASE: u64 = 0x8000_0000;

/// A leaf's attributes as the RMM writes a protected RAM mapping: MemAttr 0b0110 (FWB
/// Normal WB) [5:2], S2AP RW [7:6], SH Inner Shareable [9:8], AF [10].
const ATTR_RW: u64 = (0b0110 << 2) | (0b11 << 6) | (0b11 << 8) | (1 << 10);
/// Same, read-only (S2AP = 0b01).
const ATTR_RO: u64 = (0b0110 << 2) | (0b01 << 6) | (0b11 << 8) | (1 << 10);
/// Descriptor type bits: table (levels < 3) or page (level 3).
const TABLE: u64 = 0b11;
const PAGE: u64 = 0b11;
/// Descriptor type bits: block (levels 1, 2; 0 with LPA2).
const BLOCK: u64 = 0b01;

fn mem() -> PhysMem {
    PhysMem::new(PhysAddr(BASE), 4 << 20)
}

/// Makes `pa` a table granule: Realm PAS, as delegated RTT granules are.
fn rtt(m: &PhysMem, pa: u64) {
    m.set_pas(PhysAddr(pa), Pas::Realm);
}

/// Writes the 8-byte descriptor `desc` at `pa` (little-endian), from EL3's Root PAS.
fn put(m: &PhysMem, pa: u64, desc: u64) {
    m.write(PhysAddr(pa), Pas::Root, &desc.to_le_bytes())
        .unwrap();
}

fn fault(kind: S2FaultKind, level: i8) -> S2Fault {
    S2Fault { kind, level }
}

fn cfg(root: u64, ipa_bits: u32, start_level: i8, num_root_tables: u32, lpa2: bool) -> S2Config {
    S2Config {
        root: PhysAddr(root),
        ipa_bits,
        start_level,
        num_root_tables,
        lpa2,
    }
}

// The four-level tree used by several tests: 48-bit IPA, start level 0, one root table.
const L0: u64 = BASE;
const L1: u64 = BASE + 0x1000;
const L2: u64 = BASE + 0x2000;
const L3: u64 = BASE + 0x3000;
/// IPA with index 5 at level 0, 7 at level 1, 9 at level 2, 11 at level 3, offset 0xABC.
const IPA: u64 = (5 << 39) | (7 << 30) | (9 << 21) | (11 << 12) | 0xABC;
/// The descriptor addresses of `IPA` at each level (table + 8 * index).
const E0: u64 = L0 + 5 * 8;
const E1: u64 = L1 + 7 * 8;
const E2: u64 = L2 + 9 * 8;
const E3: u64 = L3 + 11 * 8;
/// Output granule of `IPA`'s page.
const OUT: u64 = BASE + 0x10_0000;

fn four_levels(m: &PhysMem) -> S2Config {
    for t in [L0, L1, L2, L3] {
        rtt(m, t);
    }
    put(m, E0, L1 | TABLE);
    put(m, E1, L2 | TABLE);
    put(m, E2, L3 | TABLE);
    put(m, E3, OUT | ATTR_RW | PAGE);
    cfg(L0, 48, 0, 1, false)
}

#[test]
fn four_level_walk_to_a_page() {
    let m = mem();
    let c = four_levels(&m);
    let expected = Translation {
        pa: 0x8010_0ABC,
        level: 3,
        pas: Pas::Realm,
        s2ap_read: true,
        s2ap_write: true,
        mem_attr: 0b0110,
        sh: 0b11,
        xn: 0,
        block_size: 0x1000,
    };
    assert_eq!(walk(&m, &c, IPA, Access::Read), Ok(expected));
    assert_eq!(walk(&m, &c, IPA, Access::Write), Ok(expected));
    assert_eq!(walk(&m, &c, IPA, Access::Execute), Ok(expected));
    assert_eq!(walk(&m, &c, IPA, Access::ExecuteEl0), Ok(expected));
    // The neighbouring page (index 12 at level 3) is unmapped: level-3 translation fault.
    assert_eq!(
        walk(&m, &c, IPA + 0x1000, Access::Read),
        Err(fault(S2FaultKind::Translation, 3))
    );
    // Index 6 at level 0 is unmapped: level-0 translation fault.
    assert_eq!(
        walk(&m, &c, IPA + (1 << 39), Access::Read),
        Err(fault(S2FaultKind::Translation, 0))
    );
}

#[test]
fn read_entry_returns_each_levels_descriptor_and_address() {
    let m = mem();
    let c = four_levels(&m);
    assert_eq!(read_entry(&m, &c, IPA, 0), Ok((0x8000_1003, E0)));
    assert_eq!(read_entry(&m, &c, IPA, 1), Ok((0x8000_2003, E1)));
    assert_eq!(read_entry(&m, &c, IPA, 2), Ok((0x8000_3003, E2)));
    assert_eq!(read_entry(&m, &c, IPA, 3), Ok((0x8010_07DB, E3)));
    // An invalid descriptor carrying software state is returned as it is.
    put(&m, E3 + 8, 0x0000_0000_0000_0024);
    assert_eq!(read_entry(&m, &c, IPA + 0x1000, 3), Ok((0x24, E3 + 8)));
    // Below an invalid level-1 entry: the walk stops at level 1.
    assert_eq!(
        read_entry(&m, &c, IPA + (1 << 30), 3),
        Err(fault(S2FaultKind::Translation, 1))
    );
    // ...but the invalid level-1 entry itself can be read.
    assert_eq!(read_entry(&m, &c, IPA + (1 << 30), 1), Ok((0, E1 + 8)));
    // Below a block: the walk stops at the block's level.
    put(&m, E1 + 8, 0x4000_0000 | ATTR_RW | BLOCK);
    assert_eq!(
        read_entry(&m, &c, IPA + (1 << 30), 2),
        Err(fault(S2FaultKind::Translation, 1))
    );
    // Levels outside start_level..=3.
    assert_eq!(
        read_entry(&m, &c, IPA, 4),
        Err(fault(S2FaultKind::Translation, 4))
    );
    assert_eq!(
        read_entry(&m, &c, IPA, -1),
        Err(fault(S2FaultKind::Translation, -1))
    );
    // The IPA range applies.
    assert_eq!(
        read_entry(&m, &c, 1 << 48, 0),
        Err(fault(S2FaultKind::Translation, 0))
    );
}

#[test]
fn one_gib_and_two_mib_blocks() {
    let m = mem();
    let c = four_levels(&m);
    // Level-1 index 8: a 1 GiB block at 0x4000_0000. Its descriptor's bits [29:12] are
    // not part of the output address (AArch64.LeafBase) and are ignored.
    put(&m, E1 + 8, 0x4000_0000 | 0x0123_4000 | ATTR_RW | BLOCK);
    let ipa = (5 << 39) | (8 << 30) | 0x1234_5678;
    let t = walk(&m, &c, ipa, Access::Read).unwrap();
    assert_eq!(t.pa, 0x5234_5678);
    assert_eq!(t.level, 1);
    assert_eq!(t.block_size, 0x4000_0000);
    assert_eq!(t.pas, Pas::Realm);
    // Level-2 index 10 (under the level-1 table): a 2 MiB block at 0x8060_0000.
    put(&m, E2 + 8, 0x8060_0000 | ATTR_RO | BLOCK);
    let ipa = (5 << 39) | (7 << 30) | (10 << 21) | 0x1_2345;
    let t = walk(&m, &c, ipa, Access::Read).unwrap();
    assert_eq!(
        t,
        Translation {
            pa: 0x8061_2345,
            level: 2,
            pas: Pas::Realm,
            s2ap_read: true,
            s2ap_write: false,
            mem_attr: 0b0110,
            sh: 0b11,
            xn: 0,
            block_size: 0x20_0000,
        }
    );
    // A block descriptor at level 0 is invalid without LPA2.
    put(&m, E0 + 8, 0x80_0000_0000 | ATTR_RW | BLOCK);
    assert_eq!(
        walk(&m, &c, (6 << 39) | 0x1000, Access::Read),
        Err(fault(S2FaultKind::Translation, 0))
    );
    // A level-3 descriptor with bit 1 clear (block encoding) is invalid.
    put(&m, E3, OUT | ATTR_RW | BLOCK);
    assert_eq!(
        walk(&m, &c, IPA, Access::Read),
        Err(fault(S2FaultKind::Translation, 3))
    );
}

#[test]
fn invalid_descriptor_at_each_level_is_a_translation_fault_at_that_level() {
    // Bit 0 clear, other bits set (as RMM software state would be).
    let invalid = 0x0000_0000_8000_0FFE;
    for (level, entry) in [(0, E0), (1, E1), (2, E2), (3, E3)] {
        let m = mem();
        let c = four_levels(&m);
        put(&m, entry, invalid);
        assert_eq!(
            walk(&m, &c, IPA, Access::Read),
            Err(fault(S2FaultKind::Translation, level)),
            "invalid descriptor at level {level}"
        );
        assert_eq!(read_entry(&m, &c, IPA, level), Ok((invalid, entry)));
    }
}

#[test]
fn access_flag_clear_is_an_access_flag_fault_before_permissions() {
    let m = mem();
    let c = four_levels(&m);
    put(&m, E3, OUT | (ATTR_RW & !(1 << 10)) | PAGE);
    assert_eq!(
        walk(&m, &c, IPA, Access::Read),
        Err(fault(S2FaultKind::AccessFlag, 3))
    );
    // AF clear and read-only: a write reports the access flag fault, not permission.
    put(&m, E3, OUT | (ATTR_RO & !(1 << 10)) | PAGE);
    assert_eq!(
        walk(&m, &c, IPA, Access::Write),
        Err(fault(S2FaultKind::AccessFlag, 3))
    );
    // On a 2 MiB block: level 2.
    put(&m, E2, 0x8060_0000 | (ATTR_RW & !(1 << 10)) | BLOCK);
    assert_eq!(
        walk(&m, &c, IPA, Access::Read),
        Err(fault(S2FaultKind::AccessFlag, 2))
    );
}

#[test]
fn permissions_follow_s2ap_and_xn() {
    let m = mem();
    let c = four_levels(&m);
    let perm3 = Err(fault(S2FaultKind::Permission, 3));
    // Read-only.
    put(&m, E3, OUT | ATTR_RO | PAGE);
    assert_eq!(walk(&m, &c, IPA, Access::Write), perm3);
    let t = walk(&m, &c, IPA, Access::Read).unwrap();
    assert!(t.s2ap_read && !t.s2ap_write);
    // Write-only (S2AP = 0b10).
    put(&m, E3, OUT | (ATTR_RW & !(1 << 6)) | PAGE);
    assert_eq!(walk(&m, &c, IPA, Access::Read), perm3);
    assert!(walk(&m, &c, IPA, Access::Write).is_ok());
    // No access (S2AP = 0b00): execute is still permitted (stage 2 XN is independent).
    put(&m, E3, OUT | (ATTR_RW & !(0b11 << 6)) | PAGE);
    assert_eq!(walk(&m, &c, IPA, Access::Read), perm3);
    assert_eq!(walk(&m, &c, IPA, Access::Write), perm3);
    assert!(walk(&m, &c, IPA, Access::Execute).is_ok());
    // XN[1:0] = 0b10 (bit 54): executable nowhere, readable.
    put(&m, E3, OUT | ATTR_RW | (0b10 << 53) | PAGE);
    assert_eq!(walk(&m, &c, IPA, Access::Execute), perm3);
    assert_eq!(walk(&m, &c, IPA, Access::ExecuteEl0), perm3);
    assert_eq!(walk(&m, &c, IPA, Access::Read).unwrap().xn, 0b10);
    // XN = 0b01: EL0 only.
    put(&m, E3, OUT | ATTR_RW | (0b01 << 53) | PAGE);
    assert_eq!(walk(&m, &c, IPA, Access::Execute), perm3);
    assert!(walk(&m, &c, IPA, Access::ExecuteEl0).is_ok());
    // XN = 0b11: EL1 only.
    put(&m, E3, OUT | ATTR_RW | (0b11 << 53) | PAGE);
    assert!(walk(&m, &c, IPA, Access::Execute).is_ok());
    assert_eq!(walk(&m, &c, IPA, Access::ExecuteEl0), perm3);
    // A read-only 1 GiB block: permission fault at level 1.
    put(&m, E1, 0x4000_0000 | ATTR_RO | BLOCK);
    assert_eq!(
        walk(&m, &c, IPA, Access::Write),
        Err(fault(S2FaultKind::Permission, 1))
    );
}

#[test]
fn ns_bit_selects_the_non_secure_output_pas() {
    let m = mem();
    let c = four_levels(&m);
    // As the RMM maps unprotected IPA: NS (bit 55), XN = 0b10, host-chosen attributes.
    let host_attrs = (0b0101 << 2) | (0b11 << 6) | (0b10 << 8) | (1 << 10);
    put(&m, E3, OUT | host_attrs | (1 << 55) | (0b10 << 53) | PAGE);
    let t = walk(&m, &c, IPA, Access::Write).unwrap();
    assert_eq!(
        t,
        Translation {
            pa: 0x8010_0ABC,
            level: 3,
            pas: Pas::NonSecure,
            s2ap_read: true,
            s2ap_write: true,
            mem_attr: 0b0101,
            sh: 0b10,
            xn: 0b10,
            block_size: 0x1000,
        }
    );
    // Bit 55 of a table descriptor is not an NS bit (stage 2 table descriptors have no
    // attributes): the walk below it still reads through the Realm PAS.
    put(&m, E2, L3 | (1 << 55) | TABLE);
    assert_eq!(walk(&m, &c, IPA, Access::Read).unwrap().pas, Pas::NonSecure);
    put(&m, E3, OUT | ATTR_RW | PAGE);
    assert_eq!(walk(&m, &c, IPA, Access::Read).unwrap().pas, Pas::Realm);
}

#[test]
fn ipa_at_or_above_the_ipa_width_is_a_level_0_translation_fault() {
    let m = mem();
    let c = four_levels(&m);
    for ipa in [1 << 48, (1 << 48) | IPA, 1 << 63, u64::MAX] {
        assert_eq!(
            walk(&m, &c, ipa, Access::Read),
            Err(fault(S2FaultKind::Translation, 0)),
            "IPA {ipa:#x}"
        );
    }
    // 40-bit IPA, start level 1 (two tables): 1 << 40 faults at level 0 even though the
    // walk would start at level 1, and even though the entry it would index is valid.
    let root = BASE + 0x4_0000;
    rtt(&m, root);
    rtt(&m, root + 0x1000);
    let c40 = cfg(root, 40, 1, 2, false);
    put(&m, root, 0x4000_0000 | ATTR_RW | BLOCK);
    assert_eq!(walk(&m, &c40, 0, Access::Read).unwrap().pa, 0x4000_0000);
    assert_eq!(
        walk(&m, &c40, 1 << 40, Access::Read),
        Err(fault(S2FaultKind::Translation, 0))
    );
    assert_eq!(
        walk(&m, &c40, (1 << 40) - 1, Access::Read),
        Err(fault(S2FaultKind::Translation, 1))
    );
}

#[test]
fn concatenated_root_tables_select_the_right_table() {
    let m = mem();
    // 40 bits, start level 1: 2 tables (8 KiB). IPA bit 39 selects the second table.
    let root = BASE + 0x4_0000;
    rtt(&m, root);
    rtt(&m, root + 0x1000);
    let c40 = cfg(root, 40, 1, 2, false);
    put(&m, root + 3 * 8, 0x4000_0000 | ATTR_RW | BLOCK);
    put(&m, root + 0x1000 + 3 * 8, 0xC000_0000 | ATTR_RW | BLOCK);
    assert_eq!(
        walk(&m, &c40, (3 << 30) | 0x55, Access::Read).unwrap().pa,
        0x4000_0055
    );
    assert_eq!(
        walk(&m, &c40, (1 << 39) | (3 << 30) | 0x55, Access::Read)
            .unwrap()
            .pa,
        0xC000_0055
    );
    assert_eq!(
        read_entry(&m, &c40, (1 << 39) | (3 << 30), 1),
        Ok((0xC000_0000 | ATTR_RW | BLOCK, root + 0x1018))
    );

    // 42 bits, start level 1: 8 tables (32 KiB). IPA bits [41:39] = 5 pick table 5;
    // a walk through it down to a page.
    let root = BASE + 0x8_0000;
    for i in 0..8 {
        rtt(&m, root + i * 0x1000);
    }
    let l2 = BASE + 0x9_0000;
    let l3 = BASE + 0x9_1000;
    rtt(&m, l2);
    rtt(&m, l3);
    let c42 = cfg(root, 42, 1, 8, false);
    let ipa = (5 << 39) | (1 << 30) | (2 << 21) | (3 << 12) | 0x10;
    put(&m, root + 5 * 0x1000 + 8, l2 | TABLE);
    put(&m, l2 + 2 * 8, l3 | TABLE);
    put(&m, l3 + 3 * 8, 0x8030_0000 | ATTR_RW | PAGE);
    assert_eq!(walk(&m, &c42, ipa, Access::Read).unwrap().pa, 0x8030_0010);
    assert_eq!(
        read_entry(&m, &c42, ipa, 1),
        Ok((l2 | TABLE, root + 0x5008))
    );
    // The same level-1 index in table 4 is empty.
    assert_eq!(
        walk(&m, &c42, ipa - (1 << 39), Access::Read),
        Err(fault(S2FaultKind::Translation, 1))
    );

    // 34 bits, start level 2: 16 tables (64 KiB), index = IPA[33:21] up to 8191.
    let root = BASE + 0x10_0000;
    for i in 0..16 {
        rtt(&m, root + i * 0x1000);
    }
    let c34 = cfg(root, 34, 2, 16, false);
    let ipa = (0x3FF_u64 << 24) | (1 << 21) | 0x1234; // index 0x1FF9
    put(&m, root + 0x1FF9 * 8, 0x8060_0000 | ATTR_RW | BLOCK);
    assert_eq!(walk(&m, &c34, ipa, Access::Read).unwrap().pa, 0x8060_1234);
    assert_eq!(read_entry(&m, &c34, ipa, 2).unwrap().1, root + 0xFFC8);

    // 33 bits, start level 1: one partial table of 8 entries.
    let root = BASE + 0x12_0000;
    rtt(&m, root);
    let c33 = cfg(root, 33, 1, 1, false);
    put(&m, root + 7 * 8, 0x4000_0000 | ATTR_RW | BLOCK);
    assert_eq!(
        walk(&m, &c33, (7 << 30) | 0x77, Access::Read).unwrap().pa,
        0x4000_0077
    );
}

#[test]
fn a_walk_into_another_pas_is_a_gpf_on_the_walk() {
    let m = mem();
    let c = four_levels(&m);
    // The level-2 table goes back to the Non-secure PAS: the level-2 read faults at E2.
    m.set_pas(PhysAddr(L2), Pas::NonSecure);
    assert_eq!(
        walk(&m, &c, IPA, Access::Read),
        Err(fault(S2FaultKind::WalkGpf { pa: E2 }, 2))
    );
    assert_eq!(
        read_entry(&m, &c, IPA, 2),
        Err(fault(S2FaultKind::WalkGpf { pa: E2 }, 2))
    );
    m.set_pas(PhysAddr(L2), Pas::Realm);
    // A table descriptor pointing at a Non-secure granule.
    let ns = BASE + 0x20_0000;
    put(&m, E1, ns | TABLE);
    assert_eq!(
        walk(&m, &c, IPA, Access::Read),
        Err(fault(S2FaultKind::WalkGpf { pa: ns + 9 * 8 }, 2))
    );
    // ...at a Secure granule.
    m.set_pas(PhysAddr(ns), Pas::Secure);
    assert_eq!(
        walk(&m, &c, IPA, Access::Read),
        Err(fault(S2FaultKind::WalkGpf { pa: ns + 9 * 8 }, 2))
    );
    // ...outside memory.
    put(&m, E1, 0x1_0000_0000 | TABLE);
    assert_eq!(
        walk(&m, &c, IPA, Access::Read),
        Err(fault(S2FaultKind::WalkGpf { pa: 0x1_0000_0048 }, 2))
    );
    // The root itself in the wrong PAS: GPF at the start level.
    m.set_pas(PhysAddr(L0), Pas::NonSecure);
    assert_eq!(
        walk(&m, &c, IPA, Access::Read),
        Err(fault(S2FaultKind::WalkGpf { pa: E0 }, 0))
    );
}

/// A high DRAM base for LPA2: PA bits [51:50] = 0b11 and bit 48 set, so both parts of
/// the 52-bit descriptor layout carry address bits.
const HB: u64 = 0x000D_0000_0000_0000;

/// The LPA2 encoding of a 4 KiB-aligned next-level table or output address: OA[49:12]
/// in bits [49:12], OA[51:50] in bits [9:8].
fn lpa2_oa(pa: u64) -> u64 {
    (pa & 0x0003_FFFF_FFFF_F000) | ((pa >> 50) << 8)
}

#[test]
fn lpa2_52_bit_walk_from_level_minus_1() {
    let m = PhysMem::new(PhysAddr(HB), 1 << 20);
    let (lm1, l0, l1, l2, l3) = (HB, HB + 0x1000, HB + 0x2000, HB + 0x3000, HB + 0x4000);
    for t in [lm1, l0, l1, l2, l3] {
        rtt(&m, t);
    }
    let c = cfg(lm1, 52, -1, 1, true);
    assert_eq!(c.validate(), Ok(()));
    // Index 0xA at level -1 (IPA[51:48]), 3 at 0, 5 at 1, 7 at 2, 9 at 3.
    let ipa = (0xA << 48) | (3 << 39) | (5 << 30) | (7 << 21) | (9 << 12) | 0x123;
    assert_eq!(lpa2_oa(l0), 0x0001_0000_0000_1300);
    put(&m, lm1 + 0xA * 8, lpa2_oa(l0) | TABLE);
    put(&m, l0 + 3 * 8, lpa2_oa(l1) | TABLE);
    put(&m, l1 + 5 * 8, lpa2_oa(l2) | TABLE);
    put(&m, l2 + 7 * 8, lpa2_oa(l3) | TABLE);
    // Output 0x000B_1234_5678_9000: OA[51:50] = 0b10 in bits [9:8], OA[49:12] in
    // [49:12]. No SH field: bits [9:8] are address.
    let attrs = (0b0110 << 2) | (0b11 << 6) | (1 << 10);
    let page = 0x0003_1234_5678_9000 | (0b10 << 8) | attrs | PAGE;
    put(&m, l3 + 9 * 8, page);
    assert_eq!(output_address(page, true), 0x000B_1234_5678_9000);
    assert_eq!(
        walk(&m, &c, ipa, Access::Write),
        Ok(Translation {
            pa: 0x000B_1234_5678_9123,
            level: 3,
            pas: Pas::Realm,
            s2ap_read: true,
            s2ap_write: true,
            mem_attr: 0b0110,
            sh: SH_FROM_VTCR,
            xn: 0,
            block_size: 0x1000,
        })
    );
    assert_eq!(
        read_entry(&m, &c, ipa, -1),
        Ok((0x0001_0000_0000_1303, HB + 0x50))
    );
    // Read without LPA2 the same leaf has a 48-bit OA and SH = 0b10.
    assert_eq!(output_address(page, false), 0x0000_1234_5678_9000);
    // A level-(-1) block is invalid.
    put(&m, lm1 + 0xB * 8, lpa2_oa(l0) | BLOCK);
    assert_eq!(
        walk(&m, &c, 0xB << 48, Access::Read),
        Err(fault(S2FaultKind::Translation, -1))
    );
    assert_eq!(fault(S2FaultKind::Translation, -1).fsc(), Some(0b10_1011));
    // IPA bits above 52.
    assert_eq!(
        walk(&m, &c, 1 << 52, Access::Read),
        Err(fault(S2FaultKind::Translation, 0))
    );
}

#[test]
fn lpa2_level_0_blocks_and_16_concatenated_level_0_tables() {
    let m = PhysMem::new(PhysAddr(HB), 1 << 20);
    // 52 bits from level 0: 16 tables (64 KiB). IPA[51:48] = 0xF, IPA[47:39] = 1:
    // index 15 * 512 + 1 = 7681, at root + 0xF008.
    let root = HB;
    for i in 0..16 {
        rtt(&m, root + i * 0x1000);
    }
    let c = cfg(root, 52, 0, 16, true);
    // A 512 GiB block at 0x000C_0080_0000_0000 (OA[51:50] = 0b11).
    let block = lpa2_oa(0x000C_0080_0000_0000) | (ATTR_RO & !(0b11 << 8)) | BLOCK;
    assert_eq!(block, 0x0000_0080_0000_0000 | 0x300 | 0x458 | 1);
    put(&m, root + 0xF008, block);
    let ipa = (0xF << 48) | (1 << 39) | 0x12_3456_789A;
    let t = walk(&m, &c, ipa, Access::Read).unwrap();
    assert_eq!(t.pa, 0x000C_0092_3456_789A);
    assert_eq!(t.level, 0);
    assert_eq!(t.block_size, 1 << 39);
    assert_eq!(t.sh, SH_FROM_VTCR);
    assert_eq!(
        walk(&m, &c, ipa, Access::Write),
        Err(fault(S2FaultKind::Permission, 0))
    );
    assert_eq!(fault(S2FaultKind::Permission, 0).fsc(), Some(0b00_1100));
    // The same block with a 48-bit IPA, one level-0 table, without LPA2: invalid.
    let m48 = mem();
    rtt(&m48, BASE);
    put(&m48, BASE + 8, 0x80_0000_0000 | ATTR_RW | BLOCK);
    let c48 = cfg(BASE, 48, 0, 1, false);
    assert_eq!(
        walk(&m48, &c48, 1 << 39, Access::Read),
        Err(fault(S2FaultKind::Translation, 0))
    );
    // With LPA2 (a 48-bit IPA is allowed with DS = 1) it is a 512 GiB block, and its
    // SH bits [9:8] = 0b11 are OA[51:50].
    let c48_lpa2 = cfg(BASE, 48, 0, 1, true);
    let t = walk(&m48, &c48_lpa2, (1 << 39) | 0x42, Access::Read).unwrap();
    assert_eq!((t.pa, t.level), (0x000C_0080_0000_0042, 0));
}

#[test]
fn config_validation() {
    let ok = |ipa, sl, n, lpa2| cfg(BASE, ipa, sl, n, lpa2).validate();
    // Accepted geometries.
    assert_eq!(ok(48, 0, 1, false), Ok(()));
    assert_eq!(ok(40, 0, 1, false), Ok(()));
    assert_eq!(ok(40, 1, 2, false), Ok(()));
    assert_eq!(ok(42, 1, 8, false), Ok(()));
    assert_eq!(ok(43, 1, 16, false), Ok(()));
    assert_eq!(ok(39, 1, 1, false), Ok(()));
    assert_eq!(ok(32, 1, 1, false), Ok(()));
    assert_eq!(ok(32, 2, 4, false), Ok(()));
    assert_eq!(ok(34, 2, 16, false), Ok(()));
    assert_eq!(ok(52, -1, 1, true), Ok(()));
    assert_eq!(ok(49, -1, 1, true), Ok(()));
    assert_eq!(ok(52, 0, 16, true), Ok(()));
    assert_eq!(ok(49, 0, 2, true), Ok(()));
    assert_eq!(ok(48, 0, 1, true), Ok(()));
    assert_eq!(S2Config::root_tables(42, 1), Some(8));
    assert_eq!(S2Config::root_tables(52, 0), Some(16));
    assert_eq!(S2Config::root_tables(44, 1), None);

    // Rejected: the IPA range.
    assert_eq!(ok(31, 1, 1, false), Err(S2ConfigError::IpaBits));
    assert_eq!(ok(53, -1, 1, true), Err(S2ConfigError::IpaBits));
    assert_eq!(ok(49, 0, 2, false), Err(S2ConfigError::IpaBitsNeedLpa2));
    // Start levels.
    assert_eq!(ok(48, -1, 1, false), Err(S2ConfigError::StartLevel));
    assert_eq!(ok(48, 4, 1, false), Err(S2ConfigError::StartLevel));
    assert_eq!(ok(48, -2, 1, true), Err(S2ConfigError::StartLevel));
    // Start level against IPA width.
    let inconsistent = |r| Err(S2ConfigError::InconsistentStartLevel { resolved_bits: r });
    assert_eq!(ok(39, 0, 1, false), inconsistent(0));
    assert_eq!(ok(44, 1, 16, false), inconsistent(14));
    assert_eq!(ok(35, 2, 16, false), inconsistent(14));
    assert_eq!(ok(32, 3, 1, false), inconsistent(20));
    assert_eq!(ok(48, -1, 1, true), inconsistent(0));
    assert_eq!(ok(48, 1, 1, false), inconsistent(18));
    // Number of concatenated tables.
    assert_eq!(
        ok(40, 1, 1, false),
        Err(S2ConfigError::NumRootTables { expected: 2 })
    );
    assert_eq!(
        ok(48, 0, 2, false),
        Err(S2ConfigError::NumRootTables { expected: 1 })
    );
    assert_eq!(
        ok(52, 0, 8, true),
        Err(S2ConfigError::NumRootTables { expected: 16 })
    );
    // Root alignment: the size of all concatenated tables.
    assert_eq!(
        cfg(BASE + 0x4000, 42, 1, 8, false).validate(),
        Err(S2ConfigError::RootAlignment { align: 0x8000 })
    );
    assert_eq!(
        cfg(BASE + 0x800, 48, 0, 1, false).validate(),
        Err(S2ConfigError::RootAlignment { align: 0x1000 })
    );
    // Root beyond the output address size.
    assert_eq!(
        cfg(1 << 48, 48, 0, 1, false).validate(),
        Err(S2ConfigError::RootOutOfRange)
    );
    assert_eq!(cfg(1 << 48, 48, 0, 1, true).validate(), Ok(()));
    assert_eq!(
        cfg((1 << 52) - 0x1000, 52, 0, 16, true).validate(),
        Err(S2ConfigError::RootAlignment { align: 0x1_0000 })
    );
    assert_eq!(
        cfg((1 << 52) - 0x1_0000, 52, 0, 16, true).validate(),
        Ok(())
    );
    assert_eq!(
        cfg(1 << 52, 52, 0, 16, true).validate(),
        Err(S2ConfigError::RootOutOfRange)
    );
}

#[test]
fn a_walk_under_a_rejected_configuration_faults_at_level_0() {
    let m = mem();
    let c = four_levels(&m);
    // Wrong table count: translation fault at level 0 (the answer to an inconsistent
    // VTCR_EL2), though the tables are fine.
    let bad = S2Config {
        num_root_tables: 2,
        ..c
    };
    assert_eq!(
        walk(&m, &bad, IPA, Access::Read),
        Err(fault(S2FaultKind::Translation, 0))
    );
    let bad = S2Config { ipa_bits: 49, ..c };
    assert_eq!(
        walk(&m, &bad, IPA, Access::Read),
        Err(fault(S2FaultKind::Translation, 0))
    );
    // Root beyond the output size: address size fault at level 0.
    let bad = S2Config {
        root: PhysAddr(1 << 48),
        ..c
    };
    assert_eq!(
        walk(&m, &bad, IPA, Access::Read),
        Err(fault(S2FaultKind::AddressSize, 0))
    );
    assert_eq!(
        read_entry(&m, &bad, IPA, 0),
        Err(fault(S2FaultKind::AddressSize, 0))
    );
    assert_eq!(fault(S2FaultKind::AddressSize, 0).fsc(), Some(0));
}

#[test]
fn accesses_go_through_the_output_pas() {
    let m = mem();
    let c = four_levels(&m);
    m.set_pas(PhysAddr(OUT), Pas::Realm);
    // Page 12 maps a Non-secure granule (NS leaf), not contiguous with page 11.
    let ns_out = BASE + 0x30_0000;
    put(
        &m,
        E3 + 8,
        ns_out | ATTR_RW | (1 << 55) | (0b10 << 53) | PAGE,
    );
    // An 8-byte write straddling the two pages: 4 bytes to each.
    let at = (IPA & !0xFFF) + 0xFFC;
    write_ipa(&m, &c, at, &[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
    assert_eq!(m.inspect(PhysAddr(OUT)).0[0xFFC..], [1, 2, 3, 4]);
    assert_eq!(m.inspect(PhysAddr(ns_out)).0[..4], [5, 6, 7, 8]);
    // The host sees the Non-secure half through its own PAS.
    let mut host = [0u8; 4];
    m.read(PhysAddr(ns_out), Pas::NonSecure, &mut host).unwrap();
    assert_eq!(host, [5, 6, 7, 8]);
    let mut back = [0u8; 8];
    read_ipa(&m, &c, at, &mut back).unwrap();
    assert_eq!(back, [1, 2, 3, 4, 5, 6, 7, 8]);
    let mut buf = [9u8; 2];
    access(&m, &c, at + 2, &mut buf, true).unwrap();
    access(&m, &c, at + 1, &mut back[..4], false).unwrap();
    assert_eq!(back[..4], [2, 9, 9, 5]);

    // A protected leaf whose output granule is Non-secure: the output access fails the
    // granule protection check, and nothing is written — not even the first page.
    put(&m, E3 + 8, ns_out | ATTR_RW | PAGE);
    assert_eq!(
        write_ipa(&m, &c, at, &[0xEE; 8]),
        Err(AccessFault::Gpf(GpFault {
            pa: PhysAddr(ns_out),
            access: Pas::Realm,
            actual: Some(Pas::NonSecure),
        }))
    );
    assert_eq!(m.inspect(PhysAddr(OUT)).0[0xFFC..], [1, 2, 9, 9]);
    // A stage-2 fault on the second page also stops the whole access.
    put(&m, E3 + 8, ns_out | ATTR_RO | (1 << 55) | PAGE);
    assert_eq!(
        write_ipa(&m, &c, at, &[0xEE; 8]),
        Err(AccessFault::Stage2(fault(S2FaultKind::Permission, 3)))
    );
    assert_eq!(m.inspect(PhysAddr(OUT)).0[0xFFC..], [1, 2, 9, 9]);
    // Output outside memory: an external abort, reported with no PAS.
    put(&m, E3, 0x1_0000_0000 | ATTR_RW | PAGE);
    assert_eq!(
        read_ipa(&m, &c, IPA, &mut back),
        Err(AccessFault::Gpf(GpFault {
            pa: PhysAddr(0x1_0000_0ABC),
            access: Pas::Realm,
            actual: None,
        }))
    );
    // An empty access translates nothing.
    assert_eq!(read_ipa(&m, &c, 1 << 60, &mut []), Ok(()));
    // An access running off the end of the IPA space.
    assert_eq!(
        read_ipa(&m, &c, u64::MAX - 1, &mut back),
        Err(AccessFault::Stage2(fault(S2FaultKind::Translation, 0)))
    );
}

#[test]
fn fault_status_codes() {
    let f = |kind, level| fault(kind, level).fsc();
    assert_eq!(f(S2FaultKind::AddressSize, 3), Some(0x03));
    assert_eq!(f(S2FaultKind::Translation, 0), Some(0x04));
    assert_eq!(f(S2FaultKind::Translation, 3), Some(0x07));
    assert_eq!(f(S2FaultKind::AccessFlag, 1), Some(0x09));
    assert_eq!(f(S2FaultKind::Permission, 3), Some(0x0F));
    assert_eq!(f(S2FaultKind::WalkGpf { pa: 0 }, 2), Some(0x26));
    assert_eq!(f(S2FaultKind::WalkGpf { pa: 0 }, -1), Some(0x23));
    assert_eq!(f(S2FaultKind::AddressSize, -1), Some(0x29));
    assert_eq!(f(S2FaultKind::AccessFlag, -1), None);
    assert_eq!(f(S2FaultKind::Translation, 4), None);
}

mod no_panic {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the tables hold, a walk returns a translation or a fault. Descriptors
        /// are random, with their address field sometimes pointed back into the tables.
        #[test]
        fn arbitrary_tables_never_panic(
            descs in proptest::collection::vec((0u64..8 * 512, any::<u64>(), any::<bool>()), 0..64),
            ipa in any::<u64>(),
            low_ipa in 0u64..(1 << 40),
            lpa2 in any::<bool>(),
            access_kind in 0u8..4,
        ) {
            let m = PhysMem::new(PhysAddr(BASE), 8 << 12);
            m.set_pas_range(PhysAddr(BASE), 8 << 12, Pas::Realm);
            for (slot, value, aim) in descs {
                let v = if aim {
                    (value & !0x0003_FFFF_FFFF_F000) | (BASE + ((value >> 12) % 8) * 0x1000)
                } else {
                    value
                };
                put(&m, BASE + slot * 8, v);
            }
            let access_kind = match access_kind {
                0 => Access::Read,
                1 => Access::Write,
                2 => Access::Execute,
                _ => Access::ExecuteEl0,
            };
            let c = cfg(BASE, 40, 1, 2, lpa2);
            for ipa in [ipa, low_ipa] {
                if let Ok(t) = walk(&m, &c, ipa, access_kind) {
                    prop_assert_eq!(t.pa & (t.block_size - 1), ipa & (t.block_size - 1));
                    prop_assert!((0..=3).contains(&t.level));
                }
                for level in -1..=4 {
                    let _ = read_entry(&m, &c, ipa, level);
                }
                let mut buf = [0u8; 16];
                let _ = read_ipa(&m, &c, ipa, &mut buf);
            }
        }
    }
}
