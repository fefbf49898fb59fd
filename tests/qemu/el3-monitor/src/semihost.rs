//! Ending the QEMU run: semihosting `SYS_EXIT` with an exit status (QEMU must run with
//! `-semihosting-config enable=on`; `cargo xtask run` passes it).

use core::sync::atomic::{AtomicBool, Ordering};

/// Semihosting operation `SYS_EXIT`.
const SYS_EXIT: u64 = 0x18;
/// `ADP_Stopped_ApplicationExit`: the reason code that carries an exit status.
const ADP_STOPPED_APPLICATION_EXIT: u64 = 0x2_0026;

static EXITING: AtomicBool = AtomicBool::new(false);

/// Makes QEMU exit with `status`. If semihosting is not enabled (the `hlt` then traps
/// back to EL3 as an undefined instruction, which lands here again) or the call
/// returns, the CPU parks instead.
pub fn exit(status: u32) -> ! {
    crate::uart::flush();
    if !EXITING.swap(true, Ordering::SeqCst) {
        let block: [u64; 2] = [ADP_STOPPED_APPLICATION_EXIT, status as u64];
        // SAFETY: `hlt #0xf000` is the AArch64 semihosting call; QEMU reads the
        // two-word parameter block at x1 (on this stack, valid for the call) and
        // terminates. No register other than x0 is changed.
        unsafe {
            core::arch::asm!(
                "hlt #0xf000",
                inout("x0") SYS_EXIT => _,
                in("x1") block.as_ptr(),
                options(nostack, readonly),
            );
        }
    }
    loop {
        crate::sysreg::wfi();
    }
}

/// Exit status: the RMM reported a boot failure.
pub const EXIT_RMM_BOOT_FAILED: u32 = 2;
/// Exit status: an unexpected exception from a lower EL reached EL3.
pub const EXIT_LOWER_EL_FAULT: u32 = 3;
/// Exit status: an exception was taken at EL3, or the monitor panicked.
pub const EXIT_EL3_FAULT: u32 = 4;
/// Exit status: the monitor could not set the machine up (or lost a CPU).
pub const EXIT_MONITOR_ERROR: u32 = 5;
