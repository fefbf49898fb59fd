//! SMC to EL3 (SMCCC 1.2: arguments and results in x0..x17; the RMM-EL3 interface uses
//! x0..x7).

use core::arch::asm;

use crate::el3::{RMM_BOOT_COMPLETE, RMM_RMI_REQ_COMPLETE};

/// Issues `smc #0` with x0 = `fid` and x1.. = `args` (at most 7), and returns x0..=x7. Always inlined: the argument count and `fid` are then constants, the
/// copies into the register block are moves, not a `memcpy` of a slice, and only one of
/// the two kinds of call below remains.
///
/// - The calls after which EL3 resumes the Normal world (`RMM_RMI_REQ_COMPLETE`, and
///   `RMM_BOOT_COMPLETE`, after which the first request arrives): every register of
///   x1..x17 that is not an argument goes to EL3 as zero, never as whatever the RMM had
///   in it, since EL3 may pass argument registers on to the Normal world, and
///   DEN0137 1.0, B1.2 wants the registers that are not results to read zero there.
/// - EL3's services to the RMM (GTSI, attestation, features): nothing of them reaches
///   the Normal world, and EL3 may read all of the RMM's memory anyway, so the
///   registers past the arguments are left as they are (declared clobbered).
#[inline(always)]
pub fn smc(fid: u32, args: &[u64]) -> [u64; 8] {
    if fid == RMM_RMI_REQ_COMPLETE || fid == RMM_BOOT_COMPLETE {
        smc_to_normal_world(fid, args)
    } else if args.len() <= 1 {
        smc_service_1(fid, args.first().copied().unwrap_or(0))
    } else {
        smc_service(fid, args)
    }
}

/// x0 = `fid`, x1.. = `args` (at most 7), the rest zero.
#[inline(always)]
fn registers(fid: u32, args: &[u64]) -> [u64; 8] {
    let mut r = [0u64; 8];
    r[0] = fid as u64;
    let n = args.len().min(7);
    r[1..1 + n].copy_from_slice(&args[..n]);
    r
}

#[inline(always)]
fn smc_to_normal_world(fid: u32, args: &[u64]) -> [u64; 8] {
    let mut r = registers(fid, args);
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

/// An EL3 service call with one argument (GTSI): x0 and x1 set, x2..x17 whatever.
#[inline(always)]
fn smc_service_1(fid: u32, x1: u64) -> [u64; 8] {
    let mut r = [0u64; 8];
    // SAFETY: as for `smc_to_normal_world`; x2..x17 are outputs only (clobbered).
    unsafe {
        asm!(
            "smc #0",
            inout("x0") fid as u64 => r[0], inout("x1") x1 => r[1],
            out("x2") r[2], out("x3") r[3], out("x4") r[4], out("x5") r[5],
            out("x6") r[6], out("x7") r[7], out("x8") _, out("x9") _, out("x10") _,
            out("x11") _, out("x12") _, out("x13") _, out("x14") _, out("x15") _,
            out("x16") _, out("x17") _,
            options(nostack),
        );
    }
    r
}

/// An EL3 service call with up to seven arguments: x1..x7 set (zero past `args`),
/// x8..x17 whatever.
#[inline(always)]
fn smc_service(fid: u32, args: &[u64]) -> [u64; 8] {
    let mut r = registers(fid, args);
    // SAFETY: as for `smc_to_normal_world`; x8..x17 are outputs only (clobbered).
    unsafe {
        asm!(
            "smc #0",
            inout("x0") r[0], inout("x1") r[1], inout("x2") r[2], inout("x3") r[3],
            inout("x4") r[4], inout("x5") r[5], inout("x6") r[6], inout("x7") r[7],
            out("x8") _, out("x9") _, out("x10") _, out("x11") _, out("x12") _,
            out("x13") _, out("x14") _, out("x15") _, out("x16") _, out("x17") _,
            options(nostack),
        );
    }
    r
}
