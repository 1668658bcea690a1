//! One error type for everything that touches a target. Its kind crosses napi as a stable `code`.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    ProcessNotFound,
    PermissionDenied,
    NotPython,
    UnsupportedVersion,
    ProcessExited,
    ReadFailed,
    InvalidArgument,
    /// The core file is empty: the kernel or the copy wrote nothing.
    EmptyCore,
    /// The file is not an ELF core (not ELF at all, or an executable, library or object file).
    NotACore,
    /// The core is shorter than its own headers say: cut by the core size limit or an unfinished copy.
    TruncatedCore,
    /// A core of a processor architecture the walkers cannot read.
    UnsupportedArchitecture,
    /// A file the core maps is needed and not here (before 3.13, the interpreter's binary).
    MissingBinary,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 12] = [
        ErrorKind::ProcessNotFound,
        ErrorKind::PermissionDenied,
        ErrorKind::NotPython,
        ErrorKind::UnsupportedVersion,
        ErrorKind::ProcessExited,
        ErrorKind::ReadFailed,
        ErrorKind::InvalidArgument,
        ErrorKind::EmptyCore,
        ErrorKind::NotACore,
        ErrorKind::TruncatedCore,
        ErrorKind::UnsupportedArchitecture,
        ErrorKind::MissingBinary,
    ];

    /// The stable code JS sees as `error.code`.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::ProcessNotFound => "PYSPY_NO_SUCH_PROCESS",
            ErrorKind::PermissionDenied => "PYSPY_PERMISSION_DENIED",
            ErrorKind::NotPython => "PYSPY_NOT_PYTHON",
            ErrorKind::UnsupportedVersion => "PYSPY_UNSUPPORTED_VERSION",
            ErrorKind::ProcessExited => "PYSPY_PROCESS_EXITED",
            ErrorKind::ReadFailed => "PYSPY_READ_FAILED",
            ErrorKind::InvalidArgument => "PYSPY_INVALID_ARGUMENT",
            ErrorKind::EmptyCore => "PYSPY_EMPTY_CORE",
            ErrorKind::NotACore => "PYSPY_NOT_A_CORE",
            ErrorKind::TruncatedCore => "PYSPY_TRUNCATED_CORE",
            ErrorKind::UnsupportedArchitecture => "PYSPY_UNSUPPORTED_ARCHITECTURE",
            ErrorKind::MissingBinary => "PYSPY_MISSING_BINARY",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    /// One line, for people; says how to fix it where there is a fix.
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into() }
    }
    pub fn read_failed(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::ReadFailed, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
