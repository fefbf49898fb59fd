//! A simulated CPU's system registers.

use std::collections::HashMap;
use std::sync::Mutex;

use platform::arch::FpRegs;
use platform::sysreg::{is_read_only, SysReg, SysRegEncoding};

/// Initial register values for every simulated CPU. `MPIDR_EL1` is derived per CPU.
#[derive(Clone, Debug)]
pub struct SysRegDefaults {
    values: [u64; SysReg::COUNT],
}

/// ICH_VTR_EL2 for `lrs` list registers (1..=16), `pri_bits` priority bits and
/// `pre_bits` preemption bits (5..=7), 16 virtual ID bits.
pub const fn ich_vtr(lrs: u64, pri_bits: u64, pre_bits: u64) -> u64 {
    assert!(lrs >= 1 && lrs <= 16 && pri_bits >= 5 && pri_bits <= 8 && pre_bits >= 5);
    (lrs - 1) | (pre_bits - 1) << 26 | (pri_bits - 1) << 29
}

impl Default for SysRegDefaults {
    /// A CPU resembling QEMU's `max` with RME: 48-bit PA, 4 KiB stage-2 granule,
    /// 6 breakpoints and 4 watchpoints, PMUv3p7 with 8 counters, SHA-256/512
    /// instructions, GICv3 with 16 list registers and 5 priority bits.
    fn default() -> Self {
        let mut d = Self {
            values: [0; SysReg::COUNT],
        };
        // EL2 [11:8] = 1, EL3 [15:12] = 1, GIC [27:24] = 1, RME [55:52] = 1.
        d.set(
            SysReg::ID_AA64PFR0_EL1,
            1 << 8 | 1 << 12 | 1 << 24 | 1 << 52,
        );
        // PARange [3:0] = 0b0101 (48 bits); TGran4 [31:28] = 0; TGran4_2 [43:40] = 0b0010.
        d.set(SysReg::ID_AA64MMFR0_EL1, 0b0101 | 0b0010 << 40);
        // PMUVer [11:8] = 0b0111 (PMUv3p7), BRPs [15:12] = 5, WRPs [23:20] = 3.
        d.set(SysReg::ID_AA64DFR0_EL1, 0b0111 << 8 | 5 << 12 | 3 << 20);
        // SHA2 [15:12] = 0b0010 (SHA-256 and SHA-512).
        d.set(SysReg::ID_AA64ISAR0_EL1, 0b0010 << 12);
        // PMCR_EL0.N [15:11] = 8.
        d.set(SysReg::PMCR_EL0, 8 << 11);
        d.set(SysReg::ICH_VTR_EL2, ich_vtr(16, 5, 5));
        d
    }
}

impl SysRegDefaults {
    /// Sets a default value.
    pub fn set(&mut self, reg: SysReg, value: u64) -> &mut Self {
        self.values[reg.index()] = value;
        self
    }

    /// Builder form of [`SysRegDefaults::set`].
    pub fn with(mut self, reg: SysReg, value: u64) -> Self {
        self.set(reg, value);
        self
    }

    /// The defaults of a CPU with FEAT_LPA and FEAT_LPA2 at stage 2, as QEMU's `max`
    /// (ID_AA64MMFR0_EL1: PARange `0b0110`, 52 bits; TGran4 `0b0001` and TGran4_2
    /// `0b0011`, the 4 KiB granule supports 52-bit input and output addresses, also at
    /// stage 2); the rest as [`SysRegDefaults::default`].
    pub fn lpa2() -> Self {
        Self::default().with(SysReg::ID_AA64MMFR0_EL1, MMFR0_LPA2)
    }

    /// A default value.
    pub fn get(&self, reg: SysReg) -> u64 {
        self.values[reg.index()]
    }
}

/// ID_AA64MMFR0_EL1 of [`SysRegDefaults::lpa2`]: PARange [3:0] = 0b0110 (52 bits),
/// TGran4 [31:28] = 0b0001, TGran4_2 [43:40] = 0b0011.
pub const MMFR0_LPA2: u64 = 0b0110 | 0b0001 << 28 | 0b0011 << 40;

/// The MPIDR_EL1 value of CPU `linear` on QEMU `virt`: Aff0 = id % 16, Aff1 = id / 16,
/// bit 31 RES1.
pub const fn mpidr_of(linear: usize) -> u64 {
    1 << 31 | ((linear as u64 >> 4) & 0xFF) << 8 | (linear as u64 & 0xF)
}

/// One CPU's register file: its system registers and its FP/SIMD registers.
pub struct SysRegFile {
    regs: Mutex<[u64; SysReg::COUNT]>,
    fp: Mutex<FpRegs>,
    /// Registers outside the [`SysReg`] list that a realm accessed without trapping
    /// (by encoding; all zero at reset).
    other: Mutex<HashMap<SysRegEncoding, u64>>,
    /// With FEAT_SVE: bits 255..128 of Z0..Z31 (the simulated CPU's vector length is
    /// 256 bits), as two little-endian words each.
    z_hi: Mutex<[[u64; 2]; 32]>,
}

impl SysRegFile {
    /// The register file of CPU `linear` after reset.
    pub fn new(defaults: &SysRegDefaults, linear: usize) -> Self {
        let mut regs = defaults.values;
        regs[SysReg::MPIDR_EL1.index()] = mpidr_of(linear);
        Self {
            regs: Mutex::new(regs),
            fp: Mutex::new(FpRegs::ZERO),
            other: Mutex::new(HashMap::new()),
            z_hi: Mutex::new([[0; 2]; 32]),
        }
    }

    /// The FP/SIMD registers (V0..V31, FPCR, FPSR).
    pub fn fp(&self) -> FpRegs {
        *self.fp.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the FP/SIMD registers. With FEAT_SVE (ID_AA64PFR0_EL1.SVE [35:32] != 0)
    /// this zeroes the Z registers' bits above 127, as every write of a V register does
    /// (Arm ARM, "SIMD&FP and SVE registers").
    pub fn set_fp(&self, value: &FpRegs) {
        *self.fp.lock().unwrap_or_else(|e| e.into_inner()) = *value;
        if self.has_sve() {
            *self.z_hi.lock().unwrap_or_else(|e| e.into_inner()) = [[0; 2]; 32];
        }
    }

    /// Whether the CPU implements FEAT_SVE.
    pub fn has_sve(&self) -> bool {
        self.read(SysReg::ID_AA64PFR0_EL1) >> 32 & 0xF != 0
    }

    /// Bits 255..128 of Z0..Z31 (zero without FEAT_SVE).
    pub fn z_hi(&self) -> [[u64; 2]; 32] {
        *self.z_hi.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets bits 255..128 of Z0..Z31 (SVE instructions of the software running).
    ///
    /// # Panics
    /// Without FEAT_SVE.
    pub fn set_z_hi(&self, value: &[[u64; 2]; 32]) {
        assert!(self.has_sve(), "no SVE on this simulated CPU");
        *self.z_hi.lock().unwrap_or_else(|e| e.into_inner()) = *value;
    }

    /// Reads a register.
    pub fn read(&self, reg: SysReg) -> u64 {
        self.regs.lock().unwrap_or_else(|e| e.into_inner())[reg.index()]
    }

    /// Writes a register as software would.
    ///
    /// # Panics
    /// On a write to a read-only register: on hardware that is an undefined instruction.
    pub fn write(&self, reg: SysReg, value: u64) {
        assert!(
            !is_read_only(reg),
            "write to read-only register {}",
            reg.name()
        );
        let mut regs = self.regs.lock().unwrap_or_else(|e| e.into_inner());
        // PMCNTENSET_EL0 and PMCNTENCLR_EL0 are two views of one set of enables: a
        // write sets (or clears) the bits written as 1 (Arm ARM, PMCNTENSET_EL0).
        let (set, clr) = (
            SysReg::PMCNTENSET_EL0.index(),
            SysReg::PMCNTENCLR_EL0.index(),
        );
        match reg {
            SysReg::PMCNTENSET_EL0 => regs[set] |= value,
            SysReg::PMCNTENCLR_EL0 => regs[set] &= !value,
            _ => regs[reg.index()] = value,
        }
        regs[clr] = regs[set];
    }

    /// Reads the register with encoding `enc`: a [`SysReg`], or another register the
    /// simulation keeps by encoding (zero until written).
    pub fn read_encoding(&self, enc: SysRegEncoding) -> u64 {
        match SysReg::from_encoding(enc) {
            Some(r) => self.read(r),
            None => *self
                .other
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&enc)
                .unwrap_or(&0),
        }
    }

    /// Writes the register with encoding `enc` as software would ([`SysRegFile::write`]
    /// for a [`SysReg`]).
    pub fn write_encoding(&self, enc: SysRegEncoding, value: u64) {
        match SysReg::from_encoding(enc) {
            Some(r) => self.write(r, value),
            None => {
                self.other
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(enc, value);
            }
        }
    }

    /// Sets any register, read-only ones included (test set-up: what the hardware is).
    pub fn force(&self, reg: SysReg, value: u64) {
        self.regs.lock().unwrap_or_else(|e| e.into_inner())[reg.index()] = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mpidr_and_defaults() {
        let d = SysRegDefaults::default();
        let f = SysRegFile::new(&d, 17);
        assert_eq!(f.read(SysReg::MPIDR_EL1), 0x8000_0101);
        assert_eq!(f.read(SysReg::ICH_VTR_EL2) & 0x1F, 15);
        assert_eq!(f.read(SysReg::ICH_VTR_EL2) >> 29, 4);
        assert_eq!(f.read(SysReg::ID_AA64MMFR0_EL1) & 0xF, 0b0101);
        assert_eq!(ich_vtr(1, 8, 7), 0xF800_0000);
        f.write(SysReg::VTTBR_EL2, 0x1234_5000);
        assert_eq!(f.read(SysReg::VTTBR_EL2), 0x1234_5000);
        f.force(SysReg::ICH_VTR_EL2, ich_vtr(4, 5, 5));
        assert_eq!(f.read(SysReg::ICH_VTR_EL2), 3 | 4 << 26 | 4 << 29);
    }

    #[test]
    #[should_panic(expected = "write to read-only register id_aa64mmfr0_el1")]
    fn id_registers_are_read_only() {
        SysRegFile::new(&SysRegDefaults::default(), 0).write(SysReg::ID_AA64MMFR0_EL1, 0);
    }
}
