//! SMC to EL3 (SMCCC 1.2: arguments and results in x0..x17; the RMM-EL3 interface uses
//! x0..x7).

use core::arch::asm;

/// Issues `smc #0` with x0 = `fid` and x1.. = `args` (at most 7; the rest zero), and
/// returns x0..=x7. Always inlined: the argument count is then a constant and the
/// copies into the register block are moves, not a `memcpy` of a slice.
#[inline(always)]
pub fn smc(fid: u32, args: &[u64]) -> [u64; 8] {
    let mut r = [0u64; 8];
    r[0] = fid as u64;
    let n = args.len().min(7);
    r[1..1 + n].copy_from_slice(&args[..n]);
    // x8..x17 go to EL3 as zero, never as whatever the RMM had in them: EL3 may pass
    // argument registers on to the Normal world (e.g. with RMM_RMI_REQ_COMPLETE), and
    // DEN0137 1.0, B1.2 wants the registers that are not results to read zero there.
    // SAFETY: an SMC transfers control to EL3, which returns to the next instruction
    // with results in x0..x17 and preserves every other register (SMCCC). The asm
    // declares x0..x7 as in/out and x8..x17 as zero inputs clobbered on return, and
    // touches no memory the compiler knows about.
    unsafe {
        asm!(
            "smc #0",
            inout("x0") r[0], inout("x1") r[1], inout("x2") r[2], inout("x3") r[3],
            inout("x4") r[4], inout("x5") r[5], inout("x6") r[6], inout("x7") r[7],
            inout("x8") 0u64 => _, inout("x9") 0u64 => _, inout("x10") 0u64 => _,
            inout("x11") 0u64 => _, inout("x12") 0u64 => _, inout("x13") 0u64 => _,
            inout("x14") 0u64 => _, inout("x15") 0u64 => _, inout("x16") 0u64 => _,
            inout("x17") 0u64 => _,
            options(nostack),
        );
    }
    r
}
