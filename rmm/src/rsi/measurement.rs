//! RSI_MEASUREMENT_READ and RSI_MEASUREMENT_EXTEND.

use crate::Storage;

use platform::Arch;
use rsi_abi::measurement::{MAX_MEASUREMENT_SIZE, MEASUREMENT_SLOTS};
use rsi_abi::RsiStatus;

use crate::measurement::Measurement;
use crate::realm::rd_mut;
use crate::run::{RunCtx, Step};
use crate::Rmm;

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// DEN0137 1.0, RSI_MEASUREMENT_READ: x1 = index (0 RIM, 1..=4 REMs); returns the
    /// 64-byte measurement in x1..x8 (little-endian doublewords). An index above 4 is
    /// ERROR_INPUT.
    pub(super) fn rsi_measurement_read(&self, ctx: &mut RunCtx<'_>) -> Step {
        let index = ctx.arg(1);
        if index >= MEASUREMENT_SLOTS as u64 {
            return ctx.ret_status(RsiStatus::ErrorInput);
        }
        let m = self.with_rd(ctx, |d| d.measurements[index as usize]);
        let algo = ctx.realm.hash_algo.into();
        let words = Measurement::from_raw(algo, m).doublewords();
        ctx.regs.gprs[1..9].copy_from_slice(&words);
        ctx.ret_status(RsiStatus::Success)
    }

    /// DEN0137 1.0, RSI_MEASUREMENT_EXTEND: x1 = index (1..=4), x2 = size (<= 64),
    /// x3..x10 = data. REM[index] := H(REM[index] || data[..size]).
    pub(super) fn rsi_measurement_extend(&self, ctx: &mut RunCtx<'_>) -> Step {
        let index = ctx.arg(1);
        let size = ctx.arg(2);
        if index == 0 || index >= MEASUREMENT_SLOTS as u64 || size > MAX_MEASUREMENT_SIZE as u64 {
            return ctx.ret_status(RsiStatus::ErrorInput);
        }
        let mut data = [0u8; 64];
        for (i, chunk) in data.chunks_exact_mut(8).enumerate() {
            chunk.copy_from_slice(&ctx.arg(3 + i).to_le_bytes());
        }
        let algo = ctx.realm.hash_algo.into();
        let sha2 = self.sha2();
        self.with_rd(ctx, |d| {
            let mut m = Measurement::from_raw(algo, d.measurements[index as usize]);
            m.extend_rem(&sha2, &data[..size as usize]);
            d.measurements[index as usize] = *m.as_bytes();
        });
        ctx.ret_status(RsiStatus::Success)
    }

    /// Runs `f` on the running REC's realm descriptor, with the RD locked.
    pub(crate) fn with_rd<R>(
        &self,
        ctx: &RunCtx<'_>,
        f: impl FnOnce(&mut crate::realm::Rd) -> R,
    ) -> R {
        let mut rd = self.lock_running_rd(ctx.rd);
        let r = f(rd_mut(&mut self.arch.map_realm(&mut rd)));
        r
    }
}
