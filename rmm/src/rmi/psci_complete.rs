//! RMI_PSCI_COMPLETE (DEN0137 1.0, B4.3.7; A4.3.7 REC exit due to PSCI).

use crate::Storage;

use platform::{Arch, PhysAddr, SysReg};
use rmi_abi::mpidr::RmiRecMpidr;
use rmi_abi::RmiError;
use smccc::psci;

use crate::granule::RecKind;
use crate::rec::{el1_index, rec_mut};
use crate::rsi::psci::{psci_error, PSCI_OFF, PSCI_SUCCESS};
use crate::Rmm;

/// SCTLR_EL1.EE: the endianness of EL1 data accesses and stage-1 walks.
const SCTLR_EE: u64 = 1 << 25;

/// DEN0137 1.0, B3.27 `PsciReturnCodePermitted`: PSCI_SUCCESS always; otherwise only
/// PSCI_DENIED, for a PSCI_CPU_ON whose target is not runnable.
fn psci_return_code_permitted(cpu_on: bool, target_runnable: bool, status: u64) -> bool {
    status == PSCI_SUCCESS
        || (cpu_on && !target_runnable && status == psci_error(psci::error::DENIED))
}

/// What RMI_PSCI_COMPLETE needs of the calling REC's pending request.
struct PsciRequest {
    /// The calling REC's realm (`rec.owner`).
    rd: u64,
    /// The MPIDR the request names.
    target: u64,
    /// The PSCI function (the caller's x0).
    fid: u64,
    /// PSCI_CPU_ON's entry point (x2).
    entry: u64,
    /// PSCI_CPU_ON's context ID (x3).
    context: u64,
    /// The caller's SCTLR_EL1 (its endianness passes to the target).
    sctlr_el1: u64,
}

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// DEN0137 1.0, B4.3.7 RMI_PSCI_COMPLETE (x1 calling REC, x2 target REC, x3 PSCI
    /// status): completes the calling REC's pending PSCI_CPU_ON or PSCI_AFFINITY_INFO
    /// with the REC the host says its MPIDR names.
    ///
    /// Failure conditions, all ERROR_INPUT, in the specification's order: alias,
    /// calling_align, calling_bound, calling_state, target_align, target_bound,
    /// target_state, pending, owner, target (the target's MPIDR is not the one the
    /// request names), status (`PsciReturnCodePermitted`).
    ///
    /// Success: the calling REC's x0 gets the result and x1..x3 zero (`args`), and its
    /// request is no longer pending. PSCI_CPU_ON with PSCI_SUCCESS makes a target that
    /// is not runnable runnable, at the request's entry point with x0 = its context
    /// (`on_success`; its other registers and EL1 state are reset as for a new REC,
    /// with the caller's endianness, as PSCI requires of CPU_ON), and returns
    /// PSCI_ALREADY_ON if it was runnable (`on_already`). PSCI_AFFINITY_INFO returns ON
    /// (PSCI_SUCCESS) or PSCI_OFF. Any other permitted status is returned as is.
    ///
    /// Both RECs are named by the host: they are locked in address order
    /// ([`crate::granule::GranuleTable::lock_pair_as`]). A REC running on a CPU holds a
    /// reference instead of its lock, and its contents are written back when it exits:
    ///
    /// - a running calling REC has no request pending (RMI_REC_ENTER refuses a REC with
    ///   one), so it fails `pending` without its contents being read;
    /// - a running target REC is runnable: CPU_ON then returns ALREADY_ON and
    ///   AFFINITY_INFO ON, and only its owner and MPIDR, which never change after
    ///   RMI_REC_CREATE, are read. (The reference rejects some of these cases; the spec
    ///   has no such failure condition.)
    pub(super) fn psci_complete(
        &self,
        calling: PhysAddr,
        target: PhysAddr,
        status: u64,
    ) -> Result<(), RmiError> {
        // alias
        if calling == target {
            return Err(RmiError::Input);
        }
        // calling_align, calling_bound, calling_state, target_align, target_bound,
        // target_state
        let (mut calling_lock, mut target_lock) = self
            .granules
            .lock_pair_as::<RecKind, RecKind>(calling, target)?;
        // pending
        if calling_lock.granule().refcount() != 0 {
            return Err(RmiError::Input);
        }
        let caller = {
            let mut m = self.arch.map_realm(&mut calling_lock);
            let c = rec_mut(&mut m);
            if c.psci_pending == 0 {
                return Err(RmiError::Input);
            }
            PsciRequest {
                rd: c.rd,
                target: c.psci_target,
                fid: c.gprs[0],
                entry: c.gprs[2],
                context: c.gprs[3],
                sctlr_el1: c.el1[el1_index(SysReg::SCTLR_EL1)],
            }
        };
        let target_running = target_lock.granule().refcount() != 0;
        let (target_owner, target_mpidr, target_runnable) = {
            let mut m = self.arch.map_realm(&mut target_lock);
            let t = rec_mut(&mut m);
            (t.rd, t.mpidr, target_running || t.runnable != 0)
        };
        // owner
        if target_owner != caller.rd {
            return Err(RmiError::Input);
        }
        // target: MpidrEqual(request's MPIDR, target's RmiRecMpidr)
        if RmiRecMpidr::from_mpidr_el1(caller.target).map(|m| m.bits()) != Ok(target_mpidr) {
            return Err(RmiError::Input);
        }
        // status
        let fid = caller.fid;
        let cpu_on = fid == psci::PSCI_CPU_ON_32 as u64 || fid == psci::PSCI_CPU_ON_64 as u64;
        if !psci_return_code_permitted(cpu_on, target_runnable, status) {
            return Err(RmiError::Input);
        }

        let result = if status != PSCI_SUCCESS {
            // status
            status
        } else if cpu_on && target_runnable {
            // on_already
            psci_error(psci::error::ALREADY_ON)
        } else if cpu_on {
            // on_success: the target is neither runnable nor running.
            let ee = caller.sctlr_el1 & SCTLR_EE;
            let mut m = self.arch.map_realm(&mut target_lock);
            let t = rec_mut(&mut m);
            t.reset(caller.entry, &[caller.context, 0, 0, 0, 0, 0, 0, 0]);
            t.el1[el1_index(SysReg::SCTLR_EL1)] |= ee;
            t.runnable = 1;
            PSCI_SUCCESS
        } else if target_runnable {
            // affinity_on
            PSCI_SUCCESS
        } else {
            // affinity_off
            PSCI_OFF
        };
        let mut m = self.arch.map_realm(&mut calling_lock);
        let c = rec_mut(&mut m);
        c.gprs[0] = result;
        // args
        c.gprs[1..4].fill(0);
        // pending
        c.psci_pending = 0;
        c.psci_target = 0;
        Ok(())
    }
}
