//! Unit tests of the file sink, its line encoding and verification; [`Faults`] makes the
//! sink's I/O fail on demand.

use std::fs::File;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::audit::encode::{push_hex_u64, push_json_str, push_u64};
use crate::audit::recorder::logged_name;
use crate::audit::{AuditEvent, AuditKey, AuditSink, FileSink, Operation, RequestId, verify};
use crate::envelope::MAX_KEY_ID_LEN;
use crate::error::{Error, Result};

/// Makes a file sink's I/O fail on demand, as a full disk does: a write that fails first
/// takes part of its bytes, then refuses the rest.
#[derive(Default)]
pub(super) struct Faults {
    fail_writes: AtomicBool,
    fail_creates: AtomicBool,
    took_part: AtomicBool,
}

impl Faults {
    pub(super) fn on_create(faults: Option<&Self>) -> Result<()> {
        match faults {
            Some(f) if f.fail_creates.load(Ordering::Acquire) => {
                Err(Error::Storage("cannot create an audit log file"))
            }
            _ => Ok(()),
        }
    }

    pub(super) fn write(
        faults: Option<&Self>,
        file: &mut File,
        bytes: &[u8],
    ) -> std::io::Result<usize> {
        match faults {
            Some(f) if f.fail_writes.load(Ordering::Acquire) => {
                if bytes.len() > 1 && !f.took_part.swap(true, Ordering::AcqRel) {
                    file.write(&bytes[..bytes.len() / 2])
                } else {
                    Err(std::io::Error::from_raw_os_error(28)) // ENOSPC
                }
            }
            _ => file.write(bytes),
        }
    }

    fn set(&self, writes: bool, creates: bool) {
        self.fail_writes.store(writes, Ordering::Release);
        self.fail_creates.store(creates, Ordering::Release);
        self.took_part.store(false, Ordering::Release);
    }
}

fn event(counter: u64, key_id: &str) -> AuditEvent<'_> {
    AuditEvent {
        sequence: counter,
        time: std::time::SystemTime::now(),
        request_id: RequestId { thread: 1, counter },
        operation: Operation::Encrypt,
        key_id: Some(key_id),
        key_version: Some(1),
        caller: None,
        context: crate::audit::AuditContext {
            pairs: &[],
            keys_only: false,
        },
        error_code: None,
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("keyplane-audit-unit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs `n` records through `sink`, returning how many it refused.
fn records(sink: &mut FileSink, from: u64, n: u64) -> u64 {
    let refused = (from..from + n)
        .filter(|&i| sink.record(&event(i, "k")).is_err())
        .count();
    u64::try_from(refused).unwrap()
}

#[test]
fn failed_writes_and_file_creations_never_break_the_chain() {
    let dir = temp_dir("faults");
    let key = || AuditKey::new(&[7; 32]).unwrap();
    let faults = Arc::new(Faults::default());
    let mut sink = FileSink::create(&dir, key())
        .unwrap()
        .max_file_bytes(4096)
        .checkpoint_every(5);
    sink.faults = Some(Arc::clone(&faults));
    assert_eq!(records(&mut sink, 1, 50), 0);
    sink.flush().unwrap();
    // A full disk: writes take part of their bytes, then fail; a flush fails.
    faults.set(true, false);
    records(&mut sink, 51, 100);
    assert!(sink.flush().is_err(), "the flush reports the failure");
    // The disk recovers: everything kept goes out and the log verifies.
    faults.set(false, false);
    assert_eq!(records(&mut sink, 151, 10), 0);
    sink.flush().unwrap();
    let files = super::log_files(&dir).unwrap();
    let report = verify(&files, &key()).unwrap();
    assert_eq!(report.records, 160, "{report}");
    // A file that cannot be created (at a rotation) is created later under its number.
    let before = files.len();
    faults.set(false, true);
    records(&mut sink, 161, 200);
    faults.set(false, false);
    assert_eq!(records(&mut sink, 361, 10), 0);
    sink.close().unwrap();
    drop(sink);
    let files = super::log_files(&dir).unwrap();
    assert!(files.len() > before + 1);
    for (i, file) in files.iter().enumerate() {
        let name = file.file_name().unwrap().to_str().unwrap().to_owned();
        assert_eq!(
            name,
            format!("audit-{:06}.jsonl", i + 1),
            "no number skipped"
        );
    }
    let report = verify(&files, &key()).unwrap();
    assert_eq!(report.records, 370, "{report}");
    assert!(report.closed);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn lines_that_cannot_be_kept_are_counted_in_the_log() {
    let dir = temp_dir("lost");
    let key = || AuditKey::new(&[7; 32]).unwrap();
    let faults = Arc::new(Faults::default());
    let mut sink = FileSink::create(&dir, key()).unwrap();
    sink.faults = Some(Arc::clone(&faults));
    faults.set(true, false);
    // Long key ids fill the memory kept for a failing disk (4 MiB) in a few thousand lines.
    let long = "k".repeat(MAX_KEY_ID_LEN);
    for i in 1..=30_000 {
        let _ = sink.record(&event(i, &long));
    }
    let lost = sink.lost;
    assert!(lost > 0, "the lines kept are bounded");
    faults.set(false, false);
    sink.close().unwrap();
    drop(sink);
    let files = super::log_files(&dir).unwrap();
    let report = verify(&files, &key()).unwrap();
    assert!(report.closed);
    let text: String = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    assert!(
        text.contains(&format!(
            "\"operation\":\"AuditRecordsLost\",\"count\":{lost},"
        )),
        "the log says how many events it left out"
    );
    assert_eq!(report.records + lost, 30_000 + 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn names_longer_than_any_key_id_are_cut_visibly() {
    let mut buf = [0u8; MAX_KEY_ID_LEN];
    for name in ["", "k", &"k".repeat(255)] {
        assert_eq!(logged_name(name.as_bytes(), &mut buf), name.as_bytes());
    }
    for name in ["k".repeat(256), "é".repeat(40_000), "x".repeat(1 << 16)] {
        let logged = std::str::from_utf8(logged_name(name.as_bytes(), &mut buf))
            .unwrap()
            .to_owned();
        assert!(logged.len() <= MAX_KEY_ID_LEN);
        assert!(name.starts_with(logged.split('…').next().unwrap()));
        assert!(
            logged.ends_with(&format!("…[truncated, {} bytes]", name.len())),
            "{logged}"
        );
    }
}

#[test]
fn json_strings_round_trip() {
    for s in [
        "",
        "plain-id",
        "quote\" backslash\\ newline\n tab\t cr\r",
        "\u{1}\u{1f} control",
        "é ü 日本 🔑",
    ] {
        let mut out = Vec::new();
        push_json_str(&mut out, s);
        assert_eq!(serde_json::from_slice::<String>(&out).unwrap(), s);
    }
}

#[test]
fn numbers_in_decimal_and_hex() {
    let mut out = Vec::new();
    for n in [0, 9, 10, 1_795_350_531_757_318_328, u64::MAX] {
        push_u64(&mut out, n);
        out.push(b' ');
    }
    for n in [0, 0xf, 0x10, u64::MAX] {
        push_hex_u64(&mut out, n);
        out.push(b' ');
    }
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "0 9 10 1795350531757318328 18446744073709551615 0 f 10 ffffffffffffffff "
    );
}
