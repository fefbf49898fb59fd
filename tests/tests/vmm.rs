//! A realm built from an image and run by the test hypervisor (`rmm_conformance::vmm`),
//! with realm code written against `RealmEnv` (so it could run at R-EL1 as well).

use std::sync::{Arc, Mutex};

use rmi_abi::{RmiError, RmiFid};
use rmm::hosted::Machine;
use rmm_conformance::builder::{Pool, RealmSpec};
use rmm_conformance::realm::{self, RealmEnv};
use rmm_conformance::vmm::{self, Devices, RealmImage};
use rmm_conformance::Checks;

const ENTRY: u64 = 0x8_0000;
const ENTRY1: u64 = 0x9_0000;
const DEVICE: u64 = (1 << 39) + 0x10_0000;

/// REC 0's program.
fn guest(r: &mut impl RealmEnv) {
    assert_eq!(realm::rsi_version(r, 0x1_0000), (0, 0x1_0000, 0x1_0000));
    // The image page was loaded and measured.
    let mut page = [0u8; 16];
    r.read(0x1000, &mut page).unwrap();
    assert_eq!(page, [0xC3; 16]);
    // A device register read and written through the host.
    assert_eq!(r.mmio_read(DEVICE + 0x8, 4), Ok(0xAB));
    r.mmio_write(DEVICE + 0xC, 2, 0x1_5555).unwrap();
    // A host call answered by the host.
    let mut args = [0u64; 31];
    args[0] = 7;
    let (status, back) = realm::host_call(r, 0x3000, 9, &args);
    assert_eq!(status, 0);
    assert_eq!(back[0], 7 + 1000);
    // Half of the RAM becomes EMPTY at the realm's request.
    assert_eq!(
        realm::ipa_state_set(r, 0x10_0000, 0x20_0000, 0, 0),
        (0, 0x20_0000, 0)
    );
    let (status, top, ripas) = realm::ipa_state_get(r, 0x10_0000, 0x20_0000);
    assert_eq!((status, top, ripas), (0, 0x20_0000, 0));
    // REC 1 is started.
    assert_eq!(realm::psci_cpu_on(r, 1, ENTRY1, 0x77), 0);
    r.wfi();
}

/// REC 1's program: checks its context argument, then switches the realm off.
fn second(r: &mut impl RealmEnv) {
    let _ = realm::psci_system_off(r);
}

#[derive(Default)]
struct Dev {
    writes: Vec<(u64, usize, u64)>,
    reads: Vec<(u64, usize)>,
    calls: Vec<u16>,
}

impl Devices for Dev {
    fn mmio_read(&mut self, ipa: u64, size: usize) -> u64 {
        self.reads.push((ipa, size));
        0xAB
    }
    fn mmio_write(&mut self, ipa: u64, size: usize, value: u64) {
        self.writes.push((ipa, size, value));
    }
    fn host_call(&mut self, imm: u16, gprs: &[u64; 31]) -> [u64; 31] {
        self.calls.push(imm);
        let mut out = *gprs;
        out[0] += 1000;
        out
    }
}

#[test]
fn a_realm_built_and_run_by_the_test_hypervisor() {
    let m = Machine::with_defaults();
    let seen_x0 = Arc::new(Mutex::new(None));
    m.hw().register_realm_program(ENTRY, Arc::new(guest));
    let s = seen_x0.clone();
    m.hw().register_realm_program(
        ENTRY1,
        Arc::new(move |cpu| {
            *s.lock().unwrap() = Some(cpu.regs().gprs[0]);
            second(cpu)
        }),
    );
    let pool = Pool::new(&m);
    let mut c = Checks::new();
    let page = [0xC3u8; 4096];
    let image = RealmImage {
        spec: RealmSpec::default(),
        pages: &[(0x1000, &page), (0x3000, &[0; 4096])],
        ram_top: 0x20_0000,
        entry: ENTRY,
        recs: 2,
    };
    let vm = vmm::build(&m, &pool, &mut c, &image).unwrap();
    let mut dev = Dev::default();
    let exit = vmm::run(&m, &vm, 0, &mut dev, &mut c).unwrap();
    assert_eq!(
        (exit.exit_reason, exit.esr),
        (0, 0x01 << 26),
        "REC 0 stopped at WFI"
    );
    assert_eq!(dev.reads, vec![(DEVICE + 0x8, 4)]);
    assert_eq!(
        dev.writes,
        vec![(DEVICE + 0xC, 2, 0x5555)],
        "the low 16 bits"
    );
    assert_eq!(dev.calls, vec![9]);
    // The RIPAS change reached the RTTs.
    let e = m.rmi(0, RmiFid::RttReadEntry, &[vm.realm.rd, 0x10_0000, 3]);
    assert_eq!((e[0], e[4]), (0, 0), "EMPTY");
    // REC 1, started by PSCI_CPU_ON, switches the realm off.
    let exit = vmm::run(&m, &vm, 1, &mut dev, &mut c).unwrap();
    assert_eq!((exit.exit_reason, exit.gprs[0]), (3, 0x8400_0008));
    assert_eq!(*seen_x0.lock().unwrap(), Some(0x77), "CPU_ON context in x0");
    let (x0, _) = vmm::enter(&m, &vm, 0, &rmi_abi::RmiRecEnter::default());
    assert_eq!(x0, RmiError::Realm(1).return_code(), "SYSTEM_OFF");
}
