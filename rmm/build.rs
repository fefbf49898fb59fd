//! Links the firmware binary with the project's linker script, placed at the
//! platform's Realm carve-out.

fn main() {
    let firmware = std::env::var_os("CARGO_FEATURE_FIRMWARE").is_some();
    let bare_metal = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../linker/rmm.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    println!("cargo:rerun-if-env-changed=CARGO_FEATURE_FVP");
    if firmware && bare_metal {
        // The platform's carve-out, from the one place that knows it.
        let fvp = std::env::var_os("CARGO_FEATURE_FVP").is_some();
        let l = if fvp {
            platform::layout::FVP_BASE_REVC
        } else {
            platform::layout::QEMU_VIRT
        };
        println!(
            "cargo:rustc-link-arg-bins=--defsym=RMM_BASE={:#x}",
            l.rmm_base.0
        );
        println!(
            "cargo:rustc-link-arg-bins=--defsym=RMM_LIMIT={:#x}",
            l.rmm_limit.0
        );
        println!(
            "cargo:rustc-link-arg-bins=--defsym=RMM_MAX_CPUS={}",
            l.max_cpus
        );
        println!("cargo:rustc-link-arg-bins=-T{}", script.display());
    }
}
