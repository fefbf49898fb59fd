//! The EL3 side of attestation in the RMM-EL3 interface, as TF-A's `rmmd_attest.c`
//! answers it, with fixed test material (`attest/`, checked against the simulation by
//! the hosted test `the_el3_monitor_s_attestation_material_is_the_simulation_s`):
//!
//! - `RMM_ATTEST_GET_REALM_KEY` (0xC400_01B2; x1 buffer, x2 size, x3 curve): the raw
//!   48-byte P-384 private key into the buffer, x1 = 48;
//! - `RMM_ATTEST_GET_PLAT_TOKEN` (0xC400_01B3; x1 buffer, x2 size, x3 challenge size):
//!   the next hunk of the platform token (at most [`HUNK`] bytes), x1 = its size, x2 =
//!   bytes remaining. The first call of a transfer reads the challenge from the buffer:
//!   the token is signed for one challenge only (the hash of the test key's COSE_Key),
//!   and any other is refused with E_RMM_INVAL, so a wrong hash in the RMM shows at
//!   boot.
//!
//! Both check the buffer the way TF-A does: its first byte in the shared page
//! (E_RMM_BAD_ADDR), its last byte too (E_RMM_INVAL). The shared page is in the Realm
//! PAS; EL3 reaches it with its MMU off (Root PAS), so the page is moved to the Root
//! PAS for the access and back.

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::gpt::{self, Gpi};
use crate::layout::{GRANULE_SIZE, RMM_SHARED_BUF};
use crate::mem;
use crate::uart::println;

/// `RMM_ATTEST_GET_REALM_KEY`.
pub const RMM_ATTEST_GET_REALM_KEY: u32 = 0xC400_01B2;
/// `RMM_ATTEST_GET_PLAT_TOKEN`.
pub const RMM_ATTEST_GET_PLAT_TOKEN: u32 = 0xC400_01B3;

/// E_RMM_UNK.
const E_RMM_UNK: u64 = -1i64 as u64;
/// E_RMM_BAD_ADDR.
const E_RMM_BAD_ADDR: u64 = -2i64 as u64;
/// E_RMM_INVAL.
const E_RMM_INVAL: u64 = -5i64 as u64;
/// The curve of `RMM_ATTEST_GET_REALM_KEY`: SECP384R1.
const CURVE_SECP384R1: u64 = 0;

/// The test realm attestation key (a P-384 private scalar, big-endian).
static REALM_KEY: [u8; 48] = *include_bytes!("../attest/realm-key.bin");
/// The challenge the platform token is signed for.
static CHALLENGE: [u8; 32] = *include_bytes!("../attest/challenge.bin");
/// The platform token: a COSE_Sign1 (ES384) over CCA platform claims.
static PLATFORM_TOKEN: &[u8] = include_bytes!("../attest/platform-token.cbor");

/// The largest hunk handed out at once (less than a page, so that the RMM's loop over
/// hunks runs).
pub const HUNK: usize = 256;

/// Bytes of the platform token handed out in the transfer under way (0: none).
static OFFSET: AtomicUsize = AtomicUsize::new(0);

/// TF-A's `validate_buffer_params`.
fn check_buffer(pa: u64, len: u64) -> Result<usize, u64> {
    let page = |a: u64| a & !(GRANULE_SIZE - 1);
    if page(pa) != RMM_SHARED_BUF {
        return Err(E_RMM_BAD_ADDR);
    }
    if page(pa.wrapping_add(len).wrapping_sub(1)) != RMM_SHARED_BUF {
        return Err(E_RMM_INVAL);
    }
    Ok((pa - RMM_SHARED_BUF) as usize)
}

/// Runs `f` with the shared page in the Root PAS.
fn with_shared_page<R>(f: impl FnOnce() -> R) -> Result<R, u64> {
    gpt::transition(RMM_SHARED_BUF, Gpi::Realm, Gpi::Root).map_err(|_| E_RMM_UNK)?;
    let r = f();
    gpt::transition(RMM_SHARED_BUF, Gpi::Root, Gpi::Realm).map_err(|_| E_RMM_UNK)?;
    Ok(r)
}

/// `RMM_ATTEST_GET_REALM_KEY`: (x0, x1).
pub fn realm_key(buf: u64, size: u64, curve: u64) -> (u64, u64) {
    let r = check_buffer(buf, size).and_then(|off| {
        if curve != CURVE_SECP384R1 {
            return Err(E_RMM_INVAL);
        }
        if size < REALM_KEY.len() as u64 {
            return Err(E_RMM_UNK);
        }
        with_shared_page(|| mem::write_shared(off, &REALM_KEY))
    });
    match r {
        Ok(()) => (0, REALM_KEY.len() as u64),
        Err(e) => (e, 0),
    }
}

/// `RMM_ATTEST_GET_PLAT_TOKEN`: (x0, x1, x2).
pub fn platform_token(buf: u64, size: u64, challenge_size: u64) -> (u64, u64, u64) {
    let r = check_buffer(buf, size).and_then(|off| {
        if !matches!(challenge_size, 32 | 48 | 64) {
            return Err(E_RMM_INVAL);
        }
        let offset = OFFSET.load(Ordering::Relaxed);
        with_shared_page(|| {
            if offset == 0 {
                let mut challenge = [0u8; 64];
                let c = &mut challenge[..challenge_size as usize];
                mem::read_shared(off, c);
                if c != CHALLENGE {
                    println!(
                        "platform token refused: the challenge is not the hash of the test RAK"
                    );
                    return Err(E_RMM_INVAL);
                }
            }
            let n = (PLATFORM_TOKEN.len() - offset).min(size as usize).min(HUNK);
            mem::write_shared(off, &PLATFORM_TOKEN[offset..offset + n]);
            let remaining = PLATFORM_TOKEN.len() - offset - n;
            OFFSET.store(
                if remaining == 0 { 0 } else { offset + n },
                Ordering::Relaxed,
            );
            if remaining == 0 {
                println!(
                    "platform token of {} bytes handed to the RMM for the test RAK's hash",
                    PLATFORM_TOKEN.len()
                );
            }
            Ok((n as u64, remaining as u64))
        })?
    });
    match r {
        Ok((n, remaining)) => (0, n, remaining),
        Err(e) => (e, 0, 0),
    }
}
