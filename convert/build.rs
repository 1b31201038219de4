//! Tells the integration tests whether ../shared/assets exists (see build-support/assets_cfg.rs).

include!("../build-support/assets_cfg.rs");

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=../build-support/assets_cfg.rs");
    emit_assets_cfg("..");
}
