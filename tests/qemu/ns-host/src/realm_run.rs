//! Realms running at R-EL1: the realm payload (`tests/qemu/realm`), loaded with
//! measured DATA_CREATE into a realm of one REC, entered with RMI_REC_ENTER and driven
//! over host calls (`rmm_conformance::payload`). Each test checks the REC exits the
//! real image produces against DEN0137 1.0 (exit reasons, ESR fields, FAR/HPFAR, GIC
//! state, PSCI) and the Arm ARM (the realm's view of its registers).

use core::fmt::Write;

use rmi_abi::{RmiError, RmiFid, RmiRecEnter, RmiRecExit};
use rmm_conformance::builder::{teardown, Pool, RealmSpec};
use rmm_conformance::payload::{
    cmd, host_gpr, leak_page, load, realm_gpr, undef, BASE_IPA, DEVICE_IPA, IMM_ECHO, IMM_FAULT,
    IMM_READY, IMM_RESULT, LEAK_PAGE_IPA, RAM_TOP,
};
use rmm_conformance::realm_id;
use rmm_conformance::vmm::{self, RealmImage, Vm};
use rmm_conformance::{Checks, Failure, Host, Outcome, TestDef};
use zerocopy::{FromBytes, FromZeros, IntoBytes};

use crate::uart::Uart;
use crate::{asm, fp_check, params};

/// The realm tests, run after the conformance suite.
pub const TESTS: &[TestDef] = &[
    TestDef {
        name: "realm_run_rsi_version",
        run: rsi_version,
    },
    TestDef {
        name: "realm_run_rsi_realm_config",
        run: realm_config,
    },
    TestDef {
        name: "realm_run_host_call_round_trip",
        run: host_call,
    },
    TestDef {
        name: "realm_run_wfi_exit",
        run: wfi,
    },
    TestDef {
        name: "realm_run_mmio_read_emulated",
        run: mmio_read,
    },
    TestDef {
        name: "realm_run_mmio_write_emulated",
        run: mmio_write,
    },
    TestDef {
        name: "realm_run_gic_list_registers_acknowledged",
        run: gic_ack,
    },
    TestDef {
        name: "realm_run_gic_invalid_state_rejected",
        run: gic_invalid,
    },
    TestDef {
        name: "realm_run_traps_undefined",
        run: undefined,
    },
    TestDef {
        name: "realm_run_host_sve_state_preserved",
        run: host_sve,
    },
    TestDef {
        name: "realm_run_host_gic_state_preserved",
        run: host_gic,
    },
    TestDef {
        name: "realm_run_debug_registers_raz_wi",
        run: debug_registers,
    },
    TestDef {
        name: "realm_run_id_registers_sanitised",
        run: id_registers,
    },
    TestDef {
        name: "realm_run_el1_and_fp_simd_not_leaked",
        run: leak,
    },
    TestDef {
        name: "realm_run_psci_system_off",
        run: system_off,
    },
    TestDef {
        name: "realm_run_lpa2_start_level_minus_1",
        run: lpa2_level_minus_1,
    },
];

/// RmiRecExitReason (DEN0137 1.0, B4.4.19).
pub(crate) const EXIT_SYNC: u8 = 0;
const EXIT_PSCI: u8 = 3;
const EXIT_HOST_CALL: u8 = 5;
/// RmiRecEnterFlags: EMUL_MMIO [0], TRAP_WFI [2].
const EMUL_MMIO: u64 = 1;
pub(crate) const TRAP_WFI: u64 = 1 << 2;

/// ESR_EL2 (Arm ARM): EC [31:26], ISV [24], SAS [23:22], SF [15], WnR [6].
pub(crate) const EC_WFX: u64 = 0x01 << 26;
const EC_DABT_LOWER: u64 = 0x24 << 26;
const ISV: u64 = 1 << 24;
const SF: u64 = 1 << 15;
const WNR: u64 = 1 << 6;
const fn sas(bytes: u64) -> u64 {
    (bytes.trailing_zeros() as u64) << 22
}
/// DFSC of a translation fault at the realm's RTT start level (1 for
/// `RealmSpec::default()`): nothing is mapped at the unprotected device IPA, so the
/// walk stops at the start level's entry.
const DFSC_TRANSLATION_L1: u64 = 0b00_0101;

/// ESR_EL1 of an Undefined Instruction exception: EC 0x00, IL 1 (Arm ARM, ESR_EL1).
const ESR_UNDEF: u64 = 1 << 25;

/// The payload's realm: built, REC 0 entered once (it asks for a command).
pub(crate) struct Payload {
    pub(crate) vm: Vm,
}

fn missing_image(c: &Checks) -> Outcome {
    Outcome::Failed(Failure {
        check: c.count() + 1,
        what: "realm payload image loaded at 0x5f000000 (cargo xtask run)",
        got: 0,
        want: 1,
    })
}

impl Payload {
    /// Builds the realm from the payload's pages (and `extra` pages), activates it and
    /// makes the first entry: the payload's first host call must ask for a command.
    pub(crate) fn start(
        h: &dyn Host,
        pool: &Pool<'_>,
        c: &mut Checks,
        extra: Option<(u64, &[u8; 4096])>,
    ) -> Result<Self, Outcome> {
        Self::start_with(h, pool, c, extra, RealmSpec::default())
    }

    /// [`Payload::start`] for a realm of `spec`.
    pub(crate) fn start_with(
        h: &dyn Host,
        pool: &Pool<'_>,
        c: &mut Checks,
        extra: Option<(u64, &[u8; 4096])>,
        spec: RealmSpec,
    ) -> Result<Self, Outcome> {
        let image = params::realm_image().ok_or_else(|| missing_image(c))?;
        let mut pages: [(u64, &[u8; 4096]); 64] = [(0, &image[0]); 64];
        let mut n = 0;
        for (i, page) in image.iter().enumerate() {
            pages[n] = (BASE_IPA + 4096 * i as u64, page);
            n += 1;
        }
        if let Some(p) = extra {
            pages[n] = p;
            n += 1;
        }
        let vm = vmm::build(
            h,
            pool,
            c,
            &RealmImage {
                spec,
                pages: &pages[..n],
                ram_top: RAM_TOP,
                entry: BASE_IPA,
                recs: 1,
            },
        )?;
        let p = Payload { vm };
        Ok(p)
    }

    /// The first entry: the payload asks for a command.
    pub(crate) fn first_entry(&self, h: &dyn Host, c: &mut Checks) -> Result<(), Failure> {
        let exit = self.enter(h, c, &RmiRecEnter::new_zeroed())?;
        c.eq(
            "first exit: host call",
            exit.exit_reason.into(),
            EXIT_HOST_CALL.into(),
        )?;
        c.eq("first host call: ready", exit.imm.into(), IMM_READY.into())
    }

    /// RMI_REC_ENTER (must succeed); an unexpected exception in the payload fails.
    pub(crate) fn enter(
        &self,
        h: &dyn Host,
        c: &mut Checks,
        enter: &RmiRecEnter,
    ) -> Result<RmiRecExit, Failure> {
        let (x0, exit) = vmm::enter(h, &self.vm, 0, enter);
        c.status("rec enter", x0, Ok(()))?;
        fault_check(c, &exit)?;
        Ok(exit)
    }

    /// Answers the pending host call with `command` and `args`; the exit that follows.
    pub(crate) fn command(
        &self,
        h: &dyn Host,
        c: &mut Checks,
        command: u64,
        args: &[u64],
        flags: u64,
    ) -> Result<RmiRecExit, Failure> {
        let mut e = RmiRecEnter::new_zeroed();
        e.flags = flags;
        e.gprs[0] = command;
        e.gprs[1..1 + args.len()].copy_from_slice(args);
        self.enter(h, c, &e)
    }

    /// Enters with `enter` and expects the payload's result call; its `gprs`.
    pub(crate) fn results_after(
        &self,
        h: &dyn Host,
        c: &mut Checks,
        enter: &RmiRecEnter,
    ) -> Result<[u64; 31], Failure> {
        let exit = self.enter(h, c, enter)?;
        result_exit(c, &exit)
    }

    /// A command whose only exit is its result call.
    pub(crate) fn results(
        &self,
        h: &dyn Host,
        c: &mut Checks,
        command: u64,
        args: &[u64],
    ) -> Result<[u64; 31], Failure> {
        let exit = self.command(h, c, command, args, 0)?;
        result_exit(c, &exit)
    }

    /// Destroys the REC and the realm and gives every granule back.
    pub(crate) fn finish(
        self,
        h: &dyn Host,
        pool: &Pool<'_>,
        c: &mut Checks,
    ) -> Result<(), Outcome> {
        Ok(teardown(
            h,
            pool,
            c,
            &[self.vm.realm.rd],
            &self.vm.recs[..1],
        )?)
    }
}

/// Fails on the payload's report of an unexpected exception (and prints it).
fn fault_check(c: &mut Checks, exit: &RmiRecExit) -> Result<(), Failure> {
    if exit.exit_reason == EXIT_HOST_CALL && exit.imm == IMM_FAULT {
        let g = &exit.gprs;
        let _ = writeln!(
            Uart,
            "Note: realm payload: unexpected exception: ESR_EL1 {:#x}, ELR_EL1 {:#x}, FAR_EL1 {:#x}, SPSR_EL1 {:#x}, vector {}",
            g[0], g[1], g[2], g[3], g[4] as i64
        );
        c.eq("realm payload: unexpected exception (ESR_EL1)", g[0], 0)?;
    }
    Ok(())
}

pub(crate) fn result_exit(c: &mut Checks, exit: &RmiRecExit) -> Result<[u64; 31], Failure> {
    c.eq(
        "exit reason: host call",
        exit.exit_reason.into(),
        EXIT_HOST_CALL.into(),
    )?;
    c.eq("host call: results", exit.imm.into(), IMM_RESULT.into())?;
    Ok(exit.gprs)
}

/// RSI_VERSION from R-EL1: 1.0 requested, SUCCESS with lower = higher = 1.0
/// (DEN0137 1.0, B5.3.10).
fn rsi_version(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let p = Payload::start(h, &pool, c, None)?;
    p.first_entry(h, c)?;
    let r = p.results(h, c, cmd::RSI_VERSION, &[])?;
    c.eq("RSI_VERSION status", r[0], 0)?;
    c.eq("RSI_VERSION lower", r[1], 0x1_0000)?;
    c.eq("RSI_VERSION higher", r[2], 0x1_0000)?;
    p.finish(h, &pool, c)
}

/// RSI_REALM_CONFIG into a page of the realm: SUCCESS; ipa_width 40 and hash_algo
/// SHA-256 (0) as the realm was created (`RealmSpec::default()`); the RPV bytes as in
/// its parameters (0x5A each). DEN0137 1.0, B5.3.5, B5.4.5 RsiRealmConfig.
fn realm_config(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let p = Payload::start(h, &pool, c, None)?;
    p.first_entry(h, c)?;
    let r = p.results(h, c, cmd::REALM_CONFIG, &[0x5A])?;
    c.eq("RSI_REALM_CONFIG status", r[0], 0)?;
    c.eq("ipa_width", r[1], RealmSpec::default().s2sz.into())?;
    c.eq("hash_algo", r[2], RealmSpec::default().hash_algo.into())?;
    c.eq("rpv as in the realm parameters", r[3], 1)?;
    p.finish(h, &pool, c)
}

/// RSI_HOST_CALL from R-EL1: the exit carries the immediate and the realm's x0..x30
/// from its RsiHostCall structure; the host's x0..x30 on the next entry reach the
/// structure (DEN0137 1.0, A4.5, B5.3.3).
fn host_call(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let p = Payload::start(h, &pool, c, None)?;
    p.first_entry(h, c)?;
    let exit = p.command(h, c, cmd::HOST_CALL, &[], 0)?;
    c.eq(
        "exit reason: host call",
        exit.exit_reason.into(),
        EXIT_HOST_CALL.into(),
    )?;
    c.eq("imm", exit.imm.into(), IMM_ECHO.into())?;
    for (i, &g) in exit.gprs.iter().enumerate() {
        c.eq("exit gprs[i] = the realm's x_i", g, realm_gpr(i))?;
    }
    let mut answer = RmiRecEnter::new_zeroed();
    answer.gprs = core::array::from_fn(host_gpr);
    let r = p.results_after(h, c, &answer)?;
    for (i, &g) in r.iter().enumerate() {
        c.eq(
            "the realm's x_i after the call = the host's gprs[i]",
            g,
            host_gpr(i),
        )?;
    }
    p.finish(h, &pool, c)
}

/// WFI from R-EL1 with RmiRecEnterFlags.TRAP_WFI: REC exit SYNC with ESR EC 0x01 and
/// TI 0b00 only (DEN0137 1.0, A4.3.4.1); the next entry resumes after the WFI.
fn wfi(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let p = Payload::start(h, &pool, c, None)?;
    p.first_entry(h, c)?;
    let exit = p.command(h, c, cmd::WFI, &[], TRAP_WFI)?;
    c.eq(
        "exit reason: sync",
        exit.exit_reason.into(),
        EXIT_SYNC.into(),
    )?;
    c.eq("esr: EC WFx, TI WFI", exit.esr, EC_WFX)?;
    c.eq("far", exit.far, 0)?;
    c.eq("hpfar", exit.hpfar, 0)?;
    let r = p.results_after(h, c, &RmiRecEnter::new_zeroed())?;
    c.eq("WFI result", r[0], 0)?;
    p.finish(h, &pool, c)
}

/// One emulated load: the exit's syndrome (DEN0137 1.0, A4.3.4.3: EC, ISV, SAS, SF,
/// WnR, DFSC; FAR within the granule; HPFAR), then the host's value put in the target
/// register as the load would (A4.2.1: zero- or sign-extended to the register).
fn emulated_load(
    h: &dyn Host,
    p: &Payload,
    c: &mut Checks,
    (offset, kind, bytes, sf): (u64, u64, u64, bool),
    host_value: u64,
    want: u64,
) -> Result<(), Failure> {
    let ipa = DEVICE_IPA + offset;
    let exit = p.command(h, c, cmd::MMIO_READ, &[ipa, kind], 0)?;
    c.eq(
        "exit reason: sync",
        exit.exit_reason.into(),
        EXIT_SYNC.into(),
    )?;
    let esr = EC_DABT_LOWER | ISV | sas(bytes) | if sf { SF } else { 0 } | DFSC_TRANSLATION_L1;
    c.eq("esr of the load", exit.esr, esr)?;
    c.eq("far: offset in the granule", exit.far, ipa & 0xFFF)?;
    c.eq("hpfar", exit.hpfar, (ipa >> 12) << 4)?;
    let mut e = RmiRecEnter::new_zeroed();
    e.flags = EMUL_MMIO;
    e.gprs[0] = host_value;
    let r = p.results_after(h, c, &e)?;
    c.eq("the load's target register", r[0], want)
}

/// Emulated MMIO loads from R-EL1 of each size, zero- and sign-extending.
fn mmio_read(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let p = Payload::start(h, &pool, c, None)?;
    p.first_entry(h, c)?;
    // ldr w0: 4 bytes, SF 0, zero-extended.
    emulated_load(
        h,
        &p,
        c,
        (0x8, load::W32, 4, false),
        0xFFFF_FFFF_8765_4321,
        0x8765_4321,
    )?;
    // ldrsh x0: 2 bytes, SF 1, sign-extended to 64 bits.
    emulated_load(
        h,
        &p,
        c,
        (0x2, load::SX16_X, 2, true),
        0x1234_8001,
        0xFFFF_FFFF_FFFF_8001,
    )?;
    // ldrsb w0: 1 byte, SF 0, sign-extended to 32 bits, the top half zero.
    emulated_load(
        h,
        &p,
        c,
        (0x1, load::SX8_W, 1, false),
        0xFF_FF80,
        0xFFFF_FF80,
    )?;
    // ldrh w0: 2 bytes, zero-extended.
    emulated_load(h, &p, c, (0x6, load::H16, 2, false), 0xABCD_9876, 0x9876)?;
    // ldr x0: 8 bytes.
    emulated_load(
        h,
        &p,
        c,
        (0x10, load::X64, 8, true),
        0xDEAD_BEEF_0123_4567,
        0xDEAD_BEEF_0123_4567,
    )?;
    p.finish(h, &pool, c)
}

/// Emulated MMIO stores from R-EL1: the syndrome (WnR set) and the value written in
/// exit gprs[0], the low `size` bytes of the register (DEN0137 1.0, A4.3.4.3).
fn mmio_write(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let p = Payload::start(h, &pool, c, None)?;
    p.first_entry(h, c)?;
    let cases: [(u64, u64, u64, bool, u64); 3] = [
        // strh w1: 2 bytes from a W register.
        (0xC, 2, 0x1_2345_5555, false, 0x5555),
        // strb w1.
        (0x3, 1, 0xA5C3, false, 0xC3),
        // str x1: 8 bytes, SF 1.
        (0x18, 8, 0x0123_4567_89AB_CDEF, true, 0x0123_4567_89AB_CDEF),
    ];
    for (offset, size, value, sf, want) in cases {
        let ipa = DEVICE_IPA + offset;
        let exit = p.command(h, c, cmd::MMIO_WRITE, &[ipa, size, value], 0)?;
        c.eq(
            "exit reason: sync",
            exit.exit_reason.into(),
            EXIT_SYNC.into(),
        )?;
        let esr =
            EC_DABT_LOWER | ISV | sas(size) | if sf { SF } else { 0 } | WNR | DFSC_TRANSLATION_L1;
        c.eq("esr of the store", exit.esr, esr)?;
        c.eq("far: offset in the granule", exit.far, ipa & 0xFFF)?;
        c.eq("hpfar", exit.hpfar, (ipa >> 12) << 4)?;
        c.eq("the value written", exit.gprs[0], want)?;
        let mut e = RmiRecEnter::new_zeroed();
        e.flags = EMUL_MMIO;
        let r = p.results_after(h, c, &e)?;
        c.eq("store completed", r[0], 0)?;
    }
    p.finish(h, &pool, c)
}

/// ICH_LR<n>_EL2 (GICv3 architecture): State [63:62] (0b01 pending), HW [61],
/// Group [60], Priority [55:48], EOI [41] (maintenance on EOI, HW 0), vINTID [31:0].
const LR_PENDING: u64 = 1 << 62;
const LR_STATE_MASK: u64 = 3 << 62;
const LR_GROUP1: u64 = 1 << 60;
const LR_EOI: u64 = 1 << 41;
/// ICH_MISR_EL2.EOI [0]: an LR is invalid with HW 0 and EOI 1.
const MISR_EOI: u64 = 1;

/// The implemented list registers (RMI_FEATURES register 0, GICV3_NUM_LRS [37:34],
/// the number minus one: DEN0137 1.0, B4.4.4).
fn num_lrs(h: &dyn Host) -> usize {
    ((h.rmi(RmiFid::Features, &[0])[1] >> 34) & 0xF) as usize + 1
}

/// Every implemented list register loaded with a pending group 1 interrupt, priorities
/// the reverse of the LR order: the realm acknowledges (ICC_IAR1_EL1) and EOIs
/// (ICC_EOIR1_EL1) them highest priority first, then sees none (1023); the exit
/// reports each LR invalid with its other fields as loaded, ICH_MISR_EL2.EOI, and
/// EOIcount 0 (DEN0137 1.0, A6.1, RmiRecExit gicv3_*).
fn gic_ack(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let n = num_lrs(h);
    let pool = Pool::new(h);
    let p = Payload::start(h, &pool, c, None)?;
    p.first_entry(h, c)?;
    let mut e = RmiRecEnter::new_zeroed();
    e.gprs[0] = cmd::GIC_ACK;
    e.gprs[1] = 16;
    let lr = |i: usize| {
        // Priority 8 * (n - i): LR n-1 highest (lowest value), LR 0 lowest.
        let prio = 8 * (n - i) as u64;
        LR_PENDING | LR_GROUP1 | LR_EOI | prio << 48 | (40 + i as u64)
    };
    for i in 0..n {
        e.gicv3_lrs[i] = lr(i);
    }
    let exit = p.enter(h, c, &e)?;
    let r = result_exit(c, &exit)?;
    c.eq("interrupts acknowledged", r[0], n as u64)?;
    for k in 0..n {
        c.eq(
            "INTID acknowledged, in priority order",
            r[1 + k],
            40 + (n - 1 - k) as u64,
        )?;
    }
    c.eq("then no pending interrupt (1023)", r[1 + n], 1023)?;
    for i in 0..n {
        c.eq(
            "exit LR: invalid, as loaded otherwise",
            exit.gicv3_lrs[i],
            lr(i) & !LR_STATE_MASK,
        )?;
    }
    for i in n..exit.gicv3_lrs.len() {
        c.eq("exit LR beyond the implemented ones", exit.gicv3_lrs[i], 0)?;
    }
    c.eq("exit MISR", exit.gicv3_misr, MISR_EOI)?;
    c.eq("exit HCR: EOIcount 0, no host bits", exit.gicv3_hcr, 0)?;
    c.eq(
        "exit VMCR.VENG1 (the realm enabled group 1)",
        exit.gicv3_vmcr >> 1 & 1,
        1,
    )?;
    p.finish(h, &pool, c)
}

/// RMI_REC_ENTER with an ICH_HCR_EL2 bit the host may not set (En), then with two LRs
/// of the same vINTID: ERROR_REC, and nothing loaded: the next valid entry finds no
/// pending interrupt and reports no LR (DEN0137 1.0, RMI_REC_ENTER rec_gicv3).
fn gic_invalid(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let n = num_lrs(h);
    let pool = Pool::new(h);
    let p = Payload::start(h, &pool, c, None)?;
    p.first_entry(h, c)?;
    let mut e = RmiRecEnter::new_zeroed();
    e.gprs[0] = cmd::GIC_ACK;
    e.gprs[1] = 16;
    e.gicv3_hcr = 1;
    e.gicv3_lrs[0] = LR_PENDING | LR_GROUP1 | 0x80 << 48 | 40;
    let (x0, _) = vmm::enter(h, &p.vm, 0, &e);
    c.status("gicv3_hcr.En set", x0, Err(RmiError::Rec))?;
    e.gicv3_hcr = 0;
    if n >= 2 {
        e.gicv3_lrs[1] = LR_PENDING | LR_GROUP1 | 0x40 << 48 | 40;
        let (x0, _) = vmm::enter(h, &p.vm, 0, &e);
        c.status("duplicate vINTID", x0, Err(RmiError::Rec))?;
    }
    let mut e = RmiRecEnter::new_zeroed();
    e.gprs[0] = cmd::GIC_ACK;
    e.gprs[1] = 16;
    let exit = p.enter(h, c, &e)?;
    let r = result_exit(c, &exit)?;
    c.eq("interrupts acknowledged", r[0], 0)?;
    c.eq("no pending interrupt (1023)", r[1], 1023)?;
    for lr in exit.gicv3_lrs {
        c.eq("exit LR", lr, 0)?;
    }
    p.finish(h, &pool, c)
}

/// What the realm may not do, with the trap set the RMM runs it under (HCR_EL2.APK and
/// API clear: pointer authentication is hidden, and the realm can neither read the
/// host's keys nor sign with them; CPTR_EL2.TZ/TSM, MDCR_EL2.TPM/TDA, HCR_EL2.TACR;
/// HVC): each instruction
/// takes an Undefined Instruction exception at the realm's EL1 (ESR_EL1 EC 0x00,
/// IL 1) with ELR_EL1 the instruction (DEN0137 1.0: SVE, SME and the PMU are not
/// offered by RMI_FEATURES; the RMM does not switch the keys, debug or implementation
/// defined registers).
fn undefined(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let p = Payload::start(h, &pool, c, None)?;
    p.first_entry(h, c)?;
    let r = p.results(h, c, cmd::UNDEF, &[])?;
    let names: [&str; undef::COUNT] = [
        "msr APIAKeyLo_EL1: ESR_EL1",
        "rdvl (SVE): ESR_EL1",
        "smstart (SME): ESR_EL1",
        "mrs PMCR_EL0: ESR_EL1",
        "mrs TRCPRGCTLR (trace): ESR_EL1",
        "mrs ACTLR_EL1: ESR_EL1",
        "hvc #0: ESR_EL1",
        "mrs APIAKeyLo_EL1: ESR_EL1",
        "pacia x0, x1 with SCTLR_EL1.EnIA: ESR_EL1",
    ];
    for (n, what) in names.iter().enumerate() {
        c.eq(what, r[2 * n], ESR_UNDEF)?;
        c.eq("ELR_EL1 = the instruction", r[2 * n + 1], 1)?;
    }
    p.finish(h, &pool, c)
}

/// SMCCC 1.3 SVE hint bit (function identifier bit 16).
const SVE_HINT: u64 = 1 << 16;

/// The Normal world's SVE state across RMI_REC_ENTER (SMCCC 1.3): the host enables SVE
/// at the largest vector length, loads Z0..Z31 and P0..P15 with patterns and makes the
/// REC_ENTER with the SVE hint bit clear in the same asm block, the realm running an
/// RSI call (its FP/SIMD code, and the RMM's load of its V registers, zero the Z
/// registers' bits above 127): every Z and P register is back bit-exact. Then with
/// the hint bit set the callee may discard the state above the V registers: only
/// V0..V31 (each Z register's low 128 bits) must be back.
fn host_sve(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    if !asm::has_sve() {
        return Err(Outcome::Skipped("the CPU has no SVE"));
    }
    let vl = asm::sve_enable();
    let _ = writeln!(Uart, "Note: SVE vector length {} bits at NS-EL2", vl * 8);
    let result = asm::with_sve_buffers(|load, store| host_sve_rounds(h, c, vl, load, store));
    asm::sve_disable();
    result
}

fn host_sve_rounds(
    h: &dyn Host,
    c: &mut Checks,
    vl: usize,
    load: &mut asm::SveRegs,
    store: &mut asm::SveRegs,
) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let p = Payload::start(h, &pool, c, None)?;
    p.first_entry(h, c)?;
    let run = p.vm.runs[0];
    for round in 0..2u8 {
        for (i, z) in load.z.iter_mut().enumerate() {
            for (j, b) in z.iter_mut().enumerate() {
                *b = (i as u8).wrapping_mul(37) ^ (j as u8).wrapping_mul(11) ^ 0xA0 ^ round;
            }
        }
        for (i, pr) in load.p.iter_mut().enumerate() {
            for (j, b) in pr.iter_mut().enumerate() {
                *b = (i as u8).wrapping_mul(13) ^ (j as u8) ^ 0x5C ^ round;
            }
        }
        let mut e = RmiRecEnter::new_zeroed();
        e.gprs[0] = cmd::RSI_VERSION;
        c.holds("write the RecEnter page", h.write_ns(run, e.as_bytes()))?;
        let fid = RmiFid::RecEnter.id() as u64 | if round == 1 { SVE_HINT } else { 0 };
        let x0 = asm::smc_with_sve(fid, [p.vm.recs[0], run, 0, 0, 0], load, store);
        c.status("rec enter", x0, Ok(()))?;
        let mut page = [0u8; 0x800];
        c.holds("read the RecExit page", h.read_ns(run + 0x800, &mut page))?;
        let exit =
            RmiRecExit::read_from_bytes(&page[..]).unwrap_or_else(|_| RmiRecExit::new_zeroed());
        fault_check(c, &exit)?;
        let r = result_exit(c, &exit)?;
        c.eq("the realm's RSI_VERSION status", r[0], 0)?;
        if round == 0 {
            for (got, want) in store.z.iter().zip(load.z.iter()) {
                c.holds(
                    "Z<n> back bit-exact (SVE hint clear)",
                    got[..vl] == want[..vl],
                )?;
            }
            for (got, want) in store.p.iter().zip(load.p.iter()) {
                c.holds(
                    "P<n> back bit-exact (SVE hint clear)",
                    got[..vl / 8] == want[..vl / 8],
                )?;
            }
        } else {
            for (got, want) in store.z.iter().zip(load.z.iter()) {
                c.holds(
                    "V<n> (Z<n> bits 127..0) back bit-exact (SVE hint set)",
                    got[..16] == want[..16],
                )?;
            }
        }
    }
    p.finish(h, &pool, c)
}

/// The Normal world's own GIC virtual CPU interface state: the host fills every
/// implemented ICH_LR<n>_EL2, ICH_AP0R0/AP1R0, ICH_VMCR_EL2 and ICH_HCR_EL2 (En clear)
/// with patterns, enters a realm that acknowledges and EOIs an interrupt of its own
/// (so the REC's LRs, APRs and VMCR are in use), and finds every register back as it
/// read it after filling (EL3 switches none of the list registers and active
/// priorities between worlds: the RMM must preserve them, SMCCC).
fn host_gic(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let n = num_lrs(h);
    asm::enable_icc_sre_el2();
    let saved_lrs: [u64; 16] = core::array::from_fn(|i| if i < n { asm::ich_lr(i) } else { 0 });
    let saved = asm::ich_state();
    let result = host_gic_rounds(h, c, n);
    for (i, &v) in saved_lrs.iter().enumerate().take(n) {
        asm::set_ich_lr(i, v);
    }
    asm::set_ich_state(&saved);
    result
}

fn host_gic_rounds(h: &dyn Host, c: &mut Checks, n: usize) -> Result<(), Outcome> {
    for i in 0..n {
        // Active, group 1, priority 0x40 + 8i, vINTID 300 + i: the host's own guest.
        asm::set_ich_lr(
            i,
            2 << 62 | LR_GROUP1 | (0x40 + 8 * i as u64) << 48 | (300 + i as u64),
        );
    }
    // AP0R0 bit 2, AP1R0 bit 8, VMCR: VPMR 0xF8, VENG1; HCR: UIE, NPIE, TDIR, EOIcount 3
    // (En clear).
    asm::set_ich_state(&[
        1 << 2,
        1 << 8,
        0xF8 << 24 | 1 << 1,
        1 << 1 | 1 << 3 | 1 << 14 | 3 << 27,
    ]);
    let lrs: [u64; 16] = core::array::from_fn(|i| if i < n { asm::ich_lr(i) } else { 0 });
    let others = asm::ich_state();
    let pool = Pool::new(h);
    let p = Payload::start(h, &pool, c, None)?;
    p.first_entry(h, c)?;
    let mut e = RmiRecEnter::new_zeroed();
    e.gprs[0] = cmd::GIC_ACK;
    e.gprs[1] = 16;
    e.gicv3_lrs[0] = LR_PENDING | LR_GROUP1 | 0x80 << 48 | 40;
    let exit = p.enter(h, c, &e)?;
    let r = result_exit(c, &exit)?;
    c.eq("the realm acknowledged its interrupt", r[0], 1)?;
    c.eq("the realm's INTID", r[1], 40)?;
    for (i, &want) in lrs.iter().enumerate().take(n) {
        c.eq(
            "the host's ICH_LR<n>_EL2 after REC_ENTER",
            asm::ich_lr(i),
            want,
        )?;
    }
    let now = asm::ich_state();
    c.eq(
        "the host's ICH_AP0R0_EL2 after REC_ENTER",
        now[0],
        others[0],
    )?;
    c.eq(
        "the host's ICH_AP1R0_EL2 after REC_ENTER",
        now[1],
        others[1],
    )?;
    c.eq("the host's ICH_VMCR_EL2 after REC_ENTER", now[2], others[2])?;
    c.eq("the host's ICH_HCR_EL2 after REC_ENTER", now[3], others[3])?;
    p.finish(h, &pool, c)
}

/// The realm's self-hosted debug registers are RAZ/WI, not UNDEFINED (a Linux realm
/// writes MDSCR_EL1, OSLAR_EL1, OSDLR_EL1 and its breakpoints at boot): no access takes
/// an exception, the reads return 0 but OSLSR_EL1, which reads OSLM 0b10 (the OS lock
/// implemented, unlocked: Arm ARM, OSLSR_EL1); the host's DBGBCR0/DBGBVR0 (filled with
/// an enabled breakpoint here) are not visible to the realm and back after the run,
/// and so is its MDSCR_EL1.
fn debug_registers(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    use rmm_conformance::payload::debug;
    let saved = asm::debug_regs();
    let host = [0x0000_0000_6000_0000, debug::DBGBCR_ENABLED, 1 << 12];
    asm::set_debug_regs(&host);
    let result = debug_rounds(h, c, &host);
    asm::set_debug_regs(&saved);
    result
}

fn debug_rounds(h: &dyn Host, c: &mut Checks, host: &[u64; 3]) -> Result<(), Outcome> {
    use rmm_conformance::payload::debug;
    let pool = Pool::new(h);
    let p = Payload::start(h, &pool, c, None)?;
    p.first_entry(h, c)?;
    let r = p.results(h, c, cmd::DEBUG_REGS, &[])?;
    let names = [
        "msr MDSCR_EL1: no exception",
        "msr OSLAR_EL1: no exception",
        "msr OSDLR_EL1: no exception",
        "msr DBGBCR0_EL1: no exception",
        "mrs MDSCR_EL1: no exception",
        "mrs OSLSR_EL1: no exception",
        "mrs DBGBCR0_EL1: no exception",
        "mrs DBGBVR0_EL1: no exception",
        "mrs MDCCSR_EL0: no exception",
    ];
    for (n, what) in names.iter().enumerate() {
        c.eq(what, r[2 * n], 0)?;
    }
    let v = |n: usize| r[2 * n + 1];
    c.eq("MDSCR_EL1 reads 0", v(debug::MRS_MDSCR), 0)?;
    c.eq("OSLSR_EL1: OSLM 0b10, OSLK 0", v(debug::MRS_OSLSR), 0b1000)?;
    c.eq(
        "DBGBCR0_EL1 reads 0 (not the host's)",
        v(debug::MRS_DBGBCR0),
        0,
    )?;
    c.eq(
        "DBGBVR0_EL1 reads 0 (not the host's)",
        v(debug::MRS_DBGBVR0),
        0,
    )?;
    c.eq("MDCCSR_EL0 reads 0", v(debug::MRS_MDCCSR), 0)?;
    let now = asm::debug_regs();
    c.eq("the host's DBGBVR0_EL1 after REC_ENTER", now[0], host[0])?;
    c.eq("the host's DBGBCR0_EL1 after REC_ENTER", now[1], host[1])?;
    c.eq("the host's MDSCR_EL1 after REC_ENTER", now[2], host[2])?;
    p.finish(h, &pool, c)
}

/// The realm reads the feature ID registers (HCR_EL2.TID3 traps each read to the
/// RMM): every value is what `rmm_conformance::realm_id` derives, field by field from
/// the Arm ARM layouts, from this CPU's own values (read here at NS-EL2) and the
/// realm's parameters (num_bps = num_wps = 1): no SVE, SME, PMU, SPE, TRBE, trace,
/// MTE, AMU, MPAM, RAS, EL2 or AArch32, pointer authentication hidden while the keys
/// are not switched, and zero for the other registers of the ID space.
fn id_registers(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let hw = asm::id_regs();
    if hw[realm_id::reg::PFR0] >> 32 & 0xF != 0 {
        let _ = writeln!(
            Uart,
            "Note: the CPU has SVE ({:#x}); the realm must not see it",
            hw[0]
        );
    }
    let pool = Pool::new(h);
    let p = Payload::start(h, &pool, c, None)?;
    p.first_entry(h, c)?;
    let r = p.results(h, c, cmd::ID_REGS, &[])?;
    let want = realm_id::expected(&hw, 1, 1, false);
    for i in 0..realm_id::COUNT {
        if r[i] != want[i] {
            let _ = writeln!(
                Uart,
                "Note: {}: {:#x}, want {:#x} (hardware {:#x})",
                realm_id::NAMES[i],
                r[i],
                want[i],
                hw[i]
            );
        }
        c.eq(realm_id::NAMES[i], r[i], want[i])?;
    }
    p.finish(h, &pool, c)
}

/// PSCI SYSTEM_OFF from R-EL1: REC exit PSCI with the FID in gprs[0] and no arguments;
/// the realm is then SYSTEM_OFF: RMI_REC_ENTER fails with ERROR_REALM index 1
/// (DEN0137 1.0, B5.3.x PSCI_SYSTEM_OFF, RMI_REC_ENTER system_off).
fn system_off(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let p = Payload::start(h, &pool, c, None)?;
    p.first_entry(h, c)?;
    let exit = p.command(h, c, cmd::SYSTEM_OFF, &[], 0)?;
    c.eq(
        "exit reason: PSCI",
        exit.exit_reason.into(),
        EXIT_PSCI.into(),
    )?;
    c.eq("gprs[0]: SYSTEM_OFF", exit.gprs[0], 0x8400_0008)?;
    for &g in &exit.gprs[1..4] {
        c.eq("gprs[1..3]", g, 0)?;
    }
    let (x0, _) = vmm::enter(h, &p.vm, 0, &RmiRecEnter::new_zeroed());
    c.status("rec enter after SYSTEM_OFF", x0, Err(RmiError::Realm(1)))?;
    p.finish(h, &pool, c)
}

/// The payload in a realm with FEAT_LPA2: 52-bit IPAs, RTTs from start level -1
/// (DEN0137 1.0, A3.1.2; Arm ARM D8.2 Table D8-20), its pages under RTTs of levels 0 to
/// 3. The RMM runs it with VTCR_EL2.DS set and its descriptors in the LPA2 layout: the
/// payload's code, data and stack are all fetched and accessed through them, it answers
/// RSI_REALM_CONFIG with ipa_width 52 (B5.4.5) and makes a host call round trip.
/// Skipped where RMI_FEATURES offers no LPA2 with S2SZ 52.
fn lpa2_level_minus_1(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let f = rmi_abi::features::FeatureReg0::decode(h.rmi(RmiFid::Features, &[0])[1]);
    if !f.is_ok_and(|f| f.lpa2 && f.s2sz == 52) {
        return Err(Outcome::Skipped("no LPA2 with S2SZ 52"));
    }
    let spec = RealmSpec {
        s2sz: 52,
        start_level: -1,
        num_start: 1,
        lpa2: true,
        ..RealmSpec::default()
    };
    let pool = Pool::new(h);
    let p = Payload::start_with(h, &pool, c, None, spec)?;
    let e = h.rmi(RmiFid::RttReadEntry, &[p.vm.realm.rd, BASE_IPA, 3]);
    c.status("read entry", e[0], Ok(()))?;
    c.eq("walk level 3 below levels -1, 0, 1, 2", e[1], 3)?;
    c.eq("state ASSIGNED", e[2], 1)?;
    p.first_entry(h, c)?;
    let r = p.results(h, c, cmd::REALM_CONFIG, &[0x5A])?;
    c.eq("RSI_REALM_CONFIG status", r[0], 0)?;
    c.eq("ipa_width", r[1], 52)?;
    let exit = p.command(h, c, cmd::HOST_CALL, &[], 0)?;
    c.eq("imm", exit.imm.into(), IMM_ECHO.into())?;
    c.eq("exit gprs[7] = the realm's x7", exit.gprs[7], realm_gpr(7))?;
    let mut answer = RmiRecEnter::new_zeroed();
    answer.gprs = core::array::from_fn(host_gpr);
    let r = p.results_after(h, c, &answer)?;
    c.eq("the realm's x30 after the call", r[30], host_gpr(30))?;
    p.finish(h, &pool, c)
}

/// Names of the host's EL1 registers in the leak test (`asm::read_el1` order).
const EL1_NAMES: [&str; asm::EL1_COUNT] = [
    "SCTLR_EL1 back bit-exact after REC_ENTER",
    "TCR_EL1 back bit-exact after REC_ENTER",
    "TTBR0_EL1 back bit-exact after REC_ENTER",
    "TTBR1_EL1 back bit-exact after REC_ENTER",
    "MAIR_EL1 back bit-exact after REC_ENTER",
    "AMAIR_EL1 back bit-exact after REC_ENTER",
    "VBAR_EL1 back bit-exact after REC_ENTER",
    "ELR_EL1 back bit-exact after REC_ENTER",
    "SPSR_EL1 back bit-exact after REC_ENTER",
    "ESR_EL1 back bit-exact after REC_ENTER",
    "FAR_EL1 back bit-exact after REC_ENTER",
    "AFSR0_EL1 back bit-exact after REC_ENTER",
    "AFSR1_EL1 back bit-exact after REC_ENTER",
    "CONTEXTIDR_EL1 back bit-exact after REC_ENTER",
    "CPACR_EL1 back bit-exact after REC_ENTER",
    "CSSELR_EL1 back bit-exact after REC_ENTER",
    "PAR_EL1 back bit-exact after REC_ENTER",
    "SP_EL0 back bit-exact after REC_ENTER",
    "TPIDR_EL0 back bit-exact after REC_ENTER",
    "TPIDRRO_EL0 back bit-exact after REC_ENTER",
    "TPIDR_EL1 back bit-exact after REC_ENTER",
    "CNTKCTL_EL1 back bit-exact after REC_ENTER",
    "CNTV_CTL_EL0 back bit-exact after REC_ENTER",
    "CNTV_CVAL_EL0 back bit-exact after REC_ENTER",
    "CNTP_CTL_EL0 back bit-exact after REC_ENTER",
    "CNTP_CVAL_EL0 back bit-exact after REC_ENTER",
    "SP_EL1 back bit-exact after REC_ENTER",
    "MDSCR_EL1 back bit-exact after REC_ENTER",
];

/// The host's fill of EL1 register `i` in round `round`: values the Normal world's
/// EL1 could hold (it never runs here): the timers enabled but masked, CSSELR a data
/// cache level, MDSCR_EL1 with only TDCC (no debug events), the rest patterns.
fn host_el1_fill(i: usize, round: u64) -> u64 {
    let pattern = 0x4853_0000_0000_0000 | round << 44 | (i as u64) << 36 | 0x0BAD_F00D ^ i as u64;
    match i {
        // CSSELR_EL1: level 1 data or unified.
        15 => 0,
        // CNTV_CTL_EL0, CNTP_CTL_EL0: ENABLE and IMASK.
        22 | 24 => 3,
        // MDSCR_EL1: TDCC.
        27 => 1 << 12,
        _ => pattern,
    }
}

fn host_key_fill(i: usize, round: u64) -> u64 {
    0x4B45_5900_0000_0000 | round << 40 | (i as u64) << 32 | 0x1357_9BDF
}

/// The host's V0..V31, FPCR and FPSR for its REC_ENTER number `k` of the leak test.
fn host_fp(k: u64) -> ([u128; 32], u64, u64) {
    let v = core::array::from_fn(|i| {
        let lo = 0x4853_4650_0000_0000 | k << 40 | (i as u64) << 8 | 0x11;
        let hi = !lo ^ k << 20;
        u128::from(hi) << 64 | u128::from(lo)
    });
    // FPCR: AHP, DN, FZ, RMode 0b01 or 0b11; FPSR: QC, IXC, UFC, DZC or OFC, IOC.
    let fpcr = 1 << 26 | 1 << 25 | 1 << 24 | (1 + 2 * (k % 2)) << 22;
    let fpsr = 1 << 27 | 1 << 4 | 1 << 3 | if k.is_multiple_of(2) { 1 << 1 } else { 1 << 2 } | 1;
    (v, fpcr, fpsr)
}

/// The Normal world's EL1 registers (and pointer authentication keys, with FEAT_PAuth)
/// as the leak test set them.
struct HostState {
    el1: [u64; asm::EL1_COUNT],
    keys: Option<[u64; 10]>,
}

impl HostState {
    /// Fills the registers for `round`; what they read back as.
    fn fill(round: u64) -> Self {
        asm::write_el1(&core::array::from_fn(|i| host_el1_fill(i, round)));
        let keys = asm::has_pauth().then(|| {
            asm::write_pauth_keys(&core::array::from_fn(|i| host_key_fill(i, round)));
            asm::read_pauth_keys()
        });
        Self {
            el1: asm::read_el1(),
            keys,
        }
    }

    /// Checks that the registers still hold these values.
    fn check(&self, c: &mut Checks) -> Result<(), Failure> {
        for ((&want, got), what) in self.el1.iter().zip(asm::read_el1()).zip(EL1_NAMES) {
            c.eq(what, got, want)?;
        }
        if let Some(keys) = self.keys {
            for (&want, got) in keys.iter().zip(asm::read_pauth_keys()) {
                c.eq(
                    "pointer authentication key back bit-exact after REC_ENTER",
                    got,
                    want,
                )?;
            }
        }
        Ok(())
    }
}

/// RMI_REC_ENTER with this host's FP/SIMD values `host_fp(k)` (checked by `fp_check`
/// like every SMC, and here).
fn enter_with_fp(
    h: &dyn Host,
    p: &Payload,
    c: &mut Checks,
    e: &RmiRecEnter,
    k: u64,
) -> Result<RmiRecExit, Failure> {
    let run = p.vm.runs[0];
    c.holds("write the RecEnter page", h.write_ns(run, e.as_bytes()))?;
    let (v, fpcr, fpsr) = host_fp(k);
    let before = fp_check::mismatch_seen();
    let x = fp_check::smc_with(
        RmiFid::RecEnter.id() as u64,
        [p.vm.recs[0], run, 0, 0, 0, 0],
        &v,
        fpcr,
        fpsr,
    );
    c.status("rec enter", x[0], Ok(()))?;
    c.holds(
        "V0..V31, FPCR, FPSR back bit-exact after REC_ENTER",
        before || !fp_check::mismatch_seen(),
    )?;
    let mut page = [0u8; 0x800];
    c.holds("read the RecExit page", h.read_ns(run + 0x800, &mut page))?;
    let exit = RmiRecExit::read_from_bytes(&page[..]).unwrap_or_else(|_| RmiRecExit::new_zeroed());
    fault_check(c, &exit)?;
    Ok(exit)
}

/// The leak test. The host fills its EL1 registers, pointer authentication keys and
/// FP/SIMD registers with patterns and enters a realm that fills its own; after every
/// REC exit each host register must be back bit-exact (the RMM switches what the realm
/// may change, and EL3 switches none of it), and the realm must find in its registers
/// none of the host's values at its first entry and exactly its own values after a
/// round trip through the host that changed the host's.
fn leak(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let saved_el1 = asm::read_el1();
    let saved_keys = asm::has_pauth().then(asm::read_pauth_keys);
    let result = leak_rounds(h, c);
    asm::write_el1(&saved_el1);
    if let Some(k) = saved_keys {
        asm::write_pauth_keys(&k);
    }
    result
}

fn leak_rounds(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let host1 = HostState::fill(1);
    // The values the realm compares its first entry's registers with.
    let mut page = [0u8; 4096];
    {
        let mut words = [0u64; 512];
        words[..leak_page::EL1_COUNT].copy_from_slice(&host1.el1[..leak_page::EL1_COUNT]);
        let (v, fpcr, fpsr) = host_fp(0);
        for (i, q) in v.iter().enumerate() {
            words[leak_page::V + 2 * i] = *q as u64;
            words[leak_page::V + 2 * i + 1] = (*q >> 64) as u64;
        }
        words[leak_page::FPCR] = fpcr;
        words[leak_page::FPSR] = fpsr;
        page.copy_from_slice(words.as_bytes());
    }
    let pool = Pool::new(h);
    let p = Payload::start(h, &pool, c, Some((LEAK_PAGE_IPA, &page)))?;
    // The RMM's own calls since the fill go through `fp_check::smc` and do not touch
    // EL1 state: the registers must still be the fill.
    host1.check(c)?;
    // First entry, with the FP/SIMD values the leak page names.
    let exit = enter_with_fp(h, &p, c, &RmiRecEnter::new_zeroed(), 0)?;
    c.eq(
        "first exit: host call",
        exit.exit_reason.into(),
        EXIT_HOST_CALL.into(),
    )?;
    c.eq("first host call: ready", exit.imm.into(), IMM_READY.into())?;
    host1.check(c)?;
    // The realm compares, then fills its registers and exits from them.
    let mut e = RmiRecEnter::new_zeroed();
    e.gprs[0] = cmd::LEAK_SCRIBBLE;
    let exit = enter_with_fp(h, &p, c, &e, 1)?;
    let r = result_exit(c, &exit)?;
    c.eq("host values the realm saw at its first entry", r[0], 0)?;
    host1.check(c)?;
    // New host values; the realm checks its own survived.
    let host2 = HostState::fill(2);
    e.gprs[0] = cmd::LEAK_VERIFY;
    let exit = enter_with_fp(h, &p, c, &e, 2)?;
    let r = result_exit(c, &exit)?;
    if r[0] != 0 {
        let _ = writeln!(
            Uart,
            "Note: realm register {} (EL1 list index, or 100 + FP/SIMD word) is {:#x}, want {:#x}",
            r[1], r[2], r[3]
        );
    }
    c.eq("realm registers not back after the round trip", r[0], 0)?;
    host2.check(c)?;
    p.finish(h, &pool, c)
}
