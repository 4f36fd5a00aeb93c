#!/usr/bin/env python3
"""Converts vectors/*.json into the line format test_vectors.c reads: one record per line,
space-separated tokens, byte strings in hex ("-" for empty), names hex-encoded last.
It only reformats; every decryption and verification happens in C, through the C ABI.

  COUNTS <symmetric> <keys> <signatures> <macs> <oaep>
  SYM <key_id> <roots> <blob> <plaintext> <valid> <pairs> [<key> <value>]... <name>
  KEY <key_id> <KEY_SPEC> <KEY_USAGE> <pkcs8> <public_key>
  SIG <key_id> <ALGORITHM> <MESSAGE_TYPE> <message> <signature> <valid> <name>
  MAC <KEY_SPEC> <ALGORITHM> <key> <message> <mac> <valid> <name>
  OAEP <key_id> <KEY_SPEC> <ALGORITHM> <pkcs8> <public_key> <ciphertext> <plaintext> <valid> <name>
"""
import json
import sys
from pathlib import Path


def h(b: bytes) -> str:
    return b.hex() or "-"


def t(s: str) -> str:
    return h(s.encode())


def x(s: str) -> str:
    return s or "-"


def main() -> None:
    vectors, out = Path(sys.argv[1]), Path(sys.argv[2])
    sym = json.loads((vectors / "symmetric.json").read_text())
    asym = json.loads((vectors / "asymmetric.json").read_text())
    assert sym["schema"] == "keyplane-vectors/symmetric/1", sym["schema"]
    assert asym["schema"] == "keyplane-vectors/asymmetric/1", asym["schema"]
    lines = [
        f"COUNTS {len(sym['vectors'])} {len(asym['keys'])} {len(asym['signatures'])} "
        f"{len(asym['macs'])} {len(asym['oaep'])}"
    ]
    for v in sym["vectors"]:
        pairs = " ".join(f"{t(k)} {t(val)}" for k, val in v["context"])
        lines.append(
            f"SYM {t(v['key_id'])} {x(''.join(v['roots']))} {x(v['blob'])} "
            f"{x(v.get('plaintext', ''))} {int(v['valid'])} {len(v['context'])} "
            f"{pairs + ' ' if pairs else ''}{t(v['name'])}"
        )
    for k in asym["keys"]:
        lines.append(
            f"KEY {t(k['key_id'])} {k['key_spec']} {k['key_usage']} "
            f"{x(k['private_key_pkcs8'])} {x(k['public_key'])}"
        )
    for v in asym["signatures"]:
        lines.append(
            f"SIG {t(v['key_id'])} {v['algorithm']} {v['message_type']} {x(v['message'])} "
            f"{x(v['signature'])} {int(v['valid'])} {t(v['name'])}"
        )
    for v in asym["macs"]:
        lines.append(
            f"MAC {v['key_spec']} {v['algorithm']} {x(v['key'])} {x(v['message'])} "
            f"{x(v['mac'])} {int(v['valid'])} {t(v['name'])}"
        )
    for v in asym["oaep"]:
        lines.append(
            f"OAEP {t(v['key_id'])} {v['key_spec']} {v['algorithm']} {x(v['private_key_pkcs8'])} "
            f"{x(v['public_key'])} {x(v['ciphertext'])} {x(v.get('plaintext', ''))} "
            f"{int(v['valid'])} {t(v['name'])}"
        )
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
