//! Output on an Arm PL011 UART (PrimeCell UART (PL011) Technical Reference Manual,
//! r1p5, section 3: the registers below): programming it ([`Pl011::init`]), polled
//! byte output with `\n` sent as `\r\n` ([`Pl011`] is a [`fmt::Write`]), and a console
//! that serialises output from several CPUs with a spin lock ([`Console`]).
//!
//! The base address is the caller's: each fixture states its own layout.

use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

/// UARTDR, the data register.
const DR: usize = 0x00;
/// UARTFR, the flag register.
const FR: usize = 0x18;
/// UARTIBRD, the integer baud rate divisor.
const IBRD: usize = 0x24;
/// UARTFBRD, the fractional baud rate divisor.
const FBRD: usize = 0x28;
/// UARTLCR_H, the line control register.
const LCR_H: usize = 0x2C;
/// UARTCR, the control register.
const CR: usize = 0x30;
/// UARTIMSC, the interrupt mask set/clear register.
const IMSC: usize = 0x38;
/// UARTICR, the interrupt clear register.
const ICR: usize = 0x44;

/// UARTFR.RXFE: the receive FIFO is empty.
const FR_RXFE: u32 = 1 << 4;
/// UARTFR.TXFF: the transmit FIFO is full.
const FR_TXFF: u32 = 1 << 5;
/// UARTFR.BUSY: the UART is still sending.
const FR_BUSY: u32 = 1 << 3;
/// UARTLCR_H: WLEN = 0b11 (8 bits), FEN (FIFOs on); one stop bit, no parity.
const LCR_H_WLEN8_FEN: u32 = 0x70;
/// UARTCR: UARTEN, TXE, RXE.
const CR_UARTEN_TXE_RXE: u32 = 0x301;
/// UARTICR: every interrupt.
const ICR_ALL: u32 = 0x7FF;

/// A PL011 at a fixed physical address, accessed with the MMU off (or mapped as Device
/// memory at the same address).
#[derive(Clone, Copy, Debug)]
pub struct Pl011 {
    base: usize,
}

impl Pl011 {
    /// The PL011 whose 4 KiB register block is at `base`.
    ///
    /// # Safety
    /// `base` must be the address of a PL011's registers, accessible to the code that
    /// uses the returned value for as long as it uses it, and nothing else may use
    /// that block in a way that conflicts with polled output.
    pub const unsafe fn new(base: usize) -> Self {
        Self { base }
    }

    fn write_reg(&self, off: usize, v: u32) {
        // SAFETY: `base` is a PL011's register block (the contract of `new`) and `off`
        // one of its register offsets.
        unsafe { core::ptr::write_volatile((self.base + off) as *mut u32, v) }
    }

    fn read_reg(&self, off: usize) -> u32 {
        // SAFETY: as for `write_reg`.
        unsafe { core::ptr::read_volatile((self.base + off) as *const u32) }
    }

    /// Programs the UART: disabled, baud rate divisors for `baud` from the input clock
    /// `clock_hz`, 8N1 with FIFOs, interrupts masked and cleared, enabled for transmit
    /// and receive.
    pub fn init(&self, clock_hz: u32, baud: u32) {
        self.write_reg(CR, 0);
        // Divisor = clock / (16 * baud) in 16.6 fixed point, rounded.
        let div64 = (clock_hz * 4 + baud / 2) / baud;
        self.write_reg(IBRD, div64 >> 6);
        self.write_reg(FBRD, div64 & 0x3F);
        self.write_reg(LCR_H, LCR_H_WLEN8_FEN);
        self.write_reg(IMSC, 0);
        self.write_reg(ICR, ICR_ALL);
        self.write_reg(CR, CR_UARTEN_TXE_RXE);
    }

    /// Sends one byte once the transmit FIFO has room.
    pub fn put_byte(&self, b: u8) {
        while self.read_reg(FR) & FR_TXFF != 0 {}
        self.write_reg(DR, b as u32);
    }

    /// Sends `s`, each `\n` as `\r\n`.
    pub fn put_str(&self, s: &str) {
        for b in s.bytes() {
            if b == b'\n' {
                self.put_byte(b'\r');
            }
            self.put_byte(b);
        }
    }

    /// Takes one received byte (UARTDR's data bits), if the receive FIFO holds one.
    pub fn try_get_byte(&self) -> Option<u8> {
        (self.read_reg(FR) & FR_RXFE == 0).then(|| self.read_reg(DR) as u8)
    }

    /// Waits until everything written has left the UART.
    pub fn flush(&self) {
        while self.read_reg(FR) & FR_BUSY != 0 {}
    }
}

impl fmt::Write for Pl011 {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.put_str(s);
        Ok(())
    }
}

/// The lock of a [`Pl011`] shared by several CPUs: a writer holds it, so that lines
/// from different CPUs do not interleave. It holds no address (a static of it is all
/// zeroes, in `.bss`): the caller names the UART when it takes the lock.
#[derive(Debug, Default)]
pub struct Console {
    busy: AtomicBool,
}

impl Console {
    /// An unlocked console.
    pub const fn new() -> Self {
        Self {
            busy: AtomicBool::new(false),
        }
    }

    /// Takes the lock for output on `uart`, spinning while another CPU holds it.
    pub fn lock(&self, uart: Pl011) -> ConsoleGuard<'_> {
        while self
            .busy
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        ConsoleGuard { lock: self, uart }
    }

    /// Takes the lock even if another CPU holds it (for a fatal error, which must get
    /// out even if it interrupted a writer).
    pub fn force(&self, uart: Pl011) -> ConsoleGuard<'_> {
        self.busy.store(true, Ordering::Release);
        ConsoleGuard { lock: self, uart }
    }
}

/// A writer on a [`Pl011`] holding its [`Console`] lock until dropped.
#[derive(Debug)]
pub struct ConsoleGuard<'a> {
    lock: &'a Console,
    uart: Pl011,
}

impl Drop for ConsoleGuard<'_> {
    fn drop(&mut self) {
        self.lock.busy.store(false, Ordering::Release);
    }
}

impl fmt::Write for ConsoleGuard<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.uart.put_str(s);
        Ok(())
    }
}
