//! Tearing down realm objects from the host's side, the way a hypervisor does: it asks
//! the RMM what is there (`RMI_RTT_READ_ENTRY`) and removes it bottom-up.
//!
//! - Data granules are destroyed (`RMI_DATA_DESTROY`), unprotected mappings unmapped,
//!   and every RTT below the start level destroyed once it is empty
//!   (`RMI_RTT_DESTROY`); every granule the RMM hands back is undelegated at once.
//! - An assigned protected block cannot be destroyed whole: it is first unfolded into
//!   pages with a scratch RTT (`RMI_RTT_CREATE`), which the caller provides.
//!
//! Every step is best effort: the checked outcome is the final `RMI_REALM_DESTROY`
//! (or the caller's check that every granule came back).

use rmi_abi::{RmiFid, RmiRttEntryState};

use crate::Host;

/// Bytes covered by one RTT entry at `level` (-1..=3).
fn entry_size(level: i64) -> u64 {
    1 << (12 + 9 * (3 - level))
}

/// The level argument of an RMI command: an Int64 in a register.
fn level_arg(level: i64) -> u64 {
    level as u64
}

/// Undelegates `pa`, a granule the RMM just handed back.
fn give_back(h: &dyn Host, pa: u64) {
    h.rmi(RmiFid::GranuleUndelegate, &[pa]);
}

/// `RMI_REC_DESTROY` on `pa`; true if it was a REC (now destroyed).
pub fn destroy_rec(h: &dyn Host, pa: u64) -> bool {
    h.rmi(RmiFid::RecDestroy, &[pa])[0] == 0
}

/// For a granule that may be a realm descriptor: its RTT start level (the lowest level
/// `RMI_RTT_READ_ENTRY` accepts at IPA 0, -1 with LPA2) and IPA width (the first power
/// of two it rejects at that level), or `None` if it is not an RD.
pub fn probe_realm(h: &dyn Host, rd: u64) -> Option<(i64, u32)> {
    let read_ok =
        |ipa: u64, level: i64| h.rmi(RmiFid::RttReadEntry, &[rd, ipa, level_arg(level)])[0] == 0;
    let start = (-1..=3).find(|&l| read_ok(0, l))?;
    // IPAs given to RTT_READ_ENTRY must be aligned to the level's entry size.
    let mut ipa_bits = entry_size(start).trailing_zeros();
    while ipa_bits < 52 && read_ok(1 << ipa_bits, start) {
        ipa_bits += 1;
    }
    Some((start, ipa_bits))
}

/// Removes every data granule, unprotected mapping and RTT below the start level of
/// the realm at `rd` (start level `start`, IPA width `ipa_bits`). `scratch` hands out
/// Non-secure granules for unfolding blocks (`None` when there are no more).
pub fn clear_realm(
    h: &dyn Host,
    rd: u64,
    start: i64,
    ipa_bits: u32,
    scratch: &mut dyn FnMut() -> Option<u64>,
) {
    clear_range(h, rd, 0, 1 << ipa_bits, start, scratch);
}

/// Destroys the realm at `rd` with everything in it; true on success. False if `rd` is
/// not a realm descriptor or something could not be removed (e.g. a REC of it).
pub fn destroy_realm(h: &dyn Host, rd: u64, scratch: &mut dyn FnMut() -> Option<u64>) -> bool {
    if h.rmi(RmiFid::RealmDestroy, &[rd])[0] == 0 {
        return true;
    }
    let Some((start, ipa_bits)) = probe_realm(h, rd) else {
        return false;
    };
    clear_realm(h, rd, start, ipa_bits, scratch);
    h.rmi(RmiFid::RealmDestroy, &[rd])[0] == 0
}

/// Empties every entry of `[base, end)` at `level`.
fn clear_range(
    h: &dyn Host,
    rd: u64,
    base: u64,
    end: u64,
    level: i64,
    scratch: &mut dyn FnMut() -> Option<u64>,
) {
    let size = entry_size(level);
    let mut ipa = base;
    while ipa < end {
        let r = h.rmi(RmiFid::RttReadEntry, &[rd, ipa, level_arg(level)]);
        if r[0] == 0 && r[1] == level_arg(level) {
            clear_entry(h, rd, ipa, level, r[2], scratch);
        }
        ipa += size;
    }
}

fn clear_entry(
    h: &dyn Host,
    rd: u64,
    ipa: u64,
    level: i64,
    state: u64,
    scratch: &mut dyn FnMut() -> Option<u64>,
) {
    if state == RmiRttEntryState::Assigned as u64 {
        let d = h.rmi(RmiFid::DataDestroy, &[rd, ipa]);
        if d[0] == 0 {
            give_back(h, d[1]);
            return;
        }
        if h.rmi(RmiFid::RttUnmapUnprotected, &[rd, ipa, level_arg(level)])[0] == 0 || level == 3 {
            return;
        }
        // An assigned protected block: unfold it into pages with a scratch RTT.
        let Some(rtt) = scratch() else {
            return;
        };
        if h.rmi(RmiFid::GranuleDelegate, &[rtt])[0] != 0 {
            return;
        }
        if h.rmi(RmiFid::RttCreate, &[rd, rtt, ipa, level_arg(level + 1)])[0] != 0 {
            give_back(h, rtt);
            return;
        }
    } else if state != RmiRttEntryState::Table as u64 {
        return;
    }
    clear_range(h, rd, ipa, ipa + entry_size(level), level + 1, scratch);
    let d = h.rmi(RmiFid::RttDestroy, &[rd, ipa, level_arg(level + 1)]);
    if d[0] == 0 {
        give_back(h, d[1]);
    }
}
