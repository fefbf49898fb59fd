//! REC exit records (DEN0137 1.0, A4.3): on an exit every field is zero unless the spec
//! says otherwise; these helpers set exactly the fields each exit allows.

use rmi_abi::enums::{RmiRecExitReason, RmiRipas};
use rmi_abi::RmiRecExit;
use zerocopy::IntoBytes;

use super::RunCtx;

/// Makes `exit` an all-zero record before a run, writing only its fields.
///
/// The record lives in the CPU's scratch memory, which starts zeroed, and nothing in
/// the RMM writes its reserved bytes (they are private to `rmi_abi`; the RMM only sets
/// fields): they are still zero from the start. Of the fields, those that every run
/// sets before the record goes to the host (the GIC and timer fields,
/// `Rmm::finish_exit`) are not cleared here. Debug builds clear those too and check
/// the whole record.
pub(super) fn clear(exit: &mut RmiRecExit) {
    exit.exit_reason = 0;
    exit.esr = 0;
    exit.far = 0;
    exit.hpfar = 0;
    exit.gprs = [0; 31];
    exit.ripas_base = 0;
    exit.ripas_top = 0;
    exit.ripas_value = 0;
    exit.imm = 0;
    exit.pmu_ovf_status = 0;
    if cfg!(debug_assertions) {
        exit.gicv3_hcr = 0;
        exit.gicv3_lrs = [0; 16];
        exit.gicv3_misr = 0;
        exit.gicv3_vmcr = 0;
        exit.cntp_ctl = 0;
        exit.cntp_cval = 0;
        exit.cntv_ctl = 0;
        exit.cntv_cval = 0;
        debug_assert!(
            exit.as_bytes().iter().all(|&b| b == 0),
            "a reserved byte of the exit record was written"
        );
    }
}

/// ESR_EL2 fields (Arm ARM, ESR_EL2).
pub mod esr {
    /// Exception class [31:26].
    pub const EC_MASK: u64 = 0x3F << 26;
    /// Instruction length [25].
    pub const IL: u64 = 1 << 25;
    /// Instruction syndrome valid [24].
    pub const ISV: u64 = 1 << 24;
    /// Syndrome access size [23:22].
    pub const SAS_MASK: u64 = 3 << 22;
    /// Syndrome sign extend [21].
    pub const SSE: u64 = 1 << 21;
    /// Syndrome register transfer [20:16].
    pub const SRT_SHIFT: u32 = 16;
    /// Sixty-four-bit register [15].
    pub const SF: u64 = 1 << 15;
    /// Synchronous error type [12:11].
    pub const SET_MASK: u64 = 3 << 11;
    /// FAR not valid [10].
    pub const FNV: u64 = 1 << 10;
    /// External abort [9].
    pub const EA: u64 = 1 << 9;
    /// Write not read [6].
    pub const WNR: u64 = 1 << 6;
    /// Data/instruction fault status code [5:0].
    pub const FSC_MASK: u64 = 0x3F;
    /// Trapped instruction type for WFx [1:0] (WFI 00, WFE 01, WFIT 10, WFET 11).
    pub const TI_MASK: u64 = 3;
    /// SError ISS (Arm ARM, "ISS encoding for an SError exception"): IDS [24], the
    /// ISS [23:0] is IMPLEMENTATION DEFINED syndrome.
    pub const IDS: u64 = 1 << 24;
    /// SError ISS: asynchronous error type [12:10] (with IDS 0).
    pub const AET_MASK: u64 = 7 << 10;
}

impl RunCtx<'_> {
    fn set_reason(&mut self, r: RmiRecExitReason) {
        self.exit.exit_reason = r.raw();
    }

    /// DEN0137 1.0, A4.3.4.1: REC exit due to WFI or WFE (EC and TI only).
    pub fn exit_wfx(&mut self, esr_el2: u64) {
        self.set_reason(RmiRecExitReason::Sync);
        self.exit.esr = esr_el2 & (esr::EC_MASK | esr::TI_MASK);
    }

    /// DEN0137 1.0, A4.3.4.3: REC exit due to an emulatable data abort: EC, SET, FnV,
    /// EA, DFSC, ISV, SAS, SF, WnR; FAR within the granule; HPFAR; the value written in
    /// gprs[0] for a store.
    pub fn exit_emulatable_abort(&mut self, esr_el2: u64, far: u64, hpfar: u64, written: u64) {
        self.set_reason(RmiRecExitReason::Sync);
        let keep = esr::EC_MASK
            | esr::SET_MASK
            | esr::FNV
            | esr::EA
            | esr::FSC_MASK
            | esr::ISV
            | esr::SAS_MASK
            | esr::SF
            | esr::WNR;
        self.exit.esr = esr_el2 & keep;
        self.exit.far = far & 0xFFF;
        self.exit.hpfar = hpfar;
        if esr_el2 & esr::WNR != 0 {
            self.exit.gprs[0] = written;
        }
    }

    /// DEN0137 1.0, A4.3.4.3: REC exit due to a non-emulatable data abort: EC, SET,
    /// FnV, EA, DFSC (and IL at an unprotected IPA); HPFAR.
    pub fn exit_abort(&mut self, esr_el2: u64, hpfar: u64, unprotected: bool) {
        self.set_reason(RmiRecExitReason::Sync);
        let mut keep = esr::EC_MASK | esr::SET_MASK | esr::FNV | esr::EA | esr::FSC_MASK;
        if unprotected {
            keep |= esr::IL;
        }
        self.exit.esr = esr_el2 & keep;
        self.exit.hpfar = hpfar;
    }

    /// DEN0137 1.0, A4.3.5/A4.3.6: REC exit due to IRQ or FIQ (ESR zero).
    pub fn exit_interrupt(&mut self, fiq: bool) {
        self.set_reason(if fiq {
            RmiRecExitReason::Fiq
        } else {
            RmiRecExitReason::Irq
        });
    }

    /// DEN0137 1.0, A4.3.10 (RLRCFP): REC exit due to SError: exit.esr holds EC,
    /// ISS.IDS, ISS.AET, ISS.EA and ISS.DFSC of ESR_EL2, and nothing else (IL, IESB and
    /// the RES0 or later-architecture bits are zero). With IDS set, ISS [23:0] is
    /// IMPLEMENTATION DEFINED syndrome: the AET, EA and DFSC fields do not exist in that
    /// encoding, so only EC and IDS are reported (the PE's own error syndrome is not the
    /// host's to see through the realm's exit).
    pub fn exit_serror(&mut self, esr_el2: u64) {
        self.set_reason(RmiRecExitReason::Serror);
        let keep = if esr_el2 & esr::IDS != 0 {
            esr::EC_MASK | esr::IDS
        } else {
            esr::EC_MASK | esr::AET_MASK | esr::EA | esr::FSC_MASK
        };
        self.exit.esr = esr_el2 & keep;
    }

    /// A REC exit due to a data abort the RMM met on the realm's behalf, accessing an
    /// RSI buffer at `ipa` that is not mapped: a stage-2 translation fault at `level`
    /// (ESR data abort, DFSC translation fault), HPFAR of the IPA. The realm's SMC is
    /// not complete; it is retried when the host enters the REC again.
    pub fn exit_rsi_stage2_fault(&mut self, ipa: u64, level: i8) {
        self.set_reason(RmiRecExitReason::Sync);
        self.exit.esr = 0x24 << 26 | esr::IL | (0b00_0100 | (level as u64 & 3));
        self.exit.hpfar = (ipa >> 12) << 4;
    }

    /// DEN0137 1.0, A4.5: REC exit due to a host call: the immediate and x0..x30 from
    /// the realm's RsiHostCall structure.
    pub fn exit_host_call(&mut self, imm: u16, gprs: &[u64; 31]) {
        self.set_reason(RmiRecExitReason::HostCall);
        self.exit.imm = imm;
        self.exit.gprs = *gprs;
    }

    /// DEN0137 1.0, A4.3.7 and A4.3.3: REC exit due to PSCI: `gprs[0]` the PSCI FID,
    /// `gprs[1..=3]` the call's arguments (zero where the call has fewer than three);
    /// nothing else.
    pub fn exit_psci(&mut self, fid: u64, args: [u64; 3]) {
        self.set_reason(RmiRecExitReason::Psci);
        self.exit.gprs[0] = fid;
        self.exit.gprs[1..4].copy_from_slice(&args);
    }

    /// DEN0137 1.0, A4.3.8: REC exit due to RIPAS change pending: the requested region
    /// `[base, top)` and RIPAS; nothing else.
    pub fn exit_ripas_change(&mut self, base: u64, top: u64, ripas: RmiRipas) {
        self.set_reason(RmiRecExitReason::RipasChange);
        self.exit.ripas_base = base;
        self.exit.ripas_top = top;
        self.exit.ripas_value = ripas.raw();
    }
}
