//! Per-CPU state: the saved contexts of both worlds, the FP/SIMD save area of the
//! exception entry, and the stack.
//!
//! TPIDR_EL3 holds the address of the CPU's [`PerCpu`]. The exception entry in
//! [`crate::asm`] stores the interrupted general-purpose registers through
//! [`PerCpu::cur`] and the FP/SIMD registers into [`PerCpu::fp`], at the offsets
//! exported below; each CPU only ever touches its own block.

use core::cell::UnsafeCell;
use core::mem::offset_of;

use crate::layout::{MAX_CPUS, STACK_SIZE};
use crate::sysreg::{El2Regs, Features, EL2_REG_COUNT};

/// General-purpose state of a world, as the exception entry saves it.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Gprs {
    /// x0..x30.
    pub x: [u64; 31],
    /// SP_EL0.
    pub sp_el0: u64,
    /// ELR_EL3: where the world resumes.
    pub elr: u64,
    /// SPSR_EL3: the PSTATE it resumes with.
    pub spsr: u64,
}

impl Gprs {
    const ZERO: Gprs = Gprs {
        x: [0; 31],
        sp_el0: 0,
        elr: 0,
        spsr: 0,
    };
}

/// FP/SIMD registers. EL3 code may use them (the target ABI has FP), so the exception
/// entry saves and restores them around the handler; they are not switched per world
/// (the RMM preserves the Normal world's FP state, as with TF-A).
#[derive(Clone, Copy, Debug)]
#[repr(C, align(16))]
pub struct FpRegs {
    /// q0..q31.
    pub q: [u128; 32],
    /// FPCR.
    pub fpcr: u64,
    /// FPSR.
    pub fpsr: u64,
}

/// The two worlds the monitor switches between.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum World {
    /// The Realm world (the RMM at R-EL2).
    Realm = 0,
    /// The Normal world (the test host at NS-EL2).
    NonSecure = 1,
}

/// Everything the monitor keeps about one world on one CPU.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct WorldCtx {
    /// General-purpose registers, ELR and SPSR.
    pub gprs: Gprs,
    /// EL2 system registers.
    pub el2: El2Regs,
    /// SCR_EL3 while this world runs.
    pub scr: u64,
}

impl WorldCtx {
    const ZERO: WorldCtx = WorldCtx {
        gprs: Gprs::ZERO,
        el2: [0; EL2_REG_COUNT],
        scr: 0,
    };
}

/// One CPU's monitor state.
#[derive(Debug)]
#[repr(C, align(16))]
pub struct PerCpu {
    /// Where the exception entry saves the interrupted registers: the running world's
    /// [`WorldCtx::gprs`].
    pub cur: *mut Gprs,
    /// Top of this CPU's EL3 stack (the stack is reset to it when entering a world).
    pub stack_top: u64,
    /// FP/SIMD save area of the exception entry.
    pub fp: FpRegs,
    /// 1 if the CPU has SVE: the exception entry then also saves the Z registers in
    /// full into [`PerCpu::z`] (restoring the Q registers alone would zero their bits
    /// above 127, which SMCCC lets a callee discard only when the caller sets the SVE
    /// hint bit).
    pub sve: u64,
    /// Z0..Z31 at the largest vector length (2048 bits; ZCR_EL3.LEN = 15).
    pub z: SveZ,
    /// Linear CPU index.
    pub id: usize,
    /// The world that runs (or ran last) below EL3.
    pub world: World,
    /// Features of this CPU.
    pub features: Features,
    /// Contexts, indexed by [`World`].
    pub ctx: [WorldCtx; 2],
}

/// Offset of [`PerCpu::cur`], for the exception entry.
pub const CUR_OFFSET: usize = offset_of!(PerCpu, cur);
/// Offset of [`PerCpu::stack_top`].
pub const STACK_TOP_OFFSET: usize = offset_of!(PerCpu, stack_top);
/// Offset of [`PerCpu::fp`].
pub const FP_OFFSET: usize = offset_of!(PerCpu, fp);
/// Offset of [`PerCpu::sve`].
pub const SVE_OFFSET: usize = offset_of!(PerCpu, sve);
/// Offset of [`PerCpu::z`].
pub const Z_OFFSET: usize = offset_of!(PerCpu, z);
/// Offset of [`Gprs::sp_el0`].
pub const SP_EL0_OFFSET: usize = offset_of!(Gprs, sp_el0);
/// Offset of [`Gprs::elr`] (followed by `spsr`).
pub const ELR_OFFSET: usize = offset_of!(Gprs, elr);
/// Offset of [`FpRegs::fpcr`] (followed by `fpsr`).
pub const FPCR_OFFSET: usize = offset_of!(FpRegs, fpcr);

const _: () = assert!(CUR_OFFSET == 0 && STACK_TOP_OFFSET == 8 && FP_OFFSET == 16);
const _: () = assert!(SP_EL0_OFFSET == 248 && ELR_OFFSET == 256);
const _: () = assert!(offset_of!(Gprs, spsr) == ELR_OFFSET + 8);
const _: () = assert!(FPCR_OFFSET == 512 && offset_of!(FpRegs, fpsr) == 520);
const _: () = assert!(SVE_OFFSET < 4096 && Z_OFFSET < 4096 && Z_OFFSET.is_multiple_of(16));

/// The Z registers' save area.
#[derive(Debug)]
#[repr(C, align(16))]
pub struct SveZ(pub [[u8; 256]; 32]);

impl PerCpu {
    /// The running world's context.
    pub fn cur_ctx(&mut self) -> &mut WorldCtx {
        &mut self.ctx[self.world as usize]
    }

    /// Makes `w` the running world for the exception entry and exit.
    pub fn set_world(&mut self, w: World) {
        self.world = w;
        self.cur = &mut self.ctx[w as usize].gprs;
    }
}

/// A CPU's stack.
#[repr(C, align(16))]
pub struct Stack(UnsafeCell<[u8; STACK_SIZE]>);

/// Every CPU's EL3 stack (in `.bss`); `asm` points SP at the top of the CPU's slot.
pub static STACKS: [Stack; MAX_CPUS] =
    [const { Stack(UnsafeCell::new([0; STACK_SIZE])) }; MAX_CPUS];

// SAFETY: each stack is used by exactly one CPU, and only through SP.
unsafe impl Sync for Stack {}

struct Slot(UnsafeCell<PerCpu>);

// SAFETY: each slot is only accessed by the CPU it belongs to (through `init` once, then
// through TPIDR_EL3 in the exception entry and handlers), never concurrently.
unsafe impl Sync for Slot {}

// All-zero initial value (`always` false, world Realm = 0), so the array lives in
// `.bss`; `init` fills in each CPU's block.
static PERCPU: [Slot; MAX_CPUS] = [const {
    Slot(UnsafeCell::new(PerCpu {
        cur: core::ptr::null_mut(),
        stack_top: 0,
        fp: FpRegs {
            q: [0; 32],
            fpcr: 0,
            fpsr: 0,
        },
        sve: 0,
        z: SveZ([[0; 256]; 32]),
        id: 0,
        world: World::Realm,
        features: Features {
            always: false,
            rme: false,
            sve: false,
            vhe: false,
            pauth: false,
            fgt: false,
            ecv: false,
            hcx: false,
            tcr2: false,
            sctlr2: false,
            pa_bits: 0,
        },
        ctx: [WorldCtx::ZERO; 2],
    }))
}; MAX_CPUS];

/// Sets up CPU `id`'s block (zeroed contexts, world Realm), points TPIDR_EL3 at it and
/// returns it. Called once per CPU, by that CPU, before it first leaves EL3.
pub fn init(id: usize, features: Features) -> &'static mut PerCpu {
    assert!(id < MAX_CPUS);
    let stack_top = STACKS[id].0.get() as u64 + STACK_SIZE as u64;
    // SAFETY: slot `id` belongs to this CPU, which calls `init` once before anything
    // else uses the slot, so this is the only reference to it.
    let cpu = unsafe { &mut *PERCPU[id].0.get() };
    cpu.stack_top = stack_top;
    cpu.id = id;
    cpu.features = features;
    cpu.sve = u64::from(features.sve);
    cpu.ctx = [WorldCtx::ZERO; 2];
    cpu.set_world(World::Realm);
    // SAFETY: the slot is a static, valid for ever, and belongs to this CPU.
    unsafe { crate::sysreg::write_tpidr_el3(cpu as *mut PerCpu as u64) };
    cpu
}

/// The exception entry's call into Rust for a synchronous exception from a lower EL
/// (from [`crate::asm`], with x0 = TPIDR_EL3).
pub extern "C" fn lower_sync_entry(p: *mut PerCpu) {
    // SAFETY: `p` is TPIDR_EL3, set by `init` on this CPU before it first left EL3;
    // while the handler runs nothing else on this CPU references the block (the entry
    // code has finished storing into it and resumes only after the handler returns).
    let cpu = unsafe { &mut *p };
    crate::smc::handle_lower_sync(cpu);
}
