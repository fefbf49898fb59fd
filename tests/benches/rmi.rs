//! Per-command cost of the RMM on the hosted simulation, in the shape of the reference
//! measurement (`docs/benchmarks.md`): a realm lifecycle repeated N times (SHA-256 and
//! SHA-512 realms alternating), every RMI call made through its own `#[inline(never)]`
//! wrapper `bench_<command>`, so that `cargo xtask bench` can count the instructions of
//! each command with callgrind. Run directly it prints wall-clock time per call, which
//! is informative only. Every status is checked: a failed call aborts the run.

use std::collections::BTreeMap;
use std::mem::offset_of;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use platform::CpuId;
use rmi_abi::{
    RmiFid, RmiRealmParams, RmiRecEnter, RmiRecEnterFlags, RmiRecExit, RmiRecExitReason,
    RmiRecParams, RmiRecRun,
};
use rmm::hosted::Machine;
use rsi_abi::fid::{RSI_HOST_CALL, RSI_VERSION};
use rsi_abi::RSI_ABI_VERSION;
use zerocopy::{FromZeros, IntoBytes};

const ENTRY: u64 = 0x8_0000;

/// What the realm does before its WFI.
static REALM_MODE: AtomicU8 = AtomicU8::new(MODE_WFI);
const MODE_WFI: u8 = 0;
const MODE_RSI_VERSION: u8 = 1;
const MODE_HOST_CALL: u8 = 2;

struct Bench {
    m: Machine,
    next: usize,
    time: BTreeMap<&'static str, (u32, Duration)>,
}

macro_rules! wrappers {
    ($($name:ident => $fid:ident),* $(,)?) => {
        $(
            // Each wrapper names its own function identifier, so that no two have the
            // same body (identical functions would be merged, and callgrind could not
            // tell the commands apart).
            #[inline(never)]
            fn $name(m: &Machine, a: &[u64; 6]) -> [u64; 5] {
                m.smc(0, RmiFid::$fid.id() as u64, *a)
            }
        )*
    };
}

wrappers!(
    bench_version => Version,
    bench_features => Features,
    bench_granule_delegate => GranuleDelegate,
    bench_granule_undelegate => GranuleUndelegate,
    bench_realm_create => RealmCreate,
    bench_realm_activate => RealmActivate,
    bench_realm_destroy => RealmDestroy,
    bench_rec_aux_count => RecAuxCount,
    bench_rtt_create => RttCreate,
    bench_rtt_destroy => RttDestroy,
    bench_rtt_init_ripas => RttInitRipas,
    bench_rtt_read_entry => RttReadEntry,
    bench_data_create => DataCreate,
    bench_data_create_unknown => DataCreateUnknown,
    bench_data_destroy => DataDestroy,
    bench_rec_create => RecCreate,
    bench_rec_destroy => RecDestroy,
    bench_rec_enter_irq => RecEnter,
);

/// Variants of commands measured apart: a second wrapper each, with a body of its own.
#[inline(never)]
fn bench_data_create_unmeasured(m: &Machine, a: &[u64; 6]) -> [u64; 5] {
    let mut a = *a;
    a[4] = 0;
    m.smc(0, RmiFid::DataCreate.id() as u64, a)
}

#[inline(never)]
fn bench_rec_enter_irq_16_lrs(m: &Machine, a: &[u64; 6]) -> [u64; 5] {
    std::hint::black_box(16);
    m.smc(0, RmiFid::RecEnter.id() as u64, *a)
}

#[inline(never)]
fn bench_rec_enter_rejected_gic(m: &Machine, a: &[u64; 6]) -> [u64; 5] {
    std::hint::black_box(1);
    m.smc(0, RmiFid::RecEnter.id() as u64, *a)
}

#[inline(never)]
fn bench_rec_enter_rejected_dup_vintid(m: &Machine, a: &[u64; 6]) -> [u64; 5] {
    std::hint::black_box(2);
    m.smc(0, RmiFid::RecEnter.id() as u64, *a)
}

#[inline(never)]
fn bench_rec_enter_rsi_version(m: &Machine, a: &[u64; 6]) -> [u64; 5] {
    std::hint::black_box(3);
    m.smc(0, RmiFid::RecEnter.id() as u64, *a)
}

#[inline(never)]
fn bench_rec_enter_host_call(m: &Machine, a: &[u64; 6]) -> [u64; 5] {
    std::hint::black_box(4);
    m.smc(0, RmiFid::RecEnter.id() as u64, *a)
}

#[inline(never)]
fn bench_rec_enter_host_call_complete(m: &Machine, a: &[u64; 6]) -> [u64; 5] {
    std::hint::black_box(5);
    m.smc(0, RmiFid::RecEnter.id() as u64, *a)
}

type Wrapper = fn(&Machine, &[u64; 6]) -> [u64; 5];

impl Bench {
    fn call(&mut self, name: &'static str, w: Wrapper, args: &[u64], want: u64) -> [u64; 5] {
        let mut a = [0u64; 6];
        a[..args.len()].copy_from_slice(args);
        let t = Instant::now();
        let r = w(&self.m, &a);
        let e = self.time.entry(name).or_default();
        e.0 += 1;
        e.1 += t.elapsed();
        assert_eq!(r[0], want, "{name} {args:x?}");
        r
    }

    /// Enters the REC through `w` with `e` and checks the exit reason.
    fn enter(
        &mut self,
        name: &'static str,
        w: Wrapper,
        rec: u64,
        run: u64,
        e: &RmiRecEnter,
        want: RmiRecExitReason,
    ) {
        self.m.host_write(run, e.as_bytes()).unwrap();
        self.call(name, w, &[rec, run], 0);
        let mut exit = RmiRecExit::new_zeroed();
        self.m
            .host_read(
                run + offset_of!(RmiRecRun, exit) as u64,
                exit.as_mut_bytes(),
            )
            .unwrap();
        assert_eq!(exit.exit_reason, want as u8, "{name}");
    }

    fn ns(&mut self) -> u64 {
        self.next += 1;
        self.m.ns_granule(self.next)
    }

    fn delegated(&mut self) -> u64 {
        let pa = self.ns();
        self.call("granule_delegate", bench_granule_delegate, &[pa], 0);
        pa
    }

    fn undelegate(&mut self, pa: u64) {
        self.call("granule_undelegate", bench_granule_undelegate, &[pa], 0);
    }

    /// One realm lifecycle, as the reference driver runs it.
    fn lifecycle(&mut self, hash_algo: u8) {
        self.call("version", bench_version, &[0x1_0000], 0);
        self.call("features", bench_features, &[0], 0);
        let rd = self.delegated();
        let rtt0 = self.delegated();
        // A rejected delegation (already delegated).
        self.call("granule_delegate", bench_granule_delegate, &[rd], 1);
        let mut p = RmiRealmParams::new_zeroed();
        p.s2sz = 48;
        p.num_bps = 1;
        p.num_wps = 1;
        p.hash_algo = hash_algo;
        p.vmid = 1;
        p.rtt_base = rtt0;
        p.rtt_level_start = 0;
        p.rtt_num_start = 1;
        let params = self.ns();
        self.m.host_write(params, p.as_bytes()).unwrap();
        self.call("realm_create", bench_realm_create, &[rd, params], 0);
        let aux_n = self.call("rec_aux_count", bench_rec_aux_count, &[rd], 0)[1] as usize;
        let mut rtts = Vec::new();
        for level in 1..=3u64 {
            let t = self.delegated();
            self.call("rtt_create", bench_rtt_create, &[rd, t, 0, level], 0);
            rtts.push(t);
        }
        self.call(
            "rtt_init_ripas",
            bench_rtt_init_ripas,
            &[rd, 0x2000, 0x3000],
            0,
        );
        let src = self.ns();
        self.m.host_write(src, &[0x5A; 4096]).unwrap();
        let d1 = self.delegated();
        self.call(
            "data_create",
            bench_data_create,
            &[rd, d1, 0x1000, src, 1],
            0,
        );
        let d2 = self.delegated();
        self.call(
            "data_create_unknown",
            bench_data_create_unknown,
            &[rd, d2, 0x2000],
            0,
        );
        let d3 = self.delegated();
        self.call(
            "data_create_unmeasured",
            bench_data_create_unmeasured,
            &[rd, d3, 0x3000, src, 0],
            0,
        );
        self.call("rtt_read_entry", bench_rtt_read_entry, &[rd, 0x1000, 3], 0);
        let mut rp = RmiRecParams::new_zeroed();
        rp.flags = 1;
        rp.pc = ENTRY;
        rp.num_aux = aux_n as u64;
        let mut aux = Vec::new();
        for i in 0..aux_n {
            let a = self.delegated();
            rp.aux[i] = a;
            aux.push(a);
        }
        let rec = self.delegated();
        let rparams = self.ns();
        self.m.host_write(rparams, rp.as_bytes()).unwrap();
        self.call("rec_create", bench_rec_create, &[rd, rec, rparams], 0);
        self.call("realm_activate", bench_realm_activate, &[rd], 0);

        let run = self.ns();
        let mut e = RmiRecEnter::new_zeroed();
        for _ in 0..4 {
            self.m.host_write(run, e.as_bytes()).unwrap();
            self.m.hw().raise_irq(CpuId(0));
            self.call("rec_enter_irq", bench_rec_enter_irq, &[rec, run], 0);
        }
        e.gicv3_hcr = 1 << 1;
        for i in 0..16 {
            e.gicv3_lrs[i] = 1 << 62 | 1 << 60 | 0xA0 << 48 | (32 + i as u64);
        }
        for _ in 0..4 {
            self.m.host_write(run, e.as_bytes()).unwrap();
            self.m.hw().raise_irq(CpuId(0));
            self.call(
                "rec_enter_irq_16_lrs",
                bench_rec_enter_irq_16_lrs,
                &[rec, run],
                0,
            );
        }
        e.gicv3_hcr = 1;
        self.m.host_write(run, e.as_bytes()).unwrap();
        self.call(
            "rec_enter_rejected_gic",
            bench_rec_enter_rejected_gic,
            &[rec, run],
            3,
        );
        e.gicv3_hcr = 1 << 1;
        e.gicv3_lrs[1] = e.gicv3_lrs[0];
        self.m.host_write(run, e.as_bytes()).unwrap();
        self.call(
            "rec_enter_rejected_dup_vintid",
            bench_rec_enter_rejected_dup_vintid,
            &[rec, run],
            3,
        );

        // The realm calls RSI_VERSION, then WFI (trapped): one RSI call inside the
        // entry, then a WFI exit.
        let mut e = RmiRecEnter::new_zeroed();
        e.flags = RmiRecEnterFlags::ZERO.with_trap_wfi(true).bits();
        REALM_MODE.store(MODE_RSI_VERSION, Ordering::SeqCst);
        for _ in 0..4 {
            let w = bench_rec_enter_rsi_version;
            self.enter(
                "rec_enter_rsi_version",
                w,
                rec,
                run,
                &e,
                RmiRecExitReason::Sync,
            );
        }
        // The realm makes a host call (exit), the next entry completes it and the realm
        // reaches WFI (exit).
        REALM_MODE.store(MODE_HOST_CALL, Ordering::SeqCst);
        for _ in 0..4 {
            let w = bench_rec_enter_host_call;
            self.enter(
                "rec_enter_host_call",
                w,
                rec,
                run,
                &e,
                RmiRecExitReason::HostCall,
            );
            let w = bench_rec_enter_host_call_complete;
            let name = "rec_enter_host_call_complete";
            self.enter(name, w, rec, run, &e, RmiRecExitReason::Sync);
        }
        REALM_MODE.store(MODE_WFI, Ordering::SeqCst);

        self.call("rec_destroy", bench_rec_destroy, &[rec], 0);
        for a in aux {
            self.undelegate(a);
        }
        self.undelegate(rec);
        for ipa in [0x1000u64, 0x2000, 0x3000] {
            let d = self.call("data_destroy", bench_data_destroy, &[rd, ipa], 0)[1];
            self.undelegate(d);
        }
        for level in (1..=3u64).rev() {
            let t = self.call("rtt_destroy", bench_rtt_destroy, &[rd, 0, level], 0)[1];
            self.undelegate(t);
        }
        self.call("realm_destroy", bench_realm_destroy, &[rd], 0);
        self.undelegate(rd);
        self.undelegate(rtt0);
    }
}

fn main() {
    let iterations: u32 = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(4);
    let m = Machine::with_defaults();
    // The realm: WFI (an IRQ exit when the bench raised one before the entry), or an
    // RSI call first, as REALM_MODE says.
    m.hw().register_realm_program(
        ENTRY,
        Arc::new(|cpu| loop {
            match REALM_MODE.load(Ordering::SeqCst) {
                MODE_RSI_VERSION => {
                    let r = cpu.smc(RSI_VERSION as u64, &[RSI_ABI_VERSION.encode()]);
                    assert_eq!(r[0], 0, "RSI_VERSION");
                }
                MODE_HOST_CALL => {
                    assert_eq!(cpu.smc(RSI_HOST_CALL as u64, &[0x1000])[0], 0);
                }
                _ => {}
            }
            cpu.wfi();
        }),
    );
    let mut b = Bench {
        m,
        next: 0,
        time: BTreeMap::new(),
    };
    // Each lifecycle takes fresh granules: the simulation keeps a realm thread per
    // (VTTBR, VMPIDR), and a new REC on the granules of a destroyed one would meet the
    // old thread where it stopped.
    for i in 0..iterations {
        b.lifecycle((i % 2) as u8);
    }
    for (name, (calls, t)) in &b.time {
        println!(
            "calls bench_{name} {calls} {:.0} ns/call",
            t.as_nanos() as f64 / *calls as f64
        );
    }
}
