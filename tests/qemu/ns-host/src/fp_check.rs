//! FP/SIMD preservation across every SMC the test host makes.
//!
//! SMCCC (DEN0028, v1.3 and later) requires the callee of an SMC to preserve the
//! SIMD&FP state, V0..V31 (the low 128 bits, whatever the SVE hint) and FPCR/FPSR; EL3
//! does not switch that state between worlds, so the RMM itself must leave it alone.
//! Every SMC of the run goes through [`smc`]: it fills V0..V31 with 128-bit patterns
//! distinct per register and per call and sets FPCR/FPSR to non-default values, makes
//! the call and reads everything back in one asm block ([`asm::smc_fp`]), and compares
//! bit for bit. The first difference is kept (register, expected, got, which call);
//! [`TEST`], run after the conformance suite, fails on it and checks that every RMI
//! function was called, on its success and error paths.

use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use rmi_abi::RmiFid;
use rmm_conformance::builder::{
    create_realm, create_rec, map_low_ipa, rec_params, teardown, Pool, RealmSpec,
};
use rmm_conformance::{Checks, Host, Outcome, TestDef};

use crate::asm;
use crate::uart::Uart;

/// The check, run after the conformance tests (it reports on all of their calls).
pub const TEST: TestDef = TestDef {
    name: "qemu_fp_simd_preserved",
    run,
};

/// RMI functions that cannot succeed on this firmware, with why: their success path is
/// not required (their error paths are).
const NO_SUCCESS_PATH: &[(RmiFid, &str)] = &[
    (RmiFid::PsciComplete, "needs a REC exit for a PSCI call"),
    (RmiFid::RttSetRipas, "needs a REC exit for a RIPAS change"),
];

/// RMI functions without failure conditions (DEN0137 1.0: RMI_FEATURES returns
/// RMI_SUCCESS for every index): their error path is not required.
const NO_ERROR_PATH: &[RmiFid] = &[RmiFid::Features];

/// Calls checked so far.
static CALLS: AtomicU64 = AtomicU64::new(0);
/// Per RMI function (index = FID - 0xC400_0150): calls that returned RMI_SUCCESS, and
/// calls that returned anything else.
static OK: [AtomicU32; 64] = [const { AtomicU32::new(0) }; 64];
static ERR: [AtomicU32; 64] = [const { AtomicU32::new(0) }; 64];

/// The first difference seen.
static MISMATCH: AtomicBool = AtomicBool::new(false);
static FIRST: [AtomicU64; 10] = [const { AtomicU64::new(0) }; 10];
const REG_FPCR: u64 = 32;
const REG_FPSR: u64 = 33;
/// FPCR/FPSR did not take the values written (the test's own set-up is wrong).
const REG_SETUP_FPCR: u64 = 34;
const REG_SETUP_FPSR: u64 = 35;

/// The pattern of V`reg` for call number `call`: distinct per register and per call,
/// no two lanes alike.
fn pattern(call: u64, reg: usize) -> u128 {
    let r = reg as u64;
    let lo = 0x0F1E_2D3C_4B5A_6978 ^ r.wrapping_mul(0x0101_0101_0101_0101) ^ (call << 40);
    let hi = !lo.rotate_left(8 + r as u32) ^ call;
    (u128::from(hi) << 64) | u128::from(lo)
}

/// FPCR with AHP (bit 26), DN (25), FZ (24) set and RMode (23:22) cycling through the
/// three non-default modes (Arm ARM, FPCR): all defined in every Armv8 FP unit.
fn fpcr_for(call: u64) -> u64 {
    (1 << 26) | (1 << 25) | (1 << 24) | ((call % 3 + 1) << 22)
}

/// FPSR with cumulative exception bits set (QC 27, IDC 7, IXC 4, UFC 3, OFC 2, DZC 1,
/// IOC 0), a different subset on alternate calls.
fn fpsr_for(call: u64) -> u64 {
    if call.is_multiple_of(2) {
        (1 << 27) | (1 << 7) | (1 << 4) | (1 << 2) | (1 << 0)
    } else {
        (1 << 27) | (1 << 3) | (1 << 1)
    }
}

fn record(reg: u64, want: u128, got: u128, call: u64, fid: u64, args: &[u64; 6]) {
    if MISMATCH.swap(true, Ordering::Relaxed) {
        return;
    }
    let v = [
        reg,
        want as u64,
        (want >> 64) as u64,
        got as u64,
        (got >> 64) as u64,
        call,
        fid,
        args[0],
        args[1],
        args[2],
    ];
    for (slot, x) in FIRST.iter().zip(v) {
        slot.store(x, Ordering::Relaxed);
    }
}

/// `smc #0` with x0 = `fid`, x1..x6 = `args`, returning x0..x4, and the FP/SIMD check
/// around it.
pub fn smc(fid: u64, args: [u64; 6]) -> [u64; 5] {
    let call = CALLS.load(Ordering::Relaxed);
    let mut v = [0u128; 32];
    for (i, q) in v.iter_mut().enumerate() {
        *q = pattern(call, i);
    }
    smc_with(fid, args, &v, fpcr_for(call), fpsr_for(call))
}

/// Like [`smc`], with V0..V31, FPCR and FPSR given by the caller (a test that needs to
/// know the values the callee could see), checked the same way.
pub fn smc_with(fid: u64, args: [u64; 6], v: &[u128; 32], fpcr: u64, fpsr: u64) -> [u64; 5] {
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let r = asm::smc_fp(fid, args, v, fpcr, fpsr);
    if r.before.0 != fpcr {
        record(
            REG_SETUP_FPCR,
            fpcr.into(),
            r.before.0.into(),
            call,
            fid,
            &args,
        );
    }
    if r.before.1 != fpsr {
        record(
            REG_SETUP_FPSR,
            fpsr.into(),
            r.before.1.into(),
            call,
            fid,
            &args,
        );
    }
    for (i, (&want, &got)) in v.iter().zip(r.v.iter()).enumerate() {
        if want != got {
            record(i as u64, want, got, call, fid, &args);
        }
    }
    if r.after.0 != r.before.0 {
        record(
            REG_FPCR,
            r.before.0.into(),
            r.after.0.into(),
            call,
            fid,
            &args,
        );
    }
    if r.after.1 != r.before.1 {
        record(
            REG_FPSR,
            r.before.1.into(),
            r.after.1.into(),
            call,
            fid,
            &args,
        );
    }
    if let Some(f) = RmiFid::decode(fid) {
        let i = (f.id() - rmi_abi::fid::RMI_RANGE_START) as usize;
        let counts = if r.x[0] == 0 { &OK } else { &ERR };
        counts[i].fetch_add(1, Ordering::Relaxed);
    }
    r.x
}

/// Whether a difference has been seen on any call so far.
pub fn mismatch_seen() -> bool {
    MISMATCH.load(Ordering::Relaxed)
}

fn reg_name(reg: u64, out: &mut Uart) {
    let _ = match reg {
        0..=31 => write!(out, "V{reg}"),
        REG_FPCR => write!(out, "FPCR"),
        REG_FPSR => write!(out, "FPSR"),
        REG_SETUP_FPCR => write!(out, "FPCR (as set by the test, before the call)"),
        _ => write!(out, "FPSR (as set by the test, before the call)"),
    };
}

fn run(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let mut out = Uart;
    // Calls of its own, so the check has something to look at under any --suite: a
    // realm with a REC (parameter pages), activated, the REC entered through a run page
    // and entered through a granule that is not a REC; then torn down.
    h.rmi(RmiFid::Version, &[0x1_0000]);
    h.rmi(RmiFid::Features, &[0]);
    h.rmi(RmiFid::GranuleUndelegate, &[h.non_memory_addr()]);
    let pool = Pool::new(h);
    let realm = create_realm(h, &pool, c, RealmSpec::default())?;
    let rec = create_rec(h, &pool, c, realm.rd, rec_params(0, 0x1000))?;
    let run_page = pool.ns();
    c.holds("zero the run page", h.write_ns(run_page, &[0u8; 4096]))?;
    // RIPAS RAM but no data at the REC's entry point: the REC runs at R-EL1 and exits
    // at once (an instruction abort at an unassigned protected IPA).
    map_low_ipa(h, &pool, c, realm.rd, 0x2000)?;
    h.rmi(RmiFid::RealmActivate, &[realm.rd]);
    h.rmi(RmiFid::RecEnter, &[rec, run_page]);
    h.rmi(RmiFid::RecEnter, &[run_page, run_page]);
    teardown(h, &pool, c, &[realm.rd], &[rec])?;
    let calls = CALLS.load(Ordering::Relaxed);
    let _ = writeln!(
        out,
        "FP/SIMD check: {calls} SMCs checked (V0..V31, FPCR, FPSR)"
    );
    let mut missing = 0u32;
    let mut no_success = 0u32;
    for &f in RmiFid::ALL {
        let i = (f.id() - rmi_abi::fid::RMI_RANGE_START) as usize;
        let (ok, err) = (
            OK[i].load(Ordering::Relaxed),
            ERR[i].load(Ordering::Relaxed),
        );
        let exempt = NO_SUCCESS_PATH.iter().find(|(g, _)| *g == f);
        let _ = write!(
            out,
            "FP/SIMD check: {f:?}: {ok} successful, {err} failed calls"
        );
        if let (0, Some((_, why))) = (ok, exempt) {
            let _ = write!(out, " (no success path: {why})");
        }
        if err == 0 && NO_ERROR_PATH.contains(&f) {
            let _ = write!(out, " (no failure conditions)");
        }
        let _ = writeln!(out);
        missing += u32::from(err == 0 && !NO_ERROR_PATH.contains(&f));
        no_success += u32::from(ok == 0 && exempt.is_none());
    }
    if MISMATCH.load(Ordering::Relaxed) {
        let f: [u64; 10] = core::array::from_fn(|i| FIRST[i].load(Ordering::Relaxed));
        let _ = write!(out, "FP/SIMD check: first mismatch: ");
        reg_name(f[0], &mut out);
        let name = RmiFid::decode(f[6]);
        let _ = writeln!(
            out,
            ": expected {:#034x}, got {:#034x}, after SMC {:#x} ({name:?}) x1..x3 = {:#x}, {:#x}, {:#x} (call {} of the run)",
            u128::from(f[2]) << 64 | u128::from(f[1]),
            u128::from(f[4]) << 64 | u128::from(f[3]),
            f[6],
            f[7],
            f[8],
            f[9],
            f[5] + 1,
        );
    }
    c.holds(
        "V0..V31, FPCR and FPSR unchanged by every SMC (SMCCC)",
        !MISMATCH.load(Ordering::Relaxed),
    )?;
    if !crate::params::Params::read().filter().is_empty() {
        // Coverage is a property of the whole suite.
        return Ok(());
    }
    c.eq(
        "RMI functions never called with an error result",
        missing.into(),
        0,
    )?;
    c.eq(
        "RMI functions never called successfully",
        no_success.into(),
        0,
    )?;
    Ok(())
}
