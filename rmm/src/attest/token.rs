//! The CCA attestation token (DEN0137 1.0, A7.2.3) and the per-REC state of its
//! generation.
//!
//! ```text
//! cca-token = #6.399({                        ; D9 018F A2
//!     44234 => bstr(platform token),          ; as EL3 gave it (a COSE_Sign1_Tagged)
//!     44241 => bstr(realm token),             ; COSE_Sign1_Tagged, ES384, by the RAK
//! })
//! realm token = #6.18([ h'A10138 22' ({1: -35}), {}, bstr(realm claims), bstr(r || s) ])
//! ```
//!
//! The realm claims (A7.2.3.1), keys in deterministic order: challenge (10, 64 bytes),
//! profile (265, `tag:arm.com,2023:realm#1.0.0`), personalization value (44235, 64
//! bytes), hash algorithm id (44236, `sha-256`/`sha-512`), RAK public key (44237, bstr
//! of a COSE_Key), initial measurement (44238), extensible measurements (44239, array of
//! 4), RAK hash algorithm id (44240, `sha-256`). Measurements are the digest of the
//! realm's hash algorithm (32 or 64 bytes), sampled at RSI_ATTESTATION_TOKEN_INIT.
//!
//! Only the realm token is kept per REC ([`TokenState`], in the REC's first auxiliary
//! granule); the CCA token is the concatenation of a few header bytes, the platform
//! token (kept once, in [`super::AttestData`]) and the realm token, and
//! RSI_ATTESTATION_TOKEN_CONTINUE copies out of that concatenation directly.

use minicbor::encode::write::Cursor;
use minicbor::encode::Write;
use minicbor::Encoder;
use platform::GranuleMem;
use rsi_abi::attest::*;
use sha2::{Digest, Sha384};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use super::sign::{Progress, Signer};
use super::{AttestData, RAK_HASH_ALGO};

/// Room for the realm token: with SHA-512 measurements it is 750 bytes.
pub const REALM_TOKEN_MAX: usize = 1024;

/// The protected header of an ES384 COSE_Sign1: `{1 (alg): -35 (ES384)}` (RFC 9053).
pub const ES384_PROTECTED: [u8; 4] = [0xA1, 0x01, 0x38, 0x22];

/// CBOR tag of COSE_Sign1 (RFC 9052).
pub const COSE_SIGN1_TAG: u64 = 18;

/// CBOR major types used here (RFC 8949, 3.1).
mod major {
    pub const BYTES: u8 = 2;
    pub const TAG: u8 = 6;
    pub const MAP: u8 = 5;
    pub const UINT: u8 = 0;
}

/// A CBOR head (RFC 8949, 3): major type and argument, in its shortest form. Returns
/// the bytes and how many there are.
pub fn cbor_head(major: u8, arg: u64) -> ([u8; 9], usize) {
    let mut out = [0u8; 9];
    let m = major << 5;
    let n = if arg < 24 {
        out[0] = m | arg as u8;
        1
    } else if arg <= 0xFF {
        out[0] = m | 24;
        out[1] = arg as u8;
        2
    } else if arg <= 0xFFFF {
        out[0] = m | 25;
        out[1..3].copy_from_slice(&(arg as u16).to_be_bytes());
        3
    } else if arg <= 0xFFFF_FFFF {
        out[0] = m | 26;
        out[1..5].copy_from_slice(&(arg as u32).to_be_bytes());
        5
    } else {
        out[0] = m | 27;
        out[1..9].copy_from_slice(&arg.to_be_bytes());
        9
    };
    (out, n)
}

/// Writes `bytes` at `*pos` in `buf` and moves `*pos` past them; `None` if they do not fit.
fn put(buf: &mut [u8], pos: &mut usize, bytes: &[u8]) -> Option<()> {
    buf.get_mut(*pos..*pos + bytes.len())?
        .copy_from_slice(bytes);
    *pos += bytes.len();
    Some(())
}

/// The claims of a realm token.
pub struct RealmClaims<'a> {
    /// The challenge given to RSI_ATTESTATION_TOKEN_INIT.
    pub challenge: &'a [u8; ATTEST_CHALLENGE_SIZE],
    /// The realm personalization value.
    pub rpv: &'a [u8; 64],
    /// The RIM (the digest: 32 or 64 bytes).
    pub rim: &'a [u8],
    /// The REMs.
    pub rems: [&'a [u8]; 4],
    /// The IANA name of the realm hash algorithm.
    pub hash_algo: &'static str,
    /// The RAK public key (a COSE_Key).
    pub rak_pub: &'a [u8],
}

/// Encodes the realm claims map (see the module documentation).
fn encode_claims<W: Write>(
    e: &mut Encoder<W>,
    c: &RealmClaims<'_>,
) -> Result<(), minicbor::encode::Error<W::Error>> {
    e.map(8)?;
    e.u64(REALM_CHALLENGE_LABEL)?.bytes(c.challenge)?;
    e.u64(REALM_PROFILE_LABEL)?.str(REALM_PROFILE)?;
    e.u64(REALM_PERSONALIZATION_VALUE_LABEL)?.bytes(c.rpv)?;
    e.u64(REALM_HASH_ALGO_ID_LABEL)?.str(c.hash_algo)?;
    e.u64(REALM_PUBLIC_KEY_LABEL)?.bytes(c.rak_pub)?;
    e.u64(REALM_INITIAL_MEASUREMENT_LABEL)?.bytes(c.rim)?;
    e.u64(REALM_EXTENSIBLE_MEASUREMENTS_LABEL)?.array(4)?;
    for rem in c.rems {
        e.bytes(rem)?;
    }
    e.u64(REALM_PUBLIC_KEY_HASH_ALGO_ID_LABEL)?
        .str(RAK_HASH_ALGO)?;
    Ok(())
}

/// A [`Write`] that only counts.
struct Count(usize);

impl Write for Count {
    type Error = core::convert::Infallible;
    fn write_all(&mut self, buf: &[u8]) -> Result<(), Self::Error> {
        self.0 += buf.len();
        Ok(())
    }
}

/// A [`Write`] into SHA-384.
struct Hash(Sha384);

impl Write for Hash {
    type Error = core::convert::Infallible;
    fn write_all(&mut self, buf: &[u8]) -> Result<(), Self::Error> {
        self.0.update(buf);
        Ok(())
    }
}

/// Token generation states (DEN0137 1.0, `RmmRec.attest_state`), as stored.
mod state {
    /// NO_ATTEST_IN_PROGRESS.
    pub const NONE: u64 = 0;
    /// ATTEST_IN_PROGRESS.
    pub const IN_PROGRESS: u64 = 1;
}

/// Why a token cannot be produced (RSI_ERROR_UNKNOWN).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// No realm attestation key or platform token (EL3 gave none at boot).
    Unavailable,
    /// Encoding or signing failed.
    Failed,
}

/// What one RSI_ATTESTATION_TOKEN_CONTINUE step did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Continue {
    /// A signing step was made; the token is not signed yet.
    Signing,
    /// The token is signed: bytes can be copied.
    Signed,
}

/// The per-REC state of token generation, at the start of the REC's first auxiliary
/// granule (zero there when the REC is created: no token in progress).
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct TokenState {
    /// [`state`] encoding.
    state: u64,
    /// 0, or 1 + [`TokenError`] index: the token cannot be produced.
    error: u64,
    /// Bytes of the CCA token copied to the realm so far.
    copied: u64,
    /// Length of the realm token in [`TokenState::realm`].
    realm_len: u64,
    /// Offset of the signature's 96 bytes in [`TokenState::realm`].
    sig_offset: u64,
    /// The realm token's signature in progress.
    signer: Signer,
    /// The realm token (signature bytes zero until signed).
    realm: [u8; REALM_TOKEN_MAX],
}

#[derive(FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
struct TokenGranule {
    state: TokenState,
    _rest: [u8; 4096 - core::mem::size_of::<TokenState>()],
}

/// The token state in a mapped REC auxiliary granule.
pub fn token_state(g: &mut GranuleMem) -> &mut TokenState {
    let page: &mut TokenGranule = zerocopy::transmute_mut!(g);
    &mut page.state
}

/// The CCA token's header bytes: before the platform token (tag 399, map of 2, key
/// 44234, bstr head) and between the two tokens (key 44241, bstr head).
fn headers(plat_len: usize, realm_len: usize) -> (([u8; 16], usize), ([u8; 12], usize)) {
    let mut h1 = [0u8; 16];
    let mut n1 = 0;
    for (m, a) in [
        (major::TAG, CCA_TOKEN_TAG),
        (major::MAP, 2),
        (major::UINT, CCA_PLATFORM_TOKEN_LABEL),
        (major::BYTES, plat_len as u64),
    ] {
        let (b, n) = cbor_head(m, a);
        h1[n1..n1 + n].copy_from_slice(&b[..n]);
        n1 += n;
    }
    let mut h2 = [0u8; 12];
    let mut n2 = 0;
    for (m, a) in [
        (major::UINT, CCA_REALM_DELEGATED_TOKEN_LABEL),
        (major::BYTES, realm_len as u64),
    ] {
        let (b, n) = cbor_head(m, a);
        h2[n2..n2 + n].copy_from_slice(&b[..n]);
        n2 += n;
    }
    ((h1, n1), (h2, n2))
}

impl TokenState {
    /// Whether a token generation is in progress (ATTEST_IN_PROGRESS).
    pub fn in_progress(&self) -> bool {
        self.state == state::IN_PROGRESS
    }

    /// Why the token in progress cannot be produced, if it cannot.
    pub fn error(&self) -> Option<TokenError> {
        match self.error {
            0 => None,
            1 => Some(TokenError::Unavailable),
            _ => Some(TokenError::Failed),
        }
    }

    fn fail(&mut self, e: TokenError) {
        self.signer.reset();
        self.error = 1 + e as u64;
    }

    /// RSI_ATTESTATION_TOKEN_INIT: starts a new token with `claims` (whatever was in
    /// progress is abandoned), encoding the realm token with its signature still to
    /// be made and starting the signature. Returns the size of the CCA token (0 if
    /// attestation is unavailable).
    pub fn begin(&mut self, claims: &RealmClaims<'_>, data: &AttestData) -> usize {
        self.state = state::IN_PROGRESS;
        self.error = 0;
        self.copied = 0;
        self.realm_len = 0;
        self.signer.reset();
        self.realm.fill(0);
        if !data.ready() {
            self.fail(TokenError::Unavailable);
            return 0;
        }
        match self.encode(claims, data) {
            Some(()) => self.total(data),
            None => {
                self.fail(TokenError::Failed);
                0
            }
        }
    }

    /// Encodes the realm token around `claims` and starts its signature.
    fn encode(&mut self, claims: &RealmClaims<'_>, data: &AttestData) -> Option<()> {
        let mut count = Encoder::new(Count(0));
        encode_claims(&mut count, claims).ok()?;
        let payload_len = count.into_writer().0;

        let buf = &mut self.realm;
        let mut pos = 0;
        let (tag, n) = cbor_head(major::TAG, COSE_SIGN1_TAG);
        put(buf, &mut pos, &tag[..n])?;
        put(buf, &mut pos, &[0x84, 0x40 | ES384_PROTECTED.len() as u8])?;
        put(buf, &mut pos, &ES384_PROTECTED)?;
        put(buf, &mut pos, &[0xA0])?;
        let (head, n) = cbor_head(major::BYTES, payload_len as u64);
        put(buf, &mut pos, &head[..n])?;
        let payload_at = pos;
        {
            let region = buf.get_mut(payload_at..payload_at + payload_len)?;
            let mut e = Encoder::new(Cursor::new(region));
            encode_claims(&mut e, claims).ok()?;
        }
        pos += payload_len;
        put(buf, &mut pos, &[0x58, 96])?;
        self.sig_offset = pos as u64;
        put(buf, &mut pos, &[0; 96])?;
        self.realm_len = pos as u64;

        // Sig_structure = ["Signature1", protected, external_aad = h'', payload]
        // (RFC 9052, 4.4), hashed as it is encoded.
        let mut tbs = Encoder::new(Hash(Sha384::new()));
        tbs.array(4)
            .and_then(|e| e.str("Signature1"))
            .and_then(|e| e.bytes(&ES384_PROTECTED))
            .and_then(|e| e.bytes(&[]))
            .and_then(|e| e.bytes(&self.realm[payload_at..payload_at + payload_len]))
            .ok()?;
        let digest: [u8; 48] = tbs.into_writer().0.finalize().into();
        self.signer.start(data.rak(), &digest);
        Some(())
    }

    /// The size of the CCA token this state produces with `data`'s platform token.
    pub fn total(&self, data: &AttestData) -> usize {
        let plat = data.platform_token().len();
        let ((_, n1), (_, n2)) = headers(plat, self.realm_len as usize);
        n1 + plat + n2 + self.realm_len as usize
    }

    /// One step of RSI_ATTESTATION_TOKEN_CONTINUE's signing: a bounded step of the
    /// signature if it is not made yet. `Err` if the token cannot be produced.
    pub fn sign_step(&mut self, data: &AttestData) -> Result<Continue, TokenError> {
        if let Some(e) = self.error() {
            return Err(e);
        }
        if !self.signer.in_progress() {
            return if self.signer.signature().is_some() {
                Ok(Continue::Signed)
            } else {
                self.fail(TokenError::Failed);
                Err(TokenError::Failed)
            };
        }
        match self.signer.step(data.table(), data.rak()) {
            Progress::More => Ok(Continue::Signing),
            Progress::Done => {
                let at = self.sig_offset as usize;
                let sig = *self.signer.signature().ok_or(TokenError::Failed)?;
                self.realm[at..at + 96].copy_from_slice(&sig);
                Ok(Continue::Signed)
            }
            Progress::Failed => {
                self.fail(TokenError::Failed);
                Err(TokenError::Failed)
            }
        }
    }

    /// Whether the signature is made and bytes can be copied.
    pub fn signed(&self) -> bool {
        self.error().is_none() && self.signer.signature().is_some()
    }

    /// Hands the next bytes of the CCA token (signed) to `write` (position in the
    /// output, bytes), as many as fit in `out_len` bytes and remain; returns how many,
    /// and whether that was the end of the token: then the token generation is over
    /// (NO_ATTEST_IN_PROGRESS).
    pub fn copy_out(
        &mut self,
        data: &AttestData,
        out_len: usize,
        mut write: impl FnMut(usize, &[u8]),
    ) -> (usize, bool) {
        let plat = data.platform_token();
        let realm = &self.realm[..self.realm_len as usize];
        let ((h1, n1), (h2, n2)) = headers(plat.len(), realm.len());
        let parts: [&[u8]; 4] = [&h1[..n1], plat, &h2[..n2], realm];
        let mut from = self.copied as usize;
        let mut done = 0;
        let mut start = 0;
        for part in parts {
            let end = start + part.len();
            if from < end && done < out_len {
                let n = (end - from).min(out_len - done);
                write(done, &part[from - start..from - start + n]);
                done += n;
                from += n;
            }
            start = end;
        }
        self.copied = from as u64;
        let finished = from == start;
        if finished {
            self.finish();
        }
        (done, finished)
    }

    /// Ends the token generation (NO_ATTEST_IN_PROGRESS).
    fn finish(&mut self) {
        self.state = state::NONE;
        self.signer.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbor_heads_are_shortest() {
        let h = |m, a| {
            let (b, n) = cbor_head(m, a);
            b[..n].to_vec()
        };
        assert_eq!(h(2, 0), [0x40]);
        assert_eq!(h(2, 23), [0x57]);
        assert_eq!(h(2, 24), [0x58, 24]);
        assert_eq!(h(2, 96), [0x58, 0x60]);
        assert_eq!(h(2, 256), [0x59, 0x01, 0x00]);
        assert_eq!(h(6, 399), [0xD9, 0x01, 0x8F]);
        assert_eq!(h(0, 44234), [0x19, 0xAC, 0xCA]);
        assert_eq!(h(0, 0x1_0000), [0x1A, 0, 1, 0, 0]);
        assert_eq!(h(0, 1 << 32), [0x1B, 0, 0, 0, 1, 0, 0, 0, 0]);
    }

    #[test]
    fn the_token_state_fits_its_granule() {
        assert!(core::mem::size_of::<TokenState>() <= 4096);
    }
}
