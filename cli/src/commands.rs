//! One function per subcommand: open the home, call the core, print the response.

use std::path::Path;
use std::process::Stdio;
use std::time::SystemTime;

use keyplane::{
    CreateKey, DataKeySpec, EncryptionAlgorithm, EncryptionContext, KeyMetadata, Keyring,
    LocalRootKey, PendingWindow, RotationPeriod,
};
use zeroize::Zeroizing;

use crate::args::{self, Command, DataKeySize, Pairs};
use crate::error::{CliError, EXIT_INVALID, EXIT_OK};
use crate::home::{self, Home, RootSource};
use crate::io::{
    Sensitivity, b64, from_b64, read_blob, read_input, write_atomically, write_output,
};
use crate::output::{self, Format, Obj, Val};

/// Runs `command` and returns the exit code.
pub(crate) fn run(command: Command, format: Option<Format>) -> Result<u8, CliError> {
    if matches!(format, Some(Format::Pem | Format::Der))
        && !matches!(command, Command::GetPublicKey(_))
    {
        return Err(CliError::Usage(
            "--output pem and --output der apply only to get-public-key; use json or text".into(),
        ));
    }
    if let Command::Bench(a) = &command {
        return crate::bench::run(a, format.unwrap_or(Format::Text));
    }
    let out = Out {
        format: format.unwrap_or(Format::Json),
    };
    if let Command::Audit(args::AuditCommand::Verify(a)) = command {
        return audit_verify(&out, a);
    }
    let home = Home::locate()?;
    if let Command::Init = command {
        return init(&home, &out);
    }
    let (ring, root) = home.open()?;
    let cx = Cx {
        ring: &ring,
        root: &root,
        out: &out,
    };
    match command {
        Command::Init | Command::Bench(_) | Command::Audit(_) => Ok(EXIT_OK),
        Command::CreateKey(a) => create_key(&cx, a),
        Command::ListKeys => list_keys(&cx),
        Command::ListAliases => list_aliases(&cx),
        Command::DescribeKey(a) => {
            let meta = ring.describe_key(&a.key_id)?;
            out.print(&Obj::new().with("KeyMetadata", metadata(&meta)))
        }
        Command::RotateKey(a) => {
            let version = ring.rotate_key(&a.key_id)?;
            let meta = ring.describe_key(&a.key_id)?;
            out.print(
                &Obj::new()
                    .with("KeyId", meta.key_id)
                    .with("CurrentKeyVersion", version),
            )
        }
        Command::EnableKey(a) => {
            ring.enable_key(&a.key_id)?;
            state(&cx, &a.key_id)
        }
        Command::DisableKey(a) => {
            ring.disable_key(&a.key_id)?;
            state(&cx, &a.key_id)
        }
        Command::ScheduleKeyDeletion(a) => {
            let window = PendingWindow::days(a.pending_window_days)?;
            let date = ring.schedule_key_deletion(&a.key.key_id, window)?;
            let meta = ring.describe_key(&a.key.key_id)?;
            out.print(
                &Obj::new()
                    .with("KeyId", meta.key_id)
                    .with("DeletionDate", crate::time::format(date))
                    .with("KeyState", meta.key_state.as_str())
                    .with("PendingWindowInDays", a.pending_window_days),
            )
        }
        Command::CancelKeyDeletion(a) => {
            ring.cancel_key_deletion(&a.key_id)?;
            state(&cx, &a.key_id)
        }
        Command::CreateAlias(a) => {
            ring.create_alias(&a.alias_name, &a.target_key_id)?;
            let meta = ring.describe_key(&a.alias_name)?;
            out.print(
                &Obj::new()
                    .with("AliasName", a.alias_name)
                    .with("TargetKeyId", meta.key_id),
            )
        }
        Command::Encrypt(a) => encrypt(&cx, a),
        Command::Decrypt(a) => decrypt(&cx, a),
        Command::ReEncrypt(a) => re_encrypt(&cx, a),
        Command::GenerateDataKey(a) => generate_data_key(&cx, a),
        Command::GenerateDataKeyPair(a) => generate_data_key_pair(&cx, a),
        Command::Sign(a) => sign(&cx, a),
        Command::Verify(a) => verify(&cx, a),
        Command::GenerateMac(a) => generate_mac(&cx, a),
        Command::VerifyMac(a) => verify_mac(&cx, a),
        Command::GetPublicKey(a) => get_public_key(&cx, a),
        Command::ExportKey(a) => export_key(&cx, a),
        Command::ImportKey(a) => import_key(&cx, a),
        Command::GetParametersForImport(a) => get_parameters_for_import(&cx, a),
        Command::ImportKeyMaterial(a) => import_key_material(&cx, a),
        Command::DeleteImportedKeyMaterial(a) => {
            ring.delete_imported_key_material(&a.key_id)?;
            state(&cx, &a.key_id)
        }
    }
}

/// How responses are printed.
struct Out {
    format: Format,
}

impl Out {
    fn print(&self, obj: &Obj) -> Result<u8, CliError> {
        output::print(obj, self.format)?;
        Ok(EXIT_OK)
    }

    /// Prints `obj` with `bytes` as its first field `name` (base64), or, with `target`, writes
    /// the bytes there and prints the rest (nothing when the bytes went to stdout).
    fn print_with(
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
struct Cx<'a> {
    ring: &'a Keyring,
    root: &'a LocalRootKey,
    out: &'a Out,
}

/// The context of every `--context` argument together (a key given in two of them is
/// refused, as within one).
fn context(groups: &[Pairs]) -> Result<EncryptionContext, CliError> {
    let pairs: Vec<(&str, &str)> = groups
        .iter()
        .flat_map(|Pairs(pairs)| pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .collect();
    for (i, (k, _)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(earlier, _)| earlier == k) {
            return Err(CliError::Usage(format!(
                "--context gives the key '{k}' twice"
            )));
        }
    }
    EncryptionContext::new(pairs).map_err(|e| {
        CliError::op(
            e,
            "each --context is KEY=VALUE,... or a JSON object, with non-empty keys given once; \
             8192 bytes in all",
        )
    })
}

fn time_or_null(t: Option<SystemTime>) -> Val {
    t.map(crate::time::format).into()
}

fn names<T: core::fmt::Display>(items: &[T]) -> Vec<String> {
    items.iter().map(ToString::to_string).collect()
}

/// AWS KMS's `KeyMetadata`, with Keyplane's versions and aliases.
fn metadata(m: &KeyMetadata) -> Obj {
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

fn state(cx: &Cx<'_>, key_id: &str) -> Result<u8, CliError> {
    let meta = cx.ring.describe_key(key_id)?;
    cx.out.print(
        &Obj::new()
            .with("KeyId", meta.key_id)
            .with("KeyState", meta.key_state.as_str()),
    )
}

fn init(home: &Home, out: &Out) -> Result<u8, CliError> {
    let source = home.init()?;
    let root_key = match &source {
        RootSource::File(path) => path.display().to_string(),
        RootSource::Env => home::ROOT_KEY_VAR.to_owned(),
    };
    if matches!(source, RootSource::File(_)) {
        eprintln!(
            "keyplane: created a new root key in {root_key}: every key in this home is sealed \
             under it; back it up somewhere safe, apart from the store"
        );
    }
    out.print(
        &Obj::new()
            .with("KeyplaneHome", home.dir.display().to_string())
            .with("Store", home.store_path().display().to_string())
            .with("RootKey", root_key),
    )
}

fn create_key(cx: &Cx<'_>, a: args::CreateKeyArgs) -> Result<u8, CliError> {
    let mut options = CreateKey::new(a.key_spec);
    if let Some(usage) = a.key_usage {
        options = options.usage(usage);
    }
    if let Some(id) = a.key_id {
        options = options.key_id(id);
    }
    if let Some(alias) = a.alias {
        options = options.alias(alias);
    }
    if let Some(description) = a.description {
        options = options.description(description);
    }
    if let Some(days) = a.rotation_period_days {
        options = options.rotation_period(RotationPeriod::days(days)?);
    }
    if let Some(origin) = a.origin {
        options = options.origin(origin);
    }
    let meta = cx.ring.create_key(&options).map_err(|e| match e {
        keyplane::Error::InvalidInput("this key spec needs an explicit key usage") => CliError::op(
            e,
            "add --key-usage ENCRYPT_DECRYPT or --key-usage SIGN_VERIFY",
        ),
        keyplane::Error::InvalidKeyUsage => CliError::op(
            e,
            format!(
                "{} keys allow --key-usage {}",
                a.key_spec,
                names(a.key_spec.allowed_usages()).join(" or ")
            ),
        ),
        other => other.into(),
    })?;
    cx.out
        .print(&Obj::new().with("KeyMetadata", metadata(&meta)))
}

fn list_keys(cx: &Cx<'_>) -> Result<u8, CliError> {
    let keys: Vec<Obj> = cx
        .ring
        .list_keys()
        .into_iter()
        .map(|id| Obj::new().with("KeyId", id))
        .collect();
    cx.out.print(&Obj::new().with("Keys", keys))
}

fn list_aliases(cx: &Cx<'_>) -> Result<u8, CliError> {
    let aliases: Vec<Obj> = cx
        .ring
        .list_aliases()
        .into_iter()
        .map(|a| {
            Obj::new()
                .with("AliasName", a.alias_name)
                .with("TargetKeyId", a.target_key_id)
        })
        .collect();
    cx.out.print(&Obj::new().with("Aliases", aliases))
}

fn blob_header(blob: &[u8]) -> Result<(String, u32), CliError> {
    let info = keyplane::envelope::inspect(blob).map_err(|e| {
        CliError::op(
            e,
            "the input is not a Keyplane ciphertext blob (add --base64 if it is base64 text)",
        )
    })?;
    Ok((info.key_id.to_owned(), info.key_version))
}

fn encrypt(cx: &Cx<'_>, a: args::EncryptArgs) -> Result<u8, CliError> {
    let ctx = context(&a.context.context)?;
    let plaintext = read_input(&a.input)?;
    let (blob, key_id, version) = match a.encryption_algorithm {
        EncryptionAlgorithm::SymmetricDefault => {
            let blob = cx.ring.encrypt(&a.key.key_id, &plaintext, &ctx)?;
            let (key_id, version) = blob_header(&blob)?;
            (blob, key_id, Some(version))
        }
        algorithm => {
            if !ctx.is_empty() {
                return Err(CliError::Usage(
                    "--context applies to SYMMETRIC_DEFAULT encryption only".into(),
                ));
            }
            let blob = cx
                .ring
                .encrypt_asymmetric(&a.key.key_id, &plaintext, algorithm)?;
            (blob, cx.ring.describe_key(&a.key.key_id)?.key_id, None)
        }
    };
    let obj = Obj::new()
        .with("KeyId", key_id)
        .with("KeyVersion", version)
        .with("EncryptionAlgorithm", a.encryption_algorithm.as_str());
    cx.out.print_with(
        obj,
        "CiphertextBlob",
        &blob,
        a.out.as_deref(),
        a.base64,
        Sensitivity::Public,
    )
}

fn decrypt(cx: &Cx<'_>, a: args::DecryptArgs) -> Result<u8, CliError> {
    let ctx = context(&a.context.context)?;
    let blob = read_blob(&a.input, a.base64)?;
    let (plaintext, key_id, version) = match a.encryption_algorithm {
        EncryptionAlgorithm::SymmetricDefault => {
            let (key_id, version) = blob_header(&blob)?;
            if let Some(wanted) = &a.key_id {
                let wanted = cx.ring.describe_key(wanted)?.key_id;
                if wanted != key_id {
                    return Err(CliError::op(
                        keyplane::Error::InvalidCiphertext,
                        format!(
                            "the blob was encrypted under key {key_id}, not {wanted}: drop \
                             --key-id or name that key"
                        ),
                    ));
                }
            }
            (cx.ring.decrypt(&blob, &ctx)?, key_id, Some(version))
        }
        algorithm => {
            let Some(key) = &a.key_id else {
                return Err(CliError::Usage(format!(
                    "--key-id is required to decrypt with {algorithm}"
                )));
            };
            if !ctx.is_empty() {
                return Err(CliError::Usage(
                    "--context applies to SYMMETRIC_DEFAULT decryption only".into(),
                ));
            }
            let plaintext = cx.ring.decrypt_asymmetric(key, &blob, algorithm)?;
            (plaintext, cx.ring.describe_key(key)?.key_id, None)
        }
    };
    let obj = Obj::new()
        .with("KeyId", key_id)
        .with("KeyVersion", version)
        .with("EncryptionAlgorithm", a.encryption_algorithm.as_str());
    cx.out.print_with(
        obj,
        "Plaintext",
        &plaintext,
        a.out.as_deref(),
        false,
        Sensitivity::Secret,
    )
}

fn re_encrypt(cx: &Cx<'_>, a: args::ReEncryptArgs) -> Result<u8, CliError> {
    let source_ctx = context(&a.source_context)?;
    let destination_ctx = context(&a.destination_context)?;
    let blob = read_blob(&a.input, a.base64)?;
    let (source_key, source_version) = blob_header(&blob)?;
    let new_blob =
        cx.ring
            .re_encrypt(&blob, &source_ctx, &a.destination_key_id, &destination_ctx)?;
    let (key_id, version) = blob_header(&new_blob)?;
    let obj = Obj::new()
        .with("SourceKeyId", source_key)
        .with("SourceKeyVersion", source_version)
        .with("KeyId", key_id)
        .with("KeyVersion", version);
    cx.out.print_with(
        obj,
        "CiphertextBlob",
        &new_blob,
        a.out.as_deref(),
        a.base64,
        Sensitivity::Public,
    )
}

fn generate_data_key(cx: &Cx<'_>, a: args::DataKeyArgs) -> Result<u8, CliError> {
    let ctx = context(&a.context.context)?;
    let spec = match (a.key_spec, a.number_of_bytes) {
        (_, Some(n)) => DataKeySpec::NumberOfBytes(n),
        (Some(DataKeySize::Aes128), None) => DataKeySpec::Aes128,
        (Some(DataKeySize::Aes256) | None, None) => DataKeySpec::Aes256,
    };
    let key = cx.ring.generate_data_key(&a.key.key_id, spec, &ctx)?;
    let mut obj = Obj::new();
    match &a.ciphertext_out {
        Some(path) => write_output(path, key.ciphertext_blob(), false, Sensitivity::Public)?,
        None => obj = obj.with("CiphertextBlob", b64(key.ciphertext_blob()).to_string()),
    }
    match &a.plaintext_out {
        Some(path) => write_output(path, key.plaintext(), false, Sensitivity::Secret)?,
        None => obj = obj.with("Plaintext", Val::Secret(b64(key.plaintext()))),
    }
    cx.out.print(&obj.with("KeyId", key.key_id()))
}

fn generate_data_key_pair(cx: &Cx<'_>, a: args::DataKeyPairArgs) -> Result<u8, CliError> {
    let ctx = context(&a.context.context)?;
    let pair = cx
        .ring
        .generate_data_key_pair(&a.key.key_id, a.key_pair_spec, &ctx)?;
    let mut obj = Obj::new();
    match &a.ciphertext_out {
        Some(path) => write_output(
            path,
            pair.private_key_ciphertext_blob(),
            false,
            Sensitivity::Public,
        )?,
        None => {
            obj = obj.with(
                "PrivateKeyCiphertextBlob",
                b64(pair.private_key_ciphertext_blob()).to_string(),
            );
        }
    }
    match &a.private_key_out {
        Some(path) => write_output(
            path,
            pair.private_key_plaintext(),
            false,
            Sensitivity::Secret,
        )?,
        None => {
            obj = obj.with(
                "PrivateKeyPlaintext",
                Val::Secret(b64(pair.private_key_plaintext())),
            );
        }
    }
    match &a.public_key_out {
        Some(path) => write_output(path, pair.public_key(), false, Sensitivity::Public)?,
        None => obj = obj.with("PublicKey", b64(pair.public_key()).to_string()),
    }
    cx.out.print(
        &obj.with("KeyId", pair.key_id())
            .with("KeyPairSpec", pair.key_pair_spec().as_str()),
    )
}

fn signing_algorithm(
    cx: &Cx<'_>,
    key_id: &str,
    given: Option<keyplane::SigningAlgorithm>,
) -> Result<(String, keyplane::SigningAlgorithm), CliError> {
    let meta = cx.ring.describe_key(key_id)?;
    let algorithm = match given {
        Some(a) => a,
        None => *meta.signing_algorithms.first().ok_or_else(|| {
            CliError::op(
                keyplane::Error::InvalidKeyUsage,
                format!(
                    "key {} ({}, {}) does not sign",
                    meta.key_id, meta.key_spec, meta.key_usage
                ),
            )
        })?,
    };
    Ok((meta.key_id, algorithm))
}

fn sign(cx: &Cx<'_>, a: args::SignArgs) -> Result<u8, CliError> {
    let (key_id, algorithm) = signing_algorithm(cx, &a.key.key_id, a.signing_algorithm)?;
    let message = read_input(&a.input)?;
    let signature = cx
        .ring
        .sign(&a.key.key_id, &message, a.message_type, algorithm)?;
    let obj = Obj::new()
        .with("KeyId", key_id)
        .with("SigningAlgorithm", algorithm.as_str());
    cx.out.print_with(
        obj,
        "Signature",
        &signature,
        a.out.as_deref(),
        a.base64,
        Sensitivity::Public,
    )
}

/// A signature or MAC from a file or a base64 argument.
fn tag_input(
    file: Option<&str>,
    b64_arg: Option<&str>,
    base64: bool,
    what: &str,
) -> Result<Zeroizing<Vec<u8>>, CliError> {
    match (file, b64_arg) {
        (Some(file), _) => read_blob(file, base64),
        (None, Some(text)) => from_b64(text.as_bytes(), what),
        (None, None) => Err(CliError::Usage(format!("no {what} given"))),
    }
}

fn validity(cx: &Cx<'_>, obj: Obj, valid: bool, what: &str) -> Result<u8, CliError> {
    cx.out.print(&obj)?;
    if valid {
        Ok(EXIT_OK)
    } else {
        eprintln!("keyplane: the {what} is not valid");
        Ok(EXIT_INVALID)
    }
}

fn verify(cx: &Cx<'_>, a: args::VerifyArgs) -> Result<u8, CliError> {
    if a.signature.as_deref() == Some("-") && a.input == "-" {
        return Err(CliError::Usage(
            "--in and --signature cannot both be standard input".into(),
        ));
    }
    let (key_id, algorithm) = signing_algorithm(cx, &a.key.key_id, a.signing_algorithm)?;
    let signature = tag_input(
        a.signature.as_deref(),
        a.signature_base64.as_deref(),
        a.base64,
        "--signature-base64",
    )?;
    let message = read_input(&a.input)?;
    let valid = cx.ring.verify(
        &a.key.key_id,
        &message,
        a.message_type,
        algorithm,
        &signature,
    )?;
    let obj = Obj::new()
        .with("KeyId", key_id)
        .with("SignatureValid", valid)
        .with("SigningAlgorithm", algorithm.as_str());
    validity(cx, obj, valid, "signature")
}

fn mac_algorithm(
    cx: &Cx<'_>,
    key_id: &str,
    given: Option<keyplane::MacAlgorithm>,
) -> Result<(String, keyplane::MacAlgorithm), CliError> {
    let meta = cx.ring.describe_key(key_id)?;
    let algorithm = match given {
        Some(a) => a,
        None => *meta.mac_algorithms.first().ok_or_else(|| {
            CliError::op(
                keyplane::Error::InvalidKeyUsage,
                format!("key {} ({}) is not an HMAC key", meta.key_id, meta.key_spec),
            )
        })?,
    };
    Ok((meta.key_id, algorithm))
}

fn generate_mac(cx: &Cx<'_>, a: args::MacArgs) -> Result<u8, CliError> {
    let (key_id, algorithm) = mac_algorithm(cx, &a.key.key_id, a.mac_algorithm)?;
    let message = read_input(&a.input)?;
    let mac = cx.ring.generate_mac(&a.key.key_id, &message, algorithm)?;
    let obj = Obj::new()
        .with("MacAlgorithm", algorithm.as_str())
        .with("KeyId", key_id);
    cx.out.print_with(
        obj,
        "Mac",
        &mac,
        a.out.as_deref(),
        a.base64,
        Sensitivity::Public,
    )
}

fn verify_mac(cx: &Cx<'_>, a: args::VerifyMacArgs) -> Result<u8, CliError> {
    if a.mac.as_deref() == Some("-") && a.input == "-" {
        return Err(CliError::Usage(
            "--in and --mac cannot both be standard input".into(),
        ));
    }
    let (key_id, algorithm) = mac_algorithm(cx, &a.key.key_id, a.mac_algorithm)?;
    let mac = tag_input(
        a.mac.as_deref(),
        a.mac_base64.as_deref(),
        a.base64,
        "--mac-base64",
    )?;
    let message = read_input(&a.input)?;
    let valid = cx
        .ring
        .verify_mac(&a.key.key_id, &message, algorithm, &mac)?;
    let obj = Obj::new()
        .with("KeyId", key_id)
        .with("MacValid", valid)
        .with("MacAlgorithm", algorithm.as_str());
    validity(cx, obj, valid, "MAC")
}

fn get_public_key(cx: &Cx<'_>, a: args::PublicKeyArgs) -> Result<u8, CliError> {
    let info = cx.ring.get_public_key(&a.key.key_id)?;
    let target = a.out.as_deref().unwrap_or("-");
    match cx.out.format {
        Format::Pem => {
            write_output(target, info.to_pem().as_bytes(), false, Sensitivity::Public)?;
            Ok(EXIT_OK)
        }
        Format::Der => {
            write_output(target, &info.public_key, false, Sensitivity::Public)?;
            Ok(EXIT_OK)
        }
        Format::Json | Format::Text => {
            let obj = Obj::new()
                .with("KeyId", info.key_id.as_str())
                .with("KeySpec", info.key_spec.as_str())
                .with("KeyUsage", info.key_usage.as_str())
                .with("SigningAlgorithms", names(&info.signing_algorithms))
                .with("EncryptionAlgorithms", names(&info.encryption_algorithms));
            cx.out.print_with(
                obj,
                "PublicKey",
                &info.public_key,
                a.out.as_deref(),
                false,
                Sensitivity::Public,
            )
        }
    }
}

fn other_root(path: &str) -> Result<LocalRootKey, CliError> {
    home::root_key(&home::read_root_file(Path::new(path))?)
}

fn export_key(cx: &Cx<'_>, a: args::ExportArgs) -> Result<u8, CliError> {
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

fn import_key(cx: &Cx<'_>, a: args::ImportArgs) -> Result<u8, CliError> {
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

fn get_parameters_for_import(cx: &Cx<'_>, a: args::GetParametersArgs) -> Result<u8, CliError> {
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

fn import_key_material(cx: &Cx<'_>, a: args::ImportMaterialArgs) -> Result<u8, CliError> {
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

fn audit_verify(out: &Out, a: args::AuditVerifyArgs) -> Result<u8, CliError> {
    let key = match &a.audit_key_file {
        Some(path) => home::read_key_file(Path::new(path), "audit key")?,
        None => home::audit_key_from_env()?,
    };
    let key = keyplane::audit::AuditKey::new(key.as_ref())?;
    let files: Vec<std::path::PathBuf> = match &a.dir {
        Some(dir) => keyplane::audit::log_files_in(dir)
            .map_err(|e| CliError::Io(format!("cannot list the audit log files in {dir}: {e}")))?,
        None => a.files.iter().map(std::path::PathBuf::from).collect(),
    };
    if files.is_empty() {
        return Err(CliError::Io(format!(
            "no audit log files (audit-*.jsonl) in {}",
            a.dir.as_deref().unwrap_or("the arguments")
        )));
    }
    for file in &files {
        if !file.is_file() {
            return Err(CliError::Io(format!(
                "cannot read audit log file {}",
                file.display()
            )));
        }
    }
    let place = |(file, line): &(std::path::PathBuf, u64)| {
        Obj::new()
            .with("File", file.display().to_string())
            .with("Line", *line)
    };
    match keyplane::audit::verify(&files, &key) {
        Ok(report) => {
            let checkpoint = report.last_checkpoint.as_ref().map_or(Val::Null, |c| {
                place(&(c.0.clone(), c.1))
                    .with("Time", crate::time::format(c.2))
                    .into()
            });
            out.print(
                &Obj::new()
                    .with("Intact", true)
                    .with("Records", report.records)
                    .with("LastCheckpoint", checkpoint)
                    .with("Closed", report.closed)
                    .with(
                        "EndsAt",
                        report
                            .ends_at
                            .as_ref()
                            .map_or(Val::Null, |e| place(e).into()),
                    )
                    .with("IncompleteTail", report.incomplete_tail),
            )?;
            if !report.closed {
                eprintln!(
                    "keyplane: the log does not end with its closing checkpoint: the writer \
                     stopped without closing it (a crash), or lines after the last checkpoint \
                     were cut off; everything up to the end verifies"
                );
            }
            Ok(EXIT_OK)
        }
        Err(broken) => {
            out.print(
                &Obj::new()
                    .with("Intact", false)
                    .with("File", broken.file.display().to_string())
                    .with("Line", broken.line)
                    .with("Reason", broken.reason.clone()),
            )?;
            eprintln!("keyplane: audit log broken at {broken}");
            Ok(EXIT_INVALID)
        }
    }
}
