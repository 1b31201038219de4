//! The native half of `dev.edgebert.Model` (bindings/java): `Java_dev_edgebert_Model_*`, the same
//! calls as the C functions (`ops`, `handles`), with Java types. Built with `--features jni` into
//! the same libedgebert.so an Android app loads with `System.loadLibrary("edgebert")`.
//!
//! Every function runs inside [`call`]: an error, or a panic caught there, becomes a thrown
//! `dev.edgebert.EdgebertException` carrying the status code and the engine's message; nothing
//! unwinds into the JVM. Handles are the registry's numbers as Java `long`s.

use crate::handles;
use crate::ops;
use crate::status::{Failure, Outcome, E_INTERNAL, E_INVALID_ARGUMENT, E_NULL_POINTER};
use jni::objects::{JByteArray, JClass, JFloatArray, JObject, JString, JThrowable, JValue};
use jni::sys::{jint, jlong, jobjectArray, jstring};
use jni::JNIEnv;
use std::panic::{catch_unwind, AssertUnwindSafe};

const EXCEPTION: &str = "dev/edgebert/EdgebertException";

fn jni_failure(e: jni::errors::Error) -> Failure {
    match e {
        jni::errors::Error::NullPtr(what) | jni::errors::Error::NullDeref(what) => {
            Failure::new(E_NULL_POINTER, format!("{what} is null"))
        }
        other => Failure::new(E_INTERNAL, format!("JNI: {other}")),
    }
}

/// Runs one native method: the value, or (after throwing an EdgebertException) `T::default()`.
fn call<'l, T: Default>(env: &mut JNIEnv<'l>, f: impl FnOnce(&mut JNIEnv<'l>) -> Outcome<T>) -> T {
    let outcome = catch_unwind(AssertUnwindSafe(|| f(env))).unwrap_or_else(|_| {
        Err(Failure::new(E_INTERNAL, "internal error in edgebert (a caught panic; please report it)"))
    });
    match outcome {
        Ok(v) => v,
        Err(failure) => {
            throw(env, &failure);
            T::default()
        }
    }
}

fn throw(env: &mut JNIEnv<'_>, failure: &Failure) {
    // A pending exception (from a failed JNI call) already tells the caller what went wrong.
    if env.exception_check().unwrap_or(true) {
        return;
    }
    let thrown = env.new_string(&failure.message).and_then(|msg| {
        let args = [JValue::Int(failure.code), JValue::Object(&msg)];
        let obj = env.new_object(EXCEPTION, "(ILjava/lang/String;)V", &args)?;
        env.throw(JThrowable::from(obj))
    });
    if thrown.is_err() && !env.exception_check().unwrap_or(true) {
        let _ = env.throw_new("java/lang/RuntimeException", &failure.message);
    }
}

fn string(env: &mut JNIEnv<'_>, s: &JString<'_>, what: &str) -> Outcome<String> {
    if s.is_null() {
        return Err(Failure::new(E_NULL_POINTER, format!("{what} is null")));
    }
    Ok(env.get_string(s).map_err(jni_failure)?.into())
}

fn id(handle: jlong) -> usize {
    // Registry handles fit in a jlong by construction; anything else is not a live handle.
    usize::try_from(handle).unwrap_or(0)
}

#[no_mangle]
pub extern "system" fn Java_dev_edgebert_Model_nativeOpenPath<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    path: JString<'l>,
) -> jlong {
    call(&mut env, |env| Ok(ops::open_path(&string(env, &path, "path")?)? as jlong))
}

#[no_mangle]
pub extern "system" fn Java_dev_edgebert_Model_nativeOpenBytes<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    blob: JByteArray<'l>,
) -> jlong {
    call(&mut env, |env| {
        if blob.is_null() {
            return Err(Failure::new(E_NULL_POINTER, "blob is null"));
        }
        let bytes = env.convert_byte_array(&blob).map_err(jni_failure)?;
        Ok(ops::open_copy(&bytes)? as jlong)
    })
}

#[no_mangle]
pub extern "system" fn Java_dev_edgebert_Model_nativeOpenFd<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    fd: jint,
    offset: jlong,
    length: jlong,
) -> jlong {
    call(&mut env, |_| {
        let (Ok(offset), Ok(length)) = (u64::try_from(offset), u64::try_from(length)) else {
            return Err(Failure::new(
                E_INVALID_ARGUMENT,
                format!("offset {offset} and length {length} must be >= 0"),
            ));
        };
        // The C function checks the descriptor before borrowing it; reuse it rather than repeat.
        let mut out = std::ptr::null_mut();
        // SAFETY: `out` is a valid place for the handle; `fd` is the caller's (Java keeps the
        // ParcelFileDescriptor open during the call).
        let rc = unsafe { crate::ffi::edgebert_model_open_fd(fd, offset, length, &mut out) };
        if rc != 0 {
            // SAFETY: edgebert_last_error always returns a valid NUL-terminated string.
            let msg = unsafe { std::ffi::CStr::from_ptr(crate::ffi::edgebert_last_error()) };
            return Err(Failure::new(rc, msg.to_string_lossy()));
        }
        Ok(out as jlong)
    })
}

#[no_mangle]
pub extern "system" fn Java_dev_edgebert_Model_nativeSessionNew<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    model: jlong,
) -> jlong {
    call(&mut env, |_| Ok(handles::add_session(handles::model(id(model))?) as jlong))
}

#[no_mangle]
pub extern "system" fn Java_dev_edgebert_Model_nativeFree<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    model: jlong,
    session: jlong,
) {
    call(&mut env, |_| {
        // 0: the constructor failed before the session existed.
        if session != 0 {
            handles::free_session(id(session))?;
        }
        handles::free_model(id(model))
    })
}

#[no_mangle]
pub extern "system" fn Java_dev_edgebert_Model_nativeLabels<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    model: jlong,
) -> jobjectArray {
    call(&mut env, |env| {
        let m = handles::model(id(model))?;
        let array = env
            .new_object_array(m.labels.len() as jint, "java/lang/String", JObject::null())
            .map_err(jni_failure)?;
        for (i, label) in m.labels.iter().enumerate() {
            let s = env.new_string(label.to_string_lossy()).map_err(jni_failure)?;
            env.set_object_array_element(&array, i as jint, s).map_err(jni_failure)?;
        }
        Ok(array.into_raw())
    })
}

#[no_mangle]
pub extern "system" fn Java_dev_edgebert_Model_nativeEmbeddingDim<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    model: jlong,
) -> jint {
    call(&mut env, |_| Ok(ops::embedding_dim(&*handles::model(id(model))?) as jint))
}

#[no_mangle]
pub extern "system" fn Java_dev_edgebert_Model_nativeBackend<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    model: jlong,
) -> jstring {
    call(&mut env, |env| {
        let m = handles::model(id(model))?;
        Ok(env.new_string(m.backend.to_string_lossy()).map_err(jni_failure)?.into_raw())
    })
}

/// Writes the probabilities into `probs` (label count long) and returns the best label's index.
#[no_mangle]
pub extern "system" fn Java_dev_edgebert_Model_nativeClassify<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    session: jlong,
    text: JString<'l>,
    probs: JFloatArray<'l>,
) -> jint {
    call(&mut env, |env| {
        let s = handles::session(id(session))?;
        let text = string(env, &text, "text")?;
        let (p, best) = ops::classify(&s, &[&text])?;
        let have = env.get_array_length(&probs).map_err(jni_failure)? as usize;
        ops::require_len(have, p.len(), "probs")?;
        env.set_float_array_region(&probs, 0, &p).map_err(jni_failure)?;
        Ok(best.first().copied().unwrap_or(0) as jint)
    })
}

#[no_mangle]
pub extern "system" fn Java_dev_edgebert_Model_nativeEmbed<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    session: jlong,
    text: JString<'l>,
    out: JFloatArray<'l>,
) {
    call(&mut env, |env| {
        let s = handles::session(id(session))?;
        let text = string(env, &text, "text")?;
        let e = ops::embed(&s, &[&text])?;
        let have = env.get_array_length(&out).map_err(jni_failure)? as usize;
        ops::require_len(have, e.len(), "out")?;
        env.set_float_array_region(&out, 0, &e).map_err(jni_failure)
    })
}
