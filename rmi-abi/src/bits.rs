//! Helpers shared by every 64-bit fieldset of the ABI (DEN0137 1.0 "fieldset" types).
//!
//! Field positions are declared once, with `tock_registers::register_bitfields!`; these
//! `const` helpers read and write a [`Field`] inside a plain `u64`, so that decoders and
//! `DEFINED` masks can be computed at compile time.

use tock_registers::fields::Field;
use tock_registers::RegisterLongName;

/// The bits of `field`, in their register position.
pub const fn field_mask<R: RegisterLongName>(field: Field<u64, R>) -> u64 {
    field.mask << field.shift
}

/// The value of `field` in `reg`, shifted down to bit 0.
pub const fn field_get<R: RegisterLongName>(field: Field<u64, R>, reg: u64) -> u64 {
    (reg >> field.shift) & field.mask
}

/// `reg` with `field` replaced by `value`. Bits of `value` beyond the field width are
/// dropped; use [`field_fits`] first where that matters.
pub const fn field_set<R: RegisterLongName>(field: Field<u64, R>, reg: u64, value: u64) -> u64 {
    (reg & !field_mask(field)) | ((value & field.mask) << field.shift)
}

/// Whether `value` fits in the width of `field`.
pub const fn field_fits<R: RegisterLongName>(field: Field<u64, R>, value: u64) -> bool {
    value & !field.mask == 0
}

/// Declares a validated 64-bit fieldset newtype over a `register_bitfields!` layout.
///
/// The generated type holds a value with no reserved bit set: `decode` rejects any value
/// with a bit outside the listed fields (DEN0137 1.0 marks those bits SBZ/MBZ), and
/// `bits` returns the register value. One-bit fields listed as `getter, setter: FIELD`
/// also get a `bool` getter and a `const` builder-style setter.
#[macro_export]
macro_rules! abi_fieldset {
    (
        $(#[$m:meta])*
        pub struct $name:ident : $layout:ident {
            $( $(#[$fm:meta])* $get:ident, $set:ident : $field:ident; )*
        }
        other_fields: [$($other:ident),* $(,)?]
    ) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $name(u64);

        impl $name {
            /// The bits of every defined field; all other bits are reserved.
            pub const DEFINED: u64 = 0
                $( | $crate::bits::field_mask($layout::$field) )*
                $( | $crate::bits::field_mask($layout::$other) )*;

            /// The value with every field zero.
            pub const ZERO: Self = Self(0);

            /// Decodes a register value. A value with any reserved bit set is returned
            /// as the error.
            pub const fn decode(v: u64) -> Result<Self, u64> {
                if v & !Self::DEFINED != 0 {
                    Err(v)
                } else {
                    Ok(Self(v))
                }
            }

            /// The register value.
            pub const fn bits(self) -> u64 {
                self.0
            }

            $(
                $(#[$fm])*
                pub const fn $get(self) -> bool {
                    $crate::bits::field_get($layout::$field, self.0) != 0
                }

                $(#[$fm])*
                ///
                /// Returns a copy with this field set to `on`.
                pub const fn $set(self, on: bool) -> Self {
                    Self($crate::bits::field_set($layout::$field, self.0, on as u64))
                }
            )*
        }

        impl TryFrom<u64> for $name {
            type Error = u64;

            fn try_from(v: u64) -> Result<Self, u64> {
                Self::decode(v)
            }
        }

        impl From<$name> for u64 {
            fn from(v: $name) -> u64 {
                v.0
            }
        }
    };
}

/// Declares an ABI enumeration (DEN0137 1.0 "enumeration" types).
///
/// The generated enum has `ALL`, a `const fn decode(u64) -> Result<Self, u64>` that
/// accepts only the listed encodings (every other value, including every reserved
/// encoding, is returned as the error), `raw()` and `TryFrom<u64>`/`TryFrom<u8>`/
/// `From<Self> for u64` conversions.
#[macro_export]
macro_rules! abi_enum {
    (
        $(#[$m:meta])*
        pub enum $name:ident : $repr:ident {
            $( $(#[$vm:meta])* $variant:ident = $val:literal ),+ $(,)?
        }
    ) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr($repr)]
        pub enum $name {
            $( $(#[$vm])* $variant = $val ),+
        }

        impl $name {
            /// Every member, in encoding order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// Decodes an encoding; any value that is not a member is returned as the
            /// error.
            pub const fn decode(v: u64) -> Result<Self, u64> {
                match v {
                    $( $val => Ok(Self::$variant), )+
                    _ => Err(v),
                }
            }

            /// The encoding of this member.
            pub const fn raw(self) -> $repr {
                self as $repr
            }
        }

        impl TryFrom<u64> for $name {
            type Error = u64;

            fn try_from(v: u64) -> Result<Self, u64> {
                Self::decode(v)
            }
        }

        impl TryFrom<u8> for $name {
            type Error = u8;

            fn try_from(v: u8) -> Result<Self, u8> {
                Self::decode(v as u64).map_err(|_| v)
            }
        }

        impl From<$name> for u64 {
            fn from(v: $name) -> u64 {
                v as u64
            }
        }
    };
}
