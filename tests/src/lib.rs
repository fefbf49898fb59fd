//! The RMM conformance suite, in the style of Arm's ACS.
//!
//! Each test is a sequence of numbered checks; each check is one stimulus and one exact
//! expected result (status and index, output registers, granule states). A test reports
//! `Test=<name> ... Result=Passed`, `Result=Failed (check N: ...)` or
//! `Result=Skipped (why)`, and a run ends with a summary line. A test destroys what it
//! creates ([`builder::teardown`]); the runner fails one that leaves granules delegated.
//!
//! The tests are written against [`Host`], the Normal-world view of the machine (issue an
//! SMC, touch Non-secure memory), so the same tests run on the hosted simulation and, on
//! a Normal-world test host, against the real image. The crate is `no_std` apart from the
//! hosted runner.

#![cfg_attr(not(feature = "hosted"), no_std)]

pub mod builder;
pub mod check;
pub mod linux_boot;
pub mod payload;
pub mod program;
pub mod realm;
pub mod realm_id;
pub mod suites;
pub mod teardown;
pub mod vmm;

#[cfg(feature = "hosted")]
pub mod hosted;

pub use check::{Checks, Failure, Outcome, TestDef};

/// The Normal-world host as the conformance tests see it.
pub trait Host {
    /// Issues an SMC on CPU `cpu` with x0 = `fid`, x1..=x6 = `args`; returns x0..=x4.
    fn smc(&self, cpu: usize, fid: u64, args: [u64; 6]) -> [u64; 5];

    /// Writes Non-secure memory; `false` if the access faulted (granule protection).
    fn write_ns(&self, pa: u64, data: &[u8]) -> bool;

    /// Reads Non-secure memory; `false` if the access faulted (granule protection).
    fn read_ns(&self, pa: u64, data: &mut [u8]) -> bool;

    /// The address of the `n`th granule of Non-secure DRAM the tests may use. The
    /// granules are consecutive: granule `n` is at `ns_granule(0) + n * 4096`.
    fn ns_granule(&self, n: usize) -> u64;

    /// How many granules the pool of [`Host::ns_granule`] has: `n` below it.
    fn pool_granules(&self) -> usize;

    /// An address that is not memory at all (no DRAM there).
    fn non_memory_addr(&self) -> u64;

    /// An address in the RMM's own carve-out (Realm PAS, not delegable).
    fn rmm_carveout_addr(&self) -> u64;

    /// Number of CPUs the host may issue calls on.
    fn num_cpus(&self) -> usize;

    /// Issues an SMC on CPU `cpu` (not CPU 0, where the tests run) and, while it is in
    /// progress there, runs `during` on CPU 0; returns the SMC's x0..x4 once both have
    /// finished. `during` may start before the SMC reaches EL3: a test that needs it
    /// under way waits for a sign of it (a realm it runs writing shared memory). `None`
    /// if this host cannot (no such CPU; tests that need two CPUs at once are then
    /// skipped).
    fn smc_during(
        &self,
        cpu: usize,
        fid: u64,
        args: [u64; 6],
        during: &mut dyn FnMut(),
    ) -> Option<[u64; 5]> {
        let _ = (cpu, fid, args, during);
        None
    }

    /// The VMID width of the platform (8, or 16 with FEAT_VMID16): what
    /// `VmidIsValid` depends on, and RMI does not report.
    fn vmid_bits(&self) -> u32;

    /// ID_AA64MMFR0_EL1 of the platform's CPUs: what RMI_FEATURES' S2SZ and LPA2
    /// depend on (PARange, TGran4, TGran4_2).
    fn id_aa64mmfr0(&self) -> u64;

    /// The `n`th granule of a pool of Non-secure memory at or above 2^48 the tests may
    /// use (for FEAT_LPA2 realms: DATA, RTT and RD granules with 52-bit addresses), or
    /// `None` when the platform has no such memory or `n` is beyond the pool. The
    /// granules are consecutive.
    fn high_ns_granule(&self, n: usize) -> Option<u64> {
        let _ = n;
        None
    }

    /// Whether the host can access the granule at `pa` (false while it is delegated).
    fn granule_accessible(&self, pa: u64) -> bool {
        self.read_ns(pa, &mut [0u8; 1])
    }

    /// How this host runs `program` in a realm ([`program::RealmCode`]), or `None` if
    /// it cannot run realm code (the tests that need it are then skipped).
    fn realm_code(&self, program: &'static program::Program) -> Option<program::RealmCode> {
        let _ = program;
        None
    }

    /// Issues an RMI command with up to six arguments on CPU 0.
    fn rmi(&self, fid: rmi_abi::RmiFid, args: &[u64]) -> [u64; 5] {
        let mut a = [0u64; 6];
        a[..args.len()].copy_from_slice(args);
        self.smc(0, fid.id() as u64, a)
    }
}
