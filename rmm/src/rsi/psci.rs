//! PSCI calls from realms (DEN0137 1.0, B6; A4.3.7 REC exit due to PSCI).
//!
//! PSCI_VERSION and PSCI_FEATURES are answered in the RMM. Every other implemented
//! function exits to the host with its FID and arguments (A4.3.3):
//!
//! - PSCI_CPU_SUSPEND, PSCI_CPU_OFF, PSCI_SYSTEM_OFF and PSCI_SYSTEM_RESET are
//!   notifications: the RMM completes them at the exit (the REC's x0 holds the result
//!   on the next entry, A4.2.2).
//! - PSCI_CPU_ON and PSCI_AFFINITY_INFO name another REC by MPIDR: after the RMM's own
//!   checks the call becomes a pending request (`rec.psci_pending`) that the host
//!   completes with RMI_PSCI_COMPLETE, naming the target REC; until then the REC cannot
//!   be entered (RMI_REC_ENTER `rec_psci`).
//!
//! Both the SMC32 and the SMC64 identifiers are accepted where PSCI defines both. For
//! an SMC32 function the arguments are the W registers (SMCCC: the upper halves are
//! ignored); `power_state` and `lowest_affinity_level` are 32-bit for either (B6.3.1,
//! B6.3.4). The values the RMM checks and forwards are these sanitised ones.

use crate::Storage;

use platform::Arch;
use rmi_abi::enums::RmiRealmState;
use rmi_abi::mpidr::RmiRecMpidr;
use smccc::psci;

use crate::rec::LastExit;
use crate::run::{RunCtx, Step};
use crate::Rmm;

/// The PSCI version realms see: 1.1 (B6.2 requires at least 1.1).
pub const PSCI_VERSION_1_1: u64 = 0x1_0001;

/// `PSCI_SUCCESS` (B6.4.2), also PSCI_AFFINITY_INFO's "ON".
pub const PSCI_SUCCESS: u64 = 0;
/// `PSCI_OFF` (B6.4.2): PSCI_AFFINITY_INFO's "OFF".
pub const PSCI_OFF: u64 = 1;

/// The x0 encoding of a (negative) PSCI error code (`PsciReturnCodeEncode`, B3.26).
pub const fn psci_error(code: i32) -> u64 {
    code as i64 as u64
}

/// The functions PSCI_FEATURES reports as implemented (B6.3.5 `func_ok`): the PSCI
/// functions of A4.3.7 in both calling conventions, and SMCCC_VERSION (which SMCCC
/// discovers through PSCI_FEATURES).
pub const IMPLEMENTED: [u32; 12] = [
    psci::PSCI_VERSION,
    psci::PSCI_FEATURES,
    psci::PSCI_CPU_SUSPEND_32,
    psci::PSCI_CPU_SUSPEND_64,
    psci::PSCI_CPU_OFF,
    psci::PSCI_CPU_ON_32,
    psci::PSCI_CPU_ON_64,
    psci::PSCI_AFFINITY_INFO_32,
    psci::PSCI_AFFINITY_INFO_64,
    psci::PSCI_SYSTEM_OFF,
    psci::PSCI_SYSTEM_RESET,
    smccc::arch::SMCCC_VERSION,
];

/// Whether `fid` is an SMC32 function identifier (SMCCC: bit 30 clear).
pub const fn is_smc32(fid: u64) -> bool {
    fid & (1 << 30) == 0
}

/// The REC index a PSCI `target_cpu` / `target_affinity` names, if it is the MPIDR of
/// a REC of a realm with `rec_count` RECs (B3.24 `MpidrIsUsed`).
///
/// The value is in the `MPIDR_EL1` layout (the affinity fields the realm reads from
/// its MPIDR_EL1, Aff3 at \[39:32\]); any bit outside the affinity fields an
/// `RmiRecMpidr` can express, including Aff0\[7:4\], means no REC has it. RECs are
/// created with consecutive indices from 0, so the index names a REC iff it is below
/// the count.
pub fn rec_index_of(mpidr: u64, rec_count: u64) -> Option<u64> {
    RmiRecMpidr::from_mpidr_el1(mpidr)
        .ok()
        .map(RmiRecMpidr::index)
        .filter(|&i| i < rec_count)
}

impl RunCtx<'_> {
    /// Argument `n` (1..=3) of the PSCI call `fid`: the W register for an SMC32
    /// function, the X register for an SMC64 one.
    fn psci_arg(&self, fid: u64, n: usize) -> u64 {
        let v = self.arg(n);
        if is_smc32(fid) {
            v & 0xFFFF_FFFF
        } else {
            v
        }
    }

    /// Returns `x0` to the realm for a PSCI call answered in the RMM; x1..x3 are zero
    /// as RMI_PSCI_COMPLETE leaves them (B4.3.7 `args`).
    fn psci_ret(&mut self, x0: u64) -> Step {
        self.regs.gprs[1..4].fill(0);
        self.ret(x0)
    }

    /// A REC exit due to PSCI for a call the host does not complete: the REC's x0 is
    /// `x0` on the next entry (A4.2.2), x1..x3 zero.
    fn psci_exit_done(&mut self, fid: u64, args: [u64; 3], x0: u64) -> Step {
        self.regs.gprs[0] = x0;
        self.regs.gprs[1..4].fill(0);
        self.rec.psci_pending = 0;
        self.rec.last_exit = LastExit::Psci.raw();
        self.exit_psci(fid, args);
        Step::Exit
    }

    /// A REC exit due to PSCI for a call naming another REC by MPIDR (A4.3.7): the
    /// request stays pending until RMI_PSCI_COMPLETE, which reads the FID and the
    /// sanitised arguments from the REC's x0..x3 and writes the result there.
    fn psci_exit_pending(&mut self, fid: u64, args: [u64; 3]) -> Step {
        self.regs.gprs[0] = fid;
        self.regs.gprs[1..4].copy_from_slice(&args);
        self.rec.psci_pending = 1;
        self.rec.psci_target = args[0];
        self.rec.last_exit = LastExit::Psci.raw();
        self.exit_psci(fid, args);
        Step::Exit
    }
}

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// Handles `fid` if it is a PSCI function this RMM implements; `None` for any other
    /// SMC (an unimplemented PSCI function then gets NOT_SUPPORTED, which is also
    /// `PSCI_NOT_SUPPORTED`, as A4.3.7 requires).
    pub(super) fn handle_psci(&self, ctx: &mut RunCtx<'_>, fid: u64) -> Option<Step> {
        let f = u32::try_from(fid).ok()?;
        Some(match f {
            psci::PSCI_VERSION => ctx.psci_ret(PSCI_VERSION_1_1),
            psci::PSCI_FEATURES => Self::psci_features(ctx),
            psci::PSCI_CPU_SUSPEND_32 | psci::PSCI_CPU_SUSPEND_64 => {
                Self::psci_cpu_suspend(ctx, fid)
            }
            psci::PSCI_CPU_OFF => Self::psci_cpu_off(ctx, fid),
            psci::PSCI_CPU_ON_32 | psci::PSCI_CPU_ON_64 => self.psci_cpu_on(ctx, fid),
            psci::PSCI_AFFINITY_INFO_32 | psci::PSCI_AFFINITY_INFO_64 => {
                self.psci_affinity_info(ctx, fid)
            }
            psci::PSCI_SYSTEM_OFF | psci::PSCI_SYSTEM_RESET => self.psci_system_off(ctx, fid),
            _ => return None,
        })
    }

    /// DEN0137 1.0, B6.3.5 PSCI_FEATURES (x1\[31:0\] = function ID): PSCI_SUCCESS for
    /// an implemented function ([`IMPLEMENTED`]), else PSCI_NOT_SUPPORTED.
    fn psci_features(ctx: &mut RunCtx<'_>) -> Step {
        let f = (ctx.arg(1) & 0xFFFF_FFFF) as u32;
        let r = if IMPLEMENTED.contains(&f) {
            PSCI_SUCCESS
        } else {
            psci_error(psci::error::NOT_SUPPORTED)
        };
        ctx.psci_ret(r)
    }

    /// DEN0137 1.0, B6.3.4 PSCI_CPU_SUSPEND (x1\[31:0\] power_state, x2 entry point, x3
    /// context): no failure conditions. Every power state is treated as a suspend, so
    /// the entry point and context are ignored: the exit carries `power_state` only
    /// (`gprs[2..=3]` zero) and the call returns PSCI_SUCCESS on the next entry.
    fn psci_cpu_suspend(ctx: &mut RunCtx<'_>, fid: u64) -> Step {
        let power_state = ctx.arg(1) & 0xFFFF_FFFF;
        ctx.psci_exit_done(fid, [power_state, 0, 0], PSCI_SUCCESS)
    }

    /// DEN0137 1.0, B6.3.2 PSCI_CPU_OFF: no failure conditions; the REC becomes not
    /// runnable (RMI_REC_ENTER then fails `rec_runnable` until a PSCI_CPU_ON names it)
    /// and exits to the host.
    fn psci_cpu_off(ctx: &mut RunCtx<'_>, fid: u64) -> Step {
        ctx.rec.runnable = 0;
        ctx.psci_exit_done(fid, [0; 3], PSCI_SUCCESS)
    }

    /// DEN0137 1.0, B6.3.3 PSCI_CPU_ON (x1 target_cpu, x2 entry_point_address, x3
    /// context_id). Failure conditions, in the specification's order: `entry` (not a
    /// Protected IPA: PSCI_INVALID_ADDRESS), `mpidr` (no such REC:
    /// PSCI_INVALID_PARAMETERS), `runnable` (PSCI_ALREADY_ON; the RMM can tell here only
    /// for the caller itself, which is running; for another REC RMI_PSCI_COMPLETE
    /// decides). Otherwise the request is pending and the REC exits with the three
    /// arguments.
    fn psci_cpu_on(&self, ctx: &mut RunCtx<'_>, fid: u64) -> Step {
        let target = ctx.psci_arg(fid, 1);
        let entry = ctx.psci_arg(fid, 2);
        let context = ctx.psci_arg(fid, 3);
        // entry
        if !ctx.realm.geometry.is_protected(entry) {
            return ctx.psci_ret(psci_error(psci::error::INVALID_ADDRESS));
        }
        // mpidr
        let rec_count = self.with_rd(ctx, |d| d.rec_index);
        let Some(index) = rec_index_of(target, rec_count) else {
            return ctx.psci_ret(psci_error(psci::error::INVALID_PARAMETERS));
        };
        // runnable
        if index == ctx.rec.index {
            return ctx.psci_ret(psci_error(psci::error::ALREADY_ON));
        }
        ctx.psci_exit_pending(fid, [target, entry, context])
    }

    /// DEN0137 1.0, B6.3.1 PSCI_AFFINITY_INFO (x1 target_affinity, x2\[31:0\]
    /// lowest_affinity_level). Failure conditions, in the specification's order:
    /// `target_bound` (level not 0), `target_match` (no such REC), both
    /// PSCI_INVALID_PARAMETERS. The caller itself is running: ON (PSCI_SUCCESS).
    /// Otherwise the request is pending and RMI_PSCI_COMPLETE answers ON or OFF.
    fn psci_affinity_info(&self, ctx: &mut RunCtx<'_>, fid: u64) -> Step {
        let target = ctx.psci_arg(fid, 1);
        let level = ctx.arg(2) & 0xFFFF_FFFF;
        // target_bound
        if level != 0 {
            return ctx.psci_ret(psci_error(psci::error::INVALID_PARAMETERS));
        }
        // target_match
        let rec_count = self.with_rd(ctx, |d| d.rec_index);
        let Some(index) = rec_index_of(target, rec_count) else {
            return ctx.psci_ret(psci_error(psci::error::INVALID_PARAMETERS));
        };
        // runnable: the caller is running.
        if index == ctx.rec.index {
            return ctx.psci_ret(PSCI_SUCCESS);
        }
        ctx.psci_exit_pending(fid, [target, level, 0])
    }

    /// DEN0137 1.0, B6.3.6 PSCI_SYSTEM_OFF and B6.3.7 PSCI_SYSTEM_RESET: no failure
    /// conditions; the realm state becomes SYSTEM_OFF (written under the RD lock; no REC
    /// of the realm can be entered again: RMI_REC_ENTER `system_off`) and the REC exits
    /// to the host, which implements a reset by building a new realm. RECs running on
    /// other CPUs stop at their next exit.
    fn psci_system_off(&self, ctx: &mut RunCtx<'_>, fid: u64) -> Step {
        self.with_rd(ctx, |d| d.state = RmiRealmState::SystemOff.raw());
        ctx.psci_exit_done(fid, [0; 3], PSCI_SUCCESS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mpidr_to_rec_index() {
        assert_eq!(rec_index_of(1, 2), Some(1));
        assert_eq!(rec_index_of(2, 2), None, "index beyond the RECs created");
        assert_eq!(rec_index_of(0x0102, 0x1000), Some(0x12), "Aff1 << 4 | Aff0");
        assert_eq!(
            rec_index_of(1 << 32, 1 << 28),
            Some(1 << 20),
            "Aff3 at [39:32] in MPIDR_EL1"
        );
        assert_eq!(
            rec_index_of(1 << 24, 1 << 28),
            None,
            "MT / RmiRecMpidr's Aff3"
        );
        assert_eq!(rec_index_of(0x10, 1 << 28), None, "Aff0[7:4]");
        assert_eq!(rec_index_of(1 << 31, 1 << 28), None, "RES1 bit 31");
    }

    #[test]
    fn smc32_identifiers() {
        assert!(is_smc32(psci::PSCI_CPU_ON_32 as u64));
        assert!(!is_smc32(psci::PSCI_CPU_ON_64 as u64));
        assert_eq!(psci_error(psci::error::INVALID_ADDRESS), (-9i64) as u64);
    }
}
