//! NIST P-384 group arithmetic for restartable signing: points in projective
//! coordinates with the complete addition and doubling formulas for curves with a = -3
//! (Renes, Costello, Batina, "Complete addition formulas for prime order elliptic
//! curves", EUROCRYPT 2016, algorithms 4 and 6), over RustCrypto's constant-time field
//! arithmetic (`p384::FieldElement`, fiat-crypto).
//!
//! The formulas have no exceptional cases (the identity, doubling through addition, a
//! point and its negation all take the same path), so a point multiplication made of
//! them runs the same instructions whatever the scalar. Unlike RustCrypto's own
//! `ProjectivePoint`, a [`Point`] can be stored as bytes ([`PointBytes`]) between two
//! steps of a multiplication: that is what lets a signature be computed across several
//! RSI calls, with the state in the REC's auxiliary granule.
//!
//! Multiplication by the base point `G` uses 4-bit windows, most significant first: per
//! window four doublings and one addition of `w·G` from a 16-entry table
//! ([`BaseTable`]), the entry chosen by reading all sixteen with masks (no
//! secret-dependent address or branch).

use p384::elliptic_curve::subtle::{ConstantTimeEq, CtOption};
use p384::{FieldBytes, FieldElement as Fe};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Bytes of a coordinate (big-endian, canonical).
pub const COORD_BYTES: usize = 48;
/// 4-bit windows in a 384-bit scalar.
pub const WINDOWS: usize = 96;

/// The curve coefficient b of P-384 (FIPS 186-4, D.1.2.4).
const B: [u8; 48] = hex48("b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef");
/// The base point G: x.
const GX: [u8; 48] = hex48("aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7");
/// The base point G: y.
const GY: [u8; 48] = hex48("3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f");

/// 96 hex digits as 48 bytes (compile time).
pub(crate) const fn hex48(s: &str) -> [u8; 48] {
    let h = s.as_bytes();
    assert!(h.len() == 96);
    let mut out = [0u8; 48];
    let mut i = 0;
    while i < 48 {
        out[i] = nibble(h[2 * i]) << 4 | nibble(h[2 * i + 1]);
        i += 1;
    }
    out
}

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("not a lower-case hex digit"),
    }
}

/// A field element from canonical big-endian bytes; `None` if they are not below p.
pub fn fe(bytes: &[u8; COORD_BYTES]) -> Option<Fe> {
    Option::from(Fe::from_bytes(FieldBytes::from_slice(bytes)))
}

/// The canonical big-endian bytes of a field element.
pub fn fe_bytes(f: &Fe) -> [u8; COORD_BYTES] {
    let mut out = [0u8; COORD_BYTES];
    out.copy_from_slice(&f.to_bytes());
    out
}

/// A point in projective coordinates (X : Y : Z), `(0 : 1 : 0)` the identity.
#[derive(Clone, Copy, Debug)]
pub struct Point {
    x: Fe,
    y: Fe,
    z: Fe,
}

/// A [`Point`] stored as bytes: X, Y, Z, each canonical big-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct PointBytes {
    /// X.
    pub x: [u8; COORD_BYTES],
    /// Y.
    pub y: [u8; COORD_BYTES],
    /// Z.
    pub z: [u8; COORD_BYTES],
}

/// The curve constant the formulas need, converted once per use.
pub struct Curve {
    b: Fe,
}

impl Curve {
    /// P-384.
    pub fn p384() -> Self {
        Self {
            b: fe(&B).unwrap_or(Fe::ZERO),
        }
    }
}

impl Point {
    /// The identity.
    pub const IDENTITY: Self = Self {
        x: Fe::ZERO,
        y: Fe::ONE,
        z: Fe::ZERO,
    };

    /// The base point G.
    pub fn generator() -> Self {
        Self {
            x: fe(&GX).unwrap_or(Fe::ZERO),
            y: fe(&GY).unwrap_or(Fe::ZERO),
            z: Fe::ONE,
        }
    }

    /// The point stored in `b`; `None` if a coordinate is not a canonical field element
    /// (which a stored point never has).
    pub fn from_bytes(b: &PointBytes) -> Option<Self> {
        Some(Self {
            x: fe(&b.x)?,
            y: fe(&b.y)?,
            z: fe(&b.z)?,
        })
    }

    /// The point as bytes.
    pub fn to_bytes(&self) -> PointBytes {
        PointBytes {
            x: fe_bytes(&self.x),
            y: fe_bytes(&self.y),
            z: fe_bytes(&self.z),
        }
    }

    /// The affine coordinates (x, y) = (X/Z, Y/Z); `None` for the identity. One
    /// constant-time field inversion.
    pub fn to_affine(&self) -> Option<([u8; COORD_BYTES], [u8; COORD_BYTES])> {
        let zinv: CtOption<Fe> = self.z.invert();
        let zinv: Option<Fe> = zinv.into();
        let zinv = zinv?;
        Some((
            fe_bytes(&self.x.multiply(&zinv)),
            fe_bytes(&self.y.multiply(&zinv)),
        ))
    }

    /// `self + q` (RCB16 algorithm 4: complete addition, a = -3).
    pub fn add(&self, q: &Point, c: &Curve) -> Point {
        let (x1, y1, z1) = (&self.x, &self.y, &self.z);
        let (x2, y2, z2) = (&q.x, &q.y, &q.z);
        let b = &c.b;
        let mut t0 = x1.multiply(x2);
        let mut t1 = y1.multiply(y2);
        let mut t2 = z1.multiply(z2);
        let mut t3 = x1.add(y1);
        let mut t4 = x2.add(y2);
        t3 = t3.multiply(&t4);
        t4 = t0.add(&t1);
        t3 = t3.sub(&t4);
        t4 = y1.add(z1);
        let mut x3 = y2.add(z2);
        t4 = t4.multiply(&x3);
        x3 = t1.add(&t2);
        t4 = t4.sub(&x3);
        x3 = x1.add(z1);
        let mut y3 = x2.add(z2);
        x3 = x3.multiply(&y3);
        y3 = t0.add(&t2);
        y3 = x3.sub(&y3);
        let mut z3 = b.multiply(&t2);
        x3 = y3.sub(&z3);
        z3 = x3.add(&x3);
        x3 = x3.add(&z3);
        z3 = t1.sub(&x3);
        x3 = t1.add(&x3);
        y3 = b.multiply(&y3);
        t1 = t2.add(&t2);
        t2 = t1.add(&t2);
        y3 = y3.sub(&t2);
        y3 = y3.sub(&t0);
        t1 = y3.add(&y3);
        y3 = t1.add(&y3);
        t1 = t0.add(&t0);
        t0 = t1.add(&t0);
        t0 = t0.sub(&t2);
        t1 = t4.multiply(&y3);
        t2 = t0.multiply(&y3);
        y3 = x3.multiply(&z3);
        y3 = y3.add(&t2);
        x3 = t3.multiply(&x3);
        x3 = x3.sub(&t1);
        z3 = t4.multiply(&z3);
        t1 = t3.multiply(&t0);
        z3 = z3.add(&t1);
        Point {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// `2 * self` (RCB16 algorithm 6: exception-free doubling, a = -3).
    pub fn double(&self, c: &Curve) -> Point {
        let (x, y, z) = (&self.x, &self.y, &self.z);
        let b = &c.b;
        let mut t0 = x.square();
        let t1 = y.square();
        let mut t2 = z.square();
        let mut t3 = x.multiply(y);
        t3 = t3.add(&t3);
        let mut z3 = x.multiply(z);
        z3 = z3.add(&z3);
        let mut y3 = b.multiply(&t2);
        y3 = y3.sub(&z3);
        let mut x3 = y3.add(&y3);
        y3 = x3.add(&y3);
        x3 = t1.sub(&y3);
        y3 = t1.add(&y3);
        y3 = x3.multiply(&y3);
        x3 = x3.multiply(&t3);
        t3 = t2.add(&t2);
        t2 = t2.add(&t3);
        z3 = b.multiply(&z3);
        z3 = z3.sub(&t2);
        z3 = z3.sub(&t0);
        t3 = z3.add(&z3);
        z3 = z3.add(&t3);
        t3 = t0.add(&t0);
        t0 = t3.add(&t0);
        t0 = t0.sub(&t2);
        t0 = t0.multiply(&z3);
        y3 = y3.add(&t0);
        t0 = y.multiply(z);
        t0 = t0.add(&t0);
        z3 = t0.multiply(&z3);
        x3 = x3.sub(&z3);
        z3 = t0.multiply(&t1);
        z3 = z3.add(&z3);
        z3 = z3.add(&z3);
        Point {
            x: x3,
            y: y3,
            z: z3,
        }
    }
}

/// `w·G` for w = 0..=15, as bytes: the window table of base-point multiplication.
#[derive(Clone, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct BaseTable {
    entries: [PointBytes; 16],
}

impl BaseTable {
    /// An all-zero table (not valid until [`BaseTable::compute`]).
    pub const ZERO: Self = Self {
        entries: [PointBytes {
            x: [0; 48],
            y: [0; 48],
            z: [0; 48],
        }; 16],
    };

    /// Fills the table: entry w is w·G (15 additions).
    pub fn compute(&mut self) {
        let c = Curve::p384();
        let g = Point::generator();
        let mut p = Point::IDENTITY;
        for e in self.entries.iter_mut() {
            *e = p.to_bytes();
            p = p.add(&g, &c);
        }
    }

    /// Entry `w` (0..=15), chosen without a secret-dependent address or branch: every
    /// entry is read and masked.
    pub fn select(&self, w: u8) -> Option<Point> {
        let mut out = PointBytes::new_zeroed_const();
        for (j, e) in self.entries.iter().enumerate() {
            let mask = (j as u8).ct_eq(&w).unwrap_u8().wrapping_neg();
            for (o, b) in out.as_mut_bytes().iter_mut().zip(e.as_bytes()) {
                *o |= b & mask;
            }
        }
        Point::from_bytes(&out)
    }
}

impl PointBytes {
    const fn new_zeroed_const() -> Self {
        Self {
            x: [0; 48],
            y: [0; 48],
            z: [0; 48],
        }
    }
}

/// Window `i` (0 = most significant) of the big-endian scalar `k`: 4 bits.
pub fn window(k: &[u8; 48], i: usize) -> u8 {
    let byte = k[i / 2];
    if i.is_multiple_of(2) {
        byte >> 4
    } else {
        byte & 0xF
    }
}

/// Windows `range` of `k·G` into `acc`: for each, four doublings and the addition of
/// the window's table entry. Starting from the identity at window 0 and running all
/// [`WINDOWS`] gives `k·G`. `None` if the table is not valid.
pub fn mul_base_windows(
    acc: &Point,
    table: &BaseTable,
    k: &[u8; 48],
    range: core::ops::Range<usize>,
) -> Option<Point> {
    let c = Curve::p384();
    let mut p = *acc;
    for i in range {
        for _ in 0..4 {
            p = p.double(&c);
        }
        p = p.add(&table.select(window(k, i))?, &c);
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use p384::elliptic_curve::group::Group;
    use p384::elliptic_curve::sec1::ToEncodedPoint;
    use p384::elliptic_curve::PrimeField;
    use p384::{ProjectivePoint, Scalar};

    /// RustCrypto's affine (x, y) of `p`, None for the identity.
    fn rc_affine(p: &ProjectivePoint) -> Option<([u8; 48], [u8; 48])> {
        let e = p.to_affine().to_encoded_point(false);
        let (x, y) = (e.x()?, e.y()?);
        Some((
            x.as_slice().try_into().unwrap(),
            y.as_slice().try_into().unwrap(),
        ))
    }

    fn scalar(seed: u8) -> [u8; 48] {
        let mut k = [0u8; 48];
        for (i, b) in k.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(seed).wrapping_add(seed ^ 0x5A);
        }
        k[0] &= 0x7F;
        k
    }

    fn table() -> BaseTable {
        let mut t = BaseTable::ZERO;
        t.compute();
        t
    }

    fn ours(k: &[u8; 48]) -> Option<([u8; 48], [u8; 48])> {
        mul_base_windows(&Point::IDENTITY, &table(), k, 0..WINDOWS)
            .unwrap()
            .to_affine()
    }

    fn theirs(k: &[u8; 48]) -> Option<([u8; 48], [u8; 48])> {
        let s = Scalar::from_repr(*FieldBytes::from_slice(k)).unwrap();
        rc_affine(&(ProjectivePoint::GENERATOR * s))
    }

    #[test]
    fn the_table_is_the_multiples_of_g() {
        let t = table();
        assert!(
            t.select(0).unwrap().to_affine().is_none(),
            "0·G is the identity"
        );
        for w in 1..16u8 {
            let want = rc_affine(&(ProjectivePoint::GENERATOR * Scalar::from(w as u64)));
            assert_eq!(t.select(w).unwrap().to_affine(), want, "{w}·G");
        }
    }

    #[test]
    fn doubling_agrees_with_addition_and_rustcrypto() {
        let c = Curve::p384();
        let g = Point::generator();
        let mut p = g;
        let mut rc = ProjectivePoint::GENERATOR;
        for _ in 0..20 {
            assert_eq!(p.double(&c).to_affine(), p.add(&p, &c).to_affine());
            assert_eq!(p.double(&c).to_affine(), rc_affine(&rc.double()));
            p = p.double(&c).add(&g, &c);
            rc = rc.double() + ProjectivePoint::GENERATOR;
        }
        // The identity doubles and adds without exception.
        let id = Point::IDENTITY;
        assert!(id.double(&c).to_affine().is_none());
        assert_eq!(id.add(&g, &c).to_affine(), g.to_affine());
    }

    #[test]
    fn base_multiplication_agrees_with_rustcrypto() {
        for seed in 1..=12u8 {
            let k = scalar(seed);
            assert_eq!(ours(&k), theirs(&k), "seed {seed}");
        }
        let mut one = [0u8; 48];
        one[47] = 1;
        assert_eq!(ours(&one), rc_affine(&ProjectivePoint::GENERATOR));
        // n - 1: the top windows are all 0xF.
        let n1 = hex48("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52972");
        assert_eq!(ours(&n1), theirs(&n1));
    }

    #[test]
    fn a_multiplication_resumes_from_stored_bytes() {
        let k = scalar(77);
        let t = table();
        let mut acc = Point::IDENTITY.to_bytes();
        let mut i = 0;
        while i < WINDOWS {
            let end = (i + 7).min(WINDOWS);
            let p = Point::from_bytes(&acc).unwrap();
            acc = mul_base_windows(&p, &t, &k, i..end).unwrap().to_bytes();
            i = end;
        }
        assert_eq!(Point::from_bytes(&acc).unwrap().to_affine(), theirs(&k));
    }
}
