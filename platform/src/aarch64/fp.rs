//! Saving and loading the FP/SIMD registers (V0..V31, FPCR, FPSR), and the Normal
//! world's SVE Z registers: the only FP/SIMD and SVE instructions in the RMM
//! (`FP_SIMD_ALLOWED` in the xtask's ELF check lists exactly these four routines).
//!
//! At R-EL2, CPTR_EL2.TFP is set ([`super::world::CPTR_EL2_RMM`]): every FP/SIMD
//! instruction traps. Each routine reads CPTR_EL2, clears TFP, synchronises (ISB),
//! moves the registers, then writes CPTR_EL2 back as it was and synchronises again, so
//! that no RMM code after it runs with FP/SIMD enabled. They use only x0..x3.

use core::arch::global_asm;

use core::cell::UnsafeCell;

use crate::arch::{CpuId, FpRegs};
use crate::layout::PLATFORM;

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

/// The largest SVE vector length in bytes (2048 bits, Arm ARM: ZCR_ELx.LEN up to 15).
const MAX_VL_BYTES: usize = 256;
/// ZCR_EL2.LEN for the largest vector length the hardware and EL3 (ZCR_EL3.LEN) allow.
const ZCR_LEN_MAX: u64 = 0xF;

/// One CPU's copy of the Normal world's Z0..Z31 at the largest vector length.
#[repr(C, align(16))]
struct HostZ(UnsafeCell<[u8; 32 * MAX_VL_BYTES]>);

/// Per-CPU copies of the Normal world's Z registers while a REC runs.
struct HostZs([HostZ; PLATFORM.max_cpus]);

// SAFETY: each CPU touches only its own slot (indexed by its own CPU id, which the RMM
// passes for the CPU it runs on), and only between `save_host_z` and `restore_host_z`
// of one RMI_REC_ENTER; no two CPUs share a slot.
unsafe impl Sync for HostZs {}

static HOST_Z: HostZs =
    HostZs([const { HostZ(UnsafeCell::new([0; 32 * MAX_VL_BYTES])) }; PLATFORM.max_cpus]);

// SVE at R-EL2 needs CPTR_EL2.TZ and TFP clear: each routine clears both, synchronises,
// sets ZCR_EL2.LEN to its maximum (the effective length is then the largest the PE and
// ZCR_EL3 allow, at least the Normal world's), moves Z0..Z31 with STR/LDR (vector),
// whose offsets scale with the vector length, then puts ZCR_EL2 and CPTR_EL2 back as
// they were and synchronises. They use only x0..x4.
global_asm!(
    ".arch_extension sve",
    ".text",
    ".balign 8",
    ".global platform_sve_save_z",
    ".type platform_sve_save_z, %function",
    "platform_sve_save_z:",
    "    mrs x1, cptr_el2",
    "    bic x2, x1, #{tfp}",
    "    bic x2, x2, #{tz}",
    "    msr cptr_el2, x2",
    "    mrs x3, S3_4_C1_C2_0",
    "    mov x4, #{len}",
    "    msr S3_4_C1_C2_0, x4",
    "    isb",
    ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
    "    str z\\n, [x0, #\\n, mul vl]",
    ".endr",
    "    msr S3_4_C1_C2_0, x3",
    "    msr cptr_el2, x1",
    "    isb",
    "    ret",
    ".size platform_sve_save_z, . - platform_sve_save_z",
    "",
    ".global platform_sve_load_z",
    ".type platform_sve_load_z, %function",
    "platform_sve_load_z:",
    "    mrs x1, cptr_el2",
    "    bic x2, x1, #{tfp}",
    "    bic x2, x2, #{tz}",
    "    msr cptr_el2, x2",
    "    mrs x3, S3_4_C1_C2_0",
    "    mov x4, #{len}",
    "    msr S3_4_C1_C2_0, x4",
    "    isb",
    ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
    "    ldr z\\n, [x0, #\\n, mul vl]",
    ".endr",
    "    msr S3_4_C1_C2_0, x3",
    "    msr cptr_el2, x1",
    "    isb",
    "    ret",
    ".size platform_sve_load_z, . - platform_sve_load_z",
    ".arch_extension nosve",
    tfp = const super::world::CPTR_EL2_TFP,
    tz = const 1u64 << 8,
    len = const ZCR_LEN_MAX,
);

unsafe extern "C" {
    fn platform_sve_save_z(into: *mut u8);
    fn platform_sve_load_z(from: *const u8);
}

/// The current CPU's slot (`cpu` is its id).
fn host_z(cpu: CpuId) -> *mut u8 {
    HOST_Z.0[cpu.0].0.get().cast()
}

/// Stores the current CPU's Z0..Z31 in its slot.
pub fn save_host_z(cpu: CpuId) {
    // SAFETY: the slot is this CPU's (see HostZs), 32 * 256 bytes, as much as 32
    // vectors of the largest length; the routine writes only there, uses only x0..x4
    // and leaves CPTR_EL2 and ZCR_EL2 as it found them. The SVE hardware and EL3's
    // enable for the Realm world are the caller's contract (Arch::save_host_sve).
    unsafe { platform_sve_save_z(host_z(cpu)) }
}

/// Loads the current CPU's Z0..Z31 from its slot.
pub fn restore_host_z(cpu: CpuId) {
    // SAFETY: as for `save_host_z`, reading the slot. It changes Z0..Z31 (and so
    // V0..V31), which hold no value of the RMM (built without FP/SIMD code).
    unsafe { platform_sve_load_z(host_z(cpu)) }
}
