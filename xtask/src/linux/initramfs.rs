//! The realm's initramfs: Debian's statically linked busybox and an `/init` script,
//! packed as a newc cpio archive (uncompressed: the kernel unpacks it as it is).
//!
//! `/init` mounts `/proc`, `/sys` and `/dev`, keeps the kernel's messages off the
//! console from then on (`dmesg -n 1`: its lines would interleave with the marker),
//! prints the marker line
//! ([`rmm_conformance::linux_boot::INIT_MARKER`]) with `uname -r`, the CPUs online and
//! the kernel's line about the realm (`RME: Using RSI version ...`), then powers off at
//! once (`poweroff -f`: `reboot(2)` with `LINUX_REBOOT_CMD_POWER_OFF`, which Linux
//! turns into PSCI `SYSTEM_OFF`).

use rmm_conformance::linux_boot::INIT_MARKER;

use super::cpio::Cpio;

/// The `/init` script.
pub fn init_script() -> String {
    format!(
        r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
dmesg -n 1
rsi=$(dmesg | grep -m1 'RME: Using RSI')
echo "{INIT_MARKER} uname -r $(uname -r); CPUs online $(cat /sys/devices/system/cpu/online) ($(nproc)); realm: ${{rsi#*] }}"
poweroff -f
"#
    )
}

/// The archive, with `busybox` the static arm64 binary.
pub fn build(busybox: &[u8]) -> Vec<u8> {
    let mut c = Cpio::new();
    for d in [
        "bin", "dev", "proc", "sys", "sbin", "usr", "usr/bin", "usr/sbin", "tmp",
    ] {
        c.dir(d, 0o755);
    }
    c.char_dev("dev/console", 0o600, 5, 1);
    c.file("bin/busybox", 0o755, busybox);
    c.symlink("bin/sh", "busybox");
    c.file("init", 0o755, init_script().as_bytes());
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_prints_the_marker_and_powers_off() {
        let s = init_script();
        assert!(s.starts_with("#!/bin/busybox sh\n"));
        assert!(s.contains(&format!("echo \"{INIT_MARKER} uname -r $(uname -r)")));
        assert!(s.contains("${rsi#*] }"));
        assert!(s.trim_end().ends_with("poweroff -f"));
    }

    #[test]
    fn archive_holds_init_and_busybox() {
        let a = build(b"\x7fELF");
        let has = |n: &[u8]| a.windows(n.len()).any(|w| w == n);
        assert!(has(b"init\0"));
        assert!(has(b"bin/busybox\0"));
        assert!(has(b"TRAILER!!!\0"));
    }
}
