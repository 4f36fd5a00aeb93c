//! Checking a hash-chained log: every line's link, every checkpoint's MAC, and the chain
//! across rotated files.

use core::fmt;
use std::fs::{self};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::{constant_time, digest};

use super::encode::push_hex;
use super::file::{AuditKey, checkpoint_body, checkpoint_input, log_files};
use crate::error::Result;

/// What [`verify`] found in an intact log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Event lines (checkpoints not counted).
    pub records: u64,
    /// The last checkpoint: its file, line and time.
    pub last_checkpoint: Option<(PathBuf, u64, SystemTime)>,
    /// Whether the log ends with the checkpoint written at close. `false` means the writer
    /// crashed or the tail was cut off after `ends_at`: lines after the last checkpoint are
    /// chained but not MACed.
    pub closed: bool,
    /// The last complete line: file and line number.
    pub ends_at: Option<(PathBuf, u64)>,
    /// An incomplete last line was ignored (a crash mid-write).
    pub incomplete_tail: bool,
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "intact, {} records", self.records)?;
        match &self.last_checkpoint {
            Some((file, line, time)) => {
                let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
                write!(
                    f,
                    ", last checkpoint at {}:{line} (unix time {secs})",
                    file.display()
                )?;
            }
            None => f.write_str(", no checkpoint")?,
        }
        if !self.closed {
            match &self.ends_at {
                Some((file, line)) => write!(
                    f,
                    "; NOT CLOSED: ends at {}:{line} (crash or cut-off tail)",
                    file.display()
                )?,
                None => f.write_str("; NOT CLOSED: empty")?,
            }
        }
        Ok(())
    }
}

/// The first broken link [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The file.
    pub file: PathBuf,
    /// The file's place in the list given to [`verify`], from 0 (a file listed twice has two).
    pub file_index: usize,
    /// The line, from 1.
    pub line: u64,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.reason)
    }
}

impl std::error::Error for Broken {}

/// Checks a log: `files` in order (as the file sink numbers them), the hash chain through all of
/// them, every checkpoint's MAC under `key`, and that sequence numbers run without gaps.
///
/// # Errors
/// The first broken link: an edited, deleted, reordered or inserted line, a file missing from
/// the middle, a checkpoint whose MAC fails, or lines after the close.
pub fn verify(files: &[PathBuf], key: &AuditKey) -> core::result::Result<VerifyReport, Broken> {
    let mut prev = [0u8; 32];
    let mut seq = 0u64;
    let mut report = VerifyReport {
        records: 0,
        last_checkpoint: None,
        closed: false,
        ends_at: None,
        incomplete_tail: false,
    };
    for (index, file) in files.iter().enumerate() {
        let broken = |line: u64, reason: &str| Broken {
            file: file.clone(),
            file_index: index,
            line,
            reason: reason.to_owned(),
        };
        let bytes = fs::read(file).map_err(|e| broken(0, &format!("cannot read: {e}")))?;
        let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
        // The text after the last newline: empty, or a line cut short by a crash.
        let tail = lines.pop().unwrap_or_default();
        if !tail.is_empty() {
            if index + 1 != files.len() {
                return Err(broken(
                    u64::try_from(lines.len() + 1).unwrap_or(u64::MAX),
                    "incomplete line in the middle of the log",
                ));
            }
            report.incomplete_tail = true;
        }
        for (i, line) in lines.iter().enumerate() {
            let number = u64::try_from(i + 1).unwrap_or(u64::MAX);
            if report.closed {
                return Err(broken(number, "line after the log was closed"));
            }
            let text = core::str::from_utf8(line).map_err(|_| broken(number, "not UTF-8"))?;
            let expected_prev = format!(",\"prev\":\"{}\"}}", hex_string(&prev));
            let body = text.strip_suffix(&expected_prev).ok_or_else(|| {
                broken(
                    number,
                    "chain broken: \"prev\" is not the hash of the line before",
                )
            })?;
            seq += 1;
            let seq_field = format!("{{\"seq\":{seq},");
            if !body.starts_with(&seq_field) {
                return Err(broken(number, "sequence number out of order"));
            }
            // A checkpoint is recognised by its start and must be exactly the line the sink
            // writes for its MACed fields: the MAC covers `seq`, `time`, `closed` and `prev`,
            // and nothing else may be on the line (no added, edited or reordered field).
            if body[seq_field.len()..].starts_with("\"checkpoint\":") {
                let (time, closed, mac) =
                    parse_checkpoint(body).ok_or_else(|| broken(number, "malformed checkpoint"))?;
                let expected = checkpoint_body(key, seq, time, closed, &prev);
                if constant_time::verify_slices_are_equal(&expected, body.as_bytes()).is_err() {
                    let expected_mac = key.mac(&checkpoint_input(seq, time, closed, &prev));
                    return Err(broken(
                        number,
                        if constant_time::verify_slices_are_equal(&expected_mac, &mac).is_ok() {
                            "checkpoint line altered: it holds more or other than its MACed fields"
                        } else {
                            "checkpoint MAC does not verify (wrong audit key, or the log before it was rewritten)"
                        },
                    ));
                }
                report.last_checkpoint = Some((
                    file.clone(),
                    number,
                    UNIX_EPOCH + Duration::from_nanos(time),
                ));
                report.closed = closed;
            } else {
                report.records += 1;
            }
            let hash = digest::digest(&digest::SHA256, line);
            prev.copy_from_slice(hash.as_ref());
            report.ends_at = Some((file.clone(), number));
        }
    }
    Ok(report)
}

fn hex_string(bytes: &[u8]) -> String {
    let mut s = Vec::with_capacity(bytes.len() * 2);
    push_hex(&mut s, bytes);
    String::from_utf8(s).unwrap_or_default()
}

/// `(time, closed, mac)` of a checkpoint body as [`FileSink`] writes it.
fn parse_checkpoint(body: &str) -> Option<(u64, bool, [u8; 32])> {
    let field = |name: &str| {
        let start = body.find(&format!("\"{name}\":"))? + name.len() + 3;
        let rest = &body[start..];
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        Some(rest[..end].trim_matches('"'))
    };
    let time = field("time")?.parse().ok()?;
    let closed = field("closed")? == "true";
    let mac_hex = field("mac")?;
    if mac_hex.len() != 64 {
        return None;
    }
    let mut mac = [0u8; 32];
    for (i, byte) in mac.iter_mut().enumerate() {
        *byte = u8::from_str_radix(mac_hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some((time, closed, mac))
}

/// The log files in `dir`, in order, for [`verify`].
///
/// # Errors
/// [`Error::Storage`] when the directory cannot be listed.
pub fn log_files_in(dir: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
    log_files(dir.as_ref())
}
