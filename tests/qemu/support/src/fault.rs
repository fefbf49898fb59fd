//! The common part of a fixture's fault report: the syndrome of an exception taken to
//! the fixture's own exception level (Arm ARM D1.3: ESR_ELx, ELR_ELx, FAR_ELx, and
//! SPSR_ELx), read in the handler and printed in one format. What else a fixture reports, and how it
//! ends the run (semihosting, a call to the monitor, a host call from a realm), stays
//! the fixture's own.

use core::fmt;

/// ESR_ELx, ELR_ELx, FAR_ELx and SPSR_ELx of the exception level `el` an exception
/// was taken to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Syndrome {
    /// The exception level whose registers these are (1, 2 or 3).
    pub el: u8,
    /// ESR_ELx, the exception syndrome.
    pub esr: u64,
    /// ELR_ELx, the preferred return address.
    pub elr: u64,
    /// FAR_ELx, the faulting virtual address (UNKNOWN for exceptions that set none).
    pub far: u64,
    /// SPSR_ELx, the PSTATE the exception was taken from.
    pub spsr: u64,
}

/// Reads the four registers of one EL; `$n` is its number as a literal.
#[cfg(target_arch = "aarch64")]
macro_rules! read {
    ($n:literal) => {{
        let (esr, elr, far, spsr): (u64, u64, u64, u64);
        // SAFETY: reading the syndrome registers of the current EL (the caller runs
        // there: see the callers' contracts) has no side effect.
        unsafe {
            core::arch::asm!(
                concat!("mrs {}, esr_el", $n),
                concat!("mrs {}, elr_el", $n),
                concat!("mrs {}, far_el", $n),
                concat!("mrs {}, spsr_el", $n),
                out(reg) esr, out(reg) elr, out(reg) far, out(reg) spsr,
                options(nomem, nostack, preserves_flags),
            );
        }
        Syndrome { el: $n, esr, elr, far, spsr }
    }};
}

impl Syndrome {
    /// The registers of EL1. Must run at EL1 (at a lower EL the reads are UNDEFINED).
    #[cfg(target_arch = "aarch64")]
    pub fn el1() -> Self {
        read!(1)
    }

    /// The registers of EL2. Must run at EL2.
    #[cfg(target_arch = "aarch64")]
    pub fn el2() -> Self {
        read!(2)
    }

    /// The registers of EL3. Must run at EL3.
    #[cfg(target_arch = "aarch64")]
    pub fn el3() -> Self {
        read!(3)
    }

    /// ESR_ELx.EC, the exception class (bits [31:26]).
    pub fn ec(&self) -> u64 {
        (self.esr >> 26) & 0x3F
    }
}

/// `ESR_ELx = 0x.. (EC 0x..), ELR_ELx = 0x.., FAR_ELx = 0x..` (SPSR_ELx is the
/// fixture's to print or not).
impl fmt::Display for Syndrome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.el;
        write!(
            f,
            "ESR_EL{n} = {:#x} (EC {:#x}), ELR_EL{n} = {:#x}, FAR_EL{n} = {:#x}",
            self.esr,
            self.ec(),
            self.elr,
            self.far
        )
    }
}
