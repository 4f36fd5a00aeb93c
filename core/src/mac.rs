//! HMAC keys: `generate_mac` and `verify_mac`.

use aws_lc_rs::hmac;

use crate::audit::Operation;
use crate::error::{Error, Result};
use crate::key::Key;
use crate::keyring::Keyring;
use crate::material::Material;
use crate::spec::{KeyUsage, MacAlgorithm};

/// The longest MAC any key produces (HMAC-SHA-512).
pub const MAX_MAC_LEN: usize = 64;

impl MacAlgorithm {
    /// The MAC's length in bytes.
    #[must_use]
    pub const fn mac_len(self) -> usize {
        match self {
            Self::HmacSha224 => 28,
            Self::HmacSha256 => 32,
            Self::HmacSha384 => 48,
            Self::HmacSha512 => 64,
        }
    }
}

/// The HMAC key of `key`, if `algorithm` is the one its spec allows.
fn hmac_key(key: &Key, algorithm: MacAlgorithm) -> Result<&hmac::Key> {
    if key.spec.mac_algorithm() != Some(algorithm) {
        return Err(Error::InvalidKeyUsage);
    }
    match key.versions.current().map(|v| &v.material) {
        Some(Material::Hmac { key, .. }) => Ok(key),
        _ => Err(Error::InvalidKeyUsage),
    }
}

impl Keyring {
    /// The MAC length of `key_id`'s algorithm.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::InvalidKeyUsage`] for a key that is not an HMAC key.
    pub fn mac_len(&self, key_id: &str) -> Result<usize> {
        let key = self.resolve(key_id)?;
        key.spec
            .mac_algorithm()
            .map(MacAlgorithm::mac_len)
            .ok_or(Error::InvalidKeyUsage)
    }

    /// Writes the MAC of `message` into `out` and returns its length. Allocates nothing.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::InvalidKeyUsage`] unless the key is an HMAC key whose spec
    /// matches `algorithm`; [`Error::KeyDisabled`], [`Error::InvalidKeyState`];
    /// [`Error::BufferTooSmall`].
    pub fn generate_mac_into(
        &self,
        key_id: &str,
        message: &[u8],
        algorithm: MacAlgorithm,
        out: &mut [u8],
    ) -> Result<usize> {
        self.audited(Operation::GenerateMac, Some(key_id), None, || {
            let key = self.usable(key_id, KeyUsage::GenerateVerifyMac)?;
            let hmac_key = hmac_key(&key, algorithm)?;
            let needed = algorithm.mac_len();
            let out = out
                .get_mut(..needed)
                .ok_or(Error::BufferTooSmall { needed })?;
            out.copy_from_slice(hmac::sign(hmac_key, message).as_ref());
            Ok(needed)
        })
    }

    /// The MAC of `message`.
    ///
    /// # Errors
    /// As [`generate_mac_into`](Self::generate_mac_into), without the buffer error.
    pub fn generate_mac(
        &self,
        key_id: &str,
        message: &[u8],
        algorithm: MacAlgorithm,
    ) -> Result<Vec<u8>> {
        self.audited(Operation::GenerateMac, Some(key_id), None, || {
            let mut out = vec![0; algorithm.mac_len()];
            self.generate_mac_into(key_id, message, algorithm, &mut out)?;
            Ok(out)
        })
    }

    /// Whether `mac` is the MAC of `message`: `Ok(false)` for any mismatch (including a wrong
    /// length). The comparison is aws-lc's constant-time one. Allocates nothing.
    ///
    /// # Errors
    /// As [`generate_mac_into`](Self::generate_mac_into), without the buffer error.
    pub fn verify_mac(
        &self,
        key_id: &str,
        message: &[u8],
        algorithm: MacAlgorithm,
        mac: &[u8],
    ) -> Result<bool> {
        self.audited(Operation::VerifyMac, Some(key_id), None, || {
            let key = self.usable(key_id, KeyUsage::GenerateVerifyMac)?;
            let hmac_key = hmac_key(&key, algorithm)?;
            Ok(hmac::verify(hmac_key, message, mac).is_ok())
        })
    }
}
