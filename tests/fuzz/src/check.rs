//! The invariant checker: the machine against the shadow model, after every step.
//!
//! Everything it reads is architectural or the host's own: the RMM's answers to RMI
//! calls, the granule states the RMM reports (`Machine::granule_state`, compared with
//! the model, never trusted), the GPT, memory contents, and the realms' translation
//! tables read as the MMU reads them (VMSAv8-64 stage 2, 4 KiB granule: the
//! descriptor format of the Arm ARM, not the RMM's RTT entry encoding).

use platform::{Pas, PhysAddr};
use rmi_abi::status;
use rmm::granule::GranuleState;
use rmm::hosted::Machine;

use crate::shadow::{GState, RealmShadow, Shadow};
use crate::{Step, POOL};

/// How often (in steps) the whole pool's Non-secure memory is searched for realm
/// sentinels, and the DELEGATED granules for non-zero bytes.
pub const SWEEP_EVERY: usize = 64;

fn kind(g: GState) -> GranuleState {
    match g {
        GState::Ns => GranuleState::Ns,
        GState::Delegated => GranuleState::Delegated,
        GState::Rd => GranuleState::Rd,
        GState::Rec { .. } => GranuleState::Rec,
        GState::RecAux { .. } => GranuleState::RecAux,
        GState::Rtt { .. } => GranuleState::Rtt,
        GState::Data { .. } => GranuleState::Data,
    }
}

/// The checks after each step: the return code is a valid RMI return; every pool
/// granule's state and PAS agree with the model; the granules the step named that are
/// DELEGATED read zero; the RD reference counts equal the RECs; the exit record of a
/// REC entry holds no realm sentinel. (The run adds [`full`] every [`SWEEP_EVERY`]
/// steps.)
pub fn after_step(m: &Machine, s: &Shadow, step: &Step, ret: [u64; 5]) -> Result<(), String> {
    if rmi_abi::fid::is_rmi_range(step.fid)
        && ret[0] != u64::MAX
        && status::decode_result(ret[0]).is_err()
    {
        return Err(format!("x0 {:#x} is not an RMI return code", ret[0]));
    }
    states(m, s)?;
    for a in step.args.iter().chain(&ret[1..]) {
        if s.state(*a) == Some(GState::Delegated) {
            zero(m, *a)?;
        }
    }
    refcounts(m, s)?;
    if step.fid == rmi_abi::RmiFid::RecEnter.id() as u64 {
        let mut page = vec![0u8; 4096];
        if m.host_read(step.args[1], &mut page).is_ok() {
            no_secrets(s, step.args[1], &page)?;
        }
    }
    Ok(())
}

/// All checks: [`after_step`]'s, every DELEGATED pool granule zero, no sentinel in any
/// Non-secure pool granule, and every realm's translation tables.
pub fn full(m: &Machine, s: &Shadow) -> Result<(), String> {
    states(m, s)?;
    refcounts(m, s)?;
    let mut page = vec![0u8; 4096];
    for i in 0..POOL {
        let pa = s.pa(i);
        match s.states[i] {
            GState::Delegated => zero(m, pa)?,
            GState::Ns => {
                m.host_read(pa, &mut page)
                    .map_err(|f| format!("the host cannot read its own granule {pa:#x}: {f:?}"))?;
                no_secrets(s, pa, &page)?;
            }
            _ => {}
        }
    }
    for (&rd, r) in &s.realms {
        tables(m, s, rd, r)?;
    }
    Ok(())
}

/// Each pool granule: the RMM's state is the model's, and only NS granules are in the
/// Non-secure PAS (delegated ones are in the Realm PAS).
fn states(m: &Machine, s: &Shadow) -> Result<(), String> {
    for i in 0..POOL {
        let pa = s.pa(i);
        let want = s.states[i];
        let got = m.granule_state(pa);
        if got != Some(kind(want)) {
            return Err(format!(
                "granule {pa:#x}: the RMM says {got:?}, the model {want:?}"
            ));
        }
        let pas = m.pas(pa);
        let want_pas = if want == GState::Ns {
            Pas::NonSecure
        } else {
            Pas::Realm
        };
        if pas != Some(want_pas) {
            return Err(format!(
                "granule {pa:#x} ({want:?}) is in the {pas:?} PAS, not {want_pas:?}"
            ));
        }
    }
    Ok(())
}

/// A DELEGATED granule reads zero (DEN0137 1.0: delegation and every return to
/// DELEGATED scrub it).
fn zero(m: &Machine, pa: u64) -> Result<(), String> {
    let mut page = vec![0u8; 4096];
    m.hw()
        .mem()
        .read(PhysAddr(pa), Pas::Realm, &mut page)
        .map_err(|f| format!("DELEGATED granule {pa:#x} unreadable in the Realm PAS: {f:?}"))?;
    match page.iter().position(|&b| b != 0) {
        None => Ok(()),
        Some(off) => Err(format!(
            "DELEGATED granule {pa:#x} is not zero: byte {off:#x} is {:#x}",
            page[off]
        )),
    }
}

/// The RD's reference count is its number of RECs (DEN0137 1.0, B4.3.12 `num_recs`).
fn refcounts(m: &Machine, s: &Shadow) -> Result<(), String> {
    let rmm = m
        .rmm()
        .map_err(|e| format!("the RMM is not booted: {e:?}"))?;
    for (&rd, r) in &s.realms {
        let got = rmm
            .granules()
            .get(PhysAddr(rd))
            .map(|g| g.refcount())
            .ok_or_else(|| format!("RD {rd:#x} is not tracked"))?;
        if got as usize != r.recs.len() {
            return Err(format!(
                "RD {rd:#x} has reference count {got}, but {} RECs",
                r.recs.len()
            ));
        }
    }
    Ok(())
}

/// No sentinel of a realm's DATA granule in `page` (Non-secure memory at `pa`), at
/// any 8-byte aligned offset (the RMM copies granules and structures at such offsets).
fn no_secrets(s: &Shadow, pa: u64, page: &[u8]) -> Result<(), String> {
    if s.secrets.is_empty() {
        return Ok(());
    }
    for (i, w) in page.chunks_exact(8).enumerate() {
        let Some(next) = page.get(8 * i + 8..8 * i + 16) else {
            break;
        };
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(w);
        key[8..].copy_from_slice(next);
        if s.secrets.contains(&key) {
            return Err(format!(
                "a realm's DATA sentinel {key:02x?} is in Non-secure memory at {:#x}",
                pa + 8 * i as u64
            ));
        }
    }
    Ok(())
}

/// Descriptor bit 0: valid; bit 1: table (levels 0..2) or page (level 3).
const VALID: u64 = 1;
const TABLE_OR_PAGE: u64 = 2;
/// Output address bits [47:12].
const OA: u64 = 0x0000_FFFF_FFFF_F000;
/// NS, bit 55 of a Realm stage-2 leaf: output in the Non-secure PAS.
const NS: u64 = 1 << 55;

/// The realm's stage 2 as the MMU reads it: every table descriptor points at one of the
/// realm's RTTs; every valid protected leaf maps the realm's DATA granules created at
/// exactly those IPAs, in the Realm PAS; every valid leaf in the unprotected half has
/// NS set.
fn tables(m: &Machine, s: &Shadow, rd: u64, r: &RealmShadow) -> Result<(), String> {
    let level = r.start_level;
    let span = 1u64 << (12 + 9 * (3 - level) as u32);
    for t in 0..r.num_start as u64 {
        let base_ipa = t * 512 * span;
        walk_table(m, s, rd, r, r.rtt_base + t * 4096, level, base_ipa)?;
    }
    Ok(())
}

fn walk_table(
    m: &Machine,
    s: &Shadow,
    rd: u64,
    r: &RealmShadow,
    table: u64,
    level: i8,
    base_ipa: u64,
) -> Result<(), String> {
    if s.state(table) != Some(GState::Rtt { rd }) {
        return Err(format!(
            "realm {rd:#x}: a table descriptor at level {} points at {table:#x}, which is {:?}",
            level - 1,
            s.state(table)
        ));
    }
    let mut page = vec![0u8; 4096];
    m.hw()
        .mem()
        .read(PhysAddr(table), Pas::Realm, &mut page)
        .map_err(|f| format!("realm {rd:#x}: RTT {table:#x} unreadable: {f:?}"))?;
    let size = 1u64 << (12 + 9 * (3 - level) as u32);
    let protected_top = 1u64 << (r.s2sz - 1);
    for (i, d) in page.chunks_exact(8).enumerate() {
        let d = u64::from_le_bytes(d.try_into().expect("8 bytes"));
        if d & VALID == 0 {
            continue;
        }
        let ipa = base_ipa + i as u64 * size;
        let oa = d & OA;
        if level < 3 && d & TABLE_OR_PAGE != 0 {
            walk_table(m, s, rd, r, oa, level + 1, ipa)?;
            continue;
        }
        if level == 3 && d & TABLE_OR_PAGE == 0 {
            return Err(format!(
                "realm {rd:#x}: reserved level-3 descriptor {d:#x} at IPA {ipa:#x}"
            ));
        }
        let unprotected = ipa >= protected_top;
        if unprotected != (d & NS != 0) {
            return Err(format!(
                "realm {rd:#x}: IPA {ipa:#x} ({}) maps {oa:#x} with NS = {}",
                if unprotected {
                    "unprotected"
                } else {
                    "protected"
                },
                d & NS != 0
            ));
        }
        if unprotected {
            continue;
        }
        for g in 0..size / 4096 {
            let pa = oa + g * 4096;
            let want = GState::Data {
                rd,
                ipa: ipa + g * 4096,
            };
            if s.state(pa) != Some(want) {
                return Err(format!(
                    "realm {rd:#x}: IPA {:#x} maps {pa:#x}, which is {:?}, not {want:?}",
                    ipa + g * 4096,
                    s.state(pa)
                ));
            }
        }
    }
    Ok(())
}
