//! Key specs, usages, states and algorithms as C integers with explicit numbers.
//!
//! Each is a `uint32_t` typedef with `#define`d values rather than a C `enum`, so that any
//! integer a C caller passes is a defined value on the Rust side: an unknown number is
//! `KP_ERR_INVALID_INPUT`, never undefined behaviour. Numbers are never reused; 0 is never a
//! valid value except where a function documents it as "the default".

use core::ffi::c_char;

use keyplane_core::{
    DataKeyPairSpec, EncryptionAlgorithm, Error, KeySpec, KeyState, KeyUsage, MacAlgorithm,
    MessageType, Origin, SigningAlgorithm, WrappingAlgorithm, WrappingKeySpec,
};

use crate::boundary::{Failure, FfiResult};

/// The type of key material (AWS KMS's `KeySpec`).
pub type kp_key_spec = u32;
/// `SYMMETRIC_DEFAULT`: AES-256-GCM with per-version HKDF-derived keys.
pub const KP_KEY_SPEC_SYMMETRIC_DEFAULT: kp_key_spec = 1;
/// `HMAC_224`.
pub const KP_KEY_SPEC_HMAC_224: kp_key_spec = 2;
/// `HMAC_256`.
pub const KP_KEY_SPEC_HMAC_256: kp_key_spec = 3;
/// `HMAC_384`.
pub const KP_KEY_SPEC_HMAC_384: kp_key_spec = 4;
/// `HMAC_512`.
pub const KP_KEY_SPEC_HMAC_512: kp_key_spec = 5;
/// `RSA_2048` (needs an explicit usage: `ENCRYPT_DECRYPT` or `SIGN_VERIFY`).
pub const KP_KEY_SPEC_RSA_2048: kp_key_spec = 6;
/// `RSA_3072`.
pub const KP_KEY_SPEC_RSA_3072: kp_key_spec = 7;
/// `RSA_4096`.
pub const KP_KEY_SPEC_RSA_4096: kp_key_spec = 8;
/// `ECC_NIST_P256` (ECDSA_SHA_256).
pub const KP_KEY_SPEC_ECC_NIST_P256: kp_key_spec = 9;
/// `ECC_NIST_P384` (ECDSA_SHA_384).
pub const KP_KEY_SPEC_ECC_NIST_P384: kp_key_spec = 10;
/// `ECC_NIST_P521` (ECDSA_SHA_512).
pub const KP_KEY_SPEC_ECC_NIST_P521: kp_key_spec = 11;
/// `ECC_SECG_P256K1` (ECDSA_SHA_256).
pub const KP_KEY_SPEC_ECC_SECG_P256K1: kp_key_spec = 12;

/// What a key may be used for (AWS KMS's `KeyUsage`).
pub type kp_key_usage = u32;
/// When creating a key: the spec's default usage (RSA keys have none and must name one).
pub const KP_KEY_USAGE_DEFAULT: kp_key_usage = 0;
/// `ENCRYPT_DECRYPT`.
pub const KP_KEY_USAGE_ENCRYPT_DECRYPT: kp_key_usage = 1;
/// `SIGN_VERIFY`.
pub const KP_KEY_USAGE_SIGN_VERIFY: kp_key_usage = 2;
/// `GENERATE_VERIFY_MAC`.
pub const KP_KEY_USAGE_GENERATE_VERIFY_MAC: kp_key_usage = 3;
/// `KEY_AGREEMENT` (refused at creation until a key-agreement operation exists).
pub const KP_KEY_USAGE_KEY_AGREEMENT: kp_key_usage = 4;

/// A key's life-cycle state.
pub type kp_key_state = u32;
/// `Enabled`.
pub const KP_KEY_STATE_ENABLED: kp_key_state = 1;
/// `Disabled`.
pub const KP_KEY_STATE_DISABLED: kp_key_state = 2;
/// `PendingDeletion`.
pub const KP_KEY_STATE_PENDING_DELETION: kp_key_state = 3;
/// `PendingImport`.
pub const KP_KEY_STATE_PENDING_IMPORT: kp_key_state = 4;

/// Where a key's material came from.
pub type kp_origin = u32;
/// `KEYPLANE`: generated inside Keyplane.
pub const KP_ORIGIN_KEYPLANE: kp_origin = 1;
/// `EXTERNAL`: imported by the caller.
pub const KP_ORIGIN_EXTERNAL: kp_origin = 2;

/// Encryption algorithms.
pub type kp_encryption_algorithm = u32;
/// `SYMMETRIC_DEFAULT` (Keyplane's blob format).
pub const KP_ENCRYPTION_ALGORITHM_SYMMETRIC_DEFAULT: kp_encryption_algorithm = 1;
/// `RSAES_OAEP_SHA_1`.
pub const KP_ENCRYPTION_ALGORITHM_RSAES_OAEP_SHA_1: kp_encryption_algorithm = 2;
/// `RSAES_OAEP_SHA_256`.
pub const KP_ENCRYPTION_ALGORITHM_RSAES_OAEP_SHA_256: kp_encryption_algorithm = 3;

/// Signing algorithms.
pub type kp_signing_algorithm = u32;
/// `ECDSA_SHA_256` (DER signature).
pub const KP_SIGNING_ALGORITHM_ECDSA_SHA_256: kp_signing_algorithm = 1;
/// `ECDSA_SHA_384`.
pub const KP_SIGNING_ALGORITHM_ECDSA_SHA_384: kp_signing_algorithm = 2;
/// `ECDSA_SHA_512`.
pub const KP_SIGNING_ALGORITHM_ECDSA_SHA_512: kp_signing_algorithm = 3;
/// `RSASSA_PSS_SHA_256`.
pub const KP_SIGNING_ALGORITHM_RSASSA_PSS_SHA_256: kp_signing_algorithm = 4;
/// `RSASSA_PSS_SHA_384`.
pub const KP_SIGNING_ALGORITHM_RSASSA_PSS_SHA_384: kp_signing_algorithm = 5;
/// `RSASSA_PSS_SHA_512`.
pub const KP_SIGNING_ALGORITHM_RSASSA_PSS_SHA_512: kp_signing_algorithm = 6;
/// `RSASSA_PKCS1_V1_5_SHA_256`.
pub const KP_SIGNING_ALGORITHM_RSASSA_PKCS1_V1_5_SHA_256: kp_signing_algorithm = 7;
/// `RSASSA_PKCS1_V1_5_SHA_384`.
pub const KP_SIGNING_ALGORITHM_RSASSA_PKCS1_V1_5_SHA_384: kp_signing_algorithm = 8;
/// `RSASSA_PKCS1_V1_5_SHA_512`.
pub const KP_SIGNING_ALGORITHM_RSASSA_PKCS1_V1_5_SHA_512: kp_signing_algorithm = 9;

/// MAC algorithms.
pub type kp_mac_algorithm = u32;
/// `HMAC_SHA_224`.
pub const KP_MAC_ALGORITHM_HMAC_SHA_224: kp_mac_algorithm = 1;
/// `HMAC_SHA_256`.
pub const KP_MAC_ALGORITHM_HMAC_SHA_256: kp_mac_algorithm = 2;
/// `HMAC_SHA_384`.
pub const KP_MAC_ALGORITHM_HMAC_SHA_384: kp_mac_algorithm = 3;
/// `HMAC_SHA_512`.
pub const KP_MAC_ALGORITHM_HMAC_SHA_512: kp_mac_algorithm = 4;

/// What a message given to sign / verify is.
pub type kp_message_type = u32;
/// `RAW`: the message itself; Keyplane hashes it.
pub const KP_MESSAGE_TYPE_RAW: kp_message_type = 1;
/// `DIGEST`: the caller's digest; its length must be the algorithm's digest length.
pub const KP_MESSAGE_TYPE_DIGEST: kp_message_type = 2;

/// The size of a data key.
pub type kp_data_key_spec = u32;
/// `AES_256`: 32 bytes (pass `number_of_bytes` 0).
pub const KP_DATA_KEY_SPEC_AES_256: kp_data_key_spec = 1;
/// `AES_128`: 16 bytes (pass `number_of_bytes` 0).
pub const KP_DATA_KEY_SPEC_AES_128: kp_data_key_spec = 2;
/// `number_of_bytes` bytes, 1 to 1024 (AWS KMS's `NumberOfBytes`).
pub const KP_DATA_KEY_SPEC_NUMBER_OF_BYTES: kp_data_key_spec = 3;

/// The kind of a data key pair.
pub type kp_data_key_pair_spec = u32;
/// `RSA_2048`.
pub const KP_DATA_KEY_PAIR_SPEC_RSA_2048: kp_data_key_pair_spec = 1;
/// `RSA_3072`.
pub const KP_DATA_KEY_PAIR_SPEC_RSA_3072: kp_data_key_pair_spec = 2;
/// `RSA_4096`.
pub const KP_DATA_KEY_PAIR_SPEC_RSA_4096: kp_data_key_pair_spec = 3;
/// `ECC_NIST_P256`.
pub const KP_DATA_KEY_PAIR_SPEC_ECC_NIST_P256: kp_data_key_pair_spec = 4;
/// `ECC_NIST_P384`.
pub const KP_DATA_KEY_PAIR_SPEC_ECC_NIST_P384: kp_data_key_pair_spec = 5;
/// `ECC_NIST_P521`.
pub const KP_DATA_KEY_PAIR_SPEC_ECC_NIST_P521: kp_data_key_pair_spec = 6;
/// `ECC_SECG_P256K1`.
pub const KP_DATA_KEY_PAIR_SPEC_ECC_SECG_P256K1: kp_data_key_pair_spec = 7;

/// A core enum and its C numbers.
pub trait CEnum: Copy + PartialEq + 'static {
    /// Every (number, value) pair.
    const TABLE: &'static [(u32, Self)];
    /// Named in the error for an unknown number.
    const WHAT: &'static str;
    /// The KMS name.
    fn name(self) -> &'static str;
}

/// The core value of a C number.
pub(crate) fn from_c<T: CEnum>(n: u32) -> FfiResult<T> {
    T::TABLE
        .iter()
        .find(|(c, _)| *c == n)
        .map(|(_, v)| *v)
        .ok_or(Failure::Core(Error::InvalidInput(T::WHAT)))
}

/// The C number of a core value; 0 for a value this table does not know yet.
pub(crate) fn to_c<T: CEnum>(v: T) -> u32 {
    T::TABLE
        .iter()
        .find(|(_, t)| *t == v)
        .map_or(0, |(c, _)| *c)
}

/// The KMS name of a C number as a static NUL-terminated string, or NULL if unknown.
fn c_name<T: CEnum>(n: u32) -> *const c_char {
    let Ok(v) = from_c::<T>(n) else {
        return core::ptr::null();
    };
    NAMES
        .iter()
        .find(|name| name.strip_suffix('\0') == Some(v.name()))
        .map_or(core::ptr::null(), |name| name.as_ptr().cast())
}

/// NUL-terminated copies of every KMS name the tables use (checked by a test).
const NAMES: &[&str] = &[
    "SYMMETRIC_DEFAULT\0",
    "HMAC_224\0",
    "HMAC_256\0",
    "HMAC_384\0",
    "HMAC_512\0",
    "RSA_2048\0",
    "RSA_3072\0",
    "RSA_4096\0",
    "ECC_NIST_P256\0",
    "ECC_NIST_P384\0",
    "ECC_NIST_P521\0",
    "ECC_SECG_P256K1\0",
    "ENCRYPT_DECRYPT\0",
    "SIGN_VERIFY\0",
    "GENERATE_VERIFY_MAC\0",
    "KEY_AGREEMENT\0",
    "Enabled\0",
    "Disabled\0",
    "PendingDeletion\0",
    "PendingImport\0",
    "KEYPLANE\0",
    "EXTERNAL\0",
    "RSAES_OAEP_SHA_1\0",
    "RSAES_OAEP_SHA_256\0",
    "ECDSA_SHA_256\0",
    "ECDSA_SHA_384\0",
    "ECDSA_SHA_512\0",
    "RSASSA_PSS_SHA_256\0",
    "RSASSA_PSS_SHA_384\0",
    "RSASSA_PSS_SHA_512\0",
    "RSASSA_PKCS1_V1_5_SHA_256\0",
    "RSASSA_PKCS1_V1_5_SHA_384\0",
    "RSASSA_PKCS1_V1_5_SHA_512\0",
    "HMAC_SHA_224\0",
    "HMAC_SHA_256\0",
    "HMAC_SHA_384\0",
    "HMAC_SHA_512\0",
    "RAW\0",
    "DIGEST\0",
];

impl CEnum for KeySpec {
    const TABLE: &'static [(u32, Self)] = &[
        (KP_KEY_SPEC_SYMMETRIC_DEFAULT, Self::SymmetricDefault),
        (KP_KEY_SPEC_HMAC_224, Self::Hmac224),
        (KP_KEY_SPEC_HMAC_256, Self::Hmac256),
        (KP_KEY_SPEC_HMAC_384, Self::Hmac384),
        (KP_KEY_SPEC_HMAC_512, Self::Hmac512),
        (KP_KEY_SPEC_RSA_2048, Self::Rsa2048),
        (KP_KEY_SPEC_RSA_3072, Self::Rsa3072),
        (KP_KEY_SPEC_RSA_4096, Self::Rsa4096),
        (KP_KEY_SPEC_ECC_NIST_P256, Self::EccNistP256),
        (KP_KEY_SPEC_ECC_NIST_P384, Self::EccNistP384),
        (KP_KEY_SPEC_ECC_NIST_P521, Self::EccNistP521),
        (KP_KEY_SPEC_ECC_SECG_P256K1, Self::EccSecgP256k1),
    ];
    const WHAT: &'static str = "unknown kp_key_spec";
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl CEnum for KeyUsage {
    const TABLE: &'static [(u32, Self)] = &[
        (KP_KEY_USAGE_ENCRYPT_DECRYPT, Self::EncryptDecrypt),
        (KP_KEY_USAGE_SIGN_VERIFY, Self::SignVerify),
        (KP_KEY_USAGE_GENERATE_VERIFY_MAC, Self::GenerateVerifyMac),
        (KP_KEY_USAGE_KEY_AGREEMENT, Self::KeyAgreement),
    ];
    const WHAT: &'static str = "unknown kp_key_usage";
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl CEnum for KeyState {
    const TABLE: &'static [(u32, Self)] = &[
        (KP_KEY_STATE_ENABLED, Self::Enabled),
        (KP_KEY_STATE_DISABLED, Self::Disabled),
        (KP_KEY_STATE_PENDING_DELETION, Self::PendingDeletion),
        (KP_KEY_STATE_PENDING_IMPORT, Self::PendingImport),
    ];
    const WHAT: &'static str = "unknown kp_key_state";
    fn name(self) -> &'static str {
        self.as_str()
    }
}

/// How imported key material is wrapped (AWS KMS's `WrappingAlgorithm`).
pub type kp_wrapping_algorithm = u32;
/// `RSAES_OAEP_SHA_1`: the material itself, RSA-OAEP (symmetric and HMAC material).
pub const KP_WRAPPING_ALGORITHM_RSAES_OAEP_SHA_1: kp_wrapping_algorithm = 1;
/// `RSAES_OAEP_SHA_256`.
pub const KP_WRAPPING_ALGORITHM_RSAES_OAEP_SHA_256: kp_wrapping_algorithm = 2;
/// `RSA_AES_KEY_WRAP_SHA_1`: an AES-256 key by RSA-OAEP, then the material by AES key wrap
/// with padding (any material; required for RSA private keys).
pub const KP_WRAPPING_ALGORITHM_RSA_AES_KEY_WRAP_SHA_1: kp_wrapping_algorithm = 3;
/// `RSA_AES_KEY_WRAP_SHA_256`.
pub const KP_WRAPPING_ALGORITHM_RSA_AES_KEY_WRAP_SHA_256: kp_wrapping_algorithm = 4;

/// The size of the RSA wrapping key (AWS KMS's `WrappingKeySpec`).
pub type kp_wrapping_key_spec = u32;
/// `RSA_2048`.
pub const KP_WRAPPING_KEY_SPEC_RSA_2048: kp_wrapping_key_spec = 1;
/// `RSA_3072`.
pub const KP_WRAPPING_KEY_SPEC_RSA_3072: kp_wrapping_key_spec = 2;
/// `RSA_4096`.
pub const KP_WRAPPING_KEY_SPEC_RSA_4096: kp_wrapping_key_spec = 3;

impl CEnum for WrappingAlgorithm {
    const TABLE: &'static [(u32, Self)] = &[
        (KP_WRAPPING_ALGORITHM_RSAES_OAEP_SHA_1, Self::RsaesOaepSha1),
        (
            KP_WRAPPING_ALGORITHM_RSAES_OAEP_SHA_256,
            Self::RsaesOaepSha256,
        ),
        (
            KP_WRAPPING_ALGORITHM_RSA_AES_KEY_WRAP_SHA_1,
            Self::RsaAesKeyWrapSha1,
        ),
        (
            KP_WRAPPING_ALGORITHM_RSA_AES_KEY_WRAP_SHA_256,
            Self::RsaAesKeyWrapSha256,
        ),
    ];
    const WHAT: &'static str = "unknown kp_wrapping_algorithm";
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl CEnum for WrappingKeySpec {
    const TABLE: &'static [(u32, Self)] = &[
        (KP_WRAPPING_KEY_SPEC_RSA_2048, Self::Rsa2048),
        (KP_WRAPPING_KEY_SPEC_RSA_3072, Self::Rsa3072),
        (KP_WRAPPING_KEY_SPEC_RSA_4096, Self::Rsa4096),
    ];
    const WHAT: &'static str = "unknown kp_wrapping_key_spec";
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl CEnum for Origin {
    const TABLE: &'static [(u32, Self)] = &[
        (KP_ORIGIN_KEYPLANE, Self::Keyplane),
        (KP_ORIGIN_EXTERNAL, Self::External),
    ];
    const WHAT: &'static str = "unknown kp_origin";
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl CEnum for EncryptionAlgorithm {
    const TABLE: &'static [(u32, Self)] = &[
        (
            KP_ENCRYPTION_ALGORITHM_SYMMETRIC_DEFAULT,
            Self::SymmetricDefault,
        ),
        (
            KP_ENCRYPTION_ALGORITHM_RSAES_OAEP_SHA_1,
            Self::RsaesOaepSha1,
        ),
        (
            KP_ENCRYPTION_ALGORITHM_RSAES_OAEP_SHA_256,
            Self::RsaesOaepSha256,
        ),
    ];
    const WHAT: &'static str = "unknown kp_encryption_algorithm";
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl CEnum for SigningAlgorithm {
    const TABLE: &'static [(u32, Self)] = &[
        (KP_SIGNING_ALGORITHM_ECDSA_SHA_256, Self::EcdsaSha256),
        (KP_SIGNING_ALGORITHM_ECDSA_SHA_384, Self::EcdsaSha384),
        (KP_SIGNING_ALGORITHM_ECDSA_SHA_512, Self::EcdsaSha512),
        (
            KP_SIGNING_ALGORITHM_RSASSA_PSS_SHA_256,
            Self::RsassaPssSha256,
        ),
        (
            KP_SIGNING_ALGORITHM_RSASSA_PSS_SHA_384,
            Self::RsassaPssSha384,
        ),
        (
            KP_SIGNING_ALGORITHM_RSASSA_PSS_SHA_512,
            Self::RsassaPssSha512,
        ),
        (
            KP_SIGNING_ALGORITHM_RSASSA_PKCS1_V1_5_SHA_256,
            Self::RsassaPkcs1V15Sha256,
        ),
        (
            KP_SIGNING_ALGORITHM_RSASSA_PKCS1_V1_5_SHA_384,
            Self::RsassaPkcs1V15Sha384,
        ),
        (
            KP_SIGNING_ALGORITHM_RSASSA_PKCS1_V1_5_SHA_512,
            Self::RsassaPkcs1V15Sha512,
        ),
    ];
    const WHAT: &'static str = "unknown kp_signing_algorithm";
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl CEnum for MacAlgorithm {
    const TABLE: &'static [(u32, Self)] = &[
        (KP_MAC_ALGORITHM_HMAC_SHA_224, Self::HmacSha224),
        (KP_MAC_ALGORITHM_HMAC_SHA_256, Self::HmacSha256),
        (KP_MAC_ALGORITHM_HMAC_SHA_384, Self::HmacSha384),
        (KP_MAC_ALGORITHM_HMAC_SHA_512, Self::HmacSha512),
    ];
    const WHAT: &'static str = "unknown kp_mac_algorithm";
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl CEnum for MessageType {
    const TABLE: &'static [(u32, Self)] = &[
        (KP_MESSAGE_TYPE_RAW, Self::Raw),
        (KP_MESSAGE_TYPE_DIGEST, Self::Digest),
    ];
    const WHAT: &'static str = "unknown kp_message_type";
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl CEnum for DataKeyPairSpec {
    const TABLE: &'static [(u32, Self)] = &[
        (KP_DATA_KEY_PAIR_SPEC_RSA_2048, Self::Rsa2048),
        (KP_DATA_KEY_PAIR_SPEC_RSA_3072, Self::Rsa3072),
        (KP_DATA_KEY_PAIR_SPEC_RSA_4096, Self::Rsa4096),
        (KP_DATA_KEY_PAIR_SPEC_ECC_NIST_P256, Self::EccNistP256),
        (KP_DATA_KEY_PAIR_SPEC_ECC_NIST_P384, Self::EccNistP384),
        (KP_DATA_KEY_PAIR_SPEC_ECC_NIST_P521, Self::EccNistP521),
        (KP_DATA_KEY_PAIR_SPEC_ECC_SECG_P256K1, Self::EccSecgP256k1),
    ];
    const WHAT: &'static str = "unknown kp_data_key_pair_spec";
    fn name(self) -> &'static str {
        self.as_str()
    }
}

/// The data key size of `(spec, number_of_bytes)`.
pub(crate) fn data_key_spec(
    spec: kp_data_key_spec,
    number_of_bytes: usize,
) -> FfiResult<keyplane_core::DataKeySpec> {
    use keyplane_core::DataKeySpec as D;
    match (spec, number_of_bytes) {
        (KP_DATA_KEY_SPEC_AES_256, 0) => Ok(D::Aes256),
        (KP_DATA_KEY_SPEC_AES_128, 0) => Ok(D::Aes128),
        (KP_DATA_KEY_SPEC_NUMBER_OF_BYTES, n) => Ok(D::NumberOfBytes(n)),
        (KP_DATA_KEY_SPEC_AES_256 | KP_DATA_KEY_SPEC_AES_128, _) => Err(Error::InvalidInput(
            "number_of_bytes must be 0 unless the spec is KP_DATA_KEY_SPEC_NUMBER_OF_BYTES",
        )
        .into()),
        _ => Err(Error::InvalidInput("unknown kp_data_key_spec").into()),
    }
}

/// The KMS name of a key spec (`"SYMMETRIC_DEFAULT"`, …), static and NUL-terminated; NULL for
/// an unknown number.
#[unsafe(no_mangle)]
pub extern "C" fn kp_key_spec_str(spec: kp_key_spec) -> *const c_char {
    crate::boundary::run_value(core::ptr::null(), || c_name::<KeySpec>(spec))
}

/// The KMS name of a key usage; NULL for an unknown number.
#[unsafe(no_mangle)]
pub extern "C" fn kp_key_usage_str(usage: kp_key_usage) -> *const c_char {
    crate::boundary::run_value(core::ptr::null(), || c_name::<KeyUsage>(usage))
}

/// The KMS name of a key state (`"Enabled"`, …); NULL for an unknown number.
#[unsafe(no_mangle)]
pub extern "C" fn kp_key_state_str(state: kp_key_state) -> *const c_char {
    crate::boundary::run_value(core::ptr::null(), || c_name::<KeyState>(state))
}

/// The KMS name of a signing algorithm; NULL for an unknown number.
#[unsafe(no_mangle)]
pub extern "C" fn kp_signing_algorithm_str(algorithm: kp_signing_algorithm) -> *const c_char {
    crate::boundary::run_value(core::ptr::null(), || c_name::<SigningAlgorithm>(algorithm))
}

/// The KMS name of an encryption algorithm; NULL for an unknown number.
#[unsafe(no_mangle)]
pub extern "C" fn kp_encryption_algorithm_str(algorithm: kp_encryption_algorithm) -> *const c_char {
    crate::boundary::run_value(core::ptr::null(), || {
        c_name::<EncryptionAlgorithm>(algorithm)
    })
}

/// The KMS name of a MAC algorithm; NULL for an unknown number.
#[unsafe(no_mangle)]
pub extern "C" fn kp_mac_algorithm_str(algorithm: kp_mac_algorithm) -> *const c_char {
    crate::boundary::run_value(core::ptr::null(), || c_name::<MacAlgorithm>(algorithm))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covers_all<T: CEnum>(all: &[T]) {
        assert_eq!(T::TABLE.len(), all.len(), "{}", T::WHAT);
        for v in all {
            let n = to_c(*v);
            assert_ne!(n, 0);
            assert!(from_c::<T>(n) == Ok(*v));
            assert!(!c_name::<T>(n).is_null(), "{}", v.name());
        }
        assert!(from_c::<T>(0).is_err());
        assert!(c_name::<T>(u32::MAX).is_null());
    }

    #[test]
    fn every_core_value_has_a_number_and_a_name() {
        covers_all(KeySpec::ALL);
        covers_all(KeyUsage::ALL);
        covers_all(KeyState::ALL);
        covers_all(Origin::ALL);
        covers_all(EncryptionAlgorithm::ALL);
        covers_all(SigningAlgorithm::ALL);
        covers_all(MacAlgorithm::ALL);
        covers_all(MessageType::ALL);
        covers_all(DataKeyPairSpec::ALL);
    }
}
