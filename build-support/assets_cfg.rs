// Shared by the build scripts of the packages whose tests read ../shared/assets (included with
// `include!`, so it is plain items, no module).
//
// Sets `--cfg edgebert_no_assets` when the assets folder is missing, so that each test that needs
// it is compiled as `#[ignore = "needs ..."]` and cargo's summary counts it as ignored instead of
// passing after an early return. CI sets EDGEBERT_REQUIRE_ASSETS=1: the cfg is then never set, the
// tests run, and a missing asset fails them.

/// Where the tests look for the assets: `$EDGEBERT_ASSETS`, else `../shared/assets` beside the
/// workspace root (`workspace_root` is relative to this package's manifest directory).
fn assets_root(workspace_root: &str) -> std::path::PathBuf {
    println!("cargo::rerun-if-env-changed=EDGEBERT_ASSETS");
    println!("cargo::rerun-if-env-changed=EDGEBERT_REQUIRE_ASSETS");
    match std::env::var_os("EDGEBERT_ASSETS") {
        Some(p) => std::path::PathBuf::from(p),
        None => {
            let manifest = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default();
            std::path::Path::new(&manifest).join(workspace_root).join("../shared/assets")
        }
    }
}

fn emit_assets_cfg(workspace_root: &str) {
    println!("cargo::rustc-check-cfg=cfg(edgebert_no_assets)");
    let root = assets_root(workspace_root);
    let required = std::env::var("EDGEBERT_REQUIRE_ASSETS").is_ok_and(|v| v == "1");
    if root.join("models").is_dir() {
        // A directory is scanned for changes recursively: cheap for the assets' few dozen files.
        println!("cargo::rerun-if-changed={}", root.display());
    } else if !required {
        // Not watched while missing (watching a missing path would rebuild on every run): after
        // adding the assets, `touch build.rs` or set EDGEBERT_ASSETS once to pick them up.
        println!("cargo::rustc-cfg=edgebert_no_assets");
    }
}
