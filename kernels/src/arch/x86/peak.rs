//! Peak-throughput probes: long runs of independent (dependency-free) arithmetic instructions,
//! so benchmarks can print each GEMM figure as a fraction of what this core can issue.
//!
//! Target cores: any x86-64 with the probed extension. Each probe runs 12 independent
//! accumulator chains (more than latency × throughput on current cores) in an `asm!` loop.

use super::{V3Vnni, V4Vnni, V3, V4};
use core::arch::asm;

/// Twelve independent `insn r<i>, r12, r13` lines (accumulators 0 to 11), one template.
macro_rules! twelve {
    ($insn:literal, $reg:literal; $($i:literal)*) => {
        concat!($($insn, " ", $reg, $i, ", ", $reg, "12, ", $reg, "13\n",)*)
    };
}

macro_rules! probe {
    ($name:ident, $token:ty, $feat:literal, $reg:literal, $insn:literal) => {
        /// Runs `iters` blocks of 12 independent instructions; the token proves the extension.
        pub(crate) fn $name(_: $token, iters: u64) {
            #[target_feature(enable = $feat)]
            fn with_feature(iters: u64) {
                if iters == 0 {
                    return;
                }
                // SAFETY: the instructions only touch the registers declared as clobbered
                // (no memory, no stack); the caller's token proves the extension.
                unsafe {
                    asm!(
                "2:",
                twelve!($insn, $reg; 0 1 2 3 4 5 6 7 8 9 10 11),
                "dec {n}",
                "jnz 2b",
                n = inout(reg) iters => _,
                out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _,
                out("xmm4") _, out("xmm5") _, out("xmm6") _, out("xmm7") _,
                out("xmm8") _, out("xmm9") _, out("xmm10") _, out("xmm11") _,
                options(nomem, nostack),
                    );
                }
            }
            // SAFETY: the token proves the CPU has the extension `with_feature` enables.
            unsafe { with_feature(iters) }
        }
    };
}

probe!(fma_f32_zmm, V4, "avx512f", "zmm", "vfmadd231ps");
probe!(fma_f32_ymm, V3, "avx2,fma", "ymm", "vfmadd231ps");
probe!(dpbusd_zmm, V4Vnni, "avx512f,avx512vnni", "zmm", "vpdpbusd");
// `{vex}`: the AVX-VNNI encoding, which a CPU without AVX-512 runs (doubled braces: asm! template).
probe!(dpbusd_ymm, V3Vnni, "avx2,avxvnni", "ymm", "{{vex}} vpdpbusd");
probe!(maddubsw_ymm, V3, "avx2", "ymm", "vpmaddubsw");
probe!(maddwd_ymm, V3, "avx2", "ymm", "vpmaddwd");
