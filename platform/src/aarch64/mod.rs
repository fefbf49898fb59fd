//! The hardware implementation of [`crate::Arch`] for Realm EL2.
//!
//! Every `unsafe` block and every line of inline assembly of the platform crate is in
//! this module's children, each with its `SAFETY` argument:
//! - [`smc`]: SMC to EL3;
//! - [`sysreg`]: `mrs`/`msr` for each [`crate::SysReg`];
//! - [`mem`]: access to granules by physical address;
//! - [`tlb`]: TLB maintenance;
//! - [`map`]: the layout of the RMM's memory (stacks, guard pages) and each page's
//!   stage-1 permissions (pure, unit-tested on the host);
//! - [`mmu`]: the RMM's stage-1 translation;
//! - [`stack`]: the per-CPU stacks at run time;
//! - [`vectors`]: exception vectors and the fault-tolerant Non-secure copy;
//! - [`console`]: the PL011 console and the logger.

pub mod console;
pub mod map;
pub mod mem;
pub mod mmu;
pub mod smc;
pub mod stack;
pub mod sysreg;
pub mod tlb;
pub mod vectors;

use crate::addr::PhysAddr;
use crate::arch::{Arch, CpuId, NsFault};
use crate::sysreg::SysReg;

/// The hardware. Zero-sized: the CPU's own registers and memory are the state.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hw;

impl Arch for Hw {
    type Mapped<'a> = mem::Mapped<'a>;

    fn el3_call(&self, _cpu: CpuId, fid: u32, args: &[u64]) -> [u64; 8] {
        smc::smc(fid, args)
    }

    fn map_realm(&self, pa: PhysAddr) -> mem::Mapped<'_> {
        mem::map_realm(pa)
    }

    fn zero_granule(&self, pa: PhysAddr) {
        mem::zero_granule(pa)
    }

    fn read_ns(&self, pa: PhysAddr, offset: usize, buf: &mut [u8]) -> Result<(), NsFault> {
        mem::read_ns(pa, offset, buf)
    }

    fn write_ns(&self, pa: PhysAddr, offset: usize, buf: &[u8]) -> Result<(), NsFault> {
        mem::write_ns(pa, offset, buf)
    }

    type Gic<'a> = vgic::hw::HwGicCpuIf;

    fn gic(&self, _cpu: CpuId) -> vgic::hw::HwGicCpuIf {
        // The RMM checks the GIC at boot before it offers realms; a failure here would
        // be a CPU that changed its ICH_VTR_EL2.
        vgic::hw::HwGicCpuIf::probe().unwrap_or_else(|e| panic!("GIC virtual CPU interface: {e:?}"))
    }

    fn run_realm(
        &self,
        _cpu: CpuId,
        _regs: &mut crate::arch::RealmRegs,
    ) -> Option<crate::arch::RealmTrap> {
        // The world switch to R-EL1 is not written yet: REC entry is not offered.
        None
    }

    fn invalidate_stage2(&self, _vmid: u16, _ipa: Option<u64>) {
        // Until per-VMID invalidation (which needs the realm's VTTBR_EL2 loaded) is in
        // place, invalidate all stage-1&2 EL1&0 entries: a correct superset.
        tlb::invalidate_all_el1()
    }

    fn read_sysreg(&self, _cpu: CpuId, reg: SysReg) -> u64 {
        sysreg::read(reg)
    }

    fn write_sysreg(&self, _cpu: CpuId, reg: SysReg, value: u64) {
        sysreg::write(reg, value)
    }
}
