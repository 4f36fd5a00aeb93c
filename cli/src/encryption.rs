//! Encryption commands: encrypt, decrypt, re-encrypt, generate-data-key and
//! generate-data-key-pair, with their `--context` arguments.

use keyplane::{DataKeySpec, EncryptionAlgorithm, EncryptionContext};

use crate::args::{self, DataKeySize, Pairs};
use crate::error::CliError;
use crate::io::{Sensitivity, b64, read_blob, read_input, write_output};
use crate::output::{Obj, Val};
use crate::respond::Cx;

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

fn blob_header(blob: &[u8]) -> Result<(String, u32), CliError> {
    let info = keyplane::envelope::inspect(blob).map_err(|e| {
        CliError::op(
            e,
            "the input is not a Keyplane ciphertext blob (add --base64 if it is base64 text)",
        )
    })?;
    Ok((info.key_id.to_owned(), info.key_version))
}

pub(crate) fn encrypt(cx: &Cx<'_>, a: args::EncryptArgs) -> Result<u8, CliError> {
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

pub(crate) fn decrypt(cx: &Cx<'_>, a: args::DecryptArgs) -> Result<u8, CliError> {
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

pub(crate) fn re_encrypt(cx: &Cx<'_>, a: args::ReEncryptArgs) -> Result<u8, CliError> {
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

pub(crate) fn generate_data_key(cx: &Cx<'_>, a: args::DataKeyArgs) -> Result<u8, CliError> {
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

pub(crate) fn generate_data_key_pair(
    cx: &Cx<'_>,
    a: args::DataKeyPairArgs,
) -> Result<u8, CliError> {
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
