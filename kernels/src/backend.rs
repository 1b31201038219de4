//! Which kernel family runs: detected once per process, overridable by `EDGEBERT_KERNELS`.
//!
//! A backend is a promise about the CPU: [`Backend::check`] verifies every feature its kernels
//! use, and a [`crate::Kernels`] handle can only be built for a backend that passed the check.
//! That is what makes the `unsafe` calls into `#[target_feature]` code under `arch/` sound.
//!
//! Forcing a backend the CPU lacks is an error, never a silent fallback: CI sets the variable to
//! exercise one path, and a quiet fallback would report a pass for code that never ran.

use std::fmt;
use std::sync::OnceLock;

/// Name of the environment variable that forces a backend.
pub const BACKEND_ENV: &str = "EDGEBERT_KERNELS";

/// A kernel family. Ordered from the most portable to the most specialised per architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Portable scalar code: the reference every other backend is tested against.
    Generic,
    /// x86-64 AVX2 + FMA + F16C (Haswell, Zen 1 and later). int8 through exact i16 `vpmaddwd`.
    Avx2,
    /// x86-64 AVX-512 F/BW/VL (Skylake-SP and later). f32/f16 on zmm; int8 as [`Backend::Avx2`].
    Avx512,
    /// AVX-512 plus VNNI (Ice Lake, Zen 4 and later): int8 through `vpdpbusd`.
    Avx512Vnni,
    /// aarch64 Advanced SIMD (every ARMv8-A core): int8 through widening multiply-accumulate.
    Neon,
    /// aarch64 with the dot-product extension (Cortex-A55/A75 and later): int8 through `sdot`.
    NeonDotprod,
}

/// Why a backend cannot run here: the CPU lacks `feature` (or the build targets another arch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    pub backend: Backend,
    pub missing: &'static str,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "backend {} unavailable: CPU lacks {}", self.backend, self.missing)
    }
}

impl std::error::Error for Unsupported {}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Backend {
    /// Every backend, in the order tests and benchmarks report them.
    pub const ALL: [Backend; 6] = [
        Backend::Generic,
        Backend::Avx2,
        Backend::Avx512,
        Backend::Avx512Vnni,
        Backend::Neon,
        Backend::NeonDotprod,
    ];

    /// The spelling accepted by `EDGEBERT_KERNELS`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Generic => "generic",
            Backend::Avx2 => "avx2",
            Backend::Avx512 => "avx512",
            Backend::Avx512Vnni => "avx512-vnni",
            Backend::Neon => "neon",
            Backend::NeonDotprod => "neon-dotprod",
        }
    }

    /// Parses a backend name as written in `EDGEBERT_KERNELS` (case-insensitive; `_` = `-`).
    pub fn from_name(s: &str) -> Option<Backend> {
        let s = s.trim().to_ascii_lowercase().replace('_', "-");
        Backend::ALL.into_iter().find(|b| b.name() == s)
    }

    /// `Ok` when every CPU feature this backend's kernels use is present.
    pub fn check(self) -> Result<(), Unsupported> {
        match missing_feature(self) {
            None => Ok(()),
            Some(missing) => Err(Unsupported { backend: self, missing }),
        }
    }

    /// The most specialised backend this CPU supports.
    pub fn best_available() -> Backend {
        Backend::ALL.into_iter().rev().find(|b| b.check().is_ok()).unwrap_or(Backend::Generic)
    }

    /// The backend for this process: `EDGEBERT_KERNELS` if set, else the best available.
    /// Decided on first call and cached.
    ///
    /// # Panics
    /// If the variable names an unknown backend or one this CPU cannot run.
    pub fn selected() -> Backend {
        static SELECTED: OnceLock<Backend> = OnceLock::new();
        *SELECTED.get_or_init(|| match from_env() {
            Ok(b) => b,
            Err(msg) => panic!("{msg}"),
        })
    }
}

/// The backend `EDGEBERT_KERNELS` asks for (checked against the CPU), or the best available
/// when the variable is unset or empty.
pub fn from_env() -> Result<Backend, String> {
    let Ok(raw) = std::env::var(BACKEND_ENV) else {
        return Ok(Backend::best_available());
    };
    if raw.trim().is_empty() {
        return Ok(Backend::best_available());
    }
    let names: Vec<&str> = Backend::ALL.iter().map(|b| b.name()).collect();
    let b = Backend::from_name(&raw).ok_or_else(|| {
        format!("{BACKEND_ENV}={raw:?} is not a backend; expected one of {}", names.join("|"))
    })?;
    b.check().map_err(|e| format!("{BACKEND_ENV}={raw}: {e}"))?;
    Ok(b)
}

fn missing_feature(b: Backend) -> Option<&'static str> {
    match b {
        Backend::Generic => None,
        #[cfg(target_arch = "x86_64")]
        Backend::Avx2 => first_missing_x86(&["avx2", "fma", "f16c"]),
        #[cfg(target_arch = "x86_64")]
        Backend::Avx512 => first_missing_x86(&["avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl"]),
        #[cfg(target_arch = "x86_64")]
        Backend::Avx512Vnni => {
            first_missing_x86(&["avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512vnni"])
        }
        #[cfg(target_arch = "aarch64")]
        Backend::Neon => ["neon"].into_iter().find(|f| !aarch64_has(f)),
        #[cfg(target_arch = "aarch64")]
        Backend::NeonDotprod => ["neon", "dotprod"].into_iter().find(|f| !aarch64_has(f)),
        #[allow(unreachable_patterns)]
        _ => Some(match b {
            Backend::Avx2 | Backend::Avx512 | Backend::Avx512Vnni => "x86_64",
            _ => "aarch64",
        }),
    }
}

#[cfg(target_arch = "x86_64")]
fn first_missing_x86(features: &[&'static str]) -> Option<&'static str> {
    features.iter().copied().find(|f| !x86_has(f))
}

#[cfg(target_arch = "x86_64")]
fn x86_has(feature: &str) -> bool {
    match feature {
        "avx2" => std::arch::is_x86_feature_detected!("avx2"),
        "fma" => std::arch::is_x86_feature_detected!("fma"),
        "f16c" => std::arch::is_x86_feature_detected!("f16c"),
        "avx512f" => std::arch::is_x86_feature_detected!("avx512f"),
        "avx512bw" => std::arch::is_x86_feature_detected!("avx512bw"),
        "avx512vl" => std::arch::is_x86_feature_detected!("avx512vl"),
        "avx512vnni" => std::arch::is_x86_feature_detected!("avx512vnni"),
        _ => false,
    }
}

#[cfg(target_arch = "aarch64")]
fn aarch64_has(feature: &str) -> bool {
    match feature {
        "neon" => std::arch::is_aarch64_feature_detected!("neon"),
        "dotprod" => std::arch::is_aarch64_feature_detected!("dotprod"),
        "fp16" => std::arch::is_aarch64_feature_detected!("fp16"),
        _ => false,
    }
}

/// CPU features relevant to the kernels that this CPU has, by name.
pub fn cpu_features() -> Vec<&'static str> {
    #[cfg(target_arch = "x86_64")]
    {
        ["avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512vnni"]
            .into_iter()
            .filter(|f| x86_has(f))
            .collect()
    }
    #[cfg(target_arch = "aarch64")]
    {
        ["neon", "dotprod", "fp16"].into_iter().filter(|f| aarch64_has(f)).collect()
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        Vec::new()
    }
}

/// One line for logs and `edgebert bench`: selected backend, why, and the CPU's features, e.g.
/// `kernels: avx512-vnni (best available) on x86_64 [avx2 fma f16c avx512f ...]`.
pub fn describe() -> String {
    let selected = Backend::selected();
    let why = match std::env::var(BACKEND_ENV) {
        Ok(v) if !v.trim().is_empty() => format!("forced by {BACKEND_ENV}={v}"),
        _ => "best available".to_string(),
    };
    let runnable: Vec<&str> = Backend::ALL.iter().filter(|b| b.check().is_ok()).map(|b| b.name()).collect();
    format!(
        "kernels: {selected} ({why}) on {}; cpu features [{}]; runnable backends [{}]",
        std::env::consts::ARCH,
        cpu_features().join(" "),
        runnable.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for b in Backend::ALL {
            assert_eq!(Backend::from_name(b.name()), Some(b));
        }
        assert_eq!(Backend::from_name(" AVX512_VNNI "), Some(Backend::Avx512Vnni));
        assert_eq!(Backend::from_name("sse2"), None);
    }

    #[test]
    fn generic_always_runs_and_best_is_runnable() {
        assert!(Backend::Generic.check().is_ok());
        assert!(Backend::best_available().check().is_ok());
    }

    #[test]
    fn other_arch_backends_are_unsupported() {
        #[cfg(target_arch = "x86_64")]
        let foreign = Backend::NeonDotprod;
        #[cfg(not(target_arch = "x86_64"))]
        let foreign = Backend::Avx2;
        let err = foreign.check().unwrap_err();
        assert!(err.to_string().contains("CPU lacks"), "{err}");
    }

    #[test]
    fn describe_names_the_selected_backend() {
        let d = describe();
        assert!(d.contains(Backend::selected().name()), "{d}");
    }
}
