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
    /// Starts watching.
    pub fn start() -> Self {
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
                } else if last.1.elapsed() > HANG_AFTER {
                    let what = s.what.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    println!(
                        "HANG: step {} of {what} made no progress for {} s",
                        beat - 1,
                        HANG_AFTER.as_secs()
                    );
                    std::process::exit(HANG_STATUS);
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
