//! Test fixture for running rmm.img in QEMU (bare metal, aarch64-unknown-none).

fn main() {}
