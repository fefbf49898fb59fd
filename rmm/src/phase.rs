//! `phase!(arch, Phase)`: marks a phase boundary of an RMI call for the bench's
//! per-phase breakdown ([`platform::phase`], `cargo xtask bench --qemu --phases`).
//! With the `phases` feature it calls [`platform::Arch::mark_phase`]; without it the
//! macro expands to nothing, so the product image has no marks.

/// Marks `$phase` (a [`platform::phase::Phase`] variant) through `$arch`.
#[cfg(feature = "phases")]
macro_rules! phase {
    ($arch:expr, $phase:ident) => {
        platform::Arch::mark_phase(&$arch, platform::phase::Phase::$phase)
    };
}

/// Marks `$phase`: nothing without the `phases` feature.
#[cfg(not(feature = "phases"))]
macro_rules! phase {
    ($arch:expr, $phase:ident) => {};
}
