//! `rmm.img`: the RMM as Realm EL2 firmware for QEMU `virt` with RME (or, with the
//! `fvp` feature, the Arm FVP Base RevC).
//!
//! EL3 enters at offset 0 of the image (`rmm_entry`, in [`entry`]) on every CPU: first on
//! the primary CPU for cold boot (x0..x3 = CPU id, RMM-EL3 interface version, CPU count,
//! shared buffer), later on each CPU it brings up (warm boot, x0 = CPU id). Each CPU then
//! reports `RMM_BOOT_COMPLETE` and serves RMI requests for ever.

#![no_std]
#![no_main]

mod cpus;
mod entry;

use platform::aarch64::{console, mmu, phase, vectors, Hw};
use platform::el3::ColdBootArgs;
use platform::layout::PLATFORM;
use platform::phase::Phase;
use platform::tlbi::IpaTlbi;
use platform::CpuId;
use rmm::attest::AttestStore;
use rmm::boot::RmiRequest;
use rmm::granule::Granule;
use rmm::percpu::PerCpu;
use rmm::vmid::VmidSet;
use rmm::{Rmm, Storage};

/// Granules the RMM can track on this platform.
const MAX_GRANULES: usize = PLATFORM.max_granules;

/// Granule metadata (2 bytes per granule, zero-initialised).
static GRANULES: [Granule; MAX_GRANULES] = [const { Granule::new() }; MAX_GRANULES];

/// The VMIDs in use (8 KiB, zero-initialised).
static VMIDS: VmidSet = VmidSet::new();

/// The attestation key and platform token EL3 gives at cold boot (about 11 KiB,
/// zero-initialised).
static ATTEST: AttestStore = AttestStore::new();

/// The RMM's metadata: the statics above.
struct Statics;

impl Storage for Statics {
    fn granules(&self) -> &[Granule] {
        &GRANULES
    }
    fn vmids(&self) -> &VmidSet {
        &VMIDS
    }
    fn attest(&self) -> &AttestStore {
        &ATTEST
    }
}

/// What cold boot logs when the CPU has FEAT_TLBIRANGE and the RMM invalidates a
/// range of a realm's IPAs with the range instructions (`cargo xtask run` looks for it).
const TLBI_BY_RANGE: &str = "stage-2 TLB invalidation of a range: TLBI RIPAS2E1IS (FEAT_TLBIRANGE)";

/// The RMM, once cold boot has succeeded.
static RMM: spin::Once<Rmm<Hw, Statics>> = spin::Once::new();

/// Cold boot on the primary CPU. Called by `rmm_entry` with the EL3 arguments, on this
/// CPU's stack, with `.bss` zeroed.
#[unsafe(no_mangle)]
extern "C" fn rmm_cold_boot(x0: u64, x1: u64, x2: u64, x3: u64) -> ! {
    vectors::install();
    // The copies of the MMU-off path (aligned accesses only) are checked before the
    // first of them, the stage-1 tables' set-up; reported once the console is up.
    let memops_mmu_off = platform::aarch64::memops::self_test();
    mmu::build(entry::image_layout());
    mmu::enable();
    // SAFETY: the UART on QEMU virt is a PL011 at this address, reachable with the MMU
    // off, and only the console module drives it.
    unsafe { console::init(PLATFORM.uart) };
    console::init_logger(log::STATIC_MAX_LEVEL);
    log::info!(
        "RMM for Arm CCA (DEN0137 1.0), {} {}",
        env!("CARGO_PKG_VERSION"),
        PLATFORM.name
    );
    // Every copy the RMM makes goes through these: checked before the first one that
    // matters.
    assert!(
        memops_mmu_off,
        "memcpy/memset/ns_copy self test failed with the MMU off"
    );
    assert!(
        platform::aarch64::memops::self_test(),
        "memcpy/memset/ns_copy self test failed with the MMU on"
    );
    #[cfg(feature = "stack-overflow-test")]
    entry::stack_overflow_test();
    // The `phases` build's cost of one mark, for the bench (nothing in rmm.img).
    phase::calibrate();
    let args = ColdBootArgs {
        cpu_id: x0,
        ifc_version: x1,
        num_cpus: x2,
        shared_buf: x3,
    };
    let cpu = CpuId(x0 as usize);
    match platform::aarch64::tlb::choose() {
        IpaTlbi::Range => log::info!("{TLBI_BY_RANGE}"),
        IpaTlbi::PerPage => log::info!("stage-2 TLB invalidation of a range: page by page"),
    }
    match Rmm::cold_boot(Hw, cpu, args, PLATFORM.max_cpus, Statics) {
        Ok(rmm) => {
            let rmm = RMM.call_once(|| rmm);
            // SAFETY: this is CPU `cpu`'s entry point; it never returns.
            let cpu = unsafe { cpus::rmi_loop(cpu) };
            let first = rmm.boot_complete(cpu.id());
            serve(rmm, cpu, first)
        }
        // Reported to EL3 already; EL3 does not come back to a failed RMM.
        Err(_) => entry::park(),
    }
}

/// Warm boot of a CPU EL3 brings up after cold boot.
#[unsafe(no_mangle)]
extern "C" fn rmm_warm_boot(x0: u64) -> ! {
    vectors::install();
    mmu::enable();
    let cpu = CpuId(x0 as usize);
    match RMM.get() {
        Some(rmm) if rmm.has_cpu(cpu) => match rmm.warm_boot(cpu) {
            Ok(first) => {
                // SAFETY: this is CPU `cpu`'s entry point; it never returns.
                let cpu = unsafe { cpus::rmi_loop(cpu) };
                serve(rmm, cpu, first)
            }
            // Reported to EL3 already.
            Err(_) => entry::park(),
        },
        _ => {
            log::error!("warm boot of CPU {} without a booted RMM", x0);
            entry::park()
        }
    }
}

/// The RMI loop of one CPU.
fn serve(rmm: &Rmm<Hw, Statics>, mut cpu: PerCpu<'static>, mut req: RmiRequest) -> ! {
    loop {
        phase::mark(Phase::Entry);
        let result = rmm.handle_rmi(&mut cpu, req.fid, &req.args);
        phase::mark(Phase::Complete);
        phase::report(req.fid);
        req = rmm.rmi_complete(cpu.id(), result);
    }
}
