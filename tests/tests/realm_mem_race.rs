//! The RMM's own accesses to realm memory (RsiHostCall, RsiRealmConfig) raced against
//! the host taking the memory away on another CPU: DATA_DESTROY, then UNDELEGATE or
//! DATA_CREATE_UNKNOWN into another realm.
//!
//! DEN0137 1.0 gives the host no way to make the RMM touch memory that is no longer the
//! realm's: a realm's DATA granule is the realm's until DATA_DESTROY has removed it from
//! the RTT. So whatever the interleaving, the RMM must neither fault on a granule the
//! host has undelegated (a granule protection fault at R-EL2: the simulation fails the
//! test at once) nor write one realm's data into a granule that now belongs to another.
//!
//! The interleaving is lined up with a map gate (`SimHw::gate_map`): the RMM is stopped
//! inside its access to the granule; the host runs its commands on CPU 1 meanwhile; the
//! RMM is then let go.

use std::sync::Arc;
use std::time::Duration;

use platform::{Pas, PhysAddr};
use platform_sim::realm::RealmCpu;
use rmi_abi::{RmiFid, RmiRecEnter, RmiRecExit};
use rmm::hosted::Machine;
use rmm_conformance::builder::{
    create_realm, create_rec, map_low_ipa, rec_params, Pool, Realm, RealmSpec,
};
use rmm_conformance::Checks;
use rsi_abi::fid;
use zerocopy::{FromBytes, FromZeros, IntoBytes};

const ENTRY: u64 = 0x8_0000;
/// The IPA of the realm buffer the RMM accesses.
const BUF_IPA: u64 = 0x3000;
/// Where realm B gets the granule, if it does.
const B_IPA: u64 = 0x5000;
/// RecEnter flags: trap WFI.
const TRAP_WFI: u64 = 4;
/// RmiRecExitReason HOST_CALL.
const EXIT_HOST_CALL: u8 = 5;
/// How long the host's commands get to run while the RMM is stopped in its access.
const RACE_WINDOW: Duration = Duration::from_millis(200);

struct World {
    m: Machine,
    a: Realm,
    b: Realm,
    rec: u64,
    run: u64,
    /// The DATA granule of realm A at [`BUF_IPA`].
    buf: u64,
}

fn ok(m: &Machine, cpu: usize, fid: RmiFid, args: &[u64]) {
    let r = m.rmi(cpu, fid, args);
    assert_eq!(r[0], 0, "{fid:?} {args:x?}");
}

impl World {
    /// Realm A (active, RIPAS RAM on [0, 2 MiB), DATA at 0..0x8000, one REC running
    /// `program`) and realm B (new, RTTs down to level 3 at IPA 0, nothing mapped).
    fn new(program: impl Fn(&mut RealmCpu) + Send + Sync + 'static) -> Self {
        let m = Machine::with_defaults();
        m.hw().register_realm_program(ENTRY, Arc::new(program));
        let (a, b, rec, run, buf) = {
            let pool = Pool::new(&m);
            let mut c = Checks::new();
            let a = create_realm(&m, &pool, &mut c, RealmSpec::default()).unwrap();
            map_low_ipa(&m, &pool, &mut c, a.rd, 0x20_0000).unwrap();
            let src = pool.ns();
            let mut buf = 0;
            for ipa in (0..0x8000).step_by(0x1000) {
                let d = pool.delegated(&mut c).unwrap();
                ok(&m, 0, RmiFid::DataCreate, &[a.rd, d, ipa, src, 0]);
                if ipa == BUF_IPA {
                    buf = d;
                }
            }
            let rec = create_rec(&m, &pool, &mut c, a.rd, rec_params(0, ENTRY)).unwrap();
            ok(&m, 0, RmiFid::RealmActivate, &[a.rd]);
            let spec_b = RealmSpec {
                vmid: 2,
                ..RealmSpec::default()
            };
            let b = create_realm(&m, &pool, &mut c, spec_b).unwrap();
            map_low_ipa(&m, &pool, &mut c, b.rd, 0).unwrap();
            (a, b, rec, pool.ns(), buf)
        };
        World {
            m,
            a,
            b,
            rec,
            run,
            buf,
        }
    }

    /// RMI_REC_ENTER on CPU 0 with `enter`: x0 and the exit record.
    fn enter(&self, enter: &RmiRecEnter) -> (u64, RmiRecExit) {
        self.m.host_write(self.run, enter.as_bytes()).unwrap();
        let x0 = self.m.rmi(0, RmiFid::RecEnter, &[self.rec, self.run])[0];
        let mut page = [0u8; 4096];
        self.m.host_read(self.run, &mut page).unwrap();
        (x0, RmiRecExit::read_from_bytes(&page[0x800..]).unwrap())
    }

    /// Runs `rmm_side` (which makes the RMM access the buffer granule) on this thread
    /// while, once the RMM is stopped inside that access, `host_side` runs on CPU 1;
    /// the RMM is let go after [`RACE_WINDOW`]. Returns what `rmm_side` returned.
    fn race<R: Send>(
        &self,
        rmm_side: impl FnOnce() -> R + Send,
        host_side: impl FnOnce() + Send,
    ) -> R {
        let gate = self.m.hw().gate_map(PhysAddr(self.buf));
        std::thread::scope(|s| {
            let rmm = s.spawn(rmm_side);
            assert!(
                gate.wait_reached(Duration::from_secs(10)),
                "the RMM never accessed the buffer granule"
            );
            let host = s.spawn(host_side);
            std::thread::sleep(RACE_WINDOW);
            gate.release();
            let r = rmm.join().expect("the RMM side panicked");
            host.join().expect("the host side panicked");
            r
        })
    }

    /// The host takes the buffer granule from realm A (DATA_DESTROY) and gives it to
    /// realm B (DATA_CREATE_UNKNOWN), on CPU 1.
    fn move_buffer_to_b(&self) {
        let r = self.m.rmi(1, RmiFid::DataDestroy, &[self.a.rd, BUF_IPA]);
        assert_eq!((r[0], r[1]), (0, self.buf), "DATA_DESTROY");
        ok(
            &self.m,
            1,
            RmiFid::DataCreateUnknown,
            &[self.b.rd, self.buf, B_IPA],
        );
    }

    /// The contents of the buffer granule, read in the Realm PAS.
    fn buffer(&self) -> [u8; 4096] {
        let mut page = [0u8; 4096];
        self.m
            .hw()
            .mem()
            .read(PhysAddr(self.buf), Pas::Realm, &mut page)
            .unwrap();
        page
    }
}

/// A realm RsiHostCall at [`BUF_IPA`]: immediate 0x42, x0..x30 = 0xA0 + n.
fn host_call_struct() -> [u8; 256] {
    let mut call = [0u8; 256];
    call[0..2].copy_from_slice(&0x42u16.to_le_bytes());
    for (i, g) in call[8..].chunks_exact_mut(8).enumerate() {
        g.copy_from_slice(&(0xA0 + i as u64).to_le_bytes());
    }
    call
}

/// The realm program of the host call tests: an RSI_HOST_CALL with
/// [`host_call_struct`] at [`BUF_IPA`], then WFI for ever.
fn host_call_then_wfi(cpu: &mut RealmCpu) {
    cpu.write(BUF_IPA, &host_call_struct()).unwrap();
    cpu.smc(fid::RSI_HOST_CALL as u64, &[BUF_IPA]);
    loop {
        cpu.wfi();
    }
}

/// RSI_HOST_CALL reads the RsiHostCall structure while the host destroys the granule
/// and undelegates it: the read is of the realm's structure, never of a granule the host
/// has taken back (which would be a granule protection fault at R-EL2).
#[test]
fn host_call_read_races_data_destroy_and_undelegate() {
    let w = World::new(host_call_then_wfi);
    let mut e = RmiRecEnter::new_zeroed();
    e.flags = TRAP_WFI;
    let (x0, exit) = w.race(
        || w.enter(&e),
        || {
            let r = w.m.rmi(1, RmiFid::DataDestroy, &[w.a.rd, BUF_IPA]);
            assert_eq!((r[0], r[1]), (0, w.buf), "DATA_DESTROY");
            ok(&w.m, 1, RmiFid::GranuleUndelegate, &[w.buf]);
        },
    );
    assert_eq!(x0, 0, "REC_ENTER");
    assert_eq!(exit.exit_reason, EXIT_HOST_CALL);
    assert_eq!(exit.imm, 0x42);
    for (i, &g) in exit.gprs.iter().enumerate() {
        assert_eq!(g, 0xA0 + i as u64, "exit gprs[{i}]: the realm's x{i}");
    }
    assert_eq!(w.m.pas(w.buf), Some(Pas::NonSecure), "the host has it back");
}

/// The completion of a host call writes the host's x0..x30 into the realm's
/// RsiHostCall on the next REC_ENTER, while the host moves that granule to realm B:
/// realm B's new granule keeps the zero contents DATA_CREATE_UNKNOWN gives it.
#[test]
fn host_call_completion_races_data_moving_to_another_realm() {
    let w = World::new(host_call_then_wfi);
    let mut e = RmiRecEnter::new_zeroed();
    e.flags = TRAP_WFI;
    let (x0, exit) = w.enter(&e);
    assert_eq!((x0, exit.exit_reason), (0, EXIT_HOST_CALL));
    for (i, g) in e.gprs.iter_mut().enumerate() {
        *g = 0x5EC2_E700_0000 + i as u64;
    }
    let (x0, _) = w.race(|| w.enter(&e), || w.move_buffer_to_b());
    assert_eq!(x0, 0, "REC_ENTER");
    assert_eq!(
        w.buffer(),
        [0u8; 4096],
        "realm B's granule holds realm A's host call results"
    );
}

/// RSI_REALM_CONFIG writes the configuration into the realm's buffer while the host
/// moves that granule to realm B: realm B's granule stays zero.
#[test]
fn realm_config_races_data_moving_to_another_realm() {
    let w = World::new(|cpu| {
        let r = cpu.smc(fid::RSI_REALM_CONFIG as u64, &[BUF_IPA]);
        assert_eq!(r[0], 0, "RSI_REALM_CONFIG");
        loop {
            cpu.wfi();
        }
    });
    let mut e = RmiRecEnter::new_zeroed();
    e.flags = TRAP_WFI;
    let (x0, exit) = w.race(|| w.enter(&e), || w.move_buffer_to_b());
    assert_eq!((x0, exit.exit_reason), (0, 0), "a WFI exit");
    assert_eq!(
        w.buffer(),
        [0u8; 4096],
        "realm B's granule holds realm A's configuration"
    );
}
