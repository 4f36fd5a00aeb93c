"""Mutable inputs while the GIL is released: Keyplane reads a private snapshot of every buffer
other than `bytes`, so a thread writing or resizing the buffer meanwhile can neither tear the
input nor make Keyplane read freed memory."""

from __future__ import annotations

import threading
from typing import Callable

import keyplane


def _while_mutating(mutate: Callable[[int], None], work: Callable[[], None], rounds: int) -> None:
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            mutate(i)
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(rounds):
            work()
    finally:
        stop.set()
        thread.join()


def test_bytearray_written_during_encrypt_is_read_as_one_snapshot(ring: keyplane.Keyring, sym: str) -> None:
    size = 1 << 20
    buf = bytearray(size)
    fills = [bytes([v]) * size for v in range(1, 5)]
    blobs: list[bytes] = []

    def mutate(i: int) -> None:
        buf[:] = fills[i % len(fills)]  # one assignment under the GIL: never half-done

    _while_mutating(mutate, lambda: blobs.append(ring.encrypt(sym, buf)), 60)
    _while_mutating(mutate, lambda: blobs.append(ring.encrypt(sym, memoryview(buf))), 60)
    for blob in blobs:
        plaintext = ring.decrypt(blob)
        assert len(plaintext) == size
        assert plaintext.count(plaintext[:1]) == size, "a torn read of a buffer being written"


def test_bytearray_resized_during_calls(ring: keyplane.Keyring, sym: str) -> None:
    buf = bytearray(b"a" * 4096)
    seen: list[bytes] = []

    def mutate(i: int) -> None:
        if i % 2:
            buf.extend(b"a" * 65536)
        else:
            del buf[4096:]

    def work() -> None:
        seen.append(ring.decrypt(ring.encrypt(sym, buf)))
        ring.generate_mac(mac, buf, "HMAC_SHA_256")

    mac = ring.create_key("HMAC_256").key_id
    _while_mutating(mutate, work, 200)
    assert {len(s) for s in seen} <= {4096, 4096 + 65536}
    assert all(s == b"a" * len(s) for s in seen)


def test_batch_list_changed_during_call(ring: keyplane.Keyring, sym: str) -> None:
    items = [b"x" * 64] * 20_000

    def mutate(i: int) -> None:
        if i % 2:
            items.append(b"y" * 64)
        else:
            items.pop()

    results: list[list[bytes | keyplane.KeyplaneError]] = []
    _while_mutating(mutate, lambda: results.append(ring.encrypt_many(sym, items)), 20)
    for blobs in results:
        assert len(blobs) in (19_999, 20_000)
        assert set(ring.decrypt_many(blobs)) <= {b"x" * 64, b"y" * 64}  # type: ignore[arg-type]
