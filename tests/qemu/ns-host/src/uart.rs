//! Console output on UART0 (PL011), which the EL3 monitor has configured: a byte-poll
//! writer (`rmm_test_support::pl011`), without a lock, and polled input.

use core::fmt;

use rmm_test_support::pl011::Pl011;

const UART0_BASE: usize = 0x0900_0000;

/// One byte received on UART0, if one has arrived.
pub fn try_get_byte() -> Option<u8> {
    // SAFETY: as for `Uart`'s output; the host is UART0's only reader.
    unsafe { Pl011::new(UART0_BASE) }.try_get_byte()
}

/// UART0 as a [`fmt::Write`]; `\n` is sent as `\r\n`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Uart;

impl fmt::Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // SAFETY: UART0 is a PL011 at this physical address, accessible from the
        // Non-secure PAS with the MMU off; the host only sends bytes to it.
        unsafe { Pl011::new(UART0_BASE) }.put_str(s);
        Ok(())
    }
}
