//! The realm program every fuzzed REC runs: random RSI and PSCI calls with random
//! arguments, memory touches (plain and with a syndrome, so some become emulated MMIO),
//! instruction fetches, HVCs and WFIs, seeded from the REC's x0 so that a run is
//! reproducible.
//!
//! It never hands a value it read from its memory to the host (no loaded value goes
//! into an SMC argument or a store to an unprotected IPA): a realm sentinel that shows
//! up in Non-secure memory is then the RMM's leak, not the program's choice.

use platform_sim::realm::{AccessSize, RealmCpu};
use rand_core::{Rng, SeedableRng};
use rand_xorshift::XorShiftRng;
use rsi_abi::fid;

/// The RSI and PSCI function identifiers the program calls.
const CALLS: [u64; 14] = [
    fid::RSI_VERSION as u64,
    fid::RSI_FEATURES as u64,
    fid::RSI_MEASUREMENT_READ as u64,
    fid::RSI_MEASUREMENT_EXTEND as u64,
    fid::RSI_REALM_CONFIG as u64,
    fid::RSI_HOST_CALL as u64,
    fid::RSI_IPA_STATE_GET as u64,
    fid::RSI_IPA_STATE_SET as u64,
    fid::RSI_ATTESTATION_TOKEN_INIT as u64,
    fid::RSI_ATTESTATION_TOKEN_CONTINUE as u64,
    0x8400_0000, // PSCI_VERSION
    0xC400_0003, // PSCI_CPU_ON (64-bit)
    0xC400_0004, // PSCI_AFFINITY_INFO (64-bit)
    0x8400_0002, // PSCI_CPU_OFF
];

/// An IPA the program uses: mostly its first 4 MiB (where the host maps DATA), aligned
/// in ways RSI cares about, sometimes its unprotected half or anything.
fn ipa(rng: &mut XorShiftRng) -> u64 {
    let r = rng.next_u64();
    match r % 8 {
        0..=4 => ((r >> 8) % (4 << 20)) & !0xFF,
        5 => ((r >> 8) % (4 << 20)) & !0xFFF,
        6 => (1 << 38) | ((r >> 8) % (4 << 20)),
        _ => r >> 8,
    }
}

/// The program.
pub fn program(cpu: &mut RealmCpu) {
    let mut rng = XorShiftRng::seed_from_u64(cpu.regs().gprs[0]);
    loop {
        let r = rng.next_u64();
        match r % 16 {
            0..=5 => {
                let f = CALLS[(r >> 8) as usize % CALLS.len()];
                let mut args = [0u64; 8];
                for a in args.iter_mut() {
                    *a = match rng.next_u64() % 4 {
                        0 => ipa(&mut rng),
                        1 => rng.next_u64() % 8,
                        2 => 1 << 16,
                        _ => rng.next_u64(),
                    };
                }
                // PSCI_SYSTEM_OFF/RESET would end the realm for good: rarely.
                let f = if r % 997 == 0 { 0x8400_0008 } else { f };
                match f {
                    // A well-formed RIPAS change, mostly: 4 KiB aligned, inside the
                    // first 4 MiB, RAM or EMPTY, CHANGE_DESTROYED or not.
                    _ if f == fid::RSI_IPA_STATE_SET as u64 && r & (3 << 40) != 0 => {
                        let base = ((r >> 8) % (4 << 20)) & !0xFFF;
                        args[0] = base;
                        args[1] = base + 4096 * (1 + rng.next_u64() % 16);
                        args[2] = rng.next_u64() % 2;
                        args[3] = rng.next_u64() % 2;
                    }
                    // CPU_ON / AFFINITY_INFO of another REC of the realm, mostly (MPIDR
                    // Aff0 0..3), starting at the program's entry.
                    0xC400_0003 | 0xC400_0004 if r & (3 << 40) != 0 => {
                        args[0] = rng.next_u64() % 4;
                        args[1] = if f == 0xC400_0003 {
                            crate::REALM_ENTRY
                        } else {
                            0
                        };
                    }
                    _ => {}
                }
                if f == 0xC400_0003 {
                    // A REC switched on starts where a program is (the simulation runs
                    // no code elsewhere).
                    args[1] = crate::REALM_ENTRY;
                }
                let _ = cpu.smc(f, &args);
            }
            6 | 7 => {
                let mut buf = [0u8; 64];
                let _ = cpu.read(ipa(&mut rng), &mut buf);
            }
            8 => {
                let bytes = rng.next_u64().to_le_bytes();
                let _ = cpu.write(ipa(&mut rng), &bytes);
            }
            9 => {
                let size = [
                    AccessSize::B1,
                    AccessSize::B2,
                    AccessSize::B4,
                    AccessSize::B8,
                ][(r >> 8) as usize % 4];
                let _ = cpu.load(
                    ipa(&mut rng) & !7,
                    size,
                    (r >> 16) as usize % 31,
                    r & 1 << 20 != 0,
                    true,
                );
            }
            10 => {
                let value = rng.next_u64();
                let _ = cpu.store(
                    ipa(&mut rng) & !7,
                    AccessSize::B8,
                    (r >> 16) as usize % 31,
                    value,
                );
            }
            11 => {
                let _ = cpu.fetch(ipa(&mut rng) & !3);
            }
            12 => {
                let _ = cpu.hvc((r >> 8) as u16);
            }
            _ => cpu.wfi(),
        }
    }
}
