//! How many SMCs of each kind a REC's realm made: a diagnostic the RMM reports when the
//! REC is destroyed (RMI_REC_DESTROY), so that a host can see which RMM paths a guest
//! took, including the RSI calls the RMM completes without a REC exit (RSI_VERSION,
//! RSI_REALM_CONFIG, RSI_IPA_STATE_GET, ...), which no host can observe otherwise.
//! DEN0137 1.0 specifies no such report; it changes no command's result.

use rsi_abi::RsiFid;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// What a realm's SMC was, as the RMM handled it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmcKind {
    /// An RSI command (DEN0137 1.0, B5.3).
    Rsi(RsiFid),
    /// A PSCI function the RMM handles (DEN0137 1.0, B6), completed by the RMM or
    /// forwarded to the host.
    Psci,
    /// SMCCC_VERSION (DEN0028).
    SmcccVersion,
    /// Anything else: answered SMCCC NOT_SUPPORTED.
    NotSupported,
}

/// Number of slots in use: the ten RSI commands in [`RsiFid::ALL`] order, then PSCI,
/// SMCCC_VERSION and the rest.
const SLOTS: usize = 13;
const SLOT_PSCI: usize = 10;
const SLOT_SMCCC_VERSION: usize = 11;
const SLOT_OTHER: usize = 12;
const _: () = assert!(SLOTS <= 16);
const _: () = assert!(RsiFid::ALL.len() == SLOT_PSCI);
/// The RSI function identifiers are consecutive from RSI_VERSION in [`RsiFid::ALL`]
/// order: a command's slot is its identifier less RSI_VERSION's.
const _: () = {
    let mut i = 0;
    while i < RsiFid::ALL.len() {
        assert!(RsiFid::ALL[i].id() == RsiFid::Version.id() + i as u32);
        i += 1;
    }
};

/// The name of each slot, as the report prints it.
const SLOT_NAMES: [&str; SLOTS] = [
    "RSI_VERSION",
    "RSI_FEATURES",
    "RSI_MEASUREMENT_READ",
    "RSI_MEASUREMENT_EXTEND",
    "RSI_ATTESTATION_TOKEN_INIT",
    "RSI_ATTESTATION_TOKEN_CONTINUE",
    "RSI_REALM_CONFIG",
    "RSI_IPA_STATE_SET",
    "RSI_IPA_STATE_GET",
    "RSI_HOST_CALL",
    "PSCI",
    "SMCCC_VERSION",
    "other SMC (NOT_SUPPORTED)",
];

/// Saturating 32-bit counters, one per [`SmcKind`] slot, kept in the REC. An RSI call
/// counts each time the realm issues it (one the RMM completes after a REC exit, such
/// as RSI_IPA_STATE_SET, counts once; one the realm issues again counts again).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SmcCounts(pub [u32; 16]);

impl SmcCounts {
    /// The slot of `kind`: for an RSI command its identifier's offset from
    /// RSI_VERSION (consecutive, checked above), no search.
    #[inline(always)]
    const fn slot(kind: SmcKind) -> usize {
        match kind {
            SmcKind::Rsi(f) => (f.id() - RsiFid::Version.id()) as usize,
            SmcKind::Psci => SLOT_PSCI,
            SmcKind::SmcccVersion => SLOT_SMCCC_VERSION,
            SmcKind::NotSupported => SLOT_OTHER,
        }
    }

    /// Counts one SMC of `kind`: one indexed, saturating increment (it is on the path
    /// of every RSI call).
    #[inline(always)]
    pub fn count(&mut self, kind: SmcKind) {
        // Every slot is below SLOTS <= 16 (the mask only spares the bounds check).
        let c = &mut self.0[Self::slot(kind) & 15];
        *c = c.saturating_add(1);
    }

    /// How many SMCs of `kind` were counted.
    pub fn get(&self, kind: SmcKind) -> u32 {
        self.0[Self::slot(kind)]
    }

    /// Whether no SMC was counted.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&c| c == 0)
    }
}

impl core::fmt::Display for SmcCounts {
    /// `NAME count` for each kind counted, comma-separated, in slot order.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut sep = "";
        for (name, &c) in SLOT_NAMES.iter().zip(self.0.iter()) {
            if c != 0 {
                write!(f, "{sep}{name} {c}")?;
                sep = ", ";
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_the_function_identifiers() {
        for (i, f) in RsiFid::ALL.iter().enumerate() {
            assert_eq!(f.id(), 0xC400_0190 + i as u32, "{f:?}");
        }
        let mut c = SmcCounts::default();
        assert!(c.is_empty());
        c.count(SmcKind::Rsi(RsiFid::HostCall));
        c.count(SmcKind::Rsi(RsiFid::Version));
        c.count(SmcKind::Rsi(RsiFid::Version));
        c.count(SmcKind::NotSupported);
        assert_eq!(
            c.to_string(),
            "RSI_VERSION 2, RSI_HOST_CALL 1, other SMC (NOT_SUPPORTED) 1"
        );
    }
}
