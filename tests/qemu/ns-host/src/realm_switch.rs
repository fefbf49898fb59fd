//! World-switch tests with the realm payload at R-EL1 (and its EL0): what the RMM
//! saves, restores, traps and steps over when it enters and leaves a realm, checked
//! against the Arm ARM and DEN0137 1.0 through REC exits and the realm's own view
//! (`rmm_conformance::payload::switch`).

use rmi_abi::RmiRecEnter;
use rmm_conformance::builder::Pool;
use rmm_conformance::payload::switch;
use rmm_conformance::{Checks, Host, Outcome, TestDef};
use zerocopy::FromZeros;

use core::fmt::Write;

use crate::uart::Uart;

use crate::asm;
use crate::realm_run::{Payload, EC_WFX, EXIT_SYNC, TRAP_WFI};

/// The world-switch tests, run after the realm tests.
pub const TESTS: &[TestDef] = &[
    TestDef {
        name: "realm_run_t32_wfi_resumes_after_2_bytes",
        run: t32_wfi,
    },
    TestDef {
        name: "realm_run_disr_el1_is_per_rec",
        run: disr,
    },
    TestDef {
        name: "realm_run_host_pmu_does_not_count_the_realm",
        run: pmu,
    },
];

/// ESR_EL1 of an Undefined Instruction exception: EC 0x00, IL 1 (Arm ARM, ESR_EL1).
const ESR_UNDEF: u64 = 1 << 25;

/// Arm ARM, ESR_EL2.IL (0 for a 16-bit T32 instruction) and the preferred return
/// address of a trapped WFI: the realm's EL0 runs T32 code `wfi` (16 bits), `udf #1`,
/// `udf #2`... with TRAP_WFI; the REC exits (SYNC, EC WFx, TI WFI only: DEN0137 1.0,
/// A4.3.4.1) and, entered again, the realm resumes 2 bytes after the WFI: its first
/// exception is `udf #1`'s (EC 0x00 at offset 2, taken to the AArch32 EL0 vector),
/// not a later UDF's.
fn t32_wfi(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    if asm::switch::id_aa64pfr0() & 0xF != 0b0010 {
        return Err(Outcome::Skipped("EL0 cannot run AArch32 on this CPU"));
    }
    let pool = Pool::new(h);
    let p = Payload::start(h, &pool, c, None)?;
    p.first_entry(h, c)?;
    let exit = p.command(h, c, switch::T32_WFI, &[], TRAP_WFI)?;
    c.eq(
        "exit reason: sync",
        exit.exit_reason.into(),
        EXIT_SYNC.into(),
    )?;
    c.eq("esr: EC WFx, TI WFI (no IL)", exit.esr, EC_WFX)?;
    let r = p.results_after(h, c, &RmiRecEnter::new_zeroed())?;
    c.eq("ESR_EL1: UDF (EC 0x00, IL 1)", r[0], ESR_UNDEF)?;
    c.eq("ELR_EL1: udf #1, 2 bytes after the WFI", r[1], 2)?;
    c.eq(
        "SPSR_EL1: the T32 User mode state",
        r[2],
        switch::T32_USR_SPSR,
    )?;
    c.eq("vector: lower EL using AArch32, synchronous", r[3], 12)?;
    p.finish(h, &pool, c)
}

/// What the first realm writes to its DISR_EL1 (A [31], AET [12:10] 0b010, EA [9],
/// DFSC 0x11).
const DISR_WRITTEN: u64 = 1 << 31 | 0b010 << 10 | 1 << 9 | 0x11;
/// The host's own VDISR_EL2 during the test.
const HOST_VDISR: u64 = 1 << 31 | 0x400 | 0x5;

/// Arm ARM, DISR_EL1: with HCR_EL2.AMO set (as a realm runs) EL1's DISR_EL1 is
/// VDISR_EL2, which EL3 does not switch between the realms. A new REC reads 0 (not the
/// host's VDISR_EL2), reads back what it wrote, and the host's VDISR_EL2 is as it left
/// it after the REC_ENTER; a realm created after the first is gone reads 0, not the
/// first realm's value.
fn disr(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    if asm::switch::id_aa64pfr0() >> 28 & 0xF == 0 {
        return Err(Outcome::Skipped("the CPU has no FEAT_RAS"));
    }
    let saved = asm::switch::vdisr_el2();
    asm::switch::set_vdisr_el2(HOST_VDISR);
    let result = disr_rounds(h, c);
    let after = asm::switch::vdisr_el2();
    asm::switch::set_vdisr_el2(saved);
    result?;
    c.eq(
        "the host's VDISR_EL2 after the realms ran",
        after,
        HOST_VDISR,
    )?;
    Ok(())
}

fn disr_rounds(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pool = Pool::new(h);
    let p = Payload::start(h, &pool, c, None)?;
    p.first_entry(h, c)?;
    let r = p.results(h, c, switch::DISR, &[DISR_WRITTEN])?;
    c.eq("a new REC's DISR_EL1", r[0], 0)?;
    c.eq("DISR_EL1 read back", r[1], DISR_WRITTEN)?;
    c.eq(
        "the host's VDISR_EL2 after REC_ENTER",
        asm::switch::vdisr_el2(),
        HOST_VDISR,
    )?;
    let r = p.results(h, c, switch::DISR, &[DISR_WRITTEN])?;
    c.eq("the REC's DISR_EL1 across an exit", r[0], DISR_WRITTEN)?;
    p.finish(h, &pool, c)?;
    let pool = Pool::new(h);
    let p = Payload::start(h, &pool, c, None)?;
    p.first_entry(h, c)?;
    let r = p.results(h, c, switch::DISR, &[0])?;
    c.eq("a later realm's DISR_EL1", r[0], 0)?;
    p.finish(h, &pool, c)
}

/// PMCCFILTR_EL0 counting EL1 only (Arm ARM, PMCCFILTR_EL0): P 0 (EL1), U 1 and NSU 1
/// (no EL0), NSK 0 = P (Non-secure EL1), RLK 0 = P (Realm EL1), RLU 1 = U, NSH 0 (no
/// EL2), M 1 != P (no EL3).
const FILTER_EL1_ONLY: u64 = 1 << 30 | 1 << 28 | 1 << 26 | 1 << 21;
/// PMCR_EL0.E.
const PMCR_E: u64 = 1;
/// PMCNTENSET_EL0.C: the cycle counter.
const CNTEN_CYCLES: u64 = 1 << 31;

/// Loop iterations of the realm in the PMU test.
const SPIN_ITERATIONS: u64 = 20_000_000;
/// How much more the host's counter may show over the spinning REC_ENTER than over an
/// idle one: 20 million iterations of a two-instruction loop with a taken branch take
/// at least 10 million cycles on any PE (at most two taken branches a cycle), so
/// counting them adds ten times this margin. The margin covers the run-to-run
/// variation of what QEMU's time-based cycle counter attributes to EL1 on the RMI path
/// itself (some 50 000 to 110 000 cycles per SMC round trip, with or without a realm).
const SPIN_MARGIN: u64 = 1_000_000;

/// The Normal world's PMU across RMI_REC_ENTER (Arm ARM, D13): the host's cycle
/// counter, enabled and filtered to EL1 (no EL0, EL2 or EL3; no Normal-world EL1 runs
/// during the call), counts no more over a REC_ENTER in which the realm spins at R-EL1
/// for 20 million iterations than over one in which it does not spin: the realm's
/// execution is not counted by a counter the host can read (the fix made the first
/// count drop from about 100 million to the second's). PMCR_EL0, the counter enables
/// and the filter are as the host left them.
fn pmu(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let ver = asm::switch::id_aa64dfr0() >> 8 & 0xF;
    if ver == 0 || ver == 0xF {
        return Err(Outcome::Skipped("the CPU has no PMUv3"));
    }
    let pool = Pool::new(h);
    let p = Payload::start(h, &pool, c, None)?;
    p.first_entry(h, c)?;
    let saved = asm::switch::pmu();
    let set = asm::switch::Pmu {
        pmcr: saved.pmcr | PMCR_E,
        cnten: CNTEN_CYCLES,
        ccfiltr: FILTER_EL1_ONLY,
        ccntr: 0,
    };
    asm::switch::set_pmu(&set);
    // As the host's writes left them (fields a CPU does not implement read as 0).
    let programmed = asm::switch::pmu();
    let counted = |c: &mut Checks, n: u64| -> Result<(u64, asm::switch::Pmu), Outcome> {
        let before = asm::switch::pmu();
        p.results(h, c, switch::SPIN, &[n])?;
        let after = asm::switch::pmu();
        Ok((after.ccntr.wrapping_sub(before.ccntr), after))
    };
    let idle = counted(c, 0);
    let spin = counted(c, SPIN_ITERATIONS);
    asm::switch::set_pmu(&saved);
    let ((idle, _), (spin, after)) = (idle?, spin?);
    let _ = writeln!(
        Uart,
        "Note: host EL1 cycles over REC_ENTER: {idle} (realm idle), {spin} (realm spinning {SPIN_ITERATIONS} iterations)"
    );
    c.holds(
        "the host's EL1 cycles over the spinning REC_ENTER at most the idle one's plus the margin",
        spin <= idle + SPIN_MARGIN,
    )?;
    c.eq("the host's PMCR_EL0", after.pmcr, programmed.pmcr)?;
    c.eq("the host's counter enables", after.cnten, CNTEN_CYCLES)?;
    c.eq(
        "the host's PMCCFILTR_EL0",
        after.ccfiltr,
        programmed.ccfiltr,
    )?;
    p.finish(h, &pool, c)
}
