//! [`RealmEnv`] at R-EL1: real `smc`, loads and stores, WFI.

use rmm_conformance::payload::load;
use rmm_conformance::realm::RealmEnv;

use crate::asm;

/// The realm's CPU, as realm programs see it.
pub struct Env;

impl RealmEnv for Env {
    fn smc(&mut self, fid: u64, args: &[u64]) -> [u64; 31] {
        let r = asm::smc(fid, &args[..args.len().min(17)]);
        let mut out = [0u64; 31];
        out[..18].copy_from_slice(&r);
        out
    }

    /// Byte by byte, each load under an exception catcher: an access the RMM (or the
    /// host) answers with an abort ends the copy with that abort's ESR_EL1, as on the
    /// simulation.
    fn read(&mut self, ipa: u64, buf: &mut [u8]) -> Result<(), u64> {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = asm::read_byte(ipa + i as u64)?;
        }
        Ok(())
    }

    fn write(&mut self, ipa: u64, buf: &[u8]) -> Result<(), u64> {
        for (i, &b) in buf.iter().enumerate() {
            asm::write_byte(ipa + i as u64, b)?;
        }
        Ok(())
    }

    fn wfi(&mut self) {
        asm::wfi()
    }

    fn mmio_read(&mut self, ipa: u64, size: usize) -> Result<u64, u64> {
        let kind = match size {
            1 => load::B8,
            2 => load::H16,
            4 => load::W32,
            8 => load::X64,
            _ => return Err(0),
        };
        let mut v = 0;
        match asm::expect(|| v = asm::load(ipa, kind)) {
            (0, _) => Ok(v),
            (esr, _) => Err(esr),
        }
    }

    fn mmio_write(&mut self, ipa: u64, size: usize, value: u64) -> Result<(), u64> {
        match asm::expect(|| asm::store(ipa, size as u64, value)) {
            (0, _) => Ok(()),
            (esr, _) => Err(esr),
        }
    }

    fn set_virtual_timer(&mut self, ctl: u64, cval: u64) {
        asm::set_cntv(ctl, cval);
    }

    fn virtual_timer_ctl(&mut self) -> u64 {
        asm::read_el1()[22]
    }

    fn set_physical_timer(&mut self, ctl: u64, cval: u64) {
        asm::set_cntp(ctl, cval);
    }

    fn physical_timer_ctl(&mut self) -> u64 {
        asm::cntp_ctl()
    }

    fn gic_enable_group1(&mut self) {
        asm::gic::set_pmr(0xFF);
        asm::gic::set_igrpen1(1);
    }

    fn gic_acknowledge(&mut self) -> u64 {
        asm::gic::iar1() & 0xFF_FFFF
    }

    fn gic_eoi(&mut self, intid: u64) {
        asm::gic::eoir1(intid);
    }

    fn fetch(&mut self, ipa: u64) -> Result<(), u64> {
        match asm::fetch(ipa) {
            0 => Ok(()),
            esr => Err(esr),
        }
    }

    fn gic_write_sgi(&mut self, reg: rmm_conformance::realm::SgiRegister, value: u64) {
        asm::gic::sgi(reg.op2(), value);
    }

    fn mpidr(&mut self) -> u64 {
        asm::mpidr()
    }
}
