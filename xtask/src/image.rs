//! ELF to flat binary: the bytes of every loadable segment at its offset from the lowest
//! load address, gaps zero-filled, uninitialised memory (`.bss`, stacks) left out.

use object::elf::PT_LOAD;
use object::read::elf::{ElfFile64, FileHeader, ProgramHeader};
use object::{Endianness, Object};

/// A flat image.
pub struct Image {
    /// The image bytes.
    pub bytes: Vec<u8>,
    /// Physical address of byte 0.
    pub load_addr: u64,
    /// Entry point (must equal `load_addr`: EL3 enters at offset 0).
    pub entry: u64,
}

/// Flattens an AArch64 ELF executable.
pub fn flatten(elf: &[u8]) -> Result<Image, String> {
    let file = ElfFile64::<Endianness>::parse(elf).map_err(|e| format!("not an ELF64: {e}"))?;
    let endian = file.endian();
    let mut segs = Vec::new();
    for ph in file
        .elf_header()
        .program_headers(endian, elf)
        .map_err(|e| e.to_string())?
    {
        if ph.p_type(endian) != PT_LOAD || ph.p_filesz(endian) == 0 {
            continue;
        }
        let data = ph
            .data(endian, elf)
            .map_err(|_| "segment outside the file".to_string())?;
        segs.push((ph.p_paddr(endian), data));
    }
    let load_addr = segs
        .iter()
        .map(|s| s.0)
        .min()
        .ok_or("no loadable segment")?;
    let end = segs
        .iter()
        .map(|(a, d)| a + d.len() as u64)
        .max()
        .unwrap_or(load_addr);
    let mut bytes = vec![0u8; (end - load_addr) as usize];
    for (addr, data) in segs {
        let off = (addr - load_addr) as usize;
        bytes[off..off + data.len()].copy_from_slice(data);
    }
    let entry = file.entry();
    if entry != load_addr {
        return Err(format!(
            "entry {entry:#x} is not at offset 0 (load address {load_addr:#x})"
        ));
    }
    Ok(Image {
        bytes,
        load_addr,
        entry,
    })
}
