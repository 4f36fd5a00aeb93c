"""Type aliases for the AWS KMS names Keyplane accepts: unions of ``typing.Literal`` strings;
and the shape of the dict ``keyplane.fips_status()`` returns.

Written as ``Union[Literal[a], Literal[b], ...]`` (the same type as ``Literal[a, b, ...]``) so
that ``mypy.stubtest`` can check them against their runtime values.
"""

from __future__ import annotations

from typing import Literal, Optional, TypedDict, Union

__all__ = [
    "DataKeyPairSpec",
    "DataKeySpec",
    "EncryptionAlgorithm",
    "FipsStatus",
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


class FipsStatus(TypedDict):
    """What ``keyplane.fips_status()`` returns: the AWS-LC module this build runs on."""

    fips_build: bool
    """Built with the ``fips`` feature, on the AWS-LC FIPS module."""
    fips_mode: bool
    """The module is in FIPS mode (its power-on self-tests passed); ``False`` in a non-FIPS
    build."""
    module: str
    """``"AWS-LC FIPS"`` or ``"AWS-LC"``."""
    module_version: str
    """The module's version as it reports itself, e.g. ``"4.2.0"``."""
    fips_branch: Optional[int]
    """The FIPS branch the module was built from (4 for AWS-LC FIPS 4.x); ``None`` in a
    non-FIPS build."""
