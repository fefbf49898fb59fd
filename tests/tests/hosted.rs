//! Tests that need the simulation's inside view: boot through the RMM-EL3 interface,
//! the GPT and EL3 as the RMM drives them, and concurrency.

use platform::el3::{
    BootError, ColdBootArgs, RMM_ATTEST_GET_PLAT_TOKEN, RMM_ATTEST_GET_REALM_KEY,
    RMM_BOOT_COMPLETE, RMM_GTSI_DELEGATE, RMM_GTSI_UNDELEGATE,
};
use platform::{CpuId, Pas, PhysAddr, SysReg};
use platform_sim::{SimConfig, SimHw};
use rmi_abi::{RmiError, RmiFid};
use rmm::granule::GranuleState;
use rmm::hosted::Machine;

const NOT_SUPPORTED: u64 = u64::MAX;

#[test]
fn boots_on_every_cpu_and_reports_success() {
    let m = Machine::with_defaults();
    let rmm = m.rmm().expect("booted");
    assert_eq!(rmm.boot_info().num_cpus, 4);
    assert_eq!(rmm.manifest().dram_banks()[0].base, 0x4000_0000);
    assert_eq!(rmm.manifest().dram_banks()[0].size, 256 << 20);
    assert_eq!(rmm.granules().len(), (256 << 20) / 4096);
    assert_eq!(m.hw().el3().boot_status(), vec![Some(0); 4]);
    // Cold boot asks for the attestation key and platform token on CPU 0 first (see
    // tests/attestation.rs), then every CPU reports success.
    let calls = m.hw().el3().calls();
    let attest = |fid| fid == RMM_ATTEST_GET_REALM_KEY || fid == RMM_ATTEST_GET_PLAT_TOKEN;
    let first_complete = calls.iter().position(|c| !attest(c.fid)).unwrap();
    assert!(first_complete >= 2);
    assert!(calls[..first_complete].iter().all(|c| c.cpu.0 == 0));
    let rest = &calls[first_complete..];
    assert!(rest
        .iter()
        .all(|c| c.fid == RMM_BOOT_COMPLETE && c.args[0] == 0));
    assert_eq!(
        rest.iter().map(|c| c.cpu.0).collect::<Vec<_>>(),
        vec![0, 1, 2, 3]
    );
}

/// Each bad boot argument is reported to EL3 with its code, and the RMM stays disabled:
/// RMI calls get NOT_SUPPORTED.
#[test]
fn boot_argument_failures_are_reported_and_disable_the_rmm() {
    type Corrupt = fn(&mut ColdBootArgs);
    let cases: [(Corrupt, BootError); 5] = [
        (|a| a.ifc_version = 0x2, BootError::VersionNotValid),
        (|a| a.ifc_version = 0x1_0000, BootError::VersionNotValid),
        (|a| a.num_cpus = 33, BootError::CpusOutOfRange),
        (|a| a.cpu_id = 4, BootError::CpuIdOutOfRange),
        (
            |a| a.shared_buf = 0x418F_F800,
            BootError::InvalidSharedBuffer,
        ),
    ];
    for (bad, want) in cases {
        let hw = SimHw::new(SimConfig::default());
        let mut args = hw.cold_boot_args(CpuId(0));
        bad(&mut args);
        let m = Machine::boot(hw, args);
        assert_eq!(m.rmm().err(), Some(want));
        assert_eq!(m.hw().el3().boot_status()[0], Some(want.code()), "{want:?}");
        assert_eq!(
            m.hw().el3().boot_status()[1],
            None,
            "no warm boot after a failure"
        );
        assert_eq!(m.rmi(0, RmiFid::Version, &[0x1_0000])[0], NOT_SUPPORTED);
    }
}

#[test]
fn a_corrupt_manifest_is_reported() {
    let hw = SimHw::new(SimConfig::default());
    // Flip a byte of the DRAM bank: its checksum no longer matches.
    hw.mem()
        .write(PhysAddr(0x418F_F048), Pas::Root, &[0x55])
        .unwrap();
    let args = hw.cold_boot_args(CpuId(0));
    let m = Machine::boot(hw, args);
    assert_eq!(m.rmm().err(), Some(BootError::ManifestDataError));
    assert_eq!(
        m.hw().el3().boot_status()[0],
        Some(BootError::ManifestDataError.code())
    );

    let hw = SimHw::new(SimConfig::default());
    hw.mem()
        .write(PhysAddr(0x418F_F000), Pas::Root, &[2])
        .unwrap();
    let args = hw.cold_boot_args(CpuId(0));
    let m = Machine::boot(hw, args);
    assert_eq!(m.rmm().err(), Some(BootError::ManifestVersionNotSupported));
}

/// GICv3 architecture, ICC_SRE_EL2: every CPU the RMM boots has SRE set (without it
/// every ICH_*_EL2 access is UNDEFINED), DFB and DIB (no interrupt bypass) and Enable
/// (a realm's EL1 may access ICC_SRE_EL1 without a trap).
#[test]
fn every_cpu_enables_the_gic_system_register_interface_at_boot() {
    let m = Machine::with_defaults();
    for cpu in 0..4 {
        assert_eq!(
            m.hw().read_reg(CpuId(cpu), SysReg::ICC_SRE_EL2),
            0b1111,
            "CPU {cpu}: SRE, DFB, DIB, Enable"
        );
    }
}

/// A CPU without the GIC system register interface (ID_AA64PFR0_EL1.GIC 0) has no
/// usable GICv3 virtual CPU interface: cold boot fails, reported to EL3 with
/// RMM_BOOT_COMPLETE and E_RMM_BOOT_UNKNOWN, and the RMM stays disabled.
#[test]
fn a_cpu_without_a_gic_virtual_interface_fails_cold_boot() {
    let mut config = SimConfig::default();
    let pfr0 = config.sysregs.get(SysReg::ID_AA64PFR0_EL1) & !(0xF << 24);
    config.sysregs.set(SysReg::ID_AA64PFR0_EL1, pfr0);
    let m = Machine::new(config);
    assert_eq!(m.rmm().err(), Some(BootError::Unknown));
    assert_eq!(
        m.hw().el3().boot_status(),
        vec![Some(BootError::Unknown.code()), None, None, None]
    );
    assert_eq!(m.rmi(0, RmiFid::Version, &[0x1_0000])[0], NOT_SUPPORTED);
}

/// A CPU that warm boots with another GIC virtual CPU interface than the boot CPU's
/// (here 4 list registers instead of 16) fails its boot, reported to EL3 with
/// E_RMM_BOOT_UNKNOWN; the other CPUs serve RMI.
#[test]
fn a_warm_booted_cpu_with_another_gic_interface_fails_its_boot() {
    let hw = SimHw::new(SimConfig::default());
    hw.cpu(CpuId(2))
        .force(SysReg::ICH_VTR_EL2, platform_sim::cpu::ich_vtr(4, 5, 5));
    let args = hw.cold_boot_args(CpuId(0));
    let m = Machine::boot(hw, args);
    assert!(m.rmm().is_ok());
    assert_eq!(
        m.hw().el3().boot_status(),
        vec![Some(0), Some(0), Some(BootError::Unknown.code()), Some(0)]
    );
    assert_eq!(m.rmi(2, RmiFid::Version, &[0x1_0000])[0], NOT_SUPPORTED);
    assert_eq!(m.rmi(1, RmiFid::Version, &[0x1_0000])[0], 0);
}

#[test]
fn boots_with_the_cpu_count_tf_a_passes() {
    // TF-A passes the platform maximum (32 on QEMU), not the CPUs present.
    let m = Machine::new(SimConfig {
        boot_num_cpus: 32,
        ..SimConfig::default()
    });
    assert_eq!(m.rmm().unwrap().boot_info().num_cpus, 32);
    assert_eq!(m.hw().el3().boot_status(), vec![Some(0); 4]);
}

#[test]
fn delegate_drives_gtsi_and_scrubs() {
    let m = Machine::with_defaults();
    let pa = m.ns_granule(5);
    m.host_write(pa, &[0xFF; 4096]).unwrap();
    assert_eq!(m.granule_state(pa), Some(GranuleState::Ns));
    assert_eq!(m.rmi(1, RmiFid::GranuleDelegate, &[pa])[0], 0);
    assert_eq!(m.pas(pa), Some(Pas::Realm));
    assert_eq!(m.granule_state(pa), Some(GranuleState::Delegated));
    assert!(
        m.hw().mem().is_zero(PhysAddr(pa)),
        "a DELEGATED granule is zero"
    );
    let last = *m.hw().el3().calls().last().unwrap();
    assert_eq!(
        (last.cpu, last.fid, last.args[0], last.ret),
        (CpuId(1), RMM_GTSI_DELEGATE, pa, 0)
    );

    assert_eq!(m.rmi(2, RmiFid::GranuleUndelegate, &[pa])[0], 0);
    assert_eq!(m.pas(pa), Some(Pas::NonSecure));
    assert_eq!(m.granule_state(pa), Some(GranuleState::Ns));
    let last = *m.hw().el3().calls().last().unwrap();
    assert_eq!(
        (last.cpu, last.fid, last.args[0]),
        (CpuId(2), RMM_GTSI_UNDELEGATE, pa)
    );
}

/// A granule the GPT has in another world (Secure here) is refused by EL3: gran_gpt.
#[test]
fn delegate_of_a_secure_granule_fails_without_state_change() {
    let m = Machine::with_defaults();
    let pa = m.ns_granule(6);
    m.hw().mem().set_pas(PhysAddr(pa), Pas::Secure);
    let calls_before = m.hw().el3().calls().len();
    let r = m.rmi(0, RmiFid::GranuleDelegate, &[pa]);
    assert_eq!(r[0], RmiError::Input.return_code());
    assert_eq!(m.pas(pa), Some(Pas::Secure));
    assert_eq!(m.granule_state(pa), Some(GranuleState::Ns));
    let calls = m.hw().el3().calls();
    assert_eq!(calls.len(), calls_before + 1);
    assert_eq!(
        calls.last().unwrap().ret,
        (-3i64) as u64,
        "EL3 answered BAD_PAS"
    );
}

/// Failure conditions checked before EL3 is asked: no GTSI call at all.
#[test]
fn failed_checks_have_no_side_effects() {
    let m = Machine::with_defaults();
    let before = m.hw().el3().calls().len();
    let pa = m.ns_granule(7);
    assert_eq!(m.rmi(0, RmiFid::GranuleDelegate, &[pa + 4])[0], 1);
    assert_eq!(m.rmi(0, RmiFid::GranuleUndelegate, &[pa])[0], 1);
    assert_eq!(m.rmi(0, RmiFid::GranuleDelegate, &[0x8000_0000_0000])[0], 1);
    assert_eq!(m.hw().el3().calls().len(), before);
}

/// Several CPUs delegating and undelegating overlapping granules concurrently: every
/// call succeeds or fails with ERROR_INPUT, and at the end the RMM's state, the GPT and
/// the contents agree for every granule.
#[test]
fn concurrent_delegation_on_overlapping_granules() {
    let m = Machine::with_defaults();
    let granules: Vec<u64> = (0..8).map(|i| m.ns_granule(100 + i)).collect();
    std::thread::scope(|s| {
        for cpu in 0..4 {
            let m = &m;
            let granules = &granules;
            s.spawn(move || {
                for round in 0..200 {
                    let pa = granules[(round * (cpu + 1)) % granules.len()];
                    let fid = if (round + cpu) % 2 == 0 {
                        RmiFid::GranuleDelegate
                    } else {
                        RmiFid::GranuleUndelegate
                    };
                    let r = m.rmi(cpu, fid, &[pa])[0];
                    assert!(r == 0 || r == 1, "unexpected status {r:#x}");
                }
            });
        }
    });
    for &pa in &granules {
        match m.granule_state(pa).unwrap() {
            GranuleState::Ns => assert_eq!(m.pas(pa), Some(Pas::NonSecure)),
            GranuleState::Delegated => {
                assert_eq!(m.pas(pa), Some(Pas::Realm));
                assert!(m.hw().mem().is_zero(PhysAddr(pa)));
            }
            other => panic!("granule {pa:#x} in state {other:?}"),
        }
    }
}

/// RMI_FEATURES register 0 on the default simulated CPU: 48-bit PA, 6 breakpoints,
/// 4 watchpoints, 16 list registers, both hashes, MAX_RECS_ORDER 10.
#[test]
fn features_reflect_the_simulated_cpu() {
    let m = Machine::with_defaults();
    let r = m.rmi(0, RmiFid::Features, &[0]);
    assert_eq!(r[0], 0);
    assert_eq!(r[1], 48 | 5 << 14 | 3 << 20 | 3 << 32 | 15 << 34 | 10 << 38);

    let mut config = SimConfig::default();
    config.sysregs.set(
        platform::SysReg::ICH_VTR_EL2,
        platform_sim::cpu::ich_vtr(4, 5, 5),
    );
    config
        .sysregs
        .set(platform::SysReg::ID_AA64MMFR0_EL1, 0b0010); // 40-bit PA
    let m = Machine::new(config);
    let r = m.rmi(0, RmiFid::Features, &[0]);
    assert_eq!(r[1] & 0xFF, 40);
    assert_eq!((r[1] >> 34) & 0xF, 3);
}

/// With FEAT_VMID16 (ID_AA64MMFR1_EL1.VMIDBits = 0b0010) every 16-bit VMID is valid;
/// without it VMIDs stop at 255.
#[test]
fn vmid_width_follows_the_cpu() {
    use rmm_conformance::builder::{Pool, RealmSpec};
    for (mmfr1, vmid, want) in [(0u64, 0x100u16, 1u64), (0b0010 << 4, 0xFFFF, 0)] {
        let mut config = SimConfig::default();
        config
            .sysregs
            .set(platform::SysReg::ID_AA64MMFR1_EL1, mmfr1);
        let m = Machine::new(config);
        let pool = Pool::new(&m);
        let base = pool.ns_contiguous(2, 0x2000);
        for pa in [base, base + 0x1000] {
            assert_eq!(m.rmi(0, RmiFid::GranuleDelegate, &[pa])[0], 0);
        }
        let rd = pool.ns();
        assert_eq!(m.rmi(0, RmiFid::GranuleDelegate, &[rd])[0], 0);
        let params = pool.ns();
        let spec = RealmSpec {
            vmid,
            ..RealmSpec::default()
        };
        m.host_write(params, zerocopy::IntoBytes::as_bytes(&spec.params(base)))
            .unwrap();
        assert_eq!(
            m.rmi(0, RmiFid::RealmCreate, &[rd, params])[0],
            want,
            "VMID {vmid:#x}"
        );
    }
}

/// The conformance runner fails a test that passes its checks but leaves granules
/// delegated, and passes the same test once it gives them back.
#[test]
fn conformance_runner_fails_a_test_that_does_not_clean_up() {
    use rmm_conformance::builder::Pool;
    use rmm_conformance::check::{self, TestDef};
    use rmm_conformance::{Checks, Host, Outcome};

    fn leaks(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
        let pool = Pool::new(h);
        pool.delegated(c)?;
        pool.delegated(c)?;
        Ok(())
    }
    fn cleans_up(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
        let pool = Pool::new(h);
        pool.delegated(c)?;
        pool.delegated(c)?;
        pool.release(c)?;
        Ok(())
    }
    let tests = [
        TestDef {
            name: "leaks",
            run: leaks,
        },
        TestDef {
            name: "cleans_up",
            run: cleans_up,
        },
    ];
    let mut out = String::new();
    let s = check::run(&tests, |_| Machine::with_defaults(), &mut out).unwrap();
    assert_eq!((s.passed, s.failed, s.skipped), (1, 1, 0), "{out}");
    assert!(out.contains(
        "Test=leaks Result=Failed (check 3: pool granules left inaccessible to the host \
         after the test: got 0x2, want 0x0)"
    ));
    assert!(
        out.contains("Test=cleans_up checks=4 Result=Passed"),
        "{out}"
    );
}

/// DEN0137 1.0, B4.3.12.2 `num_recs`: RMI_REC_CREATE fails with ERROR_REALM once the
/// realm has 2 ^ MAX_RECS_ORDER - 1 RECs (MAX_RECS_ORDER as RMI_FEATURES reports it),
/// and succeeds again once one of them is destroyed (`num_recs` counts live RECs).
#[test]
fn rec_create_stops_at_the_advertised_rec_count() {
    use rmi_abi::features::FeatureReg0;
    use rmm_conformance::builder::{create_realm, rec_params, Pool, RealmSpec};
    use rmm_conformance::Checks;
    use zerocopy::IntoBytes;

    let m = Machine::with_defaults();
    let f = m.rmi(0, RmiFid::Features, &[0]);
    let order = FeatureReg0::decode(f[1]).unwrap().max_recs_order;
    let limit = (1u64 << order) - 1;
    let pool = Pool::new(&m);
    let mut c = Checks::new();
    let realm = create_realm(&m, &pool, &mut c, RealmSpec::default()).unwrap();
    let aux_count = m.rmi(0, RmiFid::RecAuxCount, &[realm.rd])[1] as usize;
    let params_pa = pool.ns();
    let create = |index: u64| {
        let mut p = rec_params(index, 0x8_0000);
        p.flags = 0; // not runnable: nothing to measure
        p.num_aux = aux_count as u64;
        for a in p.aux.iter_mut().take(aux_count) {
            *a = pool.delegated(&mut Checks::new()).unwrap();
        }
        m.host_write(params_pa, p.as_bytes()).unwrap();
        let rec = pool.delegated(&mut Checks::new()).unwrap();
        (
            rec,
            m.rmi(0, RmiFid::RecCreate, &[realm.rd, rec, params_pa])[0],
        )
    };
    let recs: Vec<u64> = (0..limit)
        .map(|i| {
            let (rec, x0) = create(i);
            assert_eq!(x0, 0, "REC_CREATE of REC {i}");
            rec
        })
        .collect();
    let (_, x0) = create(limit);
    assert_eq!(
        x0,
        RmiError::Realm(0).return_code(),
        "num_recs: REC {limit} of a realm with {limit} RECs"
    );
    assert_eq!(m.rmi(0, RmiFid::RecDestroy, &[recs[0]])[0], 0);
    let (_, x0) = create(limit);
    assert_eq!(x0, 0, "REC_CREATE once a REC is destroyed");
}

/// On a platform that cannot run realms, RMI_REC_ENTER is refused (SMCCC
/// NOT_SUPPORTED) before it loads anything: the CPU's stage-2, HCR, timer and GIC
/// registers, the REC and the RecRun page are as they were.
#[test]
fn rec_enter_without_realm_support_changes_nothing() {
    use platform::SysReg;
    use rmm_conformance::builder::{create_realm, create_rec, rec_params, Pool, RealmSpec};
    use rmm_conformance::Checks;
    use zerocopy::{FromZeros, IntoBytes};

    let m = Machine::new(SimConfig {
        runs_realms: false,
        ..SimConfig::default()
    });
    let pool = Pool::new(&m);
    let mut c = Checks::new();
    let realm = create_realm(&m, &pool, &mut c, RealmSpec::default()).unwrap();
    let rec = create_rec(&m, &pool, &mut c, realm.rd, rec_params(0, 0x8_0000)).unwrap();
    assert_eq!(m.rmi(0, RmiFid::RealmActivate, &[realm.rd])[0], 0);
    // A valid entry: ICH_HCR_EL2 UIE and NPIE, and a pending virtual interrupt in LR 0
    // (vINTID 40, group 1, priority 0xA0).
    let run = pool.ns();
    let mut enter = rmi_abi::RmiRecEnter::new_zeroed();
    enter.gicv3_hcr = 1 << 1 | 1 << 3;
    enter.gicv3_lrs[0] = 1 << 62 | 1 << 60 | 0xA0 << 48 | 40;
    m.host_write(run, enter.as_bytes()).unwrap();
    let mut run_before = [0u8; 4096];
    m.host_read(run, &mut run_before).unwrap();

    let regs = [
        SysReg::HCR_EL2,
        SysReg::VTTBR_EL2,
        SysReg::VTCR_EL2,
        SysReg::VMPIDR_EL2,
        SysReg::CNTHCTL_EL2,
        SysReg::SCTLR_EL1,
    ];
    let sysregs = |m: &Machine| regs.map(|r| m.hw().read_reg(CpuId(0), r));
    let gic = |m: &Machine| {
        let mut g = m.hw().gic_model(CpuId(0));
        (g.lr(0), vgic::GicCpuIf::read_hcr(&mut *g))
    };
    let rec_bytes = |m: &Machine| {
        let mut b = [0u8; 4096];
        m.hw()
            .mem()
            .read(PhysAddr(rec), Pas::Realm, &mut b)
            .unwrap();
        b
    };
    let (regs_before, gic_before, rec_before) = (sysregs(&m), gic(&m), rec_bytes(&m));

    let r = m.rmi(0, RmiFid::RecEnter, &[rec, run]);
    assert_eq!(
        r[0], NOT_SUPPORTED,
        "REC_ENTER on a platform without realms"
    );
    assert_eq!(sysregs(&m), regs_before, "{regs:?}");
    assert_eq!(gic(&m), gic_before, "ICH_LR0_EL2, ICH_HCR_EL2");
    assert!(rec_bytes(&m) == rec_before, "the REC changed");
    let mut run_after = [0u8; 4096];
    m.host_read(run, &mut run_after).unwrap();
    assert!(run_after == run_before, "the RecRun page changed");
}

/// The leak check covers the whole pool, not only its start: a test that leaves
/// granules 10, 300 and the pool's last one delegated fails with exactly 3 reported.
#[test]
fn conformance_runner_counts_leaks_anywhere_in_the_pool() {
    use rmm_conformance::check::{self, TestDef};
    use rmm_conformance::{Checks, Host, Outcome};

    fn leaks_far(h: &dyn Host, c: &mut Checks) -> Result<(), Outcome> {
        let base = h.ns_granule(0);
        for n in [10, 300, h.pool_granules() as u64 - 1] {
            let pa = base + n * 4096;
            c.status("delegate", h.rmi(RmiFid::GranuleDelegate, &[pa])[0], Ok(()))?;
        }
        Ok(())
    }
    let tests = [TestDef {
        name: "leaks_far",
        run: leaks_far,
    }];
    let mut out = String::new();
    let s = check::run(&tests, |_| Machine::with_defaults(), &mut out).unwrap();
    assert_eq!((s.passed, s.failed), (0, 1), "{out}");
    assert!(
        out.contains(
            "Test=leaks_far Result=Failed (check 4: pool granules left inaccessible to the \
             host after the test: got 0x3, want 0x0)"
        ),
        "{out}"
    );
    let m = Machine::with_defaults();
    let last = m.ns_granule(Host::pool_granules(&m) - 1);
    assert_eq!(m.pas(last + 4096), None, "the pool ends with DRAM");
}
