//! Best-effort teardown of realm objects a test left behind, the way a hypervisor
//! cleans up after a guest it lost track of: it knows the granules but not what the
//! RMM made of them, so it asks.
//!
//! - A granule that `RMI_REC_DESTROY` accepts was a REC (its auxiliary granules become
//!   delegated).
//! - A granule `RMI_RTT_READ_ENTRY` accepts is a realm descriptor: its start level is the
//!   lowest level the command accepts at IPA 0, its IPA width the first power of two it
//!   rejects (at that level). Its RTT tree is walked from the start level: data pages are destroyed
//!   (`RMI_DATA_DESTROY`), unprotected mappings unmapped, assigned blocks that cannot be
//!   destroyed as a whole are first unfolded with a scratch RTT (`RMI_RTT_CREATE`), and
//!   every RTT below the start level is destroyed bottom-up; then `RMI_REALM_DESTROY`.
//! - Every granule the RMM returns is undelegated at once.

use rmi_abi::{RmiFid, RmiRttEntryState};
use rmm_conformance::Host;

use crate::host::QemuHost;

/// Scratch granules for unfolding blocks (Non-secure DRAM below the GPT-check granule).
const SCRATCH: u64 = 0x6FE0_0000;
const SCRATCH_GRANULES: u64 = 16;

fn rmi(h: &QemuHost, fid: RmiFid, args: &[u64]) -> [u64; 5] {
    h.rmi(fid, args)
}

/// Undelegates `pa` (returned by the RMM from a destroy command).
fn give_back(h: &QemuHost, pa: u64) {
    rmi(h, RmiFid::GranuleUndelegate, &[pa]);
}

/// Bytes covered by one RTT entry at `level`.
fn entry_size(level: u64) -> u64 {
    1 << (12 + 9 * (3 - level))
}

/// Tries `RMI_REC_DESTROY` on `pa`; true if it was a REC.
pub fn destroy_rec(h: &QemuHost, pa: u64) -> bool {
    rmi(h, RmiFid::RecDestroy, &[pa])[0] == 0
}

/// Destroys the realm whose descriptor is `rd`, with its RTTs and data; true on
/// success. False if `rd` is not a realm descriptor or something could not be removed
/// (e.g. RECs that are not in the pool).
pub fn destroy_realm(h: &QemuHost, rd: u64) -> bool {
    if rmi(h, RmiFid::RealmDestroy, &[rd])[0] == 0 {
        return true;
    }
    let read_ok = |ipa: u64, level: u64| rmi(h, RmiFid::RttReadEntry, &[rd, ipa, level])[0] == 0;
    let Some(start) = (0..=3).find(|&l| read_ok(0, l)) else {
        return false;
    };
    // IPAs given to RTT_READ_ENTRY must be aligned to the level's entry size.
    let mut ipa_bits = entry_size(start).trailing_zeros();
    while ipa_bits < 52 && read_ok(1 << ipa_bits, start) {
        ipa_bits += 1;
    }
    let mut scratch = 0;
    clear_range(h, rd, 0, 1 << ipa_bits, start, &mut scratch);
    rmi(h, RmiFid::RealmDestroy, &[rd])[0] == 0
}

/// Empties every entry of `[base, end)` at `level`.
fn clear_range(h: &QemuHost, rd: u64, base: u64, end: u64, level: u64, scratch: &mut u64) {
    let size = entry_size(level);
    let mut ipa = base;
    while ipa < end {
        let r = rmi(h, RmiFid::RttReadEntry, &[rd, ipa, level]);
        if r[0] == 0 && r[1] == level {
            clear_entry(h, rd, ipa, level, r[2], scratch);
        }
        ipa += size;
    }
}

fn clear_entry(h: &QemuHost, rd: u64, ipa: u64, level: u64, state: u64, scratch: &mut u64) {
    let size = entry_size(level);
    if state == RmiRttEntryState::Assigned as u64 {
        let d = rmi(h, RmiFid::DataDestroy, &[rd, ipa]);
        if d[0] == 0 {
            give_back(h, d[1]);
            return;
        }
        if rmi(h, RmiFid::RttUnmapUnprotected, &[rd, ipa, level])[0] == 0 || level == 3 {
            return;
        }
        // An assigned protected block: unfold it into pages with a scratch RTT.
        if *scratch >= SCRATCH_GRANULES {
            return;
        }
        let rtt = SCRATCH + *scratch * 4096;
        *scratch += 1;
        if rmi(h, RmiFid::GranuleDelegate, &[rtt])[0] != 0 {
            return;
        }
        if rmi(h, RmiFid::RttCreate, &[rd, rtt, ipa, level + 1])[0] != 0 {
            give_back(h, rtt);
            return;
        }
    } else if state != RmiRttEntryState::Table as u64 {
        return;
    }
    clear_range(h, rd, ipa, ipa + size, level + 1, scratch);
    let d = rmi(h, RmiFid::RttDestroy, &[rd, ipa, level + 1]);
    if d[0] == 0 {
        give_back(h, d[1]);
    }
}
