//! The RMM's stack high-water marks, read from the machine's memory once a run is over.
//!
//! `rmm_entry` paints each CPU's stack with a known word before any Rust code runs on
//! it (`docs/firmware.md`); the deepest use of a stack is then where the paint ends.
//! When the test host has finished it prints
//! [`STACKS_READABLE_LINE`](crate::qemu::STACKS_READABLE_LINE) and waits for a byte on
//! the console: the xtask saves the stacks' memory through QEMU's QMP socket
//! (`pmemsave`, the guest's physical memory, whatever its PAS), scans every word of
//! every CPU's stack here, and answers. Nothing of the RMM runs for the measurement,
//! and every word is read, not a sample.
//!
//! The layout is stated here from the firmware's documented memory map rather than
//! taken from its code: CPU `n`'s stack is [`STACK_SIZE`] bytes above a guard page of
//! [`GUARD_SIZE`], at `__stacks_start + n * (GUARD_SIZE + STACK_SIZE)`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use object::{Object, ObjectSymbol};

/// Bytes of each CPU's RMI stack (docs/firmware.md, "Stack budget").
pub(crate) const STACK_SIZE: u64 = 16 * 1024;
/// Bytes of the unmapped guard page below each stack.
pub(crate) const GUARD_SIZE: u64 = 4096;
/// The word every stack is painted with: the ASCII bytes `STKPAINT` in memory order.
const PAINT: [u8; 8] = *b"STKPAINT";

/// What a run needs to read the stacks: QEMU's QMP socket and the firmware's layout.
pub(crate) struct StackProbe {
    qmp: PathBuf,
    dump: PathBuf,
    stacks_start: u64,
    cpus: u64,
}

impl StackProbe {
    /// Gives `cmd` (a QEMU command line) a QMP socket under `out` and prepares to read
    /// the stacks of `cpus` CPUs of the firmware `elf`.
    pub(crate) fn attach(
        cmd: &mut Command,
        out: &Path,
        elf: &Path,
        cpus: u64,
    ) -> Result<Self, String> {
        let qmp = out.join(format!("qmp-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&qmp);
        cmd.arg("-qmp")
            .arg(format!("unix:{},server=on,wait=off", qmp.display()));
        Ok(Self {
            qmp,
            dump: out.join(format!("stacks-{}.bin", std::process::id())),
            stacks_start: stacks_start(elf)?,
            cpus,
        })
    }

    /// Saves the stacks' memory and returns each CPU's high-water mark in bytes.
    pub(crate) fn read(&self) -> Result<Vec<u64>, String> {
        let size = self.cpus * (GUARD_SIZE + STACK_SIZE);
        qmp_pmemsave(&self.qmp, self.stacks_start, size, &self.dump)?;
        let bytes =
            std::fs::read(&self.dump).map_err(|e| format!("{}: {e}", self.dump.display()))?;
        let _ = std::fs::remove_file(&self.dump);
        if bytes.len() as u64 != size {
            return Err(format!("QEMU saved {} of {size} bytes", bytes.len()));
        }
        Ok(high_water_marks(&bytes, self.cpus))
    }
}

impl Drop for StackProbe {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.qmp);
    }
}

/// The console line reporting CPU `cpu`'s mark (the form `qemu::parse_high_water`
/// reads).
pub(crate) fn report_line(cpu: u64, used: u64) -> String {
    format!(
        "xtask: read from memory after the run: stack high-water mark: CPU {cpu}: {used} of \
         {STACK_SIZE} bytes"
    )
}

/// Each CPU's bytes of stack used in `mem`, the memory from `__stacks_start` (guard
/// page, stack, guard page, stack, ...): the distance from the stack's top down to the
/// lowest word that no longer holds the paint (0 if none).
fn high_water_marks(mem: &[u8], cpus: u64) -> Vec<u64> {
    (0..cpus)
        .map(|cpu| {
            let bottom = (cpu * (GUARD_SIZE + STACK_SIZE) + GUARD_SIZE) as usize;
            let stack = &mem[bottom..bottom + STACK_SIZE as usize];
            match stack.chunks_exact(8).position(|w| w != PAINT) {
                Some(word) => STACK_SIZE - 8 * word as u64,
                None => 0,
            }
        })
        .collect()
}

/// `__stacks_start` of the firmware ELF.
pub(crate) fn stacks_start(elf: &Path) -> Result<u64, String> {
    let bytes = std::fs::read(elf).map_err(|e| format!("{}: {e}", elf.display()))?;
    let file = object::File::parse(&*bytes).map_err(|e| format!("{}: {e}", elf.display()))?;
    file.symbols()
        .find(|s| s.name() == Ok("__stacks_start"))
        .map(|s| s.address())
        .ok_or_else(|| format!("no __stacks_start symbol in {}", elf.display()))
}

/// QMP (QEMU's machine protocol, one JSON object per line): negotiates capabilities,
/// then `pmemsave` of `size` bytes of guest physical memory from `addr` into `file`.
fn qmp_pmemsave(sock: &Path, addr: u64, size: u64, file: &Path) -> Result<(), String> {
    let at = |e: std::io::Error| format!("QMP {}: {e}", sock.display());
    let stream = connect(sock).map_err(at)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .map_err(at)?;
    let mut reader = BufReader::new(stream.try_clone().map_err(at)?);
    let mut writer = stream;
    let mut line = String::new();
    reader.read_line(&mut line).map_err(at)?;
    if !line.contains("\"QMP\"") {
        return Err(format!("QMP: unexpected greeting {line:?}"));
    }
    let name = file
        .display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    for command in [
        r#"{"execute": "qmp_capabilities"}"#.to_string(),
        format!(
            r#"{{"execute": "pmemsave", "arguments": {{"val": {addr}, "size": {size}, "filename": "{name}"}}}}"#
        ),
    ] {
        writeln!(writer, "{command}").map_err(at)?;
        // Events may come first; the answer is a `return` or an `error`.
        loop {
            line.clear();
            if reader.read_line(&mut line).map_err(at)? == 0 {
                return Err("QMP: QEMU closed the socket".into());
            }
            if line.starts_with("{\"return\"") {
                break;
            }
            if line.starts_with("{\"error\"") {
                return Err(format!("QMP: {command} failed: {}", line.trim_end()));
            }
        }
    }
    Ok(())
}

/// Connects to QEMU's QMP socket, which QEMU creates as it starts.
fn connect(sock: &Path) -> std::io::Result<UnixStream> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match UnixStream::connect(sock) {
            Ok(s) => return Ok(s),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two CPUs' stacks: CPU 0 written down to 40 bytes below its top, CPU 1 untouched;
    /// the guard pages hold anything.
    #[test]
    fn marks_from_memory() {
        let stride = (GUARD_SIZE + STACK_SIZE) as usize;
        let mut mem = vec![0xA5u8; 2 * stride];
        for cpu in 0..2 {
            let bottom = cpu * stride + GUARD_SIZE as usize;
            for w in mem[bottom..bottom + STACK_SIZE as usize].chunks_exact_mut(8) {
                w.copy_from_slice(&PAINT);
            }
        }
        let top0 = GUARD_SIZE as usize + STACK_SIZE as usize;
        mem[top0 - 40] = 0;
        assert_eq!(high_water_marks(&mem, 2), vec![40, 0]);
        // One byte differing in the lowest word of the stack: all of it used.
        mem[stride + GUARD_SIZE as usize + 3] = b'X';
        assert_eq!(high_water_marks(&mem, 2), vec![40, STACK_SIZE]);
    }

    #[test]
    fn report_line_reads_back() {
        assert_eq!(
            crate::qemu::parse_high_water(&report_line(1, 5096)),
            Some((1, 5096, STACK_SIZE))
        );
    }
}
