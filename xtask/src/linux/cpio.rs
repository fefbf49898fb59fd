//! A writer of cpio archives in the "new ASCII" (newc) format, the format of a Linux
//! initramfs (the kernel's `Documentation/driver-api/early-userspace/buffer-format.rst`):
//! each entry is a 110-byte header (`070701` and thirteen 8-digit hexadecimal fields:
//! ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor,
//! rdevminor, namesize with its NUL, check 0), the name and its NUL padded to a
//! multiple of four bytes, then the data padded likewise; the archive ends with the
//! entry `TRAILER!!!`.

/// File type bits of `mode` (POSIX `<sys/stat.h>`).
const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFCHR: u32 = 0o020_000;

/// An archive being written.
#[derive(Default)]
pub struct Cpio {
    out: Vec<u8>,
    ino: u32,
}

impl Cpio {
    /// An empty archive.
    pub fn new() -> Cpio {
        Cpio::default()
    }

    fn entry(&mut self, name: &str, mode: u32, nlink: u32, rdev: (u32, u32), data: &[u8]) {
        self.ino += 1;
        let fields = [
            self.ino,
            mode,
            0,
            0,
            nlink,
            0,
            data.len() as u32,
            0,
            0,
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0,
        ];
        self.out.extend_from_slice(b"070701");
        for f in fields {
            self.out.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad();
        self.out.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }

    /// A directory (`perm` e.g. 0o755).
    pub fn dir(&mut self, name: &str, perm: u32) {
        self.entry(name, S_IFDIR | perm, 2, (0, 0), &[]);
    }

    /// A regular file.
    pub fn file(&mut self, name: &str, perm: u32, data: &[u8]) {
        self.entry(name, S_IFREG | perm, 1, (0, 0), data);
    }

    /// A symbolic link to `target`.
    pub fn symlink(&mut self, name: &str, target: &str) {
        self.entry(name, S_IFLNK | 0o777, 1, (0, 0), target.as_bytes());
    }

    /// A character device node.
    pub fn char_dev(&mut self, name: &str, perm: u32, major: u32, minor: u32) {
        self.entry(name, S_IFCHR | perm, 1, (major, minor), &[]);
    }

    /// The archive with its trailer.
    pub fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, 1, (0, 0), &[]);
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_file_byte_exact() {
        let mut c = Cpio::new();
        c.file("init", 0o755, b"#!x\n");
        let a = c.finish();
        let header = "070701\
                      00000001\
                      000081ed\
                      00000000\
                      00000000\
                      00000001\
                      00000000\
                      00000004\
                      00000000\
                      00000000\
                      00000000\
                      00000000\
                      00000005\
                      00000000";
        assert_eq!(&a[..110], header.as_bytes());
        // 110 + "init\0" = 115, padded to 116; then the data, a multiple of 4.
        assert_eq!(&a[110..116], b"init\0\0");
        assert_eq!(&a[116..120], b"#!x\n");
        // The trailer: mode 0, nlink 1, namesize 11 ("TRAILER!!!\0").
        let t = &a[120..];
        assert_eq!(&t[..6], b"070701");
        assert_eq!(&t[6 + 8..6 + 16], b"00000000");
        assert_eq!(&t[6 + 11 * 8..6 + 12 * 8], b"0000000b");
        assert_eq!(&t[110..121], b"TRAILER!!!\0");
        assert_eq!(a.len() % 4, 0);
    }

    #[test]
    fn device_and_link() {
        let mut c = Cpio::new();
        c.char_dev("dev/console", 0o600, 5, 1);
        c.symlink("bin/sh", "busybox");
        let a = c.finish();
        // mode of a character device, rdevmajor 5, rdevminor 1.
        assert_eq!(&a[14..22], b"00002180");
        assert_eq!(&a[6 + 9 * 8..6 + 11 * 8], b"0000000500000001");
        let second = a.windows(6).skip(1).position(|w| w == b"070701").unwrap() + 1;
        assert_eq!(&a[second + 14..second + 22], b"0000a1ff");
        assert_eq!(&a[second + 54..second + 62], b"00000007");
    }
}
