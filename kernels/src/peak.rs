//! Measured instruction-throughput peaks of this core, for benchmarks (`edgebert bench` and
//! `benches/rust`) that report GEMM speed as a fraction of what the hardware can issue.

use std::time::Instant;

/// A dependency-free instruction stream whose throughput bounds a GEMM kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peak {
    /// `vfmadd231ps zmm`: 32 flops each (bounds AVX-512 f32/f16 GEMM).
    FmaF32Zmm,
    /// `vfmadd231ps ymm`: 16 flops each (bounds AVX2 f32/f16 GEMM).
    FmaF32Ymm,
    /// `vpdpbusd zmm`: 64 multiply-adds = 128 ops each (bounds AVX-512 VNNI int8 GEMM).
    VpdpbusdZmm,
    /// `{vex} vpdpbusd ymm`: 32 multiply-adds = 64 ops each (bounds AVX-VNNI int8 GEMM).
    VpdpbusdYmm,
    /// `vpmaddubsw ymm`: 32 multiply-adds = 64 ops each (the saturating AVX2 int8 path others use).
    VpmaddubswYmm,
    /// `vpmaddwd ymm`: 16 multiply-adds = 32 ops each (bounds the exact AVX2 int8 path).
    VpmaddwdYmm,
}

impl Peak {
    pub const ALL: [Peak; 6] = [
        Peak::FmaF32Zmm,
        Peak::FmaF32Ymm,
        Peak::VpdpbusdZmm,
        Peak::VpdpbusdYmm,
        Peak::VpmaddubswYmm,
        Peak::VpmaddwdYmm,
    ];

    /// Arithmetic operations (a multiply-add counts 2) per instruction.
    pub fn ops_per_instruction(self) -> u64 {
        match self {
            Peak::FmaF32Zmm => 32,
            Peak::FmaF32Ymm => 16,
            Peak::VpdpbusdZmm => 128,
            Peak::VpdpbusdYmm => 64,
            Peak::VpmaddubswYmm => 64,
            Peak::VpmaddwdYmm => 32,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Peak::FmaF32Zmm => "vfmadd231ps zmm",
            Peak::FmaF32Ymm => "vfmadd231ps ymm",
            Peak::VpdpbusdZmm => "vpdpbusd zmm",
            Peak::VpdpbusdYmm => "vpdpbusd ymm",
            Peak::VpmaddubswYmm => "vpmaddubsw ymm",
            Peak::VpmaddwdYmm => "vpmaddwd ymm",
        }
    }

    /// Runs `blocks` × 12 instructions of the probe; `false` (and nothing runs) when this CPU
    /// lacks the instruction. For callers with their own clock.
    pub fn run(self, blocks: u64) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            use crate::arch::x86::{peak as probe, V3Vnni, V4Vnni, V3, V4};
            match self {
                Peak::FmaF32Zmm => V4::try_new().map(|t| probe::fma_f32_zmm(t, blocks)).is_ok(),
                Peak::FmaF32Ymm => V3::try_new().map(|t| probe::fma_f32_ymm(t, blocks)).is_ok(),
                Peak::VpdpbusdZmm => V4Vnni::try_new().map(|t| probe::dpbusd_zmm(t, blocks)).is_ok(),
                Peak::VpdpbusdYmm => V3Vnni::try_new().map(|t| probe::dpbusd_ymm(t, blocks)).is_ok(),
                Peak::VpmaddubswYmm => V3::try_new().map(|t| probe::maddubsw_ymm(t, blocks)).is_ok(),
                Peak::VpmaddwdYmm => V3::try_new().map(|t| probe::maddwd_ymm(t, blocks)).is_ok(),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = blocks;
            false
        }
    }

    /// Best of `repeats` timed runs of `blocks` × 12 instructions, in ops per second on the
    /// calling thread; `None` when this CPU lacks the instruction.
    pub fn measure(self, blocks: u64, repeats: usize) -> Option<f64> {
        let mut best = f64::INFINITY;
        for _ in 0..repeats.max(1) {
            let t = Instant::now();
            if !self.run(blocks) {
                return None;
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        Some((blocks * 12 * self.ops_per_instruction()) as f64 / best)
    }
}
