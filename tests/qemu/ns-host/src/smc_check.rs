//! The fixture's own check of the SMC path through the EL3 monitor: RMI calls reach the
//! RMM and come back with x0..x4 as results and every other register as the host left
//! it (RMM-EL3 interface 0.4: EL3 writes only x0..x4; the RMM returns the caller's x4
//! when x4 is not an output), and non-RMI calls are answered by the monitor itself.

use rmi_abi::RmiFid;
use rmm_conformance::{Checks, Host, Outcome, TestDef};

use crate::asm;

/// The check.
pub const TEST: TestDef = TestDef {
    name: "qemu_smc_register_preservation",
    run,
};

const SMCCC_VERSION: u64 = 0x8000_0000;
const SMCCC_NOT_SUPPORTED: u64 = -1i64 as u64;
/// RMI ABI version 1.0, as RMI_VERSION's requested version.
const RMI_ABI_1_0: u64 = 0x1_0000;

fn run(_h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let (x0, changed) = asm::smc_clobbered(RmiFid::Version.id() as u64, RMI_ABI_1_0);
    c.eq("RMI_VERSION 1.0 status", x0, 0)?;
    c.eq(
        "RMI_VERSION: registers changed among x4..x17, x20..x28 (bit mask)",
        changed as u64,
        0,
    )?;
    let (x0, changed) = asm::smc_clobbered(RmiFid::Version.id() as u64 | 1 << 16, RMI_ABI_1_0);
    c.eq("RMI_VERSION with the SVE hint bit: status", x0, 0)?;
    c.eq("... registers changed (bit mask)", changed as u64, 0)?;
    let (x0, changed) = asm::smc_clobbered(SMCCC_VERSION, 0);
    // SMCCC_VERSION is an SMC32 call: the result is W0, bit 31 zero, major [30:16],
    // minor [15:0]. The register rules checked here are SMCCC 1.2's, which every later
    // 1.x keeps: any version from 1.2 on (TF-A v2.12 answers 1.5).
    let w0 = u64::from(x0 as u32);
    c.eq("SMCCC_VERSION (answered by EL3): W0 bit 31", w0 >> 31, 0)?;
    c.eq("... major version", w0 >> 16, 1)?;
    c.holds("... minor version at least 2 (SMCCC 1.2)", w0 & 0xFFFF >= 2)?;
    c.eq("... registers changed (bit mask)", changed as u64, 0)?;
    let (x0, changed) = asm::smc_clobbered(0xC400_0190, 0);
    c.eq(
        "first identifier past the RMI range: NOT_SUPPORTED",
        x0,
        SMCCC_NOT_SUPPORTED,
    )?;
    c.eq("... registers changed (bit mask)", changed as u64, 0)?;
    Ok(())
}
