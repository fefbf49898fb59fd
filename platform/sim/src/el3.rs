//! The EL3 side of the RMM-EL3 interface, simulated.
//!
//! EL3 runs in the Root world, so it accesses memory through the Root PAS (it may touch
//! any granule). GTSI calls change the GPT the same way TF-A does: delegate moves a
//! granule from Non-secure to Realm, undelegate from Realm to Non-secure; contents are
//! left as they are (scrubbing is the RMM's job).

use std::sync::Mutex;

use platform::addr::{PhysAddr, GRANULE_SIZE};
use platform::arch::{CpuId, Pas};
use platform::el3::*;
use platform::manifest;

use super::memory::PhysMem;
use super::SimConfig;

pub use super::attest::SIM_REALM_KEY;

/// The largest hunk of the platform token the simulated EL3 returns at once, whatever
/// the buffer size: EL3 may return less than the buffer holds (TF-A does when the token
/// comes from RSE in pieces), so the RMM's loop over hunks runs at every boot.
pub const SIM_PLAT_TOKEN_HUNK: usize = 256;

/// How the simulated EL3 answers the attestation calls (to test the RMM's handling of
/// an EL3 without attestation support, or a busy one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum El3Attest {
    /// Both calls succeed: the realm key, and the platform token for the challenge.
    #[default]
    Provide,
    /// `RMM_ATTEST_GET_REALM_KEY` fails (E_RMM_UNK, as TF-A answers a platform error).
    NoRealmKey,
    /// `RMM_ATTEST_GET_PLAT_TOKEN` fails (E_RMM_UNK).
    NoPlatformToken,
    /// The first `RMM_ATTEST_GET_PLAT_TOKEN` is answered E_RMM_AGAIN (EL3 busy); the
    /// following ones succeed.
    BusyOnce,
    /// `RMM_ATTEST_GET_PLAT_TOKEN` succeeds with no token at all (a hunk of 0 bytes,
    /// 0 remaining): a malformed EL3.
    EmptyPlatformToken,
}

/// One call as EL3 received it, for tests to inspect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct El3Call {
    /// The calling CPU.
    pub cpu: CpuId,
    /// Function identifier.
    pub fid: u32,
    /// x1..=x4.
    pub args: [u64; 4],
    /// x0 returned.
    pub ret: u64,
}

/// A failure the simulated EL3 was told to answer: the next `times` calls of `fid` get
/// `error` and have no effect (fault injection).
#[derive(Clone, Copy, Debug)]
struct Injected {
    fid: u32,
    error: El3Error,
    times: usize,
}

struct State {
    /// Failures to answer, in the order they were asked for.
    injected: Vec<Injected>,
    boot_status: Vec<Option<u64>>,
    /// The platform token being handed out in hunks, and how much of it has been:
    /// `Some` while a transfer is under way.
    token: Option<(Vec<u8>, usize)>,
    /// How the attestation calls are answered.
    attest: El3Attest,
    /// Whether an E_RMM_AGAIN was answered already ([`El3Attest::BusyOnce`]).
    was_busy: bool,
    log: Vec<El3Call>,
}

/// The simulated EL3 monitor.
pub struct SimEl3 {
    shared_buf: Mutex<PhysAddr>,
    state: Mutex<State>,
}

impl SimEl3 {
    pub(super) fn new(num_cpus: usize, attest: El3Attest) -> Self {
        Self {
            shared_buf: Mutex::new(PhysAddr(0)),
            state: Mutex::new(State {
                injected: Vec::new(),
                boot_status: vec![None; num_cpus],
                token: None,
                attest,
                was_busy: false,
                log: Vec::new(),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes the boot manifest into the shared buffer, as EL3 does before cold boot.
    pub(super) fn write_boot_manifest(&self, mem: &PhysMem, config: &SimConfig) {
        let pa = config.layout.shared_buf;
        *self.shared_buf.lock().unwrap_or_else(|e| e.into_inner()) = pa;
        let mut buf = [0u8; GRANULE_SIZE];
        manifest::write(&mut buf, pa.0, &config.dram_banks(), &config.consoles);
        mem.write(pa, Pas::Root, &buf)
            .expect("shared buffer inside DRAM");
    }

    /// The status each CPU reported with `RMM_BOOT_COMPLETE` (`None`: not yet).
    pub fn boot_status(&self) -> Vec<Option<u64>> {
        self.state().boot_status.clone()
    }

    /// Every call received so far, oldest first.
    pub fn calls(&self) -> Vec<El3Call> {
        self.state().log.clone()
    }

    /// Fault injection: the next `times` calls of `fid` (any RMM-EL3 function) are
    /// answered `error` and change nothing, as a failing EL3 would answer them.
    pub fn fail_next(&self, fid: u32, error: El3Error, times: usize) {
        self.state().injected.push(Injected { fid, error, times });
    }

    /// Takes one injected failure of `fid`, if any is left.
    fn injected(&self, fid: u32) -> Option<El3Error> {
        let mut s = self.state();
        let i = s
            .injected
            .iter()
            .position(|f| f.fid == fid && f.times > 0)?;
        s.injected[i].times -= 1;
        Some(s.injected[i].error)
    }

    /// Handles an SMC from the RMM on `cpu`.
    pub fn call(&self, mem: &PhysMem, cpu: CpuId, fid: u32, args: [u64; 4]) -> [u64; 4] {
        let ret = match self.injected(fid) {
            Some(e) => [e.code(), 0, 0, 0],
            None => self.dispatch(mem, cpu, fid, args),
        };
        self.state().log.push(El3Call {
            cpu,
            fid,
            args,
            ret: ret[0],
        });
        ret
    }

    fn dispatch(&self, mem: &PhysMem, cpu: CpuId, fid: u32, args: [u64; 4]) -> [u64; 4] {
        let err = |e: El3Error| [e.code(), 0, 0, 0];
        match fid {
            RMM_GTSI_DELEGATE => match gtsi(mem, args[0], Pas::NonSecure, Pas::Realm) {
                Ok(()) => [0; 4],
                Err(e) => err(e),
            },
            RMM_GTSI_UNDELEGATE => match gtsi(mem, args[0], Pas::Realm, Pas::NonSecure) {
                Ok(()) => [0; 4],
                Err(e) => err(e),
            },
            RMM_ATTEST_GET_REALM_KEY => match self.realm_key(mem, args) {
                Ok(len) => [0, len, 0, 0],
                Err(e) => err(e),
            },
            RMM_ATTEST_GET_PLAT_TOKEN => match self.plat_token(mem, args) {
                Ok((len, remaining)) => [0, len, remaining, 0],
                Err(e) => err(e),
            },
            RMM_EL3_FEATURES => match args[0] {
                0 => [0; 4],
                _ => err(El3Error::Inval),
            },
            RMM_BOOT_COMPLETE => {
                let mut s = self.state();
                match s.boot_status.get_mut(cpu.0) {
                    Some(slot) => {
                        *slot = Some(args[0]);
                        [0; 4]
                    }
                    None => err(El3Error::Inval),
                }
            }
            _ => err(El3Error::Unknown),
        }
    }

    /// Checks that `[pa, pa + len)` lies in the shared buffer's granule, as TF-A's
    /// `validate_buffer_params` does: E_RMM_BAD_ADDR if `pa` is not in it, E_RMM_INVAL
    /// if the last byte (`pa + len - 1`, wrapping) is not.
    fn check_shared(&self, pa: u64, len: u64) -> Result<PhysAddr, El3Error> {
        let shared = *self.shared_buf.lock().unwrap_or_else(|e| e.into_inner());
        let page = |a: u64| a & !(GRANULE_SIZE as u64 - 1);
        if page(pa) != shared.0 {
            return Err(El3Error::BadAddr);
        }
        if page(pa.wrapping_add(len).wrapping_sub(1)) != shared.0 {
            return Err(El3Error::Inval);
        }
        Ok(PhysAddr(pa))
    }

    /// RMM_ATTEST_GET_REALM_KEY (x1 buffer, x2 size, x3 curve): the raw private key
    /// (48 bytes) into the buffer; x1 = its size. TF-A's order: buffer, then curve (only
    /// SECP384R1); a platform failure (here: a buffer too small) is E_RMM_UNK.
    fn realm_key(&self, mem: &PhysMem, args: [u64; 4]) -> Result<u64, El3Error> {
        let buf = self.check_shared(args[0], args[1])?;
        if args[2] != ECC_CURVE_SECP384R1 {
            return Err(El3Error::Inval);
        }
        if self.state().attest == El3Attest::NoRealmKey || args[1] < SIM_REALM_KEY.len() as u64 {
            return Err(El3Error::Unknown);
        }
        mem.write(buf, Pas::Root, &SIM_REALM_KEY)
            .map_err(|_| El3Error::BadAddr)?;
        Ok(SIM_REALM_KEY.len() as u64)
    }

    /// RMM_ATTEST_GET_PLAT_TOKEN (x1 buffer, x2 size, x3 challenge size): one hunk of
    /// the platform token; x1 = its size, x2 = bytes remaining. As TF-A: the buffer is
    /// checked, then the challenge size (32, 48 or 64) on every call; the first call of
    /// a transfer reads the challenge from the buffer and makes the token for it.
    fn plat_token(&self, mem: &PhysMem, args: [u64; 4]) -> Result<(u64, u64), El3Error> {
        let buf = self.check_shared(args[0], args[1])?;
        if !matches!(args[2], 32 | 48 | 64) {
            return Err(El3Error::Inval);
        }
        let mut s = self.state();
        match s.attest {
            El3Attest::NoPlatformToken => return Err(El3Error::Unknown),
            El3Attest::EmptyPlatformToken => return Ok((0, 0)),
            El3Attest::BusyOnce if !s.was_busy => {
                s.was_busy = true;
                return Err(El3Error::Again);
            }
            _ => {}
        }
        let (token, offset) = match s.token.take() {
            Some(t) => t,
            None => {
                let mut challenge = vec![0u8; args[2] as usize];
                mem.read(buf, Pas::Root, &mut challenge)
                    .map_err(|_| El3Error::BadAddr)?;
                (super::attest::platform_token(&challenge), 0)
            }
        };
        let n = (token.len() - offset)
            .min(args[1] as usize)
            .min(SIM_PLAT_TOKEN_HUNK);
        mem.write(buf, Pas::Root, &token[offset..offset + n])
            .map_err(|_| El3Error::BadAddr)?;
        let remaining = token.len() - offset - n;
        if remaining != 0 {
            s.token = Some((token, offset + n));
        }
        Ok((n as u64, remaining as u64))
    }
}

/// A GTSI transition of the granule at `pa` from `from` to `to`.
fn gtsi(mem: &PhysMem, pa: u64, from: Pas, to: Pas) -> Result<(), El3Error> {
    let pa = PhysAddr(pa);
    if !pa.is_granule_aligned() {
        return Err(El3Error::BadAddr);
    }
    match mem.pas(pa) {
        None => Err(El3Error::BadAddr),
        Some(p) if p != from => Err(El3Error::BadPas),
        Some(_) => {
            mem.set_pas(pa, to);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SimConfig, SimHw};

    fn hw() -> std::sync::Arc<SimHw> {
        SimHw::new(SimConfig::default())
    }

    const CPU0: CpuId = CpuId(0);

    #[test]
    fn gtsi_delegate_and_undelegate() {
        let hw = hw();
        let pa = 0x4800_0000u64;
        let call = |fid, pa| hw.el3().call(hw.mem(), CPU0, fid, [pa, 0, 0, 0])[0];
        assert_eq!(call(RMM_GTSI_DELEGATE, pa), 0);
        assert_eq!(hw.mem().pas(PhysAddr(pa)), Some(Pas::Realm));
        assert_eq!(call(RMM_GTSI_DELEGATE, pa), El3Error::BadPas.code());
        assert_eq!(call(RMM_GTSI_UNDELEGATE, pa), 0);
        assert_eq!(hw.mem().pas(PhysAddr(pa)), Some(Pas::NonSecure));
        assert_eq!(call(RMM_GTSI_UNDELEGATE, pa), El3Error::BadPas.code());
        assert_eq!(call(RMM_GTSI_DELEGATE, pa + 8), El3Error::BadAddr.code());
        assert_eq!(call(RMM_GTSI_DELEGATE, 0x1000), El3Error::BadAddr.code());
        assert_eq!(
            call(RMM_GTSI_DELEGATE, 0x4000_0000 + (256 << 20)),
            El3Error::BadAddr.code()
        );
        hw.mem().set_pas(PhysAddr(pa), Pas::Secure);
        assert_eq!(call(RMM_GTSI_DELEGATE, pa), El3Error::BadPas.code());
        assert_eq!(call(RMM_GTSI_UNDELEGATE, pa), El3Error::BadPas.code());
        assert_eq!(call(0xC400_01C0, 0), El3Error::Unknown.code());
        assert_eq!(hw.el3().calls().len(), 10);
    }

    #[test]
    fn the_layout_is_tf_a_s() {
        let hw = hw();
        let m = hw.mem();
        assert_eq!(m.pas(PhysAddr(0x4000_0000)), Some(Pas::NonSecure));
        assert_eq!(m.pas(PhysAddr(0x400F_F000)), Some(Pas::NonSecure));
        assert_eq!(m.pas(PhysAddr(0x4010_0000)), Some(Pas::Realm));
        assert_eq!(m.pas(PhysAddr(0x418F_F000)), Some(Pas::Realm));
        assert_eq!(m.pas(PhysAddr(0x4190_0000)), Some(Pas::NonSecure));
        let buf = m.inspect(PhysAddr(0x418F_F000));
        let parsed = manifest::parse(&buf.0, 0x418F_F000, 48).unwrap();
        assert_eq!(parsed.dram_banks()[0].base, 0x4000_0000);
        assert_eq!(parsed.dram_banks()[0].size, 256 << 20);
    }

    #[test]
    fn realm_key_and_platform_token() {
        let hw = hw();
        let sb = 0x418F_F000;
        let c = |fid, a| hw.el3().call(hw.mem(), CPU0, fid, a);
        assert_eq!(c(RMM_ATTEST_GET_REALM_KEY, [sb, 4096, 0, 0]), [0, 48, 0, 0]);
        assert_eq!(&hw.mem().inspect(PhysAddr(sb)).0[..48], &SIM_REALM_KEY);
        // TF-A's order and codes: buffer outside the shared granule (BAD_ADDR), buffer
        // running past it (INVAL), curve (INVAL), platform failure (UNK).
        assert_eq!(
            c(RMM_ATTEST_GET_REALM_KEY, [sb + 4096, 4096, 1, 0])[0],
            El3Error::BadAddr.code()
        );
        assert_eq!(
            c(RMM_ATTEST_GET_REALM_KEY, [sb + 8, 4096, 1, 0])[0],
            El3Error::Inval.code()
        );
        assert_eq!(
            c(RMM_ATTEST_GET_REALM_KEY, [sb, 0, 0, 0])[0],
            El3Error::Inval.code()
        );
        assert_eq!(
            c(RMM_ATTEST_GET_REALM_KEY, [sb, 4096, 1, 0])[0],
            El3Error::Inval.code()
        );
        assert_eq!(
            c(RMM_ATTEST_GET_REALM_KEY, [sb, 16, 0, 0])[0],
            El3Error::Unknown.code()
        );

        assert_eq!(
            c(RMM_ATTEST_GET_PLAT_TOKEN, [sb, 4096, 20, 0])[0],
            El3Error::Inval.code()
        );
        assert_eq!(
            c(RMM_ATTEST_GET_PLAT_TOKEN, [sb - 4096, 4096, 32, 0])[0],
            El3Error::BadAddr.code()
        );
        let challenge = [0x5Au8; 32];
        hw.mem().write(PhysAddr(sb), Pas::Root, &challenge).unwrap();
        // Hunks: every call names the challenge size (TF-A checks it on
        // each), and only the first reads the challenge.
        let mut token = Vec::new();
        loop {
            let r = c(RMM_ATTEST_GET_PLAT_TOKEN, [sb, 4096, 32, 0]);
            assert_eq!(r[0], 0);
            assert_eq!(
                r[1] as usize,
                SIM_PLAT_TOKEN_HUNK.min(r[1] as usize + r[2] as usize)
            );
            token.extend_from_slice(&hw.mem().inspect(PhysAddr(sb)).0[..r[1] as usize]);
            if r[2] == 0 {
                break;
            }
            assert_eq!(
                c(RMM_ATTEST_GET_PLAT_TOKEN, [sb, 4096, 0, 0])[0],
                El3Error::Inval.code()
            );
        }
        assert!(token.len() > SIM_PLAT_TOKEN_HUNK, "more than one hunk");
        assert_eq!(token, crate::attest::platform_token(&challenge));
        // COSE_Sign1_Tagged: tag 18, array of 4, protected header {1: -35}.
        assert_eq!(&token[..7], &[0xD2, 0x84, 0x44, 0xA1, 0x01, 0x38, 0x22]);
    }

    #[test]
    fn attestation_failures_and_busy_el3() {
        let sb = 0x418F_F000;
        for (mode, key, token) in [
            (El3Attest::NoRealmKey, El3Error::Unknown.code(), 0),
            (El3Attest::NoPlatformToken, 0, El3Error::Unknown.code()),
            (El3Attest::BusyOnce, 0, El3Error::Again.code()),
        ] {
            let hw = SimHw::new(SimConfig {
                el3_attest: mode,
                ..SimConfig::default()
            });
            let c = |fid, a| hw.el3().call(hw.mem(), CPU0, fid, a);
            assert_eq!(c(RMM_ATTEST_GET_REALM_KEY, [sb, 4096, 0, 0])[0], key);
            assert_eq!(c(RMM_ATTEST_GET_PLAT_TOKEN, [sb, 4096, 32, 0])[0], token);
            if mode == El3Attest::BusyOnce {
                assert_eq!(c(RMM_ATTEST_GET_PLAT_TOKEN, [sb, 4096, 32, 0])[0], 0);
            }
        }
    }

    #[test]
    fn injected_failures_are_answered_without_effect_then_calls_work_again() {
        let hw = hw();
        let pa = 0x4800_0000u64;
        hw.el3().fail_next(RMM_GTSI_DELEGATE, El3Error::NoMem, 2);
        let call = |fid, pa| hw.el3().call(hw.mem(), CPU0, fid, [pa, 0, 0, 0])[0];
        assert_eq!(call(RMM_GTSI_UNDELEGATE, pa), El3Error::BadPas.code());
        assert_eq!(call(RMM_GTSI_DELEGATE, pa), El3Error::NoMem.code());
        assert_eq!(call(RMM_GTSI_DELEGATE, pa), El3Error::NoMem.code());
        assert_eq!(hw.mem().pas(PhysAddr(pa)), Some(Pas::NonSecure));
        assert_eq!(call(RMM_GTSI_DELEGATE, pa), 0);
        assert_eq!(hw.mem().pas(PhysAddr(pa)), Some(Pas::Realm));
    }

    #[test]
    fn boot_complete_is_recorded_per_cpu() {
        let hw = hw();
        hw.el3().call(
            hw.mem(),
            CpuId(2),
            RMM_BOOT_COMPLETE,
            [BootError::CpusOutOfRange.code(), 0, 0, 0],
        );
        assert_eq!(
            hw.el3().boot_status(),
            vec![None, None, Some((-3i64) as u64), None]
        );
    }
}
