//! A small hypervisor for tests: builds a realm from an image and runs its RECs,
//! servicing the exits a host must handle (emulated MMIO, host calls, RIPAS changes,
//! PSCI requests) the way a KVM host would. Generic over [`Host`], so the same driver
//! runs on the hosted simulation and over real SMCs.

use rmi_abi::{RmiFid, RmiRecEnter, RmiRecExit};
use zerocopy::{FromBytes, FromZeros, IntoBytes};

use crate::builder::{
    create_realm, create_rec, map_low_ipa_from, rec_params, Pool, Realm, RealmSpec,
};
use crate::program::RealmCode;
use crate::{Checks, Failure, Host};

/// The most RECs a [`Vm`] has.
pub const MAX_RECS: usize = 4;

/// What to load into a realm.
pub struct RealmImage<'a> {
    /// The realm's parameters.
    pub spec: RealmSpec,
    /// Pages of contents at their IPAs (measured DATA_CREATE), all below 2 MiB.
    pub pages: &'a [(u64, &'a [u8; 4096])],
    /// RIPAS RAM is set on [0, `ram_top`) before the pages are loaded (<= 2 MiB).
    pub ram_top: u64,
    /// Entry point of REC 0 (the others start not runnable, for PSCI_CPU_ON).
    pub entry: u64,
    /// Number of RECs.
    pub recs: usize,
}

/// A built realm.
pub struct Vm {
    /// The realm.
    pub realm: Realm,
    /// Its RECs.
    pub recs: [u64; MAX_RECS],
    /// Number of RECs.
    pub n_recs: usize,
    /// One RecRun granule per REC.
    pub runs: [u64; MAX_RECS],
}

/// The host's devices and services behind a running realm.
pub trait Devices {
    /// An emulated MMIO read of `size` bytes at `ipa`.
    fn mmio_read(&mut self, ipa: u64, size: usize) -> u64;
    /// An emulated MMIO write.
    fn mmio_write(&mut self, ipa: u64, size: usize, value: u64);
    /// A host call: returns the registers to give back.
    fn host_call(&mut self, imm: u16, gprs: &[u64; 31]) -> [u64; 31];
}

fn ok(
    h: &dyn Host,
    c: &mut Checks,
    what: &'static str,
    fid: RmiFid,
    args: &[u64],
) -> Result<[u64; 5], Failure> {
    let r = h.rmi(fid, args);
    c.status(what, r[0], Ok(()))?;
    Ok(r)
}

/// Builds, measures and activates a realm from `image`.
pub fn build(
    h: &dyn Host,
    pool: &Pool<'_>,
    c: &mut Checks,
    image: &RealmImage<'_>,
) -> Result<Vm, Failure> {
    let code = RealmCode {
        entry: image.entry,
        gprs: [0; 8],
        pages: &[],
    };
    build_inner(h, pool, c, image, &code, false, false)
}

/// [`build`] for a realm that runs a suite's realm program the way the host says
/// ([`Host::realm_code`]): `code`'s pages are loaded too (measured, before `image`'s,
/// all in one check: [`Pool::for_code`]) and REC 0 starts at `code.entry` with
/// `code.gprs`; `image.entry` is not used.
pub fn build_code(
    h: &dyn Host,
    pool: &Pool<'_>,
    c: &mut Checks,
    image: &RealmImage<'_>,
    code: &RealmCode,
) -> Result<Vm, Failure> {
    build_inner(h, pool, c, image, code, true, false)
}

/// [`build_code`] for a program every REC runs: each REC starts runnable at
/// `code.entry` with `code.gprs` (the program tells them apart by MPIDR_EL1,
/// [`crate::realm::RealmEnv::mpidr`]).
pub fn build_code_all_runnable(
    h: &dyn Host,
    pool: &Pool<'_>,
    c: &mut Checks,
    image: &RealmImage<'_>,
    code: &RealmCode,
) -> Result<Vm, Failure> {
    build_inner(h, pool, c, image, code, true, true)
}

fn build_inner(
    h: &dyn Host,
    pool: &Pool<'_>,
    c: &mut Checks,
    image: &RealmImage<'_>,
    code: &RealmCode,
    load_code: bool,
    all_runnable: bool,
) -> Result<Vm, Failure> {
    let realm = create_realm(h, pool, c, image.spec)?;
    map_low_ipa_from(h, pool, c, realm.rd, image.spec.start_level, image.ram_top)?;
    if load_code {
        let loaded = pool.for_code(|pool| {
            let src = pool.ns();
            code.pages.iter().enumerate().all(|(i, page)| {
                let data = pool.ns();
                let ipa = code.entry + 4096 * i as u64;
                h.write_ns(src, &page[..])
                    && h.rmi(RmiFid::GranuleDelegate, &[data])[0] == 0
                    && h.rmi(RmiFid::DataCreate, &[realm.rd, data, ipa, src, 1])[0] == 0
            })
        });
        c.holds("the realm code's pages loaded", loaded)?;
    }
    let src = pool.ns();
    for (ipa, page) in image.pages {
        c.holds("write source page", h.write_ns(src, &page[..]))?;
        let data = pool.delegated(c)?;
        ok(
            h,
            c,
            "data create",
            RmiFid::DataCreate,
            &[realm.rd, data, *ipa, src, 1],
        )?;
    }
    let mut vm = Vm {
        realm,
        recs: [0; MAX_RECS],
        n_recs: image.recs,
        runs: [0; MAX_RECS],
    };
    for i in 0..image.recs {
        let mut params = rec_params(i as u64, code.entry);
        if i == 0 || all_runnable {
            params.flags = 1;
            params.pc = code.entry;
            params.gprs = code.gprs;
        }
        vm.recs[i] = create_rec(h, pool, c, realm.rd, params)?;
        vm.runs[i] = pool.ns();
    }
    ok(h, c, "realm activate", RmiFid::RealmActivate, &[realm.rd])?;
    Ok(vm)
}

/// RMI_REC_ENTER of REC `i` with `enter`: x0 and the exit record.
pub fn enter(h: &dyn Host, vm: &Vm, i: usize, enter: &RmiRecEnter) -> (u64, RmiRecExit) {
    let run = vm.runs[i];
    let _ = h.write_ns(run, enter.as_bytes());
    let x0 = h.rmi(RmiFid::RecEnter, &[vm.recs[i], run])[0];
    let mut page = [0u8; 0x800];
    let _ = h.read_ns(run + 0x800, &mut page);
    let exit = RmiRecExit::read_from_bytes(&page[..]).unwrap_or_else(|_| RmiRecExit::new_zeroed());
    (x0, exit)
}

/// ESR fields of an emulatable data abort.
const ESR_ISV: u64 = 1 << 24;
const ESR_WNR: u64 = 1 << 6;
/// RecEnter flags.
const EMUL_MMIO: u64 = 1;
const TRAP_WFI: u64 = 1 << 2;
const RIPAS_REJECT: u64 = 1 << 4;

/// Runs REC `i` (WFI trapped), servicing emulated MMIO, host calls, RIPAS change
/// requests (applied with RMI_RTT_SET_RIPAS and accepted, or rejected if the RMM
/// refuses) and PSCI CPU_ON/AFFINITY_INFO (completed with RMI_PSCI_COMPLETE), until an
/// exit it does not service: returns that exit record.
pub fn run(
    h: &dyn Host,
    vm: &Vm,
    i: usize,
    dev: &mut dyn Devices,
    c: &mut Checks,
) -> Result<RmiRecExit, Failure> {
    let mut next = RmiRecEnter::new_zeroed();
    next.flags = TRAP_WFI;
    loop {
        let (x0, exit) = enter(h, vm, i, &next);
        c.status("rec enter", x0, Ok(()))?;
        next = RmiRecEnter::new_zeroed();
        next.flags = TRAP_WFI;
        match exit.exit_reason {
            // Data abort with a valid syndrome: emulate.
            0 if exit.esr >> 26 == 0x24 && exit.esr & ESR_ISV != 0 => {
                let ipa = (exit.hpfar >> 4) << 12 | exit.far;
                let size = 1usize << ((exit.esr >> 22) & 3);
                if exit.esr & ESR_WNR != 0 {
                    dev.mmio_write(ipa, size, exit.gprs[0]);
                } else {
                    next.gprs[0] = dev.mmio_read(ipa, size);
                }
                next.flags |= EMUL_MMIO;
            }
            // Host call.
            5 => next.gprs = dev.host_call(exit.imm, &exit.gprs),
            // RIPAS change: apply the whole range, then accept; reject if refused.
            4 => {
                let mut base = exit.ripas_base;
                while base < exit.ripas_top {
                    let r = h.rmi(
                        RmiFid::RttSetRipas,
                        &[vm.realm.rd, vm.recs[i], base, exit.ripas_top],
                    );
                    if r[0] != 0 || r[1] <= base {
                        next.flags |= RIPAS_REJECT;
                        break;
                    }
                    base = r[1];
                }
            }
            // PSCI CPU_ON / AFFINITY_INFO (SMC32 or SMC64): complete with SUCCESS.
            3 if matches!(exit.gprs[0] & !(1 << 30), 0x8400_0003 | 0x8400_0004) => {
                let target = (exit.gprs[1] & 0xFF) as usize;
                if target >= vm.n_recs {
                    return Ok(exit);
                }
                ok(
                    h,
                    c,
                    "psci complete",
                    RmiFid::PsciComplete,
                    &[vm.recs[i], vm.recs[target], 0],
                )?;
            }
            _ => return Ok(exit),
        }
    }
}
