//! Debian's arm64 binary packages, fetched with Debian's own tools: a private APT
//! configuration under `target/linux/apt` (architecture arm64, trixie and
//! trixie-backports, signed by the Debian archive keyring; nothing of the host's APT
//! state is read or changed), `apt-get update`, `apt-get download`, then each `.deb`'s
//! SHA-256 checked against the `SHA256` field of the package index (`apt-cache show`,
//! from the index whose `Release` file `apt-get update` verified) and unpacked with
//! `dpkg-deb -x`. Nothing downloaded is part of the repository.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// Debian's archive and its keyring.
const ARCHIVE: &str = "http://deb.debian.org/debian";
const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";
/// The suites: the kernel from trixie-backports, busybox from trixie.
const SUITES: &[&str] = &["trixie", "trixie-backports"];

/// A private APT configuration rooted at one directory.
pub struct Apt {
    dir: PathBuf,
    opts: Vec<String>,
}

/// A binary package in the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The SHA-256 of its `.deb`, from the index.
    pub sha256: String,
    /// Its `Depends` field, package names only.
    pub depends: Vec<String>,
}

fn mkdir(p: &Path) -> Result<(), String> {
    std::fs::create_dir_all(p).map_err(|e| format!("{}: {e}", p.display()))
}

impl Apt {
    /// The configuration under `dir` (created if missing).
    pub fn new(dir: &Path) -> Result<Apt, String> {
        let etc = dir.join("etc");
        let parts = etc.join("sources.list.d");
        let prefs = etc.join("preferences.d");
        let lists = dir.join("lists");
        let cache = dir.join("cache");
        let state = dir.join("state");
        for d in [
            &parts,
            &prefs,
            &lists.join("partial"),
            &cache.join("archives/partial"),
            &state,
        ] {
            mkdir(d)?;
        }
        let list = etc.join("sources.list");
        let text: String = SUITES
            .iter()
            .map(|s| format!("deb [arch=arm64 signed-by={KEYRING}] {ARCHIVE} {s} main\n"))
            .collect();
        std::fs::write(&list, text).map_err(|e| format!("{}: {e}", list.display()))?;
        // An empty dpkg status: no package counts as installed.
        let status = state.join("status");
        if !status.exists() {
            std::fs::write(&status, "").map_err(|e| format!("{}: {e}", status.display()))?;
        }
        let opts = vec![
            format!("Dir::Etc::SourceList={}", list.display()),
            format!("Dir::Etc::SourceParts={}", parts.display()),
            format!("Dir::Etc::PreferencesParts={}", prefs.display()),
            format!("Dir::State::Lists={}", lists.display()),
            format!("Dir::Cache={}", cache.display()),
            format!("Dir::State::status={}", status.display()),
            "APT::Architecture=arm64".to_string(),
            "APT::Architectures=arm64".to_string(),
            // `apt-get download` into a directory the sandbox user cannot write.
            "APT::Sandbox::User=root".to_string(),
        ];
        Ok(Apt {
            dir: dir.to_path_buf(),
            opts,
        })
    }

    fn cmd(&self, tool: &str) -> Command {
        let mut c = Command::new(tool);
        for o in &self.opts {
            c.arg("-o").arg(o);
        }
        c
    }

    /// `apt-get update` with this configuration.
    pub fn update(&self) -> Result<(), String> {
        let mut c = self.cmd("apt-get");
        c.args(["update", "-q"]);
        crate::tfa::run_logged(
            &mut c,
            "apt-get update (private configuration, arm64, trixie and trixie-backports)",
            &self.dir.join("update.log"),
        )
    }

    /// Package names in the index that start with `prefix`.
    pub fn names(&self, prefix: &str) -> Result<Vec<String>, String> {
        let out = self
            .cmd("apt-cache")
            .args(["pkgnames", prefix])
            .output()
            .map_err(|e| format!("apt-cache: {e}"))?;
        if !out.status.success() {
            return Err(format!("apt-cache pkgnames {prefix} failed"));
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect())
    }

    /// The index's record of `name` (its candidate version).
    pub fn show(&self, name: &str) -> Result<Package, String> {
        let out = self
            .cmd("apt-cache")
            .args(["show", "--no-all-versions", name])
            .output()
            .map_err(|e| format!("apt-cache: {e}"))?;
        if !out.status.success() {
            return Err(format!("{name}: not in the package index"));
        }
        parse_record(&String::from_utf8_lossy(&out.stdout))
            .ok_or_else(|| format!("{name}: no Version or SHA256 in its index record"))
    }

    /// Downloads `pkg` into `dir` (unless a file with the index's checksum is already
    /// there) and returns the `.deb`, its SHA-256 checked against the index.
    pub fn download(&self, pkg: &Package, dir: &Path) -> Result<PathBuf, String> {
        mkdir(dir)?;
        let deb = dir.join(format!(
            "{}_{}_arm64.deb",
            pkg.name,
            pkg.version.replace(':', "%3a")
        ));
        if !deb.exists() || sha256_file(&deb)? != pkg.sha256 {
            let mut c = self.cmd("apt-get");
            c.current_dir(dir)
                .args(["download", "-q", &format!("{}={}", pkg.name, pkg.version)]);
            crate::tfa::run_logged(
                &mut c,
                &format!("apt-get download {}", pkg.name),
                &self.dir.join("download.log"),
            )?;
        }
        let got = sha256_file(&deb)?;
        if got != pkg.sha256 {
            return Err(format!(
                "{}: SHA-256 {got}, the package index says {}",
                deb.display(),
                pkg.sha256
            ));
        }
        Ok(deb)
    }
}

/// `dpkg-deb -x DEB DIR`.
pub fn unpack(deb: &Path, dir: &Path) -> Result<(), String> {
    mkdir(dir)?;
    let ok = Command::new("dpkg-deb")
        .arg("-x")
        .arg(deb)
        .arg(dir)
        .status()
        .map_err(|e| format!("dpkg-deb: {e}"))?
        .success();
    if ok {
        Ok(())
    } else {
        Err(format!("dpkg-deb -x {} failed", deb.display()))
    }
}

/// The SHA-256 of a file, in lower-case hex.
pub fn sha256_file(p: &Path) -> Result<String, String> {
    let bytes = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
    Ok(hex(&Sha256::digest(&bytes)))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A package record (the first one in `text`).
fn parse_record(text: &str) -> Option<Package> {
    let field = |name: &str| {
        text.lines()
            .take_while(|l| !l.is_empty())
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .map(|v| v.trim().to_string())
    };
    let depends = field("Depends")
        .map(|d| {
            d.split([',', '|'])
                .filter_map(|alt| alt.split_whitespace().next())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Some(Package {
        name: field("Package")?,
        version: field("Version")?,
        sha256: field("SHA256")?,
        depends,
    })
}

/// Orders upstream kernel versions `a.b.c` numerically (`7.3.10` after `7.3.4`).
pub fn version_key(v: &str) -> Vec<u64> {
    v.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap_or(0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record() {
        let r = "Package: linux-image-7.3.4+deb13-cloud-arm64\nVersion: 7.3.4-1~bpo13+1\n\
                 Depends: dracut | initramfs-tools (>= 0.120+deb8u2), linux-binary-7.3.4+deb13-cloud-arm64 (= 7.3.4-1~bpo13+1)\n\
                 SHA256: 21d3ec\n\nPackage: other\n";
        let p = parse_record(r).unwrap();
        assert_eq!(p.name, "linux-image-7.3.4+deb13-cloud-arm64");
        assert_eq!(p.version, "7.3.4-1~bpo13+1");
        assert_eq!(p.sha256, "21d3ec");
        assert_eq!(
            p.depends,
            [
                "dracut",
                "initramfs-tools",
                "linux-binary-7.3.4+deb13-cloud-arm64"
            ]
        );
        assert!(parse_record("Package: x\n").is_none());
    }

    #[test]
    fn versions() {
        assert!(version_key("7.3.10") > version_key("7.3.4"));
        assert!(version_key("7.3.4") > version_key("7.2.12"));
    }

    #[test]
    fn sha256_of_abc() {
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            hex(&Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
