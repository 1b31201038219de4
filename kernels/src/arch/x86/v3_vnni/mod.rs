//! AVX-VNNI kernels (Alder Lake … Core Ultra, Zen 5 desktop: AVX2 with the VEX `vpdpbusd` on
//! ymm, no AVX-512): the int8 and int4 GEMMs through ymm `vpdpbusd`; every other slot is the v3 one.

pub(crate) mod gemm_i4;
pub(crate) mod gemm_i8;

use super::V3Vnni;

super::x86_backend!(V3Vnni {
    int8_slots!(|s: &V3Vnni| crate::frame::int8::U8Rows(*s));

    int4_slots!(|s: &V3Vnni| *s);

    crate::arch::x86::v3::v3_slots!(|s: &V3Vnni| s.v3);
});
