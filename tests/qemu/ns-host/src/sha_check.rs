//! The Normal world's FP/SIMD and SVE state across the RMI commands that hash: the RMM
//! computes its measurements with the CPU's SHA-2 instructions, which use the SIMD&FP
//! registers, inside RMI_REALM_CREATE, RMI_RTT_INIT_RIPAS, RMI_DATA_CREATE and
//! RMI_REC_CREATE. SMCCC (DEN0028, 1.3 and later) requires the callee to preserve
//! V0..V31, FPCR and FPSR, and with the SVE hint bit clear the whole SVE state (the Z
//! registers in full, P0..P15, FFR); a write of a V register zeroes the bits of its Z
//! register above 127 (Arm ARM, "SIMD&FP and SVE registers").
//!
//! [`REM`] checks the values: a realm extends a REM (RSI_MEASUREMENT_EXTEND, which the
//! RMM hashes with the CPU's instructions) and reads it back, and this host computes
//! the expected value from DEN0137 1.0's rule with the `sha2` crate's portable hashers.
//!
//! [`fp_check`](crate::fp_check) checks V0..V31, FPCR and FPSR around every SMC of the
//! run; [`MEASURED`] makes sure the run has each of these commands with both hash
//! algorithms, content measured, and [`SVE`] makes them with SVE state live, the hint
//! bit clear, and checks every Z and P register bit-exact after each.

use core::fmt::Write;

use rmi_abi::{RmiFid, RmiRecParams};
use rmm_conformance::builder::{
    create_realm, create_rec, map_low_ipa, rec_params, teardown, write_params, Pool, RealmSpec,
};
use rmm_conformance::payload::cmd;
use rmm_conformance::{Checks, Failure, Host, Outcome, TestDef};
use sha2::{Digest, Sha256, Sha512};
use zerocopy::IntoBytes;

use crate::asm;
use crate::realm_run::Payload;
use crate::uart::Uart;

/// The measured commands of both hash algorithms, each checked by `fp_check`.
pub const MEASURED: TestDef = TestDef {
    name: "qemu_fp_simd_preserved_across_measured_commands",
    run: measured,
};

/// The same commands with the Normal world's SVE state live.
pub const SVE: TestDef = TestDef {
    name: "qemu_host_sve_state_preserved_across_measured_commands",
    run: sve,
};

/// A REM extended by a realm at R-EL1 against an independent computation.
pub const REM: TestDef = TestDef {
    name: "realm_run_rem_extension_matches_an_independent_sha",
    run: rem,
};

/// IPA of the measured DATA granule (RIPAS RAM from `map_low_ipa`).
const DATA_IPA: u64 = 0x1000;
/// Top of the RIPAS RAM range.
const RAM_TOP: u64 = 0x4000;

/// A page for DATA_CREATE whose bytes all differ from their neighbours.
fn content() -> [u8; 4096] {
    core::array::from_fn(|i| (i as u8).wrapping_mul(29) ^ (i >> 8) as u8)
}

/// DEN0137 1.0: REALM_CREATE, RTT_INIT_RIPAS, DATA_CREATE (RMI_MEASURE_CONTENT) and a
/// runnable REC_CREATE succeed for a SHA-256 and a SHA-512 realm, and `fp_check` finds
/// V0..V31, FPCR and FPSR unchanged by each (SMCCC).
fn measured(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    for hash_algo in [0u8, 1] {
        let pool = Pool::new(h);
        let realm = create_realm(
            h,
            &pool,
            c,
            RealmSpec {
                hash_algo,
                ..RealmSpec::default()
            },
        )?;
        map_low_ipa(h, &pool, c, realm.rd, RAM_TOP)?;
        let src = pool.ns();
        c.holds("write the source page", h.write_ns(src, &content()))?;
        let data = pool.delegated(c)?;
        c.status(
            "data create, content measured",
            h.rmi(RmiFid::DataCreate, &[realm.rd, data, DATA_IPA, src, 1])[0],
            Ok(()),
        )?;
        let rec = create_rec(h, &pool, c, realm.rd, rec_params(0, DATA_IPA))?;
        teardown(h, &pool, c, &[realm.rd], &[rec])?;
    }
    c.holds(
        "V0..V31, FPCR and FPSR unchanged by every SMC so far (SMCCC)",
        !crate::fp_check::mismatch_seen(),
    )?;
    Ok(())
}

/// The SVE check: the host enables SVE at the largest vector length, and each measured
/// command is an SMC with the SVE hint bit clear, made with Z0..Z31 and P0..P15 loaded
/// with patterns (distinct per command) and stored right after it.
fn sve(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    if !asm::has_sve() {
        return Err(Outcome::Skipped("the CPU has no SVE"));
    }
    let vl = asm::sve_enable();
    let _ = writeln!(Uart, "Note: SVE vector length {} bits at NS-EL2", vl * 8);
    let result = asm::with_sve_buffers(|load, store| {
        let mut call = 0u8;
        let mut smc = |c: &mut Checks, what: &'static str, fid: RmiFid, a: [u64; 5]| {
            call += 1;
            for (i, z) in load.z.iter_mut().enumerate() {
                for (j, b) in z.iter_mut().enumerate() {
                    *b = (i as u8).wrapping_mul(41) ^ (j as u8).wrapping_mul(7) ^ call;
                }
            }
            for (i, p) in load.p.iter_mut().enumerate() {
                for (j, b) in p.iter_mut().enumerate() {
                    *b = (i as u8).wrapping_mul(23) ^ (j as u8) ^ call.wrapping_mul(3);
                }
            }
            let x0 = asm::smc_with_sve(fid.id() as u64, a, load, store);
            c.status(what, x0, Ok(()))?;
            for (got, want) in store.z.iter().zip(load.z.iter()) {
                c.holds(
                    "Z<n> back bit-exact (SVE hint clear)",
                    got[..vl] == want[..vl],
                )?;
            }
            for (got, want) in store.p.iter().zip(load.p.iter()) {
                c.holds(
                    "P<n> back bit-exact (SVE hint clear)",
                    got[..vl / 8] == want[..vl / 8],
                )?;
            }
            Ok::<(), Failure>(())
        };
        for hash_algo in [0u8, 1] {
            sve_realm(h, c, hash_algo, &mut smc)?;
        }
        Ok(())
    });
    asm::sve_disable();
    result
}

/// One realm of `hash_algo` built with its measured commands made through `smc`.
fn sve_realm(
    h: &dyn Host,
    c: &mut Checks,
    hash_algo: u8,
    smc: &mut impl FnMut(&mut Checks, &'static str, RmiFid, [u64; 5]) -> Result<(), Failure>,
) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let spec = RealmSpec {
        hash_algo,
        ..RealmSpec::default()
    };
    let rtt_base = pool.ns_contiguous(spec.num_start as usize, spec.num_start as u64 * 4096);
    for i in 0..spec.num_start as u64 {
        pool.delegate(c, rtt_base + i * 4096)?;
    }
    let rd = pool.delegated(c)?;
    let params = pool.ns();
    c.holds(
        "write params",
        write_params(h, params, &spec.params(rtt_base)),
    )?;
    smc(
        c,
        "realm create",
        RmiFid::RealmCreate,
        [rd, params, 0, 0, 0],
    )?;
    // The RTTs down to level 3 over IPA 0 (no hashing), then the measured RIPAS change.
    map_low_ipa(h, &pool, c, rd, 0)?;
    smc(
        c,
        "init ripas",
        RmiFid::RttInitRipas,
        [rd, 0, RAM_TOP, 0, 0],
    )?;
    let src = pool.ns();
    c.holds("write the source page", h.write_ns(src, &content()))?;
    let data = pool.delegated(c)?;
    smc(
        c,
        "data create, content measured",
        RmiFid::DataCreate,
        [rd, data, DATA_IPA, src, 1],
    )?;
    let r = h.rmi(RmiFid::RecAuxCount, &[rd]);
    c.status("rec aux count", r[0], Ok(()))?;
    let mut p: RmiRecParams = rec_params(0, DATA_IPA);
    p.num_aux = r[1];
    for a in p.aux.iter_mut().take(r[1] as usize) {
        *a = pool.delegated(c)?;
    }
    let rec_params_pa = pool.ns();
    c.holds("write rec params", h.write_ns(rec_params_pa, p.as_bytes()))?;
    let rec = pool.delegated(c)?;
    smc(
        c,
        "rec create, runnable",
        RmiFid::RecCreate,
        [rd, rec, rec_params_pa, 0, 0],
    )?;
    teardown(h, &pool, c, &[rd], &[rec])?;
    Ok(())
}

/// DEN0137 1.0, B5.3.7 and B3.42 (`RemExtend`): REM := H(REM || data), REM
/// contributing its digest-size bytes, the result zero-filled to 64 bytes (A7.1). A
/// SHA-256 and a SHA-512 realm extend REM 1 from zero with 64 bytes (two blocks of
/// SHA-256 with the padding, one of data and one of padding for SHA-512), then with
/// 1 byte, then with 0 bytes; each value RSI_MEASUREMENT_READ returns (status
/// SUCCESS) equals the hash this host computes with the `sha2` crate.
fn rem(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let data: [u8; 64] = core::array::from_fn(|i| (i as u8).wrapping_mul(73) ^ 0xC3);
    for hash_algo in [0u8, 1] {
        let pool = Pool::new(h);
        let spec = RealmSpec {
            hash_algo,
            ..RealmSpec::default()
        };
        let p = Payload::start_with(h, &pool, c, None, spec)?;
        p.first_entry(h, c)?;
        let mut want = [0u8; 64];
        let n = if hash_algo == 0 { 32 } else { 64 };
        for size in [64usize, 1, 0] {
            let mut args = [0u64; 10];
            args[0] = 1;
            args[1] = size as u64;
            for (w, b) in args[2..].iter_mut().zip(data.chunks_exact(8)) {
                *w = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
            }
            let r = p.results(h, c, cmd::MEASUREMENT_EXTEND, &args)?;
            c.eq("RSI_MEASUREMENT_EXTEND status", r[0], 0)?;
            c.eq("RSI_MEASUREMENT_READ status", r[1], 0)?;
            let mut got = [0u8; 64];
            for (b, w) in got.chunks_exact_mut(8).zip(&r[2..10]) {
                b.copy_from_slice(&w.to_le_bytes());
            }
            let mut next = [0u8; 64];
            if hash_algo == 0 {
                let mut s = Sha256::new();
                s.update(&want[..n]);
                s.update(&data[..size]);
                next[..n].copy_from_slice(&s.finalize());
            } else {
                let mut s = Sha512::new();
                s.update(&want[..n]);
                s.update(&data[..size]);
                next.copy_from_slice(&s.finalize());
            }
            want = next;
            c.holds("REM 1 = H(REM 1 || data), zero-filled (B3.42)", got == want)?;
        }
        p.finish(h, &pool, c)?;
    }
    Ok(())
}
