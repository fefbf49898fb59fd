//! World-switch tests with the realm payload at R-EL1 (and its EL0): what the RMM
//! saves, restores, traps and steps over when it enters and leaves a realm, checked
//! against the Arm ARM and DEN0137 1.0 through REC exits and the realm's own view
//! (`rmm_conformance::payload::switch`).

use rmi_abi::RmiRecEnter;
use rmm_conformance::builder::Pool;
use rmm_conformance::payload::switch;
use rmm_conformance::{Checks, Host, Outcome, TestDef};
use zerocopy::FromZeros;

use crate::asm;
use crate::realm_run::{Payload, EC_WFX, EXIT_SYNC, TRAP_WFI};

/// The world-switch tests, run after the realm tests.
pub const TESTS: &[TestDef] = &[TestDef {
    name: "realm_run_t32_wfi_resumes_after_2_bytes",
    run: t32_wfi,
}];

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
