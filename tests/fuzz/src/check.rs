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
            if ret[0] == 0 {
                exit_record(&page[0x800..])?;
            }
        }
    }
    Ok(())
}

/// What the host can observe of the machine, and the RMM's own granule words: taken
/// before a call, compared after it when it failed (DEN0137 1.0, B1.2: a command that
/// fails has no effect).
#[derive(Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Each pool granule's PAS and the RMM's state and reference count.
    granules: Vec<(Option<Pas>, Option<GranuleState>, u16)>,
    /// The contents of the granules the call can reach: the host's pages, the pool
    /// granules its arguments name, and those the RTTs of the realm it names hold.
    contents: Vec<(u64, u64)>,
}

fn hash_granule(m: &Machine, pa: u64) -> u64 {
    let g = m.hw().mem().inspect(PhysAddr(pa));
    // FNV-1a over 64-bit words: any change of a word changes it (almost surely).
    g.0.chunks_exact(8).fold(0xcbf2_9ce4_8422_2325u64, |h, w| {
        (h ^ u64::from_le_bytes(w.try_into().expect("8 bytes"))).wrapping_mul(0x100_0000_01b3)
    })
}

/// A [`Snapshot`] for `step` (taken after its memory writes, before its call).
pub fn snapshot(m: &Machine, s: &Shadow, step: &Step) -> Snapshot {
    let rmm = m.rmm().ok();
    let granules = (0..POOL)
        .map(|i| {
            let pa = s.pa(i);
            let g = rmm.and_then(|r| r.granules().get(PhysAddr(pa)));
            (
                m.pas(pa),
                g.map(|g| g.state()),
                g.map_or(0, |g| g.refcount()),
            )
        })
        .collect();
    let mut named: std::collections::BTreeSet<u64> =
        (0..crate::HOST_PAGES).map(|i| s.pa(i)).collect();
    for &a in &step.args {
        let page = a & !0xFFF;
        if s.index(page).is_some() {
            named.insert(page);
        }
        if let Some(r) = s.realms.get(&a) {
            named.extend((0..r.num_start as u64).map(|t| r.rtt_base + t * 4096));
            named.extend(s.rtts.iter().filter(|(_, t)| t.0 == a).map(|(&pa, _)| pa));
        }
        if let Some(rec) = s.recs.get(&a) {
            named.extend(&rec.aux);
        }
    }
    let contents = named
        .into_iter()
        .map(|pa| (pa, hash_granule(m, pa)))
        .collect();
    Snapshot { granules, contents }
}

/// After a failed call: nothing in `before` changed.
pub fn unchanged(m: &Machine, s: &Shadow, step: &Step, before: &Snapshot) -> Result<(), String> {
    let after = snapshot(m, s, step);
    if after == *before {
        return Ok(());
    }
    for (i, (b, a)) in before.granules.iter().zip(&after.granules).enumerate() {
        if b != a {
            return Err(format!(
                "a failed call changed granule {:#x}: (PAS, state, refcount) {b:?} -> {a:?}",
                s.pa(i)
            ));
        }
    }
    for (b, a) in before.contents.iter().zip(&after.contents) {
        if b != a {
            return Err(format!(
                "a failed call changed the contents of granule {:#x}",
                b.0
            ));
        }
    }
    Err("a failed call changed the machine".into())
}

/// DEN0137 1.0, A4.3: the fields of an exit record each exit reason sets; every other
/// field is zero. Common to all exits: the reason, the GIC state (A4.3.2: gicv3_hcr,
/// gicv3_lrs, gicv3_misr, gicv3_vmcr), the timers (A4.3.3) and pmu_ovf_status.
pub fn exit_record(bytes: &[u8]) -> Result<(), String> {
    use rmi_abi::RmiRecExit;
    use zerocopy::FromBytes;
    let e = RmiRecExit::read_from_bytes(&bytes[..0x800]).expect("2 KiB");
    let word = |off: usize| u64::from_le_bytes(bytes[off..off + 8].try_into().expect("8"));
    // Allowed byte ranges of the record, by reason.
    let mut allowed: Vec<std::ops::Range<usize>> = vec![
        0x000..0x001, // exit_reason
        0x300..0x398, // gicv3_*
        0x400..0x420, // timers
        0x700..0x701, // pmu_ovf_status
    ];
    match e.exit_reason {
        // SYNC (A4.3.4): esr, far, hpfar; gprs[0] for an emulatable write or a trapped
        // system register write.
        0 => {
            allowed.extend([0x100..0x118, 0x200..0x208]);
            if e.far >= 4096 {
                return Err(format!(
                    "exit record: SYNC with FAR {:#x} beyond the granule offset (A4.3.4.3)",
                    e.far
                ));
            }
        }
        // IRQ, FIQ (A4.3.5, A4.3.6): nothing more.
        1 | 2 => {}
        // PSCI (A4.3.7): the FID and three arguments.
        3 => allowed.push(0x200..0x220),
        // RIPAS_CHANGE (A4.3.8): base, top, value.
        4 => allowed.push(0x500..0x511),
        // HOST_CALL (A4.3.9): the immediate and x0..x30.
        5 => allowed.extend([0x200..0x2F8, 0x600..0x602]),
        // SERROR: the syndrome.
        6 => allowed.push(0x100..0x108),
        r => {
            return Err(format!(
                "exit record: exit_reason {r} is not an RmiRecExitReason"
            ))
        }
    }
    for off in (0..0x800).step_by(8) {
        let w = word(off);
        let mut mask = 0u64;
        for b in 0..8 {
            if allowed.iter().any(|r| r.contains(&(off + b))) {
                mask |= 0xFF << (8 * b);
            }
        }
        if w & !mask != 0 {
            return Err(format!(
                "exit record (reason {}): byte offset {off:#x} holds {w:#x}, which the spec leaves zero",
                e.exit_reason
            ));
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
        rtt_refcounts(m, s, rd)?;
    }
    Ok(())
}

/// Every RTT's reference count is the number of its entries that make it live (its
/// TABLE entries and those mapping the realm's DATA), as the model counts them.
fn rtt_refcounts(m: &Machine, s: &Shadow, rd: u64) -> Result<(), String> {
    let rmm = m
        .rmm()
        .map_err(|e| format!("the RMM is not booted: {e:?}"))?;
    for (rtt, want) in s.rtt_references(rd) {
        let got = rmm
            .granules()
            .get(PhysAddr(rtt))
            .map(|g| g.refcount())
            .ok_or_else(|| format!("RTT {rtt:#x} is not tracked"))?;
        if got != want {
            return Err(format!(
                "realm {rd:#x}: RTT {rtt:#x} has reference count {got}, but {want} live entries"
            ));
        }
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
    let mut mapped = std::collections::BTreeMap::new();
    for t in 0..r.num_start as u64 {
        let base_ipa = t * 512 * span;
        walk_table(
            m,
            s,
            rd,
            r,
            r.rtt_base + t * 4096,
            level,
            base_ipa,
            &mut mapped,
        )?;
    }
    // Each DATA granule of the realm is mapped by exactly one ASSIGNED entry: a valid
    // leaf (RIPAS RAM), or, when no valid leaf maps it, an entry RMI_RTT_READ_ENTRY
    // reports ASSIGNED with its address (RIPAS EMPTY or DESTROYED: invalid in hardware).
    for (i, g) in s.states.iter().enumerate() {
        let GState::Data { rd: owner, ipa } = *g else {
            continue;
        };
        if owner != rd {
            continue;
        }
        let pa = s.pa(i);
        match mapped.get(&pa).copied().unwrap_or(0) {
            1 => {}
            0 => {
                let e = m.rmi(0, rmi_abi::RmiFid::RttReadEntry, &[rd, ipa, 3]);
                let block = 1u64 << (12 + 9 * (3 - e[1].min(3)) as u32);
                let want = pa - (ipa & (block - 1));
                if e[0] != 0 || e[2] != 1 || e[3] != want {
                    return Err(format!(
                        "realm {rd:#x}: DATA granule {pa:#x} (IPA {ipa:#x}) is mapped by no valid leaf, and RTT_READ_ENTRY says {e:x?}"
                    ));
                }
            }
            n => {
                return Err(format!(
                    "realm {rd:#x}: DATA granule {pa:#x} is mapped by {n} valid leaves"
                ))
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn walk_table(
    m: &Machine,
    s: &Shadow,
    rd: u64,
    r: &RealmShadow,
    table: u64,
    level: i8,
    base_ipa: u64,
    mapped: &mut std::collections::BTreeMap<u64, usize>,
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
            walk_table(m, s, rd, r, oa, level + 1, ipa, mapped)?;
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
            *mapped.entry(pa).or_default() += 1;
        }
    }
    Ok(())
}
