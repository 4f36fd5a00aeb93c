//! What can go wrong in a command, how it is printed, and the exit code it maps to.

use std::fmt::Write as _;
use std::process::ExitCode;

/// A command's success exit code.
pub(crate) const EXIT_OK: u8 = 0;
/// A Keyplane operation failed (the error's code is printed; a service a FIPS build refuses is
/// one, `KP_UNSUPPORTED_ALGORITHM`), or a file could not be read or written.
pub(crate) const EXIT_FAILED: u8 = 1;
/// The command line is wrong (clap's usage errors, and values clap cannot check).
pub(crate) const EXIT_USAGE: u8 = 2;
/// The home, store or root key is missing, locked, wrong or unsafe.
pub(crate) const EXIT_SETUP: u8 = 3;
/// `verify` or `verify-mac` ran and the signature or MAC is not valid, or `audit verify` found
/// the log broken.
pub(crate) const EXIT_INVALID: u8 = 4;

/// A failed command.
#[derive(Debug)]
pub(crate) enum CliError {
    /// A Keyplane operation failed.
    Op {
        error: keyplane::Error,
        hint: Option<String>,
    },
    /// The home, store or root key is missing, locked, wrong or unsafe.
    Setup(String),
    /// A value on the command line that clap does not check is wrong.
    Usage(String),
    /// A file or stream could not be read or written.
    Io(String),
}

impl CliError {
    /// A Keyplane error with a hint of our own instead of the default one.
    pub(crate) fn op(error: keyplane::Error, hint: impl Into<String>) -> Self {
        Self::Op {
            error,
            hint: Some(hint.into()),
        }
    }

    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Self::Op {
                error: keyplane::Error::Storage(_),
                ..
            }
            | Self::Setup(_) => EXIT_SETUP,
            Self::Op { .. } | Self::Io(_) => EXIT_FAILED,
            Self::Usage(_) => EXIT_USAGE,
        })
    }

    /// The message for stderr.
    pub(crate) fn message(&self) -> String {
        let mut out = String::new();
        match self {
            Self::Op { error, hint } => {
                let _ = write!(out, "keyplane: {}: {error}", error.code());
                if let Some(hint) = hint.clone().or_else(|| default_hint(error)) {
                    let _ = write!(out, "\n  hint: {hint}");
                }
            }
            Self::Setup(msg) | Self::Io(msg) => {
                let _ = write!(out, "keyplane: {msg}");
            }
            Self::Usage(msg) => {
                let _ = write!(out, "error: {msg}\n\nFor more information, try '--help'.");
            }
        }
        out
    }
}

impl From<keyplane::Error> for CliError {
    fn from(error: keyplane::Error) -> Self {
        Self::Op { error, hint: None }
    }
}

/// What to do about each error code, when the command has nothing more specific to say.
fn default_hint(error: &keyplane::Error) -> Option<String> {
    use keyplane::Error as E;
    let hint = match error {
        E::NotFound => {
            "no key or alias with that name here: see `keyplane list-keys` and \
                        `keyplane list-aliases`"
        }
        E::AlreadyExists => "choose another key id or alias (see `keyplane list-aliases`)",
        E::InvalidInput(_) => "check the value named above against `keyplane <command> --help`",
        E::InvalidKeyUsage => {
            "the key's spec or usage does not allow this operation or algorithm: see \
             `keyplane describe-key --key-id ...` (KeyUsage and the *Algorithms lists)"
        }
        E::KeyDisabled => "enable it with `keyplane enable-key --key-id ...`",
        E::InvalidKeyState => {
            "the key is pending deletion (`keyplane cancel-key-deletion`) or waiting for \
             imported material (`keyplane import-key-material`)"
        }
        E::InvalidCiphertext => {
            "the data is damaged, was made under a key this home does not hold, or the \
             encryption context (--context) differs from the one used to encrypt"
        }
        E::UnsupportedAlgorithm => {
            "this key spec does not support the operation (for example, only SYMMETRIC_DEFAULT \
             keys made here rotate)"
        }
        E::NotApproved(_) => {
            "this keyplane is built on the AWS-LC FIPS module (see `keyplane version`), which \
             does not approve this; use an approved key spec, algorithm or message type"
        }
        E::LimitExceeded(_) => "use a smaller input or a new key",
        E::VersionRetired => {
            "the blob was made with a key version below the key's minimum decryption version"
        }
        E::Storage(_) => {
            "check that KEYPLANE_HOME is on a writable disk with free space; no change was made"
        }
        _ => return None,
    };
    Some(hint.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fips_refusal_is_an_unsupported_algorithm_with_its_reason() {
        let e = CliError::from(keyplane::Error::NotApproved(keyplane::fips::SECP256K1));
        assert_eq!(e.exit_code(), ExitCode::from(EXIT_FAILED));
        let unsupported = CliError::from(keyplane::Error::UnsupportedAlgorithm);
        assert_eq!(unsupported.exit_code(), ExitCode::from(EXIT_FAILED));
        let message = e.message();
        assert!(
            message.starts_with(&format!(
                "keyplane: KP_UNSUPPORTED_ALGORITHM: not approved in FIPS mode: {}",
                keyplane::fips::SECP256K1
            )),
            "{message}"
        );
        assert!(message.contains("hint: this keyplane is built on the AWS-LC FIPS module"));
    }
}
