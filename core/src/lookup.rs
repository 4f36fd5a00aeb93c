//! A per-thread cache of name-to-key look-ups.
//!
//! Resolving a key id through the keyring's map costs a hash of the id, a read lock and a
//! reference-count increment, several times an AES-GCM seal of a small message. Each thread
//! therefore remembers its last few look-ups: (keyring, generation, name) → `Weak<Key>`. A hit
//! compares the name and upgrades the weak reference; no hash, no lock.
//!
//! Staleness: the keyring bumps its generation after every change to what a name resolves to
//! (alias changes, deletions), and entries of an older generation are ignored. Entries hold
//! `Weak` references, so a cache never keeps a deleted key's material alive.

use core::cell::RefCell;
use std::sync::{Arc, Weak};

use crate::key::Key;

const SLOTS: usize = 4;
/// Longest name cached (key ids are at most 255 bytes, aliases 256).
const MAX_NAME: usize = 256;

struct Slot {
    keyring: u64,
    generation: u64,
    len: usize,
    name: [u8; MAX_NAME],
    key: Weak<Key>,
}

impl Slot {
    const EMPTY: Self = Self {
        keyring: 0,
        generation: 0,
        len: 0,
        name: [0; MAX_NAME],
        key: Weak::new(),
    };

    fn is(&self, keyring: u64, name: &[u8]) -> bool {
        self.keyring == keyring && self.name.get(..self.len) == Some(name)
    }
}

struct Cache {
    slots: [Slot; SLOTS],
    next: usize,
}

thread_local! {
    static CACHE: RefCell<Cache> = const {
        RefCell::new(Cache { slots: [Slot::EMPTY; SLOTS], next: 0 })
    };
}

/// The cached key for `name` in keyring `keyring` at `generation`, if any and still alive.
pub(crate) fn get(keyring: u64, generation: u64, name: &[u8]) -> Option<Arc<Key>> {
    CACHE
        .try_with(|cache| {
            let cache = cache.try_borrow().ok()?;
            cache
                .slots
                .iter()
                .find(|s| s.generation == generation && s.is(keyring, name))?
                .key
                .upgrade()
        })
        .ok()
        .flatten()
}

/// Remembers that `name` resolved to `key` in keyring `keyring` at `generation`.
pub(crate) fn put(keyring: u64, generation: u64, name: &str, key: &Arc<Key>) {
    let name = name.as_bytes();
    if name.len() > MAX_NAME || keyring == 0 {
        return;
    }
    let _ = CACHE.try_with(|cache| {
        let Ok(mut cache) = cache.try_borrow_mut() else {
            return;
        };
        let index = match cache.slots.iter().position(|s| s.is(keyring, name)) {
            Some(i) => i,
            None => {
                let i = cache.next;
                cache.next = (i + 1) % SLOTS;
                i
            }
        };
        let slot = &mut cache.slots[index];
        slot.keyring = keyring;
        slot.generation = generation;
        slot.len = name.len();
        slot.name[..name.len()].copy_from_slice(name);
        slot.key = Arc::downgrade(key);
    });
}
