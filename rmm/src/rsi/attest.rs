//! RSI_ATTESTATION_TOKEN_INIT and RSI_ATTESTATION_TOKEN_CONTINUE (DEN0137 1.0, A7.2.2,
//! B5.3.2, B5.3.1).
//!
//! INIT samples the realm's measurements and personalization value, encodes the realm
//! token and starts its signature ([`crate::attest::token::TokenState::begin`]); the
//! state is in the REC's first auxiliary granule. Each CONTINUE then either makes one
//! bounded step of the signature (returning RSI_INCOMPLETE with nothing copied) or,
//! once it is signed, copies the next bytes of the CCA token into the realm's buffer
//! (RSI_INCOMPLETE while bytes remain, RSI_SUCCESS with the last ones). Before a
//! signing step the RMM looks for a pending physical interrupt (ISR_EL1): if there is
//! one, the call completes with RSI_INCOMPLETE and the REC exits to the host (IRQ or
//! FIQ), so that the host is not kept from its interrupt for the whole signature; the
//! next CONTINUE after the next entry resumes the same token (A7.2.2, ICXSJP).

use crate::Storage;

use platform::{Arch, PhysAddr, SysReg};
use rsi_abi::attest::ATTEST_CHALLENGE_SIZE;
use rsi_abi::RsiStatus;

use crate::attest::token::{token_state, Continue, RealmClaims, TokenState};
use crate::granule::RecAuxKind;
use crate::measurement::MeasurementAlgo;
use crate::run::realm_mem::RealmMemError;
use crate::run::{RunCtx, Step};
use crate::Rmm;

/// The granule size of the RSI buffer checks (RMM_GRANULE_SIZE).
const GRANULE: u64 = 4096;

/// ISR_EL1.I [7]: a physical IRQ is pending (read at EL2).
const ISR_I: u64 = 1 << 7;
/// ISR_EL1.F [6]: a physical FIQ is pending.
const ISR_F: u64 = 1 << 6;

/// The IANA hash function name of a realm hash algorithm (DEN0137 1.0, A7.2.3.1.6).
fn hash_algo_name(a: MeasurementAlgo) -> &'static str {
    match a {
        MeasurementAlgo::Sha256 => "sha-256",
        MeasurementAlgo::Sha512 => "sha-512",
    }
}

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// Runs `f` on the token state in the REC's first auxiliary granule `aux`. The
    /// granule is locked while `f` runs: REC_AUX comes last in the lock order, so this
    /// may be called with a realm granule mapped (and its RTT and the RD locked).
    fn with_token<R>(&self, aux: PhysAddr, f: impl FnOnce(&mut TokenState) -> R) -> R {
        let mut lock = self
            .granules
            .lock_as::<RecAuxKind>(aux)
            .unwrap_or_else(|e| panic!("a running REC's auxiliary granule {aux} ({e:?})"));
        let r = f(token_state(&mut self.arch.map_realm(&mut lock)));
        r
    }

    /// DEN0137 1.0, RSI_ATTESTATION_TOKEN_INIT (B5.3.2): x1..x8 = the challenge
    /// (doublewords, little-endian). No failure conditions: a token in progress is
    /// abandoned and a new one started (state ATTEST_IN_PROGRESS). x1 = the size of the
    /// CCA token, an upper bound as the spec asks (exact here); 0 if the RMM has no
    /// attestation key, in which case CONTINUE answers RSI_ERROR_UNKNOWN.
    pub(super) fn rsi_attest_init(&self, ctx: &mut RunCtx<'_>) -> Step {
        let mut challenge = [0u8; ATTEST_CHALLENGE_SIZE];
        for (i, chunk) in challenge.chunks_exact_mut(8).enumerate() {
            chunk.copy_from_slice(&ctx.arg(1 + i).to_le_bytes());
        }
        let algo: MeasurementAlgo = ctx.realm.hash_algo.into();
        let n = algo.digest_size();
        let data = self.attest().read();
        let aux = PhysAddr(ctx.rec.aux[0]);
        // The claims are read where they are, in the RD (locked, then the auxiliary
        // granule: external before internal), not copied to the stack.
        let size = self.with_rd(ctx, |d| {
            let m = &d.measurements;
            let claims = RealmClaims {
                challenge: &challenge,
                rpv: &d.rpv,
                rim: &m[0][..n],
                rems: [&m[1][..n], &m[2][..n], &m[3][..n], &m[4][..n]],
                hash_algo: hash_algo_name(algo),
                rak_pub: data.rak_public(),
            };
            self.with_token(aux, |t| t.begin(&claims, &data))
        });
        ctx.regs.gprs[1] = size as u64;
        ctx.ret_status(RsiStatus::Success)
    }

    /// DEN0137 1.0, RSI_ATTESTATION_TOKEN_CONTINUE (B5.3.1): x1 = IPA of a granule of
    /// the realm's, x2 = offset in it, x3 = size of the buffer there; x1 = bytes
    /// written. Failure conditions in the spec's order: addr_align, addr_bound,
    /// offset_bound, size_overflow, size_bound (RSI_ERROR_INPUT), state (no token in
    /// progress: RSI_ERROR_STATE), unknown (no attestation key, or signing failed:
    /// RSI_ERROR_UNKNOWN). A buffer in RIPAS EMPTY memory is RSI_ERROR_INPUT (as for the
    /// other RSI buffers); an unmapped one exits to the host with a stage-2 fault and
    /// the call is retried on the next entry.
    pub(super) fn rsi_attest_continue(&self, ctx: &mut RunCtx<'_>) -> Step {
        let (addr, offset, size) = (ctx.arg(1), ctx.arg(2), ctx.arg(3));
        // Completes the call with `status` and `len` (x1). Not for a call to be retried
        // (its inputs must stay in place).
        let done = |ctx: &mut RunCtx<'_>, status: RsiStatus, len: u64| {
            ctx.regs.gprs[1] = len;
            ctx.ret_status(status)
        };
        let input = |ctx: &mut RunCtx<'_>| done(ctx, RsiStatus::ErrorInput, 0);
        // addr_align
        if !addr.is_multiple_of(GRANULE) {
            return input(ctx);
        }
        // addr_bound
        if !ctx.realm.geometry.is_protected(addr) {
            return input(ctx);
        }
        // offset_bound
        if offset >= GRANULE {
            return input(ctx);
        }
        // size_overflow
        let Some(end) = offset.checked_add(size) else {
            return input(ctx);
        };
        // size_bound
        if end > GRANULE {
            return input(ctx);
        }
        let aux = PhysAddr(ctx.rec.aux[0]);
        let (in_progress, error, signed) =
            self.with_token(aux, |t| (t.in_progress(), t.error(), t.signed()));
        // state
        if !in_progress {
            return done(ctx, RsiStatus::ErrorState, 0);
        }
        // unknown
        if error.is_some() {
            return done(ctx, RsiStatus::ErrorUnknown, 0);
        }
        let data = self.attest().read();
        if !signed {
            let isr = self.arch.read_sysreg(ctx.cpu, SysReg::ISR_EL1);
            if isr & (ISR_I | ISR_F) != 0 {
                // Complete (RSI_INCOMPLETE, nothing written), then exit to the host.
                done(ctx, RsiStatus::Incomplete, 0);
                ctx.exit_interrupt(isr & ISR_I == 0);
                return Step::Exit;
            }
            return match self.with_token(aux, |t| t.sign_step(&data)) {
                Ok(Continue::Signing | Continue::Signed) => done(ctx, RsiStatus::Incomplete, 0),
                Err(_) => done(ctx, RsiStatus::ErrorUnknown, 0),
            };
        }
        let (offset, end) = (offset as usize, end as usize);
        let copied = self.with_realm_granule(ctx.rd, addr, |page| {
            self.with_token(aux, |t| {
                t.copy_out(&data, end - offset, |at, bytes| {
                    page.write(offset + at, bytes)
                })
            })
        });
        match copied {
            Ok((n, finished)) => {
                let status = if finished {
                    RsiStatus::Success
                } else {
                    RsiStatus::Incomplete
                };
                done(ctx, status, n as u64)
            }
            Err(RealmMemError::Empty) => input(ctx),
            Err(RealmMemError::Unmapped(level)) => {
                ctx.step_back();
                ctx.exit_rsi_stage2_fault(addr, level);
                Step::Exit
            }
        }
    }
}
