//! RMI_REALM_CREATE, RMI_REALM_ACTIVATE, RMI_REALM_DESTROY and RMI_REC_AUX_COUNT.

use crate::Storage;

use platform::{Arch, PhysAddr};
use rmi_abi::enums::{RmiHashAlgorithm, RmiRealmState};
use rmi_abi::flags::RmiRealmFlags;
use rmi_abi::{RmiError, RmiRealmParams, GRANULE_SIZE};

use crate::cpu_features::MIN_IPA_BITS;
use crate::granule::{DelegatedKind, LockError, Locked, RdKind, RttKind};
use crate::measurement::{Measurement, MeasurementAlgo};
use crate::percpu::Scratch;
use crate::realm::{rd_mut, Rd};
use crate::rtt::entry::DescFormat;
use crate::rtt::geometry::{
    entries_at, entry_size, ENTRIES, MAX_IPA_BITS_NO_LPA2, MAX_START_TABLES,
};
use crate::rtt::walk::entries_mut;
use crate::rtt::{RttGeometry, Rtte};
use crate::Rmm;

/// Number of auxiliary granules each REC needs (DEN0137 1.0, `RecAuxCount`): room for
/// per-REC state that does not fit the REC granule (attestation token and signing
/// context).
pub const REC_AUX_COUNT: u64 = 2;

/// The end of the physical address range a realm without LPA2 may use (A3.1.2).
pub(crate) const PA_LIMIT_NO_LPA2: u64 = 1 << 48;

/// A lock failure on a granule the command names: ERROR_INPUT whichever it was.
impl From<LockError> for RmiError {
    fn from(_: LockError) -> Self {
        RmiError::Input
    }
}

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// `*_align`, `*_bound`, `*_state` for a granule named by the host: locks it as an
    /// RD.
    pub(super) fn lock_rd(&self, rd: PhysAddr) -> Result<Locked<'_, RdKind>, RmiError> {
        Ok(self.granules.lock_as::<RdKind>(rd)?)
    }

    /// Copies a host parameter granule in (`*_align`, `*_bound`, `*_pas`): the host
    /// memory is read once, into RMM memory, before anything is validated.
    pub(super) fn read_host_granule<T: zerocopy::FromBytes + zerocopy::IntoBytes>(
        &self,
        pa: PhysAddr,
        out: &mut T,
    ) -> Result<(), RmiError> {
        if !pa.is_granule_aligned() || self.granules.get(pa).is_none() {
            return Err(RmiError::Input);
        }
        self.arch
            .read_ns(pa, 0, out.as_mut_bytes())
            .map_err(|_| RmiError::Input)
    }

    /// DEN0137 1.0, `RealmParamsSupported` (and the parts of `RmiRealmParamsIsValid`
    /// that concern values): the features requested are ones this RMM offers. An IPA
    /// width above 48 bits is supported only for a realm with the LPA2 flag (A3.1.2:
    /// the host enables LPA2 for a larger IPA width; VTCR_EL2.T0SZ below 16 needs DS):
    /// this is the one condition that sees both `s2sz` and the flags, so a start level
    /// of -1 or a concatenated level-0 start without the flag also fails here when it
    /// asks for more than 48 bits, and in `rtt_num_level` otherwise.
    fn realm_params_supported(&self, p: &RmiRealmParams, flags: RmiRealmFlags) -> bool {
        let f = self.features.feature_reg0();
        let ipa_ok = (MIN_IPA_BITS..=f.s2sz as u32).contains(&(p.s2sz as u32))
            && (flags.lpa2() || p.s2sz as u32 <= MAX_IPA_BITS_NO_LPA2);
        let lpa2_ok = !flags.lpa2() || f.lpa2;
        let sve_ok = !flags.sve() || (f.sve_en && p.sve_vl <= f.sve_vl);
        let pmu_ok = !flags.pmu() || (f.pmu_en && p.pmu_num_ctrs <= f.pmu_num_ctrs);
        let bps_ok = (1..=f.num_bps).contains(&p.num_bps);
        let wps_ok = (1..=f.num_wps).contains(&p.num_wps);
        let hash_ok = match RmiHashAlgorithm::decode(p.hash_algo as u64) {
            Ok(RmiHashAlgorithm::Sha256) => f.hash_sha_256,
            Ok(RmiHashAlgorithm::Sha512) => f.hash_sha_512,
            Err(_) => false,
        };
        ipa_ok && lpa2_ok && sve_ok && pmu_ok && bps_ok && wps_ok && hash_ok
    }

    /// DEN0137 1.0, RMI_REALM_CREATE (x1 = RD, x2 = parameters). Failure conditions, in
    /// the specification's order (all ERROR_INPUT): params_align, params_bound,
    /// params_pas, params_valid, params_supp, alias, rd_align, rd_bound, rd_state,
    /// rtt_align, rtt_num_level, rtt_state, vmid_valid.
    pub(super) fn realm_create(
        &self,
        scratch: &mut Scratch,
        rd: PhysAddr,
        params_pa: PhysAddr,
    ) -> Result<(), RmiError> {
        // params_align, params_bound, params_pas
        let p = scratch.realm_params();
        self.read_host_granule(params_pa, p)?;
        // params_valid: reserved flag bits and encodings.
        let flags = RmiRealmFlags::decode(p.flags).map_err(|_| RmiError::Input)?;
        // params_supp
        if !self.realm_params_supported(p, flags) {
            return Err(RmiError::Input);
        }
        // alias: the RD is one of the start-level RTTs.
        let n = p.rtt_num_start as u64;
        let rtt_span = n.saturating_mul(GRANULE_SIZE as u64);
        if rd.0 >= p.rtt_base && rd.0 - p.rtt_base < rtt_span {
            return Err(RmiError::Input);
        }
        // rd_align, rd_bound (rd_state is checked once locked, below)
        if self.granules.get(rd).is_none() {
            return Err(RmiError::Input);
        }
        // rtt_align
        if n == 0 || n > MAX_START_TABLES as u64 || !p.rtt_base.is_multiple_of(rtt_span) {
            return Err(RmiError::Input);
        }
        // rtt_num_level
        let format = DescFormat::of(flags.lpa2());
        let geometry = RttGeometry::new(
            p.s2sz as u32,
            p.rtt_level_start,
            n,
            self.features.pa_bits,
            format,
        )
        .ok_or(RmiError::Input)?;
        // The start-level RTTs of a realm without LPA2 must be below 2^48: VTTBR_EL2
        // holds a 48-bit table address when VTCR_EL2.DS is 0 (Arm ARM, VTTBR_EL2.BADDR).
        // The spec lists no such condition for REALM_CREATE (A3.1.2 names the commands
        // taking other granules); checked with rtt_num_level, as the RTT configuration
        // the platform supports (docs/design.md).
        if !format.is_lpa2() && p.rtt_base.saturating_add(rtt_span) > PA_LIMIT_NO_LPA2 {
            return Err(RmiError::Input);
        }
        // vmid_valid (validity; freedom is claimed last, once nothing else can fail)
        if !crate::vmid::is_valid(p.vmid, self.features.vmid_bits) {
            return Err(RmiError::Input);
        }

        // rd_state, rtt_state: lock the RD and the start-level RTTs in address order.
        let (mut rd_lock, mut rtts) =
            self.lock_rd_and_rtts(rd, PhysAddr(p.rtt_base), n as usize)?;
        // vmid_valid: free
        if !self.granules.storage().vmids().try_reserve(p.vmid) {
            return Err(RmiError::Input);
        }

        // Start-level entries: protected IPAs UNASSIGNED/EMPTY (the zero descriptor, and
        // the granules are zero), unprotected IPAs UNASSIGNED_NS.
        let level = geometry.start_level;
        let unprotected = Rtte::UnassignedNs.encode(level, format);
        for (t, rtt) in rtts.iter_mut().flatten().enumerate() {
            let mut m = self.arch.map_realm(rtt);
            let entries = &mut entries_mut(&mut m)[..entries_at(level)];
            for (i, e) in entries.iter_mut().enumerate() {
                let ipa = ((t * ENTRIES + i) as u64) * entry_size(level);
                if !geometry.is_protected(ipa) {
                    *e = unprotected;
                }
            }
        }
        let algo = match RmiHashAlgorithm::decode(p.hash_algo as u64) {
            Ok(RmiHashAlgorithm::Sha512) => MeasurementAlgo::Sha512,
            _ => MeasurementAlgo::Sha256,
        };
        {
            let mut m = self.arch.map_realm(&mut rd_lock);
            let d: &mut Rd = rd_mut(&mut m);
            d.state = RmiRealmState::New.raw();
            d.hash_algo = p.hash_algo;
            d.ipa_width = p.s2sz;
            d.rtt_level_start = level;
            d.rtt_num_start = n as u32;
            d.rtt_base = p.rtt_base;
            d.vmid = p.vmid;
            d.num_bps = p.num_bps;
            d.num_wps = p.num_wps;
            d.lpa2 = format.is_lpa2() as u8;
            d.rec_index = 0;
            d.measurements = [[0; 64]; 5];
            d.measurements[0] = *Measurement::realm_initial(&self.sha2(), p, algo).as_bytes();
            d.rpv = p.rpv;
        }
        for rtt in rtts.into_iter().flatten() {
            rtt.transition::<RttKind>();
        }
        rd_lock.transition::<RdKind>();
        Ok(())
    }

    /// Locks the RD (DELEGATED) and `n` start-level RTTs (DELEGATED) from `base`, all in
    /// ascending address order.
    #[allow(clippy::type_complexity)]
    fn lock_rd_and_rtts(
        &self,
        rd: PhysAddr,
        base: PhysAddr,
        n: usize,
    ) -> Result<
        (
            Locked<'_, DelegatedKind>,
            [Option<Locked<'_, DelegatedKind>>; MAX_START_TABLES as usize],
        ),
        RmiError,
    > {
        let mut rtts: [Option<Locked<'_, DelegatedKind>>; MAX_START_TABLES as usize] =
            Default::default();
        let rtt_pa = |i: usize| PhysAddr(base.0 + (i * GRANULE_SIZE) as u64);
        let mut rd_lock = None;
        if rd < base {
            rd_lock = Some(self.granules.lock_as::<DelegatedKind>(rd)?);
        }
        for (i, slot) in rtts.iter_mut().take(n).enumerate() {
            *slot = Some(self.granules.lock_as::<DelegatedKind>(rtt_pa(i))?);
        }
        let rd_lock = match rd_lock {
            Some(l) => l,
            None => self.granules.lock_as::<DelegatedKind>(rd)?,
        };
        Ok((rd_lock, rtts))
    }

    /// DEN0137 1.0, RMI_REALM_ACTIVATE (x1 = RD). Failure conditions: rd_align,
    /// rd_bound, rd_state (ERROR_INPUT), then realm_state (ERROR_REALM).
    pub(super) fn realm_activate(&self, rd: PhysAddr) -> Result<(), RmiError> {
        let mut rd_lock = self.lock_rd(rd)?;
        let mut m = self.arch.map_realm(&mut rd_lock);
        let d = rd_mut(&mut m);
        // realm_state
        if d.state != RmiRealmState::New.raw() {
            return Err(RmiError::Realm(0));
        }
        d.state = RmiRealmState::Active.raw();
        Ok(())
    }

    /// DEN0137 1.0, RMI_REALM_DESTROY (x1 = RD). Failure conditions: rd_align, rd_bound,
    /// rd_state (ERROR_INPUT), then realm_live (ERROR_REALM): the realm has RECs, or a
    /// start-level RTT is live. The VMID is invalidated before it is freed.
    pub(super) fn realm_destroy(&self, rd: PhysAddr) -> Result<(), RmiError> {
        let mut rd_lock = self.lock_rd(rd)?;
        let info = self.realm_info(&mut rd_lock);
        // realm_live: RECs hold references on the RD; live start-level entries hold
        // references on their RTT.
        if rd_lock.granule().refcount() != 0 {
            return Err(RmiError::Realm(0));
        }
        let rtt_pa = |i: u32| PhysAddr(info.rtt_base + (i as usize * GRANULE_SIZE) as u64);
        let mut rtts: [Option<Locked<'_, RttKind>>; MAX_START_TABLES as usize] = Default::default();
        for (i, slot) in rtts
            .iter_mut()
            .take(info.geometry.num_start as usize)
            .enumerate()
        {
            let rtt = crate::rtt::walk::lock_rtt(&self.granules, rtt_pa(i as u32));
            if rtt.granule().refcount() != 0 {
                return Err(RmiError::Realm(0));
            }
            *slot = Some(rtt);
        }
        // The start tables may hold valid ASSIGNED_NS entries (they do not make an RTT
        // live), and stage 1 entries of the realm are tagged with its VMID: nothing of
        // it may stay cached once its tables are scrubbed and its VMID reused.
        self.arch
            .invalidate_stage2(info.vmid, platform::Stage2Scope::Vmid);
        for rtt in rtts.into_iter().flatten() {
            self.scrub(rtt);
        }
        self.granules.storage().vmids().release(info.vmid);
        self.scrub(rd_lock);
        Ok(())
    }

    /// DEN0137 1.0, RMI_REC_AUX_COUNT (x1 = RD): rd_align, rd_bound, rd_state; returns
    /// x1 = [`REC_AUX_COUNT`].
    pub(super) fn rec_aux_count(&self, rd: PhysAddr) -> Result<[u64; 1], RmiError> {
        let _rd = self.lock_rd(rd)?;
        Ok([REC_AUX_COUNT])
    }
}
