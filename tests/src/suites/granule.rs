//! RMI_GRANULE_DELEGATE and RMI_GRANULE_UNDELEGATE.

use rmi_abi::{RmiError, RmiFid};

use crate::{Checks, Host, Outcome, TestDef};

/// The tests of this module.
pub const TESTS: &[TestDef] = &[
    TestDef {
        name: "granule_delegate_lifecycle",
        run: lifecycle,
    },
    TestDef {
        name: "granule_delegate_failure_conditions",
        run: delegate_failures,
    },
    TestDef {
        name: "granule_undelegate_failure_conditions",
        run: undelegate_failures,
    },
    TestDef {
        name: "granule_delegate_all_cpus",
        run: all_cpus,
    },
];

const PATTERN: [u8; 64] = [0xA5; 64];

/// Delegation takes the granule out of the host's reach and undelegation returns it
/// zero-filled.
fn lifecycle(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let pa = h.ns_granule(0);
    c.holds("host writes its granule", h.write_ns(pa + 0x100, &PATTERN))?;
    c.status("delegate", h.rmi(RmiFid::GranuleDelegate, &[pa])[0], Ok(()))?;
    let mut buf = [0u8; 64];
    c.holds(
        "host access to a delegated granule faults",
        !h.read_ns(pa + 0x100, &mut buf),
    )?;
    c.holds(
        "host write to a delegated granule faults",
        !h.write_ns(pa, &PATTERN),
    )?;
    c.status(
        "undelegate",
        h.rmi(RmiFid::GranuleUndelegate, &[pa])[0],
        Ok(()),
    )?;
    c.holds(
        "host reads its granule again",
        h.read_ns(pa + 0x100, &mut buf),
    )?;
    c.holds("contents were scrubbed", buf == [0; 64])?;
    // A granule can go round again.
    c.status(
        "delegate again",
        h.rmi(RmiFid::GranuleDelegate, &[pa])[0],
        Ok(()),
    )?;
    c.status(
        "undelegate again",
        h.rmi(RmiFid::GranuleUndelegate, &[pa])[0],
        Ok(()),
    )?;
    Ok(())
}

/// DEN0137 1.0, RMI_GRANULE_DELEGATE failure conditions: gran_align, gran_bound,
/// gran_state, gran_gpt.
fn delegate_failures(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let d = |pa| h.rmi(RmiFid::GranuleDelegate, &[pa])[0];
    let pa = h.ns_granule(1);
    c.status("gran_align", d(pa + 8), Err(RmiError::Input))?;
    c.status("gran_align (0x800)", d(pa + 0x800), Err(RmiError::Input))?;
    c.status("gran_bound", d(h.non_memory_addr()), Err(RmiError::Input))?;
    c.status(
        "gran_bound (top of PA space)",
        d(0xFFFF_FFFF_FFFF_F000),
        Err(RmiError::Input),
    )?;
    // Precedence: unaligned and out of bounds.
    c.status(
        "gran_align before gran_bound",
        d(h.non_memory_addr() + 8),
        Err(RmiError::Input),
    )?;
    c.status("delegate", d(pa), Ok(()))?;
    c.status(
        "gran_state (already delegated)",
        d(pa),
        Err(RmiError::Input),
    )?;
    // The RMM's own memory is in the Realm PAS: EL3 refuses to delegate it.
    c.status(
        "gran_gpt (RMM carve-out)",
        d(h.rmm_carveout_addr()),
        Err(RmiError::Input),
    )?;
    let mut buf = [0u8; 8];
    c.holds(
        "failed calls left the granule delegated",
        !h.read_ns(pa, &mut buf),
    )?;
    c.status(
        "clean up",
        h.rmi(RmiFid::GranuleUndelegate, &[pa])[0],
        Ok(()),
    )?;
    Ok(())
}

/// DEN0137 1.0, RMI_GRANULE_UNDELEGATE failure conditions: gran_align, gran_bound,
/// gran_state.
fn undelegate_failures(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let u = |pa| h.rmi(RmiFid::GranuleUndelegate, &[pa])[0];
    let pa = h.ns_granule(2);
    c.status("delegate", h.rmi(RmiFid::GranuleDelegate, &[pa])[0], Ok(()))?;
    c.status("gran_align", u(pa + 0x10), Err(RmiError::Input))?;
    c.status("gran_bound", u(h.non_memory_addr()), Err(RmiError::Input))?;
    c.status(
        "gran_state (NS granule)",
        u(h.ns_granule(3)),
        Err(RmiError::Input),
    )?;
    c.status(
        "gran_state (RMM carve-out)",
        u(h.rmm_carveout_addr()),
        Err(RmiError::Input),
    )?;
    c.status("undelegate", u(pa), Ok(()))?;
    c.status(
        "gran_state (already undelegated)",
        u(pa),
        Err(RmiError::Input),
    )?;
    Ok(())
}

/// Delegation works from every CPU, and a granule delegated on one CPU can be
/// undelegated on another.
fn all_cpus(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
    let n = h.num_cpus();
    if n < 2 {
        return Err(Outcome::Skipped("needs two CPUs"));
    }
    for cpu in 0..n {
        let pa = h.ns_granule(8 + cpu);
        let next = (cpu + 1) % n;
        let d = h.smc(
            cpu,
            RmiFid::GranuleDelegate.id() as u64,
            [pa, 0, 0, 0, 0, 0],
        );
        c.status("delegate", d[0], Ok(()))?;
        let u = h.smc(
            next,
            RmiFid::GranuleUndelegate.id() as u64,
            [pa, 0, 0, 0, 0, 0],
        );
        c.status("undelegate on the next CPU", u[0], Ok(()))?;
    }
    Ok(())
}
