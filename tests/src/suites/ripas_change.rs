//! RIPAS changes a realm asks for and the host applies in parts (DEN0137 1.0, A5.4,
//! B5.3.6 RSI_IPA_STATE_SET, RMI_RTT_SET_RIPAS): a change to EMPTY of DATA and
//! unassigned pages applied in two host calls; a change to RAM of two level-2 blocks,
//! then of part of a block, which makes no progress until the host creates a level-3
//! RTT; a change over a DESTROYED page, which needs the realm's CHANGE_DESTROYED. The
//! realm side of each test is a [`Program`]; the host checks every exit, RTT_SET_RIPAS
//! result and RTT entry on the way, and the realm reports what it saw in one host call.

use rmi_abi::{RmiError, RmiFid, RmiRecExit};

use super::rec_exit::{enter, esr_of, report, report_exit, ripas_exit, start_with, CALL, ZERO};
use crate::builder::{teardown, Pool};
use crate::program::Program;
use crate::realm::{self, RealmEnv};
use crate::vmm::Vm;
use crate::{Checks, Failure, Host, Outcome, TestDef};

/// The tests of this module.
pub const TESTS: &[TestDef] = &[
    TestDef {
        name: "rsi_ipa_state_set_to_empty_applied_in_two_calls",
        run: to_empty,
    },
    TestDef {
        name: "rsi_ipa_state_set_to_ram_blocks_and_part_of_a_block",
        run: to_ram_blocks,
    },
    TestDef {
        name: "rsi_ipa_state_set_over_destroyed_needs_change_destroyed",
        run: over_destroyed,
    },
];

/// The realm programs of this module.
pub(super) const PROGRAMS: [&Program; 3] = [
    &Program {
        name: "rsi_ipa_state_set_to_empty_applied_in_two_calls",
        run: to_empty_realm,
    },
    &Program {
        name: "rsi_ipa_state_set_to_ram_blocks_and_part_of_a_block",
        run: to_ram_blocks_realm,
    },
    &Program {
        name: "rsi_ipa_state_set_over_destroyed_needs_change_destroyed",
        run: over_destroyed_realm,
    },
];

/// RIPAS values (B5.4.7 RsiRipas); RsiResponse ACCEPT (B5.4.6); RsiRipasChangeFlags
/// CHANGE_DESTROYED (B5.4.8 RsiRipasChangeDestroyed).
const EMPTY: u64 = 0;
const RAM: u64 = 1;
const DESTROYED: u64 = 2;
const ACCEPT: u64 = 0;
const CHANGE_DESTROYED: u64 = 1;
/// RmiRttEntryState (B4.4.24): UNASSIGNED, ASSIGNED.
const UNASSIGNED: u64 = 0;
const ASSIGNED: u64 = 1;
/// RecEnter flags: TRAP_WFI.
const TRAP_WFI: u64 = 1 << 2;
/// The SEA the RMM injects for a load from RIPAS EMPTY at EL1 (ESR_EL1: EC 0x25, IL,
/// DFSC synchronous external abort).
const SEA_EL1: u64 = 0x25 << 26 | 1 << 25 | 0b01_0000;

/// The WFI exit that ends each program.
fn wfi_exit(c: &mut Checks, exit: &RmiRecExit) -> Result<(), Failure> {
    c.eq("exit reason: sync", exit.exit_reason.into(), 0)?;
    c.eq("esr: EC WFx, TI WFI", exit.esr, 0x01 << 26)
}

/// RMI_RTT_SET_RIPAS of REC 0 over [base, top): x0 and x1 (the top it reached).
fn set_ripas(h: &dyn Host, vm: &Vm, base: u64, top: u64) -> (u64, u64) {
    let r = h.rmi(RmiFid::RttSetRipas, &[vm.realm.rd, vm.recs[0], base, top]);
    (r[0], r[1])
}

/// RMI_RTT_SET_RIPAS expected to succeed and to reach `reached`.
fn set_ok(
    h: &dyn Host,
    vm: &Vm,
    c: &mut Checks,
    base: u64,
    top: u64,
    reached: u64,
) -> Result<(), Failure> {
    let (x0, x1) = set_ripas(h, vm, base, top);
    c.status("rtt set ripas", x0, Ok(()))?;
    c.eq("rtt set ripas: the top reached", x1, reached)
}

/// RMI_RTT_READ_ENTRY at level 3 of `ipa` is at `level`, in `state`, with `ripas`.
fn entry(
    h: &dyn Host,
    vm: &Vm,
    c: &mut Checks,
    ipa: u64,
    (level, state, ripas): (u64, u64, u64),
) -> Result<(), Failure> {
    let e = h.rmi(RmiFid::RttReadEntry, &[vm.realm.rd, ipa, 3]);
    c.status("rtt read entry", e[0], Ok(()))?;
    c.eq("rtt entry: level", e[1], level)?;
    c.eq("rtt entry: state", e[2], state)?;
    c.eq("rtt entry: ripas", e[4], ripas)
}

/// The realm's report checked value by value.
fn check_report(
    c: &mut Checks,
    got: &[u64; 31],
    want: &[(&'static str, u64)],
) -> Result<(), Failure> {
    for (&(what, want), &got) in want.iter().zip(got.iter()) {
        c.eq(what, got, want)?;
    }
    Ok(())
}

/// DATA pages at [DATA_BASE, DATA_BASE + 8 pages) in [`to_empty`]; the change covers
/// them and the 8 unassigned pages after.
const DATA_BASE: u64 = 0x1_0000;
const HALF: u64 = 0x1_8000;
const CHANGE_TOP: u64 = 0x2_0000;

fn to_empty_realm(r: &mut dyn RealmEnv) {
    let mut b = [0u8; 8];
    let mut out = [0u64; 16];
    out[0] = esr_of(r.read(DATA_BASE, &mut b));
    let s = realm::ipa_state_set(r, DATA_BASE, CHANGE_TOP, EMPTY, 0);
    let g1 = realm::ipa_state_get(r, DATA_BASE, 0x3_0000);
    let g2 = realm::ipa_state_get(r, CHANGE_TOP, 0x3_0000);
    out[1..4].copy_from_slice(&[s.0, s.1, s.2]);
    out[4..7].copy_from_slice(&[g1.0, g1.1, g1.2]);
    out[7..10].copy_from_slice(&[g2.0, g2.1, g2.2]);
    out[10] = esr_of(r.read(DATA_BASE, &mut b));
    out[11] = esr_of(r.read(HALF - 0x1000 + 8, &mut b));
    out[12] = esr_of(r.read(CHANGE_TOP - 0x1000, &mut b));
    out[13] = esr_of(r.read(CALL + 0x800, &mut b));
    report(r, &out);
    r.wfi();
}

/// DEN0137 1.0, A5.4: RSI_IPA_STATE_SET to EMPTY of 8 DATA pages and 8 unassigned
/// ones exits with the region; the host applies it in two RMI_RTT_SET_RIPAS calls,
/// each reaching its top; the entries keep their state (ASSIGNED, UNASSIGNED) with
/// RIPAS EMPTY, the neighbours unchanged; a further call past the request's top
/// fails (top_bound, ERROR_INPUT). The realm: SUCCESS, new_base = top, ACCEPT;
/// IPA_STATE_GET EMPTY to the change's top, RAM after it; a load from a DATA page or
/// an unassigned page now EMPTY gets an SEA (A5.2.6), a RAM page none. After the next
/// exit, which is no RIPAS change, no request is pending: RTT_SET_RIPAS fails
/// (base_bound).
fn to_empty(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let mut pages = [(CALL, &ZERO); 9];
    for (i, p) in pages[1..].iter_mut().enumerate() {
        p.0 = DATA_BASE + 0x1000 * i as u64;
    }
    let (vm, _) = start_with(h, &pool, c, PROGRAMS[0], 1, &pages)?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    ripas_exit(c, &exit, DATA_BASE, CHANGE_TOP, EMPTY)?;
    set_ok(h, &vm, c, DATA_BASE, HALF, HALF)?;
    set_ok(h, &vm, c, HALF, CHANGE_TOP, CHANGE_TOP)?;
    for (ipa, want) in [
        (DATA_BASE, (3, ASSIGNED, EMPTY)),
        (HALF - 0x1000, (3, ASSIGNED, EMPTY)),
        (HALF, (3, UNASSIGNED, EMPTY)),
        (CHANGE_TOP - 0x1000, (3, UNASSIGNED, EMPTY)),
        (CHANGE_TOP, (3, UNASSIGNED, RAM)),
        (DATA_BASE - 0x1000, (3, UNASSIGNED, RAM)),
    ] {
        entry(h, &vm, c, ipa, want)?;
    }
    c.status(
        "rtt set ripas past the request's top: top_bound",
        set_ripas(h, &vm, CHANGE_TOP, CHANGE_TOP + 0x1000).0,
        Err(RmiError::Input),
    )?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    let r = report_exit(c, &exit)?;
    check_report(
        c,
        &r,
        &[
            ("a DATA page before the change: no exception", 0),
            ("set EMPTY: SUCCESS", 0),
            ("... new_base = top", CHANGE_TOP),
            ("... ACCEPT", ACCEPT),
            ("get: SUCCESS", 0),
            ("... EMPTY to the change's top", CHANGE_TOP),
            ("... EMPTY", EMPTY),
            ("get after it: SUCCESS", 0),
            ("... RAM to top", 0x3_0000),
            ("... RAM", RAM),
            ("a DATA page now EMPTY: SEA (ESR_EL1)", SEA_EL1),
            ("the last DATA page: SEA", SEA_EL1),
            ("an unassigned page now EMPTY: SEA", SEA_EL1),
            ("a RAM page: no exception", 0),
        ],
    )?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    wfi_exit(c, &exit)?;
    c.status(
        "rtt set ripas with no request pending",
        set_ripas(h, &vm, 0, 0x1000).0,
        Err(RmiError::Input),
    )?;
    Ok(teardown(h, &pool, c, &[vm.realm.rd], &vm.recs[..1])?)
}

const BLOCK: u64 = 0x20_0000;

fn to_ram_blocks_realm(r: &mut dyn RealmEnv) {
    let mut out = [0u64; 21];
    let mut put = |i: usize, v: (u64, u64, u64)| {
        out[3 * i..3 * i + 3].copy_from_slice(&[v.0, v.1, v.2]);
    };
    put(0, realm::ipa_state_set(r, BLOCK, 3 * BLOCK, RAM, 0));
    put(1, realm::ipa_state_get(r, BLOCK, 8 * BLOCK));
    put(2, realm::ipa_state_get(r, 3 * BLOCK, 8 * BLOCK));
    put(
        3,
        realm::ipa_state_set(r, 3 * BLOCK, 3 * BLOCK + 0x3000, RAM, 0),
    );
    put(4, realm::ipa_state_get(r, 3 * BLOCK, 4 * BLOCK));
    put(5, realm::ipa_state_get(r, 3 * BLOCK + 0x3000, 4 * BLOCK));
    report(r, &out);
    r.wfi();
}

/// DEN0137 1.0, A5.4 and RMI_RTT_SET_RIPAS: a change to RAM of [2 MiB, 6 MiB), two
/// UNASSIGNED level-2 blocks, applied in one call (each block's entry RAM, the next
/// one still EMPTY); then of [6 MiB, 6 MiB + 12 KiB), part of a block: no_progress
/// (RMI_ERROR_RTT, level 2) until the host creates the level-3 RTT, then applied to
/// those three pages only. The realm: SUCCESS, new_base = top, ACCEPT each time, and
/// IPA_STATE_GET RAM exactly over what was applied.
fn to_ram_blocks(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let (vm, _) = start_with(h, &pool, c, PROGRAMS[1], 1, &[(CALL, &ZERO)])?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    ripas_exit(c, &exit, BLOCK, 3 * BLOCK, RAM)?;
    set_ok(h, &vm, c, BLOCK, 3 * BLOCK, 3 * BLOCK)?;
    entry(h, &vm, c, BLOCK, (2, UNASSIGNED, RAM))?;
    entry(h, &vm, c, 2 * BLOCK, (2, UNASSIGNED, RAM))?;
    entry(h, &vm, c, 3 * BLOCK, (2, UNASSIGNED, EMPTY))?;
    let part = 3 * BLOCK + 0x3000;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    ripas_exit(c, &exit, 3 * BLOCK, part, RAM)?;
    c.status(
        "rtt set ripas of part of a block: no_progress",
        set_ripas(h, &vm, 3 * BLOCK, part).0,
        Err(RmiError::Rtt(2)),
    )?;
    let rtt = pool.delegated(c)?;
    c.status(
        "rtt create (level 3)",
        h.rmi(RmiFid::RttCreate, &[vm.realm.rd, rtt, 3 * BLOCK, 3])[0],
        Ok(()),
    )?;
    set_ok(h, &vm, c, 3 * BLOCK, part, part)?;
    entry(h, &vm, c, part - 0x1000, (3, UNASSIGNED, RAM))?;
    entry(h, &vm, c, part, (3, UNASSIGNED, EMPTY))?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    let r = report_exit(c, &exit)?;
    check_report(
        c,
        &r,
        &[
            ("set two blocks RAM: SUCCESS", 0),
            ("... new_base = top", 3 * BLOCK),
            ("... ACCEPT", ACCEPT),
            ("get: SUCCESS", 0),
            ("... RAM over both blocks", 3 * BLOCK),
            ("... RAM", RAM),
            ("get after them: SUCCESS", 0),
            ("... EMPTY to top", 8 * BLOCK),
            ("... EMPTY", EMPTY),
            ("set part of a block RAM: SUCCESS", 0),
            ("... new_base = top", part),
            ("... ACCEPT", ACCEPT),
            ("get: SUCCESS", 0),
            ("... RAM over the three pages", part),
            ("... RAM", RAM),
            ("get after them: SUCCESS", 0),
            ("... EMPTY to the level-3 RTT's end", 4 * BLOCK),
            ("... EMPTY", EMPTY),
        ],
    )?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    wfi_exit(c, &exit)?;
    Ok(teardown(h, &pool, c, &[vm.realm.rd], &vm.recs[..1])?)
}

/// The DATA pages of [`over_destroyed`]: [`DATA_RAM`] stays, [`DATA_DESTROYED`] is
/// destroyed before the realm runs; the change runs to [`DESTROYED_TOP`].
const DATA_RAM: u64 = 0xE000;
const DATA_DESTROYED: u64 = 0xF000;
const DESTROYED_TOP: u64 = 0x1_1000;

fn over_destroyed_realm(r: &mut dyn RealmEnv) {
    let mut out = [0u64; 15];
    let mut put = |i: usize, v: (u64, u64, u64)| {
        out[3 * i..3 * i + 3].copy_from_slice(&[v.0, v.1, v.2]);
    };
    put(0, realm::ipa_state_get(r, DATA_RAM, BLOCK));
    put(1, realm::ipa_state_get(r, DATA_DESTROYED, BLOCK));
    put(2, realm::ipa_state_set(r, DATA_RAM, DESTROYED_TOP, RAM, 0));
    put(
        3,
        realm::ipa_state_set(r, DATA_DESTROYED, DESTROYED_TOP, RAM, CHANGE_DESTROYED),
    );
    put(4, realm::ipa_state_get(r, DATA_RAM, BLOCK));
    report(r, &out);
    r.wfi();
}

/// DEN0137 1.0, A5.4 and RMI_RTT_SET_RIPAS: RMI_DATA_DESTROY leaves the page
/// UNASSIGNED with RIPAS DESTROYED, and IPA_STATE_GET reports it. A change to RAM
/// without CHANGE_DESTROYED over [a RAM page, the DESTROYED page, an unassigned page):
/// the host's call reaches the DESTROYED page and the next makes no progress there
/// (RMI_ERROR_RTT, level 3); accepted, the realm gets new_base = the DESTROYED page.
/// Asked again with CHANGE_DESTROYED, the host applies it to the end and the page is
/// RAM; IPA_STATE_GET then RAM to the level-3 RTT's end.
fn over_destroyed(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let pages = [(CALL, &ZERO), (DATA_RAM, &ZERO), (DATA_DESTROYED, &ZERO)];
    let (vm, _) = start_with(h, &pool, c, PROGRAMS[2], 1, &pages)?;
    c.status(
        "data destroy",
        h.rmi(RmiFid::DataDestroy, &[vm.realm.rd, DATA_DESTROYED])[0],
        Ok(()),
    )?;
    entry(h, &vm, c, DATA_DESTROYED, (3, UNASSIGNED, DESTROYED))?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    ripas_exit(c, &exit, DATA_RAM, DESTROYED_TOP, RAM)?;
    set_ok(h, &vm, c, DATA_RAM, DESTROYED_TOP, DATA_DESTROYED)?;
    c.status(
        "rtt set ripas at the DESTROYED page: no_progress",
        set_ripas(h, &vm, DATA_DESTROYED, DESTROYED_TOP).0,
        Err(RmiError::Rtt(3)),
    )?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    ripas_exit(c, &exit, DATA_DESTROYED, DESTROYED_TOP, RAM)?;
    set_ok(h, &vm, c, DATA_DESTROYED, DESTROYED_TOP, DESTROYED_TOP)?;
    entry(h, &vm, c, DATA_DESTROYED, (3, UNASSIGNED, RAM))?;
    entry(h, &vm, c, DATA_RAM, (3, ASSIGNED, RAM))?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    let r = report_exit(c, &exit)?;
    check_report(
        c,
        &r,
        &[
            ("get from the RAM page: SUCCESS", 0),
            ("... to the DESTROYED page", DATA_DESTROYED),
            ("... RAM", RAM),
            ("get from the DESTROYED page: SUCCESS", 0),
            ("... that page only", DATA_DESTROYED + 0x1000),
            ("... DESTROYED", DESTROYED),
            ("set RAM without CHANGE_DESTROYED: SUCCESS", 0),
            (
                "... new_base: stopped at the DESTROYED page",
                DATA_DESTROYED,
            ),
            ("... ACCEPT", ACCEPT),
            ("set RAM with CHANGE_DESTROYED: SUCCESS", 0),
            ("... new_base = top", DESTROYED_TOP),
            ("... ACCEPT", ACCEPT),
            ("get: SUCCESS", 0),
            ("... RAM to the level-3 RTT's end", BLOCK),
            ("... RAM", RAM),
        ],
    )?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    wfi_exit(c, &exit)?;
    Ok(teardown(h, &pool, c, &[vm.realm.rd], &vm.recs[..1])?)
}
