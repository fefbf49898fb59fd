//! SHA-256 and SHA-512 (FIPS 180-4) for the Realm Hash Algorithm: the message padding
//! and length, the output, and the choice of block compression function.
//!
//! The compression function is the CPU's SHA-2 instructions where ID_AA64ISAR0_EL1
//! reports them (FEAT_SHA256, FEAT_SHA512: [`platform::Arch::sha256_blocks`],
//! [`platform::Arch::sha512_blocks`]) and they pass [`self_test`] at cold boot, else
//! portable code ([`Software`]: [`platform::sha::compress256`],
//! [`platform::sha::compress512`]). Either way the same [`Hasher`] drives it, so the
//! two paths differ only in the compression of whole blocks, and whole blocks of the
//! input are handed over in one call, straight from the caller's bytes.

use platform::sha::{Block256, Block512, Sha2Isa, H256, H512};
use platform::{Arch, LiveVectors};

use crate::cpu_features::CpuFeatures;
use crate::measurement::MeasurementAlgo;

/// A SHA-256 and SHA-512 block compression function (FIPS 180-4, 6.2.2 and 6.4.2,
/// steps 1-4 for each block, in order).
pub trait Compress {
    /// SHA-256 over `blocks` into `state`.
    fn compress256(&self, state: &mut [u32; 8], blocks: &[Block256]);
    /// SHA-512 over `blocks` into `state`.
    fn compress512(&self, state: &mut [u64; 8], blocks: &[Block512]);
}

/// The portable compression function.
#[derive(Clone, Copy, Debug, Default)]
pub struct Software;

impl Compress for Software {
    fn compress256(&self, state: &mut [u32; 8], blocks: &[Block256]) {
        platform::sha::compress256(state, blocks)
    }

    fn compress512(&self, state: &mut [u64; 8], blocks: &[Block512]) {
        platform::sha::compress512(state, blocks)
    }
}

/// The RMM's compression function: the CPU's SHA-2 instructions where the RMM chose
/// them at boot ([`CpuFeatures::sha2`]), else [`Software`].
#[derive(Clone, Copy)]
pub struct Engine<'a, A: Arch> {
    arch: &'a A,
    isa: Sha2Isa,
    live: LiveVectors,
}

impl<'a, A: Arch> Engine<'a, A> {
    /// The engine for a CPU with `features`: the Z registers are kept in full on a CPU
    /// with FEAT_SVE (their bits above 127 are the Normal world's state too, SMCCC 1.3).
    pub fn new(arch: &'a A, features: &CpuFeatures) -> Self {
        Self {
            arch,
            isa: features.sha2,
            live: if features.sve {
                LiveVectors::SveZ
            } else {
                LiveVectors::V128
            },
        }
    }
}

impl<A: Arch> Compress for Engine<'_, A> {
    fn compress256(&self, state: &mut [u32; 8], blocks: &[Block256]) {
        if self.isa.sha256() {
            self.arch.sha256_blocks(self.live, state, blocks)
        } else {
            Software.compress256(state, blocks)
        }
    }

    fn compress512(&self, state: &mut [u64; 8], blocks: &[Block512]) {
        if self.isa.sha512() {
            self.arch.sha512_blocks(self.live, state, blocks)
        } else {
            Software.compress512(state, blocks)
        }
    }
}

/// SHA-256 or SHA-512 block size in bytes.
const fn block_size(algo: MeasurementAlgo) -> usize {
    match algo {
        MeasurementAlgo::Sha256 => 64,
        MeasurementAlgo::Sha512 => 128,
    }
}

/// The hash value being computed.
#[derive(Clone, Copy)]
enum State {
    Sha256([u32; 8]),
    Sha512([u64; 8]),
}

/// Zero bytes fed to a hash in chunks ([`Hasher::update_zeros`]): a whole number of
/// blocks of either algorithm.
static ZEROS: [u8; 1024] = [0; 1024];

const _: () = assert!(ZEROS.len().is_multiple_of(128));

/// A SHA-256 or SHA-512 computation (FIPS 180-4) over a compression function `C`.
pub struct Hasher<'c, C: Compress> {
    c: &'c C,
    state: State,
    /// A block not yet complete: `buf[..buf_len]`.
    buf: [u8; 128],
    buf_len: usize,
    /// Message bytes so far.
    len: u64,
}

impl<'c, C: Compress> Hasher<'c, C> {
    /// A new computation with `algo`, from H(0) (FIPS 180-4, 5.3.3, 5.3.5).
    pub fn new(c: &'c C, algo: MeasurementAlgo) -> Self {
        Self {
            c,
            state: match algo {
                MeasurementAlgo::Sha256 => State::Sha256(H256),
                MeasurementAlgo::Sha512 => State::Sha512(H512),
            },
            buf: [0; 128],
            buf_len: 0,
            len: 0,
        }
    }

    fn algo(&self) -> MeasurementAlgo {
        match self.state {
            State::Sha256(_) => MeasurementAlgo::Sha256,
            State::Sha512(_) => MeasurementAlgo::Sha512,
        }
    }

    /// Compresses whole blocks of `data` (its length a multiple of the block size).
    fn blocks(&mut self, data: &[u8]) {
        compress(self.c, &mut self.state, data);
    }

    /// Compresses the buffered block (full).
    fn flush(&mut self) {
        let bs = block_size(self.algo());
        compress(self.c, &mut self.state, &self.buf[..bs]);
        self.buf_len = 0;
    }

    /// Appends `data` to the message.
    pub fn update(&mut self, mut data: &[u8]) {
        let bs = block_size(self.algo());
        self.len += data.len() as u64;
        if self.buf_len > 0 {
            let take = (bs - self.buf_len).min(data.len());
            self.buf[self.buf_len..self.buf_len + take].copy_from_slice(&data[..take]);
            self.buf_len += take;
            data = &data[take..];
            if self.buf_len < bs {
                return;
            }
            self.flush();
        }
        let whole = data.len() - data.len() % bs;
        self.blocks(&data[..whole]);
        let rest = &data[whole..];
        self.buf[..rest.len()].copy_from_slice(rest);
        self.buf_len = rest.len();
    }

    /// Appends `n` zero bytes to the message: first what completes the buffered block,
    /// then block-aligned runs of [`ZEROS`], each one compression call.
    pub fn update_zeros(&mut self, mut n: usize) {
        if self.buf_len > 0 {
            let k = n.min(block_size(self.algo()) - self.buf_len);
            self.update(&ZEROS[..k]);
            n -= k;
        }
        while n > 0 {
            let k = n.min(ZEROS.len());
            self.update(&ZEROS[..k]);
            n -= k;
        }
    }

    /// Pads the message (FIPS 180-4, 5.1.1 and 5.1.2: a 1 bit, zeros, and the length in
    /// bits as a 64-bit or 128-bit big-endian integer, to a whole number of blocks),
    /// compresses the last blocks and returns the hash value H(N) as bytes (5.2: the
    /// words big-endian), in a 64-byte field zero past the digest (32 bytes for
    /// SHA-256).
    pub fn finalize(mut self) -> [u8; 64] {
        let bs = block_size(self.algo());
        let len_bytes = bs / 8; // 8 for SHA-256, 16 for SHA-512
        let bits = self.len.wrapping_mul(8);
        self.buf[self.buf_len] = 0x80;
        self.buf_len += 1;
        if self.buf_len > bs - len_bytes {
            self.buf[self.buf_len..bs].fill(0);
            self.flush();
        }
        self.buf[self.buf_len..bs - 8].fill(0);
        self.buf[bs - 8..bs].copy_from_slice(&bits.to_be_bytes());
        self.flush();
        output(&self.state).0
    }
}

/// Compresses whole blocks of `data` (its length a multiple of the block size) into
/// `state`.
fn compress<C: Compress>(c: &C, state: &mut State, data: &[u8]) {
    match state {
        State::Sha256(s) => {
            let (blocks, rest) = data.as_chunks::<64>();
            debug_assert!(rest.is_empty());
            c.compress256(s, blocks);
        }
        State::Sha512(s) => {
            let (blocks, rest) = data.as_chunks::<128>();
            debug_assert!(rest.is_empty());
            c.compress512(s, blocks);
        }
    }
}

/// A hash value as the bytes of a 64-byte `RmmRealmMeasurement` field, zero past the
/// digest, 8-byte aligned: the firmware's target has strict alignment, where stores
/// to a byte array the compiler cannot prove aligned are single bytes.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
pub struct Digest(pub [u8; 64]);

/// The hash value H(N) as bytes (FIPS 180-4, 5.2: the words big-endian), in a 64-byte
/// field zero past the digest (32 bytes for SHA-256).
fn output(state: &State) -> Digest {
    let mut out = Digest([0; 64]);
    match state {
        State::Sha256(s) => {
            for (o, w) in out.0.chunks_exact_mut(4).zip(s) {
                o.copy_from_slice(&w.to_be_bytes());
            }
        }
        State::Sha512(s) => {
            for (o, w) in out.0.chunks_exact_mut(8).zip(s) {
                o.copy_from_slice(&w.to_be_bytes());
            }
        }
    }
    out
}

/// Bytes [`digest_padded`] needs after the message: one SHA-512 block, which holds
/// the padding of either algorithm for a message of whole blocks.
pub const PAD_ROOM: usize = 128;

/// The hash with `algo` over `c` of the first `len` bytes of `buf`, zero past the
/// digest, in one compression call: `len` is a whole number of blocks of either
/// algorithm (a multiple of 128 bytes), and the [`PAD_ROOM`] bytes of `buf` after the
/// message take its padding (FIPS 180-4, 5.1.1 and 5.1.2: a message of whole blocks
/// gets one more block, a 1 bit, zeros and the length in bits), so that the blocks of
/// the message and the padding are compressed together, as [`Hasher`] would compress
/// them in two calls.
pub fn digest_padded<C: Compress>(
    c: &C,
    algo: MeasurementAlgo,
    buf: &mut [u8],
    len: usize,
) -> Digest {
    assert!(len.is_multiple_of(PAD_ROOM) && buf.len() >= len + PAD_ROOM);
    let bs = block_size(algo);
    let padded = &mut buf[..len + bs];
    let pad = &mut padded[len..];
    pad.fill(0);
    pad[0] = 0x80;
    // The length is below 2^64 bits: SHA-512's 128-bit field has its upper half zero.
    pad[bs - 8..].copy_from_slice(&(len as u64).wrapping_mul(8).to_be_bytes());
    let mut state = match algo {
        MeasurementAlgo::Sha256 => State::Sha256(H256),
        MeasurementAlgo::Sha512 => State::Sha512(H512),
    };
    compress(c, &mut state, padded);
    output(&state)
}

/// The hash of `data` with `algo` over `c`, zero past the digest.
pub fn digest<C: Compress>(c: &C, algo: MeasurementAlgo, data: &[u8]) -> [u8; 64] {
    let mut h = Hasher::new(c, algo);
    h.update(data);
    h.finalize()
}

/// FIPS 180-4's examples (NIST CSRC, "Example Algorithms": SHA-256 and SHA-512 of
/// "abc" and of the two-block messages), and a 64-block message (4096 zero bytes, fed
/// 1024 bytes per call: several blocks per compression call), whose digests were
/// computed outside Rust: `python3 -c 'import hashlib;
/// print(hashlib.sha256(bytes(4096)).hexdigest())'` (and `sha512`).
pub mod kat {
    /// "abc".
    pub const ABC: &[u8] = b"abc";
    /// The 448-bit message (SHA-256's two-block example).
    pub const MSG_448: &[u8] = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    /// The 896-bit message (SHA-512's two-block example).
    pub const MSG_896: &[u8] = b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    /// The 64-block message's length (zero bytes).
    pub const PAGE_LEN: usize = 4096;

    /// SHA-256("abc").
    pub const SHA256_ABC: [u8; 32] =
        hex32("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /// SHA-256 of the 448-bit message.
    pub const SHA256_448: [u8; 32] =
        hex32("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /// SHA-256 of the 64-block message.
    pub const SHA256_PAGE: [u8; 32] =
        hex32("ad7facb2586fc6e966c004d7d1d16b024f5805ff7cb47c7a85dabd8b48892ca7");
    /// SHA-512("abc").
    pub const SHA512_ABC: [u8; 64] = hex64("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
    /// SHA-512 of the 896-bit message.
    pub const SHA512_896: [u8; 64] = hex64("8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909");
    /// SHA-512 of the 64-block message.
    pub const SHA512_PAGE: [u8; 64] = hex64("2d23913d3759ef01704a86b4bee3ac8a29002313ecc98a7424425a78170f219577822fd77e4ae96313547696ad7d5949b58e12d5063ef2ee063b595740a3a12d");

    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a lower-case hex digit"),
        }
    }

    const fn hex<const N: usize>(s: &str) -> [u8; N] {
        let s = s.as_bytes();
        assert!(s.len() == 2 * N);
        let mut out = [0u8; N];
        let mut i = 0;
        while i < N {
            out[i] = nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]);
            i += 1;
        }
        out
    }

    const fn hex32(s: &str) -> [u8; 32] {
        hex(s)
    }

    const fn hex64(s: &str) -> [u8; 64] {
        hex(s)
    }
}

/// A failed known answer of [`self_test`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KatFailure {
    /// The algorithm.
    pub algo: MeasurementAlgo,
    /// Which message (0 "abc", 1 the two-block message, 2 it fed in pieces, 3 the
    /// 64-block message).
    pub case: usize,
}

/// Checks `c` against [`kat`]: SHA-256 always, SHA-512 when `sha512`; each message
/// whole, and the two-block one also fed in pieces that straddle the blocks.
pub fn self_test<C: Compress>(c: &C, sha512: bool) -> Result<(), KatFailure> {
    /// One algorithm's known answers: ("abc", the two-block message, the 64-block one).
    struct Case {
        algo: MeasurementAlgo,
        long: &'static [u8],
        want: [&'static [u8]; 3],
    }
    let cases = [
        Case {
            algo: MeasurementAlgo::Sha256,
            long: kat::MSG_448,
            want: [&kat::SHA256_ABC, &kat::SHA256_448, &kat::SHA256_PAGE],
        },
        Case {
            algo: MeasurementAlgo::Sha512,
            long: kat::MSG_896,
            want: [&kat::SHA512_ABC, &kat::SHA512_896, &kat::SHA512_PAGE],
        },
    ];
    for Case { algo, long, want } in cases {
        if algo == MeasurementAlgo::Sha512 && !sha512 {
            continue;
        }
        let n = algo.digest_size();
        let fail = |case| Err(KatFailure { algo, case });
        if digest(c, algo, kat::ABC)[..n] != *want[0] {
            return fail(0);
        }
        if digest(c, algo, long)[..n] != *want[1] {
            return fail(1);
        }
        let mut h = Hasher::new(c, algo);
        for piece in [&long[..1], &long[1..40], &long[40..]] {
            h.update(piece);
        }
        if h.finalize()[..n] != *want[1] {
            return fail(2);
        }
        let mut h = Hasher::new(c, algo);
        h.update_zeros(kat::PAGE_LEN);
        if h.finalize()[..n] != *want[2] {
            return fail(3);
        }
    }
    Ok(())
}

/// The SHA-2 instructions the RMM uses, chosen at cold boot: those the CPU reports
/// (`features.sha2`, from ID_AA64ISAR0_EL1) if they pass [`self_test`], else none
/// (software). Logs the choice. Out of line: cold boot's frame stays as it was.
#[inline(never)]
pub fn choose<A: Arch>(arch: &A, features: &CpuFeatures) -> Sha2Isa {
    let isa = features.sha2;
    if !isa.sha256() {
        log::info!("SHA-2: software (ID_AA64ISAR0_EL1.SHA2 reports no SHA-256 instructions)");
        return isa;
    }
    match self_test(&Engine::new(arch, features), isa.sha512()) {
        Ok(()) => {
            if isa.sha512() {
                log::info!("{SHA2_INSTRUCTIONS_OK}FEAT_SHA256 and FEAT_SHA512");
            } else {
                log::info!("{SHA2_INSTRUCTIONS_OK}FEAT_SHA256 (SHA-512 in software)");
            }
            isa
        }
        Err(e) => {
            log::error!(
                "SHA-2: the CPU's instructions fail the known answer {} of {:?}; hashing in software",
                e.case,
                e.algo
            );
            Sha2Isa::None
        }
    }
}

/// What cold boot logs, followed by the features, when the CPU's SHA-2 instructions
/// pass [`self_test`] and the RMM hashes with them (`cargo xtask run` looks for it).
pub const SHA2_INSTRUCTIONS_OK: &str =
    "SHA-2: the CPU's instructions pass the FIPS 180-4 known answers; hashing with ";

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use sha2::Digest;
    use std::vec::Vec;

    const ALGOS: [MeasurementAlgo; 2] = [MeasurementAlgo::Sha256, MeasurementAlgo::Sha512];

    #[test]
    fn software_passes_the_known_answers() {
        assert_eq!(self_test(&Software, true), Ok(()));
    }

    /// A compression function that is wrong in one bit: the self test must see it.
    struct Broken;
    impl Compress for Broken {
        fn compress256(&self, state: &mut [u32; 8], blocks: &[Block256]) {
            Software.compress256(state, blocks);
            state[7] ^= 1;
        }
        fn compress512(&self, state: &mut [u64; 8], blocks: &[Block512]) {
            Software.compress512(state, blocks);
            if blocks.len() > 1 {
                state[0] ^= 1 << 63;
            }
        }
    }

    #[test]
    fn self_test_catches_a_wrong_compression() {
        let e = self_test(&Broken, true).unwrap_err();
        assert_eq!((e.algo, e.case), (MeasurementAlgo::Sha256, 0));
        // SHA-512 wrong only on multi-block calls: the 64-block message.
        struct Only512;
        impl Compress for Only512 {
            fn compress256(&self, state: &mut [u32; 8], blocks: &[Block256]) {
                Software.compress256(state, blocks)
            }
            fn compress512(&self, state: &mut [u64; 8], blocks: &[Block512]) {
                Broken.compress512(state, blocks)
            }
        }
        let e = self_test(&Only512, true).unwrap_err();
        assert_eq!((e.algo, e.case), (MeasurementAlgo::Sha512, 3));
        assert_eq!(self_test(&Only512, false), Ok(()));
    }

    /// Every length around the block boundaries and the padding's edge (55/56 bytes
    /// for SHA-256, 111/112 for SHA-512), fed whole and in pieces of every size,
    /// against the `sha2` crate's own hashers.
    #[test]
    fn padding_and_buffering_match_the_reference_hashers() {
        let data: Vec<u8> = (0..700u32).map(|i| (i * 31 + 7) as u8).collect();
        for algo in ALGOS {
            for len in (0..300).chain([511, 512, 513, 640, 700]) {
                let msg = &data[..len];
                let want: Vec<u8> = match algo {
                    MeasurementAlgo::Sha256 => sha2::Sha256::digest(msg).to_vec(),
                    MeasurementAlgo::Sha512 => sha2::Sha512::digest(msg).to_vec(),
                };
                let got = digest(&Software, algo, msg);
                assert_eq!(&got[..want.len()], &want[..], "{algo:?} len {len}");
                assert!(got[want.len()..].iter().all(|&b| b == 0));
                for piece in [1usize, 3, 63, 64, 65, 127, 129] {
                    let mut h = Hasher::new(&Software, algo);
                    msg.chunks(piece).for_each(|p| h.update(p));
                    assert_eq!(
                        &h.finalize()[..want.len()],
                        &want[..],
                        "{algo:?} len {len} by {piece}"
                    );
                }
            }
        }
    }

    /// Messages of whole SHA-512 blocks with garbage in the padding room: the hash of
    /// the message alone, against the `sha2` crate's hashers, in one compression call.
    #[test]
    fn digest_padded_is_the_hash_of_the_message() {
        struct Counting(core::cell::Cell<usize>);
        impl Compress for Counting {
            fn compress256(&self, state: &mut [u32; 8], blocks: &[Block256]) {
                self.0.set(self.0.get() + 1);
                Software.compress256(state, blocks)
            }
            fn compress512(&self, state: &mut [u64; 8], blocks: &[Block512]) {
                self.0.set(self.0.get() + 1);
                Software.compress512(state, blocks)
            }
        }
        for algo in ALGOS {
            for len in [0usize, 128, 256, 384] {
                let msg: Vec<u8> = (0..len as u32).map(|i| (i * 7 + 3) as u8).collect();
                let want: Vec<u8> = match algo {
                    MeasurementAlgo::Sha256 => sha2::Sha256::digest(&msg).to_vec(),
                    MeasurementAlgo::Sha512 => sha2::Sha512::digest(&msg).to_vec(),
                };
                let mut buf = msg.clone();
                buf.resize(len + PAD_ROOM, 0xA5);
                let c = Counting(core::cell::Cell::new(0));
                let got = digest_padded(&c, algo, &mut buf, len).0;
                assert_eq!(&got[..want.len()], &want[..], "{algo:?} {len}");
                assert!(got[want.len()..].iter().all(|&b| b == 0));
                assert_eq!(c.0.get(), 1, "{algo:?} {len}: one compression call");
            }
        }
    }

    #[test]
    fn zeros_are_zero_bytes() {
        for algo in ALGOS {
            for n in [0usize, 1, 1023, 1024, 1025, 4096, 5000] {
                let mut h = Hasher::new(&Software, algo);
                h.update(b"x");
                h.update_zeros(n);
                let mut msg = std::vec![b'x'];
                msg.resize(1 + n, 0);
                assert_eq!(h.finalize(), digest(&Software, algo, &msg), "{algo:?} {n}");
            }
        }
    }
}
