//! 32-bit ARM (armv7, hard float) backends, in folders named for what they require: `neon`
//! (Advanced SIMD: Cortex-A7/A8/A9/A15/A53 in 32-bit mode, Raspberry Pi OS 32-bit).
//!
//! On stable Rust neither `core::arch::arm`'s NEON intrinsics nor `#[target_feature(enable =
//! "neon")]` on arm nor `is_arm_feature_detected!` is available, and the armv7 hard-float
//! targets build without NEON. So the token reads the kernel's `AT_HWCAP` word once
//! (`HWCAP_NEON`), and each kernel is one `asm!` block that enables NEON for the assembler
//! (`.fpu neon`) and names the registers it uses as clobbers (d0–d15, which the target's
//! VFPv3-D16 float unit shares with NEON's q0–q7).

pub(crate) mod neon;

/// `AT_HWCAP` in the auxiliary vector (Linux `<elf.h>`).
const AT_HWCAP: core::ffi::c_ulong = 16;
/// `HWCAP_NEON` in the 32-bit ARM `AT_HWCAP` word (Linux `asm/hwcap.h`).
const HWCAP_NEON: core::ffi::c_ulong = 1 << 12;

extern "C" {
    /// glibc's and musl's `getauxval(3)`: a value of the process's auxiliary vector, 0 when absent.
    fn getauxval(kind: core::ffi::c_ulong) -> core::ffi::c_ulong;
}

/// A zero-sized proof that the CPU has NEON (Advanced SIMD), made only by `try_new`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ArmNeon(());

impl ArmNeon {
    /// `Some` only when the kernel reports NEON in `AT_HWCAP` (the registry caches the answer).
    pub(crate) fn try_new() -> Option<Self> {
        // SAFETY: `getauxval` only reads the auxiliary vector; it takes and returns integers.
        let hwcap = unsafe { getauxval(AT_HWCAP) };
        (hwcap & HWCAP_NEON != 0).then_some(ArmNeon(()))
    }
}
