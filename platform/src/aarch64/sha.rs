//! SHA-256 and SHA-512 block compression with the CPU's SHA-2 instructions (FEAT_SHA256:
//! SHA256H, SHA256H2, SHA256SU0, SHA256SU1; FEAT_SHA512: SHA512H, SHA512H2,
//! SHA512SU0, SHA512SU1), the RMM's one use of the FP/SIMD registers besides the
//! register switch of [`super::fp`].
//!
//! The instructions work on the SIMD&FP registers, which hold the Normal world's state
//! during an RMI call and a realm's while the RMM handles its exits. Each routine is
//! one explicit save/restore region (`FP_SIMD_ALLOWED` in the xtask's ELF check lists
//! it): it reads CPTR_EL2, clears TFP, synchronises (ISB), saves the vector registers
//! it uses into this CPU's save area, compresses every block, puts those registers back
//! and then CPTR_EL2 as it was, and synchronises again, so that no RMM code runs with
//! FP/SIMD enabled and the registers are bit-exact as before. With FEAT_SVE (`sve`
//! set) a write of a V register zeroes the bits of its Z register above 127, so the
//! routine saves and restores the used Z registers in full instead, with CPTR_EL2.TZ
//! also cleared and ZCR_EL2.LEN at its maximum for the copy (as
//! [`super::fp::save_host_z`] does), ZCR_EL2 put back after. FPCR and FPSR are not
//! touched: the instructions used (LD1, ST1, LDR/STR and LDP/STP of Q and Z registers,
//! MOV, ADD, EXT, REV32, REV64 (vector) and the SHA-2 instructions) are integer
//! operations that neither read FPCR nor write FPSR (none saturates or raises a
//! floating-point exception).
//!
//! The code is laid out for the architecture's data flow (Arm ARM C7.2, the SHA-2
//! instructions' pseudocode): SHA-256 keeps {a,b,c,d} and {e,f,g,h} in v0 and v1 and
//! does four rounds per SHA256H/SHA256H2 pair, the schedule four words per
//! SHA256SU0/SHA256SU1; SHA-512 keeps the pairs {a,b}, {c,d}, {e,f}, {g,h} (the first
//! of each in lane 0) in a rotation of v0..v4 with the state of the block's start in
//! v5..v8, does two rounds per SHA512H/SHA512H2 pair and the schedule two words per
//! SHA512SU0/SHA512SU1. The round constants come from [`crate::sha::K256`] and
//! [`crate::sha::K512`].

use core::arch::global_asm;
use core::cell::UnsafeCell;

use crate::arch::LiveVectors;
use crate::layout::PLATFORM;
use crate::sha::{Block256, Block512, K256, K512};

/// The largest SVE vector length in bytes (2048 bits, Arm ARM: ZCR_ELx.LEN up to 15).
const MAX_VL_BYTES: usize = 256;
/// ZCR_EL2.LEN for the largest vector length the hardware and EL3 allow.
const ZCR_LEN_MAX: u64 = 0xF;
/// Vector registers the SHA-256 routine uses: v0..v13.
const REGS_256: usize = 14;
/// Vector registers the SHA-512 routine uses: v0..v24.
const REGS_512: usize = 25;

/// Bytes of one CPU's save area.
const AREA: usize = REGS_512 * MAX_VL_BYTES;

/// Each CPU's copy of the vector registers a routine borrows (Z registers at the
/// largest vector length, or Q registers without SVE), AREA bytes per CPU. Only the
/// routines use it, through its symbol.
#[repr(C, align(16))]
struct SaveAreas(#[allow(dead_code)] UnsafeCell<[[u8; AREA]; PLATFORM.max_cpus]>);

// SAFETY: only the routines below touch the areas, each CPU only its own (indexed by
// TPIDR_EL2, the CPU id the entry code sets before any Rust code runs, below
// `max_cpus`, as the exception vectors use it), and only inside one routine call,
// which does not nest: the RMM runs with exceptions masked and calls no hash from an
// exception handler.
unsafe impl Sync for SaveAreas {}

static SAVE: SaveAreas = SaveAreas(UnsafeCell::new([[0; AREA]; PLATFORM.max_cpus]));

const _: () = assert!(AREA.is_multiple_of(16) && AREA < 1 << 16);

// x0 = state, x1 = blocks, x2 = block count (> 0), x3 = round constants, x4 = 1 to save
// Z registers (FEAT_SVE), 0 to save Q registers (moved to x5; x4 is then this CPU's
// save area, TPIDR_EL2 * AREA bytes into SAVE). Uses x0..x10.
// The assembler accepts the FP/SIMD, SVE and SHA instructions only inside the
// `.arch_extension` bracket, which ends with the routines.
global_asm!(
    ".arch_extension fp",
    ".arch_extension simd",
    ".arch_extension sve",
    ".arch_extension sha2",
    ".arch_extension sha3",
    // One step of each algorithm, its registers as parameters (register numbers):
    // four SHA-256 rounds with or without the schedule update of the word they consume
    // (`w0`, round constants `k`, the next words `w1..w3`), two SHA-512 rounds likewise
    // (the schedule words `w*`, constants `k`, and the five state registers in their
    // rotation). The bodies below invoke them with the rotation written out.
    ".macro sha256_4r_sched w0, k, w1, w2, w3",
    "    add v9.4s, v\\w0\\().4s, v\\k\\().4s",
    "    sha256su0 v\\w0\\().4s, v\\w1\\().4s",
    "    mov v2.16b, v0.16b",
    "    sha256h q0, q1, v9.4s",
    "    sha256h2 q1, q2, v9.4s",
    "    sha256su1 v\\w0\\().4s, v\\w2\\().4s, v\\w3\\().4s",
    ".endm",
    ".macro sha256_4r w0, k",
    "    add v9.4s, v\\w0\\().4s, v\\k\\().4s",
    "    mov v2.16b, v0.16b",
    "    sha256h q0, q1, v9.4s",
    "    sha256h2 q1, q2, v9.4s",
    ".endm",
    ".macro sha512_2r_sched w0, k, w1, w4, w5, w7, t, gh, a, b, c, d, x, y, z",
    "    add v17.2d, v\\w0\\().2d, v\\k\\().2d",
    "    sha512su0 v\\w0\\().2d, v\\w1\\().2d",
    "    ext v20.16b, v\\w4\\().16b, v\\w5\\().16b, #8",
    "    sha512su1 v\\w0\\().2d, v\\w7\\().2d, v20.2d",
    "    ext v\\t\\().16b, v17.16b, v17.16b, #8",
    "    add v\\t\\().2d, v\\t\\().2d, v\\gh\\().2d",
    "    ext v18.16b, v\\a\\().16b, v\\b\\().16b, #8",
    "    ext v19.16b, v\\c\\().16b, v\\d\\().16b, #8",
    "    sha512h q\\t\\(), q18, v19.2d",
    "    add v\\x\\().2d, v\\y\\().2d, v\\t\\().2d",
    "    sha512h2 q\\t\\(), q\\y\\(), v\\z\\().2d",
    ".endm",
    ".macro sha512_2r w0, k, t, gh, a, b, c, d, x, y, z",
    "    add v17.2d, v\\w0\\().2d, v\\k\\().2d",
    "    ext v\\t\\().16b, v17.16b, v17.16b, #8",
    "    add v\\t\\().2d, v\\t\\().2d, v\\gh\\().2d",
    "    ext v18.16b, v\\a\\().16b, v\\b\\().16b, #8",
    "    ext v19.16b, v\\c\\().16b, v\\d\\().16b, #8",
    "    sha512h q\\t\\(), q18, v19.2d",
    "    add v\\x\\().2d, v\\y\\().2d, v\\t\\().2d",
    "    sha512h2 q\\t\\(), q\\y\\(), v\\z\\().2d",
    ".endm",
    ".text",
    ".balign 8",
    ".global platform_sha256_blocks",
    ".type platform_sha256_blocks, %function",
    "platform_sha256_blocks:",
    "    mov x5, x4",
    "    adrp x4, {save}",
    "    add x4, x4, :lo12:{save}",
    "    mrs x10, tpidr_el2",
    "    mov x9, #{area}",
    "    madd x4, x10, x9, x4",
    "    mrs x7, cptr_el2",
    "    bic x8, x7, #{tfp}",
    "    cbz x5, 2f",
    "    bic x8, x8, #{tz}",
    "    msr cptr_el2, x8",
    "    isb",
    "    mrs x9, S3_4_C1_C2_0",
    "    mov x10, #{zcr_len}",
    "    msr S3_4_C1_C2_0, x10",
    "    isb",
    ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13",
    "    str z\\n, [x4, #\\n, mul vl]",
    ".endr",
    "    b 3f",
    "2:",
    "    msr cptr_el2, x8",
    "    isb",
    "    stp q0, q1, [x4, #0]",
    "    stp q2, q3, [x4, #32]",
    "    stp q4, q5, [x4, #64]",
    "    stp q6, q7, [x4, #96]",
    "    stp q8, q9, [x4, #128]",
    "    stp q10, q11, [x4, #160]",
    "    stp q12, q13, [x4, #192]",
    "3:",
    "    ld1 {{v0.4s, v1.4s}}, [x0]",
    "4:",
    "    ld1 {{v5.16b, v6.16b, v7.16b, v8.16b}}, [x1], #64",
    "    rev32 v5.16b, v5.16b",
    "    rev32 v6.16b, v6.16b",
    "    rev32 v7.16b, v7.16b",
    "    rev32 v8.16b, v8.16b",
    "    mov v3.16b, v0.16b",
    "    mov v4.16b, v1.16b",
    "    mov x6, x3",
    "    ld1 {{v10.4s, v11.4s, v12.4s, v13.4s}}, [x6], #64",
    "    sha256_4r_sched 5, 10, 6, 7, 8",
    "    sha256_4r_sched 6, 11, 7, 8, 5",
    "    sha256_4r_sched 7, 12, 8, 5, 6",
    "    sha256_4r_sched 8, 13, 5, 6, 7",
    "    ld1 {{v10.4s, v11.4s, v12.4s, v13.4s}}, [x6], #64",
    "    sha256_4r_sched 5, 10, 6, 7, 8",
    "    sha256_4r_sched 6, 11, 7, 8, 5",
    "    sha256_4r_sched 7, 12, 8, 5, 6",
    "    sha256_4r_sched 8, 13, 5, 6, 7",
    "    ld1 {{v10.4s, v11.4s, v12.4s, v13.4s}}, [x6], #64",
    "    sha256_4r_sched 5, 10, 6, 7, 8",
    "    sha256_4r_sched 6, 11, 7, 8, 5",
    "    sha256_4r_sched 7, 12, 8, 5, 6",
    "    sha256_4r_sched 8, 13, 5, 6, 7",
    "    ld1 {{v10.4s, v11.4s, v12.4s, v13.4s}}, [x6], #64",
    "    sha256_4r 5, 10",
    "    sha256_4r 6, 11",
    "    sha256_4r 7, 12",
    "    sha256_4r 8, 13",
    "    add v0.4s, v0.4s, v3.4s",
    "    add v1.4s, v1.4s, v4.4s",
    "    subs x2, x2, #1",
    "    b.ne 4b",
    "    st1 {{v0.4s, v1.4s}}, [x0]",
    "    cbz x5, 5f",
    ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13",
    "    ldr z\\n, [x4, #\\n, mul vl]",
    ".endr",
    "    msr S3_4_C1_C2_0, x9",
    "    b 6f",
    "5:",
    "    ldp q0, q1, [x4, #0]",
    "    ldp q2, q3, [x4, #32]",
    "    ldp q4, q5, [x4, #64]",
    "    ldp q6, q7, [x4, #96]",
    "    ldp q8, q9, [x4, #128]",
    "    ldp q10, q11, [x4, #160]",
    "    ldp q12, q13, [x4, #192]",
    "6:",
    "    msr cptr_el2, x7",
    "    isb",
    "    ret",
    ".size platform_sha256_blocks, . - platform_sha256_blocks",
    "",
    ".global platform_sha512_blocks",
    ".type platform_sha512_blocks, %function",
    "platform_sha512_blocks:",
    "    mov x5, x4",
    "    adrp x4, {save}",
    "    add x4, x4, :lo12:{save}",
    "    mrs x10, tpidr_el2",
    "    mov x9, #{area}",
    "    madd x4, x10, x9, x4",
    "    mrs x7, cptr_el2",
    "    bic x8, x7, #{tfp}",
    "    cbz x5, 2f",
    "    bic x8, x8, #{tz}",
    "    msr cptr_el2, x8",
    "    isb",
    "    mrs x9, S3_4_C1_C2_0",
    "    mov x10, #{zcr_len}",
    "    msr S3_4_C1_C2_0, x10",
    "    isb",
    ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24",
    "    str z\\n, [x4, #\\n, mul vl]",
    ".endr",
    "    b 3f",
    "2:",
    "    msr cptr_el2, x8",
    "    isb",
    "    stp q0, q1, [x4, #0]",
    "    stp q2, q3, [x4, #32]",
    "    stp q4, q5, [x4, #64]",
    "    stp q6, q7, [x4, #96]",
    "    stp q8, q9, [x4, #128]",
    "    stp q10, q11, [x4, #160]",
    "    stp q12, q13, [x4, #192]",
    "    stp q14, q15, [x4, #224]",
    "    stp q16, q17, [x4, #256]",
    "    stp q18, q19, [x4, #288]",
    "    stp q20, q21, [x4, #320]",
    "    stp q22, q23, [x4, #352]",
    "    str q24, [x4, #384]",
    "3:",
    "    ld1 {{v5.2d, v6.2d, v7.2d, v8.2d}}, [x0]",
    "4:",
    "    ld1 {{v9.16b, v10.16b, v11.16b, v12.16b}}, [x1], #64",
    "    ld1 {{v13.16b, v14.16b, v15.16b, v16.16b}}, [x1], #64",
    "    rev64 v9.16b, v9.16b",
    "    rev64 v10.16b, v10.16b",
    "    rev64 v11.16b, v11.16b",
    "    rev64 v12.16b, v12.16b",
    "    rev64 v13.16b, v13.16b",
    "    rev64 v14.16b, v14.16b",
    "    rev64 v15.16b, v15.16b",
    "    rev64 v16.16b, v16.16b",
    "    mov v0.16b, v5.16b",
    "    mov v1.16b, v6.16b",
    "    mov v2.16b, v7.16b",
    "    mov v3.16b, v8.16b",
    "    mov x6, x3",
    "    ld1 {{v21.2d, v22.2d, v23.2d, v24.2d}}, [x6], #64",
    "    sha512_2r_sched 9, 21, 10, 13, 14, 16, 4, 3, 2, 3, 1, 2, 3, 1, 0",
    "    sha512_2r_sched 10, 22, 11, 14, 15, 9, 1, 2, 3, 2, 0, 3, 2, 0, 4",
    "    sha512_2r_sched 11, 23, 12, 15, 16, 10, 0, 3, 2, 3, 4, 2, 3, 4, 1",
    "    sha512_2r_sched 12, 24, 13, 16, 9, 11, 4, 2, 3, 2, 1, 3, 2, 1, 0",
    "    ld1 {{v21.2d, v22.2d, v23.2d, v24.2d}}, [x6], #64",
    "    sha512_2r_sched 13, 21, 14, 9, 10, 12, 1, 3, 2, 3, 0, 2, 3, 0, 4",
    "    sha512_2r_sched 14, 22, 15, 10, 11, 13, 0, 2, 3, 2, 4, 3, 2, 4, 1",
    "    sha512_2r_sched 15, 23, 16, 11, 12, 14, 4, 3, 2, 3, 1, 2, 3, 1, 0",
    "    sha512_2r_sched 16, 24, 9, 12, 13, 15, 1, 2, 3, 2, 0, 3, 2, 0, 4",
    "    ld1 {{v21.2d, v22.2d, v23.2d, v24.2d}}, [x6], #64",
    "    sha512_2r_sched 9, 21, 10, 13, 14, 16, 0, 3, 2, 3, 4, 2, 3, 4, 1",
    "    sha512_2r_sched 10, 22, 11, 14, 15, 9, 4, 2, 3, 2, 1, 3, 2, 1, 0",
    "    sha512_2r_sched 11, 23, 12, 15, 16, 10, 1, 3, 2, 3, 0, 2, 3, 0, 4",
    "    sha512_2r_sched 12, 24, 13, 16, 9, 11, 0, 2, 3, 2, 4, 3, 2, 4, 1",
    "    ld1 {{v21.2d, v22.2d, v23.2d, v24.2d}}, [x6], #64",
    "    sha512_2r_sched 13, 21, 14, 9, 10, 12, 4, 3, 2, 3, 1, 2, 3, 1, 0",
    "    sha512_2r_sched 14, 22, 15, 10, 11, 13, 1, 2, 3, 2, 0, 3, 2, 0, 4",
    "    sha512_2r_sched 15, 23, 16, 11, 12, 14, 0, 3, 2, 3, 4, 2, 3, 4, 1",
    "    sha512_2r_sched 16, 24, 9, 12, 13, 15, 4, 2, 3, 2, 1, 3, 2, 1, 0",
    "    ld1 {{v21.2d, v22.2d, v23.2d, v24.2d}}, [x6], #64",
    "    sha512_2r_sched 9, 21, 10, 13, 14, 16, 1, 3, 2, 3, 0, 2, 3, 0, 4",
    "    sha512_2r_sched 10, 22, 11, 14, 15, 9, 0, 2, 3, 2, 4, 3, 2, 4, 1",
    "    sha512_2r_sched 11, 23, 12, 15, 16, 10, 4, 3, 2, 3, 1, 2, 3, 1, 0",
    "    sha512_2r_sched 12, 24, 13, 16, 9, 11, 1, 2, 3, 2, 0, 3, 2, 0, 4",
    "    ld1 {{v21.2d, v22.2d, v23.2d, v24.2d}}, [x6], #64",
    "    sha512_2r_sched 13, 21, 14, 9, 10, 12, 0, 3, 2, 3, 4, 2, 3, 4, 1",
    "    sha512_2r_sched 14, 22, 15, 10, 11, 13, 4, 2, 3, 2, 1, 3, 2, 1, 0",
    "    sha512_2r_sched 15, 23, 16, 11, 12, 14, 1, 3, 2, 3, 0, 2, 3, 0, 4",
    "    sha512_2r_sched 16, 24, 9, 12, 13, 15, 0, 2, 3, 2, 4, 3, 2, 4, 1",
    "    ld1 {{v21.2d, v22.2d, v23.2d, v24.2d}}, [x6], #64",
    "    sha512_2r_sched 9, 21, 10, 13, 14, 16, 4, 3, 2, 3, 1, 2, 3, 1, 0",
    "    sha512_2r_sched 10, 22, 11, 14, 15, 9, 1, 2, 3, 2, 0, 3, 2, 0, 4",
    "    sha512_2r_sched 11, 23, 12, 15, 16, 10, 0, 3, 2, 3, 4, 2, 3, 4, 1",
    "    sha512_2r_sched 12, 24, 13, 16, 9, 11, 4, 2, 3, 2, 1, 3, 2, 1, 0",
    "    ld1 {{v21.2d, v22.2d, v23.2d, v24.2d}}, [x6], #64",
    "    sha512_2r_sched 13, 21, 14, 9, 10, 12, 1, 3, 2, 3, 0, 2, 3, 0, 4",
    "    sha512_2r_sched 14, 22, 15, 10, 11, 13, 0, 2, 3, 2, 4, 3, 2, 4, 1",
    "    sha512_2r_sched 15, 23, 16, 11, 12, 14, 4, 3, 2, 3, 1, 2, 3, 1, 0",
    "    sha512_2r_sched 16, 24, 9, 12, 13, 15, 1, 2, 3, 2, 0, 3, 2, 0, 4",
    "    ld1 {{v21.2d, v22.2d, v23.2d, v24.2d}}, [x6], #64",
    "    sha512_2r 9, 21, 0, 3, 2, 3, 4, 2, 3, 4, 1",
    "    sha512_2r 10, 22, 4, 2, 3, 2, 1, 3, 2, 1, 0",
    "    sha512_2r 11, 23, 1, 3, 2, 3, 0, 2, 3, 0, 4",
    "    sha512_2r 12, 24, 0, 2, 3, 2, 4, 3, 2, 4, 1",
    "    ld1 {{v21.2d, v22.2d, v23.2d, v24.2d}}, [x6], #64",
    "    sha512_2r 13, 21, 4, 3, 2, 3, 1, 2, 3, 1, 0",
    "    sha512_2r 14, 22, 1, 2, 3, 2, 0, 3, 2, 0, 4",
    "    sha512_2r 15, 23, 0, 3, 2, 3, 4, 2, 3, 4, 1",
    "    sha512_2r 16, 24, 4, 2, 3, 2, 1, 3, 2, 1, 0",
    "    add v5.2d, v5.2d, v4.2d",
    "    add v6.2d, v6.2d, v0.2d",
    "    add v7.2d, v7.2d, v2.2d",
    "    add v8.2d, v8.2d, v3.2d",
    "    subs x2, x2, #1",
    "    b.ne 4b",
    "    st1 {{v5.2d, v6.2d, v7.2d, v8.2d}}, [x0]",
    "    cbz x5, 5f",
    ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24",
    "    ldr z\\n, [x4, #\\n, mul vl]",
    ".endr",
    "    msr S3_4_C1_C2_0, x9",
    "    b 6f",
    "5:",
    "    ldp q0, q1, [x4, #0]",
    "    ldp q2, q3, [x4, #32]",
    "    ldp q4, q5, [x4, #64]",
    "    ldp q6, q7, [x4, #96]",
    "    ldp q8, q9, [x4, #128]",
    "    ldp q10, q11, [x4, #160]",
    "    ldp q12, q13, [x4, #192]",
    "    ldp q14, q15, [x4, #224]",
    "    ldp q16, q17, [x4, #256]",
    "    ldp q18, q19, [x4, #288]",
    "    ldp q20, q21, [x4, #320]",
    "    ldp q22, q23, [x4, #352]",
    "    ldr q24, [x4, #384]",
    "6:",
    "    msr cptr_el2, x7",
    "    isb",
    "    ret",
    ".size platform_sha512_blocks, . - platform_sha512_blocks",
    ".arch_extension nosha3",
    ".arch_extension nosha2",
    ".arch_extension nosve",
    ".arch_extension nosimd",
    ".arch_extension nofp",
    tfp = const crate::cptr::TFP,
    tz = const crate::cptr::TZ,
    zcr_len = const ZCR_LEN_MAX,
    save = sym SAVE,
    area = const AREA,
);

unsafe extern "C" {
    fn platform_sha256_blocks(
        state: *mut [u32; 8],
        blocks: *const Block256,
        count: usize,
        k: *const u32,
        sve: u64,
    );
    fn platform_sha512_blocks(
        state: *mut [u64; 8],
        blocks: *const Block512,
        count: usize,
        k: *const u64,
        sve: u64,
    );
}

fn sve_flag(live: LiveVectors) -> u64 {
    match live {
        LiveVectors::V128 => 0,
        LiveVectors::SveZ => 1,
    }
}

/// The SHA-256 compression function over `blocks` with the SHA-256 instructions.
pub fn sha256_blocks(live: LiveVectors, state: &mut [u32; 8], blocks: &[Block256]) {
    if blocks.is_empty() {
        return;
    }
    const _: () = assert!(REGS_256 <= REGS_512);
    // SAFETY: `state` is valid for reads and writes of 8 words and `blocks` for reads of
    // `blocks.len()` blocks (any alignment: LD1/ST1 of bytes and words need none with
    // the MMU's Normal memory, SCTLR_EL2.A clear); K256 is 64 words. The routine's save
    // area is this CPU's (see SaveAreas), 16-byte aligned and large enough for
    // REGS_256 registers of the largest vector length. The routine writes only `state` and the save area, uses
    // x0..x10 (caller-saved) and leaves CPTR_EL2, ZCR_EL2, FPCR, FPSR and every vector
    // register as it found them. FEAT_SHA256 is the caller's contract
    // (Arch::sha256_blocks), and with `LiveVectors::SveZ` FEAT_SVE and EL3's enable of
    // SVE for the Realm world, as for `fp::save_host_z`.
    unsafe {
        platform_sha256_blocks(
            state,
            blocks.as_ptr(),
            blocks.len(),
            K256.as_ptr(),
            sve_flag(live),
        )
    }
}

/// The SHA-512 compression function over `blocks` with the SHA-512 instructions.
pub fn sha512_blocks(live: LiveVectors, state: &mut [u64; 8], blocks: &[Block512]) {
    if blocks.is_empty() {
        return;
    }
    // SAFETY: as for `sha256_blocks`, with K512 (80 doublewords), REGS_512 registers
    // and FEAT_SHA512.
    unsafe {
        platform_sha512_blocks(
            state,
            blocks.as_ptr(),
            blocks.len(),
            K512.as_ptr(),
            sve_flag(live),
        )
    }
}
