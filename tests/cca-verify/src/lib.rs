//! An independent verifier of CCA attestation tokens (DEN0137 1.0, A7.2.3), written
//! from the specification with its own CBOR decoder (`ciborium`) and RustCrypto's
//! ECDSA P-384 verification: nothing here is shared with the RMM's encoder.
//!
//! It checks what a relying party checks: the collection's shape (tag 399, keys 44234
//! and 44241, both byte strings); each token a COSE_Sign1_Tagged with protected header
//! `{1: -35}` (ES384) whose signature verifies over its Sig_structure (RFC 9052, 4.4)
//! — the platform token under the platform's IAK, the realm token under the RAK from its
//! own public key claim; every realm claim present with its type and size; the
//! platform token's challenge equal to the hash of the realm public key claim (the
//! binding, A7.2.3.2.2). The realm claims are returned for the caller's own checks.
//!
//! [`verify`] makes every check. [`Token::decode`] makes those that need no
//! platform key and no binding (the collection, the realm token's signature and
//! claims, the platform token's shape and claims), for platforms whose token cannot
//! be checked that far (a sample platform token of an EL3 firmware, signed by a key
//! nobody publishes and bound to no RAK); [`Token::verify_platform`] and
//! [`Token::binding`] then say how far it goes. One verifier for the hosted tests and
//! `cargo xtask run`.

use ciborium::Value;
use p384::ecdsa::signature::hazmat::PrehashVerifier;
use p384::ecdsa::{Signature, VerifyingKey};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// The realm claims of a verified token.
#[derive(Debug)]
pub struct RealmClaims {
    /// Challenge (10), 64 bytes.
    pub challenge: Vec<u8>,
    /// Profile (265).
    pub profile: String,
    /// Personalization value (44235), 64 bytes.
    pub rpv: Vec<u8>,
    /// Initial measurement (44238), the size of the hash algorithm's digest.
    pub rim: Vec<u8>,
    /// The four extensible measurements (44239).
    pub rems: Vec<Vec<u8>>,
    /// Hash algorithm id (44236).
    pub hash_algo: String,
    /// The RAK as a COSE_Key (44237).
    pub rak_cose_key: Vec<u8>,
    /// Public key hash algorithm id (44240).
    pub rak_hash_algo: String,
}

/// What a verified token says.
#[derive(Debug)]
pub struct Verified {
    /// The realm claims.
    pub realm: RealmClaims,
    /// The platform token's challenge claim.
    pub platform_challenge: Vec<u8>,
    /// The platform token's profile claim.
    pub platform_profile: String,
}

type R<T> = Result<T, String>;

fn decode(bytes: &[u8]) -> R<Value> {
    let mut rd = bytes;
    let v: Value = ciborium::de::from_reader(&mut rd).map_err(|e| format!("CBOR: {e}"))?;
    if !rd.is_empty() {
        return Err(format!("{} bytes after the CBOR item", rd.len()));
    }
    Ok(v)
}

fn int(v: &Value) -> Option<i128> {
    v.as_integer().map(i128::from)
}

fn map_get(m: &[(Value, Value)], key: i128) -> R<&Value> {
    let mut found = m.iter().filter(|(k, _)| int(k) == Some(key));
    let (_, v) = found.next().ok_or(format!("claim {key} missing"))?;
    if found.next().is_some() {
        return Err(format!("claim {key} twice"));
    }
    Ok(v)
}

fn bytes(v: &Value, what: &str) -> R<Vec<u8>> {
    v.as_bytes().cloned().ok_or(format!("{what}: not a bstr"))
}

fn text(v: &Value, what: &str) -> R<String> {
    v.as_text()
        .map(str::to_owned)
        .ok_or(format!("{what}: not a tstr"))
}

/// A COSE_Sign1_Tagged with protected header `{1: -35}` (ES384), decoded.
struct Sign1 {
    protected: Vec<u8>,
    payload: Vec<u8>,
    signature: Signature,
}

impl Sign1 {
    fn decode(token: &[u8]) -> R<Self> {
        let Value::Tag(18, inner) = decode(token)? else {
            return Err("not a COSE_Sign1_Tagged (tag 18)".into());
        };
        let Value::Array(parts) = *inner else {
            return Err("COSE_Sign1: not an array".into());
        };
        let [protected, unprotected, payload, signature] = &parts[..] else {
            return Err(format!("COSE_Sign1: {} elements", parts.len()));
        };
        let protected = bytes(protected, "protected header")?;
        let Value::Map(hdr) = decode(&protected)? else {
            return Err("protected header: not a map".into());
        };
        if int(map_get(&hdr, 1)?) != Some(-35) {
            return Err("alg is not ES384 (-35)".into());
        }
        if !matches!(unprotected, Value::Map(_)) {
            return Err("unprotected header: not a map".into());
        }
        let payload = bytes(payload, "payload")?;
        let sig = bytes(signature, "signature")?;
        let signature = Signature::from_slice(&sig).map_err(|e| format!("signature: {e}"))?;
        Ok(Sign1 {
            protected,
            payload,
            signature,
        })
    }

    /// Verifies the signature over the Sig_structure (RFC 9052, 4.4) under `key`.
    fn verify(&self, key: &VerifyingKey) -> R<()> {
        let tbs = Value::Array(vec![
            Value::Text("Signature1".into()),
            Value::Bytes(self.protected.clone()),
            Value::Bytes(vec![]),
            Value::Bytes(self.payload.clone()),
        ]);
        let mut enc = Vec::new();
        ciborium::ser::into_writer(&tbs, &mut enc).map_err(|e| format!("{e}"))?;
        key.verify_prehash(&Sha384::digest(&enc), &self.signature)
            .map_err(|e| format!("signature does not verify: {e}"))
    }
}

/// The P-384 key of a COSE_Key (RFC 9053, 7.1.1: kty 2, crv 2, x, y).
fn cose_key_p384(k: &[u8]) -> R<VerifyingKey> {
    let Value::Map(m) = decode(k)? else {
        return Err("COSE_Key: not a map".into());
    };
    if int(map_get(&m, 1)?) != Some(2) || int(map_get(&m, -1)?) != Some(2) {
        return Err("COSE_Key: not an EC2 P-384 key".into());
    }
    let (x, y) = (bytes(map_get(&m, -2)?, "x")?, bytes(map_get(&m, -3)?, "y")?);
    if x.len() != 48 || y.len() != 48 {
        return Err("COSE_Key: coordinates not 48 bytes".into());
    }
    let sec1: Vec<u8> = [&[4u8][..], &x, &y].concat();
    VerifyingKey::from_sec1_bytes(&sec1).map_err(|e| format!("COSE_Key: {e}"))
}

fn measurement(v: &Value, size: usize, what: &str) -> R<Vec<u8>> {
    let m = bytes(v, what)?;
    if m.len() != size {
        return Err(format!(
            "{what}: {} bytes, the hash algorithm gives {size}",
            m.len()
        ));
    }
    Ok(m)
}

fn realm_claims(payload: &[u8]) -> R<RealmClaims> {
    let Value::Map(m) = decode(payload)? else {
        return Err("realm claims: not a map".into());
    };
    let challenge = bytes(map_get(&m, 10)?, "challenge")?;
    let rpv = bytes(map_get(&m, 44235)?, "personalization value")?;
    if challenge.len() != 64 || rpv.len() != 64 {
        return Err("challenge and personalization value must be 64 bytes".into());
    }
    let hash_algo = text(map_get(&m, 44236)?, "hash algorithm id")?;
    let size = match hash_algo.as_str() {
        "sha-256" => 32,
        "sha-512" => 64,
        other => return Err(format!("unknown realm hash algorithm {other}")),
    };
    let rim = measurement(map_get(&m, 44238)?, size, "RIM")?;
    let Value::Array(rems) = map_get(&m, 44239)? else {
        return Err("REMs: not an array".into());
    };
    if rems.len() != 4 {
        return Err(format!("{} REMs", rems.len()));
    }
    let rems = rems
        .iter()
        .map(|r| measurement(r, size, "REM"))
        .collect::<R<Vec<_>>>()?;
    Ok(RealmClaims {
        challenge,
        profile: text(map_get(&m, 265)?, "profile")?,
        rpv,
        rim,
        rems,
        hash_algo,
        rak_cose_key: bytes(map_get(&m, 44237)?, "public key")?,
        rak_hash_algo: text(map_get(&m, 44240)?, "public key hash algorithm id")?,
    })
}

/// A CCA token whose collection, realm token (signature under the RAK of its own
/// public key claim, and every claim) and platform token shape (a COSE_Sign1_Tagged
/// with ES384 and a challenge and profile claim) are valid.
pub struct Token {
    /// The realm claims.
    pub realm: RealmClaims,
    /// The platform token's challenge claim.
    pub platform_challenge: Vec<u8>,
    /// The platform token's profile claim.
    pub platform_profile: String,
    /// The hash of the realm public key claim, with the algorithm its claim 44240 names.
    pub rak_hash: Vec<u8>,
    platform: Sign1,
}

/// Whether the platform token vouches for the RAK that signed the realm token
/// (DEN0137 1.0, A7.2.3.2.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Binding {
    /// The platform token's challenge is the hash of the realm public key claim.
    Holds,
    /// It is not: the realm token's key is not one the platform vouched for.
    Broken {
        /// The platform token's challenge.
        platform_challenge: Vec<u8>,
        /// The hash of the realm public key claim.
        rak_hash: Vec<u8>,
    },
}

impl Token {
    /// Decodes `token` and makes every check that needs no platform key: see [`Token`].
    pub fn decode(token: &[u8]) -> R<Token> {
        let Value::Tag(399, inner) = decode(token)? else {
            return Err("not a CCA token (tag 399)".into());
        };
        let Value::Map(collection) = *inner else {
            return Err("collection: not a map".into());
        };
        if collection.len() != 2 {
            return Err(format!("collection of {} entries", collection.len()));
        }
        let plat = bytes(map_get(&collection, 44234)?, "platform token")?;
        let realm = bytes(map_get(&collection, 44241)?, "realm token")?;

        let platform = Sign1::decode(&plat).map_err(|e| format!("platform token: {e}"))?;
        let Value::Map(pm) = decode(&platform.payload)? else {
            return Err("platform claims: not a map".into());
        };
        let platform_challenge = bytes(map_get(&pm, 10)?, "platform challenge")?;
        let platform_profile = text(map_get(&pm, 265)?, "platform profile")?;

        let realm_token = Sign1::decode(&realm).map_err(|e| format!("realm token: {e}"))?;
        let realm = realm_claims(&realm_token.payload)?;
        realm_token
            .verify(&cose_key_p384(&realm.rak_cose_key)?)
            .map_err(|e| format!("realm token: {e}"))?;

        let rak_hash: Vec<u8> = match realm.rak_hash_algo.as_str() {
            "sha-256" => Sha256::digest(&realm.rak_cose_key).to_vec(),
            "sha-384" => Sha384::digest(&realm.rak_cose_key).to_vec(),
            "sha-512" => Sha512::digest(&realm.rak_cose_key).to_vec(),
            other => return Err(format!("unknown public key hash algorithm {other}")),
        };
        Ok(Token {
            realm,
            platform_challenge,
            platform_profile,
            rak_hash,
            platform,
        })
    }

    /// Verifies the platform token's signature under the IAK `iak` (SEC1 bytes).
    pub fn verify_platform(&self, iak: &[u8]) -> R<()> {
        let iak = VerifyingKey::from_sec1_bytes(iak).map_err(|e| format!("IAK: {e}"))?;
        self.platform
            .verify(&iak)
            .map_err(|e| format!("platform token: {e}"))
    }

    /// Whether the platform token's challenge is the hash of the RAK.
    pub fn binding(&self) -> Binding {
        if self.platform_challenge == self.rak_hash {
            Binding::Holds
        } else {
            Binding::Broken {
                platform_challenge: self.platform_challenge.clone(),
                rak_hash: self.rak_hash.clone(),
            }
        }
    }
}

/// Verifies a CCA token whose platform token is signed by the IAK `iak` (SEC1 bytes):
/// every check, the binding included.
pub fn verify(token: &[u8], iak: &[u8]) -> R<Verified> {
    let t = Token::decode(token)?;
    t.verify_platform(iak)?;
    if t.binding() != Binding::Holds {
        return Err("the platform token's challenge is not the hash of the RAK".into());
    }
    Ok(Verified {
        realm: t.realm,
        platform_challenge: t.platform_challenge,
        platform_profile: t.platform_profile,
    })
}

/// Lower-case hexadecimal of `b`.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The bytes of the hexadecimal string `s` (an even number of digits), or `None`.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_no_token() {
        assert!(Token::decode(&[]).is_err());
        assert!(
            Token::decode(&[0xD9, 0x01, 0x8F, 0xA0]).is_err(),
            "empty collection"
        );
        assert!(verify(&[0x00], &[4; 97]).is_err());
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(hex(&[0x00, 0xAB, 0x1F]), "00ab1f");
        assert_eq!(unhex("00ab1f"), Some(vec![0x00, 0xAB, 0x1F]));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("zz"), None);
    }
}
