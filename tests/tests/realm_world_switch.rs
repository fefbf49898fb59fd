//! The world switch on the hosted machine: what the simulation's model of the
//! architecture says a realm can reach of the CPU's state while it runs (trap
//! controls, error synchronisation, the PMU), and what the RMM must save and restore
//! around it. Expected values come from the Arm ARM and DEN0137 1.0.

use std::sync::Arc;

use platform::{CpuId, SysReg, SysRegEncoding};
use platform_sim::pmu::{self, filter};
use platform_sim::realm::{RealmCpu, RealmException};
use platform_sim::SimConfig;
use rmi_abi::{RmiFid, RmiRecEnter, RmiRecExit};
use rmm::hosted::Machine;
use rmm_conformance::builder::{
    create_realm, create_rec, map_low_ipa, rec_params, Pool, RealmSpec,
};
use rmm_conformance::Checks;
use zerocopy::{FromBytes, FromZeros, IntoBytes};

const ENTRY: u64 = 0x8_0000;
const TRAP_WFI: u64 = 1 << 2;
/// ESR_EL1 of an Undefined Instruction exception: EC 0x00, IL 1 (Arm ARM, ESR_EL1).
const ESR_UNDEF: u64 = 1 << 25;

/// An active realm on machine `m` with RECs at `ENTRY` running `program`, one per
/// entry of `recs` (its MPIDR index).
struct World {
    m: Machine,
    recs: Vec<u64>,
    run: u64,
}

impl World {
    fn new(m: Machine, program: impl Fn(&mut RealmCpu) + Send + Sync + 'static) -> Self {
        Self::with_recs(m, 1, Arc::new(program))
    }

    fn with_recs(m: Machine, n: u64, program: platform_sim::realm::RealmProgram) -> Self {
        m.hw().register_realm_program(ENTRY, program);
        let (recs, run) = {
            let pool = Pool::new(&m);
            let recs = build_realm(&m, &pool, ENTRY, n);
            (recs, pool.ns())
        };
        World { m, recs, run }
    }

    /// RMI_REC_ENTER of REC 0 on CPU 0 with TRAP_WFI.
    fn enter(&self) -> RmiRecExit {
        enter(&self.m, 0, self.recs[0], self.run)
    }
}

/// An active realm with 4 DATA pages at IPA 0 and RIPAS RAM on [0, 2 MiB), and `n`
/// RECs starting at `entry`; their addresses. The realm's VMID is `entry`'s page
/// number's low bits (realms at different entries have different VMIDs).
fn build_realm(m: &Machine, pool: &Pool<'_>, entry: u64, n: u64) -> Vec<u64> {
    let mut c = Checks::new();
    let spec = RealmSpec {
        vmid: 1 + (entry >> 12 & 0xFF) as u16,
        ..RealmSpec::default()
    };
    let realm = create_realm(m, pool, &mut c, spec).unwrap();
    map_low_ipa(m, pool, &mut c, realm.rd, 0x20_0000).unwrap();
    let src = pool.ns();
    for i in 0..4u64 {
        let d = pool.delegated(&mut c).unwrap();
        let r = m.rmi(0, RmiFid::DataCreate, &[realm.rd, d, i * 0x1000, src, 0]);
        assert_eq!(r[0], 0);
    }
    let recs = (0..n)
        .map(|i| create_rec(m, pool, &mut c, realm.rd, rec_params(i, entry)).unwrap())
        .collect();
    assert_eq!(m.rmi(0, RmiFid::RealmActivate, &[realm.rd])[0], 0);
    recs
}

/// RMI_REC_ENTER of `rec` on `cpu` with TRAP_WFI, RecRun at `run` (must succeed).
fn enter(m: &Machine, cpu: usize, rec: u64, run: u64) -> RmiRecExit {
    let mut e = RmiRecEnter::new_zeroed();
    e.flags = TRAP_WFI;
    m.host_write(run, e.as_bytes()).unwrap();
    assert_eq!(m.rmi(cpu, RmiFid::RecEnter, &[rec, run])[0], 0, "REC_ENTER");
    let mut page = [0u8; 4096];
    m.host_read(run, &mut page).unwrap();
    RmiRecExit::read_from_bytes(&page[0x800..]).unwrap()
}

fn enc((op0, op1, crn, crm, op2): (u8, u8, u8, u8, u8)) -> SysRegEncoding {
    SysRegEncoding::new(op0, op1, crn, crm, op2)
}

fn assert_wfi_exit(exit: &RmiRecExit) {
    assert_eq!((exit.exit_reason, exit.esr), (0, 0x01 << 26), "WFI exit");
}

/// AMEVCNTR00_EL0, the activity monitors' core cycle counter (Arm ARM, D24.6).
const AMEVCNTR00_EL0: (u8, u8, u8, u8, u8) = (3, 3, 13, 4, 0);
/// AMUSERENR_EL0 (EL0 access to the activity monitors).
const AMUSERENR_EL0: (u8, u8, u8, u8, u8) = (3, 3, 13, 2, 3);
/// AMCNTENCLR0_EL0 (disables architected activity counters).
const AMCNTENCLR0_EL0: (u8, u8, u8, u8, u8) = (3, 3, 13, 2, 4);
/// TRCPRGCTLR, the trace unit's programming control register (Arm ARM, ETE).
const TRCPRGCTLR: (u8, u8, u8, u8, u8) = (2, 1, 0, 1, 0);

/// CPTR_EL2 while a realm runs (Arm ARM, CPTR_EL2.TAM and TTA): on a CPU with
/// FEAT_AMUv1 and a trace unit (ETE), the realm's accesses to the activity monitors
/// and to the trace unit's registers trap to R-EL2 and are UNDEFINED for the realm
/// (Undefined Instruction exception at the instruction, ESR_EL1 EC 0x00): the realm
/// neither reads the Normal world's activity counters nor changes their enables or
/// AMUSERENR_EL0, and the host finds its values as it left them.
#[test]
fn activity_monitor_and_trace_registers_trap_for_the_realm() {
    let mut config = SimConfig::default();
    // ID_AA64PFR0_EL1.AMU [47:44] = 1 (FEAT_AMUv1); ID_AA64DFR0_EL1.TraceVer [7:4] = 1.
    let pfr0 = config.sysregs.get(SysReg::ID_AA64PFR0_EL1);
    config.sysregs.set(SysReg::ID_AA64PFR0_EL1, pfr0 | 1 << 44);
    let dfr0 = config.sysregs.get(SysReg::ID_AA64DFR0_EL1);
    config.sysregs.set(SysReg::ID_AA64DFR0_EL1, dfr0 | 1 << 4);
    let m = Machine::new(config);
    let (cnt, user, enclr, trc) = (
        enc(AMEVCNTR00_EL0),
        enc(AMUSERENR_EL0),
        enc(AMCNTENCLR0_EL0),
        enc(TRCPRGCTLR),
    );
    // The Normal world's activity monitor state.
    let host = m.hw().cpu(CpuId(0));
    host.write_encoding(cnt, 0x1234_5678_9ABC);
    host.write_encoding(user, 0);
    host.write_encoding(enclr, 0xF);
    let w = World::new(m, move |cpu| {
        let undef = |r: Result<u64, RealmException>, pc: u64, what: &str| {
            let e = r.expect_err(what);
            assert_eq!((e.esr, e.elr), (ESR_UNDEF, pc), "{what}: UNDEFINED at it");
        };
        let pc = cpu.regs().pc;
        undef(cpu.mrs(cnt, 1), pc, "MRS AMEVCNTR00_EL0");
        let pc = cpu.regs().pc;
        undef(cpu.msr(user, 2, 1).map(|()| 0), pc, "MSR AMUSERENR_EL0");
        let pc = cpu.regs().pc;
        undef(
            cpu.msr(enclr, 3, 0xF).map(|()| 0),
            pc,
            "MSR AMCNTENCLR0_EL0",
        );
        let pc = cpu.regs().pc;
        undef(cpu.mrs(trc, 4), pc, "MRS TRCPRGCTLR");
        cpu.wfi();
    });
    assert_wfi_exit(&w.enter());
    let host = w.m.hw().cpu(CpuId(0));
    assert_eq!(host.read_encoding(cnt), 0x1234_5678_9ABC);
    assert_eq!(host.read_encoding(user), 0);
    assert_eq!(host.read_encoding(enclr), 0xF);
}

/// DISR_EL1 (FEAT_RAS) as EL1 sees it (S3_0_C12_C1_1).
const DISR_EL1: (u8, u8, u8, u8, u8) = (3, 0, 12, 1, 1);

/// A machine whose CPUs have FEAT_RAS (ID_AA64PFR0_EL1.RAS [31:28] = 1).
fn ras_machine() -> Machine {
    let mut config = SimConfig::default();
    let pfr0 = config.sysregs.get(SysReg::ID_AA64PFR0_EL1);
    config.sysregs.set(SysReg::ID_AA64PFR0_EL1, pfr0 | 1 << 28);
    Machine::new(config)
}

/// Arm ARM, DISR_EL1: while HCR_EL2.AMO is set (a realm always runs so), EL1's
/// DISR_EL1 is VDISR_EL2, an EL2 register EL3 does not switch while the Normal world
/// and the realms share it. It is part of a REC's context: a new REC reads 0 (not the
/// host's value, nor another realm's), a REC reads back what it wrote after an exit
/// and on another CPU, a realm created later reads 0 on every CPU, and the host finds
/// its own VDISR_EL2 as it left it after every REC_ENTER.
#[test]
fn vdisr_el2_is_per_rec() {
    const A_ENTRY: u64 = ENTRY;
    const B_ENTRY: u64 = ENTRY + 0x1000;
    /// What realm A's REC writes (A [31], AET [12:10] 0b010, EA [9], DFSC 0x11).
    const WRITTEN: u64 = 1 << 31 | 0b010 << 10 | 1 << 9 | 0x11;
    // The host's own VDISR_EL2 on CPU n.
    let host = |n: u64| 0x8000_0000 | 0x400 | n;
    let m = ras_machine();
    let disr = enc(DISR_EL1);
    m.hw().register_realm_program(
        A_ENTRY,
        Arc::new(move |cpu: &mut RealmCpu| {
            assert_eq!(cpu.mrs(disr, 1).unwrap(), 0, "a new REC's DISR_EL1");
            cpu.msr(disr, 2, WRITTEN).unwrap();
            cpu.wfi();
            assert_eq!(cpu.cpu(), CpuId(1));
            assert_eq!(cpu.mrs(disr, 3).unwrap(), WRITTEN, "on another CPU");
            cpu.wfi();
        }),
    );
    m.hw().register_realm_program(
        B_ENTRY,
        Arc::new(move |cpu: &mut RealmCpu| {
            assert_eq!(cpu.mrs(disr, 1).unwrap(), 0, "another realm's REC, CPU 0");
            cpu.wfi();
            assert_eq!(cpu.mrs(disr, 1).unwrap(), 0, "another realm's REC, CPU 1");
            cpu.wfi();
        }),
    );
    for n in 0..2 {
        m.hw()
            .cpu(CpuId(n))
            .write(SysReg::VDISR_EL2, host(n as u64));
    }
    let pool = Pool::new(&m);
    let a = build_realm(&m, &pool, A_ENTRY, 1)[0];
    let run = pool.ns();
    let vdisr = |n: usize| m.hw().cpu(CpuId(n)).read(SysReg::VDISR_EL2);
    assert_wfi_exit(&enter(&m, 0, a, run));
    assert_eq!(vdisr(0), host(0), "the host's VDISR_EL2 after REC_ENTER");
    assert_wfi_exit(&enter(&m, 1, a, run));
    assert_eq!(vdisr(1), host(1));
    let b = build_realm(&m, &pool, B_ENTRY, 1)[0];
    assert_wfi_exit(&enter(&m, 0, b, run));
    assert_wfi_exit(&enter(&m, 1, b, run));
    assert_eq!((vdisr(0), vdisr(1)), (host(0), host(1)));
}

/// RSI_VERSION's function identifier (a call the RMM answers without an exit).
const RSI_VERSION: u64 = rsi_abi::fid::RSI_VERSION as u64;

/// The Normal world's PMU across the RMM (Arm ARM, D13: PMCR_EL0.E, PMCNTENSET_EL0,
/// the RLK/RLU/RLH filters the host controls, MDCR_EL2.HPMD and HCCD): the host
/// enables the cycle counter counting EL1 and EL0 in every Security state, and event
/// counters counting EL2 (Realm EL2 included: NSH 1, RLH 0) and Realm EL1. A REC_ENTER
/// whose realm runs a hundred RSI calls, and RMI commands that make the RMM work at
/// R-EL2, leave every counter at zero: neither the realm's execution nor the RMM's is
/// counted by counters the host can read, and the host finds PMCR_EL0 and its counter
/// enables as it set them. (Realms are not offered a PMU: RMI_FEATURES PMU_EN 0.)
#[test]
fn host_pmu_counts_neither_the_realm_nor_the_rmm() {
    let w = World::new(Machine::with_defaults(), |cpu| {
        for _ in 0..100 {
            assert_eq!(cpu.smc(RSI_VERSION, &[0x1_0000])[0], 0);
        }
        cpu.wfi();
    });
    let host = w.m.hw().cpu(CpuId(0));
    let pmcr = 8 << 11 | pmu::PMCR_E;
    host.write(SysReg::PMCR_EL0, pmcr);
    host.write_encoding(pmu::PMCCFILTR_EL0, 0);
    // CPU_CYCLES (0x11) at EL2 only; at Realm EL1 only (NSK 1 != P 0).
    host.write_encoding(
        pmu::pmevtyper(0),
        filter::P | filter::U | filter::NSH | 0x11,
    );
    host.write_encoding(
        pmu::pmevtyper(1),
        filter::U | filter::NSK | filter::RLU | 0x11,
    );
    let enables = 1 << 31 | 0b11;
    host.write(SysReg::PMCNTENSET_EL0, enables);
    assert_wfi_exit(&w.enter());
    let pool_granule = w.m.ns_granule(900);
    assert_eq!(w.m.rmi(0, RmiFid::GranuleDelegate, &[pool_granule])[0], 0);
    assert_eq!(w.m.rmi(0, RmiFid::GranuleUndelegate, &[pool_granule])[0], 0);
    let host = w.m.hw().cpu(CpuId(0));
    assert_eq!(
        host.read_encoding(pmu::PMCCNTR_EL0),
        0,
        "the realm's EL1 cycles"
    );
    assert_eq!(
        host.read_encoding(pmu::pmevcntr(0)),
        0,
        "the RMM's R-EL2 cycles"
    );
    assert_eq!(
        host.read_encoding(pmu::pmevcntr(1)),
        0,
        "the realm's EL1 cycles"
    );
    assert_eq!(host.read(SysReg::PMCR_EL0), pmcr, "the host's PMCR_EL0");
    assert_eq!(
        host.read(SysReg::PMCNTENSET_EL0),
        enables,
        "the host's enables"
    );
}

/// The SError syndrome of the SError tests: EC 0x2F, IL, AET [12:10] 0b010
/// (Unrecoverable), EA, DFSC 0b010001 (asynchronous SError interrupt).
const SERROR_ESR: u64 = 0x2F << 26 | 1 << 25 | 0b010 << 10 | 1 << 9 | 0x11;
/// [`SERROR_ESR`] as a REC exit reports it (DEN0137 1.0, A4.3.10: no IL).
const SERROR_REPORTED: u64 = SERROR_ESR & !(1 << 25);
/// RmiRecExitReason: IRQ, HOST_CALL, SERROR.
const EXIT_IRQ: u8 = 1;
const EXIT_HOST_CALL: u8 = 5;
const EXIT_SERROR: u8 = 6;
/// The realm programs' RsiHostCall structure (a DATA page).
const HOST_CALL_IPA: u64 = 0x1000;

/// Arm ARM, error synchronisation (ESB; FEAT_RAS) at the world switch: an SError the
/// realm caused that becomes pending just as the realm takes a synchronous exception
/// (here an RSI_HOST_CALL's SMC) is masked at R-EL2 (exception entry sets PSTATE.A),
/// so the lower-EL vector's Error Synchronization Barrier defers it into DISR_EL1; the
/// RMM reports it as that REC's exit (DEN0137 1.0, A4.3.10: reason SERROR, EC, AET,
/// EA, DFSC), not the host call, and leaves nothing pending for the host to take after
/// the RMI call. The host call's SMC executes when the REC is entered again. The
/// host's own DISR_EL1 is as it was.
#[test]
fn realm_serror_pending_at_an_exit_is_reported_in_the_recs_exit() {
    let w = World::new(ras_machine(), |cpu| {
        cpu.serror_with_next_exception(SERROR_ESR);
        let (status, _) = rmm_conformance::realm::host_call(cpu, HOST_CALL_IPA, 7, &[0; 31]);
        assert_eq!(status, 0);
        cpu.wfi();
    });
    let host_disr = 0x5A;
    w.m.hw().cpu(CpuId(0)).write(SysReg::DISR_EL1, host_disr);
    let exit = w.enter();
    assert_eq!(
        (exit.exit_reason, exit.esr),
        (EXIT_SERROR, SERROR_REPORTED),
        "the REC's exit reports its SError"
    );
    assert_eq!(
        w.m.hw().take_serror(CpuId(0)),
        None,
        "nothing left for the host"
    );
    assert_eq!(w.m.hw().cpu(CpuId(0)).read(SysReg::DISR_EL1), host_disr);
    let exit = w.enter();
    assert_eq!(
        (exit.exit_reason, exit.imm),
        (EXIT_HOST_CALL, 7),
        "then the call"
    );
    assert_wfi_exit(&w.enter());
}

/// An SError pending on the CPU when RMI_REC_ENTER starts (the host's, or the RMM's:
/// not the realm's, which has not run) is not reported as the realm's: the RMM looks
/// at ISR_EL1.A before it enters the realm and, with an SError pending, does not enter
/// it but exits (reason IRQ, nothing else: the host has an asynchronous exception to
/// take) with the SError still pending, for the host to take when it unmasks it. The
/// realm runs on the next entry. On a CPU with and one without FEAT_RAS. Likewise a
/// deferred error the host's own DISR_EL1 records is not the realm's.
#[test]
fn host_serror_pending_at_rec_enter_is_not_the_realms() {
    for m in [ras_machine(), Machine::with_defaults()] {
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let r = ran.clone();
        let w = World::new(m, move |cpu| {
            r.store(true, std::sync::atomic::Ordering::SeqCst);
            cpu.wfi();
            cpu.wfi();
        });
        w.m.hw().raise_serror(CpuId(0), SERROR_ESR);
        let exit = w.enter();
        assert_eq!(
            (exit.exit_reason, exit.esr),
            (EXIT_IRQ, 0),
            "not the realm's"
        );
        assert!(
            !ran.load(std::sync::atomic::Ordering::SeqCst),
            "the realm did not run"
        );
        assert_eq!(
            w.m.hw().take_serror(CpuId(0)),
            Some(SERROR_ESR),
            "still pending"
        );
        assert_wfi_exit(&w.enter());
        assert!(ran.load(std::sync::atomic::Ordering::SeqCst));
        let ras = w.m.hw().cpu(CpuId(0)).read(SysReg::ID_AA64PFR0_EL1) >> 28 & 0xF != 0;
        if ras {
            let host_disr = 1 << 31 | 0x11;
            w.m.hw().cpu(CpuId(0)).write(SysReg::DISR_EL1, host_disr);
            assert_wfi_exit(&w.enter());
            assert_eq!(w.m.hw().cpu(CpuId(0)).read(SysReg::DISR_EL1), host_disr);
        }
    }
}
