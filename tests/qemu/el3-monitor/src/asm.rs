//! Reset entry, exception vectors and the context save/restore around EL3 handlers.
//!
//! Reset (every CPU, EL3, MMU off, at 0x0 in flash): mask interrupts, set SCTLR_EL3
//! (MMU, caches and alignment checks off), clear CPTR_EL3 (no FP traps: Rust code uses
//! FP/SIMD), install the vectors, compute the linear CPU index from MPIDR_EL1
//! (Aff1 * 16 + Aff0) and take this CPU's stack. CPU 0 zeroes `.bss`, copies `.data`
//! and calls [`crate::boot::primary_main`]. The others wait, without touching memory
//! CPU 0 is initialising, until CPU 0 opens the pen ([`PEN`]), then call
//! [`crate::boot::secondary_main`]. CPUs beyond [`MAX_CPUS`] park.
//!
//! An SMC (or any synchronous exception) from a lower EL saves x0..x30, SP_EL0,
//! ELR_EL3 and SPSR_EL3 into the running world's context (`PerCpu::cur`) and the FP/SIMD
//! registers into `PerCpu::fp` (with SVE, the Z registers in full into `PerCpu::z` as
//! well, restored after the Q registers, so that SVE state passes through EL3), calls [`crate::percpu::lower_sync_entry`], then restores
//! from `PerCpu::cur` — which the handler may have pointed at the other world — and
//! returns with `eret`. Every other exception is fatal ([`crate::fault`]).

use core::arch::global_asm;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::layout::{MAX_CPUS, STACK_SIZE};
use crate::percpu::{
    PerCpu, CUR_OFFSET, ELR_OFFSET, FPCR_OFFSET, FP_OFFSET, SP_EL0_OFFSET, STACKS,
    STACK_TOP_OFFSET, SVE_OFFSET, Z_OFFSET,
};

/// Opened by CPU 0 once `.bss` and `.data` are initialised; secondaries wait for it in
/// assembly (they must not use their stacks, which are in `.bss`, before).
pub static PEN: AtomicU32 = AtomicU32::new(0);

/// The value of an open [`PEN`].
pub const PEN_OPEN: u32 = 0x0FE4_0FE4;

/// Opens the pen: secondaries proceed to [`crate::boot::secondary_main`].
pub fn open_pen() {
    PEN.store(PEN_OPEN, Ordering::Release);
    crate::sysreg::sev();
}

/// SCTLR_EL3: RES1 bits, SA (stack alignment check), I (instruction cache); M, C and A
/// clear (MMU off, data accesses Device-nGnRnE, no alignment checks beyond Device
/// memory's own).
const SCTLR_EL3: u64 = 0x30C5_0830 | (1 << 3) | (1 << 12);

global_asm!(
    ".section .text.entry, \"ax\"",
    ".global el3_entry",
    "el3_entry:",
    "    msr daifset, #0xf",
    "    movz x0, #{sctlr_lo}",
    "    movk x0, #{sctlr_hi}, lsl #16",
    "    msr sctlr_el3, x0",
    "    msr cptr_el3, xzr",
    "    isb",
    rmm_test_support::set_vbar!("3", "el3_vectors"),
    // x19 = Aff1 * 16 + Aff0
    "    mrs x0, mpidr_el1",
    "    and x1, x0, #0xff",
    "    ubfx x2, x0, #8, #8",
    "    add x19, x1, x2, lsl #4",
    "    cmp x19, #{max_cpus}",
    "    b.hs 9f",
    // sp = STACKS + (id + 1) * STACK_SIZE
    "    adrp x1, {stacks}",
    "    add x1, x1, :lo12:{stacks}",
    "    add x2, x19, #1",
    "    mov x3, #{stack_size}",
    "    madd x1, x2, x3, x1",
    "    mov sp, x1",
    "    cbnz x19, 5f",
    // CPU 0: zero .bss, copy .data from flash.
    rmm_test_support::zero_bss!("x1", "x2"),
    "    adrp x1, __data_start",
    "    add x1, x1, :lo12:__data_start",
    "    adrp x2, __data_end",
    "    add x2, x2, :lo12:__data_end",
    "    adrp x3, __data_lma",
    "    add x3, x3, :lo12:__data_lma",
    "3:  cmp x1, x2",
    "    b.hs 4f",
    "    ldp x4, x5, [x3], #16",
    "    stp x4, x5, [x1], #16",
    "    b 3b",
    "4:  mov x0, #0",
    "    bl {primary}",
    "    b 9f",
    // Secondaries: wait for the pen to open.
    "5:  adrp x1, {pen}",
    "    add x1, x1, :lo12:{pen}",
    "    movz w3, #{pen_lo}",
    "    movk w3, #{pen_hi}, lsl #16",
    "6:  ldar w2, [x1]",
    "    cmp w2, w3",
    "    b.eq 7f",
    "    wfe",
    "    b 6b",
    "7:  mov x0, x19",
    "    bl {secondary}",
    "9:  wfi",
    "    b 9b",
    sctlr_lo = const SCTLR_EL3 & 0xFFFF,
    sctlr_hi = const SCTLR_EL3 >> 16,
    max_cpus = const MAX_CPUS,
    stack_size = const STACK_SIZE,
    stacks = sym STACKS,
    pen = sym PEN,
    pen_lo = const PEN_OPEN & 0xFFFF,
    pen_hi = const PEN_OPEN >> 16,
    primary = sym crate::boot::primary_main,
    secondary = sym crate::boot::secondary_main,
);

// The vector table. Exceptions taken at EL3 itself, and IRQ/FIQ/SError from below
// (never routed here: SCR_EL3.IRQ/FIQ/EA are clear), go to `fault::el3_exception`
// with the vector index in x0.
global_asm!(
    ".section .text.vectors, \"ax\"",
    // Lower EL, AArch64: synchronous (entry 8) is the SMC path.
    rmm_test_support::vector_table!("el3_vectors", 8 => "el3_lower_sync_entry", others => "el3_fatal_entry"),
    "el3_fatal_entry:",
    "    bl {fatal}",
    "    b .",
    fatal = sym crate::fault::el3_exception,
);

// Save the lower EL's state, call the handler, restore the (possibly other) world.
global_asm!(
    ".section .text.el3_entry_exit, \"ax\"",
    "el3_lower_sync_entry:",
    "    stp x0, x1, [sp, #-16]!",
    "    mrs x0, tpidr_el3",
    "    ldr x0, [x0, #{cur}]",
    "    stp x2, x3, [x0, #16]",
    "    stp x4, x5, [x0, #32]",
    "    stp x6, x7, [x0, #48]",
    "    stp x8, x9, [x0, #64]",
    "    stp x10, x11, [x0, #80]",
    "    stp x12, x13, [x0, #96]",
    "    stp x14, x15, [x0, #112]",
    "    stp x16, x17, [x0, #128]",
    "    stp x18, x19, [x0, #144]",
    "    stp x20, x21, [x0, #160]",
    "    stp x22, x23, [x0, #176]",
    "    stp x24, x25, [x0, #192]",
    "    stp x26, x27, [x0, #208]",
    "    stp x28, x29, [x0, #224]",
    "    str x30, [x0, #240]",
    "    ldp x2, x3, [sp], #16",
    "    stp x2, x3, [x0, #0]",
    "    mrs x2, sp_el0",
    "    str x2, [x0, #{sp_el0}]",
    "    mrs x3, elr_el3",
    "    mrs x4, spsr_el3",
    "    stp x3, x4, [x0, #{elr}]",
    "    mrs x1, tpidr_el3",
    "    add x1, x1, #{fp}",
    "    stp q0, q1, [x1, #0]",
    "    stp q2, q3, [x1, #32]",
    "    stp q4, q5, [x1, #64]",
    "    stp q6, q7, [x1, #96]",
    "    stp q8, q9, [x1, #128]",
    "    stp q10, q11, [x1, #160]",
    "    stp q12, q13, [x1, #192]",
    "    stp q14, q15, [x1, #224]",
    "    stp q16, q17, [x1, #256]",
    "    stp q18, q19, [x1, #288]",
    "    stp q20, q21, [x1, #320]",
    "    stp q22, q23, [x1, #352]",
    "    stp q24, q25, [x1, #384]",
    "    stp q26, q27, [x1, #416]",
    "    stp q28, q29, [x1, #448]",
    "    stp q30, q31, [x1, #480]",
    "    mrs x2, fpcr",
    "    mrs x3, fpsr",
    "    add x1, x1, #{fpcr}",
    "    stp x2, x3, [x1]",
    "    mrs x0, tpidr_el3",
    "    ldr x2, [x0, #{sve}]",
    "    cbz x2, 3f",
    "    add x2, x0, #{z}",
    ".arch_extension sve",
    ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
    "    str z\\n, [x2, #\\n, mul vl]",
    ".endr",
    ".arch_extension nosve",
    "3:",
    "    bl {handler}",
    "    b el3_exit_to_lower",
    "",
    // Enter the running world of this CPU on a fresh stack (from Rust, never returns).
    ".global el3_enter_lower",
    "el3_enter_lower:",
    "    mrs x0, tpidr_el3",
    "    ldr x1, [x0, #{stack_top}]",
    "    mov sp, x1",
    "el3_exit_to_lower:",
    "    mrs x1, tpidr_el3",
    "    add x1, x1, #{fp}",
    "    ldp q0, q1, [x1, #0]",
    "    ldp q2, q3, [x1, #32]",
    "    ldp q4, q5, [x1, #64]",
    "    ldp q6, q7, [x1, #96]",
    "    ldp q8, q9, [x1, #128]",
    "    ldp q10, q11, [x1, #160]",
    "    ldp q12, q13, [x1, #192]",
    "    ldp q14, q15, [x1, #224]",
    "    ldp q16, q17, [x1, #256]",
    "    ldp q18, q19, [x1, #288]",
    "    ldp q20, q21, [x1, #320]",
    "    ldp q22, q23, [x1, #352]",
    "    ldp q24, q25, [x1, #384]",
    "    ldp q26, q27, [x1, #416]",
    "    ldp q28, q29, [x1, #448]",
    "    ldp q30, q31, [x1, #480]",
    "    add x1, x1, #{fpcr}",
    "    ldp x2, x3, [x1]",
    "    msr fpcr, x2",
    "    msr fpsr, x3",
    "    mrs x0, tpidr_el3",
    "    ldr x2, [x0, #{sve}]",
    "    cbz x2, 4f",
    "    add x2, x0, #{z}",
    ".arch_extension sve",
    ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
    "    ldr z\\n, [x2, #\\n, mul vl]",
    ".endr",
    ".arch_extension nosve",
    "4:",
    "    ldr x0, [x0, #{cur}]",
    "    ldr x2, [x0, #{sp_el0}]",
    "    msr sp_el0, x2",
    "    ldp x3, x4, [x0, #{elr}]",
    "    msr elr_el3, x3",
    "    msr spsr_el3, x4",
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
    "    eret",
    cur = const CUR_OFFSET,
    stack_top = const STACK_TOP_OFFSET,
    fp = const FP_OFFSET,
    fpcr = const FPCR_OFFSET,
    sve = const SVE_OFFSET,
    z = const Z_OFFSET,
    sp_el0 = const SP_EL0_OFFSET,
    elr = const ELR_OFFSET,
    handler = sym crate::percpu::lower_sync_entry,
);

unsafe extern "C" {
    fn el3_enter_lower() -> !;
}

/// Enters the running world of `cpu` (`PerCpu::cur`, with SCR_EL3 and the world's EL2
/// state already loaded) with `eret`, on a fresh EL3 stack. Taking the block by unique
/// reference guarantees nothing else borrows it when the exception entry code takes it
/// over; it must be this CPU's block (TPIDR_EL3).
pub fn enter_lower(cpu: &'static mut PerCpu) -> ! {
    let p: *mut PerCpu = cpu;
    assert_eq!(p as u64, crate::sysreg::tpidr_el3(), "not this CPU's block");
    // SAFETY: TPIDR_EL3 points at this CPU's block (checked), which `percpu::init` set
    // up with a complete context for the running world; the unique borrow ends here.
    // `el3_enter_lower` resets SP to the CPU's stack top, restores the context `cur`
    // points at and returns to it.
    unsafe { el3_enter_lower() }
}
