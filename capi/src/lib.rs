//! edgebert-capi: the C ABI of edgebert (`libedgebert.so`, `libedgebert.a`) and, behind the
//! `jni` feature, the native half of the Java/Kotlin binding (bindings/java), both thin layers
//! over `edgebert-engine`: every behaviour lives in the engine, so C, Java and the command line
//! give the same numbers for the same blob and text.
//!
//! `include/edgebert.h` is the contract, checked by `.ci/capi` against the exported symbols.
//! `unsafe` lives only in the boundary modules (`ffi`, `jni`, and the session borrow in
//! `handles`); the calls themselves (`ops`) are safe Rust.
//!
//! Depends only on the engine (and libc for one fd check, jni for the JVM side).

mod ffi;
mod handles;
#[cfg(feature = "jni")]
mod jni;
mod ops;
mod status;
