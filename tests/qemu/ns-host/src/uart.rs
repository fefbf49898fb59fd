//! Console output on UART0 (PL011), which the EL3 monitor has configured: a byte-poll
//! writer.

use core::fmt;

const UART0_BASE: usize = 0x0900_0000;
const DR: usize = 0x00;
const FR: usize = 0x18;
const FR_TXFF: u32 = 1 << 5;

/// UART0 as a [`fmt::Write`]; `\n` is sent as `\r\n`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Uart;

fn put_byte(b: u8) {
    // SAFETY: UART0 is a PL011 at this physical address, accessible from the
    // Non-secure PAS with the MMU off; FR and DR are its flag and data registers.
    unsafe {
        while core::ptr::read_volatile((UART0_BASE + FR) as *const u32) & FR_TXFF != 0 {}
        core::ptr::write_volatile((UART0_BASE + DR) as *mut u32, b as u32);
    }
}

impl fmt::Write for Uart {
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
