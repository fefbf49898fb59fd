//! Byte positions of every field of the host-shared structures, checked by writing
//! through the struct and reading the byte image (DEN0137 1.0 tables B4.4.12, B4.4.14,
//! B4.4.16, B4.4.19, B4.4.20). Every byte not named below must stay zero.

use rmi_abi::*;
use zerocopy::{FromBytes, FromZeros, IntoBytes};

/// Expected image: writes `bytes` at `off` into a zeroed buffer of `N` bytes.
struct Image<const N: usize>([u8; N]);

impl<const N: usize> Image<N> {
    fn new() -> Self {
        Self([0; N])
    }
    fn put(&mut self, off: usize, bytes: &[u8]) -> &mut Self {
        self.0[off..off + bytes.len()].copy_from_slice(bytes);
        self
    }
    fn u64(&mut self, off: usize, v: u64) -> &mut Self {
        self.put(off, &v.to_le_bytes())
    }
}

fn tag(off: usize) -> u64 {
    0xA5A5_0000_0000_0000 | off as u64
}

#[test]
fn realm_params_offsets() {
    let mut p = RmiRealmParams::new_zeroed();
    p.flags = tag(0);
    p.s2sz = 0x11;
    p.sve_vl = 0x12;
    p.num_bps = 0x13;
    p.num_wps = 0x14;
    p.pmu_num_ctrs = 0x15;
    p.hash_algo = 0x16;
    p.rpv = core::array::from_fn(|i| 0x80 | i as u8);
    p.vmid = 0xBEEF;
    p.rtt_base = tag(0x808);
    p.rtt_level_start = -1;
    p.rtt_num_start = 0x0102_0304;

    let mut e = Image::<4096>::new();
    e.u64(0, tag(0))
        .put(0x8, &[0x11])
        .put(0x10, &[0x12])
        .put(0x18, &[0x13])
        .put(0x20, &[0x14])
        .put(0x28, &[0x15])
        .put(0x30, &[0x16])
        .put(0x400, &p.rpv)
        .put(0x800, &[0xEF, 0xBE])
        .u64(0x808, tag(0x808))
        .u64(0x810, u64::MAX)
        .put(0x818, &[4, 3, 2, 1]);
    assert_eq!(p.as_bytes(), &e.0[..]);
    assert_eq!(p.rpv[63], 0xBF);
    assert_eq!(e.0[0x43F], 0xBF);
    assert!(p.padding_is_zero());

    let back = RmiRealmParams::read_from_bytes(&e.0[..]).unwrap();
    assert_eq!(back, p);
}

#[test]
fn realm_params_measured_image_keeps_only_measured_fields() {
    let mut e = Image::<4096>::new();
    e.0.iter_mut()
        .enumerate()
        .for_each(|(i, b)| *b = i as u8 | 1);
    let p = RmiRealmParams::read_from_bytes(&e.0[..]).unwrap();
    assert!(!p.padding_is_zero());
    let m = p.measured_image();
    let mut want = Image::<4096>::new();
    want.put(0, &e.0[0..8]);
    for off in [0x8, 0x10, 0x18, 0x20, 0x28, 0x30] {
        want.put(off, &e.0[off..off + 1]);
    }
    assert_eq!(m.as_bytes(), &want.0[..]);
}

#[test]
fn rec_params_offsets() {
    let mut p = RmiRecParams::new_zeroed();
    p.flags = tag(0);
    p.mpidr = tag(0x100);
    p.pc = tag(0x200);
    p.gprs = core::array::from_fn(|i| tag(0x300 + 8 * i));
    p.num_aux = tag(0x800);
    p.aux = core::array::from_fn(|i| tag(0x808 + 8 * i));

    let mut e = Image::<4096>::new();
    e.u64(0, tag(0))
        .u64(0x100, tag(0x100))
        .u64(0x200, tag(0x200));
    for i in 0..REC_PARAMS_GPRS {
        e.u64(0x300 + 8 * i, tag(0x300 + 8 * i));
    }
    e.u64(0x800, tag(0x800));
    for i in 0..REC_PARAMS_AUX_GRANULES_MAX {
        e.u64(0x808 + 8 * i, tag(0x808 + 8 * i));
    }
    assert_eq!(p.as_bytes(), &e.0[..]);
    // Last aux entry ends at 0x888.
    assert_eq!(&p.as_bytes()[0x880..0x888], &tag(0x880).to_le_bytes());
    assert!(p.padding_is_zero());

    let m = p.measured_image();
    let mut want = Image::<4096>::new();
    want.u64(0, tag(0)).u64(0x200, tag(0x200));
    for i in 0..REC_PARAMS_GPRS {
        want.u64(0x300 + 8 * i, tag(0x300 + 8 * i));
    }
    assert_eq!(m.as_bytes(), &want.0[..]);
}

fn enter_sample() -> (RmiRecEnter, Image<2048>) {
    let mut r = RmiRecEnter::new_zeroed();
    r.flags = tag(0);
    r.gprs = core::array::from_fn(|i| tag(0x200 + 8 * i));
    r.gicv3_hcr = tag(0x300);
    r.gicv3_lrs = core::array::from_fn(|i| tag(0x308 + 8 * i));
    let mut e = Image::<2048>::new();
    e.u64(0, tag(0)).u64(0x300, tag(0x300));
    for i in 0..REC_RUN_GPRS {
        e.u64(0x200 + 8 * i, tag(0x200 + 8 * i));
    }
    for i in 0..REC_GIC_NUM_LRS {
        e.u64(0x308 + 8 * i, tag(0x308 + 8 * i));
    }
    (r, e)
}

#[test]
fn rec_enter_offsets() {
    let (r, e) = enter_sample();
    assert_eq!(r.as_bytes(), &e.0[..]);
    assert_eq!(&r.as_bytes()[0x2F0..0x2F8], &tag(0x2F0).to_le_bytes()); // gprs[30]
    assert_eq!(&r.as_bytes()[0x380..0x388], &tag(0x380).to_le_bytes()); // gicv3_lrs[15]
}

fn exit_sample() -> (RmiRecExit, Image<2048>) {
    let mut x = RmiRecExit::new_zeroed();
    x.exit_reason = 0x5A;
    x.esr = tag(0x100);
    x.far = tag(0x108);
    x.hpfar = tag(0x110);
    x.gprs = core::array::from_fn(|i| tag(0x200 + 8 * i));
    x.gicv3_hcr = tag(0x300);
    x.gicv3_lrs = core::array::from_fn(|i| tag(0x308 + 8 * i));
    x.gicv3_misr = tag(0x388);
    x.gicv3_vmcr = tag(0x390);
    x.cntp_ctl = tag(0x400);
    x.cntp_cval = tag(0x408);
    x.cntv_ctl = tag(0x410);
    x.cntv_cval = tag(0x418);
    x.ripas_base = tag(0x500);
    x.ripas_top = tag(0x508);
    x.ripas_value = 0x5B;
    x.imm = 0xCAFE;
    x.pmu_ovf_status = 0x5C;

    let mut e = Image::<2048>::new();
    e.put(0, &[0x5A]);
    for off in [
        0x100, 0x108, 0x110, 0x300, 0x388, 0x390, 0x400, 0x408, 0x410, 0x418,
    ] {
        e.u64(off, tag(off));
    }
    for i in 0..REC_RUN_GPRS {
        e.u64(0x200 + 8 * i, tag(0x200 + 8 * i));
    }
    for i in 0..REC_GIC_NUM_LRS {
        e.u64(0x308 + 8 * i, tag(0x308 + 8 * i));
    }
    e.u64(0x500, tag(0x500))
        .u64(0x508, tag(0x508))
        .put(0x510, &[0x5B])
        .put(0x600, &[0xFE, 0xCA])
        .put(0x700, &[0x5C]);
    (x, e)
}

#[test]
fn rec_exit_offsets() {
    let (x, e) = exit_sample();
    assert_eq!(x.as_bytes(), &e.0[..]);
    // imm is 16 bits: byte 0x602 stays zero.
    assert_eq!(x.as_bytes()[0x602], 0);
    assert_eq!(&x.as_bytes()[0x380..0x388], &tag(0x380).to_le_bytes());
}

#[test]
fn rec_run_is_enter_then_exit() {
    let (enter, ee) = enter_sample();
    let (exit, xe) = exit_sample();
    let run = RmiRecRun { enter, exit };
    let mut e = Image::<4096>::new();
    e.put(0, &ee.0).put(0x800, &xe.0);
    assert_eq!(run.as_bytes(), &e.0[..]);
    // exit.exit_reason at 0x800, exit.imm at 0xE00 of the granule.
    assert_eq!(run.as_bytes()[0x800], 0x5A);
    assert_eq!(&run.as_bytes()[0xE00..0xE02], &[0xFE, 0xCA]);
    let back = RmiRecRun::read_from_bytes(&e.0[..]).unwrap();
    assert_eq!(back, run);
}

#[test]
fn defaults_are_zero() {
    assert!(RmiRealmParams::default().as_bytes().iter().all(|&b| b == 0));
    assert!(RmiRecParams::default().as_bytes().iter().all(|&b| b == 0));
    assert!(RmiRecRun::default().as_bytes().iter().all(|&b| b == 0));
    assert_eq!(GRANULE_SIZE, 4096);
    assert_eq!(RPV_SIZE, 64);
    assert_eq!((REC_RUN_GPRS, REC_GIC_NUM_LRS), (31, 16));
    assert_eq!((REC_PARAMS_GPRS, REC_PARAMS_AUX_GRANULES_MAX), (8, 16));
}
