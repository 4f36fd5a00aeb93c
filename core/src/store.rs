//! An embedded key store: a directory of sealed key records that survives crashes, for
//! users with no control plane of their own.
//!
//! ```text
//! <dir>/lock                  held (flock) by the one process that has the store open
//! <dir>/keys/<hex id>.kpr     one sealed record per key (see FORMAT.md)
//! ```
//!
//! **Durability.** A record is written to a temporary file in `keys/`, fsynced, renamed over the
//! old record and the directory is fsynced; only then is the change acknowledged. A crash at
//! any point leaves either the old record or the new one, never a mix; a temporary file left by
//! a crash is removed at the next open.
//!
//! **One writer.** Opening takes an exclusive advisory lock on `<dir>/lock`; a second process
//! (or a second `Store` in this one) gets [`Error::Storage`] ("in use by another process")
//! rather than a store both would corrupt. The lock dies with the process, `kill -9` included.
//! A process started by this one holds a copy of the lock from fork until exec, so a store
//! closed and reopened while another thread spawns a process can find it briefly held: open
//! waits up to [`Store::LOCK_WAIT`] for the lock before calling the store in use.
//!
//! **Damage is contained.** Every record is authenticated under the root key, so a flipped
//! byte or a truncated file is detected; [`crate::KeyringBuilder::open`] names each bad file
//! in its [`LoadProblem`]s and loads every other key.
//!
//! **Changes that span two records.** Moving an alias rewrites the new target's record, then
//! the old target's. Stopped between the two (a crash, a failed write), the store holds two
//! records claiming the alias; the move was not acknowledged, so either outcome is correct:
//! open keeps the alias on the first record in file name order, loads the other key without
//! it, and rewrites that record so the stale claim cannot return (silently, as temporary
//! files are removed: nothing is lost).

use core::fmt;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

const RECORD_EXT: &str = "kpr";
const TEMP_EXT: &str = "tmp";

/// A directory of sealed key records, opened by one process at a time.
pub struct Store {
    dir: PathBuf,
    keys: PathBuf,
    /// Held for the store's lifetime: the exclusive lock lives as long as this file is open.
    _lock: File,
    temp_counter: AtomicU64,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// A record the store could not load, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadProblem {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it: [`Error::InvalidCiphertext`] for a damaged or foreign record,
    /// [`Error::InvalidInput`] for one that is not a record at all, [`Error::Storage`] for one
    /// that cannot be read, [`Error::AlreadyExists`] for a second record of the same key.
    pub error: Error,
}

impl fmt::Display for LoadProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.error)
    }
}

fn io(what: &'static str) -> impl Fn(std::io::Error) -> Error {
    move |_| Error::Storage(what)
}

/// Lower-case hex of `bytes` (file names must not carry the `/` and `:` key ids may hold).
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("cannot sync the store directory"))
}

impl Store {
    /// How long [`Store::open`] waits for a lock held by someone else before reporting the
    /// store in use: long enough to outlast a child process between fork and exec on a loaded
    /// machine, short enough that a store truly in use is reported promptly.
    pub const LOCK_WAIT: Duration = Duration::from_secs(1);

    /// Opens (creating if needed) the store in `dir` and locks it for this process, waiting up
    /// to [`Store::LOCK_WAIT`] if the lock is held.
    ///
    /// # Errors
    /// [`Error::Storage`] when the directory cannot be created or read, or another process (or
    /// another `Store` in this one) still has it open after [`Store::LOCK_WAIT`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        let keys = dir.join("keys");
        create_private_dir(&dir)?;
        create_private_dir(&keys)?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("lock"))
            .map_err(io("cannot open the store's lock file"))?;
        lock_within(&lock, Self::LOCK_WAIT)?;
        let store = Self {
            dir,
            keys,
            _lock: lock,
            temp_counter: AtomicU64::new(0),
        };
        store.remove_temporaries()?;
        Ok(store)
    }

    /// The store's directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn record_path(&self, key_id: &str) -> PathBuf {
        self.keys
            .join(format!("{}.{RECORD_EXT}", hex(key_id.as_bytes())))
    }

    /// Whether the store holds a record for `key_id`.
    pub(crate) fn has_record(&self, key_id: &str) -> bool {
        self.record_path(key_id).exists()
    }

    /// Durably replaces `key_id`'s record with `record`.
    pub(crate) fn write(&self, key_id: &str, record: &[u8]) -> Result<()> {
        let n = self.temp_counter.fetch_add(1, Ordering::Relaxed);
        let temp = self
            .keys
            .join(format!("{}-{n}.{TEMP_EXT}", hex(key_id.as_bytes())));
        let written = (|| {
            let mut file = OpenOptions::new()
                .create_new(true)
                .write(true)
                .open(&temp)?;
            file.write_all(record)?;
            file.sync_all()
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temp);
            return Err(Error::Storage("cannot write a key record"));
        }
        if fs::rename(&temp, self.record_path(key_id)).is_err() {
            let _ = fs::remove_file(&temp);
            return Err(Error::Storage("cannot replace a key record"));
        }
        sync_dir(&self.keys)
    }

    /// Durably removes `key_id`'s record (the key was deleted).
    pub(crate) fn remove(&self, key_id: &str) -> Result<()> {
        match fs::remove_file(self.record_path(key_id)) {
            Ok(()) => sync_dir(&self.keys),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(_) => Err(Error::Storage("cannot remove a key record")),
        }
    }

    /// Every record file and its bytes (or why it could not be read), in file name order.
    pub(crate) fn records(&self) -> Result<Vec<(PathBuf, Result<Vec<u8>>)>> {
        let mut paths: Vec<PathBuf> = fs::read_dir(&self.keys)
            .map_err(io("cannot list the store"))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == RECORD_EXT))
            .collect();
        paths.sort();
        Ok(paths
            .into_iter()
            .map(|p| {
                let bytes = fs::read(&p).map_err(io("cannot read a key record"));
                (p, bytes)
            })
            .collect())
    }

    /// Whether `path` is where this store keeps `key_id`'s record.
    pub(crate) fn is_record_of(&self, path: &Path, key_id: &str) -> bool {
        path == self.record_path(key_id)
    }

    fn remove_temporaries(&self) -> Result<()> {
        for entry in fs::read_dir(&self.keys).map_err(io("cannot list the store"))? {
            let path = entry.map_err(io("cannot list the store"))?.path();
            if path.extension().is_some_and(|e| e == TEMP_EXT) {
                fs::remove_file(&path).map_err(io("cannot remove a temporary file"))?;
            }
        }
        Ok(())
    }
}

/// Takes `lock`'s exclusive lock, retrying with a growing pause until `wait` has passed.
fn lock_within(lock: &File, wait: Duration) -> Result<()> {
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_micros(200);
    loop {
        match lock.try_lock() {
            Ok(()) => return Ok(()),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(TryLockError::WouldBlock) => {
                return Err(Error::Storage("the store is in use by another process"));
            }
            Err(TryLockError::Error(_)) => return Err(Error::Storage("cannot lock the store")),
        }
    }
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(io("cannot create the store directory"))
}
