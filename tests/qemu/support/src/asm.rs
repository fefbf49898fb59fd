//! Assembly fragments of the fixtures' entry sequences and vector tables, as macros
//! that expand to string literals: a fixture puts them among the template strings of
//! its own `global_asm!`, so every symbol stays defined once, in that fixture's binary.
//!
//! Local labels are 90 and up, which the fixtures' own code does not use; each
//! fragment only refers to its own labels.

/// Zeroes `__bss_start..__bss_end` (symbols of the fixture's linker script, both
/// 16-byte aligned) with pairs of `xzr` stores, using the registers `$cur` and `$end`
/// (string literals such as `"x0"`). The MMU is off: the linker script's addresses are
/// physical (or, in a realm, IPAs).
#[macro_export]
macro_rules! zero_bss {
    ($cur:literal, $end:literal) => {
        concat!(
            "    adrp ",
            $cur,
            ", __bss_start\n",
            "    add ",
            $cur,
            ", ",
            $cur,
            ", :lo12:__bss_start\n",
            "    adrp ",
            $end,
            ", __bss_end\n",
            "    add ",
            $end,
            ", ",
            $end,
            ", :lo12:__bss_end\n",
            "90: cmp ",
            $cur,
            ", ",
            $end,
            "\n",
            "    b.hs 91f\n",
            "    stp xzr, xzr, [",
            $cur,
            "], #16\n",
            "    b 90b\n",
            "91:\n",
        )
    };
}

/// Points VBAR_EL`$el` (`"1"`, `"2"` or `"3"`) at the vector table `$table` (a symbol
/// name), through x0, and synchronises the context (Arm ARM D1.3.1: a write to a
/// system register takes effect for later instructions only after a context
/// synchronisation event).
#[macro_export]
macro_rules! set_vbar {
    ($el:literal, $table:literal) => {
        concat!(
            "    adrp x0, ",
            $table,
            "\n",
            "    add x0, x0, :lo12:",
            $table,
            "\n",
            "    msr vbar_el",
            $el,
            ", x0\n",
            "    isb\n",
        )
    };
}

/// A vector table (Arm ARM D1.3.2: 16 entries of 128 bytes, the table 2 KiB aligned)
/// global as `$table`, in which entry `$direct` branches to `$handler` and every other
/// entry branches to `$fatal` with its index (0..15) in x0. Goes inside the fixture's
/// own `.section`.
#[macro_export]
macro_rules! vector_table {
    ($table:literal, $direct:literal => $handler:literal, others => $fatal:literal) => {
        concat!(
            ".balign 2048\n",
            ".global ",
            $table,
            "\n",
            $table,
            ":\n",
            ".irp idx, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15\n",
            ".balign 128\n",
            ".if \\idx == ",
            $direct,
            "\n",
            "    b ",
            $handler,
            "\n",
            ".else\n",
            "    mov x0, #\\idx\n",
            "    b ",
            $fatal,
            "\n",
            ".endif\n",
            ".endr\n",
        )
    };
}
