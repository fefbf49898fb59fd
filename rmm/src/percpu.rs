//! What each CPU's RMI loop owns: its identity and its scratch granules.
//!
//! Host memory is copied into RMM memory before it is validated (DEN0137 1.0, A2.x: the
//! host may change its pages at any time), and several commands copy a whole granule:
//! REALM_CREATE and REC_CREATE their parameter pages, DATA_CREATE its source page,
//! REC_ENTER the two halves of `RmiRecRun`. None of those copies goes on the stack: a
//! CPU's stack is small and firmware frames must stay far below it. They go into the
//! granules of [`Scratch`], which the RMI loop of one CPU owns exclusively and lends
//! to the command it is serving.
//!
//! [`Scratch`] is made of zeroed granules only, so the firmware keeps one per CPU in a
//! zero-initialised static (`.bss`).

use platform::{CpuId, FpRegs, GranuleMem};
use rmi_abi::{RmiRealmParams, RmiRecEnter, RmiRecExit, RmiRecParams, RmiRecRun};

use crate::rec::{rec_mut, Rec};

/// One CPU's scratch memory, lent to the command the CPU is serving.
#[repr(C)]
pub struct Scratch {
    /// A copy of one host page: `RmiRealmParams` or `RmiRecParams`.
    page: GranuleMem,
    /// `RmiRecRun` of the REC_ENTER in progress: the entry half as copied in from the
    /// host, the exit half as it is built.
    run: GranuleMem,
    /// The working copy of the REC being run (its granule's first bytes).
    rec: GranuleMem,
    /// The Normal world's FP/SIMD registers while a realm's are loaded.
    host_fp: FpRegs,
}

impl Scratch {
    /// The host page buffer as `RmiRealmParams`.
    pub(crate) fn realm_params(&mut self) -> &mut RmiRealmParams {
        zerocopy::transmute_mut!(&mut self.page)
    }

    /// The host page buffer as `RmiRecParams`.
    pub(crate) fn rec_params(&mut self) -> &mut RmiRecParams {
        zerocopy::transmute_mut!(&mut self.page)
    }

    /// The REC_ENTER buffers: the entry half of `RmiRecRun`, its exit half, the
    /// working copy of the REC, and the save area of the Normal world's FP/SIMD
    /// registers.
    pub(crate) fn rec_run(&mut self) -> RecRunBufs<'_> {
        let run: &mut RmiRecRun = zerocopy::transmute_mut!(&mut self.run);
        RecRunBufs {
            enter: &mut run.enter,
            exit: &mut run.exit,
            rec: rec_mut(&mut self.rec),
            host_fp: &mut self.host_fp,
        }
    }
}

impl Scratch {
    /// Zeroed scratch memory (a `const`, so that firmware statics of it go to `.bss`).
    pub const ZERO: Self = Self {
        page: GranuleMem::ZERO,
        run: GranuleMem::ZERO,
        rec: GranuleMem::ZERO,
        host_fp: FpRegs::ZERO,
    };
}

/// What RMI_REC_ENTER works in ([`Scratch::rec_run`]).
pub(crate) struct RecRunBufs<'a> {
    /// The entry half of `RmiRecRun`, as copied in from the host.
    pub enter: &'a mut RmiRecEnter,
    /// The exit half, as it is built.
    pub exit: &'a mut RmiRecExit,
    /// The working copy of the REC.
    pub rec: &'a mut Rec,
    /// The Normal world's FP/SIMD registers while the realm's are loaded.
    pub host_fp: &'a mut FpRegs,
}

/// A CPU's RMI loop: the CPU it runs on and the scratch memory it owns.
pub struct PerCpu<'a> {
    id: CpuId,
    scratch: &'a mut Scratch,
}

impl<'a> PerCpu<'a> {
    /// The RMI loop of CPU `id`, with `scratch` as its scratch memory.
    pub fn new(id: CpuId, scratch: &'a mut Scratch) -> Self {
        Self { id, scratch }
    }

    /// The CPU.
    pub fn id(&self) -> CpuId {
        self.id
    }

    /// The CPU and its scratch memory.
    pub(crate) fn split(&mut self) -> (CpuId, &mut Scratch) {
        (self.id, self.scratch)
    }
}
