//! System register access at EL3: identification, EL3 control, and the EL2 state of a
//! world (saved and restored on each world switch).
//!
//! Registers are named by their generic `S<op0>_<op1>_C<n>_C<m>_<op2>` encoding so that
//! the assembler needs no architecture extension flags.

use core::arch::asm;

/// `mrs` of a register given by its encoding.
macro_rules! mrs {
    ($enc:literal) => {{
        let v: u64;
        // SAFETY: reading a system register at EL3 has no side effect on memory; every
        // register read here exists on the CPU (callers check the feature first).
        unsafe { asm!(concat!("mrs {}, ", $enc), out(reg) v, options(nomem, nostack, preserves_flags)) };
        v
    }};
}

/// `msr` of a register given by its encoding.
macro_rules! msr {
    ($enc:literal, $v:expr) => {{
        let v: u64 = $v;
        // SAFETY: the registers written through this macro hold state of the lower
        // Exception levels only (EL2 and the pointer-authentication keys), which EL3's own
        // execution does not depend on.
        unsafe { asm!(concat!("msr ", $enc, ", {}"), in(reg) v, options(nostack, preserves_flags)) };
    }};
}

/// Declares read accessors for registers that are always safe to read at EL3.
macro_rules! readers {
    ($($(#[$m:meta])* $name:ident = $enc:literal;)*) => {
        $( $(#[$m])* pub fn $name() -> u64 { mrs!($enc) } )*
    };
}

readers! {
    /// Multiprocessor affinity (the CPU's MPIDR).
    mpidr_el1 = "S3_0_C0_C0_5";
    /// Processor feature register 0 (SVE, RME).
    id_aa64pfr0_el1 = "S3_0_C0_C4_0";
    /// Memory model feature register 0 (PARange, FGT, ECV).
    id_aa64mmfr0_el1 = "S3_0_C0_C7_0";
    /// Memory model feature register 1 (VH, HCX).
    id_aa64mmfr1_el1 = "S3_0_C0_C7_1";
    /// Memory model feature register 3 (TCRX, SCTLRX).
    id_aa64mmfr3_el1 = "S3_0_C0_C7_3";
    /// Instruction set attribute register 1 (pointer authentication).
    id_aa64isar1_el1 = "S3_0_C0_C6_1";
    /// Instruction set attribute register 2 (pointer authentication, QARMA3).
    id_aa64isar2_el1 = "S3_0_C0_C6_2";
    /// Cache type (data cache line size).
    ctr_el0 = "S3_3_C0_C0_1";
    /// Physical counter.
    cntpct_el0 = "S3_3_C14_C0_1";
    /// Counter frequency.
    cntfrq_el0 = "S3_3_C14_C0_0";
    /// Syndrome of the exception taken to EL3.
    esr_el3 = "S3_6_C5_C2_0";
    /// Physical fault address of a granule protection check exception.
    mfar_el3 = "S3_6_C6_C0_5";
    /// Secure configuration.
    scr_el3 = "S3_6_C1_C1_0";
    /// Granule protection check control.
    gpccr_el3 = "S3_6_C2_C1_6";
    /// This CPU's per-CPU block.
    tpidr_el3 = "S3_6_C13_C0_2";
}

/// Writes SCR_EL3 (the security state and routing of the lower Exception levels).
/// Takes effect for the lower ELs at the next exception return.
pub fn write_scr_el3(v: u64) {
    // SAFETY: SCR_EL3 controls the lower Exception levels only; EL3 keeps running
    // unaffected until it returns to the world the value selects.
    unsafe { asm!("msr S3_6_C1_C1_0, {}", in(reg) v, options(nostack, preserves_flags)) };
}

/// Writes CPTR_EL3 (FP/SVE/SME traps) and synchronises.
pub fn write_cptr_el3(v: u64) {
    // SAFETY: the values the monitor writes never trap FP/SIMD (TFP = 0), which EL3's
    // own code and the exception entry use; they only allow or trap SVE/SME/AMU/trace
    // at the lower ELs.
    unsafe { asm!("msr S3_6_C1_C1_2, {}", "isb", in(reg) v, options(nostack, preserves_flags)) };
}

/// Writes ZCR_EL3 (SVE vector length available below EL3). Needs FEAT_SVE and
/// CPTR_EL3.EZ set.
pub fn write_zcr_el3(v: u64) {
    // SAFETY: ZCR_EL3 only constrains the SVE vector length; EL3 does not use SVE.
    unsafe { asm!("msr S3_6_C1_C2_0, {}", "isb", in(reg) v, options(nostack, preserves_flags)) };
}

/// Writes ICC_SRE_EL3 (GIC system register interface enables) and synchronises.
pub fn write_icc_sre_el3(v: u64) {
    // SAFETY: enabling the GICv3 system register interface and lower-EL access to
    // ICC_SRE_EL2 has no effect on memory or on EL3's execution (EL3 takes no
    // interrupts: DAIF stays masked).
    unsafe { asm!("msr S3_6_C12_C12_5, {}", "isb", in(reg) v, options(nostack, preserves_flags)) };
}

/// Writes ICC_SRE_EL2 and synchronises.
pub fn write_icc_sre_el2(v: u64) {
    msr!("S3_4_C12_C9_5", v);
    isb();
}

/// Writes TPIDR_EL3, the pointer to this CPU's [`crate::percpu::PerCpu`].
///
/// # Safety
/// `v` must be the address of this CPU's per-CPU block, which must stay valid for ever:
/// the exception entry code stores the interrupted context through it.
pub unsafe fn write_tpidr_el3(v: u64) {
    // SAFETY: guaranteed by the caller; writing the register itself has no side effect.
    unsafe { asm!("msr S3_6_C13_C0_2, {}", in(reg) v, options(nostack, preserves_flags)) };
}

/// Writes GPTBR_EL3 (level 0 GPT base).
///
/// # Safety
/// While granule protection checks are enabled, `v` must point at a valid GPT that
/// keeps EL3's own memory accessible.
pub unsafe fn write_gptbr_el3(v: u64) {
    // SAFETY: guaranteed by the caller.
    unsafe { asm!("msr S3_6_C2_C1_4, {}", "isb", in(reg) v, options(nostack, preserves_flags)) };
}

/// Writes GPCCR_EL3 (granule protection check configuration and enable).
///
/// # Safety
/// If the value enables checks, GPTBR_EL3 must point at a valid GPT in which EL3's own
/// memory (code, data, stacks) is accessible from the Root PAS.
pub unsafe fn write_gpccr_el3(v: u64) {
    // SAFETY: guaranteed by the caller.
    unsafe { asm!("msr S3_6_C2_C1_6, {}", "isb", in(reg) v, options(nostack, preserves_flags)) };
}

/// Instruction synchronisation barrier.
pub fn isb() {
    // SAFETY: a barrier has no effect on memory or registers.
    unsafe { asm!("isb", options(nomem, nostack, preserves_flags)) };
}

/// Waits for an interrupt (parks the CPU when nothing will ever wake it).
pub fn wfi() {
    // SAFETY: waiting has no effect on memory or registers.
    unsafe { asm!("wfi", options(nomem, nostack, preserves_flags)) };
}

/// Waits for an event (cheap polling).
pub fn wfe() {
    // SAFETY: waiting has no effect on memory or registers.
    unsafe { asm!("wfe", options(nomem, nostack, preserves_flags)) };
}

/// Signals an event to every CPU (wakes `wfe`).
pub fn sev() {
    // SAFETY: sending an event has no effect on memory or registers.
    unsafe { asm!("dsb sy", "sev", options(nostack, preserves_flags)) };
}

/// Optional architecture features the monitor configures for the lower ELs.
#[derive(Clone, Copy, Debug)]
pub struct Features {
    /// Always true: gates the registers every CPU has.
    pub always: bool,
    /// FEAT_RME.
    pub rme: bool,
    /// FEAT_SVE.
    pub sve: bool,
    /// FEAT_VHE (TTBR1_EL2, CONTEXTIDR_EL2).
    pub vhe: bool,
    /// FEAT_PAuth (key registers).
    pub pauth: bool,
    /// FEAT_FGT (fine-grained trap registers).
    pub fgt: bool,
    /// FEAT_ECV with CNTPOFF_EL2.
    pub ecv: bool,
    /// FEAT_HCX (HCRX_EL2).
    pub hcx: bool,
    /// FEAT_TCR2 (TCR2_EL2).
    pub tcr2: bool,
    /// FEAT_SCTLR2 (SCTLR2_EL2).
    pub sctlr2: bool,
    /// Physical address size in bits (ID_AA64MMFR0_EL1.PARange).
    pub pa_bits: u32,
}

fn field(reg: u64, lsb: u32) -> u64 {
    (reg >> lsb) & 0xF
}

impl Features {
    /// Reads the identification registers.
    pub fn detect() -> Self {
        let pfr0 = id_aa64pfr0_el1();
        let mmfr0 = id_aa64mmfr0_el1();
        let mmfr1 = id_aa64mmfr1_el1();
        let mmfr3 = id_aa64mmfr3_el1();
        let isar1 = id_aa64isar1_el1();
        let isar2 = id_aa64isar2_el1();
        let pauth = [4, 8, 24, 28].iter().any(|&l| field(isar1, l) != 0)
            || [8, 12].iter().any(|&l| field(isar2, l) != 0);
        Self {
            always: true,
            rme: field(pfr0, 52) != 0,
            sve: field(pfr0, 32) != 0,
            vhe: field(mmfr1, 8) != 0,
            pauth,
            fgt: field(mmfr0, 56) != 0,
            ecv: field(mmfr0, 60) >= 2,
            hcx: field(mmfr1, 40) != 0,
            tcr2: field(mmfr3, 0) != 0,
            sctlr2: field(mmfr3, 4) != 0,
            pa_bits: match field(mmfr0, 0) {
                0 => 32,
                1 => 36,
                2 => 40,
                3 => 42,
                4 => 44,
                5 => 48,
                _ => 52,
            },
        }
    }
}

impl core::fmt::Display for Features {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PA {} bits", self.pa_bits)?;
        let named = [
            (self.rme, "RME"),
            (self.sve, "SVE"),
            (self.vhe, "VHE"),
            (self.pauth, "PAuth"),
            (self.fgt, "FGT"),
            (self.ecv, "ECV"),
            (self.hcx, "HCX"),
            (self.tcr2, "TCR2"),
            (self.sctlr2, "SCTLR2"),
        ];
        for (_, name) in named.iter().filter(|(on, _)| *on) {
            write!(f, ", {name}")?;
        }
        Ok(())
    }
}

/// Declares the EL2 context of a world: one entry per register with the feature that
/// gates it; generates the index enum and the save/restore functions.
macro_rules! el2_context {
    ($($(#[$m:meta])* $name:ident = $enc:literal if $feat:ident;)*) => {
        /// The EL2 registers saved per world, by index into an [`El2Regs`].
        #[allow(non_camel_case_types, clippy::upper_case_acronyms, dead_code)]
        #[derive(Clone, Copy, Debug)]
        #[repr(usize)]
        pub enum El2Reg {
            $( $(#[$m])* $name, )*
        }

        /// Number of registers in an EL2 context.
        pub const EL2_REG_COUNT: usize = [$(El2Reg::$name),*].len();

        /// Saved EL2 state of one world.
        pub type El2Regs = [u64; EL2_REG_COUNT];

        /// Reads the EL2 state of the CPU into `r` (registers of absent features are
        /// left alone).
        pub fn save_el2(f: &Features, r: &mut El2Regs) {
            $( if f.$feat { r[El2Reg::$name as usize] = mrs!($enc); } )*
        }

        /// Loads the EL2 state `r` into the CPU.
        pub fn restore_el2(f: &Features, r: &El2Regs) {
            $( if f.$feat { msr!($enc, r[El2Reg::$name as usize]); } )*
            isb();
        }
    };
}

el2_context! {
    /// System control.
    SCTLR_EL2 = "S3_4_C1_C0_0" if always;
    /// Hypervisor configuration.
    HCR_EL2 = "S3_4_C1_C1_0" if always;
    /// Debug configuration.
    MDCR_EL2 = "S3_4_C1_C1_1" if always;
    /// Architectural feature traps.
    CPTR_EL2 = "S3_4_C1_C1_2" if always;
    /// AArch32 system register traps.
    HSTR_EL2 = "S3_4_C1_C1_3" if always;
    /// Stage-1 translation table base 0.
    TTBR0_EL2 = "S3_4_C2_C0_0" if always;
    /// Stage-1 translation table base 1 (VHE).
    TTBR1_EL2 = "S3_4_C2_C0_1" if vhe;
    /// Stage-1 translation control.
    TCR_EL2 = "S3_4_C2_C0_2" if always;
    /// Stage-2 translation table base.
    VTTBR_EL2 = "S3_4_C2_C1_0" if always;
    /// Stage-2 translation control.
    VTCR_EL2 = "S3_4_C2_C1_2" if always;
    /// Virtual MIDR.
    VPIDR_EL2 = "S3_4_C0_C0_0" if always;
    /// Virtual MPIDR.
    VMPIDR_EL2 = "S3_4_C0_C0_5" if always;
    /// Saved PSTATE.
    SPSR_EL2 = "S3_4_C4_C0_0" if always;
    /// Exception link register.
    ELR_EL2 = "S3_4_C4_C0_1" if always;
    /// Stack pointer of EL2.
    SP_EL2 = "S3_6_C4_C1_0" if always;
    /// Auxiliary fault status 0.
    AFSR0_EL2 = "S3_4_C5_C1_0" if always;
    /// Auxiliary fault status 1.
    AFSR1_EL2 = "S3_4_C5_C1_1" if always;
    /// Exception syndrome.
    ESR_EL2 = "S3_4_C5_C2_0" if always;
    /// Fault address.
    FAR_EL2 = "S3_4_C6_C0_0" if always;
    /// Faulting IPA.
    HPFAR_EL2 = "S3_4_C6_C0_4" if always;
    /// Memory attribute indirection.
    MAIR_EL2 = "S3_4_C10_C2_0" if always;
    /// Auxiliary memory attribute indirection.
    AMAIR_EL2 = "S3_4_C10_C3_0" if always;
    /// Vector base.
    VBAR_EL2 = "S3_4_C12_C0_0" if always;
    /// GIC system register enable (restored before the ICH registers).
    ICC_SRE_EL2 = "S3_4_C12_C9_5" if always;
    /// GIC virtual interface control.
    ICH_HCR_EL2 = "S3_4_C12_C11_0" if always;
    /// GIC virtual machine control.
    ICH_VMCR_EL2 = "S3_4_C12_C11_7" if always;
    /// Context ID (VHE).
    CONTEXTIDR_EL2 = "S3_4_C13_C0_1" if vhe;
    /// Software thread ID.
    TPIDR_EL2 = "S3_4_C13_C0_2" if always;
    /// Virtual counter offset.
    CNTVOFF_EL2 = "S3_4_C14_C0_3" if always;
    /// Timer control.
    CNTHCTL_EL2 = "S3_4_C14_C1_0" if always;
    /// Physical counter offset.
    CNTPOFF_EL2 = "S3_4_C14_C0_6" if ecv;
    /// Extended hypervisor configuration.
    HCRX_EL2 = "S3_4_C1_C2_2" if hcx;
    /// Extended translation control.
    TCR2_EL2 = "S3_4_C2_C0_3" if tcr2;
    /// Extended system control.
    SCTLR2_EL2 = "S3_4_C1_C0_3" if sctlr2;
    /// Fine-grained read traps.
    HFGRTR_EL2 = "S3_4_C1_C1_4" if fgt;
    /// Fine-grained write traps.
    HFGWTR_EL2 = "S3_4_C1_C1_5" if fgt;
    /// Fine-grained instruction traps.
    HFGITR_EL2 = "S3_4_C1_C1_6" if fgt;
    /// Fine-grained debug read traps.
    HDFGRTR_EL2 = "S3_4_C3_C1_4" if fgt;
    /// Fine-grained debug write traps.
    HDFGWTR_EL2 = "S3_4_C3_C1_5" if fgt;
    /// Pointer authentication keys (shared by EL1 and EL2).
    APIAKEYLO_EL1 = "S3_0_C2_C1_0" if pauth;
    /// Pointer authentication key.
    APIAKEYHI_EL1 = "S3_0_C2_C1_1" if pauth;
    /// Pointer authentication key.
    APIBKEYLO_EL1 = "S3_0_C2_C1_2" if pauth;
    /// Pointer authentication key.
    APIBKEYHI_EL1 = "S3_0_C2_C1_3" if pauth;
    /// Pointer authentication key.
    APDAKEYLO_EL1 = "S3_0_C2_C2_0" if pauth;
    /// Pointer authentication key.
    APDAKEYHI_EL1 = "S3_0_C2_C2_1" if pauth;
    /// Pointer authentication key.
    APDBKEYLO_EL1 = "S3_0_C2_C2_2" if pauth;
    /// Pointer authentication key.
    APDBKEYHI_EL1 = "S3_0_C2_C2_3" if pauth;
    /// Pointer authentication key.
    APGAKEYLO_EL1 = "S3_0_C2_C3_0" if pauth;
    /// Pointer authentication key.
    APGAKEYHI_EL1 = "S3_0_C2_C3_1" if pauth;
}
