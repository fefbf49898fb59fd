//! The hosted simulation machine: the architecture, modelled strictly, for `cargo test`.
//!
//! - [`memory`]: physical memory with a granule protection table (GPT). Every access
//!   names the physical address space (PAS) it is made through; an access to a granule in
//!   another PAS is a granule protection fault, which panics the test with the address.
//! - [`el3`]: the EL3 side of the RMM-EL3 interface (GTSI, attestation key and platform
//!   token, boot completion), and [`attest`]: its test keys and platform token.
//! - [`cpu`]: a system-register file per CPU, and [`pmu`]: where its Performance
//!   Monitors count.
//! - [`s2walk`]: the stage-2 table walker, and [`tlb`]: the stage-2 TLB realms translate
//!   through (stale translations are used, and missing break-before-make or
//!   invalidations panic).
//! - [`realm`]: realm programs, run by the RMM's `run_realm`.
//!
//! [`SimHw`] puts them together and implements [`platform::Arch`], so the RMM core runs on
//! it unchanged. It is `Sync`: several threads may drive several simulated CPUs at once.
//!
//! Only tests, the fuzzer and the benches depend on this crate; the firmware never does
//! (`cargo xtask build` checks its dependency tree).

#![forbid(unsafe_code)]

pub mod attest;
pub mod cpu;
pub mod el2_traps;
pub mod el3;
pub mod gate;
pub mod memory;
pub mod pmu;
pub mod realm;
pub mod s2walk;
pub mod tlb;

use std::sync::Arc;

use platform::addr::PhysAddr;
use platform::arch::{
    Arch, CpuId, LiveVectors, NsFault, OwnedGranule, Pas, PinnedRealmGranule, Stage2Scope,
};
use platform::layout::{Layout, QEMU_VIRT};
use platform::manifest::{ConsoleInfo, DramBank, QEMU_PL011};
use platform::sha::{Block256, Block512, Sha2Isa};
use platform::sysreg::SysReg;

pub use cpu::{SysRegDefaults, SysRegFile};
pub use el3::SimEl3;
pub use memory::{GpFault, PhysMem};

/// How to build a simulated machine.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Platform layout (the default is QEMU `virt`, as TF-A lays it out).
    pub layout: Layout,
    /// Size of simulated DRAM, starting at `layout.dram_base`.
    pub dram_size: u64,
    /// More Non-secure DRAM banks, above the first (for example above 2^48, for
    /// FEAT_LPA2): memory the host may delegate, described in the boot manifest after
    /// the first bank. The CPU's PARange must cover them.
    pub extra_dram: Vec<DramBank>,
    /// Number of simulated CPUs.
    pub num_cpus: usize,
    /// The CPU count EL3 reports at boot (TF-A reports the platform maximum).
    pub boot_num_cpus: usize,
    /// Initial system-register values of every CPU.
    pub sysregs: SysRegDefaults,
    /// Consoles described in the boot manifest.
    pub consoles: Vec<ConsoleInfo>,
    /// The RMM-EL3 interface version EL3 passes at cold boot (TF-A v2.12: 0.4).
    pub ifc_version: rmi_abi::AbiVersion,
    /// Whether the machine can run realms ([`platform::Arch::runs_realms`]); `false` stands
    /// for a platform without a world switch to R-EL1.
    pub runs_realms: bool,
    /// How EL3 answers the attestation calls.
    pub el3_attest: el3::El3Attest,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            layout: QEMU_VIRT,
            dram_size: 256 << 20,
            extra_dram: Vec::new(),
            num_cpus: 4,
            boot_num_cpus: 4,
            sysregs: SysRegDefaults::default(),
            consoles: vec![QEMU_PL011],
            ifc_version: rmi_abi::AbiVersion::new(0, 4),
            runs_realms: true,
            el3_attest: el3::El3Attest::Provide,
        }
    }
}

impl SimConfig {
    /// The first DRAM bank EL3 describes in the manifest: the DRAM at
    /// `layout.dram_base`, the RMM's carve-out included.
    pub fn dram_bank(&self) -> DramBank {
        DramBank {
            base: self.layout.dram_base.0,
            size: self.dram_size,
        }
    }

    /// Every DRAM bank, in the manifest's order: [`SimConfig::dram_bank`], then
    /// [`SimConfig::extra_dram`] sorted by address.
    pub fn dram_banks(&self) -> Vec<DramBank> {
        let mut extra = self.extra_dram.clone();
        extra.sort_by_key(|b| b.base);
        core::iter::once(self.dram_bank()).chain(extra).collect()
    }

    /// A machine with FEAT_LPA2 and a 52-bit physical address space
    /// ([`SysRegDefaults::lpa2`]) and, besides the default DRAM, a 64 MiB Non-secure
    /// bank at [`HIGH_DRAM_BASE`], above 2^50 (so addresses there have both OA\[49:48\]
    /// and OA\[51:50\] bits set).
    pub fn lpa2() -> Self {
        Self {
            sysregs: SysRegDefaults::lpa2(),
            extra_dram: vec![DramBank {
                base: HIGH_DRAM_BASE,
                size: HIGH_DRAM_SIZE,
            }],
            ..Self::default()
        }
    }
}

/// The base of [`SimConfig::lpa2`]'s DRAM above 2^48: PA bits 51, 50 and 48 set.
pub const HIGH_DRAM_BASE: u64 = 0x000D_0000_0000_0000;
/// The size of [`SimConfig::lpa2`]'s DRAM above 2^48.
pub const HIGH_DRAM_SIZE: u64 = 64 << 20;

/// The simulated hardware: memory with GPT, EL3, CPUs.
pub struct SimHw {
    config: SimConfig,
    mem: PhysMem,
    el3: SimEl3,
    cpus: Vec<SysRegFile>,
    tlb: tlb::Tlb,
    gics: Vec<std::sync::Mutex<vgic::sim::SimGicCpuIf>>,
    irqs: Vec<std::sync::atomic::AtomicBool>,
    fiqs: Vec<std::sync::atomic::AtomicBool>,
    serrors: Vec<std::sync::Mutex<Option<u64>>>,
    realms: realm::RealmRuntime,
    counter: std::sync::atomic::AtomicU64,
    gates: std::sync::Mutex<Vec<Arc<gate::MapGate>>>,
    /// Per CPU: the Z registers' upper bits `Arch::save_host_sve` kept.
    host_z: Vec<std::sync::Mutex<Option<[[u64; 2]; 32]>>>,
    /// Gates on the RMM's copies from and to host memory, with the byte at which each
    /// copy stops.
    ns_gates: std::sync::Mutex<Vec<(Arc<gate::MapGate>, usize)>>,
}

impl SimHw {
    /// Builds a machine as EL3 leaves it just before it boots the RMM: the RMM carve-out
    /// and the shared buffer are in the Realm PAS, everything else in DRAM is Non-secure,
    /// and the boot manifest is in the shared buffer.
    pub fn new(config: SimConfig) -> Arc<Self> {
        assert!(config.num_cpus >= 1, "a machine needs a CPU");
        let l = &config.layout;
        let banks: Vec<_> = config
            .dram_banks()
            .iter()
            .map(|b| (PhysAddr(b.base), b.size))
            .collect();
        let mem = PhysMem::with_banks(&banks);
        let end = l.dram_base.0 + config.dram_size;
        assert!(
            l.shared_buf.0 < end,
            "DRAM too small for the platform layout"
        );
        mem.set_pas_range(l.rmm_base, l.shared_buf.0 + 4096 - l.rmm_base.0, Pas::Realm);
        let cpus = (0..config.num_cpus)
            .map(|i| SysRegFile::new(&config.sysregs, i))
            .collect();
        let el3 = SimEl3::new(config.num_cpus, config.el3_attest);
        let vtr = config.sysregs.get(SysReg::ICH_VTR_EL2);
        let gic = vgic::sim::SimConfig {
            num_lrs: (vtr & 0x1F) as u8 + 1,
            pri_bits: (vtr >> 29 & 7) as u8 + 1,
            pre_bits: (vtr >> 26 & 7) as u8 + 1,
            id_bits: if vtr >> 23 & 7 == 0 { 16 } else { 24 },
            ext_range: config.sysregs.get(SysReg::ICC_CTLR_EL1) >> 19 & 1 == 1,
        };
        let gics = (0..config.num_cpus)
            .map(|_| {
                let model = vgic::sim::SimGicCpuIf::new(gic).expect("a valid ICH_VTR_EL2");
                std::sync::Mutex::new(model)
            })
            .collect();
        let irqs = (0..config.num_cpus).map(|_| Default::default()).collect();
        let fiqs = (0..config.num_cpus).map(|_| Default::default()).collect();
        let serrors = (0..config.num_cpus).map(|_| Default::default()).collect();
        let host_z = (0..config.num_cpus).map(|_| Default::default()).collect();
        let hw = Self {
            host_z,
            mem,
            el3,
            cpus,
            config,
            tlb: Default::default(),
            gics,
            fiqs,
            serrors,
            irqs,
            realms: Default::default(),
            counter: Default::default(),
            gates: Default::default(),
            ns_gates: Default::default(),
        };
        hw.el3.write_boot_manifest(&hw.mem, &hw.config);
        Arc::new(hw)
    }

    /// The configuration this machine was built with.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Physical memory and GPT.
    pub fn mem(&self) -> &PhysMem {
        &self.mem
    }

    /// The simulated EL3.
    pub fn el3(&self) -> &SimEl3 {
        &self.el3
    }

    /// The register file of CPU `cpu`.
    ///
    /// # Panics
    /// If the CPU does not exist.
    pub fn cpu(&self, cpu: CpuId) -> &SysRegFile {
        self.cpus
            .get(cpu.0)
            .unwrap_or_else(|| panic!("no simulated CPU {}", cpu.0))
    }

    /// Every stage-2 invalidation the RMM requested, oldest first: (VMID, `Some(ipa)`
    /// for the entries translating one IPA ([`Stage2Scope::Leaf`]), `None` for a wider
    /// one: a range or the whole VMID). [`SimHw::stage2_invalidation_log`] has the
    /// scopes in full.
    pub fn stage2_invalidations(&self) -> Vec<(u16, Option<u64>)> {
        self.tlb
            .log()
            .into_iter()
            .map(|(vmid, scope)| match scope {
                Stage2Scope::Leaf { ipa, .. } => (vmid, Some(ipa)),
                _ => (vmid, None),
            })
            .collect()
    }

    /// Every stage-2 invalidation the RMM requested, oldest first, with its scope.
    pub fn stage2_invalidation_log(&self) -> Vec<(u16, Stage2Scope)> {
        self.tlb.log()
    }

    /// The stage-2 TLB realms translate through.
    pub fn tlb(&self) -> &tlb::Tlb {
        &self.tlb
    }

    /// The GIC virtual CPU interface model of CPU `cpu`.
    pub fn gic_model(&self, cpu: CpuId) -> std::sync::MutexGuard<'_, vgic::sim::SimGicCpuIf> {
        self.gics[cpu.0].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes a physical IRQ pending on CPU `cpu`: a realm running there takes it (an
    /// exit to EL2) at its next step.
    pub fn raise_irq(&self, cpu: CpuId) {
        self.irqs[cpu.0].store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Takes the pending physical IRQ of `cpu`, if any.
    pub fn take_irq(&self, cpu: CpuId) -> bool {
        self.irqs[cpu.0].swap(false, std::sync::atomic::Ordering::SeqCst)
    }

    /// Makes a physical FIQ pending on CPU `cpu` (taken like [`SimHw::raise_irq`]).
    pub fn raise_fiq(&self, cpu: CpuId) {
        self.fiqs[cpu.0].store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Takes the pending physical FIQ of `cpu`, if any.
    pub fn take_fiq(&self, cpu: CpuId) -> bool {
        self.fiqs[cpu.0].swap(false, std::sync::atomic::Ordering::SeqCst)
    }

    /// What borrowing the SIMD&FP registers for a SHA-2 instruction routine does
    /// (Arch::sha256_blocks). The routine runs on the caller's CPU, which the
    /// simulation does not track, so each rule holds for every CPU (they are alike): the
    /// instruction (`insn`) must exist (`has`, from ID_AA64ISAR0_EL1.SHA2) or it is
    /// UNDEFINED, and so must the Z registers when the routine keeps them in full
    /// (`LiveVectors::SveZ` without FEAT_SVE: STR (vector) is UNDEFINED). The routine
    /// puts back what it saved: with FEAT_SVE and only the V registers kept, the Z
    /// registers' bits above 127 are lost (zeroed, as a write of a V register does), here
    /// on every CPU.
    fn borrow_vectors(&self, live: LiveVectors, has: fn(Sha2Isa) -> bool, insn: &str) {
        for (i, regs) in self.cpus.iter().enumerate() {
            let isa = Sha2Isa::from_isar0(regs.read(SysReg::ID_AA64ISAR0_EL1));
            assert!(
                has(isa),
                "{insn} on CPU {i} without it ({isa:?}): UNDEFINED"
            );
            match live {
                LiveVectors::SveZ => assert!(
                    regs.has_sve(),
                    "Z registers saved on CPU {i} without FEAT_SVE: UNDEFINED"
                ),
                LiveVectors::V128 => {
                    if regs.has_sve() {
                        regs.set_z_hi(&[[0; 2]; 32]);
                    }
                }
            }
        }
    }

    /// Makes an SError with syndrome `esr` pending on CPU `cpu`.
    pub fn raise_serror(&self, cpu: CpuId, esr: u64) {
        *self.serrors[cpu.0]
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(esr);
    }

    /// Takes the pending SError of `cpu`, if any, with its syndrome.
    pub fn take_serror(&self, cpu: CpuId) -> Option<u64> {
        self.serrors[cpu.0]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// An Error Synchronization Barrier at EL2 on `cpu` (Arm ARM, ESB, FEAT_RAS; a NOP
    /// without it), with PSTATE.A set as it always is at R-EL2: a pending SError is no
    /// longer pending but deferred, its syndrome recorded in DISR_EL1 (A \[31\] set,
    /// IDS, AET, EA and DFSC as ESR_ELx's ISS has them, \[24:0\]).
    pub fn esb(&self, cpu: CpuId) {
        let regs = self.cpu(cpu);
        if !el2_traps::has_ras(regs) {
            return;
        }
        if let Some(esr) = self.take_serror(cpu) {
            regs.write(SysReg::DISR_EL1, 1 << 31 | esr & 0x1FF_FFFF);
        }
    }

    /// Sets the system counter (CNTPCT_EL0) all CPUs read.
    pub fn set_counter(&self, value: u64) {
        self.counter
            .store(value, std::sync::atomic::Ordering::SeqCst);
    }

    /// Reads a register of `cpu` as software sees it: the counters come from the system
    /// counter (the virtual one less CNTVOFF_EL2), and the timers' ISTATUS bits (bit 2
    /// of CNTV_CTL_EL0/CNTP_CTL_EL0) reflect whether the timer condition is met.
    pub fn read_reg(&self, cpu: CpuId, reg: SysReg) -> u64 {
        let file = self.cpu(cpu);
        let count = self.counter.load(std::sync::atomic::Ordering::SeqCst);
        let voff = file.read(SysReg::CNTVOFF_EL2);
        match reg {
            SysReg::CNTPCT_EL0 => count,
            SysReg::CNTVCT_EL0 => count.wrapping_sub(voff),
            SysReg::CNTV_CTL_EL0 => timer_ctl(
                file.read(reg),
                count.wrapping_sub(voff),
                file.read(SysReg::CNTV_CVAL_EL0),
            ),
            SysReg::CNTP_CTL_EL0 => {
                timer_ctl(file.read(reg), count, file.read(SysReg::CNTP_CVAL_EL0))
            }
            SysReg::ISR_EL1 => self.pending_interrupts(cpu),
            _ => file.read(reg),
        }
    }

    /// ISR_EL1 as read at EL2 on `cpu` (Arm ARM, ISR_EL1: below EL1 with HCR_EL2.IMO
    /// and FMO the bits show virtual interrupts; at EL2 the physical ones): A [8] for a
    /// pending SError, I [7] for an IRQ (one the test raised, or an EL1 timer CNTHCTL_EL2
    /// does not mask), F [6] for an FIQ. Reading it takes nothing.
    pub fn pending_interrupts(&self, cpu: CpuId) -> u64 {
        let ordering = std::sync::atomic::Ordering::SeqCst;
        let serror = self.serrors[cpu.0]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some();
        let irq = self.irqs[cpu.0].load(ordering) || self.timer_irq(cpu);
        let fiq = self.fiqs[cpu.0].load(ordering);
        (serror as u64) << 8 | (irq as u64) << 7 | (fiq as u64) << 6
    }

    /// Whether an EL1 timer of `cpu` asserts its interrupt and CNTHCTL_EL2 does not mask
    /// it (CNTVMASK, bit 18; CNTPMASK, bit 19): a physical IRQ to EL2.
    pub fn timer_irq(&self, cpu: CpuId) -> bool {
        let cnthctl = self.cpu(cpu).read(SysReg::CNTHCTL_EL2);
        let asserted = |ctl: u64| ctl & 0b111 == 0b101;
        let v = asserted(self.read_reg(cpu, SysReg::CNTV_CTL_EL0)) && cnthctl & (1 << 18) == 0;
        let p = asserted(self.read_reg(cpu, SysReg::CNTP_CTL_EL0)) && cnthctl & (1 << 19) == 0;
        v || p
    }

    /// Registers a realm program: a REC whose entry PC is `entry` runs it.
    pub fn register_realm_program(&self, entry: u64, program: realm::RealmProgram) {
        self.realms.register(entry, program);
    }

    /// Arms a [`gate::MapGate`]: the RMM's next map of the granule at `pa` stops until
    /// the gate is released.
    pub fn gate_map(&self, pa: PhysAddr) -> Arc<gate::MapGate> {
        let g = Arc::new(gate::MapGate::new(pa));
        self.gates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(g.clone());
        g
    }

    /// The address of `len` bytes at `offset` in the realm granule `pa` the RMM is about
    /// to copy (within the granule), once any map gate armed for it has been passed.
    fn realm_data_at(&self, pa: PhysAddr, offset: usize, len: usize) -> PhysAddr {
        assert!(
            offset + len <= 4096,
            "RMM realm access crosses a granule at {pa}"
        );
        self.pass_gates(pa);
        PhysAddr(pa.0 + offset as u64)
    }

    /// Arms a gate on the RMM's next copy from or to the host granule at `pa`
    /// (`read_ns`/`write_ns`) that crosses byte `at` of the granule: the copy stops
    /// there (each part checked against the GPT when it is made, as a copy that faults
    /// part-way), until the gate is released. A test rewrites the page or changes its
    /// PAS meanwhile.
    pub fn gate_ns(&self, pa: PhysAddr, at: usize) -> Arc<gate::MapGate> {
        let g = Arc::new(gate::MapGate::new(pa));
        self.ns_gates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((g.clone(), at));
        g
    }

    /// An armed NS gate on the granule at `pa`, with the byte it stops at.
    fn ns_gate(&self, pa: PhysAddr) -> Option<(Arc<gate::MapGate>, usize)> {
        self.ns_gates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(g, _)| g.pa() == pa && g.is_armed())
            .cloned()
    }

    /// A copy of `len` bytes at `offset` in the host granule `pa`, made by `copy(from,
    /// to)` over byte ranges of the buffer: in two parts around an armed NS gate the
    /// copy crosses, else in one.
    fn ns_copy(
        &self,
        pa: PhysAddr,
        offset: usize,
        len: usize,
        mut copy: impl FnMut(usize, usize) -> Result<(), GpFault>,
    ) -> Result<(), NsFault> {
        let fault = |f: GpFault| NsFault { pa: f.pa };
        match self.ns_gate(pa) {
            Some((g, at)) if offset < at && at < offset + len => {
                let split = at - offset;
                copy(0, split).map_err(fault)?;
                g.pass(pa);
                copy(split, len).map_err(fault)
            }
            _ => copy(0, len).map_err(fault),
        }
    }

    /// Stops at any gate armed for `pa`.
    fn pass_gates(&self, pa: PhysAddr) {
        let gates: Vec<_> = self
            .gates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|g| g.pa() == pa)
            .cloned()
            .collect();
        for g in gates {
            g.pass(pa);
        }
    }

    /// Number of CPUs.
    pub fn num_cpus(&self) -> usize {
        self.cpus.len()
    }

    /// The cold-boot arguments EL3 passes to the RMM on `cpu` (x0..=x3).
    pub fn cold_boot_args(&self, cpu: CpuId) -> platform::el3::ColdBootArgs {
        platform::el3::ColdBootArgs {
            cpu_id: cpu.0 as u64,
            ifc_version: self.config.ifc_version.encode(),
            num_cpus: self.config.boot_num_cpus as u64,
            shared_buf: self.config.layout.shared_buf.0,
        }
    }
}

/// The [`Arch`] implementation of the simulation: a shared handle on [`SimHw`]. Its
/// methods are never inlined, so that an instruction count of the RMM can leave out
/// the simulation's stand-ins for hardware (`cargo xtask bench`).
#[derive(Clone)]
pub struct SimArch(pub Arc<SimHw>);

impl core::ops::Deref for SimArch {
    type Target = SimHw;
    fn deref(&self) -> &SimHw {
        &self.0
    }
}

impl Arch for SimArch {
    type Mapped<'a> = memory::Mapped<'a>;

    #[inline(never)]
    fn el3_call(&self, cpu: CpuId, fid: u32, args: &[u64]) -> [u64; 8] {
        pmu::tick(self.0.cpu(cpu), 2);
        let mut a = [0u64; 4];
        assert!(args.len() <= 7, "an SMC has at most 7 argument registers");
        let n = args.len().min(4);
        a[..n].copy_from_slice(&args[..n]);
        let [x0, x1, x2, x3] = self.0.el3.call(&self.0.mem, cpu, fid, a);
        if fid == platform::el3::RMM_GTSI_UNDELEGATE && x0 == 0 {
            // The granule leaves the Realm PAS: nothing cached may still reach it.
            self.0
                .tlb
                .check_released(PhysAddr(a[0]), "undelegated by EL3");
        }
        [x0, x1, x2, x3, 0, 0, 0, 0]
    }

    #[inline(never)]
    fn map_realm<'a, G: OwnedGranule + ?Sized>(&'a self, owner: &'a mut G) -> memory::Mapped<'a> {
        let pa = owner.owned_pa();
        self.0.pass_gates(pa);
        self.0
            .mem
            .map(pa, Pas::Realm)
            .unwrap_or_else(|f| f.raise("RMM"))
    }

    #[inline(never)]
    fn zero_granule<G: OwnedGranule + ?Sized>(&self, owner: &mut G) {
        // Every path back to DELEGATED scrubs: nothing cached may still reach the granule.
        self.0
            .tlb
            .check_released(owner.owned_pa(), "scrubbed by the RMM");
        // A realm whose root table is scrubbed is gone; its REC threads with it.
        self.0.realms.forget_root(owner.owned_pa());
        self.map_realm(owner).0.fill(0);
    }

    #[inline(never)]
    fn read_realm_data<G: PinnedRealmGranule + ?Sized>(
        &self,
        pin: &mut G,
        offset: usize,
        buf: &mut [u8],
    ) {
        let at = self.0.realm_data_at(pin.pinned_pa(), offset, buf.len());
        self.0
            .mem
            .read(at, Pas::Realm, buf)
            .unwrap_or_else(|f| f.raise("RMM"))
    }

    #[inline(never)]
    fn write_realm_data<G: PinnedRealmGranule + ?Sized>(
        &self,
        pin: &mut G,
        offset: usize,
        buf: &[u8],
    ) {
        let at = self.0.realm_data_at(pin.pinned_pa(), offset, buf.len());
        self.0
            .mem
            .write(at, Pas::Realm, buf)
            .unwrap_or_else(|f| f.raise("RMM"))
    }

    #[inline(never)]
    fn read_ns(&self, pa: PhysAddr, offset: usize, buf: &mut [u8]) -> Result<(), NsFault> {
        assert!(
            offset + buf.len() <= 4096,
            "RMM NS read crosses a granule at {pa}"
        );
        let at = pa.0 + offset as u64;
        let mem = &self.0.mem;
        self.0.ns_copy(pa, offset, buf.len(), |from, to| {
            mem.read(
                PhysAddr(at + from as u64),
                Pas::NonSecure,
                &mut buf[from..to],
            )
        })
    }

    #[inline(never)]
    fn write_ns(&self, pa: PhysAddr, offset: usize, buf: &[u8]) -> Result<(), NsFault> {
        assert!(
            offset + buf.len() <= 4096,
            "RMM NS write crosses a granule at {pa}"
        );
        let at = pa.0 + offset as u64;
        let mem = &self.0.mem;
        self.0.ns_copy(pa, offset, buf.len(), |from, to| {
            mem.write(PhysAddr(at + from as u64), Pas::NonSecure, &buf[from..to])
        })
    }

    type Gic<'a> = SimGic<'a>;

    #[inline(never)]
    fn gic(&self, cpu: CpuId, features: vgic::GicFeatures) -> SimGic<'_> {
        let model = self.0.gic_model(cpu);
        assert_eq!(
            vgic::GicCpuIf::features(&*model),
            features,
            "the GIC features the RMM passes are not CPU {}'s",
            cpu.0
        );
        SimGic {
            model,
            regs: self.0.cpu(cpu),
        }
    }

    #[inline(never)]
    fn runs_realms(&self) -> bool {
        self.0.config.runs_realms
    }

    #[inline(never)]
    fn run_realm(
        &self,
        cpu: CpuId,
        regs: &mut platform::arch::RealmRegs,
    ) -> platform::arch::RealmTrap {
        assert!(
            self.0.config.runs_realms,
            "the RMM ran a realm on a machine that says it cannot"
        );
        // A PE running the realm may cache anything its tables translate.
        let sys = self.0.cpu(cpu);
        let (cfg, vmid) = tlb::stage2_regs(sys.read(SysReg::VTCR_EL2), sys.read(SysReg::VTTBR_EL2));
        self.0.tlb.prefetch(&self.0.mem, &cfg, vmid);
        // The world switch's CPTR_EL2 for the realm, and the RMM's after it (as the
        // firmware's `aarch64::world` writes them).
        let amu = platform::cptr::has_amu(sys.read(SysReg::ID_AA64PFR0_EL1));
        sys.write(SysReg::CPTR_EL2, platform::cptr::realm(amu));
        let trap = self.0.realms.run(&self.0, cpu, regs);
        self.0.cpu(cpu).write(SysReg::CPTR_EL2, platform::cptr::RMM);
        // The lower-EL vector's Error Synchronization Barrier (as the firmware's
        // `aarch64::vectors` has): an SError pending at the exit is deferred into
        // DISR_EL1 (with FEAT_RAS).
        self.0.esb(cpu);
        trap
    }

    #[inline(never)]
    fn save_fp(&self, cpu: CpuId, into: &mut platform::arch::FpRegs) {
        *into = self.0.cpu(cpu).fp();
    }

    #[inline(never)]
    fn load_fp(&self, cpu: CpuId, from: &platform::arch::FpRegs) {
        self.0.cpu(cpu).set_fp(from);
    }

    fn sha256_blocks(&self, live: LiveVectors, state: &mut [u32; 8], blocks: &[Block256]) {
        self.0.borrow_vectors(live, Sha2Isa::sha256, "SHA256H");
        platform::sha::compress256(state, blocks);
    }

    fn sha512_blocks(&self, live: LiveVectors, state: &mut [u64; 8], blocks: &[Block512]) {
        self.0.borrow_vectors(live, Sha2Isa::sha512, "SHA512H");
        platform::sha::compress512(state, blocks);
    }

    #[inline(never)]
    fn save_host_sve(&self, cpu: CpuId) {
        let regs = self.0.cpu(cpu);
        assert!(regs.has_sve(), "save_host_sve on a CPU without SVE");
        let mut slot = self.0.host_z[cpu.0]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        assert!(slot.is_none(), "save_host_sve twice without a restore");
        *slot = Some(regs.z_hi());
    }

    #[inline(never)]
    fn restore_host_sve(&self, cpu: CpuId) {
        let kept = self.0.host_z[cpu.0]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .expect("restore_host_sve without save_host_sve");
        self.0.cpu(cpu).set_z_hi(&kept);
    }

    #[inline(never)]
    fn invalidate_stage2(&self, vmid: u16, scope: Stage2Scope) {
        self.0.tlb.invalidate(&self.0.mem, vmid, scope);
    }

    #[inline(never)]
    fn read_sysreg(&self, cpu: CpuId, reg: SysReg) -> u64 {
        if matches!(reg, SysReg::ICH_VTR_EL2 | SysReg::ICC_CTLR_EL1) {
            gic_sysreg_access(self.0.cpu(cpu), reg.name());
        }
        feature_sysreg_access(self.0.cpu(cpu), reg);
        // A step of the RMM at R-EL2.
        pmu::tick(self.0.cpu(cpu), 2);
        self.0.read_reg(cpu, reg)
    }

    #[inline(never)]
    fn write_sysreg(&self, cpu: CpuId, reg: SysReg, value: u64) {
        feature_sysreg_access(self.0.cpu(cpu), reg);
        pmu::tick(self.0.cpu(cpu), 2);
        self.0.cpu(cpu).write(reg, value)
    }
}

/// The simulated GIC virtual CPU interface of one CPU, as the RMM drives it. Every
/// access checks the CPU's ICC_SRE_EL2.SRE, as the architecture makes ICH_*_EL2
/// accesses UNDEFINED without it.
pub struct SimGic<'a> {
    model: std::sync::MutexGuard<'a, vgic::sim::SimGicCpuIf>,
    regs: &'a SysRegFile,
}

/// ICC_SRE_EL2.SRE: the GIC system register interface is enabled at EL2.
const ICC_SRE_EL2_SRE: u64 = 1;

/// Fails the test unless ICC_SRE_EL2.SRE is set on the CPU with registers `regs`: with
/// it clear, an EL2 access to `reg` (an ICH_*_EL2 or ICC_* register) is UNDEFINED
/// (GICv3 architecture, ICC_SRE_EL2.SRE). The simulation resets ICC_SRE_EL2 to 0 with
/// SRE writable (a GIC that also has the memory-mapped interface), and EL3 leaves it
/// so: setting it is the RMM's job on every CPU.
fn gic_sysreg_access(regs: &SysRegFile, reg: &str) {
    assert!(
        regs.read(SysReg::ICC_SRE_EL2) & ICC_SRE_EL2_SRE != 0,
        "{reg} accessed at EL2 with ICC_SRE_EL2.SRE == 0: UNDEFINED"
    );
}

/// Fails the test if the RMM accesses `reg` at EL2 on a CPU without the feature that
/// implements it: the access is UNDEFINED (Arm ARM: DISR_EL1 and VDISR_EL2 exist with
/// FEAT_RAS, PMCR_EL0 and the counter enables with FEAT_PMUv3).
fn feature_sysreg_access(regs: &SysRegFile, reg: SysReg) {
    if matches!(reg, SysReg::DISR_EL1 | SysReg::VDISR_EL2) {
        assert!(
            el2_traps::has_ras(regs),
            "{} accessed at EL2 without FEAT_RAS: UNDEFINED",
            reg.name()
        );
    }
    if matches!(
        reg,
        SysReg::PMCR_EL0 | SysReg::PMCNTENSET_EL0 | SysReg::PMCNTENCLR_EL0
    ) {
        let ver = regs.read(SysReg::ID_AA64DFR0_EL1) >> 8 & 0xF;
        assert!(
            ver != 0 && ver != 0xF,
            "{} accessed at EL2 without FEAT_PMUv3: UNDEFINED",
            reg.name()
        );
    }
}

impl SimGic<'_> {
    fn check(&self, reg: &str) {
        gic_sysreg_access(self.regs, reg);
    }
}

impl vgic::GicCpuIf for SimGic<'_> {
    fn features(&self) -> vgic::GicFeatures {
        self.model.features()
    }
    fn read_lr(&mut self, n: usize) -> u64 {
        self.check("ICH_LR<n>_EL2");
        self.model.read_lr(n)
    }
    fn write_lr(&mut self, n: usize, value: u64) {
        self.check("ICH_LR<n>_EL2");
        self.model.write_lr(n, value)
    }
    fn read_ap0r(&mut self, n: usize) -> u64 {
        self.check("ICH_AP0R<n>_EL2");
        self.model.read_ap0r(n)
    }
    fn write_ap0r(&mut self, n: usize, value: u64) {
        self.check("ICH_AP0R<n>_EL2");
        self.model.write_ap0r(n, value)
    }
    fn read_ap1r(&mut self, n: usize) -> u64 {
        self.check("ICH_AP1R<n>_EL2");
        self.model.read_ap1r(n)
    }
    fn write_ap1r(&mut self, n: usize, value: u64) {
        self.check("ICH_AP1R<n>_EL2");
        self.model.write_ap1r(n, value)
    }
    fn read_vmcr(&mut self) -> u64 {
        self.check("ICH_VMCR_EL2");
        self.model.read_vmcr()
    }
    fn write_vmcr(&mut self, value: u64) {
        self.check("ICH_VMCR_EL2");
        self.model.write_vmcr(value)
    }
    fn read_hcr(&mut self) -> u64 {
        self.check("ICH_HCR_EL2");
        self.model.read_hcr()
    }
    fn write_hcr(&mut self, value: u64) {
        self.check("ICH_HCR_EL2");
        self.model.write_hcr(value)
    }
    fn read_misr(&mut self) -> u64 {
        self.check("ICH_MISR_EL2");
        self.model.read_misr()
    }
}

/// A timer control register as read: ENABLE and IMASK as written, ISTATUS set when the
/// timer is enabled and `count` has reached `cval` (Arm ARM, CNTV_CTL_EL0).
fn timer_ctl(written: u64, count: u64, cval: u64) -> u64 {
    let enabled = written & 1 != 0;
    let istatus = enabled && count >= cval;
    (written & 0b11) | (istatus as u64) << 2
}
