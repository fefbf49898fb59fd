//! Realm Translation Tables (DEN0137 1.0, A5.5): the realm's stage-2 tables, in the
//! architectural VMSAv8-64 format for the 4 KiB granule.
//!
//! - [`geometry`]: levels, the size of an entry at each level, start-level configuration.
//! - [`entry`]: the RTT entry states and their descriptor encoding.
//! - [`walk`]: the locked walk from the realm's root tables to a target level.

pub mod entry;
pub mod geometry;
pub mod walk;

pub use entry::Rtte;
pub use geometry::{Level, RttGeometry};
