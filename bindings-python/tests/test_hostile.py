"""Hostile input: what an attacker, or a user having a bad day, does to a binding.

Classes covered: released and resized buffers, reference cycles through audit callbacks under
the garbage collector, interpreter exit with audit work queued, fork() with threads, huge
counts, invalid Unicode (lone surrogates) wherever a string is taken, and re-entrancy (an audit
callback calling into its keyring). Anything that could crash or hang the interpreter runs in a
child process with a timeout, so a regression fails the test instead of killing or hanging
pytest.
"""

from __future__ import annotations

import datetime as dt
import gc
import mmap
import os
import select
import signal
import subprocess
import sys
import textwrap
import threading
from typing import Any, Callable

import pytest

import keyplane


def run_child(script: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Runs ``script`` in a fresh interpreter; a hang is a failure (the child is killed)."""
    try:
        return subprocess.run(
            [sys.executable, "-c", textwrap.dedent(script)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the child did not finish within {timeout} s (hang or deadlock)")


def assert_clean_exit(done: subprocess.CompletedProcess[str]) -> None:
    # A negative return code is a signal: a segfault or an abort.
    assert done.returncode == 0, (
        f"child exited with {done.returncode}\nstdout: {done.stdout[-2000:]}\n"
        f"stderr: {done.stderr[-4000:]}"
    )


# ----- reference cycles through an audit callback, under the garbage collector --------------

_CYCLES = """
    import gc, sys, weakref
    import keyplane

    reported = []
    sys.unraisablehook = lambda u: reported.append(repr(u.exc_value))

    class Service:
        # A bound method as the callback: the keyring -> callback -> service -> keyring.
        def __init__(self):
            self.seen = []
            self.ring = keyplane.Keyring(audit=keyplane.Audit(callback=self.on_event))
            self.handle = self.ring.with_caller("svc")

        def on_event(self, event):
            self.seen.append(event.operation)

    def closure_cycle():
        # A closure: the keyring -> function -> cell -> keyring.
        seen = []
        ring = None
        def callback(event):
            seen.append((event.operation, ring is not None))
        ring = keyplane.Keyring(audit=keyplane.Audit(callback=callback))
        return ring

    alive = []
    for round in range(40):
        service = Service()
        key = service.ring.create_key().key_id
        for _ in range(300):  # events still queued when the cycle becomes garbage
            service.handle.encrypt(key, b"x")
        alive.append(weakref.ref(service))
        ring = closure_cycle()
        other = ring.create_key().key_id
        ring.encrypt_many(other, [b"y"] * 300)
        del service, ring
        gc.collect()
    gc.collect()
    assert not any(r() is not None for r in alive), "a cycle was not freed"
    # A callback run after the collector had cleared what it uses raises (AttributeError,
    # NameError): none may run.
    assert not reported, reported[:3]
    print("ok")
"""


def test_cycles_through_an_audit_callback_are_freed_safely() -> None:
    for _ in range(3):
        done = run_child(_CYCLES)
        assert_clean_exit(done)
        assert done.stdout.strip() == "ok"


def test_a_live_handle_keeps_its_callback_through_collections() -> None:
    seen: list[str] = []
    ring = keyplane.Keyring(audit=keyplane.Audit(callback=lambda e: seen.append(e.operation)))
    handles = [ring.with_caller(f"c{i}") for i in range(4)]
    key = ring.create_key().key_id
    del ring
    gc.collect()
    handles[0].encrypt(key, b"x")
    handles[0].flush_audit()
    assert seen == ["CreateKey", "Encrypt"]
    assert handles[0].audit_failures == 0


# ----- interpreter exit with audit events queued ---------------------------------------------

_EXIT_WITH_QUEUED_EVENTS = """
    import keyplane
    events = []
    ring = keyplane.Keyring(audit=keyplane.Audit(callback=lambda e: events.append(e.operation)))
    key = ring.create_key().key_id
    for _ in range(2000):
        ring.encrypt(key, b"x")
    print("done")
    # No flush_audit(): the interpreter exits with events queued for the writer.
"""


def test_exit_with_audit_events_queued_always_completes() -> None:
    for _ in range(8):
        done = run_child(_EXIT_WITH_QUEUED_EVENTS, timeout=60)
        assert_clean_exit(done)
        assert done.stdout.strip() == "done"


# ----- re-entrancy: an audit callback calling into its own keyring ---------------------------

_REENTRANT_CALLBACK = """
    import keyplane
    errors = []
    ring = None

    def callback(event):
        # Runs on the audit writer thread: every audited call on this keyring from here would
        # wait for this very thread once the one-slot queue is full.
        try:
            ring.encrypt(key, b"from the callback")
        except keyplane.KeyplaneError as e:
            errors.append(e)

    ring = keyplane.Keyring(audit=keyplane.Audit(callback=callback, queue_capacity=1))
    key = ring.create_key().key_id
    for _ in range(50):
        ring.encrypt(key, b"x")
    ring.flush_audit()
    assert errors, "the callback's calls were not refused"
    assert all(isinstance(e, keyplane.InvalidInputError) for e in errors), errors[:3]
    assert "cannot use the keyring it audits" in str(errors[0]), str(errors[0])
    assert ring.audit_failures == 0
    print("ok", len(errors))
"""


def test_an_audit_callback_calling_its_keyring_gets_an_error_not_a_deadlock() -> None:
    done = run_child(_REENTRANT_CALLBACK, timeout=60)
    assert_clean_exit(done)
    assert done.stdout.startswith("ok")


# ----- released and resized buffers ----------------------------------------------------------


def _released() -> memoryview:
    view = memoryview(b"secret")
    view.release()
    return view


def _closed_mmap() -> mmap.mmap:
    m = mmap.mmap(-1, 16)
    m.close()
    return m


def test_released_buffers_say_what_is_wrong(ring: keyplane.Keyring, sym: str) -> None:
    cases: list[tuple[Any, str]] = [
        (_released(), "memoryview has been released"),
        (_closed_mmap(), "mmap is closed"),
    ]
    for buffer, message in cases:
        with pytest.raises(keyplane.InvalidInputError, match=message):
            ring.encrypt(sym, buffer)
        with pytest.raises(keyplane.InvalidInputError, match=message):
            ring.decrypt(buffer)
        with pytest.raises(keyplane.InvalidInputError, match=message):
            keyplane.inspect_blob(buffer)
        # In a batch it is that item's result; the other items go through.
        out = ring.encrypt_many(sym, [b"a", buffer, b"c"])
        assert isinstance(out[1], keyplane.InvalidInputError) and message in str(out[1])
        assert ring.decrypt_many([out[0], out[2]]) == [b"a", b"c"]  # type: ignore[list-item]
    # Not a buffer at all is still a TypeError.
    with pytest.raises(TypeError, match="bytes-like object"):
        ring.encrypt(sym, 5)  # type: ignore[arg-type]


def test_a_bytearray_resized_while_calls_run(ring: keyplane.Keyring, sym: str) -> None:
    data = bytearray(b"x" * 4096)
    stop = threading.Event()

    def resize() -> None:
        while not stop.is_set():
            data.extend(b"y" * 4096)
            del data[4096:]

    thread = threading.Thread(target=resize)
    thread.start()
    try:
        for _ in range(300):
            blob = ring.encrypt(sym, data)
            back = ring.decrypt(blob)
            assert back[:4096] == b"x" * 4096 and len(back) in (4096, 8192)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive()


# ----- huge counts ---------------------------------------------------------------------------


_HUGE_COUNTS = """
    import collections.abc
    import keyplane

    def refused(call, *errors):
        try:
            call()
        except errors:
            return
        raise AssertionError("accepted")

    ring = keyplane.Keyring()
    sym = ring.create_key().key_id
    # Each of these used to allocate the caller's count first: an abort, or a "capacity
    # overflow" panic.
    for n in [10**12, 2**62, 2**63 - 1]:
        refused(lambda: ring.generate_data_key_many(sym, n), keyplane.LimitExceededError)
        refused(
            lambda: ring.generate_data_key_without_plaintext_many(sym, n),
            keyplane.LimitExceededError,
        )
        refused(lambda: ring.generate_random(n), keyplane.InvalidInputError)
        refused(lambda: ring.generate_data_key(sym, number_of_bytes=n), keyplane.InvalidInputError)
    for n in [2**64, 2**200]:
        refused(lambda: ring.generate_data_key_many(sym, n), keyplane.InvalidInputError)
    refused(
        lambda: ring.ciphertext_len(sym, 2**63),
        keyplane.InvalidInputError,
        keyplane.LimitExceededError,
    )
    # A keyring whose own limit is huge: a count that cannot be allocated is still an error.
    roomy = keyplane.Keyring(max_batch_items=2**62)
    roomy_key = roomy.create_key().key_id
    refused(lambda: roomy.generate_data_key_many(roomy_key, 2**61), MemoryError)
    refused(lambda: keyplane.Audit(callback=print, queue_capacity=2**40), keyplane.InvalidInputError)
    small = keyplane.Keyring(max_batch_items=50)
    key = small.create_key().key_id
    refused(lambda: small.generate_data_key_many(key, 51), keyplane.LimitExceededError)
    assert len(small.generate_data_key_many(key, 50)) == 50

    class Endless(collections.abc.Sequence):
        # Its length lies and it never ends: reading it must stop at the limit.
        def __len__(self):
            return 1

        def __getitem__(self, i):
            return b"x"

    refused(lambda: small.encrypt_many(key, Endless()), keyplane.LimitExceededError)
    refused(lambda: small.encrypt_many([key] * 10**6, [b"x"] * 10), keyplane.LimitExceededError)
    # Every item counts toward the limit, including those whose arguments fail.
    released = memoryview(b"x")
    released.release()
    refused(
        lambda: small.encrypt_many(key, [b"x"] * 50 + [released]), keyplane.LimitExceededError
    )
    assert len(small.encrypt_many(key, [b"x"] * 49 + [released])) == 50
    print("ok")
"""


def test_huge_counts_and_endless_sequences_are_refused_before_allocating() -> None:
    # In a child: before the checks, these aborted the interpreter or grew without end.
    done = run_child(_HUGE_COUNTS, timeout=120)
    assert_clean_exit(done)
    assert done.stdout.strip() == "ok"


def test_thread_counts_are_bounded_before_any_thread_starts() -> None:
    for n in [10**6, 1025, 2**64]:
        with pytest.raises(keyplane.InvalidInputError):
            keyplane.Keyring(threads=n)
    ring = keyplane.Keyring(threads=2)
    key = ring.create_key().key_id
    assert len(ring.encrypt_many(key, [b"x"] * 10)) == 10


# ----- every argument converted and checked before anything takes effect ---------------------


def test_out_of_range_periods_take_no_effect(ring: keyplane.Keyring, sym: str) -> None:
    with pytest.raises(keyplane.InvalidInputError, match="year 9999"):
        ring.schedule_key_deletion(sym, pending_window=dt.timedelta.max)
    assert ring.describe_key(sym).key_state == "Enabled"
    with pytest.raises(keyplane.InvalidInputError, match="year 9999"):
        ring.create_key(key_id="never-made", rotation_period=dt.timedelta.max)
    assert "never-made" not in ring.list_keys()
    with pytest.raises(keyplane.InvalidInputError, match="year 9999"):
        ring.enable_key_rotation(sym, rotation_period=dt.timedelta(days=4_000_000))
    assert ring.describe_key(sym).rotation_period is None
    when = ring.schedule_key_deletion(sym, pending_window=dt.timedelta(days=3650))
    assert when.year >= 2030
    ring.cancel_key_deletion(sym)


# ----- invalid Unicode (lone surrogates) -----------------------------------------------------

_LONE = "k\ud800"


def test_lone_surrogates_are_refused_everywhere_a_string_is_taken(
    ring: keyplane.Keyring, sym: str
) -> None:
    ec = ring.create_key("ECC_NIST_P256").key_id
    hmac = ring.create_key("HMAC_256").key_id
    blob = ring.encrypt(sym, b"x")
    root = keyplane.LocalRootKey("root", keyplane.LocalRootKey.generate_material())
    cases: list[Callable[[], object]] = [
        lambda: ring.encrypt(_LONE, b"x"),
        lambda: ring.encrypt(sym, b"x", {_LONE: "v"}),
        lambda: ring.encrypt(sym, b"x", {"k": _LONE}),
        lambda: ring.decrypt(blob, {_LONE: "v"}),
        lambda: keyplane.EncryptionContext({_LONE: "v"}),
        lambda: ring.create_key(key_id=_LONE),
        lambda: ring.create_key(alias="alias/" + _LONE),
        lambda: ring.create_key(description=_LONE),
        lambda: ring.create_key(_LONE),  # type: ignore[arg-type]
        lambda: ring.describe_key(_LONE),
        lambda: ring.create_alias("alias/" + _LONE, sym),
        lambda: ring.update_alias("alias/x", _LONE),
        lambda: ring.sign(ec, b"x", _LONE),  # type: ignore[arg-type]
        lambda: ring.sign(ec, b"x", "ECDSA_SHA_256", message_type=_LONE),  # type: ignore[arg-type]
        lambda: ring.generate_mac(hmac, b"x", _LONE),  # type: ignore[arg-type]
        lambda: ring.generate_data_key(sym, _LONE),  # type: ignore[arg-type]
        lambda: ring.get_parameters_for_import(sym, _LONE),  # type: ignore[arg-type]
        lambda: ring.with_caller(_LONE),
        lambda: keyplane.LocalRootKey(_LONE, bytes(32)),
        lambda: keyplane.Audit(callback=print, context=_LONE),  # type: ignore[arg-type]
        lambda: ring.export_sealed(_LONE, root),
    ]
    for case in cases:
        with pytest.raises(keyplane.InvalidInputError, match="not valid Unicode") as err:
            case()
        assert isinstance(err.value, ValueError)
    # The message says where: after a genuine U+FFFD, the surrogate is still found.
    with pytest.raises(keyplane.InvalidInputError, match="at index 2"):
        ring.encrypt(sym, b"x", {"\ufffd\ufffd\udc80": "v"})
    # In a batch, the item with the invalid string fails in its slot.
    out = ring.encrypt_many([sym, _LONE], [b"a", b"b"], [{"k": "v"}, None])
    assert isinstance(out[0], bytes)
    assert isinstance(out[1], keyplane.InvalidInputError) and "not valid Unicode" in str(out[1])
    out = ring.encrypt_many(sym, [b"a", b"b"], [{"k": "v"}, {_LONE: "v"}])
    assert isinstance(out[0], bytes) and isinstance(out[1], keyplane.InvalidInputError)


# ----- batch error placement ------------------------------------------------------------------


def test_argument_problems_of_one_item_stay_in_its_slot(ring: keyplane.Keyring, sym: str) -> None:
    hmac = ring.create_key("HMAC_256").key_id
    ec = ring.create_key("ECC_NIST_P256").key_id
    contexts: list[Any] = [{"a": "1"}, {"k": "v" * 9000}, {"": "empty key"}, None]
    out = ring.encrypt_many(sym, [b"0", b"1", b"2", b"3"], contexts)
    assert isinstance(out[0], bytes) and isinstance(out[3], bytes)
    assert isinstance(out[1], keyplane.LimitExceededError)
    assert isinstance(out[2], keyplane.InvalidInputError)
    assert ring.decrypt_many([out[0], out[3]], [contexts[0], None]) == [b"0", b"3"]  # type: ignore[list-item]
    back = ring.decrypt_many([out[0], out[0]], [contexts[0], {"k": "v" * 9000}])  # type: ignore[list-item]
    assert back[0] == b"0" and isinstance(back[1], keyplane.LimitExceededError)
    algorithms: list[Any] = ["HMAC_SHA_256", "HMAC_SHA_999"]
    macs = ring.generate_mac_many(hmac, [b"a", b"b"], algorithms)
    assert isinstance(macs[0], bytes) and isinstance(macs[1], keyplane.InvalidInputError)
    signing: list[Any] = ["ECDSA_SHA_256", "NOPE", "ECDSA_SHA_256"]
    types: list[Any] = ["RAW", "RAW", "HASH"]
    sigs = ring.sign_many(ec, [b"a", b"b", b"c"], signing, message_type=types)
    assert isinstance(sigs[0], bytes)
    assert isinstance(sigs[1], keyplane.InvalidInputError)
    assert isinstance(sigs[2], keyplane.InvalidInputError)
    oks = ring.verify_many(ec, [b"a", b"a"], [sigs[0], sigs[0]], signing[:2])  # type: ignore[list-item]
    assert oks[0] is True and isinstance(oks[1], keyplane.InvalidInputError)
    # One invalid value for every item fails every item, not the call.
    all_bad = ring.generate_mac_many(hmac, [b"a", b"b"], "NOPE")  # type: ignore[arg-type]
    assert all(isinstance(r, keyplane.InvalidInputError) for r in all_bad)
    dks = ring.generate_data_key_many(sym, 2, context=[{"a": "b"}, {"k": "v" * 9000}])
    assert isinstance(dks[0], keyplane.DataKey) and isinstance(dks[1], keyplane.LimitExceededError)
    # Wrong types, lengths and the item limit still fail the whole call.
    with pytest.raises(TypeError):
        ring.encrypt_many(sym, [b"a"], [{"a": 1}])  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        ring.generate_mac_many(hmac, [b"a"], [5])  # type: ignore[list-item]
    with pytest.raises(keyplane.InvalidInputError):
        ring.encrypt_many(sym, [b"a"], [None, None])


# ----- fork() while other threads hold the keyring's locks -----------------------------------


def _wait_for_child(pid: int, done_fd: int, timeout: float) -> int:
    """The child's exit status; kills it and fails if it has not finished within ``timeout``
    (the child closes ``done_fd``'s other end when it exits, so no polling of the clock)."""
    ready, _, _ = select.select([done_fd], [], [], timeout)
    if not ready:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("a forked child hung (a lock held by another thread at fork time)")
    os.read(done_fd, 1)
    _, status = os.waitpid(pid, 0)
    return status


@pytest.mark.skipif(sys.platform == "win32", reason="fork() is POSIX")
def test_fork_while_another_thread_creates_and_rotates_keys() -> None:
    ring = keyplane.Keyring()
    key = ring.create_key().key_id
    # A budget of 3 encryptions per version: the churning thread's encryptions rotate the key
    # inside encrypt as well.
    budget = keyplane.Keyring(encryption_budget=3)
    budget_key = budget.create_key().key_id
    stop = threading.Event()
    churned = 0

    def churn() -> None:
        nonlocal churned
        while not stop.is_set() and churned < 200_000:
            ring.rotate_key(key)
            ring.create_key()
            budget.encrypt(budget_key, b"x")
            churned += 1

    thread = threading.Thread(target=churn)
    thread.start()
    try:
        for _ in range(200):
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    os.close(read_end)
                    if ring.decrypt(ring.encrypt(key, b"child")) == b"child" and budget.decrypt(
                        budget.encrypt(budget_key, b"child")
                    ) == b"child":
                        code = 0
                finally:
                    os._exit(code)
            os.close(write_end)
            try:
                status = _wait_for_child(pid, read_end, timeout=60)
            finally:
                os.close(read_end)
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive()
    assert churned > 0


_LAST_HANDLE_DROPPED_BY_ITS_CALLBACK = """
    import threading
    import keyplane

    holder = []
    delivered = []
    release, all_delivered = threading.Event(), threading.Event()

    def callback(event):
        release.wait(30)
        holder.clear()  # the keyring's last handle goes away, on the writer thread
        delivered.append(event.operation)
        if len(delivered) == 6:
            all_delivered.set()

    ring = keyplane.Keyring(audit=keyplane.Audit(callback=callback))
    holder.append(ring)
    del ring
    for _ in range(6):
        holder[0].create_key()  # queued: the callback waits on the first
    release.set()
    # The events queued behind the one that let go of the keyring are still delivered.
    assert all_delivered.wait(30), delivered
    print("ok")
"""


def test_a_callback_letting_go_of_its_keyring_still_gets_the_queued_events() -> None:
    done = run_child(_LAST_HANDLE_DROPPED_BY_ITS_CALLBACK, timeout=60)
    assert_clean_exit(done)
    assert done.stdout.strip() == "ok"
