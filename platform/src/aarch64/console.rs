//! The console: a PL011 UART already configured by EL3, and a `log` logger over it.

use core::fmt::Write;
use core::ptr::NonNull;

use arm_pl011_uart::{PL011Registers, Uart, UniqueMmioPointer};
use spin::mutex::SpinMutex;

use crate::addr::PhysAddr;

static CONSOLE: SpinMutex<Option<Uart<'static>>> = SpinMutex::new(None);

/// Takes the PL011 at `base` as the console. EL3 has configured it (the boot manifest's
/// `clk_in_hz = 1`), so its baud rate is left alone.
///
/// # Safety
/// `base` must be the physical address of a PL011 register block, accessible at that
/// address (MMU off, or identity-mapped as device memory) for the rest of the RMM's
/// life, and not driven by any other code of the RMM.
pub unsafe fn init(base: PhysAddr) {
    let Some(ptr) = NonNull::new(base.0 as *mut PL011Registers) else {
        return;
    };
    // SAFETY: guaranteed by this function's contract.
    let regs = unsafe { UniqueMmioPointer::new(ptr) };
    *CONSOLE.lock() = Some(Uart::new(regs));
}

/// Writes a string to the console (if there is one).
pub fn write_str(s: &str) {
    if let Some(uart) = CONSOLE.lock().as_mut() {
        for b in s.bytes() {
            if b == b'\n' {
                let _ = uart.write_char('\r');
            }
            let _ = uart.write_char(b as char);
        }
    }
}

/// Writes formatted text to the console.
pub fn write_fmt(args: core::fmt::Arguments<'_>) {
    struct W;
    impl Write for W {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            write_str(s);
            Ok(())
        }
    }
    let _ = W.write_fmt(args);
}

/// The console logger.
pub struct Logger;

impl log::Log for Logger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            write_fmt(format_args!("[{:5}] {}\n", r.level(), r.args()));
        }
    }

    fn flush(&self) {}
}

static LOGGER: Logger = Logger;

/// Installs the console logger with the given level.
pub fn init_logger(level: log::LevelFilter) {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}
