//! The test host's main flow: banner, GPT check, conformance tests, summary, exit.

use core::fmt::Write;

use rmm_conformance::{check, suites, TestDef};

use crate::host::{QemuHost, NON_MEMORY_ADDR, NS_POOL_BASE, RMM_CARVEOUT};
use crate::params::{Mode, Params};
use crate::uart::Uart;
use crate::{
    asm, attest_token, bench, fp_check, gpt_check, leaks, realm_irq, realm_run, realm_switch,
    sha_check, smc_check, smp,
};

/// The EL3 test monitor's exit call (SiP service): x1 = QEMU's exit status.
const TEST_EXIT: u64 = 0xC200_0100;
/// PSCI `SYSTEM_OFF` (PSCI, DEN0022: SMC32 0x8400_0008).
const PSCI_SYSTEM_OFF: u64 = 0x8400_0008;
/// Printed before `SYSTEM_OFF` when EL3 has no [`TEST_EXIT`] (TF-A), followed by the
/// status: `cargo xtask run --el3 tf-a` takes the run's status from this line.
pub const EXIT_STATUS_LINE: &str = "NS test host: exit status ";

/// Exit status: every test passed.
pub const EXIT_PASS: u32 = 0;
/// Exit status: at least one test failed.
pub const EXIT_FAIL: u32 = 1;
/// Exit status: an unexpected exception at NS-EL2.
pub const EXIT_NS_FAULT: u32 = 6;
/// Exit status: the test host panicked.
pub const EXIT_NS_PANIC: u32 = 7;

/// Printed when the run is over, before [`exit`] ends it: the RMM is idle, so the xtask
/// may read the RMM's stacks from memory now (their high-water mark,
/// `docs/firmware.md`). It answers with a byte on the console when it has; the host
/// waits for that byte at most [`STACKS_WAIT_SECONDS`].
pub const STACKS_READABLE_LINE: &str = "NS test host: done; the RMM's stacks may be read";
/// How long [`exit`] waits for the xtask's byte (counter time): longer than the
/// xtask may take to connect to QEMU's QMP socket and save the stacks on a loaded
/// machine (it answers within milliseconds otherwise). A byte typed on the console
/// ends the wait of a run started by hand.
const STACKS_WAIT_SECONDS: u64 = 30;

/// Ends the run: prints [`STACKS_READABLE_LINE`] and waits for the answer, then ends
/// it. Under the EL3 test monitor, [`TEST_EXIT`] ends QEMU with `status`.
/// TF-A does not know that call (it returns SMCCC NOT_SUPPORTED): then the status is
/// printed ([`EXIT_STATUS_LINE`]) and the machine powered off with PSCI `SYSTEM_OFF`
/// (TF-A's QEMU port: the secure GPIO power-off line, QEMU exits with 0).
pub fn exit(status: u32) -> ! {
    let _ = writeln!(Uart, "{STACKS_READABLE_LINE}");
    let deadline = asm::cntpct() + STACKS_WAIT_SECONDS * asm::cntfrq();
    while crate::uart::try_get_byte().is_none() && asm::cntpct() < deadline {
        core::hint::spin_loop();
    }
    asm::smc(TEST_EXIT, [status as u64, 0, 0, 0, 0, 0]);
    let _ = writeln!(
        Uart,
        "{EXIT_STATUS_LINE}{status} (EL3 has no TEST_EXIT: PSCI SYSTEM_OFF)"
    );
    asm::smc(PSCI_SYSTEM_OFF, [0; 6]);
    loop {
        core::hint::spin_loop();
    }
}

/// Entry from [`crate::asm`] with `.bss` zeroed and the stack set.
pub extern "C" fn ns_main() -> ! {
    if let Some(boot) = crate::vmm::boot_block() {
        exit(crate::vmm::boot_linux(&boot));
    }
    let mut out = Uart;
    let params = Params::read();
    if params.mode() != Mode::Suite {
        bench::run(params.mode());
    }
    let cpus = match smp::start() {
        Ok(()) => 2,
        Err(why) => {
            let _ = writeln!(out, "NS test host: {why}; the tests run on CPU 0 only");
            1
        }
    };
    let _ = writeln!(
        out,
        "NS test host at NS-EL2: RMI through SMC, test granules from {NS_POOL_BASE:#x}, \
         non-memory address {NON_MEMORY_ADDR:#x}, RMM carve-out {RMM_CARVEOUT:#x}, \
         {cpus} CPU(s) (tests on CPU 0, calls on CPU 1 through a mailbox)"
    );
    let filter = params.filter();
    let _ = writeln!(
        out,
        "tests: {}",
        if filter.is_empty() { "all" } else { filter }
    );
    let fixture_checks = [&gpt_check::TEST, &smc_check::TEST, &smp::TEST];
    // The FP/SIMD check reports on every SMC made before it, so it runs last.
    let tests = fixture_checks
        .into_iter()
        .chain(suites::all().filter(|t: &&TestDef| params.selected(t.name)))
        .chain(
            realm_run::TESTS
                .iter()
                .chain(realm_switch::TESTS)
                .chain([
                    &attest_token::TEST,
                    &realm_irq::TEST,
                    &sha_check::MEASURED,
                    &sha_check::SVE,
                    &sha_check::REM,
                ])
                .filter(|t: &&TestDef| params.selected(t.name)),
        )
        .chain([&fp_check::TEST]);
    // One host for every test; between tests, what a test left behind is reported and
    // torn down (see `leaks`).
    let mut host = QemuHost::new();
    let mut previous: Option<&'static str> = None;
    let mut leaked_tests = 0u32;
    let mut after = |name: &str, host: &mut QemuHost| {
        let (next, leaked) = leaks::after_test(name, *host);
        *host = next;
        leaked_tests += u32::from(leaked);
    };
    let host_for = |t: &TestDef| {
        if let Some(p) = previous {
            after(p, &mut host);
        }
        previous = Some(t.name);
        host
    };
    let summary = check::run(tests, host_for, &mut out);
    if let Some(p) = previous {
        after(p, &mut host);
    }
    let Ok(summary) = summary else {
        exit(EXIT_FAIL)
    };
    let status = if summary.failed == 0 {
        EXIT_PASS
    } else {
        EXIT_FAIL
    };
    let _ = writeln!(
        out,
        "NS test host: {} ({} passed, {} failed, {} skipped; {} test(s) did not clean up)",
        if status == EXIT_PASS { "PASS" } else { "FAIL" },
        summary.passed,
        summary.failed,
        summary.skipped,
        leaked_tests
    );
    exit(status)
}
