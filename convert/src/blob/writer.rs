//! Writing a blob to disk so that a crash never leaves half a file under the final name, and an
//! existing different file is never replaced by accident (docs/FORMAT.md §7).

use super::quantize::EncodedTensor;
use anyhow::{bail, Context, Result};
use edgebert_engine::blob::encode::{plan, EntrySpec, FilePlan};
use edgebert_engine::blob::{Blob, MetaValue};
use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::Path;

/// What happened to the destination path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    Created,
    /// An existing different file was replaced (only with `force`).
    Replaced,
    /// The file already held exactly these bytes; it was left alone.
    Unchanged,
}

/// Writes `tensors` and `metadata` as a blob at `path`: to a temporary file in the same
/// directory, synced, re-opened with the engine's reader with every checksum checked, then
/// renamed into place. Returns the outcome and the file's length.
pub fn write_blob(
    path: &Path,
    metadata: &[(String, MetaValue)],
    tensors: &[EncodedTensor],
    force: bool,
) -> Result<(WriteOutcome, u64)> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let file_name = path.file_name().with_context(|| format!("{}: not a file path", path.display()))?;
    let specs: Vec<EntrySpec> = tensors.iter().map(|t| t.spec.clone()).collect();
    let layout = plan(metadata, &specs);
    // Same directory, so the final rename is atomic (same filesystem) and never copies.
    let prefix = format!(".{}.", file_name.to_string_lossy());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // tempfile creates 0600 files; a model blob is an ordinary file others may read, so ask for
    // 0666 and let the umask decide, as any `File::create` would.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let tmp = builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    {
        let mut out = BufWriter::with_capacity(1 << 20, tmp.as_file());
        emit(&mut out, &layout, tensors)?;
        out.flush().with_context(|| format!("cannot write {}", tmp.path().display()))?;
    }
    tmp.as_file().sync_all().with_context(|| format!("cannot sync {}", tmp.path().display()))?;
    verify_written(tmp.path(), layout.file_len)?;

    let outcome = if path.exists() {
        if same_contents(path, tmp.path())? {
            return Ok((WriteOutcome::Unchanged, layout.file_len as u64));
        }
        if !force {
            bail!(
                "{} already exists and differs from the new blob; pass --force to replace it",
                path.display()
            );
        }
        WriteOutcome::Replaced
    } else {
        WriteOutcome::Created
    };
    let renamed = match outcome {
        // No-clobber: a file that appeared since the check above is not silently replaced.
        WriteOutcome::Created => tmp.persist_noclobber(path),
        _ => tmp.persist(path),
    };
    renamed.with_context(|| format!("cannot rename the temporary file to {}", path.display()))?;
    // Make the rename itself durable; not every platform can open a directory, so best effort.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok((outcome, layout.file_len as u64))
}

/// The bytes [`write_blob`] would write, in memory (calibration runs candidate blobs without
/// touching the disk).
pub fn blob_bytes(metadata: &[(String, MetaValue)], tensors: &[EncodedTensor]) -> Vec<u8> {
    let specs: Vec<EntrySpec> = tensors.iter().map(|t| t.spec.clone()).collect();
    let layout = plan(metadata, &specs);
    let mut out = Vec::with_capacity(layout.file_len);
    // Writing into a Vec cannot fail.
    let _ = emit(&mut out, &layout, tensors);
    out
}

/// The header, then each tensor at its planned offset (zero padding in between).
fn emit(out: &mut impl Write, layout: &FilePlan, tensors: &[EncodedTensor]) -> std::io::Result<()> {
    out.write_all(&layout.prefix)?;
    let mut at = layout.prefix.len();
    for (t, &offset) in tensors.iter().zip(&layout.offsets) {
        out.write_all(&vec![0u8; offset - at])?;
        out.write_all(&t.data)?;
        at = offset + t.data.len();
    }
    Ok(())
}

/// Re-reads the file through the engine, exactly as a user's engine will, and checks every
/// tensor checksum: what was written is what was meant.
fn verify_written(path: &Path, expected_len: usize) -> Result<()> {
    let blob = Blob::open(path)
        .with_context(|| format!("the blob just written to {} does not open", path.display()))?;
    blob.verify()
        .with_context(|| format!("the blob just written to {} fails verification", path.display()))?;
    if blob.bytes().len() != expected_len {
        bail!("{}: wrote {} bytes, planned {expected_len}", path.display(), blob.bytes().len());
    }
    Ok(())
}

fn same_contents(a: &Path, b: &Path) -> Result<bool> {
    let len =
        |p: &Path| fs::metadata(p).map(|m| m.len()).with_context(|| format!("cannot stat {}", p.display()));
    if len(a)? != len(b)? {
        return Ok(false);
    }
    let open = |p: &Path| File::open(p).with_context(|| format!("cannot read {}", p.display()));
    let (mut fa, mut fb) = (open(a)?, open(b)?);
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let n = fa.read(&mut ba)?;
        if n == 0 {
            return Ok(true);
        }
        fb.read_exact(&mut bb[..n])?;
        if ba[..n] != bb[..n] {
            return Ok(false);
        }
    }
}
