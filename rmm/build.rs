//! Links the firmware binary with the project's linker script.

fn main() {
    let firmware = std::env::var_os("CARGO_FEATURE_FIRMWARE").is_some();
    let bare_metal = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../linker/rmm.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    if firmware && bare_metal {
        println!("cargo:rustc-link-arg-bins=-T{}", script.display());
    }
}
