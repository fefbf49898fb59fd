//! Cold and warm boot per the RMM-EL3 interface, and the hand-over of RMI requests.
//!
//! Cold boot runs once, on the primary CPU: it validates the boot arguments (in the
//! reference's order), reads and validates the boot manifest from the shared buffer and
//! builds the granule table over the manifest's DRAM banks. A failure is reported to EL3
//! at once with its boot error code and leaves the RMM disabled. On success, every CPU
//! (the primary first, then each warm-booted one) reports `RMM_BOOT_COMPLETE`; EL3
//! answers that call with the CPU's first RMI request.

use crate::Storage;

use platform::el3::{BootError, ColdBootArgs, RMM_BOOT_COMPLETE, RMM_RMI_REQ_COMPLETE};
use platform::{manifest, Arch, CpuId, OwnedGranule, PhysAddr};

use crate::cpu_features::CpuFeatures;
use crate::granule::GranuleTable;
use crate::Rmm;

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
            Ok((boot, manifest, features)) => {
                match GranuleTable::new(manifest.dram_banks(), storage) {
                    Ok(granules) => {
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
    ) -> Result<(platform::el3::BootInfo, manifest::Manifest, CpuFeatures), BootError> {
        let boot = args.validate(max_cpus)?;
        let features = CpuFeatures::read(arch, cpu);
        // Parsed where EL3 wrote it: the shared buffer is the RMM's own memory, which only
        // EL3 (now waiting for RMM_BOOT_COMPLETE) also writes.
        let mut shared = SharedBuf(PhysAddr(boot.shared_buf));
        let buf = arch.map_realm(&mut shared);
        let manifest = manifest::parse(&buf.0, boot.shared_buf, features.pa_bits)?;
        Ok((boot, manifest, features))
    }

    /// Reports successful boot of CPU `cpu` (cold or warm) to EL3 and returns the first
    /// RMI request EL3 hands this CPU.
    pub fn boot_complete(&self, cpu: CpuId) -> RmiRequest {
        RmiRequest::from_regs(self.arch.el3_call(cpu, RMM_BOOT_COMPLETE, &[0]))
    }

    /// Returns the result of an RMI command (x0..=x4) to EL3 and waits for the next
    /// request.
    pub fn rmi_complete(&self, cpu: CpuId, result: [u64; 5]) -> RmiRequest {
        RmiRequest::from_regs(self.arch.el3_call(cpu, RMM_RMI_REQ_COMPLETE, &result))
    }
}

/// The RMM-EL3 shared buffer: a granule of the RMM's own memory (in its carve-out),
/// which EL3 writes only while the RMM waits for it.
struct SharedBuf(PhysAddr);

impl OwnedGranule for SharedBuf {
    fn owned_pa(&self) -> PhysAddr {
        self.0
    }
}
