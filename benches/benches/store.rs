//! The embedded store: keys created and persisted per second (each creation is a durable
//! write: temp file, fsync, rename, directory fsync), rotations per second, and the time to
//! open a store of 10,000 keys.
//!
//! Run with `cargo bench -p keyplane-benches --bench store` (the store lives in a temporary
//! directory on the file system of `$TMPDIR`; its fsync speed decides the first two rows).
//! `--test` runs a few of each, to check the bench works.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use keyplane::{CreateKey, KeySpec, Keyring, LocalRootKey, RootKey, Store};
use keyplane_benches::quick_mode;

const COMMAND: &str = "cargo bench -p keyplane-benches --bench store";

fn root() -> Arc<dyn RootKey> {
    Arc::new(LocalRootKey::new("bench", &[9; 32]).expect("root key"))
}

fn temp_store(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keyplane-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn open(dir: &PathBuf) -> Keyring {
    let (ring, problems) = Keyring::builder()
        .open(Store::open(dir).expect("store"), root())
        .expect("open");
    assert!(problems.is_empty(), "{problems:?}");
    ring
}

fn per_second(n: usize, took: Duration) -> f64 {
    f64::from(u32::try_from(n).unwrap_or(u32::MAX)) / took.as_secs_f64()
}

fn main() {
    let (writes, stored) = if quick_mode() {
        (20, 200)
    } else {
        (1000, 10_000)
    };

    let dir = temp_store("writes");
    let ring = open(&dir);
    let start = Instant::now();
    for i in 0..writes {
        ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id(format!("k{i}")))
            .expect("create");
    }
    let creates = start.elapsed();
    let start = Instant::now();
    for i in 0..writes {
        ring.rotate_key(&format!("k{i}")).expect("rotate");
    }
    let rotations = start.elapsed();
    drop(ring);
    std::fs::remove_dir_all(&dir).expect("clean up");

    // A store of `stored` keys, written once, then opened.
    let dir = temp_store("load");
    {
        let ring = open(&dir);
        for i in 0..stored {
            ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id(format!("k{i}")))
                .expect("create");
        }
    }
    let start = Instant::now();
    let ring = open(&dir);
    let load = start.elapsed();
    assert_eq!(ring.list_keys().len(), stored);
    drop(ring);
    std::fs::remove_dir_all(&dir).expect("clean up");

    println!();
    println!("| store operation | result |");
    println!("|---|---|");
    println!(
        "| create SYMMETRIC_DEFAULT key, persisted ({writes} keys) | {:.0} keys/s ({:.2} ms each) |",
        per_second(writes, creates),
        creates.as_secs_f64() * 1e3 / f64::from(u32::try_from(writes).unwrap_or(1))
    );
    println!(
        "| rotate key, persisted ({writes} rotations) | {:.0} rotations/s |",
        per_second(writes, rotations)
    );
    println!(
        "| open a store of {stored} keys | {:.0} ms ({:.0} keys/s) |",
        load.as_secs_f64() * 1e3,
        per_second(stored, load)
    );
    println!();
    println!("Reproduce: `{COMMAND}`");
}
