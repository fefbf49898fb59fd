//! REC MPIDR values and REC indices (DEN0137 1.0, B4.4.18 `RmiRecMpidr`, A2.3.3 "REC
//! index and MPIDR value", B3.38 `RecIndex`).
//!
//! Layout (spec table B4.4.18, also TF-RMM `runtime/include/rec.h`
//! `rec_mpidr_to_idx`): Aff0 `[3:0]`, Aff1 `[15:8]`, Aff2 `[23:16]`, **Aff3 `[31:24]`**; bits
//! `[7:4]` (Aff0`[7:4]`, RES0 for GICv3 compatibility) and `[63:32]` are SBZ. This is *not*
//! the architectural `MPIDR_EL1` layout, which has Aff3 at `[39:32]` (and U, MT, RES1 in
//! `[31:24]`); convert with [`RmiRecMpidr::to_mpidr_el1`] / [`RmiRecMpidr::from_mpidr_el1`]
//! when programming `VMPIDR_EL2` or decoding a PSCI `target_cpu`.
//!
//! REC index = Aff0`[3:0]` | Aff1 << 4 | Aff2 << 12 | Aff3 << 20 (28 bits).

use crate::bits::{field_get, field_mask, field_set};
use tock_registers::register_bitfields;

register_bitfields! [u64,
    /// DEN0137 1.0, B4.4.18 `RmiRecMpidr` layout.
    #[allow(missing_docs)] // the generated `Register` marker and field values
    pub REC_MPIDR [
        /// `aff0` `[3:0]`.
        AFF0 OFFSET(0) NUMBITS(4) [],
        /// `aff1` `[15:8]`.
        AFF1 OFFSET(8) NUMBITS(8) [],
        /// `aff2` `[23:16]`.
        AFF2 OFFSET(16) NUMBITS(8) [],
        /// `aff3` `[31:24]`.
        AFF3 OFFSET(24) NUMBITS(8) []
    ]
];

/// Number of REC indices an [`RmiRecMpidr`] can express (2^28).
pub const REC_INDEX_LIMIT: u64 = 1 << 28;

/// Position of Aff3 in the architectural `MPIDR_EL1` / `VMPIDR_EL2` (bits `[39:32]`).
pub const MPIDR_EL1_AFF3_SHIFT: u32 = 32;

/// The bits of `MPIDR_EL1` that an [`RmiRecMpidr`] maps to: Aff0`[3:0]`, Aff1, Aff2 and
/// Aff3 at `[39:32]`.
pub const MPIDR_EL1_REC_AFFINITY_MASK: u64 =
    (RmiRecMpidr::DEFINED & 0x00FF_FFFF) | (0xFF << MPIDR_EL1_AFF3_SHIFT);

crate::abi_fieldset! {
    /// DEN0137 1.0, B4.4.18 `RmiRecMpidr`: `RmiRecParams.mpidr`. A decoded value has
    /// Aff0 < 16 and no reserved bit set.
    pub struct RmiRecMpidr: REC_MPIDR {}
    other_fields: [AFF0, AFF1, AFF2, AFF3]
}

impl RmiRecMpidr {
    /// The MPIDR of REC index `index`, or `None` if `index` >= [`REC_INDEX_LIMIT`].
    pub const fn from_index(index: u64) -> Option<Self> {
        if index >= REC_INDEX_LIMIT {
            return None;
        }
        let v = field_set(REC_MPIDR::AFF0, 0, index);
        let v = field_set(REC_MPIDR::AFF1, v, index >> 4);
        let v = field_set(REC_MPIDR::AFF2, v, index >> 12);
        Some(Self(field_set(REC_MPIDR::AFF3, v, index >> 20)))
    }

    /// The REC index (DEN0137 1.0, B3.38 `RecIndex`).
    pub const fn index(self) -> u64 {
        self.aff0() as u64
            | (self.aff1() as u64) << 4
            | (self.aff2() as u64) << 12
            | (self.aff3() as u64) << 20
    }

    /// Affinity level 0 (4 bits).
    pub const fn aff0(self) -> u8 {
        field_get(REC_MPIDR::AFF0, self.0) as u8
    }

    /// Affinity level 1.
    pub const fn aff1(self) -> u8 {
        field_get(REC_MPIDR::AFF1, self.0) as u8
    }

    /// Affinity level 2.
    pub const fn aff2(self) -> u8 {
        field_get(REC_MPIDR::AFF2, self.0) as u8
    }

    /// Affinity level 3 (bits `[31:24]` of the RMI value).
    pub const fn aff3(self) -> u8 {
        field_get(REC_MPIDR::AFF3, self.0) as u8
    }

    /// The same affinity in the architectural `MPIDR_EL1` layout (Aff3 moved to
    /// `[39:32]`; U, MT and the RES1 bit 31 are left zero).
    pub const fn to_mpidr_el1(self) -> u64 {
        (self.0 & !field_mask(REC_MPIDR::AFF3)) | (self.aff3() as u64) << MPIDR_EL1_AFF3_SHIFT
    }

    /// Converts an affinity value in the `MPIDR_EL1` layout (e.g. PSCI `target_cpu`).
    /// Any bit outside [`MPIDR_EL1_REC_AFFINITY_MASK`] (including Aff0`[7:4]`) makes the
    /// value the error.
    pub const fn from_mpidr_el1(mpidr: u64) -> Result<Self, u64> {
        if mpidr & !MPIDR_EL1_REC_AFFINITY_MASK != 0 {
            return Err(mpidr);
        }
        let aff3 = (mpidr >> MPIDR_EL1_AFF3_SHIFT) & 0xFF;
        Ok(Self(field_set(REC_MPIDR::AFF3, mpidr & 0x00FF_FFFF, aff3)))
    }
}
