"""The audit trail: events delivered to a Python callback on the writer thread, caller
identities, per-key usage, back pressure without deadlocks, and the hash-chained file log."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import keyplane

AUDIT_KEY = bytes(range(32))


def _collecting(**options: Any) -> tuple[keyplane.Keyring, list[keyplane.AuditEvent]]:
    events: list[keyplane.AuditEvent] = []
    ring = keyplane.Keyring(audit=keyplane.Audit(callback=events.append, **options))
    return ring, events


def test_callback_receives_every_operation() -> None:
    ring, events = _collecting()
    key = ring.create_key(alias="alias/audited").key_id
    svc = ring.with_caller("billing")
    assert svc.caller == "billing" and ring.caller is None
    blob = svc.encrypt("alias/audited", b"secret", {"tenant": "acme"})
    with pytest.raises(keyplane.InvalidCiphertextError):
        ring.decrypt(blob, {"tenant": "other"})
    ring.describe_key(key)
    ring.flush_audit()

    assert [e.operation for e in events] == ["CreateKey", "Encrypt", "Decrypt", "DescribeKey"]
    assert [e.sequence for e in events] == [1, 2, 3, 4]
    created, encrypted, failed, described = events
    assert created.key_id == key and created.error_code is None and created.caller is None
    assert encrypted.key_id == key  # the key id, not the alias
    assert encrypted.key_version == 1 and encrypted.caller == "billing"
    assert encrypted.context == {"tenant": "acme"}
    assert failed.error_code == "KP_INVALID_CIPHERTEXT" and failed.context == {"tenant": "other"}
    assert described.key_version is None and described.context == {}
    assert len({e.request_id for e in events}) == 4
    now = datetime.now(timezone.utc)
    assert all(now - timedelta(minutes=1) < e.time <= now + timedelta(seconds=1) for e in events)
    assert "Encrypt" in repr(encrypted) and "secret" not in repr(encrypted)
    with pytest.raises(AttributeError):
        encrypted.operation = "Decrypt"  # type: ignore[misc]
    assert ring.audit_failures == 0 and ring.audit_dropped == 0


def test_batches_record_one_event_per_item() -> None:
    ring, events = _collecting()
    key = ring.create_key().key_id
    ring.encrypt_many(key, [b"a", b"b", b"c"])
    ring.flush_audit()
    assert [e.operation for e in events[1:]] == ["Encrypt"] * 3


@pytest.mark.parametrize(("mode", "expected"), [("keys_only", {"a": "", "b": ""}), ("none", {})])
def test_context_logging(mode: str, expected: dict[str, str]) -> None:
    ring, events = _collecting(context=mode)
    ring.encrypt(ring.create_key().key_id, b"x", {"a": "1", "b": "2"})
    ring.flush_audit()
    assert events[-1].context == expected


def test_key_last_usage() -> None:
    ring, _ = _collecting()
    key = ring.create_key(alias="alias/used").key_id
    for _ in range(3):
        ring.encrypt("alias/used", b"x")
    ring.describe_key(key)
    ring.flush_audit()
    usage = ring.key_last_usage("alias/used")
    assert usage.last_operation == "DescribeKey"
    assert usage.counts == {"CreateKey": 1, "DescribeKey": 1, "Encrypt": 3}
    assert usage.last_used is not None and "Encrypt" in repr(usage)
    fresh = ring.key_last_usage(ring.create_key().key_id)
    assert fresh.last_used is None or fresh.last_operation == "CreateKey"
    with pytest.raises(keyplane.NotFoundError):
        ring.key_last_usage("alias/none")
    plain = keyplane.Keyring()
    with pytest.raises(keyplane.InvalidInputError, match="does not audit"):
        plain.key_last_usage(plain.create_key().key_id)
    plain.flush_audit()  # nothing to do


def test_callback_exceptions_are_counted_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_value))
    calls = []

    def callback(event: keyplane.AuditEvent) -> None:
        calls.append(event.operation)
        if event.operation == "Encrypt":
            raise RuntimeError("sink down")

    ring = keyplane.Keyring(audit=keyplane.Audit(callback=callback))
    key = ring.create_key().key_id
    blob = ring.encrypt(key, b"still works")
    assert ring.decrypt(blob) == b"still works"
    ring.flush_audit()
    assert calls == ["CreateKey", "Encrypt", "Decrypt"]
    assert ring.audit_failures == 1
    assert len(seen) == 1 and isinstance(seen[0], RuntimeError)


def test_flush_from_the_callback_is_refused() -> None:
    errors: list[BaseException] = []
    holder: list[keyplane.Keyring] = []

    def callback(event: keyplane.AuditEvent) -> None:
        try:
            holder[0].flush_audit()
        except RuntimeError as e:
            errors.append(e)

    ring = keyplane.Keyring(audit=keyplane.Audit(callback=callback))
    holder.append(ring)
    ring.create_key()
    ring.flush_audit()
    assert len(errors) == 1 and "audit callback" in str(errors[0])


def test_drop_policy_counts_dropped_events() -> None:
    gate = threading.Event()

    def slow(event: keyplane.AuditEvent) -> None:
        gate.wait(5)

    ring = keyplane.Keyring(
        audit=keyplane.Audit(callback=slow, back_pressure="drop", queue_capacity=2)
    )
    key = ring.create_key().key_id
    for _ in range(50):
        ring.encrypt(key, b"x")
    gate.set()
    ring.flush_audit()
    assert ring.audit_dropped > 0


_DEADLOCK_SCRIPT = """
import threading, time, keyplane
delivered = []
def callback(event):
    time.sleep(0.0005)  # slower than the callers: the one-slot queue stays full
    delivered.append(event.operation)
ring = keyplane.Keyring(audit=keyplane.Audit(callback=callback, queue_capacity=1))
keys = [ring.create_key().key_id for _ in range(4)]
def work(i):
    k = keys[i % 4]
    for j in range(40):
        ring.describe_key(k)
        ring.disable_key(k); ring.enable_key(k)
        ring.create_alias(f"alias/t{i}-{j}", k); ring.delete_alias(f"alias/t{i}-{j}")
        ring.decrypt(ring.encrypt(k, b"x"))
        ring.encrypt_many(k, [b"a", b"b"])
threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
for t in threads: t.start()
for t in threads: t.join()
ring.flush_audit()
assert len(delivered) == 4 + 4 * 40 * 9, len(delivered)
# Dropping the last handle with events still queued drains them, GIL released.
for _ in range(200): ring.describe_key(keys[0])
del ring
assert len(delivered) == 4 + 4 * 40 * 9 + 200, len(delivered)
print("ok")
"""


_LAST_HANDLE_IN_CALLBACK = """
import gc, threading, keyplane
holder = []
ready, closed = threading.Event(), threading.Event()
def callback(event):
    ready.wait(10)  # until the main thread holds no reference of its own
    holder.clear()  # the keyring's last handle goes away on the writer thread
    closed.set()
ring = keyplane.Keyring(audit=keyplane.Audit(callback=callback))
holder.append(ring)
del ring
holder[0].create_key()
ready.set()
assert closed.wait(10)
gc.collect()
print("ok")
"""


def test_callback_dropping_the_last_handle() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _LAST_HANDLE_IN_CALLBACK], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
    assert "panick" not in done.stderr


def test_block_policy_with_a_python_callback_does_not_deadlock() -> None:
    # In a child process, so that a deadlock fails the test (timeout) instead of hanging it.
    done = subprocess.run(
        [sys.executable, "-c", _DEADLOCK_SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_file_log_verifies_and_detects_tampering(tmp_path: pathlib.Path) -> None:
    log = tmp_path / "audit"
    audit = keyplane.Audit(log_dir=log, audit_key=AUDIT_KEY, checkpoint_every=5)
    assert audit.log_dir is not None and audit.context == "full" and audit.back_pressure == "block"
    assert "secret" in repr(audit) and repr(AUDIT_KEY) not in repr(audit)
    ring = keyplane.Keyring(audit=audit)
    key = ring.create_key().key_id
    for i in range(12):
        ring.encrypt(key, b"x", {"i": str(i)})
    ring.flush_audit()
    open_report = keyplane.verify_audit_log(log, AUDIT_KEY)
    assert open_report.records == 13 and not open_report.closed
    del ring  # closes the log with a MACed checkpoint

    report = keyplane.verify_audit_log(log, AUDIT_KEY)
    assert report.records == 13 and report.closed and not report.incomplete_tail
    assert report.last_checkpoint is not None and report.ends_at is not None
    file, line, when = report.last_checkpoint
    assert pathlib.Path(file).name == "audit-000001.jsonl" and line == report.ends_at[1]
    assert isinstance(when, datetime) and "intact, 13 records" in str(report)
    files = sorted(log.iterdir())
    assert keyplane.verify_audit_log(files, AUDIT_KEY).records == 13
    assert keyplane.verify_audit_log(files[0], AUDIT_KEY).closed

    with pytest.raises(keyplane.AuditLogBrokenError) as wrong_key:
        keyplane.verify_audit_log(log, bytes(32))
    assert "MAC" in wrong_key.value.reason

    lines = files[0].read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b'"i":"2"', b'"i":"9"')
    files[0].write_bytes(b"\n".join(lines))
    with pytest.raises(keyplane.AuditLogBrokenError) as broken:
        keyplane.verify_audit_log(log, AUDIT_KEY)
    error = broken.value
    assert error.line == 5 and pathlib.Path(error.file) == files[0]
    assert "chain broken" in error.reason and str(error).endswith(error.reason)
    assert isinstance(error, ValueError) and not isinstance(error, keyplane.KeyplaneError)

    # A directory that already holds a log is refused: a log is one chain.
    with pytest.raises(keyplane.StorageError):
        keyplane.Keyring(audit=keyplane.Audit(log_dir=log, audit_key=AUDIT_KEY))


def test_file_log_is_closed_at_interpreter_exit(tmp_path: pathlib.Path) -> None:
    script = textwrap.dedent(
        f"""
        import keyplane
        ring = keyplane.Keyring(audit=keyplane.Audit(log_dir={str(tmp_path)!r},
                                                     audit_key=bytes(range(32))))
        ring.encrypt(ring.create_key().key_id, b"x")
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    report = keyplane.verify_audit_log(tmp_path, AUDIT_KEY)
    assert report.records == 2 and report.closed


def test_audit_bad_input(tmp_path: pathlib.Path) -> None:
    with pytest.raises(keyplane.InvalidInputError, match="callback or log_dir"):
        keyplane.Audit()
    with pytest.raises(keyplane.InvalidInputError, match="not both"):
        keyplane.Audit(callback=print, log_dir=tmp_path, audit_key=AUDIT_KEY)
    with pytest.raises(TypeError, match="callable"):
        keyplane.Audit(callback=42)  # type: ignore[arg-type]
    with pytest.raises(keyplane.InvalidInputError, match="audit_key"):
        keyplane.Audit(log_dir=tmp_path)
    with pytest.raises(keyplane.InvalidInputError, match="32 bytes"):
        keyplane.Audit(log_dir=tmp_path, audit_key=b"short")
    with pytest.raises(keyplane.InvalidInputError, match="audit_key"):
        keyplane.Audit(callback=print, audit_key=AUDIT_KEY)
    with pytest.raises(keyplane.InvalidInputError, match="context logging"):
        keyplane.Audit(callback=print, context="everything")  # type: ignore[arg-type]
    with pytest.raises(keyplane.InvalidInputError, match="back pressure"):
        keyplane.Audit(callback=print, back_pressure="wait")  # type: ignore[arg-type]
    with pytest.raises(keyplane.InvalidInputError, match="at least 1"):
        keyplane.Audit(callback=print, queue_capacity=0)
    with pytest.raises(keyplane.InvalidInputError, match="log_dir"):
        keyplane.Audit(callback=print, checkpoint_every=10)
    with pytest.raises(TypeError):
        keyplane.Keyring(audit=print)  # type: ignore[arg-type]
    with pytest.raises(keyplane.InvalidInputError, match="32 bytes"):
        keyplane.verify_audit_log(tmp_path, b"short")
    with pytest.raises(TypeError):
        keyplane.verify_audit_log(42, AUDIT_KEY)  # type: ignore[arg-type]
    with pytest.raises(keyplane.AuditLogBrokenError) as unreadable:
        keyplane.verify_audit_log([tmp_path / "missing.jsonl"], AUDIT_KEY)
    assert unreadable.value.line == 0
    empty = keyplane.verify_audit_log(tmp_path, AUDIT_KEY)
    assert empty.records == 0 and not empty.closed and empty.ends_at is None
    assert os.listdir(tmp_path) == []


def test_a_callback_that_refers_to_its_keyring_is_collected() -> None:
    # keyring -> its audit callback -> the keyring: the garbage collector must see the cycle
    # through the callback and free both (the keyring's keys with them).
    import gc

    collected: list[bool] = []

    class Callback:
        ring: keyplane.Keyring | None = None

        def __call__(self, event: keyplane.AuditEvent) -> None:
            pass

        def __del__(self) -> None:
            collected.append(True)

    callback = Callback()
    ring = keyplane.Keyring(audit=keyplane.Audit(callback=callback))
    callback.ring = ring
    ring.create_key(key_id="cycle")
    ring.encrypt("cycle", b"x")
    ring.flush_audit()
    del ring, callback
    gc.collect()
    assert collected == [True]
