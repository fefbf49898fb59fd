//! The hardware implementation of [`crate::Arch`] for Realm EL2.
//!
//! Every `unsafe` block and every line of inline assembly of the platform crate is in
//! this module's children, each with its `SAFETY` argument:
//! - [`smc`]: SMC to EL3;
//! - [`sysreg`]: `mrs`/`msr` for each [`crate::SysReg`] (through `aarch64-cpu` where it
//!   has the register);
//! - [`mem`]: access to granules by physical address;
//! - [`memops`]: the firmware's `memcpy` and `memset`, with their boot-time self test;
//! - [`tlb`]: TLB maintenance;
//! - [`map`]: the layout of the RMM's memory (stacks, guard pages) and each page's
//!   stage-1 permissions (pure, unit-tested on the host);
//! - [`mmu`]: the RMM's stage-1 translation;
//! - [`stack`]: the per-CPU stacks at run time;
//! - [`phase`]: the counter reads of the `phases` build (the bench's breakdown);
//! - [`vectors`]: exception vectors and the fault-tolerant Non-secure copy;
//! - [`world`]: the world switch to a realm at R-EL1 and back;
//! - [`fp`]: the FP/SIMD register save and load;
//! - [`sha`]: SHA-256/512 block compression with the SHA-2 instructions (with [`fp`],
//!   the RMM's only FP/SIMD code);
//! - [`console`]: the PL011 console and the logger.

pub mod console;
pub mod fp;
pub mod map;
pub mod mem;
pub mod memops;
pub mod mmu;
pub mod phase;
pub mod sha;
pub mod smc;
pub mod stack;
pub mod sysreg;
pub mod tlb;
pub mod vectors;
pub mod world;

use crate::addr::PhysAddr;
use crate::arch::{
    Arch, CpuId, FpRegs, LiveVectors, NsFault, OwnedGranule, PinnedRealmGranule, RealmRegs,
    RealmTrap, Stage2Scope,
};
use crate::sha::{Block256, Block512};
use crate::sysreg::SysReg;

/// The hardware. Zero-sized: the CPU's own registers and memory are the state.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hw;

impl Arch for Hw {
    type Mapped<'a> = mem::Mapped<'a>;

    #[inline(always)]
    fn el3_call(&self, _cpu: CpuId, fid: u32, args: &[u64]) -> [u64; 8] {
        smc::smc(fid, args)
    }

    fn map_realm<'a, G: OwnedGranule + ?Sized>(&'a self, owner: &'a mut G) -> mem::Mapped<'a> {
        mem::map_realm(owner.owned_pa())
    }

    fn zero_granule<G: OwnedGranule + ?Sized>(&self, owner: &mut G) {
        mem::zero_granule(owner.owned_pa())
    }

    fn read_realm_data<G: PinnedRealmGranule + ?Sized>(
        &self,
        pin: &mut G,
        offset: usize,
        buf: &mut [u8],
    ) {
        mem::read_realm_data(pin.pinned_pa(), offset, buf)
    }

    fn write_realm_data<G: PinnedRealmGranule + ?Sized>(
        &self,
        pin: &mut G,
        offset: usize,
        buf: &[u8],
    ) {
        mem::write_realm_data(pin.pinned_pa(), offset, buf)
    }

    fn read_ns(&self, pa: PhysAddr, offset: usize, buf: &mut [u8]) -> Result<(), NsFault> {
        mem::read_ns(pa, offset, buf)
    }

    fn write_ns(&self, pa: PhysAddr, offset: usize, buf: &[u8]) -> Result<(), NsFault> {
        mem::write_ns(pa, offset, buf)
    }

    type Gic<'a> = vgic::hw::HwGicCpuIf;

    fn gic(&self, _cpu: CpuId, features: vgic::GicFeatures) -> vgic::hw::HwGicCpuIf {
        // Probed by the RMM when this CPU booted.
        vgic::hw::HwGicCpuIf::with_features(features)
    }

    fn runs_realms(&self) -> bool {
        true
    }

    fn run_realm(&self, _cpu: CpuId, regs: &mut RealmRegs) -> RealmTrap {
        world::run(regs)
    }

    fn save_fp(&self, _cpu: CpuId, into: &mut FpRegs) {
        fp::save(into)
    }

    fn load_fp(&self, _cpu: CpuId, from: &FpRegs) {
        fp::load(from)
    }

    fn save_host_sve(&self, cpu: CpuId) {
        fp::save_host_z(cpu)
    }

    fn restore_host_sve(&self, cpu: CpuId) {
        fp::restore_host_z(cpu)
    }

    fn sha256_blocks(&self, live: LiveVectors, state: &mut [u32; 8], blocks: &[Block256]) {
        sha::sha256_blocks(live, state, blocks)
    }

    fn sha512_blocks(&self, live: LiveVectors, state: &mut [u64; 8], blocks: &[Block512]) {
        sha::sha512_blocks(live, state, blocks)
    }

    fn invalidate_stage2(&self, vmid: u16, scope: Stage2Scope) {
        tlb::invalidate_stage2(vmid, scope)
    }

    fn read_sysreg(&self, _cpu: CpuId, reg: SysReg) -> u64 {
        sysreg::read(reg)
    }

    #[inline(always)]
    fn mark_phase(&self, p: crate::phase::Phase) {
        phase::mark(p)
    }

    fn write_sysreg(&self, _cpu: CpuId, reg: SysReg, value: u64) {
        if reg == SysReg::ICC_SRE_EL2 {
            // With the ISB the GIC register accesses that follow need.
            vgic::hw::write_icc_sre_el2(value)
        } else {
            sysreg::write(reg, value)
        }
    }
}
