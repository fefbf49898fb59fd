//! Saving and loading the FP/SIMD registers (V0..V31, FPCR, FPSR): the only FP/SIMD
//! instructions in the RMM (`FP_SIMD_ALLOWED` in the xtask's ELF check lists exactly
//! these two routines).
//!
//! At R-EL2, CPTR_EL2.TFP is set ([`super::world::CPTR_EL2_RMM`]): every FP/SIMD
//! instruction traps. Each routine reads CPTR_EL2, clears TFP, synchronises (ISB),
//! moves the registers, then writes CPTR_EL2 back as it was and synchronises again, so
//! that no RMM code after it runs with FP/SIMD enabled. They use only x0..x3.

use core::arch::global_asm;

use crate::arch::FpRegs;

// The firmware target has no FP/SIMD: the assembler accepts these instructions only
// inside the `.arch_extension` bracket, which ends with the routines.
global_asm!(
    ".arch_extension fp",
    ".arch_extension simd",
    ".text",
    ".balign 8",
    ".global platform_fp_save",
    ".type platform_fp_save, %function",
    "platform_fp_save:",
    "    mrs x1, cptr_el2",
    "    bic x2, x1, #{tfp}",
    "    msr cptr_el2, x2",
    "    isb",
    "    stp q0, q1, [x0, #0]",
    "    stp q2, q3, [x0, #32]",
    "    stp q4, q5, [x0, #64]",
    "    stp q6, q7, [x0, #96]",
    "    stp q8, q9, [x0, #128]",
    "    stp q10, q11, [x0, #160]",
    "    stp q12, q13, [x0, #192]",
    "    stp q14, q15, [x0, #224]",
    "    stp q16, q17, [x0, #256]",
    "    stp q18, q19, [x0, #288]",
    "    stp q20, q21, [x0, #320]",
    "    stp q22, q23, [x0, #352]",
    "    stp q24, q25, [x0, #384]",
    "    stp q26, q27, [x0, #416]",
    "    stp q28, q29, [x0, #448]",
    "    stp q30, q31, [x0, #480]",
    "    mrs x2, fpcr",
    "    mrs x3, fpsr",
    "    add x0, x0, #{fpcr}",
    "    stp x2, x3, [x0]",
    "    msr cptr_el2, x1",
    "    isb",
    "    ret",
    ".size platform_fp_save, . - platform_fp_save",
    "",
    ".global platform_fp_load",
    ".type platform_fp_load, %function",
    "platform_fp_load:",
    "    mrs x1, cptr_el2",
    "    bic x2, x1, #{tfp}",
    "    msr cptr_el2, x2",
    "    isb",
    "    ldp q0, q1, [x0, #0]",
    "    ldp q2, q3, [x0, #32]",
    "    ldp q4, q5, [x0, #64]",
    "    ldp q6, q7, [x0, #96]",
    "    ldp q8, q9, [x0, #128]",
    "    ldp q10, q11, [x0, #160]",
    "    ldp q12, q13, [x0, #192]",
    "    ldp q14, q15, [x0, #224]",
    "    ldp q16, q17, [x0, #256]",
    "    ldp q18, q19, [x0, #288]",
    "    ldp q20, q21, [x0, #320]",
    "    ldp q22, q23, [x0, #352]",
    "    ldp q24, q25, [x0, #384]",
    "    ldp q26, q27, [x0, #416]",
    "    ldp q28, q29, [x0, #448]",
    "    ldp q30, q31, [x0, #480]",
    "    add x0, x0, #{fpcr}",
    "    ldp x2, x3, [x0]",
    "    msr fpcr, x2",
    "    msr fpsr, x3",
    "    msr cptr_el2, x1",
    "    isb",
    "    ret",
    ".size platform_fp_load, . - platform_fp_load",
    ".arch_extension nosimd",
    ".arch_extension nofp",
    tfp = const super::world::CPTR_EL2_TFP,
    fpcr = const FpRegs::FPCR_OFFSET,
);

unsafe extern "C" {
    fn platform_fp_save(into: *mut FpRegs);
    fn platform_fp_load(from: *const FpRegs);
}

/// Stores this CPU's FP/SIMD registers in `into`.
pub fn save(into: &mut FpRegs) {
    // SAFETY: `into` is valid for writes of an FpRegs and 16-byte aligned (its type's
    // alignment), as the Q-register stores need; the routine writes nothing else, uses
    // only x0..x3 (caller-saved) and leaves CPTR_EL2 as it found it.
    unsafe { platform_fp_save(into) }
}

/// Loads this CPU's FP/SIMD registers from `from`.
pub fn load(from: &FpRegs) {
    // SAFETY: as for `save`, reading `from`. It changes V0..V31, FPCR and FPSR, which
    // hold no value of the RMM (built without FP/SIMD code): only the Normal world's
    // or a realm's state, which the caller is switching.
    unsafe { platform_fp_load(from) }
}
