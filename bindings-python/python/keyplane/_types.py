"""Type aliases for the AWS KMS names Keyplane accepts: unions of ``typing.Literal`` strings.

Written as ``Union[Literal[a], Literal[b], ...]`` (the same type as ``Literal[a, b, ...]``) so
that ``mypy.stubtest`` can check them against their runtime values.
"""

from __future__ import annotations

from typing import Literal, Union

__all__ = [
    "DataKeyPairSpec",
    "DataKeySpec",
    "EncryptionAlgorithm",
    "KeySpec",
    "KeyState",
    "KeyUsage",
    "MacAlgorithm",
    "MessageType",
    "Origin",
    "SigningAlgorithm",
    "WrappingAlgorithm",
    "WrappingKeySpec",
]

KeySpec = Union[
    Literal["SYMMETRIC_DEFAULT"],
    Literal["HMAC_224"],
    Literal["HMAC_256"],
    Literal["HMAC_384"],
    Literal["HMAC_512"],
    Literal["RSA_2048"],
    Literal["RSA_3072"],
    Literal["RSA_4096"],
    Literal["ECC_NIST_P256"],
    Literal["ECC_NIST_P384"],
    Literal["ECC_NIST_P521"],
    Literal["ECC_SECG_P256K1"],
]
"""A key spec, as AWS KMS names it."""

KeyUsage = Union[
    Literal["ENCRYPT_DECRYPT"],
    Literal["SIGN_VERIFY"],
    Literal["GENERATE_VERIFY_MAC"],
    Literal["KEY_AGREEMENT"],
]
"""What a key may be used for."""

KeyState = Union[
    Literal["Enabled"],
    Literal["Disabled"],
    Literal["PendingDeletion"],
    Literal["PendingImport"],
]
"""The life-cycle state of a key."""

Origin = Union[
    Literal["KEYPLANE"],
    Literal["EXTERNAL"],
]
"""Where a key's material came from."""

EncryptionAlgorithm = Union[
    Literal["SYMMETRIC_DEFAULT"],
    Literal["RSAES_OAEP_SHA_1"],
    Literal["RSAES_OAEP_SHA_256"],
]
"""An encryption algorithm."""

SigningAlgorithm = Union[
    Literal["ECDSA_SHA_256"],
    Literal["ECDSA_SHA_384"],
    Literal["ECDSA_SHA_512"],
    Literal["RSASSA_PSS_SHA_256"],
    Literal["RSASSA_PSS_SHA_384"],
    Literal["RSASSA_PSS_SHA_512"],
    Literal["RSASSA_PKCS1_V1_5_SHA_256"],
    Literal["RSASSA_PKCS1_V1_5_SHA_384"],
    Literal["RSASSA_PKCS1_V1_5_SHA_512"],
]
"""A signing algorithm."""

MacAlgorithm = Union[
    Literal["HMAC_SHA_224"],
    Literal["HMAC_SHA_256"],
    Literal["HMAC_SHA_384"],
    Literal["HMAC_SHA_512"],
]
"""A MAC algorithm."""

MessageType = Union[
    Literal["RAW"],
    Literal["DIGEST"],
]
"""Whether ``sign``/``verify`` get the message itself or its digest."""

DataKeySpec = Union[
    Literal["AES_256"],
    Literal["AES_128"],
]
"""The size of a data key."""

DataKeyPairSpec = Union[
    Literal["RSA_2048"],
    Literal["RSA_3072"],
    Literal["RSA_4096"],
    Literal["ECC_NIST_P256"],
    Literal["ECC_NIST_P384"],
    Literal["ECC_NIST_P521"],
    Literal["ECC_SECG_P256K1"],
]
"""The kind of key pair ``generate_data_key_pair`` makes."""

WrappingAlgorithm = Union[
    Literal["RSAES_OAEP_SHA_1"],
    Literal["RSAES_OAEP_SHA_256"],
    Literal["RSA_AES_KEY_WRAP_SHA_1"],
    Literal["RSA_AES_KEY_WRAP_SHA_256"],
]
"""How key material is wrapped for ``Keyring.import_key_material``."""

WrappingKeySpec = Union[
    Literal["RSA_2048"],
    Literal["RSA_3072"],
    Literal["RSA_4096"],
]
"""The size of the RSA key that wraps material for import."""
