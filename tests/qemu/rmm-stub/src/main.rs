//! The RMM stub: a benchmark fixture that stands where `rmm.img` does (R-EL2, loaded by
//! TF-A at 0x4010_0000) and answers RMI calls with as little work as possible, so that
//! `cargo xtask bench --qemu` can measure what EL3 costs per RMI round trip under the
//! same TF-A and subtract exactly that from the RMM's figures (not product code).
//!
//! Under QEMU's `-icount shift=0` the generic counter advances once per instruction, so
//! the stub counts its own instructions with two reads of CNTPCT_EL0 and returns the
//! count to the Normal world; the bench subtracts it from the round trip it timed, and
//! what remains is EL3's.
//!
//! - Boot (cold or warm): `RMM_BOOT_COMPLETE` with status 0; EL3 returns with the
//!   first RMI call.
//! - `RMI_GRANULE_DELEGATE` / `RMI_GRANULE_UNDELEGATE` (x1 = PA): the matching GTSI call
//!   to EL3 (`RMM_GTSI_DELEGATE` / `RMM_GTSI_UNDELEGATE`), timed as well, so that EL3's
//!   part of a delegation (its GPT update) is measured with the switch; the answer's x0
//!   is EL3's status (0 = success), x1 the stub's own instructions, EL3's excluded.
//! - Any other call: x0 = 0, x1 = the stub's own instructions.
//!
//! Every answer is `RMM_RMI_REQ_COMPLETE` (x1..=x5 become the Normal world's x0..=x4),
//! after which EL3 returns with the next call. The RMM-EL3 function IDs are stated here
//! from TF-A's RMM-EL3 interface (not taken from `platform`).
//!
//! The instruction count is exact for the code as written: the counter reads bracket
//! everything but a fixed tail (the instructions from the second read to the answering
//! SMC, and the branch back to `serve` that the next call runs first), added as a
//! constant. Change the tail and the constants together.

#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
core::arch::global_asm!(
    ".section .text.entry, \"ax\"",
    ".global stub_entry",
    "stub_entry:",
    // RMM_BOOT_COMPLETE (0xC40001CF), x1 = 0: booted.
    "    mov  x1, #0",
    "    movz x0, #0x01CF",
    "    movk x0, #0xC400, lsl #16",
    "    smc  #0",
    // x0 = the RMI function ID, x1.. its arguments.
    "serve:",
    "    mrs  x9, cntpct_el0",
    // RMI_GRANULE_DELEGATE 0xC4000151, RMI_GRANULE_UNDELEGATE 0xC4000152.
    "    movz x10, #0x0151",
    "    movk x10, #0xC400, lsl #16",
    "    cmp  x0, x10",
    "    b.eq 1f",
    "    add  x10, x10, #1",
    "    cmp  x0, x10",
    "    b.eq 2f",
    // Anything else: x0 = 0, x1 = own instructions. Tail after the second read: sub,
    // add, mov, movz, movk, smc, and the `b serve` the next call runs: 7, plus the
    // second read itself.
    "    mrs  x11, cntpct_el0",
    "    sub  x2, x11, x9",
    "    add  x2, x2, #8",
    "    mov  x1, #0",
    "    movz x0, #0x018F",
    "    movk x0, #0xC400, lsl #16",
    "    smc  #0",
    "    b    serve",
    // RMM_GTSI_DELEGATE 0xC40001B0 (x1 = PA, as the RMI call gave it).
    "1:  movz x0, #0x01B0",
    "    b    3f",
    // RMM_GTSI_UNDELEGATE 0xC40001B1.
    "2:  movz x0, #0x01B1",
    "3:  movk x0, #0xC400, lsl #16",
    // The GTSI call, bracketed: x15 = EL3's instructions (the delta less the read and
    // the SMC, which are the stub's).
    "    mrs  x13, cntpct_el0",
    "    smc  #0",
    "    mrs  x14, cntpct_el0",
    "    sub  x15, x14, x13",
    "    sub  x15, x15, #2",
    "    mov  x16, x0",
    // Tail after the second read: sub, sub, add, mov, movz, movk, smc and the next
    // call's `b serve`: 8, plus the read.
    "    mrs  x11, cntpct_el0",
    "    sub  x2, x11, x9",
    "    sub  x2, x2, x15",
    "    add  x2, x2, #9",
    "    mov  x1, x16",
    "    movz x0, #0x018F",
    "    movk x0, #0xC400, lsl #16",
    "    smc  #0",
    "    b    serve",
);

/// Host build: bare-metal code for QEMU; nothing to run here.
#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!(
        "rmm-test-rmm-stub is an R-EL2 benchmark fixture for QEMU (aarch64-unknown-none); \
         run it with `cargo xtask bench --qemu`"
    );
}

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
