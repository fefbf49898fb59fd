//! The world switch between the RMM at R-EL2 and a realm at R-EL1/EL0: entering the
//! realm with `eret` and coming back through the lower-EL exception vectors.
//!
//! `platform_realm_enter(regs, cptr)` (AAPCS64: x0 = `&mut RealmRegs`, x1 = the realm's
//! CPTR_EL2, returns the trap kind in x0):
//!
//! 1. pushes the RMM's callee-saved registers (x19..x28), its frame pointer and link
//!    register (x29, x30) and `regs` on the RMM's stack (SP_EL2), 112 bytes;
//! 2. writes CPTR_EL2 = `cptr` ([`crate::cptr::realm`]: FP/SIMD not trapped, the realm's
//!    own FP/SIMD registers were loaded by [`super::fp`]; SVE, SME, trace and the
//!    activity monitors trapped), ELR_EL2 = `regs.pc`, SPSR_EL2 = `regs.pstate`;
//! 3. loads x0..x30 from `regs` and `eret`s.
//!
//! The realm runs until an exception is taken to EL2. It cannot reach SP_EL2, TPIDR_EL2
//! or any other EL2 register, so on exception entry SP_EL2 is exactly where step 1 left
//! it. The vector entry for a lower EL (synchronous, IRQ, FIQ, SError; AArch64 or
//! AArch32 EL0) pushes the realm's x0 and x1, puts the trap kind in x0 and branches to
//! `platform_realm_exit`, which:
//!
//! 4. stores the realm's x0..x30, ELR_EL2 and SPSR_EL2 into `regs` (found at its place
//!    in the frame of step 1);
//! 5. writes [`CPTR_EL2_RMM`] (FP/SIMD, SVE and SME trapped at R-EL2 again) and an ISB;
//! 6. pops the RMM's registers and returns to the caller of `platform_realm_enter`.
//!
//! ESR_EL2, FAR_EL2 and HPFAR_EL2 are not touched: they still describe the exception
//! when the RMM reads them. An exception taken from R-EL2 itself goes to the
//! current-EL vectors, which report it and park the CPU ([`super::vectors`]); nothing
//! returns to the realm from there.

use core::arch::global_asm;
use core::mem::offset_of;

use crate::arch::{RealmRegs, RealmTrap};

/// CPTR_EL2 while the RMM runs ([`crate::cptr::RMM`]).
pub const CPTR_EL2_RMM: u64 = crate::cptr::RMM;
/// CPTR_EL2.TFP.
pub const CPTR_EL2_TFP: u64 = crate::cptr::TFP;

/// The layout the assembly relies on: x0..x30 at 0, then the PC and PSTATE.
const PC_OFFSET: usize = offset_of!(RealmRegs, pc);
const _: () = assert!(offset_of!(RealmRegs, gprs) == 0);
const _: () = assert!(PC_OFFSET == 31 * 8 && offset_of!(RealmRegs, pstate) == PC_OFFSET + 8);

/// Bytes `platform_realm_enter` pushes: x29/x30, x19..x28, `regs` and 8 bytes of
/// padding (SP stays 16-byte aligned).
const FRAME: usize = 112;
/// Where `regs` is in that frame.
const REGS_SLOT: usize = 96;

/// The trap kinds the vector entries pass in x0 (the order of [`RealmTrap`]).
pub(super) const TRAP_SYNC: u64 = 0;
pub(super) const TRAP_IRQ: u64 = 1;
pub(super) const TRAP_FIQ: u64 = 2;
pub(super) const TRAP_SERROR: u64 = 3;

global_asm!(
    ".text",
    ".balign 8",
    ".global platform_realm_enter",
    ".type platform_realm_enter, %function",
    "platform_realm_enter:",
    "    stp x29, x30, [sp, #-{frame}]!",
    "    stp x19, x20, [sp, #16]",
    "    stp x21, x22, [sp, #32]",
    "    stp x23, x24, [sp, #48]",
    "    stp x25, x26, [sp, #64]",
    "    stp x27, x28, [sp, #80]",
    "    str x0, [sp, #{regs_slot}]",
    "    msr cptr_el2, x1",
    "    ldp x1, x2, [x0, #{pc}]",
    "    msr elr_el2, x1",
    "    msr spsr_el2, x2",
    "    ldp x2, x3, [x0, #16]",
    "    ldp x4, x5, [x0, #32]",
    "    ldp x6, x7, [x0, #48]",
    "    ldp x8, x9, [x0, #64]",
    "    ldp x10, x11, [x0, #80]",
    "    ldp x12, x13, [x0, #96]",
    "    ldp x14, x15, [x0, #112]",
    "    ldp x16, x17, [x0, #128]",
    "    ldp x18, x19, [x0, #144]",
    "    ldp x20, x21, [x0, #160]",
    "    ldp x22, x23, [x0, #176]",
    "    ldp x24, x25, [x0, #192]",
    "    ldp x26, x27, [x0, #208]",
    "    ldp x28, x29, [x0, #224]",
    "    ldr x30, [x0, #240]",
    "    ldp x0, x1, [x0, #0]",
    // The exception return is context synchronising: CPTR_EL2, ELR_EL2 and SPSR_EL2
    // take effect for the realm. Nothing after it executes architecturally; the
    // barriers stop straight-line speculation past it.
    "    eret",
    "    dsb nsh",
    "    isb",
    ".size platform_realm_enter, . - platform_realm_enter",
    "",
    // x0 = trap kind; the realm's x0 and x1 at [sp], the frame of platform_realm_enter
    // above them.
    ".global platform_realm_exit",
    ".type platform_realm_exit, %function",
    "platform_realm_exit:",
    "    ldr x1, [sp, #16 + {regs_slot}]",
    "    stp x2, x3, [x1, #16]",
    "    stp x4, x5, [x1, #32]",
    "    stp x6, x7, [x1, #48]",
    "    stp x8, x9, [x1, #64]",
    "    stp x10, x11, [x1, #80]",
    "    stp x12, x13, [x1, #96]",
    "    stp x14, x15, [x1, #112]",
    "    stp x16, x17, [x1, #128]",
    "    stp x18, x19, [x1, #144]",
    "    stp x20, x21, [x1, #160]",
    "    stp x22, x23, [x1, #176]",
    "    stp x24, x25, [x1, #192]",
    "    stp x26, x27, [x1, #208]",
    "    stp x28, x29, [x1, #224]",
    "    str x30, [x1, #240]",
    "    ldp x2, x3, [sp], #16",
    "    stp x2, x3, [x1, #0]",
    "    mrs x2, elr_el2",
    "    mrs x3, spsr_el2",
    "    stp x2, x3, [x1, #{pc}]",
    "    mov x2, #{cptr_rmm}",
    "    msr cptr_el2, x2",
    "    isb",
    "    ldp x19, x20, [sp, #16]",
    "    ldp x21, x22, [sp, #32]",
    "    ldp x23, x24, [sp, #48]",
    "    ldp x25, x26, [sp, #64]",
    "    ldp x27, x28, [sp, #80]",
    "    ldp x29, x30, [sp], #{frame}",
    "    ret",
    ".size platform_realm_exit, . - platform_realm_exit",
    frame = const FRAME,
    regs_slot = const REGS_SLOT,
    pc = const PC_OFFSET,
    cptr_rmm = const CPTR_EL2_RMM,
);

unsafe extern "C" {
    fn platform_realm_enter(regs: *mut RealmRegs, cptr: u64) -> u64;
}

/// SPSR_EL2.M[3:2]: the exception level the `eret` returns to.
const SPSR_EL_SHIFT: u32 = 2;
/// HCR_EL2.VM: stage-2 translation on for EL1&0.
const HCR_VM: u64 = 1;
/// HCR_EL2.TGE: EL1&0 exceptions go to EL2 as if EL1 did not exist.
const HCR_TGE: u64 = 1 << 27;

/// The report of [`run`]'s HCR_EL2 check.
#[cold]
#[inline(never)]
fn bad_hcr(hcr: u64) -> ! {
    panic!("realm entry with HCR_EL2 {hcr:#x}: stage 2 off or TGE set")
}

/// Runs the realm from `regs` until it takes an exception to R-EL2; `regs` then holds
/// its registers, PC and PSTATE at that point. The realm's EL1 system registers,
/// stage 2, GIC state and FP/SIMD registers must already be loaded.
///
/// # Panics
/// If `regs.pstate` names EL2 or EL3: the `eret` would run realm-controlled state at an
/// exception level that is not the realm's. The RMM only ever resumes a realm with the
/// PSTATE of its own last exception (or of an exception it injected at EL1).
pub fn run(regs: &mut RealmRegs) -> RealmTrap {
    let el = (regs.pstate >> SPSR_EL_SHIFT) & 3;
    assert!(
        el <= 1,
        "realm entry with SPSR_EL2 {:#x}: not EL0 or EL1",
        regs.pstate
    );
    let hcr = super::sysreg::read(crate::SysReg::HCR_EL2);
    // The report out of line, so that the check on every entry (RSI calls the RMM
    // completes included) spills nothing for it.
    if hcr & (HCR_VM | HCR_TGE) != HCR_VM {
        bad_hcr(hcr);
    }
    let pfr0 = super::sysreg::read(crate::SysReg::ID_AA64PFR0_EL1);
    let cptr = crate::cptr::realm(crate::cptr::has_amu(pfr0));
    super::phase::mark(crate::phase::Phase::RealmEnter);
    // SAFETY: `platform_realm_enter` follows AAPCS64: it saves and restores x19..x30
    // and returns with SP as it found it (SP_EL2 is out of the realm's reach, so the
    // exception that ends the realm's run finds the frame it pushed); it writes only
    // `*regs`, which the exclusive borrow covers. The registers it hands to the realm
    // (x0..x18, NZCV and the FP/SIMD state) are caller-saved or, for V8..V15, hold no
    // value of the RMM, which is built without FP/SIMD code (softfloat). The realm
    // runs at EL1 or EL0 with HCR_EL2.VM set and TGE clear (both checked above), so its
    // memory accesses go through the stage 2 in VTTBR_EL2, which maps only the realm's
    // granules, never the RMM's memory. `cptr` is `cptr::realm`'s value: FP/SIMD
    // enabled for the realm only between the `eret` and the exit, which writes
    // CPTR_EL2_RMM back before any RMM code runs.
    let kind = unsafe { platform_realm_enter(regs, cptr) };
    super::phase::mark(crate::phase::Phase::RealmExit);
    // The vector entries pass only the four kinds: the two low bits are the kind.
    match kind & 3 {
        TRAP_SYNC => RealmTrap::Sync,
        TRAP_IRQ => RealmTrap::Irq,
        TRAP_FIQ => RealmTrap::Fiq,
        _ => RealmTrap::SError,
    }
}
