//! `RmiRecExit` (DEN0137 1.0, B4.4.16): the second half (offset 0x800) of `RmiRecRun`,
//! written by the RMM on return from RMI_REC_ENTER. Offsets and widths checked against
//! the spec table and Linux `rmi_smc.h` `struct rec_exit`. "Unused bits of the
//! RmiRecExit structure MBZ": the RMM must zero every `_padN` byte (start from
//! [`RmiRecExit::default`]).
//!
//! Widths that differ from a plain `u64`: `exit_reason` is an 8-bit `RmiRecExitReason`,
//! `ripas_value` an 8-bit `RmiRipas`, `imm` is **Bits16** (spec table B4.4.16; Linux
//! declares `u16 imm`; the reference TF-RMM handles it as 32 bits, the spec wins) and
//! `pmu_ovf_status` an 8-bit `RmiPmuOverflowStatus`. With the MBZ padding, reading
//! any of them as a little-endian `u64` gives the same value.

use crate::rec_run::{REC_GIC_NUM_LRS, REC_RUN_GPRS};
use core::fmt;
use core::mem::{offset_of, size_of};
use static_assertions::const_assert_eq;
use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};

/// DEN0137 1.0, B4.4.16 `RmiRecExit` (2048 bytes).
#[derive(Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct RmiRecExit {
    /// 0x000 `exit_reason`: `RmiRecExitReason` (8 bits).
    pub exit_reason: u8,
    _pad0: [u8; 0xFF],
    /// 0x100 `esr` (Bits64): Exception Syndrome Register.
    pub esr: u64,
    /// 0x108 `far` (Bits64): Fault Address Register.
    pub far: u64,
    /// 0x110 `hpfar` (Bits64): Hypervisor IPA Fault Address Register.
    pub hpfar: u64,
    _pad1: [u8; 0x200 - 0x118],
    /// 0x200 `gprs[0..31]` (Bits64): x0..x30 values reported to the Host.
    pub gprs: [u64; REC_RUN_GPRS],
    _pad2: [u8; 0x8],
    /// 0x300 `gicv3_hcr` (Bits64): GICv3 Hypervisor Control Register value.
    pub gicv3_hcr: u64,
    /// 0x308 `gicv3_lrs[0..16]` (Bits64): GICv3 List Register values.
    pub gicv3_lrs: [u64; REC_GIC_NUM_LRS],
    /// 0x388 `gicv3_misr` (Bits64): GICv3 Maintenance Interrupt State Register value.
    pub gicv3_misr: u64,
    /// 0x390 `gicv3_vmcr` (Bits64): GICv3 Virtual Machine Control Register value.
    pub gicv3_vmcr: u64,
    _pad3: [u8; 0x400 - 0x398],
    /// 0x400 `cntp_ctl` (Bits64): EL1 physical timer control.
    pub cntp_ctl: u64,
    /// 0x408 `cntp_cval` (Bits64): EL1 physical timer compare value.
    pub cntp_cval: u64,
    /// 0x410 `cntv_ctl` (Bits64): EL1 virtual timer control.
    pub cntv_ctl: u64,
    /// 0x418 `cntv_cval` (Bits64): EL1 virtual timer compare value.
    pub cntv_cval: u64,
    _pad4: [u8; 0x500 - 0x420],
    /// 0x500 `ripas_base` (Bits64): base of the pending RIPAS change.
    pub ripas_base: u64,
    /// 0x508 `ripas_top` (Bits64): top of the pending RIPAS change.
    pub ripas_top: u64,
    /// 0x510 `ripas_value`: `RmiRipas` (8 bits) of the pending RIPAS change.
    pub ripas_value: u8,
    _pad5: [u8; 0x600 - 0x511],
    /// 0x600 `imm` (Bits16): Host call immediate value.
    pub imm: u16,
    _pad6: [u8; 0x700 - 0x602],
    /// 0x700 `pmu_ovf_status`: `RmiPmuOverflowStatus` (8 bits).
    pub pmu_ovf_status: u8,
    _pad7: [u8; 0x800 - 0x701],
}

const_assert_eq!(size_of::<RmiRecExit>(), 0x800);
const_assert_eq!(offset_of!(RmiRecExit, exit_reason), 0x000);
const_assert_eq!(offset_of!(RmiRecExit, esr), 0x100);
const_assert_eq!(offset_of!(RmiRecExit, far), 0x108);
const_assert_eq!(offset_of!(RmiRecExit, hpfar), 0x110);
const_assert_eq!(offset_of!(RmiRecExit, gprs), 0x200);
const_assert_eq!(offset_of!(RmiRecExit, gicv3_hcr), 0x300);
const_assert_eq!(offset_of!(RmiRecExit, gicv3_lrs), 0x308);
const_assert_eq!(offset_of!(RmiRecExit, gicv3_misr), 0x388);
const_assert_eq!(offset_of!(RmiRecExit, gicv3_vmcr), 0x390);
const_assert_eq!(offset_of!(RmiRecExit, cntp_ctl), 0x400);
const_assert_eq!(offset_of!(RmiRecExit, cntp_cval), 0x408);
const_assert_eq!(offset_of!(RmiRecExit, cntv_ctl), 0x410);
const_assert_eq!(offset_of!(RmiRecExit, cntv_cval), 0x418);
const_assert_eq!(offset_of!(RmiRecExit, ripas_base), 0x500);
const_assert_eq!(offset_of!(RmiRecExit, ripas_top), 0x508);
const_assert_eq!(offset_of!(RmiRecExit, ripas_value), 0x510);
const_assert_eq!(offset_of!(RmiRecExit, imm), 0x600);
const_assert_eq!(offset_of!(RmiRecExit, pmu_ovf_status), 0x700);

impl Default for RmiRecExit {
    /// All zero (every MBZ byte zero).
    fn default() -> Self {
        Self::new_zeroed()
    }
}

impl fmt::Debug for RmiRecExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RmiRecExit")
            .field("exit_reason", &self.exit_reason)
            .field("esr", &self.esr)
            .field("far", &self.far)
            .field("hpfar", &self.hpfar)
            .field("gprs", &self.gprs)
            .field("gicv3_hcr", &self.gicv3_hcr)
            .field("gicv3_lrs", &self.gicv3_lrs)
            .field("gicv3_misr", &self.gicv3_misr)
            .field("gicv3_vmcr", &self.gicv3_vmcr)
            .field("cntp_ctl", &self.cntp_ctl)
            .field("cntp_cval", &self.cntp_cval)
            .field("cntv_ctl", &self.cntv_ctl)
            .field("cntv_cval", &self.cntv_cval)
            .field("ripas_base", &self.ripas_base)
            .field("ripas_top", &self.ripas_top)
            .field("ripas_value", &self.ripas_value)
            .field("imm", &self.imm)
            .field("pmu_ovf_status", &self.pmu_ovf_status)
            .finish_non_exhaustive()
    }
}
