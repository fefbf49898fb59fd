//! RSI_ATTESTATION_TOKEN_INIT and RSI_ATTESTATION_TOKEN_CONTINUE (DEN0137 1.0, B5.3.2,
//! B5.3.1): every failure condition of CONTINUE a realm can reach, in the spec's order,
//! and the state machine (ERROR_STATE before INIT and after the last byte). The realm
//! makes the calls and hands their results to the host in one host call; the host
//! checks them. The realm's side is a [`Program`], run by the hosted simulation and by
//! the realm payload in QEMU ([`crate::program`]). The token's contents and signature are
//! checked hosted, by an independent verifier (`tests/tests/attestation.rs`); the
//! `unknown` condition needs an EL3 without attestation, also tested there.

use crate::builder::{teardown, Pool, RealmSpec};
use crate::program::Program;
use crate::realm::RealmEnv;
use crate::vmm::{self, Devices, RealmImage};
use crate::{Checks, Host, Outcome, TestDef};
use rsi_abi::fid;

/// The tests of this module.
pub const TESTS: &[TestDef] = &[TestDef {
    name: "attestation_token_failure_conditions",
    run: token_failures,
}];

/// The host call structure.
const CALL: u64 = 0x3000;
/// A granule of realm RAM for the token.
const BUF: u64 = 0x10_0000;
/// The first unprotected IPA of a 40-bit realm.
const UNPROTECTED: u64 = 1 << 39;

const SUCCESS: u64 = 0;
const ERROR_INPUT: u64 = 1;
const ERROR_STATE: u64 = 2;
const INCOMPLETE: u64 = 3;

/// The checks, in the order the realm makes them: what each is and the x0 it expects.
const EXPECTED: &[(&str, u64)] = &[
    ("state: CONTINUE before any INIT", ERROR_STATE),
    ("addr_align before state", ERROR_INPUT),
    ("INIT: no failure conditions", SUCCESS),
    ("addr_align", ERROR_INPUT),
    ("addr_bound", ERROR_INPUT),
    ("offset_bound: offset == 4096", ERROR_INPUT),
    ("size_overflow: offset + size wraps", ERROR_INPUT),
    ("size_bound: offset + size == 4097", ERROR_INPUT),
    ("offset + size == 4096: INCOMPLETE", INCOMPLETE),
    ("addr_bound before offset_bound", ERROR_INPUT),
    ("the last CONTINUE: SUCCESS", SUCCESS),
    ("the token's length: INIT's upper bound", 1),
    ("state: CONTINUE after the token", ERROR_STATE),
    ("INIT again", SUCCESS),
    ("CONTINUE after the new INIT", INCOMPLETE),
];

fn cont(r: &mut dyn RealmEnv, addr: u64, offset: u64, size: u64) -> (u64, u64) {
    let x = r.smc(
        fid::RSI_ATTESTATION_TOKEN_CONTINUE as u64,
        &[addr, offset, size],
    );
    (x[0], x[1])
}

fn init(r: &mut dyn RealmEnv) -> (u64, u64) {
    let x = r.smc(fid::RSI_ATTESTATION_TOKEN_INIT as u64, &[0x1234; 8]);
    (x[0], x[1])
}

/// The realm's side of `attestation_token_failure_conditions`.
pub(super) const PROGRAM: Program = Program {
    name: "attestation_token_failure_conditions",
    run: program,
};

/// The realm's side: the calls of [`EXPECTED`], results in x0.. of one host call.
fn program(r: &mut dyn RealmEnv) {
    let mut out = [u64::MAX; 31];
    let mut i = 0;
    let mut put = |v: u64| {
        out[i] = v;
        i += 1;
    };
    put(cont(r, BUF, 0, 4096).0);
    put(cont(r, BUF + 8, 0, 8).0);
    let (status, max) = init(r);
    put(status);
    put(cont(r, BUF + 0x800, 0, 16).0);
    put(cont(r, UNPROTECTED, 0, 16).0);
    put(cont(r, BUF, 4096, 0).0);
    put(cont(r, BUF, 8, u64::MAX - 4).0);
    put(cont(r, BUF, 8, 4089).0);
    put(cont(r, BUF, 8, 4088).0);
    put(cont(r, UNPROTECTED, 4096, 0).0);
    // To the end of the token, one granule at a time (it is smaller than one here).
    let mut last = (INCOMPLETE, 0);
    let mut len = 0;
    for _ in 0..64 {
        last = cont(r, BUF, len, 4096 - len);
        len += last.1;
        if last.0 != INCOMPLETE {
            break;
        }
    }
    put(last.0);
    put((len == max) as u64);
    put(cont(r, BUF, 0, 4096).0);
    put(init(r).0);
    put(cont(r, BUF, 0, 4096).0);
    let mut call = [0u8; 256];
    for (j, v) in out.iter().enumerate() {
        call[8 + 8 * j..16 + 8 * j].copy_from_slice(&v.to_le_bytes());
    }
    if r.write(CALL, &call).is_ok() {
        r.smc(fid::RSI_HOST_CALL as u64, &[CALL]);
    }
    r.wfi();
}

/// Keeps the registers of the realm's host call.
struct Results(Option<[u64; 31]>);

impl Devices for Results {
    fn mmio_read(&mut self, _: u64, _: usize) -> u64 {
        0
    }
    fn mmio_write(&mut self, _: u64, _: usize, _: u64) {}
    fn host_call(&mut self, _: u16, gprs: &[u64; 31]) -> [u64; 31] {
        self.0 = Some(*gprs);
        *gprs
    }
}

static ZERO: [u8; 4096] = [0; 4096];

fn token_failures(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let Some(code) = h.realm_code(&PROGRAM) else {
        return Err(Outcome::Skipped("this host cannot run realm code"));
    };
    let pool = Pool::new(h);
    let image = RealmImage {
        spec: RealmSpec::default(),
        pages: &[(CALL, &ZERO), (BUF, &ZERO)],
        ram_top: 0x20_0000,
        entry: code.entry,
        recs: 1,
    };
    let vm = vmm::build_code(h, &pool, c, &image, &code)?;
    let mut results = Results(None);
    let exit = vmm::run(h, &vm, 0, &mut results, c)?;
    c.eq("the realm ends in WFI", exit.exit_reason as u64, 0)?;
    c.holds("the realm reported", results.0.is_some())?;
    let got = results.0.unwrap_or([u64::MAX; 31]);
    for (&(what, want), &x0) in EXPECTED.iter().zip(got.iter()) {
        c.eq(what, x0, want)?;
    }
    teardown(h, &pool, c, &[vm.realm.rd], &vm.recs[..vm.n_recs])?;
    Ok(())
}
