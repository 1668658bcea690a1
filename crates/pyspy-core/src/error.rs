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
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::ProcessNotFound,
        ErrorKind::PermissionDenied,
        ErrorKind::NotPython,
        ErrorKind::UnsupportedVersion,
        ErrorKind::ProcessExited,
        ErrorKind::ReadFailed,
        ErrorKind::InvalidArgument,
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
