//! Helpers shared by the integration tests. List register values are built
//! from raw bit positions (GICv3 architecture, ICH_LR<n>_EL2) rather than from
//! the crate's own field definitions, so the tests check those too.
#![allow(dead_code)]

use vgic::sim::{SimConfig, SimGicCpuIf};
use vgic::{GicFeatures, MAX_LRS};

pub const STATE_SHIFT: u32 = 62;
pub const INVALID: u64 = 0;
pub const PENDING: u64 = 1 << STATE_SHIFT;
pub const ACTIVE: u64 = 2 << STATE_SHIFT;
pub const PENDING_ACTIVE: u64 = 3 << STATE_SHIFT;
pub const STATE_MASK: u64 = 3 << STATE_SHIFT;
pub const HW: u64 = 1 << 61;
pub const GROUP1: u64 = 1 << 60;
pub const EOI: u64 = 1 << 41;
pub const PRIORITY_SHIFT: u32 = 48;

// ICH_HCR_EL2 bits.
pub const HCR_EN: u64 = 1 << 0;
pub const HCR_UIE: u64 = 1 << 1;
pub const HCR_LRENPIE: u64 = 1 << 2;
pub const HCR_NPIE: u64 = 1 << 3;
pub const HCR_VGRP0EIE: u64 = 1 << 4;
pub const HCR_VGRP0DIE: u64 = 1 << 5;
pub const HCR_VGRP1EIE: u64 = 1 << 6;
pub const HCR_VGRP1DIE: u64 = 1 << 7;
pub const HCR_VSGIEOICOUNT: u64 = 1 << 8;
pub const HCR_TDIR: u64 = 1 << 14;
pub const HCR_DVIM: u64 = 1 << 15;
pub const HCR_EOICOUNT_SHIFT: u32 = 27;

// ICH_MISR_EL2 bits.
pub const MISR_EOI: u64 = 1 << 0;
pub const MISR_U: u64 = 1 << 1;
pub const MISR_LRENP: u64 = 1 << 2;
pub const MISR_NP: u64 = 1 << 3;
pub const MISR_VGRP0E: u64 = 1 << 4;
pub const MISR_VGRP0D: u64 = 1 << 5;
pub const MISR_VGRP1E: u64 = 1 << 6;
pub const MISR_VGRP1D: u64 = 1 << 7;

// ICH_VMCR_EL2 bits.
pub const VMCR_VENG0: u64 = 1 << 0;
pub const VMCR_VENG1: u64 = 1 << 1;
pub const VMCR_VPMR_SHIFT: u32 = 24;

/// A List register value: state | group | priority | vINTID.
pub fn lr(state: u64, group1: bool, priority: u8, vintid: u32) -> u64 {
    state
        | if group1 { GROUP1 } else { 0 }
        | (u64::from(priority) << PRIORITY_SHIFT)
        | u64::from(vintid)
}

/// A pending Group 1 interrupt at priority 0xa0.
pub fn pending(vintid: u32) -> u64 {
    lr(PENDING, true, 0xa0, vintid)
}

pub fn features(num_lrs: u8, pri_bits: u8, id_bits: u8, ext_range: bool) -> GicFeatures {
    GicFeatures::new(num_lrs, pri_bits, 5, id_bits, ext_range).expect("valid features")
}

pub fn sim(config: SimConfig) -> SimGicCpuIf {
    SimGicCpuIf::new(config).expect("valid sim config")
}

pub fn lrs_with(entries: &[(usize, u64)]) -> [u64; MAX_LRS] {
    let mut lrs = [0u64; MAX_LRS];
    for &(i, v) in entries {
        lrs[i] = v;
    }
    lrs
}
