//! Runs the `keyplane` binary through every subcommand in temporary homes.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use aws_lc_rs::key_wrap::{AES_256, AesKek, KeyWrapPadded};
use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPublicEncryptingKey, PublicEncryptingKey};
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, UnparsedPublicKey};
use serde_json::Value;
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_keyplane");

/// A temporary directory holding a keyplane home (not created until `init`) and work files.
struct Home {
    dir: TempDir,
}

impl Home {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A home that has run `keyplane init`.
    fn init() -> Self {
        let home = Self::new();
        home.ok(&["init"]);
        home
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, data: &[u8]) -> String {
        let path = self.file(name);
        fs::write(&path, data).unwrap();
        path.to_str().unwrap().to_owned()
    }

    fn path(&self, name: &str) -> String {
        self.file(name).to_str().unwrap().to_owned()
    }

    fn root_key(&self) -> String {
        self.home().join("root.key").to_str().unwrap().to_owned()
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env("KEYPLANE_HOME", self.home())
            .env_remove("KEYPLANE_ROOT_KEY")
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn run_env(&self, args: &[&str], key: &str, value: &str) -> Output {
        self.cmd(args).env(key, value).output().unwrap()
    }

    fn run_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs a command that must succeed and returns its JSON response.
    fn ok(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        if out.stdout.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
    }

    /// Creates a key and returns its id.
    fn create(&self, args: &[&str]) -> String {
        let mut all = vec!["create-key"];
        all.extend_from_slice(args);
        self.ok(&all)["KeyMetadata"]["KeyId"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the command failed with `exit` and its stderr contains every one of `needles`.
fn assert_fails(out: &Output, exit: i32, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(code(out), exit, "stderr: {err}");
    for needle in needles {
        assert!(err.contains(needle), "{needle:?} not in stderr: {err}");
    }
}

fn b64(v: &Value) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().expect("a base64 string"))
        .unwrap()
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn random(n: usize) -> Vec<u8> {
    let mut v = vec![0; n];
    aws_lc_rs::rand::fill(&mut v).unwrap();
    v
}

// ----- home, root key, store ----------------------------------------------------------------

#[test]
fn init_creates_a_private_home_and_never_replaces_the_root_key() {
    let home = Home::new();
    let resp = home.ok(&["init"]);
    assert_eq!(resp["RootKey"], home.root_key());
    assert_eq!(mode(&home.home()), 0o700);
    assert_eq!(mode(&home.home().join("root.key")), 0o600);
    assert!(home.home().join("store").is_dir());
    let key = fs::read_to_string(home.root_key()).unwrap();
    assert_eq!(key.len(), 65);
    assert!(key.trim_end().bytes().all(|c| c.is_ascii_hexdigit()) && key.ends_with('\n'));

    assert_fails(
        &home.run(&["init"]),
        3,
        &["already exists", "never replaces a root key"],
    );
    assert_eq!(fs::read_to_string(home.root_key()).unwrap(), key);
}

#[test]
fn commands_before_init_say_to_run_init() {
    let home = Home::new();
    assert_fails(&home.run(&["list-keys"]), 3, &["keyplane init"]);
    fs::create_dir_all(home.home().join("store")).unwrap();
    assert_fails(
        &home.run(&["list-keys"]),
        3,
        &["no root key: run `keyplane init` or set KEYPLANE_ROOT_KEY"],
    );
}

#[test]
fn default_home_is_dot_keyplane_in_home() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .arg("init")
        .env_remove("KEYPLANE_HOME")
        .env_remove("KEYPLANE_ROOT_KEY")
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(dir.path().join(".keyplane/root.key").is_file());
}

#[test]
fn a_root_key_file_others_can_read_is_refused() {
    let home = Home::init();
    fs::set_permissions(home.root_key(), fs::Permissions::from_mode(0o644)).unwrap();
    assert_fails(
        &home.run(&["list-keys"]),
        3,
        &["permissions 0644", "chmod 600"],
    );
    fs::set_permissions(home.root_key(), fs::Permissions::from_mode(0o600)).unwrap();
    home.ok(&["list-keys"]);
    fs::write(home.root_key(), "not a key\n").unwrap();
    assert_fails(&home.run(&["list-keys"]), 3, &["64 hex digits"]);
}

#[test]
fn keyplane_root_key_in_hex_or_base64_and_a_wrong_one_is_named() {
    use base64::Engine as _;
    let home = Home::new();
    let material = random(32);
    let hex_key: String = material.iter().map(|b| format!("{b:02x}")).collect();
    let out = home.run_env(&["init"], "KEYPLANE_ROOT_KEY", &hex_key);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!home.home().join("root.key").exists());
    let id = {
        let out = home.run_env(&["create-key"], "KEYPLANE_ROOT_KEY", &hex_key);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned()
    };
    // The same 32 bytes in base64 open the same store.
    let b64_key = base64::engine::general_purpose::STANDARD.encode(&material);
    let out = home.run_env(
        &["describe-key", "--key-id", &id],
        "KEYPLANE_ROOT_KEY",
        &b64_key,
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    // Other bytes: the root check names the problem before any record is tried.
    let other: String = random(32).iter().map(|b| format!("{b:02x}")).collect();
    assert_fails(
        &home.run_env(&["list-keys"], "KEYPLANE_ROOT_KEY", &other),
        3,
        &["wrong root key", "KEYPLANE_ROOT_KEY"],
    );
    // Without root.check, every record is reported as not loading, by file name.
    fs::remove_file(home.home().join("root.check")).unwrap();
    let out = home.run_env(&["list-keys"], "KEYPLANE_ROOT_KEY", &other);
    assert_eq!(code(&out), 0);
    assert!(stderr(&out).contains("was not loaded"), "{}", stderr(&out));
    assert!(stderr(&out).contains("KP_INVALID_CIPHERTEXT"));
    let keys: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(keys["Keys"], serde_json::json!([]));

    for bad in ["abcd", "zz", &"0".repeat(62)] {
        assert_fails(
            &home.run_env(&["list-keys"], "KEYPLANE_ROOT_KEY", bad),
            3,
            &["KEYPLANE_ROOT_KEY must be 32 bytes"],
        );
    }
    // Without the variable, no root.key: say how to get one.
    assert_fails(&home.run(&["list-keys"]), 3, &["no root key"]);
}

#[test]
fn a_damaged_record_is_named_and_the_other_keys_load() {
    let home = Home::init();
    let good = home.create(&["--key-id", "good"]);
    home.create(&["--key-id", "bad"]);
    let keys = home.home().join("store/keys");
    let bad_record = keys.join(format!("{}.kpr", hex_of(b"bad")));
    let mut bytes = fs::read(&bad_record).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs::write(&bad_record, bytes).unwrap();
    let out = home.run(&["list-keys"]);
    assert_eq!(code(&out), 0);
    assert!(
        stderr(&out).contains(bad_record.to_str().unwrap()),
        "{}",
        stderr(&out)
    );
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed["Keys"], serde_json::json!([{ "KeyId": good }]));
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ----- key management ------------------------------------------------------------------------

#[test]
fn key_lifecycle_from_creation_to_scheduled_deletion() {
    let home = Home::init();
    let meta = home.ok(&[
        "create-key",
        "--key-id",
        "orders",
        "--alias",
        "alias/orders",
        "--description",
        "order rows",
        "--rotation-period-days",
        "365",
    ])["KeyMetadata"]
        .clone();
    assert_eq!(meta["KeyId"], "orders");
    assert_eq!(meta["KeySpec"], "SYMMETRIC_DEFAULT");
    assert_eq!(meta["KeyUsage"], "ENCRYPT_DECRYPT");
    assert_eq!(meta["KeyState"], "Enabled");
    assert_eq!(meta["Origin"], "KEYPLANE");
    assert_eq!(meta["Description"], "order rows");
    assert_eq!(meta["RotationPeriodInDays"], 365);
    assert_eq!(meta["Aliases"], serde_json::json!(["alias/orders"]));
    assert!(meta["CreationDate"].as_str().unwrap().ends_with('Z'));

    home.ok(&[
        "create-alias",
        "--alias-name",
        "alias/rows",
        "--target-key-id",
        "alias/orders",
    ]);
    let aliases = home.ok(&["list-aliases"]);
    assert_eq!(aliases["Aliases"][1]["AliasName"], "alias/rows");
    assert_eq!(aliases["Aliases"][1]["TargetKeyId"], "orders");
    let other = home.create(&[]);
    let keys = home.ok(&["list-keys"]);
    assert_eq!(keys["Keys"].as_array().unwrap().len(), 2);
    assert!(
        keys["Keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["KeyId"] == other)
    );

    let rotated = home.ok(&["rotate-key", "--key-id", "alias/rows"]);
    assert_eq!(rotated["CurrentKeyVersion"], 2);
    let described = home.ok(&["describe-key", "--key-id", "orders"]);
    assert_eq!(described["KeyMetadata"]["KeyVersions"][1]["Version"], 2);

    let plain = home.write("plain", b"row");
    assert_eq!(
        home.ok(&["disable-key", "--key-id", "orders"])["KeyState"],
        "Disabled"
    );
    assert_fails(
        &home.run(&["encrypt", "--key", "orders", "--in", &plain]),
        1,
        &["KP_KEY_DISABLED", "enable-key"],
    );
    assert_eq!(
        home.ok(&["enable-key", "--key-id", "orders"])["KeyState"],
        "Enabled"
    );

    assert_fails(
        &home.run(&[
            "schedule-key-deletion",
            "--key-id",
            "orders",
            "--pending-window-days",
            "6",
        ]),
        2,
        &["6 is not in 7..=30"],
    );
    let scheduled = home.ok(&[
        "schedule-key-deletion",
        "--key-id",
        "orders",
        "--pending-window-days",
        "7",
    ]);
    assert_eq!(scheduled["KeyState"], "PendingDeletion");
    assert_eq!(scheduled["PendingWindowInDays"], 7);
    assert_fails(
        &home.run(&["encrypt", "--key", "orders", "--in", &plain]),
        1,
        &["KP_INVALID_KEY_STATE", "cancel-key-deletion"],
    );
    assert_eq!(
        home.ok(&["cancel-key-deletion", "--key-id", "orders"])["KeyState"],
        "Disabled"
    );

    // Every change above was persisted: a later process sees it.
    let again = home.ok(&["describe-key", "--key-id", "alias/rows"]);
    assert_eq!(again["KeyMetadata"]["KeyState"], "Disabled");
    assert_eq!(again["KeyMetadata"]["CurrentKeyVersion"], 2);

    assert_fails(
        &home.run(&["create-key", "--key-id", "orders"]),
        1,
        &["KP_ALREADY_EXISTS"],
    );
    assert_fails(
        &home.run(&["describe-key", "--key-id", "alias/none"]),
        1,
        &["KP_NOT_FOUND", "list-keys"],
    );
    assert_fails(
        &home.run(&["create-key", "--key-spec", "RSA_2048"]),
        1,
        &["KP_INVALID_INPUT", "--key-usage"],
    );
    assert_fails(
        &home.run(&[
            "create-key",
            "--key-spec",
            "HMAC_256",
            "--key-usage",
            "SIGN_VERIFY",
        ]),
        1,
        &["KP_INVALID_KEY_USAGE", "GENERATE_VERIFY_MAC"],
    );
    assert_fails(
        &home.run(&["create-key", "--rotation-period-days", "10"]),
        1,
        &["KP_INVALID_INPUT", "90 to 2560"],
    );
}

#[test]
fn text_output_is_tab_separated_values() {
    let home = Home::init();
    let id = home.create(&["--alias", "alias/t"]);
    let out = home.run(&["list-keys", "--output", "text"]);
    assert_eq!(code(&out), 0);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("KEYS\t{id}\n")
    );
    let out = home.run(&["--output", "text", "list-aliases"]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("ALIASES\talias/t\t{id}\n")
    );
    let out = home.run(&["--output", "text", "describe-key", "--key-id", &id]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with(&format!("KEYMETADATA\t{id}\t")), "{text}");
    assert!(text.contains("\nKEYVERSIONS\t1\t"), "{text}");
}

// ----- encryption ----------------------------------------------------------------------------

#[test]
fn encrypt_with_context_rotate_and_decrypt_a_file() {
    let home = Home::init();
    home.create(&["--alias", "alias/files"]);
    let plain = home.write("report.txt", b"quarterly numbers");
    let enc = home.path("report.enc");
    let resp = home.ok(&[
        "encrypt",
        "--key",
        "alias/files",
        "--context",
        "dept=finance",
        "--context",
        "year=2026",
        "--in",
        &plain,
        "--out",
        &enc,
    ]);
    assert_eq!(resp["KeyVersion"], 1);
    assert!(resp.get("CiphertextBlob").is_none());
    assert_eq!(
        home.ok(&["rotate-key", "--key", "alias/files"])["CurrentKeyVersion"],
        2
    );

    let out = home.run(&[
        "decrypt",
        "--in",
        &enc,
        "--context",
        "year=2026",
        "--encryption-context",
        "dept=finance",
        "--out",
        "-",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(out.stdout, b"quarterly numbers");

    // JSON form: the plaintext in base64, with the version that made the blob.
    let resp = home.ok(&[
        "decrypt",
        "--in",
        &enc,
        "--context",
        "dept=finance",
        "--context",
        "year=2026",
    ]);
    assert_eq!(b64(&resp["Plaintext"]), b"quarterly numbers");
    assert_eq!(resp["KeyVersion"], 1);

    // A file of its own, created 0600.
    let back = home.path("report.back");
    home.ok(&[
        "decrypt",
        "--in",
        &enc,
        "--context",
        "dept=finance",
        "--context",
        "year=2026",
        "--out",
        &back,
    ]);
    assert_eq!(fs::read(&back).unwrap(), b"quarterly numbers");
    assert_eq!(mode(Path::new(&back)), 0o600);

    // New encryptions use version 2.
    let resp = home.ok(&["encrypt", "--key", "alias/files", "--in", &plain]);
    assert_eq!(resp["KeyVersion"], 2);

    assert_fails(
        &home.run(&[
            "decrypt",
            "--in",
            &enc,
            "--context",
            "dept=finance",
            "--out",
            "-",
        ]),
        1,
        &["KP_INVALID_CIPHERTEXT", "encryption context"],
    );
    let mut tampered = fs::read(&enc).unwrap();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x80;
    let tampered = home.write("tampered.enc", &tampered);
    assert_fails(
        &home.run(&[
            "decrypt",
            "--in",
            &tampered,
            "--context",
            "dept=finance",
            "--context",
            "year=2026",
        ]),
        1,
        &["KP_INVALID_CIPHERTEXT"],
    );
    let junk = home.write("junk", b"not a blob");
    assert_fails(
        &home.run(&["decrypt", "--in", &junk]),
        1,
        &["KP_INVALID_CIPHERTEXT", "--base64"],
    );

    // --key-id on decrypt must name the blob's key.
    let other = home.create(&[]);
    assert_fails(
        &home.run(&[
            "decrypt",
            "--key-id",
            &other,
            "--in",
            &enc,
            "--context",
            "dept=finance",
            "--context",
            "year=2026",
        ]),
        1,
        &["KP_INVALID_CIPHERTEXT", "was encrypted under key"],
    );
    home.ok(&[
        "decrypt",
        "--key-id",
        "alias/files",
        "--in",
        &enc,
        "--context",
        "dept=finance",
        "--context",
        "year=2026",
    ]);
    assert_fails(
        &home.run(&["encrypt", "--key", "alias/files", "--in", "missing.txt"]),
        1,
        &["cannot read 'missing.txt'"],
    );
}

#[test]
fn a_context_is_aws_shorthand_or_json_and_anything_ambiguous_is_refused() {
    let home = Home::init();
    home.create(&["--alias", "alias/ctx"]);
    let plain = home.write("p.txt", b"context matters");
    let enc = home.path("p.enc");
    // Two pairs in one argument, as the AWS CLI reads it.
    home.ok(&[
        "encrypt",
        "--key",
        "alias/ctx",
        "--context",
        "a=1,b=2",
        "--in",
        &plain,
        "--out",
        &enc,
    ]);
    let decrypts = |contexts: &[&str]| {
        let mut args = vec!["decrypt", "--in", &enc, "--out", "-"];
        for c in contexts {
            args.extend_from_slice(&["--context", c]);
        }
        home.run(&args)
    };
    for same in [
        &["a=1,b=2"][..],
        &["b=2", "a=1"],
        &[r#"{"b":"2","a":"1"}"#],
        &["a='1'", r#"{"b":"2"}"#],
    ] {
        let out = decrypts(same);
        assert_eq!(code(&out), 0, "{same:?}: {}", stderr(&out));
        assert_eq!(out.stdout, b"context matters");
    }
    // Not the single pair a -> "1,b=2", which is what a quoted or escaped comma says.
    for other in [&[r#"{"a":"1,b=2"}"#][..], &["a=\"1,b=2\""], &["a=1\\,b=2"]] {
        assert_fails(&decrypts(other), 1, &["KP_INVALID_CIPHERTEXT"]);
    }
    // What the AWS CLI would read as a list, or differently, is a usage error that says how
    // to write it.
    for (ambiguous, says) in [
        ("a=1,2", "'2' is not KEY=VALUE"),
        ("a=1,", "a comma with no KEY=VALUE after it"),
        ("a= 1", "white space"),
        ("a=[1,2]", "a list or nested map"),
        ("a=1,a=2", "the key 'a' twice"),
        (r#"{"a":1}"#, "not a JSON object of strings"),
        ("a", "expected KEY=VALUE"),
    ] {
        assert_fails(&decrypts(&[ambiguous]), 2, &[says]);
    }
    assert_fails(
        &decrypts(&["a=1", r#"{"a":"1"}"#]),
        2,
        &["the key 'a' twice"],
    );
    // Re-encryption's two contexts take the same forms.
    let moved = home.path("p.moved");
    home.ok(&[
        "re-encrypt",
        "--in",
        &enc,
        "--source-context",
        r#"{"a":"1","b":"2"}"#,
        "--destination-key-id",
        "alias/ctx",
        "--destination-context",
        "x=\"1,2\",y=3",
        "--out",
        &moved,
    ]);
    let out = home.run(&[
        "decrypt",
        "--in",
        &moved,
        "--context",
        r#"{"x":"1,2","y":"3"}"#,
        "--out",
        "-",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(out.stdout, b"context matters");
}

#[test]
fn stdin_and_stdout_pipe_blobs_raw_or_base64() {
    let home = Home::init();
    let id = home.create(&[]);
    let enc = home.run_stdin(
        &["encrypt", "--key", &id, "--in", "-", "--out", "-"],
        b"piped secret",
    );
    assert_eq!(code(&enc), 0, "{}", stderr(&enc));
    assert_eq!(
        enc.stdout[0], 0x01,
        "a raw blob starts with its format byte"
    );
    let dec = home.run_stdin(&["decrypt", "--in", "-", "--out", "-"], &enc.stdout);
    assert_eq!(code(&dec), 0, "{}", stderr(&dec));
    assert_eq!(dec.stdout, b"piped secret");

    let enc = home.run_stdin(
        &[
            "encrypt",
            "--key",
            &id,
            "--in",
            "-",
            "--out",
            "-",
            "--base64",
            "--context",
            "a=b",
        ],
        b"as text",
    );
    let text = String::from_utf8(enc.stdout.clone()).unwrap();
    assert!(text.ends_with('\n') && text.trim_end().bytes().all(|c| c.is_ascii_graphic()));
    let dec = home.run_stdin(
        &[
            "decrypt",
            "--in",
            "-",
            "--base64",
            "--out",
            "-",
            "--context",
            "a=b",
        ],
        &enc.stdout,
    );
    assert_eq!(code(&dec), 0, "{}", stderr(&dec));
    assert_eq!(dec.stdout, b"as text");
    assert_fails(
        &home.run_stdin(&["decrypt", "--in", "-", "--base64"], b"%%%"),
        2,
        &["not valid base64"],
    );

    // Without --out, the blob is in the JSON response.
    let resp: Value = serde_json::from_slice(
        &home
            .run_stdin(&["encrypt", "--key", &id, "--in", "-"], b"json")
            .stdout,
    )
    .unwrap();
    let blob = home.write("blob", &b64(&resp["CiphertextBlob"]));
    assert_eq!(
        b64(&home.ok(&["decrypt", "--in", &blob])["Plaintext"]),
        b"json"
    );
}

#[test]
fn re_encrypt_moves_a_blob_to_another_key_and_context() {
    let home = Home::init();
    let a = home.create(&[]);
    let b = home.create(&["--alias", "alias/b"]);
    let plain = home.write("p", b"moving");
    let blob = home.path("blob");
    home.ok(&[
        "encrypt",
        "--key",
        &a,
        "--context",
        "k=1",
        "--in",
        &plain,
        "--out",
        &blob,
    ]);
    let resp = home.ok(&[
        "re-encrypt",
        "--in",
        &blob,
        "--source-context",
        "k=1",
        "--destination-key-id",
        "alias/b",
        "--destination-context",
        "k=2",
    ]);
    assert_eq!(resp["SourceKeyId"], a);
    assert_eq!(resp["KeyId"], b);
    let moved = home.write("moved", &b64(&resp["CiphertextBlob"]));
    assert_eq!(
        b64(&home.ok(&["decrypt", "--in", &moved, "--context", "k=2"])["Plaintext"]),
        b"moving"
    );
    assert_fails(
        &home.run(&["re-encrypt", "--in", &blob, "--destination-key-id", &b]),
        1,
        &["KP_INVALID_CIPHERTEXT"],
    );
}

#[test]
fn data_keys_and_data_key_pairs() {
    let home = Home::init();
    let id = home.create(&[]);
    let resp = home.ok(&["generate-data-key", "--key", &id, "--context", "use=disk"]);
    let plaintext = b64(&resp["Plaintext"]);
    assert_eq!(plaintext.len(), 32);
    let blob = home.write("dk", &b64(&resp["CiphertextBlob"]));
    assert_eq!(
        b64(&home.ok(&["decrypt", "--in", &blob, "--context", "use=disk"])["Plaintext"]),
        plaintext
    );
    assert_eq!(
        b64(&home.ok(&["generate-data-key", "--key", &id, "--key-spec", "AES_128"])["Plaintext"])
            .len(),
        16
    );
    assert_eq!(
        b64(&home.ok(&["generate-data-key", "--key", &id, "--number-of-bytes", "64"])["Plaintext"])
            .len(),
        64
    );
    assert_fails(
        &home.run(&[
            "generate-data-key",
            "--key",
            &id,
            "--key-spec",
            "AES_128",
            "--number-of-bytes",
            "8",
        ]),
        2,
        &["cannot be used with"],
    );
    assert_fails(
        &home.run(&[
            "generate-data-key",
            "--key",
            &id,
            "--number-of-bytes",
            "2000",
        ]),
        1,
        &["KP_INVALID_INPUT", "1 to 1024"],
    );
    let (pt, ct) = (home.path("dk.plain"), home.path("dk.enc"));
    let resp = home.ok(&[
        "generate-data-key",
        "--key",
        &id,
        "--plaintext-out",
        &pt,
        "--ciphertext-out",
        &ct,
    ]);
    assert!(resp.get("Plaintext").is_none() && resp.get("CiphertextBlob").is_none());
    assert_eq!(mode(Path::new(&pt)), 0o600);
    assert_eq!(
        b64(&home.ok(&["decrypt", "--in", &ct])["Plaintext"]),
        fs::read(&pt).unwrap()
    );

    let resp = home.ok(&[
        "generate-data-key-pair",
        "--key",
        &id,
        "--key-pair-spec",
        "ECC_NIST_P256",
        "--context",
        "device=7",
    ]);
    assert_eq!(resp["KeyPairSpec"], "ECC_NIST_P256");
    let pkcs8 = b64(&resp["PrivateKeyPlaintext"]);
    let pair =
        EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8).unwrap();
    let blob = home.write("pk", &b64(&resp["PrivateKeyCiphertextBlob"]));
    assert_eq!(
        b64(&home.ok(&["decrypt", "--in", &blob, "--context", "device=7"])["Plaintext"]),
        pkcs8
    );
    let (public, private) = (home.path("pub.der"), home.path("priv.der"));
    home.ok(&[
        "generate-data-key-pair",
        "--key",
        &id,
        "--key-pair-spec",
        "ECC_NIST_P384",
        "--public-key-out",
        &public,
        "--private-key-out",
        &private,
    ]);
    assert_eq!(mode(Path::new(&private)), 0o600);
    let pair384 = EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
        &fs::read(&private).unwrap(),
    )
    .unwrap();
    assert!(!fs::read(&public).unwrap().is_empty());
    assert_ne!(pair.public_key().as_ref(), pair384.public_key().as_ref());
}

#[test]
fn rsa_keys_encrypt_with_oaep_and_sign_with_pss() {
    let home = Home::init();
    let enc = home.create(&["--key-spec", "RSA_2048", "--key-usage", "ENCRYPT_DECRYPT"]);
    let plain = home.write("p", b"oaep");
    let ct = home.path("ct");
    home.ok(&[
        "encrypt",
        "--key",
        &enc,
        "--encryption-algorithm",
        "RSAES_OAEP_SHA_256",
        "--in",
        &plain,
        "--out",
        &ct,
    ]);
    let out = home.run(&[
        "decrypt",
        "--key",
        &enc,
        "--encryption-algorithm",
        "RSAES_OAEP_SHA_256",
        "--in",
        &ct,
        "--out",
        "-",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(out.stdout, b"oaep");
    assert_fails(
        &home.run(&[
            "decrypt",
            "--encryption-algorithm",
            "RSAES_OAEP_SHA_256",
            "--in",
            &ct,
        ]),
        2,
        &["--key-id is required"],
    );
    assert_fails(
        &home.run(&["encrypt", "--key", &enc, "--in", &plain]),
        1,
        &["KP_INVALID_KEY_USAGE"],
    );

    let signer = home.create(&["--key-spec", "RSA_2048", "--key-usage", "SIGN_VERIFY"]);
    let sig = home.path("sig");
    home.ok(&[
        "sign",
        "--key",
        &signer,
        "--signing-algorithm",
        "RSASSA_PSS_SHA_256",
        "--in",
        &plain,
        "--out",
        &sig,
    ]);
    let der = home
        .run(&["get-public-key", "--key", &signer, "--output", "der"])
        .stdout;
    UnparsedPublicKey::new(&signature::RSA_PSS_2048_8192_SHA256, &der)
        .verify(b"oaep", &fs::read(&sig).unwrap())
        .unwrap();
    home.ok(&[
        "verify",
        "--key",
        &signer,
        "--signing-algorithm",
        "RSASSA_PSS_SHA_256",
        "--in",
        &plain,
        "--signature",
        &sig,
    ]);
}

// ----- signatures and MACs -------------------------------------------------------------------

#[test]
fn ecc_sign_and_verify_files_digests_and_public_keys() {
    let home = Home::init();
    let key = home.create(&["--key-spec", "ECC_NIST_P256", "--alias", "alias/signer"]);
    let msg = home.write("msg", b"release 1.0");
    let sig = home.path("msg.sig");
    let resp = home.ok(&["sign", "--key", "alias/signer", "--in", &msg, "--out", &sig]);
    assert_eq!(resp["SigningAlgorithm"], "ECDSA_SHA_256");
    assert_eq!(resp["KeyId"], key);

    let resp = home.ok(&[
        "verify",
        "--key",
        "alias/signer",
        "--in",
        &msg,
        "--signature",
        &sig,
    ]);
    assert_eq!(resp["SignatureValid"], true);

    // An independent verifier accepts the signature with the exported public key.
    let der = home
        .run(&["get-public-key", "--key", "alias/signer", "--output", "der"])
        .stdout;
    UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, &der)
        .verify(b"release 1.0", &fs::read(&sig).unwrap())
        .unwrap();
    let pem = String::from_utf8(
        home.run(&["get-public-key", "--key", "alias/signer", "--output", "pem"])
            .stdout,
    )
    .unwrap();
    assert!(
        pem.starts_with("-----BEGIN PUBLIC KEY-----\n")
            && pem.ends_with("-----END PUBLIC KEY-----\n")
    );
    let pem_file = home.path("pub.pem");
    home.ok(&[
        "get-public-key",
        "--key",
        "alias/signer",
        "--output",
        "pem",
        "--out",
        &pem_file,
    ]);
    assert_eq!(fs::read_to_string(&pem_file).unwrap(), pem);
    let resp = home.ok(&["get-public-key", "--key", "alias/signer"]);
    assert_eq!(b64(&resp["PublicKey"]), der);
    assert_eq!(
        resp["SigningAlgorithms"],
        serde_json::json!(["ECDSA_SHA_256"])
    );

    // Another message: exit code 4, and a response that says so.
    let other = home.write("other", b"release 2.0");
    let out = home.run(&[
        "verify",
        "--key",
        "alias/signer",
        "--in",
        &other,
        "--signature",
        &sig,
    ]);
    assert_fails(&out, 4, &["signature is not valid"]);
    let resp: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(resp["SignatureValid"], false);

    // Base64 forms, stdin for the message.
    let sig_b64 = String::from_utf8(
        home.run(&[
            "sign",
            "--key",
            "alias/signer",
            "--in",
            &msg,
            "--out",
            "-",
            "--base64",
        ])
        .stdout,
    )
    .unwrap();
    let out = home.run_stdin(
        &[
            "verify",
            "--key",
            "alias/signer",
            "--in",
            "-",
            "--signature-base64",
            sig_b64.trim(),
        ],
        b"release 1.0",
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let sig_file = home.write("sig.b64", sig_b64.as_bytes());
    home.ok(&[
        "verify",
        "--key",
        "alias/signer",
        "--in",
        &msg,
        "--signature",
        &sig_file,
        "--base64",
    ]);

    // DIGEST: the caller's SHA-256 of the message.
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"release 1.0");
    let digest_file = home.write("digest", digest.as_ref());
    let dsig = home.path("digest.sig");
    home.ok(&[
        "sign",
        "--key",
        &key,
        "--message-type",
        "DIGEST",
        "--in",
        &digest_file,
        "--out",
        &dsig,
    ]);
    home.ok(&["verify", "--key", &key, "--in", &msg, "--signature", &dsig]);
    assert_fails(
        &home.run(&[
            "sign",
            "--key",
            &key,
            "--message-type",
            "DIGEST",
            "--in",
            &msg,
        ]),
        1,
        &["KP_INVALID_INPUT"],
    );

    assert_fails(
        &home.run(&[
            "sign",
            "--key",
            &key,
            "--signing-algorithm",
            "RSASSA_PSS_SHA_256",
            "--in",
            &msg,
        ]),
        1,
        &["KP_INVALID_KEY_USAGE"],
    );
    let aes = home.create(&[]);
    assert_fails(
        &home.run(&["sign", "--key", &aes, "--in", &msg]),
        1,
        &["KP_INVALID_KEY_USAGE", "does not sign"],
    );
    assert_fails(
        &home.run(&["get-public-key", "--key", &aes]),
        1,
        &["KP_UNSUPPORTED_ALGORITHM"],
    );
    assert_fails(
        &home.run(&["verify", "--key", &key, "--in", &msg]),
        2,
        &["--signature"],
    );
}

#[test]
fn hmac_generate_and_verify() {
    let home = Home::init();
    let key = home.create(&["--key-spec", "HMAC_256"]);
    let msg = home.write("m", b"session=42");
    let mac = home.path("m.mac");
    let resp = home.ok(&["generate-mac", "--key", &key, "--in", &msg, "--out", &mac]);
    assert_eq!(resp["MacAlgorithm"], "HMAC_SHA_256");
    assert_eq!(fs::read(&mac).unwrap().len(), 32);
    assert_eq!(
        home.ok(&["verify-mac", "--key", &key, "--in", &msg, "--mac", &mac])["MacValid"],
        true
    );
    let other = home.write("o", b"session=43");
    let out = home.run(&["verify-mac", "--key", &key, "--in", &other, "--mac", &mac]);
    assert_fails(&out, 4, &["MAC is not valid"]);
    let resp = home.ok(&["generate-mac", "--key", &key, "--in", &msg]);
    let tag = resp["Mac"].as_str().unwrap();
    home.ok(&[
        "verify-mac",
        "--key",
        &key,
        "--in",
        &msg,
        "--mac-base64",
        tag,
        "--mac-algorithm",
        "HMAC_SHA_256",
    ]);
    assert_fails(
        &home.run(&[
            "verify-mac",
            "--key",
            &key,
            "--in",
            &msg,
            "--mac-base64",
            tag,
            "--mac-algorithm",
            "HMAC_SHA_512",
        ]),
        1,
        &["KP_INVALID_KEY_USAGE"],
    );
    assert_fails(
        &home.run(&[
            "verify-mac",
            "--key",
            &key,
            "--in",
            &msg,
            "--mac-base64",
            "@@",
        ]),
        2,
        &["not valid base64"],
    );
}

// ----- sealed export and import --------------------------------------------------------------

#[test]
fn export_and_import_between_two_homes() {
    let a = Home::init();
    let b = Home::init();
    a.create(&["--key-id", "shared", "--alias", "alias/shared"]);
    let plain = a.write("p", b"replicated");
    let blob = a.path("blob");
    a.ok(&[
        "encrypt",
        "--key",
        "shared",
        "--context",
        "r=eu",
        "--in",
        &plain,
        "--out",
        &blob,
    ]);
    a.ok(&["rotate-key", "--key", "shared"]);
    let record = a.path("shared.kpr");
    let resp = a.ok(&["export-key", "--key", "alias/shared", "--out", &record]);
    assert_eq!(resp["KeyId"], "shared");

    // Sealed under A's root: B needs A's root key file.
    assert_fails(
        &b.run(&["import-key", "--in", &record]),
        1,
        &["KP_INVALID_CIPHERTEXT", "--root-key-file"],
    );
    let meta = b.ok(&[
        "import-key",
        "--in",
        &record,
        "--root-key-file",
        &a.root_key(),
    ]);
    assert_eq!(meta["KeyMetadata"]["KeyId"], "shared");
    assert_eq!(meta["KeyMetadata"]["CurrentKeyVersion"], 2);
    assert_eq!(
        meta["KeyMetadata"]["Aliases"],
        serde_json::json!(["alias/shared"])
    );
    let copied = b.write("blob", &fs::read(&blob).unwrap());
    let out = b.run(&[
        "decrypt",
        "--in",
        &copied,
        "--context",
        "r=eu",
        "--out",
        "-",
    ]);
    assert_eq!(out.stdout, b"replicated", "{}", stderr(&out));
    assert_fails(
        &b.run(&[
            "import-key",
            "--in",
            &record,
            "--root-key-file",
            &a.root_key(),
        ]),
        1,
        &["KP_ALREADY_EXISTS"],
    );

    // Sealed for B's root, through stdout and stdin.
    let c = Home::init();
    let other = a.create(&["--key-spec", "ECC_NIST_P256"]);
    let out = a.run(&[
        "export-key",
        "--key",
        &other,
        "--out",
        "-",
        "--root-key-file",
        &c.root_key(),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let imported = c.run_stdin(&["import-key", "--in", "-"], &out.stdout);
    assert_eq!(code(&imported), 0, "{}", stderr(&imported));

    let mut damaged = fs::read(&record).unwrap();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    let damaged = c.write("damaged.kpr", &damaged);
    assert_fails(
        &c.run(&[
            "import-key",
            "--in",
            &damaged,
            "--root-key-file",
            &a.root_key(),
        ]),
        1,
        &["KP_INVALID_CIPHERTEXT"],
    );
    let junk = c.write("junk", b"KPSR?");
    assert_fails(
        &c.run(&["import-key", "--in", &junk]),
        1,
        &["KP_INVALID_INPUT", "export-key"],
    );
    fs::set_permissions(a.root_key(), fs::Permissions::from_mode(0o640)).unwrap();
    assert_fails(
        &c.run(&[
            "import-key",
            "--in",
            &record,
            "--root-key-file",
            &a.root_key(),
        ]),
        3,
        &["chmod 600"],
    );
}

// ----- key material import -------------------------------------------------------------------

/// Starts `import-key-material` reading the wrapped material from stdin, waits for the public
/// key it writes, and returns the child and the key.
fn start_import(home: &Home, key: &str, algorithm: &str, public: &str) -> (Child, Vec<u8>) {
    let mut child = home
        .cmd(&[
            "import-key-material",
            "--key-id",
            key,
            "--wrapping-algorithm",
            algorithm,
            "--public-key-out",
            public,
            "--encrypted-key-material",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(der) = fs::read(public)
            && !der.is_empty()
        {
            return (child, der);
        }
        if Instant::now() >= deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("no public key written: {}", stderr(&out));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn oaep_wrap(public_der: &[u8], material: &[u8]) -> Vec<u8> {
    let public =
        OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(public_der).unwrap()).unwrap();
    let mut out = vec![0; public.ciphertext_size()];
    let n = public
        .encrypt(&OAEP_SHA256_MGF1SHA256, material, &mut out, None)
        .unwrap()
        .len();
    out.truncate(n);
    out
}

fn finish_import(mut child: Child, wrapped: &[u8]) -> Output {
    child.stdin.take().unwrap().write_all(wrapped).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn import_key_material_through_a_pipe_and_a_wrap_command() {
    let home = Home::init();
    let meta = home.ok(&["create-key", "--key-id", "byok", "--origin", "EXTERNAL"]);
    assert_eq!(meta["KeyMetadata"]["KeyState"], "PendingImport");
    assert_eq!(meta["KeyMetadata"]["Origin"], "EXTERNAL");
    let plain = home.write("p", b"own key");
    assert_fails(
        &home.run(&["encrypt", "--key", "byok", "--in", &plain]),
        1,
        &["KP_INVALID_KEY_STATE", "import-key-material"],
    );

    let material = random(32);
    let public = home.path("wrapping.der");
    let (child, der) = start_import(&home, "byok", "RSAES_OAEP_SHA_256", &public);
    // While one process has the store, another is told so.
    assert_fails(
        &home.run(&["list-keys"]),
        3,
        &["in use by another keyplane process"],
    );
    let out = finish_import(child, &oaep_wrap(&der, &material));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let resp: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(resp["KeyState"], "Enabled");
    let blob = home.path("blob");
    home.ok(&["encrypt", "--key", "byok", "--in", &plain, "--out", &blob]);

    // Other material is refused; garbage does not unwrap.
    let (child, der) = start_import(&home, "byok", "RSAES_OAEP_SHA_256", &home.path("w2.der"));
    let out = finish_import(child, &oaep_wrap(&der, &random(32)));
    assert_fails(&out, 1, &["KP_INVALID_INPUT", "differs"]);
    let (child, _) = start_import(&home, "byok", "RSAES_OAEP_SHA_256", &home.path("w3.der"));
    assert_fails(
        &finish_import(child, &random(256)),
        1,
        &["KP_INVALID_CIPHERTEXT"],
    );

    assert_eq!(
        home.ok(&["delete-imported-key-material", "--key-id", "byok"])["KeyState"],
        "PendingImport"
    );
    // Without its material the blob cannot authenticate, and decrypt says only that.
    assert_fails(
        &home.run(&["decrypt", "--in", &blob]),
        1,
        &["KP_INVALID_CIPHERTEXT"],
    );

    // The same material again, wrapped by openssl through --wrap-command when it is installed.
    let has_openssl = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if has_openssl {
        let material_file = home.write("material.bin", &material);
        let command = format!(
            "openssl pkeyutl -encrypt -pubin -keyform DER -inkey \"$KEYPLANE_WRAPPING_KEY\" \
             -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 \
             -pkeyopt rsa_mgf1_md:sha256 -in {material_file}"
        );
        let resp = home.ok(&[
            "import-key-material",
            "--key-id",
            "byok",
            "--wrap-command",
            &command,
            "--valid-to",
            "2099-01-01T00:00:00Z",
        ]);
        assert_eq!(resp["KeyState"], "Enabled");
        assert_eq!(resp["ValidTo"], "2099-01-01T00:00:00.000Z");
    } else {
        eprintln!("openssl not found: --wrap-command checked with a failing command only");
        let (child, der) = start_import(&home, "byok", "RSAES_OAEP_SHA_256", &home.path("w4.der"));
        assert_eq!(code(&finish_import(child, &oaep_wrap(&der, &material))), 0);
    }
    let out = home.run(&["decrypt", "--in", &blob, "--out", "-"]);
    assert_eq!(out.stdout, b"own key", "{}", stderr(&out));

    assert_fails(
        &home.run(&[
            "import-key-material",
            "--key-id",
            "byok",
            "--wrap-command",
            "exit 3",
        ]),
        1,
        &["--wrap-command failed"],
    );
    assert_fails(
        &home.run(&[
            "import-key-material",
            "--key-id",
            "byok",
            "--wrap-command",
            "true",
            "--valid-to",
            "tomorrow",
        ]),
        2,
        &["RFC 3339"],
    );
    assert_fails(
        &home.run(&["import-key-material", "--key-id", "byok"]),
        2,
        &["--wrap-command"],
    );
    assert_fails(
        &home.run(&[
            "import-key-material",
            "--key-id",
            "byok",
            "--encrypted-key-material",
            "x",
        ]),
        2,
        &["--public-key-out"],
    );
    let aes = home.create(&[]);
    assert_fails(
        &home.run(&[
            "import-key-material",
            "--key-id",
            &aes,
            "--wrap-command",
            "true",
        ]),
        1,
        &["KP_UNSUPPORTED_ALGORITHM"],
    );
}

#[test]
fn get_parameters_then_import_in_a_later_run() {
    // AWS KMS's two steps: the parameters are fetched by one run, the material is wrapped
    // elsewhere, and a later run imports it with the token.
    let home = Home::init();
    home.ok(&["create-key", "--key-id", "two-step", "--origin", "EXTERNAL"]);
    let params = home.ok(&[
        "get-parameters-for-import",
        "--key-id",
        "two-step",
        "--public-key-out",
        &home.path("wrapping.der"),
        "--import-token-out",
        &home.path("token.bin"),
    ]);
    assert_eq!(params["KeyId"], "two-step");
    assert!(params["ParametersValidTo"].is_string());
    let material = random(32);
    let wrapped = oaep_wrap(&fs::read(home.file("wrapping.der")).unwrap(), &material);
    let wrapped_path = home.write("wrapped.bin", &wrapped);

    // A damaged token is refused and the key stays pending.
    let mut damaged = fs::read(home.file("token.bin")).unwrap();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    let damaged_path = home.write("damaged.bin", &damaged);
    assert_fails(
        &home.run(&[
            "import-key-material",
            "--key-id",
            "two-step",
            "--import-token",
            &damaged_path,
            "--encrypted-key-material",
            &wrapped_path,
        ]),
        1,
        &["KP_INVALID_INPUT", "import token"],
    );
    // The token without the material is a usage error.
    assert_fails(
        &home.run(&[
            "import-key-material",
            "--key-id",
            "two-step",
            "--import-token",
            &home.path("token.bin"),
        ]),
        2,
        &["--encrypted-key-material"],
    );
    let done = home.ok(&[
        "import-key-material",
        "--key-id",
        "two-step",
        "--import-token",
        &home.path("token.bin"),
        "--encrypted-key-material",
        &wrapped_path,
    ]);
    assert_eq!(done["KeyState"], "Enabled");
    let plain = home.write("p", b"two steps");
    let blob = home.path("p.enc");
    home.ok(&[
        "encrypt", "--key", "two-step", "--in", &plain, "--out", &blob,
    ]);
    let out = home.run(&["decrypt", "--in", &blob, "--out", "-"]);
    assert_eq!(out.stdout, b"two steps", "{}", stderr(&out));

    // The token printed as base64 works the same, for another key it is refused.
    home.ok(&["create-key", "--key-id", "printed", "--origin", "EXTERNAL"]);
    let params = home.ok(&["get-parameters-for-import", "--key-id", "printed"]);
    let token_path = home.write(
        "token.b64",
        params["ImportToken"].as_str().unwrap().as_bytes(),
    );
    let wrapped_path = home.write("w2", &oaep_wrap(&b64(&params["PublicKey"]), &random(32)));
    home.ok(&["create-key", "--key-id", "other", "--origin", "EXTERNAL"]);
    assert_fails(
        &home.run(&[
            "import-key-material",
            "--key-id",
            "other",
            "--import-token",
            &token_path,
            "--encrypted-key-material",
            &wrapped_path,
        ]),
        1,
        &["KP_INVALID_INPUT", "another key"],
    );
    home.ok(&[
        "import-key-material",
        "--key-id",
        "printed",
        "--import-token",
        &token_path,
        "--encrypted-key-material",
        &wrapped_path,
    ]);
}

#[test]
fn import_an_ecc_private_key_with_rsa_aes_key_wrap() {
    let home = Home::init();
    home.ok(&[
        "create-key",
        "--key-id",
        "ec",
        "--key-spec",
        "ECC_NIST_P256",
        "--origin",
        "EXTERNAL",
    ]);
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref())
        .unwrap();
    let (child, der) = start_import(&home, "ec", "RSA_AES_KEY_WRAP_SHA_256", &home.path("w.der"));
    let aes = random(32);
    let kek = AesKek::new(&AES_256, &aes).unwrap();
    let mut wrapped_key = vec![0; pkcs8.as_ref().len() + 16];
    let n = kek
        .wrap_with_padding(pkcs8.as_ref(), &mut wrapped_key)
        .unwrap()
        .len();
    wrapped_key.truncate(n);
    let mut wrapped = oaep_wrap(&der, &aes);
    wrapped.extend_from_slice(&wrapped_key);
    let out = finish_import(child, &wrapped);
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    let msg = home.write("m", b"imported signer");
    let resp = home.ok(&["sign", "--key", "ec", "--in", &msg]);
    UnparsedPublicKey::new(
        &signature::ECDSA_P256_SHA256_ASN1,
        pair.public_key().as_ref(),
    )
    .verify(b"imported signer", &b64(&resp["Signature"]))
    .unwrap();
}

// ----- usage errors --------------------------------------------------------------------------

#[test]
fn bad_arguments_are_usage_errors() {
    let home = Home::init();
    let key = home.create(&[]);
    let p = home.write("p", b"x");
    for (args, needle) in [
        (vec!["no-such-command"], "unrecognized subcommand"),
        (vec!["encrypt", "--in", &p], "--key-id"),
        (
            vec!["create-key", "--key-spec", "AES_512"],
            "expected one of SYMMETRIC_DEFAULT",
        ),
        (
            vec!["encrypt", "--key", &key, "--in", &p, "--context", "novalue"],
            "expected KEY=VALUE",
        ),
        (
            vec!["list-keys", "--output", "pem"],
            "apply only to get-public-key",
        ),
        (
            vec!["list-keys", "--output", "yaml"],
            "invalid value 'yaml'",
        ),
        (
            vec!["sign", "--key", &key, "--in", &p, "--message-type", "HASH"],
            "expected one of RAW, DIGEST",
        ),
        (
            vec!["verify-mac", "--key", &key, "--in", "-", "--mac", "-"],
            "cannot both be standard input",
        ),
        (vec!["bench", "--seconds", "0"], "--seconds"),
    ] {
        assert_fails(&home.run(&args), 2, &[needle]);
    }
    assert_fails(
        &home.run(&["encrypt", "--key", &key, "--in", &p, "--context", "=v"]),
        2,
        &["a pair with no key", "KEY=VALUE"],
    );
    assert_fails(
        &home.run(&[
            "encrypt",
            "--key",
            &key,
            "--in",
            &p,
            "--context",
            "a=1",
            "--context",
            "a=2",
        ]),
        2,
        &["the key 'a' twice"],
    );
    // Names are case-insensitive, as the AWS CLI's are not but a shell user expects.
    home.ok(&["create-key", "--key-spec", "hmac_256"]);
    let help = home.run(&["--help"]);
    assert_eq!(code(&help), 0);
    assert!(String::from_utf8_lossy(&help.stdout).contains("Exit codes"));
    assert_eq!(code(&home.run(&["--version"])), 0);
}

// ----- bench and the session script ----------------------------------------------------------

#[test]
fn version_names_the_module_and_its_fips_status() {
    // No home: `version` works before `init` and creates nothing.
    let home = Home::new();
    let out = home.run(&["version"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    // A FIPS build of this test (`--features fips`) expects the other answers.
    let fips = cfg!(feature = "fips");
    let (module, yes_no) = if fips {
        ("AWS-LC FIPS", "yes")
    } else {
        ("AWS-LC", "no")
    };
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(lines[0], format!("keyplane {}", env!("CARGO_PKG_VERSION")));
    let version = lines[1]
        .strip_prefix(&format!("module: {module} "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(version.starts_with(|c: char| c.is_ascii_digit()), "{text}");
    assert_eq!(lines[2], format!("fips build: {yes_no}"));
    assert_eq!(lines[3], format!("fips mode: {yes_no}"));
    assert!(!home.home().exists());

    let json = home.ok(&["version", "--output", "json"]);
    assert_eq!(json["Version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(json["Module"], module);
    assert_eq!(json["ModuleVersion"], version);
    assert_eq!(json["FipsBuild"], fips);
    assert_eq!(json["FipsMode"], fips);
    assert_eq!(json["FipsBranch"].is_u64(), fips);
    // `--output text` is the default's lines.
    let again = home.run(&["--output", "text", "version"]);
    assert_eq!(String::from_utf8(again.stdout).unwrap(), text);
}

#[test]
fn bench_prints_a_table_or_json_with_progress() {
    let home = Home::new();
    let out = home.run(&["bench", "--seconds", "0.02"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let table = String::from_utf8(out.stdout.clone()).unwrap();
    for row in [
        "encrypt 64 B",
        "encrypt 4 KiB",
        "decrypt 4 KiB",
        "sign ECDSA P-256",
        "encrypt_many 10,000 x 64 B",
    ] {
        assert!(table.contains(row), "{table}");
    }
    assert!(
        stderr(&out).contains("bench: 1/6 encrypt 64 B"),
        "{}",
        stderr(&out)
    );
    assert!(!home.home().exists(), "bench must not touch the home");

    let out = home.run(&["bench", "--seconds", "0.02", "--output", "json"]);
    let resp: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = resp["Rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    assert!(
        rows.iter()
            .all(|r| r["OpsPerSecond"].as_f64().unwrap() > 0.0)
    );
}

#[test]
fn the_session_script_runs() {
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/session.sh");
    let out = Command::new("bash")
        .arg(&script)
        .env("KEYPLANE", BIN)
        .env("KEYPLANE_HOME", dir.path().join("home"))
        .env_remove("KEYPLANE_ROOT_KEY")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(code(&out), 0, "{stdout}\n{}", stderr(&out));
    assert!(stdout.contains("$ keyplane init"), "{stdout}");
    assert!(
        stdout.contains("meet at the north gate at noon"),
        "{stdout}"
    );
    assert!(stdout.contains("\"SignatureValid\": true"), "{stdout}");
    assert!(stdout.contains("-----BEGIN PUBLIC KEY-----"), "{stdout}");
    assert!(
        stderr(&out).contains("KP_INVALID_CIPHERTEXT"),
        "{}",
        stderr(&out)
    );
}

// ----- audit verify ---------------------------------------------------------------------------

#[test]
fn audit_verify_reports_an_intact_log_and_locates_a_broken_one() {
    use keyplane::audit::{AuditKey, FileSink};
    let home = Home::new();
    let key = random(32);
    let key_hex = hex_of(&key);
    let log = home.file("log");
    {
        let sink = FileSink::create(&log, AuditKey::new(&key).unwrap())
            .unwrap()
            .checkpoint_every(5);
        let ring = keyplane::Keyring::builder()
            .audit(keyplane::AuditConfig::new(sink))
            .unwrap()
            .build();
        ring.create_key(&keyplane::CreateKey::new(keyplane::KeySpec::SymmetricDefault).key_id("k"))
            .unwrap();
        for _ in 0..20 {
            ring.encrypt("k", b"x", &keyplane::EncryptionContext::default())
                .unwrap();
        }
    }
    let key_file = home.write("audit.key", format!("{key_hex}\n").as_bytes());
    fs::set_permissions(&key_file, fs::Permissions::from_mode(0o600)).unwrap();
    let log_dir = log.to_str().unwrap();

    let report = home.ok(&[
        "audit",
        "verify",
        "--dir",
        log_dir,
        "--audit-key-file",
        &key_file,
    ]);
    assert_eq!(report["Intact"], true);
    assert_eq!(report["Records"], 21);
    assert_eq!(report["Closed"], true);
    assert!(report["LastCheckpoint"]["Line"].as_u64().unwrap() > 0);
    // The same from the file list and the key in the environment.
    let files: Vec<String> = keyplane::audit::log_files_in(&log)
        .unwrap()
        .iter()
        .map(|p| p.to_str().unwrap().to_owned())
        .collect();
    let mut args = vec!["audit", "verify"];
    args.extend(files.iter().map(String::as_str));
    let out = home.run_env(&args, "KEYPLANE_AUDIT_KEY", &key_hex);
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    // A wrong key, no key, a key file others can read, no log.
    let wrong = home.write("wrong.key", format!("{}\n", hex_of(&random(32))).as_bytes());
    fs::set_permissions(&wrong, fs::Permissions::from_mode(0o600)).unwrap();
    let out = home.run(&[
        "audit",
        "verify",
        "--dir",
        log_dir,
        "--audit-key-file",
        &wrong,
    ]);
    assert_fails(&out, 4, &["audit log broken at"]);
    assert_fails(
        &home.run(&["audit", "verify", "--dir", log_dir]),
        2,
        &["KEYPLANE_AUDIT_KEY"],
    );
    fs::set_permissions(&key_file, fs::Permissions::from_mode(0o644)).unwrap();
    assert_fails(
        &home.run(&[
            "audit",
            "verify",
            "--dir",
            log_dir,
            "--audit-key-file",
            &key_file,
        ]),
        3,
        &["chmod 600"],
    );
    fs::set_permissions(&key_file, fs::Permissions::from_mode(0o600)).unwrap();
    assert_fails(&home.run(&["audit", "verify"]), 2, &[]);
    let empty = home.file("empty");
    fs::create_dir(&empty).unwrap();
    assert_fails(
        &home.run(&[
            "audit",
            "verify",
            "--dir",
            empty.to_str().unwrap(),
            "--audit-key-file",
            &key_file,
        ]),
        1,
        &["no audit log files"],
    );

    // An edited line is located: its successor's link to it breaks.
    let first = &files[0];
    let text = fs::read_to_string(first).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[3] = lines[3].replacen("\"k\"", "\"j\"", 1);
    fs::write(first, lines.join("\n") + "\n").unwrap();
    let out = home.run(&[
        "audit",
        "verify",
        "--dir",
        log_dir,
        "--audit-key-file",
        &key_file,
    ]);
    assert_fails(&out, 4, &[":5: ", "line before"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["Intact"], false);
    assert_eq!(report["Line"], 5);
    assert!(report["Reason"].as_str().unwrap().len() > 3);
}
