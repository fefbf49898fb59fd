//! Who may forge a proof of granule ownership.
//!
//! `platform::Arch::map_realm` maps a granule only for the holder of an
//! `OwnedGranule` proof. The proof is worth only as much as the places that can make
//! one: the RMM's lock guards (`granule.rs`), the walk that holds a leaf RTT locked
//! (`rtt/walk.rs`) and the RMM-EL3 shared buffer at boot (`boot.rs`). Any other
//! implementation of the trait in the RMM's sources is a way around the locks, so this
//! test fails on it: a new kind of proof must be argued for and added here.

use std::path::Path;

/// The source files (relative to `src/`) allowed to implement `OwnedGranule`, with the
/// number of implementations each has.
const ALLOWED: &[(&str, usize)] = &[("granule.rs", 2), ("rtt/walk.rs", 1), ("boot.rs", 1)];

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

#[test]
fn ownership_proofs_are_made_only_by_the_lock_modules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found: Vec<(String, usize)> = files
        .iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            let n = text.matches("OwnedGranule for ").count();
            let rel = p
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (n > 0).then_some((rel, n))
        })
        .collect();
    found.sort();
    let mut want: Vec<(String, usize)> = ALLOWED.iter().map(|&(f, n)| (f.into(), n)).collect();
    want.sort();
    assert_eq!(found, want, "implementations of OwnedGranule in rmm/src");
}
