//! The one error type every Keyplane surface maps from.

use core::fmt;

/// Everything that can go wrong in Keyplane.
///
/// Each variant has a stable string [`code`](Error::code) and a stable number
/// [`number`](Error::number); the C, Python and Node bindings expose exactly these. Messages are
/// fixed strings: a decryption failure never says *why* it failed (wrong key, wrong context,
/// tampered bytes and truncation are one error), so the error cannot be used as an oracle.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// No key (or alias) with that id exists in this keyring.
    NotFound,
    /// A key or alias with that id already exists.
    AlreadyExists,
    /// An argument is malformed or out of range; the text names which.
    InvalidInput(&'static str),
    /// The key's usage or spec does not allow this operation.
    InvalidKeyUsage,
    /// The key is disabled.
    KeyDisabled,
    /// The key's state (pending deletion, pending import) does not allow this operation.
    InvalidKeyState,
    /// The ciphertext is not authentic under this keyring with this encryption context.
    InvalidCiphertext,
    /// The caller's output buffer is too small; `needed` bytes are required.
    BufferTooSmall {
        /// The number of bytes the output buffer must hold.
        needed: usize,
    },
    /// The algorithm or key spec is not supported for this operation.
    UnsupportedAlgorithm,
    /// A FIPS build refuses a service the FIPS module does not approve (or any service while the
    /// module is not in FIPS mode); the text says why. Its code is `KP_UNSUPPORTED_ALGORITHM`,
    /// the same as [`UnsupportedAlgorithm`](Self::UnsupportedAlgorithm) (see the `fips` module).
    NotApproved(&'static str),
    /// A size or count limit was reached; the text names which.
    LimitExceeded(&'static str),
    /// The ciphertext was made with a key version older than the key's minimum decryption
    /// version.
    VersionRetired,
    /// The key store could not be read or written (or is in use by another process); the text
    /// says which. The change that needed it was not made.
    Storage(&'static str),
    /// The underlying cryptographic library failed unexpectedly (for example, the system random
    /// number generator). Never caused by bad input.
    Internal,
}

impl Error {
    /// A stable, machine-readable code, identical across Rust, C, Python and Node.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "KP_NOT_FOUND",
            Self::AlreadyExists => "KP_ALREADY_EXISTS",
            Self::InvalidInput(_) => "KP_INVALID_INPUT",
            Self::InvalidKeyUsage => "KP_INVALID_KEY_USAGE",
            Self::KeyDisabled => "KP_KEY_DISABLED",
            Self::InvalidKeyState => "KP_INVALID_KEY_STATE",
            Self::InvalidCiphertext => "KP_INVALID_CIPHERTEXT",
            Self::BufferTooSmall { .. } => "KP_BUFFER_TOO_SMALL",
            Self::UnsupportedAlgorithm | Self::NotApproved(_) => "KP_UNSUPPORTED_ALGORITHM",
            Self::LimitExceeded(_) => "KP_LIMIT_EXCEEDED",
            Self::VersionRetired => "KP_VERSION_RETIRED",
            Self::Storage(_) => "KP_STORAGE",
            Self::Internal => "KP_INTERNAL",
        }
    }

    /// A stable number for the code (the C ABI's `kp_status`). Numbers are never reused.
    #[must_use]
    pub const fn number(&self) -> u32 {
        match self {
            Self::NotFound => 1,
            Self::AlreadyExists => 2,
            Self::InvalidInput(_) => 3,
            Self::InvalidKeyUsage => 4,
            Self::KeyDisabled => 5,
            Self::InvalidKeyState => 6,
            Self::InvalidCiphertext => 7,
            Self::BufferTooSmall { .. } => 8,
            Self::UnsupportedAlgorithm | Self::NotApproved(_) => 9,
            Self::LimitExceeded(_) => 10,
            Self::VersionRetired => 11,
            Self::Storage(_) => 12,
            Self::Internal => 100,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound => f.write_str("key not found"),
            Self::AlreadyExists => f.write_str("key or alias already exists"),
            Self::InvalidInput(what) => write!(f, "invalid input: {what}"),
            Self::InvalidKeyUsage => f.write_str("the key's usage does not allow this operation"),
            Self::KeyDisabled => f.write_str("key is disabled"),
            Self::InvalidKeyState => f.write_str("the key's state does not allow this operation"),
            Self::InvalidCiphertext => f.write_str("invalid ciphertext"),
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
            Self::UnsupportedAlgorithm => f.write_str("unsupported algorithm or key spec"),
            Self::NotApproved(why) => write!(f, "not approved in FIPS mode: {why}"),
            Self::LimitExceeded(what) => write!(f, "limit exceeded: {what}"),
            Self::VersionRetired => {
                f.write_str("key version is below the key's minimum decryption version")
            }
            Self::Storage(what) => write!(f, "key store: {what}"),
            Self::Internal => f.write_str("internal cryptographic failure"),
        }
    }
}

impl std::error::Error for Error {}

/// `Result` with Keyplane's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;
