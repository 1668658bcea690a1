//! `dump --core` natively: the core and the files it maps are read from this machine's file
//! system with `pread`, in pieces; pyspy-core does the rest, as it does for WASM.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use pyspy_core::core_file::{dump_core, ByteSource, CoreFile, FileOpener, SuppliedFile};
use pyspy_core::dump::{DumpOptions, ProcessDump};
use pyspy_core::{Error, ErrorKind, Result};

/// A regular file, read at offsets.
pub struct FileSource {
    file: File,
    len: u64,
    path: String,
}

impl FileSource {
    /// Only regular files: checked before opening, since opening a FIFO would block.
    pub fn open(path: &str) -> std::io::Result<FileSource> {
        if !std::fs::metadata(path)?.is_file() {
            return Err(std::io::Error::other("not a regular file"));
        }
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(FileSource { len, file, path: path.to_string() })
    }
}

impl ByteSource for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.file.read_exact_at(buf, offset).map_err(|e| {
            Error::read_failed(format!("could not read {} bytes of {} at offset {offset:#x}: {e}", buf.len(), self.path))
        })
    }
}

/// The files a core maps, where they are on this machine.
struct PathOpener;

impl FileOpener for PathOpener {
    fn open(&self, path: &str) -> Option<Box<dyn ByteSource>> {
        FileSource::open(path).ok().map(|f| Box::new(f) as Box<dyn ByteSource>)
    }
}

fn open_argument(path: &str, what: &str) -> Result<FileSource> {
    FileSource::open(path).map_err(|e| {
        let kind = if e.kind() == std::io::ErrorKind::PermissionDenied {
            ErrorKind::PermissionDenied
        } else {
            ErrorKind::InvalidArgument
        };
        Error::new(kind, format!("could not open {what} {path}: {e}"))
    })
}

/// The core at `core_path`, or `core_bytes` when the caller has it in memory (named `core_path`).
pub fn dump_core_file(
    core_path: &str,
    core_bytes: Option<Vec<u8>>,
    binaries: &[String],
    options: DumpOptions,
) -> Result<ProcessDump> {
    let core: Box<dyn ByteSource> = match core_bytes {
        Some(bytes) => Box::new(bytes),
        None => Box::new(open_argument(core_path, "the core")?),
    };
    let supplied = binaries
        .iter()
        .map(|path| Ok(SuppliedFile { name: path.clone(), source: Box::new(open_argument(path, "--binary")?) }))
        .collect::<Result<Vec<_>>>()?;
    let name = Path::new(core_path).file_name().map_or(core_path.to_string(), |n| n.to_string_lossy().into_owned());
    let core = CoreFile::open(&name, core, supplied, Box::new(PathOpener))?;
    dump_core(&core, options)
}
