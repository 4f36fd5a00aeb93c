//! Key specs, usages, states and policies, named as AWS KMS names them.

use core::fmt;
use core::str::FromStr;
use std::time::Duration;

use crate::error::{Error, Result};

macro_rules! kms_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $s:literal,)* }) => {
        $(#[$meta])*
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)*];

            /// The AWS KMS name (for example `"SYMMETRIC_DEFAULT"`).
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $s,)* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($s => Ok(Self::$variant),)*
                    _ => Err(Error::InvalidInput(concat!("unknown ", stringify!($name)))),
                }
            }
        }
    };
}

kms_enum! {
    /// The type of key material a key holds.
    KeySpec {
        /// AES-256-GCM with per-version HKDF-derived keys.
        SymmetricDefault => "SYMMETRIC_DEFAULT",
        /// HMAC with SHA-224.
        Hmac224 => "HMAC_224",
        /// HMAC with SHA-256.
        Hmac256 => "HMAC_256",
        /// HMAC with SHA-384.
        Hmac384 => "HMAC_384",
        /// HMAC with SHA-512.
        Hmac512 => "HMAC_512",
        /// RSA, 2048-bit modulus.
        Rsa2048 => "RSA_2048",
        /// RSA, 3072-bit modulus.
        Rsa3072 => "RSA_3072",
        /// RSA, 4096-bit modulus.
        Rsa4096 => "RSA_4096",
        /// ECDSA on NIST P-256.
        EccNistP256 => "ECC_NIST_P256",
        /// ECDSA on NIST P-384.
        EccNistP384 => "ECC_NIST_P384",
        /// ECDSA on NIST P-521.
        EccNistP521 => "ECC_NIST_P521",
        /// ECDSA on secp256k1.
        EccSecgP256k1 => "ECC_SECG_P256K1",
    }
}

kms_enum! {
    /// What a key may be used for.
    KeyUsage {
        /// Encrypt and decrypt (symmetric and RSA keys).
        EncryptDecrypt => "ENCRYPT_DECRYPT",
        /// Sign and verify (RSA and ECC keys).
        SignVerify => "SIGN_VERIFY",
        /// Generate and verify MACs (HMAC keys).
        GenerateVerifyMac => "GENERATE_VERIFY_MAC",
        /// Derive shared secrets (ECC keys).
        KeyAgreement => "KEY_AGREEMENT",
    }
}

kms_enum! {
    /// The life-cycle state of a key.
    KeyState {
        /// Usable for every operation its usage allows.
        Enabled => "Enabled",
        /// Not usable until enabled again.
        Disabled => "Disabled",
        /// Scheduled for deletion; not usable; deletion can be cancelled.
        PendingDeletion => "PendingDeletion",
        /// Created for imported key material that has not arrived (or has expired).
        PendingImport => "PendingImport",
    }
}

kms_enum! {
    /// Where a key's material came from.
    Origin {
        /// Generated inside Keyplane from the system random number generator.
        Keyplane => "KEYPLANE",
        /// Imported by the caller.
        External => "EXTERNAL",
    }
}

kms_enum! {
    /// Encryption algorithms.
    EncryptionAlgorithm {
        /// AES-256-GCM under a per-version HKDF-SHA256-derived key (Keyplane's blob format).
        SymmetricDefault => "SYMMETRIC_DEFAULT",
        /// RSA-OAEP with SHA-1 and MGF1-SHA-1 (for interoperability; prefer SHA-256).
        RsaesOaepSha1 => "RSAES_OAEP_SHA_1",
        /// RSA-OAEP with SHA-256 and MGF1-SHA-256.
        RsaesOaepSha256 => "RSAES_OAEP_SHA_256",
    }
}

kms_enum! {
    /// Signing algorithms.
    SigningAlgorithm {
        /// ECDSA with SHA-256; DER-encoded signature.
        EcdsaSha256 => "ECDSA_SHA_256",
        /// ECDSA with SHA-384; DER-encoded signature.
        EcdsaSha384 => "ECDSA_SHA_384",
        /// ECDSA with SHA-512; DER-encoded signature.
        EcdsaSha512 => "ECDSA_SHA_512",
        /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt.
        RsassaPssSha256 => "RSASSA_PSS_SHA_256",
        /// RSASSA-PSS with SHA-384, MGF1-SHA-384 and a 48-byte salt.
        RsassaPssSha384 => "RSASSA_PSS_SHA_384",
        /// RSASSA-PSS with SHA-512, MGF1-SHA-512 and a 64-byte salt.
        RsassaPssSha512 => "RSASSA_PSS_SHA_512",
        /// RSASSA-PKCS1-v1_5 with SHA-256.
        RsassaPkcs1V15Sha256 => "RSASSA_PKCS1_V1_5_SHA_256",
        /// RSASSA-PKCS1-v1_5 with SHA-384.
        RsassaPkcs1V15Sha384 => "RSASSA_PKCS1_V1_5_SHA_384",
        /// RSASSA-PKCS1-v1_5 with SHA-512.
        RsassaPkcs1V15Sha512 => "RSASSA_PKCS1_V1_5_SHA_512",
    }
}

kms_enum! {
    /// MAC algorithms.
    MacAlgorithm {
        /// HMAC with SHA-224.
        HmacSha224 => "HMAC_SHA_224",
        /// HMAC with SHA-256.
        HmacSha256 => "HMAC_SHA_256",
        /// HMAC with SHA-384.
        HmacSha384 => "HMAC_SHA_384",
        /// HMAC with SHA-512.
        HmacSha512 => "HMAC_SHA_512",
    }
}

kms_enum! {
    /// What a message given to `sign` / `verify` is.
    MessageType {
        /// The message itself; Keyplane hashes it with the algorithm's digest.
        Raw => "RAW",
        /// The caller's digest of the message; its length must be the algorithm's digest length.
        Digest => "DIGEST",
    }
}

kms_enum! {
    /// The kind of key pair `generate_data_key_pair` makes.
    DataKeyPairSpec {
        /// RSA, 2048-bit modulus.
        Rsa2048 => "RSA_2048",
        /// RSA, 3072-bit modulus.
        Rsa3072 => "RSA_3072",
        /// RSA, 4096-bit modulus.
        Rsa4096 => "RSA_4096",
        /// NIST P-256.
        EccNistP256 => "ECC_NIST_P256",
        /// NIST P-384.
        EccNistP384 => "ECC_NIST_P384",
        /// NIST P-521.
        EccNistP521 => "ECC_NIST_P521",
        /// secp256k1.
        EccSecgP256k1 => "ECC_SECG_P256K1",
    }
}

impl DataKeyPairSpec {
    /// The key spec of the same key type.
    #[must_use]
    pub const fn key_spec(self) -> KeySpec {
        match self {
            Self::Rsa2048 => KeySpec::Rsa2048,
            Self::Rsa3072 => KeySpec::Rsa3072,
            Self::Rsa4096 => KeySpec::Rsa4096,
            Self::EccNistP256 => KeySpec::EccNistP256,
            Self::EccNistP384 => KeySpec::EccNistP384,
            Self::EccNistP521 => KeySpec::EccNistP521,
            Self::EccSecgP256k1 => KeySpec::EccSecgP256k1,
        }
    }
}

impl KeySpec {
    /// The key usages this spec may be created with; the first is the default.
    #[must_use]
    pub const fn allowed_usages(self) -> &'static [KeyUsage] {
        match self {
            Self::SymmetricDefault => &[KeyUsage::EncryptDecrypt],
            Self::Hmac224 | Self::Hmac256 | Self::Hmac384 | Self::Hmac512 => {
                &[KeyUsage::GenerateVerifyMac]
            }
            Self::Rsa2048 | Self::Rsa3072 | Self::Rsa4096 => {
                &[KeyUsage::EncryptDecrypt, KeyUsage::SignVerify]
            }
            Self::EccNistP256 | Self::EccNistP384 | Self::EccNistP521 => {
                &[KeyUsage::SignVerify, KeyUsage::KeyAgreement]
            }
            Self::EccSecgP256k1 => &[KeyUsage::SignVerify],
        }
    }

    /// The signing algorithms a key of this spec allows (as AWS KMS allows them), or none.
    #[must_use]
    pub const fn signing_algorithms(self) -> &'static [SigningAlgorithm] {
        use SigningAlgorithm as S;
        match self {
            Self::EccNistP256 | Self::EccSecgP256k1 => &[S::EcdsaSha256],
            Self::EccNistP384 => &[S::EcdsaSha384],
            Self::EccNistP521 => &[S::EcdsaSha512],
            Self::Rsa2048 | Self::Rsa3072 | Self::Rsa4096 => &[
                S::RsassaPssSha256,
                S::RsassaPssSha384,
                S::RsassaPssSha512,
                S::RsassaPkcs1V15Sha256,
                S::RsassaPkcs1V15Sha384,
                S::RsassaPkcs1V15Sha512,
            ],
            _ => &[],
        }
    }

    /// The encryption algorithms a key of this spec allows with `usage`, or none.
    #[must_use]
    pub const fn encryption_algorithms(self, usage: KeyUsage) -> &'static [EncryptionAlgorithm] {
        match (self, usage) {
            (Self::SymmetricDefault, KeyUsage::EncryptDecrypt) => {
                &[EncryptionAlgorithm::SymmetricDefault]
            }
            (Self::Rsa2048 | Self::Rsa3072 | Self::Rsa4096, KeyUsage::EncryptDecrypt) => &[
                EncryptionAlgorithm::RsaesOaepSha1,
                EncryptionAlgorithm::RsaesOaepSha256,
            ],
            _ => &[],
        }
    }

    /// The MAC algorithm of an HMAC spec, or `None`.
    #[must_use]
    pub const fn mac_algorithm(self) -> Option<MacAlgorithm> {
        match self {
            Self::Hmac224 => Some(MacAlgorithm::HmacSha224),
            Self::Hmac256 => Some(MacAlgorithm::HmacSha256),
            Self::Hmac384 => Some(MacAlgorithm::HmacSha384),
            Self::Hmac512 => Some(MacAlgorithm::HmacSha512),
            _ => None,
        }
    }

    /// The usage a key of this spec gets when the caller names none. `None` when the caller must
    /// choose (RSA keys can encrypt or sign, as in AWS KMS).
    #[must_use]
    pub const fn default_usage(self) -> Option<KeyUsage> {
        match self {
            Self::Rsa2048 | Self::Rsa3072 | Self::Rsa4096 => None,
            Self::SymmetricDefault => Some(KeyUsage::EncryptDecrypt),
            Self::Hmac224 | Self::Hmac256 | Self::Hmac384 | Self::Hmac512 => {
                Some(KeyUsage::GenerateVerifyMac)
            }
            Self::EccNistP256 | Self::EccNistP384 | Self::EccNistP521 | Self::EccSecgP256k1 => {
                Some(KeyUsage::SignVerify)
            }
        }
    }
}

/// How often a symmetric key rotates by itself.
///
/// Rotation is lazy: when a period has passed, the next encryption under the key first appends a
/// new version. No background thread runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPeriod(Duration);

impl RotationPeriod {
    const DAY: u64 = 24 * 60 * 60;

    /// A period in days, within AWS KMS's bounds (90 to 2560 days).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] outside 90..=2560.
    pub fn days(days: u32) -> Result<Self> {
        if !(90..=2560).contains(&days) {
            return Err(Error::InvalidInput(
                "rotation period must be 90 to 2560 days",
            ));
        }
        Ok(Self(Duration::from_secs(u64::from(days) * Self::DAY)))
    }

    /// Any non-zero period, without AWS KMS's bounds: for tests and for control planes with a
    /// policy of their own.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a zero duration.
    pub fn custom(period: Duration) -> Result<Self> {
        if period.is_zero() {
            return Err(Error::InvalidInput("rotation period must not be zero"));
        }
        Ok(Self(period))
    }

    /// The period.
    #[must_use]
    pub const fn as_duration(self) -> Duration {
        self.0
    }
}

/// How long a key stays in `PendingDeletion` before it is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingWindow(Duration);

impl PendingWindow {
    /// A window in days, within AWS KMS's bounds (7 to 30 days).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] outside 7..=30.
    pub fn days(days: u32) -> Result<Self> {
        if !(7..=30).contains(&days) {
            return Err(Error::InvalidInput("pending window must be 7 to 30 days"));
        }
        Ok(Self(Duration::from_secs(
            u64::from(days) * RotationPeriod::DAY,
        )))
    }

    /// Any window, without AWS KMS's bounds (zero deletes at the next look-up): for tests.
    #[must_use]
    pub const fn custom(window: Duration) -> Self {
        Self(window)
    }

    /// The window.
    #[must_use]
    pub const fn as_duration(self) -> Duration {
        self.0
    }
}

impl Default for PendingWindow {
    /// 30 days, as in AWS KMS.
    fn default() -> Self {
        Self(Duration::from_secs(30 * RotationPeriod::DAY))
    }
}

kms_enum! {
    /// How key material is wrapped for import (AWS KMS's `WrappingAlgorithm`).
    WrappingAlgorithm {
        /// RSA-OAEP with SHA-1 of the material itself (symmetric and HMAC material only).
        RsaesOaepSha1 => "RSAES_OAEP_SHA_1",
        /// RSA-OAEP with SHA-256 of the material itself (symmetric and HMAC material only).
        RsaesOaepSha256 => "RSAES_OAEP_SHA_256",
        /// RSA-OAEP (SHA-1) of a fresh AES-256 key, followed by the material wrapped with that
        /// key by AES key wrap with padding (RFC 5649). Any material, RSA private keys included.
        RsaAesKeyWrapSha1 => "RSA_AES_KEY_WRAP_SHA_1",
        /// As `RSA_AES_KEY_WRAP_SHA_1`, with SHA-256 for OAEP.
        RsaAesKeyWrapSha256 => "RSA_AES_KEY_WRAP_SHA_256",
    }
}

kms_enum! {
    /// The size of the RSA key that wraps material for import.
    WrappingKeySpec {
        /// RSA with a 2048-bit modulus.
        Rsa2048 => "RSA_2048",
        /// RSA with a 3072-bit modulus.
        Rsa3072 => "RSA_3072",
        /// RSA with a 4096-bit modulus.
        Rsa4096 => "RSA_4096",
    }
}
