//! The conformance [`Host`](crate::Host) on the hosted simulation machine.

use rmm::hosted::Machine;

impl crate::Host for Machine {
    fn smc(&self, cpu: usize, fid: u64, args: [u64; 6]) -> [u64; 5] {
        Machine::smc(self, cpu, fid, args)
    }

    fn write_ns(&self, pa: u64, data: &[u8]) -> bool {
        self.host_write(pa, data).is_ok()
    }

    fn read_ns(&self, pa: u64, data: &mut [u8]) -> bool {
        self.host_read(pa, data).is_ok()
    }

    fn ns_granule(&self, n: usize) -> u64 {
        Machine::ns_granule(self, n)
    }

    fn pool_granules(&self) -> usize {
        let c = self.hw().config();
        let end = c.layout.dram_base.0 + c.dram_size;
        ((end - c.layout.ns_dram_base.0) / 4096) as usize
    }

    fn non_memory_addr(&self) -> u64 {
        let c = self.hw().config();
        c.layout.dram_base.0 + c.dram_size
    }

    fn rmm_carveout_addr(&self) -> u64 {
        self.hw().config().layout.rmm_base.0
    }

    fn num_cpus(&self) -> usize {
        self.hw().num_cpus()
    }

    /// The SMC on a thread of its own (the machine is `Sync`: CPUs run in parallel).
    fn smc_during(
        &self,
        cpu: usize,
        fid: u64,
        args: [u64; 6],
        during: &mut dyn FnMut(),
    ) -> Option<[u64; 5]> {
        if cpu == 0 || cpu >= self.hw().num_cpus() {
            return None;
        }
        Some(std::thread::scope(|s| {
            let call = s.spawn(|| Machine::smc(self, cpu, fid, args));
            during();
            call.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
        }))
    }

    fn realm_code(
        &self,
        program: &'static crate::program::Program,
    ) -> Option<crate::program::RealmCode> {
        let entry = crate::payload::BASE_IPA;
        let run = program.run;
        self.hw().register_realm_program(
            entry,
            std::sync::Arc::new(move |cpu: &mut platform_sim::realm::RealmCpu| run(cpu)),
        );
        Some(crate::program::RealmCode {
            entry,
            gprs: [0; 8],
            pages: &[],
        })
    }

    fn id_aa64mmfr0(&self) -> u64 {
        self.hw()
            .config()
            .sysregs
            .get(platform::SysReg::ID_AA64MMFR0_EL1)
    }

    fn high_ns_granule(&self, n: usize) -> Option<u64> {
        Machine::high_ns_granule(self, n)
    }

    fn vmid_bits(&self) -> u32 {
        let mmfr1 = self
            .hw()
            .config()
            .sysregs
            .get(platform::SysReg::ID_AA64MMFR1_EL1);
        if (mmfr1 >> 4) & 0xF == 0b0010 {
            16
        } else {
            8
        }
    }
}

impl crate::realm::RealmEnv for platform_sim::realm::RealmCpu {
    fn smc(&mut self, fid: u64, args: &[u64]) -> [u64; 31] {
        platform_sim::realm::RealmCpu::smc(self, fid, args)
    }

    fn read(&mut self, ipa: u64, buf: &mut [u8]) -> Result<(), u64> {
        platform_sim::realm::RealmCpu::read(self, ipa, buf).map_err(|e| e.esr)
    }

    fn write(&mut self, ipa: u64, buf: &[u8]) -> Result<(), u64> {
        platform_sim::realm::RealmCpu::write(self, ipa, buf).map_err(|e| e.esr)
    }

    fn wfi(&mut self) {
        platform_sim::realm::RealmCpu::wfi(self)
    }

    /// The load a realm would use: LDRB/LDRH/LDR into W0 (SF 0) for 1, 2 and 4 bytes,
    /// LDR into X0 (SF 1) for 8, as the realm payload's loads in QEMU.
    fn mmio_read(&mut self, ipa: u64, size: usize) -> Result<u64, u64> {
        self.load(ipa, access_size(size), 0, false, size == 8)
            .map_err(|e| e.esr)
    }

    fn mmio_write(&mut self, ipa: u64, size: usize, value: u64) -> Result<(), u64> {
        self.store(ipa, access_size(size), 1, value)
            .map_err(|e| e.esr)
    }

    fn set_virtual_timer(&mut self, ctl: u64, cval: u64) {
        self.write_sysreg(platform::SysReg::CNTV_CVAL_EL0, cval);
        self.write_sysreg(platform::SysReg::CNTV_CTL_EL0, ctl);
    }

    fn virtual_timer_ctl(&mut self) -> u64 {
        self.read_sysreg(platform::SysReg::CNTV_CTL_EL0)
    }

    fn set_physical_timer(&mut self, ctl: u64, cval: u64) {
        self.write_sysreg(platform::SysReg::CNTP_CVAL_EL0, cval);
        self.write_sysreg(platform::SysReg::CNTP_CTL_EL0, ctl);
    }

    fn physical_timer_ctl(&mut self) -> u64 {
        self.read_sysreg(platform::SysReg::CNTP_CTL_EL0)
    }

    fn gic_enable_group1(&mut self) {
        self.gic(|g| {
            g.set_priority_mask(0xFF);
            g.set_group_enable(vgic::sim::Group::Group1, true);
        });
    }

    fn gic_acknowledge(&mut self) -> u64 {
        self.gic(|g| g.acknowledge(vgic::sim::Group::Group1))
            .map_or(1023, u64::from)
    }

    fn gic_eoi(&mut self, intid: u64) {
        self.gic(|g| g.eoi(vgic::sim::Group::Group1, intid as u32));
    }

    /// A read of MPIDR_EL1 at EL1 returns VMPIDR_EL2 (Arm ARM, MPIDR_EL1).
    fn mpidr(&mut self) -> u64 {
        self.read_sysreg(platform::SysReg::VMPIDR_EL2)
    }

    /// The simulation fetches (stage 2, with its instruction aborts) but does not
    /// execute: the word fetched is [`crate::realm::RET`], which returns, or the zero
    /// word (`UDF #0`, an Undefined Instruction exception); realm programs use only
    /// those two.
    fn fetch(&mut self, ipa: u64) -> Result<(), u64> {
        platform_sim::realm::RealmCpu::fetch(self, ipa).map_err(|e| e.esr)?;
        let mut word = [0u8; 4];
        platform_sim::realm::RealmCpu::read(self, ipa, &mut word).map_err(|e| e.esr)?;
        match u32::from_le_bytes(word) {
            crate::realm::RET => Ok(()),
            0 => Err(crate::realm::UDF_ESR),
            other => panic!("realm program fetched {other:#010x}: neither RET nor zero"),
        }
    }

    /// `MSR <reg>, x3`, trapped to EL2 (EC 0x18, IL) as HCR_EL2.IMO/FMO make it.
    fn gic_write_sgi(&mut self, reg: crate::realm::SgiRegister, value: u64) {
        const RT: u64 = 3;
        self.set_gpr(RT as usize, value);
        let _ = self.trapped(0x18 << 26 | 1 << 25 | reg.iss() | RT << 5);
    }
}

fn access_size(size: usize) -> platform_sim::realm::AccessSize {
    use platform_sim::realm::AccessSize;
    match size {
        1 => AccessSize::B1,
        2 => AccessSize::B2,
        4 => AccessSize::B4,
        _ => AccessSize::B8,
    }
}
