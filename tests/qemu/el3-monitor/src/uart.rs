//! The console: UART0, a PL011, configured here like TF-A does (115200 8N1 from QEMU's
//! 24 MHz UART clock, FIFOs on) so that the RMM and the test host can use it as is
//! (the boot manifest says `clk_in_hz = 1`: already configured).
//!
//! Output from several CPUs is serialised by a spin lock; [`println!`] writes a line.

use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::layout::UART0_BASE;

const DR: usize = 0x00;
const FR: usize = 0x18;
const IBRD: usize = 0x24;
const FBRD: usize = 0x28;
const LCR_H: usize = 0x2C;
const CR: usize = 0x30;
const IMSC: usize = 0x38;
const ICR: usize = 0x44;

const FR_TXFF: u32 = 1 << 5;
const FR_BUSY: u32 = 1 << 3;
const LCR_H_WLEN8_FEN: u32 = 0x70;
const CR_UARTEN_TXE_RXE: u32 = 0x301;

/// UART input clock of QEMU `virt`.
const CLOCK_HZ: u32 = 24_000_000;
/// Baud rate (as in the boot manifest).
const BAUD: u32 = 115_200;

fn write_reg(off: usize, v: u32) {
    // SAFETY: UART0 is a PL011 at this physical address, mapped as device memory with
    // the MMU off and accessible from the Root PAS (GPI_ANY); `off` is a register offset
    // inside its 4 KiB block.
    unsafe { core::ptr::write_volatile((UART0_BASE + off) as *mut u32, v) }
}

fn read_reg(off: usize) -> u32 {
    // SAFETY: as for `write_reg`.
    unsafe { core::ptr::read_volatile((UART0_BASE + off) as *const u32) }
}

/// Programs UART0: disabled, baud divisors, 8N1 with FIFOs, interrupts masked, enabled.
pub fn init() {
    write_reg(CR, 0);
    // Divisor = clock / (16 * baud) in 16.6 fixed point.
    let div64 = (CLOCK_HZ * 4 + BAUD / 2) / BAUD;
    write_reg(IBRD, div64 >> 6);
    write_reg(FBRD, div64 & 0x3F);
    write_reg(LCR_H, LCR_H_WLEN8_FEN);
    write_reg(IMSC, 0);
    write_reg(ICR, 0x7FF);
    write_reg(CR, CR_UARTEN_TXE_RXE);
}

fn put_byte(b: u8) {
    while read_reg(FR) & FR_TXFF != 0 {}
    write_reg(DR, b as u32);
}

/// Waits until everything written has left the UART.
pub fn flush() {
    while read_reg(FR) & FR_BUSY != 0 {}
}

static LOCK: AtomicBool = AtomicBool::new(false);

/// A writer holding the console lock.
pub struct Console(());

impl Console {
    /// Takes the console lock.
    pub fn lock() -> Self {
        while LOCK
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        Console(())
    }

    /// Takes the console even if another CPU holds it (for fatal errors).
    pub fn force() -> Self {
        LOCK.store(true, Ordering::Release);
        Console(())
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        LOCK.store(false, Ordering::Release);
    }
}

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                put_byte(b'\r');
            }
            put_byte(b);
        }
        Ok(())
    }
}

/// Prints a line on the console, prefixed with `EL3: `.
macro_rules! println {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let mut c = $crate::uart::Console::lock();
        let _ = c.write_str("EL3: ");
        let _ = c.write_fmt(format_args!($($arg)*));
        let _ = c.write_str("\n");
    }};
}
pub(crate) use println;
