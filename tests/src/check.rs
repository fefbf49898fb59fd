//! Numbered checks and test outcomes.

use core::fmt;

use rmi_abi::{status, RmiError};

/// Why a check failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The check's number within its test (1-based).
    pub check: u32,
    /// What was checked.
    pub what: &'static str,
    /// The value observed.
    pub got: u64,
    /// The value expected.
    pub want: u64,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "check {}: {}: got {:#x}, want {:#x}",
            self.check, self.what, self.got, self.want
        )
    }
}

/// How a test ended, when it did not pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A check failed.
    Failed(Failure),
    /// The test does not apply to this machine.
    Skipped(&'static str),
}

impl From<Failure> for Outcome {
    fn from(f: Failure) -> Self {
        Outcome::Failed(f)
    }
}

/// The check counter of one test.
#[derive(Debug, Default)]
pub struct Checks {
    n: u32,
}

impl Checks {
    /// A fresh counter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of checks made so far.
    pub fn count(&self) -> u32 {
        self.n
    }

    /// One check: `got` must equal `want`.
    pub fn eq(&mut self, what: &'static str, got: u64, want: u64) -> Result<(), Failure> {
        self.n += 1;
        if got == want {
            Ok(())
        } else {
            Err(Failure {
                check: self.n,
                what,
                got,
                want,
            })
        }
    }

    /// One check of a command's packed return code in x0.
    pub fn status(
        &mut self,
        what: &'static str,
        x0: u64,
        want: Result<(), RmiError>,
    ) -> Result<(), Failure> {
        self.eq(what, x0, status::return_code(&want))
    }

    /// One check of a boolean condition.
    pub fn holds(&mut self, what: &'static str, cond: bool) -> Result<(), Failure> {
        self.eq(what, cond as u64, 1)
    }
}

/// A conformance test.
pub struct TestDef {
    /// Name, `<command or scenario>_<aspect>`.
    pub name: &'static str,
    /// The test body.
    pub run: fn(&dyn crate::Host, &mut Checks) -> Result<(), Outcome>,
}

/// Totals of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Tests passed.
    pub passed: u32,
    /// Tests failed.
    pub failed: u32,
    /// Tests skipped.
    pub skipped: u32,
}

/// The granules of the test pool of `host` (all [`crate::Host::pool_granules`] of them,
/// from `pool_base`, its granule 0 taken while it was accessible) that the host cannot
/// access.
pub fn inaccessible_pool_granules(
    host: &dyn crate::Host,
    pool_base: u64,
) -> impl Iterator<Item = u64> + '_ {
    (0..host.pool_granules() as u64)
        .map(move |n| pool_base + n * 4096)
        .filter(|&pa| !host.granule_accessible(pa))
}

/// Fails unless every granule of the test pool is accessible to the host again: a test
/// destroys what it creates and undelegates what it delegates.
fn cleaned_up(host: &dyn crate::Host, pool_base: u64, c: &Checks) -> Result<(), Outcome> {
    let left = inaccessible_pool_granules(host, pool_base).count();
    if left == 0 {
        return Ok(());
    }
    Err(Outcome::Failed(Failure {
        check: c.count() + 1,
        what: "pool granules left inaccessible to the host after the test",
        got: left as u64,
        want: 0,
    }))
}

/// Runs `tests`, each on the host `host_for` gives it, writing one line per test and the
/// summary to `out`. A test that passes its checks but leaves pool granules delegated
/// fails ([`cleaned_up`]).
pub fn run<'t, H: crate::Host>(
    tests: impl IntoIterator<Item = &'t TestDef>,
    mut host_for: impl FnMut(&TestDef) -> H,
    out: &mut dyn fmt::Write,
) -> Result<Summary, fmt::Error> {
    let mut s = Summary::default();
    for t in tests {
        let host = host_for(t);
        let pool_base = host.ns_granule(0);
        let mut c = Checks::new();
        match (t.run)(&host, &mut c).and_then(|()| cleaned_up(&host, pool_base, &c)) {
            Ok(()) => {
                s.passed += 1;
                writeln!(out, "Test={} checks={} Result=Passed", t.name, c.count())?;
            }
            Err(Outcome::Failed(f)) => {
                s.failed += 1;
                writeln!(out, "Test={} Result=Failed ({f})", t.name)?;
            }
            Err(Outcome::Skipped(why)) => {
                s.skipped += 1;
                writeln!(out, "Test={} Result=Skipped ({why})", t.name)?;
            }
        }
    }
    writeln!(
        out,
        "conformance: {} passed, {} failed, {} skipped",
        s.passed, s.failed, s.skipped
    )?;
    Ok(s)
}
