//! Run parameters from `cargo xtask run`, and the realm payload it loads
//! ([`realm_image`]). The parameters are a small block in Non-secure memory at
//! [`PARAMS_ADDR`]: the magic `RMMQEMU1`, a little-endian u32 length, then
//! that many bytes of UTF-8: a comma-separated list of test-name prefixes. A test runs
//! if its name starts with one of the plain prefixes (or there are none) and with none
//! of the prefixes written `-prefix`. Instead of a list, `mode:bench` or
//! `mode:bench-el3` runs the path-length bench ([`Mode`]).

/// Where the parameter block is loaded (Non-secure DRAM just below the test host).
pub const PARAMS_ADDR: u64 = 0x5FFF_F000;
const MAGIC: &[u8; 8] = b"RMMQEMU1";
const MAX_LEN: usize = 4096 - 12;

/// What the test host does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Runs the tests the filter selects.
    Suite,
    /// `mode:bench`: the path-length bench against the RMM (`crate::bench`).
    Bench,
    /// `mode:bench-el3`: the bench's EL3 share, with the RMM stub as the RMM.
    BenchEl3,
}

/// The tests to run.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    filter: &'static str,
}

impl Params {
    /// Reads the block; without a valid one every test runs.
    pub fn read() -> Params {
        // SAFETY: PARAMS_ADDR is a page of Non-secure DRAM that QEMU's loader fills
        // before the machine starts (or leaves zero); nothing writes it afterwards and
        // it is not part of any Rust object, so a shared 'static view is sound.
        let page: &'static [u8; 4096] = unsafe { &*(PARAMS_ADDR as *const [u8; 4096]) };
        let filter = (|| {
            if &page[..8] != MAGIC {
                return None;
            }
            let len = u32::from_le_bytes(page[8..12].try_into().ok()?) as usize;
            if len > MAX_LEN {
                return None;
            }
            core::str::from_utf8(&page[12..12 + len]).ok()
        })();
        Params {
            filter: filter.unwrap_or("").trim(),
        }
    }

    /// The mode the block asks for.
    pub fn mode(&self) -> Mode {
        match self.filter {
            "mode:bench" => Mode::Bench,
            "mode:bench-el3" => Mode::BenchEl3,
            _ => Mode::Suite,
        }
    }

    /// The filter as given (empty: everything).
    pub fn filter(&self) -> &'static str {
        self.filter
    }

    /// Whether the test `name` is selected.
    pub fn selected(&self, name: &str) -> bool {
        let prefixes = || {
            self.filter
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
        };
        let mut include = prefixes().filter(|p| !p.starts_with('-')).peekable();
        let included = include.peek().is_none() || include.any(|p| name.starts_with(p));
        let excluded = prefixes()
            .filter_map(|p| p.strip_prefix('-'))
            .any(|p| name.starts_with(p));
        included && !excluded
    }
}

/// Where `cargo xtask run` loads the realm payload's flat image (`tests/qemu/realm`):
/// Non-secure DRAM below the parameters.
pub const REALM_IMAGE_ADDR: u64 = 0x5F00_0000;
/// The most the payload may need (its header's size field), from its base IPA to the
/// top of the realm's RAM.
const REALM_IMAGE_MAX: u64 = rmm_conformance::payload::RAM_TOP - rmm_conformance::payload::BASE_IPA;

/// The realm payload's pages, from its header (`rmm_conformance::payload`): every
/// 4 KiB page of its memory image, code to stack (the loader leaves the rest of the
/// window zero); `None` without a valid header.
pub fn realm_image() -> Option<&'static [[u8; 4096]]> {
    // SAFETY: the window is Non-secure DRAM that QEMU's loader fills before the machine
    // starts (zero past the image); nothing writes it afterwards and it is not part of
    // any Rust object, so a shared 'static view is sound.
    let header: &'static [u64; 3] = unsafe { &*(REALM_IMAGE_ADDR as *const [u64; 3]) };
    if header[1] != rmm_conformance::payload::HEADER_MAGIC
        || header[2] == 0
        || !header[2].is_multiple_of(4096)
        || header[2] > REALM_IMAGE_MAX
    {
        return None;
    }
    let pages = (header[2] / 4096) as usize;
    // SAFETY: as above, for the `pages` pages the header claims, which lie inside the
    // window below the parameter page (checked against REALM_IMAGE_MAX).
    Some(unsafe { core::slice::from_raw_parts(REALM_IMAGE_ADDR as *const [u8; 4096], pages) })
}
