//! Map gates: a test's way to stop the RMM inside its next access to one granule, so
//! that a race with another CPU can be lined up deterministically instead of hoped for.
//! The same gate stops a copy from or to host memory part-way ([`super::SimHw::gate_ns`]).
//!
//! A test arms a gate on a physical address ([`super::SimHw::gate_map`]); the next time
//! the RMM maps that granule ([`platform::Arch::map_realm`]), the simulated CPU doing so
//! stops before the access is made (and before the GPT is checked), says so, and waits
//! until the test releases it. Meanwhile the test drives other CPUs. Whatever locks the
//! RMM holds at that point stay held, exactly as if that CPU were slow.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use platform::addr::PhysAddr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Waiting for the RMM to map the granule.
    Armed,
    /// The RMM is stopped inside its map of the granule.
    Reached,
    /// Released: the RMM goes on (and later maps pass freely).
    Released,
}

/// A one-shot stop of the RMM's next map of one granule.
pub struct MapGate {
    pa: PhysAddr,
    state: Mutex<State>,
    changed: Condvar,
}

impl MapGate {
    pub(super) fn new(pa: PhysAddr) -> Self {
        Self {
            pa,
            state: Mutex::new(State::Armed),
            changed: Condvar::new(),
        }
    }

    /// The granule gated.
    pub fn pa(&self) -> PhysAddr {
        self.pa
    }

    /// Whether the RMM has not reached the gate yet.
    pub fn is_armed(&self) -> bool {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) == State::Armed
    }

    /// Called by the simulation when the RMM maps `pa`: stops there if the gate is
    /// armed for it, until it is released.
    pub(super) fn pass(&self, pa: PhysAddr) {
        if pa != self.pa {
            return;
        }
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if *s != State::Armed {
            return;
        }
        *s = State::Reached;
        self.changed.notify_all();
        while *s != State::Released {
            s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Waits until the RMM is stopped at the gate; `false` if that has not happened
    /// within `timeout`.
    pub fn wait_reached(&self, timeout: Duration) -> bool {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (s, _) = self
            .changed
            .wait_timeout_while(s, timeout, |s| *s == State::Armed)
            .unwrap_or_else(|e| e.into_inner());
        *s != State::Armed
    }

    /// Lets the RMM go on.
    pub fn release(&self) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = State::Released;
        self.changed.notify_all();
    }
}
