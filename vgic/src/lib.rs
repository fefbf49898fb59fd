//! GICv3 virtual CPU interface support for the RMM.

#![no_std]
