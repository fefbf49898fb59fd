//! The realm's PL011 UART (Arm PrimeCell UART PL011 TRM, r1p5, DDI 0183): what Linux's
//! `amba-pl011` driver and its early console use. Output goes to the machine's own
//! console line by line; there is no input (the receive FIFO is always empty).
//!
//! The transmit FIFO drains at once: FR reads TXFE (empty), never TXFF or BUSY. The
//! transmit interrupt (TXRIS) is raised by each write to DR (the FIFO has dropped below
//! its trigger level again) and cleared through ICR, as the TRM describes for a FIFO that
//! empties; the UART's SPI is asserted while RIS & IMSC is not zero.

use core::fmt::Write;

use crate::uart::Uart;

const DR: u64 = 0x000;
const FR: u64 = 0x018;
const IBRD: u64 = 0x024;
const FBRD: u64 = 0x028;
const LCR_H: u64 = 0x02C;
const CR: u64 = 0x030;
const IFLS: u64 = 0x034;
const IMSC: u64 = 0x038;
const RIS: u64 = 0x03C;
const MIS: u64 = 0x040;
const ICR: u64 = 0x044;
/// UARTFR: TXFE [7], RXFE [4].
const FR_TXFE: u64 = 1 << 7;
const FR_RXFE: u64 = 1 << 4;
/// UARTRIS: TXRIS [5].
const RIS_TX: u32 = 1 << 5;
/// UARTPeriphID0..3 (0xFE0..0xFEC) and UARTPCellID0..3 (0xFF0..0xFFC): r1p5.
const PERIPH_ID: [u8; 4] = [0x11, 0x10, 0x34, 0x00];
const CELL_ID: [u8; 4] = [0x0D, 0xF0, 0x05, 0xB1];

/// Longest line kept before it is flushed anyway.
const LINE: usize = 256;

/// The UART's state.
pub struct Pl011 {
    ibrd: u32,
    fbrd: u32,
    lcr_h: u32,
    cr: u32,
    ifls: u32,
    imsc: u32,
    ris: u32,
    line: [u8; LINE],
    len: usize,
    /// Characters written by the realm.
    pub chars: u64,
}

impl Pl011 {
    /// At reset (CR: TXE, RXE; IFLS half-full).
    pub const fn new() -> Pl011 {
        Pl011 {
            ibrd: 0,
            fbrd: 0,
            lcr_h: 0,
            cr: 0x300,
            ifls: 0x12,
            imsc: 0,
            ris: 0,
            line: [0; LINE],
            len: 0,
            chars: 0,
        }
    }

    /// Whether the UART's interrupt line is asserted.
    pub fn irq(&self) -> bool {
        self.ris & self.imsc != 0
    }

    /// A read of `offset`.
    pub fn read(&self, offset: u64) -> u64 {
        match offset {
            DR => 0,
            FR => FR_TXFE | FR_RXFE,
            IBRD => self.ibrd.into(),
            FBRD => self.fbrd.into(),
            LCR_H => self.lcr_h.into(),
            CR => self.cr.into(),
            IFLS => self.ifls.into(),
            IMSC => self.imsc.into(),
            RIS => self.ris.into(),
            MIS => (self.ris & self.imsc).into(),
            0xFE0..=0xFEC if offset.is_multiple_of(4) => {
                PERIPH_ID[((offset - 0xFE0) / 4) as usize].into()
            }
            0xFF0..=0xFFC if offset.is_multiple_of(4) => {
                CELL_ID[((offset - 0xFF0) / 4) as usize].into()
            }
            _ => 0,
        }
    }

    /// A write of `value` to `offset`.
    pub fn write(&mut self, offset: u64, value: u64) {
        let v = value as u32;
        match offset {
            DR => {
                self.put(v as u8);
                self.ris |= RIS_TX;
            }
            IBRD => self.ibrd = v & 0xFFFF,
            FBRD => self.fbrd = v & 0x3F,
            LCR_H => self.lcr_h = v & 0xFF,
            CR => self.cr = v & 0xFF87,
            IFLS => self.ifls = v & 0x3F,
            IMSC => self.imsc = v & 0x7FF,
            ICR => self.ris &= !v,
            _ => {}
        }
    }

    fn put(&mut self, b: u8) {
        self.chars += 1;
        match b {
            b'\n' => self.flush(),
            b'\r' => {}
            _ => {
                self.line[self.len] = b;
                self.len += 1;
                if self.len == LINE {
                    self.flush();
                }
            }
        }
    }

    /// Prints the pending line.
    pub fn flush(&mut self) {
        let s = core::str::from_utf8(&self.line[..self.len]).unwrap_or("<non-UTF-8 line>");
        let _ = writeln!(Uart, "{s}");
        self.len = 0;
    }
}
