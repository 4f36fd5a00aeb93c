"""fork() safety: a child (os.fork, or multiprocessing's fork start method) never repeats the
parent's nonces, keeps its keys, and runs batches on a fresh pool."""

from __future__ import annotations

import json
import multiprocessing
import os
import pathlib
import select
import signal
import sys
import time
from typing import Any, Callable

import pytest

import keyplane
from conftest import nonce_of

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork() is POSIX")

_RING: keyplane.Keyring | None = None
_KEY = "fork-test-key"


def _child_nonces(count: int) -> list[bytes]:
    assert _RING is not None
    return [nonce_of(_RING.encrypt(_KEY, b"child")) for _ in range(count)]


def _read_all(fd: int, pid: int, timeout: float = 120.0) -> bytes:
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("child did not finish")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def _forked(child: Callable[[], bytes], meanwhile: Callable[[], object] = lambda: None) -> bytes:
    """Runs `child` in a forked process, which sends the bytes it returns through a pipe and
    `_exit`s (0 only if `child` returned), while this process runs `meanwhile`. Returns the
    child's bytes once it exited with 0; a child still running at the deadline is killed."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # never returns
        code = 1
        try:
            os.close(read_end)
            os.write(write_end, child())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    meanwhile()
    data = _read_all(read_end, pid)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    return data


@pytest.mark.parametrize("batch_before_fork", [False, True])
def test_os_fork_child_never_repeats_parent_nonces(batch_before_fork: bool) -> None:
    ring = keyplane.Keyring()
    ring.create_key(key_id=_KEY)
    parent = [nonce_of(ring.encrypt(_KEY, b"parent")) for _ in range(3000)]
    if batch_before_fork:  # the pool's threads exist now; the child has none of them
        parent += [nonce_of(b) for b in ring.encrypt_many(_KEY, [b"p"] * 2000)]  # type: ignore[arg-type]
    old_blob = ring.encrypt(_KEY, b"made before fork")

    def in_child() -> bytes:  # report nonces, decrypt an old blob, run a batch
        mine = [nonce_of(ring.encrypt(_KEY, b"child")) for _ in range(5000)]
        mine += [nonce_of(b) for b in ring.encrypt_many(_KEY, [b"c"] * 3000)]  # type: ignore[arg-type]
        assert ring.decrypt(old_blob) == b"made before fork"
        return b"".join(mine)

    parent_after: list[bytes] = []
    data = _forked(
        in_child, lambda: parent_after.extend(nonce_of(ring.encrypt(_KEY, b"parent")) for _ in range(5000))
    )
    child = {data[i : i + 12] for i in range(0, len(data), 12)}
    assert len(child) == 8000
    everything_parent = set(parent) | set(parent_after)
    assert len(everything_parent) == len(parent) + len(parent_after)
    assert child.isdisjoint(everything_parent)


def test_multiprocessing_fork_children_never_repeat_nonces() -> None:
    global _RING
    _RING = keyplane.Keyring()
    _RING.create_key(key_id=_KEY)
    parent = _child_nonces(2000)
    try:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(3) as pool:
            results = pool.map(_child_nonces, [2500] * 6)
        parent += _child_nonces(2000)
    finally:
        _RING = None
    children = [n for r in results for n in r]
    assert len(set(children)) == len(children) == 15000
    assert set(children).isdisjoint(parent)
    assert len(set(parent)) == 4000


def test_audited_keyring_fails_closed_in_a_forked_child() -> None:
    # The audit writer thread stays in the parent: in the child, operations raise StorageError
    # (never hang, never go unrecorded), and the parent's trail is unaffected.
    events: list[keyplane.AuditEvent] = []
    ring = keyplane.Keyring(audit=keyplane.Audit(callback=events.append))
    ring.create_key(key_id=_KEY)
    ring.flush_audit()

    def in_child() -> bytes:
        answers = []
        for call in (lambda: ring.encrypt(_KEY, b"child"), ring.flush_audit):
            try:
                call()
                answers.append(b"ok")
            except keyplane.StorageError:
                answers.append(b"refused")
        return b",".join(answers)

    assert _forked(in_child) == b"refused,refused"
    ring.encrypt(_KEY, b"parent")
    ring.flush_audit()
    assert [e.operation for e in events] == ["CreateKey", "Encrypt"]


def test_a_store_backed_keyring_in_a_forked_child_reads_but_never_writes(tmp_path: pathlib.Path) -> None:
    # Parent and child would each rewrite whole records (the last writer wins) and could make
    # different material for the same new version: in the child, decryption goes on and every
    # store write is refused with StorageError saying to open the store after forking.
    root = keyplane.LocalRootKey("root", keyplane.LocalRootKey.generate_material())
    store = tmp_path / "store"
    ring = keyplane.Keyring.open(store, root)
    key = ring.create_key(alias="alias/forked").key_id
    blob = ring.encrypt(key, b"made before fork")

    def in_child() -> bytes:
        report: dict[str, object] = {
            "decrypt": ring.decrypt(blob) == b"made before fork",
            "state": ring.describe_key("alias/forked").key_state,
        }
        writes: dict[str, Callable[[], object]] = {
            "create_key": lambda: ring.create_key(key_id="made-in-child"),
            "rotate_key": lambda: ring.rotate_key(key),
            "disable_key": lambda: ring.disable_key(key),
            "create_alias": lambda: ring.create_alias("alias/child", key),
            "encrypt": lambda: ring.encrypt(key, b"child"),
        }
        for name, call in writes.items():
            try:
                call()
                report[name] = "accepted"
            except keyplane.StorageError as e:
                report[name] = str(e)
        return json.dumps(report).encode()

    answers: dict[str, Any] = json.loads(_forked(in_child))
    assert answers["decrypt"] is True and answers["state"] == "Enabled"
    # Encryption too: its count is reserved in the store, and two processes counting from the
    # same stored number would under-count the key's nonces.
    for name in ["create_key", "rotate_key", "disable_key", "create_alias", "encrypt"]:
        assert "after fork" in answers[name], (name, answers[name])
    # The parent goes on writing, and the store holds only what the parent wrote.
    assert ring.rotate_key(key) == 2
    ring.create_key(key_id="made-in-parent")
    del ring
    reopened = keyplane.Keyring.open(store, root)
    assert reopened.load_problems == []
    assert "made-in-child" not in reopened.list_keys()
    assert "made-in-parent" in reopened.list_keys()
    assert reopened.describe_key(key).key_state == "Enabled"
    assert "alias/child" not in reopened.list_aliases()
    assert reopened.decrypt(blob) == b"made before fork"
