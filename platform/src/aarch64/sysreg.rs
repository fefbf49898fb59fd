//! `mrs`/`msr` for every [`SysReg`], generated from the one register list.

use core::arch::asm;

use crate::sysreg::SysReg;

macro_rules! accessors {
    ($( $(#[$m:meta])* $name:ident => $name_str:literal, $asm:literal ),* $(,)?) => {
        /// Reads `reg` on the current CPU.
        #[inline]
        pub fn read(reg: SysReg) -> u64 {
            let v: u64;
            match reg {
                $( SysReg::$name => {
                    // SAFETY: reading a system register has no effect on memory; every
                    // register in the list is readable at EL2.
                    unsafe { asm!(concat!("mrs {}, ", $asm), out(reg) v, options(nomem, nostack, preserves_flags)) }
                } )*
            }
            v
        }

        /// Writes `reg` on the current CPU. Writes to read-only registers are rejected
        /// here rather than left to fault.
        #[inline]
        pub fn write(reg: SysReg, v: u64) {
            if crate::sysreg::is_read_only(reg) {
                log::error!("write to read-only register {} ignored", reg.name());
                return;
            }
            match reg {
                $( SysReg::$name => {
                    // SAFETY: the RMM owns EL2 and the EL1 context of the realm it
                    // runs; writing these registers does not break Rust's memory model
                    // (translation and vector registers are only written for the
                    // realm's EL1, or by the MMU set-up code that owns them).
                    unsafe { asm!(concat!("msr ", $asm, ", {}"), in(reg) v, options(nostack, preserves_flags)) }
                } )*
            }
        }
    };
}

// Read-only registers are generated too (the assembler rejects `msr` to them only for
// some), but `write` refuses them before the asm is reached.
with_sysreg_list!(accessors);
