"""Threads: concurrent calls are correct, and the GIL is released while Keyplane works.

Evidence of the release: with a switch interval far longer than any call, another Python thread
runs while a Keyplane call is in progress only if the call released the GIL (a count, never a
time). How far threads scale is the benchmark's business, not a test's."""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import pytest

import keyplane
from conftest import nonce_of


def test_eight_threads_encrypt_concurrently(ring: keyplane.Keyring, sym: str) -> None:
    per_thread = 2000
    barrier = threading.Barrier(8)

    def work(t: int) -> list[tuple[bytes, bytes, dict[str, str]]]:
        barrier.wait()
        out = []
        for i in range(per_thread):
            plaintext = f"thread {t} item {i}".encode() * (1 + i % 7)
            ctx = {"thread": str(t)}
            out.append((plaintext, ring.encrypt(sym if i % 2 else "alias/test", plaintext, ctx), ctx))
        return out

    with ThreadPoolExecutor(8) as pool:
        results = [r for rs in pool.map(work, range(8)) for r in rs]
    assert len(results) == 8 * per_thread
    assert len({nonce_of(blob) for _, blob, _ in results}) == len(results)
    for plaintext, blob, ctx in results:
        assert ring.decrypt(blob, ctx) == plaintext
    assert ring.describe_key(sym).versions[0].encryptions == 8 * per_thread


def test_threads_mix_every_kind_of_call(ring: keyplane.Keyring, sym: str) -> None:
    ec = ring.create_key("ECC_NIST_P256").key_id
    mac = ring.create_key("HMAC_256").key_id
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(50):
                m = f"{t}/{i}".encode()
                assert ring.verify(ec, m, ring.sign(ec, m, "ECDSA_SHA_256"), "ECDSA_SHA_256")
                assert ring.verify_mac(mac, m, ring.generate_mac(mac, m, "HMAC_SHA_256"), "HMAC_SHA_256")
                blobs = ring.encrypt_many(sym, [m] * 20, {"t": str(t)})
                assert ring.decrypt_many(blobs, {"t": str(t)}) == [m] * 20  # type: ignore[arg-type]
                dk = ring.generate_data_key(sym)
                assert ring.decrypt(dk.ciphertext_blob) == dk.plaintext
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []


def _ran_during(call: Callable[[], object], attempts: int = 20) -> int:
    """How many times another Python thread ran while `call` was running on this thread.

    With a switch interval far longer than any call, CPython never makes a thread that holds
    the GIL give it up, so the other thread can run during the call only if the call released
    the GIL itself. No clock is read: the answer is a count, zero when the GIL was held.

    A call that releases the GIL only lets the other thread run if the OS schedules it before
    the call ends, which on a loaded machine can take longer than one call: the call is made
    again (at most `attempts` times) until the other thread has run. A call that holds the GIL
    scores zero however often it runs."""
    ran = 0
    done = False
    go = threading.Event()

    def other() -> None:
        nonlocal ran
        go.wait()
        while not done:
            ran += 1
            time.sleep(0)  # hands the GIL back to the call as soon as it wants it

    interval = sys.getswitchinterval()
    thread = threading.Thread(target=other)
    thread.start()
    sys.setswitchinterval(1000.0)
    try:
        go.set()  # `other` now waits for the GIL, which this thread keeps into the call
        for _ in range(attempts):
            call()
            if ran:
                break
        during = ran
    finally:
        done = True
        sys.setswitchinterval(interval)
        thread.join()
    return during


@pytest.mark.parametrize(
    "what",
    ["rsa key generation", "rsa data key pair", "rsa sign", "rsa sign_many", "encrypt_many"],
)
def test_python_runs_during_a_long_call(what: str) -> None:
    ring = keyplane.Keyring(threads=1)
    sym = ring.create_key().key_id
    signer = ring.create_key("RSA_4096", usage="SIGN_VERIFY").key_id
    calls: dict[str, Callable[[], object]] = {
        "rsa key generation": lambda: ring.create_key("RSA_4096", usage="SIGN_VERIFY"),
        "rsa data key pair": lambda: ring.generate_data_key_pair(sym, "RSA_4096"),
        "rsa sign": lambda: ring.sign(signer, b"m", "RSASSA_PSS_SHA_256"),
        "rsa sign_many": lambda: ring.sign_many(signer, [b"m"] * 50, "RSASSA_PSS_SHA_256"),
        "encrypt_many": lambda: ring.encrypt_many(sym, [bytes(4096)] * 5_000),
    }
    assert _ran_during(calls[what]) > 0, f"{what} held the GIL throughout"


def test_the_check_sees_a_call_that_holds_the_gil() -> None:
    # The same check around pure Python work, which never releases the GIL: it must report 0,
    # or the test above could not fail.
    assert _ran_during(lambda: sum(i * i for i in range(200_000)), attempts=3) == 0
