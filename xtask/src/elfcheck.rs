//! The checks every firmware build runs on `rmm.elf` (`cargo xtask build`, hence `run`
//! and CI), on the code exactly as it will run:
//!
//! - **No FP/SIMD code.** EL3 does not switch the FP/SIMD registers between worlds, so
//!   at R-EL2 they hold the Normal world's (or a realm's) values: an FP/SIMD, SVE or SME
//!   instruction, or an MRS/MSR of FPCR/FPSR, anywhere in the executable sections
//!   fails the build, except inside the symbols of [`FP_SIMD_ALLOWED`] (the explicit
//!   save/restore routines). CPTR_EL2 traps them at run time as well.
//! - **No large stack frame.** Each CPU has a 16 KiB stack with a guard page below it;
//!   a function whose prologue reserves more than [`FRAME_LIMIT`] fails the build.
//!   Frames come from decoding each function's prologue ([`crate::a64::frame`]).

use object::elf::SHF_EXECINSTR;
use object::{Object, ObjectSection, ObjectSymbol, SectionFlags, SymbolKind};

use crate::a64;

/// Symbols (demangled, without hash) whose code may use FP/SIMD instructions: the
/// explicit FP/SIMD save/restore routines (`platform::aarch64::fp`), which clear
/// CPTR_EL2.TFP only around their own loads and stores, and the SHA-256/512 block
/// routines (`platform::aarch64::sha`), each one save/restore region: TFP (and TZ with
/// SVE) cleared, the vector registers it uses saved, the blocks compressed with the
/// SHA-2 instructions, the registers and CPTR_EL2 put back.
pub const FP_SIMD_ALLOWED: &[&str] = &[
    "platform_fp_save",
    "platform_fp_load",
    "platform_sve_save_z",
    "platform_sve_load_z",
    "platform_sha256_blocks",
    "platform_sha512_blocks",
];

/// The largest stack frame a function may reserve, in bytes.
///
/// 2 KiB: half a granule, so no granule-sized (4 KiB) buffer fits in a frame, and at
/// most a handful of frames of this size fit the 16 KiB stack at once; the RMM's frames
/// are otherwise a few hundred bytes (saved registers, small structures), so 2 KiB
/// leaves room for those without allowing buffers that belong in per-CPU storage.
pub const FRAME_LIMIT: u64 = 2048;

/// How many of the largest frames are listed.
const LARGEST_LISTED: usize = 8;

/// An FP/SIMD instruction found in the code.
#[derive(Debug)]
pub struct FpHit {
    pub addr: u64,
    pub word: u32,
    pub symbol: String,
}

/// A function and its decoded frame.
#[derive(Debug)]
pub struct FunctionFrame {
    pub name: String,
    pub addr: u64,
    pub frame: a64::Frame,
}

/// What the checks found in one ELF.
#[derive(Debug, Default)]
pub struct Findings {
    /// FP/SIMD instructions outside the allow-list.
    pub fp_simd: Vec<FpHit>,
    /// Every function's frame, largest first.
    pub frames: Vec<FunctionFrame>,
}

fn demangle(name: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(name))
}

/// Decodes the executable code of `elf`.
pub fn analyse(elf: &[u8]) -> Result<Findings, String> {
    let file = object::File::parse(elf).map_err(|e| format!("not an ELF: {e}"))?;
    // Executable sections and their bytes.
    let mut code: Vec<(u64, &[u8])> = Vec::new();
    for section in file.sections() {
        let SectionFlags::Elf { sh_flags } = section.flags() else {
            continue;
        };
        if sh_flags & u64::from(SHF_EXECINSTR) == 0 || section.size() == 0 {
            continue;
        }
        let data = section.data().map_err(|e| e.to_string())?;
        code.push((section.address(), data));
    }
    if code.is_empty() {
        return Err("no executable section".into());
    }
    // Text symbols, by address (labels of assembly code included, for attribution).
    let mut symbols: Vec<(u64, u64, String)> = file
        .symbols()
        .filter(|s| {
            matches!(
                s.kind(),
                SymbolKind::Text | SymbolKind::Label | SymbolKind::Unknown
            )
        })
        .filter_map(|s| {
            let name = s.name().ok()?;
            let addr = s.address();
            let in_code = code
                .iter()
                .any(|(base, d)| addr >= *base && addr < base + d.len() as u64);
            (in_code && !name.is_empty() && !name.starts_with('$') && !name.starts_with(".L"))
                .then(|| (addr, s.size(), demangle(name)))
        })
        .collect();
    symbols.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let symbol_at = |addr: u64| -> String {
        let i = symbols.partition_point(|s| s.0 <= addr);
        match i.checked_sub(1).map(|i| &symbols[i]) {
            Some((base, _, name)) => format!("{name}+{:#x}", addr - base),
            None => format!("{addr:#x}"),
        }
    };
    let word_at = |addr: u64| -> Option<u32> {
        code.iter().find_map(|(base, d)| {
            let off = addr.checked_sub(*base)? as usize;
            let b = d.get(off..off + 4)?;
            Some(u32::from_le_bytes(b.try_into().ok()?))
        })
    };

    let mut findings = Findings::default();
    for (base, data) in &code {
        for (i, chunk) in data.chunks_exact(4).enumerate() {
            let word = u32::from_le_bytes(chunk.try_into().expect("4 bytes"));
            if !a64::is_fp_simd(word) {
                continue;
            }
            let addr = base + 4 * i as u64;
            let symbol = symbol_at(addr);
            let function = symbol.rsplit_once('+').map_or(symbol.as_str(), |s| s.0);
            if FP_SIMD_ALLOWED.contains(&function) {
                continue;
            }
            findings.fp_simd.push(FpHit { addr, word, symbol });
        }
    }

    let mut seen = std::collections::BTreeSet::new();
    for (addr, size, name) in &symbols {
        if *size == 0 || !seen.insert(*addr) {
            continue;
        }
        let words: Vec<u32> = (0..size / 4)
            .filter_map(|i| word_at(addr + 4 * i))
            .collect();
        findings.frames.push(FunctionFrame {
            name: name.clone(),
            addr: *addr,
            frame: a64::frame(&words),
        });
    }
    findings
        .frames
        .sort_by(|a, b| b.frame.bytes.cmp(&a.frame.bytes).then(a.addr.cmp(&b.addr)));
    Ok(findings)
}

fn describe(f: &FunctionFrame) -> String {
    let mut s = format!("{:>7} bytes  {}", f.frame.bytes, f.name);
    if f.frame.realign > 0 {
        s += &format!(
            " (including up to {} bytes of SP realignment)",
            f.frame.realign
        );
    }
    if f.frame.dynamic {
        s += " (and a dynamic allocation)";
    }
    s
}

/// Runs both checks on `elf` (named `name` in messages), printing the largest frames;
/// `Err` lists every violation. The frame check applies to optimised builds only
/// (`frames`): unoptimised code keeps every temporary on the stack.
pub fn check(name: &str, elf: &[u8], frames: bool) -> Result<(), String> {
    let f = analyse(elf)?;
    let mut errors = Vec::new();
    let allowed = if FP_SIMD_ALLOWED.is_empty() {
        "none".to_string()
    } else {
        FP_SIMD_ALLOWED.join(", ")
    };
    println!(
        "{name}: FP/SIMD instructions outside the allow-list ({allowed}): {}",
        f.fp_simd.len()
    );
    if !f.fp_simd.is_empty() {
        let mut per_symbol: std::collections::BTreeMap<&str, usize> = Default::default();
        for hit in &f.fp_simd {
            let function = hit
                .symbol
                .rsplit_once('+')
                .map_or(hit.symbol.as_str(), |s| s.0);
            *per_symbol.entry(function).or_default() += 1;
        }
        let mut msg = format!(
            "{name}: {} FP/SIMD instruction(s) in {} function(s); EL3 does not switch FP/SIMD \
             state, so R-EL2 must not touch it:",
            f.fp_simd.len(),
            per_symbol.len()
        );
        for hit in f.fp_simd.iter().take(10) {
            msg += &format!("\n    {:#x}: {:08x}  {}", hit.addr, hit.word, hit.symbol);
        }
        if f.fp_simd.len() > 10 {
            msg += &format!("\n    ... and {} more; per function:", f.fp_simd.len() - 10);
            for (function, n) in &per_symbol {
                msg += &format!("\n    {n:>5}  {function}");
            }
        }
        errors.push(msg);
    }
    if frames {
        println!("{name}: largest stack frames (limit {FRAME_LIMIT} bytes):");
        for fr in f.frames.iter().take(LARGEST_LISTED) {
            println!("    {}", describe(fr));
        }
        let over: Vec<&FunctionFrame> = f
            .frames
            .iter()
            .filter(|fr| fr.frame.bytes > FRAME_LIMIT || fr.frame.dynamic)
            .collect();
        if !over.is_empty() {
            let mut msg = format!(
                "{name}: {} function(s) reserve more than {FRAME_LIMIT} bytes of stack (or size \
                 it dynamically); per-CPU stacks are small, large buffers belong elsewhere:",
                over.len()
            );
            for fr in over {
                msg += &format!("\n    {}", describe(fr));
            }
            errors.push(msg);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}
