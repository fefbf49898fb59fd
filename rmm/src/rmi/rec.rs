//! RMI_REC_CREATE and RMI_REC_DESTROY.

use crate::Storage;

use platform::{Arch, PhysAddr};
use rmi_abi::enums::RmiRealmState;
use rmi_abi::flags::RmiRecCreateFlags;
use rmi_abi::mpidr::RmiRecMpidr;
use rmi_abi::RmiError;

use super::realm::REC_AUX_COUNT;
use crate::cpu_features::MAX_RECS_ORDER;
use crate::granule::{
    DelegatedKind, GranuleGuard, GranuleState, Kind, Locked, RdKind, RecAuxKind, RecKind,
};
use crate::measurement::Measurement;
use crate::percpu::Scratch;
use crate::realm::rd_mut;
use crate::rec::rec_mut;
use crate::Rmm;

/// The most granules REC_CREATE names: the REC, the RD and 16 auxiliary granules.
const MAX_NAMED: usize = 18;

/// The role of a granule named by REC_CREATE.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Rec,
    Rd,
    Aux,
}

impl<A: Arch, S: Storage> Rmm<A, S> {
    /// DEN0137 1.0, RMI_REC_CREATE (x1 RD, x2 REC, x3 parameters).
    ///
    /// Failure conditions, in order: params_align, params_bound, params_pas (and an
    /// invalid encoding of flags or MPIDR), rec_align, rec_bound, rec_state, rd_align,
    /// rd_bound, rd_state (ERROR_INPUT); realm_state, num_recs (ERROR_REALM);
    /// mpidr_index, num_aux, aux_align, aux_alias, aux_state (ERROR_INPUT).
    ///
    /// Every granule named (REC, RD, auxiliaries) is external: they are all locked in
    /// ascending address order, each released at once if it is not in the state its
    /// role needs, and the conditions are then evaluated in the specification's order.
    pub(super) fn rec_create(
        &self,
        scratch: &mut Scratch,
        rd: PhysAddr,
        rec: PhysAddr,
        params_pa: PhysAddr,
    ) -> Result<(), RmiError> {
        let p = scratch.rec_params();
        self.read_host_granule(params_pa, p)?;
        let flags = RmiRecCreateFlags::decode(p.flags).map_err(|_| RmiError::Input)?;
        let mpidr = RmiRecMpidr::decode(p.mpidr).map_err(|_| RmiError::Input)?;
        // rec_align, rec_bound, rd_align, rd_bound; the REC and RD must differ.
        if self.granules.get(rec).is_none() || self.granules.get(rd).is_none() || rec == rd {
            return Err(RmiError::Input);
        }
        // The auxiliary granules to lock: only when their number is right, and each
        // aligned, tracked and distinct from the others and from the REC and RD.
        let aux_wanted = p.num_aux == REC_AUX_COUNT;
        let aux = &p.aux[..REC_AUX_COUNT as usize];
        let mut aux_aligned = true;
        let mut aux_alias = false;
        let mut named: [(PhysAddr, Role); MAX_NAMED] = [(PhysAddr(0), Role::Aux); MAX_NAMED];
        named[0] = (rec, Role::Rec);
        named[1] = (rd, Role::Rd);
        let mut n = 2;
        if aux_wanted {
            for (i, &a) in aux.iter().enumerate() {
                let a = PhysAddr(a);
                aux_aligned &= a.is_granule_aligned();
                let dup = a == rec || aux[..i].contains(&a.0);
                aux_alias |= dup;
                if a.is_granule_aligned() && !dup && a != rd && self.granules.get(a).is_some() {
                    named[n] = (a, Role::Aux);
                    n += 1;
                }
            }
        }
        let named = &mut named[..n];
        named.sort_unstable_by_key(|(pa, _)| *pa);

        // Lock in address order; keep only granules in the state their role needs.
        let mut guards: [Option<GranuleGuard<'_>>; MAX_NAMED] = Default::default();
        let (mut rec_ok, mut rd_ok, mut aux_ok) = (false, false, aux_wanted && n == 2 + aux.len());
        for (slot, &(pa, role)) in guards.iter_mut().zip(named.iter()) {
            let Some(g) = self.granules.lock(pa) else {
                continue;
            };
            let want = if role == Role::Rd {
                RdKind::STATE
            } else {
                DelegatedKind::STATE
            };
            let ok = g.state() == want;
            match role {
                Role::Rec => rec_ok = ok,
                Role::Rd => rd_ok = ok,
                Role::Aux => aux_ok &= ok,
            }
            // A granule in another state is released at once.
            if ok {
                *slot = Some(g);
            }
        }
        // rec_state, rd_state
        if !rec_ok || !rd_ok {
            return Err(RmiError::Input);
        }
        let mut rd_lock =
            Locked::<RdKind>::check(take_guard(&mut guards, rd).ok_or(RmiError::Input)?)?;
        let mut rec_lock =
            Locked::<DelegatedKind>::check(take_guard(&mut guards, rec).ok_or(RmiError::Input)?)?;
        let num_recs = rd_lock.granule().refcount();
        let mut m = self.arch.map_realm(&mut rd_lock);
        let d = rd_mut(&mut m);
        // realm_state
        if d.state != RmiRealmState::New.raw() {
            return Err(RmiError::Realm(0));
        }
        // num_recs: realm.num_recs == 2 ^ max_recs_order - 1
        if num_recs as u32 == (1 << MAX_RECS_ORDER) - 1 {
            return Err(RmiError::Realm(0));
        }
        // mpidr_index
        if mpidr.index() != d.rec_index {
            return Err(RmiError::Input);
        }
        // num_aux, aux_align, aux_alias, aux_state
        if !aux_wanted || !aux_aligned || aux_alias || !aux_ok {
            return Err(RmiError::Input);
        }

        {
            let mut rm = self.arch.map_realm(&mut rec_lock);
            let r = rec_mut(&mut rm);
            r.rd = rd.0;
            r.index = d.rec_index;
            r.mpidr = p.mpidr;
            r.runnable = flags.runnable() as u8;
            r.reset(p.pc, &p.gprs);
            r.num_aux = REC_AUX_COUNT;
            r.aux = [0; 16];
            r.aux[..aux.len()].copy_from_slice(aux);
        }
        if flags.runnable() {
            let mut rim = Measurement::from_raw(d.info().hash_algo.into(), d.measurements[0]);
            rim.extend_rec(&self.sha2(), p);
            d.measurements[0] = *rim.as_bytes();
        }
        d.rec_index += 1;
        drop(m);
        for g in guards.iter_mut().filter_map(Option::take) {
            Locked::<DelegatedKind>::check(g)?.transition::<RecAuxKind>();
        }
        rec_lock.transition::<RecKind>();
        let counted = rd_lock.granule().try_get(1);
        debug_assert!(counted);
        Ok(())
    }

    /// DEN0137 1.0, RMI_REC_DESTROY (x1 REC). Failure conditions: rec_align, rec_bound,
    /// rec_gran_state (ERROR_INPUT); rec_state: the REC is running (ERROR_REC). The REC
    /// and its auxiliary granules are scrubbed and return to DELEGATED. The SMCs its realm
    /// made are logged by kind first ([`crate::rsi::counts`]; a diagnostic, no result).
    pub(super) fn rec_destroy(&self, rec: PhysAddr) -> Result<(), RmiError> {
        let mut rec_lock = self.granules.lock_as::<RecKind>(rec)?;
        // rec_state: a running REC holds a reference on its granule.
        if rec_lock.granule().refcount() != 0 {
            return Err(RmiError::Rec);
        }
        let (rd, aux, num_aux, calls) = {
            let mut m = self.arch.map_realm(&mut rec_lock);
            let r = rec_mut(&mut m);
            (PhysAddr(r.rd), r.aux, r.num_aux as usize, r.smc_calls)
        };
        if !calls.is_empty() {
            log::info!("REC {rec} destroyed; SMCs from its realm: {calls}");
        }
        for &a in &aux[..num_aux.min(aux.len())] {
            let a = PhysAddr(a);
            let g = self
                .granules
                .lock_as::<RecAuxKind>(a)
                .unwrap_or_else(|e| panic!("REC {rec} names {a} which is not REC_AUX ({e:?})"));
            self.scrub(g);
        }
        self.scrub(rec_lock);
        // The RD's reference count is atomic; the RD need not be locked.
        if let Some(g) = self.granules.get(rd) {
            debug_assert_eq!(g.state(), GranuleState::Rd);
            g.put(1);
        }
        Ok(())
    }
}

/// Takes the guard of the granule at `pa` out of `guards`.
fn take_guard<'g>(
    guards: &mut [Option<GranuleGuard<'g>>],
    pa: PhysAddr,
) -> Option<GranuleGuard<'g>> {
    let i = guards
        .iter()
        .position(|g| g.as_ref().is_some_and(|g| g.pa() == pa))?;
    guards[i].take()
}
