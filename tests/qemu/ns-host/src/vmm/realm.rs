//! The realm's memory as the VMM manages it: RTTs created when a command needs them
//! (the RMM says which level with RMI_ERROR_RTT), measured DATA_CREATE of the images,
//! DATA_CREATE_UNKNOWN of RAM the realm touches, RIPAS changes, and Non-secure granules
//! mapped at unprotected IPAs for memory the realm shares.

use rmi_abi::status::decode_result;
use rmi_abi::{RmiError, RmiFid};
use rmm_conformance::builder::Pool;
use rmm_conformance::linux_boot::SHARED_BIT;
use rmm_conformance::Host;

/// Why a realm operation failed: the command and its status word (x0).
#[derive(Clone, Copy, Debug)]
pub struct RmiFailure {
    /// The command.
    pub fid: RmiFid,
    /// Its x0.
    pub x0: u64,
    /// Its IPA argument.
    pub ipa: u64,
}

/// A realm's RD and the host's pool of granules.
pub struct Memory<'h> {
    pub h: &'h dyn Host,
    pub pool: Pool<'h>,
    pub rd: u64,
    /// RTTs created after the realm's start tables.
    pub rtts: u64,
    /// Granules given to the realm as DATA (measured, and on demand).
    pub data_measured: u64,
    pub data_unknown: u64,
    /// Non-secure granules mapped at unprotected IPAs.
    pub unprotected: u64,
}

/// RTT level sizes (4 KiB granule): what one entry of a level maps.
const fn level_size(level: i64) -> u64 {
    1 << (12 + 9 * (3 - level))
}

/// RMM `desc` of an unprotected mapping (DEN0137 1.0, RmiRttEntry for
/// RMI_RTT_MAP_UNPROTECTED): the output address, MemAttr [5:2] 0b0110 (Normal
/// write-back with HCR_EL2.FWB) and S2AP [7:6] 0b11 (read/write).
const fn unprotected_desc(pa: u64) -> u64 {
    pa | 0b0110 << 2 | 0b11 << 6
}

impl<'h> Memory<'h> {
    fn call(&self, fid: RmiFid, args: &[u64]) -> [u64; 5] {
        self.h.rmi(fid, args)
    }

    /// Creates the RTT of `level` covering `ipa` (after those above it, as the RMM
    /// asks).
    pub fn rtt_create(&mut self, ipa: u64, level: i64) -> Result<(), RmiFailure> {
        let base = ipa & !(level_size(level - 1) - 1);
        loop {
            let t = self.pool.ns();
            if self.h.rmi(RmiFid::GranuleDelegate, &[t])[0] != 0 {
                return Err(RmiFailure {
                    fid: RmiFid::GranuleDelegate,
                    x0: 1,
                    ipa: t,
                });
            }
            let r = self.call(RmiFid::RttCreate, &[self.rd, t, base, level as u64]);
            match decode_result(r[0]) {
                Ok(Ok(())) => {
                    self.rtts += 1;
                    return Ok(());
                }
                // A level above is missing too: create it first.
                Ok(Err(RmiError::Rtt(l))) if i64::from(l) < level - 1 => {
                    let _ = self.h.rmi(RmiFid::GranuleUndelegate, &[t]);
                    self.rtt_create(ipa, i64::from(l) + 1)?;
                }
                _ => {
                    return Err(RmiFailure {
                        fid: RmiFid::RttCreate,
                        x0: r[0],
                        ipa: base,
                    })
                }
            }
        }
    }

    /// Issues `fid` (an IPA command needing tables down to `level`), creating RTTs
    /// while the RMM reports RMI_ERROR_RTT above that level.
    fn with_tables(
        &mut self,
        fid: RmiFid,
        args: &[u64],
        ipa: u64,
        level: i64,
    ) -> Result<[u64; 5], RmiFailure> {
        loop {
            let r = self.call(fid, args);
            match decode_result(r[0]) {
                Ok(Ok(())) => return Ok(r),
                Ok(Err(RmiError::Rtt(l))) if i64::from(l) < level => {
                    self.rtt_create(ipa, i64::from(l) + 1)?
                }
                _ => return Err(RmiFailure { fid, x0: r[0], ipa }),
            }
        }
    }

    /// A fresh delegated granule.
    fn delegated(&mut self) -> Result<u64, RmiFailure> {
        let g = self.pool.ns();
        let r = self.h.rmi(RmiFid::GranuleDelegate, &[g]);
        if r[0] != 0 {
            return Err(RmiFailure {
                fid: RmiFid::GranuleDelegate,
                x0: r[0],
                ipa: g,
            });
        }
        Ok(g)
    }

    /// Measured DATA_CREATE of the Non-secure page at `src` at `ipa`.
    pub fn data_create(&mut self, ipa: u64, src: u64) -> Result<(), RmiFailure> {
        let g = self.delegated()?;
        self.with_tables(RmiFid::DataCreate, &[self.rd, g, ipa, src, 1], ipa, 3)?;
        self.data_measured += 1;
        Ok(())
    }

    /// DATA_CREATE_UNKNOWN at `ipa` (a stage-2 fault on RAM the realm had not used).
    pub fn data_create_unknown(&mut self, ipa: u64) -> Result<(), RmiFailure> {
        let g = self.delegated()?;
        self.with_tables(RmiFid::DataCreateUnknown, &[self.rd, g, ipa], ipa, 3)?;
        self.data_unknown += 1;
        Ok(())
    }

    /// RMI_RTT_INIT_RIPAS over `[base, top)`.
    pub fn init_ripas(&mut self, mut base: u64, top: u64) -> Result<(), RmiFailure> {
        while base < top {
            let r = self.with_tables(RmiFid::RttInitRipas, &[self.rd, base, top], base, 3)?;
            if r[1] <= base {
                return Err(RmiFailure {
                    fid: RmiFid::RttInitRipas,
                    x0: r[0],
                    ipa: base,
                });
            }
            base = r[1];
        }
        Ok(())
    }

    /// RMI_RTT_SET_RIPAS for REC `rec`'s pending request, from `base` to `top`;
    /// returns how far it got (`top` when all of it was changed).
    pub fn set_ripas(&mut self, rec: u64, mut base: u64, top: u64) -> Result<u64, RmiFailure> {
        while base < top {
            let r = self.with_tables(RmiFid::RttSetRipas, &[self.rd, rec, base, top], base, 3)?;
            if r[1] <= base {
                return Ok(base);
            }
            base = r[1];
        }
        Ok(base)
    }

    /// Maps a fresh Non-secure granule at the unprotected IPA `ipa` (which has
    /// [`SHARED_BIT`] set).
    pub fn map_unprotected(&mut self, ipa: u64) -> Result<(), RmiFailure> {
        debug_assert!(ipa & SHARED_BIT != 0);
        let ipa = ipa & !0xFFF;
        let ns = self.pool.ns();
        let _ = self.h.write_ns(ns, &[0u8; 4096]);
        self.with_tables(
            RmiFid::RttMapUnprotected,
            &[self.rd, ipa, 3, unprotected_desc(ns)],
            ipa,
            3,
        )?;
        self.unprotected += 1;
        Ok(())
    }
}
