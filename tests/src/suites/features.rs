//! RMI_FEATURES.

use rmi_abi::features::FeatureReg0;
use rmi_abi::RmiFid;

use crate::{Checks, Host, Outcome, TestDef};

/// The tests of this module.
pub const TESTS: &[TestDef] = &[TestDef {
    name: "rmi_features",
    run: features,
}];

/// DEN0137 1.0, RMI_FEATURES: register 0 is a valid RmiFeatureRegister0 (no reserved
/// bits, both hash algorithms, a usable IPA width, NUM_BPS/NUM_WPS not the reserved 0
/// ... as far as a platform-independent test can say); every other index reads zero.
fn features(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let r = h.rmi(RmiFid::Features, &[0]);
    c.status("index 0", r[0], Ok(()))?;
    c.eq("reserved bits [63:42]", r[1] >> 42, 0)?;
    let Ok(f) = FeatureReg0::decode(r[1]) else {
        return Err(c.eq("decodes", 0, 1).unwrap_err().into());
    };
    c.holds("S2SZ in 32..=52", (32..=52).contains(&f.s2sz))?;
    c.holds("SHA-256", f.hash_sha_256)?;
    c.holds("SHA-512", f.hash_sha_512)?;
    c.holds("MAX_RECS_ORDER non-zero", f.max_recs_order > 0)?;
    for index in [1u64, 2, 0xFF, u64::MAX] {
        let r = h.rmi(RmiFid::Features, &[index]);
        c.status("other index", r[0], Ok(()))?;
        c.eq("other index reads zero", r[1], 0)?;
    }
    Ok(())
}
