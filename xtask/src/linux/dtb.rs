//! The realm's device tree: what the VMM in the test host emulates
//! (`rmm_conformance::linux_boot` has the addresses), in the bindings Linux reads
//! (the kernel's `Documentation/devicetree/bindings`: `arm/cpus.yaml`, `arm/psci.yaml`,
//! `timer/arm,arch_timer.yaml`, `interrupt-controller/arm,gic-v3.yaml`,
//! `serial/arm,pl011.yaml`, `clock/fixed-clock.yaml`, `chosen.yaml`).

use rmm_conformance::linux_boot::{
    GICD_BASE, GICD_SIZE, GICR_BASE, GICR_STRIDE, RAM_BASE, UART_BASE, UART_CLOCK_HZ, UART_SIZE,
    UART_SPI,
};

use super::fdt::Fdt;

/// phandles.
const PHANDLE_GIC: u32 = 1;
const PHANDLE_CLK: u32 = 2;
/// Interrupt specifier cells of the GICv3 binding: type (0 SPI, 1 PPI), number, flags
/// (4: level, active high).
const GIC_SPI: u32 = 0;
const GIC_PPI: u32 = 1;
const IRQ_LEVEL_HIGH: u32 = 4;

/// What the tree describes.
pub struct RealmTree<'a> {
    /// vCPUs: `cpu@N` with `reg` = N (the MPIDR of REC N: Aff0 = N for N < 16).
    pub vcpus: u32,
    /// RAM from `RAM_BASE`.
    pub ram_size: u64,
    /// The initramfs's IPA range.
    pub initrd: (u64, u64),
    /// The kernel command line.
    pub bootargs: &'a str,
}

fn node_name(name: &str, addr: u64) -> String {
    format!("{name}@{addr:x}")
}

/// The blob.
pub fn build(t: &RealmTree<'_>) -> Vec<u8> {
    let mut f = Fdt::new();
    f.begin("");
    f.prop_cells("#address-cells", &[2]);
    f.prop_cells("#size-cells", &[2]);
    f.prop_str("compatible", "linux,dummy-virt");
    f.prop_str("model", "RMM test realm (QEMU virt, NS test host VMM)");
    f.prop_cells("interrupt-parent", &[PHANDLE_GIC]);

    let uart = format!("/{}", node_name("pl011", UART_BASE));
    f.begin("chosen");
    f.prop_str("bootargs", t.bootargs);
    f.prop_str("stdout-path", &uart);
    f.prop_u64s("linux,initrd-start", &[t.initrd.0]);
    f.prop_u64s("linux,initrd-end", &[t.initrd.1]);
    f.end();

    f.begin(&node_name("memory", RAM_BASE));
    f.prop_str("device_type", "memory");
    f.prop_u64s("reg", &[RAM_BASE, t.ram_size]);
    f.end();

    f.begin("cpus");
    f.prop_cells("#address-cells", &[1]);
    f.prop_cells("#size-cells", &[0]);
    for n in 0..t.vcpus {
        f.begin(&node_name("cpu", n.into()));
        f.prop_str("device_type", "cpu");
        f.prop_str("compatible", "arm,armv8");
        f.prop_cells("reg", &[n]);
        f.prop_str("enable-method", "psci");
        f.end();
    }
    f.end();

    f.begin("psci");
    f.prop_strs("compatible", &["arm,psci-1.0", "arm,psci-0.2"]);
    f.prop_str("method", "smc");
    f.end();

    // Secure and Non-secure physical, virtual and hypervisor timers: PPIs 13, 14, 11,
    // 10 (INTIDs 29, 30, 27, 26). A realm's kernel at EL1 uses the virtual timer.
    f.begin("timer");
    f.prop_str("compatible", "arm,armv8-timer");
    let mut irqs = Vec::new();
    for ppi in [13, 14, 11, 10] {
        irqs.extend_from_slice(&[GIC_PPI, ppi, IRQ_LEVEL_HIGH]);
    }
    f.prop_cells("interrupts", &irqs);
    f.prop_empty("always-on");
    f.end();

    f.begin(&node_name("intc", GICD_BASE));
    f.prop_str("compatible", "arm,gic-v3");
    f.prop_cells("#interrupt-cells", &[3]);
    f.prop_cells("#address-cells", &[2]);
    f.prop_cells("#size-cells", &[2]);
    f.prop_empty("interrupt-controller");
    f.prop_u64s(
        "reg",
        &[
            GICD_BASE,
            GICD_SIZE,
            GICR_BASE,
            GICR_STRIDE * u64::from(t.vcpus),
        ],
    );
    f.prop_cells("phandle", &[PHANDLE_GIC]);
    f.end();

    f.begin("apb-pclk");
    f.prop_str("compatible", "fixed-clock");
    f.prop_cells("#clock-cells", &[0]);
    f.prop_cells("clock-frequency", &[UART_CLOCK_HZ]);
    f.prop_str("clock-output-names", "clk24mhz");
    f.prop_cells("phandle", &[PHANDLE_CLK]);
    f.end();

    f.begin(&node_name("pl011", UART_BASE));
    f.prop_strs("compatible", &["arm,pl011", "arm,primecell"]);
    f.prop_u64s("reg", &[UART_BASE, UART_SIZE]);
    f.prop_cells("interrupts", &[GIC_SPI, UART_SPI, IRQ_LEVEL_HIGH]);
    f.prop_cells("clocks", &[PHANDLE_CLK, PHANDLE_CLK]);
    f.prop_strs("clock-names", &["uartclk", "apb_pclk"]);
    f.end();

    f.end();
    f.finish(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(b: &[u8], needle: &[u8]) -> bool {
        b.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn describes_the_vmm() {
        let b = build(&RealmTree {
            vcpus: 2,
            ram_size: 0x1000_0000,
            initrd: (0x4800_0000, 0x4820_0000),
            bootargs: "console=ttyAMA0",
        });
        for s in [
            &b"cpu@1\0"[..],
            b"pl011@9000000\0",
            b"intc@8000000\0",
            b"memory@40000000\0",
            b"/pl011@9000000\0",
            b"console=ttyAMA0\0",
            b"arm,psci-1.0\0arm,psci-0.2\0",
        ] {
            assert!(has(&b, s), "{}", String::from_utf8_lossy(s));
        }
        // memory reg: <0 0x40000000 0 0x10000000>.
        let reg: Vec<u8> = [0u32, 0x4000_0000, 0, 0x1000_0000]
            .iter()
            .flat_map(|w| w.to_be_bytes())
            .collect();
        assert!(has(&b, &reg));
        // Two redistributors: GICR size 0x40000.
        let gic: Vec<u8> = [0u32, 0x0800_0000, 0, 0x1_0000, 0, 0x080A_0000, 0, 0x4_0000]
            .iter()
            .flat_map(|w| w.to_be_bytes())
            .collect();
        assert!(has(&b, &gic));
    }
}
