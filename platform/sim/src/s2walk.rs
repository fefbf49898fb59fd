//! The stage-2 translation walker of the simulation: the MMU's reading of a realm's RTTs.
//!
//! This is the oracle that keeps the RMM's realm translation tables (RTTs) honest. It is
//! an independent reading of the Arm architecture — Arm ARM (DDI 0487) chapter D8, "The
//! AArch64 Virtual Memory System Architecture", and its pseudocode `AArch64.S2Translate`
//! and `AArch64.S2Walk` — and shares nothing with the RMM's own table code, so a table
//! the RMM writes in a form the hardware would read differently fails here.
//!
//! # What is modelled
//!
//! Stage 2 of the Realm security state (FEAT_RME) with the 4 KiB translation granule and
//! 64-bit descriptors (no FEAT_D128), `VTCR_EL2` as the RMM programs it for a realm:
//!
//! - `T0SZ = 64 - ipa_bits`, the start level (`SL0`, and `SL2` for level -1), `DS` =
//!   [`S2Config::lpa2`] (FEAT_LPA2: 52-bit IPA and OA, level -1, level-0 blocks, the
//!   52-bit descriptor layout);
//! - `PS` is the largest output size the descriptor format can express (48 bits, or 52
//!   with LPA2), so a descriptor never produces an Address size fault; only a root table
//!   out of that range does (`AArch64.OAOutOfRange` on the start-level descriptor
//!   address);
//! - the implementation's physical address size (`PAMax`) is at least 44 bits, so start
//!   level 0 is available (`AArch64.S2InvalidSL`);
//! - `HA = HD = 0` (no hardware update of the access flag or dirty state), `S2PIE = 0`
//!   (permissions from S2AP and XN), FEAT_XNX implemented (XN is two bits),
//!   `HCR_EL2.FWB = 1` (MemAttr read with FEAT_S2FWB semantics). Memory attributes and
//!   shareability are reported, not applied: the simulation has no caches.
//! - Translation table walks are little-endian 64-bit reads through the Realm PAS (the
//!   walk of a Realm stage 2 is made in the Realm PAS, and stage-2 table descriptors
//!   carry no NSTable bit). A walk that reaches a granule in another PAS, or an address
//!   that is not memory, is a granule protection fault on the walk
//!   ([`S2FaultKind::WalkGpf`]), never a panic.
//! - The functions here walk the tables as they are in memory now: they are the MMU's
//!   table walker. Cached translations (the TLB, which may hold translations the
//!   tables no longer give) are modelled on top of them in [`super::tlb`], which is
//!   what a realm's accesses go through.
//!
//! Not modelled: the Contiguous hint (bit 52), FEAT_BBM's nT bit, alignment faults,
//! instruction fetch from Device memory (CONSTRAINED UNPREDICTABLE), RES0 bits of valid
//! descriptors (ignored, as `AArch64.LeafBase` and `AArch64.NextTableBase` ignore them).

use std::fmt;

use super::memory::{GpFault, PhysMem};
use platform::addr::{PhysAddr, GRANULE_SHIFT};
use platform::arch::Pas;

/// The level of a page descriptor, the last level of a walk (`FINAL_LEVEL` in the Arm ARM
/// pseudocode).
pub const FINAL_LEVEL: i8 = 3;

/// The value of [`Translation::sh`] with LPA2: the descriptor has no SH field (Arm ARM
/// D8.3, with `VTCR_EL2.DS == 1` descriptor bits \[9:8\] are OA\[51:50\]) and the
/// shareability comes from `VTCR_EL2.SH0`, which [`S2Config`] does not model.
pub const SH_FROM_VTCR: u8 = 0xFF;

/// Stage-2 MemAttr (descriptor bits \[5:2\]) for Normal Write-Back memory with FEAT_S2FWB
/// (`HCR_EL2.FWB == 1`): `0b0110`, "force Write-Back" (Arm ARM D8, stage 2 memory
/// region attributes with FEAT_S2FWB; `AArch64.S2ApplyFWBMemAttrs`). With FWB, MemAttr\[2\] = 0
/// is Device memory (type in MemAttr\[1:0\]) and `0b0101` is Normal Non-cacheable.
pub const MEMATTR_FWB_NORMAL_WB: u8 = 0b0110;

/// Entries resolved per level below the start level: 512 (a 4 KiB table of 8-byte
/// descriptors).
const STRIDE: u32 = GRANULE_SHIFT - 3;

/// Descriptor bit 0: valid (Arm ARM D8.3, `AArch64.DecodeDescriptorType`).
const DESC_VALID: u64 = 1 << 0;
/// Descriptor bit 1: table (levels < 3) or page (level 3); 0 is a block.
const DESC_TABLE_OR_PAGE: u64 = 1 << 1;
/// S2AP\[0\], descriptor bit 6: stage-2 read permission.
const DESC_S2AP_R: u64 = 1 << 6;
/// S2AP\[1\], descriptor bit 7: stage-2 write permission.
const DESC_S2AP_W: u64 = 1 << 7;
/// AF, descriptor bit 10: the access flag.
const DESC_AF: u64 = 1 << 10;
/// NS, descriptor bit 55 of a Realm stage-2 leaf (FEAT_RME): output in the Non-secure PAS.
const DESC_NS: u64 = 1 << 55;
/// OA\[47:12\] in descriptor bits \[47:12\] (48-bit output addresses).
const OA_47_12: u64 = 0x0000_FFFF_FFFF_F000;
/// OA\[49:12\] in descriptor bits \[49:12\] (LPA2; OA\[51:50\] are in bits \[9:8\]).
const OA_49_12: u64 = 0x0003_FFFF_FFFF_F000;

/// The kind of memory access being translated (Arm ARM D8, stage 2 data access and
/// instruction execution permissions; `AArch64.S2CheckPermissions`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// A data read: needs S2AP\[0\] (descriptor bit 6).
    Read,
    /// A data write: needs S2AP\[1\] (descriptor bit 7). Stage-2 write permission does not
    /// need read permission.
    Write,
    /// An instruction fetch at EL1: permitted when XN\[1:0\] (descriptor bits \[54:53\]) is
    /// `0b00` or `0b11` (FEAT_XNX). Stage-2 execute permission is independent of S2AP.
    Execute,
    /// An instruction fetch at EL0: permitted when XN\[1:0\] is `0b00` or `0b01` (FEAT_XNX).
    ExecuteEl0,
}

/// The stage-2 translation regime of a realm: what `VTTBR_EL2` and `VTCR_EL2` tell the
/// MMU (Arm ARM D8.2, translation table walk; `AArch64.GetS2TTWParams`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct S2Config {
    /// Physical address of the first start-level table (`VTTBR_EL2.BADDR`). Concatenated
    /// start-level tables follow it contiguously.
    pub root: PhysAddr,
    /// Width of the IPA space in bits, `64 - VTCR_EL2.T0SZ` (the realm's `s2sz`),
    /// 32..=52 (above 48 only with LPA2).
    pub ipa_bits: u32,
    /// Start level of the walk (`VTCR_EL2.SL0`/`SL2`): -1..=3 (-1 only with LPA2).
    pub start_level: i8,
    /// Number of concatenated start-level tables, 1..=16, as the geometry requires it
    /// (see [`S2Config::root_tables`]).
    pub num_root_tables: u32,
    /// `VTCR_EL2.DS`: FEAT_LPA2's 52-bit descriptor format, level -1 and level-0 blocks.
    pub lpa2: bool,
}

/// Why a [`S2Config`] describes no valid stage-2 geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum S2ConfigError {
    /// `ipa_bits` is outside 32..=52.
    IpaBits,
    /// `ipa_bits > 48` without LPA2: below the minimum `T0SZ` of 16 for the 4 KiB granule
    /// without `VTCR_EL2.DS` (`AArch64.S2MinTxSZ`, `AArch64.S2TxSZFaults`).
    IpaBitsNeedLpa2,
    /// `start_level` is outside -1..=3, or -1 without LPA2 (`VTCR_EL2.SL2` needs `DS`;
    /// `AArch64.S2InvalidSL`, `AArch64.S2StartLevel`).
    StartLevel,
    /// The start level cannot resolve the IPA width: the start level must resolve 1 to 13
    /// IPA bits, a partial table up to 9 bits and up to 16 concatenated tables beyond
    /// (`AArch64.S2InconsistentSL`). `resolved_bits` is what it would have to resolve.
    InconsistentStartLevel {
        /// `ipa_bits - (12 + 9 * (3 - start_level))`.
        resolved_bits: i32,
    },
    /// `num_root_tables` is not the number of concatenated start-level tables the
    /// geometry needs.
    NumRootTables {
        /// The number the geometry needs.
        expected: u32,
    },
    /// `root` is not aligned to the size of the (concatenated) start-level tables
    /// (`VTTBR_EL2.BADDR` low bits are RES0; `AArch64.S2SLTTEntryAddress` ORs the index
    /// into the base).
    RootAlignment {
        /// The alignment required, in bytes.
        align: u64,
    },
    /// The start-level tables do not fit in the output address space (48 bits, or 52 with
    /// LPA2). A walk reports it as an Address size fault at level 0.
    RootOutOfRange,
}

impl fmt::Display for S2ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IpaBits => write!(f, "IPA width outside 32..=52 bits"),
            Self::IpaBitsNeedLpa2 => write!(f, "IPA width above 48 bits needs LPA2"),
            Self::StartLevel => write!(f, "start level not available"),
            Self::InconsistentStartLevel { resolved_bits } => write!(
                f,
                "start level would resolve {resolved_bits} IPA bits (1..=13 allowed)"
            ),
            Self::NumRootTables { expected } => {
                write!(
                    f,
                    "geometry needs {expected} concatenated start-level tables"
                )
            }
            Self::RootAlignment { align } => {
                write!(f, "start-level tables not aligned to {align:#x} bytes")
            }
            Self::RootOutOfRange => write!(f, "start-level tables beyond the output size"),
        }
    }
}

impl std::error::Error for S2ConfigError {}

/// log2 of the size of the address range one descriptor at `level` maps (level -1..=3:
/// 48, 39, 30, 21, 12), Arm ARM D8.2 (4 KiB granule lookup levels).
pub(crate) fn level_shift(level: i8) -> u32 {
    let levels_below = (i32::from(FINAL_LEVEL) - i32::from(level)).clamp(0, 4) as u32;
    GRANULE_SHIFT + STRIDE * levels_below
}

impl S2Config {
    /// The number of concatenated start-level tables a walk from `start_level` over
    /// `ipa_bits` of IPA needs, or `None` when that start level cannot resolve that IPA
    /// width (Arm ARM D8.2, concatenated translation tables for the initial stage 2
    /// lookup; `AArch64.S2InconsistentSL`).
    ///
    /// The start level resolves `r = ipa_bits - (12 + 9 * (3 - start_level))` bits: with
    /// `1 <= r <= 9` one (possibly partial) table, with `10 <= r <= 13` `2^(r - 9)`
    /// concatenated tables. Level -1 resolves at most the 4 bits \[51:48\].
    pub fn root_tables(ipa_bits: u32, start_level: i8) -> Option<u32> {
        if !(-1..=FINAL_LEVEL).contains(&start_level) || ipa_bits > 52 {
            return None;
        }
        let r = ipa_bits as i32 - level_shift(start_level) as i32;
        match r {
            1..=9 => Some(1),
            10..=13 => Some(1 << (r - 9)),
            _ => None,
        }
    }

    /// Width of output addresses the descriptor format can express: 48 bits, or 52 with
    /// LPA2 (Arm ARM D8.3, output address fields of the 4 KiB granule descriptors).
    pub fn oa_bits(&self) -> u32 {
        if self.lpa2 {
            52
        } else {
            48
        }
    }

    /// Checks that the configuration is a stage-2 geometry the architecture accepts and
    /// that it describes its root tables consistently (Arm ARM D8.2;
    /// `AArch64.S2TxSZFaults`, `AArch64.S2InvalidSL`, `AArch64.S2InconsistentSL`), in
    /// this order: IPA width, LPA2 for more than 48 bits, start level, start level
    /// against IPA width, number of concatenated tables, root alignment, root in range.
    ///
    /// The root must be aligned to the size of all its concatenated tables, and to a
    /// granule even for a partial table: architecturally a partial start-level table
    /// needs only its own size (at least 64 bytes), but RTTs are whole granules.
    pub fn validate(&self) -> Result<(), S2ConfigError> {
        if !(32..=52).contains(&self.ipa_bits) {
            return Err(S2ConfigError::IpaBits);
        }
        if self.ipa_bits > 48 && !self.lpa2 {
            return Err(S2ConfigError::IpaBitsNeedLpa2);
        }
        if !(-1..=FINAL_LEVEL).contains(&self.start_level) || (self.start_level == -1 && !self.lpa2)
        {
            return Err(S2ConfigError::StartLevel);
        }
        let expected = Self::root_tables(self.ipa_bits, self.start_level).ok_or(
            S2ConfigError::InconsistentStartLevel {
                resolved_bits: self.ipa_bits as i32 - level_shift(self.start_level) as i32,
            },
        )?;
        if self.num_root_tables != expected {
            return Err(S2ConfigError::NumRootTables { expected });
        }
        let size = u64::from(expected) << GRANULE_SHIFT;
        if !self.root.0.is_multiple_of(size) {
            return Err(S2ConfigError::RootAlignment { align: size });
        }
        match self.root.0.checked_add(size) {
            Some(end) if end <= 1u64 << self.oa_bits() => Ok(()),
            _ => Err(S2ConfigError::RootOutOfRange),
        }
    }
}

/// The kind of a stage-2 fault (Arm ARM D8, MMU fault types; the `Fault_*` status codes
/// of the pseudocode `FaultRecord`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum S2FaultKind {
    /// Address size fault (`Fault_AddressSize`): here only a start-level table beyond
    /// the output address size, reported at level 0.
    AddressSize,
    /// Translation fault (`Fault_Translation`): an invalid descriptor (bit 0 clear, a
    /// block where blocks are not allowed, a level-3 descriptor with bit 1 clear), an IPA
    /// at or above `2^ipa_bits` (level 0, `AArch64.IPAIsOutOfRange`), or a configuration
    /// [`S2Config::validate`] rejects (level 0, as for `AArch64.S2InconsistentSL`).
    Translation,
    /// Access flag fault (`Fault_AccessFlag`): a leaf with AF (bit 10) clear, with
    /// hardware access-flag update disabled.
    AccessFlag,
    /// Permission fault (`Fault_Permission`): S2AP or XN forbid the access.
    Permission,
    /// Granule protection fault on a translation table walk (`Fault_GPCFOnWalk`,
    /// FEAT_RME): the descriptor at `pa` is not in a Realm-PAS granule (or not in memory
    /// at all, which this model reports the same way).
    WalkGpf {
        /// Physical address of the descriptor the walk tried to read.
        pa: u64,
    },
}

/// A stage-2 fault: what the hardware would report to EL2 in `ESR_EL2`/`HPFAR_EL2` (Arm
/// ARM D8, the fault record of `AArch64.S2Translate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct S2Fault {
    /// What went wrong.
    pub kind: S2FaultKind,
    /// The lookup level the fault is reported at (-1..=3).
    pub level: i8,
}

impl S2Fault {
    const fn new(kind: S2FaultKind, level: i8) -> Self {
        Self { kind, level }
    }

    /// The fault status code (`ESR_ELx.ISS.DFSC`/`IFSC`, 6 bits) the hardware reports for
    /// this fault (Arm ARM, `ESR_EL2` ISS encoding for a Data Abort, DFSC), or `None` for a
    /// kind and level the architecture has no encoding for (an access flag or permission
    /// fault at level -1, which a walk never produces).
    ///
    /// Levels 0..=3: Address size `0b0000LL`, Translation `0b0001LL`, Access flag
    /// `0b0010LL`, Permission `0b0011LL`, GPF on walk `0b1001LL`. Level -1 (FEAT_LPA2):
    /// Address size `0b101001`, Translation `0b101011`, GPF on walk `0b100011`.
    pub fn fsc(&self) -> Option<u8> {
        let base: u8 = match self.kind {
            S2FaultKind::AddressSize => 0b00_0000,
            S2FaultKind::Translation => 0b00_0100,
            S2FaultKind::AccessFlag => 0b00_1000,
            S2FaultKind::Permission => 0b00_1100,
            S2FaultKind::WalkGpf { .. } => 0b10_0100,
        };
        match self.level {
            0..=3 => Some(base | self.level as u8),
            -1 => match self.kind {
                S2FaultKind::AddressSize => Some(0b10_1001),
                S2FaultKind::Translation => Some(0b10_1011),
                S2FaultKind::WalkGpf { .. } => Some(0b10_0011),
                S2FaultKind::AccessFlag | S2FaultKind::Permission => None,
            },
            _ => None,
        }
    }
}

impl fmt::Display for S2Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            S2FaultKind::AddressSize => write!(f, "stage-2 address size fault")?,
            S2FaultKind::Translation => write!(f, "stage-2 translation fault")?,
            S2FaultKind::AccessFlag => write!(f, "stage-2 access flag fault")?,
            S2FaultKind::Permission => write!(f, "stage-2 permission fault")?,
            S2FaultKind::WalkGpf { pa } => {
                write!(f, "granule protection fault on stage-2 walk at {pa:#x}")?
            }
        }
        write!(f, ", level {}", self.level)
    }
}

impl std::error::Error for S2Fault {}

/// A successful stage-2 translation: the output address and the attributes of the leaf
/// descriptor that mapped it (Arm ARM D8.3, stage 2 block and page descriptors;
/// `AArch64.S2NextWalkStateLeaf`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Translation {
    /// The output physical address of the IPA (the leaf's output address plus the offset
    /// of the IPA inside the block or page).
    pub pa: u64,
    /// The level of the leaf descriptor: 3 for a page, 2 for a 2 MiB block, 1 for a 1 GiB
    /// block, 0 for a 512 GiB block (LPA2 only).
    pub level: i8,
    /// The output PAS: Non-secure when the leaf's NS bit (55) is set, Realm otherwise
    /// (FEAT_RME, Realm stage 2 descriptors).
    pub pas: Pas,
    /// S2AP\[0\] (bit 6): stage-2 read permission.
    pub s2ap_read: bool,
    /// S2AP\[1\] (bit 7): stage-2 write permission.
    pub s2ap_write: bool,
    /// MemAttr\[3:0\] (bits \[5:2\]), raw. With FEAT_S2FWB, [`MEMATTR_FWB_NORMAL_WB`] is
    /// Normal Write-Back.
    pub mem_attr: u8,
    /// SH\[1:0\] (bits \[9:8\]), raw (`0b11` Inner Shareable, `0b10` Outer Shareable, `0b00`
    /// Non-shareable). With LPA2, [`SH_FROM_VTCR`].
    pub sh: u8,
    /// XN\[1:0\] (bits \[54:53\]), raw (FEAT_XNX: `0b00` executable at EL1 and EL0, `0b01`
    /// EL0 only, `0b10` neither, `0b11` EL1 only).
    pub xn: u8,
    /// Size of the region the leaf maps, in bytes (4 KiB, 2 MiB, 1 GiB or 512 GiB).
    pub block_size: u64,
}

/// A fault of an access through stage 2 ([`access`], [`read_ipa`], [`write_ipa`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessFault {
    /// The translation faulted at stage 2 (reported to EL2).
    Stage2(S2Fault),
    /// The translation succeeded but the output access failed the granule protection
    /// check (`Fault_GPCFOnOutput`, reported to EL3 as a granule protection fault) or
    /// reached no memory (an external abort).
    Gpf(GpFault),
}

impl From<S2Fault> for AccessFault {
    fn from(f: S2Fault) -> Self {
        Self::Stage2(f)
    }
}

impl fmt::Display for AccessFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stage2(s2) => s2.fmt(f),
            Self::Gpf(g) => g.fmt(f),
        }
    }
}

impl std::error::Error for AccessFault {}

/// The descriptor types of `AArch64.DecodeDescriptorType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DescType {
    Invalid,
    Table,
    Leaf,
}

/// Arm ARM D8.3 (`AArch64.DecodeDescriptorType`, `AArch64.BlockDescSupported`), 4 KiB
/// granule: bit 0 clear is invalid; bit 1 set is a table above level 3 and a page at
/// level 3; bit 1 clear is a block at levels 1 and 2 (and 0 with LPA2) and invalid
/// elsewhere (level -1, level 0 without LPA2, level 3).
pub(crate) fn decode_type(desc: u64, level: i8, lpa2: bool) -> DescType {
    if desc & DESC_VALID == 0 {
        DescType::Invalid
    } else if desc & DESC_TABLE_OR_PAGE != 0 {
        if level == FINAL_LEVEL {
            DescType::Leaf
        } else {
            DescType::Table
        }
    } else if level == 1 || level == 2 || (level == 0 && lpa2) {
        DescType::Leaf
    } else {
        DescType::Invalid
    }
}

/// The output-address field of a table, block or page descriptor (Arm ARM D8.3;
/// `AArch64.NextTableBase`, `AArch64.LeafBase`), 4 KiB granule: OA\[47:12\] in bits
/// \[47:12\]; with LPA2 OA\[49:12\] in bits \[49:12\] and OA\[51:50\] in bits \[9:8\]. For a block
/// the bits below the block size are part of the field and must be masked by the caller.
pub fn output_address(desc: u64, lpa2: bool) -> u64 {
    if lpa2 {
        (desc & OA_49_12) | (((desc >> 8) & 0b11) << 50)
    } else {
        desc & OA_47_12
    }
}

/// A descriptor read by the walk.
#[derive(Clone, Copy, Debug)]
struct Entry {
    desc: u64,
    pa: u64,
    level: i8,
    ty: DescType,
}

/// One descriptor a walk read: its physical address, its value and the level of the
/// table it was read from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct WalkStep {
    /// Physical address of the descriptor.
    pub pa: u64,
    /// The descriptor as read.
    pub desc: u64,
    /// The lookup level of the table holding it.
    pub level: i8,
}

/// The descriptors one walk read, start level first: at most five (levels -1..=3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct WalkPath {
    steps: [WalkStep; 5],
    len: usize,
}

impl WalkPath {
    /// The descriptors read, in walk order.
    pub fn steps(&self) -> &[WalkStep] {
        &self.steps[..self.len]
    }

    /// The last descriptor read.
    pub fn last(&self) -> Option<&WalkStep> {
        self.steps().last()
    }

    /// The first `n` descriptors.
    pub fn prefix(&self, n: usize) -> Self {
        let mut p = *self;
        p.len = n.min(self.len);
        p
    }

    pub(crate) fn push(&mut self, step: WalkStep) {
        self.steps[self.len] = step;
        self.len += 1;
    }
}

/// The checks `AArch64.S2Translate` makes before walking: the configuration (level-0
/// Translation fault for an inconsistent one, level-0 Address size fault for a root
/// beyond the output size) and the IPA range (`AArch64.IPAIsOutOfRange`: level-0
/// Translation fault).
fn check_config_and_ipa(cfg: &S2Config, ipa: u64) -> Result<(), S2Fault> {
    match cfg.validate() {
        Ok(()) => {}
        Err(S2ConfigError::RootOutOfRange) => {
            return Err(S2Fault::new(S2FaultKind::AddressSize, 0));
        }
        Err(_) => return Err(S2Fault::new(S2FaultKind::Translation, 0)),
    }
    if ipa >> cfg.ipa_bits != 0 {
        return Err(S2Fault::new(S2FaultKind::Translation, 0));
    }
    Ok(())
}

/// Reads the descriptor at `pa` as the MMU does: 8 bytes, little-endian, through the
/// Realm PAS; a failed granule protection check is a GPF on the walk at `level`.
fn fetch(mem: &PhysMem, pa: u64, level: i8) -> Result<u64, S2Fault> {
    let mut bytes = [0u8; 8];
    mem.read(PhysAddr(pa), Pas::Realm, &mut bytes)
        .map_err(|_| S2Fault::new(S2FaultKind::WalkGpf { pa }, level))?;
    Ok(u64::from_le_bytes(bytes))
}

/// Walks from the start level, following table descriptors, until the descriptor at
/// `target` or the first descriptor that is not a table (Arm ARM D8.2; `AArch64.S2Walk`,
/// `AArch64.S2SLTTEntryAddress`, `AArch64.TTEntryAddress`). The configuration and the IPA
/// must have been checked.
fn descend(
    mem: &PhysMem,
    cfg: &S2Config,
    ipa: u64,
    target: i8,
    path: &mut WalkPath,
) -> Result<Entry, S2Fault> {
    let mut level = cfg.start_level;
    let mut table = cfg.root.0;
    loop {
        let shift = level_shift(level);
        // The start level indexes all the IPA bits above `shift` (concatenated tables
        // are contiguous); the other levels index 9 bits.
        let index = if level == cfg.start_level {
            ipa >> shift
        } else {
            (ipa >> shift) & ((1 << STRIDE) - 1)
        };
        let pa = table | (index << 3);
        let desc = fetch(mem, pa, level)?;
        path.push(WalkStep { pa, desc, level });
        let ty = decode_type(desc, level, cfg.lpa2);
        if ty != DescType::Table || level >= target {
            return Ok(Entry {
                desc,
                pa,
                level,
                ty,
            });
        }
        table = output_address(desc, cfg.lpa2);
        level += 1;
    }
}

/// Translates `ipa` for `access` through the stage-2 tables `cfg` describes, as the MMU
/// of a realm's PE would (Arm ARM D8; `AArch64.S2Translate`, `AArch64.S2Walk`,
/// `AArch64.S2CheckPermissions`).
///
/// The checks, in the architecture's order: configuration and IPA range (level 0), the
/// walk (GPF on walk, invalid descriptor: Translation fault at its level), the access
/// flag of the leaf, then its permissions (both at the leaf's level). Never panics on
/// any table content.
pub fn walk(
    mem: &PhysMem,
    cfg: &S2Config,
    ipa: u64,
    access: Access,
) -> Result<Translation, S2Fault> {
    walk_path(mem, cfg, ipa, access).0
}

/// [`walk`], also returning the descriptors the walk read (up to the one it stopped
/// at, also when it faulted; empty for a fault before the walk).
pub fn walk_path(
    mem: &PhysMem,
    cfg: &S2Config,
    ipa: u64,
    access: Access,
) -> (Result<Translation, S2Fault>, WalkPath) {
    let mut path = WalkPath::default();
    let result = check_config_and_ipa(cfg, ipa)
        .and_then(|()| descend(mem, cfg, ipa, FINAL_LEVEL, &mut path))
        .and_then(|e| {
            if e.ty != DescType::Leaf {
                return Err(S2Fault::new(S2FaultKind::Translation, e.level));
            }
            leaf_translation(cfg, e.desc, e.level, ipa, access)
        });
    (result, path)
}

/// The checks and the translation of a leaf descriptor `d` at `level` for `ipa`: the
/// access flag, then the permissions for `access` (Arm ARM D8; `AArch64.S2CheckPermissions`,
/// `AArch64.S2NextWalkStateLeaf`). A cached leaf goes through the same checks: the
/// TLB caches translations, not the absence of faults.
pub(crate) fn leaf_translation(
    cfg: &S2Config,
    d: u64,
    level: i8,
    ipa: u64,
    access: Access,
) -> Result<Translation, S2Fault> {
    if d & DESC_AF == 0 {
        return Err(S2Fault::new(S2FaultKind::AccessFlag, level));
    }
    let s2ap_read = d & DESC_S2AP_R != 0;
    let s2ap_write = d & DESC_S2AP_W != 0;
    let xn = ((d >> 53) & 0b11) as u8;
    let permitted = match access {
        Access::Read => s2ap_read,
        Access::Write => s2ap_write,
        Access::Execute => xn == 0b00 || xn == 0b11,
        Access::ExecuteEl0 => xn == 0b00 || xn == 0b01,
    };
    if !permitted {
        return Err(S2Fault::new(S2FaultKind::Permission, level));
    }
    let block_size = 1u64 << level_shift(level);
    let offset_mask = block_size - 1;
    let base = output_address(d, cfg.lpa2) & !offset_mask;
    Ok(Translation {
        pa: base | (ipa & offset_mask),
        level,
        pas: if d & DESC_NS != 0 {
            Pas::NonSecure
        } else {
            Pas::Realm
        },
        s2ap_read,
        s2ap_write,
        mem_attr: ((d >> 2) & 0b1111) as u8,
        sh: if cfg.lpa2 {
            SH_FROM_VTCR
        } else {
            ((d >> 8) & 0b11) as u8
        },
        xn,
        block_size,
    })
}

/// The raw descriptor that maps `ipa` at `level`, and its physical address: the walk
/// follows table descriptors from the start level down to `level` and returns whatever
/// is there, valid or not (useful for invalid descriptors that carry the RMM's software
/// state). Same walk as [`walk`] (Arm ARM D8.2), without the leaf checks.
///
/// Errors: the level-0 faults of [`walk`] (configuration, IPA range); a GPF on the walk;
/// a Translation fault at the level `L < level` where the walk met a descriptor that is
/// not a table (invalid, or a block — read it with `read_entry` at `L`); a Translation
/// fault at `level` itself when `level` is outside `start_level..=3`.
pub fn read_entry(
    mem: &PhysMem,
    cfg: &S2Config,
    ipa: u64,
    level: i8,
) -> Result<(u64, u64), S2Fault> {
    check_config_and_ipa(cfg, ipa)?;
    if !(cfg.start_level..=FINAL_LEVEL).contains(&level) {
        return Err(S2Fault::new(S2FaultKind::Translation, level));
    }
    let e = descend(mem, cfg, ipa, level, &mut WalkPath::default())?;
    if e.level == level {
        Ok((e.desc, e.pa))
    } else {
        Err(S2Fault::new(S2FaultKind::Translation, e.level))
    }
}

/// One page-bounded piece of an access: where it goes and which bytes of the buffer.
struct Piece {
    pa: u64,
    pas: Pas,
    range: core::ops::Range<usize>,
}

/// Translates every page `[ipa, ipa + len)` touches with `translate` and checks the
/// granule protection of every output granule, before any byte moves.
fn translate_range(
    mem: &PhysMem,
    ipa: u64,
    len: usize,
    access: Access,
    mut translate: impl FnMut(u64, Access) -> Result<Translation, S2Fault>,
) -> Result<Vec<Piece>, AccessFault> {
    let page = 1u64 << GRANULE_SHIFT;
    let mut pieces = Vec::new();
    let mut done = 0usize;
    while done < len {
        let at = ipa
            .checked_add(done as u64)
            .ok_or(S2Fault::new(S2FaultKind::Translation, 0))?;
        let n = ((page - (at & (page - 1))) as usize).min(len - done);
        let t = translate(at, access)?;
        // A piece stays inside one 4 KiB page of IPA, hence one granule of PA.
        match mem.pas(PhysAddr(t.pa)) {
            Some(actual) if actual == t.pas => {}
            actual => {
                return Err(AccessFault::Gpf(GpFault {
                    pa: PhysAddr(t.pa),
                    access: t.pas,
                    actual,
                }))
            }
        }
        pieces.push(Piece {
            pa: t.pa,
            pas: t.pas,
            range: done..done + n,
        });
        done += n;
    }
    Ok(pieces)
}

/// A realm's data access to `buf.len()` bytes at `ipa`: translates every page the access
/// touches ([`walk`] with [`Access::Write`] or [`Access::Read`]), then reads into `buf`
/// or writes `buf` through each output PAS (Realm, or Non-secure for an NS leaf). All
/// translations and granule protection checks happen before any byte moves, so a
/// faulting access has no effect. Returns the first fault instead of panicking.
pub fn access(
    mem: &PhysMem,
    cfg: &S2Config,
    ipa: u64,
    buf: &mut [u8],
    write: bool,
) -> Result<(), AccessFault> {
    if write {
        write_ipa(mem, cfg, ipa, buf)
    } else {
        read_ipa(mem, cfg, ipa, buf)
    }
}

/// A realm's read of `buf.len()` bytes at `ipa` (see [`access`]).
pub fn read_ipa(
    mem: &PhysMem,
    cfg: &S2Config,
    ipa: u64,
    buf: &mut [u8],
) -> Result<(), AccessFault> {
    access_with(mem, ipa, buf, false, |at, a| walk(mem, cfg, at, a))
}

/// A realm's write of `buf` at `ipa` (see [`access`]).
pub fn write_ipa(mem: &PhysMem, cfg: &S2Config, ipa: u64, buf: &[u8]) -> Result<(), AccessFault> {
    let pieces = translate_range(mem, ipa, buf.len(), Access::Write, |at, a| {
        walk(mem, cfg, at, a)
    })?;
    for p in pieces {
        mem.write(PhysAddr(p.pa), p.pas, &buf[p.range])
            .map_err(AccessFault::Gpf)?;
    }
    Ok(())
}

/// [`access`] with the translation of each page made by `translate` (the TLB, or a
/// walk), with the same ordering: every page translated and checked before any byte
/// moves.
pub(crate) fn access_with(
    mem: &PhysMem,
    ipa: u64,
    buf: &mut [u8],
    write: bool,
    translate: impl FnMut(u64, Access) -> Result<Translation, S2Fault>,
) -> Result<(), AccessFault> {
    let access = if write { Access::Write } else { Access::Read };
    for p in translate_range(mem, ipa, buf.len(), access, translate)? {
        if write {
            mem.write(PhysAddr(p.pa), p.pas, &buf[p.range])
        } else {
            mem.read(PhysAddr(p.pa), p.pas, &mut buf[p.range])
        }
        .map_err(AccessFault::Gpf)?;
    }
    Ok(())
}
