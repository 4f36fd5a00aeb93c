"""Sealed key records: export and import across keyrings, re-sealing under a new root key, and
the replay of vectors/sealed.json (records sealed by the core's generator)."""

from __future__ import annotations

import json

import pytest

import keyplane
from conftest import VECTORS


def test_export_import_round_trip(ring: keyplane.Keyring) -> None:
    root = keyplane.LocalRootKey("backup-root", keyplane.LocalRootKey.generate_material())
    assert root.root_id == "backup-root" and "secret" in repr(root)
    key = ring.create_key(alias="alias/backed-up").key_id
    ring.rotate_key(key)
    old = ring.encrypt(key, b"v1 data", {"a": "b"})
    record = ring.export_sealed("alias/backed-up", root)
    assert isinstance(record, bytes) and record[:4] == b"KPSR"

    replica = keyplane.Keyring()
    meta = replica.import_sealed(record, root)
    assert meta.key_id == key and meta.current_version == 2 and meta.aliases == ("alias/backed-up",)
    assert replica.decrypt(old, {"a": "b"}) == b"v1 data"
    assert ring.decrypt(replica.encrypt("alias/backed-up", b"from replica")) == b"from replica"
    with pytest.raises(keyplane.AlreadyExistsError):
        replica.import_sealed(record, root)


def test_wrong_root_and_tampered_records(ring: keyplane.Keyring) -> None:
    root = keyplane.LocalRootKey("r1", bytes(range(32)))
    other = keyplane.LocalRootKey("r1", bytes(32))
    record = ring.export_sealed(ring.create_key().key_id, root)
    with pytest.raises(keyplane.InvalidCiphertextError):
        keyplane.Keyring().import_sealed(record, other)
    with pytest.raises(keyplane.InvalidInputError):
        keyplane.Keyring().import_sealed(record, keyplane.LocalRootKey("r2", bytes(range(32))))
    for i in range(0, len(record), 7):
        tampered = bytearray(record)
        tampered[i] ^= 1
        with pytest.raises(keyplane.KeyplaneError):
            keyplane.Keyring().import_sealed(tampered, root)
    with pytest.raises(keyplane.InvalidInputError):
        keyplane.LocalRootKey("short", b"too short")
    with pytest.raises(TypeError):
        keyplane.LocalRootKey("r", "not bytes")  # type: ignore[arg-type]


def test_reseal_under_a_new_root(ring: keyplane.Keyring) -> None:
    old_root = keyplane.LocalRootKey("old", keyplane.LocalRootKey.generate_material())
    new_root = keyplane.LocalRootKey("new", keyplane.LocalRootKey.generate_material())
    key = ring.create_key("ECC_NIST_P256").key_id
    record = keyplane.reseal(ring.export_sealed(key, old_root), old_root, new_root)
    replica = keyplane.Keyring()
    assert replica.import_sealed(record, new_root).key_spec == "ECC_NIST_P256"
    assert replica.get_public_key(key).public_key == ring.get_public_key(key).public_key
    with pytest.raises(keyplane.InvalidInputError):  # sealed under another root id now
        keyplane.Keyring().import_sealed(record, old_root)


def test_sealed_vectors() -> None:
    with open(VECTORS / "sealed.json", encoding="utf-8") as f:
        doc = json.load(f)
    assert doc["schema"] == "keyplane-vectors/sealed/1"
    root = keyplane.LocalRootKey(doc["root_key"]["id"], bytes.fromhex(doc["root_key"]["material"]))
    assert len(doc["records"]) >= 3
    for v in doc["records"]:
        ring = keyplane.Keyring()
        meta = ring.import_sealed(bytes.fromhex(v["record"]), root)
        assert (meta.key_id, meta.key_spec, meta.key_usage, meta.key_state) == (
            v["key_id"], v["key_spec"], v["key_usage"], v["key_state"]
        ), v["name"]
        assert list(meta.aliases) == v["aliases"]
        if "blob" in v:
            context = dict(v["context"])
            assert ring.decrypt(bytes.fromhex(v["blob"]), context) == bytes.fromhex(v["plaintext"])
        if "mac" in v:
            ring.enable_key(meta.key_id)
            assert ring.verify_mac(meta.key_id, bytes.fromhex(v["message"]), bytes.fromhex(v["mac"]), "HMAC_SHA_256")
        if "signature" in v:
            assert ring.verify(meta.key_id, bytes.fromhex(v["message"]), bytes.fromhex(v["signature"]), "ECDSA_SHA_256")
