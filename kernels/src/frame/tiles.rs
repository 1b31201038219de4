//! Macros that turn a run-time tile shape into a call of a const-generic micro-tile.

/// Calls `$tile::<[$ty,] R, P> $args` for the run-time `(rows, panels)` of `$shape`, among the
/// listed `(R, P)`; with `rows`, `$tile::<[$ty,] R> $args` among the listed `R`.
#[cfg_attr(not(any(target_arch = "x86_64", target_arch = "aarch64")), allow(unused_macros))]
macro_rules! tiles {
    (@match $value:expr, $tile:ident $tys:tt $args:tt; $($consts:tt => $pat:pat)*) => {
        match $value {
            $($pat => tiles!(@call $tile $tys $consts $args),)*
            _ => unreachable!("no such tile"),
        }
    };
    (@call $tile:ident ($($ty:ty,)*) [$($c:literal),*] $args:tt) => {
        $tile::<$($ty,)* $($c),*> $args
    };
    (rows $rows:expr, $tile:ident [$($ty:ty),*] $args:tt; $($r:literal)*) => {
        tiles!(@match $rows, $tile ($($ty,)*) $args; $([$r] => $r)*)
    };
    (rows $rows:expr, $tile:ident $args:tt; $($r:literal)*) => {
        tiles!(@match $rows, $tile () $args; $([$r] => $r)*)
    };
    ($shape:expr, $tile:ident [$($ty:ty),*] $args:tt; $(($r:literal, $p:literal))*) => {
        tiles!(@match $shape, $tile ($($ty,)*) $args; $([$r, $p] => ($r, $p))*)
    };
    ($shape:expr, $tile:ident $args:tt; $(($r:literal, $p:literal))*) => {
        tiles!(@match $shape, $tile () $args; $([$r, $p] => ($r, $p))*)
    };
}

/// The attention kernels' score tiles (R ≤ 6 rows by P ≤ 4 key panels).
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_macros))]
macro_rules! score_tiles {
    ($shape:expr, $tile:ident $args:tt) => {
        tiles!($shape, $tile $args; (1, 1)(1, 2)(1, 3)(1, 4)(2, 1)(2, 2)(2, 3)(2, 4)(3, 1)(3, 2)(3, 3)
            (3, 4)(4, 1)(4, 2)(4, 3)(4, 4)(5, 1)(5, 2)(5, 3)(5, 4)(6, 1)(6, 2)(6, 3)(6, 4))
    };
}

/// The context tiles: R ≤ 12 rows of P ≤ 2 channel panels, or R ≤ 6 of 3-4 (24 accumulators
/// either way).
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_macros))]
macro_rules! context_tiles {
    ($shape:expr, $tile:ident $args:tt) => {
        tiles!($shape, $tile $args; (1, 1)(2, 1)(3, 1)(4, 1)(5, 1)(6, 1)(7, 1)(8, 1)(9, 1)(10, 1)(11, 1)
            (12, 1)(1, 2)(2, 2)(3, 2)(4, 2)(5, 2)(6, 2)(7, 2)(8, 2)(9, 2)(10, 2)(11, 2)(12, 2)(1, 3)(2, 3)
            (3, 3)(4, 3)(5, 3)(6, 3)(1, 4)(2, 4)(3, 4)(4, 4)(5, 4)(6, 4))
    };
}
