//! Cold boot (CPU 0), warm boot of the secondaries and the hand-over to the Normal
//! world.
//!
//! CPU 0 configures the UART, writes the boot manifest into the shared page, builds and
//! enables the GPT, and enters the RMM at R-EL2 with the cold-boot arguments of
//! interface 0.4 (x0 = 0, x1 = 0x4, x2 = 32, x3 = shared page). When the RMM reports
//! `RMM_BOOT_COMPLETE` with success, CPU 0 releases the secondaries (which have been
//! waiting in the pen since reset); each enables the GPT on itself and enters the RMM
//! with the warm-boot arguments (x0 = its index, x1..x3 = 0), reports
//! `RMM_BOOT_COMPLETE` and waits in EL3, powered off, until the Normal world turns it
//! on with PSCI `CPU_ON` ([`crate::psci`]). Once all have reported, CPU 0 starts the
//! test host at NS-EL2. A boot failure stops the run with the RMM's error code.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use crate::layout::{
    DRAM_BASE, DRAM_END, GRANULE_SIZE, NS_HOST_ENTRY, RMM_BASE, RMM_CPU_COUNT, RMM_SHARED_BUF,
    SECURE_RAM_BASE, SECURE_RAM_SIZE,
};
use crate::percpu::{self, PerCpu, World};
use crate::rmm_el3::{self, boot_error_name, IFC_VERSION};
use crate::sysreg::{self, Features};
use crate::uart::println;
use crate::{asm, gic, gpt, mem, semihost, world};

/// Secondaries that have left the pen.
static ARRIVED: AtomicU32 = AtomicU32::new(0);
/// Set by CPU 0 when the secondaries may warm boot the RMM.
static GO: AtomicBool = AtomicBool::new(false);
/// Secondaries whose warm boot succeeded.
static WARM_OK: AtomicU32 = AtomicU32::new(0);
/// Secondaries whose warm boot failed, and the last status reported.
static WARM_FAILED: AtomicU32 = AtomicU32::new(0);
static WARM_STATUS: AtomicU64 = AtomicU64::new(0);
/// Set once the RMM's cold boot has completed.
static COLD_DONE: AtomicBool = AtomicBool::new(false);

/// Grace period for secondaries still on their way to the pen.
const PEN_GRACE_MS: u64 = 10;
/// How long CPU 0 waits for the secondaries' warm boots.
const WARM_BOOT_TIMEOUT_MS: u64 = 10_000;

/// EL3 set-up every CPU does (with [`gic::init_redistributor`]): SVE allowed below EL3
/// at the largest vector length, GIC system register interface enabled at EL3 with
/// lower-EL access to ICC_SRE_EL2.
fn cpu_setup(f: &Features) {
    const CPTR_EZ: u64 = 1 << 8;
    if f.sve {
        sysreg::write_cptr_el3(CPTR_EZ);
        sysreg::write_zcr_el3(0xF);
    } else {
        sysreg::write_cptr_el3(0);
    }
    // SRE | DFB | DIB | Enable.
    sysreg::write_icc_sre_el3(0xF);
}

/// Milliseconds since an arbitrary origin (the generic counter).
fn now_ms() -> u64 {
    let freq = sysreg::cntfrq_el0().max(1);
    sysreg::cntpct_el0() / freq.div_ceil(1000)
}

fn fatal(msg: &str, code: u32) -> ! {
    println!("{msg}");
    semihost::exit(code)
}

/// The boot manifest TF-A gives on QEMU: one DRAM bank (all of DRAM) and UART0.
fn write_manifest() {
    let mut page = [0u8; GRANULE_SIZE as usize];
    rmm_el3::write_boot_manifest(&mut page, RMM_SHARED_BUF);
    mem::write_shared_page(&page);
}

/// Cold boot on CPU 0 (from [`crate::asm`], with `.bss` and `.data` initialised).
pub extern "C" fn primary_main(_cpu: u64) -> ! {
    crate::uart::init();
    println!("RMM test monitor: QEMU virt with RME, RMM-EL3 interface 0.4, boot manifest 0.3");
    let f = Features::detect();
    println!("CPU features: {f}");
    cpu_setup(&f);
    gic::init_distributor();
    gic::init_redistributor(sysreg::mpidr_el1());
    asm::open_pen();
    write_manifest();
    gpt::build();
    if let Err(e) = gpt::enable(&f) {
        fatal(e, semihost::EXIT_MONITOR_ERROR);
    }
    let (l0, l1, l1_end) = gpt::table_span();
    println!(
        "GPC on: secure RAM {:#x}..{:#x} Root (GPT L0 {:#x}, L1 {:#x}..{:#x}), \
         RMM {:#x}..{:#x} Realm, DRAM {:#x}..{:#x} Non-secure, rest any",
        SECURE_RAM_BASE,
        SECURE_RAM_BASE + SECURE_RAM_SIZE,
        l0,
        l1,
        l1_end,
        RMM_BASE,
        RMM_SHARED_BUF + GRANULE_SIZE,
        DRAM_BASE,
        DRAM_END
    );
    let cpu = percpu::init(0, f);
    let args = [0, IFC_VERSION, RMM_CPU_COUNT, RMM_SHARED_BUF];
    world::init_contexts(cpu, RMM_BASE, args, NS_HOST_ENTRY);
    println!(
        "cold boot of the RMM on CPU 0 at R-EL2 {RMM_BASE:#x}: x0 = {:#x}, x1 = {:#x}, x2 = {}, x3 = {:#x}",
        args[0], args[1], args[2], args[3]
    );
    world::enter(cpu, World::Realm)
}

/// A secondary CPU, once the pen is open (from [`crate::asm`]).
pub extern "C" fn secondary_main(id: u64) -> ! {
    ARRIVED.fetch_add(1, Ordering::AcqRel);
    let f = Features::detect();
    cpu_setup(&f);
    while !GO.load(Ordering::Acquire) {
        sysreg::wfe();
    }
    if let Err(e) = gpt::enable(&f) {
        fatal(e, semihost::EXIT_MONITOR_ERROR);
    }
    gic::init_redistributor(sysreg::mpidr_el1());
    let cpu = percpu::init(id as usize, f);
    world::init_contexts(cpu, RMM_BASE, [id, 0, 0, 0], NS_HOST_ENTRY);
    world::enter(cpu, World::Realm)
}

/// `RMM_BOOT_COMPLETE` with `status` from the RMM on `cpu`. On CPU 0 (cold boot)
/// success warm boots the secondaries and switches CPU 0 to the Normal world; on a
/// secondary success waits for a PSCI `CPU_ON` and switches to the Normal world, and a
/// failure parks the CPU for good.
pub fn rmm_boot_complete(cpu: &mut PerCpu, status: u64) {
    if cpu.id != 0 {
        if status != 0 {
            WARM_STATUS.store(status, Ordering::Release);
            WARM_FAILED.fetch_add(1, Ordering::AcqRel);
            loop {
                sysreg::wfi();
            }
        }
        // OFF until the Normal world powers it on (before CPU 0 can start the Normal
        // world); the RMM waits for its first RMI request meanwhile.
        crate::psci::powered_off(cpu.id);
        WARM_OK.fetch_add(1, Ordering::AcqRel);
        crate::psci::wait_for_cpu_on(cpu);
        return;
    }
    if COLD_DONE.swap(true, Ordering::AcqRel) {
        fatal(
            "unexpected second RMM_BOOT_COMPLETE on CPU 0",
            semihost::EXIT_MONITOR_ERROR,
        );
    }
    if status != 0 {
        println!(
            "RMM cold boot FAILED on CPU 0: status {:#x} ({}, {})",
            status,
            status as i64,
            boot_error_name(status)
        );
        semihost::exit(semihost::EXIT_RMM_BOOT_FAILED);
    }
    println!("RMM cold boot complete on CPU 0");
    warm_boot_secondaries();
    println!("starting the Normal-world test host at NS-EL2 {NS_HOST_ENTRY:#x} on CPU 0");
    crate::psci::boot_cpu_on();
    world::switch(cpu, World::NonSecure);
}

fn warm_boot_secondaries() {
    let start = now_ms();
    while now_ms() - start < PEN_GRACE_MS {
        core::hint::spin_loop();
    }
    let n = ARRIVED.load(Ordering::Acquire);
    if n == 0 {
        return;
    }
    println!("warm boot of the RMM on {n} secondary CPU(s)");
    GO.store(true, Ordering::Release);
    sysreg::sev();
    let start = now_ms();
    while WARM_OK.load(Ordering::Acquire) + WARM_FAILED.load(Ordering::Acquire) < n {
        if now_ms() - start > WARM_BOOT_TIMEOUT_MS {
            fatal(
                "timeout: a secondary CPU did not report RMM_BOOT_COMPLETE",
                semihost::EXIT_MONITOR_ERROR,
            );
        }
        core::hint::spin_loop();
    }
    if WARM_FAILED.load(Ordering::Acquire) != 0 {
        let status = WARM_STATUS.load(Ordering::Acquire);
        println!(
            "RMM warm boot FAILED on a secondary CPU: status {:#x} ({})",
            status,
            boot_error_name(status)
        );
        semihost::exit(semihost::EXIT_RMM_BOOT_FAILED);
    }
    println!("RMM warm boot complete on {n} secondary CPU(s); they wait in EL3 for PSCI CPU_ON");
}
