//! One test per validation rule of DEN0137 1.0 RMI_REC_ENTER (gicv3_hcr,
//! gicv3_lrs), at the rule's boundary values.

mod common;

use common::*;
use vgic::sim::SimConfig;
use vgic::{validate, GicCpuIf, VgicError, VgicState, MAX_LRS};

const NO_LRS: [u64; MAX_LRS] = [0; MAX_LRS];

// ---- Rule 1: gicv3_hcr only within the host-writable mask ----

const ALLOWED_HCR_BITS: [u32; 8] = [1, 2, 3, 4, 5, 6, 7, 14];

#[test]
fn hcr_named_forbidden_bits_are_rejected_individually() {
    let f = features(4, 5, 16, false);
    // En, vSGIEOICount, TC, TALL0, TALL1, TSEI, DVIM, EOIcount[27..31], bit 32.
    for bit in [0, 8, 10, 11, 12, 13, 15, 27, 28, 29, 30, 31, 32] {
        assert_eq!(
            validate(&f, 1 << bit, &NO_LRS),
            Err(VgicError::HcrReservedBits { bits: 1 << bit }),
            "bit {bit}"
        );
    }
}

#[test]
fn hcr_every_bit_outside_the_mask_is_rejected() {
    let f = features(4, 5, 16, false);
    for bit in 0..64 {
        let result = validate(&f, 1 << bit, &NO_LRS);
        if ALLOWED_HCR_BITS.contains(&bit) {
            assert_eq!(result.map(|v| v.hcr()), Ok(1 << bit), "bit {bit}");
        } else {
            assert_eq!(
                result,
                Err(VgicError::HcrReservedBits { bits: 1 << bit }),
                "bit {bit}"
            );
        }
    }
}

#[test]
fn hcr_all_allowed_bits_together_are_accepted() {
    let f = features(4, 5, 16, false);
    let all = 0x40fe;
    assert_eq!(validate(&f, all, &NO_LRS).map(|v| v.hcr()), Ok(all));
    // One forbidden bit among allowed ones: only the forbidden bit is reported.
    assert_eq!(
        validate(&f, all | (1 << 13), &NO_LRS),
        Err(VgicError::HcrReservedBits { bits: 1 << 13 })
    );
}

#[test]
fn hcr_is_checked_before_list_registers() {
    let f = features(4, 5, 16, false);
    let lrs = lrs_with(&[(0, pending(1020))]);
    assert_eq!(
        validate(&f, 1, &lrs),
        Err(VgicError::HcrReservedBits { bits: 1 })
    );
}

// ---- Rule 2: only implemented LRs are examined and kept ----

#[test]
fn first_unimplemented_lr_is_ignored_and_not_loaded() {
    for num_lrs in [1u8, 4] {
        let n = usize::from(num_lrs);
        let f = features(num_lrs, 5, 16, false);
        // Invalid on every count: HW set, special vINTID, low priority bits.
        let junk = lr(PENDING, true, 0xff, 1023) | HW | (1 << 32);
        let mut lrs = lrs_with(&[(0, pending(32))]);
        lrs[n] = junk;
        let v = validate(&f, 0, &lrs).expect("junk above the implemented LRs is ignored");
        assert_eq!(v.num_lrs(), n);
        assert_eq!(v.lrs()[n], 0, "not carried into the validated state");

        let mut cpu = sim(SimConfig::new(num_lrs));
        let mut state = VgicState::new();
        state.load(v);
        state.restore(&mut cpu);
        state.save(&mut cpu);
        assert_eq!(cpu.fault(), None, "no access to LR{n}");
        let report = state.exit_report();
        assert_eq!(report.lrs[0], pending(32));
        assert_eq!(report.lrs[n], 0);
    }
}

#[test]
fn all_unimplemented_lrs_are_ignored() {
    let f = features(4, 5, 16, false);
    let mut lrs = [u64::MAX; MAX_LRS];
    lrs[..4].copy_from_slice(&[pending(1), pending(2), pending(3), 0]);
    let v = validate(&f, 0, &lrs).unwrap();
    assert_eq!(&v.lrs()[..4], &[pending(1), pending(2), pending(3), 0]);
    assert!(v.lrs()[4..].iter().all(|&x| x == 0));
}

#[test]
fn the_last_implemented_lr_is_checked_for_every_count() {
    for num_lrs in 1..=16u8 {
        let n = usize::from(num_lrs);
        let f = features(num_lrs, 5, 16, false);
        let lrs = lrs_with(&[(n - 1, pending(1020))]);
        assert_eq!(
            validate(&f, 0, &lrs),
            Err(VgicError::InvalidVintid {
                lr: n - 1,
                vintid: 1020
            }),
            "num_lrs {num_lrs}"
        );
    }
}

#[test]
fn sixteen_lrs_all_examined() {
    let f = features(16, 5, 16, false);
    let mut lrs = [0u64; MAX_LRS];
    for (i, slot) in lrs.iter_mut().enumerate() {
        *slot = pending(100 + i as u32);
    }
    let v = validate(&f, 0, &lrs).unwrap();
    assert_eq!(v.lrs(), &lrs);
    lrs[15] |= HW;
    assert_eq!(validate(&f, 0, &lrs), Err(VgicError::HwBitSet { lr: 15 }));
}

// ---- Rule 3: invalid LRs are skipped but kept ----

#[test]
fn invalid_lr_is_not_checked_and_is_kept_verbatim() {
    let f = features(4, 5, 16, false);
    // Every rule broken, but State == Invalid.
    let junk = lr(INVALID, true, 0xff, 1022) | HW | (0x1fff << 32);
    // And a duplicate of a valid LR's vINTID.
    let dup = lr(INVALID, false, 0, 7);
    let lrs = lrs_with(&[(0, junk), (1, pending(7)), (2, dup)]);
    let v = validate(&f, 0, &lrs).unwrap();
    assert_eq!(v.lrs()[0], junk);
    assert_eq!(v.lrs()[2], dup);
}

#[test]
fn every_non_invalid_state_is_checked() {
    let f = features(4, 5, 16, false);
    for state in [PENDING, ACTIVE, PENDING_ACTIVE] {
        let lrs = lrs_with(&[(2, lr(state, true, 0x80, 1023))]);
        assert_eq!(
            validate(&f, 0, &lrs),
            Err(VgicError::InvalidVintid {
                lr: 2,
                vintid: 1023
            }),
            "state {:#x}",
            state >> STATE_SHIFT
        );
        let lrs = lrs_with(&[(2, lr(state, false, 0x80, 1019))]);
        assert!(validate(&f, 0, &lrs).is_ok());
    }
}

// ---- Rule 4: HW must be 0 ----

#[test]
fn hw_bit_rejected_in_any_valid_state() {
    let f = features(4, 5, 16, false);
    for state in [PENDING, ACTIVE, PENDING_ACTIVE] {
        let lrs = lrs_with(&[(0, pending(1)), (3, lr(state, true, 0x80, 40) | HW)]);
        assert_eq!(validate(&f, 0, &lrs), Err(VgicError::HwBitSet { lr: 3 }));
    }
}

// ---- Rule 5: priority bits below the implemented width ----

fn priority_result(pri_bits: u8, priority: u8) -> Result<(), VgicError> {
    let f = features(4, pri_bits, 16, false);
    let lrs = lrs_with(&[(1, lr(PENDING, true, priority, 33))]);
    validate(&f, 0, &lrs).map(|_| ())
}

#[test]
fn priority_low_bits_with_5_priority_bits() {
    for ok in [0x00, 0x08, 0x10, 0x80, 0xf8] {
        assert_eq!(priority_result(5, ok), Ok(()), "priority {ok:#x}");
    }
    for bad in [0x01, 0x02, 0x04, 0x07, 0x09, 0xff] {
        assert_eq!(
            priority_result(5, bad),
            Err(VgicError::PriorityLowBits {
                lr: 1,
                priority: bad
            }),
            "priority {bad:#x}"
        );
    }
}

#[test]
fn priority_low_bits_with_6_and_7_priority_bits() {
    assert_eq!(priority_result(6, 0x04), Ok(()));
    assert_eq!(
        priority_result(6, 0x02),
        Err(VgicError::PriorityLowBits { lr: 1, priority: 2 })
    );
    assert_eq!(priority_result(7, 0x02), Ok(()));
    assert_eq!(
        priority_result(7, 0x01),
        Err(VgicError::PriorityLowBits { lr: 1, priority: 1 })
    );
}

#[test]
fn every_priority_is_accepted_with_8_priority_bits() {
    for p in 0..=255u8 {
        assert_eq!(priority_result(8, p), Ok(()), "priority {p:#x}");
    }
}

// ---- Rule 6: pINTID may only carry EOI ----

#[test]
fn pintid_bits_other_than_eoi_rejected() {
    let f = features(4, 5, 16, false);
    for bit in 32..=44 {
        let lrs = lrs_with(&[(2, pending(50) | (1 << bit))]);
        let result = validate(&f, 0, &lrs);
        if bit == 41 {
            assert!(result.is_ok(), "EOI bit accepted");
        } else {
            assert_eq!(result, Err(VgicError::PintidBits { lr: 2 }), "bit {bit}");
        }
    }
}

#[test]
fn bits_the_reference_leaves_unchecked_are_accepted() {
    // Group (60) and the RES0/NMI bits 45..47 and 56..59 are not rules of
    // the reference implementation.
    let f = features(4, 5, 16, false);
    for bit in [45, 46, 47, 56, 57, 58, 59, 60] {
        let lrs = lrs_with(&[(0, lr(PENDING, false, 0x80, 64) | (1 << bit))]);
        assert!(validate(&f, 0, &lrs).is_ok(), "bit {bit}");
    }
}

// ---- Rule 7: vINTID validity ----

/// Whether `vintid` in LR2 is accepted, checking the error otherwise.
fn vintid_ok(vintid: u32, id_bits: u8, ext_range: bool) -> bool {
    let f = features(4, 5, id_bits, ext_range);
    let lrs = lrs_with(&[(0, pending(1)), (2, pending(vintid))]);
    match validate(&f, 0, &lrs) {
        Ok(v) => {
            assert_eq!(v.lrs()[2], pending(vintid));
            true
        }
        Err(e) => {
            assert_eq!(e, VgicError::InvalidVintid { lr: 2, vintid });
            false
        }
    }
}

#[test]
fn vintid_sgi_ppi_spi_and_special_range() {
    for ext in [false, true] {
        for id_bits in [16, 24] {
            assert!(vintid_ok(0, id_bits, ext));
            assert!(vintid_ok(1019, id_bits, ext));
            for special in 1020..=1023 {
                assert!(!vintid_ok(special, id_bits, ext), "{special}");
            }
            assert!(!vintid_ok(1024, id_bits, ext));
        }
    }
}

#[test]
fn vintid_extended_ppi_only_with_ext_range() {
    assert!(!vintid_ok(1055, 16, true));
    assert!(vintid_ok(1056, 16, true));
    assert!(vintid_ok(1119, 16, true));
    assert!(!vintid_ok(1120, 16, true));
    for v in [1055, 1056, 1119, 1120] {
        assert!(!vintid_ok(v, 16, false), "{v} without ExtRange");
    }
}

#[test]
fn vintid_extended_spi_only_with_ext_range() {
    assert!(!vintid_ok(4095, 16, true));
    assert!(vintid_ok(4096, 16, true));
    assert!(vintid_ok(5119, 16, true));
    assert!(!vintid_ok(5120, 16, true));
    for v in [4095, 4096, 5119, 5120] {
        assert!(!vintid_ok(v, 24, false), "{v} without ExtRange");
    }
}

#[test]
fn vintid_lpi_range_with_16_id_bits() {
    for ext in [false, true] {
        assert!(!vintid_ok(8191, 16, ext));
        assert!(vintid_ok(8192, 16, ext));
        assert!(vintid_ok(65_535, 16, ext));
        assert!(!vintid_ok(65_536, 16, ext));
        assert!(!vintid_ok((1 << 24) - 1, 16, ext));
    }
}

#[test]
fn vintid_lpi_range_with_24_id_bits() {
    for ext in [false, true] {
        assert!(!vintid_ok(8191, 24, ext));
        assert!(vintid_ok(8192, 24, ext));
        assert!(vintid_ok(65_536, 24, ext));
        assert!(vintid_ok((1 << 24) - 1, 24, ext));
        assert!(!vintid_ok(1 << 24, 24, ext));
        assert!(!vintid_ok(u32::MAX, 24, ext));
    }
}

#[test]
fn vintid_gaps_rejected() {
    for v in [1024, 1055, 1120, 2000, 4095, 5120, 8191] {
        assert!(!vintid_ok(v, 24, true), "{v}");
    }
}

// ---- Rule 8: no duplicate vINTIDs among valid LRs ----

#[test]
fn duplicate_vintid_rejected_with_both_indexes() {
    let f = features(16, 5, 16, false);
    let lrs = lrs_with(&[
        (0, pending(5)),
        (3, pending(42)),
        (9, lr(ACTIVE, false, 0, 42)),
    ]);
    assert_eq!(
        validate(&f, 0, &lrs),
        Err(VgicError::DuplicateVintid {
            first: 3,
            second: 9,
            vintid: 42
        })
    );
}

#[test]
fn duplicate_in_last_implemented_lr_rejected() {
    for num_lrs in 2..=16u8 {
        let n = usize::from(num_lrs);
        let f = features(num_lrs, 5, 16, false);
        let lrs = lrs_with(&[(0, pending(77)), (n - 1, pending(77))]);
        assert_eq!(
            validate(&f, 0, &lrs),
            Err(VgicError::DuplicateVintid {
                first: 0,
                second: n - 1,
                vintid: 77
            }),
            "num_lrs {num_lrs}"
        );
    }
}

#[test]
fn duplicate_of_an_invalid_or_unimplemented_lr_accepted() {
    let f = features(4, 5, 16, false);
    let lrs = lrs_with(&[
        (0, pending(77)),
        (1, lr(INVALID, true, 0xa0, 77)),
        (4, pending(77)),
    ]);
    assert!(validate(&f, 0, &lrs).is_ok());
}

#[test]
fn duplicates_differ_by_vintid_only() {
    // Same vINTID in different groups and states is still a duplicate.
    let f = features(4, 5, 16, false);
    let lrs = lrs_with(&[
        (1, lr(PENDING, true, 0x10, 8192)),
        (2, lr(ACTIVE, false, 0x20, 8192)),
    ]);
    assert_eq!(
        validate(&f, 0, &lrs),
        Err(VgicError::DuplicateVintid {
            first: 1,
            second: 2,
            vintid: 8192
        })
    );
}

#[test]
fn first_failing_lr_is_reported() {
    let f = features(4, 5, 16, false);
    let lrs = lrs_with(&[(1, pending(3) | (1 << 40)), (2, pending(3) | HW)]);
    assert_eq!(validate(&f, 0, &lrs), Err(VgicError::PintidBits { lr: 1 }));
}

#[test]
fn validated_state_loads_exactly_the_host_values() {
    let f = features(4, 5, 16, false);
    let lrs = lrs_with(&[
        (0, pending(27) | EOI),
        (1, lr(ACTIVE, false, 0x08, 8192)),
        (3, 0),
    ]);
    let v = validate(&f, HCR_NPIE | HCR_TDIR, &lrs).unwrap();
    let mut cpu = sim(SimConfig::new(4));
    let mut state = VgicState::new();
    state.load(v);
    state.restore(&mut cpu);
    for (i, &value) in lrs.iter().enumerate().take(4) {
        assert_eq!(cpu.read_lr(i), value, "LR{i}");
    }
    assert_eq!(
        cpu.hcr(),
        HCR_EN | HCR_VSGIEOICOUNT | HCR_DVIM | HCR_NPIE | HCR_TDIR
    );
}
