//! [`rmm_conformance::Host`] on the real machine: RMI through `smc #0` to the EL3 test
//! monitor (which forwards it to the RMM), direct Non-secure memory accesses.

use rmm_conformance::payload::{BASE_IPA, PROGRAM_MAGIC};
use rmm_conformance::program::{Program, RealmCode};
use rmm_conformance::Host;

use crate::{asm, smp};

/// Start of the pool of granules the tests draw from: Non-secure DRAM, well above the
/// test host's image.
pub const NS_POOL_BASE: u64 = 0x7000_0000;
/// End of the pool.
pub const NS_POOL_END: u64 = 0xF000_0000;
/// The first address past DRAM (`-m 3G`): no memory, outside the RMM's DRAM bank.
pub const NON_MEMORY_ADDR: u64 = 0x1_0000_0000;
/// The base of the RMM carve-out (Realm PAS, never delegable).
pub const RMM_CARVEOUT: u64 = 0x4010_0000;

/// SMCCC `NOT_SUPPORTED`.
const SMCCC_NOT_SUPPORTED: u64 = -1i64 as u64;

/// The Normal world of QEMU `virt`: the tests run on CPU 0, and make calls on CPU 1
/// through its mailbox ([`crate::smp`]) once it is online. `ns_granule(n)` is the `n`th
/// granule from `pool_base`.
#[derive(Clone, Copy, Debug)]
pub struct QemuHost {
    pool_base: u64,
}

impl QemuHost {
    /// A host whose tests use granules from [`NS_POOL_BASE`].
    pub const fn new() -> Self {
        Self {
            pool_base: NS_POOL_BASE,
        }
    }

    /// The same host with its pool starting `granules` further on (past granules an
    /// earlier test left with the RMM).
    pub fn moved_on(self, granules: usize) -> Self {
        Self {
            pool_base: self.pool_base + granules as u64 * 4096,
        }
    }
}

impl Host for QemuHost {
    fn smc(&self, cpu: usize, fid: u64, args: [u64; 6]) -> [u64; 5] {
        match cpu {
            // Every SMC checks that the FP/SIMD state survives it (see `fp_check`).
            0 => crate::fp_check::smc(fid, args),
            smp::CPU if smp::online() => smp::call(fid, args),
            // No such CPU in the Normal world; `num_cpus` says so.
            _ => [SMCCC_NOT_SUPPORTED, 0, 0, 0, 0],
        }
    }

    fn smc_during(
        &self,
        cpu: usize,
        fid: u64,
        args: [u64; 6],
        during: &mut dyn FnMut(),
    ) -> Option<[u64; 5]> {
        if cpu != smp::CPU || !smp::online() {
            return None;
        }
        let pending = smp::post(fid, args);
        during();
        Some(smp::wait(pending))
    }

    fn write_ns(&self, pa: u64, data: &[u8]) -> bool {
        asm::write_phys(pa, data)
    }

    fn read_ns(&self, pa: u64, data: &mut [u8]) -> bool {
        asm::read_phys(pa, data)
    }

    fn ns_granule(&self, n: usize) -> u64 {
        let pa = self.pool_base + n as u64 * 4096;
        assert!(pa < NS_POOL_END, "granule {n} is beyond the test pool");
        pa
    }

    fn pool_granules(&self) -> usize {
        ((NS_POOL_END - self.pool_base) / 4096) as usize
    }

    fn non_memory_addr(&self) -> u64 {
        NON_MEMORY_ADDR
    }

    fn rmm_carveout_addr(&self) -> u64 {
        RMM_CARVEOUT
    }

    fn num_cpus(&self) -> usize {
        1 + usize::from(smp::online())
    }

    /// The realm payload (`tests/qemu/realm`) at its base IPA, told by REC 0's x0 and x1
    /// to run `program` ([`rmm_conformance::program`]).
    fn realm_code(&self, program: &'static Program) -> Option<RealmCode> {
        let index = program.index()?;
        Some(RealmCode {
            entry: BASE_IPA,
            gprs: [PROGRAM_MAGIC, index as u64, 0, 0, 0, 0, 0, 0],
            pages: crate::params::realm_image()?,
        })
    }

    fn id_aa64mmfr0(&self) -> u64 {
        asm::id_aa64mmfr0()
    }

    fn vmid_bits(&self) -> u32 {
        // ID_AA64MMFR1_EL1.VMIDBits [7:4]: 0b0010 means 16-bit VMIDs.
        if (asm::id_aa64mmfr1() >> 4) & 0xF == 0b0010 {
            16
        } else {
            8
        }
    }
}
