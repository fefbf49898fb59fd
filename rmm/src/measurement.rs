//! Realm measurements (RIM and REMs).
