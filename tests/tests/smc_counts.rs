//! The RMM's report of a realm's SMCs: at RMI_REC_DESTROY it logs how many SMCs of each
//! kind the REC's realm made, the RSI calls it completed without a REC exit included
//! (a host sees those nowhere else; `cargo xtask linux` prints what Linux made).
//!
//! Its own test binary: it installs the process's logger to read what the RMM logs.

use std::sync::{Arc, Mutex};

use platform_sim::realm::RealmCpu;
use rmi_abi::{RmiFid, RmiRecEnter, RmiRecExit};
use rmm::hosted::Machine;
use rmm_conformance::builder::{
    create_realm, create_rec, load_pages, map_low_ipa, rec_params, Pool, RealmSpec,
};
use rmm_conformance::Checks;
use rsi_abi::fid;
use zerocopy::{FromBytes, FromZeros, IntoBytes};

const ENTRY: u64 = 0x8_0000;
/// RecEnter.flags.trap_wfi (DEN0137 1.0, RmiRecEnterFlags).
const TRAP_WFI: u64 = 1 << 2;
/// PSCI_VERSION (DEN0022, 5.1.1: function identifier 0x8400_0000).
const PSCI_VERSION: u64 = 0x8400_0000;
/// SMCCC_VERSION (DEN0028, 7.2: 0x8000_0000).
const SMCCC_VERSION: u64 = 0x8000_0000;
/// A SiP service call (DEN0028, 6.2: OEN 2, SMC64): nothing the RMM implements.
const SIP_CALL: u64 = 0xC200_0000;

/// Every record the RMM logs, as text.
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        self.0.lock().unwrap().push(record.args().to_string());
    }
    fn flush(&self) {}
}

static LOG: Capture = Capture(Mutex::new(Vec::new()));

/// The realm makes RSI_VERSION twice, RSI_FEATURES, RSI_IPA_STATE_GET, PSCI_VERSION,
/// SMCCC_VERSION and a SiP call, then WFI (trapped: a REC exit); the host destroys the
/// REC, and the RMM logs exactly those counts, in the order of the function identifiers.
#[test]
fn rec_destroy_reports_the_realms_smcs_by_kind() {
    log::set_logger(&LOG).unwrap();
    log::set_max_level(log::LevelFilter::Info);
    let m = Machine::with_defaults();
    m.hw().register_realm_program(
        ENTRY,
        Arc::new(|cpu: &mut RealmCpu| loop {
            cpu.smc(u64::from(fid::RSI_VERSION), &[0x1_0000]);
            cpu.smc(u64::from(fid::RSI_VERSION), &[0x1_0000]);
            cpu.smc(u64::from(fid::RSI_FEATURES), &[0]);
            cpu.smc(u64::from(fid::RSI_IPA_STATE_GET), &[0, 0x1000]);
            cpu.smc(PSCI_VERSION, &[]);
            cpu.smc(SMCCC_VERSION, &[]);
            assert_eq!(cpu.smc(SIP_CALL, &[])[0], u64::MAX, "NOT_SUPPORTED");
            cpu.wfi();
        }),
    );
    let pool = Pool::new(&m);
    let mut c = Checks::new();
    let realm = create_realm(&m, &pool, &mut c, RealmSpec::default()).unwrap();
    map_low_ipa(&m, &pool, &mut c, realm.rd, 0x20_0000).unwrap();
    load_pages(&m, &pool, &mut c, realm.rd, pool.ns(), 16).unwrap();
    let rec = create_rec(&m, &pool, &mut c, realm.rd, rec_params(0, ENTRY)).unwrap();
    assert_eq!(m.rmi(0, RmiFid::RealmActivate, &[realm.rd])[0], 0);
    let run = pool.ns();
    let mut enter = RmiRecEnter::new_zeroed();
    enter.flags = TRAP_WFI;
    m.host_write(run, enter.as_bytes()).unwrap();
    assert_eq!(m.rmi(0, RmiFid::RecEnter, &[rec, run])[0], 0);
    let mut page = [0u8; 4096];
    m.host_read(run, &mut page).unwrap();
    let exit = RmiRecExit::read_from_bytes(&page[0x800..]).unwrap();
    assert_eq!(
        (exit.exit_reason, exit.esr >> 26),
        (0, 0x01),
        "SYNC, EC WFx"
    );

    LOG.0.lock().unwrap().clear();
    assert_eq!(m.rmi(0, RmiFid::RecDestroy, &[rec])[0], 0);
    let lines = LOG.0.lock().unwrap().clone();
    let want = format!(
        "REC {rec:#x} destroyed; SMCs from its realm: RSI_VERSION 2, RSI_FEATURES 1, \
         RSI_IPA_STATE_GET 1, PSCI 1, SMCCC_VERSION 1, other SMC (NOT_SUPPORTED) 1"
    );
    assert!(lines.contains(&want), "want {want:?} in {lines:#?}");
}
