//! The EL3 side of the RMM-EL3 interface, simulated.
//!
//! EL3 runs in the Root world, so it accesses memory through the Root PAS (it may touch
//! any granule). GTSI calls change the GPT the same way TF-A does: delegate moves a
//! granule from Non-secure to Realm, undelegate from Realm to Non-secure; contents are
//! left as they are (scrubbing is the RMM's job).

use std::sync::Mutex;

use crate::addr::{PhysAddr, GRANULE_SIZE};
use crate::arch::{CpuId, Pas};
use crate::el3::*;
use crate::manifest;

use super::memory::PhysMem;
use super::SimConfig;

/// The fixed realm attestation key the simulated EL3 hands out: a P-384 private scalar
/// (48 bytes, big-endian). For tests only.
pub const SIM_REALM_KEY: [u8; 48] = {
    let mut k = [0u8; 48];
    let mut i = 0;
    while i < 48 {
        k[i] = (i as u8).wrapping_mul(37).wrapping_add(11);
        i += 1;
    }
    k
};

/// Size of the simulated platform token.
pub const SIM_PLAT_TOKEN_SIZE: usize = 6000;

/// Byte `i` of the simulated platform token (a fixed, recognisable pattern).
pub const fn sim_plat_token_byte(i: usize) -> u8 {
    (i % 251) as u8
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

struct State {
    boot_status: Vec<Option<u64>>,
    /// Progress through the platform token: `Some(offset)` while a hunked transfer is
    /// under way.
    token_offset: Option<usize>,
    log: Vec<El3Call>,
}

/// The simulated EL3 monitor.
pub struct SimEl3 {
    shared_buf: Mutex<PhysAddr>,
    state: Mutex<State>,
}

impl SimEl3 {
    pub(super) fn new(num_cpus: usize) -> Self {
        Self {
            shared_buf: Mutex::new(PhysAddr(0)),
            state: Mutex::new(State {
                boot_status: vec![None; num_cpus],
                token_offset: None,
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
        manifest::write(&mut buf, pa.0, &[config.dram_bank()], &config.consoles);
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

    /// Handles an SMC from the RMM on `cpu`.
    pub fn call(&self, mem: &PhysMem, cpu: CpuId, fid: u32, args: [u64; 4]) -> [u64; 4] {
        let ret = self.dispatch(mem, cpu, fid, args);
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

    /// Checks that `[pa, pa + len)` is the shared buffer.
    fn check_shared(&self, pa: u64, len: u64) -> Result<PhysAddr, El3Error> {
        let shared = *self.shared_buf.lock().unwrap_or_else(|e| e.into_inner());
        if pa != shared.0 || len == 0 || len > GRANULE_SIZE as u64 {
            return Err(El3Error::Inval);
        }
        Ok(shared)
    }

    fn realm_key(&self, mem: &PhysMem, args: [u64; 4]) -> Result<u64, El3Error> {
        let buf = self.check_shared(args[0], args[1])?;
        if args[2] != ECC_CURVE_SECP384R1 {
            return Err(El3Error::Inval);
        }
        if args[1] < SIM_REALM_KEY.len() as u64 {
            return Err(El3Error::NoMem);
        }
        mem.write(buf, Pas::Root, &SIM_REALM_KEY)
            .map_err(|_| El3Error::BadAddr)?;
        Ok(SIM_REALM_KEY.len() as u64)
    }

    /// One hunk of the platform token. The first call of a transfer must name a hash size
    /// of 32, 48 or 64 bytes (the challenge is in the buffer); later calls continue.
    fn plat_token(&self, mem: &PhysMem, args: [u64; 4]) -> Result<(u64, u64), El3Error> {
        let buf = self.check_shared(args[0], args[1])?;
        let mut s = self.state();
        let offset = match s.token_offset {
            Some(o) => o,
            None => {
                if !matches!(args[2], 32 | 48 | 64) {
                    return Err(El3Error::Inval);
                }
                0
            }
        };
        let n = (SIM_PLAT_TOKEN_SIZE - offset).min(args[1] as usize);
        let hunk: Vec<u8> = (offset..offset + n).map(sim_plat_token_byte).collect();
        mem.write(buf, Pas::Root, &hunk)
            .map_err(|_| El3Error::BadAddr)?;
        let remaining = SIM_PLAT_TOKEN_SIZE - offset - n;
        s.token_offset = if remaining == 0 {
            None
        } else {
            Some(offset + n)
        };
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
    use crate::sim::{SimConfig, SimHw};

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
        assert_eq!(
            c(RMM_ATTEST_GET_REALM_KEY, [sb, 4096, 1, 0])[0],
            El3Error::Inval.code()
        );
        assert_eq!(
            c(RMM_ATTEST_GET_REALM_KEY, [sb + 4096, 4096, 0, 0])[0],
            El3Error::Inval.code()
        );
        assert_eq!(
            c(RMM_ATTEST_GET_REALM_KEY, [sb, 16, 0, 0])[0],
            El3Error::NoMem.code()
        );

        assert_eq!(
            c(RMM_ATTEST_GET_PLAT_TOKEN, [sb, 4096, 20, 0])[0],
            El3Error::Inval.code()
        );
        let mut token = Vec::new();
        let mut r = c(RMM_ATTEST_GET_PLAT_TOKEN, [sb, 4096, 48, 0]);
        loop {
            assert_eq!(r[0], 0);
            token.extend_from_slice(&hw.mem().inspect(PhysAddr(sb)).0[..r[1] as usize]);
            if r[2] == 0 {
                break;
            }
            r = c(RMM_ATTEST_GET_PLAT_TOKEN, [sb, 4096, 0, 0]);
        }
        assert_eq!(token.len(), SIM_PLAT_TOKEN_SIZE);
        assert!(token
            .iter()
            .enumerate()
            .all(|(i, &b)| b == sim_plat_token_byte(i)));
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
