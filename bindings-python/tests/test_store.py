"""Keyrings persisted in a store directory: reopening, locking and records that do not load."""

from __future__ import annotations

import pathlib

import pytest

import keyplane


@pytest.fixture
def root() -> keyplane.LocalRootKey:
    return keyplane.LocalRootKey("store-root", keyplane.LocalRootKey.generate_material())


def test_reopen_keeps_keys(tmp_path: pathlib.Path, root: keyplane.LocalRootKey) -> None:
    ring = keyplane.Keyring.open(tmp_path / "store", root)
    assert ring.load_problems == []
    key = ring.create_key(alias="alias/kept").key_id
    ring.rotate_key(key)
    blob = ring.encrypt("alias/kept", b"persisted", {"a": "b"})
    del ring  # releases the store's lock

    again = keyplane.Keyring.open(str(tmp_path / "store"), root, max_batch_items=10)
    assert again.load_problems == []
    assert again.decrypt(blob, {"a": "b"}) == b"persisted"
    meta = again.describe_key("alias/kept")
    assert meta.key_id == key and meta.current_version == 2


def test_second_open_is_storage_error(tmp_path: pathlib.Path, root: keyplane.LocalRootKey) -> None:
    ring = keyplane.Keyring.open(tmp_path, root)
    with pytest.raises(keyplane.StorageError) as info:
        keyplane.Keyring.open(tmp_path, root)
    assert isinstance(info.value, OSError) and info.value.code == "KP_STORAGE"
    assert "in use" in str(info.value)
    ring.create_key()  # the first keyring is unaffected


def test_store_dir_that_cannot_be_created(tmp_path: pathlib.Path, root: keyplane.LocalRootKey) -> None:
    file = tmp_path / "a-file"
    file.write_bytes(b"x")
    with pytest.raises(keyplane.StorageError):
        keyplane.Keyring.open(file / "store", root)


def test_load_problems(tmp_path: pathlib.Path, root: keyplane.LocalRootKey) -> None:
    ring = keyplane.Keyring.open(tmp_path, root)
    good = ring.create_key().key_id
    ring.create_key()
    del ring
    records = sorted((tmp_path / "keys").iterdir())
    assert len(records) == 2
    damaged = next(p for p in records if good.encode().hex() not in p.name)
    data = bytearray(damaged.read_bytes())
    data[-1] ^= 1
    damaged.write_bytes(bytes(data))

    again = keyplane.Keyring.open(tmp_path, root)
    assert again.list_keys() == [good]
    (problem,) = again.load_problems
    assert pathlib.Path(problem.path) == damaged
    assert isinstance(problem.error, keyplane.InvalidCiphertextError)
    assert "LoadProblem" in repr(problem)
    # The problems are shared by caller handles of the same keyring.
    assert len(again.with_caller("x").load_problems) == 1
    del again

    # A root key of another id opens nothing.
    other = keyplane.Keyring.open(tmp_path, keyplane.LocalRootKey("other", bytes(32)))
    assert other.list_keys() == [] and len(other.load_problems) == 2
    assert keyplane.Keyring().load_problems == []


def test_open_bad_arguments(tmp_path: pathlib.Path, root: keyplane.LocalRootKey) -> None:
    with pytest.raises(TypeError):
        keyplane.Keyring.open(tmp_path, b"\x00" * 32)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        keyplane.Keyring.open(42, root)  # type: ignore[arg-type]
    with pytest.raises(keyplane.InvalidInputError):
        keyplane.Keyring.open(tmp_path, root, encryption_budget=0)
