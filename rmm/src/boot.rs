//! Cold and warm boot per the RMM-EL3 interface, and the hand-over of RMI requests.
//!
//! Cold boot runs once, on the primary CPU: it validates the boot arguments (in the
//! reference's order), enables the GIC system register interface and probes the GICv3
//! virtual CPU interface ([`gic_boot`]), reads and validates the boot manifest from the
//! shared buffer and builds the granule table over the manifest's DRAM banks, then asks
//! EL3 for the attestation key and platform token ([`crate::attest::fetch_from_el3`],
//! whose failure only disables attestation). A failure
//! is reported to EL3 at once with its boot error code and leaves the RMM disabled. On
//! success, every CPU (the primary first, then each warm-booted one, which must have the
//! same GIC virtual CPU interface) reports `RMM_BOOT_COMPLETE`; EL3 answers that call
//! with the CPU's first RMI request.

use crate::Storage;

use platform::el3::{BootError, ColdBootArgs, RMM_BOOT_COMPLETE, RMM_RMI_REQ_COMPLETE};
use platform::{manifest, Arch, CpuId, OwnedGranule, PhysAddr, SysReg};
use vgic::{FeaturesError, GicFeatures};

use crate::cpu_features::CpuFeatures;
use crate::granule::GranuleTable;
use crate::Rmm;

/// What cold boot establishes before the granule table: the validated arguments, the
/// manifest, the CPU features and the GIC features.
type BootState = (
    platform::el3::BootInfo,
    manifest::Manifest,
    CpuFeatures,
    GicFeatures,
);

/// An RMI request as EL3 hands it to the RMM: x0 (function identifier) and x1..=x6.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RmiRequest {
    /// x0.
    pub fid: u64,
    /// x1..=x6.
    pub args: [u64; 6],
}

impl RmiRequest {
    fn from_regs(r: [u64; 8]) -> Self {
        Self {
            fid: r[0],
            args: [r[1], r[2], r[3], r[4], r[5], r[6]],
        }
    }
}

/// ICC_SRE_EL2 as the RMM sets it on every CPU at boot (GICv3 architecture, ICC_SRE_EL2):
/// SRE [0] (the system register interface at EL2: without it every ICH_*_EL2 access is
/// UNDEFINED), DFB [1] and DIB [2] (no FIQ/IRQ bypass of the CPU interface), Enable [3]
/// (EL1 accesses to ICC_SRE_EL1 do not trap to EL2: a realm's GIC driver reads it).
pub const ICC_SRE_EL2_RMM: u64 = 0b1111;

/// Why a CPU's GICv3 virtual CPU interface is not usable by the RMM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GicBootError {
    /// ID_AA64PFR0_EL1.GIC is 0: no GIC system register interface.
    NoSystemRegisters,
    /// ICC_SRE_EL2.SRE reads 0 after the RMM set it (EL3 keeps the system register
    /// interface disabled).
    SreNotSet,
    /// ICH_VTR_EL2 or ICC_CTLR_EL1 report values no conforming GIC does.
    BadFeatures(FeaturesError),
    /// A warm-booted CPU whose interface differs from the one cold boot probed.
    Mismatch,
}

/// Prohibits counting at R-EL2 on `cpu` (MDCR_EL2, `run::control::mdcr_rmm`): the
/// Normal world's PMU counters never count the RMM's own execution.
fn pmu_boot<A: Arch>(arch: &A, cpu: CpuId, f: &CpuFeatures) {
    if !f.pmu_v3() {
        return;
    }
    let n = arch.read_sysreg(cpu, SysReg::PMCR_EL0) >> 11 & 0x1F;
    let mdcr = arch.read_sysreg(cpu, SysReg::MDCR_EL2);
    arch.write_sysreg(
        cpu,
        SysReg::MDCR_EL2,
        crate::run::control::mdcr_rmm(f, mdcr, n),
    );
}

/// Enables the GIC system register interface of `cpu` (ICC_SRE_EL2, [`ICC_SRE_EL2_RMM`])
/// and probes its GICv3 virtual CPU interface: ID_AA64PFR0_EL1.GIC [27:24] must say the
/// system registers exist, SRE must stick, and ICH_VTR_EL2 and ICC_CTLR_EL1.ExtRange
/// must decode ([`GicFeatures::from_regs`]). Run once per CPU, at boot.
pub fn gic_boot<A: Arch>(arch: &A, cpu: CpuId) -> Result<GicFeatures, GicBootError> {
    let pfr0 = arch.read_sysreg(cpu, SysReg::ID_AA64PFR0_EL1);
    if (pfr0 >> 24) & 0xF == 0 {
        return Err(GicBootError::NoSystemRegisters);
    }
    arch.write_sysreg(cpu, SysReg::ICC_SRE_EL2, ICC_SRE_EL2_RMM);
    if arch.read_sysreg(cpu, SysReg::ICC_SRE_EL2) & 1 == 0 {
        return Err(GicBootError::SreNotSet);
    }
    let vtr = arch.read_sysreg(cpu, SysReg::ICH_VTR_EL2);
    let ctlr = arch.read_sysreg(cpu, SysReg::ICC_CTLR_EL1);
    GicFeatures::from_regs(vtr, ctlr).map_err(GicBootError::BadFeatures)
}

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// Cold boot on CPU `cpu` with the arguments EL3 passed in x0..=x3. `max_cpus` is the
    /// most CPUs this build supports; `storage` holds the granule metadata (all
    /// [`Granule::new`]).
    ///
    /// A failure is reported to EL3 (`RMM_BOOT_COMPLETE` with the error code) before
    /// returning. On success nothing is reported yet: call [`Rmm::boot_complete`] once the
    /// RMM is where every CPU can reach it.
    pub fn cold_boot(
        arch: A,
        cpu: CpuId,
        args: ColdBootArgs,
        max_cpus: usize,
        storage: S,
    ) -> Result<Self, BootError> {
        match Self::init(&arch, cpu, args, max_cpus) {
            Ok((boot, manifest, features, gic)) => {
                match GranuleTable::new(manifest.dram_banks(), storage) {
                    Ok(granules) => {
                        // Not a boot failure if it fails: RMI works without attestation.
                        crate::attest::fetch_from_el3(
                            &arch,
                            cpu,
                            PhysAddr(boot.shared_buf),
                            granules.storage().attest(),
                        );
                        log::info!(
                            "RMM cold boot: {} CPUs, RMM-EL3 interface {}.{}, {} granules tracked",
                            boot.num_cpus,
                            boot.ifc_version.major,
                            boot.ifc_version.minor,
                            granules.len()
                        );
                        Ok(Self {
                            arch,
                            boot,
                            manifest,
                            granules,
                            features,
                            gic,
                        })
                    }
                    Err(e) => {
                        log::error!("granule table: {e:?}");
                        Self::fail(&arch, cpu, BootError::ManifestDataError)
                    }
                }
            }
            Err(e) => Self::fail(&arch, cpu, e),
        }
    }

    fn fail(arch: &A, cpu: CpuId, e: BootError) -> Result<Self, BootError> {
        log::error!("RMM boot failed: {e:?}");
        arch.el3_call(cpu, RMM_BOOT_COMPLETE, &[e.code()]);
        Err(e)
    }

    fn init(
        arch: &A,
        cpu: CpuId,
        args: ColdBootArgs,
        max_cpus: usize,
    ) -> Result<BootState, BootError> {
        let boot = args.validate(max_cpus)?;
        // Before anything reads a GIC register (CpuFeatures reads ICH_VTR_EL2). A CPU
        // without a usable GICv3 virtual CPU interface cannot run realms: the boot
        // fails with the only code the RMM-EL3 interface has for it.
        let gic = gic_boot(arch, cpu).map_err(|e| {
            log::error!("GIC virtual CPU interface of CPU {}: {e:?}", cpu.0);
            BootError::Unknown
        })?;
        let mut features = CpuFeatures::read(arch, cpu);
        features.sha2 = crate::hash::choose(arch, &features);
        pmu_boot(arch, cpu, &features);
        // Parsed where EL3 wrote it: the shared buffer is the RMM's own memory, which only
        // EL3 (now waiting for RMM_BOOT_COMPLETE) also writes.
        let mut shared = SharedBuf(PhysAddr(boot.shared_buf));
        let buf = arch.map_realm(&mut shared);
        let manifest = manifest::parse(&buf.0, boot.shared_buf, features.pa_bits)?;
        Ok((boot, manifest, features, gic))
    }

    /// Reports successful boot of CPU `cpu` (cold boot, or a warm boot that
    /// [`Rmm::warm_boot`] checked) to EL3 and returns the first RMI request EL3 hands
    /// this CPU.
    pub fn boot_complete(&self, cpu: CpuId) -> RmiRequest {
        RmiRequest::from_regs(self.arch.el3_call(cpu, RMM_BOOT_COMPLETE, &[0]))
    }

    /// Warm boot of CPU `cpu`: enables and probes its GIC virtual CPU interface
    /// ([`gic_boot`]), which must be the one cold boot found (the RMM keeps one set of
    /// GIC features for every CPU), then reports success as [`Rmm::boot_complete`]
    /// does. A failure is reported to EL3 with `RMM_BOOT_COMPLETE` and its code instead,
    /// and the CPU must not serve RMI.
    pub fn warm_boot(&self, cpu: CpuId) -> Result<RmiRequest, BootError> {
        let probed = gic_boot(&self.arch, cpu).and_then(|f| {
            if f == self.gic {
                Ok(())
            } else {
                Err(GicBootError::Mismatch)
            }
        });
        match probed {
            Ok(()) => {
                pmu_boot(&self.arch, cpu, &self.features);
                Ok(self.boot_complete(cpu))
            }
            Err(e) => {
                log::error!(
                    "warm boot of CPU {}: GIC virtual CPU interface: {e:?}",
                    cpu.0
                );
                let e = BootError::Unknown;
                self.arch.el3_call(cpu, RMM_BOOT_COMPLETE, &[e.code()]);
                Err(e)
            }
        }
    }

    /// Returns the result of an RMI command (x0..=x4) to EL3 and waits for the next
    /// request.
    pub fn rmi_complete(&self, cpu: CpuId, result: [u64; 5]) -> RmiRequest {
        RmiRequest::from_regs(self.arch.el3_call(cpu, RMM_RMI_REQ_COMPLETE, &result))
    }
}

/// The RMM-EL3 shared buffer: a granule of the RMM's own memory (in its carve-out),
/// which EL3 writes only while the RMM waits for it (in an SMC): at boot, the manifest
/// and the attestation calls ([`crate::attest::fetch_from_el3`]) use it.
pub(crate) struct SharedBuf(pub(crate) PhysAddr);

impl OwnedGranule for SharedBuf {
    fn owned_pa(&self) -> PhysAddr {
        self.0
    }
}
