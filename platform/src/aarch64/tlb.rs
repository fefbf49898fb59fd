//! TLB maintenance: stage-2 invalidation for one realm's VMID.
//!
//! Arm ARM (DDI 0487), "Invalidation of TLB entries from stage 2 translations": `TLBI
//! IPAS2E1IS` removes stage-2-only entries for an IPA (from any level of the walk) of
//! the *current* VMID, the one in `VTTBR_EL2`, on every PE of the Inner Shareable
//! domain, but need not remove entries that combine stage 1 and stage 2. So after the
//! stage-2 invalidations complete (`DSB ISH`), all stage 1 entries of the VMID are
//! invalidated with `TLBI VMALLE1IS` (rule ILRXYX; with `HCR_EL2.{E2H, TGE}` not
//! `{1, 1}`, as for this RMM, it applies to the EL1&0 regime of the current VMID),
//! completed by `DSB ISH`, then `ISB`. `TLBI VMALLS12E1IS` removes both stages of the
//! current VMID at once. Executed in Realm state, these apply to the Realm IPA space
//! (the NS bit, 63, of the IPA operand is RES0).
//!
//! The RMM's `VTTBR_EL2` names the realm it last ran (or none), so the VMID is loaded
//! for the duration of the maintenance and the old value restored. A preceding
//! `DSB ISHST` makes the RTT writes (the invalid descriptor of a break-before-make)
//! visible to every table walker before the invalidation.
//!
//! A range of IPAs (up to [`MAX_BY_IPA`], a level-3 RTT's 2 MiB) is invalidated by
//! IPA with the instructions [`crate::tlbi`] computes, as [`choose`] chose at cold
//! boot: one `TLBI RIPAS2E1IS` for the 2 MiB on a CPU with FEAT_TLBIRANGE, one `TLBI
//! IPAS2E1IS` per 4 KiB page (512) without. Wider ranges invalidate the whole VMID
//! (`TLBI VMALLS12E1IS`): the stage 1 and combined entries of the VMID go in either
//! case (`TLBI VMALLE1IS`), so by IPA would keep only the realm's stage-2-only entries
//! outside the range, for more instructions: one range TLBI for a level-2 RTT's 1 GiB
//! plus the `TLBI VMALLE1IS` and its `DSB` beside the one `TLBI VMALLS12E1IS`, 64
//! range TLBIs for a level-1 RTT's 512 GiB.

use core::arch::asm;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::Stage2Scope;
use crate::sysreg::SysReg;
use crate::tlbi::{ipa_ops, page_operand, IpaOp, IpaTlbi};

use super::sysreg;

/// The largest range invalidated by IPA: the range of a level-3 RTT. Anything wider
/// invalidates the whole VMID.
const MAX_BY_IPA: u64 = 2 << 20;

/// `VTCR_EL2.DS` (bit 32, FEAT_LPA2; RES0 without): 52-bit addresses with the 4 KiB
/// granule, and a range TLBI's BaseADDR is IPA\[52:16\] ([`crate::tlbi`]).
const VTCR_DS: u64 = 1 << 32;

/// Whether the CPUs have FEAT_TLBIRANGE: set once, by [`choose`] at cold boot. Until
/// then, and if the boot CPU lacks it, ranges are invalidated page by page, which is
/// correct on every CPU (so a CPU that read it early would only be slower).
static BY_RANGE: AtomicBool = AtomicBool::new(false);

/// Reads ID_AA64ISAR0_EL1 of the CPU this runs on and chooses, for every CPU, the
/// invalidations by IPA [`invalidate_stage2`] uses; returns the choice. Called once, at
/// cold boot: every CPU is taken to have the boot CPU's features, as the RMM's own CPU
/// features are.
pub fn choose() -> IpaTlbi {
    let tlbi = IpaTlbi::from_isar0(sysreg::read(SysReg::ID_AA64ISAR0_EL1));
    BY_RANGE.store(tlbi == IpaTlbi::Range, Ordering::Relaxed);
    tlbi
}

/// `VTCR_EL2.VS` (bit 19): VMIDs are 16 bits wide (FEAT_VMID16).
const VTCR_VS: u64 = 1 << 19;

/// Invalidates what `scope` covers of the stage-2 (and combined stage 1) translations
/// of `vmid`, on every CPU of the Inner Shareable domain, and waits for completion,
/// with the invalidations by IPA [`choose`] chose.
pub fn invalidate_stage2(vmid: u16, scope: Stage2Scope) {
    let (vttbr, vtcr): (u64, u64);
    // SAFETY: reading VTTBR_EL2 and VTCR_EL2 has no effect.
    unsafe {
        asm!(
            "mrs {t}, vttbr_el2",
            "mrs {c}, vtcr_el2",
            t = out(reg) vttbr,
            c = out(reg) vtcr,
            options(nomem, nostack, preserves_flags)
        )
    }
    // A VMID above 255 is only compared as 16 bits with VTCR_EL2.VS set (the RMM
    // offers such VMIDs only with FEAT_VMID16).
    let tlbi_vtcr = if vmid > 0xFF { vtcr | VTCR_VS } else { vtcr };
    // SAFETY: VTTBR_EL2 and VTCR_EL2 control only the EL1&0 regime's stage 2, which
    // nothing uses while the RMM runs at EL2 (its own accesses go through its EL2
    // stage 1), so loading the VMID alone (BADDR 0) changes no translation the RMM
    // depends on; the barrier only orders the RMM's earlier stores.
    unsafe {
        asm!(
            "msr vtcr_el2, {c}",
            "msr vttbr_el2, {t}",
            "isb",
            "dsb ishst",
            c = in(reg) tlbi_vtcr,
            t = in(reg) u64::from(vmid) << 48,
            options(nostack, preserves_flags)
        )
    }
    match scope {
        Stage2Scope::Leaf { ipa, .. } => {
            ipas2e1is(page_operand(ipa));
            stage1_of_current_vmid();
        }
        Stage2Scope::Range { base, size } if size <= MAX_BY_IPA => {
            // BaseADDR follows VTCR_EL2.DS as written above, the value in force.
            by_ipa(base, size, tlbi_vtcr & VTCR_DS != 0);
            stage1_of_current_vmid();
        }
        Stage2Scope::Range { .. } | Stage2Scope::Vmid => {
            // SAFETY: TLB maintenance and barriers change no memory; dropped
            // translations are walked again.
            unsafe {
                asm!(
                    "tlbi vmalls12e1is",
                    "dsb ish",
                    "isb",
                    options(nostack, preserves_flags)
                )
            }
        }
    }
    // SAFETY: puts back the values read above.
    unsafe {
        asm!(
            "msr vttbr_el2, {t}",
            "msr vtcr_el2, {c}",
            "isb",
            t = in(reg) vttbr,
            c = in(reg) vtcr,
            options(nostack, preserves_flags)
        )
    }
}

/// The stage-2 invalidations by IPA of `[base, base + size)` ([`crate::tlbi::ipa_ops`]),
/// with the instructions [`choose`] chose; `ds` is `VTCR_EL2.DS`. Out of line, so
/// that [`invalidate_stage2`] and its callers compile as they did with the page loop:
/// its leaf and whole-VMID cases cost what they did.
#[inline(never)]
fn by_ipa(base: u64, size: u64, ds: bool) {
    let tlbi = if BY_RANGE.load(Ordering::Relaxed) {
        IpaTlbi::Range
    } else {
        IpaTlbi::PerPage
    };
    for op in ipa_ops(tlbi, base, size, ds) {
        match op {
            IpaOp::Page(xt) => ipas2e1is(xt),
            IpaOp::Range(xt) => ripas2e1is(xt),
        }
    }
}

/// `TLBI IPAS2E1IS, xt` ([`crate::tlbi::page_operand`]).
fn ipas2e1is(xt: u64) {
    // SAFETY: TLB maintenance changes no memory; dropped translations are walked again.
    unsafe { asm!("tlbi ipas2e1is, {}", in(reg) xt, options(nostack, preserves_flags)) }
}

/// `TLBI RIPAS2E1IS, xt` ([`crate::tlbi::range_operand`]); only on a CPU with
/// FEAT_TLBIRANGE (UNDEFINED without).
///
/// Written as the SYS instruction it is an alias of (Arm ARM C5.5.22: op0 0b01, op1
/// 0b100, CRn 0b1000, CRm 0b0000, op2 0b010, so `SYS #4, C8, C0, #2, Xt`): the
/// assembler accepts the `TLBI RIPAS2E1IS` name only with its `tlb-rmi` extension
/// enabled, which the firmware's target (Armv8.0) does not have, and the CPU feature is
/// chosen at run time, not assumed at build time.
fn ripas2e1is(xt: u64) {
    // SAFETY: TLB maintenance changes no memory; dropped translations are walked again.
    // The caller runs it only where ID_AA64ISAR0_EL1 reports FEAT_TLBIRANGE.
    unsafe { asm!("sys #4, c8, c0, #2, {}", in(reg) xt, options(nostack, preserves_flags)) }
}

/// Completes the stage-2 invalidations, then invalidates the stage 1 entries of the
/// current VMID (which may combine the stage-2 ones) and completes that.
fn stage1_of_current_vmid() {
    // SAFETY: barriers and TLB maintenance change no memory.
    unsafe {
        asm!(
            "dsb ish",
            "tlbi vmalle1is",
            "dsb ish",
            "isb",
            options(nostack, preserves_flags)
        )
    }
}
