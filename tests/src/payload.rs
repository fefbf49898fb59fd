//! The protocol between a test host and the R-EL1 test payload (`tests/qemu/realm`):
//! where the payload is, and the commands it takes over RSI_HOST_CALL.
//!
//! The payload runs a command loop. It asks for a command with a host call whose
//! immediate is [`IMM_READY`] (`gprs` all zero the first time, the previous command's
//! results afterwards, with immediate [`IMM_RESULT`]); the host answers the call with
//! the command in `gprs[0]` and its arguments in `gprs[1..]`. An exception the payload
//! does not expect is reported with [`IMM_FAULT`] (ESR_EL1, ELR_EL1, FAR_EL1,
//! SPSR_EL1) and the payload asks for nothing more.

/// The IPA the payload is linked at, its entry point (REC 0's PC).
pub const BASE_IPA: u64 = 0x8_0000;
/// RIPAS RAM is set on `[0, RAM_TOP)`.
pub const RAM_TOP: u64 = 0x20_0000;
/// Where the host puts the page of values the leak test compares against (a measured
/// DATA_CREATE page, below the payload).
pub const LEAK_PAGE_IPA: u64 = 0x7_F000;
/// An emulated device (unprotected IPA of a 40-bit realm, nothing mapped there).
pub const DEVICE_IPA: u64 = (1 << 39) + 0x10_0000;

/// The payload's header, at offset 0 of its flat image: a branch over it, then
/// [`HEADER_MAGIC`] at offset 8 and the image's size in memory (code, data, `.bss` and
/// stack: every page the host must give it) at offset 16.
pub const HEADER_MAGIC: u64 = u64::from_le_bytes(*b"RMMREALM");

/// REC 0's x0 when the payload is to run a suite's realm program instead of its
/// command loop: x1 is the program's index in [`crate::suites::PROGRAMS`]
/// ([`crate::program`]).
pub const PROGRAM_MAGIC: u64 = u64::from_le_bytes(*b"RMMPROG\0");

/// The context id (x0) a realm program passes in PSCI_CPU_ON for another REC to run the
/// same program: the payload's entry then runs the program REC 0 was started with.
pub const PROGRAM_CPU_ON_MAGIC: u64 = u64::from_le_bytes(*b"RMMPRON\0");

/// The first host call, and each later one asking for a command.
pub const IMM_READY: u16 = 0x100;
/// A command's results in `gprs`, asking for the next command.
pub const IMM_RESULT: u16 = 0x101;
/// The host-call round trip command's call.
pub const IMM_ECHO: u16 = 0xABCD;
/// An unexpected exception in the payload.
pub const IMM_FAULT: u16 = 0xDEAD;
/// A piece of the attestation token of [`cmd::ATTEST_TOKEN`]: `gprs[0]` its offset,
/// `gprs[1]` the token's size, `gprs[2..]` up to [`TOKEN_CHUNK`] bytes of it
/// (little-endian words).
pub const IMM_TOKEN: u16 = 0x102;
/// Bytes of the token per [`IMM_TOKEN`] host call.
pub const TOKEN_CHUNK: usize = 29 * 8;

/// Commands (`gprs[0]` of the host's answer).
pub mod cmd {
    /// RSI_VERSION(1.0): results status, lower, higher.
    pub const RSI_VERSION: u64 = 1;
    /// RSI_REALM_CONFIG into a page of the payload: status, ipa_width, hash_algo, and
    /// whether the RPV bytes were all `args[1]`'s low byte (1 or 0).
    pub const REALM_CONFIG: u64 = 2;
    /// RSI_HOST_CALL with immediate [`super::IMM_ECHO`] and `gprs[i] =
    /// realm_gpr(i)`; results: the 31 `gprs` the host answered with.
    pub const HOST_CALL: u64 = 3;
    /// WFI; result 0.
    pub const WFI: u64 = 4;
    /// One load at `args[1]` of kind `args[2]` ([`super::load`]): result the target
    /// register's value.
    pub const MMIO_READ: u64 = 5;
    /// One store at `args[1]` of `args[2]` bytes (1, 2, 4, 8) of `args[3]`, from a W
    /// register for 1, 2 and 4 bytes; result 0.
    pub const MMIO_WRITE: u64 = 6;
    /// Enables the virtual CPU interface's group 1 (ICC_PMR_EL1 = 0xFF,
    /// ICC_IGRPEN1_EL1 = 1), then reads ICC_IAR1_EL1 and writes the INTID to
    /// ICC_EOIR1_EL1 until IAR1 returns a special INTID (1020..=1023) or `args[1]`
    /// interrupts were taken; results: the count, then each INTID in order, then the
    /// final special INTID.
    pub const GIC_ACK: u64 = 7;
    /// PSCI SYSTEM_OFF (SMC64 0x8400_0008); result x0 if it returns.
    pub const SYSTEM_OFF: u64 = 8;
    /// The first half of the leak test: compares what the payload saw at its first
    /// entry (V0..V31, FPCR, FPSR as its first instruction found them, and its EL1
    /// registers) with the host's values in the leak page; results: the number of
    /// equal non-zero values and the index of the first. Then fills its FP/SIMD and
    /// EL1 registers with its own patterns and makes the result call from them.
    pub const LEAK_SCRIBBLE: u64 = 9;
    /// The second half: checks that the registers the payload filled hold its values
    /// after the round trip through the host; results: the number of differences, the
    /// index of the first, its value; then puts back what it needs to run.
    pub const LEAK_VERIFY: u64 = 10;
    /// Runs instructions the RMM must make UNDEFINED for the realm ([`super::undef`]);
    /// results: per instruction its ESR_EL1 (0 if none was taken) and whether ELR_EL1
    /// was the instruction (1 or 0).
    pub const UNDEF: u64 = 11;
    /// Reads the feature ID registers of [`crate::realm_id::REGS`] with MRS; results:
    /// their values, in order.
    pub const ID_REGS: u64 = 12;
    /// The debug register accesses of [`super::debug`], each under an exception
    /// catcher; results: per access its ESR_EL1 (0 if none was taken) and the value
    /// read (0 for a write).
    pub const DEBUG_REGS: u64 = 13;
    /// An attestation token for the 64-byte challenge in `args[1..9]` (little-endian
    /// words): RSI_ATTESTATION_TOKEN_INIT, then the CONTINUE loop of DEN0137 1.0,
    /// A7.2.2 into a granule of the payload, then the token to the host in
    /// [`super::IMM_TOKEN`] host calls; results: INIT's status and upper bound, the
    /// loop's status (0, or the status of the call that failed), the token's size, the
    /// number of CONTINUE calls.
    pub const ATTEST_TOKEN: u64 = 14;
    /// RSI_MEASUREMENT_READ of index `args[1]`: results its status, then the 64
    /// measurement bytes (eight little-endian words).
    pub const MEASUREMENT_READ: u64 = 15;
    /// RSI_MEASUREMENT_EXTEND of index `args[1]` with `args[2]` bytes (at most 64) from
    /// the eight little-endian words `args[3..11]`, then RSI_MEASUREMENT_READ of the
    /// same index: results the extension's status, the read's status, then the 64
    /// measurement bytes read (eight little-endian words).
    pub const MEASUREMENT_EXTEND: u64 = 16;
}

/// The accesses of [`cmd::DEBUG_REGS`], in order.
pub mod debug {
    /// `msr MDSCR_EL1, x` with x = TDCC (bit 12), as Linux's CPU set-up does.
    pub const MSR_MDSCR: usize = 0;
    /// `msr OSLAR_EL1, xzr` (unlock the OS lock).
    pub const MSR_OSLAR: usize = 1;
    /// `msr OSDLR_EL1, xzr`.
    pub const MSR_OSDLR: usize = 2;
    /// `msr DBGBCR0_EL1, x` with a breakpoint enabled at every EL.
    pub const MSR_DBGBCR0: usize = 3;
    /// `mrs MDSCR_EL1`.
    pub const MRS_MDSCR: usize = 4;
    /// `mrs OSLSR_EL1`.
    pub const MRS_OSLSR: usize = 5;
    /// `mrs DBGBCR0_EL1`.
    pub const MRS_DBGBCR0: usize = 6;
    /// `mrs DBGBVR0_EL1`.
    pub const MRS_DBGBVR0: usize = 7;
    /// `mrs MDCCSR_EL0`.
    pub const MRS_MDCCSR: usize = 8;
    /// How many.
    pub const COUNT: usize = 9;
    /// The DBGBCR0_EL1 value written: E [0], PMC [2:1] 0b11, BAS [8:5] 0b1111.
    pub const DBGBCR_ENABLED: u64 = 0xF << 5 | 0b11 << 1 | 1;
}

/// Load kinds of [`cmd::MMIO_READ`] (Arm ARM, LDR/LDRSH/LDRB into X0 or W0).
pub mod load {
    /// `ldr w0`: 4 bytes, zero-extended.
    pub const W32: u64 = 0;
    /// `ldrsh x0`: 2 bytes, sign-extended to 64 bits.
    pub const SX16_X: u64 = 1;
    /// `ldrb w0`: 1 byte, zero-extended.
    pub const B8: u64 = 2;
    /// `ldr x0`: 8 bytes.
    pub const X64: u64 = 3;
    /// `ldrsb w0`: 1 byte, sign-extended to 32 bits (the top half of X0 zero).
    pub const SX8_W: u64 = 4;
    /// `ldrh w0`: 2 bytes, zero-extended.
    pub const H16: u64 = 5;
}

/// The instructions of [`cmd::UNDEF`], in order.
pub mod undef {
    /// `msr APIAKeyLo_EL1, x0` (HCR_EL2.APK clear).
    pub const PAUTH_KEY: usize = 0;
    /// `rdvl x0, #1` with CPACR_EL1.ZEN = 0b11 (CPTR_EL2.TZ set).
    pub const SVE: usize = 1;
    /// `smstart` with CPACR_EL1.SMEN = 0b11 (CPTR_EL2.TSM set).
    pub const SME: usize = 2;
    /// `mrs x0, PMCR_EL0` (MDCR_EL2.TPM, TPMCR set).
    pub const PMU: usize = 3;
    /// `mrs x0, TRCPRGCTLR` (S2_1_C0_C1_0, a trace unit register: CPTR_EL2.TTA set,
    /// and UNDEFINED anyway without a trace unit).
    pub const TRACE: usize = 4;
    /// `mrs x0, ACTLR_EL1` (HCR_EL2.TACR set).
    pub const ACTLR: usize = 5;
    /// `hvc #0` (realms use the SMC conduit).
    pub const HVC: usize = 6;
    /// `mrs x0, APIAKeyLo_EL1` (HCR_EL2.APK clear: the realm cannot read the host's
    /// keys).
    pub const PAUTH_KEY_READ: usize = 7;
    /// `pacia x0, x1` with SCTLR_EL1.EnIA set (HCR_EL2.API clear: the realm cannot sign
    /// with the host's keys).
    pub const PAC: usize = 8;
    /// How many.
    pub const COUNT: usize = 9;
}

/// The payload's value of `gprs[i]` in its [`cmd::HOST_CALL`] call.
pub const fn realm_gpr(i: usize) -> u64 {
    0x5245_414C_0000_0000 | (i as u64) << 16 | 0xA5A5
}

/// The host's answer in `gprs[i]` to that call.
pub const fn host_gpr(i: usize) -> u64 {
    0x484F_5354_0000_0000 | (i as u64) << 24 | 0x5A5A
}

/// Layout of the leak page: the host's values of the EL1 registers, in the order of
/// the payload's and the host's common list (`EL1_COUNT` of them), then the V0..V31
/// (two words each), FPCR and FPSR the host makes the first REC_ENTER with.
pub mod leak_page {
    /// The EL1 registers both sides read: SCTLR, TCR, TTBR0, TTBR1, MAIR, AMAIR, VBAR,
    /// ELR, SPSR, ESR, FAR, AFSR0, AFSR1, CONTEXTIDR, CPACR, CSSELR, PAR, SP_EL0,
    /// TPIDR_EL0, TPIDRRO_EL0, TPIDR_EL1, CNTKCTL, CNTV_CTL, CNTV_CVAL, CNTP_CTL,
    /// CNTP_CVAL (all _EL1 or _EL0).
    pub const EL1_COUNT: usize = 26;
    /// Word index of V0's low half.
    pub const V: usize = 32;
    /// Word index of FPCR.
    pub const FPCR: usize = V + 64;
    /// Word index of FPSR.
    pub const FPSR: usize = FPCR + 1;
}

/// Commands of the world-switch tests (`gprs[0]` of the host's answer, numbered apart
/// from [`cmd`]'s).
pub mod switch {
    /// Runs 16-bit T32 code at the realm's EL0 (AArch32 User mode, A, I and F masked,
    /// SCTLR_EL1.nTWI set so that the WFI does not trap to the realm's EL1): `wfi`,
    /// then `udf #1`, `udf #2`, `udf #3`, `udf #4`. The first UDF the PE reaches ends
    /// it. Results: ESR_EL1, ELR_EL1 less the code's address (2 if the PE resumed
    /// right after the 16-bit WFI), SPSR_EL1, and the vector index (12: lower EL using
    /// AArch32, synchronous).
    pub const T32_WFI: u64 = 0x40;
    /// Reads DISR_EL1 (VDISR_EL2 while HCR_EL2.AMO is set), writes `args[1]` to it and
    /// reads it again; results: the two values read. The CPU must have FEAT_RAS.
    pub const DISR: u64 = 0x41;
    /// Counts down from `args[1]` in a loop of ordinary instructions (the realm
    /// running at EL1 for a while); result 0.
    pub const SPIN: u64 = 0x42;
    /// [`T32_WFI`]'s SPSR: AArch32 User mode (M\[4:0\] 0b10000), T32 (T \[5\]), A, I, F
    /// masked (\[8:6\]).
    pub const T32_USR_SPSR: u64 = 0b1_0000 | 1 << 5 | 0b111 << 6;
}
