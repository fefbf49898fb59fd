//! The image's entry point, per-CPU stacks, and the panic handler: the firmware binary's
//! only assembly and its only `unsafe`.

use core::arch::global_asm;
use core::sync::atomic::AtomicU32;

use platform::aarch64::console;
use platform::aarch64::map::{
    EMERGENCY_STACK_SIZE, GUARD_SIZE, STACK_PAINT, STACK_SIZE, STACK_STRIDE,
};
// CPTR_EL2 at R-EL2 (`platform::aarch64::world::CPTR_EL2_RMM`, layout for
// HCR_EL2.E2H = 0): the RES1 bits plus TSM, TFP and TZ, so that FP/SIMD, SVE and SME
// instructions trap.
//
// The RMM is built without FP/SIMD code (`aarch64-unknown-none-softfloat`), and EL3 does
// not switch FP/SIMD state between worlds: the registers hold the Normal world's
// values. Trapping makes any FP/SIMD instruction at R-EL2 an exception report instead
// of silent corruption of those values. Only the world switch (while a realm runs) and
// the FP/SIMD save/restore routines clear TFP (`docs/firmware.md`, FP/SIMD policy).
use platform::aarch64::world::CPTR_EL2_RMM as CPTR_EL2;
const _: () = assert!(CPTR_EL2 == 0x37ff);

// The stack sizes are loaded as two 16-bit halves.
const _: () = assert!(STACK_STRIDE < 1 << 32);

/// CPUs with a stack (the link script reserves as many, from the same layout).
pub const MAX_CPUS: usize = platform::layout::PLATFORM.max_cpus;

// rmm_entry: offset 0 of rmm.img.
// - x0 = CPU id; CPUs without a stack slot park.
// - The first entry is the cold boot: it zeroes .bss and marks cold boot as done (the
//   flag lives in .data, which .bss zeroing does not touch). Later entries are warm boots.
// - sp = top of this CPU's stack (slot = guard page + stack, see platform::aarch64::map);
//   then the Rust entry for the boot kind.
// - The absolute symbols __rmm_code_* give the link script the sizes the code uses, for
//   its asserts.
global_asm!(
    ".section .text.entry, \"ax\"",
    ".global rmm_entry",
    "rmm_entry:",
    "    msr daifset, #0xf",
    // EL2h: SP is SP_EL2, never SP_EL0 (which holds a realm's SP_EL0 while it runs).
    "    msr spsel, #1",
    "    cmp x0, #{max_cpus}",
    "    b.hs 9f",
    // The RMM is written for HCR_EL2.E2H = 0 (the EL2 register layouts, CPTR_EL2's in
    // particular); a CPU entered with E2H set parks.
    "    mrs x9, hcr_el2",
    "    tbnz x9, #34, 9f",
    // sp = __stacks_start + (x0 + 1) * STACK_STRIDE
    "    adrp x9, __stacks_start",
    "    add x9, x9, :lo12:__stacks_start",
    "    add x10, x0, #1",
    "    movz x11, #{stride_lo}",
    "    movk x11, #{stride_hi}, lsl #16",
    "    madd x9, x10, x11, x9",
    "    mov sp, x9",
    // Paint the stack [sp - STACK_SIZE, sp) for the high-water mark
    // (read from memory after a run: `xtask/src/stacks.rs`), before any code uses it.
    "    movz x12, #{paint0}",
    "    movk x12, #{paint1}, lsl #16",
    "    movk x12, #{paint2}, lsl #32",
    "    movk x12, #{paint3}, lsl #48",
    "    movz x10, #{size_lo}",
    "    movk x10, #{size_hi}, lsl #16",
    "    sub x10, x9, x10",
    "4:  stp x12, x12, [x10], #16",
    "    cmp x10, x9",
    "    b.lo 4b",
    // The paint went to memory (MMU off: Device accesses); drop any older copy of the
    // stack a cache may hold (from an earlier boot stage, or this CPU's previous life),
    // so that once caches are on the stack reads what was written.
    "    mov x10, sp",
    "    movz x11, #{size_lo}",
    "    movk x11, #{size_hi}, lsl #16",
    "    sub x9, x10, x11",
    "    bl 7f",
    "    msr tpidr_el2, x0",
    // CPTR_EL2 (HCR_EL2.E2H = 0 layout): RES1 bits, and FP/SIMD (TFP), SVE (TZ) and
    // SME (TSM) accesses trap, so a stray FP/SIMD instruction faults loudly.
    "    mov x9, #{cptr}",
    "    msr cptr_el2, x9",
    "    isb",
    "    adrp x9, {cold_done}",
    "    add x9, x9, :lo12:{cold_done}",
    "    ldr w10, [x9]",
    "    cbnz w10, 2f",
    "    mov w10, #1",
    "    str w10, [x9]",
    "    adrp x9, __bss_start",
    "    add x9, x9, :lo12:__bss_start",
    "    adrp x10, __bss_end",
    "    add x10, x10, :lo12:__bss_end",
    "1:  cmp x9, x10",
    "    b.hs 3f",
    "    stp xzr, xzr, [x9], #16",
    "    b 1b",
    // Likewise for the whole image and its memory (.data, .bss, every stack), before
    // any CPU turns its caches on: only the cold boot, while no other CPU runs.
    "3:  adrp x9, __rmm_start",
    "    add x9, x9, :lo12:__rmm_start",
    "    adrp x10, __rmm_end",
    "    add x10, x10, :lo12:__rmm_end",
    "    bl 7f",
    "    bl rmm_cold_boot",
    "2:  bl rmm_warm_boot",
    "9:  wfe",
    "    b 9b",
    // Invalidates the data cache lines of [x9, x10) to the point of coherency (DC IVAC
    // by the smallest line size, CTR_EL0.DminLine), then DSB. Uses x9, x13-x15.
    "7:  mrs x13, ctr_el0",
    "    ubfx x13, x13, #16, #4",
    "    mov x14, #4",
    "    lsl x14, x14, x13",
    "    sub x15, x14, #1",
    "    bic x9, x9, x15",
    "8:  dc ivac, x9",
    "    add x9, x9, x14",
    "    cmp x9, x10",
    "    b.lo 8b",
    "    dsb sy",
    "    ret",
    ".global __rmm_code_stack_size",
    ".set __rmm_code_stack_size, {stack_size}",
    ".global __rmm_code_guard_size",
    ".set __rmm_code_guard_size, {guard_size}",
    ".global __rmm_code_emergency_stack_size",
    ".set __rmm_code_emergency_stack_size, {emergency_size}",
    max_cpus = const MAX_CPUS,
    stack_size = const STACK_SIZE,
    stride_lo = const STACK_STRIDE & 0xffff,
    stride_hi = const STACK_STRIDE >> 16,
    size_lo = const STACK_SIZE & 0xffff,
    size_hi = const STACK_SIZE >> 16,
    paint0 = const STACK_PAINT & 0xffff,
    paint1 = const (STACK_PAINT >> 16) & 0xffff,
    paint2 = const (STACK_PAINT >> 32) & 0xffff,
    paint3 = const STACK_PAINT >> 48,
    guard_size = const GUARD_SIZE,
    emergency_size = const EMERGENCY_STACK_SIZE,
    cptr = const CPTR_EL2,
    cold_done = sym COLD_BOOT_DONE,
);

/// Non-zero once the first (cold) boot has started. In `.data` so that zeroing `.bss`
/// leaves it alone.
#[unsafe(link_section = ".data")]
static COLD_BOOT_DONE: AtomicU32 = AtomicU32::new(0);

unsafe extern "C" {
    static __rmm_start: u8;
    static __text_end: u8;
    static __rodata_end: u8;
    static __stacks_start: u8;
}

/// The image's section boundaries and stacks, from the link script.
pub fn image_layout() -> platform::aarch64::mmu::ImageLayout {
    platform::aarch64::mmu::ImageLayout {
        text: core::ptr::addr_of!(__rmm_start) as u64,
        text_end: core::ptr::addr_of!(__text_end) as u64,
        rodata_end: core::ptr::addr_of!(__rodata_end) as u64,
        stacks: core::ptr::addr_of!(__stacks_start) as u64,
        cpus: MAX_CPUS as u64,
    }
}

/// The stack overflow test (feature `stack-overflow-test`, `cargo xtask run
/// --stack-overflow-test`): recurses until SP runs into the guard page below this
/// CPU's stack. The guard page fault must be reported as a stack overflow and the CPU
/// parked; nothing after it runs.
#[cfg(feature = "stack-overflow-test")]
pub fn stack_overflow_test() {
    #[inline(never)]
    fn deeper(depth: u64) -> u64 {
        let frame = core::hint::black_box([depth; 32]);
        if depth == u64::MAX {
            return frame[0];
        }
        deeper(depth + 1).wrapping_add(core::hint::black_box(frame)[31])
    }
    log::info!("stack overflow test: recursing into the guard page");
    let r = deeper(0);
    panic!("stack overflow test: the recursion returned ({r})");
}

/// Stops this CPU for good.
pub fn park() -> ! {
    loop {
        aarch64_wfe();
    }
}

fn aarch64_wfe() {
    // SAFETY: `wfe` only waits for an event; it has no effect on memory or registers.
    unsafe { core::arch::asm!("wfe", options(nomem, nostack, preserves_flags)) }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    console::write_fmt(format_args!("RMM panic: {info}\n"));
    park()
}
