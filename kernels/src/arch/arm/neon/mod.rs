//! NEON kernels for 32-bit ARM (armv7 hard float with Advanced SIMD): the int8 GEMM by
//! widening multiply-accumulate (`vmull.s8` + `vpadal.s16`) with a NEON GELU in its epilogue,
//! and the f32 row kernels (`math`: GELU, softmax; `rows`: LayerNorm, int8 row quantization).
//! The f32 GEMM and attention stay the generic twins.

/// `asm!` of one NEON loop over `n` blocks (`n = <count>` is the first operand, consumed):
/// `.fpu neon`, the `setup` lines, the `body` lines `n` times (none when `n` is 0), the `finish`
/// lines; then the pointers the body moves (`advance [p, …]`: each local `p` becomes the operand
/// `p = inout(reg) p => _`, in that order), then the other operands. Every such block may use
/// q0–q7 (d0–d15, declared clobbered: the registers the target's VFPv3-D16 unit shares with
/// NEON) and no stack. The body uses the labels `1` and `2` for the loop; `3` and up are free.
macro_rules! neon_blocks {
    (
        setup [$($setup:literal),* $(,)?]
        body [$($body:literal),* $(,)?]
        finish [$($finish:literal),* $(,)?]
        n = $n:expr, advance [$($ptr:ident),+ $(,)?], $($operands:tt)*
    ) => {
        core::arch::asm!(
            ".fpu neon",
            $($setup,)*
            "cmp {n}, #0",
            "beq 2f",
            "1:",
            $($body,)*
            "subs {n}, {n}, #1",
            "bne 1b",
            "2:",
            $($finish,)*
            n = inout(reg) $n => _,
            $($ptr = inout(reg) $crate::arch::arm::neon::AsmPtr::asm_ptr($ptr) => _,)+
            $($operands)*
            out("d0") _, out("d1") _, out("d2") _, out("d3") _, out("d4") _, out("d5") _,
            out("d6") _, out("d7") _, out("d8") _, out("d9") _, out("d10") _, out("d11") _,
            out("d12") _, out("d13") _, out("d14") _, out("d15") _,
            options(nostack),
        )
    };
}

/// What `neon_blocks!`'s `advance` list takes: a slice (the address of its first element, for
/// the asm to step through) or a raw pointer.
pub(crate) trait AsmPtr {
    fn asm_ptr(self) -> usize;
}

impl<T> AsmPtr for &[T] {
    fn asm_ptr(self) -> usize {
        self.as_ptr() as usize
    }
}

impl<T> AsmPtr for &mut [T] {
    fn asm_ptr(self) -> usize {
        self.as_mut_ptr() as usize
    }
}

impl<T> AsmPtr for *const T {
    fn asm_ptr(self) -> usize {
        self as usize
    }
}

impl<T> AsmPtr for *mut T {
    fn asm_ptr(self) -> usize {
        self as usize
    }
}

pub(crate) mod gemm_i8;
pub(crate) mod math;
pub(crate) mod rows;

use super::ArmNeon;
use crate::registry::{KernelSlots, Sealed};

impl Sealed for ArmNeon {}

impl KernelSlots for ArmNeon {
    fn detect() -> Result<ArmNeon, &'static str> {
        ArmNeon::try_new().ok_or("neon")
    }

    int8_slots!(|s: &ArmNeon| crate::frame::int8::PlainRows(*s));

    fn dequantize_i8(
        &self,
        acc: &[i32],
        rows: &[crate::RowQuant],
        w: &crate::PackedI8<'_>,
        ep: &crate::Epilogue<'_>,
        out: &mut [f32],
    ) {
        crate::frame::int8::dequantize_by_tiles(acc, rows, w, ep, out, |t, i, j0, w, sink| {
            gemm_i8::finish_i32(*self, t, i, j0, w, sink)
        });
    }

    fn gelu_erf(&self, x: &mut [f32]) {
        math::gelu_erf_slice(*self, x)
    }

    fn softmax_rows(&self, x: &mut [f32], cols: usize, scale: f32, bias: Option<&[f32]>) {
        math::softmax_rows_f32(*self, x, cols, scale, bias)
    }

    fn layer_norm(&self, x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
        rows::layer_norm_f32(*self, x, gamma, beta, eps)
    }

    fn quantize_rows_i8(&self, a: &[f32], m: usize, k: usize, q: &mut [i8], quants: &mut [crate::RowQuant]) {
        crate::generic::quantize_rows_with(a, m, k, q, quants, |x, q| rows::quantize_row_i8(*self, x, q))
    }
}
