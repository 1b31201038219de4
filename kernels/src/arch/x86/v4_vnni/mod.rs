//! AVX-512 VNNI kernels (Ice Lake, Sapphire Rapids, Zen 4 and later): the int8 GEMM and the
//! fused int8 attention through `vpdpbusd`; every other slot is the v4 one.

pub(crate) mod attention_i8;
pub(crate) mod gemm_i4;
pub(crate) mod gemm_i8;

use super::V4Vnni;

super::x86_backend!(V4Vnni {
    int8_slots!(|s: &V4Vnni| crate::frame::int8::U8Rows(*s));

    attention_slot!(attention_i8, |s: &V4Vnni| *s => attention_i8::attention_i8);

    int4_slots!(|s: &V4Vnni| *s);

    fn has_fast_attention_i8(&self) -> bool {
        true
    }

    crate::arch::x86::v4::v4_slots!(|s: &V4Vnni| s.v4);
});
