//! Signature, MAC and public key commands: sign, verify, generate-mac, verify-mac and
//! get-public-key.

use zeroize::Zeroizing;

use crate::args;
use crate::error::{CliError, EXIT_INVALID, EXIT_OK};
use crate::io::{Sensitivity, from_b64, read_blob, read_input, write_output};
use crate::output::{Format, Obj};
use crate::respond::{Cx, names};

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

pub(crate) fn sign(cx: &Cx<'_>, a: args::SignArgs) -> Result<u8, CliError> {
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

pub(crate) fn verify(cx: &Cx<'_>, a: args::VerifyArgs) -> Result<u8, CliError> {
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

pub(crate) fn generate_mac(cx: &Cx<'_>, a: args::MacArgs) -> Result<u8, CliError> {
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

pub(crate) fn verify_mac(cx: &Cx<'_>, a: args::VerifyMacArgs) -> Result<u8, CliError> {
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

pub(crate) fn get_public_key(cx: &Cx<'_>, a: args::PublicKeyArgs) -> Result<u8, CliError> {
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
