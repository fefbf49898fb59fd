//! [`GicCpuIf`] over the real ICH_*_EL2 system registers (aarch64 only).
//!
//! The `mrs`/`msr` accessors come from `aarch64-cpu`, which defines every
//! register needed here (ICH_LR0..15_EL2, ICH_AP0R0..3_EL2, ICH_AP1R0..3_EL2,
//! ICH_HCR/VMCR/MISR_EL2, ICC_SRE_EL2) as safe functions, so this crate
//! contains no `unsafe` code. The register number is part of the instruction
//! encoding, hence one `match` arm per register.
//!
//! Every ICH_*_EL2 access is UNDEFINED while ICC_SRE_EL2.SRE is 0. The RMM sets
//! ICC_SRE_EL2 on every CPU when it boots ([`write_icc_sre_el2`], called for a
//! write of `SysReg::ICC_SRE_EL2` through the platform's `Arch`), then reads
//! ICH_VTR_EL2 and ICC_CTLR_EL1 itself and decodes them with
//! [`GicFeatures::from_regs`]; a CPU whose interface is missing or does not match
//! the boot CPU's fails its boot. [`HwGicCpuIf::with_features`] then gives the
//! interface for each REC entry and exit without reading anything.
//!
//! Synchronisation: writes take effect for the realm at the exception return
//! that enters it, which is context-synchronising; no barrier is issued here
//! except after the ICC_SRE_EL2 write.

use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{
    ICC_SRE_EL2, ICH_AP0R0_EL2, ICH_AP0R1_EL2, ICH_AP0R2_EL2, ICH_AP0R3_EL2, ICH_AP1R0_EL2,
    ICH_AP1R1_EL2, ICH_AP1R2_EL2, ICH_AP1R3_EL2, ICH_HCR_EL2, ICH_LR0_EL2, ICH_LR10_EL2,
    ICH_LR11_EL2, ICH_LR12_EL2, ICH_LR13_EL2, ICH_LR14_EL2, ICH_LR15_EL2, ICH_LR1_EL2, ICH_LR2_EL2,
    ICH_LR3_EL2, ICH_LR4_EL2, ICH_LR5_EL2, ICH_LR6_EL2, ICH_LR7_EL2, ICH_LR8_EL2, ICH_LR9_EL2,
    ICH_MISR_EL2, ICH_VMCR_EL2,
};
use tock_registers::interfaces::{Readable, Writeable};

use crate::cpuif::GicCpuIf;
use crate::features::GicFeatures;

/// Writes ICC_SRE_EL2 of the current PE and synchronises the context (ISB), so
/// that the ICH_*_EL2 and ICC_* accesses that follow see its SRE bit (GICv3
/// architecture, ICC_SRE_EL2: a change of SRE takes effect after a
/// context-synchronisation event).
pub fn write_icc_sre_el2(value: u64) {
    ICC_SRE_EL2.set(value);
    barrier::isb(barrier::SY);
}

/// The current PE's GICv3 virtual-interface control registers.
///
/// GICv3 architecture, ICH_*_EL2. Requires ICC_SRE_EL2.SRE == 1 on this PE
/// (system-register access to the GIC at EL2), which the RMM sets when the PE
/// boots, before it probes the features this handle carries.
#[derive(Debug, Clone, Copy)]
pub struct HwGicCpuIf {
    features: GicFeatures,
}

impl HwGicCpuIf {
    /// The interface of the current PE with the features the RMM decoded when
    /// the PE booted. Reads nothing: cheap on every REC entry and exit.
    pub const fn with_features(features: GicFeatures) -> Self {
        Self { features }
    }
}

/// Reads `ICH_LR<n>_EL2`; 0 for n > 15.
fn read_lr(n: usize) -> u64 {
    match n {
        0 => ICH_LR0_EL2.get(),
        1 => ICH_LR1_EL2.get(),
        2 => ICH_LR2_EL2.get(),
        3 => ICH_LR3_EL2.get(),
        4 => ICH_LR4_EL2.get(),
        5 => ICH_LR5_EL2.get(),
        6 => ICH_LR6_EL2.get(),
        7 => ICH_LR7_EL2.get(),
        8 => ICH_LR8_EL2.get(),
        9 => ICH_LR9_EL2.get(),
        10 => ICH_LR10_EL2.get(),
        11 => ICH_LR11_EL2.get(),
        12 => ICH_LR12_EL2.get(),
        13 => ICH_LR13_EL2.get(),
        14 => ICH_LR14_EL2.get(),
        15 => ICH_LR15_EL2.get(),
        _ => 0,
    }
}

/// Writes `ICH_LR<n>_EL2`; ignored for n > 15.
fn write_lr(n: usize, value: u64) {
    match n {
        0 => ICH_LR0_EL2.set(value),
        1 => ICH_LR1_EL2.set(value),
        2 => ICH_LR2_EL2.set(value),
        3 => ICH_LR3_EL2.set(value),
        4 => ICH_LR4_EL2.set(value),
        5 => ICH_LR5_EL2.set(value),
        6 => ICH_LR6_EL2.set(value),
        7 => ICH_LR7_EL2.set(value),
        8 => ICH_LR8_EL2.set(value),
        9 => ICH_LR9_EL2.set(value),
        10 => ICH_LR10_EL2.set(value),
        11 => ICH_LR11_EL2.set(value),
        12 => ICH_LR12_EL2.set(value),
        13 => ICH_LR13_EL2.set(value),
        14 => ICH_LR14_EL2.set(value),
        15 => ICH_LR15_EL2.set(value),
        _ => {}
    }
}

impl GicCpuIf for HwGicCpuIf {
    fn features(&self) -> GicFeatures {
        self.features
    }

    fn read_lr(&mut self, n: usize) -> u64 {
        if n < self.features.num_lrs() {
            read_lr(n)
        } else {
            0
        }
    }

    fn write_lr(&mut self, n: usize, value: u64) {
        if n < self.features.num_lrs() {
            write_lr(n, value);
        }
    }

    fn read_ap0r(&mut self, n: usize) -> u64 {
        if n >= self.features.num_aprs() {
            return 0;
        }
        match n {
            0 => ICH_AP0R0_EL2.get(),
            1 => ICH_AP0R1_EL2.get(),
            2 => ICH_AP0R2_EL2.get(),
            3 => ICH_AP0R3_EL2.get(),
            _ => 0,
        }
    }

    fn write_ap0r(&mut self, n: usize, value: u64) {
        if n >= self.features.num_aprs() {
            return;
        }
        match n {
            0 => ICH_AP0R0_EL2.set(value),
            1 => ICH_AP0R1_EL2.set(value),
            2 => ICH_AP0R2_EL2.set(value),
            3 => ICH_AP0R3_EL2.set(value),
            _ => {}
        }
    }

    fn read_ap1r(&mut self, n: usize) -> u64 {
        if n >= self.features.num_aprs() {
            return 0;
        }
        match n {
            0 => ICH_AP1R0_EL2.get(),
            1 => ICH_AP1R1_EL2.get(),
            2 => ICH_AP1R2_EL2.get(),
            3 => ICH_AP1R3_EL2.get(),
            _ => 0,
        }
    }

    fn write_ap1r(&mut self, n: usize, value: u64) {
        if n >= self.features.num_aprs() {
            return;
        }
        match n {
            0 => ICH_AP1R0_EL2.set(value),
            1 => ICH_AP1R1_EL2.set(value),
            2 => ICH_AP1R2_EL2.set(value),
            3 => ICH_AP1R3_EL2.set(value),
            _ => {}
        }
    }

    fn read_vmcr(&mut self) -> u64 {
        ICH_VMCR_EL2.get()
    }

    fn write_vmcr(&mut self, value: u64) {
        ICH_VMCR_EL2.set(value);
    }

    fn read_hcr(&mut self) -> u64 {
        ICH_HCR_EL2.get()
    }

    fn write_hcr(&mut self, value: u64) {
        ICH_HCR_EL2.set(value);
    }

    fn read_misr(&mut self) -> u64 {
        ICH_MISR_EL2.get()
    }
}
