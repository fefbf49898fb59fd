//! Realm measurement slots, as numbered by RSI_MEASUREMENT_READ and
//! RSI_MEASUREMENT_EXTEND (DEN0137 1.0, A7.1, B5.3.7, B5.3.8).

/// Slot of the Realm Initial Measurement (RIM); readable, not extendable.
pub const MEASUREMENT_SLOT_RIM: u64 = 0;
/// First Realm Extensible Measurement (REM) slot.
pub const MEASUREMENT_SLOT_REM_FIRST: u64 = 1;
/// Last REM slot (inclusive).
pub const MEASUREMENT_SLOT_REM_LAST: u64 = 4;
/// Number of measurement slots (RIM + 4 REMs).
pub const MEASUREMENT_SLOTS: usize = 5;
/// Size in bytes of a measurement value (`RMM_REALM_MEASUREMENT_WIDTH` = 512 bits):
/// the eight doublewords of RSI_MEASUREMENT_READ, and the largest `size` accepted by
/// RSI_MEASUREMENT_EXTEND. Shorter hashes are zero-padded.
pub const MAX_MEASUREMENT_SIZE: usize = 64;

/// Whether `index` is valid for RSI_MEASUREMENT_READ (failure condition `index_bound`:
/// index > 4).
pub const fn is_readable_slot(index: u64) -> bool {
    index <= MEASUREMENT_SLOT_REM_LAST
}

/// Whether `index` is valid for RSI_MEASUREMENT_EXTEND (failure condition
/// `index_bound`: index < 1 or index > 4).
pub const fn is_extendable_slot(index: u64) -> bool {
    index >= MEASUREMENT_SLOT_REM_FIRST && index <= MEASUREMENT_SLOT_REM_LAST
}
