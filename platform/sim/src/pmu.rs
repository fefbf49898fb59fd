//! The Performance Monitors (PMUv3) of a simulated CPU, as far as whether and where
//! they count (Arm ARM, D13 "The Performance Monitors Extension" and the PMCR_EL0,
//! PMCNTENSET_EL0, PMCCFILTR_EL0, PMEVTYPER<n>_EL0, MDCR_EL2 field descriptions).
//!
//! Every counter counts processor cycles (the cycle counter, and each event counter as
//! if programmed with CPU_CYCLES): the simulation calls [`tick`] once per step of the
//! code running on the CPU, with its exception level. Every step runs in Realm state:
//! a realm's EL1 and EL0 steps (each instruction of a realm program), the RMM's R-EL2
//! steps (each of its accesses to the CPU). The Normal world's own code is not
//! simulated; its view is the registers it programs and reads between RMI calls.
//!
//! A counter counts a step when all of these hold:
//! - it is enabled: PMCNTENSET_EL0 bit (31 for the cycle counter), and PMCR_EL0.E, or
//!   for an event counter at or above MDCR_EL2.HPMN, MDCR_EL2.HPME;
//! - counting is not prohibited at EL2 (a step of the RMM): MDCR_EL2.HPMD (FEAT_PMUv3p1)
//!   for the event counters below HPMN and, with PMCR_EL0.DP, the cycle counter;
//!   MDCR_EL2.HCCD (FEAT_PMUv3p5) for the cycle counter;
//! - its filter (PMCCFILTR_EL0, PMEVTYPER<n>_EL0) counts the EL in Realm state: EL1
//!   when P and RLK are 0, EL0 when U and RLU are 0, EL2 when NSH is 1 and RLH 0.

use platform::sysreg::{SysReg, SysRegEncoding};

use super::cpu::SysRegFile;

/// PMCCNTR_EL0, the cycle counter.
pub const PMCCNTR_EL0: SysRegEncoding = SysRegEncoding::new(3, 3, 9, 13, 0);
/// PMCCFILTR_EL0, the cycle counter's filter.
pub const PMCCFILTR_EL0: SysRegEncoding = SysRegEncoding::new(3, 3, 14, 15, 7);

/// PMEVCNTR<n>_EL0 (n < 31).
pub const fn pmevcntr(n: u8) -> SysRegEncoding {
    SysRegEncoding::new(3, 3, 14, 8 + n / 8, n % 8)
}

/// PMEVTYPER<n>_EL0 (n < 31).
pub const fn pmevtyper(n: u8) -> SysRegEncoding {
    SysRegEncoding::new(3, 3, 14, 12 + n / 8, n % 8)
}

/// PMCR_EL0.E \[0\]: counters enabled (the cycle counter and those below HPMN).
pub const PMCR_E: u64 = 1;
/// PMCR_EL0.DP \[5\]: the cycle counter stops where event counting is prohibited.
pub const PMCR_DP: u64 = 1 << 5;
/// MDCR_EL2.HPMN \[4:0\].
const MDCR_HPMN: u64 = 0x1F;
/// MDCR_EL2.HPME \[7\]: the counters at or above HPMN enabled.
const MDCR_HPME: u64 = 1 << 7;
/// MDCR_EL2.HPMD \[17\] (FEAT_PMUv3p1): event counting prohibited at EL2.
const MDCR_HPMD: u64 = 1 << 17;
/// MDCR_EL2.HCCD \[23\] (FEAT_PMUv3p5): cycle counting prohibited at EL2.
const MDCR_HCCD: u64 = 1 << 23;

/// Filter fields (PMCCFILTR_EL0 and PMEVTYPER<n>_EL0): P \[31\], U \[30\], NSH \[27\],
/// RLK \[22\], RLU \[21\], RLH \[20\] (FEAT_RME).
pub mod filter {
    /// P: do not count EL1.
    pub const P: u64 = 1 << 31;
    /// U: do not count EL0.
    pub const U: u64 = 1 << 30;
    /// NSK: Non-secure EL1 counted only when equal to P.
    pub const NSK: u64 = 1 << 29;
    /// NSU: Non-secure EL0 counted only when equal to U.
    pub const NSU: u64 = 1 << 28;
    /// NSH: count EL2.
    pub const NSH: u64 = 1 << 27;
    /// M: EL3 counted only when equal to P.
    pub const M: u64 = 1 << 26;
    /// RLK: Realm EL1 counted only when equal to P.
    pub const RLK: u64 = 1 << 22;
    /// RLU: Realm EL0 counted only when equal to U.
    pub const RLU: u64 = 1 << 21;
    /// RLH: Realm EL2 counted only when not equal to NSH.
    pub const RLH: u64 = 1 << 20;
}

/// The PMU version (ID_AA64DFR0_EL1.PMUVer \[11:8\]): 0 none, 0xF IMPLEMENTATION
/// DEFINED (not PMUv3).
fn pmuver(cpu: &SysRegFile) -> u64 {
    cpu.read(SysReg::ID_AA64DFR0_EL1) >> 8 & 0xF
}

/// Whether a filter counts a step at `el` in Realm state.
fn filter_counts(f: u64, el: u64) -> bool {
    let bit = |b: u64| f & b != 0;
    match el {
        0 => !bit(filter::U) && !bit(filter::RLU),
        1 => !bit(filter::P) && !bit(filter::RLK),
        _ => bit(filter::NSH) && !bit(filter::RLH),
    }
}

/// One step of the code running on `cpu` at `el` (0, 1 or 2) in Realm state: every
/// counter that counts it ([`self`]) increments.
pub fn tick(cpu: &SysRegFile, el: u64) {
    let ver = pmuver(cpu);
    if ver == 0 || ver == 0xF {
        return;
    }
    let pmcr = cpu.read(SysReg::PMCR_EL0);
    let mdcr = cpu.read(SysReg::MDCR_EL2);
    let enabled = cpu.read(SysReg::PMCNTENSET_EL0);
    let hpmd = ver >= 0b0100 && mdcr & MDCR_HPMD != 0;
    let hccd = ver >= 0b0110 && mdcr & MDCR_HCCD != 0;
    let bump = |enc: SysRegEncoding| cpu.write_encoding(enc, cpu.read_encoding(enc) + 1);
    let cycle_prohibited = el == 2 && (hccd || hpmd && pmcr & PMCR_DP != 0);
    if pmcr & PMCR_E != 0
        && enabled >> 31 & 1 == 1
        && !cycle_prohibited
        && filter_counts(cpu.read_encoding(PMCCFILTR_EL0), el)
    {
        bump(PMCCNTR_EL0);
    }
    let n = (pmcr >> 11 & 0x1F) as u8;
    let hpmn = mdcr & MDCR_HPMN;
    for i in 0..n.min(31) {
        let first_range = u64::from(i) < hpmn;
        let on = if first_range {
            pmcr & PMCR_E != 0
        } else {
            mdcr & MDCR_HPME != 0
        };
        if on
            && enabled >> i & 1 == 1
            && !(el == 2 && hpmd && first_range)
            && filter_counts(cpu.read_encoding(pmevtyper(i)), el)
        {
            bump(pmevcntr(i));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SysRegDefaults;

    #[test]
    fn filters_and_prohibition() {
        let cpu = SysRegFile::new(&SysRegDefaults::default(), 0);
        cpu.write(SysReg::PMCR_EL0, 8 << 11 | PMCR_E);
        cpu.write(SysReg::PMCNTENSET_EL0, 1 << 31 | 0b11);
        cpu.write(SysReg::MDCR_EL2, 8);
        cpu.write_encoding(PMCCFILTR_EL0, 0);
        cpu.write_encoding(pmevtyper(0), filter::P | filter::U | filter::NSH);
        cpu.write_encoding(pmevtyper(1), filter::NSH | filter::RLH);
        tick(&cpu, 1);
        tick(&cpu, 0);
        tick(&cpu, 2);
        assert_eq!(cpu.read_encoding(PMCCNTR_EL0), 2, "EL1 and EL0, not EL2");
        assert_eq!(cpu.read_encoding(pmevcntr(0)), 1, "EL2 only");
        assert_eq!(
            cpu.read_encoding(pmevcntr(1)),
            2,
            "RLH: EL1, EL0, not R-EL2"
        );
        cpu.write(SysReg::MDCR_EL2, 8 | MDCR_HPMD | MDCR_HCCD);
        cpu.write_encoding(PMCCFILTR_EL0, filter::NSH);
        tick(&cpu, 2);
        assert_eq!(cpu.read_encoding(PMCCNTR_EL0), 2, "HCCD");
        assert_eq!(cpu.read_encoding(pmevcntr(0)), 1, "HPMD");
        cpu.write(SysReg::PMCNTENCLR_EL0, 1 << 31);
        cpu.write(SysReg::MDCR_EL2, 8);
        tick(&cpu, 2);
        assert_eq!(cpu.read_encoding(PMCCNTR_EL0), 2, "disabled");
        assert_eq!(cpu.read(SysReg::PMCNTENSET_EL0), 0b11);
        assert_eq!(cpu.read(SysReg::PMCNTENCLR_EL0), 0b11);
    }
}
