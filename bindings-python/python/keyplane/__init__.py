"""Keyplane: the cryptographic data plane of a key management service.

A :class:`Keyring` holds named, versioned keys whose material never leaves it in plaintext, and
does what AWS KMS does inside its HSMs: encrypt and decrypt under a key with an encryption context
bound as authenticated data, rotate without breaking old ciphertexts, mint data keys and data key
pairs, sign, MAC, and RSA-OAEP. Every primitive is aws-lc-rs, called with the GIL released.

>>> import keyplane
>>> ring = keyplane.Keyring()
>>> key = ring.create_key(alias="alias/orders")
>>> blob = ring.encrypt("alias/orders", b"card 4111", {"tenant": "acme"})
>>> ring.decrypt(blob, {"tenant": "acme"})
b'card 4111'
"""

from __future__ import annotations

from keyplane._errors import (
    AlreadyExistsError,
    AuditLogBrokenError,
    BufferTooSmallError,
    InternalError,
    InvalidCiphertextError,
    InvalidInputError,
    InvalidKeyUsageError,
    KeyDisabledError,
    KeyplaneError,
    KeyStateError,
    LimitExceededError,
    NotFoundError,
    StorageError,
    UnsupportedAlgorithmError,
    VersionRetiredError,
)
from keyplane._keyplane import (
    FIPS,
    INSECURE_TEST_HOOKS,
    Audit,
    AuditEvent,
    AuditLogReport,
    BlobInfo,
    DataKey,
    DataKeyPair,
    DataKeyPairWithoutPlaintext,
    EncryptionContext,
    ImportParameters,
    KeyLastUsage,
    KeyMetadata,
    Keyring,
    KeyVersion,
    LoadProblem,
    LocalRootKey,
    PublicKey,
    fips_status,
    inspect_blob,
    reseal,
    verify_audit_log,
)
from keyplane._types import (
    DataKeyPairSpec,
    DataKeySpec,
    EncryptionAlgorithm,
    FipsStatus,
    KeySpec,
    KeyState,
    KeyUsage,
    MacAlgorithm,
    MessageType,
    Origin,
    SigningAlgorithm,
    WrappingAlgorithm,
    WrappingKeySpec,
)

__all__ = [
    "FIPS",
    "INSECURE_TEST_HOOKS",
    "AlreadyExistsError",
    "Audit",
    "AuditEvent",
    "AuditLogBrokenError",
    "AuditLogReport",
    "BlobInfo",
    "BufferTooSmallError",
    "DataKey",
    "DataKeyPair",
    "DataKeyPairSpec",
    "DataKeyPairWithoutPlaintext",
    "DataKeySpec",
    "EncryptionAlgorithm",
    "EncryptionContext",
    "FipsStatus",
    "ImportParameters",
    "InternalError",
    "InvalidCiphertextError",
    "InvalidInputError",
    "InvalidKeyUsageError",
    "KeyDisabledError",
    "KeyLastUsage",
    "KeyMetadata",
    "KeySpec",
    "KeyState",
    "KeyStateError",
    "KeyUsage",
    "KeyVersion",
    "KeyplaneError",
    "Keyring",
    "LimitExceededError",
    "LoadProblem",
    "LocalRootKey",
    "MacAlgorithm",
    "MessageType",
    "NotFoundError",
    "Origin",
    "PublicKey",
    "SigningAlgorithm",
    "StorageError",
    "UnsupportedAlgorithmError",
    "VersionRetiredError",
    "WrappingAlgorithm",
    "WrappingKeySpec",
    "fips_status",
    "inspect_blob",
    "reseal",
    "verify_audit_log",
]
