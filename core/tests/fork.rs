//! Fork safety: the per-thread nonce pool, store-backed keyrings, and locks.
//!
//! Each thread buffers nonce randomness; `fork()` copies that buffer into the child. The child
//! must discard it, or parent and child hand out the same nonces under the same key (and
//! AES-GCM with a repeated nonce leaks plaintext and the authentication key).
//!
//! A store-backed keyring opened before a fork only reads and decrypts in the child: its writes
//! would race the parent's and other children's over whole records. And a fork while another
//! thread holds one of the keyring's locks must not leave the child a lock no thread releases.
//!
//! This binary runs without the libtest harness (`harness = false` in `Cargo.toml`) so that the
//! process has exactly one thread when it forks; it prints a summary and exits non-zero on any
//! failure.

#[cfg(target_os = "linux")]
fn main() {
    std::process::exit(linux::run());
}

#[cfg(not(target_os = "linux"))]
fn main() {}

#[cfg(target_os = "linux")]
mod linux {
    use std::collections::{BTreeMap, HashSet};
    use std::fs::File;
    use std::io::{self, Read, Write};
    use std::num::NonZeroU64;
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::panic::{self, AssertUnwindSafe};
    use std::path::{Path, PathBuf};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::thread;
    use std::time::{Duration, Instant};

    use keyplane::aead::NONCE_LEN;
    use keyplane::{
        CreateKey, EncryptionContext, Error, KeySpec, KeyUsage, Keyring, LocalRootKey, MessageType,
        PendingWindow, RootKey, SigningAlgorithm, Store, envelope,
    };

    type Nonce = [u8; NONCE_LEN];
    type Outcome = Result<(), String>;
    type Test = (&'static str, fn() -> Outcome);

    /// Encryptions before forking: enough to fill the pool, few enough that the parent's and
    /// the child's next encryptions would all come from that one pooled draw if it were shared.
    const WARM_UP: usize = 3;
    /// Encryptions in each process after the fork.
    const PER_PROCESS: usize = 50;
    const KEY: &str = "fork-key";

    pub(crate) fn run() -> i32 {
        // The batch, audit and threaded tests run last: they start threads, and the others
        // need one.
        let tests: [Test; 8] = [
            (
                "parent_and_child_nonces_are_disjoint",
                parent_and_child_nonces_are_disjoint,
            ),
            (
                "two_children_and_the_parent_are_disjoint",
                two_children_and_the_parent_are_disjoint,
            ),
            (
                "child_blobs_decrypt_in_the_parent",
                child_blobs_decrypt_in_the_parent,
            ),
            (
                "a_store_backed_keyring_only_reads_and_decrypts_in_a_child",
                a_store_backed_keyring_only_reads_and_decrypts_in_a_child,
            ),
            (
                "batches_run_in_a_child_forked_after_a_batch",
                batches_run_in_a_child_forked_after_a_batch,
            ),
            (
                "an_audited_keyring_fails_closed_in_a_child",
                an_audited_keyring_fails_closed_in_a_child,
            ),
            (
                "forks_while_another_thread_changes_keys_never_hang",
                forks_while_another_thread_changes_keys_never_hang,
            ),
            (
                "forks_while_another_thread_draws_randomness_never_hang",
                forks_while_another_thread_draws_randomness_never_hang,
            ),
        ];
        let mut failed = 0;
        for (name, test) in tests {
            let outcome = panic::catch_unwind(test).unwrap_or_else(|_| Err("panicked".to_owned()));
            match outcome {
                Ok(()) => println!("test {name} ... ok"),
                Err(why) => {
                    println!("test {name} ... FAILED: {why}");
                    failed += 1;
                }
            }
        }
        println!("fork: {} passed, {failed} failed", tests.len() - failed);
        i32::from(failed != 0)
    }

    fn setup() -> Result<(Keyring, EncryptionContext), String> {
        let ring = Keyring::new();
        ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id(KEY))
            .map_err(|e| format!("create_key: {e}"))?;
        let context = EncryptionContext::new([("purpose", "fork")]).map_err(|e| e.to_string())?;
        Ok((ring, context))
    }

    /// The nonce field of a blob, located through the documented header layout.
    fn nonce_of(blob: &[u8]) -> Result<Nonce, String> {
        let info = envelope::inspect(blob).map_err(|e| format!("inspect: {e}"))?;
        let end = envelope::header_len(info.key_id.len());
        blob.get(end - NONCE_LEN..end)
            .and_then(|n| n.try_into().ok())
            .ok_or_else(|| "blob shorter than its header".to_owned())
    }

    fn encrypt_blobs(
        ring: &Keyring,
        context: &EncryptionContext,
        n: usize,
    ) -> Result<Vec<Vec<u8>>, String> {
        (0..n)
            .map(|i| {
                ring.encrypt(KEY, format!("message {i}").as_bytes(), context)
                    .map_err(|e| format!("encrypt: {e}"))
            })
            .collect()
    }

    fn encrypt_nonces(
        ring: &Keyring,
        context: &EncryptionContext,
        n: usize,
    ) -> Result<Vec<Nonce>, String> {
        encrypt_blobs(ring, context, n)?
            .iter()
            .map(|b| nonce_of(b))
            .collect()
    }

    fn threads_in_process() -> Result<usize, String> {
        std::fs::read_dir("/proc/self/task")
            .map(Iterator::count)
            .map_err(|e| format!("/proc/self/task: {e}"))
    }

    /// Forks. The child runs `child`, writes what it returns to a pipe and exits (0 on
    /// success); the parent runs `parent` meanwhile, then collects the child's bytes and exit
    /// status.
    fn fork_with<T>(
        child: impl FnOnce() -> Result<Vec<u8>, String>,
        parent: impl FnOnce() -> Result<T, String>,
    ) -> Result<(Vec<u8>, T), String> {
        let threads = threads_in_process()?;
        if threads != 1 {
            return Err(format!(
                "{threads} threads at fork; the child would be unsound"
            ));
        }
        fork_unchecked(child, parent)
    }

    /// [`fork_with`] in a process that may have other threads: the child must only use what
    /// those threads cannot be holding (here: Keyplane, whose pool threads sleep between
    /// batches, and the allocator, which glibc makes fork-safe).
    fn fork_unchecked<T>(
        child: impl FnOnce() -> Result<Vec<u8>, String>,
        parent: impl FnOnce() -> Result<T, String>,
    ) -> Result<(Vec<u8>, T), String> {
        let mut fds = [0; 2];
        // SAFETY: `fds` is a writable array of two `c_int`s, which is all pipe(2) requires.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(format!("pipe: {}", io::Error::last_os_error()));
        }
        // SAFETY: pipe(2) succeeded, so both descriptors are open, and nothing else owns them.
        let (mut reader, mut writer) = unsafe {
            (
                File::from(OwnedFd::from_raw_fd(fds[0])),
                File::from(OwnedFd::from_raw_fd(fds[1])),
            )
        };
        io::stdout().flush().map_err(|e| e.to_string())?;

        // SAFETY: either the process has one thread (`fork_with` checks; this binary runs
        // without the test harness), or its other threads are Keyplane's idle pool threads,
        // which hold no lock the child takes; so the child may run ordinary Rust code until it
        // calls `_exit`.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(format!("fork: {}", io::Error::last_os_error()));
        }
        if pid == 0 {
            drop(reader);
            let code = match panic::catch_unwind(AssertUnwindSafe(child)) {
                Ok(Ok(bytes)) => match writer.write_all(&bytes) {
                    Ok(()) => 0,
                    Err(_) => 3,
                },
                Ok(Err(why)) => {
                    eprintln!("child: {why}");
                    1
                }
                Err(_) => 2,
            };
            // SAFETY: `_exit` ends the child at once. It runs none of the parent's atexit
            // handlers or destructors (which belong to the parent's copy of the state) and is
            // always safe to call.
            unsafe { libc::_exit(code) }
        }

        drop(writer);
        let parent_result = panic::catch_unwind(AssertUnwindSafe(parent))
            .unwrap_or_else(|_| Err("parent side panicked".to_owned()));
        let mut bytes = Vec::new();
        let read = reader.read_to_end(&mut bytes);
        let status = wait_for(pid)?;
        read.map_err(|e| format!("reading the pipe: {e}"))?;
        if !libc::WIFEXITED(status) {
            return Err(format!(
                "child did not exit normally (wait status {status:#x})"
            ));
        }
        let code = libc::WEXITSTATUS(status);
        if code != 0 {
            return Err(format!("child exited with {code}"));
        }
        Ok((bytes, parent_result?))
    }

    fn wait_for(pid: libc::pid_t) -> Result<libc::c_int, String> {
        let mut status = 0;
        loop {
            // SAFETY: `pid` is our child and has not been waited for; `status` is a valid,
            // writable `c_int`.
            let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
            if rc == pid {
                return Ok(status);
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(format!("waitpid: {err}"));
            }
        }
    }

    fn nonces_from_bytes(bytes: &[u8]) -> Result<Vec<Nonce>, String> {
        if bytes.len() != PER_PROCESS * NONCE_LEN {
            return Err(format!(
                "child sent {} bytes, want {}",
                bytes.len(),
                PER_PROCESS * NONCE_LEN
            ));
        }
        Ok(bytes
            .chunks_exact(NONCE_LEN)
            .map(|c| c.try_into().expect("chunks are NONCE_LEN long"))
            .collect())
    }

    /// Runs `PER_PROCESS` encryptions in a child and in the parent; returns (child, parent)
    /// nonces.
    fn fork_and_encrypt(
        ring: &Keyring,
        context: &EncryptionContext,
    ) -> Result<(Vec<Nonce>, Vec<Nonce>), String> {
        let (bytes, parent) = fork_with(
            || Ok(encrypt_nonces(ring, context, PER_PROCESS)?.concat()),
            || encrypt_nonces(ring, context, PER_PROCESS),
        )?;
        Ok((nonces_from_bytes(&bytes)?, parent))
    }

    /// Checks that no nonce appears twice across all `sets`.
    fn all_distinct(sets: &[(&str, &[Nonce])]) -> Outcome {
        let mut seen: HashSet<Nonce> = HashSet::new();
        let mut owner: Vec<(Nonce, &str)> = Vec::new();
        for (name, nonces) in sets {
            for nonce in *nonces {
                if !seen.insert(*nonce) {
                    let first = owner
                        .iter()
                        .find(|(n, _)| n == nonce)
                        .map_or("?", |(_, o)| *o);
                    return Err(format!(
                        "nonce {} used by {first} and again by {name}",
                        hex::encode(nonce)
                    ));
                }
                owner.push((*nonce, name));
            }
        }
        Ok(())
    }

    fn parent_and_child_nonces_are_disjoint() -> Outcome {
        let (ring, context) = setup()?;
        let before = encrypt_nonces(&ring, &context, WARM_UP)?;
        let (child, parent) = fork_and_encrypt(&ring, &context)?;
        all_distinct(&[
            ("the parent before fork", &before),
            ("the parent after fork", &parent),
            ("the child", &child),
        ])
    }

    fn two_children_and_the_parent_are_disjoint() -> Outcome {
        let (ring, context) = setup()?;
        let before = encrypt_nonces(&ring, &context, WARM_UP)?;
        let (first_child, parent_1) = fork_and_encrypt(&ring, &context)?;
        let (second_child, parent_2) = fork_and_encrypt(&ring, &context)?;
        all_distinct(&[
            ("the parent before forking", &before),
            ("the parent during the first fork", &parent_1),
            ("the first child", &first_child),
            ("the parent during the second fork", &parent_2),
            ("the second child", &second_child),
        ])
    }

    fn child_blobs_decrypt_in_the_parent() -> Outcome {
        // Same key material on both sides: what the child encrypts, the parent decrypts, and
        // the child decrypts what the parent encrypted before the fork.
        let (ring, context) = setup()?;
        let before = encrypt_blobs(&ring, &context, WARM_UP)?;
        let (bytes, ()) = fork_with(
            || {
                for blob in &before {
                    ring.decrypt(blob, &context)
                        .map_err(|e| format!("child decrypting a parent blob: {e}"))?;
                }
                let blob = ring
                    .encrypt(KEY, b"from the child", &context)
                    .map_err(|e| e.to_string())?;
                Ok(blob)
            },
            || Ok(()),
        )?;
        let opened = ring
            .decrypt(&bytes, &context)
            .map_err(|e| format!("parent decrypting the child's blob: {e}"))?;
        if opened.as_slice() != b"from the child" {
            return Err("the child's blob decrypted to other bytes".to_owned());
        }
        Ok(())
    }

    /// A child forked after the parent ran a batch has none of the parent's pool threads; its
    /// batches must run on a new pool (not wait forever on the old one) and use fresh nonces.
    fn batches_run_in_a_child_forked_after_a_batch() -> Outcome {
        let (ring, context) = setup()?;
        let plaintexts: Vec<Vec<u8>> = (0..4000u32).map(|i| i.to_le_bytes().to_vec()).collect();
        let requests: Vec<_> = plaintexts
            .iter()
            .map(|p| keyplane::EncryptRequest {
                key_id: KEY,
                plaintext: p,
                context: &context,
            })
            .collect();
        let nonces_of = |blobs: Vec<keyplane::Result<bytes::Bytes>>| -> Result<Vec<Nonce>, String> {
            blobs
                .into_iter()
                .map(|b| nonce_of(&b.map_err(|e| format!("encrypt_many: {e}"))?))
                .collect()
        };
        let parent_before = nonces_of(ring.encrypt_many(&requests).map_err(|e| e.to_string())?)?;
        let (bytes, parent_after) = fork_unchecked(
            || {
                // A hang here would hang the test: let the kernel end it instead.
                // SAFETY: alarm(2) only arms a timer; its default action ends this child.
                unsafe { libc::alarm(30) };
                let nonces = nonces_of(ring.encrypt_many(&requests).map_err(|e| e.to_string())?)?;
                Ok(nonces.concat())
            },
            || nonces_of(ring.encrypt_many(&requests).map_err(|e| e.to_string())?),
        )?;
        let child: Vec<&[u8]> = bytes.chunks(NONCE_LEN).collect();
        if child.len() != plaintexts.len() {
            return Err(format!("child returned {} nonces", child.len()));
        }
        let mut seen: HashSet<&[u8]> = HashSet::new();
        for nonce in parent_before
            .iter()
            .chain(&parent_after)
            .map(|n| &n[..])
            .chain(child)
        {
            if !seen.insert(nonce) {
                return Err("a nonce repeated across parent and child".to_owned());
            }
        }
        Ok(())
    }

    fn an_audited_keyring_fails_closed_in_a_child() -> Outcome {
        // The audit writer thread stays in the parent. In the child, an audited operation must
        // neither wait for it (the queue would never drain) nor go unrecorded: it fails; and
        // dropping the keyring must not wait for the writer either.
        let sink = keyplane::audit::MemorySink::new();
        let ring = Keyring::builder()
            .audit(keyplane::AuditConfig::new(sink.clone()))
            .map_err(|e| e.to_string())?
            .build();
        ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id(KEY))
            .map_err(|e| format!("create_key: {e}"))?;
        let context = EncryptionContext::new([("purpose", "fork")]).map_err(|e| e.to_string())?;
        ring.flush_audit().map_err(|e| e.to_string())?;
        // The child takes the keyring so that its last handle is dropped there.
        let slot = std::cell::RefCell::new(Some(ring));
        let (bytes, ()) = fork_unchecked(
            || {
                // SAFETY: alarm(2) only arms a timer; its default action ends this child.
                unsafe { libc::alarm(30) };
                let ring = slot.borrow_mut().take().ok_or("no keyring")?;
                let mut answers = Vec::new();
                for _ in 0..3 {
                    answers.push(ring.encrypt(KEY, b"child", &context).map(drop));
                }
                answers.push(ring.flush_audit());
                drop(ring);
                if answers
                    .iter()
                    .all(|a| matches!(a, Err(keyplane::Error::Storage(_))))
                {
                    Ok(b"closed".to_vec())
                } else {
                    Err(format!("child answers: {answers:?}"))
                }
            },
            || {
                let ring = slot.borrow();
                let ring = ring.as_ref().ok_or("no keyring")?;
                ring.encrypt(KEY, b"parent", &context)
                    .map_err(|e| format!("parent encrypt: {e}"))?;
                ring.flush_audit().map_err(|e| e.to_string())
            },
        )?;
        if bytes != b"closed" {
            return Err("child did not report".to_owned());
        }
        let events = sink.events();
        if events.len() != 2 {
            return Err(format!("parent recorded {} events, want 2", events.len()));
        }
        Ok(())
    }

    /// Every file under `dir` and its bytes.
    fn tree(dir: &Path) -> Result<BTreeMap<PathBuf, Vec<u8>>, String> {
        let mut out = BTreeMap::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(d) = pending.pop() {
            for entry in std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))? {
                let path = entry.map_err(|e| e.to_string())?.path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
                    out.insert(path, bytes);
                }
            }
        }
        Ok(out)
    }

    fn a_store_backed_keyring_only_reads_and_decrypts_in_a_child() -> Outcome {
        let dir = std::env::temp_dir().join(format!("keyplane-fork-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let outcome = store_child_checks(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        outcome
    }

    fn store_child_checks(dir: &Path) -> Outcome {
        let root: Arc<dyn RootKey> =
            Arc::new(LocalRootKey::new("fork-root", &[9; 32]).map_err(|e| e.to_string())?);
        let store = Store::open(dir).map_err(|e| format!("open: {e}"))?;
        let (ring, problems) = Keyring::builder()
            .open(store, root)
            .map_err(|e| format!("open: {e}"))?;
        if !problems.is_empty() {
            return Err(format!("load problems: {problems:?}"));
        }
        ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id(KEY))
            .map_err(|e| format!("create_key: {e}"))?;
        ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("other"))
            .map_err(|e| format!("create_key: {e}"))?;
        let context = EncryptionContext::new([("purpose", "fork")]).map_err(|e| e.to_string())?;
        let blob = ring
            .encrypt(KEY, b"before the fork", &context)
            .map_err(|e| format!("encrypt: {e}"))?;
        let before = tree(dir)?;

        let (bytes, ()) = fork_with(
            || {
                // Reads and decryption go on.
                let opened = ring
                    .decrypt(&blob, &context)
                    .map_err(|e| format!("child decrypt: {e}"))?;
                if opened.as_slice() != b"before the fork" {
                    return Err("child decrypted other bytes".to_owned());
                }
                ring.describe_key(KEY)
                    .map_err(|e| format!("child describe_key: {e}"))?;
                // Everything that writes to the store, or spends from the count it records,
                // is refused with a storage error that says what to do.
                let refused: Vec<(&str, keyplane::Result<()>)> = vec![
                    (
                        "create_key",
                        ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("new"))
                            .map(drop),
                    ),
                    ("rotate_key", ring.rotate_key(KEY).map(drop)),
                    ("disable_key", ring.disable_key(KEY)),
                    ("create_alias", ring.create_alias("alias/child", KEY)),
                    (
                        "schedule_key_deletion",
                        ring.schedule_key_deletion(
                            "other",
                            PendingWindow::days(7).map_err(|e| e.to_string())?,
                        )
                        .map(drop),
                    ),
                    ("encrypt", ring.encrypt(KEY, b"child", &context).map(drop)),
                ];
                for (what, answer) in &refused {
                    match answer {
                        Err(Error::Storage(message)) if message.contains("after fork") => {}
                        other => return Err(format!("child {what}: {other:?}")),
                    }
                }
                // Nothing changed in the child's memory either.
                if ring.list_keys() != [KEY.to_owned(), "other".to_owned()] {
                    return Err(format!("child keys: {:?}", ring.list_keys()));
                }
                let meta = ring.describe_key(KEY).map_err(|e| e.to_string())?;
                if meta.key_state != keyplane::KeyState::Enabled || meta.current_version != 1 {
                    return Err(format!("child sees {meta:?}"));
                }
                Ok(b"ok".to_vec())
            },
            || Ok(()),
        )?;
        if bytes != b"ok" {
            return Err("child did not report".to_owned());
        }
        if tree(dir)? != before {
            return Err("the child changed the store".to_owned());
        }
        // The parent still writes.
        ring.rotate_key(KEY)
            .map_err(|e| format!("parent rotate: {e}"))?;
        ring.encrypt(KEY, b"after", &context)
            .map_err(|e| format!("parent encrypt: {e}"))?;
        Ok(())
    }

    /// How long a child gets before it counts as hung (it does a few microseconds of work).
    const CHILD_DEADLINE: Duration = Duration::from_secs(20);
    const FORKS: usize = 200;

    /// Waits for `pid` until `deadline`; kills and reaps it if it has not exited by then.
    fn wait_or_kill(pid: libc::pid_t, deadline: Duration) -> Result<libc::c_int, String> {
        let start = Instant::now();
        let mut nap = Duration::from_micros(50);
        loop {
            let mut status = 0;
            // SAFETY: `pid` is our child, not yet reaped; `status` is a valid, writable c_int.
            let rc = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            if rc == pid {
                return Ok(status);
            }
            if rc < 0 {
                let err = io::Error::last_os_error();
                if err.kind() != io::ErrorKind::Interrupted {
                    return Err(format!("waitpid: {err}"));
                }
            }
            if start.elapsed() > deadline {
                // SAFETY: kill(2) on our own unreaped child; then reap it (blocking is fine:
                // SIGKILL cannot be ignored).
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, &mut status, 0);
                }
                return Err(format!("child hung for {deadline:?} and was killed"));
            }
            thread::sleep(nap);
            nap = (nap * 2).min(Duration::from_millis(20));
        }
    }

    /// A thread creates keys, rotates one, and encrypts under it with a budget of two (so
    /// encryptions rotate it too), while this thread forks. Each child uses the same keyring's
    /// locks (creating a key takes the maps, encrypting under the hot key rotates it) and exits.
    /// Before the fork gate, a child forked while the other thread held one of those locks
    /// waited forever.
    fn forks_while_another_thread_changes_keys_never_hang() -> Outcome {
        let ring = Keyring::builder()
            .encryption_budget(NonZeroU64::new(2).ok_or("budget")?)
            .build();
        ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id(KEY))
            .map_err(|e| format!("create_key: {e}"))?;
        let context = EncryptionContext::new([("purpose", "fork")]).map_err(|e| e.to_string())?;
        let (worker_ring, worker_context) = (ring.clone(), context.clone());
        forks_beside(&ring, &context, move |i| {
            let id = format!("made-{i}");
            worker_ring
                .create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id(&*id))
                .map_err(|e| format!("worker create_key: {e}"))?;
            worker_ring
                .rotate_key(KEY)
                .map_err(|e| format!("worker rotate_key: {e}"))?;
            for _ in 0..3 {
                worker_ring
                    .encrypt(KEY, b"worker", &worker_context)
                    .map_err(|e| format!("worker encrypt: {e}"))?;
            }
            worker_ring
                .create_alias(&format!("alias/{id}"), &id)
                .map_err(|e| format!("worker create_alias: {e}"))?;
            Ok(())
        })
    }

    /// aws-lc's random generator and RSA keys take locks of their own: a fork while another
    /// thread holds one must not leave it held in the child, which draws randomness at once.
    fn forks_while_another_thread_draws_randomness_never_hang() -> Outcome {
        let ring = Keyring::new();
        ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id(KEY))
            .map_err(|e| format!("create_key: {e}"))?;
        let signer = ring
            .create_key(&CreateKey::new(KeySpec::Rsa2048).usage(KeyUsage::SignVerify))
            .map_err(|e| format!("create_key: {e}"))?
            .key_id;
        let context = EncryptionContext::new([("purpose", "fork")]).map_err(|e| e.to_string())?;
        let worker_ring = ring.clone();
        forks_beside(&ring, &context, move |_| {
            // Small draws: most of the time goes to the generator's bookkeeping and locks.
            for _ in 0..256 {
                worker_ring
                    .generate_random(1)
                    .map_err(|e| format!("worker generate_random: {e}"))?;
            }
            let pss = SigningAlgorithm::RsassaPssSha256;
            worker_ring
                .sign(&signer, b"worker", MessageType::Raw, pss)
                .map_err(|e| format!("worker sign: {e}"))?;
            Ok(())
        })
    }

    /// Runs `round` (given its number) in a loop on another thread while this one forks
    /// [`FORKS`] times; stops the worker and reports the first failure of either.
    fn forks_beside(
        ring: &Keyring,
        context: &EncryptionContext,
        mut round: impl FnMut(u64) -> Outcome + Send + 'static,
    ) -> Outcome {
        let stop = Arc::new(AtomicBool::new(false));
        let rounds = Arc::new(AtomicU64::new(0));
        let worker = {
            let (stop, rounds) = (stop.clone(), rounds.clone());
            thread::spawn(move || -> Outcome {
                let mut i = 0u64;
                while !stop.load(Ordering::Acquire) {
                    round(i)?;
                    i += 1;
                    rounds.store(i, Ordering::Release);
                }
                Ok(())
            })
        };
        let forked = fork_loop(ring, context, &rounds);
        stop.store(true, Ordering::Release);
        let worked = worker
            .join()
            .unwrap_or_else(|_| Err("worker panicked".to_owned()));
        forked?;
        worked
    }

    fn fork_loop(ring: &Keyring, context: &EncryptionContext, rounds: &AtomicU64) -> Outcome {
        // The worker must be busy before the first fork, or the test proves nothing.
        let start = Instant::now();
        while rounds.load(Ordering::Acquire) == 0 {
            if start.elapsed() > CHILD_DEADLINE {
                return Err("the worker thread never completed a round".to_owned());
            }
            thread::yield_now();
        }
        for n in 0..FORKS {
            io::stdout().flush().map_err(|e| e.to_string())?;
            // SAFETY: the child runs only Keyplane (whose locks the fork gate keeps free) and
            // the allocator (which glibc makes fork-safe), then `_exit`s.
            let pid = unsafe { libc::fork() };
            if pid < 0 {
                return Err(format!("fork: {}", io::Error::last_os_error()));
            }
            if pid == 0 {
                let ok = (|| -> keyplane::Result<bool> {
                    ring.create_key(
                        &CreateKey::new(KeySpec::SymmetricDefault).key_id("made-in-the-child"),
                    )?;
                    let blob = ring.encrypt(KEY, b"child", context)?;
                    Ok(ring.decrypt(&blob, context)?.as_slice() == b"child")
                })();
                let code = match ok {
                    Ok(true) => 0,
                    Ok(false) => 1,
                    Err(_) => 2,
                };
                // SAFETY: ends the child at once, running none of the parent's handlers.
                unsafe { libc::_exit(code) }
            }
            let status = wait_or_kill(pid, CHILD_DEADLINE).map_err(|e| format!("fork {n}: {e}"))?;
            if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
                return Err(format!(
                    "fork {n}: child ended with wait status {status:#x}"
                ));
            }
        }
        Ok(())
    }
}
