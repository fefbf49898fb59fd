//! The RMI dispatcher: function identifiers that are not RMI 1.0 commands.

use crate::{Checks, Host, Outcome, TestDef};

/// The tests of this module.
pub const TESTS: &[TestDef] = &[TestDef {
    name: "rmi_unknown_fid",
    run: unknown_fid,
}];

/// SMCCC NOT_SUPPORTED.
const NOT_SUPPORTED: u64 = u64::MAX;

/// RMI ABI version 1.0.
const V1_0: u64 = 0x1_0000;

/// Unused identifiers inside the RMI range, and RMI 1.1 commands, return NOT_SUPPORTED.
/// The function identifier is W0 (SMCCC, DEN0028 2.5): bits [63:32] of X0 set do not
/// make another identifier, and TF-A forwards only W0 to the RMM.
fn unknown_fid(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    for fid in [
        0xC400_0156u64,
        0xC400_0160,
        0xC400_0163,
        0xC400_016A,
        0xC400_0170,
        0xC400_018E,
    ] {
        let r = h.smc(0, fid, [0; 6]);
        c.eq("x0", r[0], NOT_SUPPORTED)?;
    }
    let r = h.smc(0, 0xFFFF_FFFF_0000_0000 | 0xC400_0156, [0; 6]);
    c.eq(
        "x0 of an unused identifier with bits [63:32] set",
        r[0],
        NOT_SUPPORTED,
    )?;
    let r = h.smc(0, 1 << 32 | 0xC400_0150, [V1_0, 0, 0, 0, 0, 0]);
    c.eq("RMI_VERSION with bit 32 of X0 set: status", r[0], 0)?;
    c.eq("... lower revision", r[1], V1_0)?;
    c.eq("... higher revision", r[2], V1_0)?;
    Ok(())
}
