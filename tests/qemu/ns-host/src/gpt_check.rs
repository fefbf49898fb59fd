//! The fixture's own check that the GPT protects delegated memory: after
//! `RMI_GRANULE_DELEGATE` a Normal-world read or write of the granule takes a granule
//! protection fault at NS-EL2 (a data abort with DFSC 0b101000), and after
//! `RMI_GRANULE_UNDELEGATE` the host can use the granule again.

use core::fmt::Write;

use rmi_abi::RmiFid;
use rmm_conformance::{Checks, Host, Outcome, TestDef};

use crate::asm;
use crate::uart::Uart;

/// The granule the check uses: Non-secure DRAM below the conformance tests' pool.
const GRANULE: u64 = 0x6FF0_0000;
/// ESR_ELx.EC of a data abort taken without a change of Exception level.
const EC_DATA_ABORT_SAME_EL: u64 = 0x25;
/// DFSC of a granule protection fault not on a translation table walk.
const DFSC_GPF: u64 = 0b10_1000;

/// The check, run first.
pub const TEST: TestDef = TestDef {
    name: "qemu_gpt_ns_access_faults",
    run,
};

fn run(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pattern = [0x5A_u8; 16];
    let mut buf = [0u8; 16];
    c.holds("host writes its granule", h.write_ns(GRANULE, &pattern))?;
    c.holds("host reads its granule", h.read_ns(GRANULE, &mut buf))?;
    c.status(
        "delegate",
        h.rmi(RmiFid::GranuleDelegate, &[GRANULE])[0],
        Ok(()),
    )?;
    asm::clear_fault();
    c.holds(
        "NS read of a delegated granule faults",
        !h.read_ns(GRANULE, &mut buf),
    )?;
    let (esr, far) = asm::last_fault();
    let _ = writeln!(
        Uart,
        "GPT check: NS read of delegated granule {GRANULE:#x} faulted at NS-EL2: \
         ESR_EL2 = {esr:#x} (EC {:#x}, DFSC {:#x}), FAR_EL2 = {far:#x}",
        (esr >> 26) & 0x3F,
        esr & 0x3F
    );
    c.eq(
        "read fault is a data abort at NS-EL2 (EC)",
        (esr >> 26) & 0x3F,
        EC_DATA_ABORT_SAME_EL,
    )?;
    c.eq(
        "read fault is a granule protection fault (DFSC)",
        esr & 0x3F,
        DFSC_GPF,
    )?;
    c.eq("read fault address (FAR_EL2)", far, GRANULE)?;
    asm::clear_fault();
    c.holds(
        "NS write to a delegated granule faults",
        !h.write_ns(GRANULE + 8, &pattern),
    )?;
    let (esr, far) = asm::last_fault();
    c.eq(
        "write fault is a granule protection fault (DFSC)",
        esr & 0x3F,
        DFSC_GPF,
    )?;
    c.eq("write fault has WnR set", (esr >> 6) & 1, 1)?;
    c.eq("write fault address (FAR_EL2)", far, GRANULE + 8)?;
    c.status(
        "undelegate",
        h.rmi(RmiFid::GranuleUndelegate, &[GRANULE])[0],
        Ok(()),
    )?;
    c.holds(
        "NS read works again after undelegation",
        h.read_ns(GRANULE, &mut buf),
    )?;
    c.holds(
        "NS write works again after undelegation",
        h.write_ns(GRANULE, &pattern),
    )?;
    let _ = writeln!(
        Uart,
        "GPT check: after undelegation the host reads and writes {GRANULE:#x} again"
    );
    Ok(())
}
