//! AVX-512 F/BW/VL kernels (Skylake-SP, Ice Lake, Zen 4): f32 and f16-weight GEMM on zmm, and
//! the vector math (GELU, exp, epilogue) the VNNI int8 kernel shares, softmax and LayerNorm.

/// Calls the tile function `$tile::<R, P>$args` for the run-time `(rows, panels)` of
/// `$shape`, among the attention kernels' score tiles (R ≤ 6 rows by P ≤ 4 key panels).
macro_rules! score_tiles {
    ($shape:expr, $tile:ident $args:tt) => {
        tiles!($shape, $tile $args; (1, 1)(1, 2)(1, 3)(1, 4)(2, 1)(2, 2)(2, 3)(2, 4)(3, 1)(3, 2)(3, 3)
            (3, 4)(4, 1)(4, 2)(4, 3)(4, 4)(5, 1)(5, 2)(5, 3)(5, 4)(6, 1)(6, 2)(6, 3)(6, 4))
    };
}

/// As [`score_tiles`], among the context tiles: R ≤ 12 rows of P ≤ 2 channel panels, or R ≤ 6
/// of 3-4 (24 accumulators either way).
macro_rules! context_tiles {
    ($shape:expr, $tile:ident $args:tt) => {
        tiles!($shape, $tile $args; (1, 1)(2, 1)(3, 1)(4, 1)(5, 1)(6, 1)(7, 1)(8, 1)(9, 1)(10, 1)(11, 1)
            (12, 1)(1, 2)(2, 2)(3, 2)(4, 2)(5, 2)(6, 2)(7, 2)(8, 2)(9, 2)(10, 2)(11, 2)(12, 2)(1, 3)(2, 3)
            (3, 3)(4, 3)(5, 3)(6, 3)(1, 4)(2, 4)(3, 4)(4, 4)(5, 4)(6, 4))
    };
}

macro_rules! tiles {
    ($shape:expr, $tile:ident $args:tt; $(($r:literal, $p:literal))*) => {
        match $shape {
            $(($r, $p) => $tile::<$r, $p> $args,)*
            _ => unreachable!("no such tile"),
        }
    };
}

pub(crate) mod attention;
pub(crate) mod attention_i8;
pub(crate) mod gelu;
pub(crate) mod gemm_f32;
pub(crate) mod math;
pub(crate) mod rows;
