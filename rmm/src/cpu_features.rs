//! Features of the CPU the RMM runs on, read once at boot from the ID registers.

use platform::{Arch, CpuId, SysReg};

/// What the RMM needs to know of the CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuFeatures {
    /// Physical address width in bits (ID_AA64MMFR0_EL1.PARange).
    pub pa_bits: u32,
}

/// Decodes ID_AA64MMFR0_EL1.PARange [3:0] into a width in bits; reserved encodings
/// give `None`.
pub const fn pa_range_bits(mmfr0: u64) -> Option<u32> {
    Some(match mmfr0 & 0xF {
        0 => 32,
        1 => 36,
        2 => 40,
        3 => 42,
        4 => 44,
        5 => 48,
        6 => 52,
        _ => return None,
    })
}

impl CpuFeatures {
    /// Reads the features of `cpu`. A reserved PARange is treated as the smallest
    /// architectural width, 32 bits.
    pub fn read<A: Arch>(arch: &A, cpu: CpuId) -> Self {
        let mmfr0 = arch.read_sysreg(cpu, SysReg::ID_AA64MMFR0_EL1);
        Self {
            pa_bits: pa_range_bits(mmfr0).unwrap_or(32),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pa_range() {
        let want = [32, 36, 40, 42, 44, 48, 52];
        for (enc, bits) in want.iter().enumerate() {
            assert_eq!(pa_range_bits(enc as u64 | 0xF0), Some(*bits));
        }
        assert_eq!(pa_range_bits(7), None);
        assert_eq!(pa_range_bits(0xF), None);
    }
}
