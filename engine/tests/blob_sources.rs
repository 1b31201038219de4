//! The three ways to open a blob besides a path: the caller's memory used in place
//! ([`Blob::from_static`]), and a region of an open file ([`Blob::open_fd_region`], how Android
//! reads an uncompressed APK asset). Each must see exactly the bytes of the path route, and refuse
//! misplaced, out-of-file or truncated regions with a named error.

mod blob_common;

use blob_common::Spec;
use edgebert_engine::blob::{Blob, BlobError, BUFFER_ALIGN};
use std::io::Write;
use std::os::fd::AsFd;

/// `bytes` copied into leaked `u64` storage, starting `shift` bytes into it.
fn leaked(bytes: &[u8], shift: usize) -> &'static [u8] {
    let words: &'static mut [u64] =
        Box::leak(vec![0u64; (bytes.len() + shift).div_ceil(8) + 1].into_boxed_slice());
    let all: &'static mut [u8] = bytemuck::cast_slice_mut(words);
    all[shift..shift + bytes.len()].copy_from_slice(bytes);
    &all[shift..shift + bytes.len()]
}

/// A file holding `prefix` bytes of junk, the blob, then `suffix` bytes of junk.
fn embedded(blob: &[u8], prefix: usize, suffix: usize, name: &str) -> std::fs::File {
    let path = std::env::temp_dir().join(format!("edgebert-sources-{}-{name}.bin", std::process::id()));
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(&vec![0xA5; prefix]).unwrap();
    f.write_all(blob).unwrap();
    f.write_all(&vec![0x5A; suffix]).unwrap();
    drop(f);
    let f = std::fs::File::open(&path).unwrap();
    std::fs::remove_file(&path).unwrap(); // the open fd keeps the inode
    f
}

#[test]
fn a_borrowed_buffer_is_used_in_place() {
    let bytes = Spec::valid().build();
    let buf = leaked(&bytes, 0);
    let blob = Blob::from_static(buf).expect("opens");
    assert_eq!(blob.bytes().as_ptr(), buf.as_ptr(), "no copy");
    assert_eq!(blob.bytes(), &bytes[..]);
    assert_eq!(blob.tensors().len(), 4);
    assert_eq!(blob.f32("bias").unwrap(), &[0.5, -1.0, 2.0]);
    blob.verify().expect("verifies");
}

#[test]
fn a_misaligned_buffer_is_refused_by_name() {
    let bytes = Spec::valid().build();
    for shift in 1..BUFFER_ALIGN {
        match Blob::from_static(leaked(&bytes, shift)) {
            Err(e @ BlobError::UnalignedBuffer { align: BUFFER_ALIGN, .. }) => {
                assert!(e.to_string().contains("multiple of 4"), "{e}")
            }
            other => panic!("shift {shift}: {:?}", other.map(|_| ())),
        }
    }
    // 4-aligned but not 8-aligned is fine: only f32/i32/f16 views are taken.
    Blob::from_static(leaked(&bytes, 4)).expect("4-aligned opens");
}

#[test]
fn truncated_and_garbage_buffers_get_format_errors() {
    let bytes = Spec::valid().build();
    assert!(matches!(Blob::from_static(leaked(&bytes[..10], 0)), Err(BlobError::TooShort { len: 10 })));
    assert!(matches!(Blob::from_static(leaked(&[], 0)), Err(BlobError::TooShort { len: 0 })));
    let cut = Blob::from_static(leaked(&bytes[..bytes.len() - 1], 0));
    assert!(cut.is_err(), "a blob one byte short must be refused");
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    assert!(matches!(Blob::from_static(leaked(&garbage, 0)), Err(BlobError::BadMagic { .. })));
}

#[test]
fn a_file_region_maps_the_same_bytes() {
    let bytes = Spec::valid().build();
    // 100: 4-aligned but not page-aligned, as zipalign leaves APK assets.
    for prefix in [0, 100, 4096, 4096 + 8] {
        let f = embedded(&bytes, prefix, 37, &format!("ok{prefix}"));
        let blob = Blob::open_fd_region(f.as_fd(), prefix as u64, bytes.len() as u64).expect("opens");
        drop(f); // the mapping outlives the descriptor
        assert_eq!(blob.bytes(), &bytes[..], "prefix {prefix}");
        assert_eq!(blob.f32("bias").unwrap(), &[0.5, -1.0, 2.0]);
        blob.verify().expect("verifies");
    }
}

#[test]
fn bad_file_regions_are_refused_by_name() {
    let bytes = Spec::valid().build();
    let f = embedded(&bytes, 100, 0, "bad");
    let (fd, len) = (f.as_fd(), bytes.len() as u64);
    match Blob::open_fd_region(fd, 101, len - 1) {
        Err(e @ BlobError::UnalignedBuffer { .. }) => assert!(e.to_string().contains("offset 101"), "{e}"),
        other => panic!("unaligned offset: {:?}", other.map(|_| ())),
    }
    match Blob::open_fd_region(fd, 100, len + 1) {
        // The cause is the error's source (Display names the path once; `Report` prints both).
        Err(e @ BlobError::Io { .. }) => {
            let cause = std::error::Error::source(&e).map(ToString::to_string).unwrap_or_default();
            assert!(cause.contains("past the file's end"), "{e}: {cause}")
        }
        other => panic!("past the end: {:?}", other.map(|_| ())),
    }
    assert!(matches!(Blob::open_fd_region(fd, u64::MAX - 3, 8), Err(BlobError::Io { .. })));
    assert!(matches!(Blob::open_fd_region(fd, 100, 0), Err(BlobError::TooShort { len: 0 })));
    assert!(matches!(Blob::open_fd_region(fd, 100, 63), Err(BlobError::TooShort { len: 63 })));
    // The right start, one byte short: a truncated blob, refused by the format rules.
    assert!(Blob::open_fd_region(fd, 100, len - 1).is_err());
    // The junk before the blob is not a blob.
    assert!(matches!(Blob::open_fd_region(fd, 0, len), Err(BlobError::BadMagic { .. })));
}
