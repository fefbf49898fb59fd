//! Realm programs of the conformance suites, and how a host runs them.
//!
//! A suite that needs code running in a realm writes it once, as a [`Program`] against
//! [`RealmEnv`]. The host says how it runs one ([`crate::Host::realm_code`]): the
//! hosted simulation runs the function itself on a thread of the realm's REC; the QEMU
//! test host loads the realm payload (`tests/qemu/realm`), whose entry runs the program
//! it finds at the index REC 0's x1 gives in [`crate::suites::PROGRAMS`] when x0 is
//! [`crate::payload::PROGRAM_MAGIC`]. Either way the realm executes the same code, so a
//! suite makes the same checks on both, and the test host side of it (building the
//! realm, entering it, servicing its exits) is shared too ([`crate::vmm::build_code`]).

use crate::realm::RealmEnv;

/// A realm program of the suites.
pub struct Program {
    /// Its name (unique in [`crate::suites::PROGRAMS`]).
    pub name: &'static str,
    /// The code. When it returns, the REC executes WFI for ever.
    pub run: fn(&mut dyn RealmEnv),
}

impl Program {
    /// This program's index in [`crate::suites::PROGRAMS`].
    pub fn index(&self) -> Option<usize> {
        crate::suites::PROGRAMS
            .iter()
            .position(|p| p.name == self.name)
    }
}

/// How a host runs a [`Program`]: what to load into the realm and how REC 0 starts.
#[derive(Clone, Copy, Debug)]
pub struct RealmCode {
    /// REC 0's entry point, and the IPA of the first of [`RealmCode::pages`].
    pub entry: u64,
    /// REC 0's x0..x7 at its first entry.
    pub gprs: [u64; 8],
    /// Pages loaded with measured DATA_CREATE at consecutive IPAs from `entry` (none
    /// where the host runs the program itself).
    pub pages: &'static [[u8; 4096]],
}
