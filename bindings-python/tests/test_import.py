"""Key material import (bring your own key): material wrapped by pyca cryptography with the
parameters Keyplane hands out, then used for encryption and MACs."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

import keyplane


def _public(params: keyplane.ImportParameters) -> rsa.RSAPublicKey:
    key = serialization.load_der_public_key(params.public_key)
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def _oaep(params: keyplane.ImportParameters, data: bytes, sha1: bool = False) -> bytes:
    algorithm = hashes.SHA1() if sha1 else hashes.SHA256()
    return _public(params).encrypt(
        data, padding.OAEP(mgf=padding.MGF1(algorithm), algorithm=algorithm, label=None)
    )


def _rsa_aes_wrap(params: keyplane.ImportParameters, material: bytes) -> bytes:
    aes_key = os.urandom(32)
    return _oaep(params, aes_key) + aes_key_wrap_with_padding(aes_key, material)


def test_import_with_oaep_sha256(ring: keyplane.Keyring) -> None:
    key = ring.create_key(origin="EXTERNAL", alias="alias/byok")
    assert key.origin == "EXTERNAL" and key.key_state == "PendingImport" and key.valid_to is None
    with pytest.raises(keyplane.KeyStateError):
        ring.encrypt(key.key_id, b"no material yet")
    params = ring.get_parameters_for_import(key.key_id, "RSAES_OAEP_SHA_256", "RSA_2048")
    assert params.key_id == key.key_id and "ImportParameters" in repr(params)
    assert _public(params).key_size == 2048
    assert isinstance(params.import_token, bytes) and params.import_token
    now = datetime.now(timezone.utc)
    assert now + timedelta(hours=23) < params.parameters_valid_to <= now + timedelta(hours=25)
    material = os.urandom(32)
    ring.import_key_material(key.key_id, params.import_token, _oaep(params, material))
    assert ring.describe_key("alias/byok").key_state == "Enabled"
    blob = ring.encrypt("alias/byok", b"own key", {"t": "1"})
    assert ring.decrypt(blob, {"t": "1"}) == b"own key"

    # Deleting the material makes the key unusable; the same material brings it back.
    ring.delete_imported_key_material(key.key_id)
    assert ring.describe_key(key.key_id).key_state == "PendingImport"
    # Decryption authenticates before it looks at the key's state: without material nothing
    # authenticates, so the blob fails as any unauthentic one does.
    with pytest.raises(keyplane.InvalidCiphertextError):
        ring.decrypt(blob, {"t": "1"})
    with pytest.raises(keyplane.KeyStateError):
        ring.encrypt(key.key_id, b"no material again")
    again = ring.get_parameters_for_import(key.key_id, "RSAES_OAEP_SHA_1", "RSA_3072")
    ring.import_key_material(key.key_id, again.import_token, _oaep(again, material, sha1=True))
    assert ring.decrypt(blob, {"t": "1"}) == b"own key"
    # Other material is refused.
    other = ring.get_parameters_for_import(key.key_id, "RSAES_OAEP_SHA_256")
    with pytest.raises(keyplane.InvalidInputError):
        ring.import_key_material(key.key_id, other.import_token, _oaep(other, os.urandom(32)))


def test_import_with_rsa_aes_key_wrap_and_expiry(ring: keyplane.Keyring) -> None:
    key_id = ring.create_key("HMAC_256", origin="EXTERNAL").key_id
    params = ring.get_parameters_for_import(key_id)  # RSA_AES_KEY_WRAP_SHA_256, RSA_2048
    material = os.urandom(32)
    valid_to = datetime.now(timezone.utc) + timedelta(days=2)
    ring.import_key_material(
        key_id, params.import_token, _rsa_aes_wrap(params, material), valid_to=valid_to
    )
    meta = ring.describe_key(key_id)
    assert meta.key_state == "Enabled" and meta.valid_to is not None
    assert abs(meta.valid_to - valid_to) < timedelta(seconds=1)
    # The MAC is HMAC-SHA256 under exactly the imported material.
    tag = ring.generate_mac(key_id, b"message", "HMAC_SHA_256")
    expected = hmac.HMAC(material, hashes.SHA256())
    expected.update(b"message")
    assert tag == expected.finalize()


def test_import_bad_input(ring: keyplane.Keyring) -> None:
    key_id = ring.create_key(origin="EXTERNAL").key_id
    params = ring.get_parameters_for_import(key_id, "RSAES_OAEP_SHA_256")
    wrapped = _oaep(params, os.urandom(32))
    with pytest.raises(keyplane.InvalidInputError, match="origin"):
        ring.create_key(origin="AWS_KMS")  # type: ignore[arg-type]
    with pytest.raises(keyplane.InvalidInputError, match="wrapping algorithm"):
        ring.get_parameters_for_import(key_id, "RSAES_PKCS1_V1_5")  # type: ignore[arg-type]
    with pytest.raises(keyplane.InvalidInputError, match="wrapping key spec"):
        ring.get_parameters_for_import(key_id, "RSAES_OAEP_SHA_256", "RSA_1024")  # type: ignore[arg-type]
    with pytest.raises(keyplane.UnsupportedAlgorithmError):
        ring.get_parameters_for_import(ring.create_key().key_id)
    with pytest.raises(keyplane.NotFoundError):
        ring.get_parameters_for_import("no-such-key")
    with pytest.raises(keyplane.InvalidInputError, match="token"):
        ring.import_key_material(key_id, b"\x00" * len(params.import_token), wrapped)
    with pytest.raises(keyplane.InvalidCiphertextError):
        ring.import_key_material(key_id, params.import_token, b"\x01" * len(wrapped))
    with pytest.raises(keyplane.InvalidInputError, match="future"):
        ring.import_key_material(
            key_id,
            params.import_token,
            wrapped,
            valid_to=datetime.now(timezone.utc) - timedelta(seconds=1),
        )
    with pytest.raises(TypeError):
        ring.import_key_material(key_id, "token", wrapped)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ring.import_key_material(key_id, params.import_token, wrapped, valid_to=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ring.get_parameters_for_import(42)  # type: ignore[arg-type]
    # Still pending: nothing above installed material.
    assert ring.describe_key(key_id).key_state == "PendingImport"
