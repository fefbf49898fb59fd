//! Fatal errors: exceptions taken at EL3, unexpected exceptions from below, panics.
//! Each prints the syndrome on UART0 and ends the QEMU run with a failure status.

use core::fmt::Write;

use rmm_test_support::fault::Syndrome;
use rmm_test_support::pl011::ConsoleGuard;

use crate::percpu::{PerCpu, World};
use crate::semihost::{self, EXIT_EL3_FAULT, EXIT_LOWER_EL_FAULT};
use crate::sysreg;
use crate::uart;

/// ESR_EL3.EC of a granule protection check exception.
const EC_GPC: u64 = 0x1E;

const VECTORS: [&str; 16] = [
    "synchronous, EL3 with SP_EL0",
    "IRQ, EL3 with SP_EL0",
    "FIQ, EL3 with SP_EL0",
    "SError, EL3 with SP_EL0",
    "synchronous, EL3",
    "IRQ, EL3",
    "FIQ, EL3",
    "SError, EL3",
    "synchronous, lower EL (AArch64)",
    "IRQ, lower EL (AArch64)",
    "FIQ, lower EL (AArch64)",
    "SError, lower EL (AArch64)",
    "synchronous, lower EL (AArch32)",
    "IRQ, lower EL (AArch32)",
    "FIQ, lower EL (AArch32)",
    "SError, lower EL (AArch32)",
];

fn syndrome(c: &mut ConsoleGuard<'_>) {
    let s = Syndrome::el3();
    let _ = writeln!(
        c,
        "EL3:   {s}, SPSR_EL3 = {:#x}, SCR_EL3 = {:#x}",
        s.spsr,
        sysreg::scr_el3()
    );
    if s.ec() == EC_GPC {
        let _ = writeln!(c, "EL3:   MFAR_EL3 = {:#x}", sysreg::mfar_el3());
    }
}

/// An exception taken by the vector with index `vector` that the monitor does not
/// handle (from [`crate::asm`]).
pub extern "C" fn el3_exception(vector: u64) -> ! {
    let mut c = uart::force();
    let what = VECTORS.get(vector as usize).copied().unwrap_or("?");
    let _ = writeln!(c, "\nEL3: FATAL: unexpected exception ({what})");
    syndrome(&mut c);
    drop(c);
    semihost::exit(EXIT_EL3_FAULT)
}

/// A synchronous exception from a lower EL that is not an SMC (e.g. a trapped system
/// register, or a GPT walk fault).
pub fn lower_el(cpu: &PerCpu, esr: u64) -> ! {
    let mut c = uart::force();
    let world = match cpu.world {
        World::Realm => "Realm",
        World::NonSecure => "Non-secure",
    };
    let _ = writeln!(
        c,
        "\nEL3: FATAL: unexpected exception from the {world} world on CPU {} (EC {:#x})",
        cpu.id,
        (esr >> 26) & 0x3F
    );
    syndrome(&mut c);
    drop(c);
    semihost::exit(EXIT_LOWER_EL_FAULT)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut c = uart::force();
    let _ = writeln!(c, "\nEL3: PANIC: {info}");
    drop(c);
    semihost::exit(EXIT_EL3_FAULT)
}
