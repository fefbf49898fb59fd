//! Per-REC GIC state: load from the host, restore/save around a realm run,
//! report to the host.

use crate::cpuif::GicCpuIf;
use crate::regs::{HCR_EN, HCR_EXIT_MASK, HCR_HOST_MASK, HCR_REC_TEMPLATE};
use crate::validate::ValidatedState;
use crate::{MAX_APRS, MAX_LRS};

/// The saved GIC virtual CPU interface state of one REC.
///
/// DEN0137 1.0, REC object: the RMM keeps the realm's `ICH_LR<n>_EL2`,
/// `ICH_AP0R<n>_EL2`/`ICH_AP1R<n>_EL2`, ICH_VMCR_EL2, ICH_HCR_EL2 and
/// ICH_MISR_EL2 while the REC is not running.
///
/// Invariant: `lrs[n]` is zero for every `n` at or above the number of
/// implemented List registers, since only `new` writes those entries (this
/// assumes one feature set for the whole system, as read at boot).
#[repr(C)]
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    zerocopy::FromBytes,
    zerocopy::IntoBytes,
    zerocopy::KnownLayout,
    zerocopy::Immutable,
)]
pub struct VgicState {
    lrs: [u64; MAX_LRS],
    ap0r: [u64; MAX_APRS],
    ap1r: [u64; MAX_APRS],
    vmcr: u64,
    hcr: u64,
    misr: u64,
}

/// The GIC fields of the REC exit record.
///
/// DEN0137 1.0, RmiRecExit: gicv3_hcr, gicv3_lrs, gicv3_misr, gicv3_vmcr.
/// Active priorities are never part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitReport {
    /// ICH_HCR_EL2 masked to EOIcount and the host-writable bits
    /// ([`crate::regs::HCR_EXIT_MASK`]).
    pub hcr: u64,
    /// `ICH_LR<n>_EL2` for implemented LRs; zero above.
    pub lrs: [u64; MAX_LRS],
    /// ICH_MISR_EL2 as read at exit.
    pub misr: u64,
    /// ICH_VMCR_EL2 as read at exit.
    pub vmcr: u64,
}

impl VgicState {
    /// State of a new REC: ICH_HCR_EL2 = En | vSGIEOICount | DVIM, everything
    /// else zero. DEN0137 1.0, RMI_REC_CREATE.
    pub const fn new() -> Self {
        Self {
            lrs: [0; MAX_LRS],
            ap0r: [0; MAX_APRS],
            ap1r: [0; MAX_APRS],
            vmcr: 0,
            hcr: HCR_REC_TEMPLATE,
            misr: 0,
        }
    }

    /// Takes the host's validated values on REC entry: the List registers of
    /// implemented LRs, and the host-writable ICH_HCR_EL2 bits. The other HCR
    /// bits keep the REC's value (the template, then whatever was saved at
    /// the last exit, including EOIcount, as the reference implementation
    /// does). DEN0137 1.0, RMI_REC_ENTER.
    pub fn load(&mut self, validated: ValidatedState) {
        let host = validated.lrs().iter().take(validated.num_lrs());
        for (saved, &value) in self.lrs.iter_mut().zip(host) {
            *saved = value;
        }
        self.hcr = (self.hcr & !HCR_HOST_MASK) | (validated.hcr() & HCR_HOST_MASK);
    }

    /// Writes the state to the CPU interface before entering the realm:
    /// active priorities, then every implemented List register (0 up to and
    /// including the last one), then ICH_VMCR_EL2, then ICH_HCR_EL2, so the
    /// interface is enabled only once fully loaded (the order of
    /// rmm-1.0-facts section 6). The active-priority registers get exactly
    /// the values saved at the last exit (zero for a new REC), the only
    /// values the GICv3 architecture allows software to write to
    /// `ICH_AP0R<n>_EL2`/`ICH_AP1R<n>_EL2`. DEN0137 1.0, REC entry.
    pub fn restore<C: GicCpuIf + ?Sized>(&self, cpuif: &mut C) {
        let features = cpuif.features();
        let num_aprs = features.num_aprs();
        for (n, (&ap0, &ap1)) in self.ap0r.iter().zip(&self.ap1r).enumerate().take(num_aprs) {
            cpuif.write_ap0r(n, ap0);
            cpuif.write_ap1r(n, ap1);
        }
        for (n, &lr) in self.lrs.iter().enumerate().take(features.num_lrs()) {
            cpuif.write_lr(n, lr);
        }
        cpuif.write_vmcr(self.vmcr);
        cpuif.write_hcr(self.hcr);
    }

    /// Reads the state back after a realm exit: active priorities, List
    /// registers, ICH_VMCR_EL2, ICH_HCR_EL2, ICH_MISR_EL2; then disables the
    /// interface (ICH_HCR_EL2.En = 0) and clears the active-priority registers
    /// so that the realm's running priority is not left for the host to read.
    /// DEN0137 1.0, REC exit.
    pub fn save<C: GicCpuIf + ?Sized>(&mut self, cpuif: &mut C) {
        let features = cpuif.features();
        let num_aprs = features.num_aprs();
        for (n, (ap0, ap1)) in self
            .ap0r
            .iter_mut()
            .zip(self.ap1r.iter_mut())
            .enumerate()
            .take(num_aprs)
        {
            *ap0 = cpuif.read_ap0r(n);
            *ap1 = cpuif.read_ap1r(n);
        }
        for (n, lr) in self.lrs.iter_mut().enumerate().take(features.num_lrs()) {
            *lr = cpuif.read_lr(n);
        }
        self.vmcr = cpuif.read_vmcr();
        self.hcr = cpuif.read_hcr();
        self.misr = cpuif.read_misr();
        cpuif.write_hcr(self.hcr & !HCR_EN);
        for n in 0..num_aprs {
            cpuif.write_ap0r(n, 0);
            cpuif.write_ap1r(n, 0);
        }
    }

    /// The GIC part of the REC exit record. DEN0137 1.0, RmiRecExit:
    /// gicv3_hcr (EOIcount and host-writable bits only), gicv3_lrs,
    /// gicv3_misr, gicv3_vmcr.
    pub fn exit_report(&self) -> ExitReport {
        ExitReport {
            hcr: self.hcr & HCR_EXIT_MASK,
            lrs: self.lrs,
            misr: self.misr,
            vmcr: self.vmcr,
        }
    }

    /// The saved ICH_HCR_EL2 value (for the RMM's own use, e.g. tracing).
    pub const fn hcr(&self) -> u64 {
        self.hcr
    }
}

impl Default for VgicState {
    fn default() -> Self {
        Self::new()
    }
}
