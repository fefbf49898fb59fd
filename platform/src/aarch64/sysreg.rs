//! `mrs`/`msr` for every [`SysReg`]: `aarch64-cpu`'s register accessors where that
//! crate has the register (and, for a register the RMM writes, its writer), and a thin
//! table of generic encodings for the rest.
//!
//! Every register of the list is in exactly one of the four groups of the table at the
//! bottom (the `match`es it generates are exhaustive, so a new [`SysReg`] does not build
//! until it is placed). The encodings of the hand-written group are checked at compile
//! time against the register list's (`crate::sysreg`).
//!
//! Ordering: `aarch64-cpu`'s accessors are `asm!` with `options(nomem, nostack)`, so the
//! compiler may move memory accesses across one of its writes (it keeps the order of
//! the `asm!` blocks and calls themselves). No write here needs more: they set the
//! realm's EL1 context and EL2's control of the realm, which take effect at the world
//! switch (`world::run`, a call into assembly), and the barriers an access needs
//! (`dsb`/`isb`) are `asm!` of their own at the call site. The hand-written group keeps
//! the options this module always had (a write is also a compiler barrier for memory).

use core::arch::asm;

use aarch64_cpu::registers::{self as cpu, Readable, Writeable};

use crate::sysreg::{is_read_only, SysReg, SysRegEncoding};

/// `mrs` of a generic register name `S<op0>_<op1>_C<n>_C<m>_<op2>`.
macro_rules! raw_read {
    ($enc:literal) => {{
        let v: u64;
        // SAFETY: reading a system register has no effect on memory; every register of
        // the list is readable at EL2.
        unsafe {
            asm!(concat!("mrs {}, ", $enc), out(reg) v, options(nomem, nostack, preserves_flags))
        }
        v
    }};
}

/// `msr` of a generic register name `S<op0>_<op1>_C<n>_C<m>_<op2>`.
macro_rules! raw_write {
    ($enc:literal, $v:expr) => {
        // SAFETY: the RMM owns EL2 and the EL1 context of the realm it runs; writing the
        // registers of this table (PMU enables, error records, the realm's MIDR, HCRX,
        // the fault address) does not break Rust's memory model.
        unsafe { asm!(concat!("msr ", $enc, ", {}"), in(reg) $v, options(nostack, preserves_flags)) }
    };
}

/// Whether two encodings are the same (`PartialEq` is not `const`).
const fn same(a: SysRegEncoding, b: SysRegEncoding) -> bool {
    a.op0 == b.op0 && a.op1 == b.op1 && a.crn == b.crn && a.crm == b.crm && a.op2 == b.op2
}

macro_rules! accessors {
    (
        cpu_rw: [$($rw:ident),* $(,)?],
        cpu_ro: [$($ro:ident),* $(,)?],
        raw_rw: [$($raww:ident => $encw:literal),* $(,)?],
        raw_ro: [$($rawr:ident => $encr:literal),* $(,)?] $(,)?
    ) => {
        /// Reads `reg` on the current CPU.
        #[inline]
        pub fn read(reg: SysReg) -> u64 {
            match reg {
                $( SysReg::$rw => cpu::$rw.get(), )*
                $( SysReg::$ro => cpu::$ro.get(), )*
                $( SysReg::$raww => raw_read!($encw), )*
                $( SysReg::$rawr => raw_read!($encr), )*
            }
        }

        /// Writes `reg` on the current CPU. Writes to read-only registers are rejected
        /// here rather than left to fault.
        #[inline]
        pub fn write(reg: SysReg, v: u64) {
            if is_read_only(reg) {
                log::error!("write to read-only register {} ignored", reg.name());
                return;
            }
            match reg {
                $( SysReg::$rw => cpu::$rw.set(v), )*
                $( SysReg::$raww => raw_write!($encw, v), )*
                // Refused above (checked below: every one is read-only).
                $( SysReg::$ro )|* $( | SysReg::$rawr )* => {}
            }
        }

        // The read-only groups are read-only in the list (else `write` would drop a
        // write), the writable ones are not, and the hand-written encodings are the
        // list's.
        const _: () = {
            $( assert!(!is_read_only(SysReg::$rw)); )*
            $( assert!(is_read_only(SysReg::$ro)); )*
            $( assert!(!is_read_only(SysReg::$raww)); )*
            $( assert!(is_read_only(SysReg::$rawr)); )*
            $( assert!(same(SysReg::$raww.encoding(), SysRegEncoding::parse($encw))); )*
            $( assert!(same(SysReg::$rawr.encoding(), SysRegEncoding::parse($encr))); )*
        };
    };
}

accessors! {
    // aarch64-cpu reads and writes them.
    cpu_rw: [
        SCTLR_EL1, TCR_EL1, TTBR0_EL1, TTBR1_EL1, MAIR_EL1, AMAIR_EL1, VBAR_EL1,
        ELR_EL1, SPSR_EL1, ESR_EL1, FAR_EL1, AFSR0_EL1, AFSR1_EL1, CONTEXTIDR_EL1,
        CPACR_EL1, CSSELR_EL1, PAR_EL1, SP_EL0, SP_EL1, TPIDR_EL0, TPIDRRO_EL0,
        TPIDR_EL1, CNTKCTL_EL1, MDSCR_EL1,
        APIAKEYLO_EL1, APIAKEYHI_EL1, APIBKEYLO_EL1, APIBKEYHI_EL1,
        APDAKEYLO_EL1, APDAKEYHI_EL1, APDBKEYLO_EL1, APDBKEYHI_EL1,
        APGAKEYLO_EL1, APGAKEYHI_EL1,
        CNTV_CTL_EL0, CNTV_CVAL_EL0, CNTP_CTL_EL0, CNTP_CVAL_EL0,
        CNTVOFF_EL2, CNTPOFF_EL2, CNTHCTL_EL2,
        ICC_SRE_EL2, HCR_EL2, VTCR_EL2, VTTBR_EL2, VMPIDR_EL2, MDCR_EL2, CPTR_EL2,
        ELR_EL2, SPSR_EL2, ESR_EL2, FAR_EL2,
    ],
    // aarch64-cpu reads them; the architecture makes them read-only.
    cpu_ro: [
        ID_AA64PFR0_EL1, ID_AA64PFR1_EL1, ID_AA64MMFR0_EL1, ID_AA64MMFR1_EL1,
        ID_AA64MMFR2_EL1, ID_AA64DFR0_EL1, ID_AA64DFR1_EL1, ID_AA64ISAR0_EL1,
        ID_AA64ISAR1_EL1, MPIDR_EL1, MIDR_EL1, ICH_VTR_EL2, CNTPCT_EL0, CNTVCT_EL0,
    ],
    // aarch64-cpu lacks them, or (ICC_CTLR_EL1, HPFAR_EL2) has only their reader.
    raw_rw: [
        PMCR_EL0 => "S3_3_C9_C12_0",
        ICC_CTLR_EL1 => "S3_0_C12_C12_4",
        DISR_EL1 => "S3_0_C12_C1_1",
        VDISR_EL2 => "S3_4_C12_C1_1",
        PMCNTENSET_EL0 => "S3_3_C9_C12_1",
        PMCNTENCLR_EL0 => "S3_3_C9_C12_2",
        VPIDR_EL2 => "S3_4_C0_C0_0",
        HCRX_EL2 => "S3_4_C1_C2_2",
        HPFAR_EL2 => "S3_4_C6_C0_4",
    ],
    // aarch64-cpu lacks them; read-only.
    raw_ro: [
        ID_AA64ISAR2_EL1 => "S3_0_C0_C6_2",
        ID_AA64ZFR0_EL1 => "S3_0_C0_C4_4",
        ISR_EL1 => "S3_0_C12_C1_0",
    ],
}
