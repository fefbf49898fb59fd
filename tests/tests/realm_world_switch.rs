//! The world switch on the hosted machine: what the simulation's model of the
//! architecture says a realm can reach of the CPU's state while it runs (trap
//! controls, error synchronisation, the PMU), and what the RMM must save and restore
//! around it. Expected values come from the Arm ARM and DEN0137 1.0.

use std::sync::Arc;

use platform::sim::realm::{RealmCpu, RealmException};
use platform::sim::SimConfig;
use platform::{CpuId, SysReg, SysRegEncoding};
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

    fn with_recs(m: Machine, n: u64, program: platform::sim::realm::RealmProgram) -> Self {
        m.hw().register_realm_program(ENTRY, program);
        let (recs, run) = {
            let pool = Pool::new(&m);
            let mut c = Checks::new();
            let realm = create_realm(&m, &pool, &mut c, RealmSpec::default()).unwrap();
            map_low_ipa(&m, &pool, &mut c, realm.rd, 0x20_0000).unwrap();
            let src = pool.ns();
            for i in 0..4u64 {
                let d = pool.delegated(&mut c).unwrap();
                let r = m.rmi(0, RmiFid::DataCreate, &[realm.rd, d, i * 0x1000, src, 0]);
                assert_eq!(r[0], 0);
            }
            let recs = (0..n)
                .map(|i| create_rec(&m, &pool, &mut c, realm.rd, rec_params(i, ENTRY)).unwrap())
                .collect();
            assert_eq!(m.rmi(0, RmiFid::RealmActivate, &[realm.rd])[0], 0);
            (recs, pool.ns())
        };
        World { m, recs, run }
    }

    /// RMI_REC_ENTER of REC `rec` on `cpu` with `e` (must succeed).
    fn enter_on(&self, cpu: usize, rec: usize, e: &RmiRecEnter) -> RmiRecExit {
        self.m.host_write(self.run, e.as_bytes()).unwrap();
        let x0 = self
            .m
            .rmi(cpu, RmiFid::RecEnter, &[self.recs[rec], self.run])[0];
        assert_eq!(x0, 0, "REC_ENTER");
        let mut page = [0u8; 4096];
        self.m.host_read(self.run, &mut page).unwrap();
        RmiRecExit::read_from_bytes(&page[0x800..]).unwrap()
    }

    /// RMI_REC_ENTER of REC 0 on CPU 0 with TRAP_WFI.
    fn enter(&self) -> RmiRecExit {
        let mut e = RmiRecEnter::new_zeroed();
        e.flags = TRAP_WFI;
        self.enter_on(0, 0, &e)
    }
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
