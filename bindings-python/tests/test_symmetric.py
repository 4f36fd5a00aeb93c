"""Symmetric encryption, contexts, data keys, randomness and blob headers: happy paths."""

from __future__ import annotations

import array
import mmap
from typing import Any

import pytest

import keyplane
from conftest import nonce_of


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 64, 1024, 65536, 1 << 20])
def test_round_trip_sizes(ring: keyplane.Keyring, sym: str, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    blob = ring.encrypt(sym, data)
    assert isinstance(blob, bytes)
    assert len(blob) == ring.ciphertext_len(sym, size) == 34 + len(sym) + size
    assert ring.plaintext_len(blob) == size
    assert ring.decrypt(blob) == data


def test_every_bytes_like_input(ring: keyplane.Keyring, sym: str) -> None:
    data = b"bytes-like input!"
    with mmap.mmap(-1, len(data)) as mapped:
        mapped.write(data)
        inputs: list[Any] = [
            data,
            bytearray(data),
            memoryview(data),
            memoryview(bytearray(data)),
            memoryview(b"xx" + data + b"yy")[2:-2],
            array.array("B", data),
            mapped,
        ]
        for value in inputs:
            blob = ring.encrypt(sym, value)
            assert ring.decrypt(blob) == data
            assert ring.decrypt(bytearray(blob)) == data
            assert ring.decrypt(memoryview(blob)) == data


def test_non_contiguous_and_wide_buffers(ring: keyplane.Keyring, sym: str) -> None:
    strided = memoryview(b"a-b-c-d-")[::2]
    assert ring.decrypt(ring.encrypt(sym, strided)) == b"abcd"
    wide = array.array("I", [1, 2])
    assert ring.decrypt(ring.encrypt(sym, wide)) == wide.tobytes()


def test_bytes_subclass_is_accepted(ring: keyplane.Keyring, sym: str) -> None:
    class Secret(bytes):
        pass

    assert ring.decrypt(ring.encrypt(sym, Secret(b"sub"))) == b"sub"


def test_alias_and_id_are_interchangeable(ring: keyplane.Keyring, sym: str) -> None:
    by_alias = ring.encrypt("alias/test", b"x")
    assert keyplane.inspect_blob(by_alias).key_id == sym
    assert ring.decrypt(by_alias) == b"x"
    assert ring.decrypt(ring.encrypt(sym, b"y")) == b"y"


def test_context_binds(ring: keyplane.Keyring, sym: str) -> None:
    ctx = {"tenant": "acme", "table": "orders", "é": "ünïcode"}
    blob = ring.encrypt(sym, b"row", ctx)
    assert ring.decrypt(blob, dict(reversed(list(ctx.items())))) == b"row"
    assert ring.decrypt(blob, keyplane.EncryptionContext(ctx)) == b"row"
    assert ring.decrypt(blob, context=ctx) == b"row"
    for wrong in [None, {}, {"tenant": "acme"}, {**ctx, "tenant": "other"}, {**ctx, "x": ""}]:
        with pytest.raises(keyplane.InvalidCiphertextError):
            ring.decrypt(blob, wrong)


def test_empty_context_forms_are_equal(ring: keyplane.Keyring, sym: str) -> None:
    blob = ring.encrypt(sym, b"x")
    empties: list[Any] = [None, {}, keyplane.EncryptionContext(), keyplane.EncryptionContext({})]
    for empty in empties:
        assert ring.decrypt(blob, empty) == b"x"


def test_encryption_context_object() -> None:
    ctx = keyplane.EncryptionContext({"b": "2", "a": "1"})
    assert len(ctx) == 2
    assert ctx.to_dict() == {"a": "1", "b": "2"}
    assert list(ctx.to_dict()) == ["a", "b"]
    assert ctx == keyplane.EncryptionContext({"a": "1", "b": "2"})
    assert ctx != keyplane.EncryptionContext({"a": "1"})
    assert hash(ctx) == hash(keyplane.EncryptionContext({"a": "1", "b": "2"}))
    assert repr(ctx) == "EncryptionContext({'a': '1', 'b': '2'})"
    with pytest.raises(AttributeError):
        ctx.inner = None  # type: ignore[attr-defined]


def test_re_encrypt(ring: keyplane.Keyring, sym: str) -> None:
    other = ring.create_key().key_id
    blob = ring.encrypt(sym, b"move me", {"a": "1"})
    moved = ring.re_encrypt(blob, other, source_context={"a": "1"}, destination_context={"b": "2"})
    assert keyplane.inspect_blob(moved).key_id == other
    assert ring.decrypt(moved, {"b": "2"}) == b"move me"
    with pytest.raises(keyplane.InvalidCiphertextError):
        ring.re_encrypt(blob, other)


def test_generate_data_key(ring: keyplane.Keyring, sym: str) -> None:
    ctx = {"purpose": "files"}
    dk = ring.generate_data_key("alias/test", context=ctx)
    assert len(dk.plaintext) == 32
    assert dk.key_id == sym
    assert ring.decrypt(dk.ciphertext_blob, ctx) == dk.plaintext
    assert len(ring.generate_data_key(sym, "AES_128").plaintext) == 16
    assert len(ring.generate_data_key(sym, key_spec="AES_256").plaintext) == 32
    assert len(ring.generate_data_key(sym, number_of_bytes=1).plaintext) == 1
    assert len(ring.generate_data_key(sym, number_of_bytes=1024).plaintext) == 1024
    assert ring.generate_data_key(sym).plaintext != ring.generate_data_key(sym).plaintext
    secret = dk.plaintext.hex()
    assert secret not in repr(dk)
    assert "secret" in repr(dk)
    with pytest.raises(AttributeError):
        dk.plaintext = b""  # type: ignore[misc]


def test_generate_data_key_without_plaintext(ring: keyplane.Keyring, sym: str) -> None:
    blob = ring.generate_data_key_without_plaintext(sym, number_of_bytes=48, context={"a": "b"})
    assert len(ring.decrypt(blob, {"a": "b"})) == 48
    assert len(ring.decrypt(ring.generate_data_key_without_plaintext(sym))) == 32


def test_generate_random(ring: keyplane.Keyring) -> None:
    for n in [1, 12, 1024]:
        r = ring.generate_random(n)
        assert isinstance(r, bytes) and len(r) == n
    assert len({ring.generate_random(16) for _ in range(100)}) == 100


def test_inspect_blob(ring: keyplane.Keyring, sym: str) -> None:
    ring.rotate_key(sym)
    info = keyplane.inspect_blob(ring.encrypt(sym, b"x"))
    assert (info.format_version, info.key_id, info.key_version) == (1, sym, 2)
    assert sym in repr(info)
    with pytest.raises(keyplane.InvalidCiphertextError):
        keyplane.inspect_blob(b"\x02garbage")


def test_nonces_are_fresh(ring: keyplane.Keyring, sym: str) -> None:
    nonces = {nonce_of(ring.encrypt(sym, b"")) for _ in range(5000)}
    assert len(nonces) == 5000


def test_rotation_keeps_old_versions(ring: keyplane.Keyring, sym: str) -> None:
    old = ring.encrypt(sym, b"v1")
    assert ring.rotate_key(sym) == 2
    assert ring.rotate_key("alias/test") == 3
    new = ring.encrypt(sym, b"v3")
    assert keyplane.inspect_blob(new).key_version == 3
    assert ring.decrypt(old) == b"v1"
    ring.set_min_decryption_version(sym, 2)
    with pytest.raises(keyplane.VersionRetiredError):
        ring.decrypt(old)
    assert ring.decrypt(new) == b"v3"
    ring.set_min_decryption_version(sym, 1)
    assert ring.decrypt(old) == b"v1"
    with pytest.raises(keyplane.InvalidInputError):
        ring.set_min_decryption_version(sym, 4)


def test_encryption_budget_rotates_or_refuses() -> None:
    ring = keyplane.Keyring(encryption_budget=3)
    rotating = ring.create_key().key_id
    for _ in range(4):
        ring.encrypt(rotating, b"x")
    meta = ring.describe_key(rotating)
    assert meta.current_version == 2
    assert [v.encryptions for v in meta.versions] == [3, 1]

    refusing = ring.create_key(rotate_on_budget=False).key_id
    for _ in range(3):
        ring.encrypt(refusing, b"x")
    with pytest.raises(keyplane.LimitExceededError):
        ring.encrypt(refusing, b"x")
    ring.set_rotate_on_budget(refusing, True)
    ring.encrypt(refusing, b"x")
    assert ring.describe_key(refusing).current_version == 2
