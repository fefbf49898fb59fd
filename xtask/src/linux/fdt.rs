//! A writer of flattened device trees (the Devicetree Specification v0.4, chapter 5,
//! "Flattened Devicetree (DTB) Format"): a 40-byte header of big-endian words (magic
//! 0xd00dfeed, totalsize, off_dt_struct, off_dt_strings, off_mem_rsvmap, version 17,
//! last_comp_version 16, boot_cpuid_phys, size_dt_strings, size_dt_struct), the memory
//! reservation block (here empty: one all-zero entry), the structure block of tokens
//! (FDT_BEGIN_NODE 1 with the NUL-terminated name, FDT_PROP 3 with the value's length
//! and its name's offset in the strings block, FDT_END_NODE 2, FDT_END 9; everything
//! padded to 4 bytes) and the strings block.

const FDT_MAGIC: u32 = 0xd00d_feed;
const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_END: u32 = 9;
const HEADER_SIZE: usize = 40;
const RSVMAP_SIZE: usize = 16;

/// A device tree being written, node by node in depth-first order.
#[derive(Default)]
pub struct Fdt {
    structure: Vec<u8>,
    strings: Vec<u8>,
    depth: usize,
}

impl Fdt {
    /// An empty tree; the first node must be the root (`""`).
    pub fn new() -> Fdt {
        Fdt::default()
    }

    fn word(&mut self, w: u32) {
        self.structure.extend_from_slice(&w.to_be_bytes());
    }

    fn pad(&mut self) {
        while !self.structure.len().is_multiple_of(4) {
            self.structure.push(0);
        }
    }

    /// Opens a node.
    pub fn begin(&mut self, name: &str) {
        self.word(FDT_BEGIN_NODE);
        self.structure.extend_from_slice(name.as_bytes());
        self.structure.push(0);
        self.pad();
        self.depth += 1;
    }

    /// Closes the node opened last.
    pub fn end(&mut self) {
        assert!(self.depth > 0, "no open node");
        self.word(FDT_END_NODE);
        self.depth -= 1;
    }

    fn name_offset(&mut self, name: &str) -> u32 {
        // Reuse a name already in the block (at a string start).
        let mut off = 0;
        for s in self.strings.split(|&b| b == 0) {
            if s == name.as_bytes() && off < self.strings.len() {
                return off as u32;
            }
            off += s.len() + 1;
        }
        let off = self.strings.len();
        self.strings.extend_from_slice(name.as_bytes());
        self.strings.push(0);
        off as u32
    }

    /// A property with raw bytes.
    pub fn prop(&mut self, name: &str, value: &[u8]) {
        let off = self.name_offset(name);
        self.word(FDT_PROP);
        self.word(value.len() as u32);
        self.word(off);
        self.structure.extend_from_slice(value);
        self.pad();
    }

    /// An empty property (a flag such as `interrupt-controller`).
    pub fn prop_empty(&mut self, name: &str) {
        self.prop(name, &[]);
    }

    /// A string property.
    pub fn prop_str(&mut self, name: &str, value: &str) {
        self.prop_strs(name, &[value]);
    }

    /// A string-list property.
    pub fn prop_strs(&mut self, name: &str, values: &[&str]) {
        let mut v = Vec::new();
        for s in values {
            v.extend_from_slice(s.as_bytes());
            v.push(0);
        }
        self.prop(name, &v);
    }

    /// A property of 32-bit cells.
    pub fn prop_cells(&mut self, name: &str, cells: &[u32]) {
        let v: Vec<u8> = cells.iter().flat_map(|c| c.to_be_bytes()).collect();
        self.prop(name, &v);
    }

    /// A property of 64-bit values (two cells each).
    pub fn prop_u64s(&mut self, name: &str, values: &[u64]) {
        let v: Vec<u8> = values.iter().flat_map(|c| c.to_be_bytes()).collect();
        self.prop(name, &v);
    }

    /// The blob (every node must be closed).
    pub fn finish(mut self, boot_cpuid_phys: u32) -> Vec<u8> {
        assert_eq!(self.depth, 0, "unclosed node");
        self.word(FDT_END);
        let off_rsvmap = HEADER_SIZE;
        let off_struct = off_rsvmap + RSVMAP_SIZE;
        let off_strings = off_struct + self.structure.len();
        let total = off_strings + self.strings.len();
        let header = [
            FDT_MAGIC,
            total as u32,
            off_struct as u32,
            off_strings as u32,
            off_rsvmap as u32,
            17,
            16,
            boot_cpuid_phys,
            self.strings.len() as u32,
            self.structure.len() as u32,
        ];
        let mut out: Vec<u8> = header.iter().flat_map(|w| w.to_be_bytes()).collect();
        out.extend_from_slice(&[0; RSVMAP_SIZE]);
        out.extend_from_slice(&self.structure);
        out.extend_from_slice(&self.strings);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn be(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_be_bytes()).collect()
    }

    #[test]
    fn small_tree_byte_exact() {
        let mut f = Fdt::new();
        f.begin("");
        f.prop_cells("#address-cells", &[2]);
        f.begin("cpus");
        f.prop_str("x", "ab");
        f.prop_empty("#address-cells");
        f.end();
        f.end();
        let b = f.finish(0);
        // Structure: BEGIN "" | PROP len 4 nameoff 0 <2> | BEGIN "cpus" | PROP len 3
        // nameoff 15 "ab\0" | PROP len 0 nameoff 0 | END | END | FDT_END.
        let mut s = be(&[1, 0, 3, 4, 0, 2, 1]);
        s.extend_from_slice(b"cpus\0\0\0\0");
        s.extend_from_slice(&be(&[3, 3, 15]));
        s.extend_from_slice(b"ab\0\0");
        s.extend_from_slice(&be(&[3, 0, 0, 2, 2, 9]));
        let strings = b"#address-cells\0x\0";
        let total = 40 + 16 + s.len() + strings.len();
        let header = be(&[
            0xd00d_feed,
            total as u32,
            56,
            56 + s.len() as u32,
            40,
            17,
            16,
            0,
            strings.len() as u32,
            s.len() as u32,
        ]);
        assert_eq!(&b[..40], &header[..]);
        assert_eq!(&b[40..56], &[0; 16]);
        assert_eq!(&b[56..56 + s.len()], &s[..]);
        assert_eq!(&b[56 + s.len()..], strings);
    }

    #[test]
    fn u64_cells() {
        let mut f = Fdt::new();
        f.begin("");
        f.prop_u64s("reg", &[0x4000_0000, 0x1000]);
        f.end();
        let b = f.finish(0);
        let want = be(&[3, 16, 0, 0, 0x4000_0000, 0, 0x1000]);
        assert!(b.windows(want.len()).any(|w| w == &want[..]));
    }
}
