"""Keyplane from Python beside pyca/cryptography, as ratios from one run.

    python bench/bench.py            # the full run (about a minute)
    python bench/bench.py --quick    # a few iterations of everything: checks the bench runs

Each row alternates the two contenders in rounds of about `--round-ms` milliseconds and reports
the median time per call of each and the median of the per-round ratios, so that the drift of a
shared machine cancels out. A ratio above 1 means Keyplane makes more calls per second.

- encrypt: ``ring.encrypt(key_id, data)`` (a fresh random nonce, a versioned blob, the GIL
  released) beside ``AESGCM(key).encrypt(os.urandom(12), data, aad)`` with an AAD as long as
  Keyplane's (the blob header plus a 32-byte context digest).
- contexts, at 64 B and 4 KiB, encrypt and decrypt: Keyplane given a 2-pair ``dict`` on every
  call beside cryptography serializing that dict as its AAD on every call
  (``json.dumps(ctx, sort_keys=True).encode()``), and Keyplane given an ``EncryptionContext``
  built once beside cryptography given the AAD serialized once. Then what a context adds to
  Keyplane's own 64 B encrypt: the median per-round difference from the call without one, with
  finer rows that split a dict's cost (an empty dict, one pair, and building an
  ``EncryptionContext`` from a dict beside building one from nothing, which hashes nothing).
- sign: ``ring.sign(key_id, message, "ECDSA_SHA_256")`` on a P-256 key beside cryptography's
  ``private_key.sign(message, ECDSA(SHA256()))``.
- encrypt_many: one ``ring.encrypt_many`` of 10,000 64-byte items beside a Python loop of
  10,000 ``ring.encrypt`` calls.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import keyplane


def per_call(fn: Callable[[], object], calls: int) -> float:
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls


def calibrate(fn: Callable[[], object], round_s: float) -> int:
    """Calls per round so that a round lasts about `round_s`."""
    calls = 1
    while True:
        elapsed = per_call(fn, calls) * calls
        if elapsed >= round_s / 4 or calls >= 1 << 24:
            return max(1, int(calls * round_s / max(elapsed, 1e-9)))
        calls *= 4


def compare(
    ours: Callable[[], object],
    theirs: Callable[[], object],
    rounds: int,
    round_s: float,
    difference: bool = False,
) -> tuple[float, float, float]:
    """Median per-call time of each, and the median per-round ratio theirs / ours (or, with
    `difference`, the median per-round difference ours - theirs in seconds)."""
    n_ours, n_theirs = calibrate(ours, round_s), calibrate(theirs, round_s)
    ours_t, theirs_t, ratios = [], [], []
    for r in range(rounds):
        if r % 2:
            a = per_call(ours, n_ours)
            b = per_call(theirs, n_theirs)
        else:
            b = per_call(theirs, n_theirs)
            a = per_call(ours, n_ours)
        ours_t.append(a)
        theirs_t.append(b)
        ratios.append(a - b if difference else b / a)
    return statistics.median(ours_t), statistics.median(theirs_t), statistics.median(ratios)


def fmt(seconds: float) -> str:
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    return f"{seconds * 1e3:.2f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few iterations of everything")
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--round-ms", type=float, default=40.0)
    args = parser.parse_args()
    rounds, round_s = (3, 0.002) if args.quick else (args.rounds, args.round_ms / 1000)

    ring = keyplane.Keyring()
    key_id = ring.create_key().key_id
    aes = AESGCM(AESGCM.generate_key(bit_length=256))
    aad = os.urandom(18 + len(key_id) + 32)  # as long as Keyplane's AAD
    ctx_dict = {"tenant": "acme", "table": "orders"}
    ctx_obj = keyplane.EncryptionContext(ctx_dict)

    rows: list[tuple[str, str, str, str, str]] = []
    cost_rows: list[tuple[str, str, str, str, str]] = []

    def row(name: str, ours: Callable[[], object], theirs: Callable[[], object], target: str) -> None:
        a, b, ratio = compare(ours, theirs, rounds, round_s)
        rows.append((name, fmt(a), fmt(b), f"{ratio:.2f}", target))
        print(f"{name:<44} {fmt(a):>10} {fmt(b):>10} {ratio:6.2f}  {target}", flush=True)

    print(f"keyplane on Python {sys.version.split()[0]}; "
          f"{rounds} rounds of {round_s * 1000:.0f} ms")
    print(f"{'operation':<44} {'Keyplane':>10} {'other':>10} {'ratio':>6}  target")
    for size, label, target in [
        (64, "64 B", ">= 2.0"),
        (1024, "1 KiB", ">= 1.0"),
        (64 << 10, "64 KiB", ">= 1.0"),
        (1 << 20, "1 MiB", ">= 1.0"),
    ]:
        data = os.urandom(size)
        row(
            f"encrypt {label} vs AESGCM.encrypt(urandom(12))",
            lambda d=data: ring.encrypt(key_id, d),
            lambda d=data: aes.encrypt(os.urandom(12), d, aad),
            target,
        )
    small = os.urandom(64)
    # Contexts: Keyplane given the dict on every call, or an EncryptionContext built once;
    # cryptography given the context as AAD, serialized on every call from the dict
    # (json.dumps(ctx, sort_keys=True)), or serialized once beside the prebuilt one.
    ctx_aad = json.dumps(ctx_dict, sort_keys=True).encode()
    for size, label, dict_target, obj_target in [
        (64, "64 B", ">= 2.5", ">= 3.0"),
        (4 << 10, "4 KiB", "-", "-"),
    ]:
        data = os.urandom(size)
        row(
            f"encrypt {label}, dict context vs AESGCM + json.dumps",
            lambda d=data: ring.encrypt(key_id, d, ctx_dict),
            lambda d=data: aes.encrypt(
                os.urandom(12), d, json.dumps(ctx_dict, sort_keys=True).encode()
            ),
            dict_target,
        )
        row(
            f"encrypt {label}, EncryptionContext vs AESGCM",
            lambda d=data: ring.encrypt(key_id, d, ctx_obj),
            lambda d=data: aes.encrypt(os.urandom(12), d, ctx_aad),
            obj_target,
        )
        ours_blob = ring.encrypt(key_id, data, ctx_obj)
        nonce = os.urandom(12)
        theirs_sealed = aes.encrypt(nonce, data, ctx_aad)
        row(
            f"decrypt {label}, dict context vs AESGCM + json.dumps",
            lambda b=ours_blob: ring.decrypt(b, ctx_dict),
            lambda s=theirs_sealed, n=nonce: aes.decrypt(
                n, s, json.dumps(ctx_dict, sort_keys=True).encode()
            ),
            "-",
        )
        row(
            f"decrypt {label}, EncryptionContext vs AESGCM",
            lambda b=ours_blob: ring.decrypt(b, ctx_obj),
            lambda s=theirs_sealed, n=nonce: aes.decrypt(n, s, ctx_aad),
            "-",
        )
    # What a context adds to Keyplane's own call, in the same run, and finer rows that split it:
    # taking a context argument at all (an empty dict), a pair more, and building a context from
    # a dict beside building the empty one (which hashes nothing).
    one_pair = {"tenant": "acme"}
    cost: list[tuple[str, Callable[[], object], Callable[[], object], str]] = [
        ("encrypt 64 B: 2-pair dict context",
         lambda: ring.encrypt(key_id, small, ctx_dict),
         lambda: ring.encrypt(key_id, small), "<= +150 ns"),
        ("encrypt 64 B: EncryptionContext",
         lambda: ring.encrypt(key_id, small, ctx_obj),
         lambda: ring.encrypt(key_id, small), "-"),
        ("encrypt 64 B: empty dict context",
         lambda: ring.encrypt(key_id, small, {}),
         lambda: ring.encrypt(key_id, small), "-"),
        ("encrypt 64 B: 1-pair dict context",
         lambda: ring.encrypt(key_id, small, one_pair),
         lambda: ring.encrypt(key_id, small), "-"),
        ("EncryptionContext({}) vs EncryptionContext()",
         lambda: keyplane.EncryptionContext({}),
         lambda: keyplane.EncryptionContext(), "-"),
        ("EncryptionContext(2-pair dict) vs ({})",
         lambda: keyplane.EncryptionContext(ctx_dict),
         lambda: keyplane.EncryptionContext({}), "-"),
    ]
    for name, with_ctx, without, target in cost:
        a, b, diff = compare(with_ctx, without, rounds, round_s, difference=True)
        added = f"{diff * 1e9:+.0f} ns"
        cost_rows.append((name, fmt(a), fmt(b), added, target))
        print(f"{name:<44} {fmt(a):>10} {fmt(b):>10} {added:>8}  {target}", flush=True)
    blob = ring.encrypt(key_id, small)
    nonce = os.urandom(12)
    sealed = aes.encrypt(nonce, small, aad)
    row(
        "decrypt 64 B vs AESGCM.decrypt",
        lambda: ring.decrypt(blob),
        lambda: aes.decrypt(nonce, sealed, aad),
        "-",
    )

    signer = ring.create_key("ECC_NIST_P256").key_id
    their_key = ec.generate_private_key(ec.SECP256R1())
    message = b"a message to sign, about the length of a small JSON document"
    row(
        "sign ECDSA P-256 vs cryptography ECDSA",
        lambda: ring.sign(signer, message, "ECDSA_SHA_256"),
        lambda: their_key.sign(message, ec.ECDSA(hashes.SHA256())),
        ">= 1.0",
    )

    items = [os.urandom(64) for _ in range(10_000)]
    row(
        "encrypt_many 10,000 x 64 B vs loop of encrypt",
        lambda: ring.encrypt_many(key_id, items),
        lambda: [ring.encrypt(key_id, p) for p in items],
        ">= 3.0",
    )
    blobs = ring.encrypt_many(key_id, items)
    row(
        "decrypt_many 10,000 x 64 B vs loop of decrypt",
        lambda: ring.decrypt_many(blobs),  # type: ignore[arg-type]
        lambda: [ring.decrypt(b) for b in blobs],  # type: ignore[arg-type]
        "-",
    )

    print()
    print("| operation | Keyplane | other | ratio | target |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print()
    print("| context cost | with | without | added | target |")
    print("|---|---|---|---|---|")
    for r in cost_rows:
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
