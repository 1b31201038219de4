//! What `edgebert --version` says: the release, the commit and cargo profile it was built from
//! (stamped by build.rs), and the kernel backends compiled in and usable on this CPU.

use edgebert_kernels::{Backend, Unsupported};

/// `-V`: one line, fixed at compile time.
pub const SHORT: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("EDGEBERT_GIT_COMMIT"),
    ", profile ",
    env!("EDGEBERT_BUILD_PROFILE"),
    ")"
);

/// `--version`: [`SHORT`] plus the target and the backends.
pub fn long() -> &'static str {
    let compiled: Vec<&str> = Backend::ALL.iter().filter(|b| compiled_in(**b)).map(|b| b.name()).collect();
    let runnable: Vec<&str> = Backend::ALL.iter().filter(|b| b.check().is_ok()).map(|b| b.name()).collect();
    let text = format!(
        "{SHORT}\ntarget: {} {}\nkernel backends compiled in: {}\nusable on this CPU: {} (EDGEBERT_KERNELS picks one; default: the last)",
        std::env::consts::ARCH,
        std::env::consts::OS,
        compiled.join(", "),
        runnable.join(", "),
    );
    // Built once per process, for clap, which wants a 'static string.
    Box::leak(text.into_boxed_str())
}

/// A backend is compiled in unless its only missing "feature" is another architecture.
fn compiled_in(b: Backend) -> bool {
    !matches!(b.check(), Err(Unsupported { missing: "x86_64" | "aarch64", .. }))
}
