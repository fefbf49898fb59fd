//! The RMM on the hosted simulation machine: the test API of the project.
//!
//! A [`Machine`] is a simulated RME system (memory with GPT, EL3, CPUs; see
//! [`platform_sim`]) on which the real RMM core has been cold booted on CPU 0 and warm
//! booted on the others, exactly as EL3 would. Tests then act as the Normal-world host:
//! they issue SMCs on a chosen CPU with raw register values and read or write memory
//! through the Non-secure PAS. A `Machine` is `Sync`: threads may drive different CPUs at
//! the same time; calls on one CPU are serialised as they would be on hardware.

use std::sync::{Arc, Mutex};

use platform::el3::{BootError, ColdBootArgs};
use platform::{CpuId, Pas, PhysAddr};
use platform_sim::{GpFault, SimArch, SimConfig, SimHw};
use rmi_abi::fid::is_rmi_range;
use rmi_abi::RmiFid;

use crate::attest::AttestStore;
use crate::granule::{Granule, GranuleState};
use crate::percpu::{PerCpu, Scratch};
use crate::rmi::SMC_NOT_SUPPORTED;
use crate::vmid::VmidSet;
use crate::{Rmm, Storage};

/// The metadata of an RMM on the simulation: allocations of the machine's own.
pub struct SimStorage {
    granules: Box<[Granule]>,
    vmids: Box<VmidSet>,
    attest: Box<AttestStore>,
}

impl Storage for SimStorage {
    fn granules(&self) -> &[Granule] {
        &self.granules
    }
    fn vmids(&self) -> &VmidSet {
        &self.vmids
    }
    fn attest(&self) -> &AttestStore {
        &self.attest
    }
}

/// The RMM as instantiated on the simulation.
pub type SimRmm = Rmm<SimArch, SimStorage>;

/// The most CPUs the hosted build supports.
pub const SIM_MAX_CPUS: usize = 32;

/// How many granules of memory above 2^48 [`Machine::high_ns_granule`] hands out.
pub const HIGH_POOL_GRANULES: usize = 256;

/// A simulated machine with the RMM booted on it.
pub struct Machine {
    hw: Arc<SimHw>,
    rmm: Result<SimRmm, BootError>,
    /// Each CPU's scratch memory; its lock serialises the calls made on that CPU.
    cpus: Vec<Mutex<Box<Scratch>>>,
    /// Whether each CPU booted (EL3 sends RMI requests only to those).
    booted: Vec<bool>,
}

impl Machine {
    /// Builds the machine described by `config` and boots the RMM with the arguments EL3
    /// would pass.
    pub fn new(config: SimConfig) -> Self {
        let hw = SimHw::new(config);
        let args = hw.cold_boot_args(CpuId(0));
        Self::boot(hw, args)
    }

    /// A machine with the default configuration (QEMU `virt` layout, 256 MiB, 4 CPUs).
    pub fn with_defaults() -> Self {
        Self::new(SimConfig::default())
    }

    /// Boots the RMM on `hw` with explicit cold-boot arguments (to test boot failures).
    /// On success every other CPU is warm booted; one whose warm boot fails gets no RMI
    /// calls (they are answered `NOT_SUPPORTED`).
    pub fn boot(hw: Arc<SimHw>, args: ColdBootArgs) -> Self {
        let granules = hw
            .config()
            .dram_banks()
            .iter()
            .map(|b| (b.size / 4096) as usize)
            .sum();
        let storage = SimStorage {
            granules: (0..granules).map(|_| Granule::new()).collect(),
            vmids: Box::default(),
            attest: Box::default(),
        };
        let rmm = SimRmm::cold_boot(SimArch(hw.clone()), CpuId(0), args, SIM_MAX_CPUS, storage);
        let mut booted = vec![false; hw.num_cpus()];
        if let Ok(rmm) = &rmm {
            for (cpu, ok) in booted.iter_mut().enumerate().take(rmm.boot_info().num_cpus) {
                *ok = if cpu == 0 {
                    rmm.boot_complete(CpuId(0));
                    true
                } else {
                    rmm.warm_boot(CpuId(cpu)).is_ok()
                };
            }
        }
        let cpus = (0..hw.num_cpus())
            .map(|_| Mutex::new(Box::new(Scratch::ZERO)))
            .collect();
        Self {
            hw,
            rmm,
            cpus,
            booted,
        }
    }

    /// The simulated hardware.
    pub fn hw(&self) -> &Arc<SimHw> {
        &self.hw
    }

    /// The RMM, or why it failed to boot.
    pub fn rmm(&self) -> Result<&SimRmm, BootError> {
        self.rmm.as_ref().map_err(|e| *e)
    }

    /// Issues an SMC from the Normal world on `cpu` with `x0 = fid` and `x1..=x6 = args`,
    /// returning x0..=x4 as EL3 hands them back. RMI calls reach the RMM (if it booted)
    /// with W0 as x0, as TF-A forwards them (the function identifier is W0, SMCCC);
    /// anything else is answered `NOT_SUPPORTED` by EL3.
    ///
    /// # Panics
    /// If `cpu` does not exist.
    pub fn smc(&self, cpu: usize, fid: u64, args: [u64; 6]) -> [u64; 5] {
        let mut scratch = self.cpus[cpu].lock().unwrap_or_else(|e| e.into_inner());
        match &self.rmm {
            Ok(rmm) if is_rmi_range(fid) && rmm.has_cpu(CpuId(cpu)) && self.booted[cpu] => {
                let w0 = u64::from(rmi_abi::fid::w0(fid));
                rmm.handle_rmi(&mut PerCpu::new(CpuId(cpu), &mut scratch), w0, &args)
            }
            _ => [SMC_NOT_SUPPORTED, 0, 0, 0, args[3]],
        }
    }

    /// [`Machine::smc`] for an RMI command with up to six arguments.
    pub fn rmi(&self, cpu: usize, fid: RmiFid, args: &[u64]) -> [u64; 5] {
        let mut a = [0u64; 6];
        a[..args.len()].copy_from_slice(args);
        self.smc(cpu, fid.id() as u64, a)
    }

    /// Reads memory as the Normal world (through the Non-secure PAS).
    pub fn host_read(&self, pa: u64, buf: &mut [u8]) -> Result<(), GpFault> {
        self.hw.mem().read(PhysAddr(pa), Pas::NonSecure, buf)
    }

    /// Writes memory as the Normal world (through the Non-secure PAS).
    pub fn host_write(&self, pa: u64, buf: &[u8]) -> Result<(), GpFault> {
        self.hw.mem().write(PhysAddr(pa), Pas::NonSecure, buf)
    }

    /// The PAS of the granule at `pa` in the GPT (`None` outside memory).
    pub fn pas(&self, pa: u64) -> Option<Pas> {
        self.hw.mem().pas(PhysAddr(pa))
    }

    /// The RMM's state for the granule at `pa` (`None` if not tracked or not booted).
    pub fn granule_state(&self, pa: u64) -> Option<GranuleState> {
        self.rmm
            .as_ref()
            .ok()?
            .granules()
            .get(PhysAddr(pa))
            .map(Granule::state)
    }

    /// The `n`th granule of the first extra DRAM bank ([`SimConfig::extra_dram`]) at or
    /// above 2^48, the end of what a realm without LPA2 may use, among its first
    /// [`HIGH_POOL_GRANULES`]; `None` if the machine has no such bank.
    pub fn high_ns_granule(&self, n: usize) -> Option<u64> {
        let bank = self
            .hw
            .config()
            .extra_dram
            .iter()
            .filter(|b| b.base >= crate::rmi::PA_LIMIT_NO_LPA2)
            .min_by_key(|b| b.base)?;
        let granules = (bank.size / 4096).min(HIGH_POOL_GRANULES as u64);
        (n < granules as usize).then(|| bank.base + n as u64 * 4096)
    }

    /// The address of the `n`th granule of Non-secure DRAM available to the host.
    pub fn ns_granule(&self, n: usize) -> u64 {
        let pa = self.hw.config().layout.ns_dram_base.0 + (n as u64) * 4096;
        assert_eq!(
            self.pas(pa),
            Some(Pas::NonSecure),
            "granule {n} of NS DRAM at {pa:#x}"
        );
        pa
    }
}
