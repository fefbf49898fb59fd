//! Fatal errors at NS-EL2: an exception the vector code does not fix up, or a panic.
//! Both print on UART0 and end the QEMU run through the monitor.

use core::fmt::Write;

use rmm_test_support::fault::Syndrome;

use crate::run::{exit, EXIT_NS_FAULT, EXIT_NS_PANIC};
use crate::uart::Uart;

/// An exception other than a fixed-up data abort (from the vector code, with the
/// vector index).
pub extern "C" fn unexpected(vector: u64) -> ! {
    let s = Syndrome::el2();
    let _ = writeln!(
        Uart,
        "\nNS host: FATAL: unexpected exception (vector {vector}) at NS-EL2: {s}"
    );
    exit(EXIT_NS_FAULT)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let _ = writeln!(Uart, "\nNS host: PANIC: {info}");
    exit(EXIT_NS_PANIC)
}
