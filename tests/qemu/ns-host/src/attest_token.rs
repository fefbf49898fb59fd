//! A CCA attestation token requested by a realm at R-EL1 and handed to the Normal
//! world: the realm payload asks for a token with a challenge this host chose
//! (`cmd::ATTEST_TOKEN`), sends it back in host calls, and this host prints it with
//! the values a relying party compares its claims with (the challenge, the RPV the
//! realm was created with, the measurements RSI_MEASUREMENT_READ returns). The
//! printed token is verified off the machine, by `cargo xtask run`, with the
//! project's independent verifier (`tests/cca-verify`): the realm token's signature
//! under the RAK and its claims, and under the EL3 test monitor the platform token's
//! signature under the test IAK and its binding to the RAK (`docs/attestation.md`).
//! What this host checks itself is what needs no CBOR decoder: the RSI statuses, the
//! size INIT promised, and the CBOR tag of the collection.

use core::fmt::Write;

use rmi_abi::RmiRecEnter;
use rmm_conformance::builder::Pool;
use rmm_conformance::payload::{cmd, IMM_RESULT, IMM_TOKEN, TOKEN_CHUNK};
use rmm_conformance::{Checks, Host, Outcome, TestDef};
use zerocopy::FromZeros;

use crate::asm;
use crate::realm_run::{result_exit, Payload};
use crate::uart::Uart;

/// The test of this module.
pub const TEST: TestDef = TestDef {
    name: "realm_run_attestation_token",
    run: attestation_token,
};

/// What every line `cargo xtask run` reads starts with.
pub const LINE: &str = "CCA token: ";

/// RmiRecExitReason HOST_CALL (DEN0137 1.0, B4.4.19).
const EXIT_HOST_CALL: u64 = 5;
/// The CCA token's first bytes: CBOR tag 399 (DEN0137 1.0, A7.2.1), head `D9 01 8F`.
const TAG_399: [u8; 3] = [0xD9, 0x01, 0x8F];
/// The RPV of `RealmSpec::default()` (`rmm_conformance::builder`).
const RPV: [u8; 64] = [0x5A; 64];
/// The most token bytes this host takes.
const MAX_TOKEN: usize = 4096;

/// A challenge no earlier run used: SplitMix64 over the physical count.
fn challenge() -> [u64; 8] {
    let mut x = asm::cntpct();
    core::array::from_fn(|_| {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

fn print_hex(label: &str, bytes: &[u8]) {
    let mut out = Uart;
    let _ = write!(out, "{LINE}{label}");
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    let _ = writeln!(out);
}

fn words_to_bytes(words: &[u64], out: &mut [u8]) {
    for (o, w) in out.chunks_mut(8).zip(words) {
        o.copy_from_slice(&w.to_le_bytes()[..o.len()]);
    }
}

/// DEN0137 1.0, A7.2: the realm gets a token for the host's challenge
/// (RSI_ATTESTATION_TOKEN_INIT SUCCESS, the CONTINUE loop SUCCESS with as many bytes
/// as INIT's upper bound, B5.3.1/B5.3.2), a CBOR tag-399 collection; its five
/// measurements read SUCCESS (B5.3.8). The token and those values are printed for
/// `cargo xtask run` to verify.
fn attestation_token(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let p = Payload::start(h, &pool, c, None)?;
    p.first_entry(h, c)?;
    let challenge = challenge();
    let mut token = [0u8; MAX_TOKEN];
    let mut received = 0usize;
    let mut exit = p.command(h, c, cmd::ATTEST_TOKEN, &challenge, 0)?;
    while exit.exit_reason as u64 == EXIT_HOST_CALL && exit.imm == IMM_TOKEN {
        let (offset, size) = (exit.gprs[0] as usize, exit.gprs[1] as usize);
        c.eq(
            "token piece at the next offset",
            offset as u64,
            received as u64,
        )?;
        c.holds("token size within the buffer", size <= MAX_TOKEN)?;
        let n = TOKEN_CHUNK.min(size - offset);
        words_to_bytes(&exit.gprs[2..], &mut token[offset..offset + n]);
        received += n;
        exit = p.enter(h, c, &RmiRecEnter::new_zeroed())?;
    }
    c.eq("the payload's results", exit.imm.into(), IMM_RESULT.into())?;
    let r = result_exit(c, &exit)?;
    c.eq("RSI_ATTESTATION_TOKEN_INIT status", r[0], 0)?;
    c.eq("RSI_ATTESTATION_TOKEN_CONTINUE loop status", r[2], 0)?;
    c.eq("token size: INIT's upper bound", r[3], r[1])?;
    c.eq("every byte handed to the host", received as u64, r[3])?;
    c.holds(
        "a CBOR tag 399 collection",
        token[..3] == TAG_399 && received > 3,
    )?;
    let mut measurements = [[0u8; 64]; 5];
    for (i, m) in measurements.iter_mut().enumerate() {
        let r = p.results(h, c, cmd::MEASUREMENT_READ, &[i as u64])?;
        c.eq("RSI_MEASUREMENT_READ status", r[0], 0)?;
        words_to_bytes(&r[1..9], m);
    }
    let mut bytes = [0u8; 64];
    words_to_bytes(&challenge, &mut bytes);
    print_hex("challenge ", &bytes);
    print_hex("rpv ", &RPV);
    for (i, m) in measurements.iter().enumerate() {
        let label = ["rim ", "rem0 ", "rem1 ", "rem2 ", "rem3 "][i];
        print_hex(label, m);
    }
    let _ = writeln!(Uart, "{LINE}size {received}");
    for (i, chunk) in token[..received].chunks(64).enumerate() {
        let _ = write!(Uart, "{LINE}bytes {:04x} ", i * 64);
        for b in chunk {
            let _ = write!(Uart, "{b:02x}");
        }
        let _ = writeln!(Uart);
    }
    let _ = writeln!(Uart, "{LINE}end");
    p.finish(h, &pool, c)
}
