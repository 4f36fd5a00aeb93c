//! What every command shares: how responses are printed (`Out`), what a command runs with
//! (`Cx`), and the response objects several commands print (a key's metadata, its state).

use std::time::SystemTime;

use keyplane::{KeyMetadata, Keyring, LocalRootKey};

use crate::error::{CliError, EXIT_OK};
use crate::io::{Sensitivity, b64, write_output};
use crate::output::{self, Format, Obj, Val};

/// How responses are printed.
pub(crate) struct Out {
    pub(crate) format: Format,
}

impl Out {
    pub(crate) fn print(&self, obj: &Obj) -> Result<u8, CliError> {
        output::print(obj, self.format)?;
        Ok(EXIT_OK)
    }

    /// Prints `obj` with `bytes` as its first field `name` (base64), or, with `target`, writes
    /// the bytes there and prints the rest (nothing when the bytes went to stdout).
    pub(crate) fn print_with(
        &self,
        mut obj: Obj,
        name: &'static str,
        bytes: &[u8],
        target: Option<&str>,
        base64: bool,
        sensitivity: Sensitivity,
    ) -> Result<u8, CliError> {
        match target {
            None => {
                let encoded = b64(bytes);
                obj.prepend(
                    name,
                    match sensitivity {
                        Sensitivity::Secret => Val::Secret(encoded),
                        Sensitivity::Public => Val::Str(encoded.to_string()),
                    },
                );
                self.print(&obj)
            }
            Some("-") => {
                write_output("-", bytes, base64, sensitivity)?;
                Ok(EXIT_OK)
            }
            Some(path) => {
                write_output(path, bytes, base64, sensitivity)?;
                self.print(&obj)
            }
        }
    }
}

/// What every command needs.
pub(crate) struct Cx<'a> {
    pub(crate) ring: &'a Keyring,
    pub(crate) root: &'a LocalRootKey,
    pub(crate) out: &'a Out,
}

pub(crate) fn time_or_null(t: Option<SystemTime>) -> Val {
    t.map(crate::time::format).into()
}

pub(crate) fn names<T: core::fmt::Display>(items: &[T]) -> Vec<String> {
    items.iter().map(ToString::to_string).collect()
}

/// AWS KMS's `KeyMetadata`, with Keyplane's versions and aliases.
pub(crate) fn metadata(m: &KeyMetadata) -> Obj {
    let days = m
        .rotation_period
        .map(|p| p.as_duration().as_secs() / 86_400);
    Obj::new()
        .with("KeyId", m.key_id.as_str())
        .with("CreationDate", crate::time::format(m.creation_date))
        .with("Enabled", m.key_state == keyplane::KeyState::Enabled)
        .with("Description", m.description.as_str())
        .with("KeyUsage", m.key_usage.as_str())
        .with("KeyState", m.key_state.as_str())
        .with("DeletionDate", time_or_null(m.deletion_date))
        .with("ValidTo", time_or_null(m.valid_to))
        .with("Origin", m.origin.as_str())
        .with("KeySpec", m.key_spec.as_str())
        .with("EncryptionAlgorithms", names(&m.encryption_algorithms))
        .with("SigningAlgorithms", names(&m.signing_algorithms))
        .with("MacAlgorithms", names(&m.mac_algorithms))
        .with("Aliases", m.aliases.clone())
        .with("RotationPeriodInDays", days)
        .with("NextRotationDate", time_or_null(m.next_rotation_date))
        .with("CurrentKeyVersion", m.current_version)
        .with("MinDecryptionVersion", m.min_decryption_version)
        .with(
            "KeyVersions",
            m.versions
                .iter()
                .map(|v| {
                    Obj::new()
                        .with("Version", v.version)
                        .with("CreationDate", crate::time::format(v.creation_date))
                        .with("Encryptions", v.encryptions)
                })
                .collect::<Vec<_>>(),
        )
}

pub(crate) fn state(cx: &Cx<'_>, key_id: &str) -> Result<u8, CliError> {
    let meta = cx.ring.describe_key(key_id)?;
    cx.out.print(
        &Obj::new()
            .with("KeyId", meta.key_id)
            .with("KeyState", meta.key_state.as_str()),
    )
}
