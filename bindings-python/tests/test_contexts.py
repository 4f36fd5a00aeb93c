"""Encryption contexts given as a dict and as a prebuilt EncryptionContext: the same pairs make
the same authenticated data whichever form encrypts and whichever decrypts, and every bad dict
gets the same exception, with the same message, from every place a context is taken."""

from __future__ import annotations

import collections
from typing import Any, Callable, Iterator

import pytest

import keyplane


class _DistinctStr(str):
    """A str whose instances are never equal to one another, so a dict can hold two keys with
    the same text: the only way a dict can give the same context key twice."""

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


class _OpaqueDict(dict):  # type: ignore[type-arg]
    """A dict subclass whose Python-level iteration fails: its pairs are read from the dict
    itself, as before."""

    def items(self) -> Any:
        raise RuntimeError("items() is not how a context is read")

    def __iter__(self) -> Any:
        raise RuntimeError("__iter__ is not how a context is read")


@pytest.fixture(params=["borrowed", "copied"])
def str_reading(request: pytest.FixtureRequest) -> Iterator[str]:
    """How `str` arguments are read: borrowed from the `str` (CPython 3.10+), or copied into a
    `bytes` as on 3.9, which the test build can switch to (scripts/test runs this file there)."""
    if request.param == "borrowed":
        yield "borrowed"
        return
    switch = getattr(keyplane.Keyring, "_insecure_copy_str_arguments", None)
    if switch is None:
        pytest.skip("reading str as on 3.9 needs the insecure-test-hooks build")
    before = switch(True)
    try:
        yield "copied"
    finally:
        switch(before)


GOOD: list[dict[str, str]] = [
    {},
    {"tenant": "acme"},
    {"tenant": "acme", "table": "orders"},
    {"table": "orders", "tenant": "acme"},  # insertion order does not matter
    {"clé": "välue", "キー": "値", "emoji": "\U0001f511", "a\x00b": "nul inside"},
    {f"k{i:02}": f"v{i}" for i in range(40)},  # more pairs than fit inline
    {"k": "v" * 8191},  # exactly 8192 bytes
    {"é" * 2048: "ü" * 2048},  # exactly 8192 bytes of UTF-8 from 4096 characters
]


@pytest.mark.parametrize("pairs", GOOD, ids=lambda p: f"{len(p)} pairs")
def test_dict_and_prebuilt_contexts_are_interchangeable(
    ring: keyplane.Keyring, sym: str, pairs: dict[str, str], str_reading: str
) -> None:
    prebuilt = keyplane.EncryptionContext(pairs)
    assert prebuilt.to_dict() == pairs and list(prebuilt.to_dict()) == sorted(pairs, key=str.encode)
    assert prebuilt == keyplane.EncryptionContext(dict(reversed(list(pairs.items()))))
    for data in [b"", b"x" * 64, b"y" * 4096]:
        by_dict = ring.encrypt(sym, data, pairs)
        by_prebuilt = ring.encrypt(sym, data, prebuilt)
        for blob in [by_dict, by_prebuilt]:
            assert ring.decrypt(blob, pairs) == data
            assert ring.decrypt(blob, prebuilt) == data
            if pairs:
                with pytest.raises(keyplane.InvalidCiphertextError):
                    ring.decrypt(blob)
    # The batch forms read contexts the same way.
    blobs = ring.encrypt_many(sym, [b"a", b"b"], [pairs, prebuilt])
    assert ring.decrypt_many(blobs, [prebuilt, pairs]) == [b"a", b"b"]  # type: ignore[arg-type]
    # Key ids and aliases are read the same way.
    assert ring.decrypt(ring.encrypt("alias/test", b"z", pairs), prebuilt) == b"z"


def test_subclasses_of_dict_and_str_are_read_as_their_contents(
    ring: keyplane.Keyring, sym: str, str_reading: str
) -> None:
    plain = {"tenant": "acme"}
    blob = ring.encrypt(sym, b"x", plain)
    for same in [
        collections.OrderedDict(plain),
        collections.defaultdict(str, plain),
        _OpaqueDict(plain),
        {_DistinctStr("tenant"): _DistinctStr("acme")},
    ]:
        assert ring.decrypt(blob, same) == b"x"
        assert ring.encrypt(sym, b"y", same) and keyplane.EncryptionContext(same) == keyplane.EncryptionContext(plain)


_TYPES = "encryption context keys and values must be str"
_NOT_UTF8 = "is not valid Unicode (lone surrogate at index {}): it cannot be encoded as UTF-8"

# (context, exception class, exact message) as the dict reader has always given them.
BAD_DICTS: list[tuple[str, dict[Any, Any], type[Exception], str]] = [
    ("int value", {"a": 1}, TypeError, _TYPES),
    ("int key", {1: "a"}, TypeError, _TYPES),
    ("bytes value", {"a": b"b"}, TypeError, _TYPES),
    ("bytes key", {b"a": "b"}, TypeError, _TYPES),
    ("None value", {"a": None}, TypeError, _TYPES),
    ("bad type after good pairs", {"a": "1", "b": "2", "c": 3}, TypeError, _TYPES),
    # Types are checked on every pair before the pairs themselves are judged.
    ("bad type after empty key", {"": "x", "k": 1}, TypeError, _TYPES),
    ("empty key", {"": "v"}, keyplane.InvalidInputError, "invalid input: encryption context key must not be empty"),
    ("8193 bytes", {"k": "v" * 8192}, keyplane.LimitExceededError, "limit exceeded: encryption context exceeds 8192 bytes"),
    (
        "8193 bytes over many pairs",
        {f"k{i:02}": "v" * 100 for i in range(80)} | {"z": "w" * 32},
        keyplane.LimitExceededError,
        "limit exceeded: encryption context exceeds 8192 bytes",
    ),
    (
        "8193 bytes of UTF-8",
        {"k": "é" * 4096},
        keyplane.LimitExceededError,
        "limit exceeded: encryption context exceeds 8192 bytes",
    ),
    (
        "same key twice",
        {_DistinctStr("a"): "1", _DistinctStr("a"): "2"},
        keyplane.InvalidInputError,
        "invalid input: encryption context key given twice",
    ),
    ("lone surrogate in key", {"k\ud800": "v"}, keyplane.InvalidInputError, "an encryption context key " + _NOT_UTF8.format(1)),
    (
        "lone surrogate after U+FFFD in key",
        {"\ufffd\ufffd\udc80": "v"},
        keyplane.InvalidInputError,
        "an encryption context key " + _NOT_UTF8.format(2),
    ),
    (
        "lone surrogate in value",
        {"k": "\udc80"},
        keyplane.InvalidInputError,
        "the encryption context value of 'k' " + _NOT_UTF8.format(0),
    ),
    (
        "lone surrogate in value, key quoted",
        {"it's\\": "ab\ud800"},
        keyplane.InvalidInputError,
        "the encryption context value of 'it\\'s\\\\' " + _NOT_UTF8.format(2),
    ),
    (
        "lone surrogate in value, key too long to quote",
        {"k" * 65: "a\ud800"},
        keyplane.InvalidInputError,
        "an encryption context value " + _NOT_UTF8.format(1),
    ),
    (
        "lone surrogate in the ninth pair",
        {f"k{i}": "v" for i in range(8)} | {"k8": "\ud800"},
        keyplane.InvalidInputError,
        "the encryption context value of 'k8' " + _NOT_UTF8.format(0),
    ),
]


def _context_takers(ring: keyplane.Keyring, sym: str) -> list[Callable[[Any], object]]:
    blob = ring.encrypt(sym, b"x")
    return [
        lambda c: ring.encrypt(sym, b"x", c),
        lambda c: ring.decrypt(blob, c),
        lambda c: ring.generate_data_key(sym, context=c),
        lambda c: ring.re_encrypt(blob, sym, destination_context=c),
        lambda c: keyplane.EncryptionContext(c),
    ]


@pytest.mark.parametrize("bad", BAD_DICTS, ids=lambda case: case[0])
def test_bad_dicts_get_the_same_errors_everywhere(
    ring: keyplane.Keyring,
    sym: str,
    bad: tuple[str, dict[Any, Any], type[Exception], str],
    str_reading: str,
) -> None:
    _, context, error, message = bad
    for take in _context_takers(ring, sym):
        with pytest.raises(error) as err:
            take(context)
        assert str(err.value) == message
    # In a batch, a wrong type fails the whole call; any other bad context fails its item.
    if error is TypeError:
        with pytest.raises(TypeError, match=message):
            ring.encrypt_many(sym, [b"a", b"b"], [{"k": "v"}, context])
        return
    out = ring.encrypt_many(sym, [b"a", b"b"], [{"k": "v"}, context])
    assert isinstance(out[0], bytes)
    assert isinstance(out[1], error) and str(out[1]) == message


@pytest.mark.parametrize(
    "not_a_dict",
    ["a=b", [("a", "b")], ("a", "b"), 5, b"x", collections.UserDict(a="b"), type("X", (), {}).__dict__],
    ids=lambda v: type(v).__name__,
)
def test_contexts_that_are_not_dicts_are_refused(ring: keyplane.Keyring, sym: str, not_a_dict: Any) -> None:
    for take in _context_takers(ring, sym)[:-1]:
        with pytest.raises(TypeError) as err:
            take(not_a_dict)
        assert str(err.value) == "context must be a dict[str, str], a keyplane.EncryptionContext or None"
    with pytest.raises(TypeError, match="is not an instance of 'dict'"):
        keyplane.EncryptionContext(not_a_dict)
