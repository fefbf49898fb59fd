//! A realm's system registers on the hosted machine: the feature ID registers it reads
//! (HCR_EL2.TID3), pointer authentication, the debug registers, and the Normal world's
//! state the RMM must preserve across RMI_REC_ENTER (its GIC list registers, its SVE
//! state). Expected values come from the Arm ARM's register layouts and DEN0137 1.0,
//! not from the RMM's own tables.

use std::sync::Arc;

use platform::{CpuId, SysReg, SysRegEncoding};
use platform_sim::realm::RealmCpu;
use platform_sim::{SimConfig, SysRegDefaults};
use rmi_abi::{RmiFid, RmiRecEnter, RmiRecExit};
use rmm::hosted::Machine;
use rmm_conformance::builder::{
    create_realm, create_rec, load_pages, map_low_ipa, rec_params, Pool, RealmSpec,
};
use rmm_conformance::realm::host_call;
use rmm_conformance::realm_id;
use rmm_conformance::Checks;
use zerocopy::{FromBytes, FromZeros, IntoBytes};

const ENTRY: u64 = 0x8_0000;
/// The RsiHostCall structure of the realm programs (a DATA page).
const HOST_CALL_IPA: u64 = 0x1000;
const TRAP_WFI: u64 = 1 << 2;
/// RmiRecExitReason.HOST_CALL.
const EXIT_HOST_CALL: u8 = 5;

/// A machine with one active realm (RmiRealmParams num_bps = num_wps = 1, as
/// `RealmSpec::default()` makes) whose REC 0 runs `program`.
struct World {
    m: Machine,
    rec: u64,
    run: u64,
}

impl World {
    fn new(m: Machine, program: impl Fn(&mut RealmCpu) + Send + Sync + 'static) -> Self {
        m.hw().register_realm_program(ENTRY, Arc::new(program));
        let (rec, run) = {
            let pool = Pool::new(&m);
            let mut c = Checks::new();
            let realm = create_realm(&m, &pool, &mut c, RealmSpec::default()).unwrap();
            map_low_ipa(&m, &pool, &mut c, realm.rd, 0x20_0000).unwrap();
            let src = pool.ns();
            load_pages(&m, &pool, &mut c, realm.rd, src, 4).unwrap();
            let rec = create_rec(&m, &pool, &mut c, realm.rd, rec_params(0, ENTRY)).unwrap();
            assert_eq!(m.rmi(0, RmiFid::RealmActivate, &[realm.rd])[0], 0);
            (rec, pool.ns())
        };
        World { m, rec, run }
    }

    fn enter_with(&self, e: &RmiRecEnter) -> RmiRecExit {
        self.m.host_write(self.run, e.as_bytes()).unwrap();
        let x0 = self.m.rmi(0, RmiFid::RecEnter, &[self.rec, self.run])[0];
        assert_eq!(x0, 0, "REC_ENTER");
        let mut page = [0u8; 4096];
        self.m.host_read(self.run, &mut page).unwrap();
        RmiRecExit::read_from_bytes(&page[0x800..]).unwrap()
    }

    fn enter(&self) -> RmiRecExit {
        let mut e = RmiRecEnter::new_zeroed();
        e.flags = TRAP_WFI;
        self.enter_with(&e)
    }
}

fn enc((op0, op1, crn, crm, op2): (u8, u8, u8, u8, u8)) -> SysRegEncoding {
    SysRegEncoding::new(op0, op1, crn, crm, op2)
}

/// Feature ID values of a CPU with everything the RMM must hide from a realm, and
/// some of what it must show: each register's fields, from the Arm ARM.
fn rich_cpu() -> SysRegDefaults {
    let d = SysRegDefaults::default();
    let fld = |pairs: &[(u32, u64)]| pairs.iter().fold(0u64, |v, &(lsb, x)| v | x << lsb);
    d
        // EL0 AArch32 [3:0] 2, EL1 [7:4] 2, EL2 [11:8] 1, EL3 [15:12] 2, FP 1, AdvSIMD
        // 1, GIC [27:24] 3 (v4.1), RAS [31:28] 2, SVE [35:32] 1, SEL2 1, MPAM 1, AMU
        // 1, DIT 1, RME [55:52] 1, CSV2 [59:56] 2, CSV3 1.
        .with(
            SysReg::ID_AA64PFR0_EL1,
            fld(&[
                (0, 2),
                (4, 2),
                (8, 1),
                (12, 2),
                (16, 1),
                (20, 1),
                (24, 3),
                (28, 2),
                (32, 1),
                (36, 1),
                (40, 1),
                (44, 1),
                (48, 1),
                (52, 1),
                (56, 2),
                (60, 1),
            ]),
        )
        // BT 1, SSBS 2, MTE [11:8] 3, RAS_frac 1, SME [27:24] 2, CSV2_frac 2, GCS
        // [47:44] 1, THE 1.
        .with(
            SysReg::ID_AA64PFR1_EL1,
            fld(&[
                (0, 1),
                (4, 2),
                (8, 3),
                (12, 1),
                (24, 2),
                (32, 2),
                (44, 1),
                (48, 1),
            ]),
        )
        // DebugVer 0b1010 (v8.8), TraceVer 1, PMUVer 0b0111, BRPs 5, PMSS 1, WRPs 3,
        // CTX_CMPs 1, PMSVer 1, DoubleLock 0 (implemented), TraceFilt 1, TraceBuffer 1,
        // MTPMU 1, BRBE 1.
        .with(
            SysReg::ID_AA64DFR0_EL1,
            fld(&[
                (0, 0b1010),
                (4, 1),
                (8, 0b0111),
                (12, 5),
                (16, 1),
                (20, 3),
                (28, 1),
                (32, 1),
                (40, 1),
                (44, 1),
                (48, 1),
                (52, 1),
            ]),
        )
        .with(SysReg::ID_AA64DFR1_EL1, 0x0000_0101_0000_1010)
        // AES 2, SHA1 1, SHA2 2, CRC32 1, Atomic 2, TME [27:24] 1, RDM 1, SHA3 1, DP 1,
        // FHM 1, TS 2, TLB 2, RNDR 1.
        .with(
            SysReg::ID_AA64ISAR0_EL1,
            fld(&[
                (4, 2),
                (8, 1),
                (12, 2),
                (16, 1),
                (20, 2),
                (24, 1),
                (28, 1),
                (32, 1),
                (44, 1),
                (48, 1),
                (52, 2),
                (56, 2),
                (60, 1),
            ]),
        )
        // DPB 2, APA [7:4] 5, API 0, JSCVT 1, FCMA 1, LRCPC 3, GPA 1, SB 1, BF16 1,
        // I8MM 1, LS64 [63:60] 3.
        .with(
            SysReg::ID_AA64ISAR1_EL1,
            fld(&[
                (0, 2),
                (4, 5),
                (12, 1),
                (16, 1),
                (20, 3),
                (24, 1),
                (36, 1),
                (44, 1),
                (52, 1),
                (60, 3),
            ]),
        )
        // WFxT [3:0] 2, RPRES 1, MOPS [19:16] 1, BC 1, CLRBHB 1, CSSC 1.
        .with(
            SysReg::ID_AA64ISAR2_EL1,
            fld(&[(0, 2), (4, 1), (16, 1), (20, 1), (28, 1), (52, 1)]),
        )
        // PARange 5, ASIDBits 2, TGran16 2 (52-bit), TGran64 0, TGran4 [31:28] 1
        // (52-bit), TGran4_2 2, ExS 1, FGT [59:56] 1, ECV [63:60] 2.
        .with(
            SysReg::ID_AA64MMFR0_EL1,
            fld(&[
                (0, 5),
                (4, 2),
                (20, 2),
                (28, 1),
                (40, 2),
                (44, 1),
                (56, 1),
                (60, 2),
            ]),
        )
        // HAFDBS 3, VMIDBits [7:4] 2, VH 1, HPDS 2, LO 1, PAN 3, XNX 1, HCX [43:40] 1,
        // ETS 2, ECBHB 1.
        .with(
            SysReg::ID_AA64MMFR1_EL1,
            fld(&[
                (0, 3),
                (4, 2),
                (8, 1),
                (12, 2),
                (16, 1),
                (20, 3),
                (28, 1),
                (36, 2),
                (40, 1),
                (60, 1),
            ]),
        )
        // CnP 1, UAO 1, VARange 1, NV [27:24] 2, ST 1, IDS 1, FWB [43:40] 1, TTL 1, BBM
        // 2, EVT [59:56] 2, E0PD 1.
        .with(
            SysReg::ID_AA64MMFR2_EL1,
            fld(&[
                (0, 1),
                (4, 1),
                (16, 1),
                (24, 2),
                (28, 1),
                (36, 1),
                (40, 1),
                (48, 1),
                (52, 2),
                (56, 2),
                (60, 1),
            ]),
        )
        .with(SysReg::ID_AA64ZFR0_EL1, 0x0110_0000_0000_0011)
}

/// Registers outside the RMM's register list that the hardware implements.
fn rich_cpu_other_ids(m: &Machine) {
    for cpu in 0..m.hw().num_cpus() {
        let regs = m.hw().cpu(CpuId(cpu));
        // ID_AA64SMFR0_EL1 (FA64, I16I64...), ID_AA64PFR2_EL1, ID_AA64MMFR3_EL1 (TCRX,
        // SCTLRX), ID_AA64AFR0_EL1, ID_PFR0_EL1, MVFR0_EL1.
        for (e, v) in [
            ((3, 0, 0, 4, 5), 0x8000_0000_0000_0000u64 | 0xF << 52),
            ((3, 0, 0, 4, 2), 0x11),
            ((3, 0, 0, 7, 3), 0x11),
            ((3, 0, 0, 5, 4), 0x1),
            ((3, 0, 0, 1, 0), 0x0000_0131),
            ((3, 0, 0, 3, 0), 0x1011_1222),
        ] {
            regs.write_encoding(enc(e), v);
        }
    }
}

/// The hardware's values of [`realm_id::REGS`] on CPU 0.
fn hw_ids(m: &Machine) -> [u64; realm_id::COUNT] {
    let regs = m.hw().cpu(CpuId(0));
    core::array::from_fn(|i| regs.read_encoding(enc(realm_id::REGS[i])))
}

/// Reads every register of [`realm_id::REGS`] with MRS into a different Rt, then
/// reports the values with a host call (twice: 18 values).
fn read_ids(cpu: &mut RealmCpu) {
    let mut got = [0u64; 31];
    for (i, &e) in realm_id::REGS.iter().enumerate() {
        let rt = (i * 7) % 31;
        got[i] = cpu
            .mrs(enc(e), rt)
            .unwrap_or_else(|x| panic!("MRS {}: exception {x:x?}", realm_id::NAMES[i]));
    }
    // MRS into XZR: nothing is written, the realm continues.
    cpu.mrs(enc(realm_id::REGS[0]), 31).unwrap();
    host_call(cpu, HOST_CALL_IPA, 1, &got);
    cpu.wfi();
}

/// HCR_EL2.TID3 traps the realm's reads of the feature ID registers, and the RMM
/// answers each with the value DEN0137 1.0 and the Arm ARM allow (`realm_id`): no SVE,
/// SME, PMU, SPE, TRBE, trace, MTE, AMU, MPAM, RAS, RME, EL2, AArch32, LPA2, MOPS,
/// LS64, WFxT, GCS; the breakpoint and watchpoint counts of the realm's parameters;
/// the reserved encodings, the AArch32 registers and the registers of features not
/// offered read as zero. Fails without TID3: the realm reads the hardware's values.
#[test]
fn realm_reads_sanitised_feature_id_registers() {
    let m = Machine::new(SimConfig {
        sysregs: rich_cpu(),
        ..SimConfig::default()
    });
    rich_cpu_other_ids(&m);
    let hw = hw_ids(&m);
    let w = World::new(m, read_ids);
    let exit = w.enter();
    assert_eq!(exit.exit_reason, EXIT_HOST_CALL);
    // RealmSpec::default(): num_bps = num_wps = 1. The CPU has FEAT_PAuth, which the
    // realm is not given (pointer authentication is hidden and trapped).
    let want = realm_id::expected(&hw, 1, 1, false);
    for i in 0..realm_id::COUNT {
        assert_eq!(
            exit.gprs[i],
            want[i],
            "{}: got {:#x}, want {:#x} (hardware {:#x})",
            realm_id::NAMES[i],
            exit.gprs[i],
            want[i],
            hw[i]
        );
    }
    // Spot checks straight from the layouts: SVE [35:32] and EL2 [11:8] zero, EL0/EL1
    // AArch64 only; PMUVer [11:8] zero, BRPs = WRPs = 1; ZFR0 zero.
    assert_eq!(exit.gprs[realm_id::reg::PFR0] >> 32 & 0xF, 0);
    assert_eq!(exit.gprs[realm_id::reg::PFR0] & 0xFFF, 0x011);
    assert_eq!(exit.gprs[realm_id::reg::DFR0] & 0xFF_FFFF, 0x10_1006);
    assert_eq!(exit.gprs[realm_id::reg::ZFR0], 0);
    assert_eq!(exit.gprs[realm_id::reg::PFR1], 0x21, "BT and SSBS only");
}

/// The pointer authentication key registers, in the order the tests use.
const KEYS: [SysReg; 10] = [
    SysReg::APIAKEYLO_EL1,
    SysReg::APIAKEYHI_EL1,
    SysReg::APIBKEYLO_EL1,
    SysReg::APIBKEYHI_EL1,
    SysReg::APDAKEYLO_EL1,
    SysReg::APDAKEYHI_EL1,
    SysReg::APDBKEYLO_EL1,
    SysReg::APDBKEYHI_EL1,
    SysReg::APGAKEYLO_EL1,
    SysReg::APGAKEYHI_EL1,
];

fn key_fill(tag: u64) -> [u64; 10] {
    core::array::from_fn(|i| tag << 48 | 0x0000_4B45_5900_0000 | i as u64)
}

/// A CPU with FEAT_PAuth: ID_AA64ISAR1_EL1.APA [7:4] = 0b0001 (QARMA5 address
/// authentication), GPA [27:24] = 0b0001 (generic authentication).
fn pauth_cpu() -> SysRegDefaults {
    SysRegDefaults::default().with(SysReg::ID_AA64ISAR1_EL1, 1 << 4 | 1 << 24)
}

fn set_keys(m: &Machine, keys: &[u64; 10]) {
    for (&r, &v) in KEYS.iter().zip(keys) {
        m.hw().cpu(CpuId(0)).write(r, v);
    }
}

fn cpu_keys(m: &Machine) -> [u64; 10] {
    core::array::from_fn(|i| m.hw().cpu(CpuId(0)).read(KEYS[i]))
}

/// EC 0x09: a trapped pointer authentication instruction (HCR_EL2.API 0).
const EC_PAC: u64 = 0x09;
/// ESR_EL1 of an Undefined Instruction exception: EC 0x00, IL.
const UNDEFINED: u64 = 1 << 25;

/// Pointer authentication is hidden from the realm and trapped (the RMM's choice,
/// `docs/firmware.md`: EL3 need not let R-EL2 reach the keys, TF-A does not by default,
/// so the RMM cannot switch them): the realm's ID_AA64ISAR1_EL1 shows no APA/API/GPA/GPI
/// although the CPU has them; a read or a write of a key register and a PAC
/// instruction (EC 0x09) are UNDEFINED for it, so it can neither see the host's keys
/// nor sign with them; the host's keys are untouched by REC_ENTER. Fails on the old
/// code: the realm read ID_AA64ISAR1_EL1 with APA and GPA.
#[test]
fn pauth_hidden_from_the_realm_and_the_host_keys_untouched() {
    let m = Machine::new(SimConfig {
        sysregs: pauth_cpu(),
        ..SimConfig::default()
    });
    let w = World::new(m, |cpu| {
        let isar1 = cpu.mrs(SysReg::ID_AA64ISAR1_EL1.encoding(), 3).unwrap();
        let pc = cpu.regs().pc;
        let rd = cpu.mrs(SysReg::APIAKEYLO_EL1.encoding(), 2).unwrap_err();
        let wr = cpu
            .msr(SysReg::APGAKEYHI_EL1.encoding(), 4, 0x5245)
            .unwrap_err();
        let pac = cpu.trapped(EC_PAC << 26 | 1 << 25).unwrap_err();
        let mut r = [0u64; 31];
        r[..5].copy_from_slice(&[isar1, rd.esr, rd.elr.wrapping_sub(pc), wr.esr, pac.esr]);
        host_call(cpu, HOST_CALL_IPA, 1, &r);
        cpu.wfi();
    });
    set_keys(&w.m, &key_fill(0x4853));
    let exit = w.enter();
    assert_eq!((exit.exit_reason, exit.imm), (EXIT_HOST_CALL, 1));
    assert_eq!(
        exit.gprs[0], 0,
        "ID_AA64ISAR1_EL1: no pointer authentication"
    );
    assert_eq!(exit.gprs[1], UNDEFINED, "MRS APIAKeyLo_EL1");
    assert_eq!(exit.gprs[2], 0, "ELR_EL1: the MRS itself");
    assert_eq!(exit.gprs[3], UNDEFINED, "MSR APGAKeyHi_EL1");
    assert_eq!(exit.gprs[4], UNDEFINED, "a trapped PAC instruction");
    assert_eq!(
        cpu_keys(&w.m),
        key_fill(0x4853),
        "the host's keys after REC_ENTER"
    );
}

/// Debug register encodings (Arm ARM, D23.3.2 "Moves to and from debug and trace
/// System registers").
const MDSCR_EL1: (u8, u8, u8, u8, u8) = (2, 0, 0, 2, 2);
const OSLAR_EL1: (u8, u8, u8, u8, u8) = (2, 0, 1, 0, 4);
const OSLSR_EL1: (u8, u8, u8, u8, u8) = (2, 0, 1, 1, 4);
const OSDLR_EL1: (u8, u8, u8, u8, u8) = (2, 0, 1, 3, 4);
const MDRAR_EL1: (u8, u8, u8, u8, u8) = (2, 0, 1, 0, 0);
const DBGBVR0_EL1: (u8, u8, u8, u8, u8) = (2, 0, 0, 0, 4);
const DBGBCR0_EL1: (u8, u8, u8, u8, u8) = (2, 0, 0, 0, 5);
const DBGWCR1_EL1: (u8, u8, u8, u8, u8) = (2, 0, 0, 1, 7);
const MDCCSR_EL0: (u8, u8, u8, u8, u8) = (2, 3, 0, 1, 0);
const DBGAUTHSTATUS_EL1: (u8, u8, u8, u8, u8) = (2, 0, 7, 14, 6);

/// MDSCR_EL1.MDE [15], KDE [13], SS [0]: the host's self-hosted debug enables.
const MDSCR_HOST: u64 = 1 << 15 | 1 << 13 | 1;
/// DBGBCR<n>_EL1 enabled at every EL (E [0], PMC [2:1] 0b11, BAS [8:5] 0b1111).
const DBGBCR_ENABLED: u64 = 0xF << 5 | 0b11 << 1 | 1;

/// The realm's self-hosted debug registers are RAZ/WI rather than UNDEFINED (a Linux
/// realm writes MDSCR_EL1, OSLAR_EL1, OSDLR_EL1 and every breakpoint and watchpoint
/// ID_AA64DFR0_EL1 reports at boot): each write completes without an exception and
/// changes nothing, each read returns 0 except OSLSR_EL1, which reads OSLM = 0b10
/// (the OS lock implemented) and OSLK 0 (Arm ARM, OSLSR_EL1). The host's debug
/// registers are neither visible to the realm (its DBGBVR0/DBGBCR0 read 0) nor changed
/// by it, and while the realm runs the hardware MDSCR_EL1 is the REC's (zero: no
/// debug exceptions), not the host's MDE/KDE/SS. Fails on the old code: the MDSCR_EL1
/// write was UNDEFINED.
#[test]
fn debug_registers_are_raz_wi_for_the_realm() {
    let w = World::new(Machine::with_defaults(), |cpu| {
        let hw_mdscr = cpu.read_sysreg(SysReg::MDSCR_EL1);
        let mut r = [u64::MAX; 31];
        let mut n = 0;
        let mut put = |r: &mut [u64; 31], v: u64| {
            r[n] = v;
            n += 1;
        };
        // Linux's CPU set-up: MDSCR_EL1 = TDCC; clear the OS lock and double lock.
        let ok = |x: Result<(), _>| {
            x.map(|()| 0)
                .unwrap_or_else(|e: platform_sim::realm::RealmException| e.esr)
        };
        let v = ok(cpu.msr(enc(MDSCR_EL1), 1, 1 << 12));
        put(&mut r, v);
        let v = ok(cpu.msr(enc(OSLAR_EL1), 31, 0));
        put(&mut r, v);
        let v = ok(cpu.msr(enc(OSDLR_EL1), 31, 0));
        put(&mut r, v);
        let v = ok(cpu.msr(enc(DBGBCR0_EL1), 2, DBGBCR_ENABLED));
        put(&mut r, v);
        let v = ok(cpu.msr(enc(DBGWCR1_EL1), 3, DBGBCR_ENABLED));
        put(&mut r, v);
        for e in [
            MDSCR_EL1,
            OSLSR_EL1,
            MDRAR_EL1,
            DBGBVR0_EL1,
            DBGBCR0_EL1,
            MDCCSR_EL0,
            DBGAUTHSTATUS_EL1,
        ] {
            let v = cpu.mrs(enc(e), 4).unwrap_or_else(|x| x.esr | 1 << 63);
            put(&mut r, v);
        }
        put(&mut r, hw_mdscr);
        put(&mut r, cpu.read_sysreg(SysReg::MDSCR_EL1));
        host_call(cpu, HOST_CALL_IPA, 1, &r);
        cpu.wfi();
    });
    let cpu0 = w.m.hw().cpu(CpuId(0));
    cpu0.write(SysReg::MDSCR_EL1, MDSCR_HOST);
    cpu0.write_encoding(enc(DBGBVR0_EL1), 0xFFFF_0000_8000_1000);
    cpu0.write_encoding(enc(DBGBCR0_EL1), DBGBCR_ENABLED);
    let exit = w.enter();
    assert_eq!((exit.exit_reason, exit.imm), (EXIT_HOST_CALL, 1));
    let g = &exit.gprs;
    assert_eq!(
        &g[..5],
        &[0; 5],
        "MSR MDSCR, OSLAR, OSDLR, DBGBCR0, DBGWCR1: no exception"
    );
    assert_eq!(g[5], 0, "MDSCR_EL1 reads 0 (the write was ignored)");
    assert_eq!(g[6], 0b1000, "OSLSR_EL1: OSLM 0b10, OSLK 0");
    assert_eq!(g[7], 0, "MDRAR_EL1");
    assert_eq!(g[8], 0, "DBGBVR0_EL1: not the host's");
    assert_eq!(
        g[9], 0,
        "DBGBCR0_EL1: not the host's, nor the realm's write"
    );
    assert_eq!(g[10], 0, "MDCCSR_EL0");
    assert_eq!(g[11], 0, "DBGAUTHSTATUS_EL1");
    assert_eq!(
        g[12], 0,
        "the hardware MDSCR_EL1 while the realm runs: the REC's"
    );
    assert_eq!(g[13], 0, "... after the realm's writes too");
    assert_eq!(
        cpu0.read(SysReg::MDSCR_EL1),
        MDSCR_HOST,
        "the host's MDSCR_EL1"
    );
    assert_eq!(cpu0.read_encoding(enc(DBGBVR0_EL1)), 0xFFFF_0000_8000_1000);
    assert_eq!(cpu0.read_encoding(enc(DBGBCR0_EL1)), DBGBCR_ENABLED);
}

/// The Normal world's own GIC virtual CPU interface state (its hypervisor's guests'
/// list registers, active priorities, VMCR and HCR, which EL3 does not switch between
/// worlds, or switches only in part) is back bit-exact after RMI_REC_ENTER, while the
/// exit record reports the REC's (DEN0137 1.0, RmiRecExit gicv3_*; SMCCC: registers
/// that carry no result are preserved). Fails on the old code: the list registers held
/// the REC's values after the exit.
#[test]
fn host_gic_list_registers_preserved_across_rec_enter() {
    use vgic::GicCpuIf;
    let w = World::new(Machine::with_defaults(), |cpu| {
        host_call(cpu, HOST_CALL_IPA, 1, &[0; 31]);
        cpu.wfi();
    });
    let n = {
        let mut g = w.m.hw().gic_model(CpuId(0));
        let n = g.features().num_lrs();
        for i in 0..n {
            // Active, group 1, priority 0x40 + 8i, vINTID 200 + i: the host's guest.
            g.write_lr(
                i,
                2 << 62 | 1 << 60 | (0x40 + 8 * i as u64) << 48 | (200 + i as u64),
            );
        }
        g.write_ap1r(0, 1 << 8);
        g.write_ap0r(0, 1 << 3);
        g.write_vmcr(0xF8 << 24 | 1 << 1 | 1);
        // En, UIE, TDIR, EOIcount 5.
        g.write_hcr(1 | 1 << 1 | 1 << 14 | 5 << 27);
        n
    };
    let snapshot = |w: &World| {
        let mut g = w.m.hw().gic_model(CpuId(0));
        let lrs: Vec<u64> = (0..n).map(|i| g.read_lr(i)).collect();
        (
            lrs,
            g.read_ap0r(0),
            g.read_ap1r(0),
            g.read_vmcr(),
            g.read_hcr(),
        )
    };
    let before = snapshot(&w);
    let mut e = RmiRecEnter::new_zeroed();
    e.flags = TRAP_WFI;
    // The REC's own interrupt: LR 0 pending, vINTID 40.
    e.gicv3_lrs[0] = 1 << 62 | 1 << 60 | 0x80 << 48 | 40;
    let exit = w.enter_with(&e);
    assert_eq!((exit.exit_reason, exit.imm), (EXIT_HOST_CALL, 1));
    assert_eq!(
        exit.gicv3_lrs[0],
        1 << 62 | 1 << 60 | 0x80 << 48 | 40,
        "the REC's LR 0"
    );
    assert_eq!(exit.gicv3_lrs[1], 0, "the REC's LR 1");
    assert_eq!(
        snapshot(&w),
        before,
        "the host's ICH_LR<n>, AP0R0, AP1R0, VMCR, HCR"
    );
}

/// SMCCC 1.3 SVE hint bit of a function identifier (bit 16): set, the caller has no
/// live SVE state beyond the FP/SIMD registers.
const SVE_HINT: u64 = 1 << 16;

fn fp_pattern(tag: u64) -> platform::FpRegs {
    let mut f = platform::FpRegs::ZERO;
    for (i, v) in f.v.iter_mut().enumerate() {
        *v = [tag << 48 | i as u64, tag << 48 | 0x100 | i as u64];
    }
    f.fpcr = 0x0300_0000;
    f.fpsr = 0x0800_0001;
    f
}

fn z_hi_pattern(tag: u64) -> [[u64; 2]; 32] {
    core::array::from_fn(|i| [tag << 48 | 0x5A00 | i as u64, tag << 48 | 0xA500 | i as u64])
}

/// The Normal world's SVE state across RMI_REC_ENTER on a CPU with FEAT_SVE (SMCCC
/// 1.3): with the SVE hint bit clear, the Z registers' bits above 127 are back
/// bit-exact along with V0..V31, FPCR and FPSR, although the realm wrote its own
/// FP/SIMD registers (which zeroes those bits); with the hint bit set the callee may
/// discard them, and V0..V31, FPCR, FPSR are still preserved. Fails on the old code:
/// the upper bits were zero after the call.
#[test]
fn host_sve_state_preserved_unless_the_hint_says_none_is_live() {
    let m = Machine::new(SimConfig {
        // ID_AA64PFR0_EL1.SVE [35:32] = 1, with the default's EL2, EL3, GIC, RME.
        sysregs: SysRegDefaults::default().with(
            SysReg::ID_AA64PFR0_EL1,
            1 << 8 | 1 << 12 | 1 << 24 | 1 << 52 | 1 << 32,
        ),
        ..SimConfig::default()
    });
    let w = World::new(m, |cpu| loop {
        cpu.set_fp(&fp_pattern(0x5245));
        host_call(cpu, HOST_CALL_IPA, 1, &[0; 31]);
    });
    let enter = |fid: u64| {
        let mut e = RmiRecEnter::new_zeroed();
        e.flags = TRAP_WFI;
        w.m.host_write(w.run, e.as_bytes()).unwrap();
        let x0 = w.m.smc(0, fid, [w.rec, w.run, 0, 0, 0, 0])[0];
        assert_eq!(x0, 0, "REC_ENTER");
    };
    let cpu0 = w.m.hw().cpu(CpuId(0));
    let rec_enter = RmiFid::RecEnter.id() as u64;
    cpu0.set_fp(&fp_pattern(0x4853));
    cpu0.set_z_hi(&z_hi_pattern(0x4853));
    enter(rec_enter);
    assert_eq!(
        cpu0.fp(),
        fp_pattern(0x4853),
        "V0..V31, FPCR, FPSR (hint clear)"
    );
    assert_eq!(
        cpu0.z_hi(),
        z_hi_pattern(0x4853),
        "Z bits 255..128 (hint clear)"
    );
    cpu0.set_fp(&fp_pattern(0x4854));
    cpu0.set_z_hi(&z_hi_pattern(0x4854));
    enter(rec_enter | SVE_HINT);
    assert_eq!(
        cpu0.fp(),
        fp_pattern(0x4854),
        "V0..V31, FPCR, FPSR (hint set)"
    );
}

/// The Normal world's FP/SIMD and SVE state across the RMI commands that hash, which
/// the RMM computes with the CPU's SHA-2 instructions (in the SIMD&FP registers):
/// REALM_CREATE, RTT_INIT_RIPAS, DATA_CREATE with content measured and a runnable
/// REC_CREATE, for a SHA-256 and a SHA-512 realm, on a CPU with FEAT_SVE, FEAT_SHA256
/// and FEAT_SHA512. SMCCC 1.3 (SVE hint clear): V0..V31, FPCR, FPSR and the Z
/// registers' bits above 127 are back bit-exact after each. The simulation zeroes those
/// bits when the RMM's routine keeps only the V registers on an SVE CPU (as a write of
/// a V register does), so this fails if the RMM does not ask for the Z registers in
/// full there.
#[test]
fn measured_commands_keep_the_host_fp_and_sve_state() {
    let m = Machine::new(SimConfig {
        // ID_AA64PFR0_EL1.SVE [35:32] = 1, with the default's EL2, EL3, GIC, RME;
        // ID_AA64ISAR0_EL1.SHA2 0b0010 (the default).
        sysregs: SysRegDefaults::default().with(
            SysReg::ID_AA64PFR0_EL1,
            1 << 8 | 1 << 12 | 1 << 24 | 1 << 52 | 1 << 32,
        ),
        ..SimConfig::default()
    });
    let cpu0 = m.hw().cpu(CpuId(0));
    cpu0.set_fp(&fp_pattern(0x5348));
    cpu0.set_z_hi(&z_hi_pattern(0x5348));
    let unchanged = |what: &str| {
        assert_eq!(
            cpu0.fp(),
            fp_pattern(0x5348),
            "V0..V31, FPCR, FPSR after {what}"
        );
        assert_eq!(
            cpu0.z_hi(),
            z_hi_pattern(0x5348),
            "Z bits 255..128 after {what}"
        );
    };
    let pool = Pool::new(&m);
    let mut c = Checks::new();
    for (hash_algo, vmid) in [(0u8, 1), (1, 2)] {
        let spec = RealmSpec {
            hash_algo,
            vmid,
            ..RealmSpec::default()
        };
        let realm = create_realm(&m, &pool, &mut c, spec).unwrap();
        unchanged("REALM_CREATE");
        map_low_ipa(&m, &pool, &mut c, realm.rd, 0x4000).unwrap();
        unchanged("RTT_INIT_RIPAS");
        let src = pool.ns();
        m.host_write(src, &[0xA5; 4096]).unwrap();
        let data = pool.delegated(&mut c).unwrap();
        let x0 = m.rmi(0, RmiFid::DataCreate, &[realm.rd, data, 0x1000, src, 1])[0];
        assert_eq!(x0, 0, "DATA_CREATE, content measured");
        unchanged("DATA_CREATE");
        create_rec(&m, &pool, &mut c, realm.rd, rec_params(0, ENTRY)).unwrap();
        unchanged("REC_CREATE");
    }
}
