//! End-to-end interrupt injection through the RMM path against the model:
//! host fills LRs -> validate/load/restore -> the realm acknowledges and EOIs
//! through the ICV_* operations -> save -> exit report.

mod common;

use common::*;
use vgic::sim::{DirOutcome, Group, SimConfig, SimGicCpuIf};
use vgic::{validate, ExitReport, GicCpuIf, VgicError, VgicState, MAX_LRS};

/// One REC on one simulated CPU.
struct Rec {
    cpu: SimGicCpuIf,
    state: VgicState,
}

impl Rec {
    fn new(config: SimConfig) -> Self {
        Self {
            cpu: sim(config),
            state: VgicState::new(),
        }
    }

    /// REC entry: validate the host's values, load, restore.
    fn enter(&mut self, hcr: u64, lrs: &[u64; MAX_LRS]) -> Result<(), VgicError> {
        let v = validate(&self.cpu.features(), hcr, lrs)?;
        self.state.load(v);
        self.state.restore(&mut self.cpu);
        Ok(())
    }

    /// REC exit: save, report.
    fn exit(&mut self) -> ExitReport {
        self.state.save(&mut self.cpu);
        assert_eq!(self.cpu.fault(), None);
        assert_eq!(self.cpu.writes_while_enabled(), 0);
        self.state.exit_report()
    }

    /// A first run in which the realm enables Group 1 and opens its priority
    /// mask, as a guest's GIC driver does at boot.
    fn boot_realm(&mut self) -> ExitReport {
        self.enter(0, &[0; MAX_LRS]).unwrap();
        self.cpu.set_group_enable(Group::Group1, true);
        self.cpu.set_priority_mask(0xff);
        self.exit()
    }
}

/// VMCR after boot_realm with 5 priority bits: VPMR = 0xf8, VENG1.
const BOOTED_VMCR: u64 = (0xf8 << VMCR_VPMR_SHIFT) | VMCR_VENG1;

#[test]
fn realm_acknowledges_and_eois_a_host_injected_interrupt() {
    let mut rec = Rec::new(SimConfig::new(4));
    let boot = rec.boot_realm();
    assert_eq!(boot.vmcr, BOOTED_VMCR);
    assert_eq!(boot.misr, 0);
    assert_eq!(boot.hcr, 0);

    // The host injects vINTID 27 (a PPI) as pending Group 1.
    let injected = lr(PENDING, true, 0xa0, 27);
    rec.enter(HCR_NPIE | HCR_UIE, &lrs_with(&[(0, injected)]))
        .unwrap();
    assert_eq!(rec.cpu.lr(0), injected);
    assert_eq!(rec.cpu.signalled(), Some(Group::Group1));
    assert_eq!(rec.cpu.highest_pending(Group::Group1), Some(27));
    assert_eq!(rec.cpu.highest_pending(Group::Group0), None);
    // One valid LR (U), one pending (no NP).
    assert_eq!(rec.cpu.misr(), MISR_U);

    assert_eq!(rec.cpu.acknowledge(Group::Group0), None, "wrong group");
    assert_eq!(rec.cpu.acknowledge(Group::Group1), Some(27));
    assert_eq!(rec.cpu.lr(0), lr(ACTIVE, true, 0xa0, 27));
    assert_eq!(rec.cpu.running_priority(), 0xa0);
    assert_eq!(rec.cpu.ap1r(0), 1 << (0xa0 >> 3));
    assert_eq!(
        rec.cpu.acknowledge(Group::Group1),
        None,
        "nothing else pending"
    );
    assert_eq!(rec.cpu.signalled(), None);
    assert_eq!(rec.cpu.misr(), MISR_U | MISR_NP);

    rec.cpu.eoi(Group::Group1, 27);
    assert_eq!(rec.cpu.lr(0), lr(INVALID, true, 0xa0, 27));
    assert_eq!(rec.cpu.running_priority(), 0xff);
    assert_eq!(rec.cpu.ap1r(0), 0);

    let report = rec.exit();
    assert_eq!(report.lrs[0], lr(INVALID, true, 0xa0, 27));
    assert_eq!(&report.lrs[1..], &[0; MAX_LRS - 1]);
    // NPIE: nothing pending -> NP; UIE: no valid LR -> U.
    assert_eq!(report.misr, MISR_NP | MISR_U);
    assert_eq!(report.hcr, HCR_NPIE | HCR_UIE);
    assert_eq!(report.vmcr, BOOTED_VMCR);
    // After exit the interface is disabled: the realm cannot take anything.
    assert_eq!(rec.cpu.hcr() & HCR_EN, 0);
}

#[test]
fn misr_reflects_only_the_enables_the_host_set() {
    let mut rec = Rec::new(SimConfig::new(4));
    rec.boot_realm();
    rec.enter(0, &lrs_with(&[(0, pending(40))])).unwrap();
    rec.cpu.acknowledge(Group::Group1);
    rec.cpu.eoi(Group::Group1, 40);
    assert_eq!(rec.exit().misr, 0, "no enables, no maintenance status");
}

#[test]
fn eoi_bit_raises_the_eoi_maintenance_status() {
    let mut rec = Rec::new(SimConfig::new(4));
    rec.boot_realm();
    rec.enter(0, &lrs_with(&[(0, pending(33) | EOI)])).unwrap();
    assert_eq!(rec.cpu.eisr(), 0);
    assert_eq!(rec.cpu.elrsr(), 0b1110);
    assert_eq!(rec.cpu.acknowledge(Group::Group1), Some(33));
    rec.cpu.eoi(Group::Group1, 33);
    assert_eq!(rec.cpu.eisr(), 0b0001);
    assert_eq!(rec.cpu.elrsr(), 0b1110, "LR0 still owed an EOI maintenance");
    assert!(rec.cpu.maintenance_interrupt());
    let report = rec.exit();
    assert_eq!(report.misr, MISR_EOI);
    assert_eq!(report.lrs[0], lr(INVALID, true, 0xa0, 33) | EOI);
}

#[test]
fn unmatched_eoi_increments_eoicount_and_raises_lrenp() {
    let mut rec = Rec::new(SimConfig::new(4));
    rec.boot_realm();

    // Run 1: the realm acknowledges vINTID 40 and is interrupted before EOI.
    rec.enter(HCR_LRENPIE, &lrs_with(&[(0, pending(40))]))
        .unwrap();
    assert_eq!(rec.cpu.acknowledge(Group::Group1), Some(40));
    let report = rec.exit();
    assert_eq!(report.lrs[0], lr(ACTIVE, true, 0xa0, 40));
    assert_eq!(report.hcr, HCR_LRENPIE);
    assert_eq!(report.misr, 0);

    // Run 2: the host reclaimed the LR (still active, kept in its memory).
    // The RMM restores the realm's active priority, so the EOI drops it and,
    // finding no LR, counts it.
    rec.enter(HCR_LRENPIE, &[0; MAX_LRS]).unwrap();
    assert_eq!(rec.cpu.running_priority(), 0xa0);
    rec.cpu.eoi(Group::Group1, 40);
    assert_eq!(rec.cpu.running_priority(), 0xff);
    assert!(rec.cpu.maintenance_interrupt());
    let report = rec.exit();
    assert_eq!(report.hcr, HCR_LRENPIE | (1 << HCR_EOICOUNT_SHIFT));
    assert_eq!(report.misr, MISR_LRENP);

    // Run 3: EOIcount is not host-writable; it stays in the REC.
    rec.enter(0, &[0; MAX_LRS]).unwrap();
    let report = rec.exit();
    assert_eq!(report.hcr, 1 << HCR_EOICOUNT_SHIFT);
    assert_eq!(report.misr, 0, "LRENP needs LRENPIE");
}

#[test]
fn unmatched_vsgi_eoi_is_not_counted_with_the_rec_template() {
    let mut rec = Rec::new(SimConfig::new(4));
    rec.boot_realm();
    rec.enter(HCR_LRENPIE, &lrs_with(&[(0, pending(5))]))
        .unwrap();
    assert_eq!(rec.cpu.acknowledge(Group::Group1), Some(5));
    rec.exit();
    rec.enter(HCR_LRENPIE, &[0; MAX_LRS]).unwrap();
    rec.cpu.eoi(Group::Group1, 5);
    assert_eq!(rec.cpu.running_priority(), 0xff, "priority dropped");
    let report = rec.exit();
    assert_eq!(report.hcr, HCR_LRENPIE, "vSGIEOICount: no count");
    assert_eq!(report.misr, 0);
}

#[test]
fn group_enable_maintenance_bits_follow_vmcr() {
    let enables = HCR_VGRP0EIE | HCR_VGRP0DIE | HCR_VGRP1EIE | HCR_VGRP1DIE;
    let mut rec = Rec::new(SimConfig::new(4));
    rec.enter(enables, &[0; MAX_LRS]).unwrap();
    assert_eq!(rec.cpu.misr(), MISR_VGRP0D | MISR_VGRP1D);
    rec.cpu.set_group_enable(Group::Group1, true);
    let report = rec.exit();
    assert_eq!(report.misr, MISR_VGRP0D | MISR_VGRP1E);
    rec.enter(enables, &[0; MAX_LRS]).unwrap();
    rec.cpu.set_group_enable(Group::Group0, true);
    assert_eq!(rec.exit().misr, MISR_VGRP0E | MISR_VGRP1E);
}

#[test]
fn underflow_needs_at_most_one_valid_lr() {
    let mut rec = Rec::new(SimConfig::new(4));
    rec.enter(HCR_UIE, &lrs_with(&[(0, pending(1)), (1, pending(2))]))
        .unwrap();
    assert_eq!(rec.exit().misr, 0);
    rec.enter(HCR_UIE, &lrs_with(&[(1, pending(2))])).unwrap();
    assert_eq!(rec.exit().misr, MISR_U);
}

#[test]
fn a_higher_priority_interrupt_preempts_an_active_one() {
    let mut rec = Rec::new(SimConfig::new(4));
    rec.boot_realm();
    rec.enter(0, &lrs_with(&[(0, lr(PENDING, true, 0x80, 50))]))
        .unwrap();
    assert_eq!(rec.cpu.acknowledge(Group::Group1), Some(50));
    let report = rec.exit();

    // The host keeps LR0 as reported and adds a higher-priority interrupt.
    let mut lrs = report.lrs;
    lrs[1] = lr(PENDING, true, 0x40, 51);
    rec.enter(0, &lrs).unwrap();
    assert_eq!(rec.cpu.running_priority(), 0x80);
    assert_eq!(rec.cpu.signalled(), Some(Group::Group1));
    assert_eq!(rec.cpu.acknowledge(Group::Group1), Some(51));
    assert_eq!(rec.cpu.running_priority(), 0x40);
    rec.cpu.eoi(Group::Group1, 51);
    assert_eq!(rec.cpu.running_priority(), 0x80);
    rec.cpu.eoi(Group::Group1, 50);
    assert_eq!(rec.cpu.running_priority(), 0xff);
    let report = rec.exit();
    assert_eq!(report.lrs[0], lr(INVALID, true, 0x80, 50));
    assert_eq!(report.lrs[1], lr(INVALID, true, 0x40, 51));
}

#[test]
fn a_lower_priority_interrupt_waits_for_the_eoi() {
    let mut rec = Rec::new(SimConfig::new(4));
    rec.boot_realm();
    let lrs = lrs_with(&[
        (0, lr(PENDING, true, 0x80, 60)),
        (1, lr(PENDING, true, 0x40, 61)),
    ]);
    rec.enter(0, &lrs).unwrap();
    assert_eq!(rec.cpu.acknowledge(Group::Group1), Some(61));
    assert_eq!(rec.cpu.signalled(), None);
    assert_eq!(rec.cpu.acknowledge(Group::Group1), None);
    rec.cpu.eoi(Group::Group1, 61);
    assert_eq!(rec.cpu.acknowledge(Group::Group1), Some(60));
}

#[test]
fn priority_mask_blocks_equal_and_lower_priorities() {
    let mut rec = Rec::new(SimConfig::new(4));
    rec.boot_realm();
    rec.enter(0, &lrs_with(&[(0, lr(PENDING, true, 0xa0, 70))]))
        .unwrap();
    rec.cpu.set_priority_mask(0xa0);
    assert_eq!(rec.cpu.acknowledge(Group::Group1), None);
    rec.cpu.set_priority_mask(0xa8);
    assert_eq!(rec.cpu.acknowledge(Group::Group1), Some(70));
}

#[test]
fn disabled_group_is_not_signalled() {
    let mut rec = Rec::new(SimConfig::new(4));
    rec.boot_realm();
    rec.enter(0, &lrs_with(&[(0, lr(PENDING, false, 0x10, 80))]))
        .unwrap();
    assert_eq!(rec.cpu.signalled(), None);
    assert_eq!(rec.cpu.acknowledge(Group::Group0), None);
    rec.cpu.set_group_enable(Group::Group0, true);
    assert_eq!(rec.cpu.signalled(), Some(Group::Group0));
    assert_eq!(rec.cpu.acknowledge(Group::Group1), None);
    assert_eq!(rec.cpu.acknowledge(Group::Group0), Some(80));
    assert_eq!(rec.cpu.ap0r(0), 1 << (0x10 >> 3));
}

#[test]
fn pending_and_active_lr_is_deactivated_back_to_pending() {
    let mut rec = Rec::new(SimConfig::new(4));
    rec.boot_realm();
    rec.enter(0, &lrs_with(&[(0, pending(90))])).unwrap();
    assert_eq!(rec.cpu.acknowledge(Group::Group1), Some(90));
    let mut lrs = rec.exit().lrs;
    // The interrupt fired again while active.
    lrs[0] = lr(PENDING_ACTIVE, true, 0xa0, 90);
    rec.enter(0, &lrs).unwrap();
    assert_eq!(rec.cpu.acknowledge(Group::Group1), None, "still active");
    rec.cpu.eoi(Group::Group1, 90);
    assert_eq!(rec.cpu.lr(0), lr(PENDING, true, 0xa0, 90));
    assert_eq!(rec.cpu.acknowledge(Group::Group1), Some(90));
}

#[test]
fn split_eoi_deactivates_on_dir_unless_the_host_traps_it() {
    let mut rec = Rec::new(SimConfig::new(4));
    rec.boot_realm();
    rec.enter(HCR_TDIR, &lrs_with(&[(0, pending(100))]))
        .unwrap();
    rec.cpu.set_eoi_mode(true);
    assert_eq!(rec.cpu.acknowledge(Group::Group1), Some(100));
    rec.cpu.eoi(Group::Group1, 100);
    assert_eq!(rec.cpu.running_priority(), 0xff, "priority dropped");
    assert_eq!(
        rec.cpu.lr(0),
        lr(ACTIVE, true, 0xa0, 100),
        "not deactivated"
    );
    assert_eq!(rec.cpu.deactivate(100), DirOutcome::Trapped);
    assert_eq!(rec.cpu.lr(0), lr(ACTIVE, true, 0xa0, 100));
    let lrs = rec.exit().lrs;

    rec.enter(0, &lrs).unwrap();
    assert_eq!(rec.cpu.deactivate(100), DirOutcome::Done);
    assert_eq!(rec.cpu.lr(0), lr(INVALID, true, 0xa0, 100));
    // A deactivation with no LR counts.
    assert_eq!(rec.cpu.deactivate(101), DirOutcome::Done);
    assert_eq!(rec.exit().hcr, 1 << HCR_EOICOUNT_SHIFT);
}

#[test]
fn host_cannot_smuggle_state_through_the_rmm() {
    let mut rec = Rec::new(SimConfig::new(4));
    rec.boot_realm();
    // A rejected entry changes nothing: the next exit reports the last state.
    let before = rec.state.exit_report();
    assert_eq!(
        rec.enter(HCR_EN, &lrs_with(&[(0, pending(1))])),
        Err(VgicError::HcrReservedBits { bits: HCR_EN })
    );
    assert_eq!(
        rec.enter(0, &lrs_with(&[(0, pending(1) | HW)])),
        Err(VgicError::HwBitSet { lr: 0 })
    );
    assert_eq!(rec.state.exit_report(), before);
}

// ---- The model on its own ----

#[test]
fn model_reports_undefined_accesses_without_panicking() {
    let mut cpu = sim(SimConfig::new(4));
    assert_eq!(cpu.read_lr(4), 0);
    assert_eq!(cpu.fault(), Some(vgic::sim::SimFault::UndefinedLr { n: 4 }));
    cpu.write_ap0r(1, 1);
    cpu.write_lr(16, 1);
    assert_eq!(cpu.faults(), 3);
    assert_eq!(cpu.fault(), Some(vgic::sim::SimFault::UndefinedLr { n: 4 }));
    assert_eq!(cpu.lr(4), 0);
}

#[test]
fn model_counts_state_writes_to_an_enabled_interface() {
    let mut cpu = sim(SimConfig::new(4));
    let state = VgicState::new();
    state.restore(&mut cpu);
    assert_eq!(cpu.writes_while_enabled(), 0);
    // Restoring again without a save: APR pair, 4 LRs and VMCR while En == 1.
    state.restore(&mut cpu);
    assert_eq!(cpu.writes_while_enabled(), 7);
}

#[test]
fn model_drops_unimplemented_priority_bits() {
    let mut cpu = sim(SimConfig::new(4));
    cpu.write_lr(0, lr(PENDING, true, 0xff, 1));
    assert_eq!(cpu.read_lr(0), lr(PENDING, true, 0xf8, 1));
    let mut cpu = sim(SimConfig {
        pri_bits: 8,
        ..SimConfig::new(4)
    });
    cpu.write_lr(0, lr(PENDING, true, 0xff, 1));
    assert_eq!(cpu.read_lr(0), lr(PENDING, true, 0xff, 1));
}

#[test]
fn model_rejects_inconsistent_configurations() {
    for config in [
        SimConfig::new(0),
        SimConfig::new(17),
        SimConfig {
            pre_bits: 4,
            ..SimConfig::new(4)
        },
        SimConfig {
            pri_bits: 5,
            pre_bits: 6,
            ..SimConfig::new(4)
        },
        SimConfig {
            id_bits: 32,
            ..SimConfig::new(4)
        },
    ] {
        assert!(
            matches!(SimGicCpuIf::new(config), Err(VgicError::BadFeatures(_))),
            "{config:?}"
        );
    }
    let cpu = sim(SimConfig {
        ext_range: true,
        id_bits: 24,
        ..SimConfig::new(16)
    });
    assert_eq!(cpu.ich_vtr_el2(), 0x9080_000f);
    assert_eq!(cpu.icc_ctlr_el1(), 1 << 19);
}

/// A model CPU with the interface and Group 1 enabled and the mask open.
fn running_cpu(config: SimConfig) -> SimGicCpuIf {
    let mut cpu = sim(config);
    cpu.write_hcr(HCR_EN);
    cpu.set_group_enable(Group::Group1, true);
    cpu.set_priority_mask(0xff);
    cpu
}

#[test]
fn binary_point_writes_are_clamped_and_cbpr_ignores_bpr1() {
    let mut cpu = running_cpu(SimConfig::new(4));
    // Below the minimum sets the minimum: 2 for Group 0, 3 for Group 1.
    cpu.set_binary_point(Group::Group0, 0);
    cpu.set_binary_point(Group::Group1, 0);
    assert_eq!((cpu.vmcr() >> 21) & 7, 2);
    assert_eq!((cpu.vmcr() >> 18) & 7, 3);
    cpu.set_binary_point(Group::Group1, 5);
    cpu.set_common_binary_point(true);
    cpu.set_binary_point(Group::Group1, 6);
    assert_eq!((cpu.vmcr() >> 18) & 7, 5, "BPR1 write ignored with CBPR");
}

#[test]
fn coarse_binary_point_blocks_same_group_priority_preemption() {
    // VBPR1 = 5: group priority is bits [7:5]; 0x58 runs at group priority 0x40.
    let mut cpu = running_cpu(SimConfig::new(4));
    cpu.set_binary_point(Group::Group1, 5);
    cpu.write_lr(0, lr(PENDING, true, 0x58, 1));
    assert_eq!(cpu.acknowledge(Group::Group1), Some(1));
    assert_eq!(cpu.running_priority(), 0x40);
    cpu.write_lr(1, lr(PENDING, true, 0x48, 2));
    assert_eq!(cpu.acknowledge(Group::Group1), None, "same group priority");
    cpu.write_lr(2, lr(PENDING, true, 0x38, 3));
    assert_eq!(
        cpu.acknowledge(Group::Group1),
        Some(3),
        "higher group priority"
    );
}

#[test]
fn common_binary_point_uses_group0_granularity() {
    // CBPR with VBPR0 at its minimum (2): group priority is bits [7:3].
    let mut cpu = running_cpu(SimConfig::new(4));
    cpu.set_binary_point(Group::Group1, 5);
    cpu.set_common_binary_point(true);
    cpu.write_lr(0, lr(PENDING, true, 0x58, 1));
    assert_eq!(cpu.acknowledge(Group::Group1), Some(1));
    assert_eq!(cpu.running_priority(), 0x58);
    cpu.write_lr(1, lr(PENDING, true, 0x48, 2));
    assert_eq!(cpu.acknowledge(Group::Group1), Some(2));
    assert_eq!(cpu.running_priority(), 0x48);
    cpu.eoi(Group::Group1, 2);
    cpu.eoi(Group::Group1, 1);
    assert_eq!(cpu.running_priority(), 0xff);
    assert_eq!(cpu.lr(0) & STATE_MASK, INVALID);
    assert_eq!(cpu.lr(1) & STATE_MASK, INVALID);
}

#[test]
fn eoi_without_active_priority_is_ignored() {
    // The CONSTRAINED UNPREDICTABLE choice: without the active priority the
    // RMM should have restored, an EOI does nothing.
    let mut cpu = sim(SimConfig::new(4));
    cpu.write_hcr(HCR_EN);
    cpu.write_lr(0, lr(ACTIVE, true, 0xa0, 7));
    cpu.eoi(Group::Group1, 7);
    assert_eq!(cpu.lr(0), lr(ACTIVE, true, 0xa0, 7));
    assert_eq!(cpu.hcr(), HCR_EN);
    // Special INTIDs are ignored too.
    cpu.write_ap1r(0, 1 << 20);
    cpu.eoi(Group::Group1, 1023);
    assert_eq!(cpu.ap1r(0), 1 << 20);
}

#[test]
fn interface_disabled_signals_nothing() {
    let mut cpu = sim(SimConfig::new(4));
    cpu.set_group_enable(Group::Group1, true);
    cpu.set_priority_mask(0xff);
    cpu.write_lr(0, pending(9));
    assert_eq!(cpu.signalled(), None);
    assert_eq!(cpu.acknowledge(Group::Group1), None);
    assert!(!cpu.maintenance_interrupt());
    cpu.write_hcr(HCR_EN);
    assert_eq!(cpu.acknowledge(Group::Group1), Some(9));
}

#[test]
fn seven_preemption_bits_use_four_apr_registers() {
    let mut cpu = sim(SimConfig {
        pri_bits: 8,
        pre_bits: 7,
        ..SimConfig::new(4)
    });
    cpu.write_hcr(HCR_EN);
    cpu.set_group_enable(Group::Group1, true);
    cpu.set_priority_mask(0xff);
    cpu.write_lr(0, lr(PENDING, true, 0xfc, 11));
    assert_eq!(cpu.acknowledge(Group::Group1), Some(11));
    // Priority 0xfc, minimum binary point 0 for Group 0 / 1 for Group 1:
    // group priority 0xfc -> bit 0x7e = APR3 bit 30.
    assert_eq!(cpu.ap1r(3), 1 << 30);
    assert_eq!(cpu.running_priority(), 0xfc);
    cpu.eoi(Group::Group1, 11);
    assert_eq!(cpu.ap1r(3), 0);
    assert_eq!(cpu.lr(0), lr(INVALID, true, 0xfc, 11));
}
