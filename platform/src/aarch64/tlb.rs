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

use core::arch::asm;

use crate::arch::Stage2Scope;

/// The largest range invalidated page by page (one `TLBI IPAS2E1IS` per 4 KiB): the
/// range of a level-3 RTT. Anything wider invalidates the whole VMID.
const MAX_PAGEWISE: u64 = 2 << 20;

/// `VTCR_EL2.VS` (bit 19): VMIDs are 16 bits wide (FEAT_VMID16).
const VTCR_VS: u64 = 1 << 19;

/// Invalidates what `scope` covers of the stage-2 (and combined stage 1) translations
/// of `vmid`, on every CPU of the Inner Shareable domain, and waits for completion.
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
            ipas2e1is(ipa);
            stage1_of_current_vmid();
        }
        Stage2Scope::Range { base, size } if size <= MAX_PAGEWISE => {
            let mut ipa = base & !0xFFF;
            while ipa < base + size {
                ipas2e1is(ipa);
                ipa += 0x1000;
            }
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

/// `TLBI IPAS2E1IS` for the page holding `ipa` (operand: IPA\[51:12\] in bits \[39:0\], TTL
/// 0: no level hint).
fn ipas2e1is(ipa: u64) {
    let xt = (ipa >> 12) & ((1 << 40) - 1);
    // SAFETY: TLB maintenance changes no memory; dropped translations are walked again.
    unsafe { asm!("tlbi ipas2e1is, {}", in(reg) xt, options(nostack, preserves_flags)) }
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
