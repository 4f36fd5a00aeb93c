"""Replay of the project's known-answer corpus (vectors/*.json).

Loading raw key material needs the insecure test hooks, which only a separate build has
(`--features insecure-test-hooks`; scripts/test builds it and runs this file against it with
KEYPLANE_EXPECT_HOOKS=1). Against the normal build this file checks that no hook is present and
skips the replay. With the hooks, the symmetric vectors are also checked independently: each blob
is decrypted from FORMAT.md alone with pyca/cryptography's HKDF and AES-GCM, and each HMAC with
cryptography's HMAC."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

import keyplane
from conftest import VECTORS

EXPECT_HOOKS = os.environ.get("KEYPLANE_EXPECT_HOOKS") == "1"
HAS_HOOKS = hasattr(keyplane.Keyring, "_insecure_create_key_with_material")
needs_hooks = pytest.mark.skipif(
    not HAS_HOOKS and not EXPECT_HOOKS,
    reason="vector replay needs the insecure-test-hooks build (scripts/test runs it)",
)


def test_hooks_only_where_expected() -> None:
    hooks = [name for name in dir(keyplane.Keyring) if name.startswith("_insecure")]
    if EXPECT_HOOKS:
        assert keyplane.INSECURE_TEST_HOOKS and len(hooks) == 4
    else:
        assert not keyplane.INSECURE_TEST_HOOKS and hooks == []


def load(name: str) -> dict[str, Any]:
    with open(VECTORS / name, encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def h(s: str) -> bytes:
    return bytes.fromhex(s)


def format_md_decrypt(root: bytes, blob: bytes, context: dict[str, str]) -> bytes:
    """FORMAT.md, formats 0x01 and 0x02, written from the page with pyca/cryptography only."""
    assert blob[0] in (1, 2)
    length = blob[1]
    key_id = blob[2 : 2 + length]
    version = blob[2 + length : 6 + length]
    nonce = blob[6 + length : 18 + length]
    header = blob[: 18 + length]
    info = b"keyplane/v1/aes-256-gcm\x00" + bytes([length]) + key_id + version
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"keyplane/v1", info=info).derive(root)
    canonical = len(context).to_bytes(2, "big")
    for k in sorted(context, key=lambda s: s.encode()):
        kb, vb = k.encode(), context[k].encode()
        canonical += len(kb).to_bytes(2, "big") + kb + len(vb).to_bytes(2, "big") + vb
    # Format 0x02 (FIPS builds) leaves the nonce out of the AAD.
    aad = (header[: 6 + length] if blob[0] == 2 else header) + hashlib.sha256(canonical).digest()
    return AESGCM(key).decrypt(nonce, blob[18 + length :], aad)


@needs_hooks
def test_symmetric_vectors() -> None:
    data = load("symmetric.json")
    assert data["schema"] == "keyplane-vectors/symmetric/1"
    assert len(data["vectors"]) >= 9
    for v in data["vectors"]:
        ring = keyplane.Keyring()
        roots = [h(r) for r in v["roots"]]
        ring._insecure_create_key_with_material(v["key_id"], roots)  # type: ignore[attr-defined]
        context = dict(v["context"])
        blob = h(v["blob"])
        if v["valid"]:
            plaintext = h(v["plaintext"])
            assert ring.decrypt(blob, context) == plaintext, v["name"]
            assert keyplane.EncryptionContext(context) == keyplane.EncryptionContext(dict(reversed(v["context"])))
            if v["format"] == 1:
                # The hook writes format 0x01; a FIPS build's 0x02 nonces come from the module.
                again = ring._insecure_encrypt_with_nonce(  # type: ignore[attr-defined]
                    v["key_id"], v["version"], h(v["nonce"]), plaintext, context
                )
                assert again == blob, v["name"]
            assert format_md_decrypt(roots[v["version"] - 1], blob, context) == plaintext
            info = keyplane.inspect_blob(blob)
            assert (info.key_id, info.key_version) == (v["key_id"], v["version"])
        else:
            with pytest.raises(keyplane.InvalidCiphertextError):
                ring.decrypt(blob, context)
            for root in roots:
                with pytest.raises((InvalidTag, AssertionError, ValueError)):
                    format_md_decrypt(root, blob, context)


def asymmetric_ring(data: dict[str, Any]) -> keyplane.Keyring:
    ring = keyplane.Keyring()
    for k in data["keys"]:
        meta = ring._insecure_import_key_material(  # type: ignore[attr-defined]
            k["key_id"], k["key_spec"], k["key_usage"], h(k["private_key_pkcs8"])
        )
        assert meta.origin == "EXTERNAL"
        assert ring.get_public_key(k["key_id"]).public_key == h(k["public_key"])
    return ring


@needs_hooks
def test_signature_vectors() -> None:
    data = load("asymmetric.json")
    assert data["schema"] == "keyplane-vectors/asymmetric/1"
    ring = asymmetric_ring(data)
    assert len(data["signatures"]) >= 60
    for v in data["signatures"]:
        ok = ring.verify(v["key_id"], h(v["message"]), h(v["signature"]), v["algorithm"], message_type=v["message_type"])
        assert ok is v["valid"], v["name"]
        if v["valid"]:
            fresh = ring.sign(v["key_id"], h(v["message"]), v["algorithm"], message_type=v["message_type"])
            assert ring.verify(v["key_id"], h(v["message"]), fresh, v["algorithm"], message_type=v["message_type"])
    batch = ring.verify_many(
        [v["key_id"] for v in data["signatures"]],
        [h(v["message"]) for v in data["signatures"]],
        [h(v["signature"]) for v in data["signatures"]],
        [v["algorithm"] for v in data["signatures"]],
        message_type=[v["message_type"] for v in data["signatures"]],
    )
    assert batch == [v["valid"] for v in data["signatures"]]


@needs_hooks
def test_mac_vectors() -> None:
    data = load("asymmetric.json")
    assert len(data["macs"]) >= 24
    for v in data["macs"]:
        ring = keyplane.Keyring()
        ring._insecure_import_key_material("mac", v["key_spec"], "GENERATE_VERIFY_MAC", h(v["key"]))  # type: ignore[attr-defined]
        message, mac = h(v["message"]), h(v["mac"])
        assert ring.verify_mac("mac", message, mac, v["algorithm"]) is v["valid"], v["name"]
        digest: hashes.HashAlgorithm = {
            "224": hashes.SHA224(),
            "256": hashes.SHA256(),
            "384": hashes.SHA384(),
            "512": hashes.SHA512(),
        }[v["algorithm"][-3:]]
        independent = hmac.HMAC(h(v["key"]), digest)
        independent.update(message)
        expected = independent.finalize()
        assert ring.generate_mac("mac", message, v["algorithm"]) == expected
        assert (expected == mac) is v["valid"]


@needs_hooks
def test_oaep_vectors() -> None:
    data = load("asymmetric.json")
    ring = asymmetric_ring(data)
    assert len(data["oaep"]) >= 24
    for v in data["oaep"]:
        if v["valid"]:
            got = ring.decrypt_asymmetric(v["key_id"], h(v["ciphertext"]), v["algorithm"])
            assert got == h(v["plaintext"]), v["name"]
        else:
            with pytest.raises(keyplane.InvalidCiphertextError):
                ring.decrypt_asymmetric(v["key_id"], h(v["ciphertext"]), v["algorithm"])
