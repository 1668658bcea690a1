//! The files a core's process had mapped (`NT_FILE`), when the caller can supply them: what the
//! core left out of their pages (text, read-only data: never written, so not dumped) is read from
//! them, and so are the symbols and version strings of the interpreter.
//!
//! A file comes from one of two places: one the user handed over (`--binary PATH`, a file chosen
//! in a browser), matched to the mapped path by its file name; else the mapped path itself, where
//! it exists on this machine (the caller's `FileOpener` decides what "exists" means: a file system
//! natively, nothing in a browser).

use std::cell::RefCell;
use std::rc::Rc;

use rustc_hash::FxHashMap;

use super::notes::FileMapping;
use super::source::{ByteSource, ChunkedSource};
use crate::{Error, ErrorKind, Result};

/// The interpreter's binaries are tens of MiB (a debug build ~40); a whole-file read beyond this
/// is refused rather than allowed to exhaust a 32-bit address space.
const MAX_WHOLE_FILE_BYTES: u64 = 512 << 20;
/// Chunks kept per mapped file (64 KiB each): reads there are few (read-only data the core left
/// out), and a process maps hundreds of files.
const CHUNKS_PER_FILE: usize = 8;

/// Opens a mapped file by the path the target knew it by; None where there is no such file.
pub trait FileOpener {
    fn open(&self, path: &str) -> Option<Box<dyn ByteSource>>;
}

/// For callers that have no file system (a browser page): only supplied files are used.
pub struct NoFiles;

impl FileOpener for NoFiles {
    fn open(&self, _path: &str) -> Option<Box<dyn ByteSource>> {
        None
    }
}

/// A file the user supplied for one the core maps; `name` is its own path or name, and only its
/// last component counts for matching.
pub struct SuppliedFile {
    pub name: String,
    pub source: Box<dyn ByteSource>,
}

pub type SharedSource = Rc<ChunkedSource<Box<dyn ByteSource>>>;

pub struct MappedFiles {
    opener: Box<dyn FileOpener>,
    /// Mapped path -> the supplied file for it.
    supplied: FxHashMap<String, SharedSource>,
    opened: RefCell<FxHashMap<String, Option<SharedSource>>>,
    /// Mapped path -> the least file size its mappings need.
    least_size: FxHashMap<String, u64>,
}

pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

impl MappedFiles {
    /// Matches each supplied file to the mapped paths of the same file name; a supplied file that
    /// matches none is an error, since the user meant it for something.
    pub fn new(mappings: &[FileMapping], supplied: Vec<SuppliedFile>, opener: Box<dyn FileOpener>) -> Result<MappedFiles> {
        let mut least_size: FxHashMap<String, u64> = FxHashMap::default();
        for m in mappings {
            let size = least_size.entry(m.path.clone()).or_default();
            *size = (*size).max(m.file_offset.saturating_add(1));
        }
        let mut by_path = FxHashMap::default();
        for file in supplied {
            let wanted = file_name(&file.name);
            let shared: SharedSource = Rc::new(ChunkedSource::with_chunks(file.source, CHUNKS_PER_FILE));
            let mut matched = false;
            for path in least_size.keys().filter(|p| file_name(p) == wanted) {
                by_path.insert(path.clone(), shared.clone());
                matched = true;
            }
            if !matched {
                let mut names: Vec<&str> = least_size.keys().map(|p| file_name(p)).collect();
                names.sort_unstable();
                names.dedup();
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("--binary {}: the core maps no file of that name (it maps {})", file.name, names.join(", ")),
                ));
            }
        }
        Ok(MappedFiles { opener, supplied: by_path, opened: RefCell::default(), least_size })
    }

    /// The file mapped as `path`, if it can be had and is at least as long as the mappings need.
    pub fn get(&self, path: &str) -> Option<SharedSource> {
        if let Some(file) = self.opened.borrow().get(path) {
            return file.clone();
        }
        let file = self
            .supplied
            .get(path)
            .cloned()
            .or_else(|| self.opener.open(path).map(|source| Rc::new(ChunkedSource::with_chunks(source, CHUNKS_PER_FILE))))
            .filter(|f| f.len() >= self.least_size.get(path).copied().unwrap_or(0));
        self.opened.borrow_mut().insert(path.to_string(), file.clone());
        file
    }

    pub fn is_available(&self, path: &str) -> bool {
        self.get(path).is_some()
    }

    pub fn read_whole(&self, path: &str) -> Result<Vec<u8>> {
        let file = self.get(path).ok_or_else(|| Error::read_failed(format!("{path} is not available here")))?;
        if file.len() > MAX_WHOLE_FILE_BYTES {
            return Err(Error::read_failed(format!("{path} is larger than {} MiB", MAX_WHOLE_FILE_BYTES >> 20)));
        }
        let mut bytes = vec![0u8; file.len() as usize];
        file.inner().read_exact_at(0, &mut bytes)?;
        Ok(bytes)
    }
}
