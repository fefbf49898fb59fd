//! The REC (realm execution context, DEN0137 1.0 A2.3): a realm vCPU's state, kept in
//! the REC granule itself.

use rmi_abi::rec_params::REC_PARAMS_AUX_GRANULES_MAX;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use platform::GranuleMem;

/// The REC as stored at the start of the REC granule.
#[derive(Clone, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct Rec {
    /// The owning realm's RD.
    pub rd: u64,
    /// The REC's index in its realm (creation order).
    pub index: u64,
    /// The `RmiRecMpidr` value it was created with.
    pub mpidr: u64,
    /// 1 if the REC is RUNNABLE.
    pub runnable: u8,
    _pad: [u8; 7],
    /// Program counter on next entry.
    pub pc: u64,
    /// General-purpose registers x0..x30.
    pub gprs: [u64; 31],
    /// Number of auxiliary granules.
    pub num_aux: u64,
    /// Auxiliary granules.
    pub aux: [u64; REC_PARAMS_AUX_GRANULES_MAX],
}

#[derive(FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
struct RecGranule {
    rec: Rec,
    _rest: [u8; 4096 - core::mem::size_of::<Rec>()],
}

/// The REC in a mapped REC granule.
pub fn rec_mut(g: &mut GranuleMem) -> &mut Rec {
    let page: &mut RecGranule = zerocopy::transmute_mut!(g);
    &mut page.rec
}
