//! The command line, with AWS CLI (`aws kms ...`) names for commands and flags.

use clap::{ArgGroup, Args, Parser, Subcommand};
use keyplane::{
    DataKeyPairSpec, EncryptionAlgorithm, KeySpec, KeyUsage, MacAlgorithm, MessageType, Origin,
    SigningAlgorithm, WrappingAlgorithm, WrappingKeySpec,
};

use crate::output::Format;

const AFTER_HELP: &str = "\
Keys live in an embedded store under $KEYPLANE_HOME (default ~/.keyplane), sealed under a root
key from $KEYPLANE_HOME/root.key (created by `keyplane init`) or from KEYPLANE_ROOT_KEY.

Exit codes: 0 ok; 1 the operation failed (the Keyplane error code is printed) or a file could
not be read or written; 2 usage error; 3 home, store or root key problem; 4 verify/verify-mac
found the signature or MAC invalid, or audit verify found the log broken.";

/// The Keyplane key management tool: keys in a local store, AWS KMS-style commands.
#[derive(Debug, Parser)]
#[command(name = "keyplane", version, after_help = AFTER_HELP)]
pub(crate) struct Cli {
    /// How to print responses: json (the default; AWS KMS field names) or text (tab-separated
    /// values). `get-public-key` also takes pem or der.
    #[arg(long, global = true, value_enum)]
    pub(crate) output: Option<Format>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Parses an AWS KMS name (case-insensitive) into one of the core's enums.
fn kms_name<T: Copy + core::fmt::Display>(all: &[T], s: &str) -> Result<T, String> {
    all.iter()
        .copied()
        .find(|v| v.to_string().eq_ignore_ascii_case(s))
        .ok_or_else(|| {
            let names: Vec<String> = all.iter().map(ToString::to_string).collect();
            format!("expected one of {}", names.join(", "))
        })
}

fn key_spec(s: &str) -> Result<KeySpec, String> {
    kms_name(KeySpec::ALL, s)
}
fn key_usage(s: &str) -> Result<KeyUsage, String> {
    kms_name(KeyUsage::ALL, s)
}
fn origin(s: &str) -> Result<Origin, String> {
    kms_name(Origin::ALL, s)
}
fn encryption_algorithm(s: &str) -> Result<EncryptionAlgorithm, String> {
    kms_name(EncryptionAlgorithm::ALL, s)
}
fn signing_algorithm(s: &str) -> Result<SigningAlgorithm, String> {
    kms_name(SigningAlgorithm::ALL, s)
}
fn mac_algorithm(s: &str) -> Result<MacAlgorithm, String> {
    kms_name(MacAlgorithm::ALL, s)
}
fn message_type(s: &str) -> Result<MessageType, String> {
    kms_name(MessageType::ALL, s)
}
fn key_pair_spec(s: &str) -> Result<DataKeyPairSpec, String> {
    kms_name(DataKeyPairSpec::ALL, s)
}
fn wrapping_algorithm(s: &str) -> Result<WrappingAlgorithm, String> {
    kms_name(WrappingAlgorithm::ALL, s)
}
fn wrapping_key_spec(s: &str) -> Result<WrappingKeySpec, String> {
    kms_name(WrappingKeySpec::ALL, s)
}

/// A data key size name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DataKeySize {
    #[value(name = "AES_256")]
    Aes256,
    #[value(name = "AES_128")]
    Aes128,
}

/// The pairs of one `--context` argument (see [`keyplane_cli::context`]).
#[derive(Debug, Clone)]
pub(crate) struct Pairs(pub(crate) Vec<(String, String)>);

fn pairs(s: &str) -> Result<Pairs, String> {
    keyplane_cli::context::parse_context(s).map(Pairs)
}

/// A key id or alias argument.
#[derive(Debug, Args)]
pub(crate) struct KeyArg {
    /// The key id or alias (alias/...).
    #[arg(long = "key-id", visible_alias = "key", value_name = "KEY")]
    pub(crate) key_id: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create the home directory, its root key (root.key, mode 0600) and the key store.
    Init,
    /// Create a key.
    CreateKey(CreateKeyArgs),
    /// List the key ids.
    ListKeys,
    /// List the aliases and the keys they point at.
    ListAliases,
    /// Show a key's metadata.
    DescribeKey(KeyArg),
    /// Add a new version to a SYMMETRIC_DEFAULT key now; older versions keep decrypting.
    RotateKey(KeyArg),
    /// Enable a disabled key.
    EnableKey(KeyArg),
    /// Disable a key: every operation with it fails until it is enabled.
    DisableKey(KeyArg),
    /// Schedule a key's deletion after a waiting period (7 to 30 days).
    ScheduleKeyDeletion(ScheduleArgs),
    /// Cancel a scheduled deletion; the key comes back disabled, as in AWS KMS.
    CancelKeyDeletion(KeyArg),
    /// Create an alias (alias/...) for a key.
    CreateAlias(CreateAliasArgs),
    /// Encrypt data under a key.
    Encrypt(EncryptArgs),
    /// Decrypt a ciphertext blob.
    Decrypt(DecryptArgs),
    /// Decrypt a blob and encrypt it again under another key or context, inside Keyplane.
    ReEncrypt(ReEncryptArgs),
    /// A fresh data key, in plaintext and encrypted under a key.
    GenerateDataKey(DataKeyArgs),
    /// A fresh key pair whose private key is returned in plaintext and encrypted under a key.
    GenerateDataKeyPair(DataKeyPairArgs),
    /// Sign a message (or a digest) with an asymmetric key.
    Sign(SignArgs),
    /// Verify a signature; exit code 4 when it is not valid.
    Verify(VerifyArgs),
    /// The HMAC of a message under an HMAC key.
    GenerateMac(MacArgs),
    /// Verify an HMAC; exit code 4 when it is not valid.
    VerifyMac(VerifyMacArgs),
    /// The public key of an asymmetric key (--output pem|der for the key alone).
    GetPublicKey(PublicKeyArgs),
    /// Write a key as a sealed record (every version, encrypted under a root key).
    ExportKey(ExportArgs),
    /// Add a key from a sealed record written by export-key.
    ImportKey(ImportArgs),
    /// A wrapping public key and an import token for an EXTERNAL key, valid 24 hours (the
    /// first step of AWS KMS's BYOK flow; import-key-material --import-token is the second).
    GetParametersForImport(GetParametersArgs),
    /// Import your own key material into an EXTERNAL key: with --import-token, material
    /// wrapped for get-parameters-for-import's public key; without, in one run.
    ImportKeyMaterial(ImportMaterialArgs),
    /// Delete an EXTERNAL key's imported material; the key returns to PendingImport.
    DeleteImportedKeyMaterial(KeyArg),
    /// Measure throughput on a temporary in-memory keyring (the store is not touched).
    Bench(BenchArgs),
    /// The tool's version, the cryptographic module it runs on, and whether it is in FIPS mode.
    ///
    /// The module is AWS-LC, or in a FIPS build (the `fips` feature) the AWS-LC FIPS module,
    /// with the version it reports at run time. Lines of text by default, a JSON object with
    /// --output json. Needs no home.
    Version,
    /// Audit logs written by a keyring's file sink.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Args)]
pub(crate) struct CreateKeyArgs {
    /// The key spec.
    #[arg(long, value_parser = key_spec, default_value = "SYMMETRIC_DEFAULT")]
    pub(crate) key_spec: KeySpec,
    /// The key usage (required for RSA keys: ENCRYPT_DECRYPT or SIGN_VERIFY).
    #[arg(long, value_parser = key_usage)]
    pub(crate) key_usage: Option<KeyUsage>,
    /// Use this key id instead of a generated UUID.
    #[arg(long)]
    pub(crate) key_id: Option<String>,
    /// Create this alias (alias/...) for the key too.
    #[arg(long)]
    pub(crate) alias: Option<String>,
    /// A free-text description.
    #[arg(long)]
    pub(crate) description: Option<String>,
    /// Rotate automatically after this many days (90 to 2560; SYMMETRIC_DEFAULT keys).
    #[arg(long, value_name = "DAYS")]
    pub(crate) rotation_period_days: Option<u32>,
    /// KEYPLANE (material generated here, the default) or EXTERNAL (you import it later with
    /// import-key-material; the key starts in PendingImport).
    #[arg(long, value_parser = origin)]
    pub(crate) origin: Option<Origin>,
}

#[derive(Debug, Args)]
pub(crate) struct ScheduleArgs {
    #[command(flatten)]
    pub(crate) key: KeyArg,
    /// Days before the key is deleted (7 to 30).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(7..=30))]
    pub(crate) pending_window_days: u32,
}

#[derive(Debug, Args)]
pub(crate) struct CreateAliasArgs {
    /// The alias, alias/ followed by letters, digits, - _ or /.
    #[arg(long)]
    pub(crate) alias_name: String,
    /// The key id (or another alias) it points at.
    #[arg(long)]
    pub(crate) target_key_id: String,
}

/// An encryption context: `--context KEY=VALUE[,KEY=VALUE...]` or a JSON object, repeatable.
#[derive(Debug, Args)]
pub(crate) struct ContextArg {
    /// Encryption context pairs: KEY=VALUE[,KEY=VALUE...] (AWS CLI shorthand: quote or escape
    /// a comma in a value, a="1,2" or a=1\,2) or a JSON object ('{"a":"1"}'); repeat for more.
    /// Decrypt needs the same set.
    #[arg(long = "context", visible_alias = "encryption-context", value_name = "KEY=VALUE,...|JSON", value_parser = pairs)]
    pub(crate) context: Vec<Pairs>,
}

#[derive(Debug, Args)]
pub(crate) struct EncryptArgs {
    #[command(flatten)]
    pub(crate) key: KeyArg,
    #[command(flatten)]
    pub(crate) context: ContextArg,
    /// The plaintext: a file, or - for standard input.
    #[arg(long = "in", value_name = "FILE|-")]
    pub(crate) input: String,
    /// Where to write the ciphertext blob (a file, or - for standard output); without it the
    /// blob is printed in the response as base64.
    #[arg(long, value_name = "FILE|-")]
    pub(crate) out: Option<String>,
    /// Write the blob as base64 text instead of bytes.
    #[arg(long)]
    pub(crate) base64: bool,
    /// SYMMETRIC_DEFAULT (the default) or, for RSA ENCRYPT_DECRYPT keys, RSAES_OAEP_SHA_1 or
    /// RSAES_OAEP_SHA_256.
    #[arg(long, value_parser = encryption_algorithm, default_value = "SYMMETRIC_DEFAULT")]
    pub(crate) encryption_algorithm: EncryptionAlgorithm,
}

#[derive(Debug, Args)]
pub(crate) struct DecryptArgs {
    /// The key; optional for SYMMETRIC_DEFAULT blobs (they name their key), and then checked
    /// against the blob. Required for RSA.
    #[arg(long = "key-id", visible_alias = "key", value_name = "KEY")]
    pub(crate) key_id: Option<String>,
    #[command(flatten)]
    pub(crate) context: ContextArg,
    /// The ciphertext blob: a file, or - for standard input.
    #[arg(long = "in", value_name = "FILE|-")]
    pub(crate) input: String,
    /// Where to write the plaintext (a file, created 0600, or - for standard output); without
    /// it the plaintext is printed in the response as base64.
    #[arg(long, value_name = "FILE|-")]
    pub(crate) out: Option<String>,
    /// The blob is base64 text.
    #[arg(long)]
    pub(crate) base64: bool,
    /// SYMMETRIC_DEFAULT (the default), RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256.
    #[arg(long, value_parser = encryption_algorithm, default_value = "SYMMETRIC_DEFAULT")]
    pub(crate) encryption_algorithm: EncryptionAlgorithm,
}

#[derive(Debug, Args)]
pub(crate) struct ReEncryptArgs {
    /// The ciphertext blob: a file, or - for standard input.
    #[arg(long = "in", value_name = "FILE|-")]
    pub(crate) input: String,
    /// The context the blob was made with, as --context; repeat for more.
    #[arg(long, value_name = "KEY=VALUE,...|JSON", value_parser = pairs)]
    pub(crate) source_context: Vec<Pairs>,
    /// The key to encrypt under.
    #[arg(long, value_name = "KEY")]
    pub(crate) destination_key_id: String,
    /// The new context, as --context; repeat for more.
    #[arg(long, value_name = "KEY=VALUE,...|JSON", value_parser = pairs)]
    pub(crate) destination_context: Vec<Pairs>,
    /// Where to write the new blob (a file, or -); without it, printed as base64.
    #[arg(long, value_name = "FILE|-")]
    pub(crate) out: Option<String>,
    /// The input and output blobs are base64 text.
    #[arg(long)]
    pub(crate) base64: bool,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("size").args(["key_spec", "number_of_bytes"])))]
pub(crate) struct DataKeyArgs {
    #[command(flatten)]
    pub(crate) key: KeyArg,
    #[command(flatten)]
    pub(crate) context: ContextArg,
    /// AES_256 (the default) or AES_128.
    #[arg(long, value_enum)]
    pub(crate) key_spec: Option<DataKeySize>,
    /// A data key of this many bytes (1 to 1024) instead.
    #[arg(long, value_name = "N")]
    pub(crate) number_of_bytes: Option<usize>,
    /// Write the plaintext data key (bytes) to this file (created 0600) instead of the
    /// response.
    #[arg(long, value_name = "FILE")]
    pub(crate) plaintext_out: Option<String>,
    /// Write the encrypted data key (a blob) to this file instead of the response.
    #[arg(long, value_name = "FILE")]
    pub(crate) ciphertext_out: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DataKeyPairArgs {
    #[command(flatten)]
    pub(crate) key: KeyArg,
    #[command(flatten)]
    pub(crate) context: ContextArg,
    /// RSA_2048|3072|4096, ECC_NIST_P256|P384|P521 or ECC_SECG_P256K1.
    #[arg(long, value_parser = key_pair_spec)]
    pub(crate) key_pair_spec: DataKeyPairSpec,
    /// Write the public key (DER SubjectPublicKeyInfo) to this file.
    #[arg(long, value_name = "FILE")]
    pub(crate) public_key_out: Option<String>,
    /// Write the private key (DER PKCS#8) to this file (created 0600).
    #[arg(long, value_name = "FILE")]
    pub(crate) private_key_out: Option<String>,
    /// Write the encrypted private key (a blob) to this file.
    #[arg(long, value_name = "FILE")]
    pub(crate) ciphertext_out: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    #[command(flatten)]
    pub(crate) key: KeyArg,
    /// The message (or digest): a file, or - for standard input.
    #[arg(long = "in", value_name = "FILE|-")]
    pub(crate) input: String,
    /// The algorithm; defaults to the key's first (the only one for ECC keys).
    #[arg(long, value_parser = signing_algorithm)]
    pub(crate) signing_algorithm: Option<SigningAlgorithm>,
    /// RAW (Keyplane hashes the message) or DIGEST (the input is the digest).
    #[arg(long, value_parser = message_type, default_value = "RAW")]
    pub(crate) message_type: MessageType,
    /// Where to write the signature (a file, or -); without it, printed as base64.
    #[arg(long, value_name = "FILE|-")]
    pub(crate) out: Option<String>,
    /// Write the signature as base64 text.
    #[arg(long)]
    pub(crate) base64: bool,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("sig").required(true).args(["signature", "signature_base64"])))]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    pub(crate) key: KeyArg,
    /// The message (or digest): a file, or - for standard input.
    #[arg(long = "in", value_name = "FILE|-")]
    pub(crate) input: String,
    /// The algorithm; defaults to the key's first (the only one for ECC keys).
    #[arg(long, value_parser = signing_algorithm)]
    pub(crate) signing_algorithm: Option<SigningAlgorithm>,
    /// RAW or DIGEST.
    #[arg(long, value_parser = message_type, default_value = "RAW")]
    pub(crate) message_type: MessageType,
    /// The signature file (bytes, or base64 text with --base64), or - for standard input.
    #[arg(long, value_name = "FILE|-")]
    pub(crate) signature: Option<String>,
    /// The signature as a base64 argument.
    #[arg(long, value_name = "BASE64")]
    pub(crate) signature_base64: Option<String>,
    /// The signature file is base64 text.
    #[arg(long)]
    pub(crate) base64: bool,
}

#[derive(Debug, Args)]
pub(crate) struct MacArgs {
    #[command(flatten)]
    pub(crate) key: KeyArg,
    /// The message: a file, or - for standard input.
    #[arg(long = "in", value_name = "FILE|-")]
    pub(crate) input: String,
    /// The algorithm; defaults to the key's (HMAC_SHA_256 for an HMAC_256 key).
    #[arg(long, value_parser = mac_algorithm)]
    pub(crate) mac_algorithm: Option<MacAlgorithm>,
    /// Where to write the MAC (a file, or -); without it, printed as base64.
    #[arg(long, value_name = "FILE|-")]
    pub(crate) out: Option<String>,
    /// Write the MAC as base64 text.
    #[arg(long)]
    pub(crate) base64: bool,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("tag").required(true).args(["mac", "mac_base64"])))]
pub(crate) struct VerifyMacArgs {
    #[command(flatten)]
    pub(crate) key: KeyArg,
    /// The message: a file, or - for standard input.
    #[arg(long = "in", value_name = "FILE|-")]
    pub(crate) input: String,
    /// The algorithm; defaults to the key's.
    #[arg(long, value_parser = mac_algorithm)]
    pub(crate) mac_algorithm: Option<MacAlgorithm>,
    /// The MAC file (bytes, or base64 text with --base64), or - for standard input.
    #[arg(long, value_name = "FILE|-")]
    pub(crate) mac: Option<String>,
    /// The MAC as a base64 argument.
    #[arg(long, value_name = "BASE64")]
    pub(crate) mac_base64: Option<String>,
    /// The MAC file is base64 text.
    #[arg(long)]
    pub(crate) base64: bool,
}

#[derive(Debug, Args)]
pub(crate) struct PublicKeyArgs {
    #[command(flatten)]
    pub(crate) key: KeyArg,
    /// With --output pem|der: write the key to this file instead of standard output.
    #[arg(long, value_name = "FILE|-")]
    pub(crate) out: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    pub(crate) key: KeyArg,
    /// Where to write the sealed record: a file, or - for standard output.
    #[arg(long, value_name = "FILE|-")]
    pub(crate) out: String,
    /// Seal under the root key in this file (another home's root.key) instead of this home's.
    #[arg(long, value_name = "FILE")]
    pub(crate) root_key_file: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The sealed record: a file, or - for standard input.
    #[arg(long = "in", value_name = "FILE|-")]
    pub(crate) input: String,
    /// The record was sealed under the root key in this file (for example the exporting home's
    /// root.key); it is stored here under this home's root key.
    #[arg(long, value_name = "FILE")]
    pub(crate) root_key_file: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("wrapped").required(true).args(["wrap_command", "encrypted_key_material"])))]
pub(crate) struct ImportMaterialArgs {
    #[command(flatten)]
    pub(crate) key: KeyArg,
    /// How the material is wrapped: RSAES_OAEP_SHA_1|RSAES_OAEP_SHA_256 (symmetric and HMAC
    /// material) or RSA_AES_KEY_WRAP_SHA_1|RSA_AES_KEY_WRAP_SHA_256 (any, RSA keys included).
    #[arg(long, value_parser = wrapping_algorithm, default_value = "RSAES_OAEP_SHA_256")]
    pub(crate) wrapping_algorithm: WrappingAlgorithm,
    /// The wrapping RSA key size: RSA_2048, RSA_3072 or RSA_4096.
    #[arg(long, value_parser = wrapping_key_spec, default_value = "RSA_2048")]
    pub(crate) wrapping_key_spec: WrappingKeySpec,
    /// The import token written by get-parameters-for-import (a file, or - for standard
    /// input): import material wrapped for that run's public key, given with
    /// --encrypted-key-material. The wrapping algorithm is the one the token was issued for.
    #[arg(long, value_name = "FILE|-", requires = "encrypted_key_material",
          conflicts_with_all = ["public_key_out", "wrap_command"])]
    pub(crate) import_token: Option<String>,
    /// Write the wrapping public key (DER SubjectPublicKeyInfo) here, before the wrapped
    /// material is read.
    #[arg(long, value_name = "FILE")]
    pub(crate) public_key_out: Option<String>,
    /// A shell command that wraps your material: it runs with KEYPLANE_WRAPPING_KEY (DER) and
    /// KEYPLANE_WRAPPING_KEY_PEM naming the public key, and KEYPLANE_WRAPPING_ALGORITHM, and
    /// writes the wrapped material to its standard output.
    #[arg(long, value_name = "COMMAND")]
    pub(crate) wrap_command: Option<String>,
    /// The wrapped material: a file or - (standard input). With --import-token, wrapped for
    /// get-parameters-for-import's public key; otherwise read once this run's public key is
    /// written to --public-key-out (a pipe or FIFO lets another program wrap in between).
    #[arg(long, value_name = "FILE|-")]
    pub(crate) encrypted_key_material: Option<String>,
    /// The material expires at this time (RFC 3339, e.g. 2027-01-31T00:00:00Z) and the key
    /// returns to PendingImport; without it, it does not expire.
    #[arg(long, value_name = "TIME")]
    pub(crate) valid_to: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct GetParametersArgs {
    #[command(flatten)]
    pub(crate) key: KeyArg,
    /// How the material will be wrapped: RSAES_OAEP_SHA_1|RSAES_OAEP_SHA_256 (symmetric and
    /// HMAC material) or RSA_AES_KEY_WRAP_SHA_1|RSA_AES_KEY_WRAP_SHA_256 (any, RSA keys
    /// included).
    #[arg(long, value_parser = wrapping_algorithm, default_value = "RSAES_OAEP_SHA_256")]
    pub(crate) wrapping_algorithm: WrappingAlgorithm,
    /// The wrapping RSA key size: RSA_2048, RSA_3072 or RSA_4096.
    #[arg(long, value_parser = wrapping_key_spec, default_value = "RSA_2048")]
    pub(crate) wrapping_key_spec: WrappingKeySpec,
    /// Write the wrapping public key (DER SubjectPublicKeyInfo) to this file instead of
    /// printing it as base64.
    #[arg(long, value_name = "FILE")]
    pub(crate) public_key_out: Option<String>,
    /// Write the import token to this file instead of printing it as base64.
    #[arg(long, value_name = "FILE")]
    pub(crate) import_token_out: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Check an audit log's hash chain and checkpoint MACs; exit code 4 and the first broken
    /// link (file, line, reason) when it is not intact.
    Verify(AuditVerifyArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("log").required(true).args(["files", "dir"])))]
pub(crate) struct AuditVerifyArgs {
    /// The log's files, in order (audit-000001.jsonl, audit-000002.jsonl, ...).
    #[arg(value_name = "FILE")]
    pub(crate) files: Vec<String>,
    /// A log directory: every audit-*.jsonl file in it, in order.
    #[arg(long, value_name = "DIR", conflicts_with = "files")]
    pub(crate) dir: Option<String>,
    /// The audit key the log was written with: a file of 64 hex digits, mode 0600. Without
    /// it, KEYPLANE_AUDIT_KEY (64 hex digits).
    #[arg(long, value_name = "FILE")]
    pub(crate) audit_key_file: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Seconds to measure each row for.
    #[arg(long, default_value_t = 0.5)]
    pub(crate) seconds: f64,
}
