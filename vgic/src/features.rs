//! GIC virtualization features, decoded once at boot.

use crate::error::FeaturesError;
use crate::regs::{IccCtlr, Vtr, ICC_CTLR_EL1, ICH_VTR_EL2};
use crate::{MAX_APRS, MAX_LRS};

/// Largest SPI INTID; 1020..=1023 are the special INTIDs.
/// GICv3 architecture, "INTIDs".
pub const MAX_SPI: u32 = 1019;
/// First extended PPI INTID (GICv3.1, with ExtRange).
pub const MIN_EPPI: u32 = 1056;
/// Last extended PPI INTID.
pub const MAX_EPPI: u32 = 1119;
/// First extended SPI INTID (GICv3.1, with ExtRange).
pub const MIN_ESPI: u32 = 4096;
/// Last extended SPI INTID.
pub const MAX_ESPI: u32 = 5119;
/// First LPI INTID.
pub const MIN_LPI: u32 = 8192;

/// The properties of the GICv3 virtual CPU interface the RMM depends on.
///
/// GICv3 architecture, ICH_VTR_EL2 (ListRegs, IDbits, PREbits, PRIbits) and
/// ICC_CTLR_EL1.ExtRange. Only constructible through validated decoding, so
/// every value satisfies: `1 <= num_lrs <= 16`, `5 <= pre_bits <= 7`,
/// `pre_bits <= pri_bits <= 8`, `id_bits` is 16 or 24.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GicFeatures {
    num_lrs: u8,
    pri_bits: u8,
    pre_bits: u8,
    id_bits: u8,
    ext_range: bool,
}

impl GicFeatures {
    /// Decodes ICH_VTR_EL2 and ICC_CTLR_EL1 (GICv3 architecture) and rejects
    /// values no conforming implementation reports, instead of asserting.
    ///
    /// Bits of either register other than the fields named above are ignored.
    pub fn from_regs(ich_vtr_el2: u64, icc_ctlr_el1: u64) -> Result<Self, FeaturesError> {
        let vtr = Vtr::new(ich_vtr_el2);
        // Every field is at most 5 bits wide, so the narrowing casts are exact.
        let num_lrs = vtr.read(ICH_VTR_EL2::ListRegs) as u8 + 1;
        let pre_bits = vtr.read(ICH_VTR_EL2::PREbits) as u8 + 1;
        let pri_bits = vtr.read(ICH_VTR_EL2::PRIbits) as u8 + 1;
        let id_bits = match vtr.read(ICH_VTR_EL2::IDbits) {
            0 => 16,
            1 => 24,
            other => return Err(FeaturesError::IdBits { value: other as u8 }),
        };
        let ext_range = IccCtlr::new(icc_ctlr_el1).is_set(ICC_CTLR_EL1::ExtRange);
        Self::new(num_lrs, pri_bits, pre_bits, id_bits, ext_range)
    }

    /// Builds a feature set from counts (as a model or a test would state
    /// them), with the same consistency checks as [`GicFeatures::from_regs`].
    pub fn new(
        num_lrs: u8,
        pri_bits: u8,
        pre_bits: u8,
        id_bits: u8,
        ext_range: bool,
    ) -> Result<Self, FeaturesError> {
        if num_lrs == 0 || usize::from(num_lrs) > MAX_LRS {
            return Err(FeaturesError::ListRegs { num_lrs });
        }
        if !(5..=7).contains(&pre_bits) {
            return Err(FeaturesError::PreBits { pre_bits });
        }
        if pri_bits < pre_bits || pri_bits > 8 {
            return Err(FeaturesError::PriBits { pri_bits, pre_bits });
        }
        if id_bits != 16 && id_bits != 24 {
            return Err(FeaturesError::IdBits { value: id_bits });
        }
        Ok(Self {
            num_lrs,
            pri_bits,
            pre_bits,
            id_bits,
            ext_range,
        })
    }

    /// Number of implemented List registers (ICH_VTR_EL2.ListRegs + 1), 1..=16.
    pub const fn num_lrs(&self) -> usize {
        self.num_lrs as usize
    }

    /// ICH_VTR_EL2.ListRegs as read (implemented List registers minus one);
    /// per the reference implementation this raw value is what
    /// RMI_FEATURES register 0 reports in GICV3_NUM_LRS (DEN0137 1.0).
    pub const fn list_regs_field(&self) -> u8 {
        self.num_lrs - 1
    }

    /// Number of virtual priority bits (ICH_VTR_EL2.PRIbits + 1).
    pub const fn pri_bits(&self) -> u8 {
        self.pri_bits
    }

    /// Number of virtual preemption bits (ICH_VTR_EL2.PREbits + 1).
    pub const fn pre_bits(&self) -> u8 {
        self.pre_bits
    }

    /// Number of vINTID bits (16 or 24, from ICH_VTR_EL2.IDbits).
    pub const fn id_bits(&self) -> u8 {
        self.id_bits
    }

    /// ICC_CTLR_EL1.ExtRange: extended PPI/SPI INTIDs are supported.
    pub const fn ext_range(&self) -> bool {
        self.ext_range
    }

    /// Largest vINTID: 2^16 - 1 or 2^24 - 1 (GICv3 architecture, IDbits).
    pub const fn max_vintid(&self) -> u32 {
        (1u32 << self.id_bits) - 1
    }

    /// Number of implemented `ICH_AP0R<n>_EL2` / `ICH_AP1R<n>_EL2` registers each:
    /// 2^(pre_bits - 5), i.e. 1, 2 or 4 (GICv3 architecture, `ICH_AP0R<n>_EL2`).
    pub const fn num_aprs(&self) -> usize {
        1 << (self.pre_bits - 5)
    }

    /// Mask of the Priority bits that are RES0 because they are below the
    /// implemented priority width (GICv3 architecture, `ICH_LR<n>_EL2`.Priority).
    pub const fn priority_res0_mask(&self) -> u8 {
        // pri_bits is 5..=8, so the shift is 0..=3.
        ((1u16 << (8 - self.pri_bits)) - 1) as u8
    }

    /// Whether `vintid` may be placed in a List register: 0..=1019, LPIs
    /// 8192..=max_vintid and, only with ExtRange, 1056..=1119 and 4096..=5119.
    /// The special INTIDs 1020..=1023 are never valid.
    ///
    /// DEN0137 1.0, RMI_REC_ENTER, gicv3_lrs vINTID validity.
    pub const fn is_valid_vintid(&self, vintid: u32) -> bool {
        if vintid <= MAX_SPI || (vintid >= MIN_LPI && vintid <= self.max_vintid()) {
            return true;
        }
        self.ext_range
            && ((vintid >= MIN_EPPI && vintid <= MAX_EPPI)
                || (vintid >= MIN_ESPI && vintid <= MAX_ESPI))
    }

    /// Encodes these features as an ICH_VTR_EL2 value (only ListRegs, IDbits,
    /// PREbits and PRIbits set), the inverse of [`GicFeatures::from_regs`].
    pub fn ich_vtr_el2(&self) -> u64 {
        let id_field = if self.id_bits == 24 { 1 } else { 0 };
        let mut vtr = Vtr::new(0);
        vtr.modify(
            ICH_VTR_EL2::ListRegs.val(u64::from(self.num_lrs - 1))
                + ICH_VTR_EL2::IDbits.val(id_field)
                + ICH_VTR_EL2::PREbits.val(u64::from(self.pre_bits - 1))
                + ICH_VTR_EL2::PRIbits.val(u64::from(self.pri_bits - 1)),
        );
        vtr.get()
    }

    /// Encodes ExtRange as an ICC_CTLR_EL1 value (no other field set).
    pub fn icc_ctlr_el1(&self) -> u64 {
        let mut ctlr = IccCtlr::new(0);
        ctlr.modify(ICC_CTLR_EL1::ExtRange.val(u64::from(self.ext_range)));
        ctlr.get()
    }
}

// The APR count derived from at most 7 preemption bits fits the saved arrays.
const _: () = assert!(1 << (7 - 5) == MAX_APRS);
