//! ABI version encoding (DEN0137 1.0, `RmiInterfaceVersion`): major in bits `[30:16]`,
//! minor in bits `[15:0]`, bits 31 and `[63:32]` zero.

/// An interface version `major.minor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AbiVersion {
    /// Major revision, 15 bits.
    pub major: u16,
    /// Minor revision, 16 bits.
    pub minor: u16,
}

impl AbiVersion {
    /// Builds a version. `major` must fit 15 bits.
    pub const fn new(major: u16, minor: u16) -> Self {
        assert!(major < 0x8000);
        Self { major, minor }
    }

    /// The register encoding.
    pub const fn encode(self) -> u64 {
        (self.major as u64) << 16 | self.minor as u64
    }

    /// Decodes a register value; a value with bit 31 or any of bits `[63:32]` set is not a
    /// version and is returned as the error.
    pub const fn decode(v: u64) -> Result<Self, u64> {
        if v >> 31 != 0 {
            return Err(v);
        }
        Ok(Self {
            major: (v >> 16) as u16,
            minor: v as u16,
        })
    }
}

/// The RMI ABI version this crate describes: 1.0.
pub const RMI_ABI_VERSION: AbiVersion = AbiVersion::new(1, 0);
