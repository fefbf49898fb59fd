//! A decoder for exactly the A64 instruction classes the firmware ELF check needs: which
//! words are FP/SIMD (or SVE/SME) instructions, and which change the stack pointer.
//!
//! References are to the Arm Architecture Reference Manual for A-profile (DDI 0487),
//! chapter C4 "A64 Instruction Set Encoding". Everything else decodes as
//! [`Insn::Other`] with, where the class says so, the register it writes.
//!
//! Why not a disassembler crate: both questions are about encoding *classes* (the
//! top-level `op0` field, the `V` bit of loads and stores, six SP-arithmetic forms),
//! which a mnemonic-level disassembler answers only through long lists of opcodes and
//! operand kinds that would have to be kept complete by hand; the class fields here are
//! a dozen lines, each checked against the manual's tables and by the tests below.

/// The stack pointer, as register number 31 where the encoding says it means SP.
pub const SP: u8 = 31;

/// One decoded instruction, as far as the checks care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insn {
    /// ADD/SUB (immediate), 64-bit, not setting flags (C4.1.92.4): `rd = rn ± imm`,
    /// register 31 being SP in both operands.
    AddSubImm { rd: u8, rn: u8, delta: i64 },
    /// AND (immediate), 64-bit (C4.1.92.5): `rd = rn & mask`, `rd` 31 being SP.
    AndImm { rd: u8, rn: u8, mask: u64 },
    /// A load or store with pre- or post-indexed writeback (register pair, C4.1.94.x;
    /// register with 9-bit immediate, C4.1.94.x): `rn += offset`. `loads` are the
    /// registers it loads (written).
    Writeback {
        rn: u8,
        offset: i64,
        loads: [Option<u8>; 2],
    },
    /// ADD/SUB (extended register) writing SP (C4.1.95.x): SP from a register, a
    /// dynamic allocation or restore the check cannot size.
    SpFromRegister,
    /// An instruction after which execution does not fall through: B, BR, RET, ERET.
    Terminator,
    /// Anything else; `writes` is its destination register when the class has one in
    /// bits [4:0] (data processing, loads), else `None`.
    Other { writes: Option<u8> },
}

/// Whether `w` is an FP/SIMD, SVE or SME instruction, or reads or writes FPCR/FPSR:
/// anything that touches the FP/SIMD register file or its control state.
///
/// - Top-level `op0` = bits [28:25] (C4.1, table C4-1): `x111` is "Data Processing --
///   Scalar Floating-Point and Advanced SIMD" (includes the crypto extensions on vector
///   registers); `0010` is SVE; `0000` with bit 31 set is SME.
/// - `x1x0` is "Loads and Stores"; in every load/store class bit 26 (`V`) selects the
///   SIMD&FP register file (LDR/STR/LDP/STP/LDUR (SIMD&FP), LD1..ST4 structures).
/// - MRS/MSR (register) of FPCR (op0 3, op1 3, CRn 4, CRm 4, op2 0) and FPSR (op2 1),
///   and FPMR (op2 2, FEAT_FPMR): bits [31:22] = 1101010100, bit 21 = L (MRS), bit 20
///   = 1 (op0 >= 2), bits [19:5] = o0:op1:CRn:CRm:op2. Likewise the SVE and SME
///   control registers (ZCR_EL1/EL2/EL12/EL3, SMCR_EL1/EL2/EL12/EL3, SMPRI_EL1, SVCR,
///   TPIDR2_EL0) and FPEXC32_EL2: they configure or expose FP/SIMD state too.
/// - MSR (immediate) to SVCR, i.e. SMSTART/SMSTOP (op1 3, CRn 4, CRm 0b0:ZA:SM:imm,
///   op2 3, Rt 31; C5.2 "MSR (immediate)"): entering or leaving streaming mode zeroes
///   the Z, P and V registers.
pub fn is_fp_simd(w: u32) -> bool {
    let op0 = (w >> 25) & 0xf;
    if op0 & 0b0111 == 0b0111 {
        return true;
    }
    if op0 == 0b0010 {
        return true;
    }
    if op0 == 0b0000 && w >> 31 == 1 {
        return true;
    }
    if op0 & 0b0101 == 0b0100 && (w >> 26) & 1 == 1 {
        return true;
    }
    // MSR (immediate), pstatefield SVCR: 1101 0101 0000 0 011 0100 0xxx 011 11111.
    if w & 0xffff_f8ff == 0xd503_407f {
        return true;
    }
    // MRS/MSR (register): 1101 0101 00 L 1 o0 op1 CRn CRm op2 Rt.
    if w & 0xffd0_0000 == 0xd510_0000 {
        let sysreg = (w >> 5) & 0x7fff; // o0:op1:CRn:CRm:op2 (op0 = 2 + o0)
        const fn encode(o0: u32, op1: u32, crn: u32, crm: u32, op2: u32) -> u32 {
            o0 << 14 | op1 << 11 | crn << 7 | crm << 3 | op2
        }
        const FP_CONTROL: &[u32] = &[
            encode(1, 3, 4, 4, 0),  // FPCR
            encode(1, 3, 4, 4, 1),  // FPSR
            encode(1, 3, 4, 4, 2),  // FPMR
            encode(1, 4, 5, 3, 0),  // FPEXC32_EL2
            encode(1, 0, 1, 2, 0),  // ZCR_EL1
            encode(1, 4, 1, 2, 0),  // ZCR_EL2
            encode(1, 5, 1, 2, 0),  // ZCR_EL12
            encode(1, 6, 1, 2, 0),  // ZCR_EL3
            encode(1, 0, 1, 2, 6),  // SMCR_EL1
            encode(1, 4, 1, 2, 6),  // SMCR_EL2
            encode(1, 5, 1, 2, 6),  // SMCR_EL12
            encode(1, 6, 1, 2, 6),  // SMCR_EL3
            encode(1, 0, 1, 2, 4),  // SMPRI_EL1
            encode(1, 3, 4, 2, 2),  // SVCR
            encode(1, 3, 13, 0, 5), // TPIDR2_EL0
        ];
        return FP_CONTROL.contains(&sysreg);
    }
    false
}

fn sign_extend(value: u32, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((u64::from(value) << shift) as i64) >> shift
}

/// `DecodeBitMasks(N, imms, immr, immediate = TRUE)` for 64-bit logical immediates
/// (Arm ARM, J1 shared pseudocode `aarch64/instrs/integer/bitmasks`): the `wmask`.
pub fn decode_bit_masks(n: u32, imms: u32, immr: u32) -> Option<u64> {
    // len = HighestSetBit(N:NOT(imms)).
    let combined = (n << 6) | (!imms & 0x3f);
    if combined == 0 {
        return None;
    }
    let len = 31 - combined.leading_zeros();
    if len < 1 {
        return None;
    }
    let esize = 1u32 << len;
    let levels = esize - 1;
    let s = imms & levels;
    let r = immr & levels;
    if s == levels {
        return None; // reserved: all ones
    }
    let welem: u64 = (1u64 << (s + 1)) - 1;
    let emask = if esize == 64 {
        u64::MAX
    } else {
        (1u64 << esize) - 1
    };
    let rotated = if r == 0 {
        welem
    } else {
        ((welem >> r) | (welem << (esize - r))) & emask
    };
    let mut out = 0u64;
    let mut i = 0;
    while i < 64 {
        out |= rotated << i;
        i += esize;
    }
    Some(out)
}

/// Decodes `w` into the classes [`Insn`] distinguishes.
pub fn decode(w: u32) -> Insn {
    let rd = (w & 0x1f) as u8;
    let rn = ((w >> 5) & 0x1f) as u8;
    // ADD/SUB (immediate): sf op S 100010 sh imm12 Rn Rd.
    if (w >> 23) & 0x3f == 0b100010 {
        let sf = w >> 31;
        let op = (w >> 30) & 1;
        let s = (w >> 29) & 1;
        if sf == 1 && s == 0 {
            let imm = i64::from((w >> 10) & 0xfff) << if (w >> 22) & 1 == 1 { 12 } else { 0 };
            return Insn::AddSubImm {
                rd,
                rn,
                delta: if op == 1 { -imm } else { imm },
            };
        }
        // Flag-setting forms write XZR when Rd = 31 (CMP/CMN).
        return Insn::Other {
            writes: (rd != 31).then_some(rd),
        };
    }
    // Logical (immediate): sf opc 100100 N immr imms Rn Rd; AND is opc 00.
    if (w >> 23) & 0x3f == 0b100100 {
        let sf = w >> 31;
        let opc = (w >> 29) & 3;
        if sf == 1 && opc == 0 {
            if let Some(mask) = decode_bit_masks((w >> 22) & 1, (w >> 10) & 0x3f, (w >> 16) & 0x3f)
            {
                return Insn::AndImm { rd, rn, mask };
            }
        }
        return Insn::Other {
            writes: (rd != 31).then_some(rd),
        };
    }
    // ADD/SUB (extended register): sf op S 01011 00 1 Rm option imm3 Rn Rd; with S = 0,
    // Rd 31 is SP.
    if (w >> 24) & 0x1f == 0b01011 && (w >> 21) & 1 == 1 {
        if (w >> 29) & 1 == 0 && rd == SP {
            return Insn::SpFromRegister;
        }
        return Insn::Other {
            writes: (rd != 31).then_some(rd),
        };
    }
    // Unconditional branch (immediate) B: 000101 imm26.
    if w >> 26 == 0b000101 {
        return Insn::Terminator;
    }
    // Unconditional branch (register) BR / RET / ERET (and their PAC forms):
    // 1101011 opc op2(11111) op3 Rn op4, opc 0000 BR, 0010 RET, 0100 ERET.
    if w >> 25 == 0b1101011 && (w >> 16) & 0x1f == 0x1f {
        let opc = (w >> 21) & 0xf;
        if matches!(opc, 0b0000 | 0b0010 | 0b0100 | 0b1000) {
            return Insn::Terminator;
        }
        return Insn::Other { writes: None };
    }
    let op0 = (w >> 25) & 0xf;
    if op0 & 0b0101 == 0b0100 {
        return decode_load_store(w);
    }
    // Data processing (immediate: 100x; register: x101): destination in Rd.
    if op0 & 0b1110 == 0b1000 || op0 & 0b0111 == 0b0101 {
        return Insn::Other {
            writes: (rd != 31).then_some(rd),
        };
    }
    Insn::Other { writes: None }
}

/// The load/store classes with writeback to the base register, and loads' targets.
fn decode_load_store(w: u32) -> Insn {
    let rt = (w & 0x1f) as u8;
    let rt2 = ((w >> 10) & 0x1f) as u8;
    let rn = ((w >> 5) & 0x1f) as u8;
    let v = (w >> 26) & 1;
    let reg = |r: u8| (v == 0 && r != 31).then_some(r);
    // Load/store register pair: opc 101 V 0 idx(2) L imm7 Rt2 Rn Rt (bits 29:27 = 101,
    // bit 25 = 0); idx 01 post-index, 11 pre-index (writeback), 10 offset, 00 no-allocate.
    if (w >> 27) & 0b111 == 0b101 && (w >> 25) & 1 == 0 {
        let opc = w >> 30;
        let idx = (w >> 23) & 3;
        let load = (w >> 22) & 1 == 1;
        let scale = match (v, opc) {
            (0, 0b00) => 2,
            (0, 0b01) if load => 2, // LDPSW
            (0, 0b01) => 4,         // STGP
            (0, _) => 3,
            (_, 0b00) => 2,
            (_, 0b01) => 3,
            _ => 4,
        };
        let loads = if load {
            [reg(rt), reg(rt2)]
        } else {
            [None, None]
        };
        if idx == 0b01 || idx == 0b11 {
            return Insn::Writeback {
                rn,
                offset: sign_extend((w >> 15) & 0x7f, 7) << scale,
                loads,
            };
        }
        return Insn::Other {
            writes: loads[0].or(loads[1]),
        };
    }
    // Load/store register classes: size 111 V x opc ... Rn Rt (bits 29:27 = 111), opc
    // (bits 23:22) 00 a store, otherwise a load (or prefetch); atomic memory operations
    // (bit 24 = 0, bit 21 = 1, bits 11:10 = 00) write Rt.
    if (w >> 27) & 0b111 == 0b111 {
        let opc = (w >> 22) & 3;
        let unscaled_or_indexed = (w >> 24) & 1 == 0 && (w >> 21) & 1 == 0;
        let atomic = (w >> 24) & 1 == 0 && (w >> 21) & 1 == 1 && (w >> 10) & 3 == 0;
        let loads = [if opc != 0 || atomic { reg(rt) } else { None }, None];
        // Pre/post-indexed (immediate): size 111 V 00 opc 0 imm9 idx Rn Rt, idx (bits
        // 11:10) 01 post-index, 11 pre-index.
        let idx = (w >> 10) & 3;
        if unscaled_or_indexed && (idx == 0b01 || idx == 0b11) {
            return Insn::Writeback {
                rn,
                offset: sign_extend((w >> 12) & 0x1ff, 9),
                loads,
            };
        }
        return Insn::Other { writes: loads[0] };
    }
    // Load register (literal) (bits 29:27 = 011, bit 24 = 0) writes Rt.
    if (w >> 27) & 0b111 == 0b011 && (w >> 24) & 1 == 0 {
        return Insn::Other { writes: reg(rt) };
    }
    // Load/store exclusive and ordered (bits 29:24 = 001000): loads (L, bit 22) write
    // Rt, store-exclusives write their status register Rs (bits 20:16).
    if (w >> 24) & 0x3f == 0b001000 {
        let rs = ((w >> 16) & 0x1f) as u8;
        let load = (w >> 22) & 1 == 1;
        return Insn::Other {
            writes: if load {
                reg(rt)
            } else {
                (rs != 31).then_some(rs)
            },
        };
    }
    Insn::Other { writes: None }
}

/// The stack a function's code reserves, from a straight-line walk of its instructions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Frame {
    /// The deepest SP below its value at entry (bytes), counting an alignment of SP
    /// (AND with a low-bits-clear mask) at its worst case.
    pub bytes: u64,
    /// Of which the worst-case slack of SP realignments.
    pub realign: u64,
    /// SP was set from a register the walk does not track (a dynamic allocation).
    pub dynamic: bool,
}

/// Walks `code` (a function's instruction words) in address order and returns its
/// frame: SP decrements (`sub sp, sp, #imm`, pre/post-indexed writeback to SP,
/// `mov sp, xN` where `xN` was computed from SP, as stack-probe loops do) are tracked
/// relative to SP at entry, through registers derived from SP by ADD/SUB/AND
/// (immediate).
///
/// Branches are not followed: conditional branches fall through (a probe loop's body
/// is walked once, then `mov sp, x9` sets the final value); after B/BR/RET/ERET the
/// walk restarts from SP at entry, so a prologue placed after an early return
/// (shrink-wrapping) is still seen. This suits compiler prologues, which are
/// straight-line code before any call.
pub fn frame(code: &[u32]) -> Frame {
    let mut out = Frame::default();
    let mut sp: Option<i64> = Some(0);
    let mut regs: [Option<i64>; 31] = [None; 31];
    let mut realign_of: [i64; 32] = [0; 32];
    fn note(sp: Option<i64>, realign: i64, out: &mut Frame) {
        if let Some(off) = sp {
            if off < 0 && (-off) as u64 > out.bytes {
                out.bytes = (-off) as u64;
                out.realign = realign as u64;
            }
        }
    }
    let mut sp_realign = 0i64;
    for &w in code {
        match decode(w) {
            Insn::AddSubImm { rd, rn, delta } => {
                let (src, ra) = if rn == SP {
                    (sp, sp_realign)
                } else {
                    (regs[rn as usize], realign_of[rn as usize])
                };
                let val = src.map(|v| v + delta);
                if rd == SP {
                    // SP from a register the walk does not know (`mov sp, x8` after an
                    // untracked computation): a frame it cannot size.
                    out.dynamic |= val.is_none() && sp.is_some();
                    sp = val;
                    sp_realign = ra;
                    note(sp, sp_realign, &mut out);
                } else {
                    regs[rd as usize] = val;
                    realign_of[rd as usize] = ra;
                }
            }
            Insn::AndImm { rd, rn, mask } => {
                // AND's Rn 31 is XZR, not SP.
                let src = if rn == 31 { None } else { regs[rn as usize] };
                let ra = if rn == 31 { 0 } else { realign_of[rn as usize] };
                let low = !mask;
                let (val, extra) = match src {
                    // Clearing the low bits aligns down: at most `low` bytes lower, and
                    // with SP 16-byte aligned (AAPCS64) at most `low - 15`.
                    Some(v) if mask.leading_ones() + low.trailing_ones() == 64 => {
                        let slack = if v % 16 == 0 && low >= 15 {
                            low as i64 - 15
                        } else {
                            low as i64
                        };
                        (Some(v - slack), slack)
                    }
                    _ => (None, 0),
                };
                if rd == SP {
                    out.dynamic |= val.is_none() && sp.is_some();
                    sp = val;
                    sp_realign = ra + extra;
                    note(sp, sp_realign, &mut out);
                } else {
                    regs[rd as usize] = val;
                    realign_of[rd as usize] = ra + extra;
                }
            }
            Insn::Writeback { rn, offset, loads } => {
                if rn == SP {
                    sp = sp.map(|v| v + offset);
                    note(sp, sp_realign, &mut out);
                } else {
                    regs[rn as usize] = None;
                }
                for r in loads.into_iter().flatten() {
                    regs[r as usize] = None;
                }
            }
            Insn::SpFromRegister => {
                out.dynamic = true;
                sp = None;
            }
            Insn::Terminator => {
                sp = Some(0);
                sp_realign = 0;
                regs = [None; 31];
            }
            Insn::Other { writes } => {
                if let Some(r) = writes {
                    regs[r as usize] = None;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    //! Instruction words assembled by hand from the Arm ARM's encoding diagrams (C4.1,
    //! C6.2), cross-checked with an assembler.
    use super::*;

    const FMOV_D0_D1: u32 = 0x1e60_4020;
    const FADD_S0_S1_S2: u32 = 0x1e22_2820;
    const LDR_Q0_X1: u32 = 0x3dc0_0020;
    const STR_D8_SP_8: u32 = 0xfd00_07e8;
    const STP_Q0_Q1_X0: u32 = 0xad00_0400;
    const LDP_D8_D9_SP_POST16: u32 = 0x6cc1_27e8;
    const STP_D8_D9_SP_PRE_M16: u32 = 0x6dbf_27e8;
    const MOVI_V0_2D_0: u32 = 0x6f00_e400;
    const LD1_V0_16B_X0: u32 = 0x4c40_7000;
    const ST1_V0_V1_X1_POST32: u32 = 0x4c9f_a020;
    const AESE_V0_V1: u32 = 0x4e28_4820;
    const MRS_X0_FPCR: u32 = 0xd53b_4400;
    const MRS_X1_FPSR: u32 = 0xd53b_4421;
    const MSR_FPCR_X2: u32 = 0xd51b_4402;
    const MSR_FPSR_X3: u32 = 0xd51b_4423;
    const LDUR_Q1_X0_M16: u32 = 0x3cdf_0001;
    const PTRUE_P0_B: u32 = 0x2518_e3e0;

    const ADD_X0_X1_X2: u32 = 0x8b02_0020;
    const LDR_X0_X1: u32 = 0xf940_0020;
    const STP_X29_X30_SP_PRE_M96: u32 = 0xa9ba_7bfd;
    const STR_X30_SP_PRE_M16: u32 = 0xf81f_0ffe;
    const LDP_X29_X30_SP_POST96: u32 = 0xa8c6_7bfd;
    const SUB_SP_SP_640: u32 = 0xd10a_03ff;
    const SUB_SP_SP_1_LSL12: u32 = 0xd140_07ff;
    const SUB_X9_SP_5_LSL12: u32 = 0xd140_17e9;
    const SUB_X9_X9_4000: u32 = 0xd13e_8129;
    const AND_X9_X9_NOT_FFF: u32 = 0x9274_cd29;
    const MOV_SP_X9: u32 = 0x9100_013f;
    const MOV_X29_SP: u32 = 0x9100_03fd;
    const ADD_SP_SP_48: u32 = 0x9100_c3ff;
    const STR_XZR_SP: u32 = 0xf900_03ff;
    const CMP_SP_X9: u32 = 0xeb29_63ff;
    const SUB_SP_SP_X8: u32 = 0xcb28_63ff;
    const RET: u32 = 0xd65f_03c0;
    const B_SELF: u32 = 0x1400_0000;
    const BR_X16: u32 = 0xd61f_0200;
    const BL_SELF: u32 = 0x9400_0000;
    const B_NE_SELF: u32 = 0x5400_0001;
    const B_LE_PLUS_20: u32 = 0x5400_00ad;
    const B_GT_MINUS_12: u32 = 0x54ff_ffac;
    const MRS_X0_TPIDR_EL2: u32 = 0xd53c_d040;
    const MSR_CPTR_EL2_X9: u32 = 0xd51c_1149;
    const ERET: u32 = 0xd69f_03e0;
    const UDF_0: u32 = 0x0000_0000;
    const NOP: u32 = 0xd503_201f;
    const STP_W0_W1_SP_PRE_M8: u32 = 0x29bf_07e0;
    const LDR_X19_SP_POST16: u32 = 0xf841_07f3;
    const SUB_SP_X29_16: u32 = 0xd100_43bf;
    const MOV_X0_X1: u32 = 0xaa01_03e0;
    const MOVZ_X9_0X37FF: u32 = 0xd286_ffe9;

    #[test]
    fn fp_simd_instructions_are_recognised() {
        for w in [
            FMOV_D0_D1,
            FADD_S0_S1_S2,
            LDR_Q0_X1,
            STR_D8_SP_8,
            STP_Q0_Q1_X0,
            LDP_D8_D9_SP_POST16,
            STP_D8_D9_SP_PRE_M16,
            MOVI_V0_2D_0,
            LD1_V0_16B_X0,
            ST1_V0_V1_X1_POST32,
            AESE_V0_V1,
            MRS_X0_FPCR,
            MRS_X1_FPSR,
            MSR_FPCR_X2,
            MSR_FPSR_X3,
            LDUR_Q1_X0_M16,
            PTRUE_P0_B,
        ] {
            assert!(is_fp_simd(w), "{w:#010x} is FP/SIMD");
        }
    }

    /// SME mode changes and the SVE/SME/AArch32 FP control registers, encodings as
    /// `llvm-mc -mattr=+sme,+sve -show-encoding` gives them (Arm ARM C5.2 MSR/MRS).
    #[test]
    fn sve_and_sme_control_is_fp_simd() {
        for w in [
            0xd503_477f, // smstart
            0xd503_467f, // smstop
            0xd503_437f, // smstart sm
            0xd503_447f, // smstop za
            0xd53c_1200, // mrs x0, ZCR_EL2
            0xd518_1201, // msr ZCR_EL1, x1
            0xd53b_4242, // mrs x2, SVCR
            0xd51c_5303, // msr FPEXC32_EL2, x3
            0xd53b_d0a4, // mrs x4, TPIDR2_EL0
            0xd51c_12c5, // msr SMCR_EL2, x5
        ] {
            assert!(is_fp_simd(w), "{w:#010x} is FP/SIMD control");
        }
    }

    /// `mov sp, x8` with x8 not derived from SP hides every later decrement: the frame
    /// is dynamic (the sequence used to come out as 0 bytes).
    #[test]
    fn sp_from_an_untracked_register_is_dynamic() {
        let code = [
            0x9100_03e8, // mov x8, sp
            0xcb09_0108, // sub x8, x8, x9 (untracked)
            0x9100_011f, // mov sp, x8
            0xd13e_83ff, // sub sp, sp, #4000
            RET,
        ];
        assert!(frame(&code).dynamic);
    }

    #[test]
    fn integer_and_system_instructions_are_not_fp_simd() {
        for w in [
            ADD_X0_X1_X2,
            LDR_X0_X1,
            STP_X29_X30_SP_PRE_M96,
            STR_X30_SP_PRE_M16,
            LDP_X29_X30_SP_POST96,
            SUB_SP_SP_640,
            AND_X9_X9_NOT_FFF,
            MOV_SP_X9,
            CMP_SP_X9,
            RET,
            B_SELF,
            BR_X16,
            BL_SELF,
            B_NE_SELF,
            MRS_X0_TPIDR_EL2,
            MSR_CPTR_EL2_X9,
            ERET,
            UDF_0,
            NOP,
            STP_W0_W1_SP_PRE_M8,
            MOV_X0_X1,
            MOVZ_X9_0X37FF,
        ] {
            assert!(!is_fp_simd(w), "{w:#010x} is not FP/SIMD");
        }
    }

    #[test]
    fn decodes_sp_arithmetic() {
        assert_eq!(
            decode(SUB_SP_SP_640),
            Insn::AddSubImm {
                rd: SP,
                rn: SP,
                delta: -640
            }
        );
        assert_eq!(
            decode(SUB_SP_SP_1_LSL12),
            Insn::AddSubImm {
                rd: SP,
                rn: SP,
                delta: -4096
            }
        );
        assert_eq!(
            decode(SUB_X9_SP_5_LSL12),
            Insn::AddSubImm {
                rd: 9,
                rn: SP,
                delta: -0x5000
            }
        );
        assert_eq!(
            decode(MOV_SP_X9),
            Insn::AddSubImm {
                rd: SP,
                rn: 9,
                delta: 0
            }
        );
        assert_eq!(
            decode(AND_X9_X9_NOT_FFF),
            Insn::AndImm {
                rd: 9,
                rn: 9,
                mask: !0xfff
            }
        );
        assert_eq!(
            decode(STP_X29_X30_SP_PRE_M96),
            Insn::Writeback {
                rn: SP,
                offset: -96,
                loads: [None, None]
            }
        );
        assert_eq!(
            decode(STR_X30_SP_PRE_M16),
            Insn::Writeback {
                rn: SP,
                offset: -16,
                loads: [None, None]
            }
        );
        assert_eq!(
            decode(LDP_X29_X30_SP_POST96),
            Insn::Writeback {
                rn: SP,
                offset: 96,
                loads: [Some(29), Some(30)]
            }
        );
        assert_eq!(
            decode(STP_D8_D9_SP_PRE_M16),
            Insn::Writeback {
                rn: SP,
                offset: -16,
                loads: [None, None]
            }
        );
        assert_eq!(
            decode(STP_W0_W1_SP_PRE_M8),
            Insn::Writeback {
                rn: SP,
                offset: -8,
                loads: [None, None]
            }
        );
        assert_eq!(
            decode(LDR_X19_SP_POST16),
            Insn::Writeback {
                rn: SP,
                offset: 16,
                loads: [Some(19), None]
            }
        );
        assert_eq!(decode(SUB_SP_SP_X8), Insn::SpFromRegister);
        assert_eq!(decode(CMP_SP_X9), Insn::Other { writes: None });
        assert_eq!(decode(STR_XZR_SP), Insn::Other { writes: None });
        assert_eq!(decode(LDR_X0_X1), Insn::Other { writes: Some(0) });
        assert_eq!(decode(MOVZ_X9_0X37FF), Insn::Other { writes: Some(9) });
        // stxr w9, x1, [x0]; ldrsw x9, [x1]; ldr x9, <literal>; ldadd x1, x9, [x0]
        for w in [0xc809_7c01, 0xb980_0029, 0x5800_0009, 0xf821_0009] {
            assert_eq!(decode(w), Insn::Other { writes: Some(9) }, "{w:#010x}");
        }
        for t in [RET, B_SELF, BR_X16, ERET] {
            assert_eq!(decode(t), Insn::Terminator, "{t:#010x}");
        }
        for f in [BL_SELF, B_NE_SELF] {
            assert_eq!(decode(f), Insn::Other { writes: None }, "{f:#010x}");
        }
    }

    #[test]
    fn bit_masks() {
        // N=1 immr=52 imms=51: 52 ones rotated right by 52 = all but the low 12 bits.
        assert_eq!(decode_bit_masks(1, 51, 52), Some(!0xfff));
        // N=0 imms=0b111100 (esize 2, one 1): 0x5555...
        assert_eq!(
            decode_bit_masks(0, 0b111100, 0),
            Some(0x5555_5555_5555_5555)
        );
        // N=1 imms=0: a single 1 at bit 0.
        assert_eq!(decode_bit_masks(1, 0, 0), Some(1));
        // All ones is reserved.
        assert_eq!(decode_bit_masks(1, 63, 0), None);
    }

    #[test]
    fn simple_frame() {
        // stp x29, x30, [sp, #-96]!; mov x29, sp; sub sp, sp, #640; ...; add sp; ldp; ret
        let f = frame(&[
            STP_X29_X30_SP_PRE_M96,
            MOV_X29_SP,
            SUB_SP_SP_640,
            BL_SELF,
            ADD_SP_SP_48,
            SUB_SP_X29_16,
            LDP_X29_X30_SP_POST96,
            RET,
        ]);
        assert_eq!(
            f,
            Frame {
                bytes: 736,
                realign: 0,
                dynamic: false
            }
        );
    }

    #[test]
    fn probe_loop_frame() {
        // The shape LLVM emits for a 24 KiB frame with a 4 KiB-aligned local:
        // x9 = align_down(sp - 0x5fa0, 4096); probe page by page; sp = x9.
        let f = frame(&[
            STP_X29_X30_SP_PRE_M96,
            MOV_X29_SP,
            SUB_X9_SP_5_LSL12,
            SUB_X9_X9_4000,
            AND_X9_X9_NOT_FFF,
            SUB_SP_SP_1_LSL12,
            CMP_SP_X9,
            B_LE_PLUS_20,
            STR_XZR_SP,
            SUB_SP_SP_1_LSL12,
            CMP_SP_X9,
            B_GT_MINUS_12,
            MOV_SP_X9,
            RET,
        ]);
        assert_eq!(
            f,
            Frame {
                bytes: 96 + 0x5fa0 + 4080,
                realign: 4080,
                dynamic: false
            }
        );
    }

    #[test]
    fn overwritten_register_is_not_tracked() {
        // x9 = sp - 0x5000, then x9 = 0x37ff: `mov sp, x9` is no longer SP-relative, so
        // nothing after it can be sized: the frame is dynamic (and fails the check).
        let f = frame(&[SUB_X9_SP_5_LSL12, MOVZ_X9_0X37FF, MOV_SP_X9, SUB_SP_SP_640]);
        assert_eq!(f.bytes, 0);
        assert!(f.dynamic);
    }

    #[test]
    fn prologue_after_early_return_is_seen() {
        let f = frame(&[RET, STR_X30_SP_PRE_M16, SUB_SP_SP_640, RET]);
        assert_eq!(f.bytes, 656);
    }

    #[test]
    fn dynamic_allocation_is_flagged() {
        let f = frame(&[STR_X30_SP_PRE_M16, SUB_SP_SP_X8]);
        assert!(f.dynamic);
        assert_eq!(f.bytes, 16);
    }
}
