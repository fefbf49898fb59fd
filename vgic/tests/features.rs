//! GicFeatures decoding: GICv3 architecture, ICH_VTR_EL2 and ICC_CTLR_EL1.

use vgic::{FeaturesError, GicFeatures};

/// ICH_VTR_EL2 from its raw fields.
fn vtr(list_regs: u64, id_bits: u64, pre_bits_m1: u64, pri_bits_m1: u64) -> u64 {
    list_regs | (id_bits << 23) | (pre_bits_m1 << 26) | (pri_bits_m1 << 29)
}

const EXT_RANGE: u64 = 1 << 19;

#[test]
fn decodes_a_typical_cpu_interface() {
    // 4 LRs, 5 priority and preemption bits, 16-bit IDs (Cortex-A76-like).
    let f = GicFeatures::from_regs(0x9000_0003, 0).unwrap();
    assert_eq!(f.num_lrs(), 4);
    assert_eq!(f.list_regs_field(), 3);
    assert_eq!(f.pri_bits(), 5);
    assert_eq!(f.pre_bits(), 5);
    assert_eq!(f.id_bits(), 16);
    assert!(!f.ext_range());
    assert_eq!(f.max_vintid(), 65_535);
    assert_eq!(f.num_aprs(), 1);
    assert_eq!(f.priority_res0_mask(), 0b111);
}

#[test]
fn decodes_24_bit_ids_ext_range_and_16_lrs() {
    let f = GicFeatures::from_regs(vtr(15, 1, 6, 7), EXT_RANGE).unwrap();
    assert_eq!(f.num_lrs(), 16);
    assert_eq!(f.id_bits(), 24);
    assert_eq!(f.max_vintid(), (1 << 24) - 1);
    assert!(f.ext_range());
    assert_eq!(f.pre_bits(), 7);
    assert_eq!(f.pri_bits(), 8);
    assert_eq!(f.num_aprs(), 4);
    assert_eq!(f.priority_res0_mask(), 0);
}

#[test]
fn one_list_register() {
    let f = GicFeatures::from_regs(vtr(0, 0, 4, 4), 0).unwrap();
    assert_eq!(f.num_lrs(), 1);
    assert_eq!(f.list_regs_field(), 0);
}

#[test]
fn apr_count_follows_preemption_bits() {
    for (pre_m1, aprs) in [(4, 1), (5, 2), (6, 4)] {
        let f = GicFeatures::from_regs(vtr(3, 0, pre_m1, 7), 0).unwrap();
        assert_eq!(f.num_aprs(), aprs, "PREbits {pre_m1}");
    }
}

#[test]
fn priority_res0_mask_follows_priority_bits() {
    for (pri_m1, mask) in [(4, 0b111), (5, 0b11), (6, 0b1), (7, 0)] {
        let f = GicFeatures::from_regs(vtr(3, 0, 4, pri_m1), 0).unwrap();
        assert_eq!(f.priority_res0_mask(), mask, "PRIbits {pri_m1}");
    }
}

#[test]
fn rejects_more_than_16_list_registers() {
    assert_eq!(
        GicFeatures::from_regs(vtr(16, 0, 4, 4), 0),
        Err(FeaturesError::ListRegs { num_lrs: 17 })
    );
    assert_eq!(
        GicFeatures::from_regs(vtr(31, 0, 4, 4), 0),
        Err(FeaturesError::ListRegs { num_lrs: 32 })
    );
}

#[test]
fn rejects_fewer_than_5_or_more_than_7_preemption_bits() {
    for pre_m1 in 0..=3 {
        assert_eq!(
            GicFeatures::from_regs(vtr(3, 0, pre_m1, 7), 0),
            Err(FeaturesError::PreBits {
                pre_bits: pre_m1 as u8 + 1
            })
        );
    }
    assert_eq!(
        GicFeatures::from_regs(vtr(3, 0, 7, 7), 0),
        Err(FeaturesError::PreBits { pre_bits: 8 })
    );
}

#[test]
fn rejects_fewer_priority_than_preemption_bits() {
    // The reference's fake_host default (PREbits = 4, PRIbits = 0): 1 priority bit.
    assert_eq!(
        GicFeatures::from_regs(vtr(0, 0, 4, 0), 0),
        Err(FeaturesError::PriBits {
            pri_bits: 1,
            pre_bits: 5
        })
    );
    assert_eq!(
        GicFeatures::from_regs(vtr(0, 0, 5, 4), 0),
        Err(FeaturesError::PriBits {
            pri_bits: 5,
            pre_bits: 6
        })
    );
}

#[test]
fn rejects_reserved_id_bits() {
    for id in 2..=7 {
        assert_eq!(
            GicFeatures::from_regs(vtr(3, id, 4, 4), 0),
            Err(FeaturesError::IdBits { value: id as u8 })
        );
    }
}

#[test]
fn ignores_other_register_bits() {
    // SEIS, A3V, nV4, TDS in ICH_VTR_EL2; everything but ExtRange in ICC_CTLR_EL1.
    let f = GicFeatures::from_regs(0x9000_0003 | (0xf << 19), !EXT_RANGE).unwrap();
    assert_eq!(f, GicFeatures::from_regs(0x9000_0003, 0).unwrap());
}

#[test]
fn encoding_round_trips_for_every_valid_feature_set() {
    let mut count = 0;
    for num_lrs in 1..=16u8 {
        for pre in 5..=7u8 {
            for pri in pre..=8u8 {
                for id in [16u8, 24] {
                    for ext in [false, true] {
                        let f = GicFeatures::new(num_lrs, pri, pre, id, ext).unwrap();
                        let back = GicFeatures::from_regs(f.ich_vtr_el2(), f.icc_ctlr_el1());
                        assert_eq!(back, Ok(f));
                        count += 1;
                    }
                }
            }
        }
    }
    assert_eq!(count, 16 * (4 + 3 + 2) * 2 * 2);
}

#[test]
fn new_rejects_zero_list_registers() {
    assert_eq!(
        GicFeatures::new(0, 5, 5, 16, false),
        Err(FeaturesError::ListRegs { num_lrs: 0 })
    );
    assert_eq!(
        GicFeatures::new(5, 9, 5, 16, false),
        Err(FeaturesError::PriBits {
            pri_bits: 9,
            pre_bits: 5
        })
    );
    assert_eq!(
        GicFeatures::new(5, 5, 5, 20, false),
        Err(FeaturesError::IdBits { value: 20 })
    );
}
