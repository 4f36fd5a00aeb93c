//! Audit logs from outside: `audit::verify` on arbitrary bytes as one log file, as two files,
//! and as one line ending a real log.
//!
//! Input: one selector byte, then the bytes under test; selector % 3 is the mode.
//! - 0: the bytes are the log's only file.
//! - 1: `u16 n ‖ n bytes of the first file ‖ the second file`.
//! - 2: the bytes replace the last line (the closing checkpoint) of a real log of five lines,
//!   built here as FORMAT.md describes it.
//!
//! Whatever the input, a log that verifies and ends in a checkpoint ends in one exactly as the
//! writer writes it: the checkpoint's MAC covers the whole line, so no other bytes may pass.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use aws_lc_rs::{digest, hmac};
use keyplane::audit::{self, AuditKey};
use libfuzzer_sys::fuzz_target;

/// The audit key of every log here.
const KEY: [u8; 32] = [0x11; 32];

struct Fixture {
    key: AuditKey,
    files: [PathBuf; 2],
    /// A real, closed log, without its last line.
    head: Vec<u8>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    // A static is never dropped, so nothing here removes this directory: scripts/fuzz points
    // TMPDIR at a directory of its own and removes that.
    let dir = std::env::temp_dir().join(format!("keyplane-fuzz-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let files = [
        dir.join("audit-000001.jsonl"),
        dir.join("audit-000002.jsonl"),
    ];
    let key = AuditKey::new(&KEY).expect("an audit key");
    let log = real_log();
    std::fs::write(&files[0], &log).expect("write");
    let report = audit::verify(&files[..1], &key).expect("the real log verifies");
    assert!(report.closed && report.records == 3, "{report}");
    let last = log[..log.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .expect("lines");
    Fixture {
        key,
        files,
        head: log[..=last].to_vec(),
    }
});

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// FORMAT.md's checkpoint line for position `seq` after a line hashing to `prev`.
fn checkpoint(seq: u64, time: u64, closed: bool, prev: &[u8; 32]) -> String {
    let mut input = b"keyplane audit checkpoint v1\0".to_vec();
    input.extend_from_slice(&seq.to_be_bytes());
    input.extend_from_slice(&time.to_be_bytes());
    input.push(u8::from(closed));
    input.extend_from_slice(prev);
    let mac = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &KEY), &input);
    format!(
        "{{\"seq\":{seq},\"checkpoint\":true,\"time\":{time},\"closed\":{closed},\"mac\":\"{}\",\"prev\":\"{}\"}}",
        hex(mac.as_ref()),
        hex(prev)
    )
}

/// A closed log of three events and two checkpoints, written from FORMAT.md.
fn real_log() -> Vec<u8> {
    let bodies = [
        Some(
            r#""time":1795000000000000001,"request_id":"1-1","operation":"CreateKey","key_id":"k1","outcome":"ok""#,
        ),
        Some(
            r#""time":1795000000000000002,"request_id":"1-2","operation":"Encrypt","key_id":"k1","key_version":1,"caller":"billing","context":{"tenant":"acme"},"outcome":"ok""#,
        ),
        None,
        Some(
            r#""time":1795000000000000004,"request_id":"2-1","operation":"Decrypt","key_id":"k1","key_version":1,"outcome":"KP_INVALID_CIPHERTEXT""#,
        ),
        None,
    ];
    let mut prev = [0u8; 32];
    let mut log = Vec::new();
    for (seq, body) in (1u64..).zip(bodies) {
        let line = match body {
            Some(body) => format!("{{\"seq\":{seq},{body},\"prev\":\"{}\"}}", hex(&prev)),
            None => checkpoint(seq, 1_795_000_000_000_000_000 + seq, seq == 5, &prev),
        };
        prev.copy_from_slice(digest::digest(&digest::SHA256, line.as_bytes()).as_ref());
        log.extend_from_slice(line.as_bytes());
        log.push(b'\n');
    }
    log
}

/// Whether `line` is a checkpoint exactly as FORMAT.md writes it: these fields in this order,
/// decimal numbers without leading zeros, lower-case hex.
fn canonical_checkpoint(line: &[u8]) -> bool {
    let Ok(line) = core::str::from_utf8(line) else {
        return false;
    };
    let number = |s: &str| -> Option<usize> {
        let n = s.bytes().take_while(u8::is_ascii_digit).count();
        (n > 0 && (n == 1 || !s.starts_with('0'))).then_some(n)
    };
    let hex64 = |s: &str| -> bool {
        s.len() >= 64
            && s.as_bytes()[..64]
                .iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    };
    let parse = || -> Option<()> {
        let rest = line.strip_prefix("{\"seq\":")?;
        let rest = &rest[number(rest)?..];
        let rest = rest.strip_prefix(",\"checkpoint\":true,\"time\":")?;
        let rest = &rest[number(rest)?..];
        let rest = rest.strip_prefix(",\"closed\":")?;
        let rest = rest
            .strip_prefix("true")
            .or_else(|| rest.strip_prefix("false"))?;
        let rest = rest.strip_prefix(",\"mac\":\"")?;
        hex64(rest).then_some(())?;
        let rest = rest[64..].strip_prefix("\",\"prev\":\"")?;
        hex64(rest).then_some(())?;
        (&rest[64..] == "\"}").then_some(())
    };
    parse().is_some()
}

/// Checks `files` (already written with `contents`) and the property above.
fn check(f: &Fixture, files: &[PathBuf], contents: &[&[u8]]) {
    let Ok(report) = audit::verify(files, &f.key) else {
        return;
    };
    let _ = report.to_string();
    if let Some((file, line, _)) = &report.last_checkpoint {
        let index = files.iter().position(|p| p == file).expect("a file given");
        let line = usize::try_from(*line).expect("a line number");
        let text = contents[index]
            .split(|&b| b == b'\n')
            .nth(line - 1)
            .expect("the checkpoint's line");
        assert!(
            canonical_checkpoint(text),
            "a checkpoint line other than the writer's verified: {:?}",
            String::from_utf8_lossy(text)
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let f = &*FIXTURE;
    match selector % 3 {
        0 => {
            std::fs::write(&f.files[0], bytes).expect("write");
            check(f, &f.files[..1], &[bytes]);
        }
        1 => {
            let Some((n, rest)) = bytes.split_first_chunk::<2>() else {
                return;
            };
            let Some((first, second)) = rest.split_at_checked(usize::from(u16::from_be_bytes(*n)))
            else {
                return;
            };
            std::fs::write(&f.files[0], first).expect("write");
            std::fs::write(&f.files[1], second).expect("write");
            check(f, &f.files, &[first, second]);
        }
        _ => {
            let mut log = f.head.clone();
            log.extend_from_slice(bytes);
            log.push(b'\n');
            std::fs::write(&f.files[0], &log).expect("write");
            check(f, &f.files[..1], &[&log]);
        }
    }
});
