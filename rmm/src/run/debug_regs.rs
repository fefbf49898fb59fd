//! The self-hosted debug registers as a realm sees them: RAZ/WI.
//!
//! MDCR_EL2.TDA, TDOSA and TDRA trap every debug register access of the realm (the
//! breakpoint and watchpoint registers, MDSCR_EL1, the OS lock and double lock, the
//! DCC, the claim tags, MDRAR_EL1): the hardware registers are the Normal world's
//! (EL3 does not switch them), so the realm must not reach them. A realm kernel
//! writes several of them at boot (Linux: MDSCR_EL1 in its CPU set-up, OSLAR_EL1 and
//! OSDLR_EL1 to clear the OS lock, each breakpoint and watchpoint it finds in
//! ID_AA64DFR0_EL1), so an UNDEFINED answer would stop it; the run loop emulates them
//! instead as RAZ/WI, except OSLSR_EL1, which reports an OS lock that is implemented
//! and unlocked. Self-hosted debug is therefore accepted and inert: breakpoints and
//! watchpoints never fire, software step and the debug exceptions stay disabled
//! (the REC's MDSCR_EL1, loaded while it runs, stays zero, so the host's MDE, KDE and
//! SS do not reach the realm either). DEN0137 1.0 lets the host choose the number of
//! breakpoints and watchpoints (RmiRealmParams.num_bps/num_wps), which the realm's
//! ID_AA64DFR0_EL1 reports ([`super::id_regs::dfr0`]).

use platform::SysRegEncoding;

/// OSLSR_EL1 (S2_0_C1_C1_4).
const OSLSR_EL1: SysRegEncoding = SysRegEncoding::new(2, 0, 1, 1, 4);
/// OSLSR_EL1 as the realm reads it: OSLM [3], [0] = 0b10 (the OS lock is
/// implemented), OSLK [1] = 0 (unlocked), nTT [2] = 0 (Arm ARM, OSLSR_EL1).
pub const OSLSR_REALM: u64 = 1 << 3;

/// Whether `enc` is a debug register the realm's access to which the RMM emulates as
/// RAZ/WI: the op0 = 2 encodings with op1 0 (MDCCINT, MDSCR, DBGB*/DBGW*, OSDTR*,
/// OSECCR, MDRAR, OSLAR, OSLSR, OSDLR, DBGPRCR, DBGCLAIM*, DBGAUTHSTATUS) and op1 3
/// (the DCC: MDCCSR_EL0, DBGDTR*_EL0). The trace unit's registers (op1 1) are not
/// among them: CPTR_EL2.TTA traps those, and they are UNDEFINED for the realm.
pub fn is_raz_wi(enc: SysRegEncoding) -> bool {
    enc.op0 == 2 && (enc.op1 == 0 || enc.op1 == 3)
}

/// What a read of the RAZ/WI register `enc` returns.
pub fn read_value(enc: SysRegEncoding) -> u64 {
    if enc == OSLSR_EL1 {
        OSLSR_REALM
    } else {
        0
    }
}
