//! The attestation token a realm got in QEMU, verified off the machine.
//!
//! The test host's `realm_run_attestation_token` prints a CCA token a realm payload
//! requested at R-EL1 for a challenge the host chose, with the values a relying party
//! compares the claims with (`tests/qemu/ns-host/src/attest_token.rs`): lines
//! `CCA token: challenge HEX`, `rpv HEX`, `rim HEX`, `rem0 HEX`..`rem3 HEX` (64 bytes
//! each, as RSI_MEASUREMENT_READ returns them), `size N`, `bytes OFFSET HEX`..., `end`.
//! This module checks that token with the project's verifier (`cca-token-verify`): the
//! collection, the realm token's signature under the RAK of its own claim, every
//! realm claim (challenge, RPV, RIM and REMs as printed, profile, hash algorithms),
//! and the platform token:
//!
//! - under the EL3 test monitor, its signature under the test IAK
//!   (`tests/qemu/el3-monitor/attest/iak-public.bin`) and its binding to the RAK (its
//!   challenge is the hash of the RAK's COSE_Key, A7.2.3.2.2);
//! - under TF-A 2.12.1, whose platform token is a static sample (TF-M's example CCA
//!   platform token, signed with an example IAK TF-A does not ship), its shape and
//!   claims, and the binding: TF-A's static RAK and that sample token are a
//!   consistent pair (the token's challenge is the SHA-256 of the RAK's COSE_Key), so
//!   the binding holds and is checked; the signature is reported as not checked, with
//!   that reason (`docs/attestation.md`).

use std::path::Path;

use cca_token_verify::{hex, unhex, Binding, Token};

/// What the test host's lines start with (`attest_token::LINE`).
const LINE: &str = "CCA token: ";
/// The realm profile of DEN0137 1.0, A7.2.3.1.
const REALM_PROFILE: &str = "tag:arm.com,2023:realm#1.0.0";
/// The test that prints the token.
const TEST: &str = "realm_run_attestation_token";

/// Which platform token to expect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    /// The EL3 test monitor's: signed by the test IAK, bound to the RAK.
    TestMonitor,
    /// TF-A's static sample token.
    TfASample,
}

/// What the test host printed.
#[derive(Debug, Default)]
struct Printed {
    challenge: Vec<u8>,
    rpv: Vec<u8>,
    /// RIM, REM0..REM3 as RSI_MEASUREMENT_READ returned them (64 bytes each).
    measurements: [Vec<u8>; 5],
    size: Option<usize>,
    token: Vec<u8>,
    end: bool,
}

fn parse(lines: &[String]) -> Result<Option<Printed>, String> {
    let mut p = Printed::default();
    let mut seen = false;
    for l in lines {
        let Some(rest) = l.split(LINE).nth(1) else {
            continue;
        };
        seen = true;
        let (key, value) = rest.split_once(' ').unwrap_or((rest, ""));
        let bytes = || unhex(value.trim()).ok_or(format!("`{l}`: not hexadecimal"));
        match key {
            "challenge" => p.challenge = bytes()?,
            "rpv" => p.rpv = bytes()?,
            "rim" => p.measurements[0] = bytes()?,
            "rem0" | "rem1" | "rem2" | "rem3" => {
                let i = usize::from(key.as_bytes()[3] - b'0');
                p.measurements[1 + i] = bytes()?;
            }
            "size" => p.size = Some(value.trim().parse().map_err(|_| format!("`{l}`"))?),
            "bytes" => {
                let (offset, data) = value.split_once(' ').ok_or(format!("`{l}`"))?;
                let offset = usize::from_str_radix(offset, 16).map_err(|_| format!("`{l}`"))?;
                if offset != p.token.len() {
                    return Err(format!(
                        "`{l}`: offset {offset:#x}, expected {:#x}",
                        p.token.len()
                    ));
                }
                p.token
                    .extend(unhex(data.trim()).ok_or(format!("`{l}`: not hexadecimal"))?);
            }
            "end" => p.end = true,
            _ => return Err(format!("`{l}`: unknown line")),
        }
    }
    Ok(seen.then_some(p))
}

/// Verifies the token of `lines`; the report, or why it does not verify. `selected`
/// says whether the run's test selection included the test that prints it (without
/// it, no token is expected).
pub fn check(
    lines: &[String],
    platform: Platform,
    selected: bool,
    root: &Path,
) -> Result<String, String> {
    let Some(p) = parse(lines)? else {
        return if selected {
            Err(format!("attestation token: {TEST} printed no token"))
        } else {
            Ok(format!(
                "attestation token: not checked ({TEST} not selected)"
            ))
        };
    };
    if !p.end || p.size != Some(p.token.len()) {
        return Err(format!(
            "attestation token: incomplete ({} bytes, size line {:?})",
            p.token.len(),
            p.size
        ));
    }
    let t = Token::decode(&p.token).map_err(|e| format!("attestation token: {e}"))?;
    realm_claims(&t, &p).map_err(|e| format!("attestation token: {e}"))?;
    let platform_report = platform_check(&t, platform, root)?;
    Ok(format!(
        "attestation token: {} bytes verified: realm token signed by the RAK, challenge, \
         RPV, RIM and REM0..3 as the realm read them, profile {REALM_PROFILE}; {platform_report}",
        p.token.len()
    ))
}

/// The platform token of `t` as `platform` makes it: the report, or why it fails.
fn platform_check(t: &Token, platform: Platform, root: &Path) -> Result<String, String> {
    Ok(match platform {
        Platform::TestMonitor => {
            let path = root.join("tests/qemu/el3-monitor/attest/iak-public.bin");
            let iak = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            t.verify_platform(&iak)
                .map_err(|e| format!("attestation token: {e}"))?;
            if let Binding::Broken {
                platform_challenge,
                rak_hash,
            } = t.binding()
            {
                return Err(format!(
                    "attestation token: the platform token's challenge {} is not the RAK's \
                     hash {}",
                    hex(&platform_challenge),
                    hex(&rak_hash)
                ));
            }
            "platform token signed by the test IAK and bound to the RAK (its challenge is \
             the RAK's hash)"
                .to_string()
        }
        Platform::TfASample => {
            if let Binding::Broken {
                platform_challenge,
                rak_hash,
            } = t.binding()
            {
                return Err(format!(
                    "attestation token: TF-A's sample platform token's challenge {} is not \
                     the hash {} of the RAK TF-A gave the RMM (TF-A 2.12.1's are a pair)",
                    hex(&platform_challenge),
                    hex(&rak_hash)
                ));
            }
            format!(
                "platform token `{}` (TF-A's static sample) decoded (COSE_Sign1, ES384) and \
                 bound to the RAK (its challenge is the RAK's hash); its signature not \
                 checked: the sample is signed with an example IAK that TF-A does not ship",
                t.platform_profile
            )
        }
    })
}

/// Verifies the token Linux got through its TSM report interface (configfs, the
/// `arm-cca-guest` provider) for `challenge` (`cargo xtask linux`), under the EL3 test
/// monitor: the realm token's signature under the RAK of its own claim, the challenge
/// (freshness: the xtask chose it for this run), the realm profile and hash algorithms,
/// and the platform token's signature under the test IAK and binding to the RAK. The
/// measurements are reported, not compared: nothing in the run reads them independently.
pub fn check_linux(token: &[u8], challenge: &[u8], root: &Path) -> Result<String, String> {
    let t = Token::decode(token).map_err(|e| format!("attestation token: {e}"))?;
    let r = &t.realm;
    if r.challenge != challenge {
        return Err(format!(
            "attestation token: challenge {}, expected {}",
            hex(&r.challenge),
            hex(challenge)
        ));
    }
    if r.profile != REALM_PROFILE {
        return Err(format!("attestation token: realm profile `{}`", r.profile));
    }
    if r.hash_algo != "sha-256" || r.rak_hash_algo != "sha-256" {
        return Err(format!(
            "attestation token: hash algorithms `{}` and `{}`, expected sha-256 and sha-256",
            r.hash_algo, r.rak_hash_algo
        ));
    }
    let platform_report = platform_check(&t, Platform::TestMonitor, root)?;
    Ok(format!(
        "attestation token: {} bytes verified: realm token signed by the RAK, the run's \
         challenge, profile {REALM_PROFILE}, RIM {}; {platform_report}",
        token.len(),
        hex(&r.rim)
    ))
}

/// The realm claims against what the test host printed.
fn realm_claims(t: &Token, p: &Printed) -> Result<(), String> {
    let r = &t.realm;
    let want = |what: &str, got: &[u8], want: &[u8]| {
        if got == want {
            Ok(())
        } else {
            Err(format!("{what}: {}, expected {}", hex(got), hex(want)))
        }
    };
    want("challenge", &r.challenge, &p.challenge)?;
    want("personalization value", &r.rpv, &p.rpv)?;
    let size = r.rim.len();
    for (i, m) in p.measurements.iter().enumerate() {
        if m.len() != 64 {
            return Err(format!("measurement {i}: {} bytes printed", m.len()));
        }
        let claim = if i == 0 { &r.rim } else { &r.rems[i - 1] };
        want(
            ["RIM", "REM0", "REM1", "REM2", "REM3"][i],
            claim,
            &m[..size],
        )?;
        if m[size..].iter().any(|&b| b != 0) {
            return Err(format!(
                "measurement {i}: non-zero beyond the {size}-byte digest"
            ));
        }
    }
    if r.profile != REALM_PROFILE {
        return Err(format!("realm profile `{}`", r.profile));
    }
    if r.hash_algo != "sha-256" || r.rak_hash_algo != "sha-256" {
        return Err(format!(
            "hash algorithms `{}` and `{}`, expected sha-256 (the realm's) and sha-256",
            r.hash_algo, r.rak_hash_algo
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &[&str]) -> Vec<String> {
        s.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn printed_lines() {
        let p = parse(&lines(&[
            "Test=x",
            "CCA token: challenge 0102",
            "CCA token: rem2 ff",
            "CCA token: size 3",
            "CCA token: bytes 0000 d9018f",
            "CCA token: end",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(p.challenge, [1, 2]);
        assert_eq!(p.measurements[3], [0xFF]);
        assert_eq!(
            (p.size, &p.token[..], p.end),
            (Some(3), &[0xD9, 1, 0x8F][..], true)
        );
        assert!(parse(&lines(&["nothing"])).unwrap().is_none());
        assert!(
            parse(&lines(&["CCA token: bytes 0040 00"])).is_err(),
            "a gap"
        );
        assert!(parse(&lines(&["CCA token: what 00"])).is_err());
    }

    /// The lines a run under the EL3 test monitor printed (`cargo xtask run --suite
    /// realm_run_attestation`; the RMM's token for the project's own test keys).
    fn recorded() -> Vec<String> {
        include_str!("../testdata/token-console.txt")
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
    }

    #[test]
    fn a_recorded_token_verifies_and_a_changed_one_does_not() {
        let good = recorded();
        let report = check(&good, Platform::TestMonitor, true, root()).unwrap();
        assert!(report.contains("bound to the RAK"), "{report}");
        // Under TF-A's rules (the platform signature not checked) it passes too.
        assert!(check(&good, Platform::TfASample, true, root()).is_ok());
        // One token byte flipped (in the last line: the realm token's signature).
        let mut flipped = good.clone();
        let last = flipped
            .iter()
            .rposition(|l| l.contains("CCA token: bytes "))
            .unwrap();
        let l = &mut flipped[last];
        let at = l.len() - 1;
        let c = if l.ends_with('0') { "1" } else { "0" };
        l.replace_range(at.., c);
        assert!(check(&flipped, Platform::TestMonitor, true, root()).is_err());
        // A challenge other than the token's (freshness), a measurement other than the
        // realm's RIM.
        for key in ["challenge ", "rim "] {
            let mut other = good.clone();
            let l = other
                .iter_mut()
                .find(|l| l.contains(&format!("CCA token: {key}")))
                .unwrap();
            let at = l.find(key).unwrap() + key.len();
            let c = if &l[at..at + 1] == "0" { "1" } else { "0" };
            l.replace_range(at..at + 1, c);
            assert!(
                check(&other, Platform::TestMonitor, true, root()).is_err(),
                "{key}"
            );
        }
    }

    #[test]
    fn check_linux_wants_the_runs_challenge_and_the_signatures() {
        let p = parse(&recorded()).unwrap().unwrap();
        let report = check_linux(&p.token, &p.challenge, root()).unwrap();
        assert!(report.contains("bound to the RAK"), "{report}");
        let mut other = p.challenge.clone();
        other[0] ^= 1;
        assert!(check_linux(&p.token, &other, root()).is_err());
        let mut flipped = p.token.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(check_linux(&flipped, &p.challenge, root()).is_err());
    }

    #[test]
    fn missing_token() {
        let root = Path::new(".");
        assert!(check(&[], Platform::TestMonitor, true, root).is_err());
        assert!(check(&[], Platform::TestMonitor, false, root).is_ok());
        let cut = lines(&["CCA token: size 4", "CCA token: bytes 0000 d9018f"]);
        assert!(check(&cut, Platform::TfASample, true, root).is_err());
    }
}
