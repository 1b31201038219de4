//! GELU (erf form) on zmm from a table: `x · Φ(x)`, with Φ a degree-4 polynomial on each of 30
//! intervals of [-5.75, 5.5], its five coefficients picked per lane by `vpermt2ps` from
//! two-register tables; two more entries hold Φ = 1 (above the range) and Φ = 0 (below).
//!
//! Target cores: any AVX-512F x86-64; written for Zen 4, where zmm operations share four
//! 256-bit pipes with the int8 GEMM's `vpdpbusd`: the rational erf fit this replaces (P of
//! degree 6 and Q of degree 4 in x², a division; ~22 operations per 16 values) made GELU cost
//! 0.33 ms of the 8.9 ms int8 all-MiniLM encoder; this one takes 15 (cell, 5 permutes, Horner,
//! `x · Φ`).
//! Tolerance: within 2.6e-7 of the exact GELU relative to max(1, |GELU|) (the fit's error in f32
//! arithmetic, measured by `scripts/fit_gelu_table.py`, which also recomputes the table).

use core::arch::x86_64::*;

const LO: f32 = -5.75;
const HI: f32 = 5.5;
/// Cells per unit of x: 30 intervals over HI - LO.
const PER_UNIT: f32 = 30.0 / (HI - LO);

// LO = -5.75, HI = 5.5, 30 intervals, degree 4; row k = coefficient of t^k.
const GELU_TABLE: [[f32; 32]; 5] = [
    [
        4.4695625e-9,
        3.833156e-8,
        2.86836e-7,
        1.8736989e-6,
        1.0690764e-5,
        5.3318086e-5,
        2.3264057e-4,
        8.8904175e-4,
        2.9797752e-3,
        8.774462e-3,
        2.2750078e-2,
        5.2081194e-2,
        1.056497e-1,
        1.9078697e-1,
        3.0853766e-1,
        4.5026192e-1,
        5.987064e-1,
        7.3401445e-1,
        8.4134465e-1,
        9.154342e-1,
        9.599408e-1,
        9.832067e-1,
        9.937903e-1,
        9.979799e-1,
        9.9942297e-1,
        9.998555e-1,
        9.9996835e-1,
        9.999939e-1,
        9.99999e-1,
        9.999999e-1,
        1.0e0,
        0.0e0,
    ],
    [
        9.548034e-9,
        7.778348e-8,
        5.487148e-7,
        3.3547003e-6,
        1.7786348e-5,
        8.1820144e-5,
        3.2669242e-4,
        1.1325292e-3,
        3.4094702e-3,
        8.915038e-3,
        2.024929e-2,
        3.995619e-2,
        6.8496875e-2,
        1.0202003e-1,
        1.320191e-1,
        1.4843202e-1,
        1.4499629e-1,
        1.230611e-1,
        9.074306e-2,
        5.813366e-2,
        3.2356076e-2,
        1.5645528e-2,
        6.5723658e-3,
        2.3985235e-3,
        7.604127e-4,
        2.094264e-4,
        5.0105376e-5,
        1.0413649e-5,
        1.8801079e-6,
        2.9486296e-7,
        0.0e0,
        0.0e0,
    ],
    [
        1.3290375e-8,
        9.4729806e-8,
        5.8952713e-7,
        3.1979678e-6,
        1.5091746e-5,
        6.181582e-5,
        2.191758e-4,
        6.705681e-4,
        1.7634206e-3,
        3.965644e-3,
        7.571726e-3,
        1.213838e-2,
        1.6024677e-2,
        1.6740875e-2,
        1.2419201e-2,
        3.5360914e-3,
        -6.761478e-3,
        -1.4425538e-2,
        -1.7045284e-2,
        -1.5019399e-2,
        -1.0633469e-2,
        -6.235367e-3,
        -3.0752954e-3,
        -1.2871354e-3,
        -4.5973394e-4,
        -1.4066062e-4,
        -3.6964e-5,
        -8.359393e-6,
        -1.6293053e-6,
        -2.7400674e-7,
        0.0e0,
        0.0e0,
    ],
    [
        7.322547e-10,
        1.4914669e-8,
        1.3972861e-7,
        9.388452e-7,
        4.9514724e-6,
        2.1167947e-5,
        7.430204e-5,
        2.1483509e-4,
        5.0960894e-4,
        9.79019e-4,
        1.4790277e-3,
        1.6315634e-3,
        9.853649e-4,
        -5.631975e-4,
        -2.4331592e-3,
        -3.5846506e-3,
        -3.2903783e-3,
        -1.7510564e-3,
        8.64457e-5,
        1.3067573e-3,
        1.6151341e-3,
        1.2955704e-3,
        7.929579e-4,
        3.9089168e-4,
        1.5914372e-4,
        5.4267908e-5,
        1.563525e-5,
        3.828346e-6,
        7.999364e-7,
        1.4307327e-7,
        0.0e0,
        0.0e0,
    ],
    [
        1.0243725e-8,
        6.085184e-8,
        3.0800103e-7,
        1.3226067e-6,
        4.7897815e-6,
        1.4501341e-5,
        3.6203015e-5,
        7.277267e-5,
        1.1218823e-4,
        1.1598104e-4,
        3.121248e-5,
        -1.5746318e-4,
        -3.6960337e-4,
        -4.4715998e-4,
        -2.8113468e-4,
        6.080892e-5,
        3.635552e-4,
        4.4580482e-4,
        3.0547727e-4,
        8.570664e-5,
        -7.1809896e-5,
        -1.2208537e-4,
        -1.0053081e-4,
        -5.9197795e-5,
        -2.7296954e-5,
        -1.0232816e-5,
        -3.1801267e-6,
        -8.289831e-7,
        -1.8265102e-7,
        -3.4196745e-8,
        0.0e0,
        0.0e0,
    ],
];

/// GELU (erf form) on 16 lanes; NaN stays NaN, +inf gives +inf and -inf NaN (as
/// `generic::gelu_erf_f32`: -inf · 0).
///
/// # Safety
/// The CPU must support AVX-512F.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn gelu(x: __m512) -> __m512 {
    // The cell, clamped to [-1, 30]: past either end it selects a constant Φ (entry 30: 1; entry
    // 31, which -1 wraps to in the 5-bit index: 0), so no blend is needed.
    let u = _mm512_fmadd_ps(x, _mm512_set1_ps(PER_UNIT), _mm512_set1_ps(-LO * PER_UNIT));
    let u = _mm512_min_ps(_mm512_max_ps(u, _mm512_set1_ps(-1.0)), _mm512_set1_ps(30.0));
    let cell = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC }>(u);
    let (t, idx) = (_mm512_sub_ps(u, cell), _mm512_cvttps_epi32(cell));
    let coef = |k: usize| {
        let row = GELU_TABLE[k].as_ptr();
        _mm512_permutex2var_ps(_mm512_loadu_ps(row), idx, _mm512_loadu_ps(row.add(16)))
    };
    let mut p = coef(4);
    for k in (0..4).rev() {
        p = _mm512_fmadd_ps(p, t, coef(k));
    }
    _mm512_mul_ps(x, p)
}
