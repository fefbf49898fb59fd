//! The points of an RMI call at which a `phases` build of the firmware reads the generic
//! counter (`cargo xtask bench --qemu --phases`, `docs/benchmarks.md`): under QEMU's
//! `-icount shift=0` the counter advances once per instruction, so the differences
//! between consecutive marks say where a call's instructions go.
//!
//! The product image has no marks: the RMM's `phase!` calls compile to nothing without
//! its `phases` feature, and so do the platform's own ([`crate::aarch64`] `phase`).

/// A point of an RMI call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// The RMI loop has the request: right after the SMC that returned it.
    Entry,
    /// The dispatcher has decoded the call and calls the command's handler.
    Handler,
    /// DATA_CREATE, RTT_CREATE: the failure conditions checked (locks held, the RTT
    /// walked), nothing changed yet.
    Checked,
    /// GRANULE_DELEGATE, GRANULE_UNDELEGATE: the GTSI call to EL3 is made.
    El3Call,
    /// GRANULE_DELEGATE, GRANULE_UNDELEGATE: EL3 has answered the GTSI call.
    El3Done,
    /// DATA_CREATE: the host's page copied into the DATA granule (src_pas checked).
    Copied,
    /// DATA_CREATE: the RIM extended (the content hashed first, if measured).
    Measured,
    /// RTT_CREATE: the new table filled.
    Filled,
    /// The handler has returned.
    HandlerDone,
    /// REC_ENTER: RecEnter read, the REC locked and copied, the failure conditions
    /// checked.
    RecChecked,
    /// REC_ENTER: the REC's state (FP/SIMD, EL1 and EL2 registers) and its GIC list
    /// registers loaded.
    RecLoaded,
    /// REC_ENTER: the world switch is called to `eret` to the realm.
    RealmEnter,
    /// REC_ENTER: the world switch is back from the realm.
    RealmExit,
    /// REC_ENTER: the realm's state saved and the Normal world's restored.
    RecSaved,
    /// REC_ENTER: the exit record written to the host's RecRun.
    ExitWritten,
    /// The RMI loop issues the SMC that completes the call.
    Complete,
    /// Two marks in a row at boot: the cost of one mark.
    Calibrate,
}

impl Phase {
    /// Every phase, in the order of the discriminants.
    pub const ALL: [Phase; 17] = [
        Phase::Entry,
        Phase::Handler,
        Phase::Checked,
        Phase::El3Call,
        Phase::El3Done,
        Phase::Copied,
        Phase::Measured,
        Phase::Filled,
        Phase::HandlerDone,
        Phase::RecChecked,
        Phase::RecLoaded,
        Phase::RealmEnter,
        Phase::RealmExit,
        Phase::RecSaved,
        Phase::ExitWritten,
        Phase::Complete,
        Phase::Calibrate,
    ];

    /// The phase with discriminant `raw`.
    pub fn from_raw(raw: u8) -> Option<Phase> {
        Self::ALL.get(raw as usize).copied()
    }

    /// The name the firmware logs (`phases:` lines, parsed by the xtask).
    pub const fn name(self) -> &'static str {
        match self {
            Phase::Entry => "entry",
            Phase::Handler => "handler",
            Phase::Checked => "checked",
            Phase::El3Call => "el3_call",
            Phase::El3Done => "el3_done",
            Phase::Copied => "copied",
            Phase::Measured => "measured",
            Phase::Filled => "filled",
            Phase::HandlerDone => "handler_done",
            Phase::RecChecked => "rec_checked",
            Phase::RecLoaded => "rec_loaded",
            Phase::RealmEnter => "realm_enter",
            Phase::RealmExit => "realm_exit",
            Phase::RecSaved => "rec_saved",
            Phase::ExitWritten => "exit_written",
            Phase::Complete => "complete",
            Phase::Calibrate => "calibrate",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_values_round_trip() {
        for (i, p) in Phase::ALL.iter().enumerate() {
            assert_eq!(*p as u8 as usize, i);
            assert_eq!(Phase::from_raw(i as u8), Some(*p));
        }
        assert_eq!(Phase::from_raw(Phase::ALL.len() as u8), None);
    }
}
