//! Read-only memory maps of blob files: the only `unsafe` in the engine.
//!
//! Mapping instead of reading is what makes opening a blob cost microseconds and keeps weights
//! out of the process's private memory: pages are faulted in from the page cache when a kernel
//! first touches them and shared between processes that run the same model.

use memmap2::{Mmap, MmapOptions};
use std::fs::File;
use std::io;
use std::path::Path;

/// A whole file, or a region of one, mapped read-only.
pub struct MappedFile {
    map: Mmap,
}

impl MappedFile {
    pub fn open(path: &Path) -> io::Result<MappedFile> {
        let file = File::open(path)?;
        // SAFETY: a `&[u8]` over a mapping is sound only while no one modifies or truncates the
        // file. edgebert never writes a blob in place (the converter writes a temporary file and
        // renames it, which leaves existing mappings on the old inode), and the mapping is
        // read-only and private to this process; a third party truncating the file under us is
        // the documented limit of every mmap-based loader (memmap2's contract).
        let map = unsafe { Mmap::map(&file)? };
        Ok(MappedFile { map })
    }

    /// Maps bytes `[offset, offset + len)` of the file open as `file`: an uncompressed asset
    /// inside an Android APK, or a blob appended to another file. The region must lie inside the
    /// file (checked against its current size: a mapping past the end would fault on first
    /// touch, not fail here). The mapping outlives `file`: the caller may close it afterwards.
    #[cfg(unix)]
    pub fn open_region(file: std::os::fd::BorrowedFd<'_>, offset: u64, len: u64) -> io::Result<MappedFile> {
        use std::os::fd::AsRawFd;
        let size = File::from(file.try_clone_to_owned()?).metadata()?.len();
        let end = offset.checked_add(len).filter(|&end| end <= size).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("region [{offset}, {offset} + {len}) ends past the file's end ({size} bytes)"),
            )
        })?;
        let len = usize::try_from(len).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("region of {len} bytes does not fit in memory"),
            )
        })?;
        debug_assert!(end <= size);
        // SAFETY: as for `open`: the region [offset, end) lies inside the file's current size
        // (checked above), and the mapping is read-only and private. Its bytes stay valid while
        // no one truncates or rewrites the file (an APK is never modified while installed), the
        // limit memmap2 documents (which also handles an empty region). `file` is a valid open descriptor for this call (BorrowedFd).
        let map = unsafe { MmapOptions::new().offset(offset).len(len).map(file.as_raw_fd())? };
        Ok(MappedFile { map })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.map
    }
}
