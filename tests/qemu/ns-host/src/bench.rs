//! The path-length bench's Normal-world client (`cargo xtask bench --qemu`): times RMI
//! calls with the generic counter under QEMU's `-icount shift=0`, where it advances once
//! per instruction executed on any EL, and prints one line per sample:
//!
//! ```text
//! bench: <command> <instructions>
//! ```
//!
//! `<instructions>` is what ran outside this client for the call's round trip (EL3, R-EL2
//! and a realm at EL1): the counter difference across `mrs; smc; mrs` less the same
//! across `mrs; nop; mrs` ([`asm::timed_smc`], [`asm::timed_nop`]). The xtask subtracts
//! EL3's share, measured under the same EL3 with the RMM stub in the RMM's place
//! ([`Mode::BenchEl3`]: `bench-el3: <command> <instructions> own <stub's own>`), and
//! checks that repeated samples agree.
//!
//! The workload follows the reference's method (`docs/benchmarks.md`): a warm-up
//! lifecycle whose samples are not printed, then realm lifecycles with SHA-256 and
//! SHA-512 twice each (the commands that extend the RIM are named with `_sha512` in the
//! SHA-512 realms). A lifecycle: a 48-bit realm starting at level 0; RTT_CREATE at
//! levels 1-3 and RTT_INIT_RIPAS of the first 2 MiB; a code page loaded measured at IPA
//! 0, the host-call page unmeasured at 0x1000, DATA_CREATE_UNKNOWN at 0x2000; a REC with
//! the auxiliary granules RMI_REC_AUX_COUNT asks for; REALM_ACTIVATE; REC_ENTER (the
//! realm runs `loop: HOST_CALL; RSI_VERSION; HOST_CALL; b loop` at EL1, MMU off, so
//! entries alternate between "RSI_VERSION + host call" and "host call only"); REC_ENTER
//! round trips that end in an IRQ exit, with no valid list register and with every
//! implemented one valid ([`irq_exits`]); then every destroy. Every status is checked; a failure ends the run with a message.

use core::fmt::Write;

use rmi_abi::{RmiFid, RmiRecEnter, RmiRecExit};
use rmm_conformance::builder::{rec_params, write_params, Pool, RealmSpec};
use rmm_conformance::{Checks, Host};
use zerocopy::{FromBytes, FromZeros, IntoBytes};

use crate::asm;
use crate::host::QemuHost;
use crate::params::Mode;
use crate::uart::Uart;
use crate::{gic, realm_irq};

/// Samples of each command in one boot, after the warm-up.
const LIFECYCLES: usize = 2;
/// Samples of the small commands.
const REPEAT: usize = 3;

/// RMI_VERSION's requested version: 1.0 (DEN0137 1.0, B4.3.25: major in \[30:16\]).
const RMI_ABI_1_0: u64 = 1 << 16;
/// RmiDataFlags: measure the content (DEN0137 1.0, B4.4.3).
const MEASURE_CONTENT: u64 = 1;
/// RMI_EXIT_HOST_CALL (DEN0137 1.0, B4.4.17).
const EXIT_HOST_CALL: u8 = 5;
/// RMI_EXIT_IRQ (DEN0137 1.0, B4.4.17).
const EXIT_IRQ: u8 = 1;
/// The realm's host-call structure (RsiHostCall, immediate 0): the page at this IPA.
const HOST_CALL_IPA: u64 = 0x1000;
/// Where the bench puts its DATA_CREATE_UNKNOWN.
const UNKNOWN_IPA: u64 = 0x2000;

/// The realm's program at IPA 0 (A64 encodings, Arm ARM C6.2): RSI_HOST_CALL
/// (0xC400_0199, x1 = [`HOST_CALL_IPA`]), RSI_VERSION (0xC400_0190, x1 = 1.0), host call
/// again, branch back. The RSI_VERSION block is 4 instructions (`movz`, `movk`, `movz`,
/// `smc`), which the xtask takes off the difference of the two kinds of entry.
const REALM_PROGRAM: [u32; 13] = [
    movz(0, 0x0199, 0),
    movk(0, 0xC400, 1),
    movz(1, HOST_CALL_IPA as u16, 0),
    SMC_0,
    movz(0, 0x0190, 0),
    movk(0, 0xC400, 1),
    movz(1, 1, 1),
    SMC_0,
    movz(0, 0x0199, 0),
    movk(0, 0xC400, 1),
    movz(1, HOST_CALL_IPA as u16, 0),
    SMC_0,
    b(-12),
];

/// `SMC #0`.
const SMC_0: u32 = 0xD400_0003;

/// `MOVZ Xd, #imm, LSL #(16 * hw)`.
const fn movz(rd: u32, imm: u16, hw: u32) -> u32 {
    0xD280_0000 | hw << 21 | (imm as u32) << 5 | rd
}

/// `MOVK Xd, #imm, LSL #(16 * hw)`.
const fn movk(rd: u32, imm: u16, hw: u32) -> u32 {
    0xF280_0000 | hw << 21 | (imm as u32) << 5 | rd
}

/// `B` by `words` instructions.
const fn b(words: i32) -> u32 {
    0x1400_0000 | (words as u32 & 0x03FF_FFFF)
}

/// Ends the run with `msg` (a failed call: the bench has no result).
fn fail(msg: core::fmt::Arguments<'_>) -> ! {
    let _ = writeln!(Uart, "bench: FAILED: {msg}");
    crate::run::exit(crate::run::EXIT_FAIL)
}

struct Bench {
    /// The counter difference around a `nop`.
    nop: u64,
    /// Whether samples are printed (not during the warm-up).
    print: bool,
    /// The stub is the RMM: its own count is in x1 of every answer.
    stub: bool,
}

impl Bench {
    /// `fid(args)`, timed; must return `RMI_SUCCESS`. Prints the sample as `name`.
    fn call(&self, name: impl core::fmt::Display, fid: RmiFid, args: &[u64]) -> [u64; 5] {
        let mut a = [0u64; 6];
        a[..args.len()].copy_from_slice(args);
        let (r, delta) = asm::timed_smc(fid.id() as u64, a);
        if r[0] != 0 {
            fail(format_args!(
                "{name}: {fid:?}{args:x?} returned {:#x}",
                r[0]
            ));
        }
        let n = delta.wrapping_sub(self.nop);
        if self.print {
            if self.stub {
                let _ = writeln!(Uart, "bench-el3: {name} {n} own {}", r[1]);
            } else {
                let _ = writeln!(Uart, "bench: {name} {n}");
            }
        }
        r
    }
}

/// A delegated granule from `pool`, or the end of the run.
fn delegated(pool: &Pool<'_>, c: &mut Checks) -> u64 {
    pool.delegated(c)
        .unwrap_or_else(|_| fail(format_args!("delegating a granule")))
}

/// Runs the bench in `mode` and ends the run.
pub fn run(mode: Mode) -> ! {
    let nop = asm::timed_nop();
    let _ = writeln!(
        Uart,
        "bench: {} (counter delta around a nop: {nop})",
        match mode {
            Mode::BenchEl3 => "EL3's share, with the RMM stub",
            _ => "RMM path lengths",
        }
    );
    let host = QemuHost::new();
    let stub = mode == Mode::BenchEl3;
    // The IRQ exits' interrupt reaches the CPU only with Group 1 enabled at the
    // distributor (the suite's SMP start does this; the bench does not start CPU 1).
    gic::init_distributor();
    let mut bench = Bench {
        nop,
        print: false,
        stub,
    };
    // Warm-up (first calls of each path, the console's first lines), then the samples.
    for round in 0..=REPEAT {
        bench.print = round > 0;
        small_commands(&bench, &host);
    }
    if !stub {
        let mut c = Checks::new();
        bench.print = false;
        lifecycle(&bench, &host, &mut c, 0, 1);
        bench.print = true;
        for _ in 0..LIFECYCLES {
            lifecycle(&bench, &host, &mut c, 0, 2);
            lifecycle(&bench, &host, &mut c, 1, 2);
        }
    }
    let _ = writeln!(Uart, "bench: done");
    crate::run::exit(crate::run::EXIT_PASS)
}

/// VERSION, FEATURES(0), and DELEGATE then UNDELEGATE of one granule.
fn small_commands(b: &Bench, h: &QemuHost) {
    b.call("version", RmiFid::Version, &[RMI_ABI_1_0]);
    b.call("features", RmiFid::Features, &[0]);
    let g = h.ns_granule(0);
    b.call("granule_delegate", RmiFid::GranuleDelegate, &[g]);
    b.call("granule_undelegate", RmiFid::GranuleUndelegate, &[g]);
}

/// One realm lifecycle (see the module documentation), with `hash_algo` (0 SHA-256, 1
/// SHA-512) and `enters` pairs of REC entries after the first.
fn lifecycle(b: &Bench, h: &QemuHost, c: &mut Checks, hash_algo: u8, enters: usize) {
    let sha512 = hash_algo == 1;
    let pool = Pool::new(h);
    let spec = RealmSpec {
        s2sz: 48,
        start_level: 0,
        num_start: 1,
        vmid: 1,
        hash_algo,
        lpa2: false,
    };
    let rtt_base = delegated(&pool, c);
    let rd = delegated(&pool, c);
    let params = pool.ns();
    if !write_params(h, params, &spec.params(rtt_base)) {
        fail(format_args!("writing the realm parameters"));
    }
    let name = |sha256: &'static str, sha512_name: &'static str| {
        if sha512 {
            sha512_name
        } else {
            sha256
        }
    };
    b.call(
        name("realm_create", "realm_create_sha512"),
        RmiFid::RealmCreate,
        &[rd, params],
    );
    let rtts = [1u64, 2, 3].map(|level| {
        let t = delegated(&pool, c);
        let what = ["", "rtt_create_l1", "rtt_create_l2", "rtt_create_l3"][level as usize];
        b.call(what, RmiFid::RttCreate, &[rd, t, 0, level]);
        t
    });
    b.call(
        name("rtt_init_ripas", "rtt_init_ripas_sha512"),
        RmiFid::RttInitRipas,
        &[rd, 0, 0x20_0000],
    );
    // The code page, measured; the host-call page; an unknown page.
    let src = pool.ns();
    let mut code = [0u8; 4096];
    for (i, w) in REALM_PROGRAM.iter().enumerate() {
        code[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    if !h.write_ns(src, &code) {
        fail(format_args!("writing the realm's code"));
    }
    let data = [
        delegated(&pool, c),
        delegated(&pool, c),
        delegated(&pool, c),
    ];
    b.call(
        name("data_create", "data_create_sha512"),
        RmiFid::DataCreate,
        &[rd, data[0], 0, src, MEASURE_CONTENT],
    );
    let zero = pool.ns();
    if !h.write_ns(zero, &[0u8; 4096]) {
        fail(format_args!("writing the host-call page"));
    }
    b.call(
        name("data_create_unmeasured", "data_create_unmeasured_sha512"),
        RmiFid::DataCreate,
        &[rd, data[1], HOST_CALL_IPA, zero, 0],
    );
    b.call(
        "data_create_unknown",
        RmiFid::DataCreateUnknown,
        &[rd, data[2], UNKNOWN_IPA],
    );
    // The REC.
    let aux = b.call("rec_aux_count", RmiFid::RecAuxCount, &[rd])[1] as usize;
    let mut p = rec_params(0, 0);
    p.num_aux = aux as u64;
    for a in p.aux.iter_mut().take(aux) {
        *a = delegated(&pool, c);
    }
    let rec_params_pa = pool.ns();
    if !h.write_ns(rec_params_pa, p.as_bytes()) {
        fail(format_args!("writing the REC parameters"));
    }
    let rec = delegated(&pool, c);
    b.call(
        name("rec_create", "rec_create_sha512"),
        RmiFid::RecCreate,
        &[rd, rec, rec_params_pa],
    );
    b.call("realm_activate", RmiFid::RealmActivate, &[rd]);
    // The entries: the first runs to the first host call; then the two kinds alternate.
    let run = pool.ns();
    // REC_ENTER with `enter` as RecEnter, timed as `what` (untimed without), which must
    // end in an exit with `reason`; the exit record.
    let enter = |what: Option<&dyn core::fmt::Display>, e: &RmiRecEnter, reason: u8| {
        if !h.write_ns(run, e.as_bytes()) {
            fail(format_args!("writing RecEnter"));
        }
        match what {
            Some(what) => {
                b.call(what, RmiFid::RecEnter, &[rec, run]);
            }
            None => {
                if h.rmi(RmiFid::RecEnter, &[rec, run])[0] != 0 {
                    fail(format_args!("an untimed REC_ENTER failed"));
                }
            }
        }
        let mut page = [0u8; 0x800];
        let exit = if h.read_ns(run + 0x800, &mut page) {
            RmiRecExit::read_from_bytes(&page[..]).ok()
        } else {
            None
        };
        match exit {
            Some(x) if x.exit_reason == reason => x,
            x => fail(format_args!(
                "REC_ENTER: exit reason {:?}, not {reason}",
                x.map(|x| x.exit_reason)
            )),
        }
    };
    let plain = RmiRecEnter::new_zeroed();
    enter(Some(&"rec_enter_first"), &plain, EXIT_HOST_CALL);
    for _ in 0..enters {
        enter(
            Some(&"rec_enter_rsi_version_host_call"),
            &plain,
            EXIT_HOST_CALL,
        );
        enter(Some(&"rec_enter_host_call"), &plain, EXIT_HOST_CALL);
    }
    irq_exits(&enter, enters);
    // Teardown: every destroy timed once per lifecycle.
    b.call("rec_destroy", RmiFid::RecDestroy, &[rec]);
    // The first page's `top` output is the next page; the last one's is the end of the
    // RTT, after every entry has been looked at. The middle one is not timed.
    b.call("data_destroy", RmiFid::DataDestroy, &[rd, 0]);
    if h.rmi(RmiFid::DataDestroy, &[rd, HOST_CALL_IPA])[0] != 0 {
        fail(format_args!("destroying the host-call page"));
    }
    b.call("data_destroy_last", RmiFid::DataDestroy, &[rd, UNKNOWN_IPA]);
    for (level, _) in [(3u64, rtts[2]), (2, rtts[1]), (1, rtts[0])] {
        let what = ["", "rtt_destroy_l1", "rtt_destroy_l2", "rtt_destroy_l3"][level as usize];
        b.call(what, RmiFid::RttDestroy, &[rd, 0, level]);
    }
    b.call("realm_destroy", RmiFid::RealmDestroy, &[rd]);
    if pool.release(c).is_err() {
        fail(format_args!("undelegating the lifecycle's granules"));
    }
}

/// A REC_ENTER of the lifecycle's REC: timed as the name given (untimed without one),
/// with this RecEnter, expecting this exit reason; returns the exit record.
type EnterFn<'a> = dyn Fn(Option<&dyn core::fmt::Display>, &RmiRecEnter, u8) -> RmiRecExit + 'a;

/// REC_ENTER round trips that end in an IRQ exit (DEN0137 1.0, A4.3.5), `n` of each
/// kind: with no valid list register, and with every implemented one valid (ICH_VTR_EL2;
/// QEMU's GICv3 implements 4), each holding a pending virtual interrupt (vINTID 32..,
/// priority 0xA0, Group 1) and RecEnter.gicv3_hcr = UIE, as the reference's workload
/// did (its second figure is for 16). The exit is made deterministic: the host's own
/// EL2 physical timer (CNTHP, PPI 26) is set with its compare value in the past, so its
/// interrupt is pending at the CPU before the SMC (the host runs with PSTATE.I masked
/// and does not take it); neither EL3 nor R-EL2 takes it, and with HCR_EL2.IMO set for
/// the realm it is taken to R-EL2 as soon as the realm is entered, before the realm
/// executes an instruction. Each exit must be IRQ, report the list registers as they
/// went in (DEN0137 1.0, RmiRecExit: gicv3_lrs are the values the RMM saved
/// at the exit; nothing in the realm acknowledged them) and the host's UIE in
/// gicv3_hcr. The first entry completes the previous host
/// call and is not timed, so every timed entry follows an IRQ exit. The timer is
/// stopped and its interrupt cleared after.
fn irq_exits(enter: &EnterFn<'_>, n: usize) {
    /// ICH_LR<n>_EL2: State [63:62] = pending (0b01), Group [60], Priority [55:48],
    /// vINTID [31:0] (GICv3 architecture, IHI 0069).
    fn pending_lr(vintid: u64) -> u64 {
        1 << 62 | 1 << 60 | 0xA0 << 48 | vintid
    }
    /// ICH_HCR_EL2.UIE [1].
    const HCR_UIE: u64 = 1 << 1;
    let lrs = gic::list_registers().min(rmi_abi::REC_GIC_NUM_LRS);
    let no_lrs = RmiRecEnter::new_zeroed();
    let mut all_lrs = RmiRecEnter::new_zeroed();
    all_lrs.gicv3_hcr = HCR_UIE;
    for (i, lr) in all_lrs.gicv3_lrs.iter_mut().take(lrs).enumerate() {
        *lr = pending_lr(32 + i as u64);
    }
    gic::enable_cpu_if();
    gic::enable(gic::CNTHP_PPI);
    realm_irq::set_cnthp(realm_irq::CTL_ENABLE, 0);
    struct Lrs(usize);
    impl core::fmt::Display for Lrs {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            write!(f, "rec_enter_irq_{}_lrs", self.0)
        }
    }
    let check = |what: &str, e: &RmiRecEnter, x: &RmiRecExit| {
        if x.esr != 0 || x.far != 0 || x.hpfar != 0 {
            fail(format_args!("{what}: IRQ exit with a syndrome"));
        }
        if x.gicv3_lrs[..lrs] != e.gicv3_lrs[..lrs] {
            fail(format_args!(
                "{what}: exit list registers {:x?}, entered with {:x?}",
                &x.gicv3_lrs[..lrs],
                &e.gicv3_lrs[..lrs]
            ));
        }
        if x.gicv3_hcr & HCR_UIE != e.gicv3_hcr & HCR_UIE {
            fail(format_args!("{what}: exit gicv3_hcr {:#x}", x.gicv3_hcr));
        }
    };
    let x = enter(None, &no_lrs, EXIT_IRQ);
    check("rec_enter_irq (untimed)", &no_lrs, &x);
    for _ in 0..n {
        let x = enter(Some(&"rec_enter_irq"), &no_lrs, EXIT_IRQ);
        check("rec_enter_irq", &no_lrs, &x);
    }
    for _ in 0..n {
        let x = enter(Some(&Lrs(lrs)), &all_lrs, EXIT_IRQ);
        check("rec_enter_irq_n_lrs", &all_lrs, &x);
    }
    realm_irq::set_cnthp(0, 0);
    gic::disable(gic::CNTHP_PPI);
    gic::disable_cpu_if();
}
