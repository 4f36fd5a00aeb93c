//! The audit trail: what events say, that nested and batch calls are recorded once per use,
//! that the chained log detects every kind of tampering, that nothing is lost under load or
//! leaked, and that a crash leaves a log that verifies up to its last complete line.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use keyplane::audit::{
    self, AuditKey, BackPressure, CallbackSink, ContextLogging, FileSink, MemorySink, Operation,
};
use keyplane::{
    AuditConfig, CreateKey, DataKeySpec, EncryptRequest, EncryptionContext, Error, KeySpec,
    Keyring, MacAlgorithm,
};

fn audited(sink: MemorySink, context: ContextLogging) -> Keyring {
    Keyring::builder()
        .audit(AuditConfig::new(sink).context(context))
        .unwrap()
        .build()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keyplane-audit-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn audit_key() -> AuditKey {
    AuditKey::new(&[0xa5; 32]).unwrap()
}

#[test]
fn events_say_who_did_what_to_which_key() {
    let sink = MemorySink::new();
    let ring = audited(sink.clone(), ContextLogging::Full);
    let ctx = EncryptionContext::new([("tenant", "acme")]).unwrap();
    ring.create_key(
        &CreateKey::new(KeySpec::SymmetricDefault)
            .key_id("k1")
            .alias("alias/one"),
    )
    .unwrap();
    let billing = ring.with_caller("billing-service");
    assert_eq!(billing.caller(), Some("billing-service"));
    let blob = billing
        .encrypt("alias/one", b"secret plaintext", &ctx)
        .unwrap();
    billing.rotate_key("k1").unwrap();
    assert_eq!(
        billing
            .decrypt(&blob, EncryptionContext::empty())
            .unwrap_err(),
        Error::InvalidCiphertext
    );
    billing.decrypt(&blob, &ctx).unwrap();
    let _ = billing.encrypt("missing", b"x", &ctx);
    ring.flush_audit().unwrap();

    let events = sink.events();
    let ops: Vec<Operation> = events.iter().map(|e| e.operation).collect();
    assert_eq!(
        ops,
        [
            Operation::CreateKey,
            Operation::Encrypt,
            Operation::RotateKey,
            Operation::Decrypt,
            Operation::Decrypt,
            Operation::Encrypt
        ]
    );
    let seqs: Vec<u64> = events.iter().map(|e| e.sequence).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
    assert_eq!(events[0].caller, None);
    let encrypt = &events[1];
    assert_eq!(
        encrypt.key_id.as_deref(),
        Some("k1"),
        "the real key id, not the alias"
    );
    assert_eq!(encrypt.key_version, Some(1));
    assert_eq!(encrypt.caller.as_deref(), Some("billing-service"));
    assert_eq!(encrypt.context, [("tenant".to_owned(), "acme".to_owned())]);
    assert_eq!(encrypt.error_code, None);
    // A failed decrypt names the key the blob names.
    assert_eq!(events[3].error_code, Some("KP_INVALID_CIPHERTEXT"));
    assert_eq!(events[3].key_id.as_deref(), Some("k1"));
    assert_eq!(events[4].key_version, Some(1));
    // An unknown key is recorded under the name given.
    assert_eq!(events[5].key_id.as_deref(), Some("missing"));
    assert_eq!(events[5].error_code, Some("KP_NOT_FOUND"));
    let mut ids: Vec<String> = events.iter().map(|e| e.request_id.to_string()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), events.len(), "request ids are unique");
    assert!(!format!("{events:?}").contains("secret plaintext"));

    let usage = ring.key_last_usage("alias/one").unwrap();
    assert_eq!(usage.last_operation, Some(Operation::Decrypt));
    assert!(usage.counts.contains(&(Operation::Encrypt, 1)));
    assert!(usage.counts.contains(&(Operation::Decrypt, 2)));
    assert!(
        Keyring::new().key_last_usage("k1").is_err(),
        "no audit, no usage"
    );
}

#[test]
fn context_logging_is_configurable() {
    let ctx = EncryptionContext::new([("tenant", "acme"), ("table", "orders")]).unwrap();
    for (mode, expected) in [
        (
            ContextLogging::Full,
            vec![("table", "orders"), ("tenant", "acme")],
        ),
        (
            ContextLogging::KeysOnly,
            vec![("table", ""), ("tenant", "")],
        ),
        (ContextLogging::None, vec![]),
    ] {
        let sink = MemorySink::new();
        let ring = audited(sink.clone(), mode);
        ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("k"))
            .unwrap();
        ring.encrypt("k", b"x", &ctx).unwrap();
        ring.flush_audit().unwrap();
        let got: Vec<(String, String)> = sink.events()[1].context.clone();
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(got, expected, "{mode:?}");
    }
}

#[test]
fn nested_and_batch_calls_are_recorded_once_per_use() {
    let sink = MemorySink::new();
    let ring = audited(sink.clone(), ContextLogging::Full);
    let ctx = EncryptionContext::empty();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("a"))
        .unwrap();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("b"))
        .unwrap();
    ring.create_key(&CreateKey::new(KeySpec::Hmac256).key_id("m"))
        .unwrap();
    let blob = ring.encrypt("a", b"x", ctx).unwrap();
    ring.re_encrypt(&blob, ctx, "b", ctx).unwrap();
    ring.generate_data_key("a", DataKeySpec::Aes256, ctx)
        .unwrap();
    ring.generate_mac("m", b"x", MacAlgorithm::HmacSha256)
        .unwrap();
    let items: Vec<EncryptRequest<'_>> = (0..50)
        .map(|i| EncryptRequest {
            key_id: if i % 10 == 3 { "nope" } else { "a" },
            plaintext: b"row",
            context: ctx,
        })
        .collect();
    let out = ring.encrypt_many(&items).unwrap();
    assert_eq!(out.iter().filter(|r| r.is_err()).count(), 5);
    ring.flush_audit().unwrap();

    let ops: Vec<Operation> = sink.events().iter().map(|e| e.operation).collect();
    assert_eq!(
        &ops[..7],
        [
            Operation::CreateKey,
            Operation::CreateKey,
            Operation::CreateKey,
            Operation::Encrypt,
            Operation::ReEncrypt,
            Operation::GenerateDataKey,
            Operation::GenerateMac
        ]
    );
    let batch: Vec<_> = sink.events().into_iter().skip(7).collect();
    assert_eq!(batch.len(), 50, "one event per batch item");
    assert!(batch.iter().all(|e| e.operation == Operation::Encrypt));
    assert_eq!(
        batch
            .iter()
            .filter(|e| e.error_code == Some("KP_NOT_FOUND"))
            .count(),
        5
    );

    // A batch re-encryption is one ReEncrypt per item, not a decrypt and an encrypt.
    let moves: Vec<keyplane::ReEncryptRequest<'_>> = (0..3)
        .map(|_| keyplane::ReEncryptRequest {
            blob: &blob,
            source_context: ctx,
            destination_key_id: "b",
            destination_context: ctx,
        })
        .collect();
    assert!(
        ring.re_encrypt_many(&moves)
            .unwrap()
            .iter()
            .all(Result::is_ok)
    );
    ring.flush_audit().unwrap();
    let after: Vec<Operation> = sink.events().iter().skip(57).map(|e| e.operation).collect();
    assert_eq!(after, [Operation::ReEncrypt; 3]);
}

/// A closed log of `n` encryptions in `dir`, with small files and frequent checkpoints.
fn write_log(dir: &Path, n: usize, max_file_bytes: u64) -> Vec<PathBuf> {
    let sink = FileSink::create(dir, audit_key())
        .unwrap()
        .max_file_bytes(max_file_bytes)
        .checkpoint_every(7);
    let ring = Keyring::builder()
        .audit(AuditConfig::new(sink))
        .unwrap()
        .build();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("k"))
        .unwrap();
    let ctx = EncryptionContext::new([("quote\"s", "new\nline")]).unwrap();
    for i in 0..n {
        ring.with_caller(&format!("caller-{i}"))
            .encrypt("k", b"x", &ctx)
            .unwrap();
    }
    drop(ring); // closes the log
    audit::log_files_in(dir).unwrap()
}

#[test]
fn an_intact_log_verifies_across_files() {
    let dir = temp_dir("intact");
    let files = write_log(&dir, 300, 4096);
    assert!(
        files.len() > 3,
        "rotation by size made {} files",
        files.len()
    );
    let report = audit::verify(&files, &audit_key()).unwrap();
    assert_eq!(report.records, 301);
    assert!(report.closed);
    assert!(
        report
            .to_string()
            .starts_with("intact, 301 records, last checkpoint at")
    );
    // Every line is JSON.
    for file in &files {
        for line in fs::read_to_string(file).unwrap().lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
    }
    fs::remove_dir_all(&dir).unwrap();
}

fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    fs::write(
        path,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
}

#[test]
fn every_kind_of_tampering_is_detected_and_located() {
    let dir = temp_dir("tamper");
    let files = write_log(&dir, 40, 1 << 20);
    assert_eq!(files.len(), 1);
    let file = &files[0];
    let original = lines(file);
    let check = |what: &str, edit: &dyn Fn(&mut Vec<String>), line: u64| {
        let mut edited = original.clone();
        edit(&mut edited);
        write_lines(file, &edited);
        let broken = audit::verify(&files, &audit_key()).expect_err(what);
        assert_eq!(
            (&broken.file, broken.line),
            (file, line),
            "{what}: {broken}"
        );
    };
    check(
        "flip a byte",
        &|l| l[10] = l[10].replacen("caller-", "cbller-", 1),
        12,
    );
    check("delete a line", &|l| drop(l.remove(20)), 21);
    check("swap two lines", &|l| l.swap(5, 6), 6);
    check(
        "edit the closing checkpoint",
        &|l| {
            let last = l.len() - 1;
            l[last] = l[last].replacen("\"closed\":true", "\"closed\":false", 1);
        },
        u64::try_from(original.len()).unwrap(),
    );
    check(
        "a line after the close",
        &|l| l.push(l[3].clone()),
        u64::try_from(original.len() + 1).unwrap(),
    );

    // Truncating the tail leaves a chain that verifies but is not closed, and says where it ends.
    write_lines(file, &original[..30]);
    let report = audit::verify(&files, &audit_key()).unwrap();
    assert!(!report.closed);
    assert_eq!(report.ends_at, Some((file.clone(), 30)));
    assert!(report.to_string().contains("NOT CLOSED"));

    // Splicing another log's lines in breaks the chain where they start.
    let other_dir = temp_dir("tamper-other");
    let other = lines(&write_log(&other_dir, 40, 1 << 20)[0]);
    let mut spliced = original[..15].to_vec();
    spliced.extend_from_slice(&other[15..]);
    write_lines(file, &spliced);
    assert_eq!(audit::verify(&files, &audit_key()).unwrap_err().line, 16);

    // The right chain under the wrong audit key fails at the first checkpoint.
    write_lines(file, &original);
    let broken = audit::verify(&files, &AuditKey::new(&[1; 32]).unwrap()).unwrap_err();
    assert!(broken.reason.contains("MAC"), "{broken}");
    fs::remove_dir_all(&dir).unwrap();
    fs::remove_dir_all(&other_dir).unwrap();
}

#[test]
fn a_missing_file_in_the_middle_is_detected() {
    let dir = temp_dir("missing");
    let mut files = write_log(&dir, 200, 4096);
    files.remove(1);
    let broken = audit::verify(&files, &audit_key()).unwrap_err();
    assert_eq!(broken.file, files[1]);
    assert_eq!(broken.line, 1);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn nothing_is_lost_under_load() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 100_000;
    let dir = temp_dir("load");
    let sink = FileSink::create(&dir, audit_key()).unwrap();
    let ring = Keyring::builder()
        .audit(AuditConfig::new(sink).queue_capacity(1024))
        .unwrap()
        .build();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("k"))
        .unwrap();
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let ring = ring.with_caller(&format!("t{t}"));
            scope.spawn(move || {
                let mut out = [0u8; 128];
                for _ in 0..PER_THREAD {
                    ring.encrypt_into("k", b"load", EncryptionContext::empty(), &mut out)
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(ring.audit_dropped(), 0);
    drop(ring);
    let report = audit::verify(&audit::log_files_in(&dir).unwrap(), &audit_key()).unwrap();
    assert_eq!(
        report.records,
        u64::try_from(THREADS * PER_THREAD + 1).unwrap()
    );
    assert!(report.closed);
    fs::remove_dir_all(&dir).unwrap();
}

/// A keyring under the drop policy with `capacity` slots per thread, whose sink takes `delay`
/// per event (so the queue fills), and the sink's record.
fn dropping(delay: Duration, capacity: usize) -> (Keyring, MemorySink) {
    let sink = MemorySink::new();
    let slow = sink.clone();
    let ring = Keyring::builder()
        .audit(
            AuditConfig::new(CallbackSink(move |e: &keyplane::AuditEvent<'_>| {
                std::thread::sleep(delay);
                let mut s = slow.clone();
                let _ = keyplane::AuditSink::record(&mut s, e);
            }))
            .queue_capacity(capacity)
            .back_pressure(BackPressure::Drop),
        )
        .unwrap()
        .build();
    (ring, sink)
}

#[test]
fn drop_policy_counts_what_it_drops() {
    let (ring, sink) = dropping(Duration::from_millis(1), 4);
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("k"))
        .unwrap();
    for _ in 0..500 {
        ring.encrypt("k", b"x", EncryptionContext::empty()).unwrap();
    }
    let dropped = ring.audit_dropped();
    assert!(dropped > 0);
    ring.flush_audit().unwrap();
    assert_eq!(u64::try_from(sink.events().len()).unwrap() + dropped, 501);
}

#[test]
fn no_secret_reaches_the_log() {
    let dir = temp_dir("secrets");
    let sink = FileSink::create(&dir, audit_key()).unwrap();
    let ring = Keyring::builder()
        .audit(AuditConfig::new(sink))
        .unwrap()
        .build();
    let root_material = [0x3cu8; 32];
    ring.insecure_create_key_with_material("known", &[root_material])
        .unwrap();
    let plaintext = b"PLAINTEXT-4111-1111-1111-1111";
    let ctx = EncryptionContext::new([("purpose", "audit-test")]).unwrap();
    let blob = ring.encrypt("known", plaintext, &ctx).unwrap();
    ring.decrypt(&blob, &ctx).unwrap();
    let data_key = ring
        .generate_data_key("known", DataKeySpec::Aes256, &ctx)
        .unwrap();
    ring.create_key(&CreateKey::new(KeySpec::Hmac256).key_id("mac"))
        .unwrap();
    ring.generate_mac("mac", plaintext, MacAlgorithm::HmacSha256)
        .unwrap();
    drop(ring);

    let log: String = audit::log_files_in(&dir)
        .unwrap()
        .iter()
        .map(|f| fs::read_to_string(f).unwrap())
        .collect();
    assert!(log.contains("\"operation\":\"Encrypt\""));
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    for secret in [
        &plaintext[..],
        &root_material[..],
        data_key.plaintext(),
        &blob[blob.len() - 40..],
    ] {
        for needle in [
            String::from_utf8_lossy(secret).into_owned(),
            hex::encode(secret),
            b64.encode(secret),
        ] {
            assert!(
                needle.len() < 8 || !log.contains(&needle),
                "a secret is in the log"
            );
        }
    }
    fs::remove_dir_all(&dir).unwrap();
}

/// The child side of the crash test: logs encryptions until killed.
#[test]
#[ignore = "run by a_crash_leaves_a_log_that_verifies_to_its_last_line"]
fn crash_child() {
    let Some(dir) = std::env::var_os("KEYPLANE_AUDIT_CRASH_DIR") else {
        return;
    };
    let sink = FileSink::create(Path::new(&dir), audit_key())
        .unwrap()
        .checkpoint_every(100);
    let ring = Keyring::builder()
        .audit(AuditConfig::new(sink))
        .unwrap()
        .build();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("k"))
        .unwrap();
    println!("ready");
    for i in 0u64.. {
        ring.encrypt("k", b"x", EncryptionContext::empty()).unwrap();
        if i % 1000 == 0 {
            ring.flush_audit().unwrap();
        }
    }
}

#[test]
fn a_crash_leaves_a_log_that_verifies_to_its_last_line() {
    use std::io::BufRead;
    for round in 0..3 {
        let dir = temp_dir(&format!("crash-{round}"));
        let mut child = common::spawn_crash_child("KEYPLANE_AUDIT_CRASH_DIR", &dir);
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        while let Some(Ok(line)) = lines.next() {
            if line.contains("ready") {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100 + 150 * round));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let report = audit::verify(&audit::log_files_in(&dir).unwrap(), &audit_key()).unwrap();
        assert!(!report.closed);
        assert!(report.records > 100, "round {round}: {report}");
        assert!(report.last_checkpoint.is_some());
        fs::remove_dir_all(&dir).unwrap();
    }
}

/// What one call of `mixed_calls` used: key, caller and context index.
fn expected(i: usize) -> (&'static str, Option<&'static str>, Vec<(String, String)>) {
    let key = ["ka", "kb"][i % 2];
    let caller = [None, Some("alice"), Some("bob")][i % 3];
    let context = if i.is_multiple_of(5) {
        Vec::new()
    } else {
        vec![("i".to_owned(), i.to_string())]
    };
    (key, caller, context)
}

/// Encrypts `n` times on this thread, changing key, caller and context from call to call in
/// different rhythms (see `expected`).
fn mixed_calls(ring: &Keyring, n: usize) {
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("ka"))
        .unwrap();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("kb"))
        .unwrap();
    let handles = [
        ring.clone(),
        ring.with_caller("alice"),
        ring.with_caller("bob"),
    ];
    for i in 0..n {
        let (key, _, context) = expected(i);
        let context = EncryptionContext::new(context).unwrap();
        handles[i % 3].encrypt(key, b"x", &context).unwrap();
    }
}

/// Checks that every `Encrypt` event carries the key, caller and context of the call it
/// records (the call is named by its context, or by its place when it has none).
fn check_attribution(events: &[keyplane::OwnedAuditEvent]) {
    for e in events.iter().filter(|e| e.operation == Operation::Encrypt) {
        let i: usize = match e.context.first() {
            Some((_, v)) => v.parse().unwrap(),
            None => continue,
        };
        let (key, caller, context) = expected(i);
        assert_eq!(e.key_id.as_deref(), Some(key), "call {i}");
        assert_eq!(e.caller.as_deref(), caller, "call {i}");
        assert_eq!(e.context, context, "call {i}");
    }
}

#[test]
fn key_caller_and_context_follow_each_call_as_they_change() {
    let sink = MemorySink::new();
    let ring = audited(sink.clone(), ContextLogging::Full);
    mixed_calls(&ring, 300);
    ring.flush_audit().unwrap();
    let events = sink.events();
    assert_eq!(events.len(), 302);
    let encrypts: Vec<_> = events
        .iter()
        .filter(|e| e.operation == Operation::Encrypt)
        .collect();
    assert_eq!(encrypts.len(), 300);
    for (i, e) in encrypts.iter().enumerate() {
        let (key, caller, context) = expected(i);
        assert_eq!(e.key_id.as_deref(), Some(key), "call {i}");
        assert_eq!(e.caller.as_deref(), caller, "call {i}");
        assert_eq!(e.context, context, "call {i}");
    }
}

#[test]
fn a_dropped_event_never_misattributes_the_ones_after_it() {
    let (ring, sink) = dropping(Duration::from_micros(300), 2);
    mixed_calls(&ring, 2000);
    let dropped = ring.audit_dropped();
    ring.flush_audit().unwrap();
    let events = sink.events();
    assert!(dropped > 0, "the lane never filled up");
    assert_eq!(u64::try_from(events.len()).unwrap() + dropped, 2002);
    check_attribution(&events);
}

#[test]
fn events_from_many_short_lived_threads_are_all_recorded_in_each_threads_order() {
    let sink = MemorySink::new();
    let ring = audited(sink.clone(), ContextLogging::Full);
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("k"))
        .unwrap();
    for _ in 0..16 {
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..25 {
                        ring.encrypt("k", b"x", EncryptionContext::empty()).unwrap();
                    }
                });
            }
        });
    }
    ring.flush_audit().unwrap();
    let events = sink.events();
    assert_eq!(events.len(), 1 + 16 * 4 * 25);
    let mut last = std::collections::HashMap::new();
    for e in &events[1..] {
        let previous = last.insert(e.request_id.thread, e.request_id.counter);
        assert_eq!(
            e.request_id.counter,
            previous.unwrap_or(0) + 1,
            "a thread's events arrive in its order"
        );
    }
    assert_eq!(last.len(), 64);
    let seqs: Vec<u64> = events.iter().map(|e| e.sequence).collect();
    assert_eq!(seqs, (1..=1601).collect::<Vec<u64>>());
}

#[test]
fn one_thread_feeds_several_audited_keyrings() {
    let sinks = [MemorySink::new(), MemorySink::new(), MemorySink::new()];
    let rings: Vec<Keyring> = sinks
        .iter()
        .map(|s| audited(s.clone(), ContextLogging::Full))
        .collect();
    for (n, ring) in rings.iter().enumerate() {
        ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id(format!("k{n}")))
            .unwrap();
    }
    for i in 0..90 {
        let n = i % 3;
        rings[n]
            .encrypt(&format!("k{n}"), b"x", EncryptionContext::empty())
            .unwrap();
    }
    let mut rings = rings.into_iter();
    drop(rings.next()); // its writer closes; this thread's lane for it is let go later
    let later = audited(MemorySink::new(), ContextLogging::Full);
    later
        .create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("later"))
        .unwrap();
    later.flush_audit().unwrap();
    for ring in rings {
        ring.flush_audit().unwrap();
    }
    for (n, sink) in sinks.iter().enumerate() {
        let events = sink.events();
        assert_eq!(events.len(), 31, "keyring {n}");
        let name = format!("k{n}");
        assert!(events.iter().all(|e| e.key_id.as_deref() == Some(&*name)));
    }
}
