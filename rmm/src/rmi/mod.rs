//! The RMI dispatcher: decodes a call once and hands typed arguments to the command's
//! handler.
//!
//! Handlers live in one module per command group and read like the specification: each
//! checks the command's failure conditions in the specification's order and returns the
//! first that fails, before any side effect.

mod data;
mod features;
mod granule;
mod psci_complete;
mod realm;
mod rec;
mod ripas;
mod rtt;
mod run;
mod version;

pub(crate) use realm::PA_LIMIT_NO_LPA2;
pub use realm::REC_AUX_COUNT;

use crate::Storage;

use platform::{Arch, PhysAddr};
use rmi_abi::{status, RmiError, RmiFid};

use crate::percpu::PerCpu;
use crate::Rmm;

/// `x0` of a call the RMM does not implement (SMCCC `NOT_SUPPORTED`, -1).
pub const SMC_NOT_SUPPORTED: u64 = u64::MAX;

/// The registers a command returns: `x0` and up to four outputs in `x1..=x4`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The command's status.
    pub status: Result<(), RmiError>,
    /// Output values for x1..=x4.
    pub out: [u64; 4],
    /// How many of `out` are outputs of this command.
    pub n_out: usize,
}

impl Completion {
    /// Success with the given outputs.
    pub fn ok<const N: usize>(out: [u64; N]) -> Self {
        Self::new(Ok(()), out)
    }

    /// A status with outputs (some commands return outputs whatever the status).
    pub fn new<const N: usize>(status: Result<(), RmiError>, out: [u64; N]) -> Self {
        const { assert!(N <= 4) };
        let mut o = [0; 4];
        o[..N].copy_from_slice(&out);
        Self {
            status,
            out: o,
            n_out: N,
        }
    }

    /// The registers x0..=x4 returned to the caller whose x4 was `caller_x4`. x1..x3 that
    /// are not outputs read zero (DEN0137 1.0, B1.2). An x4 that is not an output is
    /// preserved instead: SMCCC 1.2 has the callee preserve X4-X17 that carry no result,
    /// and hosts rely on it (an SMCCC 1.1 inline call, as the Linux KVM host makes, tells
    /// the compiler that x4 still holds its input afterwards). EL3 writes only x0..x4.
    pub fn registers(&self, caller_x4: u64) -> [u64; 5] {
        let [x1, x2, x3, x4] = self.out;
        let x4 = if self.n_out == 4 { x4 } else { caller_x4 };
        [status::return_code(&self.status), x1, x2, x3, x4]
    }
}

impl<const N: usize> From<Result<[u64; N], RmiError>> for Completion {
    fn from(r: Result<[u64; N], RmiError>) -> Self {
        match r {
            Ok(out) => Self::ok(out),
            Err(e) => Self::new(Err(e), [0u64; N]),
        }
    }
}

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// Serves one RMI call made on the CPU of the RMI loop `cpu`: `x0` is the function
    /// identifier and `args` holds x1..=x6. Returns x0..=x4.
    pub fn handle_rmi(&self, cpu: &mut PerCpu<'_>, x0: u64, args: &[u64; 6]) -> [u64; 5] {
        // SMCCC 1.3: with the SVE hint bit set the caller has no live SVE state beyond
        // what FP/SIMD covers, which the callee then need not preserve.
        let sve_hint = x0 & rmi_abi::fid::SMCCC_SVE_HINT != 0;
        let done = match RmiFid::decode(x0) {
            Some(fid) => self.dispatch(cpu, fid, args, sve_hint),
            None => None,
        };
        phase!(self.arch, HandlerDone);
        match done {
            Some(regs) => {
                log::trace!("RMI {x0:#x} {:x?} -> {:#x?}", args, regs);
                regs
            }
            None => {
                log::debug!("RMI {x0:#x}: not supported");
                [SMC_NOT_SUPPORTED, 0, 0, 0, args[3]]
            }
        }
    }

    /// Calls the handler of `fid`; `None` if it cannot be served here (RMI_REC_ENTER on a
    /// platform that cannot run realms, refused before anything is read or written).
    /// `sve_hint` is the call's SMCCC SVE hint bit.
    fn dispatch(
        &self,
        cpu: &mut PerCpu<'_>,
        fid: RmiFid,
        a: &[u64; 6],
        sve_hint: bool,
    ) -> Option<[u64; 5]> {
        let (cpu, scratch) = cpu.split();
        phase!(self.arch, Handler);
        if fid == RmiFid::RecEnter && !self.arch.runs_realms() {
            return None;
        }
        Some(match fid {
            RmiFid::Version => self.rmi_version(a[0]).registers(a[3]),
            RmiFid::Features => self.rmi_features(a[0]).registers(a[3]),
            RmiFid::GranuleDelegate => out_of_line(a[3], || {
                self.granule_delegate(cpu, PhysAddr(a[0]))
                    .map(|()| [])
                    .into()
            }),
            RmiFid::GranuleUndelegate => out_of_line(a[3], || {
                self.granule_undelegate(cpu, PhysAddr(a[0]))
                    .map(|()| [])
                    .into()
            }),
            RmiFid::RealmCreate => out_of_line(a[3], || {
                self.realm_create(scratch, PhysAddr(a[0]), PhysAddr(a[1]))
                    .map(|()| [])
                    .into()
            }),
            RmiFid::RealmActivate => out_of_line(a[3], || {
                self.realm_activate(PhysAddr(a[0])).map(|()| []).into()
            }),
            RmiFid::RealmDestroy => out_of_line(a[3], || {
                self.realm_destroy(PhysAddr(a[0])).map(|()| []).into()
            }),
            RmiFid::RecAuxCount => out_of_line(a[3], || self.rec_aux_count(PhysAddr(a[0])).into()),
            RmiFid::RecCreate => out_of_line(a[3], || {
                self.rec_create(scratch, PhysAddr(a[0]), PhysAddr(a[1]), PhysAddr(a[2]))
                    .map(|()| [])
                    .into()
            }),
            RmiFid::RecDestroy => out_of_line(a[3], || {
                self.rec_destroy(PhysAddr(a[0])).map(|()| []).into()
            }),
            RmiFid::RecEnter => out_of_line(a[3], || {
                self.rec_enter(cpu, scratch, PhysAddr(a[0]), PhysAddr(a[1]), sve_hint)
                    .map(|()| [])
                    .into()
            }),
            RmiFid::RttCreate => out_of_line(a[3], || {
                self.rtt_create(PhysAddr(a[0]), PhysAddr(a[1]), a[2], a[3] as i64)
                    .map(|()| [])
                    .into()
            }),
            RmiFid::RttDestroy => {
                out_of_line(a[3], || self.rtt_destroy(PhysAddr(a[0]), a[1], a[2] as i64))
            }
            RmiFid::RttFold => out_of_line(a[3], || {
                self.rtt_fold(PhysAddr(a[0]), a[1], a[2] as i64).into()
            }),
            RmiFid::RttReadEntry => out_of_line(a[3], || {
                self.rtt_read_entry(PhysAddr(a[0]), a[1], a[2] as i64)
                    .into()
            }),
            RmiFid::RttMapUnprotected => out_of_line(a[3], || {
                self.rtt_map_unprotected(PhysAddr(a[0]), a[1], a[2] as i64, a[3])
                    .map(|()| [])
                    .into()
            }),
            RmiFid::RttUnmapUnprotected => out_of_line(a[3], || {
                self.rtt_unmap_unprotected(PhysAddr(a[0]), a[1], a[2] as i64)
            }),
            RmiFid::RttInitRipas => out_of_line(a[3], || {
                self.rtt_init_ripas(PhysAddr(a[0]), a[1], a[2]).into()
            }),
            RmiFid::DataCreate => out_of_line(a[3], || {
                self.data_create(PhysAddr(a[0]), PhysAddr(a[1]), a[2], PhysAddr(a[3]), a[4])
                    .map(|()| [])
                    .into()
            }),
            RmiFid::DataCreateUnknown => out_of_line(a[3], || {
                self.data_create_unknown(PhysAddr(a[0]), PhysAddr(a[1]), a[2])
                    .map(|()| [])
                    .into()
            }),
            RmiFid::DataDestroy => out_of_line(a[3], || self.data_destroy(PhysAddr(a[0]), a[1])),
            RmiFid::RttSetRipas => out_of_line(a[3], || {
                self.rtt_set_ripas(PhysAddr(a[0]), PhysAddr(a[1]), a[2], a[3])
                    .into()
            }),
            RmiFid::PsciComplete => out_of_line(a[3], || {
                self.psci_complete(PhysAddr(a[0]), PhysAddr(a[1]), a[2])
                    .map(|()| [])
                    .into()
            }),
        })
    }
}

/// Runs one command's handler as a function of its own and returns its registers
/// ([`Completion::registers`], for a caller whose x4 was `caller_x4`): `dispatch` stays
/// a jump table with a small frame, each call pays for the frame and saved registers of
/// its own handler only (inlined, every command paid for the largest), and the status
/// is packed where the handler's result is known (on a success path, a constant), not
/// decoded again in the RMI loop (measured with `cargo xtask bench --qemu`).
#[inline(never)]
fn out_of_line(caller_x4: u64, handler: impl FnOnce() -> Completion) -> [u64; 5] {
    handler().registers(caller_x4)
}
