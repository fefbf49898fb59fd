//! SMCs from realms: the Realm Services Interface (DEN0137 1.0, B5), PSCI (B6) and the
//! SMCCC architecture calls. Each call either completes in the RMM (results in the
//! realm's x0.., then the realm resumes) or becomes a REC exit.

mod attest;
mod config;
pub mod counts;
mod host_call;
pub(crate) mod ipa_state;
mod measurement;
pub mod psci;

use crate::Storage;

use platform::Arch;
use rsi_abi::fid::RSI_RESULT_REGS;
use rsi_abi::RSI_ABI_VERSION;
use rsi_abi::{AbiVersion, RsiFid, RsiStatus};

use self::counts::SmcKind;

use crate::run::{RunCtx, Step};
use crate::Rmm;

/// SMCCC NOT_SUPPORTED (-1).
pub const SMCCC_NOT_SUPPORTED: u64 = u64::MAX;
/// The SMCCC version this RMM implements for realms: 1.2.
pub const SMCCC_VERSION_1_2: u64 = 0x1_0002;

impl RunCtx<'_> {
    /// Completes an SMC with `x0` (and leaves x1.. as set).
    pub fn ret(&mut self, x0: u64) -> Step {
        self.regs.gprs[0] = x0;
        Step::Resume
    }

    /// Completes an RSI command with a status.
    pub fn ret_status(&mut self, s: RsiStatus) -> Step {
        self.ret(s.raw())
    }

    /// Argument register `n` of the SMC.
    pub fn arg(&self, n: usize) -> u64 {
        self.regs.gprs[n]
    }
}

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// Handles an SMC the realm executed (the PC is already past it).
    pub(crate) fn handle_smc(&self, ctx: &mut RunCtx<'_>) -> Step {
        // SMCCC (DEN0028) 2.5: the function identifier is W0.
        let fid = u64::from(rsi_abi::fid::w0(ctx.arg(0)));
        // RSI first, the calls the realm makes most; no RSI identifier is SMCCC_VERSION
        // or a PSCI function (other ranges of SMCCC's function identifiers).
        let Some(cmd) = RsiFid::decode(fid) else {
            return self.handle_other_smc(ctx, fid);
        };
        ctx.rec.smc_calls.count(SmcKind::Rsi(cmd));
        let pc = ctx.regs.pc;
        let step = match cmd {
            RsiFid::Version => self.rsi_version(ctx),
            RsiFid::Features => {
                // DEN0137 1.0, RSI_FEATURES: every feature register reads zero in 1.0.
                ctx.regs.gprs[1] = 0;
                ctx.ret_status(RsiStatus::Success)
            }
            RsiFid::MeasurementRead => self.rsi_measurement_read(ctx),
            RsiFid::MeasurementExtend => self.rsi_measurement_extend(ctx),
            RsiFid::RealmConfig => self.rsi_realm_config(ctx),
            RsiFid::HostCall => self.rsi_host_call(ctx),
            RsiFid::IpaStateGet => self.rsi_ipa_state_get(ctx),
            RsiFid::IpaStateSet => self.rsi_ipa_state_set(ctx),
            RsiFid::AttestTokenInit => self.rsi_attest_init(ctx),
            RsiFid::AttestTokenContinue => self.rsi_attest_continue(ctx),
        };
        // DEN0137 1.0, B1.2: X0-X16 that are not output values of the command read zero
        // on return. Not when the SMC is to be executed again (the PC was moved back to
        // it, e.g. after an exit for an unmapped IPA): its inputs must still be there.
        // A command that completes on the next REC entry (HOST_CALL, IPA_STATE_SET) has
        // its inputs in the REC by now and writes only output registers then.
        if ctx.regs.pc == pc {
            clear_non_outputs(&mut ctx.regs.gprs, cmd.output_regs());
        }
        step
    }

    /// An SMC that is not an RSI command: SMCCC_VERSION, PSCI, or NOT_SUPPORTED.
    #[inline(never)]
    fn handle_other_smc(&self, ctx: &mut RunCtx<'_>, fid: u64) -> Step {
        if fid == smccc::arch::SMCCC_VERSION as u64 {
            ctx.rec.smc_calls.count(SmcKind::SmcccVersion);
            return ctx.ret(SMCCC_VERSION_1_2);
        }
        if let Some(step) = self.handle_psci(ctx, fid) {
            ctx.rec.smc_calls.count(SmcKind::Psci);
            return step;
        }
        ctx.rec.smc_calls.count(SmcKind::NotSupported);
        ctx.ret(SMCCC_NOT_SUPPORTED)
    }

    /// DEN0137 1.0, RSI_VERSION: like RMI_VERSION, x1 = lower and x2 = higher
    /// implemented revision; SUCCESS only for 1.0.
    fn rsi_version(&self, ctx: &mut RunCtx<'_>) -> Step {
        let ok = AbiVersion::decode(ctx.arg(1)) == Ok(RSI_ABI_VERSION);
        let v = RSI_ABI_VERSION.encode();
        ctx.regs.gprs[1] = v;
        ctx.regs.gprs[2] = v;
        ctx.ret_status(if ok {
            RsiStatus::Success
        } else {
            RsiStatus::ErrorInput
        })
    }
}

/// Zeroes X`outputs`..X16 (DEN0137 1.0, B1.2). One arm per count of output values an
/// RSI command has ([`RsiFid::output_regs`]), each clearing ranges of constant length
/// of at most eight registers, which the firmware's target (strict alignment, no
/// FP/SIMD) stores inline; a longer range becomes a call to `memset`, a third of an
/// RSI_VERSION handled in the RMM. The empty `black_box` between the two halves only
/// keeps the compiler from merging them back into one such call (it may touch memory
/// whose address has escaped, as the registers' has to the world switch).
fn clear_non_outputs(gprs: &mut [u64; 31], outputs: usize) {
    const N: usize = RSI_RESULT_REGS;
    const HALF: usize = 9;
    let from = match outputs {
        1 => {
            gprs[1..HALF].fill(0);
            HALF
        }
        2 => {
            gprs[2..HALF].fill(0);
            HALF
        }
        3 => {
            gprs[3..HALF].fill(0);
            HALF
        }
        n => n.min(N),
    };
    core::hint::black_box(());
    if from == HALF {
        gprs[HALF..N].fill(0);
    } else {
        gprs[from..N].fill(0);
    }
}
