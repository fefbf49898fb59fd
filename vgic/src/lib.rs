//! GICv3 virtual CPU interface support for the RMM (DEN0137 1.0).
//!
//! The RMM gives each realm vCPU (REC) a GICv3 virtual CPU interface whose
//! List registers the host fills and reads through the REC run page
//! (`RmiRecEnter.gicv3_hcr` / `gicv3_lrs`, `RmiRecExit.gicv3_*`). This crate:
//!
//! - decodes the hardware's virtualization features once at boot
//!   ([`GicFeatures`], from ICH_VTR_EL2 and ICC_CTLR_EL1.ExtRange);
//! - validates the host's values on every REC entry ([`validate`], producing
//!   the only value [`VgicState::load`] accepts, [`ValidatedState`]);
//! - keeps the per-REC saved state ([`VgicState`]), restores it to and saves it
//!   from the CPU interface ([`GicCpuIf`]) around each realm run, and builds the
//!   exit report ([`ExitReport`]);
//! - provides the CPU interface both as real system registers
//!   (`hw::HwGicCpuIf`, aarch64 only) and as an architectural model for hosted
//!   tests ([`sim::SimGicCpuIf`]).
//!
//! The REC entry/exit path, here against the model (firmware uses
//! `hw::HwGicCpuIf::with_features()` with the features the RMM decoded from
//! ICH_VTR_EL2 and ICC_CTLR_EL1 when the CPU booted, after setting
//! ICC_SRE_EL2):
//!
//! ```
//! use vgic::sim::{SimConfig, SimGicCpuIf};
//! use vgic::{validate, GicCpuIf, VgicState, MAX_LRS};
//!
//! let mut cpuif = SimGicCpuIf::new(SimConfig::new(4))?; // boot: features decoded
//! let mut rec = VgicState::new(); // RMI_REC_CREATE
//!
//! // RMI_REC_ENTER: any error is reported as RMI_ERROR_REC, nothing loaded.
//! let (hcr, mut lrs) = (0x8, [0u64; MAX_LRS]); // from RecRun: NPIE, LR0 pending vINTID 27
//! lrs[0] = (1 << 62) | (1 << 60) | (0xa0 << 48) | 27;
//! let validated = validate(&cpuif.features(), hcr, &lrs)?;
//! rec.load(validated);
//! rec.restore(&mut cpuif);
//! // ... the realm runs ...
//! rec.save(&mut cpuif); // REC exit
//! let report = rec.exit_report(); // gicv3_hcr, gicv3_lrs, gicv3_misr, gicv3_vmcr
//! assert_eq!(report.lrs[0], lrs[0]);
//! assert_eq!(report.hcr, 0x8);
//! # Ok::<(), vgic::VgicError>(())
//! ```
//!
//! No allocation, no panics on host input, no `unsafe` (the aarch64 register
//! accessors come from `aarch64-cpu`).

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(test)]
extern crate std;

mod cpuif;
mod error;
mod features;
mod host;
#[cfg(target_arch = "aarch64")]
pub mod hw;
pub mod regs;
pub mod sim;
mod state;
mod validate;

pub use cpuif::GicCpuIf;
pub use error::{FeaturesError, VgicError};
pub use features::{GicFeatures, MAX_EPPI, MAX_ESPI, MAX_SPI, MIN_EPPI, MIN_ESPI, MIN_LPI};
pub use host::HostGicState;
pub use state::{ExitReport, VgicState};
pub use validate::{validate, ValidatedState};

/// Maximum number of List registers (ICH_LR0_EL2..ICH_LR15_EL2), and the
/// length of `gicv3_lrs` in the REC run page. GICv3 architecture, ICH_VTR_EL2;
/// DEN0137 1.0, RmiRecEnter / RmiRecExit.
pub const MAX_LRS: usize = 16;

/// Maximum number of `ICH_AP0R<n>_EL2` (and of `ICH_AP1R<n>_EL2`) registers,
/// reached with 7 preemption bits. GICv3 architecture, `ICH_AP0R<n>_EL2`.
pub const MAX_APRS: usize = 4;
