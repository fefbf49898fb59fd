//! The realm descriptor (RD, DEN0137 1.0 A2.1.3): the realm's attributes, kept in the
//! RD granule itself.

use rmi_abi::enums::{RmiHashAlgorithm, RmiRealmState};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use platform::GranuleMem;

use crate::rtt::entry::DescFormat;
use crate::rtt::RttGeometry;

/// Number of measurement slots: RIM and four REMs.
pub const MEASUREMENT_SLOTS: usize = 5;
/// Size of a measurement slot.
pub const MEASUREMENT_SIZE: usize = 64;

/// The realm descriptor as stored at the start of the RD granule.
#[derive(Clone, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct Rd {
    /// `RmiRealmState` encoding.
    pub state: u8,
    /// `RmiHashAlgorithm` encoding.
    pub hash_algo: u8,
    /// IPA width in bits.
    pub ipa_width: u8,
    /// RTT start level.
    pub rtt_level_start: i8,
    /// Number of concatenated start-level RTTs.
    pub rtt_num_start: u32,
    /// Address of the first start-level RTT.
    pub rtt_base: u64,
    /// VMID.
    pub vmid: u16,
    /// Breakpoints minus one, as requested.
    pub num_bps: u8,
    /// Watchpoints minus one, as requested.
    pub num_wps: u8,
    /// `feat_lpa2`: 1 if the realm was created with the LPA2 flag (its RTTs are in
    /// FEAT_LPA2's descriptor layout), else 0.
    pub lpa2: u8,
    _pad: [u8; 3],
    /// Index the next REC must have (= RECs created so far).
    pub rec_index: u64,
    /// Measurements: RIM, then REM 0..=3.
    pub measurements: [[u8; MEASUREMENT_SIZE]; MEASUREMENT_SLOTS],
    /// Realm personalization value.
    pub rpv: [u8; 64],
}

/// The RD granule: the descriptor and unused space.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
struct RdGranule {
    rd: Rd,
    _rest: [u8; 4096 - core::mem::size_of::<Rd>()],
}

/// The descriptor in a mapped RD granule.
pub fn rd_mut(g: &mut GranuleMem) -> &mut Rd {
    let page: &mut RdGranule = zerocopy::transmute_mut!(g);
    &mut page.rd
}

/// A copy of what commands need from a locked RD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RealmInfo {
    /// Realm state.
    pub state: RmiRealmState,
    /// RTT geometry.
    pub geometry: RttGeometry,
    /// First start-level RTT.
    pub rtt_base: u64,
    /// Measurement algorithm.
    pub hash_algo: RmiHashAlgorithm,
    /// VMID.
    pub vmid: u16,
    /// Breakpoints the realm was created with (RmiRealmParams.num_bps, in the
    /// encoding of ID_AA64DFR0_EL1.BRPs: the number minus one).
    pub num_bps: u8,
    /// Watchpoints (RmiRealmParams.num_wps, the number minus one).
    pub num_wps: u8,
}

impl Rd {
    /// The attributes commands use. The RD is written only by this RMM, so its fields
    /// are always valid encodings; a corrupt value is an RMM bug.
    pub fn info(&self) -> RealmInfo {
        RealmInfo {
            state: RmiRealmState::decode(self.state as u64).unwrap_or(RmiRealmState::SystemOff),
            geometry: RttGeometry {
                ipa_bits: self.ipa_width as u32,
                start_level: self.rtt_level_start,
                num_start: self.rtt_num_start,
                format: DescFormat::of(self.lpa2 != 0),
            },
            rtt_base: self.rtt_base,
            hash_algo: RmiHashAlgorithm::decode(self.hash_algo as u64)
                .unwrap_or(RmiHashAlgorithm::Sha256),
            vmid: self.vmid,
            num_bps: self.num_bps,
            num_wps: self.num_wps,
        }
    }
}
