//! The RMI dispatcher: function identifiers that are not RMI 1.0 commands.

use crate::{Checks, Host, Outcome, TestDef};

/// The tests of this module.
pub const TESTS: &[TestDef] = &[TestDef {
    name: "rmi_unknown_fid",
    run: unknown_fid,
}];

/// SMCCC NOT_SUPPORTED.
const NOT_SUPPORTED: u64 = u64::MAX;

/// Unused identifiers inside the RMI range, and RMI 1.1 commands, return NOT_SUPPORTED.
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
    // Bits [63:32] set make it another identifier altogether.
    let r = h.smc(0, 1 << 32 | 0xC400_0150, [0x1_0000, 0, 0, 0, 0, 0]);
    c.eq("x0 for upper bits", r[0], NOT_SUPPORTED)?;
    Ok(())
}
