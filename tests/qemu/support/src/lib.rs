//! Bare-metal pieces the QEMU fixtures (`tests/qemu/`: the EL3 monitor, the NS host and
//! the realm payload) share, so that each exists once: the PL011 console ([`pl011`]),
//! the assembly fragments of their entry sequences and vector tables ([`asm`]) and the
//! syndrome part of their fault reports ([`fault`]).
//!
//! It depends on nothing of the project: each fixture keeps its own layout (the UART
//! base, its stacks, its linker script) and its own statement of the RMM-EL3
//! constants, and passes what this crate needs as arguments. It is built for the
//! fixtures' target (`aarch64-unknown-none`) with their code generation, and builds on
//! the host too (nothing here runs there) so that the workspace lints everywhere.

#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod asm;
pub mod fault;
pub mod pl011;
