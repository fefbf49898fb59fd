//! RMI_VERSION.

use rmi_abi::{RmiError, RmiFid};

use crate::{Checks, Host, Outcome, TestDef};

/// The tests of this module.
pub const TESTS: &[TestDef] = &[
    TestDef {
        name: "rmi_version_supported",
        run: supported,
    },
    TestDef {
        name: "rmi_version_unsupported",
        run: unsupported,
    },
];

const V1_0: u64 = 0x1_0000;

/// DEN0137 1.0, RMI_VERSION: requesting 1.0 succeeds and both bounds are 1.0.
fn supported(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let r = h.rmi(RmiFid::Version, &[V1_0]);
    c.status("status for 1.0", r[0], Ok(()))?;
    c.eq("lower", r[1], V1_0)?;
    c.eq("higher", r[2], V1_0)?;
    // The SVE hint bit of the function identifier is ignored.
    let r = h.smc(
        0,
        RmiFid::Version.id() as u64 | 1 << 16,
        [V1_0, 0, 0, 0, 0, 0],
    );
    c.status("status with SVE hint", r[0], Ok(()))?;
    c.eq("lower with SVE hint", r[1], V1_0)?;
    // x4 is not an output: SMCCC 1.2 preserves it.
    let r = h.smc(
        0,
        RmiFid::Version.id() as u64,
        [V1_0, 0, 0, 0xDEAD_BEEF, 0, 0],
    );
    c.eq("x4 preserved", r[4], 0xDEAD_BEEF)?;
    Ok(())
}

/// DEN0137 1.0, RMI_VERSION: any other request fails with ERROR_INPUT but still reports
/// the implemented range.
fn unsupported(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    for req in [
        0x0,
        0x9,
        0x1_0001,
        0x2_0000,
        0x7FFF_0000,
        1 << 31 | V1_0,
        1 << 32 | V1_0,
    ] {
        let r = h.rmi(RmiFid::Version, &[req]);
        c.status("status", r[0], Err(RmiError::Input))?;
        c.eq("lower", r[1], V1_0)?;
        c.eq("higher", r[2], V1_0)?;
    }
    Ok(())
}
