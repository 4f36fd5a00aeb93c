"""Shared fixtures and helpers for the keyplane test suite."""

from __future__ import annotations

import pathlib

import pytest

import keyplane

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "vectors"


def nonce_of(blob: bytes) -> bytes:
    """The 12-byte nonce of a format-1 blob (FORMAT.md: offset 6 + L)."""
    key_id_len = blob[1]
    return blob[6 + key_id_len : 18 + key_id_len]


@pytest.fixture
def ring() -> keyplane.Keyring:
    return keyplane.Keyring()


@pytest.fixture
def sym(ring: keyplane.Keyring) -> str:
    """A symmetric key with the alias alias/test."""
    return ring.create_key(alias="alias/test").key_id
