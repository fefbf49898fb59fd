//! Realm attestation (DEN0137 1.0, A7.2): the keys and the platform token from EL3, the
//! restartable signer and the CCA token.
//!
//! - [`ec`]: P-384 point arithmetic whose state can be stored between steps.
//! - [`sign`]: ECDSA P-384 signing in bounded steps (RFC 6979 nonces).
//! - [`token`]: the realm claims, the realm token (COSE_Sign1, ES384) and the CCA token
//!   (CBOR tag 399 collection), and the per-REC token state in its auxiliary granule.
//!
//! At cold boot ([`fetch_from_el3`]) the RMM asks EL3 for the realm attestation key
//! (`RMM_ATTEST_GET_REALM_KEY`, a raw P-384 private key), derives its public key and
//! encodes it as a COSE_Key, and asks for the platform token
//! (`RMM_ATTEST_GET_PLAT_TOKEN`) with the SHA-256 hash of that COSE_Key as the
//! challenge, collecting the hunks until EL3 says none remain. All of it goes into
//! [`AttestStore`], which lives in the RMM's [`crate::Storage`] (a static on the
//! firmware, an allocation of the machine hosted): the platform token may be several
//! KiB. A failure is logged and leaves attestation unavailable (RSI_ATTESTATION_TOKEN_
//! CONTINUE then answers RSI_ERROR_UNKNOWN); the RMM boots and serves RMI regardless.

pub mod ec;
pub mod sign;
pub mod token;

use minicbor::encode::write::Cursor;
use minicbor::Encoder;
use platform::el3::{
    El3Error, ECC_CURVE_SECP384R1, RMM_ATTEST_GET_PLAT_TOKEN, RMM_ATTEST_GET_REALM_KEY,
};
use platform::{Arch, CpuId, GranuleMem, PhysAddr};

use crate::boot::SharedBuf;
use sha2::{Digest, Sha256};

use ec::BaseTable;

/// The most bytes of platform token the RMM keeps. TF-A's sample tokens are about
/// 1 KiB, tokens from an RSE about 1.5 KiB.
pub const PLAT_TOKEN_MAX: usize = 0x2000;

/// Size of the realm attestation key's COSE_Key encoding ([`cose_key`]).
pub const COSE_KEY_LEN: usize = 107;

/// Size of the hash of the RAK's public key (SHA-256): the platform token's challenge.
pub const RAK_HASH_LEN: usize = 32;

/// The IANA name of the hash of the RAK's public key (DEN0137 1.0, A7.2.3.1.8).
pub const RAK_HASH_ALGO: &str = "sha-256";

/// How often the RMM asks again when EL3 answers E_RMM_AGAIN (busy) before it gives up.
const MAX_AGAIN: usize = 10_000;

/// What the RMM keeps for attestation, written once at cold boot.
pub struct AttestData {
    ready: bool,
    rak: [u8; 48],
    rak_pub: [u8; COSE_KEY_LEN],
    table: BaseTable,
    plat_len: usize,
    plat: [u8; PLAT_TOKEN_MAX],
}

impl AttestData {
    /// The realm attestation private key (valid when [`AttestData::ready`]).
    pub fn rak(&self) -> &[u8; 48] {
        &self.rak
    }

    /// The RAK's public key as a CBOR COSE_Key (the Realm public key claim's value).
    pub fn rak_public(&self) -> &[u8; COSE_KEY_LEN] {
        &self.rak_pub
    }

    /// The multiples of the base point signing uses.
    pub fn table(&self) -> &BaseTable {
        &self.table
    }

    /// The platform token as EL3 gave it.
    pub fn platform_token(&self) -> &[u8] {
        &self.plat[..self.plat_len]
    }

    /// Whether the key and the platform token were obtained.
    pub fn ready(&self) -> bool {
        self.ready
    }
}

/// The RMM's attestation material, behind a lock that is only written at cold boot.
pub struct AttestStore {
    inner: spin::RwLock<AttestData>,
}

impl AttestStore {
    /// Empty (not ready): a `const`, so that a firmware static of it is in `.bss`.
    pub const fn new() -> Self {
        Self {
            inner: spin::RwLock::new(AttestData {
                ready: false,
                rak: [0; 48],
                rak_pub: [0; COSE_KEY_LEN],
                table: BaseTable::ZERO,
                plat_len: 0,
                plat: [0; PLAT_TOKEN_MAX],
            }),
        }
    }

    /// The material, for reading.
    pub fn read(&self) -> spin::RwLockReadGuard<'_, AttestData> {
        self.inner.read()
    }
}

impl Default for AttestStore {
    fn default() -> Self {
        Self::new()
    }
}

/// The COSE_Key (RFC 9052, 7; RFC 9053, 7.1.1) of the P-384 public key (x, y), as
/// TF-RMM encodes the RAK: `{1 (kty): 2 (EC2), -1 (crv): 2 (P-384), -2 (x): bstr,
/// -3 (y): bstr}`, keys in deterministic order.
pub fn cose_key(x: &[u8; 48], y: &[u8; 48]) -> [u8; COSE_KEY_LEN] {
    let mut out = [0u8; COSE_KEY_LEN];
    let mut e = Encoder::new(Cursor::new(&mut out[..]));
    let r = e
        .map(4)
        .and_then(|e| e.u8(1))
        .and_then(|e| e.u8(2))
        .and_then(|e| e.i8(-1))
        .and_then(|e| e.u8(2))
        .and_then(|e| e.i8(-2))
        .and_then(|e| e.bytes(x))
        .and_then(|e| e.i8(-3))
        .and_then(|e| e.bytes(y))
        .map(|e| e.writer().position());
    debug_assert_eq!(r.ok(), Some(COSE_KEY_LEN));
    out
}

/// The hash of a RAK public key (its COSE_Key): the platform token's challenge.
pub fn rak_hash(cose_key: &[u8]) -> [u8; RAK_HASH_LEN] {
    Sha256::digest(cose_key).into()
}

/// Why attestation is unavailable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchError {
    /// RMM_ATTEST_GET_REALM_KEY failed.
    RealmKey(El3Error),
    /// The key EL3 gave is not a 48-byte P-384 private key.
    BadRealmKey,
    /// RMM_ATTEST_GET_PLAT_TOKEN failed.
    PlatformToken(El3Error),
    /// EL3 reported a hunk larger than the buffer, or no progress.
    BadHunk,
    /// The platform token does not fit [`PLAT_TOKEN_MAX`].
    TokenTooLarge,
    /// What EL3 gave is not a COSE_Sign1_Tagged (DEN0137 1.0, A7.2.2: the platform
    /// token is one; CBOR tag 18, then an array of 4), e.g. nothing at all.
    NotCoseSign1,
}

/// Cold boot: obtains the realm attestation key and the platform token from EL3 through
/// the shared buffer at `shared` into `store`. On failure it logs why and leaves the
/// store not ready; it never fails the boot.
pub fn fetch_from_el3<A: Arch>(arch: &A, cpu: CpuId, shared: PhysAddr, store: &AttestStore) {
    let mut data = store.inner.write();
    data.ready = false;
    match fetch(arch, cpu, &mut SharedBuf(shared), &mut data) {
        Ok(()) => {
            data.ready = true;
            log::info!(
                "attestation: realm attestation key from EL3, platform token of {} bytes",
                data.plat_len
            );
        }
        Err(e) => {
            data.rak = [0; 48];
            data.plat_len = 0;
            log::error!("attestation unavailable: {e:?}; RSI_ATTESTATION_TOKEN_CONTINUE will fail");
        }
    }
}

fn fetch<A: Arch>(
    arch: &A,
    cpu: CpuId,
    shared: &mut SharedBuf,
    data: &mut AttestData,
) -> Result<(), FetchError> {
    let size = core::mem::size_of::<GranuleMem>() as u64;
    let buf = shared.0 .0;
    // The realm attestation key, raw: the private scalar, big-endian.
    let r = arch.el3_call(
        cpu,
        RMM_ATTEST_GET_REALM_KEY,
        &[buf, size, ECC_CURVE_SECP384R1],
    );
    El3Error::check(r[0]).map_err(FetchError::RealmKey)?;
    {
        let mut m = arch.map_realm(shared);
        let ok = r[1] == 48;
        if ok {
            data.rak.copy_from_slice(&m.0[..48]);
        }
        // The private key does not stay in the shared buffer.
        m.0[..48].fill(0);
        if !ok {
            return Err(FetchError::BadRealmKey);
        }
    }
    if !sign::valid_private_key(&data.rak) {
        return Err(FetchError::BadRealmKey);
    }
    data.table.compute();
    let (x, y) = sign::public_key(&data.table, &data.rak).ok_or(FetchError::BadRealmKey)?;
    data.rak_pub = cose_key(&x, &y);
    let challenge = rak_hash(&data.rak_pub);

    // The platform token, in hunks. The challenge is written before every call and its
    // size passed with each: TF-A checks the size on every call (and reads the
    // challenge on the first).
    data.plat_len = 0;
    let mut again = 0;
    loop {
        arch.map_realm(shared).0[..RAK_HASH_LEN].copy_from_slice(&challenge);
        let r = arch.el3_call(
            cpu,
            RMM_ATTEST_GET_PLAT_TOKEN,
            &[buf, size, RAK_HASH_LEN as u64],
        );
        match El3Error::check(r[0]) {
            Ok(()) => {}
            Err(El3Error::Again) if again < MAX_AGAIN => {
                again += 1;
                continue;
            }
            Err(e) => return Err(FetchError::PlatformToken(e)),
        }
        let (hunk, remaining) = (r[1], r[2]);
        if hunk > size || (hunk == 0 && remaining != 0) {
            return Err(FetchError::BadHunk);
        }
        let (hunk, remaining) = (hunk as usize, remaining as usize);
        let end = data.plat_len + hunk;
        if end.saturating_add(remaining) > PLAT_TOKEN_MAX {
            return Err(FetchError::TokenTooLarge);
        }
        data.plat[data.plat_len..end].copy_from_slice(&arch.map_realm(shared).0[..hunk]);
        data.plat_len = end;
        if remaining == 0 {
            // CBOR tag 18 (0xD2) and an array of four (0x84): the shape of a
            // COSE_Sign1_Tagged, which the realm's CCA token embeds as is.
            if !data.plat[..data.plat_len].starts_with(&[0xD2, 0x84]) {
                return Err(FetchError::NotCoseSign1);
            }
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cose_key_layout() {
        let k = cose_key(&[0x11; 48], &[0x22; 48]);
        assert_eq!(&k[..8], &[0xA4, 0x01, 0x02, 0x20, 0x02, 0x21, 0x58, 0x30]);
        assert_eq!(&k[8..56], &[0x11; 48]);
        assert_eq!(&k[56..59], &[0x22, 0x58, 0x30]);
        assert_eq!(&k[59..], &[0x22; 48]);
    }
}
