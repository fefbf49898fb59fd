//! Errors: one variant per rule the RMM enforces.

use core::fmt;

/// Why an ICH_VTR_EL2 / ICC_CTLR_EL1 pair (or a simulator configuration) does
/// not describe a GICv3 virtual CPU interface the RMM can drive.
///
/// GICv3 architecture, ICH_VTR_EL2 field constraints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeaturesError {
    /// More than 16 List registers (ListRegs > 15), or none requested from the
    /// simulator. The architecture defines at most ICH_LR0..15_EL2.
    ListRegs {
        /// Number of List registers described.
        num_lrs: u8,
    },
    /// Fewer than 5 or more than 7 preemption bits: the architecture requires at
    /// least 32 preemption levels, and at most 4 active-priority registers
    /// (7 bits) exist.
    PreBits {
        /// Number of preemption bits described (PREbits + 1).
        pre_bits: u8,
    },
    /// Fewer priority bits than preemption bits, or more than 8.
    PriBits {
        /// Number of priority bits described (PRIbits + 1).
        pri_bits: u8,
        /// Number of preemption bits described (PREbits + 1).
        pre_bits: u8,
    },
    /// IDbits is a reserved encoding (only 0b000 = 16 bits and 0b001 = 24 bits
    /// are defined), or the simulator was asked for another width.
    IdBits {
        /// The IDbits field value (or requested width for the simulator).
        value: u8,
    },
}

/// A rule of the RMM's GIC handling was broken. The RMM reports every variant
/// produced by [`crate::validate`] as RMI_ERROR_REC (DEN0137 1.0, RMI_REC_ENTER).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VgicError {
    /// DEN0137 1.0, RMI_REC_ENTER, gicv3_hcr: bits outside the host-writable
    /// mask ([`crate::regs::HCR_HOST_MASK`]) are set.
    HcrReservedBits {
        /// The offending bits (`hcr & !HCR_HOST_MASK`).
        bits: u64,
    },
    /// DEN0137 1.0, RMI_REC_ENTER, gicv3_lrs: a non-invalid List register has
    /// HW == 1.
    HwBitSet {
        /// List register index.
        lr: usize,
    },
    /// DEN0137 1.0, RMI_REC_ENTER, gicv3_lrs: a non-invalid List register sets
    /// priority bits below the implemented priority width (RES0 bits).
    PriorityLowBits {
        /// List register index.
        lr: usize,
        /// The Priority field as supplied.
        priority: u8,
    },
    /// DEN0137 1.0, RMI_REC_ENTER, gicv3_lrs: a non-invalid List register sets
    /// a pINTID bit other than EOI (bit 41).
    PintidBits {
        /// List register index.
        lr: usize,
    },
    /// DEN0137 1.0, RMI_REC_ENTER, gicv3_lrs: a non-invalid List register
    /// names a vINTID outside the SGI/PPI/SPI, extended (with ExtRange) and LPI
    /// ranges the CPU interface implements.
    InvalidVintid {
        /// List register index.
        lr: usize,
        /// The vINTID field as supplied.
        vintid: u32,
    },
    /// DEN0137 1.0, RMI_REC_ENTER, gicv3_lrs: two non-invalid List registers
    /// name the same vINTID (UNPREDICTABLE per the GICv3 architecture).
    DuplicateVintid {
        /// Lower List register index.
        first: usize,
        /// Higher List register index.
        second: usize,
        /// The shared vINTID.
        vintid: u32,
    },
    /// GICv3 architecture, ICH_VTR_EL2: the features read at boot are not
    /// usable (see [`FeaturesError`]).
    BadFeatures(FeaturesError),
}

impl From<FeaturesError> for VgicError {
    fn from(e: FeaturesError) -> Self {
        VgicError::BadFeatures(e)
    }
}

impl fmt::Display for FeaturesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FeaturesError::ListRegs { num_lrs } => {
                write!(f, "{num_lrs} list registers (1..=16 supported)")
            }
            FeaturesError::PreBits { pre_bits } => {
                write!(f, "{pre_bits} preemption bits (5..=7 required)")
            }
            FeaturesError::PriBits { pri_bits, pre_bits } => write!(
                f,
                "{pri_bits} priority bits with {pre_bits} preemption bits \
                 (pre_bits..=8 required)"
            ),
            FeaturesError::IdBits { value } => write!(f, "reserved IDbits value {value}"),
        }
    }
}

impl fmt::Display for VgicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            VgicError::HcrReservedBits { bits } => {
                write!(f, "gicv3_hcr sets bits {bits:#x} outside the host mask")
            }
            VgicError::HwBitSet { lr } => write!(f, "LR{lr}: HW bit set"),
            VgicError::PriorityLowBits { lr, priority } => {
                write!(f, "LR{lr}: priority {priority:#x} sets unimplemented bits")
            }
            VgicError::PintidBits { lr } => write!(f, "LR{lr}: pINTID bits other than EOI set"),
            VgicError::InvalidVintid { lr, vintid } => {
                write!(f, "LR{lr}: vINTID {vintid} not valid")
            }
            VgicError::DuplicateVintid {
                first,
                second,
                vintid,
            } => write!(f, "LR{first} and LR{second} both hold vINTID {vintid}"),
            VgicError::BadFeatures(e) => write!(f, "unusable GIC features: {e}"),
        }
    }
}

impl core::error::Error for FeaturesError {}
impl core::error::Error for VgicError {}
