//! A model of the GICv3 virtual CPU interface for hosted tests.
//!
//! [`SimGicCpuIf`] holds the ICH_*_EL2 register file of one PE and implements
//! [`GicCpuIf`], so the RMM's real save/restore code runs against it. It also
//! offers the realm's side of the interface (the ICV_* system registers:
//! acknowledge, EOI, deactivate, priority mask, group enables) so that tests can
//! drive interrupt injection end to end: the host fills List registers, the RMM
//! restores them, the realm acknowledges and EOIs, the RMM saves, the host reads
//! the exit report. Maintenance status (ICH_MISR_EL2, ICH_EISR_EL2,
//! ICH_ELRSR_EL2) is computed from the List registers, ICH_HCR_EL2 and
//! ICH_VMCR_EL2 on every read, as the architecture defines it.
//!
//! The model follows GICv3 architecture (Arm IHI 0069) chapters 6 and 12 for
//! system-register access. Simplifications and choices, each deliberate:
//! - Unimplemented Priority bits of a List register are RAZ/WI (dropped on
//!   write). Every other List register bit is stored as written.
//! - ICH_VMCR_EL2 and ICH_HCR_EL2 are stored as written; the realm-side
//!   setters apply the ICV_* write rules (PMR low bits RAZ/WI, BPR minimum).
//! - An EOI when no active priority is set is ignored (one of the CONSTRAINED
//!   UNPREDICTABLE choices); so a realm EOI only works if the RMM restored the
//!   active-priority registers it saved, which makes their save/restore
//!   observable.
//! - EOIs and deactivations of special INTIDs (1020..=1023) are ignored. A
//!   deactivation (ICV_DIR_EL1) with EOImode == 0 is ignored.
//! - EOIcount wraps modulo 32. vSGIEOICount (GICv4.1) is honoured: with it set,
//!   an unmatched EOI or deactivation of a vINTID below 16 does not count.
//! - Traps: only ICV_DIR_EL1 trapping (TDIR, TC) is modelled. TALL0, TALL1,
//!   TSEI, NMIs, HW == 1 physical deactivation and GICv4 direct injection are
//!   not modelled.
//! - Accesses to unimplemented List or active-priority registers (UNDEFINED
//!   in the architecture) read 0 / are ignored and are recorded as a
//!   [`SimFault`] for the test to check; the model never panics.
//! - Writes to List, active-priority or VMCR registers while ICH_HCR_EL2.En is
//!   1 are counted ([`SimGicCpuIf::writes_while_enabled`]): the RMM should only
//!   load state into a disabled interface and enable it last.

mod realm;

pub use realm::{DirOutcome, Group};

use crate::cpuif::GicCpuIf;
use crate::error::VgicError;
use crate::features::GicFeatures;
use crate::regs::{
    Hcr, ListRegister, Misr, Vmcr, ICH_HCR_EL2, ICH_LR_EL2, ICH_MISR_EL2, ICH_VMCR_EL2,
};
use crate::{MAX_APRS, MAX_LRS};

/// What the simulated CPU interface implements.
///
/// GICv3 architecture, ICH_VTR_EL2 (ListRegs, PRIbits, PREbits, IDbits) and
/// ICC_CTLR_EL1.ExtRange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimConfig {
    /// Number of List registers, 1..=16.
    pub num_lrs: u8,
    /// Virtual priority bits, `pre_bits..=8`.
    pub pri_bits: u8,
    /// Virtual preemption bits, 5..=7.
    pub pre_bits: u8,
    /// vINTID bits, 16 or 24.
    pub id_bits: u8,
    /// Extended INTID ranges supported.
    pub ext_range: bool,
}

impl SimConfig {
    /// `num_lrs` List registers, 5 priority and preemption bits, 16-bit
    /// vINTIDs, no ExtRange (a minimal conforming GICv3 CPU interface).
    pub const fn new(num_lrs: u8) -> Self {
        Self {
            num_lrs,
            pri_bits: 5,
            pre_bits: 5,
            id_bits: 16,
            ext_range: false,
        }
    }
}

/// An access the architecture makes UNDEFINED, recorded by the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimFault {
    /// `ICH_LR<n>_EL2` with `n` >= the number of implemented List registers.
    UndefinedLr {
        /// The register index used.
        n: usize,
    },
    /// `ICH_AP0R<n>_EL2` / `ICH_AP1R<n>_EL2` with `n` >= the number implemented.
    UndefinedApr {
        /// The register index used.
        n: usize,
    },
}

/// Model of one PE's GICv3 virtual CPU interface. See the module documentation
/// for what is modelled.
#[derive(Debug, Clone)]
pub struct SimGicCpuIf {
    features: GicFeatures,
    lrs: [u64; MAX_LRS],
    ap0r: [u64; MAX_APRS],
    ap1r: [u64; MAX_APRS],
    vmcr: u64,
    hcr: u64,
    fault: Option<SimFault>,
    faults: u32,
    writes_while_enabled: u32,
}

impl SimGicCpuIf {
    /// A CPU interface as configured, all registers zero (interface disabled).
    /// The configuration is encoded into ICH_VTR_EL2 / ICC_CTLR_EL1 values and
    /// decoded again, as the RMM does at boot; inconsistent configurations are
    /// rejected with [`VgicError::BadFeatures`].
    pub fn new(config: SimConfig) -> Result<Self, VgicError> {
        let stated = GicFeatures::new(
            config.num_lrs,
            config.pri_bits,
            config.pre_bits,
            config.id_bits,
            config.ext_range,
        )?;
        let features = GicFeatures::from_regs(stated.ich_vtr_el2(), stated.icc_ctlr_el1())?;
        Ok(Self::with_features(features))
    }

    /// A CPU interface with the given features, all registers zero.
    pub const fn with_features(features: GicFeatures) -> Self {
        Self {
            features,
            lrs: [0; MAX_LRS],
            ap0r: [0; MAX_APRS],
            ap1r: [0; MAX_APRS],
            vmcr: 0,
            hcr: 0,
            fault: None,
            faults: 0,
            writes_while_enabled: 0,
        }
    }

    /// ICH_VTR_EL2 as this interface reports it.
    pub fn ich_vtr_el2(&self) -> u64 {
        self.features.ich_vtr_el2()
    }

    /// ICC_CTLR_EL1 as this interface reports it (ExtRange only).
    pub fn icc_ctlr_el1(&self) -> u64 {
        self.features.icc_ctlr_el1()
    }

    /// Current `ICH_LR<n>_EL2` (0 for unimplemented registers; inspection only,
    /// never a fault).
    pub fn lr(&self, n: usize) -> u64 {
        if n < self.features.num_lrs() {
            self.lrs.get(n).copied().unwrap_or(0)
        } else {
            0
        }
    }

    /// Current `ICH_AP0R<n>_EL2` (inspection only).
    pub fn ap0r(&self, n: usize) -> u64 {
        self.ap0r.get(n).copied().unwrap_or(0)
    }

    /// Current `ICH_AP1R<n>_EL2` (inspection only).
    pub fn ap1r(&self, n: usize) -> u64 {
        self.ap1r.get(n).copied().unwrap_or(0)
    }

    /// Current ICH_HCR_EL2.
    pub const fn hcr(&self) -> u64 {
        self.hcr
    }

    /// Current ICH_VMCR_EL2.
    pub const fn vmcr(&self) -> u64 {
        self.vmcr
    }

    /// First UNDEFINED access made through [`GicCpuIf`], if any.
    pub const fn fault(&self) -> Option<SimFault> {
        self.fault
    }

    /// Number of UNDEFINED accesses made through [`GicCpuIf`].
    pub const fn faults(&self) -> u32 {
        self.faults
    }

    /// Number of List register, active-priority or VMCR writes made while
    /// ICH_HCR_EL2.En was 1.
    pub const fn writes_while_enabled(&self) -> u32 {
        self.writes_while_enabled
    }

    /// The implemented List registers with their indexes.
    fn implemented_lrs(&self) -> impl Iterator<Item = (usize, ListRegister)> + '_ {
        self.lrs
            .iter()
            .take(self.features.num_lrs())
            .map(|&v| ListRegister::new(v))
            .enumerate()
    }

    /// GICv3 architecture, ICH_EISR_EL2: bit n set when LR n is invalid, has
    /// HW == 0 and EOI == 1 (an EOI maintenance interrupt is due).
    pub fn eisr(&self) -> u64 {
        self.implemented_lrs()
            .filter(|(_, lr)| {
                lr.matches_all(ICH_LR_EL2::State::Invalid)
                    && !lr.is_set(ICH_LR_EL2::HW)
                    && lr.is_set(ICH_LR_EL2::EOI)
            })
            .fold(0, |acc, (n, _)| acc | (1 << n))
    }

    /// GICv3 architecture, ICH_ELRSR_EL2: bit n set when LR n is invalid and
    /// either HW == 1 or EOI == 0 (free for reuse).
    pub fn elrsr(&self) -> u64 {
        self.implemented_lrs()
            .filter(|(_, lr)| {
                lr.matches_all(ICH_LR_EL2::State::Invalid)
                    && (lr.is_set(ICH_LR_EL2::HW) || !lr.is_set(ICH_LR_EL2::EOI))
            })
            .fold(0, |acc, (n, _)| acc | (1 << n))
    }

    /// GICv3 architecture, ICH_MISR_EL2, computed from the current state:
    /// EOI (ICH_EISR_EL2 != 0), U (UIE and at most one valid LR), LRENP
    /// (LRENPIE and EOIcount != 0), NP (NPIE and no LR in the pending state),
    /// VGrp0E/VGrp0D/VGrp1E/VGrp1D (the HCR enable and the VMCR group enable).
    pub fn misr(&self) -> u64 {
        let hcr = Hcr::new(self.hcr);
        let vmcr = Vmcr::new(self.vmcr);
        let valid = self
            .implemented_lrs()
            .filter(|(_, lr)| !lr.matches_all(ICH_LR_EL2::State::Invalid))
            .count();
        let any_pending = self
            .implemented_lrs()
            .any(|(_, lr)| lr.matches_all(ICH_LR_EL2::State::Pending));
        let eng0 = vmcr.is_set(ICH_VMCR_EL2::VENG0);
        let eng1 = vmcr.is_set(ICH_VMCR_EL2::VENG1);

        let mut misr = Misr::new(0);
        let mut set = |cond: bool, field| {
            if cond {
                misr.modify(field);
            }
        };
        set(self.eisr() != 0, ICH_MISR_EL2::EOI::SET);
        set(
            hcr.is_set(ICH_HCR_EL2::UIE) && valid <= 1,
            ICH_MISR_EL2::U::SET,
        );
        set(
            hcr.is_set(ICH_HCR_EL2::LRENPIE) && hcr.read(ICH_HCR_EL2::EOIcount) != 0,
            ICH_MISR_EL2::LRENP::SET,
        );
        set(
            hcr.is_set(ICH_HCR_EL2::NPIE) && !any_pending,
            ICH_MISR_EL2::NP::SET,
        );
        set(
            hcr.is_set(ICH_HCR_EL2::VGrp0EIE) && eng0,
            ICH_MISR_EL2::VGrp0E::SET,
        );
        set(
            hcr.is_set(ICH_HCR_EL2::VGrp0DIE) && !eng0,
            ICH_MISR_EL2::VGrp0D::SET,
        );
        set(
            hcr.is_set(ICH_HCR_EL2::VGrp1EIE) && eng1,
            ICH_MISR_EL2::VGrp1E::SET,
        );
        set(
            hcr.is_set(ICH_HCR_EL2::VGrp1DIE) && !eng1,
            ICH_MISR_EL2::VGrp1D::SET,
        );
        misr.get()
    }

    /// Whether the maintenance interrupt is asserted: ICH_HCR_EL2.En == 1 and
    /// ICH_MISR_EL2 != 0 (GICv3 architecture, "Maintenance interrupts").
    pub fn maintenance_interrupt(&self) -> bool {
        Hcr::new(self.hcr).is_set(ICH_HCR_EL2::En) && self.misr() != 0
    }

    fn record(&mut self, fault: SimFault) {
        self.fault.get_or_insert(fault);
        self.faults = self.faults.saturating_add(1);
    }

    fn note_state_write(&mut self) {
        if Hcr::new(self.hcr).is_set(ICH_HCR_EL2::En) {
            self.writes_while_enabled = self.writes_while_enabled.saturating_add(1);
        }
    }

    /// Unimplemented Priority bits, in List register position.
    fn lr_priority_res0(&self) -> u64 {
        u64::from(self.features.priority_res0_mask()) << ICH_LR_EL2::Priority.shift
    }

    fn apr_slot(&mut self, n: usize, group1: bool) -> Option<&mut u64> {
        if n >= self.features.num_aprs() {
            self.record(SimFault::UndefinedApr { n });
            return None;
        }
        let bank = if group1 {
            &mut self.ap1r
        } else {
            &mut self.ap0r
        };
        bank.get_mut(n)
    }
}

impl GicCpuIf for SimGicCpuIf {
    fn features(&self) -> GicFeatures {
        self.features
    }

    fn read_lr(&mut self, n: usize) -> u64 {
        if n >= self.features.num_lrs() {
            self.record(SimFault::UndefinedLr { n });
            return 0;
        }
        self.lrs.get(n).copied().unwrap_or(0)
    }

    fn write_lr(&mut self, n: usize, value: u64) {
        if n >= self.features.num_lrs() {
            self.record(SimFault::UndefinedLr { n });
            return;
        }
        self.note_state_write();
        let value = value & !self.lr_priority_res0();
        if let Some(slot) = self.lrs.get_mut(n) {
            *slot = value;
        }
    }

    fn read_ap0r(&mut self, n: usize) -> u64 {
        self.apr_slot(n, false).map_or(0, |v| *v)
    }

    fn write_ap0r(&mut self, n: usize, value: u64) {
        if n < self.features.num_aprs() {
            self.note_state_write();
        }
        if let Some(slot) = self.apr_slot(n, false) {
            // Bits [63:32] are RES0.
            *slot = value & 0xffff_ffff;
        }
    }

    fn read_ap1r(&mut self, n: usize) -> u64 {
        self.apr_slot(n, true).map_or(0, |v| *v)
    }

    fn write_ap1r(&mut self, n: usize, value: u64) {
        if n < self.features.num_aprs() {
            self.note_state_write();
        }
        if let Some(slot) = self.apr_slot(n, true) {
            *slot = value & 0xffff_ffff;
        }
    }

    fn read_vmcr(&mut self) -> u64 {
        self.vmcr
    }

    fn write_vmcr(&mut self, value: u64) {
        self.note_state_write();
        self.vmcr = value;
    }

    fn read_hcr(&mut self) -> u64 {
        self.hcr
    }

    fn write_hcr(&mut self, value: u64) {
        self.hcr = value;
    }

    fn read_misr(&mut self) -> u64 {
        self.misr()
    }
}
