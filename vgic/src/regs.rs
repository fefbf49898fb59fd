//! Typed layouts of the GICv3 virtual-interface control registers.
//!
//! Field positions are those of the GICv3 architecture (Arm IHI 0069, chapter 12,
//! "ICH_* register descriptions"). Values are held in
//! [`LocalRegisterCopy`]s so that code reads fields by name instead of masks.

use tock_registers::{LocalRegisterCopy, RegisterLongName};

// The macro generates `SET`/`CLEAR` constants and `Register` marker types that
// carry no documentation of their own; every field below is documented.
#[allow(missing_docs)]
mod fields {
    use tock_registers::register_bitfields;

    register_bitfields! {u64,
        /// GICv3 architecture, `ICH_LR<n>_EL2` (Interrupt Controller List Registers).
        pub ICH_LR_EL2 [
            /// vINTID [31:0]: virtual INTID of the interrupt.
            vINTID OFFSET(0) NUMBITS(32) [],
            /// pINTID [44:32]: physical INTID when HW == 1; with HW == 0 only
            /// bit 41 (EOI) is defined and the rest is RES0.
            pINTID OFFSET(32) NUMBITS(13) [],
            /// EOI, bit 41 (HW == 0 only): request an EOI maintenance interrupt
            /// when the interrupt is deactivated.
            EOI OFFSET(41) NUMBITS(1) [],
            /// Priority [55:48]; unimplemented low-order bits are RES0.
            Priority OFFSET(48) NUMBITS(8) [],
            /// Group, bit 60: 0 = virtual Group 0, 1 = virtual Group 1.
            Group OFFSET(60) NUMBITS(1) [
                /// Virtual Group 0 (signalled as vFIQ).
                Group0 = 0,
                /// Virtual Group 1 (signalled as vIRQ).
                Group1 = 1
            ],
            /// HW, bit 61: the virtual interrupt is linked to a physical one.
            HW OFFSET(61) NUMBITS(1) [],
            /// State [63:62].
            State OFFSET(62) NUMBITS(2) [
                /// 0b00: Invalid (inactive).
                Invalid = 0,
                /// 0b01: Pending.
                Pending = 1,
                /// 0b10: Active.
                Active = 2,
                /// 0b11: Pending and active.
                PendingActive = 3
            ]
        ],

        /// GICv3 architecture, ICH_HCR_EL2 (Interrupt Controller Hyp Control Register).
        pub ICH_HCR_EL2 [
            /// En, bit 0: enable the virtual CPU interface.
            En OFFSET(0) NUMBITS(1) [],
            /// UIE, bit 1: underflow maintenance interrupt enable.
            UIE OFFSET(1) NUMBITS(1) [],
            /// LRENPIE, bit 2: List Register Entry Not Present interrupt enable.
            LRENPIE OFFSET(2) NUMBITS(1) [],
            /// NPIE, bit 3: No Pending maintenance interrupt enable.
            NPIE OFFSET(3) NUMBITS(1) [],
            /// VGrp0EIE, bit 4: virtual Group 0 enabled interrupt enable.
            VGrp0EIE OFFSET(4) NUMBITS(1) [],
            /// VGrp0DIE, bit 5: virtual Group 0 disabled interrupt enable.
            VGrp0DIE OFFSET(5) NUMBITS(1) [],
            /// VGrp1EIE, bit 6: virtual Group 1 enabled interrupt enable.
            VGrp1EIE OFFSET(6) NUMBITS(1) [],
            /// VGrp1DIE, bit 7: virtual Group 1 disabled interrupt enable.
            VGrp1DIE OFFSET(7) NUMBITS(1) [],
            /// vSGIEOICount, bit 8 (GICv4.1): deactivations of vSGIs do not
            /// increment EOIcount.
            vSGIEOICount OFFSET(8) NUMBITS(1) [],
            /// TC, bit 10: trap common (group-agnostic) ICV_* accesses to EL2.
            TC OFFSET(10) NUMBITS(1) [],
            /// TALL0, bit 11: trap Group 0 ICV_* accesses to EL2.
            TALL0 OFFSET(11) NUMBITS(1) [],
            /// TALL1, bit 12: trap Group 1 ICV_* accesses to EL2.
            TALL1 OFFSET(12) NUMBITS(1) [],
            /// TSEI, bit 13: trap locally generated SEIs.
            TSEI OFFSET(13) NUMBITS(1) [],
            /// TDIR, bit 14: trap EL1 writes to ICC_DIR_EL1/ICV_DIR_EL1.
            TDIR OFFSET(14) NUMBITS(1) [],
            /// DVIM, bit 15 (GICv4.1): directly-injected vLPI mask.
            DVIM OFFSET(15) NUMBITS(1) [],
            /// EOIcount [31:27]: EOIs/deactivations with no matching List register.
            EOIcount OFFSET(27) NUMBITS(5) []
        ],

        /// GICv3 architecture, ICH_VMCR_EL2 (Interrupt Controller Virtual Machine
        /// Control Register): the realm's view of ICV_PMR/BPR/CTLR/IGRPEN.
        pub ICH_VMCR_EL2 [
            /// VENG0, bit 0: virtual Group 0 enable (ICV_IGRPEN0_EL1.Enable).
            VENG0 OFFSET(0) NUMBITS(1) [],
            /// VENG1, bit 1: virtual Group 1 enable (ICV_IGRPEN1_EL1.Enable).
            VENG1 OFFSET(1) NUMBITS(1) [],
            /// VAckCtl, bit 2 (legacy, RES0 with system-register access).
            VAckCtl OFFSET(2) NUMBITS(1) [],
            /// VFIQEn, bit 3 (legacy, RES1 with system-register access).
            VFIQEn OFFSET(3) NUMBITS(1) [],
            /// VCBPR, bit 4: ICV_CTLR_EL1.CBPR (Group 1 uses the Group 0 binary point).
            VCBPR OFFSET(4) NUMBITS(1) [],
            /// VEOIM, bit 9: ICV_CTLR_EL1.EOImode (split priority drop / deactivate).
            VEOIM OFFSET(9) NUMBITS(1) [],
            /// VBPR1 [20:18]: ICV_BPR1_EL1.
            VBPR1 OFFSET(18) NUMBITS(3) [],
            /// VBPR0 [23:21]: ICV_BPR0_EL1.
            VBPR0 OFFSET(21) NUMBITS(3) [],
            /// VPMR [31:24]: ICV_PMR_EL1 priority mask.
            VPMR OFFSET(24) NUMBITS(8) []
        ],

        /// GICv3 architecture, ICH_MISR_EL2 (Maintenance Interrupt State Register).
        pub ICH_MISR_EL2 [
            /// EOI, bit 0: some bit of ICH_EISR_EL2 is set.
            EOI OFFSET(0) NUMBITS(1) [],
            /// U, bit 1: UIE and at most one List register holds a valid interrupt.
            U OFFSET(1) NUMBITS(1) [],
            /// LRENP, bit 2: LRENPIE and EOIcount != 0.
            LRENP OFFSET(2) NUMBITS(1) [],
            /// NP, bit 3: NPIE and no List register is in the pending state.
            NP OFFSET(3) NUMBITS(1) [],
            /// VGrp0E, bit 4: VGrp0EIE and VMCR.VENG0 == 1.
            VGrp0E OFFSET(4) NUMBITS(1) [],
            /// VGrp0D, bit 5: VGrp0DIE and VMCR.VENG0 == 0.
            VGrp0D OFFSET(5) NUMBITS(1) [],
            /// VGrp1E, bit 6: VGrp1EIE and VMCR.VENG1 == 1.
            VGrp1E OFFSET(6) NUMBITS(1) [],
            /// VGrp1D, bit 7: VGrp1DIE and VMCR.VENG1 == 0.
            VGrp1D OFFSET(7) NUMBITS(1) []
        ],

        /// GICv3 architecture, ICH_VTR_EL2 (Interrupt Controller VGIC Type Register).
        pub ICH_VTR_EL2 [
            /// ListRegs [4:0]: number of implemented List registers, minus one.
            ListRegs OFFSET(0) NUMBITS(5) [],
            /// IDbits [25:23]: 0b000 = 16-bit vINTIDs, 0b001 = 24-bit; others reserved.
            IDbits OFFSET(23) NUMBITS(3) [],
            /// PREbits [28:26]: number of virtual preemption bits, minus one.
            PREbits OFFSET(26) NUMBITS(3) [],
            /// PRIbits [31:29]: number of virtual priority bits, minus one.
            PRIbits OFFSET(29) NUMBITS(3) []
        ],

        /// GICv3 architecture, ICC_CTLR_EL1 (Interrupt Controller Control Register),
        /// only the field the RMM needs.
        pub ICC_CTLR_EL1 [
            /// ExtRange, bit 19: the CPU interface supports the extended INTID
            /// ranges (EPPI 1056..=1119, ESPI 4096..=5119).
            ExtRange OFFSET(19) NUMBITS(1) []
        ]
    }
}

pub use fields::{ICC_CTLR_EL1, ICH_HCR_EL2, ICH_LR_EL2, ICH_MISR_EL2, ICH_VMCR_EL2, ICH_VTR_EL2};

/// GICv3 architecture, `ICH_LR<n>_EL2`: a List register value.
pub type ListRegister = LocalRegisterCopy<u64, ICH_LR_EL2::Register>;
/// GICv3 architecture, ICH_HCR_EL2 value.
pub type Hcr = LocalRegisterCopy<u64, ICH_HCR_EL2::Register>;
/// GICv3 architecture, ICH_VMCR_EL2 value.
pub type Vmcr = LocalRegisterCopy<u64, ICH_VMCR_EL2::Register>;
/// GICv3 architecture, ICH_MISR_EL2 value.
pub type Misr = LocalRegisterCopy<u64, ICH_MISR_EL2::Register>;
/// GICv3 architecture, ICH_VTR_EL2 value.
pub type Vtr = LocalRegisterCopy<u64, ICH_VTR_EL2::Register>;
/// GICv3 architecture, ICC_CTLR_EL1 value.
pub type IccCtlr = LocalRegisterCopy<u64, ICC_CTLR_EL1::Register>;

/// In-place mask of a register field (`mask << shift`), usable in constants.
const fn bits<R: RegisterLongName>(field: tock_registers::fields::Field<u64, R>) -> u64 {
    field.mask << field.shift
}

/// DEN0137 1.0, RMI_REC_ENTER, gicv3_hcr: the ICH_HCR_EL2 bits the host may
/// set (UIE, LRENPIE, NPIE, VGrp0EIE, VGrp0DIE, VGrp1EIE, VGrp1DIE, TDIR).
pub const HCR_HOST_MASK: u64 = bits(ICH_HCR_EL2::UIE)
    | bits(ICH_HCR_EL2::LRENPIE)
    | bits(ICH_HCR_EL2::NPIE)
    | bits(ICH_HCR_EL2::VGrp0EIE)
    | bits(ICH_HCR_EL2::VGrp0DIE)
    | bits(ICH_HCR_EL2::VGrp1EIE)
    | bits(ICH_HCR_EL2::VGrp1DIE)
    | bits(ICH_HCR_EL2::TDIR);

/// DEN0137 1.0, RmiRecExit.gicv3_hcr: the ICH_HCR_EL2 bits reported to the host
/// on REC exit (the host-writable bits plus EOIcount).
pub const HCR_EXIT_MASK: u64 = HCR_HOST_MASK | bits(ICH_HCR_EL2::EOIcount);

/// DEN0137 1.0, RMI_REC_CREATE: ICH_HCR_EL2 value of a new REC, En |
/// vSGIEOICount | DVIM (interface enabled, no vSGI EOI counting, no direct
/// vLPI injection).
pub const HCR_REC_TEMPLATE: u64 =
    bits(ICH_HCR_EL2::En) | bits(ICH_HCR_EL2::vSGIEOICount) | bits(ICH_HCR_EL2::DVIM);

/// GICv3 architecture, ICH_HCR_EL2.En bit.
pub const HCR_EN: u64 = bits(ICH_HCR_EL2::En);

/// GICv3 architecture, `ICH_LR<n>_EL2` pINTID bits that must be zero when HW == 0
/// (the whole pINTID field except EOI, bit 41).
pub const LR_PINTID_RES0_HW0: u64 = bits(ICH_LR_EL2::pINTID) & !bits(ICH_LR_EL2::EOI);

// The template and the host mask never overlap, and the exit mask never
// reports En, the trap controls or the GICv4.1 controls.
const _: () = assert!(HCR_HOST_MASK & HCR_REC_TEMPLATE == 0);
const _: () = assert!(HCR_HOST_MASK == 0x40fe);
const _: () = assert!(HCR_EXIT_MASK == 0xf800_40fe);
const _: () = assert!(HCR_REC_TEMPLATE == 0x8101);
const _: () = assert!(LR_PINTID_RES0_HW0 == 0x1dff_0000_0000);
