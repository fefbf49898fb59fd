//! Phase marks of the `phases` build ([`crate::phase`]): each mark reads CNTPCT_EL0 and
//! appends it, with the phase, to the current CPU's list; at the end of each RMI call,
//! after its [`Phase::Complete`] mark, [`report`] logs the call's list at Info level and
//! empties it:
//!
//! ```text
//! phases: 0xc4000150 entry@0 handler@17 handler_done@61 complete@80
//! ```
//!
//! (the function identifier, then each mark's counter value less the first's). The log
//! line is written after the last mark, so it costs no marked phase; it does cost the
//! call's round trip, which is why the bench takes its totals from the product image
//! and only the differences between marks from this build. [`calibrate`] logs the cost
//! of one mark at boot (`phases: calibration <n>`): two marks in a row, the
//! instructions from one counter read to the next, which every difference between
//! marks includes once.
//!
//! Without the `phases` feature every function here is empty and inlined: the product
//! image has no marks.

use crate::phase::Phase;

#[cfg(feature = "phases")]
mod marks {
    use core::fmt;
    use core::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};

    use crate::phase::Phase;

    /// Marks kept per call (REC_ENTER's run loop marks twice per realm run).
    const MAX_MARKS: usize = 32;
    const MAX_CPUS: usize = crate::layout::PLATFORM.max_cpus;

    /// One CPU's marks of the current call. Only that CPU writes them.
    struct Marks {
        n: AtomicUsize,
        at: [AtomicU64; MAX_MARKS],
        phase: [AtomicU8; MAX_MARKS],
    }

    static MARKS: [Marks; MAX_CPUS] = [const {
        Marks {
            n: AtomicUsize::new(0),
            at: [const { AtomicU64::new(0) }; MAX_MARKS],
            phase: [const { AtomicU8::new(0) }; MAX_MARKS],
        }
    }; MAX_CPUS];

    /// CNTPCT_EL0, then TPIDR_EL2 (the CPU id, written by `rmm_entry`).
    fn counter_and_cpu() -> (u64, usize) {
        let (t, cpu): (u64, u64);
        // SAFETY: reading the physical count and the EL2 software thread ID register
        // has no side effect. No ISB before the counter read: under QEMU's `-icount`
        // (the only place the marks mean anything) the read is not speculated.
        unsafe {
            core::arch::asm!(
                "mrs {t}, cntpct_el0",
                "mrs {cpu}, tpidr_el2",
                t = out(reg) t,
                cpu = out(reg) cpu,
                options(nomem, nostack, preserves_flags),
            )
        };
        (t, cpu as usize)
    }

    /// Appends `phase` at the counter's current value to this CPU's marks (dropped when
    /// the list is full). Out of line, so that every mark costs the same.
    #[inline(never)]
    pub fn record(phase: Phase) {
        let (t, cpu) = counter_and_cpu();
        let Some(m) = MARKS.get(cpu) else {
            return;
        };
        let n = m.n.load(Ordering::Relaxed);
        if n < MAX_MARKS {
            m.at[n].store(t, Ordering::Relaxed);
            m.phase[n].store(phase as u8, Ordering::Relaxed);
            m.n.store(n + 1, Ordering::Relaxed);
        }
    }

    /// This CPU's marks, as logged.
    struct List<'a>(&'a Marks);

    impl fmt::Display for List<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let m = self.0;
            let n = m.n.load(Ordering::Relaxed).min(MAX_MARKS);
            let first = m.at[0].load(Ordering::Relaxed);
            for i in 0..n {
                let name =
                    Phase::from_raw(m.phase[i].load(Ordering::Relaxed)).map_or("?", Phase::name);
                let at = m.at[i].load(Ordering::Relaxed).wrapping_sub(first);
                write!(f, " {name}@{at}")?;
            }
            if m.n.load(Ordering::Relaxed) > MAX_MARKS {
                write!(f, " (more dropped)")?;
            }
            Ok(())
        }
    }

    /// Logs this CPU's marks with `fid`, and empties them.
    #[inline(never)]
    pub fn report(fid: u64) {
        let (_, cpu) = counter_and_cpu();
        let Some(m) = MARKS.get(cpu) else {
            return;
        };
        log::info!("phases: {fid:#x}{}", List(m));
        m.n.store(0, Ordering::Relaxed);
    }

    /// Two marks in a row; logs their difference and empties the list.
    #[inline(never)]
    pub fn calibrate() {
        record(Phase::Calibrate);
        record(Phase::Calibrate);
        let (_, cpu) = counter_and_cpu();
        let Some(m) = MARKS.get(cpu) else {
            return;
        };
        let d = m.at[1]
            .load(Ordering::Relaxed)
            .wrapping_sub(m.at[0].load(Ordering::Relaxed));
        log::info!("phases: calibration {d}");
        m.n.store(0, Ordering::Relaxed);
    }
}

/// Marks `phase` on the current CPU (nothing without the `phases` feature).
#[inline(always)]
pub fn mark(phase: Phase) {
    #[cfg(feature = "phases")]
    marks::record(phase);
    #[cfg(not(feature = "phases"))]
    let _ = phase;
}

/// The end of an RMI call with function identifier `fid`, after its last mark: logs
/// the call's marks (nothing without the `phases` feature).
#[inline(always)]
pub fn report(fid: u64) {
    #[cfg(feature = "phases")]
    marks::report(fid);
    #[cfg(not(feature = "phases"))]
    let _ = fid;
}

/// At boot: logs the cost of one mark (nothing without the `phases` feature).
#[inline(always)]
pub fn calibrate() {
    #[cfg(feature = "phases")]
    marks::calibrate();
}
