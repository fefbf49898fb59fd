//! The payload's command loop (`rmm_conformance::payload`): ask the host for a command
//! with a host call, carry it out, send the results with the next host call.

use core::sync::atomic::{AtomicU64, Ordering};

use rmm_conformance::payload::{
    cmd, leak_page, undef, HEADER_MAGIC, IMM_ECHO, IMM_FAULT, IMM_READY, IMM_RESULT, IMM_TOKEN,
    LEAK_PAGE_IPA, PROGRAM_CPU_ON_MAGIC, PROGRAM_MAGIC, TOKEN_CHUNK,
};
use rmm_conformance::realm::{self, RealmEnv};
use rsi_abi::fid;

use crate::asm;
use crate::env::Env;

/// The RsiHostCall structure (256 bytes, 256-byte aligned: DEN0137 1.0, RSI_HOST_CALL).
#[repr(C, align(256))]
struct HostCallBuf([AtomicU64; 32]);
static HOST_CALL: HostCallBuf = HostCallBuf([const { AtomicU64::new(0) }; 32]);

/// The RsiRealmConfig page (4 KiB aligned).
#[repr(C, align(4096))]
struct ConfigPage([AtomicU64; 512]);
static CONFIG: ConfigPage = ConfigPage([const { AtomicU64::new(0) }; 512]);

fn ipa_of<T>(x: &T) -> u64 {
    x as *const T as u64
}

/// The payload's EL1 registers at its start, and after it filled them (read back).
static EL1_AT_START: [AtomicU64; leak_page::EL1_COUNT] =
    [const { AtomicU64::new(0) }; leak_page::EL1_COUNT];
static EL1_FILLED: [AtomicU64; leak_page::EL1_COUNT] =
    [const { AtomicU64::new(0) }; leak_page::EL1_COUNT];

/// FPCR and FPSR of the payload's fill (all defined bits: AHP, DN, FZ, RMode = 0b10;
/// QC, IDC, IXC, UFC, OFC, DZC, IOC other than the host's).
const FILL_FPCR: u64 = 1 << 26 | 1 << 25 | 1 << 24 | 2 << 22;
const FILL_FPSR: u64 = 1 << 27 | 1 << 7 | 1 << 1;

/// The payload's value for EL1 register `i` of the leak list: each register gets a
/// value it keeps running with (MMU off, little-endian, FP/SIMD enabled, timers
/// disabled and masked, vectors 2 KiB aligned).
fn el1_fill(i: usize) -> u64 {
    let pattern = 0x5245_0000_0000_0000 | (i as u64) << 40 | 0x1234_5670 | i as u64;
    match i {
        // SCTLR_EL1: RES1 bits, I, DZE, UCT, nTWI, nTWE, UCI; M, A, C, EE, E0E clear.
        0 => 0x30D0_0800 | 1 << 12 | 1 << 14 | 1 << 15 | 1 << 16 | 1 << 18 | 1 << 26,
        // VBAR_EL1: aligned (no exception is taken while it holds this).
        6 => pattern & !0x7FF,
        // CPACR_EL1: FPEN, ZEN, TTA.
        14 => 3 << 20 | 3 << 16 | 1 << 28,
        // CSSELR_EL1: level 1 instruction cache.
        15 => 1,
        // CNTV_CTL_EL0, CNTP_CTL_EL0: disabled, masked.
        22 | 24 => 2,
        _ => pattern,
    }
}

/// The payload's value for FP/SIMD word `j` (V0.lo, V0.hi, V1.lo...).
fn fp_fill(j: usize) -> u64 {
    0x5246_5000_0000_0000 ^ (j as u64).wrapping_mul(0x0001_0003_0005_0007)
}

/// Reads the host's answer from the RsiHostCall structure.
fn answer() -> [u64; 31] {
    core::array::from_fn(|i| HOST_CALL.0[1 + i].load(Ordering::Relaxed))
}

/// A host call with immediate `imm` and `gprs`: the host's answer.
fn host_call(env: &mut Env, imm: u16, gprs: &[u64; 31]) -> [u64; 31] {
    let (status, back) = realm::host_call(env, ipa_of(&HOST_CALL), imm, gprs);
    if status != 0 {
        return [u64::MAX; 31];
    }
    back
}

/// What a command leaves for the next host call.
enum Next {
    /// Results.
    Results([u64; 31]),
    /// Results, sent with the FP/SIMD registers filled with the payload's values (and
    /// what they hold after the call kept: [`asm::fp_after`]).
    ResultsFromFilledFp([u64; 31]),
}

/// The index of the realm program REC 0 runs, for RECs that PSCI_CPU_ON starts with
/// [`PROGRAM_CPU_ON_MAGIC`] (in `.data`: not zeroed by a later entry's `.bss` zeroing).
#[unsafe(link_section = ".data")]
static PROGRAM_INDEX: AtomicU64 = AtomicU64::new(u64::MAX);

/// The payload's Rust entry, on its stack with `.bss` zeroed, with the x0 and x1 the
/// REC started with: [`PROGRAM_MAGIC`] and an index runs that realm program of the
/// suites (`rmm_conformance::program`), then WFI for ever; [`PROGRAM_CPU_ON_MAGIC`]
/// (a REC a program turned on with PSCI_CPU_ON) runs the program REC 0 runs; anything
/// else runs the command loop.
pub extern "C" fn main(x0: u64, x1: u64) -> ! {
    let program = match x0 {
        PROGRAM_MAGIC => {
            PROGRAM_INDEX.store(x1, Ordering::Relaxed);
            Some(x1)
        }
        PROGRAM_CPU_ON_MAGIC => Some(PROGRAM_INDEX.load(Ordering::Relaxed)),
        _ => None,
    };
    if let Some(index) = program {
        if let Some(p) = rmm_conformance::suites::PROGRAMS.get(index as usize) {
            (p.run)(&mut Env);
        }
        loop {
            asm::wfi();
        }
    }
    for (slot, v) in EL1_AT_START.iter().zip(asm::read_el1()) {
        slot.store(v, Ordering::Relaxed);
    }
    let mut env = Env;
    let mut imm = IMM_READY;
    let mut next = Next::Results([0; 31]);
    loop {
        let command = match next {
            Next::Results(r) => host_call(&mut env, imm, &r),
            Next::ResultsFromFilledFp(r) => host_call_filled(&r),
        };
        imm = IMM_RESULT;
        next = run(&mut env, &command);
    }
}

/// The result call of [`cmd::LEAK_SCRIBBLE`], made from the filled FP/SIMD registers.
fn host_call_filled(r: &[u64; 31]) -> [u64; 31] {
    HOST_CALL.0[0].store(IMM_RESULT as u64, Ordering::Relaxed);
    for (slot, &v) in HOST_CALL.0[1..].iter().zip(r) {
        slot.store(v, Ordering::Relaxed);
    }
    let status = asm::smc_fp_filled(
        fid::RSI_HOST_CALL as u64,
        ipa_of(&HOST_CALL),
        FILL_FPCR,
        FILL_FPSR,
    );
    if status != 0 {
        return [u64::MAX; 31];
    }
    answer()
}

fn run(env: &mut Env, a: &[u64; 31]) -> Next {
    let mut r = [0u64; 31];
    match a[0] {
        cmd::RSI_VERSION => {
            let (s, lo, hi) = realm::rsi_version(env, 0x1_0000);
            r[..3].copy_from_slice(&[s, lo, hi]);
        }
        cmd::REALM_CONFIG => {
            let page = ipa_of(&CONFIG);
            r[0] = env.smc(fid::RSI_REALM_CONFIG as u64, &[page])[0];
            r[1] = CONFIG.0[0].load(Ordering::Relaxed);
            r[2] = CONFIG.0[1].load(Ordering::Relaxed) & 0xFF;
            let rpv_byte = a[1] & 0xFF;
            let word = rpv_byte * 0x0101_0101_0101_0101;
            r[3] = CONFIG.0[0x200 / 8..0x240 / 8]
                .iter()
                .all(|w| w.load(Ordering::Relaxed) == word) as u64;
        }
        cmd::HOST_CALL => {
            let gprs: [u64; 31] = core::array::from_fn(rmm_conformance::payload::realm_gpr);
            let (status, back) = realm::host_call(env, ipa_of(&HOST_CALL), IMM_ECHO, &gprs);
            r = if status == 0 { back } else { [u64::MAX; 31] };
        }
        cmd::WFI => env.wfi(),
        cmd::MMIO_READ => r[0] = asm::load(a[1], a[2]),
        cmd::MMIO_WRITE => asm::store(a[1], a[2], a[3]),
        cmd::GIC_ACK => {
            asm::gic::set_pmr(0xFF);
            asm::gic::set_igrpen1(1);
            let mut n = 0;
            let last = loop {
                let id = asm::gic::iar1() & 0xFF_FFFF;
                if (1020..=1023).contains(&id) || n as u64 >= a[1] || n >= 29 {
                    break id;
                }
                r[1 + n] = id;
                n += 1;
                asm::gic::eoir1(id);
            };
            r[0] = n as u64;
            r[1 + n] = last;
        }
        cmd::SYSTEM_OFF => r[0] = realm::psci_system_off(env),
        cmd::LEAK_SCRIBBLE => return scribble(),
        cmd::LEAK_VERIFY => r = verify_leak(),
        cmd::UNDEF => {
            let cpacr = asm::read_el1()[14];
            asm::set_cpacr(cpacr | 3 << 16 | 3 << 24);
            for n in 0..undef::COUNT {
                let mut at = 0;
                let (esr, elr) = asm::expect(|| at = asm::undef_insn(n));
                r[2 * n] = esr;
                r[2 * n + 1] = (elr == at) as u64;
            }
            asm::set_cpacr(cpacr);
        }
        cmd::DEBUG_REGS => {
            for n in 0..rmm_conformance::payload::debug::COUNT {
                let mut v = 0;
                let (esr, _) = asm::expect(|| v = asm::debug_access(n));
                r[2 * n] = esr;
                r[2 * n + 1] = v;
            }
        }
        cmd::ATTEST_TOKEN => r = attest_token(env, a),
        cmd::MEASUREMENT_READ => {
            let (status, m) = realm::measurement_read(env, a[1]);
            r[0] = status;
            for (w, b) in r[1..9].iter_mut().zip(m.chunks_exact(8)) {
                *w = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
            }
        }
        cmd::MEASUREMENT_EXTEND => {
            let mut data = [0u8; 64];
            for (b, w) in data.chunks_exact_mut(8).zip(&a[3..11]) {
                b.copy_from_slice(&w.to_le_bytes());
            }
            let size = (a[2] as usize).min(64);
            r[0] = realm::measurement_extend(env, a[1], &data[..size]);
            let (status, m) = realm::measurement_read(env, a[1]);
            r[1] = status;
            for (w, b) in r[2..10].iter_mut().zip(m.chunks_exact(8)) {
                *w = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
            }
        }
        cmd::ID_REGS => {
            let ids = asm::id_regs();
            r[..ids.len()].copy_from_slice(&ids);
        }
        c if c & !0xF == rmm_conformance::payload::switch::T32_WFI => r = crate::switch::run(a),
        other => r[0] = other ^ HEADER_MAGIC,
    }
    Next::Results(r)
}

/// The granule RSI_ATTESTATION_TOKEN_CONTINUE writes the token into.
#[repr(C, align(4096))]
struct TokenGranule([AtomicU64; 512]);
static TOKEN_GRANULE: TokenGranule = TokenGranule([const { AtomicU64::new(0) }; 512]);

/// [`cmd::ATTEST_TOKEN`].
fn attest_token(env: &mut Env, a: &[u64; 31]) -> [u64; 31] {
    let mut challenge = [0u8; 64];
    for (c, w) in challenge.chunks_exact_mut(8).zip(&a[1..9]) {
        c.copy_from_slice(&w.to_le_bytes());
    }
    let mut r = [0u64; 31];
    let (status, max) = realm::attest_token_init(env, &challenge);
    r[0] = status;
    r[1] = max;
    if status != 0 {
        return r;
    }
    let mut token = [0u8; 4096];
    let mut calls = 0;
    let buf = ipa_of(&TOKEN_GRANULE);
    let len = match realm::attest_token_read(env, buf, max.min(4096), 4096, &mut token, &mut calls)
    {
        Ok(len) => len,
        Err(status) => {
            r[2] = status;
            return r;
        }
    };
    for (offset, chunk) in (0..len)
        .step_by(TOKEN_CHUNK)
        .zip(token[..len].chunks(TOKEN_CHUNK))
    {
        let mut g = [0u64; 31];
        g[0] = offset as u64;
        g[1] = len as u64;
        for (w, b) in g[2..].iter_mut().zip(chunk.chunks(8)) {
            let mut word = [0u8; 8];
            word[..b.len()].copy_from_slice(b);
            *w = u64::from_le_bytes(word);
        }
        host_call(env, IMM_TOKEN, &g);
    }
    r[3] = len as u64;
    r[4] = calls as u64;
    r
}

/// [`cmd::LEAK_SCRIBBLE`].
fn scribble() -> Next {
    let mut host = [0u64; 98];
    {
        let mut bytes = [0u8; 98 * 8];
        asm::read_mem(LEAK_PAGE_IPA, &mut bytes);
        for (w, b) in host.iter_mut().zip(bytes.chunks_exact(8)) {
            *w = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        }
    }
    // What the payload found at its start that equals a (non-zero) host value.
    let mut matches = 0u64;
    let mut first = u64::MAX;
    let mut hit = |index: u64| {
        matches += 1;
        first = first.min(index);
    };
    for i in 0..leak_page::EL1_COUNT {
        let h = host[i];
        if h != 0 && EL1_AT_START[i].load(Ordering::Relaxed) == h {
            hit(i as u64);
        }
    }
    let host_fp = &host[leak_page::V..=leak_page::FPSR];
    for (j, slot) in asm::INITIAL_FP.0.iter().enumerate() {
        let mine = slot.load(Ordering::Relaxed);
        if host_fp.iter().any(|&h| h != 0 && h == mine) {
            hit(100 + j as u64);
        }
    }
    // Fill the EL1 registers (read back: some bits are RES0) and the FP/SIMD fill.
    let fill: [u64; leak_page::EL1_COUNT] = core::array::from_fn(el1_fill);
    // SAFETY: `el1_fill` keeps the payload running (see there).
    unsafe { asm::write_el1(&fill) };
    for (slot, v) in EL1_FILLED.iter().zip(asm::read_el1()) {
        slot.store(v, Ordering::Relaxed);
    }
    asm::set_fp_fill(fp_fill);
    let mut r = [0u64; 31];
    r[0] = matches;
    r[1] = first;
    Next::ResultsFromFilledFp(r)
}

/// [`cmd::LEAK_VERIFY`]: the payload's registers after the round trip.
fn verify_leak() -> [u64; 31] {
    let now = asm::read_el1();
    let mut bad = 0u64;
    let mut first = [u64::MAX, 0, 0];
    let mut miss = |index: u64, got: u64, want: u64| {
        if bad == 0 {
            first = [index, got, want];
        }
        bad += 1;
    };
    for (i, (&got, want)) in now.iter().zip(EL1_FILLED.iter()).enumerate() {
        let want = want.load(Ordering::Relaxed);
        if got != want {
            miss(i as u64, got, want);
        }
    }
    let after = asm::fp_after();
    for (j, &got) in after[..64].iter().enumerate() {
        if got != fp_fill(j) {
            miss(100 + j as u64, got, fp_fill(j));
        }
    }
    if after[64] != FILL_FPCR {
        miss(164, after[64], FILL_FPCR);
    }
    if after[65] != FILL_FPSR {
        miss(165, after[65], FILL_FPSR);
    }
    // Back to the registers the payload runs with.
    let start: [u64; leak_page::EL1_COUNT] =
        core::array::from_fn(|i| EL1_AT_START[i].load(Ordering::Relaxed));
    // SAFETY: these are the values the payload started with (its vectors, FP/SIMD on).
    unsafe { asm::write_el1(&start) };
    let mut r = [0u64; 31];
    r[0] = bad;
    r[1..4].copy_from_slice(&first);
    r
}

/// The exception handler ([`crate::asm`]'s vectors): an expected exception returns
/// (the vector code resumes after the instruction); anything else is reported to the
/// host for ever.
pub extern "C" fn exception(vector: u64) {
    crate::switch::exception_from_el0(vector);
    if asm::take_expected() {
        return;
    }
    let [esr, elr, far, spsr] = asm::exception_regs();
    let mut report = [0u64; 31];
    report[..5].copy_from_slice(&[esr, elr, far, spsr, vector]);
    let mut env = Env;
    loop {
        let _ = realm::host_call(&mut env, ipa_of(&HOST_CALL), IMM_FAULT, &report);
    }
}

/// A panic in the payload: reported to the host like an unexpected exception, with
/// ESR 0 and the line in the third word.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut report = [0u64; 31];
    report[2] = info.location().map_or(0, |l| l.line() as u64);
    report[4] = u64::MAX;
    let mut env = Env;
    loop {
        let _ = realm::host_call(&mut env, ipa_of(&HOST_CALL), IMM_FAULT, &report);
    }
}
