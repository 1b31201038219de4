//! Stamps `edgebert --version` with the git commit and the cargo profile, and tells the
//! integration tests whether ../shared/assets exists (see build-support/assets_cfg.rs).
//! Works from a source tarball without .git: the commit is then "unknown" unless
//! EDGEBERT_GIT_COMMIT names it.

use std::path::Path;
use std::process::Command;

include!("build-support/assets_cfg.rs");

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=build-support/assets_cfg.rs");
    println!("cargo::rustc-env=EDGEBERT_GIT_COMMIT={}", git_commit());
    println!("cargo::rustc-env=EDGEBERT_BUILD_PROFILE={}", profile());
    emit_assets_cfg(".");
}

fn git_commit() -> String {
    println!("cargo::rerun-if-env-changed=EDGEBERT_GIT_COMMIT");
    if let Ok(commit) = std::env::var("EDGEBERT_GIT_COMMIT") {
        return commit;
    }
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git").args(args).output().ok()?;
        let text = String::from_utf8(out.stdout).ok()?;
        out.status.success().then(|| text.trim().to_string())
    };
    let Some(commit) = git(&["rev-parse", "--short=12", "HEAD"]) else {
        return "unknown (not built from a git checkout)".into();
    };
    // Rebuild the stamp when HEAD moves: HEAD itself (a branch switch) and the branch's ref file
    // (a commit); with packed refs, packed-refs. Only existing files, so no rerun on every build.
    if let Some(git_dir) = git(&["rev-parse", "--git-dir"]) {
        watch(&Path::new(&git_dir).join("HEAD"));
    }
    if let (Some(common), Some(branch)) =
        (git(&["rev-parse", "--git-common-dir"]), git(&["symbolic-ref", "-q", "HEAD"]))
    {
        watch(&Path::new(&common).join(branch));
        watch(&Path::new(&common).join("packed-refs"));
    }
    commit
}

fn watch(path: &Path) {
    if path.exists() {
        println!("cargo::rerun-if-changed={}", path.display());
    }
}

/// The profile's folder name (release, debug, profiling, ...): PROFILE says only release or debug.
fn profile() -> String {
    let out_dir = std::env::var("OUT_DIR").unwrap_or_default();
    // OUT_DIR is <target>/[<triple>/]<profile>/build/<package>-<hash>/out.
    Path::new(&out_dir)
        .ancestors()
        .nth(3)
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .unwrap_or_else(|| std::env::var("PROFILE").unwrap_or_default())
}
