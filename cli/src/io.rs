//! Reading inputs and writing outputs: files or `-` (stdin/stdout), raw bytes or base64 text.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::error::CliError;

/// Base64 (standard alphabet, padded) of `bytes`, wiped on drop.
pub(crate) fn b64(bytes: &[u8]) -> Zeroizing<String> {
    Zeroizing::new(STANDARD.encode(bytes))
}

/// Decodes base64 text, ignoring whitespace (line breaks included); `what` names the input in
/// the error.
pub(crate) fn from_b64(text: &[u8], what: &str) -> Result<Zeroizing<Vec<u8>>, CliError> {
    let compact: Zeroizing<Vec<u8>> = Zeroizing::new(
        text.iter()
            .copied()
            .filter(|c| !c.is_ascii_whitespace())
            .collect(),
    );
    STANDARD
        .decode(&compact)
        .map(Zeroizing::new)
        .map_err(|_| CliError::Usage(format!("{what} is not valid base64")))
}

fn describe(spec: &str) -> String {
    if spec == "-" {
        "standard input".to_owned()
    } else {
        format!("'{spec}'")
    }
}

/// The bytes of `spec` (a file, or `-` for stdin).
pub(crate) fn read_input(spec: &str) -> Result<Zeroizing<Vec<u8>>, CliError> {
    let result = if spec == "-" {
        read_all(&mut std::io::stdin().lock(), 0)
    } else {
        fs::File::open(spec).and_then(|mut f| {
            let hint = f
                .metadata()
                .ok()
                .and_then(|m| usize::try_from(m.len()).ok())
                .unwrap_or(0);
            read_all(&mut f, hint)
        })
    };
    result.map_err(|e| CliError::Io(format!("cannot read {}: {e}", describe(spec))))
}

/// Reads everything from `reader` into a buffer that is wiped on drop, and whose earlier, smaller
/// copies are wiped too when it grows (`Vec`'s own growth would free them as they are).
fn read_all(reader: &mut impl Read, hint: usize) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(vec![0u8; hint.saturating_add(1).max(8192)]);
    let mut len = 0;
    loop {
        if len == buf.len() {
            let bigger = buf.len().checked_mul(2).ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::OutOfMemory, "input too large")
            })?;
            let mut grown = Zeroizing::new(vec![0u8; bigger]);
            grown[..len].copy_from_slice(&buf[..len]);
            buf = grown;
        }
        match reader.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(len);
    Ok(buf)
}

/// A blob (ciphertext, signature, MAC) from `spec`: raw, or base64 text with `base64`.
pub(crate) fn read_blob(spec: &str, base64: bool) -> Result<Zeroizing<Vec<u8>>, CliError> {
    let raw = read_input(spec)?;
    if base64 {
        from_b64(&raw, &describe(spec))
    } else {
        Ok(raw)
    }
}

/// Whether an output file holds a secret (plaintext, data key, private key): such files are
/// created readable by their owner only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sensitivity {
    Public,
    Secret,
}

/// Writes `bytes` to `spec` (a file, replaced if it exists, or `-` for stdout): raw, or base64
/// text and a newline with `base64`.
pub(crate) fn write_output(
    spec: &str,
    bytes: &[u8],
    base64: bool,
    sensitivity: Sensitivity,
) -> Result<(), CliError> {
    let encoded;
    let (data, newline): (&[u8], &[u8]) = if base64 {
        encoded = b64(bytes);
        (encoded.as_bytes(), b"\n")
    } else {
        (bytes, b"")
    };
    let result = if spec == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(data)
            .and_then(|()| out.write_all(newline))
            .and_then(|()| out.flush())
    } else {
        write_file(Path::new(spec), data, newline, sensitivity)
    };
    result.map_err(|e| CliError::Io(format!("cannot write {}: {e}", describe(spec))))
}

fn write_file(
    path: &Path,
    data: &[u8],
    trailer: &[u8],
    sensitivity: Sensitivity,
) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if sensitivity == Sensitivity::Secret {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        // An existing file keeps its mode through `open`: narrow it before writing the secret.
        if let Ok(meta) = fs::metadata(path)
            && meta.is_file()
            && meta.permissions().mode() & 0o077 != 0
        {
            fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
        }
    }
    let mut file = options.open(path)?;
    file.write_all(data)?;
    file.write_all(trailer)?;
    file.flush()
}

/// Writes `data` to `path` through a temporary file and a rename, so that a reader never sees a
/// partial file, and a crash (or power loss) leaves either the old file or the whole new one.
pub(crate) fn write_atomically(path: &Path, data: &[u8]) -> Result<(), CliError> {
    let mut temp = path.as_os_str().to_owned();
    temp.push(format!(".{}.tmp", std::process::id()));
    let temp = Path::new(&temp);
    let renamed = write_file(temp, data, b"", Sensitivity::Public)
        .and_then(|()| fs::File::open(temp)?.sync_all())
        .and_then(|()| fs::rename(temp, path));
    renamed
        .inspect_err(|_| {
            let _ = fs::remove_file(temp);
        })
        // The rename is durable only once the directory is: as the key store does it.
        .and_then(|()| sync_parent(path))
        .map_err(|e| CliError::Io(format!("cannot write '{}': {e}", path.display())))
}

/// Syncs the directory holding `path`, so that a new name in it survives a crash.
fn sync_parent(path: &Path) -> std::io::Result<()> {
    let parent = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    fs::File::open(parent)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::write_atomically;

    fn names(dir: &std::path::Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn an_atomic_write_leaves_the_whole_file_and_no_temporary_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token.bin");
        let data: Vec<u8> = (0..200_000u32).map(|i| i.to_le_bytes()[0]).collect();
        std::fs::write(&path, b"old").unwrap();
        write_atomically(&path, &data).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), data);
        assert_eq!(names(dir.path()), ["token.bin"]);

        // A write that cannot land (the name is a directory) leaves nothing behind either.
        let taken = dir.path().join("taken");
        std::fs::create_dir(&taken).unwrap();
        std::fs::write(taken.join("inside"), b"x").unwrap();
        assert!(write_atomically(&taken, b"new").is_err());
        assert_eq!(names(dir.path()), ["taken", "token.bin"]);
    }

    #[test]
    fn a_bare_file_name_is_synced_in_the_current_directory() {
        assert!(super::sync_parent(std::path::Path::new("file-in-cwd")).is_ok());
    }
}
