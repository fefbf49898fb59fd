//! Access to the GICv3 virtual-interface control registers of the current PE.

use crate::features::GicFeatures;

/// The ICH_*_EL2 registers the RMM saves and restores around a realm run.
///
/// GICv3 architecture, "Virtual interface control registers". Implemented by
/// `hw::HwGicCpuIf` over the system registers (aarch64 only) and by
/// [`crate::sim::SimGicCpuIf`], a model of the CPU interface used in hosted
/// tests.
///
/// Callers index List registers below `features().num_lrs()` and
/// active-priority registers below `features().num_aprs()`; accessing others
/// is UNDEFINED in the architecture. Implementations must not panic on an
/// out-of-range index: the hardware one ignores the access (reads 0), the
/// model records a fault.
pub trait GicCpuIf {
    /// The features of this CPU interface (ICH_VTR_EL2, ICC_CTLR_EL1.ExtRange).
    fn features(&self) -> GicFeatures;
    /// Reads `ICH_LR<n>_EL2`.
    fn read_lr(&mut self, n: usize) -> u64;
    /// Writes `ICH_LR<n>_EL2`.
    fn write_lr(&mut self, n: usize, value: u64);
    /// Reads `ICH_AP0R<n>_EL2` (Group 0 active priorities).
    fn read_ap0r(&mut self, n: usize) -> u64;
    /// Writes `ICH_AP0R<n>_EL2`.
    fn write_ap0r(&mut self, n: usize, value: u64);
    /// Reads `ICH_AP1R<n>_EL2` (Group 1 active priorities).
    fn read_ap1r(&mut self, n: usize) -> u64;
    /// Writes `ICH_AP1R<n>_EL2`.
    fn write_ap1r(&mut self, n: usize, value: u64);
    /// Reads ICH_VMCR_EL2.
    fn read_vmcr(&mut self) -> u64;
    /// Writes ICH_VMCR_EL2.
    fn write_vmcr(&mut self, value: u64);
    /// Reads ICH_HCR_EL2.
    fn read_hcr(&mut self) -> u64;
    /// Writes ICH_HCR_EL2.
    fn write_hcr(&mut self, value: u64);
    /// Reads ICH_MISR_EL2 (read-only).
    fn read_misr(&mut self) -> u64;
}
