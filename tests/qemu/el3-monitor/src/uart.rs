//! The console: UART0, a PL011, configured here like TF-A does (115200 8N1 from QEMU's
//! 24 MHz UART clock, FIFOs on) so that the RMM and the test host can use it as is
//! (the boot manifest says `clk_in_hz = 1`: already configured).
//!
//! Output from several CPUs is serialised by a spin lock
//! (`rmm_test_support::pl011::Console`); [`println!`] writes a line.

use rmm_test_support::pl011::{Console, ConsoleGuard, Pl011};

use crate::layout::UART0_BASE;

/// UART input clock of QEMU `virt`.
const CLOCK_HZ: u32 = 24_000_000;
/// Baud rate (as in the boot manifest).
const BAUD: u32 = 115_200;

/// UART0.
// SAFETY: UART0 is a PL011 at this physical address, mapped as device memory with the
// MMU off and accessible from the Root PAS (GPI_ANY); the monitor programs it once
// ([`init`]) and otherwise only sends bytes to it, under [`LOCK`].
const UART0: Pl011 = unsafe { Pl011::new(UART0_BASE) };

/// The console lock.
static LOCK: Console = Console::new();

/// Takes the console lock.
pub fn lock() -> ConsoleGuard<'static> {
    LOCK.lock(UART0)
}

/// Takes the console even if another CPU holds it (for fatal errors).
pub fn force() -> ConsoleGuard<'static> {
    LOCK.force(UART0)
}

/// Programs UART0: disabled, baud divisors, 8N1 with FIFOs, interrupts masked, enabled.
pub fn init() {
    UART0.init(CLOCK_HZ, BAUD);
}

/// Waits until everything written has left the UART.
pub fn flush() {
    UART0.flush();
}

/// Prints a line on the console, prefixed with `EL3: `.
macro_rules! println {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let mut c = $crate::uart::lock();
        let _ = c.write_str("EL3: ");
        let _ = c.write_fmt(format_args!($($arg)*));
        let _ = c.write_str("\n");
    }};
}
pub(crate) use println;
