//! A key's versions: append-only, read without locks or reference counting.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::SystemTime;

use crate::aead::VersionKey;
use crate::material::Material;

/// Versions per key: 2^20 - 1, far beyond any rotation schedule (a daily rotation for 2800 years).
pub(crate) const MAX_VERSIONS: u32 = (1 << SEGMENTS) - 1;
const SEGMENTS: usize = 20;

pub(crate) struct Version {
    pub(crate) number: u32,
    pub(crate) creation_date: SystemTime,
    pub(crate) material: Material,
    /// Encryptions (nonces drawn) under this version by this keyring instance.
    pub(crate) encryptions: AtomicU64,
    /// In a store-backed keyring, the encryption count the store's record allows: an
    /// encryption counted above it is acknowledged only after a new reservation is written.
    pub(crate) reserved: AtomicU64,
    /// The count when this keyring loaded the version from a store (0 for a version it made):
    /// a store-backed keyring reserves in proportion to what it has counted since.
    pub(crate) counted_from: u64,
}

impl Version {
    pub(crate) fn new(number: u32, material: Material) -> Self {
        Self {
            number,
            creation_date: SystemTime::now(),
            material,
            encryptions: AtomicU64::new(0),
            reserved: AtomicU64::new(0),
            counted_from: 0,
        }
    }

    /// The AES-256-GCM key of a symmetric version.
    pub(crate) fn aead(&self) -> Option<&VersionKey> {
        match &self.material {
            Material::Symmetric { aead, .. } => Some(aead),
            _ => None,
        }
    }
}

/// Segment `s` holds versions `2^s ..= 2^(s+1) - 1` and is allocated when its first version is
/// added. A slot is written once and never moved or freed before the key, so readers borrow
/// versions straight from the key: the encryption hot path takes no lock and bumps no
/// reference count to find its version.
pub(crate) struct VersionTable {
    segments: [OnceLock<Box<[OnceLock<Version>]>>; SEGMENTS],
    current: AtomicU32,
}

impl VersionTable {
    pub(crate) fn new() -> Self {
        Self {
            segments: std::array::from_fn(|_| OnceLock::new()),
            current: AtomicU32::new(0),
        }
    }

    fn locate(number: u32) -> Option<(usize, usize)> {
        if number == 0 || number > MAX_VERSIONS {
            return None;
        }
        let segment = number.ilog2();
        let offset = number - (1 << segment);
        Some((
            usize::try_from(segment).ok()?,
            usize::try_from(offset).ok()?,
        ))
    }

    /// The newest version number (0 before the first version).
    pub(crate) fn current_number(&self) -> u32 {
        self.current.load(Ordering::Acquire)
    }

    /// The newest version.
    pub(crate) fn current(&self) -> Option<&Version> {
        self.get(self.current_number())
    }

    /// Version `number`, if it exists.
    pub(crate) fn get(&self, number: u32) -> Option<&Version> {
        if number > self.current_number() {
            return None;
        }
        let (segment, offset) = Self::locate(number)?;
        self.segments[segment].get()?.get(offset)?.get()
    }

    /// Every version, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Version> {
        (1..=self.current_number()).filter_map(|n| self.get(n))
    }

    /// The number the next [`push`](Self::push) will use, or `None` when the table is full.
    pub(crate) fn next_number(&self) -> Option<u32> {
        self.current_number()
            .checked_add(1)
            .filter(|&n| n <= MAX_VERSIONS)
    }

    /// Appends `version`, whose number must be [`next_number`](Self::next_number). Callers
    /// serialize pushes (the key's write lock). Returns `false` if the number is wrong.
    pub(crate) fn push(&self, version: Version) -> bool {
        let number = version.number;
        let Some((segment, offset)) = Self::locate(number) else {
            return false;
        };
        if Some(number) != self.next_number() {
            return false;
        }
        let slots = self.segments[segment]
            .get_or_init(|| (0..(1usize << segment)).map(|_| OnceLock::new()).collect());
        if slots[offset].set(version).is_err() {
            return false;
        }
        // Publish only once the slot is filled.
        self.current.store(number, Ordering::Release);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::spec::{KeySpec, KeyUsage};

    fn version(n: u32) -> Version {
        let root = [u8::try_from(n % 256).unwrap(); 32];
        let m = Material::from_bytes(
            KeySpec::SymmetricDefault,
            KeyUsage::EncryptDecrypt,
            &root,
            "k",
            n,
        );
        Version::new(n, m.unwrap())
    }

    #[test]
    fn push_and_get_across_segments() {
        let t = VersionTable::new();
        assert!(t.current().is_none());
        assert!(t.get(0).is_none() && t.get(1).is_none());
        for n in 1..=300 {
            assert_eq!(t.next_number(), Some(n));
            assert!(t.push(version(n)));
        }
        assert_eq!(t.current_number(), 300);
        for n in 1..=300 {
            assert_eq!(t.get(n).unwrap().number, n);
        }
        assert!(t.get(301).is_none());
        assert_eq!(t.iter().count(), 300);
        assert!(!t.push(version(302)), "out-of-order push refused");
        assert!(!t.push(version(300)), "duplicate push refused");
    }

    #[test]
    fn locate_is_exact_at_segment_edges() {
        assert_eq!(VersionTable::locate(1), Some((0, 0)));
        assert_eq!(VersionTable::locate(2), Some((1, 0)));
        assert_eq!(VersionTable::locate(3), Some((1, 1)));
        assert_eq!(VersionTable::locate(4), Some((2, 0)));
        assert_eq!(
            VersionTable::locate(MAX_VERSIONS),
            Some((SEGMENTS - 1, (1 << (SEGMENTS - 1)) - 1))
        );
        assert_eq!(VersionTable::locate(MAX_VERSIONS + 1), None);
        assert_eq!(VersionTable::locate(0), None);
    }
}
