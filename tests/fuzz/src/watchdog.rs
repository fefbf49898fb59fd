//! A watchdog over a run: if a step (or a concurrent batch) does not finish within
//! [`HANG_AFTER`], the run is a hang: the watchdog prints what was running and ends the
//! process with status 3 (a hung RMM thread cannot be stopped any other way).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long one step or batch may take. A step is normally well under a millisecond;
/// REC entries that run a realm take a few.
pub const HANG_AFTER: Duration = Duration::from_secs(30);

/// The process exit status of a hang.
pub const HANG_STATUS: i32 = 3;

struct Shared {
    /// The number of the current step plus one; 0 when the run is over.
    beat: AtomicU64,
    /// What the current step is, for the report (set by the run, read on a hang).
    what: Mutex<String>,
}

/// The watchdog of one run; stops watching when dropped.
pub struct Watchdog {
    shared: Arc<Shared>,
}

impl Watchdog {
    /// Starts watching: a hang prints what was running and ends the process with
    /// [`HANG_STATUS`].
    pub fn start() -> Self {
        Self::start_with(HANG_AFTER, |report| {
            println!("{report}");
            std::process::exit(HANG_STATUS);
        })
    }

    /// Starts watching with `hang_after` as the limit; a hang calls `on_hang` with the
    /// report (once) and the watchdog stops.
    pub fn start_with(hang_after: Duration, on_hang: impl FnOnce(String) + Send + 'static) -> Self {
        let shared = Arc::new(Shared {
            beat: AtomicU64::new(1),
            what: Mutex::new(String::new()),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            let mut last = (s.beat.load(Ordering::SeqCst), Instant::now());
            loop {
                std::thread::sleep(Duration::from_millis(250));
                let beat = s.beat.load(Ordering::SeqCst);
                if beat == 0 {
                    return;
                }
                if beat != last.0 {
                    last = (beat, Instant::now());
                } else if last.1.elapsed() > hang_after {
                    let what = s.what.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    on_hang(format!(
                        "HANG: step {} of {what} made no progress for {:.1} s",
                        beat - 1,
                        hang_after.as_secs_f64()
                    ));
                    return;
                }
            }
        });
        Self { shared }
    }

    /// Step number `step` begins.
    pub fn beat(&self, step: usize) {
        self.shared.beat.store(step as u64 + 1, Ordering::SeqCst);
    }

    /// Sets what the run is, for the report of a hang (the seed; for a concurrent
    /// batch, its steps).
    pub fn describe(&self, what: String) {
        *self.shared.what.lock().unwrap_or_else(|e| e.into_inner()) = what;
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.shared.beat.store(0, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_that_makes_no_progress_is_reported_with_what_ran() {
        let (tx, rx) = std::sync::mpsc::channel();
        let w = Watchdog::start_with(Duration::from_millis(300), move |r| {
            let _ = tx.send(r);
        });
        w.describe("seed 9 (sequential)".into());
        // Steps that finish in time are not hangs.
        for i in 0..4 {
            w.beat(i);
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(rx.try_recv().is_err());
        w.beat(41);
        let report = rx
            .recv_timeout(Duration::from_secs(5))
            .expect("a hang report");
        assert!(
            report.starts_with("HANG: step 41 of seed 9 (sequential)"),
            "{report}"
        );
    }
}
