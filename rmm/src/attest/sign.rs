//! Restartable ECDSA P-384 signing (FIPS 186-5, 6.4.1), in bounded steps whose state
//! is plain bytes, so that it can live in a REC's auxiliary granule between RSI calls.
//!
//! - [`Signer::start`]: the per-signature nonce `k` from the private key and the message
//!   hash, deterministically (RFC 6979, HMAC-DRBG with SHA-384, `rfc6979` crate), and
//!   `R := O`.
//! - [`Signer::step`]: [`WINDOWS_PER_STEP`] windows of `R := k·G` ([`super::ec`]) per
//!   call, then two final steps: `r := x(R) mod n` (a field inversion), then
//!   `s := k⁻¹(z + r·d) mod n` (a scalar inversion), and the nonce and `R` are erased
//!   from the state (copies a step leaves in its stack frames are not:
//!   `docs/attestation.md`).
//!
//! Every step runs the same instructions whatever the key, nonce and message (field and
//! scalar arithmetic of RustCrypto, complete point formulas, masked table reads), so the
//! number of steps and their duration say nothing about the secrets. The signature is
//! the one RustCrypto's `SigningKey::sign_prehash` computes for the same key and hash
//! (tested), except in the case RFC 6979 and RustCrypto differ, a hash value at or
//! above the group order: RFC 6979 (bits2octets) reduces it first, and so does this.

use p384::elliptic_curve::ops::Reduce;
use p384::elliptic_curve::PrimeField;
use p384::{FieldBytes, Scalar, U384};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use super::ec::{self, hex48, BaseTable, Point, PointBytes, WINDOWS};

/// The order n of the P-384 base point (FIPS 186-4, D.1.2.4), big-endian.
pub const ORDER: [u8; 48] = hex48("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973");

/// Windows of `k·G` per [`Signer::step`]: 8 windows are 32 doublings and 8 additions.
/// 12 such steps and two final steps make a signature.
pub const WINDOWS_PER_STEP: usize = 8;

/// Steps a signature takes: the multiplication's, then the two final ones.
pub const STEPS: usize = WINDOWS.div_ceil(WINDOWS_PER_STEP) + 2;

/// [`Signer::window`] once `r` is computed (the last step computes `s`).
const R_DONE: u32 = WINDOWS as u32 + 1;

/// Where a signature is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// More steps are needed.
    More,
    /// The signature is ready ([`Signer::signature`]).
    Done,
    /// Signing failed (r or s zero, or a corrupted state); the signature is unusable.
    Failed,
}

/// Phases, as stored.
mod phase {
    pub const IDLE: u32 = 0;
    pub const MULTIPLYING: u32 = 1;
    pub const DONE: u32 = 2;
    pub const FAILED: u32 = 3;
}

/// The state of one signature, as bytes.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct Signer {
    phase: u32,
    /// The next window of `k·G`.
    window: u32,
    /// The nonce, big-endian (secret; zero when not signing).
    k: [u8; 48],
    /// The message hash reduced mod n, big-endian.
    z: [u8; 48],
    /// `R` so far (secret: it reveals the nonce's leading windows).
    acc: PointBytes,
    /// The signature: r || s, big-endian (r valid once computed, s in phase DONE).
    sig: [u8; 96],
}

/// A scalar from big-endian bytes; `None` unless below n.
fn scalar(bytes: &[u8; 48]) -> Option<Scalar> {
    Option::from(Scalar::from_repr(*FieldBytes::from_slice(bytes)))
}

fn scalar_bytes(s: &Scalar) -> [u8; 48] {
    let mut out = [0u8; 48];
    out.copy_from_slice(&s.to_repr());
    out
}

/// Whether `d` is a valid private key: 0 < d < n.
pub fn valid_private_key(d: &[u8; 48]) -> bool {
    scalar(d).is_some_and(|s| !bool::from(s.is_zero()))
}

impl Signer {
    /// Starts signing the SHA-384 hash `prehash` with private key `d` (0 < d < n).
    pub fn start(&mut self, d: &[u8; 48], prehash: &[u8; 48]) {
        // bits2int of a 384-bit hash for a 384-bit order is the hash itself; reduced
        // mod n it is the h1 of RFC 6979, 3.2 (bits2octets) and the z of FIPS 186-5.
        let z = <Scalar as Reduce<U384>>::reduce_bytes(FieldBytes::from_slice(prehash));
        let z = scalar_bytes(&z);
        let k = rfc6979::generate_k::<sha2::Sha384, p384::U48>(
            FieldBytes::from_slice(d),
            FieldBytes::from_slice(&ORDER),
            FieldBytes::from_slice(&z),
            &[],
        );
        self.k.copy_from_slice(&k);
        self.z = z;
        self.acc = Point::IDENTITY.to_bytes();
        self.window = 0;
        self.sig = [0; 96];
        self.phase = phase::MULTIPLYING;
    }

    /// One bounded step (see the module documentation). `d` is the private key the
    /// signature was started with.
    pub fn step(&mut self, table: &BaseTable, d: &[u8; 48]) -> Progress {
        match self.phase {
            phase::DONE => return Progress::Done,
            phase::MULTIPLYING => {}
            _ => return Progress::Failed,
        }
        let w = self.window as usize;
        let ok = if w < WINDOWS {
            let end = (w + WINDOWS_PER_STEP).min(WINDOWS);
            let next = Point::from_bytes(&self.acc)
                .and_then(|acc| ec::mul_base_windows(&acc, table, &self.k, w..end));
            next.map(|p| {
                self.acc = p.to_bytes();
                self.window = end as u32;
                Progress::More
            })
        } else if w == WINDOWS {
            self.compute_r().map(|()| {
                self.window = R_DONE;
                Progress::More
            })
        } else {
            self.compute_s(d).map(|()| Progress::Done)
        };
        let progress = ok.unwrap_or(Progress::Failed);
        match progress {
            Progress::More => {}
            Progress::Done => {
                self.phase = phase::DONE;
                self.erase();
            }
            Progress::Failed => {
                self.phase = phase::FAILED;
                self.erase();
            }
        }
        progress
    }

    /// `r = x(R) mod n` into the signature; `None` if it is zero. `R` is erased.
    fn compute_r(&mut self) -> Option<()> {
        let (x, _) = Point::from_bytes(&self.acc)?.to_affine()?;
        self.acc = Point::IDENTITY.to_bytes();
        let r = <Scalar as Reduce<U384>>::reduce_bytes(FieldBytes::from_slice(&x));
        if bool::from(r.is_zero()) {
            return None;
        }
        self.sig[..48].copy_from_slice(&scalar_bytes(&r));
        Some(())
    }

    /// `s = k⁻¹(z + r·d) mod n` into the signature; `None` if it is zero.
    fn compute_s(&mut self, d: &[u8; 48]) -> Option<()> {
        let mut r = [0u8; 48];
        r.copy_from_slice(&self.sig[..48]);
        let kinv: Option<Scalar> = scalar(&self.k)?.invert().into();
        let s = kinv? * (scalar(&self.z)? + scalar(&r)? * scalar(d)?);
        if bool::from(s.is_zero()) {
            return None;
        }
        self.sig[48..].copy_from_slice(&scalar_bytes(&s));
        Some(())
    }

    /// Erases the nonce and the partial product.
    fn erase(&mut self) {
        self.k = [0; 48];
        self.acc = Point::IDENTITY.to_bytes();
    }

    /// The signature (r || s), once [`Progress::Done`].
    pub fn signature(&self) -> Option<&[u8; 96]> {
        (self.phase == phase::DONE).then_some(&self.sig)
    }

    /// Whether the signer is between [`Signer::start`] and the end of signing.
    pub fn in_progress(&self) -> bool {
        self.phase == phase::MULTIPLYING
    }

    /// Forgets any signature in progress (erasing its secrets).
    pub fn reset(&mut self) {
        self.erase();
        self.phase = phase::IDLE;
        self.window = 0;
    }
}

/// The public key `d·G` as affine (x, y), big-endian; computed with the same windowed
/// multiplication as signatures (RustCrypto's own multiplication keeps a 2.3 KiB table
/// in its stack frame, over the firmware's frame limit).
pub fn public_key(table: &BaseTable, d: &[u8; 48]) -> Option<([u8; 48], [u8; 48])> {
    ec::mul_base_windows(&Point::IDENTITY, table, d, 0..WINDOWS)?.to_affine()
}

#[cfg(test)]
mod tests {
    use super::*;
    use p384::ecdsa::signature::hazmat::PrehashSigner;
    use p384::ecdsa::{Signature, SigningKey};
    use p384::elliptic_curve::bigint::Encoding;
    use p384::elliptic_curve::Curve;
    use sha2::{Digest, Sha384};
    use zerocopy::FromZeros;

    fn table() -> BaseTable {
        let mut t = BaseTable::ZERO;
        t.compute();
        t
    }

    fn key(seed: u8) -> [u8; 48] {
        let mut d = [0u8; 48];
        for (i, b) in d.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(seed | 1).wrapping_add(seed);
        }
        d[0] &= 0x7F;
        d
    }

    fn sign_in_steps(d: &[u8; 48], h: &[u8; 48]) -> ([u8; 96], usize) {
        let t = table();
        let mut s = Signer::new_zeroed();
        s.start(d, h);
        let mut steps = 0;
        loop {
            steps += 1;
            match s.step(&t, d) {
                Progress::More => assert!(s.in_progress()),
                Progress::Done => break,
                Progress::Failed => panic!("signing failed"),
            }
        }
        assert_eq!(s.k, [0; 48], "the nonce is erased");
        (*s.signature().unwrap(), steps)
    }

    #[test]
    fn the_order_constant_is_p384_s() {
        let n = p384::NistP384::ORDER.to_be_bytes();
        assert_eq!(&n[..], &ORDER[..]);
    }

    #[test]
    fn signatures_are_rustcrypto_s_rfc6979_signatures() {
        for seed in [1u8, 2, 77, 200] {
            let d = key(seed);
            let h: [u8; 48] = Sha384::digest([seed; 100]).into();
            let (sig, steps) = sign_in_steps(&d, &h);
            assert_eq!(steps, STEPS);
            let rc: Signature = SigningKey::from_slice(&d)
                .unwrap()
                .sign_prehash(&h)
                .unwrap();
            assert_eq!(&sig[..], &rc.to_bytes()[..], "key seed {seed}");
        }
    }

    #[test]
    fn the_public_key_is_rustcrypto_s() {
        let d = key(9);
        let (x, y) = public_key(&table(), &d).unwrap();
        let vk = *SigningKey::from_slice(&d).unwrap().verifying_key();
        let e = vk.to_encoded_point(false);
        assert_eq!(e.x().unwrap().as_slice(), &x);
        assert_eq!(e.y().unwrap().as_slice(), &y);
    }

    #[test]
    fn private_key_validity() {
        assert!(!valid_private_key(&[0; 48]));
        assert!(!valid_private_key(&ORDER));
        assert!(!valid_private_key(&[0xFF; 48]));
        let mut n1 = ORDER;
        n1[47] -= 1;
        assert!(valid_private_key(&n1));
        assert!(valid_private_key(&key(3)));
    }

    #[test]
    fn a_reset_or_restart_forgets_the_signature_in_progress() {
        let t = table();
        let d = key(5);
        let mut s = Signer::new_zeroed();
        s.start(&d, &[1; 48]);
        assert_eq!(s.step(&t, &d), Progress::More);
        s.reset();
        assert!(!s.in_progress());
        assert_eq!(s.step(&t, &d), Progress::Failed);
        assert_eq!(s.k, [0; 48]);
        // A new start after a partial one gives the fresh signature.
        s.start(&d, &[1; 48]);
        s.step(&t, &d);
        s.start(&d, &[2; 48]);
        while s.step(&t, &d) == Progress::More {}
        let rc: Signature = SigningKey::from_slice(&d)
            .unwrap()
            .sign_prehash(&[2; 48])
            .unwrap();
        assert_eq!(&s.signature().unwrap()[..], &rc.to_bytes()[..]);
    }
}
