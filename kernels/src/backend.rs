//! Which kernel family runs: detected once per process, overridable by `EDGEBERT_KERNELS`.
//!
//! A backend is a promise about the CPU: [`Backend::check`] verifies every feature its kernels
//! use, and a [`crate::Kernels`] handle can only be built for a backend that passed the check.
//! That is what makes the `unsafe` calls into `#[target_feature]` code under `arch/` sound.
//!
//! Forcing a backend the CPU lacks is an error, never a silent fallback: CI sets the variable to
//! exercise one path, and a quiet fallback would report a pass for code that never ran.

pub use crate::registry::Backend;
use std::fmt;
use std::sync::OnceLock;

/// Name of the environment variable that forces a backend.
pub const BACKEND_ENV: &str = "EDGEBERT_KERNELS";

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
    /// Parses a backend name as written in `EDGEBERT_KERNELS` (case-insensitive; `_` = `-`).
    pub fn from_name(s: &str) -> Option<Backend> {
        let s = s.trim().to_ascii_lowercase().replace('_', "-");
        Backend::ALL.into_iter().find(|b| b.name() == s)
    }

    /// `Ok` when every CPU feature this backend's kernels use is present.
    pub fn check(self) -> Result<(), Unsupported> {
        crate::Kernels::new(self).map(|_| ())
    }

    /// The most specialised backend this CPU supports.
    pub fn best_available() -> Backend {
        Backend::preferred(|b| b.check().is_ok())
    }

    /// The first backend in the order of preference (the reverse of [`Backend::ALL`]: on x86
    /// avx512-vnni, avx-vnni, avx512, avx2, generic) for which `runs` is true; generic if none.
    pub fn preferred(runs: impl Fn(Backend) -> bool) -> Backend {
        Backend::ALL.into_iter().rev().find(|&b| runs(b)).unwrap_or(Backend::Generic)
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

/// CPU features relevant to the kernels that this CPU has, by name.
pub fn cpu_features() -> Vec<&'static str> {
    /// The listed features `std::arch::$detect!` finds, in order.
    #[allow(unused_macros)]
    macro_rules! present {
        ($detect:ident: $($feature:tt)*) => {
            [$(($feature, std::arch::$detect!($feature))),*].into_iter().filter(|f| f.1).map(|f| f.0).collect()
        };
    }
    #[cfg(target_arch = "x86_64")]
    {
        present!(is_x86_feature_detected: "avx2" "fma" "f16c" "avxvnni" "avx512f" "avx512bw" "avx512vl" "avx512vnni")
    }
    #[cfg(target_arch = "aarch64")]
    {
        present!(is_aarch64_feature_detected: "neon" "dotprod" "fp16")
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
        assert_eq!(Backend::from_name("AVX_VNNI"), Some(Backend::AvxVnni));
        assert_eq!(Backend::from_name("sse2"), None);
    }

    #[test]
    fn generic_always_runs_and_best_is_runnable() {
        assert!(Backend::Generic.check().is_ok());
        assert!(Backend::best_available().check().is_ok());
    }

    #[test]
    fn preference_order_does_not_depend_on_this_cpu() {
        use Backend::*;
        let best = |have: &[Backend]| Backend::preferred(|b| have.contains(&b));
        // Zen 4/5 server, Sapphire Rapids: the zmm VNNI backend wins.
        assert_eq!(best(&[Generic, Avx2, AvxVnni, Avx512, Avx512Vnni]), Avx512Vnni);
        assert_eq!(best(&[Generic, Avx2, Avx512, Avx512Vnni]), Avx512Vnni);
        // Alder Lake … Core Ultra, Zen 5 desktop (AVX-VNNI, no AVX-512).
        assert_eq!(best(&[Generic, Avx2, AvxVnni]), AvxVnni);
        // AVX-VNNI is preferred over AVX-512 without VNNI.
        assert_eq!(best(&[Generic, Avx2, AvxVnni, Avx512]), AvxVnni);
        assert_eq!(best(&[Generic, Avx2, Avx512]), Avx512);
        assert_eq!(best(&[Generic, Avx2]), Avx2);
        assert_eq!(best(&[Generic]), Generic);
        assert_eq!(best(&[]), Generic);
        assert_eq!(best(&[Generic, Neon, NeonDotprod]), NeonDotprod);
        assert_eq!(best(&[Generic, Neon, NeonDotprod, NeonI8mm]), NeonI8mm);
        assert_eq!(best(&[Generic, Armv7Neon]), Armv7Neon);
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
