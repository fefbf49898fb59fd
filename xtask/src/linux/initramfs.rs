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
//!
//! Before powering off it asks for an attestation token: it loads Debian's
//! `configfs`, `tsm_report` and `arm-cca-guest` modules ([`MODULES`], xz-compressed as
//! Debian ships them, unpacked by busybox's `unxz`), creates a TSM report in configfs
//! (`/sys/kernel/config/tsm/report/r0`), writes the run's 64-byte challenge to its
//! `inblob` and prints its `outblob` (the CCA token the driver got with
//! RSI_ATTESTATION_TOKEN_INIT/CONTINUE) in hex on lines starting with [`TOKEN_LINE`]:
//! `provider NAME`, `bytes HEX...` (16 bytes a line, `od -tx1`), then `end`, or
//! `failed: WHY`.

use rmm_conformance::linux_boot::INIT_MARKER;

use super::cpio::Cpio;

/// The kernel modules the attestation needs, in load order (each depends on the one
/// before: `modinfo`'s `depends`).
pub const MODULES: [&str; 3] = ["configfs", "tsm_report", "arm-cca-guest"];
/// What `/init`'s attestation lines start with.
pub const TOKEN_LINE: &str = "RMM-LINUX-TOKEN:";

/// The `/init` script, which asks for a token for `challenge`.
pub fn init_script(challenge: &[u8; 64]) -> String {
    // printf's octal escapes: every byte, whatever its value.
    let inblob: String = challenge.iter().map(|b| format!("\\{b:03o}")).collect();
    let modules = MODULES.join(" ");
    format!(
        r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
dmesg -n 1
rsi=$(dmesg | grep -m1 'RME: Using RSI')
echo "{INIT_MARKER} uname -r $(uname -r); CPUs online $(cat /sys/devices/system/cpu/online) ($(nproc)); realm: ${{rsi#*] }}"
attest() {{
    for m in {modules}; do
        unxz -c /lib/modules/$m.ko.xz > /tmp/$m.ko || {{ echo "{TOKEN_LINE} failed: unxz $m"; return; }}
        insmod /tmp/$m.ko || {{ echo "{TOKEN_LINE} failed: insmod $m"; return; }}
    done
    mount -t configfs configfs /sys/kernel/config || {{ echo "{TOKEN_LINE} failed: mount configfs"; return; }}
    r=/sys/kernel/config/tsm/report/r0
    mkdir $r || {{ echo "{TOKEN_LINE} failed: mkdir $r"; return; }}
    printf '{inblob}' > $r/inblob || {{ echo "{TOKEN_LINE} failed: inblob"; return; }}
    echo "{TOKEN_LINE} provider $(cat $r/provider)"
    od -An -v -tx1 $r/outblob > /tmp/token || {{ echo "{TOKEN_LINE} failed: outblob"; return; }}
    while read -r l; do echo "{TOKEN_LINE} bytes $l"; done < /tmp/token
    echo "{TOKEN_LINE} end"
}}
attest
poweroff -f
"#
    )
}

/// The archive, with `busybox` the static arm64 binary and `modules` the
/// `.ko.xz` files of [`MODULES`], in that order.
pub fn build(busybox: &[u8], modules: &[Vec<u8>; 3], challenge: &[u8; 64]) -> Vec<u8> {
    let mut c = Cpio::new();
    for d in [
        "bin",
        "dev",
        "proc",
        "sys",
        "sbin",
        "usr",
        "usr/bin",
        "usr/sbin",
        "tmp",
        "lib",
        "lib/modules",
    ] {
        c.dir(d, 0o755);
    }
    c.char_dev("dev/console", 0o600, 5, 1);
    c.file("bin/busybox", 0o755, busybox);
    c.symlink("bin/sh", "busybox");
    for (name, ko) in MODULES.iter().zip(modules) {
        c.file(&format!("lib/modules/{name}.ko.xz"), 0o644, ko);
    }
    c.file("init", 0o755, init_script(challenge).as_bytes());
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_prints_the_marker_and_powers_off() {
        let mut challenge = [0u8; 64];
        challenge[0] = 0x0a;
        challenge[63] = 0xff;
        let s = init_script(&challenge);
        assert!(s.starts_with("#!/bin/busybox sh\n"));
        assert!(s.contains(&format!("echo \"{INIT_MARKER} uname -r $(uname -r)")));
        assert!(s.contains("${rsi#*] }"));
        assert!(s.trim_end().ends_with("attest\npoweroff -f"));
        // The challenge's bytes as octal escapes, NUL bytes included.
        assert!(s.contains(&format!(
            "printf '\\012{}\\377' > $r/inblob",
            "\\000".repeat(62)
        )));
        assert!(s.contains("insmod /tmp/$m.ko"));
    }

    #[test]
    fn archive_holds_init_and_busybox() {
        let a = build(b"\x7fELF", &[vec![1], vec![2], vec![3]], &[0; 64]);
        let has = |n: &[u8]| a.windows(n.len()).any(|w| w == n);
        assert!(has(b"init\0"));
        assert!(has(b"bin/busybox\0"));
        assert!(has(b"lib/modules/arm-cca-guest.ko.xz\0"));
        assert!(has(b"TRAILER!!!\0"));
    }
}
