//! RMI feature register 0: exact bit positions, reserved bits, round trips.

use proptest::prelude::*;
use rmi_abi::{FeatureReg0, FieldOverflow};

fn sample() -> FeatureReg0 {
    FeatureReg0 {
        s2sz: 48,
        lpa2: true,
        sve_en: true,
        sve_vl: 15,
        num_bps: 5,
        num_wps: 3,
        pmu_en: true,
        pmu_num_ctrs: 31,
        hash_sha_256: true,
        hash_sha_512: false,
        gicv3_num_lrs: 15,
        max_recs_order: 10,
    }
}

#[test]
fn single_fields_land_on_spec_bits() {
    let z = FeatureReg0::default();
    let one = |f: FeatureReg0| f.encode().unwrap();
    assert_eq!(one(FeatureReg0 { s2sz: 0xFF, ..z }), 0xFF);
    assert_eq!(one(FeatureReg0 { lpa2: true, ..z }), 1 << 8);
    assert_eq!(one(FeatureReg0 { sve_en: true, ..z }), 1 << 9);
    assert_eq!(one(FeatureReg0 { sve_vl: 0xF, ..z }), 0xF << 10);
    assert_eq!(one(FeatureReg0 { num_bps: 0x3F, ..z }), 0x3F << 14);
    assert_eq!(one(FeatureReg0 { num_wps: 0x3F, ..z }), 0x3F << 20);
    assert_eq!(one(FeatureReg0 { pmu_en: true, ..z }), 1 << 26);
    assert_eq!(
        one(FeatureReg0 {
            pmu_num_ctrs: 0x1F,
            ..z
        }),
        0x1F << 27
    );
    assert_eq!(
        one(FeatureReg0 {
            hash_sha_256: true,
            ..z
        }),
        1 << 32
    );
    assert_eq!(
        one(FeatureReg0 {
            hash_sha_512: true,
            ..z
        }),
        1 << 33
    );
    assert_eq!(
        one(FeatureReg0 {
            gicv3_num_lrs: 0xF,
            ..z
        }),
        0xF << 34
    );
    assert_eq!(
        one(FeatureReg0 {
            max_recs_order: 0xF,
            ..z
        }),
        0xF << 38
    );
    assert_eq!(FeatureReg0::DEFINED, (1 << 42) - 1);
}

#[test]
fn sample_encoding() {
    // 48 | LPA2 | SVE_EN | VL 15 | BPS 5 | WPS 3 | PMU_EN | 31 ctrs | SHA-256 | 15 LRs | order 10
    let v = 48
        | 1 << 8
        | 1 << 9
        | 15 << 10
        | 5 << 14
        | 3 << 20
        | 1 << 26
        | 31 << 27
        | 1 << 32
        | 15 << 34
        | 10 << 38;
    assert_eq!(sample().encode(), Ok(v));
    assert_eq!(FeatureReg0::decode(v), Ok(sample()));
}

#[test]
fn reserved_bits_rejected() {
    assert_eq!(FeatureReg0::decode(1 << 42), Err(1 << 42));
    assert_eq!(FeatureReg0::decode(1 << 63 | 48), Err(1 << 63 | 48));
    assert_eq!(FeatureReg0::decode(u64::MAX), Err(u64::MAX));
}

#[test]
fn overflowing_fields_are_errors() {
    let z = FeatureReg0::default();
    let cases = [
        (FeatureReg0 { sve_vl: 16, ..z }, "SVE_VL"),
        (FeatureReg0 { num_bps: 64, ..z }, "NUM_BPS"),
        (FeatureReg0 { num_wps: 64, ..z }, "NUM_WPS"),
        (
            FeatureReg0 {
                pmu_num_ctrs: 32,
                ..z
            },
            "PMU_NUM_CTRS",
        ),
        (
            FeatureReg0 {
                gicv3_num_lrs: 16,
                ..z
            },
            "GICV3_NUM_LRS",
        ),
        (
            FeatureReg0 {
                max_recs_order: 16,
                ..z
            },
            "MAX_RECS_ORDER",
        ),
    ];
    for (f, name) in cases {
        assert_eq!(f.encode(), Err(FieldOverflow(name)));
    }
}

fn any_reg() -> impl Strategy<Value = FeatureReg0> {
    (
        (
            any::<u8>(),
            any::<bool>(),
            any::<bool>(),
            0u8..16,
            0u8..64,
            0u8..64,
        ),
        (
            any::<bool>(),
            0u8..32,
            any::<bool>(),
            any::<bool>(),
            0u8..16,
            0u8..16,
        ),
    )
        .prop_map(|((s2sz, lpa2, sve_en, sve_vl, num_bps, num_wps), rest)| {
            let (pmu_en, pmu_num_ctrs, hash_sha_256, hash_sha_512, lrs, order) = rest;
            FeatureReg0 {
                s2sz,
                lpa2,
                sve_en,
                sve_vl,
                num_bps,
                num_wps,
                pmu_en,
                pmu_num_ctrs,
                hash_sha_256,
                hash_sha_512,
                gicv3_num_lrs: lrs,
                max_recs_order: order,
            }
        })
}

proptest! {
    #[test]
    fn encode_decode_round_trip(f in any_reg()) {
        let v = f.encode().unwrap();
        prop_assert_eq!(v >> 42, 0);
        prop_assert_eq!(FeatureReg0::decode(v), Ok(f));
    }

    #[test]
    fn decode_encode_round_trip(v in 0u64..(1 << 42)) {
        prop_assert_eq!(FeatureReg0::decode(v).unwrap().encode(), Ok(v));
    }
}
