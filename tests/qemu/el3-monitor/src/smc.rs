//! SMC dispatch, per calling world.
//!
//! From the Realm world (the RMM), the RMM-EL3 interface 0.4:
//! - `RMM_BOOT_COMPLETE` (x1 = status): see [`crate::boot::rmm_boot_complete`];
//! - `RMM_GTSI_DELEGATE` / `RMM_GTSI_UNDELEGATE` (x1 = PA): flip the granule between the
//!   Non-secure and Realm PAS ([`crate::gpt::transition`]), x0 = 0 or the error code;
//! - `RMM_ATTEST_GET_REALM_KEY`, `RMM_ATTEST_GET_PLAT_TOKEN`: see [`crate::attest`];
//! - `RMM_RMI_REQ_COMPLETE` (x1..x5): Normal-world x0..x4 = RMM x1..x5, every other
//!   Normal-world register as the host left it; resume the Normal world;
//! - anything else: x0 = E_RMM_UNK (-1), back to the RMM.
//!
//! From the Normal world (the test host):
//! - an RMI function (W0 in 0xC400_0150..=0xC400_018F, SVE hint bit 16 ignored):
//!   forwarded to the RMM, which resumes from its last SMC with W0 (zero-extended: the
//!   function identifier is W0, and TF-A's RMMD forwards only that) and the host's
//!   x1..x7;
//! - `SMCCC_VERSION`: 1.2;
//! - PSCI `PSCI_VERSION`, `PSCI_FEATURES`, `CPU_ON`, `AFFINITY_INFO`: see
//!   [`crate::psci`];
//! - PSCI `SYSTEM_OFF`: QEMU exits with status 0;
//! - [`TEST_EXIT`] (x1 = status): QEMU exits with that status;
//! - anything else: x0 = SMCCC `NOT_SUPPORTED` (-1).

use core::sync::atomic::{AtomicU64, Ordering};

use crate::rmm_el3::{
    El3Status, RMI_FIRST, RMI_LAST, RMM_BOOT_COMPLETE, RMM_GTSI_DELEGATE, RMM_GTSI_UNDELEGATE,
    RMM_RMI_REQ_COMPLETE,
};

use crate::gpt::{self, Gpi};
use crate::percpu::{PerCpu, World};
use crate::psci::{self, SYSTEM_OFF as PSCI_SYSTEM_OFF};
use crate::uart::println;
use crate::{attest, boot, fault, semihost, sysreg, world};

/// `SMCCC_VERSION`.
pub const SMCCC_VERSION: u32 = 0x8000_0000;
/// The monitor's own call for the test host (SiP service, SMC64 fast call): x1 = the
/// status QEMU exits with.
pub const TEST_EXIT: u32 = 0xC200_0100;

/// SMCCC `NOT_SUPPORTED`.
const SMCCC_NOT_SUPPORTED: u64 = -1i64 as u64;
/// SMCCC version 1.2.
const SMCCC_VERSION_1_2: u64 = 0x1_0002;
/// SMCCC 1.3 SVE hint bit.
const SMCCC_SVE_HINT: u32 = 1 << 16;
/// ESR_EL3.EC of an SMC executed in AArch64.
const EC_SMC64: u64 = 0x17;

static RMI_FORWARDED: AtomicU64 = AtomicU64::new(0);
static GTSI_CALLS: AtomicU64 = AtomicU64::new(0);

/// Whether `fid` is an RMI function identifier.
pub fn is_rmi(fid: u32) -> bool {
    (RMI_FIRST..=RMI_LAST).contains(&(fid & !SMCCC_SVE_HINT))
}

/// A synchronous exception from the running world of `cpu`, its registers saved in
/// its context. On return the exception entry resumes the world `cpu.cur` names.
pub fn handle_lower_sync(cpu: &mut PerCpu) {
    let esr = sysreg::esr_el3();
    if (esr >> 26) & 0x3F != EC_SMC64 {
        fault::lower_el(cpu, esr);
    }
    let x = cpu.cur_ctx().gprs.x;
    let fid = x[0] as u32;
    match cpu.world {
        World::Realm => from_realm(cpu, fid, &x),
        World::NonSecure => from_ns(cpu, fid, &x),
    }
}

fn set_x0(cpu: &mut PerCpu, v: u64) {
    cpu.cur_ctx().gprs.x[0] = v;
}

fn el3_result(r: Result<(), El3Status>) -> u64 {
    match r {
        Ok(()) => El3Status::Ok.code(),
        Err(e) => e.code(),
    }
}

fn from_realm(cpu: &mut PerCpu, fid: u32, x: &[u64; 31]) {
    match fid {
        RMM_BOOT_COMPLETE => boot::rmm_boot_complete(cpu, x[1]),
        RMM_GTSI_DELEGATE | RMM_GTSI_UNDELEGATE => {
            GTSI_CALLS.fetch_add(1, Ordering::Relaxed);
            let (from, to) = if fid == RMM_GTSI_DELEGATE {
                (Gpi::NonSecure, Gpi::Realm)
            } else {
                (Gpi::Realm, Gpi::NonSecure)
            };
            let r = el3_result(gpt::transition(x[1], from, to));
            set_x0(cpu, r);
        }
        attest::RMM_ATTEST_GET_REALM_KEY => {
            let (x0, x1) = attest::realm_key(x[1], x[2], x[3]);
            let g = &mut cpu.cur_ctx().gprs.x;
            (g[0], g[1]) = (x0, x1);
        }
        attest::RMM_ATTEST_GET_PLAT_TOKEN => {
            let (x0, x1, x2) = attest::platform_token(x[1], x[2], x[3]);
            let g = &mut cpu.cur_ctx().gprs.x;
            (g[0], g[1], g[2]) = (x0, x1, x2);
        }
        RMM_RMI_REQ_COMPLETE => {
            let ns = &mut cpu.ctx[World::NonSecure as usize].gprs;
            ns.x[..5].copy_from_slice(&x[1..6]);
            world::switch(cpu, World::NonSecure);
        }
        _ => set_x0(cpu, El3Status::Unk.code()),
    }
}

fn from_ns(cpu: &mut PerCpu, fid: u32, x: &[u64; 31]) {
    if is_rmi(fid) {
        RMI_FORWARDED.fetch_add(1, Ordering::Relaxed);
        let realm = &mut cpu.ctx[World::Realm as usize].gprs;
        realm.x[..8].copy_from_slice(&x[..8]);
        realm.x[0] = u64::from(fid);
        world::switch(cpu, World::Realm);
        return;
    }
    if psci::handles(fid) {
        let r = psci::call(fid, x);
        set_x0(cpu, r);
        return;
    }
    match fid {
        SMCCC_VERSION => set_x0(cpu, SMCCC_VERSION_1_2),
        PSCI_SYSTEM_OFF => exit(0),
        TEST_EXIT => exit(x[1] as u32),
        _ => set_x0(cpu, SMCCC_NOT_SUPPORTED),
    }
}

fn exit(status: u32) -> ! {
    println!(
        "test host done: exit status {status} ({} RMI calls forwarded, {} GTSI calls)",
        RMI_FORWARDED.load(Ordering::Relaxed),
        GTSI_CALLS.load(Ordering::Relaxed)
    );
    semihost::exit(status)
}
