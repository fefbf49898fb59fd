//! The realm's side of the simulated virtual CPU interface (ICV_* registers).
//!
//! GICv3 architecture, chapter 6 (virtual interrupt handling and
//! prioritisation) and the ICV_* register descriptions.

use super::SimGicCpuIf;
use crate::regs::{Hcr, ListRegister, Vmcr, ICH_HCR_EL2, ICH_LR_EL2, ICH_VMCR_EL2};

/// Priority value meaning "no active interrupt" (ICV_RPR_EL1 idle priority).
const IDLE_PRIORITY: u8 = 0xff;

/// Interrupt group. GICv3 architecture, `ICH_LR<n>_EL2`.Group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Virtual Group 0 (vFIQ; ICV_IAR0_EL1, ICV_EOIR0_EL1, ...).
    Group0,
    /// Virtual Group 1 (vIRQ; ICV_IAR1_EL1, ICV_EOIR1_EL1, ...).
    Group1,
}

/// Result of a realm write to ICV_DIR_EL1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirOutcome {
    /// The write was handled by the virtual CPU interface.
    Done,
    /// ICH_HCR_EL2.TDIR or TC is set: the write traps to EL2 and has no effect
    /// on the interface (the RMM reports it to the host as a sync exit).
    Trapped,
}

/// GICv3 architecture, special INTIDs 1020..=1023.
fn is_special(vintid: u32) -> bool {
    (1020..=1023).contains(&vintid)
}

fn lr_group(lr: ListRegister) -> Group {
    if lr.is_set(ICH_LR_EL2::Group) {
        Group::Group1
    } else {
        Group::Group0
    }
}

fn lr_priority(lr: ListRegister) -> u8 {
    // Priority is an 8-bit field.
    lr.read(ICH_LR_EL2::Priority) as u8
}

fn lr_vintid(lr: ListRegister) -> u32 {
    // vINTID is a 32-bit field.
    lr.read(ICH_LR_EL2::vINTID) as u32
}

impl SimGicCpuIf {
    fn vmcr_reg(&self) -> Vmcr {
        Vmcr::new(self.vmcr)
    }

    fn group_enabled(&self, group: Group) -> bool {
        let field = match group {
            Group::Group0 => ICH_VMCR_EL2::VENG0,
            Group::Group1 => ICH_VMCR_EL2::VENG1,
        };
        self.vmcr_reg().is_set(field)
    }

    /// ICV_IGRPEN0_EL1 / ICV_IGRPEN1_EL1 write: sets ICH_VMCR_EL2.VENG0/VENG1.
    pub fn set_group_enable(&mut self, group: Group, enable: bool) {
        let mut vmcr = self.vmcr_reg();
        let value = u64::from(enable);
        match group {
            Group::Group0 => vmcr.modify(ICH_VMCR_EL2::VENG0.val(value)),
            Group::Group1 => vmcr.modify(ICH_VMCR_EL2::VENG1.val(value)),
        }
        self.vmcr = vmcr.get();
    }

    /// ICV_PMR_EL1 write: sets ICH_VMCR_EL2.VPMR; unimplemented priority bits
    /// are RAZ/WI.
    pub fn set_priority_mask(&mut self, pmr: u8) {
        let pmr = pmr & !self.features.priority_res0_mask();
        let mut vmcr = self.vmcr_reg();
        vmcr.modify(ICH_VMCR_EL2::VPMR.val(u64::from(pmr)));
        self.vmcr = vmcr.get();
    }

    /// ICV_CTLR_EL1.EOImode write: `split` = priority drop on EOI, deactivation
    /// on ICV_DIR_EL1 (ICH_VMCR_EL2.VEOIM).
    pub fn set_eoi_mode(&mut self, split: bool) {
        let mut vmcr = self.vmcr_reg();
        vmcr.modify(ICH_VMCR_EL2::VEOIM.val(u64::from(split)));
        self.vmcr = vmcr.get();
    }

    /// ICV_CTLR_EL1.CBPR write: Group 1 uses the Group 0 binary point
    /// (ICH_VMCR_EL2.VCBPR).
    pub fn set_common_binary_point(&mut self, common: bool) {
        let mut vmcr = self.vmcr_reg();
        vmcr.modify(ICH_VMCR_EL2::VCBPR.val(u64::from(common)));
        self.vmcr = vmcr.get();
    }

    /// ICV_BPR0_EL1 / ICV_BPR1_EL1 write. Values below the minimum (7 -
    /// pre_bits for Group 0, one more for Group 1) set the minimum; a Group 1
    /// write is ignored while ICV_CTLR_EL1.CBPR is set.
    pub fn set_binary_point(&mut self, group: Group, bpr: u8) {
        let mut vmcr = self.vmcr_reg();
        let min0 = 7 - self.features.pre_bits();
        match group {
            Group::Group0 => {
                let v = bpr.clamp(min0, 7);
                vmcr.modify(ICH_VMCR_EL2::VBPR0.val(u64::from(v)));
            }
            Group::Group1 => {
                if vmcr.is_set(ICH_VMCR_EL2::VCBPR) {
                    return;
                }
                let v = bpr.clamp(min0 + 1, 7);
                vmcr.modify(ICH_VMCR_EL2::VBPR1.val(u64::from(v)));
            }
        }
        self.vmcr = vmcr.get();
    }

    /// Mask selecting the group-priority bits of a priority for `group`
    /// (the VGroupBits pseudocode), from the effective binary point.
    fn group_priority_mask(&self, group: Group) -> u8 {
        let vmcr = self.vmcr_reg();
        let min0 = 7 - self.features.pre_bits();
        // Binary point fields are 3 bits wide.
        let bpr0 = (vmcr.read(ICH_VMCR_EL2::VBPR0) as u8).max(min0);
        let bpr1 = (vmcr.read(ICH_VMCR_EL2::VBPR1) as u8).max(min0 + 1);
        let group_bits_shift = match group {
            Group::Group1 if !vmcr.is_set(ICH_VMCR_EL2::VCBPR) => bpr1,
            _ => bpr0 + 1,
        };
        // shift is 1..=8; a shift of 8 leaves no group-priority bits.
        (0xffu16 << group_bits_shift) as u8
    }

    /// ICV_RPR_EL1: the running priority from the active-priority registers
    /// (lowest set bit across ICH_AP0R/ICH_AP1R), or 0xff when idle.
    pub fn running_priority(&self) -> u8 {
        let shift = 8 - u32::from(self.features.pre_bits());
        let num = self.features.num_aprs();
        for (i, (&a0, &a1)) in self.ap0r.iter().zip(&self.ap1r).take(num).enumerate() {
            let bits = (a0 | a1) & 0xffff_ffff;
            if bits != 0 {
                // i * 32 + bit < 2^pre_bits, so the shifted value fits 8 bits.
                return (((i as u32) * 32 + bits.trailing_zeros()) << shift) as u8;
            }
        }
        IDLE_PRIORITY
    }

    /// Index of the highest-priority pending LR of an enabled group (the
    /// HighestPriorityVirtualInterrupt pseudocode). Only State == Pending
    /// counts (an LR already active cannot be acknowledged again), and an LR
    /// with priority 0xff is never chosen.
    fn highest_pending_index(&self) -> Option<usize> {
        let mut best: Option<(usize, u8)> = None;
        for (n, lr) in self.implemented_lrs() {
            if !lr.matches_all(ICH_LR_EL2::State::Pending) || !self.group_enabled(lr_group(lr)) {
                continue;
            }
            let prio = lr_priority(lr);
            let beats = match best {
                Some((_, b)) => prio < b,
                None => prio < IDLE_PRIORITY,
            };
            if beats {
                best = Some((n, prio));
            }
        }
        best.map(|(n, _)| n)
    }

    /// Whether the pending interrupt in `lr` can be signalled: the interface
    /// is enabled, its priority is below the priority mask, and its group
    /// priority is higher than the running priority (CanSignalVirtualInt).
    fn can_signal(&self, lr: ListRegister) -> bool {
        if !Hcr::new(self.hcr).is_set(ICH_HCR_EL2::En) {
            return false;
        }
        let prio = lr_priority(lr);
        let vpmr = self.vmcr_reg().read(ICH_VMCR_EL2::VPMR) as u8;
        if prio >= vpmr {
            return false;
        }
        let running = self.running_priority();
        if running == IDLE_PRIORITY {
            return true;
        }
        let mask = self.group_priority_mask(lr_group(lr));
        (prio & mask) < (running & mask)
    }

    /// Which virtual exception the interface asserts: `Some(Group1)` for vIRQ,
    /// `Some(Group0)` for vFIQ, `None` for neither.
    pub fn signalled(&self) -> Option<Group> {
        let n = self.highest_pending_index()?;
        let lr = ListRegister::new(*self.lrs.get(n)?);
        self.can_signal(lr).then(|| lr_group(lr))
    }

    /// ICV_HPPIR0_EL1 / ICV_HPPIR1_EL1: the highest-priority pending vINTID if
    /// it belongs to `group`; `None` reads as the spurious INTID 1023.
    pub fn highest_pending(&self, group: Group) -> Option<u32> {
        let n = self.highest_pending_index()?;
        let lr = ListRegister::new(*self.lrs.get(n)?);
        (lr_group(lr) == group).then(|| lr_vintid(lr))
    }

    /// ICV_IAR0_EL1 / ICV_IAR1_EL1 read: acknowledges the highest-priority
    /// pending interrupt if it belongs to `group` and can be signalled. Its LR
    /// goes from pending to active and its group priority is set in
    /// ICH_AP0R/ICH_AP1R. `None` reads as the spurious INTID 1023. A special
    /// vINTID is returned without activation (the LR becomes invalid).
    pub fn acknowledge(&mut self, group: Group) -> Option<u32> {
        let n = self.highest_pending_index()?;
        let lr = ListRegister::new(*self.lrs.get(n)?);
        if lr_group(lr) != group || !self.can_signal(lr) {
            return None;
        }
        let vintid = lr_vintid(lr);
        let mut new_lr = lr;
        if is_special(vintid) {
            new_lr.modify(ICH_LR_EL2::State::Invalid);
        } else {
            new_lr.modify(ICH_LR_EL2::State::Active);
            self.set_active_priority(group, lr_priority(lr));
        }
        if let Some(slot) = self.lrs.get_mut(n) {
            *slot = new_lr.get();
        }
        Some(vintid)
    }

    /// Sets the active-priority bit for priority `prio` of `group`.
    fn set_active_priority(&mut self, group: Group, prio: u8) {
        let shift = 8 - u32::from(self.features.pre_bits());
        let bit = u32::from(prio & self.group_priority_mask(group)) >> shift;
        let bank = match group {
            Group::Group0 => &mut self.ap0r,
            Group::Group1 => &mut self.ap1r,
        };
        if let Some(reg) = bank.get_mut((bit / 32) as usize) {
            *reg |= 1 << (bit % 32);
        }
    }

    /// Clears the highest active priority (lowest set bit, Group 0 first on a
    /// tie) and returns it as a priority value, or `None` if none is active.
    fn drop_priority(&mut self) -> Option<u8> {
        let shift = 8 - u32::from(self.features.pre_bits());
        let num = self.features.num_aprs();
        let regs = self.ap0r.iter_mut().zip(self.ap1r.iter_mut()).take(num);
        for (i, (a0, a1)) in regs.enumerate() {
            let z0 = (*a0 & 0xffff_ffff).trailing_zeros();
            let z1 = (*a1 & 0xffff_ffff).trailing_zeros();
            let (reg, bit) = match (z0 < 32, z1 < 32) {
                (false, false) => continue,
                (true, false) => (a0, z0),
                (false, true) => (a1, z1),
                (true, true) if z0 <= z1 => (a0, z0),
                (true, true) => (a1, z1),
            };
            *reg &= !(1u64 << bit);
            return Some((((i as u32) * 32 + bit) << shift) as u8);
        }
        None
    }

    /// Index of the LR holding `vintid` in the active or pending+active
    /// state (FindActiveVirtualInterrupt).
    fn find_active(&self, vintid: u32) -> Option<usize> {
        self.implemented_lrs()
            .find(|(_, lr)| lr.read(ICH_LR_EL2::State) & 0b10 != 0 && lr_vintid(*lr) == vintid)
            .map(|(n, _)| n)
    }

    /// Deactivates LR `n`: active -> invalid, pending+active -> pending.
    fn deactivate_lr(&mut self, n: usize) {
        if let Some(slot) = self.lrs.get_mut(n) {
            let mut lr = ListRegister::new(*slot);
            let state = lr.read(ICH_LR_EL2::State) & 0b01;
            lr.modify(ICH_LR_EL2::State.val(state));
            *slot = lr.get();
        }
    }

    /// An EOI/deactivation found no LR: ICH_HCR_EL2.EOIcount += 1 (mod 32),
    /// unless vSGIEOICount is set and `vintid` is a vSGI.
    fn count_unmatched(&mut self, vintid: u32) {
        let mut hcr = Hcr::new(self.hcr);
        if hcr.is_set(ICH_HCR_EL2::vSGIEOICount) && vintid < 16 {
            return;
        }
        let count = (hcr.read(ICH_HCR_EL2::EOIcount) + 1) & 0x1f;
        hcr.modify(ICH_HCR_EL2::EOIcount.val(count));
        self.hcr = hcr.get();
    }

    /// ICV_EOIR0_EL1 / ICV_EOIR1_EL1 write: drops the running priority; then
    /// the LR holding `vintid` as active is deactivated (unless EOImode splits
    /// deactivation off), or, if no LR holds it, EOIcount is incremented.
    /// Ignored for special INTIDs and when no priority is active.
    pub fn eoi(&mut self, group: Group, vintid: u32) {
        if is_special(vintid) {
            return;
        }
        let Some(dropped) = self.drop_priority() else {
            return;
        };
        match self.find_active(vintid) {
            None => self.count_unmatched(vintid),
            Some(n) => {
                let Some(&raw) = self.lrs.get(n) else {
                    return;
                };
                let lr = ListRegister::new(raw);
                let gprio = lr_priority(lr) & self.group_priority_mask(group);
                let split = self.vmcr_reg().is_set(ICH_VMCR_EL2::VEOIM);
                if lr_group(lr) == group && gprio == dropped && !split {
                    self.deactivate_lr(n);
                }
            }
        }
    }

    /// ICV_DIR_EL1 write: with EOImode == 1, deactivates the LR holding
    /// `vintid` as active, or increments EOIcount if none does. Traps (no
    /// effect) when ICH_HCR_EL2.TDIR or TC is set.
    pub fn deactivate(&mut self, vintid: u32) -> DirOutcome {
        let hcr = Hcr::new(self.hcr);
        if hcr.is_set(ICH_HCR_EL2::TDIR) || hcr.is_set(ICH_HCR_EL2::TC) {
            return DirOutcome::Trapped;
        }
        if is_special(vintid) || !self.vmcr_reg().is_set(ICH_VMCR_EL2::VEOIM) {
            return DirOutcome::Done;
        }
        match self.find_active(vintid) {
            None => self.count_unmatched(vintid),
            Some(n) => self.deactivate_lr(n),
        }
        DirOutcome::Done
    }
}
