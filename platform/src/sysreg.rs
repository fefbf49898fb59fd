//! The system registers the RMM reads or writes through [`crate::Arch`].
//!
//! One enum names them all: the firmware's accessors (`aarch64/sysreg.rs`, through
//! `aarch64-cpu` where it has the register, its `match`es exhaustive over the enum) and
//! the simulated register file (an array per CPU) are both built on it.
//! The GIC virtual CPU interface registers (`ICH_*_EL2` other than `ICH_VTR_EL2`) are
//! handled by the `vgic` crate's own interface; `ICC_SRE_EL2`, which enables them, is
//! here. Each entry gives the register's name
//! and its generic `S<op0>_<op1>_C<n>_C<m>_<op2>` encoding, which every assembler
//! accepts whatever architecture extensions it is told about.

macro_rules! define_sysreg_enum {
    ($( $(#[$m:meta])* $name:ident => $asm:literal, $enc:literal ),* $(,)?) => {
        /// A system register.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u16)]
        #[allow(non_camel_case_types)]
        pub enum SysReg {
            $( $(#[$m])* $name, )*
        }

        impl SysReg {
            /// The encoding of each register, in declaration order.
            const ENCODINGS: &'static [SysRegEncoding] =
                &[$(SysRegEncoding::parse($enc)),*];

            /// Every register, in declaration order.
            pub const ALL: &'static [SysReg] = &[$(SysReg::$name),*];
            /// The number of registers.
            pub const COUNT: usize = Self::ALL.len();

            /// The architectural name (lower case).
            pub const fn name(self) -> &'static str {
                match self {
                    $( SysReg::$name => $asm, )*
                }
            }

            /// Position in [`SysReg::ALL`].
            pub const fn index(self) -> usize {
                self as usize
            }

            /// The register's encoding (what MRS/MSR name, and what ESR_EL2 reports
            /// for a trapped access).
            pub const fn encoding(self) -> SysRegEncoding {
                Self::ENCODINGS[self as usize]
            }

            /// The register with encoding `enc`, if it is in the list.
            pub fn from_encoding(enc: SysRegEncoding) -> Option<SysReg> {
                Self::ALL.iter().copied().find(|r| r.encoding() == enc)
            }
        }
    };
}

/// Invokes `$callback!` with the register list (doc comments, variant name, assembler
/// name, generic encoding).
macro_rules! with_sysreg_list {
    ($callback:ident) => {
        $callback! {
        // --- Identification (read-only) ---
        /// Processor feature register 0 (EL2/EL3/SVE/GIC fields).
        ID_AA64PFR0_EL1 => "id_aa64pfr0_el1", "S3_0_C0_C4_0",
        /// Processor feature register 1.
        ID_AA64PFR1_EL1 => "id_aa64pfr1_el1", "S3_0_C0_C4_1",
        /// Memory model feature register 0 (PARange, granule support).
        ID_AA64MMFR0_EL1 => "id_aa64mmfr0_el1", "S3_0_C0_C7_0",
        /// Memory model feature register 1.
        ID_AA64MMFR1_EL1 => "id_aa64mmfr1_el1", "S3_0_C0_C7_1",
        /// Memory model feature register 2.
        ID_AA64MMFR2_EL1 => "id_aa64mmfr2_el1", "S3_0_C0_C7_2",
        /// Debug feature register 0 (BRPs, WRPs, PMUVer).
        ID_AA64DFR0_EL1 => "id_aa64dfr0_el1", "S3_0_C0_C5_0",
        /// Debug feature register 1.
        ID_AA64DFR1_EL1 => "id_aa64dfr1_el1", "S3_0_C0_C5_1",
        /// Instruction set attribute register 0 (SHA2/SHA512).
        ID_AA64ISAR0_EL1 => "id_aa64isar0_el1", "S3_0_C0_C6_0",
        /// Instruction set attribute register 1 (pointer authentication: APA, API, GPA,
        /// GPI).
        ID_AA64ISAR1_EL1 => "id_aa64isar1_el1", "S3_0_C0_C6_1",
        /// Instruction set attribute register 2 (pointer authentication: APA3, GPA3).
        ID_AA64ISAR2_EL1 => "id_aa64isar2_el1", "S3_0_C0_C6_2",
        /// SVE feature register 0.
        ID_AA64ZFR0_EL1 => "id_aa64zfr0_el1", "S3_0_C0_C4_4",
        /// Multiprocessor affinity.
        MPIDR_EL1 => "mpidr_el1", "S3_0_C0_C0_5",
        /// Main ID register (what VPIDR_EL2 gives a realm).
        MIDR_EL1 => "midr_el1", "S3_0_C0_C0_0",
        /// PMU control (N = number of event counters).
        PMCR_EL0 => "pmcr_el0", "S3_3_C9_C12_0",
        /// GIC virtual CPU interface type: number of LRs, priority/preemption/ID bits.
        ICH_VTR_EL2 => "ich_vtr_el2", "S3_4_C12_C11_1",
        /// GIC CPU interface control (ExtRange).
        ICC_CTLR_EL1 => "icc_ctlr_el1", "S3_0_C12_C12_4",
        // --- Interrupt status (read-only) ---
        /// Pending physical interrupts: at EL2, A [8] SError, I [7] IRQ, F [6] FIQ.
        ISR_EL1 => "isr_el1", "S3_0_C12_C1_0",
        // --- Error synchronisation (FEAT_RAS) ---
        /// Deferred SErrors: at EL2, the PE's record; at EL1 with HCR_EL2.AMO set, an
        /// access reaches VDISR_EL2 instead.
        DISR_EL1 => "disr_el1", "S3_0_C12_C1_1",
        /// The deferred virtual SError record: what EL1 reads and writes as DISR_EL1
        /// while HCR_EL2.AMO is set.
        VDISR_EL2 => "vdisr_el2", "S3_4_C12_C1_1",
        // --- GIC system register interface ---
        /// GIC system register enable at EL2 (SRE, DFB, DIB, Enable).
        ICC_SRE_EL2 => "icc_sre_el2", "S3_4_C12_C9_5",
        // --- EL1 context of a realm ---
        /// EL1 system control.
        SCTLR_EL1 => "sctlr_el1", "S3_0_C1_C0_0",
        /// EL1 translation control.
        TCR_EL1 => "tcr_el1", "S3_0_C2_C0_2",
        /// EL1 translation table base 0.
        TTBR0_EL1 => "ttbr0_el1", "S3_0_C2_C0_0",
        /// EL1 translation table base 1.
        TTBR1_EL1 => "ttbr1_el1", "S3_0_C2_C0_1",
        /// EL1 memory attribute indirection.
        MAIR_EL1 => "mair_el1", "S3_0_C10_C2_0",
        /// EL1 auxiliary memory attribute indirection.
        AMAIR_EL1 => "amair_el1", "S3_0_C10_C3_0",
        /// EL1 vector base.
        VBAR_EL1 => "vbar_el1", "S3_0_C12_C0_0",
        /// EL1 exception link register.
        ELR_EL1 => "elr_el1", "S3_0_C4_C0_1",
        /// EL1 saved program status.
        SPSR_EL1 => "spsr_el1", "S3_0_C4_C0_0",
        /// EL1 exception syndrome.
        ESR_EL1 => "esr_el1", "S3_0_C5_C2_0",
        /// EL1 fault address.
        FAR_EL1 => "far_el1", "S3_0_C6_C0_0",
        /// EL1 auxiliary fault status 0.
        AFSR0_EL1 => "afsr0_el1", "S3_0_C5_C1_0",
        /// EL1 auxiliary fault status 1.
        AFSR1_EL1 => "afsr1_el1", "S3_0_C5_C1_1",
        /// Context ID.
        CONTEXTIDR_EL1 => "contextidr_el1", "S3_0_C13_C0_1",
        /// Architectural feature access control.
        CPACR_EL1 => "cpacr_el1", "S3_0_C1_C0_2",
        /// Cache size selection.
        CSSELR_EL1 => "csselr_el1", "S3_2_C0_C0_0",
        /// Physical address register.
        PAR_EL1 => "par_el1", "S3_0_C7_C4_0",
        /// Stack pointer (EL0).
        SP_EL0 => "sp_el0", "S3_0_C4_C1_0",
        /// Stack pointer (EL1).
        SP_EL1 => "sp_el1", "S3_4_C4_C1_0",
        /// EL0 read/write software thread ID.
        TPIDR_EL0 => "tpidr_el0", "S3_3_C13_C0_2",
        /// EL0 read-only software thread ID.
        TPIDRRO_EL0 => "tpidrro_el0", "S3_3_C13_C0_3",
        /// EL1 software thread ID.
        TPIDR_EL1 => "tpidr_el1", "S3_0_C13_C0_4",
        /// EL1 timer control.
        CNTKCTL_EL1 => "cntkctl_el1", "S3_0_C14_C1_0",
        /// Debug system control.
        MDSCR_EL1 => "mdscr_el1", "S2_0_C0_C2_2",
        // --- Pointer authentication keys (FEAT_PAuth) ---
        /// Instruction key A, low half.
        APIAKEYLO_EL1 => "apiakeylo_el1", "S3_0_C2_C1_0",
        /// Instruction key A, high half.
        APIAKEYHI_EL1 => "apiakeyhi_el1", "S3_0_C2_C1_1",
        /// Instruction key B, low half.
        APIBKEYLO_EL1 => "apibkeylo_el1", "S3_0_C2_C1_2",
        /// Instruction key B, high half.
        APIBKEYHI_EL1 => "apibkeyhi_el1", "S3_0_C2_C1_3",
        /// Data key A, low half.
        APDAKEYLO_EL1 => "apdakeylo_el1", "S3_0_C2_C2_0",
        /// Data key A, high half.
        APDAKEYHI_EL1 => "apdakeyhi_el1", "S3_0_C2_C2_1",
        /// Data key B, low half.
        APDBKEYLO_EL1 => "apdbkeylo_el1", "S3_0_C2_C2_2",
        /// Data key B, high half.
        APDBKEYHI_EL1 => "apdbkeyhi_el1", "S3_0_C2_C2_3",
        /// Generic key, low half.
        APGAKEYLO_EL1 => "apgakeylo_el1", "S3_0_C2_C3_0",
        /// Generic key, high half.
        APGAKEYHI_EL1 => "apgakeyhi_el1", "S3_0_C2_C3_1",
        // --- Performance Monitors counter enables (FEAT_PMUv3) ---
        /// Counter enable set: a write sets the enables of its 1 bits (bit 31 the
        /// cycle counter, bit n PMEVCNTR<n>_EL0); a read returns the enables.
        PMCNTENSET_EL0 => "pmcntenset_el0", "S3_3_C9_C12_1",
        /// Counter enable clear: a write clears the enables of its 1 bits; a read
        /// returns the enables.
        PMCNTENCLR_EL0 => "pmcntenclr_el0", "S3_3_C9_C12_2",
        // --- Timers ---
        /// Virtual timer control.
        CNTV_CTL_EL0 => "cntv_ctl_el0", "S3_3_C14_C3_1",
        /// Virtual timer compare value.
        CNTV_CVAL_EL0 => "cntv_cval_el0", "S3_3_C14_C3_2",
        /// Physical timer control.
        CNTP_CTL_EL0 => "cntp_ctl_el0", "S3_3_C14_C2_1",
        /// Physical timer compare value.
        CNTP_CVAL_EL0 => "cntp_cval_el0", "S3_3_C14_C2_2",
        /// Physical count (read-only).
        CNTPCT_EL0 => "cntpct_el0", "S3_3_C14_C0_1",
        /// Virtual count (read-only).
        CNTVCT_EL0 => "cntvct_el0", "S3_3_C14_C0_2",
        /// Virtual counter offset.
        CNTVOFF_EL2 => "cntvoff_el2", "S3_4_C14_C0_3",
        /// Physical counter offset (FEAT_ECV).
        CNTPOFF_EL2 => "cntpoff_el2", "S3_4_C14_C0_6",
        /// Hypervisor timer control.
        CNTHCTL_EL2 => "cnthctl_el2", "S3_4_C14_C1_0",
        // --- EL2 control of the realm ---
        /// Hypervisor configuration.
        HCR_EL2 => "hcr_el2", "S3_4_C1_C1_0",
        /// Stage-2 translation control.
        VTCR_EL2 => "vtcr_el2", "S3_4_C2_C1_2",
        /// Stage-2 translation table base (and VMID).
        VTTBR_EL2 => "vttbr_el2", "S3_4_C2_C1_0",
        /// Virtualization multiprocessor ID (the realm's MPIDR).
        VMPIDR_EL2 => "vmpidr_el2", "S3_4_C0_C0_5",
        /// Virtualization processor ID (the realm's MIDR).
        VPIDR_EL2 => "vpidr_el2", "S3_4_C0_C0_0",
        /// Extended hypervisor configuration (FEAT_HCX).
        HCRX_EL2 => "hcrx_el2", "S3_4_C1_C2_2",
        /// Monitor debug configuration.
        MDCR_EL2 => "mdcr_el2", "S3_4_C1_C1_1",
        /// Architectural feature trap.
        CPTR_EL2 => "cptr_el2", "S3_4_C1_C1_2",
        /// EL2 exception link register.
        ELR_EL2 => "elr_el2", "S3_4_C4_C0_1",
        /// EL2 saved program status.
        SPSR_EL2 => "spsr_el2", "S3_4_C4_C0_0",
        /// EL2 exception syndrome.
        ESR_EL2 => "esr_el2", "S3_4_C5_C2_0",
        /// EL2 fault address.
        FAR_EL2 => "far_el2", "S3_4_C6_C0_0",
        /// Hypervisor IPA fault address.
        HPFAR_EL2 => "hpfar_el2", "S3_4_C6_C0_4",
            }
    };
}

with_sysreg_list!(define_sysreg_enum);

/// A system register encoding, `S<op0>_<op1>_C<CRn>_C<CRm>_<op2>` (Arm ARM, C5.3
/// "System instructions" and D23 "System register encoding"): the operands of MRS/MSR,
/// and what ESR_EL2.ISS reports for a trapped access (EC 0x18).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SysRegEncoding {
    /// op0 (2 bits: 2 debug, 3 the rest of the system registers).
    pub op0: u8,
    /// op1 (3 bits).
    pub op1: u8,
    /// CRn (4 bits).
    pub crn: u8,
    /// CRm (4 bits).
    pub crm: u8,
    /// op2 (3 bits).
    pub op2: u8,
}

impl SysRegEncoding {
    /// The encoding `S<op0>_<op1>_C<crn>_C<crm>_<op2>`.
    pub const fn new(op0: u8, op1: u8, crn: u8, crm: u8, op2: u8) -> Self {
        Self {
            op0,
            op1,
            crn,
            crm,
            op2,
        }
    }

    /// Parses the generic name `S<op0>_<op1>_C<n>_C<m>_<op2>` (decimal numbers).
    ///
    /// # Panics
    /// On any other text (at compile time for the register list).
    pub const fn parse(s: &str) -> Self {
        let b = s.as_bytes();
        let mut v = [0u8; 5];
        let mut field = 0;
        let mut i = 1;
        assert!(b[0] == b'S', "a generic register name starts with S");
        while i < b.len() {
            match b[i] {
                b'_' => field += 1,
                b'C' => {}
                d if d.is_ascii_digit() => v[field] = v[field] * 10 + (d - b'0'),
                _ => panic!("not a generic register name"),
            }
            i += 1;
        }
        assert!(field == 4, "a generic register name has five fields");
        Self::new(v[0], v[1], v[2], v[3], v[4])
    }

    /// The register bits of ESR_EL2.ISS for an exception from MSR/MRS (EC 0x18): Op0
    /// [21:20], Op2 [19:17], Op1 [16:14], CRn [13:10], CRm [4:1] (Rt and Direction 0).
    pub const fn iss(self) -> u64 {
        (self.op0 as u64) << 20
            | (self.op2 as u64) << 17
            | (self.op1 as u64) << 14
            | (self.crn as u64) << 10
            | (self.crm as u64) << 1
    }

    /// The encoding in an EC 0x18 ESR_EL2.ISS (the inverse of [`SysRegEncoding::iss`]).
    pub const fn from_iss(iss: u64) -> Self {
        Self::new(
            (iss >> 20 & 0x3) as u8,
            (iss >> 14 & 0x7) as u8,
            (iss >> 10 & 0xF) as u8,
            (iss >> 1 & 0xF) as u8,
            (iss >> 17 & 0x7) as u8,
        )
    }
}

impl core::fmt::Display for SysRegEncoding {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "S{}_{}_C{}_C{}_{}",
            self.op0, self.op1, self.crn, self.crm, self.op2
        )
    }
}

/// Whether the architecture makes `reg` read-only (identification registers).
pub const fn is_read_only(reg: SysReg) -> bool {
    matches!(
        reg,
        SysReg::ID_AA64PFR0_EL1
            | SysReg::ID_AA64PFR1_EL1
            | SysReg::ID_AA64MMFR0_EL1
            | SysReg::ID_AA64MMFR1_EL1
            | SysReg::ID_AA64MMFR2_EL1
            | SysReg::ID_AA64DFR0_EL1
            | SysReg::ID_AA64DFR1_EL1
            | SysReg::ID_AA64ISAR0_EL1
            | SysReg::ID_AA64ISAR1_EL1
            | SysReg::ID_AA64ISAR2_EL1
            | SysReg::ID_AA64ZFR0_EL1
            | SysReg::MPIDR_EL1
            | SysReg::MIDR_EL1
            | SysReg::ICH_VTR_EL2
            | SysReg::ISR_EL1
            | SysReg::CNTPCT_EL0
            | SysReg::CNTVCT_EL0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_matches_position_and_names_are_unique() {
        for (i, r) in SysReg::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
        for (i, a) in SysReg::ALL.iter().enumerate() {
            for b in &SysReg::ALL[i + 1..] {
                assert_ne!(a.name(), b.name());
            }
        }
        assert_eq!(SysReg::ICH_VTR_EL2.name(), "ich_vtr_el2");
        assert_eq!(SysReg::COUNT, SysReg::ALL.len());
    }

    #[test]
    fn encodings() {
        // MDSCR_EL1 is S2_0_C0_C2_2 (Arm ARM, MDSCR_EL1 encoding).
        let e = SysReg::MDSCR_EL1.encoding();
        assert_eq!(e, SysRegEncoding::new(2, 0, 0, 2, 2));
        assert_eq!(e.to_string(), "S2_0_C0_C2_2");
        // ISS: Op0 [21:20], Op2 [19:17], Op1 [16:14], CRn [13:10], CRm [4:1].
        let apga_hi = SysReg::APGAKEYHI_EL1.encoding();
        assert_eq!(apga_hi.iss(), 3 << 20 | 1 << 17 | 2 << 10 | 3 << 1);
        assert_eq!(
            SysRegEncoding::from_iss(apga_hi.iss() | 0x1F << 5 | 1),
            apga_hi
        );
        assert_eq!(
            SysReg::from_encoding(SysRegEncoding::new(3, 0, 0, 6, 1)),
            Some(SysReg::ID_AA64ISAR1_EL1)
        );
        assert_eq!(
            SysReg::from_encoding(SysRegEncoding::new(3, 0, 0, 6, 7)),
            None
        );
        for (i, a) in SysReg::ALL.iter().enumerate() {
            for b in &SysReg::ALL[i + 1..] {
                assert_ne!(a.encoding(), b.encoding(), "{} and {}", a.name(), b.name());
            }
        }
    }
}
