//! The Normal world's own GIC virtual CPU interface state, kept aside while a REC runs.
//!
//! The NS hypervisor uses ICH_LR<n>_EL2, ICH_AP0R<n>_EL2/ICH_AP1R<n>_EL2, ICH_VMCR_EL2
//! and ICH_HCR_EL2 for its own guests. EL3 does not switch the list registers and the
//! active-priority registers between worlds (TF-A 2.12 switches ICH_HCR_EL2 and
//! ICH_VMCR_EL2 only; RMM-EL3 interface 2.0 drops even those), so the RMM saves all of
//! them on REC entry, before it loads the REC's, and restores them on REC exit, after
//! it has saved the REC's: SMCCC has the callee of RMI_REC_ENTER preserve them.

use crate::cpuif::GicCpuIf;
use crate::regs::HCR_EN;
use crate::{MAX_APRS, MAX_LRS};

/// The Normal world's ICH_*_EL2 values while a REC runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostGicState {
    lrs: [u64; MAX_LRS],
    ap0r: [u64; MAX_APRS],
    ap1r: [u64; MAX_APRS],
    vmcr: u64,
    hcr: u64,
}

impl HostGicState {
    /// Reads the Normal world's state from the CPU interface: every implemented list
    /// register (the last one included) and active-priority register, ICH_VMCR_EL2 and
    /// ICH_HCR_EL2; then disables the interface (ICH_HCR_EL2.En = 0) so that the REC's
    /// state is loaded into a disabled interface.
    pub fn save<C: GicCpuIf + ?Sized>(cpuif: &mut C) -> Self {
        let f = cpuif.features();
        let mut s = Self {
            lrs: [0; MAX_LRS],
            ap0r: [0; MAX_APRS],
            ap1r: [0; MAX_APRS],
            vmcr: 0,
            hcr: 0,
        };
        s.hcr = cpuif.read_hcr();
        cpuif.write_hcr(s.hcr & !HCR_EN);
        for (n, (ap0, ap1)) in s
            .ap0r
            .iter_mut()
            .zip(s.ap1r.iter_mut())
            .enumerate()
            .take(f.num_aprs())
        {
            *ap0 = cpuif.read_ap0r(n);
            *ap1 = cpuif.read_ap1r(n);
        }
        for (n, lr) in s.lrs.iter_mut().enumerate().take(f.num_lrs()) {
            *lr = cpuif.read_lr(n);
        }
        s.vmcr = cpuif.read_vmcr();
        s
    }

    /// Writes the state back, the interface disabled by the REC's save: active
    /// priorities, list registers, ICH_VMCR_EL2, then ICH_HCR_EL2 (which may enable
    /// it) last.
    pub fn restore<C: GicCpuIf + ?Sized>(&self, cpuif: &mut C) {
        let f = cpuif.features();
        for (n, (&ap0, &ap1)) in self
            .ap0r
            .iter()
            .zip(&self.ap1r)
            .enumerate()
            .take(f.num_aprs())
        {
            cpuif.write_ap0r(n, ap0);
            cpuif.write_ap1r(n, ap1);
        }
        for (n, &lr) in self.lrs.iter().enumerate().take(f.num_lrs()) {
            cpuif.write_lr(n, lr);
        }
        cpuif.write_vmcr(self.vmcr);
        cpuif.write_hcr(self.hcr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{SimConfig, SimGicCpuIf};
    use crate::VgicState;

    /// A host state survives a REC's restore, run and save bit-exact, and nothing is
    /// written while the interface is enabled.
    #[test]
    fn round_trip_around_a_rec() {
        let mut cpuif = SimGicCpuIf::new(SimConfig::new(16)).unwrap();
        for n in 0..16 {
            cpuif.write_lr(
                n,
                1 << 62 | 1 << 60 | (0x80 - 8 * n as u64) << 48 | (100 + n as u64),
            );
        }
        cpuif.write_ap1r(0, 1 << 5);
        cpuif.write_vmcr(0xF0 << 24 | 1 << 1);
        cpuif.write_hcr(HCR_EN | 1 << 14);
        let before = (0..16)
            .map(|n| cpuif.read_lr(n))
            .collect::<std::vec::Vec<_>>();
        let writes = cpuif.writes_while_enabled();
        let host = HostGicState::save(&mut cpuif);
        let rec = VgicState::new();
        rec.restore(&mut cpuif);
        assert_eq!(cpuif.read_lr(15), 0, "the REC's list registers are loaded");
        let mut rec = rec;
        rec.save(&mut cpuif);
        host.restore(&mut cpuif);
        let after = (0..16)
            .map(|n| cpuif.read_lr(n))
            .collect::<std::vec::Vec<_>>();
        assert_eq!(after, before);
        assert_eq!(cpuif.read_ap1r(0), 1 << 5);
        assert_eq!(cpuif.read_vmcr(), 0xF0 << 24 | 1 << 1);
        assert_eq!(cpuif.read_hcr(), HCR_EN | 1 << 14);
        assert_eq!(
            cpuif.writes_while_enabled(),
            writes,
            "no write while enabled"
        );
    }
}
