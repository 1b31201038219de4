//! Opening a blob maps it and reads only its header and index: resident memory grows by a few
//! pages, not by the size of the weights (Linux: VmRSS from /proc/self/status).

mod blob_common;

use blob_common::shaped::{write_blob, Shape};
use edgebert_engine::blob::Blob;

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn open_keeps_the_weights_out_of_resident_memory() {
    let shapes = [
        Shape { name: "rss-minilm", hidden: 384, layers: 6 },
        Shape { name: "rss-base", hidden: 768, layers: 12 },
    ];
    for s in &shapes {
        let path = write_blob(s);
        let Some(before) = rss_kib() else {
            eprintln!("skipped: no /proc/self/status on this platform");
            return;
        };
        let blob = Blob::open(&path).unwrap();
        let info_ok = blob.tensors().len() > 100;
        let after_open = rss_kib().unwrap();
        blob.verify().unwrap();
        let after_verify = rss_kib().unwrap();
        let file_kib = blob.bytes().len() as u64 / 1024;
        println!(
            "{}: file {file_kib} KiB; RSS +{} KiB after open, +{} KiB after verify (touches every page)",
            s.name,
            after_open.saturating_sub(before),
            after_verify.saturating_sub(before)
        );
        drop(blob);
        let _ = std::fs::remove_file(&path);
        assert!(info_ok);
        // Header + index are ~10-20 KiB; allow allocator noise, but nowhere near the weights.
        assert!(after_open.saturating_sub(before) < 1024, "open made {} KiB resident", after_open - before);
        // The control: reading everything does make the mapping resident, so the probe works.
        assert!(
            after_verify.saturating_sub(before) > file_kib / 2,
            "verify touched only {} KiB",
            after_verify - before
        );
    }
}
