//! Keys into and out of the home: export-key and import-key (sealed records, for backups and
//! other homes), and bringing your own key material (get-parameters-for-import,
//! import-key-material, delete-imported-key-material).

use std::path::Path;
use std::process::Stdio;
use std::time::SystemTime;

use keyplane::LocalRootKey;
use zeroize::Zeroizing;

use crate::args;
use crate::error::{CliError, EXIT_OK};
use crate::home;
use crate::io::{Sensitivity, b64, from_b64, read_input, write_atomically, write_output};
use crate::output::Obj;
use crate::respond::{Cx, metadata, state, time_or_null};

fn other_root(path: &str) -> Result<LocalRootKey, CliError> {
    home::root_key(&home::read_root_file(Path::new(path))?)
}

pub(crate) fn export_key(cx: &Cx<'_>, a: args::ExportArgs) -> Result<u8, CliError> {
    let other = a.root_key_file.as_deref().map(other_root).transpose()?;
    let root = other.as_ref().unwrap_or(cx.root);
    let key_id = cx.ring.describe_key(&a.key.key_id)?.key_id;
    let record = cx.ring.export_sealed(&key_id, root)?;
    write_output(&a.out, &record, false, Sensitivity::Public)?;
    if a.out == "-" {
        return Ok(EXIT_OK);
    }
    cx.out.print(
        &Obj::new()
            .with("KeyId", key_id)
            .with("SealedRecord", a.out)
            .with(
                "RootKey",
                a.root_key_file.unwrap_or_else(|| "this home's".to_owned()),
            ),
    )
}

pub(crate) fn import_key(cx: &Cx<'_>, a: args::ImportArgs) -> Result<u8, CliError> {
    let other = a.root_key_file.as_deref().map(other_root).transpose()?;
    let root = other.as_ref().unwrap_or(cx.root);
    let record = read_input(&a.input)?;
    let info = keyplane::seal::inspect(&record).map_err(|e| {
        CliError::op(
            e,
            "the input is not a sealed key record written by `keyplane export-key`",
        )
    })?;
    let meta = cx.ring.import_sealed(&record, root).map_err(|e| match e {
        keyplane::Error::InvalidCiphertext => CliError::op(
            e,
            format!(
                "the record for key {} does not open with {}: pass --root-key-file with the \
                 root key it was sealed under (the exporting home's root.key), or the record is \
                 damaged",
                info.key_id,
                if a.root_key_file.is_some() {
                    "the root key in --root-key-file"
                } else {
                    "this home's root key"
                }
            ),
        ),
        keyplane::Error::AlreadyExists => CliError::op(
            e,
            format!(
                "this home already has key {} or one of its aliases",
                info.key_id
            ),
        ),
        other => other.into(),
    })?;
    cx.out
        .print(&Obj::new().with("KeyMetadata", metadata(&meta)))
}

/// Removes the files it names when dropped.
struct TempFiles(Vec<std::path::PathBuf>);

impl Drop for TempFiles {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

pub(crate) fn get_parameters_for_import(
    cx: &Cx<'_>,
    a: args::GetParametersArgs,
) -> Result<u8, CliError> {
    let params = cx.ring.get_parameters_for_import(
        &a.key.key_id,
        a.wrapping_algorithm,
        a.wrapping_key_spec,
    )?;
    let mut obj = Obj::new().with("KeyId", params.key_id.clone());
    obj = match &a.import_token_out {
        Some(path) => {
            write_atomically(Path::new(path), &params.import_token)?;
            obj.with("ImportTokenFile", path.as_str())
        }
        None => obj.with("ImportToken", b64(&params.import_token).to_string()),
    };
    obj = match &a.public_key_out {
        Some(path) => {
            write_atomically(Path::new(path), &params.public_key)?;
            obj.with("PublicKeyFile", path.as_str())
        }
        None => obj.with("PublicKey", b64(&params.public_key).to_string()),
    };
    cx.out.print(&obj.with(
        "ParametersValidTo",
        crate::time::format(params.parameters_valid_to),
    ))
}

/// The import token in `spec`: raw bytes, or the base64 text get-parameters-for-import prints.
fn read_import_token(spec: &str) -> Result<Zeroizing<Vec<u8>>, CliError> {
    let raw = read_input(spec)?;
    if raw.starts_with(b"KPIT") {
        return Ok(raw);
    }
    from_b64(raw.trim_ascii(), &format!("import token {spec}"))
}

pub(crate) fn import_key_material(
    cx: &Cx<'_>,
    a: args::ImportMaterialArgs,
) -> Result<u8, CliError> {
    let valid_to = a
        .valid_to
        .as_deref()
        .map(crate::time::parse)
        .transpose()
        .map_err(|e| CliError::Usage(format!("--valid-to: {e}")))?;
    if let Some(token) = &a.import_token {
        let material = a.encrypted_key_material.as_deref().unwrap_or("-");
        if token == "-" && material == "-" {
            return Err(CliError::Usage(
                "--import-token and --encrypted-key-material cannot both be standard input".into(),
            ));
        }
        let token = read_import_token(token)?;
        let wrapped = read_input(material)?;
        return finish_import(cx, &a, &token, &wrapped, valid_to);
    }
    if a.encrypted_key_material.is_some() && a.public_key_out.is_none() {
        return Err(CliError::Usage(
            "--encrypted-key-material needs --import-token (material wrapped for \
             get-parameters-for-import's public key) or --public-key-out (for this run's)"
                .into(),
        ));
    }
    let params = cx.ring.get_parameters_for_import(
        &a.key.key_id,
        a.wrapping_algorithm,
        a.wrapping_key_spec,
    )?;
    let pem = keyplane::public_key_pem(&params.public_key);
    let mut temps = TempFiles(Vec::new());
    let der_path = match &a.public_key_out {
        Some(path) => {
            write_atomically(Path::new(path), &params.public_key)?;
            std::path::PathBuf::from(path)
        }
        None => {
            let path = std::env::temp_dir()
                .join(format!("keyplane-wrapping-key-{}.der", std::process::id()));
            temps.0.push(path.clone());
            write_atomically(&path, &params.public_key)?;
            path
        }
    };
    let wrapped = if let Some(command) = &a.wrap_command {
        let pem_path =
            std::env::temp_dir().join(format!("keyplane-wrapping-key-{}.pem", std::process::id()));
        temps.0.push(pem_path.clone());
        write_atomically(&pem_path, pem.as_bytes())?;
        let result = std::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .env("KEYPLANE_WRAPPING_KEY", &der_path)
            .env("KEYPLANE_WRAPPING_KEY_PEM", &pem_path)
            .env("KEYPLANE_WRAPPING_ALGORITHM", a.wrapping_algorithm.as_str())
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| CliError::Io(format!("cannot run --wrap-command: {e}")))?;
        if !result.status.success() {
            return Err(CliError::Io(format!(
                "--wrap-command failed ({}); no material was imported",
                result.status
            )));
        }
        Zeroizing::new(result.stdout)
    } else {
        let source = a.encrypted_key_material.as_deref().unwrap_or("-");
        eprintln!(
            "keyplane: wrap the key material with the public key in {} ({}) and write it to {}",
            der_path.display(),
            a.wrapping_algorithm,
            if source == "-" {
                "standard input"
            } else {
                source
            }
        );
        read_input(source)?
    };
    finish_import(cx, &a, &params.import_token, &wrapped, valid_to)
}

fn finish_import(
    cx: &Cx<'_>,
    a: &args::ImportMaterialArgs,
    token: &[u8],
    wrapped: &[u8],
    valid_to: Option<SystemTime>,
) -> Result<u8, CliError> {
    cx.ring
        .import_key_material(&a.key.key_id, token, wrapped, valid_to)
        .map_err(|e| match e {
            keyplane::Error::InvalidCiphertext if a.import_token.is_some() => CliError::op(
                e,
                "the wrapped material does not unwrap with the token's wrapping key: wrap it \
                 with the public key get-parameters-for-import wrote with this token, and the \
                 wrapping algorithm given there",
            ),
            keyplane::Error::InvalidCiphertext => CliError::op(
                e,
                format!(
                    "the wrapped material does not unwrap with this run's wrapping key and {}: \
                     wrap it with the public key just written, and that algorithm",
                    a.wrapping_algorithm
                ),
            ),
            other => other.into(),
        })?;
    let meta = cx.ring.describe_key(&a.key.key_id)?;
    cx.out.print(
        &Obj::new()
            .with("KeyId", meta.key_id)
            .with("KeyState", meta.key_state.as_str())
            .with("ValidTo", time_or_null(meta.valid_to)),
    )
}

pub(crate) fn delete_imported_key_material(cx: &Cx<'_>, a: args::KeyArg) -> Result<u8, CliError> {
    cx.ring.delete_imported_key_material(&a.key_id)?;
    state(cx, &a.key_id)
}
