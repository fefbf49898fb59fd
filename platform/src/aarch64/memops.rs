//! `memcpy` and `memset` for the firmware, replacing `compiler_builtins`' portable
//! ones: those move one 8-byte word per six instructions, and the RMM's copies are
//! mostly large and 16-byte aligned (granules, `RecRun` halves, REC state), where
//! paired loads and stores move 64 bytes per ten instructions (measured with
//! `cargo xtask bench --qemu`, docs/benchmarks.md).
//!
//! With the MMU off (SCTLR_EL2.M = 0: every access is to Device memory, where an
//! unaligned access faults) only aligned accesses are made: 16-byte pairs when both
//! addresses are 16-byte aligned, then words when both are 8-byte aligned, then bytes.
//! With it on, the RMM's memory is Normal and SCTLR_EL2.A is 0 (`mmu`), where the
//! Arm ARM permits unaligned loads and stores: then the pairs are used at any
//! alignment, and only the last bytes are copied one by one. The routines use only
//! x0-x11 (caller-saved in AAPCS64) and no FP/SIMD register. [`self_test`] checks them
//! against byte-by-byte volatile copies at cold boot, with the MMU off and on.

core::arch::global_asm!(
    ".section .text.memcpy, \"ax\"",
    ".global memcpy",
    ".balign 16",
    "memcpy:",
    "    mov x3, x0",
    "    orr x4, x0, x1",
    "    tst x4, #15",
    "    b.eq 1f",
    "    mrs x4, sctlr_el2",
    "    tbz x4, #0, 6f",
    "1:  subs x2, x2, #64",
    "    b.lo 2f",
    // 64 bytes per iteration: the first pair of each side post-indexed (no separate
    // pointer increments), the test at the bottom.
    "10: ldp x4, x5, [x1], #64",
    "    ldp x6, x7, [x1, #-48]",
    "    ldp x8, x9, [x1, #-32]",
    "    ldp x10, x11, [x1, #-16]",
    "    stp x4, x5, [x3], #64",
    "    stp x6, x7, [x3, #-48]",
    "    stp x8, x9, [x3, #-32]",
    "    stp x10, x11, [x3, #-16]",
    "    subs x2, x2, #64",
    "    b.hs 10b",
    "2:  add x2, x2, #64",
    "3:  subs x2, x2, #16",
    "    b.lo 4f",
    "    ldp x4, x5, [x1], #16",
    "    stp x4, x5, [x3], #16",
    "    b 3b",
    "4:  add x2, x2, #16",
    "6:  orr x4, x3, x1",
    "    tst x4, #7",
    "    b.ne 8f",
    "7:  subs x2, x2, #8",
    "    b.lo 5f",
    "    ldr x4, [x1], #8",
    "    str x4, [x3], #8",
    "    b 7b",
    "5:  add x2, x2, #8",
    "8:  cbz x2, 9f",
    "    ldrb w4, [x1], #1",
    "    strb w4, [x3], #1",
    "    sub x2, x2, #1",
    "    b 8b",
    "9:  ret",
    "",
    ".section .text.memset, \"ax\"",
    ".global memset",
    ".balign 16",
    "memset:",
    "    mov x3, x0",
    "    and x1, x1, #0xff",
    "    orr x1, x1, x1, lsl #8",
    "    orr x1, x1, x1, lsl #16",
    "    orr x1, x1, x1, lsl #32",
    "    tst x3, #15",
    "    b.eq 1f",
    "    mrs x4, sctlr_el2",
    "    tbz x4, #0, 6f",
    "1:  subs x2, x2, #64",
    "    b.lo 2f",
    "10: stp x1, x1, [x3], #64",
    "    stp x1, x1, [x3, #-48]",
    "    stp x1, x1, [x3, #-32]",
    "    stp x1, x1, [x3, #-16]",
    "    subs x2, x2, #64",
    "    b.hs 10b",
    "2:  add x2, x2, #64",
    "3:  subs x2, x2, #16",
    "    b.lo 4f",
    "    stp x1, x1, [x3], #16",
    "    b 3b",
    "4:  add x2, x2, #16",
    "6:  tst x3, #7",
    "    b.ne 8f",
    "7:  subs x2, x2, #8",
    "    b.lo 5f",
    "    str x1, [x3], #8",
    "    b 7b",
    "5:  add x2, x2, #8",
    "8:  cbz x2, 9f",
    "    strb w1, [x3], #1",
    "    sub x2, x2, #1",
    "    b 8b",
    "9:  ret",
);

/// Lengths the self test copies and fills: around each of the routines' strides.
const LENGTHS: [usize; 16] = [
    0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 79, 128, 143, 192, 207,
];
/// Source and destination offsets (mod 16) the self test uses. The routines choose their
/// path by whether both addresses are 16-byte aligned, 8-byte aligned or neither: these
/// cover each class, alone and mixed, and both ends of an unaligned 16-byte pair.
const OFFSETS: [usize; 6] = [0, 1, 7, 8, 9, 15];
/// Bytes of each test buffer.
const BUF: usize = 256;
/// What the destination holds outside the range written.
const GUARD: u8 = 0xEE;

fn pattern(i: usize) -> u8 {
    (i as u8).wrapping_mul(37).wrapping_add(11)
}

/// Checks `memcpy`, `memset` and the fault-tolerant Non-secure copy
/// ([`super::vectors::ns_copy`], here between two buffers of the RMM's own) at the
/// source and destination [`OFFSETS`] and the [`LENGTHS`]: the bytes written, and none
/// outside, over the whole buffer after every call. The expectations are built and
/// read with volatile accesses, so that the compiler does not turn them into the
/// routines under test. The firmware runs it twice at cold boot, with the MMU off
/// (aligned accesses only) and on (pairs at any alignment).
pub fn self_test() -> bool {
    let copied = |s: usize, k: usize| pattern(s + k);
    check(
        &OFFSETS,
        |d, s, len| {
            // SAFETY: `check` passes ranges inside two distinct buffers of its own,
            // valid for `len` bytes.
            unsafe { core::ptr::copy_nonoverlapping(s, d, len) };
            true
        },
        copied,
    ) && check(
        &OFFSETS,
        // SAFETY: as above; the copy is between the RMM's own buffers, which do not
        // fault (it returns `true`).
        |d, s, len| unsafe { super::vectors::ns_copy(d, s, len) },
        copied,
    ) && check(
        &[0],
        |d, _, len| {
            // SAFETY: `check` passes a range inside a buffer of its own.
            unsafe { core::ptr::write_bytes(d, 0x5A, len) };
            true
        },
        |_, _| 0x5A,
    )
}

/// A test buffer, aligned so that it can be read in words.
#[repr(C, align(16))]
struct Buf([u8; BUF]);

impl Buf {
    fn filled(f: impl Fn(usize) -> u8) -> Buf {
        let mut b = Buf([0; BUF]);
        b.set(0..BUF, f);
        b
    }

    /// Writes `f(i)` at every `i` of `range` (inside the buffer).
    fn set(&mut self, range: core::ops::Range<usize>, f: impl Fn(usize) -> u8) {
        for i in range {
            // SAFETY: `i < BUF` (every range passed lies in the buffer): a valid index.
            unsafe { core::ptr::write_volatile(self.0.as_mut_ptr().add(i), f(i)) };
        }
    }

    /// Word `w` (bytes `8 * w..8 * w + 8`).
    fn word(&self, w: usize) -> u64 {
        debug_assert!(w < BUF / 8);
        // SAFETY: `w < BUF / 8`: an 8-byte aligned word inside the buffer (16-byte
        // aligned).
        unsafe { core::ptr::read_volatile(self.0.as_ptr().cast::<u64>().add(w)) }
    }
}

/// `op(dst, src, len)` (`false`: it reported a fault) at every destination offset of
/// [`OFFSETS`], source offset of `sources` and length of [`LENGTHS`]: afterwards the
/// destination buffer must equal, word for word, one that holds `want(s, k)` at byte
/// `k` of the range written and [`GUARD`] everywhere else.
fn check(
    sources: &[usize],
    op: impl Fn(*mut u8, *const u8, usize) -> bool,
    want: impl Fn(usize, usize) -> u8,
) -> bool {
    let src = Buf::filled(pattern);
    let mut dst = Buf::filled(|_| GUARD);
    let mut expected = Buf::filled(|_| GUARD);
    for len in LENGTHS {
        // Not a constant: every call goes to the routines, none is inlined.
        let len = core::hint::black_box(len);
        for d in OFFSETS {
            for &s in sources {
                let written = d..d + len;
                expected.set(written.clone(), |i| want(s, i - d));
                // `s + len` and `d + len` are at most 15 + 207 < BUF: both ranges lie
                // inside their buffers, which do not overlap.
                let ok = op(
                    dst.0.as_mut_ptr().wrapping_add(d),
                    src.0.as_ptr().wrapping_add(s),
                    len,
                ) && (0..BUF / 8).all(|w| dst.word(w) == expected.word(w));
                if !ok {
                    return false;
                }
                // Everything outside the range still holds GUARD: only the range is reset.
                dst.set(written.clone(), |_| GUARD);
                expected.set(written, |_| GUARD);
            }
        }
    }
    true
}
