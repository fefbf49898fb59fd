//! Realms running on the hosted machine: REC entry and exit, RSI, emulated MMIO,
//! aborts, interrupts. Realm programs are Rust closures run by the simulation; the
//! test plays the host.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use platform::{CpuId, SysReg};
use platform_sim::realm::{AccessSize, RealmCpu};
use rmi_abi::{RmiError, RmiFid, RmiRecEnter, RmiRecExit};
use rmm::hosted::Machine;
use rmm_conformance::builder::{
    create_realm, create_rec, load_pages, map_low_ipa, rec_params, Pool, Realm, RealmSpec,
};
use rmm_conformance::Checks;
use rsi_abi::fid;
use sha2::{Digest, Sha256};
use zerocopy::{FromBytes, FromZeros, IntoBytes};

const ENTRY: u64 = 0x8_0000;
const UNPROTECTED: u64 = 1 << 39;
const RSI_VERSION: u64 = fid::RSI_VERSION as u64;
const RSI_FEATURES: u64 = fid::RSI_FEATURES as u64;
const RSI_MEASUREMENT_READ: u64 = fid::RSI_MEASUREMENT_READ as u64;
const RSI_MEASUREMENT_EXTEND: u64 = fid::RSI_MEASUREMENT_EXTEND as u64;
const RSI_REALM_CONFIG: u64 = fid::RSI_REALM_CONFIG as u64;
const RSI_HOST_CALL: u64 = fid::RSI_HOST_CALL as u64;
/// RecEnter flags.
const EMUL_MMIO: u64 = 1;
const INJECT_SEA: u64 = 2;
const TRAP_WFI: u64 = 4;

struct World {
    m: Machine,
    realm: Realm,
    rec: u64,
    run: u64,
    next_ns: std::cell::Cell<usize>,
}

fn ok(m: &Machine, fid: RmiFid, args: &[u64]) -> [u64; 5] {
    let r = m.rmi(0, fid, args);
    assert_eq!(r[0], 0, "{fid:?} {args:x?}");
    r
}

impl World {
    /// An active 40-bit realm with 16 DATA pages (RIPAS RAM) at IPA 0..0x10000, RIPAS
    /// RAM on the rest of [0, 2 MiB), and one runnable REC at `ENTRY` running `program`.
    fn new(program: impl Fn(&mut RealmCpu) + Send + Sync + 'static) -> Self {
        Self::with(program, true)
    }

    fn with(program: impl Fn(&mut RealmCpu) + Send + Sync + 'static, activate: bool) -> Self {
        Self::on(Machine::with_defaults(), program, activate)
    }

    /// [`World::with`] on machine `m`.
    fn on(
        m: Machine,
        program: impl Fn(&mut RealmCpu) + Send + Sync + 'static,
        activate: bool,
    ) -> Self {
        Self::at(m, ENTRY, program, activate)
    }

    /// [`World::on`] with the REC's entry PC `entry`.
    fn at(
        m: Machine,
        entry: u64,
        program: impl Fn(&mut RealmCpu) + Send + Sync + 'static,
        activate: bool,
    ) -> Self {
        m.hw().register_realm_program(entry, Arc::new(program));
        let (realm, rec, run, next) = {
            let pool = Pool::new(&m);
            let mut c = Checks::new();
            let realm = create_realm(&m, &pool, &mut c, RealmSpec::default()).unwrap();
            map_low_ipa(&m, &pool, &mut c, realm.rd, 0x20_0000).unwrap();
            let src = pool.ns();
            load_pages(&m, &pool, &mut c, realm.rd, src, 16).unwrap();
            let mut p = rec_params(0, entry);
            p.gprs = [0x11, 0x22, 0, 0, 0, 0, 0, 0x88];
            let rec = create_rec(&m, &pool, &mut c, realm.rd, p).unwrap();
            if activate {
                ok(&m, RmiFid::RealmActivate, &[realm.rd]);
            }
            let run = pool.ns();
            (realm, rec, run, 1000)
        };
        World {
            m,
            realm,
            rec,
            run,
            next_ns: std::cell::Cell::new(next),
        }
    }

    fn ns(&self) -> u64 {
        let n = self.next_ns.get();
        self.next_ns.set(n + 1);
        self.m.ns_granule(n)
    }

    /// RMI_REC_ENTER with `enter`; returns x0 and the exit record.
    fn enter_with(&self, enter: &RmiRecEnter) -> (u64, RmiRecExit) {
        self.m.host_write(self.run, enter.as_bytes()).unwrap();
        let x0 = self.m.rmi(0, RmiFid::RecEnter, &[self.rec, self.run])[0];
        let mut page = [0u8; 4096];
        self.m.host_read(self.run, &mut page).unwrap();
        (x0, RmiRecExit::read_from_bytes(&page[0x800..]).unwrap())
    }

    /// A successful REC_ENTER with `flags` (WFI trapped unless told otherwise).
    fn enter(&self, flags: u64, gprs0: u64) -> RmiRecExit {
        let mut e = RmiRecEnter::new_zeroed();
        e.flags = flags;
        e.gprs[0] = gprs0;
        let (x0, exit) = self.enter_with(&e);
        assert_eq!(x0, 0, "REC_ENTER failed");
        exit
    }
}

fn assert_wfi_exit(exit: &RmiRecExit) {
    assert_eq!(exit.exit_reason, 0);
    assert_eq!(exit.esr, 0x01 << 26, "EC WFx, TI 0, nothing else");
    assert_eq!((exit.far, exit.hpfar), (0, 0));
    assert_eq!(exit.gprs, [0; 31]);
}

/// FP/SIMD registers with every word tagged `tag` in its top 16 bits.
fn fp_fill(tag: u64) -> platform::FpRegs {
    let mut f = platform::FpRegs::ZERO;
    for (i, v) in f.v.iter_mut().enumerate() {
        *v = [tag << 48 | i as u64, tag << 48 | 0x100 | i as u64];
    }
    f.fpcr = tag << 48 | 0x0700_0000;
    f.fpsr = tag << 48 | 0x0800_009F;
    f
}

/// EL3 does not switch FP/SIMD registers between worlds, so the RMM does (SMCCC: the
/// callee of an SMC preserves V0..V31, FPCR and FPSR): after every REC exit the CPU
/// holds the host's values again, bit-exact; the realm never sees a host value and
/// finds its own after a round trip through the host, which changed its own meanwhile.
#[test]
fn fp_simd_state_switched_between_host_and_realm() {
    let (host1, host2, mine) = (fp_fill(0x4853), fp_fill(0x4854), fp_fill(0x5245));
    let host_tags = [0x4853, 0x4854];
    let w = World::new(move |cpu| {
        let seen = cpu.fp();
        let words = seen.v.iter().flatten().chain([&seen.fpcr, &seen.fpsr]);
        for &word in words {
            assert!(
                !host_tags.contains(&(word >> 48)),
                "the realm sees a host FP/SIMD value: {word:#x}"
            );
        }
        cpu.set_fp(&mine);
        cpu.wfi();
        assert_eq!(
            cpu.fp(),
            mine,
            "the realm's own FP/SIMD registers after the exit"
        );
        cpu.wfi();
    });
    let cpu0 = w.m.hw().cpu(CpuId(0));
    cpu0.set_fp(&host1);
    assert_wfi_exit(&w.enter(TRAP_WFI, 0));
    assert_eq!(
        cpu0.fp(),
        host1,
        "the host's FP/SIMD registers after REC_ENTER"
    );
    cpu0.set_fp(&host2);
    assert_wfi_exit(&w.enter(TRAP_WFI, 0));
    assert_eq!(
        cpu0.fp(),
        host2,
        "the host's FP/SIMD registers after REC_ENTER"
    );
}

#[test]
fn rsi_version_features_smccc_and_wfi_exit() {
    let w = World::new(|cpu| {
        assert_eq!(cpu.regs().gprs[0], 0x11, "x0 from RecParams");
        assert_eq!(cpu.regs().gprs[7], 0x88, "x7 from RecParams");
        let r = cpu.smc(RSI_VERSION, &[0x1_0000]);
        assert_eq!(&r[..3], &[0, 0x1_0000, 0x1_0000]);
        let r = cpu.smc(RSI_VERSION, &[0x2_0000]);
        assert_eq!(
            &r[..3],
            &[1, 0x1_0000, 0x1_0000],
            "ERROR_INPUT, range reported"
        );
        let r = cpu.smc(RSI_FEATURES, &[0]);
        assert_eq!(&r[..2], &[0, 0]);
        assert_eq!(cpu.smc(0x8000_0000, &[])[0], 0x1_0002, "SMCCC 1.2");
        assert_eq!(cpu.smc(0x8400_0000, &[])[0], 0x1_0001, "PSCI 1.1");
        assert_eq!(
            cpu.smc(0xC400_01A0, &[])[0],
            u64::MAX,
            "unknown: NOT_SUPPORTED"
        );
        cpu.regs();
        cpu.wfi();
        cpu.wfi();
    });
    let exit = w.enter(TRAP_WFI, 0);
    assert_wfi_exit(&exit);
    assert_eq!(exit.gicv3_hcr, 0, "no host HCR bits, EOIcount 0");
    let exit = w.enter(TRAP_WFI, 0);
    assert_wfi_exit(&exit);
}

/// SMCCC (DEN0028) 2.5: the function identifier of a realm's SMC is W0; bits [63:32] of
/// X0 do not change which function is called.
#[test]
fn realm_smc_function_id_is_w0() {
    let w = World::new(|cpu| {
        let hi = 0xFFFF_FFFF_0000_0000u64;
        let r = cpu.smc(hi | RSI_VERSION, &[0x1_0000]);
        assert_eq!(&r[..3], &[0, 0x1_0000, 0x1_0000], "RSI_VERSION");
        assert_eq!(
            cpu.smc(1 << 32 | 0x8000_0000, &[])[0],
            0x1_0002,
            "SMCCC 1.2"
        );
        assert_eq!(cpu.smc(1 << 63 | 0x8400_0000, &[])[0], 0x1_0001, "PSCI 1.1");
        assert_eq!(
            cpu.smc(hi | 0xC400_01A0, &[])[0],
            u64::MAX,
            "unknown: NOT_SUPPORTED"
        );
        cpu.wfi();
    });
    let exit = w.enter(TRAP_WFI, 0);
    assert_wfi_exit(&exit);
}

/// DEN0137 1.0, B1.2: on return from an RSI command, X0-X16 that are not outputs of
/// the command read zero; X17-X30 are the realm's own. Each call starts with junk in
/// every register after its inputs.
#[test]
fn rsi_registers_other_than_outputs_read_zero() {
    fn call(cpu: &mut RealmCpu, fid: u64, inputs: &[u64]) -> [u64; 31] {
        let mut args = [0u64; 30];
        for (i, a) in args.iter_mut().enumerate() {
            *a = 0xDEAD_0000 + i as u64 + 1;
        }
        args[..inputs.len()].copy_from_slice(inputs);
        cpu.smc(fid, &args)
    }
    fn check(r: &[u64; 31], outputs: usize, what: &str) {
        for (i, &v) in r.iter().enumerate().take(17).skip(outputs) {
            assert_eq!(v, 0, "{what}: x{i} is not an output and must read zero");
        }
        for (i, &v) in r.iter().enumerate().skip(17) {
            assert_eq!(v, 0xDEAD_0000 + i as u64, "{what}: x{i} is the realm's");
        }
    }
    let w = World::new(|cpu| {
        let r = call(cpu, RSI_VERSION, &[0x1_0000]);
        assert_eq!(&r[..3], &[0, 0x1_0000, 0x1_0000]);
        check(&r, 3, "RSI_VERSION");
        let r = call(cpu, RSI_FEATURES, &[0]);
        assert_eq!(&r[..2], &[0, 0]);
        check(&r, 2, "RSI_FEATURES");
        let r = call(cpu, RSI_MEASUREMENT_READ, &[0]);
        assert_eq!(r[0], 0, "RSI_MEASUREMENT_READ of the RIM");
        check(&r, 9, "RSI_MEASUREMENT_READ");
        let r = call(cpu, fid::RSI_IPA_STATE_GET as u64, &[0, 0x1000]);
        assert_eq!(
            &r[..3],
            &[0, 0x1000, 1],
            "RSI_IPA_STATE_GET: RAM up to 0x1000"
        );
        check(&r, 3, "RSI_IPA_STATE_GET");
        let r = call(cpu, fid::RSI_ATTESTATION_TOKEN_INIT as u64, &[0]);
        assert_eq!(r[0], 0, "RSI_ATTESTATION_TOKEN_INIT: no failure conditions");
        assert!(r[1] > 0, "x1: the token's size");
        check(&r, 2, "RSI_ATTESTATION_TOKEN_INIT");
        // Completed on the next REC entry.
        cpu.write(0x1100, &[0u8; 256]).unwrap();
        let r = call(cpu, RSI_HOST_CALL, &[0x1100]);
        assert_eq!(r[0], 0);
        check(&r, 1, "RSI_HOST_CALL");
        cpu.wfi();
    });
    let exit = w.enter(TRAP_WFI, 0);
    assert_eq!(exit.exit_reason, 5, "HOST_CALL");
    let exit = w.enter(TRAP_WFI, 0);
    assert_wfi_exit(&exit);
}

#[test]
fn host_call_round_trip() {
    let w = World::new(|cpu| {
        let mut call = [0u8; 256];
        call[0..2].copy_from_slice(&0x42u16.to_le_bytes());
        for i in 0..31u64 {
            call[8 + 8 * i as usize..16 + 8 * i as usize]
                .copy_from_slice(&(0xA0 + i).to_le_bytes());
        }
        cpu.write(0x1100, &call).unwrap();
        let r = cpu.smc(RSI_HOST_CALL, &[0x1100]);
        assert_eq!(r[0], 0, "RSI_SUCCESS");
        let mut back = [0u8; 256];
        cpu.read(0x1100, &mut back).unwrap();
        for i in 0..31u64 {
            let v = u64::from_le_bytes(
                back[8 + 8 * i as usize..16 + 8 * i as usize]
                    .try_into()
                    .unwrap(),
            );
            assert_eq!(v, 1000 + i, "host result {i}");
        }
        assert_eq!(
            cpu.smc(RSI_HOST_CALL, &[0x1180])[0],
            1,
            "unaligned: ERROR_INPUT"
        );
        assert_eq!(
            cpu.smc(RSI_HOST_CALL, &[UNPROTECTED])[0],
            1,
            "unprotected: ERROR_INPUT"
        );
        cpu.wfi();
    });
    let exit = w.enter(TRAP_WFI, 0);
    assert_eq!(exit.exit_reason, 5, "HOST_CALL");
    assert_eq!(exit.imm, 0x42);
    for i in 0..31 {
        assert_eq!(exit.gprs[i], 0xA0 + i as u64);
    }
    assert_eq!((exit.esr, exit.far, exit.hpfar), (0, 0, 0));
    let mut e = RmiRecEnter::new_zeroed();
    e.flags = TRAP_WFI;
    for i in 0..31 {
        e.gprs[i] = 1000 + i as u64;
    }
    let (x0, exit) = w.enter_with(&e);
    assert_eq!(x0, 0);
    assert_wfi_exit(&exit);
}

#[test]
fn emulated_mmio_read_and_write() {
    let w = World::new(|cpu| {
        let dev = UNPROTECTED + 0x1000;
        // LDRSH x5: sign-extended by the RMM from the host's value.
        let v = cpu.load(dev + 0x24, AccessSize::B2, 5, true, true).unwrap();
        assert_eq!(v, 0xFFFF_FFFF_FFFF_8001);
        assert_eq!(cpu.regs().gprs[5], 0xFFFF_FFFF_FFFF_8001);
        // LDR w6: zero-extended 32-bit.
        let v = cpu
            .load(dev + 0x28, AccessSize::B4, 6, false, false)
            .unwrap();
        assert_eq!(v, 0x8765_4321);
        // STR w7.
        cpu.store(dev + 0x30, AccessSize::B4, 7, 0x1234_5678)
            .unwrap();
        cpu.wfi();
    });
    let exit = w.enter(TRAP_WFI, 0);
    assert_eq!(exit.exit_reason, 0);
    // EC DABT lower, IL... not kept; ISV, SAS=1 (half), SF, WnR=0, DFSC translation L1.
    // SSE and SRT are not exposed to the host.
    assert_eq!(
        exit.esr,
        0x24 << 26 | 1 << 24 | 1 << 22 | 1 << 15 | 0b00_0101
    );
    assert_eq!(exit.far, 0x24, "FAR within the granule");
    assert_eq!(exit.hpfar, ((UNPROTECTED + 0x1000) >> 12) << 4);
    assert_eq!(exit.gprs, [0; 31], "a read exposes no register");
    let exit = w.enter(TRAP_WFI | EMUL_MMIO, 0xFFFF_8001);
    assert_eq!(exit.esr & (1 << 22 | 3 << 22), 2 << 22, "SAS word");
    assert_eq!(exit.esr & (1 << 15), 0, "SF 0 for a W register");
    let exit = w.enter(TRAP_WFI | EMUL_MMIO, 0xDEAD_BEEF_8765_4321);
    assert_eq!(exit.esr & (1 << 6), 1 << 6, "WnR");
    assert_eq!(exit.gprs[0], 0x1234_5678, "the value written");
    assert_eq!(exit.far, 0x30);
    let exit = w.enter(TRAP_WFI | EMUL_MMIO, 0);
    assert_wfi_exit(&exit);
    // EMUL_MMIO after a WFI exit: rec_mmio.
    let mut e = RmiRecEnter::new_zeroed();
    e.flags = EMUL_MMIO;
    assert_eq!(w.enter_with(&e).0, RmiError::Rec.return_code());
}

#[test]
fn aborts_inject_sea_or_exit() {
    let w = World::new(|cpu| {
        let mut b = [0u8; 8];
        // Protected, RIPAS EMPTY (beyond the 2 MiB initialised): SEA, no exit.
        let e = cpu.read(0x40_0000, &mut b).unwrap_err();
        assert_eq!(e.esr >> 26, 0x25, "data abort, same EL");
        assert_eq!(e.esr & 0x3F, 0b01_0000, "synchronous external abort");
        // Outside the IPA space: SEA.
        let e = cpu.read(1 << 40, &mut b).unwrap_err();
        assert_eq!(e.esr & 0x3F, 0b01_0000);
        // Protected, UNASSIGNED RAM: exit; the host maps data and the access succeeds.
        cpu.read(0x10_0000, &mut b).unwrap();
        assert_eq!(b, [0; 8]);
        // Unprotected without a syndrome (ISV 0): exit; the host injects an SEA.
        let e = cpu.read(UNPROTECTED + 0x5000, &mut b).unwrap_err();
        assert_eq!(e.esr & 0x3F, 0b01_0000);
        cpu.wfi();
    });
    let exit = w.enter(TRAP_WFI, 0);
    assert_eq!(exit.exit_reason, 0);
    assert_eq!(
        exit.esr,
        0x24 << 26 | 0b00_0111,
        "translation fault level 3, nothing else"
    );
    assert_eq!(exit.hpfar, (0x10_0000 >> 12) << 4);
    assert_eq!(exit.far, 0, "FAR hidden for a protected IPA");
    let data = w.ns();
    ok(&w.m, RmiFid::GranuleDelegate, &[data]);
    ok(
        &w.m,
        RmiFid::DataCreateUnknown,
        &[w.realm.rd, data, 0x10_0000],
    );
    let exit = w.enter(TRAP_WFI, 0);
    assert_eq!(
        exit.esr,
        0x24 << 26 | 1 << 25 | 0b00_0101,
        "unprotected, ISV 0: IL kept"
    );
    let exit = w.enter(TRAP_WFI | INJECT_SEA, 0);
    assert_wfi_exit(&exit);
}

#[test]
fn physical_irq_exits_to_the_host() {
    let w = World::new(|cpu| {
        let r = cpu.smc(RSI_VERSION, &[0x1_0000]);
        assert_eq!(r[0], 0);
        cpu.wfi();
    });
    w.m.hw().raise_irq(CpuId(0));
    let exit = w.enter(TRAP_WFI, 0);
    assert_eq!(exit.exit_reason, 1, "IRQ");
    assert_eq!(exit.esr, 0);
    let exit = w.enter(TRAP_WFI, 0);
    assert_wfi_exit(&exit);
}

#[test]
fn virtual_interrupt_delivery_and_exit_report() {
    use vgic::sim::Group;
    let w = World::new(|cpu| {
        cpu.gic(|g| g.set_group_enable(Group::Group1, true));
        cpu.gic(|g| g.set_priority_mask(0xFF));
        let got = cpu.gic(|g| g.acknowledge(Group::Group1));
        assert_eq!(got, Some(40));
        cpu.gic(|g| g.eoi(Group::Group1, 40));
        cpu.wfi();
    });
    let mut e = RmiRecEnter::new_zeroed();
    e.flags = TRAP_WFI;
    // UIE | NPIE; LR0: pending, group 1, priority 0xA0, vINTID 40.
    e.gicv3_hcr = 1 << 1 | 1 << 3;
    e.gicv3_lrs[0] = 1 << 62 | 1 << 60 | 0xA0 << 48 | 40;
    let (x0, exit) = w.enter_with(&e);
    assert_eq!(x0, 0);
    assert_eq!(exit.exit_reason, 0);
    assert_eq!(
        exit.gicv3_lrs[0] >> 62,
        0,
        "acknowledged and EOIed: invalid"
    );
    assert_eq!(exit.gicv3_lrs[0] & 0xFFFF_FFFF, 40);
    assert_eq!(
        exit.gicv3_hcr,
        1 << 1 | 1 << 3,
        "the host's bits, EOIcount 0"
    );
    assert_eq!(exit.gicv3_misr & 0b1010, 0b1010, "U and NP");
    assert_eq!(exit.gicv3_vmcr >> 1 & 1, 1, "VENG1 set by the realm");
}

#[test]
fn invalid_gic_state_is_rejected_and_nothing_runs() {
    let steps = Arc::new(AtomicUsize::new(0));
    let s = steps.clone();
    let w = World::new(move |cpu| loop {
        s.fetch_add(1, Ordering::SeqCst);
        cpu.wfi();
    });
    let mut e = RmiRecEnter::new_zeroed();
    e.flags = TRAP_WFI;
    e.gicv3_hcr = 1; // En: not the host's to set
    assert_eq!(w.enter_with(&e).0, RmiError::Rec.return_code());
    e.gicv3_hcr = 0;
    e.gicv3_lrs[0] = 1 << 62 | 40;
    e.gicv3_lrs[1] = 1 << 62 | 40; // duplicate vINTID
    assert_eq!(w.enter_with(&e).0, RmiError::Rec.return_code());
    e.gicv3_lrs[1] = 1 << 62 | 1 << 61 | 41; // HW bit
    assert_eq!(w.enter_with(&e).0, RmiError::Rec.return_code());
    assert_eq!(steps.load(Ordering::SeqCst), 0, "the realm never ran");
    e.gicv3_lrs[1] = 0;
    assert_eq!(w.enter_with(&e).0, 0);
    assert_eq!(steps.load(Ordering::SeqCst), 1);
}

#[test]
fn rec_enter_failure_conditions() {
    let w = World::with(|cpu| cpu.wfi(), false);
    let run = w.run;
    let e = |rec: u64, run: u64| w.m.rmi(0, RmiFid::RecEnter, &[rec, run])[0];
    let input = RmiError::Input.return_code();
    w.m.host_write(run, RmiRecEnter::new_zeroed().as_bytes())
        .unwrap();
    assert_eq!(e(w.rec, run + 8), input, "run_align");
    assert_eq!(e(w.rec, 0x1_0000_0000), input, "run_bound");
    assert_eq!(e(w.rec, w.realm.rd), input, "run_pas");
    assert_eq!(e(w.rec + 8, run), input, "rec_align");
    assert_eq!(e(0x1_0000_0000, run), input, "rec_bound");
    assert_eq!(e(w.realm.rd, run), input, "rec_gran_state");
    assert_eq!(e(w.rec, run), RmiError::Realm(0).return_code(), "realm_new");
    // Precedence: run_pas before realm_new.
    assert_eq!(e(w.rec, w.realm.rd), input);
    ok(&w.m, RmiFid::RealmActivate, &[w.realm.rd]);
    assert_eq!(e(w.rec, run), 0);
}

#[test]
fn realm_config_and_measurements() {
    let w = World::new(|cpu| {
        assert_eq!(cpu.smc(RSI_REALM_CONFIG, &[0x2000])[0], 0);
        let mut cfg = [0u8; 4096];
        cpu.read(0x2000, &mut cfg).unwrap();
        assert_eq!(
            u64::from_le_bytes(cfg[0..8].try_into().unwrap()),
            40,
            "ipa_width"
        );
        assert_eq!(cfg[8], 0, "hash_algo SHA-256");
        assert_eq!(&cfg[0x200..0x240], &[0x5A; 64], "rpv");
        assert_eq!(cpu.smc(RSI_REALM_CONFIG, &[0x2100])[0], 1, "unaligned");
        assert_eq!(
            cpu.smc(RSI_REALM_CONFIG, &[UNPROTECTED])[0],
            1,
            "unprotected"
        );

        let data: [u64; 8] = [0x0102_0304_0506_0708, 0x1111, 0, 0, 0, 0, 0, 0];
        let mut args = vec![1u64, 12];
        args.extend_from_slice(&data);
        assert_eq!(cpu.smc(RSI_MEASUREMENT_EXTEND, &args)[0], 0);
        let r = cpu.smc(RSI_MEASUREMENT_READ, &[1]);
        assert_eq!(r[0], 0);
        let mut bytes = Vec::new();
        for w in &r[1..9] {
            bytes.extend_from_slice(&w.to_le_bytes());
        }
        let mut h = Sha256::new();
        h.update([0u8; 32]);
        h.update(&data.as_bytes()[..12]);
        let want = h.finalize();
        assert_eq!(&bytes[..32], &want[..], "REM1 = H(0^32 || 12 bytes)");
        assert_eq!(&bytes[32..], &[0; 32]);
        assert_eq!(
            cpu.smc(RSI_MEASUREMENT_EXTEND, &[0, 8])[0],
            1,
            "index 0 (RIM) is not extendable"
        );
        assert_eq!(cpu.smc(RSI_MEASUREMENT_EXTEND, &[5, 8])[0], 1, "index 5");
        assert_eq!(cpu.smc(RSI_MEASUREMENT_EXTEND, &[1, 65])[0], 1, "size 65");
        assert_eq!(cpu.smc(RSI_MEASUREMENT_READ, &[5])[0], 1, "index 5");
        let rim = cpu.smc(RSI_MEASUREMENT_READ, &[0]);
        assert_eq!(rim[0], 0);
        let _ = rim;
        cpu.wfi();
    });
    let exit = w.enter(TRAP_WFI, 0);
    assert_wfi_exit(&exit);
    // The RIM the realm read is the RD's.
    let rd =
        rmm::realm::Rd::read_from_prefix(&w.m.hw().mem().inspect(platform::PhysAddr(w.realm.rd)).0)
            .unwrap()
            .0;
    assert_ne!(rd.measurements[0], [0; 64]);
    let _ = SysReg::VBAR_EL1;
}

/// REC entry on one CPU while another names the same REC and RD in commands that lock
/// both (in address order): no deadlock, and every call completes with a status.
#[test]
fn rec_enter_races_commands_naming_the_rec() {
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watchdog = done.clone();
    std::thread::spawn(move || {
        for _ in 0..1200 {
            if watchdog.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        eprintln!("deadlock: REC_ENTER racing RTT_SET_RIPAS/RTT_CREATE did not finish");
        std::process::abort();
    });
    let w = World::new(|cpu| loop {
        cpu.wfi();
    });
    let (m, rec, rd) = (&w.m, w.rec, w.realm.rd);
    let mut e = RmiRecEnter::new_zeroed();
    e.flags = TRAP_WFI;
    m.host_write(w.run, e.as_bytes()).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..300 {
                let x0 = m.rmi(0, RmiFid::RecEnter, &[rec, w.run])[0];
                assert_eq!(x0, 0);
            }
        });
        s.spawn(|| {
            for i in 0..300u64 {
                let x0 = if i % 2 == 0 {
                    m.rmi(1, RmiFid::RttSetRipas, &[rd, rec, 0, 0x1000])[0]
                } else {
                    m.rmi(1, RmiFid::RttCreate, &[rd, rec, 0x4000_0000, 2])[0]
                };
                assert!(x0 == 1 || x0 == 3 || x0 & 0xFF == 4, "status {x0:#x}");
            }
        });
    });
    done.store(true, Ordering::SeqCst);
}

/// DEN0137 1.0, A6.2: a realm timer that starts asserting exits the REC (IRQ) with
/// its state in the exit record; on the next entry it is masked so that the realm runs;
/// when the realm stops the timer the host sees that too.
#[test]
fn realm_timer_assertion_exits_then_is_masked() {
    let w = World::new(|cpu| {
        cpu.write_sysreg(SysReg::CNTV_CVAL_EL0, 1000);
        cpu.write_sysreg(SysReg::CNTV_CTL_EL0, 1); // ENABLE
        cpu.wfi();
        cpu.wfi();
        cpu.write_sysreg(SysReg::CNTV_CTL_EL0, 0); // the handler stops the timer
        cpu.wfi();
    });
    let exit = w.enter(TRAP_WFI, 0);
    assert_wfi_exit(&exit);
    assert_eq!(
        (exit.cntv_ctl, exit.cntv_cval),
        (1, 1000),
        "enabled, not yet firing"
    );
    w.m.hw().set_counter(2000);
    let exit = w.enter(TRAP_WFI, 0);
    assert_eq!(exit.exit_reason, 1, "IRQ: the timer output changed");
    assert_eq!(exit.esr, 0);
    assert_eq!(exit.cntv_ctl, 0b101, "ENABLE and ISTATUS");
    // The host would inject the timer's virtual interrupt; the realm now runs.
    let exit = w.enter(TRAP_WFI, 0);
    assert_wfi_exit(&exit);
    assert_eq!(exit.cntv_ctl, 0b101);
    let exit = w.enter(TRAP_WFI, 0);
    assert_wfi_exit(&exit);
    assert_eq!(exit.cntv_ctl, 0, "stopped");
    assert_eq!(
        w.m.hw().read_reg(CpuId(0), SysReg::CNTHCTL_EL2) & (1 << 18),
        0,
        "host CNTHCTL_EL2 restored"
    );
}

/// FIQ and SError taken while the realm runs (the SError caused by the realm: pending
/// from one of its steps on): exits with reason FIQ (ESR zero) and SERROR, every other
/// field zero but the GIC and timer state. DEN0137 1.0, A4.3.10
/// (RLRCFP): the SError exit's esr holds ESR_EL2.EC, ISS.IDS, ISS.AET, ISS.EA and
/// ISS.DFSC only: IL (set for every SError, Arm ARM ESR_ELx.IL), IESB [13] and the RES0
/// bits are not reported. With IDS set, ISS [23:0] is IMPLEMENTATION DEFINED: no AET,
/// EA or DFSC fields exist, so EC and IDS only.
#[test]
fn fiq_and_serror_exit_to_the_host() {
    // Syndromes of SErrors the realm's next steps cause (an asynchronous error of an
    // access it made), one after each WFI.
    let serrors = Arc::new(std::sync::Mutex::new(std::collections::VecDeque::new()));
    let queue = serrors.clone();
    let w = World::new(move |cpu| loop {
        cpu.smc(RSI_FEATURES, &[0]);
        cpu.wfi();
        if let Some(esr) = queue.lock().unwrap().pop_front() {
            cpu.serror_now(esr);
        }
    });
    w.m.hw().raise_fiq(CpuId(0));
    let exit = w.enter(TRAP_WFI, 0);
    assert_eq!(exit.exit_reason, 2, "FIQ");
    assert_eq!((exit.esr, exit.far, exit.hpfar), (0, 0, 0));
    assert_eq!(exit.gprs, [0; 31]);
    assert_wfi_exit(&w.enter(TRAP_WFI, 0));
    const EC_SERROR: u64 = 0x2F << 26;
    const IL: u64 = 1 << 25;
    for (esr, reported) in [
        // DFSC 0b010001: asynchronous SError interrupt.
        (EC_SERROR | IL | 0x11, EC_SERROR | 0x11),
        // IESB [13], AET [12:10] = 0b010 (Unrecoverable), EA [9], DFSC, RES0 bits 23:14
        // and 8:6 set as a later architecture might use them.
        (
            EC_SERROR | IL | 0xFF_C000 | 1 << 13 | 0b010 << 10 | 1 << 9 | 0x1C0 | 0x11,
            EC_SERROR | 0b010 << 10 | 1 << 9 | 0x11,
        ),
        // IDS: an IMPLEMENTATION DEFINED syndrome.
        (EC_SERROR | IL | 1 << 24 | 0xAB_CDEF, EC_SERROR | 1 << 24),
    ] {
        serrors.lock().unwrap().push_back(esr);
        let exit = w.enter(TRAP_WFI, 0);
        assert_eq!(exit.exit_reason, 6, "SERROR");
        assert_eq!(exit.esr, reported, "ESR_EL2 {esr:#x}");
        assert_eq!((exit.far, exit.hpfar), (0, 0));
        assert_eq!(exit.gprs, [0; 31]);
        assert_wfi_exit(&w.enter(TRAP_WFI, 0));
    }
}

/// Instruction fetches (A4.3.4.2, A5.2.6): from a protected IPA that is UNASSIGNED with
/// RIPAS RAM the REC exits (EC, IFSC, HPFAR); from RIPAS EMPTY or an unprotected IPA the
/// realm takes an SEA.
#[test]
fn instruction_aborts() {
    let w = World::new(|cpu| {
        cpu.fetch(0x2000).unwrap();
        let e = cpu.fetch(UNPROTECTED + 0x1000).unwrap_err();
        assert_eq!(e.esr >> 26, 0x21, "instruction abort, same EL");
        assert_eq!(e.esr & 0x3F, 0b01_0000, "SEA");
        let e = cpu.fetch(0x40_0000).unwrap_err();
        assert_eq!(e.esr & 0x3F, 0b01_0000, "RIPAS EMPTY: SEA");
        cpu.fetch(0x10_0000).unwrap();
        cpu.wfi();
    });
    let exit = w.enter(TRAP_WFI, 0);
    assert_eq!(exit.exit_reason, 0);
    assert_eq!(
        exit.esr,
        0x20 << 26 | 0b00_0111,
        "instruction abort, translation level 3"
    );
    assert_eq!(exit.hpfar, (0x10_0000 >> 12) << 4);
    assert_eq!((exit.far, exit.gprs), (0, [0; 31]));
    let data = w.ns();
    ok(&w.m, RmiFid::GranuleDelegate, &[data]);
    ok(
        &w.m,
        RmiFid::DataCreateUnknown,
        &[w.realm.rd, data, 0x10_0000],
    );
    assert_wfi_exit(&w.enter(TRAP_WFI, 0));
}

/// Realm vectors at this VBAR_EL1 in the exception tests.
const VBAR: u64 = 0x4_0000;
/// A protected IPA with RIPAS EMPTY (beyond the 2 MiB World initialises).
const EMPTY_IPA: u64 = 0x40_0000;

/// Arm ARM, D1.3.1 and AArch64.TakeException: the SEA the RMM injects for an access to
/// RIPAS EMPTY memory is taken at the vector for where the realm was (EL1h +0x200, EL1t
/// +0x000, EL0 +0x400), with the EC of that EL (0x25 current, 0x24 lower), ELR_EL1 the
/// instruction, SPSR_EL1 the PSTATE it had, and the handler running at EL1h with D, A,
/// I, F masked and N, Z, C, V kept. The same for an SEA the host asks for (INJECT_SEA)
/// after an unprotected-IPA abort taken at EL0.
#[test]
fn injected_aborts_use_the_vector_and_syndrome_of_the_realm_el() {
    let w = World::new(|cpu| {
        cpu.write_sysreg(SysReg::VBAR_EL1, VBAR);
        let mut b = [0u8; 8];
        let pc = cpu.regs().pc;
        // EL1h (the REC's initial PSTATE).
        let e = cpu.read(EMPTY_IPA, &mut b).unwrap_err();
        assert_eq!(e.vector, 0x200, "EL1h: current EL with SP_ELx");
        assert_eq!(
            e.esr,
            0x25 << 26 | 1 << 25 | 0b01_0000,
            "DABT current EL, SEA"
        );
        assert_eq!(
            (e.far, e.elr, e.spsr, e.pstate),
            (EMPTY_IPA, pc, 0x3C5, 0x3C5)
        );
        // EL1t, NZCV set.
        cpu.set_pstate(0xF000_03C4);
        let pc = cpu.regs().pc;
        let e = cpu.read(EMPTY_IPA + 8, &mut b).unwrap_err();
        assert_eq!(e.vector, 0x000, "EL1t: current EL with SP_EL0");
        assert_eq!(e.esr >> 26, 0x25);
        assert_eq!((e.elr, e.spsr), (pc, 0xF000_03C4));
        assert_eq!(e.pstate, 0xF000_03C5, "EL1h, DAIF masked, NZCV kept");
        assert_eq!(
            cpu.regs().pstate,
            0xF000_03C4,
            "the handler returned to EL1t"
        );
        // EL0 (AArch64), Z and C set, nothing masked.
        cpu.set_pstate(0x6000_0000);
        let pc = cpu.regs().pc;
        let e = cpu.read(EMPTY_IPA, &mut b).unwrap_err();
        assert_eq!(e.vector, 0x400, "EL0: lower EL using AArch64");
        assert_eq!(
            e.esr,
            0x24 << 26 | 1 << 25 | 0b01_0000,
            "DABT lower EL, SEA"
        );
        assert_eq!((e.far, e.elr, e.spsr), (EMPTY_IPA, pc, 0x6000_0000));
        assert_eq!(e.pstate, 0x6000_03C5);
        // A write at EL0 to an unprotected IPA without a syndrome: the host injects.
        let e = cpu.write(UNPROTECTED + 0x5000, &b).unwrap_err();
        assert_eq!(e.vector, 0x400);
        assert_eq!(e.esr >> 26, 0x24, "lower EL");
        assert_eq!(e.esr & (1 << 6 | 0x3F), 1 << 6 | 0b01_0000, "WnR, SEA");
        assert_eq!(e.spsr, 0x6000_0000);
        cpu.set_pstate(0x3C5);
        cpu.wfi();
    });
    let exit = w.enter(TRAP_WFI, 0);
    assert_eq!(exit.esr >> 26, 0x24, "the unprotected write exits");
    assert_wfi_exit(&w.enter(TRAP_WFI | INJECT_SEA, 0));
}

/// Arm ARM, AArch64.TakeException: on a CPU with FEAT_PAN, FEAT_SSBS and FEAT_MTE, the
/// handler of an injected exception runs with PAN set (SCTLR_EL1.SPAN 0), SSBS =
/// SCTLR_EL1.DSSBS, TCO set; UAO, BTYPE, SS and IL cleared; N, Z, C, V kept.
#[test]
fn injected_exception_entry_pstate_follows_the_architecture() {
    let mut config = platform_sim::SimConfig::default();
    // ID_AA64MMFR1_EL1.PAN [23:20] = 1; ID_AA64PFR1_EL1.SSBS [7:4] = 1, MTE [11:8] = 2.
    config.sysregs.set(SysReg::ID_AA64MMFR1_EL1, 1 << 20);
    config.sysregs.set(SysReg::ID_AA64PFR1_EL1, 1 << 4 | 2 << 8);
    let w = World::on(
        Machine::new(config),
        |cpu| {
            const SPAN: u64 = 1 << 23;
            const DSSBS: u64 = 1 << 44;
            cpu.write_sysreg(SysReg::VBAR_EL1, VBAR);
            let sctlr = cpu.read_sysreg(SysReg::SCTLR_EL1);
            cpu.write_sysreg(SysReg::SCTLR_EL1, (sctlr & !SPAN) | DSSBS);
            // N and V, UAO [23], SS [21], IL [20], BTYPE [11:10] = 0b11, EL1h masked.
            let before = 0x9000_0000 | 1 << 23 | 1 << 21 | 1 << 20 | 3 << 10 | 0x3C5;
            cpu.set_pstate(before);
            let mut b = [0u8; 8];
            let e = cpu.read(EMPTY_IPA, &mut b).unwrap_err();
            assert_eq!(e.spsr, before);
            assert_eq!(
                e.pstate,
                0x9000_0000 | 1 << 25 | 1 << 22 | 1 << 12 | 0x3C5,
                "NZCV kept, TCO, PAN, SSBS set, UAO/SS/IL/BTYPE clear"
            );
            // SPAN 1 leaves PAN as it was; DSSBS 0 clears SSBS.
            cpu.write_sysreg(SysReg::SCTLR_EL1, sctlr | SPAN);
            cpu.set_pstate(0x3C5 | 1 << 12);
            let e = cpu.read(EMPTY_IPA, &mut b).unwrap_err();
            assert_eq!(e.pstate, 1 << 25 | 0x3C5, "PAN stays clear, SSBS cleared");
            cpu.set_pstate(0x3C5);
            cpu.wfi();
        },
        true,
    );
    assert_wfi_exit(&w.enter(TRAP_WFI, 0));
}

/// ICC_SGI1R_EL1 in the MSR/MRS ISS layout (op0 3, op1 0, CRn 12, CRm 11, op2 5).
const ICC_SGI1R_EL1_ISS: u64 = 3 << 20 | 5 << 17 | 12 << 10 | 11 << 1;
/// ESR of a trapped MSR/MRS (EC 0x18, IL).
const SYSREG_TRAP: u64 = 0x18 << 26 | 1 << 25;
/// ESR_EL1 of an Undefined Instruction exception: EC 0x00, IL 1.
const UNDEFINED: u64 = 1 << 25;

/// What the realm may not do at R-EL2 with HCR_REALM is UNDEFINED for it (an
/// Undefined Instruction exception, EC 0x00, at its vector, returning to the
/// instruction): HVC (realms use the SMC conduit), a trapped instruction of a class the
/// realm cannot cause (here an FP/SIMD trap, EC 0x07), an MRS/MSR the RMM does not
/// emulate. An SMC with a non-zero immediate is not an SMCCC call: NOT_SUPPORTED. A
/// write to ICC_SGI1R_EL1 (trapped by HCR_EL2.IMO) exits to the host with the syndrome
/// less Rt and the value in gprs[0], and the realm continues after it.
#[test]
fn realm_instructions_it_may_not_execute_are_undefined() {
    let w = World::new(|cpu| {
        cpu.write_sysreg(SysReg::VBAR_EL1, VBAR);
        let pc = cpu.regs().pc;
        let e = cpu.hvc(0).unwrap_err();
        assert_eq!(e.esr, UNDEFINED, "HVC: EC 0x00, IL");
        assert_eq!(
            (e.vector, e.elr, e.spsr),
            (0x200, pc, 0x3C5),
            "ELR: the HVC"
        );
        assert_eq!(cpu.regs().pc, pc + 4, "the handler returned past the HVC");
        cpu.set_pstate(0x3C4);
        let e = cpu.hvc(0x1234).unwrap_err();
        assert_eq!((e.esr, e.vector), (UNDEFINED, 0x000), "HVC at EL1t");
        cpu.set_pstate(0x3C5);

        let r = cpu.smc_imm(1, RSI_VERSION, &[0x1_0000]);
        assert_eq!(r[0], u64::MAX, "SMC #1: NOT_SUPPORTED");
        assert_eq!(r[1], 0x1_0000, "SMC #1: nothing else changed");

        let pc = cpu.regs().pc;
        let e = cpu.trapped(0x07 << 26 | 1 << 25).unwrap_err();
        assert_eq!((e.esr, e.elr), (UNDEFINED, pc), "EC 0x07: undefined");
        // MRS x2, S3_0_C15_C0_0: not a register the RMM emulates.
        let e = cpu
            .trapped(SYSREG_TRAP | 3 << 20 | 15 << 10 | 2 << 5 | 1)
            .unwrap_err();
        assert_eq!(e.esr, UNDEFINED, "MRS S3_0_C15_C0_0");
        // MRS x3, ICC_SGI1R_EL1: the register is write-only.
        let e = cpu
            .trapped(SYSREG_TRAP | ICC_SGI1R_EL1_ISS | 3 << 5 | 1)
            .unwrap_err();
        assert_eq!(e.esr, UNDEFINED, "MRS ICC_SGI1R_EL1");
        // MSR ICC_SGI1R_EL1, x3: emulated by the host.
        cpu.set_gpr(3, 0x0001_0000_0000_0002);
        cpu.trapped(SYSREG_TRAP | ICC_SGI1R_EL1_ISS | 3 << 5)
            .unwrap();
        cpu.wfi();
    });
    let exit = w.enter(TRAP_WFI, 0);
    assert_eq!(exit.exit_reason, 0, "SYNC");
    assert_eq!(exit.esr, SYSREG_TRAP | ICC_SGI1R_EL1_ISS, "Rt cleared");
    assert_eq!(exit.gprs[0], 0x0001_0000_0000_0002, "the value written");
    assert_eq!(&exit.gprs[1..], &[0; 30]);
    assert_eq!((exit.far, exit.hpfar), (0, 0));
    assert_wfi_exit(&w.enter(TRAP_WFI, 0));
}

/// A stage-2 abort at a protected IPA whose RTT entry is ASSIGNED RAM: a translation
/// fault (the entry became valid after the walk) is retried and succeeds; a TLB
/// conflict is retried after the realm's stage-2 TLB entries are invalidated; any
/// other fault would repeat on every retry, so the access gets a synchronous external
/// abort (EC of the realm's EL, WnR kept, FAR the address).
#[test]
fn aborts_on_assigned_ram_are_retried_only_when_a_retry_can_succeed() {
    const DABT: u64 = 0x24 << 26 | 1 << 25;
    const IABT: u64 = 0x20 << 26 | 1 << 25;
    let w = World::new(|cpu| {
        cpu.write_sysreg(SysReg::VBAR_EL1, VBAR);
        cpu.fault(DABT | 0b00_0111, 0x1000, 1).unwrap();
        cpu.fault(DABT | 0b11_0000, 0x1000, 1).unwrap();
        // Access flag, permission, alignment, SEA, SEA on the level-3 walk, GPF.
        for fsc in [
            0b00_1011, 0b00_1111, 0b10_0001, 0b01_0000, 0b01_0111, 0b10_1000,
        ] {
            let e = cpu
                .fault(DABT | 1 << 6 | fsc, 0x1008, u32::MAX)
                .unwrap_err();
            assert_eq!(
                e.esr,
                0x25 << 26 | 1 << 25 | 1 << 6 | 0b01_0000,
                "DFSC {fsc:#08b}: SEA, WnR kept"
            );
            assert_eq!(e.far, 0x1008);
        }
        cpu.set_pstate(0);
        let e = cpu.fault(IABT | 0b00_1111, 0x2000, u32::MAX).unwrap_err();
        assert_eq!(
            e.esr,
            0x20 << 26 | 1 << 25 | 0b01_0000,
            "from EL0: lower EL"
        );
        assert_eq!((e.far, e.vector), (0x2000, 0x400));
        cpu.set_pstate(0x3C5);
        cpu.wfi();
    });
    let before = w.m.hw().stage2_invalidations().len();
    assert_wfi_exit(&w.enter(TRAP_WFI, 0));
    let vmid = RealmSpec::default().vmid;
    assert_eq!(
        &w.m.hw().stage2_invalidations()[before..],
        &[(vmid, None)],
        "one invalidation of the realm's stage 2, for the TLB conflict"
    );
}

/// The last instruction of the address space: the PC after it is 0.
const TOP: u64 = 0xFFFF_FFFF_FFFF_FFFC;

/// A realm PC moves as the PE's does, wrapping at the top of the address space: past
/// an SMC, past an emulated MMIO load, past a trapped WFI, and back to an RSI call
/// that is retried after a stage-2 fault exit (RSI_REALM_CONFIG on an unmapped buffer).
#[test]
fn realm_pc_wraps_at_the_top_of_the_address_space() {
    let w = World::at(
        Machine::with_defaults(),
        TOP,
        |cpu| {
            assert_eq!(cpu.regs().pc, TOP);
            assert_eq!(cpu.smc(RSI_VERSION, &[0x1_0000])[0], 0);
            assert_eq!(cpu.regs().pc, 0, "past the SMC");
            cpu.set_pc(TOP);
            let v = cpu
                .load(UNPROTECTED + 0x1000, AccessSize::B4, 5, false, false)
                .unwrap();
            assert_eq!(v, 0x1234_5678);
            assert_eq!(cpu.regs().pc, 0, "past the emulated load");
            cpu.set_pc(TOP);
            // 0x10_0000 is UNASSIGNED RAM: an exit, then the SMC again.
            assert_eq!(cpu.smc(RSI_REALM_CONFIG, &[0x10_0000])[0], 0);
            assert_eq!(cpu.regs().pc, 0);
            cpu.set_pc(TOP);
            cpu.wfi();
            assert_eq!(cpu.regs().pc, 0, "past the WFI");
            cpu.wfi();
        },
        true,
    );
    let exit = w.enter(TRAP_WFI, 0);
    assert_eq!(exit.esr >> 26, 0x24, "the MMIO load exits");
    let exit = w.enter(TRAP_WFI | EMUL_MMIO, 0x1234_5678);
    assert_eq!(
        exit.esr,
        0x24 << 26 | 1 << 25 | 0b00_0111,
        "RSI buffer not mapped"
    );
    let data = w.ns();
    ok(&w.m, RmiFid::GranuleDelegate, &[data]);
    ok(
        &w.m,
        RmiFid::DataCreateUnknown,
        &[w.realm.rd, data, 0x10_0000],
    );
    assert_wfi_exit(&w.enter(TRAP_WFI, 0));
    assert_wfi_exit(&w.enter(TRAP_WFI, 0));
}

/// Arm ARM, ESR_ELx.IL and the PE's next instruction: a realm's EL0 may run AArch32
/// T32 code (HCR_EL2.RW makes only EL1 AArch64), whose instructions are 16 or 32 bits.
/// A trapped 16-bit WFI reports IL 0 and the realm resumes 2 bytes past it; an emulated
/// 16-bit load (a valid instruction syndrome, IL 0) likewise; their 32-bit encodings 4
/// bytes. An SEA the RMM injects for a 16-bit load without an instruction syndrome
/// reports ESR_EL1.IL 1, as the Arm ARM requires for a data abort with ISV 0 (and for
/// EC 0x00 and instruction aborts), at the AArch32 EL0 vector (VBAR_EL1 + 0x600).
#[test]
fn t32_instructions_step_by_their_length() {
    /// AArch32 User mode (M[4:0] = 0b10000), T32 (T [5]); A, I, F clear.
    const USR_T32: u64 = 0b1_0000 | 1 << 5;
    /// SCTLR_EL1.nTWI: EL0's WFI does not trap to the realm's EL1.
    const SCTLR_NTWI: u64 = 1 << 16;
    const CODE: u64 = 0x2000;
    let mut config = platform_sim::SimConfig::default();
    // ID_AA64PFR0_EL1.EL0 [3:0] = 0b0010: EL0 in AArch64 and AArch32.
    let pfr0 = config.sysregs.get(SysReg::ID_AA64PFR0_EL1);
    config
        .sysregs
        .set(SysReg::ID_AA64PFR0_EL1, pfr0 & !0xF | 0b0010);
    let w = World::on(
        Machine::new(config),
        |cpu| {
            cpu.write_sysreg(SysReg::VBAR_EL1, VBAR);
            let sctlr = cpu.read_sysreg(SysReg::SCTLR_EL1);
            cpu.write_sysreg(SysReg::SCTLR_EL1, sctlr | SCTLR_NTWI);
            // The realm's EL1 returns to its T32 EL0 code.
            cpu.set_pstate(USR_T32);
            cpu.set_pc(CODE);
            cpu.set_t32_narrow(true);
            cpu.wfi();
            assert_eq!(cpu.regs().pc, CODE + 2, "past the 16-bit WFI");
            let v = cpu
                .load(UNPROTECTED + 0x1000, AccessSize::B4, 3, false, false)
                .unwrap();
            assert_eq!(v, 0x1234_5678);
            assert_eq!(cpu.regs().pc, CODE + 4, "past the 16-bit LDR");
            let mut b = [0u8; 4];
            let e = cpu.read(EMPTY_IPA, &mut b).unwrap_err();
            assert_eq!(e.vector, 0x600, "lower EL using AArch32");
            assert_eq!(
                e.esr,
                0x24 << 26 | 1 << 25 | 0b01_0000,
                "DABT lower EL, IL 1 (ISV 0), SEA"
            );
            assert_eq!((e.elr, e.spsr), (CODE + 4, USR_T32));
            cpu.set_t32_narrow(false);
            cpu.wfi();
            assert_eq!(cpu.regs().pc, CODE + 10, "past the 32-bit WFI");
            cpu.set_pstate(0x3C5);
            cpu.wfi();
        },
        true,
    );
    let exit = w.enter(TRAP_WFI, 0);
    assert_wfi_exit(&exit);
    let exit = w.enter(TRAP_WFI, 0);
    assert_eq!(
        exit.esr,
        0x24 << 26 | 1 << 24 | 2 << 22 | 0b00_0101,
        "the emulatable load: EC, ISV, SAS word, DFSC (no IL, no SF)"
    );
    assert_wfi_exit(&w.enter(TRAP_WFI | EMUL_MMIO, 0x1234_5678));
    assert_wfi_exit(&w.enter(TRAP_WFI, 0));
    assert_wfi_exit(&w.enter(TRAP_WFI, 0));
}
