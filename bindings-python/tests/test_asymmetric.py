"""Signing, MACs, public keys, RSA-OAEP and data key pairs: happy paths."""

from __future__ import annotations

import hashlib

import pytest

import keyplane

SIGNING = [
    ("ECC_NIST_P256", "ECDSA_SHA_256"),
    ("ECC_NIST_P384", "ECDSA_SHA_384"),
    ("ECC_NIST_P521", "ECDSA_SHA_512"),
    ("ECC_SECG_P256K1", "ECDSA_SHA_256"),
    ("RSA_2048", "RSASSA_PSS_SHA_256"),
    ("RSA_2048", "RSASSA_PSS_SHA_384"),
    ("RSA_2048", "RSASSA_PSS_SHA_512"),
    ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256"),
    ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_384"),
    ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_512"),
]
HASHES = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}


@pytest.fixture(scope="module")
def signers() -> tuple[keyplane.Keyring, dict[str, str]]:
    ring = keyplane.Keyring()
    keys = {
        spec: ring.create_key(spec, usage="SIGN_VERIFY").key_id  # type: ignore[arg-type]
        for spec in {s for s, _ in SIGNING}
    }
    return ring, keys


@pytest.mark.parametrize(("spec", "algorithm"), SIGNING)
def test_sign_verify(signers: tuple[keyplane.Keyring, dict[str, str]], spec: str, algorithm: str) -> None:
    ring, keys = signers
    key = keys[spec]
    message = b"release v1.2"
    sig = ring.sign(key, message, algorithm)  # type: ignore[arg-type]
    assert isinstance(sig, bytes) and 0 < len(sig) <= ring.max_signature_len(key)
    assert ring.verify(key, message, sig, algorithm) is True  # type: ignore[arg-type]
    assert ring.verify(key, message + b"!", sig, algorithm) is False  # type: ignore[arg-type]
    assert ring.verify(key, message, sig[:-1], algorithm) is False  # type: ignore[arg-type]
    assert ring.verify(key, message, b"", algorithm) is False  # type: ignore[arg-type]
    flipped = bytearray(sig)
    flipped[len(flipped) // 2] ^= 1
    assert ring.verify(key, message, flipped, algorithm) is False  # type: ignore[arg-type]

    digest = HASHES[algorithm[-3:]](message).digest()
    dsig = ring.sign(key, digest, algorithm, message_type="DIGEST")  # type: ignore[arg-type]
    assert ring.verify(key, message, dsig, algorithm) is True  # type: ignore[arg-type]
    assert ring.verify(key, digest, sig, algorithm, message_type="DIGEST") is True  # type: ignore[arg-type]
    assert ring.verify(key, message, sig, algorithm, message_type="RAW") is True  # type: ignore[arg-type]


def test_public_key(signers: tuple[keyplane.Keyring, dict[str, str]]) -> None:
    ring, keys = signers
    info = ring.get_public_key(keys["ECC_NIST_P256"])
    assert info.key_id == keys["ECC_NIST_P256"]
    assert (info.key_spec, info.key_usage) == ("ECC_NIST_P256", "SIGN_VERIFY")
    assert info.signing_algorithms == ("ECDSA_SHA_256",)
    assert info.encryption_algorithms == ()
    assert info.public_key[:2] == b"\x30\x59"  # DER SEQUENCE of a P-256 SPKI
    pem = info.to_pem()
    assert pem.startswith("-----BEGIN PUBLIC KEY-----\n") and pem.endswith("-----END PUBLIC KEY-----\n")
    assert "ECC_NIST_P256" in repr(info)


@pytest.mark.parametrize(("spec", "algorithm", "length"), [
    ("HMAC_224", "HMAC_SHA_224", 28),
    ("HMAC_256", "HMAC_SHA_256", 32),
    ("HMAC_384", "HMAC_SHA_384", 48),
    ("HMAC_512", "HMAC_SHA_512", 64),
])
def test_mac(ring: keyplane.Keyring, spec: str, algorithm: str, length: int) -> None:
    key = ring.create_key(spec).key_id  # type: ignore[arg-type]
    assert ring.mac_len(key) == length
    for message in [b"", b"session=42", bytes(5000)]:
        tag = ring.generate_mac(key, message, algorithm)  # type: ignore[arg-type]
        assert len(tag) == length
        assert tag == ring.generate_mac(key, bytearray(message), algorithm)  # type: ignore[arg-type]
        assert ring.verify_mac(key, message, tag, algorithm) is True  # type: ignore[arg-type]
        assert ring.verify_mac(key, message + b"x", tag, algorithm) is False  # type: ignore[arg-type]
        assert ring.verify_mac(key, message, tag[:-1], algorithm) is False  # type: ignore[arg-type]
        assert ring.verify_mac(key, message, bytes(length), algorithm) is False  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def rsa_encryptor() -> tuple[keyplane.Keyring, str]:
    ring = keyplane.Keyring()
    return ring, ring.create_key("RSA_2048", usage="ENCRYPT_DECRYPT").key_id


@pytest.mark.parametrize("algorithm", ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"])
def test_oaep(rsa_encryptor: tuple[keyplane.Keyring, str], algorithm: str) -> None:
    ring, key = rsa_encryptor
    limit = ring.max_asymmetric_plaintext_len(key, algorithm)  # type: ignore[arg-type]
    assert limit == {"RSAES_OAEP_SHA_1": 214, "RSAES_OAEP_SHA_256": 190}[algorithm]
    for message in [b"", b"wrapped secret", bytes(range(256))[:limit]]:
        ct = ring.encrypt_asymmetric(key, message, algorithm)  # type: ignore[arg-type]
        assert len(ct) == 256
        assert ring.decrypt_asymmetric(key, ct, algorithm) == message  # type: ignore[arg-type]
    with pytest.raises(keyplane.InvalidInputError):
        ring.encrypt_asymmetric(key, bytes(limit + 1), algorithm)  # type: ignore[arg-type]
    tampered = bytearray(ring.encrypt_asymmetric(key, b"x", algorithm))  # type: ignore[arg-type]
    tampered[5] ^= 1
    with pytest.raises(keyplane.InvalidCiphertextError):
        ring.decrypt_asymmetric(key, tampered, algorithm)  # type: ignore[arg-type]
    info = ring.get_public_key(key)
    assert info.encryption_algorithms == ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256")
    assert info.signing_algorithms == ()


@pytest.mark.parametrize("spec", ["ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1", "RSA_2048"])
def test_data_key_pair(ring: keyplane.Keyring, sym: str, spec: str) -> None:
    ctx = {"purpose": "device-identity"}
    pair = ring.generate_data_key_pair(sym, spec, context=ctx)  # type: ignore[arg-type]
    assert pair.key_id == sym and pair.key_pair_spec == spec
    assert pair.public_key[0] == 0x30 and pair.private_key_plaintext[0] == 0x30
    assert ring.decrypt(pair.private_key_ciphertext_blob, ctx) == pair.private_key_plaintext
    assert pair.private_key_plaintext.hex() not in repr(pair)
    bare = ring.generate_data_key_pair_without_plaintext("alias/test", spec, context=ctx)  # type: ignore[arg-type]
    assert bare.key_id == sym and bare.key_pair_spec == spec
    assert not hasattr(bare, "private_key_plaintext")
    assert len(ring.decrypt(bare.private_key_ciphertext_blob, ctx)) > 0
    assert bare.public_key != pair.public_key
    assert spec in repr(bare)
