//! The RMM-EL3 interface (RMM-EL3 communication interface of the RMM specification,
//! as TF-A implements it; versions 0.3/0.4, the generation that accompanies RMM 1.0).
//!
//! SMC identifiers are SMC64 fast calls of the standard secure service (OEN 4), in the
//! range `0xC400_01B0..=0xC400_01CF`, plus `RMM_RMI_REQ_COMPLETE` at the end of the RMI
//! range.

use rmi_abi::AbiVersion;

/// `RMM_GTSI_DELEGATE`: x1 = PA; change the granule's PAS from Non-secure to Realm.
pub const RMM_GTSI_DELEGATE: u32 = 0xC400_01B0;
/// `RMM_GTSI_UNDELEGATE`: x1 = PA; change the granule's PAS from Realm to Non-secure.
pub const RMM_GTSI_UNDELEGATE: u32 = 0xC400_01B1;
/// `RMM_ATTEST_GET_REALM_KEY`: x1 = buffer PA (shared buffer), x2 = buffer size,
/// x3 = curve ([`ECC_CURVE_SECP384R1`]); returns x1 = key size.
pub const RMM_ATTEST_GET_REALM_KEY: u32 = 0xC400_01B2;
/// `RMM_ATTEST_GET_PLAT_TOKEN`: x1 = buffer PA holding the challenge hash, x2 = buffer
/// size, x3 = hash size; returns x1 = size of this hunk, x2 = bytes remaining.
pub const RMM_ATTEST_GET_PLAT_TOKEN: u32 = 0xC400_01B3;
/// `RMM_EL3_FEATURES`: x1 = feature register index; returns x1 = its value.
pub const RMM_EL3_FEATURES: u32 = 0xC400_01B4;
/// `RMM_EL3_TOKEN_SIGN`: EL3 signs realm tokens on the RMM's behalf.
pub const RMM_EL3_TOKEN_SIGN: u32 = 0xC400_01B5;
/// `RMM_BOOT_COMPLETE`: x1 = boot status (0 or a [`BootError`]).
pub const RMM_BOOT_COMPLETE: u32 = 0xC400_01CF;
/// `RMM_RMI_REQ_COMPLETE`: x1..=x5 = the RMI command's x0..=x4; EL3 returns the next
/// Non-secure RMI request in x0..=x6.
pub const RMM_RMI_REQ_COMPLETE: u32 = 0xC400_018F;

/// Curve identifier for `RMM_ATTEST_GET_REALM_KEY`: NIST P-384.
pub const ECC_CURVE_SECP384R1: u64 = 0;

/// Bit 0 of `RMM_EL3_FEATURES` register 0: EL3 can sign realm tokens.
pub const EL3_FEAT_TOKEN_SIGN: u64 = 1 << 0;

/// The lowest RMM-EL3 interface version this RMM accepts: 0.3. Any 0.x with x >= 3 is
/// accepted (0.4 adds nothing the RMM relies on).
pub const MIN_IFC_VERSION: AbiVersion = AbiVersion::new(0, 3);

/// Whether the RMM accepts interface version `v`: same major as
/// [`MIN_IFC_VERSION`], minor not lower.
pub const fn ifc_version_compatible(v: AbiVersion) -> bool {
    v.major == MIN_IFC_VERSION.major && v.minor >= MIN_IFC_VERSION.minor
}

/// Result codes of RMM-EL3 calls (`x0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i64)]
pub enum El3Error {
    /// E_RMM_UNK: unknown error or unknown function.
    Unknown = -1,
    /// E_RMM_BAD_ADDR: the address is not valid for the call (unaligned, outside any
    /// memory EL3 manages for the RMM).
    BadAddr = -2,
    /// E_RMM_BAD_PAS: the granule is not in the PAS the call requires.
    BadPas = -3,
    /// E_RMM_NOMEM: not enough memory.
    NoMem = -4,
    /// E_RMM_INVAL: invalid argument.
    Inval = -5,
    /// E_RMM_AGAIN: resource busy, try again.
    Again = -6,
}

impl El3Error {
    /// The value placed in `x0`.
    pub const fn code(self) -> u64 {
        self as i64 as u64
    }

    /// Decodes `x0` of an EL3 call: `Ok(())` for 0 (E_RMM_OK), the error for a known
    /// code, `Err(Unknown)` for anything else.
    pub const fn check(x0: u64) -> Result<(), El3Error> {
        if x0 == 0 {
            Ok(())
        } else {
            Err(Self::decode(x0))
        }
    }

    /// The error of a non-zero `x0`; out of the success path.
    #[cold]
    #[inline(never)]
    const fn decode(x0: u64) -> El3Error {
        match x0 as i64 {
            -2 => El3Error::BadAddr,
            -3 => El3Error::BadPas,
            -4 => El3Error::NoMem,
            -5 => El3Error::Inval,
            -6 => El3Error::Again,
            _ => El3Error::Unknown,
        }
    }
}

/// Boot failures reported to EL3 in `RMM_BOOT_COMPLETE` x1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i64)]
pub enum BootError {
    /// Unknown failure.
    Unknown = -1,
    /// E_RMM_BOOT_VERSION_NOT_VALID: the interface version (x1) is not supported.
    VersionNotValid = -2,
    /// E_RMM_BOOT_CPUS_OUT_OF_RANGE: the CPU count (x2) exceeds what the RMM supports.
    CpusOutOfRange = -3,
    /// E_RMM_BOOT_CPU_ID_OUT_OF_RANGE: the CPU id (x0) is not below the CPU count.
    CpuIdOutOfRange = -4,
    /// E_RMM_BOOT_INVALID_SHARED_BUFFER: the shared buffer (x3) is zero or unaligned.
    InvalidSharedBuffer = -5,
    /// E_RMM_BOOT_MANIFEST_VERSION_NOT_SUPPORTED.
    ManifestVersionNotSupported = -6,
    /// E_RMM_BOOT_MANIFEST_DATA_ERROR: the manifest content is inconsistent.
    ManifestDataError = -7,
}

impl BootError {
    /// The value placed in `RMM_BOOT_COMPLETE` x1.
    pub const fn code(self) -> u64 {
        self as i64 as u64
    }
}

/// Cold-boot arguments passed by EL3 in x0..=x3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColdBootArgs {
    /// x0: linear index of the booting CPU.
    pub cpu_id: u64,
    /// x1: RMM-EL3 interface version.
    pub ifc_version: u64,
    /// x2: number of CPUs.
    pub num_cpus: u64,
    /// x3: physical address of the shared buffer (holds the boot manifest).
    pub shared_buf: u64,
}

/// Cold-boot arguments after validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootInfo {
    /// The booting CPU.
    pub cpu_id: usize,
    /// The interface version EL3 speaks.
    pub ifc_version: AbiVersion,
    /// Number of CPUs.
    pub num_cpus: usize,
    /// Physical address of the shared buffer.
    pub shared_buf: u64,
}

impl ColdBootArgs {
    /// Validates the arguments in the order the reference RMM checks them: interface
    /// version, CPU count against `max_cpus`, CPU id against the count, shared buffer
    /// non-zero and granule aligned.
    pub fn validate(self, max_cpus: usize) -> Result<BootInfo, BootError> {
        let ifc_version =
            AbiVersion::decode(self.ifc_version).map_err(|_| BootError::VersionNotValid)?;
        if !ifc_version_compatible(ifc_version) {
            return Err(BootError::VersionNotValid);
        }
        if self.num_cpus > max_cpus as u64 {
            return Err(BootError::CpusOutOfRange);
        }
        if self.cpu_id >= self.num_cpus {
            return Err(BootError::CpuIdOutOfRange);
        }
        if self.shared_buf == 0
            || !self
                .shared_buf
                .is_multiple_of(crate::addr::GRANULE_SIZE as u64)
        {
            return Err(BootError::InvalidSharedBuffer);
        }
        Ok(BootInfo {
            cpu_id: self.cpu_id as usize,
            ifc_version,
            num_cpus: self.num_cpus as usize,
            shared_buf: self.shared_buf,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: ColdBootArgs = ColdBootArgs {
        cpu_id: 0,
        ifc_version: 0x4,
        num_cpus: 4,
        shared_buf: 0x418F_F000,
    };

    #[test]
    fn good_arguments_validate() {
        let info = GOOD.validate(16).unwrap();
        assert_eq!(info.cpu_id, 0);
        assert_eq!(info.num_cpus, 4);
        assert_eq!(info.ifc_version, AbiVersion::new(0, 4));
        assert_eq!(info.shared_buf, 0x418F_F000);
        assert!(ColdBootArgs {
            ifc_version: 0x3,
            ..GOOD
        }
        .validate(16)
        .is_ok());
        assert!(ColdBootArgs {
            ifc_version: 0x8,
            ..GOOD
        }
        .validate(16)
        .is_ok());
        assert!(ColdBootArgs {
            num_cpus: 16,
            cpu_id: 15,
            ..GOOD
        }
        .validate(16)
        .is_ok());
    }

    #[test]
    fn each_argument_is_checked() {
        let v = |a: ColdBootArgs| a.validate(16).unwrap_err();
        assert_eq!(
            v(ColdBootArgs {
                ifc_version: 0x2,
                ..GOOD
            }),
            BootError::VersionNotValid
        );
        assert_eq!(
            v(ColdBootArgs {
                ifc_version: 0x1_0000,
                ..GOOD
            }),
            BootError::VersionNotValid
        );
        assert_eq!(
            v(ColdBootArgs {
                ifc_version: 0x2_0000,
                ..GOOD
            }),
            BootError::VersionNotValid
        );
        assert_eq!(
            v(ColdBootArgs {
                ifc_version: 1 << 31,
                ..GOOD
            }),
            BootError::VersionNotValid
        );
        assert_eq!(
            v(ColdBootArgs {
                num_cpus: 17,
                ..GOOD
            }),
            BootError::CpusOutOfRange
        );
        assert_eq!(
            v(ColdBootArgs { cpu_id: 4, ..GOOD }),
            BootError::CpuIdOutOfRange
        );
        assert_eq!(
            v(ColdBootArgs {
                shared_buf: 0,
                ..GOOD
            }),
            BootError::InvalidSharedBuffer
        );
        assert_eq!(
            v(ColdBootArgs {
                shared_buf: 0x418F_F008,
                ..GOOD
            }),
            BootError::InvalidSharedBuffer
        );
    }

    #[test]
    fn checks_follow_the_reference_order() {
        // Every argument bad: the version is reported first, then CPU count, CPU id.
        let all_bad = ColdBootArgs {
            cpu_id: 99,
            ifc_version: 0x2,
            num_cpus: 99,
            shared_buf: 1,
        };
        assert_eq!(all_bad.validate(16), Err(BootError::VersionNotValid));
        let a = ColdBootArgs {
            ifc_version: 0x4,
            ..all_bad
        };
        assert_eq!(a.validate(16), Err(BootError::CpusOutOfRange));
        let a = ColdBootArgs { num_cpus: 16, ..a };
        assert_eq!(a.validate(16), Err(BootError::CpuIdOutOfRange));
        let a = ColdBootArgs { cpu_id: 1, ..a };
        assert_eq!(a.validate(16), Err(BootError::InvalidSharedBuffer));
    }

    #[test]
    fn el3_codes() {
        assert_eq!(El3Error::check(0), Ok(()));
        assert_eq!(
            El3Error::check(El3Error::BadAddr.code()),
            Err(El3Error::BadAddr)
        );
        assert_eq!(
            El3Error::check(El3Error::BadPas.code()),
            Err(El3Error::BadPas)
        );
        assert_eq!(
            El3Error::check(El3Error::Again.code()),
            Err(El3Error::Again)
        );
        assert_eq!(El3Error::check(u64::MAX), Err(El3Error::Unknown));
        assert_eq!(El3Error::check(5), Err(El3Error::Unknown));
        assert_eq!(El3Error::BadPas.code(), 0xFFFF_FFFF_FFFF_FFFD);
        assert_eq!(BootError::ManifestDataError.code(), (-7i64) as u64);
    }
}
