//! Read-only memory maps of blob files: the only `unsafe` in the engine.
//!
//! Mapping instead of reading is what makes opening a blob cost microseconds and keeps weights
//! out of the process's private memory: pages are faulted in from the page cache when a kernel
//! first touches them and shared between processes that run the same model.

use memmap2::Mmap;
use std::fs::File;
use std::io;
use std::path::Path;

/// A whole file mapped read-only.
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

    pub fn bytes(&self) -> &[u8] {
        &self.map
    }
}
