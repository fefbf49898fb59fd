//! The Realm Management Monitor core.
//!
//! The same code runs as firmware at Realm EL2 and hosted on the simulation machine: it is
//! generic over [`platform::Arch`], the narrow interface to the hardware. [`Rmm`] holds
//! the monitor's global state; [`Rmm::cold_boot`] brings it up per the RMM-EL3 interface
//! and [`Rmm::handle_rmi`] serves one RMI call.

#![cfg_attr(not(any(test, feature = "sim")), no_std)]
#![forbid(unsafe_code)]

#[macro_use]
mod phase;

pub mod attest;
pub mod boot;
pub mod cpu_features;
pub mod granule;
pub mod hash;
pub mod measurement;
pub mod percpu;
pub mod realm;
pub mod rec;
pub mod rmi;
pub mod rsi;
pub mod rtt;
pub mod run;
pub mod vmid;

pub use rmi::Completion;

#[cfg(feature = "sim")]
pub mod hosted;

use platform::el3::BootInfo;
use platform::manifest::Manifest;
use platform::{Arch, CpuId};

use cpu_features::CpuFeatures;
use granule::{Granule, GranuleTable};
use vmid::VmidSet;

/// Where the RMM keeps its global metadata: the words of the granule table (all
/// [`Granule::new`] at boot), the VMID set (all free at boot) and the attestation
/// material (empty at boot). Statics in firmware, allocations per simulated machine
/// when hosted; either way never the stack.
pub trait Storage: Sync {
    /// The granule table's words.
    fn granules(&self) -> &[Granule];
    /// The VMID set.
    fn vmids(&self) -> &VmidSet;
    /// The attestation key and platform token ([`attest::AttestStore::new`]).
    fn attest(&self) -> &attest::AttestStore;
}

/// The RMM: the architecture it runs on and its global state.
///
/// `S` holds the metadata ([`Storage`]).
pub struct Rmm<A: Arch, S: Storage> {
    arch: A,
    boot: BootInfo,
    manifest: Manifest,
    granules: GranuleTable<S>,
    features: CpuFeatures,
    /// The GICv3 virtual CPU interface every CPU has, probed at boot.
    gic: vgic::GicFeatures,
}

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// The architecture.
    pub fn arch(&self) -> &A {
        &self.arch
    }

    /// The validated cold-boot arguments.
    pub fn boot_info(&self) -> &BootInfo {
        &self.boot
    }

    /// The validated boot manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The granule metadata table.
    pub fn granules(&self) -> &GranuleTable<S> {
        &self.granules
    }

    /// The CPU features read at boot.
    pub fn features(&self) -> &CpuFeatures {
        &self.features
    }

    /// The compression function of the RMM's SHA-256/512 hashes: the CPU's SHA-2
    /// instructions chosen at cold boot ([`hash::choose`]), else software.
    pub fn sha2(&self) -> hash::Engine<'_, A> {
        hash::Engine::new(&self.arch, &self.features)
    }

    /// The attestation material obtained from EL3 at cold boot.
    pub fn attest(&self) -> &attest::AttestStore {
        self.granules.storage().attest()
    }

    /// The GICv3 virtual CPU interface features probed at boot (the same on every CPU).
    pub fn gic_features(&self) -> vgic::GicFeatures {
        self.gic
    }

    /// Returns a granule the RMM is done with to DELEGATED, zero-filled first: the one
    /// place that keeps the invariant "a DELEGATED granule is all zero" on every path
    /// back (REALM_DESTROY, RTT_DESTROY, RTT_FOLD, DATA_DESTROY, REC_DESTROY), and for
    /// a DELEGATED granule written by a command that then failed (DATA_CREATE after
    /// its copy).
    pub(crate) fn scrub<K: granule::Kind>(&self, lock: granule::Locked<'_, K>) {
        // DELEGATED while still locked, so that the proof is one of a granule whose own
        // lock guards it; nobody sees it DELEGATED before it is zero.
        let mut delegated = lock.transition::<granule::DelegatedKind>();
        self.arch.zero_granule(&mut delegated);
    }

    /// Whether `cpu` is a CPU this RMM was booted for.
    pub fn has_cpu(&self, cpu: CpuId) -> bool {
        cpu.0 < self.boot.num_cpus
    }
}
