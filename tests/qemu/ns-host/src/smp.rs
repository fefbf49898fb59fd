//! CPU 1 in the Normal world: brought up with PSCI `CPU_ON` (DEN0022), it serves the
//! SMCs CPU 0 posts to its mailbox, so that a test can call the RMM on either CPU
//! ([`rmm_conformance::Host::smc`]) and on both at once
//! ([`rmm_conformance::Host::smc_during`]).
//!
//! `CPU_ON` names CPU 1 (MPIDR Aff0 = 1), the entry point `ns_secondary_entry` below
//! and a context id the entry checks: EL3 (the test monitor, or TF-A, which warm boots
//! the RMM on the CPU first) starts it there at NS-EL2 with x0 = the context id, MMU
//! off and interrupts masked. It takes its own stack and the host's vectors, enables
//! its GIC CPU interface and [`gic::WAKE_SGI`], says it is online and waits in WFI.
//!
//! The mailbox holds one request at a time, an SMC or an SGI to send after a delay
//! ([`post_sgi`]): CPU 0 writes the function identifier and arguments, publishes a new sequence number (release) and sends CPU 1 the wake SGI;
//! CPU 1 acknowledges the SGI (then sees the request, and nothing is left pending at it
//! while the call runs a realm there), makes the SMC (through [`crate::fp_check`], like every
//! SMC of the run), writes x0..x4 and publishes the sequence number as done. CPU 1
//! interrupts CPU 0 only when asked to ([`post_sgi`]), so nothing else becomes pending
//! on CPU 0 while a realm runs there; CPU 0 polls for the result.

use core::arch::{asm, global_asm};
use core::cell::UnsafeCell;
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rmm_conformance::{Checks, Host, Outcome, TestDef};

use crate::gic;
use crate::uart::Uart;

/// The CPU this module brings up.
pub const CPU: usize = 1;
/// Its MPIDR affinity (QEMU `virt`: Aff0 = the CPU's index).
const MPIDR: u64 = CPU as u64;
/// The context id `CPU_ON` passes, checked by the entry.
const CONTEXT: u64 = u64::from_le_bytes(*b"NSCPU1\0\0");
/// PSCI (DEN0022) functions and return codes.
const PSCI_VERSION: u64 = 0x8400_0000;
const PSCI_CPU_ON_64: u64 = 0xC400_0003;
const PSCI_AFFINITY_INFO_64: u64 = 0xC400_0004;
const PSCI_INVALID_PARAMETERS: u64 = -2i64 as u64;
const PSCI_ALREADY_ON: u64 = -4i64 as u64;
/// AFFINITY_INFO: ON.
const AFFINITY_ON: u64 = 0;
/// An MPIDR that names no CPU of QEMU `virt` under either EL3 (Aff2 = 1).
const NO_SUCH_CPU: u64 = 1 << 16;
/// How long CPU 0 waits for CPU 1 to come up.
const START_TIMEOUT_MS: u64 = 2000;
/// How long CPU 0 waits for CPU 1 to answer a request.
const CALL_TIMEOUT_S: u64 = 30;
/// CPTR_EL2 at entry (HCR_EL2.E2H = 0): as CPU 0's ([`crate::asm`]): FP/SIMD not
/// trapped, SVE and SME trapped.
const CPTR_EL2: u64 = 0x33FF;
const STACK_SIZE: usize = 0x10000;

/// CPU 1's stack (in `.bss`).
#[repr(C, align(16))]
struct Stack(UnsafeCell<[u8; STACK_SIZE]>);

// SAFETY: only CPU 1 uses it, through SP.
unsafe impl Sync for Stack {}

static STACK: Stack = Stack(UnsafeCell::new([0; STACK_SIZE]));

global_asm!(
    ".section .text.secondary, \"ax\"",
    ".global ns_secondary_entry",
    "ns_secondary_entry:",
    // The state CPU_ON left, for `TEST`: x1 = CurrentEL, x2 = DAIF, x3 = SCTLR_EL2.
    "    mrs x1, currentel",
    "    mrs x2, daif",
    "    mrs x3, sctlr_el2",
    "    msr daifset, #0xf",
    "    mov x4, #{cptr}",
    "    msr cptr_el2, x4",
    "    isb",
    "    adrp x4, ns_vectors",
    "    add x4, x4, :lo12:ns_vectors",
    "    msr vbar_el2, x4",
    "    isb",
    "    adrp x4, {stack}",
    "    add x4, x4, :lo12:{stack}",
    "    mov x5, #{stack_size}",
    "    add x4, x4, x5",
    "    mov sp, x4",
    "    bl {main}",
    "1:  wfi",
    "    b 1b",
    cptr = const CPTR_EL2,
    stack = sym STACK,
    stack_size = const STACK_SIZE,
    main = sym cpu1_main,
);

unsafe extern "C" {
    fn ns_secondary_entry();
}

static ONLINE: AtomicBool = AtomicBool::new(false);
/// x0, CurrentEL, DAIF and SCTLR_EL2 at CPU 1's entry.
static ENTRY_STATE: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
/// Sequence number of the last request posted, and of the last one served.
static POSTED: AtomicU64 = AtomicU64::new(0);
static SERVED: AtomicU64 = AtomicU64::new(0);
/// The request: its kind, then x0..x6 of an SMC or the arguments of an SGI.
static REQUEST: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];
/// Request kinds.
const KIND_SMC: u64 = 0;
const KIND_SGI: u64 = 1;
/// Its result: x0..x4.
static RESULT: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];

fn cntfrq() -> u64 {
    let v: u64;
    // SAFETY: reading the counter frequency has no side effect.
    unsafe { asm!("mrs {}, cntfrq_el0", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// Powers CPU 1 on and waits for it; `Err` with what went wrong (the run then has one
/// CPU: `-smp 1`, or an EL3 without `CPU_ON`).
pub fn start() -> Result<(), &'static str> {
    gic::init_distributor();
    let entry = ns_secondary_entry as *const () as u64;
    let r = crate::fp_check::smc(PSCI_CPU_ON_64, [MPIDR, entry, CONTEXT, 0, 0, 0]);
    if r[0] != 0 {
        let _ = writeln!(
            Uart,
            "PSCI CPU_ON(CPU {CPU}) returned {} (-2 INVALID_PARAMETERS: no such CPU)",
            r[0] as i64
        );
        return Err("PSCI CPU_ON failed");
    }
    let ticks = cntfrq() / 1000 * START_TIMEOUT_MS;
    let start = crate::asm::cntpct();
    while !ONLINE.load(Ordering::Acquire) {
        if crate::asm::cntpct() - start > ticks {
            return Err("CPU 1 did not come up after PSCI CPU_ON succeeded");
        }
        core::hint::spin_loop();
    }
    Ok(())
}

/// Whether CPU 1 runs and serves the mailbox.
pub fn online() -> bool {
    ONLINE.load(Ordering::Acquire)
}

/// A request in flight on CPU 1 (from [`post`]).
#[must_use]
pub struct Pending(u64);

/// Posts `smc #0` with x0 = `fid`, x1..x6 = `args` to CPU 1 and returns at once.
///
/// # Panics
/// If CPU 1 is not online or a request is still in flight (one at a time).
pub fn post(fid: u64, args: [u64; 6]) -> Pending {
    let [a1, a2, a3, a4, a5, a6] = args;
    post_request([KIND_SMC, fid, a1, a2, a3, a4, a5, a6])
}

/// Posts to CPU 1: wait `delay_ms`, then send SGI `intid` to CPU `target`; returns at
/// once ([`wait`] then returns zeros).
///
/// # Panics
/// As [`post`].
pub fn post_sgi(delay_ms: u64, intid: u32, target: usize) -> Pending {
    post_request([KIND_SGI, delay_ms, intid.into(), target as u64, 0, 0, 0, 0])
}

fn post_request(request: [u64; 8]) -> Pending {
    assert!(online(), "CPU {CPU} is not online");
    let n = POSTED.load(Ordering::Relaxed);
    assert_eq!(SERVED.load(Ordering::Acquire), n, "a request is in flight");
    for (r, a) in REQUEST.iter().zip(request) {
        r.store(a, Ordering::Relaxed);
    }
    POSTED.store(n + 1, Ordering::Release);
    gic::send_sgi(gic::WAKE_SGI, CPU);
    Pending(n + 1)
}

/// Waits for the request `p` to be served: x0..x4.
///
/// # Panics
/// If CPU 1 has not answered after [`CALL_TIMEOUT_S`] (the run then ends with the
/// panic's report instead of QEMU's timeout).
pub fn wait(p: Pending) -> [u64; 5] {
    let ticks = cntfrq() * CALL_TIMEOUT_S;
    let start = crate::asm::cntpct();
    while SERVED.load(Ordering::Acquire) != p.0 {
        assert!(
            crate::asm::cntpct() - start < ticks,
            "CPU {CPU} did not answer request {} in {CALL_TIMEOUT_S} s",
            p.0
        );
        core::hint::spin_loop();
    }
    core::array::from_fn(|i| RESULT[i].load(Ordering::Relaxed))
}

/// `smc #0` on CPU 1: [`post`], then [`wait`].
pub fn call(fid: u64, args: [u64; 6]) -> [u64; 5] {
    wait(post(fid, args))
}

/// CPU 1's code (from `ns_secondary_entry`: x0 = the context id, then CurrentEL, DAIF
/// and SCTLR_EL2 as CPU_ON left them).
extern "C" fn cpu1_main(context: u64, current_el: u64, daif: u64, sctlr: u64) -> ! {
    for (slot, v) in ENTRY_STATE.iter().zip([context, current_el, daif, sctlr]) {
        slot.store(v, Ordering::Relaxed);
    }
    gic::enable_cpu_if();
    gic::enable(gic::WAKE_SGI);
    ONLINE.store(true, Ordering::Release);
    let mut served = 0;
    loop {
        // Each request comes with one wake SGI, sent after the request was published:
        // once it is acknowledged (and so no longer pending at this CPU while the call
        // runs a realm here), the request is visible.
        match gic::acknowledge() {
            gic::SPURIOUS.. => {
                gic::wait_for_interrupt();
                continue;
            }
            intid => gic::end_of_interrupt(intid),
        }
        let n = POSTED.load(Ordering::Acquire);
        if n == served {
            continue;
        }
        let x: [u64; 8] = core::array::from_fn(|i| REQUEST[i].load(Ordering::Relaxed));
        let r = match x[0] {
            KIND_SGI => {
                let start = crate::asm::cntpct();
                let ticks = cntfrq() / 1000 * x[1];
                while crate::asm::cntpct() - start < ticks {
                    core::hint::spin_loop();
                }
                gic::send_sgi(x[2] as u32, x[3] as usize);
                [0; 5]
            }
            _ => crate::fp_check::smc(x[1], [x[2], x[3], x[4], x[5], x[6], x[7]]),
        };
        for (slot, v) in RESULT.iter().zip(r) {
            slot.store(v, Ordering::Relaxed);
        }
        served = n;
        SERVED.store(n, Ordering::Release);
    }
}

/// The check of CPU 1's start, run with the test host's own checks.
pub const TEST: TestDef = TestDef {
    name: "qemu_psci_cpu_on",
    run: check,
};

/// DEN0022 (PSCI 1.1), CPU_ON and AFFINITY_INFO as the EL3 implements them: CPU 1
/// started at the entry point at the caller's Exception level (NS-EL2) with x0 = the
/// context id, D, A, I, F masked, MMU and data cache off; both CPUs are ON (asked from
/// either); CPU_ON of a CPU that is on is ALREADY_ON, of an MPIDR that names no CPU
/// INVALID_PARAMETERS, as is AFFINITY_INFO of it.
fn check(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    if !online() {
        return Err(Outcome::Skipped("CPU 1 is not online"));
    }
    let e: [u64; 4] = core::array::from_fn(|i| ENTRY_STATE[i].load(Ordering::Relaxed));
    c.eq("CPU 1 entered with x0 = the context id", e[0], CONTEXT)?;
    c.eq("... at EL2 (CurrentEL.EL)", e[1] >> 2 & 3, 2)?;
    c.eq("... with D, A, I, F masked", e[2] & 0x3C0, 0x3C0)?;
    c.eq(
        "... MMU and data cache off (SCTLR_EL2.M, C)",
        e[3] & 0b101,
        0,
    )?;
    let psci = |cpu: usize, fid: u64, a: [u64; 3]| h.smc(cpu, fid, [a[0], a[1], a[2], 0, 0, 0])[0];
    c.eq("PSCI_VERSION: 1.x", psci(0, PSCI_VERSION, [0; 3]) >> 16, 1)?;
    for (what, cpu, target) in [
        ("AFFINITY_INFO(CPU 0): ON", 0, 0),
        ("AFFINITY_INFO(CPU 1): ON", 0, MPIDR),
        ("AFFINITY_INFO(CPU 0) from CPU 1: ON", CPU, 0),
    ] {
        c.eq(
            what,
            psci(cpu, PSCI_AFFINITY_INFO_64, [target, 0, 0]),
            AFFINITY_ON,
        )?;
    }
    let entry = ns_secondary_entry as *const () as u64;
    c.eq(
        "CPU_ON(CPU 1) again: ALREADY_ON",
        psci(0, PSCI_CPU_ON_64, [MPIDR, entry, CONTEXT]),
        PSCI_ALREADY_ON,
    )?;
    c.eq(
        "CPU_ON(no such CPU): INVALID_PARAMETERS",
        psci(0, PSCI_CPU_ON_64, [NO_SUCH_CPU, entry, CONTEXT]),
        PSCI_INVALID_PARAMETERS,
    )?;
    c.eq(
        "AFFINITY_INFO(no such CPU): INVALID_PARAMETERS",
        psci(0, PSCI_AFFINITY_INFO_64, [NO_SUCH_CPU, 0, 0]),
        PSCI_INVALID_PARAMETERS,
    )?;
    Ok(())
}
