//! Realm-side code for tests: the environment a realm program runs in, and thin
//! wrappers for the RSI and PSCI calls it makes.
//!
//! A realm program is written once against [`RealmEnv`]. On the hosted simulation the
//! environment is `platform_sim::realm::RealmCpu` (the realm runs on a thread and every
//! call below becomes an exception to the RMM); a payload at R-EL1 in QEMU implements
//! the same trait with real `smc`, loads and stores.

use rsi_abi::fid;

/// What realm code needs from the machine it runs on.
pub trait RealmEnv {
    /// `smc #0` with x0 = `fid` and x1.. = `args`; returns x0..x30 afterwards.
    fn smc(&mut self, fid: u64, args: &[u64]) -> [u64; 31];

    /// Reads realm memory at `ipa`; `Err(esr)` if the access took an exception.
    fn read(&mut self, ipa: u64, buf: &mut [u8]) -> Result<(), u64>;

    /// Writes realm memory at `ipa`; `Err(esr)` if the access took an exception.
    fn write(&mut self, ipa: u64, buf: &[u8]) -> Result<(), u64>;

    /// Executes WFI.
    fn wfi(&mut self);

    /// A single load of `size` (1, 2, 4 or 8) bytes at `ipa` into x0, zero-extended, with
    /// a valid syndrome (so that the host can emulate it): the value, or `Err(esr)`.
    fn mmio_read(&mut self, ipa: u64, size: usize) -> Result<u64, u64>;

    /// A single store of the low `size` bytes of `value` at `ipa` from x1.
    fn mmio_write(&mut self, ipa: u64, size: usize, value: u64) -> Result<(), u64>;

    /// The EL1 virtual timer: CNTV_CVAL_EL0 = `cval`, then CNTV_CTL_EL0 = `ctl`. (The
    /// default does nothing: an environment without timers.)
    fn set_virtual_timer(&mut self, ctl: u64, cval: u64) {
        let _ = (ctl, cval);
    }

    /// CNTV_CTL_EL0 (ISTATUS [2], IMASK [1], ENABLE [0]); the default reads all ones.
    fn virtual_timer_ctl(&mut self) -> u64 {
        u64::MAX
    }

    /// The EL1 physical timer: CNTP_CVAL_EL0 = `cval`, then CNTP_CTL_EL0 = `ctl`. (The
    /// default does nothing.)
    fn set_physical_timer(&mut self, ctl: u64, cval: u64) {
        let _ = (ctl, cval);
    }

    /// CNTP_CTL_EL0 (ISTATUS [2], IMASK [1], ENABLE [0]); the default reads all ones.
    fn physical_timer_ctl(&mut self) -> u64 {
        u64::MAX
    }

    /// Enables virtual group 1 interrupts at the GIC CPU interface: ICC_PMR_EL1 = 0xFF,
    /// ICC_IGRPEN1_EL1 = 1 (the ICV_* registers, HCR_EL2.IMO being set). The default
    /// does nothing.
    fn gic_enable_group1(&mut self) {}

    /// ICC_IAR1_EL1: acknowledges the highest-priority pending virtual group 1
    /// interrupt and returns its INTID, 1023 if there is none (the default).
    fn gic_acknowledge(&mut self) -> u64 {
        1023
    }

    /// ICC_EOIR1_EL1 = `intid`. The default does nothing.
    fn gic_eoi(&mut self, intid: u64) {
        let _ = intid;
    }

    /// MPIDR_EL1 as the realm reads it (VMPIDR_EL2: the REC's MPIDR, bit 31 RES1); the
    /// default is REC 0's.
    fn mpidr(&mut self) -> u64 {
        1 << 31
    }

    /// Branches to `ipa` (the MMU off: VA = IPA) with the return address in x30 and
    /// runs the one instruction there, which realm programs make a RET ([`RET`]):
    /// `Ok` when it returned, else the ESR_EL1 of the exception the fetch or the
    /// instruction took (the realm then resumes after the branch). The default has no
    /// such environment: `Err(u64::MAX)`.
    fn fetch(&mut self, ipa: u64) -> Result<(), u64> {
        let _ = ipa;
        Err(u64::MAX)
    }

    /// MSR of `value` to the SGI generation register `reg` (HCR_EL2.IMO/FMO trap it to
    /// EL2). The default does nothing.
    fn gic_write_sgi(&mut self, reg: SgiRegister, value: u64) {
        let _ = (reg, value);
    }
}

/// A64 `RET` (RET X30), the instruction [`RealmEnv::fetch`] runs.
pub const RET: u32 = 0xD65F_03C0;
/// The ESR_EL1 of an Undefined Instruction exception from the all-zero word (A64
/// `UDF #0`, permanently undefined): EC 0x00, IL 1.
pub const UDF_ESR: u64 = 1 << 25;

/// The GICv3 CPU interface's SGI generation registers (write-only; GICv3 architecture,
/// ICC_SGI1R_EL1, ICC_ASGI1R_EL1, ICC_SGI0R_EL1): S3_0_C12_C11_<op2>.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SgiRegister {
    /// ICC_SGI1R_EL1 (op2 5): a Group 1 SGI for the current Security state.
    Sgi1r,
    /// ICC_ASGI1R_EL1 (op2 6): a Group 1 SGI for the other Security state.
    Asgi1r,
    /// ICC_SGI0R_EL1 (op2 7): a Group 0 SGI.
    Sgi0r,
}

impl SgiRegister {
    /// The register's op2 (op0 3, op1 0, CRn 12, CRm 11).
    pub const fn op2(self) -> u64 {
        match self {
            SgiRegister::Sgi1r => 5,
            SgiRegister::Asgi1r => 6,
            SgiRegister::Sgi0r => 7,
        }
    }

    /// The register in the ISS of a trapped MSR/MRS (Arm ARM, ESR_ELx.ISS for EC 0x18:
    /// Op0 [21:20], Op2 [19:17], Op1 [16:14], CRn [13:10], CRm [4:1]), Rt 0, a write.
    pub const fn iss(self) -> u64 {
        3 << 20 | self.op2() << 17 | 12 << 10 | 11 << 1
    }
}

/// RSI_VERSION: (status, lower, higher).
pub fn rsi_version(r: &mut (impl RealmEnv + ?Sized), requested: u64) -> (u64, u64, u64) {
    let x = r.smc(fid::RSI_VERSION as u64, &[requested]);
    (x[0], x[1], x[2])
}

/// RSI_MEASUREMENT_READ: (status, the 64 measurement bytes).
pub fn measurement_read(r: &mut (impl RealmEnv + ?Sized), index: u64) -> (u64, [u8; 64]) {
    let x = r.smc(fid::RSI_MEASUREMENT_READ as u64, &[index]);
    let mut m = [0u8; 64];
    for (i, w) in x[1..9].iter().enumerate() {
        m[8 * i..8 * i + 8].copy_from_slice(&w.to_le_bytes());
    }
    (x[0], m)
}

/// RSI_MEASUREMENT_EXTEND with up to 64 bytes: the status.
pub fn measurement_extend(r: &mut (impl RealmEnv + ?Sized), index: u64, data: &[u8]) -> u64 {
    let mut args = [0u64; 10];
    args[0] = index;
    args[1] = data.len() as u64;
    let mut bytes = [0u8; 64];
    let n = data.len().min(64);
    bytes[..n].copy_from_slice(&data[..n]);
    for (i, chunk) in bytes.chunks_exact(8).enumerate() {
        args[2 + i] = u64::from_le_bytes([
            chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
        ]);
    }
    r.smc(fid::RSI_MEASUREMENT_EXTEND as u64, &args)[0]
}

/// RSI_HOST_CALL with the RsiHostCall structure at `ipa` holding `imm` and `gprs`;
/// returns the status and the structure's gprs after the host's answer.
pub fn host_call(
    r: &mut (impl RealmEnv + ?Sized),
    ipa: u64,
    imm: u16,
    gprs: &[u64; 31],
) -> (u64, [u64; 31]) {
    let mut call = [0u8; 256];
    call[0..2].copy_from_slice(&imm.to_le_bytes());
    for (i, g) in gprs.iter().enumerate() {
        call[8 + 8 * i..16 + 8 * i].copy_from_slice(&g.to_le_bytes());
    }
    if r.write(ipa, &call).is_err() {
        return (u64::MAX, [0; 31]);
    }
    let status = r.smc(fid::RSI_HOST_CALL as u64, &[ipa])[0];
    let mut out = [0u64; 31];
    if r.read(ipa, &mut call).is_ok() {
        for (i, g) in out.iter_mut().enumerate() {
            let b = &call[8 + 8 * i..16 + 8 * i];
            *g = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        }
    }
    (status, out)
}

/// RSI_IPA_STATE_SET: (status, top reached, response).
pub fn ipa_state_set(
    r: &mut (impl RealmEnv + ?Sized),
    base: u64,
    top: u64,
    ripas: u64,
    flags: u64,
) -> (u64, u64, u64) {
    let x = r.smc(fid::RSI_IPA_STATE_SET as u64, &[base, top, ripas, flags]);
    (x[0], x[1], x[2])
}

/// RSI_IPA_STATE_GET: (status, top of the run found, RIPAS).
pub fn ipa_state_get(r: &mut (impl RealmEnv + ?Sized), base: u64, top: u64) -> (u64, u64, u64) {
    let x = r.smc(fid::RSI_IPA_STATE_GET as u64, &[base, top]);
    (x[0], x[1], x[2])
}

/// PSCI_CPU_ON (SMC64): the PSCI return code.
pub fn psci_cpu_on(
    r: &mut (impl RealmEnv + ?Sized),
    target_mpidr: u64,
    entry: u64,
    context: u64,
) -> u64 {
    r.smc(0xC400_0003, &[target_mpidr, entry, context])[0]
}

/// PSCI_SYSTEM_OFF (does not return to the realm in a working system).
pub fn psci_system_off(r: &mut (impl RealmEnv + ?Sized)) -> u64 {
    r.smc(0x8400_0008, &[])[0]
}

/// RSI_ATTESTATION_TOKEN_INIT with a 64-byte challenge: (status, upper bound of the
/// token's size).
pub fn attest_token_init(r: &mut (impl RealmEnv + ?Sized), challenge: &[u8; 64]) -> (u64, u64) {
    let mut args = [0u64; 8];
    for (a, chunk) in args.iter_mut().zip(challenge.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *a = u64::from_le_bytes(b);
    }
    let x = r.smc(fid::RSI_ATTESTATION_TOKEN_INIT as u64, &args);
    (x[0], x[1])
}

/// RSI_ATTESTATION_TOKEN_CONTINUE into the granule at `ipa`, `size` bytes from
/// `offset`: (status, bytes written).
pub fn attest_token_continue(
    r: &mut (impl RealmEnv + ?Sized),
    ipa: u64,
    offset: u64,
    size: u64,
) -> (u64, u64) {
    let x = r.smc(
        fid::RSI_ATTESTATION_TOKEN_CONTINUE as u64,
        &[ipa, offset, size],
    );
    (x[0], x[1])
}

/// RSI_INCOMPLETE.
const RSI_INCOMPLETE: u64 = 3;

/// Obtains an attestation token the way DEN0137 1.0, A7.2.2 (IJKJCQ) shows: INIT once,
/// then [`attest_token_read`]. Returns the token's size, or the status of the call that
/// failed.
pub fn attest_token(
    r: &mut (impl RealmEnv + ?Sized),
    challenge: &[u8; 64],
    buf: u64,
    chunk: u64,
    out: &mut [u8],
    calls: &mut usize,
) -> Result<usize, u64> {
    let (status, max) = attest_token_init(r, challenge);
    if status != 0 {
        return Err(status);
    }
    attest_token_read(r, buf, max, chunk, out, calls)
}

/// The CONTINUE loop of DEN0137 1.0, A7.2.2 (IJKJCQ) after an INIT that returned the
/// upper bound `max`: CONTINUE while it answers RSI_INCOMPLETE, one granule of the
/// buffer at `buf` (granule aligned, realm RAM, `max` bytes) at a time, `chunk` bytes
/// per call at most. The token is read back into `out`. Returns its size, or the status
/// of the call that failed. `calls` counts the CONTINUEs.
pub fn attest_token_read(
    r: &mut (impl RealmEnv + ?Sized),
    buf: u64,
    max: u64,
    chunk: u64,
    out: &mut [u8],
    calls: &mut usize,
) -> Result<usize, u64> {
    let mut granule = buf;
    let mut total = 0usize;
    loop {
        let mut offset = 0u64;
        let mut ret;
        loop {
            let size = (4096 - offset).min(chunk);
            let (s, len) = attest_token_continue(r, granule, offset, size);
            *calls += 1;
            ret = s;
            offset += len;
            if !(ret == RSI_INCOMPLETE && offset < 4096) {
                break;
            }
        }
        if ret != 0 && ret != RSI_INCOMPLETE {
            return Err(ret);
        }
        let n = offset as usize;
        if total + n > out.len() || r.read(granule, &mut out[total..total + n]).is_err() {
            return Err(u64::MAX);
        }
        total += n;
        if ret == 0 {
            return Ok(total);
        }
        granule += 4096;
        if granule >= buf + max {
            return Err(RSI_INCOMPLETE);
        }
    }
}
