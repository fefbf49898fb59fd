//! RSI commands from a running realm (DEN0137 1.0, B5.3): RSI_VERSION, RSI_FEATURES,
//! the SMCCC and PSCI versions and the function identifier a realm's SMC names;
//! RSI_REALM_CONFIG, RSI_MEASUREMENT_READ/EXTEND; RSI_IPA_STATE_GET/SET failure
//! conditions; RSI_HOST_CALL. The realm side of each test is a [`Program`] that makes the calls and
//! reports every result in one host call; the host checks them against the
//! specification, then the REC's WFI exit.

use rmi_abi::RmiRecExit;
use rsi_abi::fid;

use super::rec_exit::{enter, report, report_exit, start_with, CALL, ZERO};
use crate::builder::{teardown, Pool};
use crate::program::Program;
use crate::realm::{self, RealmEnv};
use crate::{Checks, Failure, Host, Outcome, TestDef};

/// The tests of this module.
pub const TESTS: &[TestDef] = &[
    TestDef {
        name: "rsi_version_features_and_smccc",
        run: version,
    },
    TestDef {
        name: "rsi_realm_config_and_measurements",
        run: config_measurements,
    },
    TestDef {
        name: "rsi_ipa_state_get_and_set_failure_conditions",
        run: ipa_state_failures,
    },
    TestDef {
        name: "rsi_host_call_round_trip",
        run: host_call,
    },
];

/// The realm programs of this module.
pub(super) const PROGRAMS: [&Program; 4] = [
    &Program {
        name: "rsi_version_features_and_smccc",
        run: version_realm,
    },
    &Program {
        name: "rsi_realm_config_and_measurements",
        run: config_measurements_realm,
    },
    &Program {
        name: "rsi_ipa_state_get_and_set_failure_conditions",
        run: ipa_state_failures_realm,
    },
    &Program {
        name: "rsi_host_call_round_trip",
        run: host_call_realm,
    },
];

const RSI_VERSION: u64 = fid::RSI_VERSION as u64;
const RSI_FEATURES: u64 = fid::RSI_FEATURES as u64;
const RSI_MEASUREMENT_READ: u64 = fid::RSI_MEASUREMENT_READ as u64;
const RSI_MEASUREMENT_EXTEND: u64 = fid::RSI_MEASUREMENT_EXTEND as u64;
const RSI_REALM_CONFIG: u64 = fid::RSI_REALM_CONFIG as u64;
const RSI_IPA_STATE_SET: u64 = fid::RSI_IPA_STATE_SET as u64;
const RSI_IPA_STATE_GET: u64 = fid::RSI_IPA_STATE_GET as u64;
const SMCCC_VERSION: u64 = 0x8000_0000;
const PSCI_VERSION: u64 = 0x8400_0000;
/// An identifier in the RSI range that names no RSI 1.0 command.
const UNKNOWN_RSI: u64 = 0xC400_01A0;
/// RSI_SUCCESS, RSI_ERROR_INPUT (B5.4.1 RsiCommandReturnCode); SMCCC NOT_SUPPORTED.
const SUCCESS: u64 = 0;
const ERROR_INPUT: u64 = 1;
const NOT_SUPPORTED: u64 = u64::MAX;
/// RSI interface version 1.0 ([30:16] major, [15:0] minor); 2.0.
const V1_0: u64 = 0x1_0000;
const V2_0: u64 = 0x2_0000;
/// SMCCC 1.2; PSCI 1.1.
const SMCCC_1_2: u64 = 0x1_0002;
const PSCI_1_1: u64 = 0x1_0001;
/// The first unprotected IPA of a 40-bit realm.
const UNPROTECTED: u64 = 1 << 39;
/// RIPAS values (B5.4.7 RsiRipas): EMPTY, RAM, DESTROYED; 3 is none in 1.0.
const EMPTY: u64 = 0;
const RAM: u64 = 1;
const DESTROYED: u64 = 2;

/// The RsiRealmConfig page of [`config_measurements`] (a DATA page of zeros).
const CONFIG: u64 = 0x2000;

/// The value a realm puts in x1..x17 before each call of the register check: distinct
/// per register.
fn junk(i: usize) -> u64 {
    0xDEAD_0000 + i as u64
}

/// `fid` with `inputs` in x1.. and [`junk`] in the rest of x1..x17; returns x0..x30 and
/// a mask of the registers among x`outputs`..x17 that break B1.2 (x`outputs`..x16 not
/// zero, x17 not the caller's).
fn call_checked(
    r: &mut dyn RealmEnv,
    fid: u64,
    inputs: &[u64],
    outputs: usize,
) -> ([u64; 31], u64) {
    let mut args: [u64; 17] = core::array::from_fn(|i| junk(i + 1));
    args[..inputs.len()].copy_from_slice(inputs);
    let x = r.smc(fid, &args);
    let mut bad = 0u64;
    for (i, &v) in x.iter().enumerate().take(17).skip(outputs) {
        if v != 0 {
            bad |= 1 << i;
        }
    }
    if x[17] != junk(17) {
        bad |= 1 << 17;
    }
    (x, bad)
}

fn version_realm(r: &mut dyn RealmEnv) {
    let mut out = [0u64; 31];
    let (v1, bad_version) = call_checked(r, RSI_VERSION, &[V1_0], 3);
    let v2 = r.smc(RSI_VERSION, &[V2_0]);
    let (features, bad_features) = call_checked(r, RSI_FEATURES, &[0], 2);
    let (_, bad_read) = call_checked(r, RSI_MEASUREMENT_READ, &[0], 9);
    let (get, bad_get) = call_checked(r, RSI_IPA_STATE_GET, &[0, 0x1000], 3);
    let hi = 0xFFFF_FFFF_0000_0000u64;
    let values = [
        v1[0],
        v1[1],
        v1[2],
        v2[0],
        v2[1],
        v2[2],
        features[0],
        features[1],
        r.smc(SMCCC_VERSION, &[])[0],
        r.smc(PSCI_VERSION, &[])[0],
        r.smc(UNKNOWN_RSI, &[])[0],
        r.smc(hi | RSI_VERSION, &[V1_0])[0],
        r.smc(1 << 32 | SMCCC_VERSION, &[])[0],
        r.smc(1 << 63 | PSCI_VERSION, &[])[0],
        r.smc(hi | UNKNOWN_RSI, &[])[0],
        get[0],
        get[1],
        get[2],
        bad_version,
        bad_features,
        bad_read,
        bad_get,
    ];
    out[..values.len()].copy_from_slice(&values);
    report(r, &out);
    r.wfi();
}

/// The WFI exit that ends each program (A4.3.4.1: ESR EC WFx, TI 0 for WFI, nothing
/// else).
fn wfi_exit(c: &mut Checks, exit: &RmiRecExit) -> Result<(), Failure> {
    c.eq("exit reason: sync", exit.exit_reason.into(), 0)?;
    c.eq("esr: EC WFx, TI WFI", exit.esr, 0x01 << 26)?;
    c.eq("far", exit.far, 0)?;
    c.eq("hpfar", exit.hpfar, 0)?;
    c.eq("gicv3_hcr: no host bits, EOIcount 0", exit.gicv3_hcr, 0)
}

/// The host side of each test: enter (WFI trapped), check the report with `check`,
/// enter again for the WFI exit, tear down.
fn run(
    h: &dyn Host,
    c: &mut Checks,
    program: &'static Program,
    pages: &[(u64, &[u8; 4096])],
    check: impl FnOnce(&mut Checks, &[u64; 31]) -> Result<(), Failure>,
) -> Result<(), Outcome> {
    const TRAP_WFI: u64 = 1 << 2;
    let pool = Pool::new(h);
    let (vm, _) = start_with(h, &pool, c, program, 1, pages)?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    let values = report_exit(c, &exit)?;
    check(c, &values)?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    wfi_exit(c, &exit)?;
    Ok(teardown(h, &pool, c, &[vm.realm.rd], &vm.recs[..1])?)
}

/// DEN0137 1.0, B5.3.10 RSI_VERSION: 1.0 requested, SUCCESS with lower = higher = 1.0;
/// 2.0 requested, RSI_ERROR_INPUT with the implemented range still reported. B5.3.3
/// RSI_FEATURES(0): SUCCESS, register 0 is zero. The SMCCC version the RMM implements
/// (1.2) and realm PSCI 1.1 (A4.3.7); an RSI identifier of no 1.0 command: SMCCC
/// NOT_SUPPORTED. SMCCC 2.5: the function identifier is W0, whatever X0[63:32] hold.
/// B1.2: X0-X16 that are not outputs read zero on return, X17 is the realm's
/// (RSI_VERSION, RSI_FEATURES, RSI_MEASUREMENT_READ, RSI_IPA_STATE_GET); the realm ends
/// with a WFI exit.
fn version(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    run(h, c, PROGRAMS[0], &[(CALL, &ZERO)], |c, r| {
        let want: [(&str, u64); 22] = [
            ("RSI_VERSION(1.0): SUCCESS", SUCCESS),
            ("... lower 1.0", V1_0),
            ("... higher 1.0", V1_0),
            ("RSI_VERSION(2.0): ERROR_INPUT", ERROR_INPUT),
            ("... lower 1.0", V1_0),
            ("... higher 1.0", V1_0),
            ("RSI_FEATURES(0): SUCCESS", SUCCESS),
            ("... register 0: zero", 0),
            ("SMCCC_VERSION: 1.2", SMCCC_1_2),
            ("PSCI_VERSION: 1.1", PSCI_1_1),
            (
                "an RSI identifier of no command: NOT_SUPPORTED",
                NOT_SUPPORTED,
            ),
            ("RSI_VERSION with X0[63:32] set: SUCCESS", SUCCESS),
            ("SMCCC_VERSION with X0 bit 32 set: 1.2", SMCCC_1_2),
            ("PSCI_VERSION with X0 bit 63 set: 1.1", PSCI_1_1),
            ("unknown with X0[63:32] set: NOT_SUPPORTED", NOT_SUPPORTED),
            ("RSI_IPA_STATE_GET(0, 0x1000): SUCCESS", SUCCESS),
            ("... top 0x1000", 0x1000),
            ("... RAM", RAM),
            ("RSI_VERSION: registers not outputs (bit n = Xn)", 0),
            ("RSI_FEATURES: registers not outputs", 0),
            ("RSI_MEASUREMENT_READ: registers not outputs", 0),
            ("RSI_IPA_STATE_GET: registers not outputs", 0),
        ];
        for (&(what, want), &got) in want.iter().zip(r.iter()) {
            c.eq(what, got, want)?;
        }
        Ok(())
    })
}

/// The data RSI_MEASUREMENT_EXTEND adds to REM1 (12 bytes of these two words, little
/// endian), and SHA-256(32 zero bytes || those 12 bytes) as little-endian words (the
/// new REM1 of a SHA-256 realm, B5.3.7; computed outside the project).
const EXTEND_DATA: [u64; 2] = [0x0102_0304_0506_0708, 0x1111];
const EXTENDED_REM1: [u64; 4] = [
    0xE8D2_0513_3513_1CB6,
    0xF6E0_02FC_5BD7_6A07,
    0x2026_5755_E6A6_15D3,
    0x6614_4AB0_A1F0_855E,
];

fn config_measurements_realm(r: &mut dyn RealmEnv) {
    let mut out = [0u64; 31];
    let mut n = 0;
    let mut put = |v: u64| {
        out[n] = v;
        n += 1;
    };
    put(r.smc(RSI_REALM_CONFIG, &[CONFIG])[0]);
    let mut cfg = [0u8; 0x240];
    let read = r.read(CONFIG, &mut cfg).is_ok();
    put(read as u64);
    put(u64::from_le_bytes(cfg[0..8].try_into().unwrap_or_default()));
    put(cfg[8].into());
    put(cfg[0x200..0x240].iter().all(|&b| b == 0x5A) as u64);
    put(r.smc(RSI_REALM_CONFIG, &[CONFIG + 0x100])[0]);
    put(r.smc(RSI_REALM_CONFIG, &[UNPROTECTED])[0]);
    let mut args = [0u64; 10];
    args[0] = 1;
    args[1] = 12;
    args[2..4].copy_from_slice(&EXTEND_DATA);
    put(r.smc(RSI_MEASUREMENT_EXTEND, &args)[0]);
    let m = r.smc(RSI_MEASUREMENT_READ, &[1]);
    put(m[0]);
    for &w in &m[1..9] {
        put(w);
    }
    put(r.smc(RSI_MEASUREMENT_EXTEND, &[0, 8])[0]);
    put(r.smc(RSI_MEASUREMENT_EXTEND, &[5, 8])[0]);
    put(r.smc(RSI_MEASUREMENT_EXTEND, &[1, 65])[0]);
    put(r.smc(RSI_MEASUREMENT_READ, &[5])[0]);
    let rim = r.smc(RSI_MEASUREMENT_READ, &[0]);
    put(rim[0]);
    put(rim[1..9].iter().any(|&w| w != 0) as u64);
    report(r, &out);
    r.wfi();
}

/// DEN0137 1.0, B5.3.9 RSI_REALM_CONFIG into a granule of the realm's RAM: SUCCESS,
/// the RsiRealmConfig (B5.4.5) with ipa_width 40 and hash_algo SHA-256 (0) as the realm
/// was created, the RPV at offset 0x200 (0x5A bytes, `RealmSpec::default`); an
/// unaligned address and an unprotected one: ERROR_INPUT. B5.3.7
/// RSI_MEASUREMENT_EXTEND of REM1 with 12 bytes: SUCCESS, and RSI_MEASUREMENT_READ
/// (B5.3.8) of REM1 is SHA-256(old REM1 (32 zero bytes) || the data), the rest of the
/// 64 bytes zero; extending the RIM (index 0) or index 5, or 65 bytes, and reading
/// index 5: ERROR_INPUT; the RIM reads SUCCESS and is not zero.
fn config_measurements(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    run(
        h,
        c,
        PROGRAMS[1],
        &[(CALL, &ZERO), (CONFIG, &ZERO)],
        |c, r| {
            let mut want: [(&str, u64); 22] = [
                ("RSI_REALM_CONFIG: SUCCESS", SUCCESS),
                ("the realm reads the config page", 1),
                ("ipa_width", 40),
                ("hash_algo: SHA-256", 0),
                ("rpv: the realm's parameters'", 1),
                ("RSI_REALM_CONFIG, unaligned: ERROR_INPUT", ERROR_INPUT),
                ("RSI_REALM_CONFIG, unprotected: ERROR_INPUT", ERROR_INPUT),
                ("RSI_MEASUREMENT_EXTEND(1, 12 bytes): SUCCESS", SUCCESS),
                ("RSI_MEASUREMENT_READ(1): SUCCESS", SUCCESS),
                ("REM1 bytes 0..8", 0),
                ("REM1 bytes 8..16", 0),
                ("REM1 bytes 16..24", 0),
                ("REM1 bytes 24..32", 0),
                ("REM1 bytes 32..40: zero", 0),
                ("REM1 bytes 40..48: zero", 0),
                ("REM1 bytes 48..56: zero", 0),
                ("REM1 bytes 56..64: zero", 0),
                (
                    "RSI_MEASUREMENT_EXTEND of the RIM: ERROR_INPUT",
                    ERROR_INPUT,
                ),
                ("RSI_MEASUREMENT_EXTEND(5): ERROR_INPUT", ERROR_INPUT),
                ("RSI_MEASUREMENT_EXTEND, 65 bytes: ERROR_INPUT", ERROR_INPUT),
                ("RSI_MEASUREMENT_READ(5): ERROR_INPUT", ERROR_INPUT),
                ("RSI_MEASUREMENT_READ(0): SUCCESS", SUCCESS),
            ];
            for (slot, &w) in want[9..13].iter_mut().zip(EXTENDED_REM1.iter()) {
                slot.1 = w;
            }
            for (&(what, want), &got) in want.iter().zip(r.iter()) {
                c.eq(what, got, want)?;
            }
            c.eq("the RIM is not zero", r[22], 1)
        },
    )
}

fn ipa_state_failures_realm(r: &mut dyn RealmEnv) {
    let mut out = [0u64; 31];
    let mut n = 0;
    let set: [[u64; 4]; 9] = [
        [0x800, 0x2000, RAM, 0],
        [0x1000, 0x2800, RAM, 0],
        [0x2000, 0x2000, RAM, 0],
        [0x3000, 0x2000, RAM, 0],
        [UNPROTECTED - 0x1000, UNPROTECTED + 0x1000, RAM, 0],
        [UNPROTECTED, UNPROTECTED + 0x1000, EMPTY, 0],
        [0x1000, 0x2000, DESTROYED, 0],
        [0x1000, 0x2000, 3, 0],
        [0x800, 0x800, 2, 0],
    ];
    for a in set {
        out[n] = r.smc(RSI_IPA_STATE_SET, &a)[0];
        n += 1;
    }
    let get_fail: [[u64; 2]; 4] = [
        [0x800, 0x2000],
        [0x1000, 0x2800],
        [0x2000, 0x2000],
        [UNPROTECTED - 0x1000, UNPROTECTED + 0x1000],
    ];
    for a in get_fail {
        out[n] = r.smc(RSI_IPA_STATE_GET, &a)[0];
        n += 1;
    }
    let get_ok: [[u64; 2]; 6] = [
        [0, 0x20_0000],
        [0x1_0000, 0x40_0000],
        [0x3000, 0x5000],
        [0x20_0000, 0x80_0000],
        [0x20_0000, UNPROTECTED],
        [UNPROTECTED - 0x1000, UNPROTECTED],
    ];
    for a in get_ok {
        let x = r.smc(RSI_IPA_STATE_GET, &a);
        out[n..n + 3].copy_from_slice(&x[..3]);
        n += 3;
    }
    report(r, &out);
    r.wfi();
}

/// DEN0137 1.0, B5.3.6 RSI_IPA_STATE_SET failure conditions (base_align, top_align,
/// size_valid, rgn_bound, ripas_valid: each ERROR_INPUT, and several at once too) and
/// B5.3.5 RSI_IPA_STATE_GET's (base_align, end_align, size_valid, rgn_bound); then
/// RSI_IPA_STATE_GET successes, each the run of equal RIPAS from `base`, within the RTT
/// the walk reaches and capped at `top`: RAM to 2 MiB (the level-3 RTT), capped at
/// `top`, EMPTY to the end of the level-2 RTT (1 GiB) and to the last protected
/// granule. The realm has RIPAS RAM on [0, 2 MiB) and level-2 and level-3 RTTs at 0.
fn ipa_state_failures(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    run(h, c, PROGRAMS[2], &[(CALL, &ZERO)], |c, r| {
        let want: [(&str, u64); 31] = [
            ("SET base_align", ERROR_INPUT),
            ("SET top_align", ERROR_INPUT),
            ("SET size_valid (top = base)", ERROR_INPUT),
            ("SET size_valid (top < base)", ERROR_INPUT),
            ("SET rgn_bound (top unprotected)", ERROR_INPUT),
            ("SET rgn_bound (unprotected)", ERROR_INPUT),
            ("SET ripas_valid (DESTROYED)", ERROR_INPUT),
            ("SET ripas_valid (3)", ERROR_INPUT),
            ("SET, several conditions", ERROR_INPUT),
            ("GET base_align", ERROR_INPUT),
            ("GET end_align", ERROR_INPUT),
            ("GET size_valid", ERROR_INPUT),
            ("GET rgn_bound", ERROR_INPUT),
            ("GET [0, 2 MiB): SUCCESS", SUCCESS),
            ("... to 2 MiB", 0x20_0000),
            ("... RAM", RAM),
            ("GET [64 KiB, 4 MiB): SUCCESS", SUCCESS),
            ("... to the level-3 RTT's end, 2 MiB", 0x20_0000),
            ("... RAM", RAM),
            ("GET [0x3000, 0x5000): SUCCESS", SUCCESS),
            ("... capped at top", 0x5000),
            ("... RAM", RAM),
            ("GET [2 MiB, 8 MiB): SUCCESS", SUCCESS),
            ("... to top", 0x80_0000),
            ("... EMPTY", EMPTY),
            ("GET [2 MiB, 2^39): SUCCESS", SUCCESS),
            ("... to the level-2 RTT's end, 1 GiB", 0x4000_0000),
            ("... EMPTY", EMPTY),
            ("GET the last protected granule: SUCCESS", SUCCESS),
            ("... to 2^39", UNPROTECTED),
            ("... EMPTY", EMPTY),
        ];
        for (&(what, want), &got) in want.iter().zip(r.iter()) {
            c.eq(what, got, want)?;
        }
        Ok(())
    })
}

/// The RsiHostCall structure of [`host_call`] (256-byte aligned, in the report page).
const HOST_CALL_IPA: u64 = CALL + 0x100;
/// Its immediate.
const HOST_CALL_IMM: u16 = 0x42;
/// The realm's gprs in the call, and the host's answer.
fn realm_gpr(i: usize) -> u64 {
    0xA0 + i as u64
}
fn host_gpr(i: usize) -> u64 {
    1000 + i as u64
}

fn host_call_realm(r: &mut dyn RealmEnv) {
    let gprs = core::array::from_fn(realm_gpr);
    let (status, back) = realm::host_call(r, HOST_CALL_IPA, HOST_CALL_IMM, &gprs);
    let mut bad = 0u64;
    for (i, &v) in back.iter().enumerate() {
        if v != host_gpr(i) {
            bad |= 1 << i;
        }
    }
    let host_call = fid::RSI_HOST_CALL as u64;
    let values = [
        status,
        bad,
        back[0],
        back[30],
        r.smc(host_call, &[HOST_CALL_IPA + 0x80])[0],
        r.smc(host_call, &[UNPROTECTED])[0],
    ];
    report(r, &values);
    r.wfi();
}

/// DEN0137 1.0, B5.3.4 RSI_HOST_CALL and A4.3.6: the REC exits with reason HOST_CALL,
/// the structure's immediate and gprs[0..31] and no syndrome; the host's gprs from the
/// next RecEnter are copied into the structure and the call returns SUCCESS. An
/// address not aligned to 256 bytes (addr_align) and an unprotected one (addr_bound):
/// RSI_ERROR_INPUT, with no exit.
fn host_call(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    const TRAP_WFI: u64 = 1 << 2;
    const EXIT_HOST_CALL: u64 = 5;
    let pool = Pool::new(h);
    let (vm, _) = start_with(h, &pool, c, PROGRAMS[3], 1, &[(CALL, &ZERO)])?;
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    c.eq(
        "exit reason: host call",
        exit.exit_reason.into(),
        EXIT_HOST_CALL,
    )?;
    c.eq("imm", exit.imm.into(), HOST_CALL_IMM.into())?;
    c.eq("esr", exit.esr, 0)?;
    c.eq("far", exit.far, 0)?;
    c.eq("hpfar", exit.hpfar, 0)?;
    for (i, &g) in exit.gprs.iter().enumerate() {
        c.eq("gprs[i]: the structure's", g, realm_gpr(i))?;
    }
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |e| {
        e.gprs = core::array::from_fn(host_gpr);
    })?;
    let r = report_exit(c, &exit)?;
    let want: [(&str, u64); 6] = [
        ("RSI_HOST_CALL: SUCCESS", SUCCESS),
        ("gprs not the host's (bit n = gprs[n])", 0),
        ("gprs[0]: the host's", host_gpr(0)),
        ("gprs[30]: the host's", host_gpr(30)),
        ("unaligned: ERROR_INPUT", ERROR_INPUT),
        ("unprotected: ERROR_INPUT", ERROR_INPUT),
    ];
    for (&(what, want), &got) in want.iter().zip(r.iter()) {
        c.eq(what, got, want)?;
    }
    let exit = enter(h, &vm, c, 0, TRAP_WFI, |_| {})?;
    wfi_exit(c, &exit)?;
    Ok(teardown(h, &pool, c, &[vm.realm.rd], &vm.recs[..1])?)
}
