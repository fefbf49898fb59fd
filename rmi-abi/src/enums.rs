//! RMI enumerations (DEN0137 1.0, section B4.4 "RMI types").
//!
//! Every enumeration decodes strictly: an encoding the 1.0 specification leaves unused
//! is "reserved for use by future versions" and is rejected, never mapped to a default.

crate::abi_enum! {
    /// DEN0137 1.0, B4.4.23 `RmiRipas` (8 bits): the Realm IPA state of a protected IPA.
    /// 1.0 has no `DEV` encoding on the RMI side.
    pub enum RmiRipas: u8 {
        /// RMI_EMPTY: no Realm resources are mapped at the address.
        Empty = 0,
        /// RMI_RAM: private code or data owned by the Realm is mapped at the address.
        Ram = 1,
        /// RMI_DESTROYED: the address is inaccessible to the Realm because of a Host action.
        Destroyed = 2,
    }
}

crate::abi_enum! {
    /// DEN0137 1.0, B4.4.24 `RmiRttEntryState` (8 bits), returned by RMI_RTT_READ_ENTRY.
    pub enum RmiRttEntryState: u8 {
        /// RMI_UNASSIGNED: the RTTE is not associated with any granule.
        Unassigned = 0,
        /// RMI_ASSIGNED: the RTTE points to a DATA granule (protected IPA) or an NS
        /// granule (unprotected IPA).
        Assigned = 1,
        /// RMI_TABLE: the RTTE points to the next-level RTT.
        Table = 2,
    }
}

crate::abi_enum! {
    /// The lifecycle state of a Realm. DEN0137 1.0 defines it only as the abstract type
    /// `RmmRealmState` (C1, names REALM_NEW, REALM_ACTIVE, REALM_SYSTEM_OFF); no RMI
    /// command outputs it, so these encodings are this crate's choice (they match the
    /// reference implementation's).
    pub enum RmiRealmState: u8 {
        /// REALM_NEW: under construction; not eligible for execution.
        New = 0,
        /// REALM_ACTIVE: eligible for execution.
        Active = 1,
        /// REALM_SYSTEM_OFF: the Realm has been shut down (PSCI SYSTEM_OFF/RESET).
        SystemOff = 2,
    }
}

crate::abi_enum! {
    /// DEN0137 1.0, B4.4.17 `RmiRecExitReason` (8 bits), `RmiRecExit.exit_reason`.
    pub enum RmiRecExitReason: u8 {
        /// RMI_EXIT_SYNC: synchronous exception.
        Sync = 0,
        /// RMI_EXIT_IRQ: IRQ.
        Irq = 1,
        /// RMI_EXIT_FIQ: FIQ.
        Fiq = 2,
        /// RMI_EXIT_PSCI: PSCI call that needs the Host.
        Psci = 3,
        /// RMI_EXIT_RIPAS_CHANGE: RIPAS change pending.
        RipasChange = 4,
        /// RMI_EXIT_HOST_CALL: Host call (RSI_HOST_CALL).
        HostCall = 5,
        /// RMI_EXIT_SERROR: SError.
        Serror = 6,
    }
}

crate::abi_enum! {
    /// The RMI_DATA_CREATE `flags` argument (x5). DEN0137 1.0, B4.4.2 `RmiDataFlags` is a
    /// fieldset whose only field, `measure` `[0]`, is a B4.4.3 `RmiDataMeasureContent`;
    /// bits `[63:1]` are SBZ. Decoding the whole register as this enumeration accepts
    /// exactly the values with no reserved bit set.
    pub enum RmiDataFlags: u8 {
        /// RMI_NO_MEASURE_CONTENT: do not measure the DATA granule contents.
        NoMeasureContent = 0,
        /// RMI_MEASURE_CONTENT: measure the DATA granule contents.
        MeasureContent = 1,
    }
}

/// DEN0137 1.0, B4.4.3 `RmiDataMeasureContent`: the single field of [`RmiDataFlags`],
/// with the same encodings.
pub type RmiDataMeasureContent = RmiDataFlags;

crate::abi_enum! {
    /// DEN0137 1.0, B4.4.7 `RmiHashAlgorithm` (8 bits), `RmiRealmParams.hash_algo`.
    pub enum RmiHashAlgorithm: u8 {
        /// RMI_HASH_SHA_256.
        Sha256 = 0,
        /// RMI_HASH_SHA_512.
        Sha512 = 1,
    }
}

crate::abi_enum! {
    /// DEN0137 1.0, B4.4.22 `RmiResponse` (1 bit): the Host's answer to a Realm request,
    /// `RmiRecEnterFlags.ripas_response`.
    pub enum RmiResponse: u8 {
        /// RMI_ACCEPT: the Host accepted the request.
        Accept = 0,
        /// RMI_REJECT: the Host rejected the request.
        Reject = 1,
    }
}

crate::abi_enum! {
    /// DEN0137 1.0, B4.4.10 `RmiPmuOverflowStatus` (8 bits), `RmiRecExit.pmu_ovf_status`.
    pub enum RmiPmuOverflowStatus: u8 {
        /// RMI_PMU_OVERFLOW_NOT_ACTIVE.
        NotActive = 0,
        /// RMI_PMU_OVERFLOW_ACTIVE.
        Active = 1,
    }
}

crate::abi_enum! {
    /// DEN0137 1.0, B4.4.21 `RmiRecRunnable` (1 bit), `RmiRecCreateFlags.runnable`.
    pub enum RmiRecRunnable: u8 {
        /// RMI_NOT_RUNNABLE: not eligible for execution.
        NotRunnable = 0,
        /// RMI_RUNNABLE: eligible for execution.
        Runnable = 1,
    }
}

impl RmiHashAlgorithm {
    /// Output size of the hash in bytes (32 or 64).
    pub const fn digest_size(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }
}

impl From<bool> for RmiResponse {
    /// `true` is RMI_REJECT, the encoding of a set bit.
    fn from(reject: bool) -> Self {
        if reject {
            Self::Reject
        } else {
            Self::Accept
        }
    }
}

impl From<bool> for RmiRecRunnable {
    /// `true` is RMI_RUNNABLE, the encoding of a set bit.
    fn from(runnable: bool) -> Self {
        if runnable {
            Self::Runnable
        } else {
            Self::NotRunnable
        }
    }
}
