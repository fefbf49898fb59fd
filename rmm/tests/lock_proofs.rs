//! Who may forge a proof of granule ownership.
//!
//! `platform::Arch::map_realm` maps a granule only for the holder of an
//! `OwnedGranule` proof, and `Arch::read_realm_data`/`write_realm_data` reach realm
//! memory only for the holder of a `PinnedRealmGranule` proof. A proof is worth only as
//! much as the places that can make one: the RMM's lock guards of granules whose own
//! lock guards their memory (every kind but DATA, `granule.rs`), the RMM-EL3 shared
//! buffer at boot (`boot.rs`), and for realm memory the walk that holds the mapping RTT
//! entry locked (`rtt/walk.rs`, whose fields are private so that no other module can
//! make one up). Any other implementation in the RMM's sources is a way around the
//! locks, so this test fails on it: a new kind of proof must be argued for and added
//! here.

use std::path::Path;

/// The source files (relative to `src/`) allowed to implement `OwnedGranule`, with the
/// number of implementations each has.
const ALLOWED: &[(&str, usize)] = &[("granule.rs", 1), ("boot.rs", 1)];

/// The source files allowed to implement `PinnedRealmGranule` (the proof of access to
/// realm memory), with the number of implementations each has.
const ALLOWED_PINNED: &[(&str, usize)] = &[("rtt/walk.rs", 1)];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn implementations(pattern: &str) -> Vec<(String, usize)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found: Vec<(String, usize)> = files
        .iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            let n = text.matches(pattern).count();
            let rel = p
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (n > 0).then_some((rel, n))
        })
        .collect();
    found.sort();
    found
}

fn sorted(list: &[(&str, usize)]) -> Vec<(String, usize)> {
    let mut v: Vec<(String, usize)> = list.iter().map(|&(f, n)| (f.into(), n)).collect();
    v.sort();
    v
}

#[test]
fn ownership_proofs_are_made_only_by_the_lock_modules() {
    assert_eq!(
        implementations("OwnedGranule for "),
        sorted(ALLOWED),
        "implementations of OwnedGranule in rmm/src"
    );
    assert_eq!(
        implementations("PinnedRealmGranule for "),
        sorted(ALLOWED_PINNED),
        "implementations of PinnedRealmGranule in rmm/src"
    );
}
