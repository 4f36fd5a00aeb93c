//! The batch pool starts the threads it is asked for and no more. In a binary of its own,
//! because it counts the process's threads by name.

use std::sync::Arc;

use keyplane::{CreateKey, EncryptRequest, EncryptionContext, KeySpec, Keyring};

fn ring_with_key(builder: keyplane::KeyringBuilder) -> Keyring {
    let ring = builder.build();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("sym-a"))
        .unwrap();
    ring
}

/// Names of this process's threads (Linux).
#[cfg(target_os = "linux")]
fn batch_threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with(prefix))
        .count()
}

#[test]
#[cfg(target_os = "linux")]
fn the_pool_size_is_honoured() {
    // A given pool is used as it is: a 1-thread pool gets no second thread.
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .thread_name(|i| format!("kp-given-{i}"))
            .build()
            .unwrap(),
    );
    let ring = ring_with_key(Keyring::builder().thread_pool(pool));
    let plaintexts = vec![vec![7u8; 64]; 20_000];
    let requests: Vec<_> = plaintexts
        .iter()
        .map(|p| EncryptRequest {
            key_id: "sym-a",
            plaintext: p,
            context: EncryptionContext::empty(),
        })
        .collect();
    assert!(
        ring.encrypt_many(&requests)
            .unwrap()
            .iter()
            .all(Result::is_ok)
    );
    assert_eq!(batch_threads_named("kp-given-"), 1);

    // The keyring's own pool starts exactly the threads asked for, at the first batch. (Thread
    // names are shared by every keyring's own pool, so one test owns them all.)
    let before = batch_threads_named("keyplane-batch");
    let ring = ring_with_key(Keyring::builder().threads(3).unwrap());
    assert_eq!(
        batch_threads_named("keyplane-batch"),
        before,
        "no threads before a batch"
    );
    assert!(
        ring.encrypt_many(&requests)
            .unwrap()
            .iter()
            .all(Result::is_ok)
    );
    assert_eq!(batch_threads_named("keyplane-batch"), before + 3);
    // One thread: the calling thread is it, and no pool thread starts.
    let single = ring_with_key(Keyring::builder().threads(1).unwrap());
    assert!(
        single
            .encrypt_many(&requests)
            .unwrap()
            .iter()
            .all(Result::is_ok)
    );
    assert_eq!(batch_threads_named("keyplane-batch"), before + 3);
}

#[test]
fn a_pool_larger_than_the_bound_is_refused_before_any_thread_starts() {
    let max = keyplane::batch::MAX_THREADS;
    assert!(Keyring::builder().threads(max).is_ok());
    for threads in [max + 1, 1 << 20, usize::MAX] {
        let error = Keyring::builder().threads(threads).unwrap_err();
        assert_eq!(error.code(), "KP_INVALID_INPUT", "{threads}");
    }
}
