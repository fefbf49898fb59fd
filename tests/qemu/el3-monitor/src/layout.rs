//! The physical memory map as the monitor sets it up (QEMU `virt`, `secure=on`,
//! `-m 3G`), following TF-A's layout for an RMM.
//!
//! | range | what | PAS (GPT) |
//! |---|---|---|
//! | 0x0000_0000 - 0x03FF_FFFF | secure flash: the monitor's code, read-only data, `.data` image | any |
//! | 0x0800_0000 - 0x0DFF_FFFF | GIC, UARTs, other devices | any |
//! | 0x0E00_0000 - 0x0EFF_FFFF | secure RAM: `.data`, `.bss` (per-CPU contexts, stacks, GPT) | Root |
//! | 0x4000_0000 - 0x400F_FFFF | DTB page | Non-secure |
//! | 0x4010_0000 - 0x418F_EFFF | RMM carve-out (`rmm.img` at its base) | Realm |
//! | 0x418F_F000 - 0x418F_FFFF | RMM shared page (boot manifest) | Realm |
//! | 0x4190_0000 - 0xFFFF_FFFF | Non-secure DRAM (test host at 0x6000_0000) | Non-secure, per 4 KiB granule |
//! | 0x1_0000_0000 and above | nothing (high MMIO far above) | any |

//! The addresses are TF-A's for QEMU (`plat/qemu/qemu/include/platform_def.h` with
//! ENABLE_RME), written out here rather than taken from the RMM's `platform` crate, so
//! that the RMM's own layout is checked against them.

/// Base of the secure RAM.
pub const SECURE_RAM_BASE: u64 = 0x0E00_0000;
/// Size of the secure RAM.
pub const SECURE_RAM_SIZE: u64 = 0x0100_0000;

/// UART0, the console shared by every world.
pub const UART0_BASE: usize = 0x0900_0000;

/// Base of DRAM (`NS_DRAM0_BASE`).
pub const DRAM_BASE: u64 = 0x4000_0000;
/// End of DRAM with `-m 3G` (what `cargo xtask run` passes and what TF-A describes:
/// `NS_DRAM0_SIZE` = 0xC000_0000).
pub const DRAM_END: u64 = 0x1_0000_0000;

/// The RMM carve-out: `rmm.img` is loaded at its base and entered at offset 0
/// (`RMM_BASE` = `REALM_DRAM_BASE` = `NS_DRAM0_BASE` + the 1 MiB DTB page).
pub const RMM_BASE: u64 = 0x4010_0000;
/// The RMM-EL3 shared page (holds the boot manifest), right after the carve-out
/// (`RMM_SHARED_BASE` = `RMM_LIMIT` = `RMM_BASE` + `REALM_DRAM_SIZE` (24 MiB) - 4 KiB).
pub const RMM_SHARED_BUF: u64 = 0x418F_F000;
/// End of the Realm region set up at boot (carve-out and shared page).
pub const RMM_REALM_END: u64 = RMM_SHARED_BUF + GRANULE_SIZE;

/// Entry point of the Normal-world test host (NS-EL2).
pub const NS_HOST_ENTRY: u64 = 0x6000_0000;

/// CPUs the monitor can run (each has a stack and contexts); others park at reset.
pub const MAX_CPUS: usize = 8;
/// The CPU count passed to the RMM at cold boot (x2): the platform maximum, as TF-A's
/// QEMU port does (`PLATFORM_CORE_COUNT`: 2 clusters of 16), not the number of CPUs
/// QEMU runs.
pub const RMM_CPU_COUNT: u64 = 32;

/// Size of each CPU's EL3 stack.
pub const STACK_SIZE: usize = 0x4000;

/// Granule size (GPT PGS = 4 KiB).
pub const GRANULE_SIZE: u64 = 0x1000;

const _: () = assert!(RMM_SHARED_BUF == RMM_BASE + 0x0180_0000 - GRANULE_SIZE);
const _: () = assert!(NS_HOST_ENTRY >= RMM_REALM_END && NS_HOST_ENTRY < DRAM_END);
