//! Attestation (DEN0137 1.0, A7.2): the keys and platform token the RMM gets from EL3 at
//! boot, and tokens requested by a realm, checked by an independent verifier
//! (the `cca-token-verify` crate, `tests/cca-verify`).

use cca_token_verify as verify;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmm_conformance::builder::{Pool, RealmSpec};
use rmm_conformance::realm;
use rmm_conformance::vmm::{self, Devices, RealmImage};
use rmm_conformance::Checks;
use zerocopy::FromBytes;

use p384::ecdsa::SigningKey;
use platform::el3::{RMM_ATTEST_GET_PLAT_TOKEN, RMM_ATTEST_GET_REALM_KEY};
use platform_sim::el3::{El3Attest, SIM_REALM_KEY};
use platform_sim::SimConfig;
use rmi_abi::RmiFid;
use rmm::hosted::Machine;
use sha2::{Digest, Sha256};

/// The COSE_Key of the test RAK's public key, built here from RFC 9052/9053: a map of 4,
/// kty (1) EC2 (2), crv (-1) P-384 (2), x (-2) and y (-3) as 48-byte bstrs.
fn sim_rak_cose_key() -> Vec<u8> {
    let vk = *SigningKey::from_slice(&SIM_REALM_KEY)
        .unwrap()
        .verifying_key();
    let p = vk.to_encoded_point(false);
    let mut k = vec![0xA4, 0x01, 0x02, 0x20, 0x02, 0x21, 0x58, 0x30];
    k.extend_from_slice(p.x().unwrap());
    k.extend_from_slice(&[0x22, 0x58, 0x30]);
    k.extend_from_slice(p.y().unwrap());
    k
}

#[test]
fn cold_boot_gets_the_realm_key_and_the_platform_token_for_the_rak_hash() {
    let m = Machine::with_defaults();
    let sb = m.hw().config().layout.shared_buf.0;
    let calls = m.hw().el3().calls();
    let key: Vec<_> = calls
        .iter()
        .filter(|c| c.fid == RMM_ATTEST_GET_REALM_KEY)
        .collect();
    assert_eq!(key.len(), 1);
    assert_eq!(
        key[0].args[..3],
        [sb, 4096, 0],
        "shared buffer, its size, SECP384R1"
    );
    assert_eq!(key[0].ret, 0);
    let token_calls: Vec<_> = calls
        .iter()
        .filter(|c| c.fid == RMM_ATTEST_GET_PLAT_TOKEN)
        .collect();
    assert!(token_calls.len() > 1, "the token comes in several hunks");
    for c in &token_calls {
        assert_eq!(
            c.args[..3],
            [sb, 4096, 32],
            "challenge size 32 on every call"
        );
        assert_eq!(c.ret, 0);
    }
    let challenge: [u8; 32] = Sha256::digest(sim_rak_cose_key()).into();
    let rmm = m.rmm().unwrap();
    let data = rmm.attest().read();
    assert!(data.ready());
    assert_eq!(&data.rak_public()[..], &sim_rak_cose_key()[..]);
    assert_eq!(
        data.platform_token(),
        &platform_sim::attest::platform_token(&challenge)[..],
        "the platform token EL3 signed for the hash of the RAK's COSE_Key"
    );
    // The private key was cleared from the shared buffer.
    let shared = m.hw().mem().inspect(platform::PhysAddr(sb));
    assert_ne!(&shared.0[..48], &SIM_REALM_KEY[..]);
}

#[test]
fn an_el3_without_attestation_does_not_stop_the_boot() {
    for mode in [
        El3Attest::NoRealmKey,
        El3Attest::NoPlatformToken,
        El3Attest::EmptyPlatformToken,
    ] {
        let m = Machine::new(SimConfig {
            el3_attest: mode,
            ..SimConfig::default()
        });
        assert_eq!(m.hw().el3().boot_status(), vec![Some(0); 4], "{mode:?}");
        assert!(!m.rmm().unwrap().attest().read().ready(), "{mode:?}");
        assert_eq!(m.rmi(0, RmiFid::Version, &[0x1_0000])[0], 0, "RMI works");
    }
}

#[test]
fn a_busy_el3_is_asked_again() {
    let m = Machine::new(SimConfig {
        el3_attest: El3Attest::BusyOnce,
        ..SimConfig::default()
    });
    let rets: Vec<u64> = m
        .hw()
        .el3()
        .calls()
        .iter()
        .filter(|c| c.fid == RMM_ATTEST_GET_PLAT_TOKEN)
        .map(|c| c.ret)
        .collect();
    assert_eq!(rets[0], platform::el3::El3Error::Again.code());
    assert!(rets[1..].iter().all(|&r| r == 0));
    assert!(m.rmm().unwrap().attest().read().ready());
}

const ENTRY: u64 = 0x8_0000;
/// The realm's token buffer (RAM, granule aligned, 16 KiB).
const TOKEN_BUF: u64 = 0x10_0000;
/// Host call immediates the realm program makes.
const HC_INIT_DONE: u16 = 1;

/// What the realm program hands back to the test.
#[derive(Default)]
struct Seen {
    /// RSI_MEASUREMENT_READ of slots 0..=4, just before INIT.
    measurements: Vec<[u8; 64]>,
    /// The token, or the failing status.
    token: Option<Result<Vec<u8>, u64>>,
    /// RSI_ATTESTATION_TOKEN_CONTINUE calls made.
    calls: usize,
}

fn challenge() -> [u8; 64] {
    core::array::from_fn(|i| (i as u8).wrapping_mul(7) ^ 0xC3)
}

/// The realm: extends REM 0 and REM 3, reads its measurements, starts a token and
/// abandons it, starts the token it then gets (`chunk` bytes per CONTINUE), and hands
/// the measurements and the token over. A host call after the INIT lets the host act
/// before the signature's steps.
fn token_program(seen: Arc<Mutex<Seen>>, chunk: u64) -> platform_sim::realm::RealmProgram {
    Arc::new(move |cpu: &mut platform_sim::realm::RealmCpu| {
        assert_eq!(realm::measurement_extend(cpu, 1, b"kernel"), 0);
        assert_eq!(realm::measurement_extend(cpu, 4, &[0xEE; 64]), 0);
        let measurements: Vec<[u8; 64]> = (0..5)
            .map(|i| {
                let (status, m) = realm::measurement_read(cpu, i);
                assert_eq!(status, 0);
                m
            })
            .collect();
        seen.lock().unwrap().measurements = measurements;
        // A token started and abandoned half-way: INIT again restarts (B5.3.2).
        let (status, _) = realm::attest_token_init(cpu, &[0xAA; 64]);
        assert_eq!(status, 0, "RSI_ATTESTATION_TOKEN_INIT");
        for _ in 0..3 {
            assert_eq!(
                realm::attest_token_continue(cpu, TOKEN_BUF, 0, 4096),
                (3, 0)
            );
        }
        let (status, max) = realm::attest_token_init(cpu, &challenge());
        assert_eq!(status, 0, "RSI_ATTESTATION_TOKEN_INIT");
        assert!(max > 0 && max <= 16384, "upper bound {max}");
        let mut gprs = [0u64; 31];
        gprs[0] = max;
        realm::host_call(cpu, 0x3000, HC_INIT_DONE, &gprs);
        let mut out = vec![0u8; max as usize];
        let mut calls = 0;
        let token =
            realm::attest_token_read(cpu, TOKEN_BUF, max, chunk, &mut out, &mut calls).map(|n| {
                assert_eq!(n as u64, max, "the upper bound is the size");
                out[..n].to_vec()
            });
        let mut s = seen.lock().unwrap();
        s.token = Some(token);
        s.calls = calls;
        drop(s);
        cpu.wfi();
    })
}

/// The host side of the realm's host call: optionally arms an interrupt to become
/// pending while the RMM is inside the next RSI call that maps the token state.
struct Host {
    hw: Arc<platform_sim::SimHw>,
    aux0: u64,
    irq_during_signing: bool,
    armed: Option<std::thread::JoinHandle<bool>>,
}

impl Devices for Host {
    fn mmio_read(&mut self, _: u64, _: usize) -> u64 {
        0
    }
    fn mmio_write(&mut self, _: u64, _: usize, _: u64) {}
    fn host_call(&mut self, imm: u16, gprs: &[u64; 31]) -> [u64; 31] {
        if imm == HC_INIT_DONE && self.irq_during_signing {
            // The RMM stops at its next map of the token state (the CONTINUE's state
            // check); a physical IRQ becomes pending meanwhile.
            let gate = self.hw.gate_map(platform::PhysAddr(self.aux0));
            let hw = self.hw.clone();
            self.armed = Some(std::thread::spawn(move || {
                let reached = gate.wait_reached(Duration::from_secs(30));
                hw.raise_irq(platform::CpuId(0));
                gate.release();
                reached
            }));
        }
        *gprs
    }
}

/// Builds a realm with one REC (RAM up to 2 MiB; memory for the host call structure at
/// 0x3000 and the token buffer), runs `program` in it and returns the
/// machine, the host and the REC's exits until its final WFI.
fn run_realm(
    spec: RealmSpec,
    program: platform_sim::realm::RealmProgram,
    irq_during_signing: bool,
) -> (Machine, Vec<rmi_abi::RmiRecExit>) {
    run_realm_on(
        Machine::with_defaults(),
        spec,
        program,
        irq_during_signing,
        |_, _, _, _, _| false,
    )
}

/// [`run_realm`] on `m`; `on_exit` sees each exit [`vmm::run`] returns and says whether
/// to enter again.
fn run_realm_on(
    m: Machine,
    spec: RealmSpec,
    program: platform_sim::realm::RealmProgram,
    irq_during_signing: bool,
    mut on_exit: impl FnMut(&Machine, &Pool<'_>, &mut Checks, &vmm::Vm, &rmi_abi::RmiRecExit) -> bool,
) -> (Machine, Vec<rmi_abi::RmiRecExit>) {
    m.hw().register_realm_program(ENTRY, program);
    let pool = Pool::new(&m);
    let mut c = Checks::new();
    static ZERO: [u8; 4096] = [0; 4096];
    let pages: Vec<(u64, &[u8; 4096])> = core::iter::once(0x3000)
        .chain((0..4).map(|i| TOKEN_BUF + i * 4096))
        .map(|ipa| (ipa, &ZERO))
        .collect();
    let image = RealmImage {
        spec,
        pages: &pages,
        ram_top: 0x20_0000,
        entry: ENTRY,
        recs: 1,
    };
    let vm = vmm::build(&m, &pool, &mut c, &image).unwrap();
    let rec =
        rmm::rec::Rec::read_from_prefix(&m.hw().mem().inspect(platform::PhysAddr(vm.recs[0])).0)
            .unwrap()
            .0;
    let mut host = Host {
        hw: m.hw().clone(),
        aux0: rec.aux[0],
        irq_during_signing,
        armed: None,
    };
    let mut exits = Vec::new();
    loop {
        let exit = vmm::run(&m, &vm, 0, &mut host, &mut c).unwrap();
        let reason = exit.exit_reason;
        exits.push(exit);
        if reason == 1 {
            // REC exit due to IRQ: the interrupt is still pending for the host, which
            // takes it (the RMM must not have).
            assert!(
                m.hw().take_irq(platform::CpuId(0)),
                "the IRQ is left to the host"
            );
            continue;
        }
        if on_exit(&m, &pool, &mut c, &vm, exits.last().unwrap()) {
            continue;
        }
        break;
    }
    if let Some(t) = host.armed.take() {
        assert!(
            t.join().unwrap(),
            "the RMM mapped the token state after the host call"
        );
    }
    (m, exits)
}

/// The realm's token, verified; its claims checked against what the realm saw.
fn check_token(seen: &Seen, spec: &RealmSpec) -> Vec<u8> {
    let token = seen
        .token
        .clone()
        .expect("the realm got a token")
        .expect("status");
    let v = verify::verify(&token, &platform_sim::attest::iak_public_sec1())
        .unwrap_or_else(|e| panic!("the token does not verify: {e}"));
    let size = if spec.hash_algo == 0 { 32 } else { 64 };
    assert_eq!(v.realm.challenge, challenge());
    assert_eq!(v.realm.profile, "tag:arm.com,2023:realm#1.0.0");
    assert_eq!(v.realm.rpv, [0x5A; 64], "the RPV of RmiRealmParams");
    assert_eq!(
        v.realm.hash_algo,
        if size == 32 { "sha-256" } else { "sha-512" }
    );
    assert_eq!(
        v.realm.rim,
        seen.measurements[0][..size],
        "RIM as RSI_MEASUREMENT_READ"
    );
    for i in 0..4 {
        assert_eq!(v.realm.rems[i], seen.measurements[1 + i][..size], "REM {i}");
    }
    assert_ne!(v.realm.rems[0], vec![0; size], "the extended REM");
    assert_eq!(v.realm.rak_cose_key, sim_rak_cose_key(), "the RAK EL3 gave");
    assert_eq!(v.realm.rak_hash_algo, "sha-256");
    assert_eq!(v.platform_profile, "tag:arm.com,2023:cca_platform#1.0.0");
    token
}

#[test]
fn a_realm_token_verifies_and_carries_the_realm_s_claims() {
    for hash_algo in [0u8, 1] {
        let spec = RealmSpec {
            hash_algo,
            ..RealmSpec::default()
        };
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (_m, exits) = run_realm(spec, token_program(seen.clone(), 4096), false);
        assert_eq!(exits.len(), 1);
        let seen = seen.lock().unwrap();
        let token = check_token(&seen, &spec);
        // One signing step per CONTINUE (three were made for the abandoned token), then
        // whole granules.
        let signing = rmm::attest::sign::STEPS;
        assert_eq!(
            seen.calls,
            signing + token.len().div_ceil(4096),
            "CONTINUE calls"
        );
    }
}

#[test]
fn a_token_completes_across_rec_entries_with_an_irq_exit_in_between() {
    let spec = RealmSpec::default();
    let seen = Arc::new(Mutex::new(Seen::default()));
    // 1000 bytes per CONTINUE: the copy crosses the header, platform token and realm
    // token boundaries at odd offsets.
    let (_m, exits) = run_realm(spec, token_program(seen.clone(), 1000), true);
    let reasons: Vec<u8> = exits.iter().map(|e| e.exit_reason).collect();
    assert_eq!(reasons, [1, 0], "an IRQ exit, then the final WFI");
    let seen = seen.lock().unwrap();
    check_token(&seen, &spec);
}

#[test]
fn a_flipped_byte_fails_verification() {
    let spec = RealmSpec::default();
    let seen = Arc::new(Mutex::new(Seen::default()));
    run_realm(spec, token_program(seen.clone(), 4096), false);
    let token = check_token(&seen.lock().unwrap(), &spec);
    let iak = platform_sim::attest::iak_public_sec1();
    // Every 5th byte, and every byte of the realm token's signature (the end).
    let n = token.len();
    for i in (0..n).filter(|&i| i % 5 == 0 || i >= n - 98) {
        let mut t = token.clone();
        t[i] ^= 0x01;
        assert!(
            verify::verify(&t, &iak).is_err(),
            "byte {i} of {n} flipped still verifies"
        );
    }
}

/// Results of RSI calls a realm program made, in order: (x0, x1).
type Calls = Arc<Mutex<Vec<(u64, u64)>>>;

#[test]
fn without_an_attestation_key_continue_is_error_unknown() {
    let calls: Calls = Arc::default();
    let seen = calls.clone();
    let program: platform_sim::realm::RealmProgram = Arc::new(move |cpu| {
        let v = vec![
            realm::attest_token_init(cpu, &challenge()),
            realm::attest_token_continue(cpu, TOKEN_BUF + 8, 0, 8),
            realm::attest_token_continue(cpu, TOKEN_BUF, 0, 4096),
            realm::attest_token_continue(cpu, TOKEN_BUF, 0, 4096),
        ];
        *seen.lock().unwrap() = v;
        cpu.wfi();
    });
    let m = Machine::new(SimConfig {
        el3_attest: El3Attest::NoRealmKey,
        ..SimConfig::default()
    });
    run_realm_on(m, RealmSpec::default(), program, false, |_, _, _, _, _| {
        false
    });
    assert_eq!(
        *calls.lock().unwrap(),
        [
            (0, 0), // INIT: no failure conditions; no token to bound
            (1, 0), // addr_align before unknown
            (4, 0), // unknown: RSI_ERROR_UNKNOWN
            (4, 0),
        ]
    );
}

#[test]
fn an_empty_buffer_is_error_input_and_an_unmapped_one_a_stage_2_exit() {
    const EMPTY: u64 = 0x30_0000; // above RIPAS RAM: EMPTY
    const UNMAPPED: u64 = 0x18_0000; // RIPAS RAM, no granule yet
    let calls: Calls = Arc::default();
    let seen = calls.clone();
    let program: platform_sim::realm::RealmProgram = Arc::new(move |cpu| {
        let mut v = vec![realm::attest_token_init(cpu, &challenge())];
        // Signing steps do not touch the buffer; the first copy does.
        let mut r = (3, 0);
        for _ in 0..32 {
            r = realm::attest_token_continue(cpu, EMPTY, 0, 4096);
            if r != (3, 0) {
                break;
            }
        }
        v.push(r);
        // Retried by the RMM after the host maps the granule.
        v.push(realm::attest_token_continue(cpu, UNMAPPED, 0, 4096));
        *seen.lock().unwrap() = v;
        cpu.wfi();
    });
    let mut aborts = 0;
    let (_m, exits) = run_realm_on(
        Machine::with_defaults(),
        RealmSpec::default(),
        program,
        false,
        |m, pool, c, vm, exit| {
            // A data abort at UNMAPPED (stage-2 translation fault): the host maps a
            // granule there and enters again.
            if exit.esr >> 26 != 0x24 || exit.hpfar != (UNMAPPED >> 12) << 4 {
                return false;
            }
            aborts += 1;
            let data = pool.delegated(c).unwrap();
            assert_eq!(
                m.rmi(0, RmiFid::DataCreateUnknown, &[vm.realm.rd, data, UNMAPPED])[0],
                0
            );
            true
        },
    );
    assert_eq!(aborts, 1, "one stage-2 exit for the unmapped buffer");
    assert_eq!(exits.last().unwrap().exit_reason, 0);
    let v = calls.lock().unwrap();
    assert_eq!(v[0].0, 0);
    assert_eq!(
        v[1],
        (1, 0),
        "a buffer in RIPAS EMPTY memory: RSI_ERROR_INPUT"
    );
    assert_eq!(
        v[2],
        (0, v[0].1),
        "the whole token into the now mapped granule"
    );
}

/// The project's EL3 test monitor (QEMU) answers the attestation calls with fixed
/// material (`tests/qemu/el3-monitor/attest/`): the simulation's test RAK, the
/// challenge the RMM will send for it (SHA-256 of its COSE_Key) and the platform token
/// the simulated EL3 signs for that challenge, and the public IAK that signature
/// verifies under (for `cargo xtask run`'s check of the token a realm gets in QEMU).
/// Regenerate with
/// `RMM_UPDATE_ATTEST_FIXTURES=1 cargo test -p rmm-conformance --test attestation`.
#[test]
fn the_el3_monitor_s_attestation_material_is_the_simulation_s() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("qemu/el3-monitor/attest");
    let challenge: [u8; 32] = Sha256::digest(sim_rak_cose_key()).into();
    let token = platform_sim::attest::platform_token(&challenge);
    let iak = platform_sim::attest::iak_public_sec1();
    let files: [(&str, &[u8]); 4] = [
        ("realm-key.bin", &SIM_REALM_KEY),
        ("challenge.bin", &challenge),
        ("platform-token.cbor", &token),
        ("iak-public.bin", &iak),
    ];
    if std::env::var_os("RMM_UPDATE_ATTEST_FIXTURES").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in files {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
    for (name, bytes) in files {
        let on_disk = std::fs::read(dir.join(name)).unwrap_or_default();
        assert_eq!(
            on_disk, bytes,
            "{name}: regenerate (see the test's comment)"
        );
    }
}
