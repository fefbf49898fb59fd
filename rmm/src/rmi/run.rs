//! RMI_REC_ENTER.

use crate::Storage;

use platform::{Arch, CpuId, PhysAddr};
use rmi_abi::enums::RmiRealmState;
use rmi_abi::flags::RmiRecEnterFlags;
use rmi_abi::{RmiError, RmiRecEnter};
use zerocopy::IntoBytes;

use crate::granule::{RdKind, RecKind};
use crate::percpu::Scratch;
use crate::rec::{rec_mut, LastExit, Rec};
use crate::run::Entry;
use crate::Rmm;

/// Offset of the exit half of RmiRecRun.
const REC_EXIT_OFFSET: usize = 0x800;
/// RmiRecEnter: `flags` is its first 8 bytes.
const ENTER_FLAGS_LEN: usize = 8;
/// RmiRecEnter: offset of `gprs`, followed by `gicv3_hcr` and `gicv3_lrs`.
const ENTER_GPRS_OFFSET: usize = core::mem::offset_of!(RmiRecEnter, gprs);
/// RmiRecEnter: offset of `gicv3_lrs`.
const ENTER_LRS_OFFSET: usize = core::mem::offset_of!(RmiRecEnter, gicv3_lrs);
const _: () = assert!(ENTER_LRS_OFFSET + 8 * vgic::MAX_LRS == RmiRecEnter::DEFINED_LEN);

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// DEN0137 1.0, RMI_REC_ENTER (x1 REC, x2 RecRun).
    ///
    /// Failure conditions, in the specification's order: run_align, run_bound, run_pas,
    /// rec_align, rec_bound, rec_gran_state (ERROR_INPUT); realm_new (ERROR_REALM 0),
    /// system_off (ERROR_REALM 1); rec_state (running elsewhere), rec_runnable,
    /// rec_mmio, rec_gicv3, rec_psci (ERROR_REC). The RecEnter half of RecRun is copied
    /// in once before it is validated; the exit record is written back at the end.
    ///
    /// The REC runs on a working copy in this CPU's scratch memory: it is copied in
    /// with the REC locked, the REC then holds a reference instead of its lock while it
    /// runs (other commands see it running), and the copy is written back with the REC
    /// locked again. The dispatcher has refused the call already if this platform
    /// cannot run realms. `sve_hint` is the call's SMCCC SVE hint bit: clear, the
    /// Normal world's SVE state is preserved in full (SMCCC 1.3).
    pub(super) fn rec_enter(
        &self,
        cpu: CpuId,
        scratch: &mut Scratch,
        rec: PhysAddr,
        run: PhysAddr,
        sve_hint: bool,
    ) -> Result<(), RmiError> {
        let crate::percpu::RecRunBufs {
            enter,
            exit,
            rec: r,
            host_fp,
        } = scratch.rec_run();
        // run_align, run_bound, run_pas. Only the fields the RMM uses are copied: flags,
        // then gprs, gicv3_hcr and the List registers this CPU implements (validation
        // and loading look at no other: vgic::validate, rule 2). The rest of the copy
        // keeps what the buffer last held and is never read.
        let bytes = enter.as_mut_bytes();
        self.read_host_granule_part(run, &mut bytes[..ENTER_FLAGS_LEN])?;
        let used = ENTER_GPRS_OFFSET..ENTER_LRS_OFFSET + 8 * self.gic.num_lrs().min(vgic::MAX_LRS);
        self.arch
            .read_ns(run, used.start, &mut bytes[used])
            .map_err(|_| RmiError::Input)?;
        // rec_align, rec_bound, rec_gran_state. The REC names its RD; both are external
        // granules, so they are locked together in address order (holding the REC while
        // waiting for the RD would deadlock against a command locking the pair).
        let (rd, realm, rec_lock) = loop {
            let rd = match self.granules.lock_as::<RecKind>(rec) {
                Ok(mut l) => PhysAddr(rec_mut(&mut self.arch.map_realm(&mut l)).rd),
                Err(e) => return Err(e.into()),
            };
            let (mut rd_lock, mut rec_lock) =
                match self.granules.lock_pair_as::<RdKind, RecKind>(rd, rec) {
                    Ok(pair) => pair,
                    // The REC was destroyed in between: report it as the REC check would.
                    Err(_) => match self.granules.lock_as::<RecKind>(rec) {
                        Ok(_) => continue,
                        Err(e) => return Err(e.into()),
                    },
                };
            copy_rec(r, rec_mut(&mut self.arch.map_realm(&mut rec_lock)));
            if r.rd != rd.0 {
                // Destroyed and created again for another realm in between: start over.
                continue;
            }
            break (rd, self.realm_info(&mut rd_lock), rec_lock);
        };
        let flags = RmiRecEnterFlags::decode(enter.flags & RmiRecEnterFlags::DEFINED)
            .unwrap_or(RmiRecEnterFlags::ZERO);
        // realm_new, system_off
        match realm.state {
            RmiRealmState::New => return Err(RmiError::Realm(0)),
            RmiRealmState::SystemOff => return Err(RmiError::Realm(1)),
            RmiRealmState::Active => {}
        }
        // rec_state: running on another CPU
        if rec_lock.granule().refcount() != 0 {
            return Err(RmiError::Rec);
        }
        // rec_runnable
        if r.runnable == 0 {
            return Err(RmiError::Rec);
        }
        // rec_mmio
        if flags.emul_mmio() && r.last_exit() != LastExit::EmulatableAbort {
            return Err(RmiError::Rec);
        }
        // rec_gicv3 (matched in place: the validated List registers are not moved
        // through a chain of results on their way into the REC)
        let gic = match vgic::validate(&self.gic, enter.gicv3_hcr, &enter.gicv3_lrs) {
            Ok(gic) => gic,
            Err(_) => return Err(RmiError::Rec),
        };
        // rec_psci
        if r.psci_pending != 0 {
            return Err(RmiError::Rec);
        }
        // Every check passed: the host's GIC values go into the working copy.
        r.vgic.load(gic);
        phase!(self.arch, RecChecked);
        // The REC is running: other CPUs see a reference on it.
        let ok = rec_lock.granule().try_get(1);
        debug_assert!(ok);
        drop(rec_lock);

        self.run_rec(
            cpu,
            r,
            exit,
            host_fp,
            rd,
            realm,
            Entry {
                enter,
                flags,
                host_sve_live: self.features.sve && !sve_hint,
            },
        );
        // The running reference keeps the granule a REC; its lock orders the write-back
        // against commands that read the REC meanwhile.
        match self.granules.lock_as::<RecKind>(rec) {
            Ok(mut l) => {
                copy_rec(rec_mut(&mut self.arch.map_realm(&mut l)), r);
                l.granule().put(1);
            }
            Err(e) => panic!("running REC {rec} is no longer a REC ({e:?})"),
        }
        let written = self.arch.write_ns(run, REC_EXIT_OFFSET, exit.as_bytes());
        phase!(self.arch, ExitWritten);
        written.map_err(|_| RmiError::Input)
    }

    /// Copies the start of a host granule (`*_align`, `*_bound`, `*_pas`).
    pub(super) fn read_host_granule_part(
        &self,
        pa: PhysAddr,
        out: &mut [u8],
    ) -> Result<(), RmiError> {
        if !pa.is_granule_aligned() || self.granules.get(pa).is_none() {
            return Err(RmiError::Input);
        }
        self.arch.read_ns(pa, 0, out).map_err(|_| RmiError::Input)
    }
}

/// Copies a REC's state from `src` to `dst` byte for byte (no temporary on the stack).
fn copy_rec(dst: &mut Rec, src: &Rec) {
    dst.as_mut_bytes().copy_from_slice(src.as_bytes());
}
