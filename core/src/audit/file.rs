//! [`FileSink`]: the hash-chained JSON Lines log, its MACed checkpoints and rotation by size.

use core::fmt;
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use aws_lc_rs::{digest, hmac};
use zeroize::Zeroizing;

#[cfg(test)]
mod tests;

#[cfg(test)]
use std::sync::Arc;

use super::encode::{push_hex, push_hex_u64, push_json_str, push_u64};
use super::recorder::now_nanos;
use super::{AuditEvent, AuditSink};
use crate::error::{Error, Result};

/// The key that MACs the audit log's checkpoints (HMAC-SHA256). Keep it apart from the log:
/// whoever holds it can forge checkpoints.
pub struct AuditKey(Zeroizing<Vec<u8>>);

impl AuditKey {
    /// A key from 32 bytes.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] unless `bytes` is 32 bytes long.
    pub fn new(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != 32 {
            return Err(Error::InvalidInput("audit key must be 32 bytes"));
        }
        Ok(Self(Zeroizing::new(bytes.to_vec())))
    }

    pub(super) fn mac(&self, data: &[u8]) -> [u8; 32] {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.0);
        let mut out = [0u8; 32];
        out.copy_from_slice(hmac::sign(&key, data).as_ref());
        out
    }
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditKey")
    }
}

/// Records between checkpoints unless the file sink is told otherwise.
pub const DEFAULT_CHECKPOINT_EVERY: u64 = 1000;
/// File size at which the file sink starts the next file unless told otherwise.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 64 << 20;

/// A JSON Lines audit log in a directory: `audit-000001.jsonl`, `audit-000002.jsonl`, …
///
/// Each line carries `"prev"`, the SHA-256 of the line before it (across files), and every
/// [`checkpoint_every`](Self::checkpoint_every) records, at each file's end and at close, a
/// checkpoint line carries an HMAC-SHA256 under the [`AuditKey`]. See `FORMAT.md`.
///
/// **Write failures** (a full disk, a failing device) never break the chain: a line joins
/// the chain in memory and is written out in order, from exactly where the last write
/// stopped, so a file always holds a prefix of the chain. While writes fail, each call that
/// could not write is counted in [`audit_failures`](crate::Keyring::audit_failures) and the
/// lines wait (up to 4 MiB); a line that does not fit is left out of the chain, and the first
/// line that fits again is `AuditRecordsLost` with how many were left out. Once writes succeed
/// again the whole log verifies.
pub struct FileSink {
    dir: PathBuf,
    key: AuditKey,
    /// The file being written, `audit-{file_number}.jsonl`.
    file: Option<File>,
    /// The number of the last file created (0 before the first).
    file_number: u32,
    /// Bytes chained into the current file, written or pending.
    file_bytes: u64,
    max_file_bytes: u64,
    checkpoint_every: u64,
    since_checkpoint: u64,
    /// Lines chained so far: the last line's `seq`.
    line: u64,
    /// The hash of the last line chained.
    prev: [u8; 32],
    /// Lines chained but not yet written, in order; a failed write leaves its unwritten
    /// remainder here.
    pending: Vec<u8>,
    /// Events left out of the chain since the last `AuditRecordsLost` line.
    lost: u64,
    /// Reused for every record, so writing one allocates nothing.
    body: Vec<u8>,
    line_buffer: Vec<u8>,
    #[cfg(test)]
    faults: Option<Arc<tests::Faults>>,
}

/// The file sink writes its pending lines out once they reach this size.
const WRITE_AT: usize = 1 << 16;
/// The most the file sink keeps in memory while writes fail.
const MAX_PENDING: usize = 4 << 20;

impl fmt::Debug for FileSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileSink")
            .field("dir", &self.dir)
            .field("file_number", &self.file_number)
            .finish_non_exhaustive()
    }
}

fn storage(what: &'static str) -> impl Fn(std::io::Error) -> Error {
    move |_| Error::Storage(what)
}

impl FileSink {
    /// A log in `dir` (created if needed). The directory must hold no earlier log: a log is
    /// one chain from its first file.
    ///
    /// # Errors
    /// [`Error::Storage`] when the directory cannot be created or already holds a log.
    pub fn create(dir: impl AsRef<Path>, key: AuditKey) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(storage("cannot create the audit directory"))?;
        if !log_files(&dir)?.is_empty() {
            return Err(Error::Storage(
                "the audit directory already holds a log; use a new directory",
            ));
        }
        Ok(Self {
            dir,
            key,
            file: None,
            file_number: 0,
            file_bytes: 0,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            checkpoint_every: DEFAULT_CHECKPOINT_EVERY,
            since_checkpoint: 0,
            line: 0,
            prev: [0; 32],
            pending: Vec::with_capacity(WRITE_AT + 1024),
            lost: 0,
            body: Vec::with_capacity(512),
            line_buffer: Vec::with_capacity(640),
            #[cfg(test)]
            faults: None,
        })
    }

    /// Starts a new file once the current one reaches `bytes` (default 64 MiB).
    #[must_use]
    pub fn max_file_bytes(mut self, bytes: u64) -> Self {
        self.max_file_bytes = bytes.max(1);
        self
    }

    /// Writes a MACed checkpoint every `records` records (default 1000).
    #[must_use]
    pub fn checkpoint_every(mut self, records: u64) -> Self {
        self.checkpoint_every = records.max(1);
        self
    }

    /// Writes the pending lines to the current file (created first if there is none). A
    /// failure keeps whatever was not written, to be written from that byte on next time.
    fn write_out(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if self.file.is_none() {
            // The number is taken only once the file exists: a failed creation is retried
            // under the same name, so no file number is ever skipped.
            let number = self
                .file_number
                .checked_add(1)
                .ok_or(Error::Storage("too many audit log files"))?;
            let path = self.dir.join(format!("audit-{number:06}.jsonl"));
            #[cfg(test)]
            tests::Faults::on_create(self.faults.as_deref())?;
            let file = OpenOptions::new()
                .create_new(true)
                .write(true)
                .open(&path)
                .map_err(storage("cannot create an audit log file"))?;
            self.file = Some(file);
            self.file_number = number;
        }
        let file = self.file.as_mut().ok_or(Error::Internal)?;
        let mut written = 0;
        let result = loop {
            let rest = &self.pending[written..];
            if rest.is_empty() {
                break Ok(());
            }
            #[cfg(test)]
            let attempt = tests::Faults::write(self.faults.as_deref(), file, rest);
            #[cfg(not(test))]
            let attempt = std::io::Write::write(file, rest);
            match attempt {
                Ok(0) => break Err(Error::Storage("cannot write the audit log")),
                Ok(n) => written += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break Err(Error::Storage("cannot write the audit log")),
            }
        };
        self.pending.drain(..written);
        result
    }

    /// Adds one line (`body` is a JSON object without its closing brace) to the chain: it is
    /// written with the pending lines. Fails, leaving the chain as it was, only when the line
    /// cannot be kept (writes are failing and [`MAX_PENDING`] bytes are waiting).
    fn append(&mut self, body: &[u8]) -> Result<()> {
        let mut line = core::mem::take(&mut self.line_buffer);
        line.clear();
        line.extend_from_slice(body);
        line.extend_from_slice(b",\"prev\":\"");
        push_hex(&mut line, &self.prev);
        line.extend_from_slice(b"\"}");
        if self.pending.len() + line.len() >= MAX_PENDING {
            let written = self.write_out();
            if self.pending.len() + line.len() >= MAX_PENDING {
                self.line_buffer = line;
                return written.and(Err(Error::Storage("cannot write the audit log")));
            }
        }
        let hash = digest::digest(&digest::SHA256, &line);
        self.prev.copy_from_slice(hash.as_ref());
        self.line += 1;
        self.pending.extend_from_slice(&line);
        self.pending.push(b'\n');
        self.file_bytes += u64::try_from(line.len() + 1).unwrap_or(u64::MAX);
        self.line_buffer = line;
        Ok(())
    }

    /// Writes the pending lines out once there are enough of them.
    fn write_some(&mut self) -> Result<()> {
        if self.pending.len() >= WRITE_AT {
            self.write_out()
        } else {
            Ok(())
        }
    }

    /// A line saying how many events were left out, if any were, before the next line.
    fn note_lost(&mut self) -> Result<()> {
        if self.lost == 0 {
            return Ok(());
        }
        let body = format!(
            "{{\"seq\":{},\"time\":{},\"operation\":\"AuditRecordsLost\",\"count\":{}",
            self.line + 1,
            now_nanos(),
            self.lost
        );
        self.append(body.as_bytes())?;
        self.lost = 0;
        Ok(())
    }

    /// A checkpoint: the chain so far, MACed.
    fn checkpoint(&mut self, closed: bool) -> Result<()> {
        let seq = self.line + 1;
        let body = checkpoint_body(&self.key, seq, now_nanos(), closed, &self.prev);
        self.append(&body)?;
        self.since_checkpoint = 0;
        Ok(())
    }

    fn sync(&mut self) -> Result<()> {
        self.write_out()?;
        if let Some(file) = self.file.as_ref() {
            file.sync_data()
                .map_err(storage("cannot sync the audit log"))?;
        }
        Ok(())
    }

    fn after_record(&mut self) -> Result<()> {
        self.since_checkpoint += 1;
        if self.since_checkpoint >= self.checkpoint_every {
            self.checkpoint(false)?;
        }
        if self.file_bytes >= self.max_file_bytes {
            if self.since_checkpoint > 0 {
                self.checkpoint(false)?;
            }
            // The file is let go only once everything chained into it is on disk; until
            // then the lines after it go on into it.
            self.sync()?;
            self.file = None;
            self.file_bytes = 0;
        }
        self.write_some()
    }
}

/// A checkpoint line's body (without `prev`), the only form [`verify`] accepts.
pub(super) fn checkpoint_body(
    key: &AuditKey,
    seq: u64,
    time: u64,
    closed: bool,
    prev: &[u8; 32],
) -> Vec<u8> {
    let mac = key.mac(&checkpoint_input(seq, time, closed, prev));
    let mut body = format!(
        "{{\"seq\":{seq},\"checkpoint\":true,\"time\":{time},\"closed\":{closed},\"mac\":\""
    )
    .into_bytes();
    push_hex(&mut body, &mac);
    body.push(b'"');
    body
}

pub(super) fn checkpoint_input(seq: u64, time: u64, closed: bool, prev: &[u8; 32]) -> Vec<u8> {
    let mut input = Vec::with_capacity(64);
    input.extend_from_slice(b"keyplane audit checkpoint v1\0");
    input.extend_from_slice(&seq.to_be_bytes());
    input.extend_from_slice(&time.to_be_bytes());
    input.push(u8::from(closed));
    input.extend_from_slice(prev);
    input
}

impl AuditSink for FileSink {
    fn record(&mut self, event: &AuditEvent<'_>) -> Result<()> {
        if let Err(e) = self.note_lost() {
            self.lost += 1;
            return Err(e);
        }
        let mut body = core::mem::take(&mut self.body);
        body.clear();
        let time = event
            .time
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let seq = self.line + 1;
        // By hand rather than through `fmt`: this runs once per event on the writer thread.
        body.extend_from_slice(b"{\"seq\":");
        push_u64(&mut body, seq);
        body.extend_from_slice(b",\"time\":");
        push_u64(&mut body, time);
        body.extend_from_slice(b",\"request_id\":\"");
        push_hex_u64(&mut body, event.request_id.thread);
        body.push(b'-');
        push_hex_u64(&mut body, event.request_id.counter);
        body.extend_from_slice(b"\",\"operation\":\"");
        body.extend_from_slice(event.operation.as_str().as_bytes());
        body.push(b'"');
        if let Some(key_id) = event.key_id {
            body.extend_from_slice(b",\"key_id\":");
            push_json_str(&mut body, key_id);
        }
        if let Some(v) = event.key_version {
            body.extend_from_slice(b",\"key_version\":");
            push_u64(&mut body, u64::from(v));
        }
        if let Some(caller) = event.caller {
            body.extend_from_slice(b",\"caller\":");
            push_json_str(&mut body, caller);
        }
        if !event.context.is_empty() {
            body.extend_from_slice(b",\"context\":{");
            for (i, (k, v)) in event.context.iter().enumerate() {
                if i > 0 {
                    body.push(b',');
                }
                push_json_str(&mut body, k);
                body.push(b':');
                push_json_str(&mut body, v);
            }
            body.push(b'}');
        }
        body.extend_from_slice(b",\"outcome\":\"");
        body.extend_from_slice(event.error_code.unwrap_or("ok").as_bytes());
        body.push(b'"');
        let appended = self.append(&body);
        self.body = body;
        if let Err(e) = appended {
            self.lost += 1;
            return Err(e);
        }
        self.after_record()
    }

    fn dropped(&mut self, dropped: u64) -> Result<()> {
        if let Err(e) = self.note_lost() {
            // The dropped events are left out too: count them with the lost ones.
            self.lost = self.lost.saturating_add(dropped);
            return Err(e);
        }
        let seq = self.line + 1;
        let body = format!(
            "{{\"seq\":{seq},\"time\":{},\"operation\":\"AuditRecordsDropped\",\"count\":{dropped}",
            now_nanos()
        );
        if let Err(e) = self.append(body.as_bytes()) {
            self.lost = self.lost.saturating_add(dropped);
            return Err(e);
        }
        self.after_record()
    }

    fn flush(&mut self) -> Result<()> {
        self.note_lost()?;
        self.sync()
    }

    fn close(&mut self) -> Result<()> {
        self.note_lost()?;
        self.checkpoint(true)?;
        self.sync()
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        // Normally `close` wrote everything; this is a last try for lines a failing disk kept.
        let _ = self.write_out();
    }
}

pub(super) fn log_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(storage("cannot list the audit directory"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("audit-") && n.ends_with(".jsonl"))
        })
        .collect();
    files.sort();
    Ok(files)
}
