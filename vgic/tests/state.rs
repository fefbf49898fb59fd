//! VgicState: REC creation template, load merge, restore/save order and
//! content, exit report masking (DEN0137 1.0, REC entry/exit).

mod common;

use common::*;
use vgic::sim::{SimConfig, SimGicCpuIf};
use vgic::{validate, GicCpuIf, GicFeatures, VgicState, MAX_LRS};

/// One register access, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    ReadLr(usize),
    WriteLr(usize, u64),
    ReadAp0r(usize),
    WriteAp0r(usize, u64),
    ReadAp1r(usize),
    WriteAp1r(usize, u64),
    ReadVmcr,
    WriteVmcr(u64),
    ReadHcr,
    WriteHcr(u64),
    ReadMisr,
}
use Access::*;

/// A CPU interface that records every access and forwards it to the model.
struct Recorder {
    inner: SimGicCpuIf,
    log: Vec<Access>,
}

impl GicCpuIf for Recorder {
    fn features(&self) -> GicFeatures {
        self.inner.features()
    }
    fn read_lr(&mut self, n: usize) -> u64 {
        self.log.push(ReadLr(n));
        self.inner.read_lr(n)
    }
    fn write_lr(&mut self, n: usize, value: u64) {
        self.log.push(WriteLr(n, value));
        self.inner.write_lr(n, value)
    }
    fn read_ap0r(&mut self, n: usize) -> u64 {
        self.log.push(ReadAp0r(n));
        self.inner.read_ap0r(n)
    }
    fn write_ap0r(&mut self, n: usize, value: u64) {
        self.log.push(WriteAp0r(n, value));
        self.inner.write_ap0r(n, value)
    }
    fn read_ap1r(&mut self, n: usize) -> u64 {
        self.log.push(ReadAp1r(n));
        self.inner.read_ap1r(n)
    }
    fn write_ap1r(&mut self, n: usize, value: u64) {
        self.log.push(WriteAp1r(n, value));
        self.inner.write_ap1r(n, value)
    }
    fn read_vmcr(&mut self) -> u64 {
        self.log.push(ReadVmcr);
        self.inner.read_vmcr()
    }
    fn write_vmcr(&mut self, value: u64) {
        self.log.push(WriteVmcr(value));
        self.inner.write_vmcr(value)
    }
    fn read_hcr(&mut self) -> u64 {
        self.log.push(ReadHcr);
        self.inner.read_hcr()
    }
    fn write_hcr(&mut self, value: u64) {
        self.log.push(WriteHcr(value));
        self.inner.write_hcr(value)
    }
    fn read_misr(&mut self) -> u64 {
        self.log.push(ReadMisr);
        self.inner.read_misr()
    }
}

const TEMPLATE: u64 = HCR_EN | HCR_VSGIEOICOUNT | HCR_DVIM;

fn recorder(num_lrs: u8, pre_bits: u8) -> Recorder {
    let config = SimConfig {
        num_lrs,
        pri_bits: 8,
        pre_bits,
        id_bits: 16,
        ext_range: false,
    };
    Recorder {
        inner: sim(config),
        log: Vec::new(),
    }
}

#[test]
fn new_rec_has_the_template_and_nothing_else() {
    let state = VgicState::new();
    assert_eq!(state.hcr(), TEMPLATE);
    assert_eq!(state, VgicState::default());
    let report = state.exit_report();
    assert_eq!(report.hcr, 0, "template bits are not reported");
    assert_eq!(report.lrs, [0; MAX_LRS]);
    assert_eq!(report.misr, 0);
    assert_eq!(report.vmcr, 0);
}

#[test]
fn restore_order_is_aprs_lrs_vmcr_hcr() {
    let mut cpu = recorder(4, 6);
    let lrs = lrs_with(&[(0, pending(1)), (3, pending(4))]);
    let mut state = VgicState::new();
    state.load(validate(&cpu.features(), HCR_UIE, &lrs).unwrap());
    state.restore(&mut cpu);
    assert_eq!(
        cpu.log,
        vec![
            WriteAp0r(0, 0),
            WriteAp1r(0, 0),
            WriteAp0r(1, 0),
            WriteAp1r(1, 0),
            WriteLr(0, pending(1)),
            WriteLr(1, 0),
            WriteLr(2, 0),
            WriteLr(3, pending(4)),
            WriteVmcr(0),
            WriteHcr(TEMPLATE | HCR_UIE),
        ]
    );
}

#[test]
fn save_order_is_aprs_lrs_vmcr_hcr_misr_then_disable_and_scrub() {
    let mut cpu = recorder(2, 7);
    let mut state = VgicState::new();
    state.load(validate(&cpu.features(), 0, &[0; MAX_LRS]).unwrap());
    state.restore(&mut cpu);
    cpu.log.clear();
    state.save(&mut cpu);
    assert_eq!(
        cpu.log,
        vec![
            ReadAp0r(0),
            ReadAp1r(0),
            ReadAp0r(1),
            ReadAp1r(1),
            ReadAp0r(2),
            ReadAp1r(2),
            ReadAp0r(3),
            ReadAp1r(3),
            ReadLr(0),
            ReadLr(1),
            ReadVmcr,
            ReadHcr,
            ReadMisr,
            WriteHcr(TEMPLATE & !HCR_EN),
            WriteAp0r(0, 0),
            WriteAp1r(0, 0),
            WriteAp0r(1, 0),
            WriteAp1r(1, 0),
            WriteAp0r(2, 0),
            WriteAp1r(2, 0),
            WriteAp0r(3, 0),
            WriteAp1r(3, 0),
        ]
    );
    assert_eq!(cpu.inner.fault(), None);
}

#[test]
fn restore_and_save_touch_every_implemented_lr_and_no_other() {
    for num_lrs in 1..=16u8 {
        let mut cpu = recorder(num_lrs, 5);
        let mut state = VgicState::new();
        state.load(validate(&cpu.features(), 0, &[0; MAX_LRS]).unwrap());
        state.restore(&mut cpu);
        state.save(&mut cpu);
        let written: Vec<usize> = cpu
            .log
            .iter()
            .filter_map(|a| match a {
                WriteLr(n, _) => Some(*n),
                _ => None,
            })
            .collect();
        let read: Vec<usize> = cpu
            .log
            .iter()
            .filter_map(|a| match a {
                ReadLr(n) => Some(*n),
                _ => None,
            })
            .collect();
        let expected: Vec<usize> = (0..usize::from(num_lrs)).collect();
        assert_eq!(written, expected, "num_lrs {num_lrs}");
        assert_eq!(read, expected, "num_lrs {num_lrs}");
        assert_eq!(cpu.inner.fault(), None);
    }
}

#[test]
fn load_replaces_only_host_bits_and_keeps_eoicount() {
    let mut cpu = sim(SimConfig::new(4));
    let f = cpu.features();
    let mut state = VgicState::new();
    state.load(validate(&f, 0x40fe, &[0; MAX_LRS]).unwrap());
    assert_eq!(state.hcr(), TEMPLATE | 0x40fe);
    state.restore(&mut cpu);
    // The hardware counts 3 unmatched EOIs during the run.
    cpu.write_hcr(TEMPLATE | HCR_NPIE | (3 << HCR_EOICOUNT_SHIFT));
    state.save(&mut cpu);
    assert_eq!(state.hcr(), TEMPLATE | HCR_NPIE | (3 << HCR_EOICOUNT_SHIFT));
    assert_eq!(
        state.exit_report().hcr,
        HCR_NPIE | (3 << HCR_EOICOUNT_SHIFT)
    );
    // Next entry: host bits replaced, EOIcount and template kept.
    state.load(validate(&f, HCR_UIE, &[0; MAX_LRS]).unwrap());
    assert_eq!(state.hcr(), TEMPLATE | HCR_UIE | (3 << HCR_EOICOUNT_SHIFT));
}

#[test]
fn save_disables_the_interface_but_keeps_en_in_the_rec() {
    let mut cpu = sim(SimConfig::new(4));
    let mut state = VgicState::new();
    state.load(validate(&cpu.features(), 0, &[0; MAX_LRS]).unwrap());
    state.restore(&mut cpu);
    assert_eq!(cpu.hcr() & HCR_EN, HCR_EN);
    state.save(&mut cpu);
    assert_eq!(cpu.hcr(), TEMPLATE & !HCR_EN);
    assert_eq!(state.hcr() & HCR_EN, HCR_EN);
    // Restoring again enables it again, without writes to an enabled interface.
    state.restore(&mut cpu);
    assert_eq!(cpu.hcr(), TEMPLATE);
    assert_eq!(cpu.writes_while_enabled(), 0);
}

#[test]
fn exit_report_masks_hcr_and_reports_lrs_misr_vmcr() {
    let mut cpu = sim(SimConfig::new(4));
    let mut state = VgicState::new();
    let lrs = lrs_with(&[(0, pending(30)), (2, lr(ACTIVE, false, 0x40, 31))]);
    state.load(validate(&cpu.features(), HCR_UIE | HCR_VGRP1DIE, &lrs).unwrap());
    state.restore(&mut cpu);
    // Hardware-side HCR with every bit the RMM must not report.
    cpu.write_hcr(u64::MAX);
    cpu.write_vmcr(0x1234_5678);
    state.save(&mut cpu);
    let report = state.exit_report();
    assert_eq!(report.hcr, 0xf800_40fe);
    assert_eq!(report.vmcr, 0x1234_5678);
    assert_eq!(
        &report.lrs[..4],
        &[pending(30), 0, lr(ACTIVE, false, 0x40, 31), 0]
    );
    assert_eq!(report.misr, cpu.misr());
    assert_ne!(report.misr, 0);
}

#[test]
fn aprs_are_saved_restored_and_scrubbed_but_never_reported() {
    let mut cpu = sim(SimConfig {
        pre_bits: 6,
        pri_bits: 6,
        ..SimConfig::new(4)
    });
    let mut state = VgicState::new();
    state.load(validate(&cpu.features(), 0, &[0; MAX_LRS]).unwrap());
    state.restore(&mut cpu);
    cpu.write_ap0r(1, 0x8000_0001);
    cpu.write_ap1r(0, 0x10);
    state.save(&mut cpu);
    for n in 0..2 {
        assert_eq!((cpu.ap0r(n), cpu.ap1r(n)), (0, 0), "scrubbed APR{n}");
    }
    let report = state.exit_report();
    let words = [report.hcr, report.misr, report.vmcr];
    assert!(!words.contains(&0x8000_0001) && !words.contains(&0x10));
    assert!(report.lrs.iter().all(|&v| v == 0));
    // The next entry puts them back.
    state.restore(&mut cpu);
    assert_eq!((cpu.ap0r(1), cpu.ap1r(0)), (0x8000_0001, 0x10));
}

#[test]
fn two_recs_on_one_cpu_do_not_see_each_other() {
    let mut cpu = sim(SimConfig::new(4));
    let f = cpu.features();
    let mut a = VgicState::new();
    let mut b = VgicState::new();
    a.load(
        validate(
            &f,
            HCR_NPIE,
            &lrs_with(&[(0, pending(100)), (3, pending(103))]),
        )
        .unwrap(),
    );
    b.load(validate(&f, HCR_UIE, &lrs_with(&[(1, pending(201))])).unwrap());

    a.restore(&mut cpu);
    cpu.set_group_enable(vgic::sim::Group::Group1, true);
    a.save(&mut cpu);
    b.restore(&mut cpu);
    assert_eq!(
        (0..4).map(|n| cpu.lr(n)).collect::<Vec<_>>(),
        vec![0, pending(201), 0, 0]
    );
    assert_eq!(cpu.vmcr(), 0, "A's group enable is not in B");
    b.save(&mut cpu);
    a.restore(&mut cpu);
    assert_eq!(
        (0..4).map(|n| cpu.lr(n)).collect::<Vec<_>>(),
        vec![pending(100), 0, 0, pending(103)]
    );
    assert_eq!(cpu.vmcr(), VMCR_VENG1);
    assert_eq!(cpu.writes_while_enabled(), 0);
    assert_eq!(cpu.fault(), None);
}
