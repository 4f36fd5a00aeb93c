"""Batch forms: one result per item in input order, failed items as exception instances,
one-value-or-list arguments, batch-wide errors, and batch == one call at a time."""

from __future__ import annotations

from typing import Any

import pytest

import keyplane


def test_encrypt_decrypt_many(ring: keyplane.Keyring, sym: str) -> None:
    rows = [f"row {i}".encode() for i in range(3000)]
    ctx = {"table": "orders"}
    blobs = ring.encrypt_many(sym, rows, ctx)
    assert len(blobs) == len(rows)
    assert all(isinstance(b, bytes) for b in blobs)
    assert [ring.decrypt(b, ctx) for b in blobs] == rows  # type: ignore[arg-type]
    assert ring.decrypt_many(blobs, ctx) == rows  # type: ignore[arg-type]
    assert ring.decrypt_many(tuple(blobs), keyplane.EncryptionContext(ctx)) == rows  # type: ignore[arg-type]


def test_mixed_inputs_and_per_item_arguments(ring: keyplane.Keyring, sym: str) -> None:
    other = ring.create_key(alias="alias/other").key_id
    plaintexts: list[Any] = [b"a", bytearray(b"b"), memoryview(b"c"), b""]
    key_ids = [sym, "alias/other", other, "alias/test"]
    contexts = [None, {"i": "1"}, keyplane.EncryptionContext({"i": "2"}), {}]
    blobs = ring.encrypt_many(key_ids, plaintexts, contexts)
    assert [keyplane.inspect_blob(b).key_id for b in blobs] == [sym, other, other, sym]  # type: ignore[arg-type]
    assert ring.decrypt_many(blobs, contexts) == [b"a", b"b", b"c", b""]  # type: ignore[arg-type]


def test_failed_items_are_exception_instances(ring: keyplane.Keyring, sym: str) -> None:
    hmac = ring.create_key("HMAC_256").key_id
    out = ring.encrypt_many([sym, "nope", hmac, sym], [b"1", b"2", b"3", b"4"])
    assert isinstance(out[0], bytes) and isinstance(out[3], bytes)
    assert isinstance(out[1], keyplane.NotFoundError)
    assert isinstance(out[2], keyplane.InvalidKeyUsageError)
    assert out[1].code == "KP_NOT_FOUND"
    blobs = ring.encrypt_many(sym, [b"x", b"y", b"z"], {"c": "1"})
    back = ring.decrypt_many([blobs[0], b"garbage", blobs[2]], [{"c": "1"}, {"c": "1"}, {"c": "2"}])  # type: ignore[list-item]
    assert back[0] == b"x"
    assert isinstance(back[1], keyplane.InvalidCiphertextError)
    assert isinstance(back[2], keyplane.InvalidCiphertextError)


def test_empty_batches(ring: keyplane.Keyring, sym: str) -> None:
    assert ring.encrypt_many(sym, []) == []
    assert ring.decrypt_many([]) == []
    assert ring.sign_many(sym, [], "ECDSA_SHA_256") == []
    assert ring.generate_data_key_many(sym, 0) == []


def test_batch_wide_errors(ring: keyplane.Keyring, sym: str) -> None:
    with pytest.raises(keyplane.InvalidInputError):
        ring.encrypt_many([sym, sym], [b"x"])
    with pytest.raises(keyplane.InvalidInputError):
        ring.decrypt_many([b"x"], [{}, {}])
    with pytest.raises(keyplane.InvalidInputError):
        ring.generate_data_key_many(sym)  # no count
    with pytest.raises(keyplane.InvalidInputError):
        ring.generate_data_key_many([sym], 2)
    with pytest.raises(TypeError) as err:
        ring.encrypt_many(sym, [b"ok", "text"])  # type: ignore[list-item]
    assert "plaintexts[1]" in str(err.value)
    with pytest.raises(TypeError):
        ring.encrypt_many(sym, b"not a list")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ring.encrypt_many(sym, (b for b in [b"x"]))  # type: ignore[arg-type]
    from collections import deque

    other_sequences = ring.encrypt_many((sym,), deque([b"from a deque"]))
    assert ring.decrypt_many(other_sequences) == [b"from a deque"]  # type: ignore[arg-type]
    small = keyplane.Keyring(max_batch_items=3)
    key = small.create_key().key_id
    with pytest.raises(keyplane.LimitExceededError):
        small.encrypt_many(key, [b""] * 4)


def test_re_encrypt_many(ring: keyplane.Keyring, sym: str) -> None:
    dest = ring.create_key().key_id
    blobs = ring.encrypt_many(sym, [b"a", b"b"], [{"s": "1"}, {"s": "2"}])
    moved = ring.re_encrypt_many(blobs, dest, source_context=[{"s": "1"}, {"s": "2"}], destination_context={"d": "x"})  # type: ignore[arg-type]
    assert [keyplane.inspect_blob(m).key_id for m in moved] == [dest, dest]  # type: ignore[arg-type]
    assert ring.decrypt_many(moved, {"d": "x"}) == [b"a", b"b"]  # type: ignore[arg-type]
    failed = ring.re_encrypt_many(blobs, dest)  # type: ignore[arg-type]
    assert all(isinstance(f, keyplane.InvalidCiphertextError) for f in failed)


def test_generate_data_key_many(ring: keyplane.Keyring, sym: str) -> None:
    keys = ring.generate_data_key_many(sym, 50, context={"p": "q"})
    assert len(keys) == 50
    plaintexts = set()
    for dk in keys:
        assert isinstance(dk, keyplane.DataKey)
        assert dk.key_id == sym and len(dk.plaintext) == 32
        assert ring.decrypt(dk.ciphertext_blob, {"p": "q"}) == dk.plaintext
        plaintexts.add(dk.plaintext)
    assert len(plaintexts) == 50
    mixed = ring.generate_data_key_many([sym, "nope"], number_of_bytes=7)
    assert isinstance(mixed[0], keyplane.DataKey) and len(mixed[0].plaintext) == 7
    assert isinstance(mixed[1], keyplane.NotFoundError)
    blobs = ring.generate_data_key_without_plaintext_many(sym, 3, key_spec="AES_128")
    assert [len(ring.decrypt(b)) for b in blobs] == [16, 16, 16]  # type: ignore[arg-type]
    per_context = ring.generate_data_key_without_plaintext_many(sym, context=[{"a": "1"}, {"a": "2"}])
    assert len(ring.decrypt(per_context[1], {"a": "2"})) == 32  # type: ignore[arg-type]


def test_mac_many(ring: keyplane.Keyring) -> None:
    k256 = ring.create_key("HMAC_256").key_id
    k512 = ring.create_key("HMAC_512").key_id
    messages = [f"m{i}".encode() for i in range(100)]
    tags = ring.generate_mac_many(k256, messages, "HMAC_SHA_256")
    assert tags == [ring.generate_mac(k256, m, "HMAC_SHA_256") for m in messages]
    assert ring.verify_mac_many(k256, messages, tags, "HMAC_SHA_256") == [True] * 100  # type: ignore[arg-type]
    wrong = ring.verify_mac_many(k256, messages, list(reversed(tags)), "HMAC_SHA_256")  # type: ignore[arg-type]
    assert wrong.count(True) == 0
    mixed = ring.generate_mac_many([k256, k512, k512], [b"a", b"b", b"c"], ["HMAC_SHA_256", "HMAC_SHA_512", "HMAC_SHA_256"])
    assert len(mixed[0]) == 32 and len(mixed[1]) == 64  # type: ignore[arg-type]
    assert isinstance(mixed[2], keyplane.InvalidKeyUsageError)
    with pytest.raises(keyplane.InvalidInputError):
        ring.verify_mac_many(k256, [b"a"], [], "HMAC_SHA_256")


def test_sign_verify_many(ring: keyplane.Keyring) -> None:
    ec = ring.create_key("ECC_NIST_P256").key_id
    rsa = ring.create_key("RSA_2048", usage="SIGN_VERIFY").key_id
    messages = [f"doc {i}".encode() for i in range(20)]
    sigs = ring.sign_many(ec, messages, "ECDSA_SHA_256")
    assert all(ring.verify(ec, m, s, "ECDSA_SHA_256") for m, s in zip(messages, sigs))  # type: ignore[arg-type]
    assert ring.verify_many(ec, messages, sigs, "ECDSA_SHA_256") == [True] * 20  # type: ignore[arg-type]
    assert ring.verify_many(ec, messages[1:] + messages[:1], sigs, "ECDSA_SHA_256") == [False] * 20  # type: ignore[arg-type]
    import hashlib

    digest = hashlib.sha256(b"doc").digest()
    mixed = ring.sign_many(
        [ec, rsa, rsa, "nope"],
        [b"doc", digest, b"doc", b"doc"],
        ["ECDSA_SHA_256", "RSASSA_PSS_SHA_256", "ECDSA_SHA_256", "ECDSA_SHA_256"],
        message_type=["RAW", "DIGEST", "RAW", "RAW"],
    )
    assert ring.verify(ec, b"doc", mixed[0], "ECDSA_SHA_256")  # type: ignore[arg-type]
    assert ring.verify(rsa, b"doc", mixed[1], "RSASSA_PSS_SHA_256")  # type: ignore[arg-type]
    assert isinstance(mixed[2], keyplane.InvalidKeyUsageError)
    assert isinstance(mixed[3], keyplane.NotFoundError)
    checks = ring.verify_many(
        [ec, rsa], [digest, digest], [mixed[0], mixed[1]], ["ECDSA_SHA_256", "RSASSA_PSS_SHA_256"], message_type="DIGEST"  # type: ignore[list-item]
    )
    assert checks == [True, True]
    with pytest.raises(keyplane.InvalidInputError):
        ring.sign_many(ec, [b"a", b"b"], ["ECDSA_SHA_256"])


def test_batch_results_outlive_inputs(ring: keyplane.Keyring, sym: str) -> None:
    plaintexts = [bytearray(b"mutable %d" % i) for i in range(500)]
    blobs = ring.encrypt_many(sym, plaintexts)
    for p in plaintexts:
        p[:] = b"changed afterwards"
    assert ring.decrypt_many(blobs) == [b"mutable %d" % i for i in range(500)]  # type: ignore[arg-type]


def test_large_batches_keep_order_and_item_failures(ring: keyplane.Keyring, sym: str) -> None:
    # Several thousand items: outputs are made into bytes in slices while later ones run.
    hmac = ring.create_key("HMAC_256").key_id
    n = 9001
    key_ids = [hmac if i % 1000 == 7 else ("nope" if i % 777 == 5 else sym) for i in range(n)]
    rows = [f"row {i}".encode() for i in range(n)]
    blobs = ring.encrypt_many(key_ids, rows, {"t": "big"})
    assert len(blobs) == n
    for i, (k, b) in enumerate(zip(key_ids, blobs)):
        if k == hmac:
            assert isinstance(b, keyplane.InvalidKeyUsageError), i
        elif k == "nope":
            assert isinstance(b, keyplane.NotFoundError), i
        else:
            assert isinstance(b, bytes), i
    good = [b for b in blobs if isinstance(b, bytes)]
    contexts = [{"t": "big"} if i % 500 else {"t": "other"} for i in range(len(good))]
    back = ring.decrypt_many(good, contexts)
    expected = [r for k, r in zip(key_ids, rows) if k == sym]
    for i, (got, want) in enumerate(zip(back, expected)):
        if i % 500:
            assert got == want, i
        else:
            assert isinstance(got, keyplane.InvalidCiphertextError), i
    small = keyplane.Keyring(max_batch_items=5000)
    key = small.create_key().key_id
    with pytest.raises(keyplane.LimitExceededError):
        small.encrypt_many(key, [b""] * 5001)
    with pytest.raises(keyplane.LimitExceededError):
        small.decrypt_many([b"x"] * 5001)
    assert len(small.encrypt_many(key, [b""] * 5000)) == 5000
