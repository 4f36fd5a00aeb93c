//! `$KEYPLANE_HOME`: the key store, the root key and the check record that tells a wrong root
//! key from a damaged store.
//!
//! ```text
//! $KEYPLANE_HOME/              0700
//!     root.key                 0600, the root key: 64 hex digits and a newline
//!     root.check               a sealed record of a throw-away key, to recognise the root key
//!     store/                   the embedded store (keyplane::Store): lock, keys/<hex id>.kpr
//! ```
//!
//! The root key comes from `KEYPLANE_ROOT_KEY` (64 hex digits, or base64 of 32 bytes) when that
//! is set, and from `root.key` otherwise.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use keyplane::{CreateKey, KeySpec, Keyring, LocalRootKey, RootKey, Store};
use zeroize::Zeroizing;

use crate::error::CliError;
use crate::io::write_atomically;

/// The environment variable that names the home directory.
pub(crate) const HOME_VAR: &str = "KEYPLANE_HOME";
/// The environment variable that can carry the root key instead of `root.key`.
pub(crate) const ROOT_KEY_VAR: &str = "KEYPLANE_ROOT_KEY";
/// The environment variable that can carry the audit key for `keyplane audit verify`.
pub(crate) const AUDIT_KEY_VAR: &str = "KEYPLANE_AUDIT_KEY";
/// The id every root key of this tool has in the records it seals.
pub(crate) const ROOT_KEY_ID: &str = "keyplane-cli";

const ROOT_KEY_FILE: &str = "root.key";
const ROOT_CHECK_FILE: &str = "root.check";
const STORE_DIR: &str = "store";
const CHECK_KEY_ID: &str = "keyplane-cli-root-check";

/// Root key material, wiped on drop.
pub(crate) type Material = Zeroizing<[u8; 32]>;

/// Where the root key came from, for messages.
#[derive(Debug, Clone)]
pub(crate) enum RootSource {
    Env,
    File(PathBuf),
}

impl RootSource {
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Env => ROOT_KEY_VAR.to_owned(),
            Self::File(path) => path.display().to_string(),
        }
    }
}

/// The home directory and the paths in it.
#[derive(Debug)]
pub(crate) struct Home {
    pub(crate) dir: PathBuf,
}

impl Home {
    /// `$KEYPLANE_HOME`, or `~/.keyplane`.
    pub(crate) fn locate() -> Result<Self, CliError> {
        let dir = match std::env::var_os(HOME_VAR).filter(|v| !v.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| PathBuf::from(home).join(".keyplane"))
                .ok_or_else(|| {
                    CliError::Setup(format!(
                        "neither {HOME_VAR} nor HOME is set: set {HOME_VAR} to the directory \
                         that holds (or will hold) your keys"
                    ))
                })?,
        };
        Ok(Self { dir })
    }

    pub(crate) fn root_key_path(&self) -> PathBuf {
        self.dir.join(ROOT_KEY_FILE)
    }

    fn check_path(&self) -> PathBuf {
        self.dir.join(ROOT_CHECK_FILE)
    }

    pub(crate) fn store_path(&self) -> PathBuf {
        self.dir.join(STORE_DIR)
    }

    /// The root key material and where it came from.
    pub(crate) fn root_material(&self) -> Result<(Material, RootSource), CliError> {
        if let Some(value) = std::env::var_os(ROOT_KEY_VAR) {
            return Ok((parse_env_root(value)?, RootSource::Env));
        }
        let path = self.root_key_path();
        if !path.exists() {
            return Err(CliError::Setup(format!(
                "no root key: run `keyplane init` or set {ROOT_KEY_VAR} (looked for {})",
                path.display()
            )));
        }
        Ok((read_root_file(&path)?, RootSource::File(path)))
    }

    /// Opens the store with the root key, after checking the key is this home's. Records that
    /// do not load are reported on stderr; every other key is in the keyring.
    pub(crate) fn open(&self) -> Result<(Keyring, Arc<LocalRootKey>), CliError> {
        if !self.dir.is_dir() {
            return Err(CliError::Setup(format!(
                "no keyplane home at {}: run `keyplane init` (or set {HOME_VAR} to an existing \
                 home)",
                self.dir.display()
            )));
        }
        if !self.store_path().is_dir() {
            return Err(CliError::Setup(format!(
                "no key store in {}: run `keyplane init`",
                self.dir.display()
            )));
        }
        let (material, source) = self.root_material()?;
        let root = Arc::new(root_key(&material)?);
        self.check_root(&root, &source)?;
        let store = Store::open(self.store_path()).map_err(|e| self.store_error(e))?;
        let (ring, problems) = Keyring::builder()
            .open(store, Arc::clone(&root) as Arc<dyn RootKey>)
            .map_err(|e| self.store_error(e))?;
        for problem in &problems {
            eprintln!(
                "keyplane: warning: key record {} was not loaded: {} ({}); every other key is \
                 available",
                problem.path.display(),
                problem.error,
                problem.error.code()
            );
        }
        Ok((ring, root))
    }

    fn store_error(&self, e: keyplane::Error) -> CliError {
        match e {
            // A FIPS build whose module is not in FIPS mode: not a problem of the store.
            keyplane::Error::NotApproved(_) => CliError::from(e),
            keyplane::Error::Storage("the store is in use by another process") => {
                CliError::Setup(format!(
                    "the key store in {} is in use by another keyplane process: try again when \
                     it has finished",
                    self.dir.display()
                ))
            }
            other => CliError::Setup(format!(
                "cannot open the key store in {}: {other} ({}): check the directory's \
                 permissions and free space",
                self.dir.display(),
                other.code()
            )),
        }
    }

    /// Refuses a root key that does not open `root.check` (when there is one).
    fn check_root(&self, root: &LocalRootKey, source: &RootSource) -> Result<(), CliError> {
        let path = self.check_path();
        let Ok(record) = fs::read(&path) else {
            return Ok(());
        };
        match Keyring::builder().try_build()?.import_sealed(&record, root) {
            Ok(_) => Ok(()),
            Err(keyplane::Error::InvalidCiphertext) => Err(CliError::Setup(format!(
                "wrong root key: the root key from {} is not the one {} was initialised with, \
                 so none of its keys would open. Use that home's root key (its root.key file, \
                 or the {ROOT_KEY_VAR} it was created with), or unset {ROOT_KEY_VAR}",
                source.describe(),
                self.dir.display()
            ))),
            Err(e) => Err(CliError::Setup(format!(
                "{} is damaged ({e}): delete it to skip the root key check",
                path.display()
            ))),
        }
    }

    /// `keyplane init`: the directory, the root key (unless `KEYPLANE_ROOT_KEY` is set), the
    /// check record and the store. Returns where the root key is.
    pub(crate) fn init(&self) -> Result<RootSource, CliError> {
        // Made before anything is written: a FIPS module that is not in FIPS mode makes no
        // keyring, and then no home either.
        let scratch = Keyring::builder().try_build()?;
        let key_path = self.root_key_path();
        if key_path.exists() {
            return Err(CliError::Setup(format!(
                "{} already exists: `keyplane init` never replaces a root key, because every key \
                 sealed under it would be lost. Use this home as it is, or choose another \
                 {HOME_VAR}",
                key_path.display()
            )));
        }
        let from_env = std::env::var_os(ROOT_KEY_VAR).is_some();
        if self.check_path().exists() && !from_env {
            return Err(CliError::Setup(format!(
                "{} was already initialised with a root key that is not in a root.key file \
                 (set {ROOT_KEY_VAR} to it); `keyplane init` will not start it over with a new \
                 one",
                self.dir.display()
            )));
        }
        create_private_dir(&self.dir)?;
        let (material, source) = if from_env {
            self.root_material()?
        } else {
            let material = LocalRootKey::generate_material()?;
            write_root_file(&key_path, &material)?;
            (material, RootSource::File(key_path))
        };
        let root = root_key(&material)?;
        if self.check_path().exists() {
            // Initialised before from the same KEYPLANE_ROOT_KEY: nothing to write.
            self.check_root(&root, &source)?;
        } else {
            scratch.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id(CHECK_KEY_ID))?;
            let record = scratch.export_sealed(CHECK_KEY_ID, &root)?;
            write_atomically(&self.check_path(), &record)?;
        }
        drop(Store::open(self.store_path()).map_err(|e| self.store_error(e))?);
        Ok(source)
    }
}

/// A root key for this tool from 32 bytes of material.
pub(crate) fn root_key(material: &Material) -> Result<LocalRootKey, CliError> {
    Ok(LocalRootKey::new(ROOT_KEY_ID, material.as_ref())?)
}

fn parse_env_root(value: OsString) -> Result<Material, CliError> {
    let bad = |detail: &str| {
        CliError::Setup(format!(
            "{ROOT_KEY_VAR} must be 32 bytes written as 64 hex digits or as base64 ({detail}); \
             unset it to use the home's root.key"
        ))
    };
    let text = Zeroizing::new(value.into_string().map_err(|_| bad("it is not UTF-8"))?);
    let text = text.trim();
    let mut material = Zeroizing::new([0u8; 32]);
    if text.len() == 64 && text.bytes().all(|c| c.is_ascii_hexdigit()) {
        hex::decode_to_slice(text, material.as_mut()).map_err(|_| bad("bad hex"))?;
        return Ok(material);
    }
    let decoded = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(text))
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
            .map_err(|_| bad("it is neither"))?,
    );
    if decoded.len() != 32 {
        return Err(bad(&format!("it decodes to {} bytes", decoded.len())));
    }
    material.copy_from_slice(&decoded);
    Ok(material)
}

/// The audit key from `KEYPLANE_AUDIT_KEY` (64 hex digits).
pub(crate) fn audit_key_from_env() -> Result<Material, CliError> {
    let bad = |detail: &str| {
        CliError::Usage(format!(
            "give the audit key the log was written with: --audit-key-file FILE, or \
             {AUDIT_KEY_VAR} as 64 hex digits ({detail})"
        ))
    };
    let value = std::env::var_os(AUDIT_KEY_VAR).ok_or_else(|| bad("it is not set"))?;
    let text = Zeroizing::new(value.into_string().map_err(|_| bad("it is not UTF-8"))?);
    let mut material = Zeroizing::new([0u8; 32]);
    let text = text.trim();
    if text.len() != 64 || hex::decode_to_slice(text, material.as_mut()).is_err() {
        return Err(bad("it is not 64 hex digits"));
    }
    Ok(material)
}

/// Reads a root key file (this home's or another's, for `--root-key-file`), refusing one that
/// others can read.
pub(crate) fn read_root_file(path: &Path) -> Result<Material, CliError> {
    read_key_file(path, "root key")
}

/// Reads a file of 32 secret bytes as 64 hex digits (a root key, an audit key), refusing one
/// that others can read. `what` names it in messages.
pub(crate) fn read_key_file(path: &Path, what: &str) -> Result<Material, CliError> {
    let meta = fs::metadata(path)
        .map_err(|e| CliError::Setup(format!("cannot read {what} file {}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(CliError::Setup(format!(
                "{what} file {} has permissions {mode:04o}, so other users may read it: it \
                 must be readable by its owner only. Run `chmod 600 {}` (and consider the key \
                 exposed if others could read it)",
                path.display(),
                path.display()
            )));
        }
    }
    if !meta.is_file() {
        return Err(CliError::Setup(format!(
            "{what} file {} is not a regular file",
            path.display()
        )));
    }
    let text = Zeroizing::new(fs::read(path).map_err(|e| {
        CliError::Setup(format!("cannot read {what} file {}: {e}", path.display()))
    })?);
    let trimmed = text.trim_ascii();
    let mut material = Zeroizing::new([0u8; 32]);
    if trimmed.len() != 64 || hex::decode_to_slice(trimmed, material.as_mut()).is_err() {
        return Err(CliError::Setup(format!(
            "{what} file {} does not hold a 32-byte key as 64 hex digits",
            path.display()
        )));
    }
    Ok(material)
}

fn write_root_file(path: &Path, material: &Material) -> Result<(), CliError> {
    use std::io::Write as _;
    let fail = |e: std::io::Error| {
        CliError::Setup(format!(
            "cannot write root key file {}: {e}",
            path.display()
        ))
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(fail)?;
    let mut text = Zeroizing::new([0u8; 65]);
    hex::encode_to_slice(material.as_ref(), &mut text[..64])
        .map_err(|_| CliError::Setup("cannot encode the root key".into()))?;
    text[64] = b'\n';
    file.write_all(text.as_ref())
        .and_then(|()| file.sync_all())
        .map_err(fail)?;
    fs::File::open(path.parent().unwrap_or(Path::new(".")))
        .and_then(|d| d.sync_all())
        .map_err(fail)
}

fn create_private_dir(dir: &Path) -> Result<(), CliError> {
    if dir.is_dir() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(meta) = fs::metadata(dir)
                && meta.permissions().mode() & 0o077 != 0
            {
                eprintln!(
                    "keyplane: warning: {} can be read by other users; consider `chmod 700 {}`",
                    dir.display(),
                    dir.display()
                );
            }
        }
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| {
        CliError::Setup(format!(
            "cannot create the keyplane home {}: {e}",
            dir.display()
        ))
    })
}
