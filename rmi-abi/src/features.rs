//! RMI feature register 0 (DEN0137 1.0, B4.4.6 `RmiFeatureRegister0`), returned in `x1`
//! by RMI_FEATURES with index 0. Bits `[63:42]` are reserved. Field positions checked
//! against the spec table and Linux `arch/arm64/include/asm/rmi_smc.h`
//! (`RMI_FEATURE_REGISTER_0_*`).

use crate::bits::{field_fits, field_get, field_mask, field_set};
use tock_registers::register_bitfields;

register_bitfields! [u64,
    /// DEN0137 1.0, B4.4.6 `RmiFeatureRegister0` layout.
    #[allow(missing_docs)] // the generated `Register` marker and field values
    pub FEATURE_REG0 [
        /// `[7:0]` maximum Realm IPA width (the width itself, not a T0SZ encoding).
        S2SZ OFFSET(0) NUMBITS(8) [],
        /// `[8]` LPA2 supported.
        LPA2 OFFSET(8) NUMBITS(1) [],
        /// `[9]` SVE supported.
        SVE_EN OFFSET(9) NUMBITS(1) [],
        /// `[13:10]` maximum SVE vector length, as in `ZCR_ELx.LEN` ((SVE_VL + 1) * 128 bits).
        SVE_VL OFFSET(10) NUMBITS(4) [],
        /// `[19:14]` number of breakpoints, minus one (0 is reserved).
        NUM_BPS OFFSET(14) NUMBITS(6) [],
        /// `[25:20]` number of watchpoints, minus one (0 is reserved).
        NUM_WPS OFFSET(20) NUMBITS(6) [],
        /// `[26]` PMU supported.
        PMU_EN OFFSET(26) NUMBITS(1) [],
        /// `[31:27]` number of PMU counters.
        PMU_NUM_CTRS OFFSET(27) NUMBITS(5) [],
        /// `[32]` SHA-256 supported.
        HASH_SHA_256 OFFSET(32) NUMBITS(1) [],
        /// `[33]` SHA-512 supported.
        HASH_SHA_512 OFFSET(33) NUMBITS(1) [],
        /// `[37:34]` number of GICv3 list registers, minus one.
        GICV3_NUM_LRS OFFSET(34) NUMBITS(4) [],
        /// `[41:38]` order of the maximum number of RECs: MAX_RECS = 2^order - 1.
        MAX_RECS_ORDER OFFSET(38) NUMBITS(4) []
    ]
];

/// Index of feature register 0 in RMI_FEATURES (DEN0137 1.0, B4.3.4). The 1.0 RMM
/// returns zero for every other index.
pub const RMI_FEATURE_REGISTER_0_INDEX: u64 = 0;

/// Feature register 0 with its fields unpacked. Field values are raw register fields
/// (e.g. `num_bps` is "number of breakpoints minus one").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FeatureReg0 {
    /// S2SZ: maximum IPA width in bits.
    pub s2sz: u8,
    /// LPA2: LPA2 supported.
    pub lpa2: bool,
    /// SVE_EN: SVE supported.
    pub sve_en: bool,
    /// SVE_VL: maximum SVE vector length, 4 bits.
    pub sve_vl: u8,
    /// NUM_BPS: breakpoints minus one, 6 bits.
    pub num_bps: u8,
    /// NUM_WPS: watchpoints minus one, 6 bits.
    pub num_wps: u8,
    /// PMU_EN: PMU supported.
    pub pmu_en: bool,
    /// PMU_NUM_CTRS: number of PMU counters, 5 bits.
    pub pmu_num_ctrs: u8,
    /// HASH_SHA_256: SHA-256 supported.
    pub hash_sha_256: bool,
    /// HASH_SHA_512: SHA-512 supported.
    pub hash_sha_512: bool,
    /// GICV3_NUM_LRS: list registers minus one, 4 bits.
    pub gicv3_num_lrs: u8,
    /// MAX_RECS_ORDER: order of the maximum REC count, 4 bits.
    pub max_recs_order: u8,
}

/// A [`FeatureReg0`] field value that does not fit its register field; carries the
/// field's name as in the spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FieldOverflow(pub &'static str);

impl FeatureReg0 {
    /// Bits of feature register 0 that 1.0 defines; bits `[63:42]` are reserved.
    pub const DEFINED: u64 = field_mask(FEATURE_REG0::S2SZ)
        | field_mask(FEATURE_REG0::LPA2)
        | field_mask(FEATURE_REG0::SVE_EN)
        | field_mask(FEATURE_REG0::SVE_VL)
        | field_mask(FEATURE_REG0::NUM_BPS)
        | field_mask(FEATURE_REG0::NUM_WPS)
        | field_mask(FEATURE_REG0::PMU_EN)
        | field_mask(FEATURE_REG0::PMU_NUM_CTRS)
        | field_mask(FEATURE_REG0::HASH_SHA_256)
        | field_mask(FEATURE_REG0::HASH_SHA_512)
        | field_mask(FEATURE_REG0::GICV3_NUM_LRS)
        | field_mask(FEATURE_REG0::MAX_RECS_ORDER);

    /// Packs the fields into the register value. A field value wider than its register
    /// field is an error naming that field (nothing is truncated).
    pub const fn encode(&self) -> Result<u64, FieldOverflow> {
        use FEATURE_REG0::*;
        let narrow = [
            (SVE_VL, self.sve_vl, "SVE_VL"),
            (NUM_BPS, self.num_bps, "NUM_BPS"),
            (NUM_WPS, self.num_wps, "NUM_WPS"),
            (PMU_NUM_CTRS, self.pmu_num_ctrs, "PMU_NUM_CTRS"),
            (GICV3_NUM_LRS, self.gicv3_num_lrs, "GICV3_NUM_LRS"),
            (MAX_RECS_ORDER, self.max_recs_order, "MAX_RECS_ORDER"),
        ];
        let mut v = field_set(S2SZ, 0, self.s2sz as u64);
        let mut i = 0;
        while i < narrow.len() {
            let (field, value, name) = narrow[i];
            if !field_fits(field, value as u64) {
                return Err(FieldOverflow(name));
            }
            v = field_set(field, v, value as u64);
            i += 1;
        }
        v = field_set(LPA2, v, self.lpa2 as u64);
        v = field_set(SVE_EN, v, self.sve_en as u64);
        v = field_set(PMU_EN, v, self.pmu_en as u64);
        v = field_set(HASH_SHA_256, v, self.hash_sha_256 as u64);
        v = field_set(HASH_SHA_512, v, self.hash_sha_512 as u64);
        Ok(v)
    }

    /// Unpacks a register value. A value with any of bits `[63:42]` set is returned as
    /// the error. (The spec's reserved field value 0 of NUM_BPS/NUM_WPS is not checked.)
    pub const fn decode(v: u64) -> Result<Self, u64> {
        use FEATURE_REG0::*;
        if v & !Self::DEFINED != 0 {
            return Err(v);
        }
        Ok(Self {
            s2sz: field_get(S2SZ, v) as u8,
            lpa2: field_get(LPA2, v) != 0,
            sve_en: field_get(SVE_EN, v) != 0,
            sve_vl: field_get(SVE_VL, v) as u8,
            num_bps: field_get(NUM_BPS, v) as u8,
            num_wps: field_get(NUM_WPS, v) as u8,
            pmu_en: field_get(PMU_EN, v) != 0,
            pmu_num_ctrs: field_get(PMU_NUM_CTRS, v) as u8,
            hash_sha_256: field_get(HASH_SHA_256, v) != 0,
            hash_sha_512: field_get(HASH_SHA_512, v) != 0,
            gicv3_num_lrs: field_get(GICV3_NUM_LRS, v) as u8,
            max_recs_order: field_get(MAX_RECS_ORDER, v) as u8,
        })
    }
}
