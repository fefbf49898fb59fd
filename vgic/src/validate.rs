//! Validation of the GIC state the host supplies on REC entry.

use crate::error::VgicError;
use crate::features::GicFeatures;
use crate::regs::{ListRegister, HCR_HOST_MASK, ICH_LR_EL2, LR_PINTID_RES0_HW0};
use crate::MAX_LRS;

/// Host-supplied GIC state that passed every check of [`validate`].
///
/// DEN0137 1.0, RMI_REC_ENTER, gicv3_hcr / gicv3_lrs. The fields are private
/// and [`validate`] is the only constructor, so [`crate::VgicState::load`]
/// cannot be handed unchecked values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedState {
    hcr: u64,
    lrs: [u64; MAX_LRS],
    num_lrs: u8,
}

impl ValidatedState {
    /// The host's gicv3_hcr (only bits of [`HCR_HOST_MASK`] can be set).
    pub const fn hcr(&self) -> u64 {
        self.hcr
    }

    /// The host's List register values for LRs `0..num_lrs`; entries at and
    /// above `num_lrs` are zero whatever the host supplied there.
    pub const fn lrs(&self) -> &[u64; MAX_LRS] {
        &self.lrs
    }

    /// Number of implemented List registers these values were checked for.
    pub const fn num_lrs(&self) -> usize {
        self.num_lrs as usize
    }
}

/// Checks the host's gicv3_hcr and gicv3_lrs for REC entry.
///
/// DEN0137 1.0, RMI_REC_ENTER, GIC state validation (reference behaviour
/// in `rmm-1.0-facts.md` section 6):
/// 1. `hcr` has no bit outside [`HCR_HOST_MASK`] ([`VgicError::HcrReservedBits`]).
/// 2. Only LRs `0..features.num_lrs()` are examined; host values above are
///    neither checked nor kept.
/// 3. An LR with State == Invalid is not checked (but is kept as supplied).
/// 4. HW must be 0 ([`VgicError::HwBitSet`]).
/// 5. Priority bits below the implemented width must be 0
///    ([`VgicError::PriorityLowBits`]).
/// 6. pINTID bits other than EOI must be 0 ([`VgicError::PintidBits`]).
/// 7. vINTID must be valid for `features` ([`VgicError::InvalidVintid`]).
/// 8. No two non-invalid LRs share a vINTID ([`VgicError::DuplicateVintid`]).
///
/// LRs are checked in index order; the first failing LR is reported. Nothing
/// here can panic, whatever the input.
pub fn validate(
    features: &GicFeatures,
    hcr: u64,
    lrs: &[u64; MAX_LRS],
) -> Result<ValidatedState, VgicError> {
    let reserved = hcr & !HCR_HOST_MASK;
    if reserved != 0 {
        return Err(VgicError::HcrReservedBits { bits: reserved });
    }

    let num_lrs = features.num_lrs().min(MAX_LRS);
    let mut out = [0u64; MAX_LRS];
    for (i, (&raw, slot)) in lrs.iter().zip(out.iter_mut()).enumerate().take(num_lrs) {
        *slot = raw;
        let lr = ListRegister::new(raw);
        if lr.matches_all(ICH_LR_EL2::State::Invalid) {
            continue;
        }
        check_lr(features, i, lr)?;
        let vintid = vintid_of(lr);
        // Compare with the earlier LRs only: each pair is checked once.
        let earlier = lrs.iter().take(i).enumerate();
        for (j, &other) in earlier {
            let other = ListRegister::new(other);
            if !other.matches_all(ICH_LR_EL2::State::Invalid) && vintid_of(other) == vintid {
                return Err(VgicError::DuplicateVintid {
                    first: j,
                    second: i,
                    vintid,
                });
            }
        }
    }

    Ok(ValidatedState {
        hcr,
        lrs: out,
        // num_lrs <= MAX_LRS = 16.
        num_lrs: num_lrs as u8,
    })
}

/// Field checks of one non-invalid LR (rules 4 to 7 of [`validate`]).
fn check_lr(features: &GicFeatures, i: usize, lr: ListRegister) -> Result<(), VgicError> {
    if lr.is_set(ICH_LR_EL2::HW) {
        return Err(VgicError::HwBitSet { lr: i });
    }
    // Priority is an 8-bit field.
    let priority = lr.read(ICH_LR_EL2::Priority) as u8;
    if priority & features.priority_res0_mask() != 0 {
        return Err(VgicError::PriorityLowBits { lr: i, priority });
    }
    if lr.get() & LR_PINTID_RES0_HW0 != 0 {
        return Err(VgicError::PintidBits { lr: i });
    }
    let vintid = vintid_of(lr);
    if !features.is_valid_vintid(vintid) {
        return Err(VgicError::InvalidVintid { lr: i, vintid });
    }
    Ok(())
}

/// The vINTID field (32 bits wide, so the cast is exact).
fn vintid_of(lr: ListRegister) -> u32 {
    lr.read(ICH_LR_EL2::vINTID) as u32
}
