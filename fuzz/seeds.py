#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target (fuzz/corpus/<target>/) from the project's
known-answer vectors, and builds what the vectors lack (sealed payloads, an audit log) from
FORMAT.md. Run it again after the vectors change; the fuzz targets' headers describe the inputs."""

import hashlib
import hmac
import json
import pathlib
import struct

FUZZ = pathlib.Path(__file__).resolve().parent
VECTORS = FUZZ.parent / "vectors"


def load(name):
    return json.loads((VECTORS / name).read_text())


def write(target, name, data):
    d = FUZZ / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(bytes(data))


def u8(n):
    return struct.pack(">B", n)


def u16(n):
    return struct.pack(">H", n)


def u32(n):
    return struct.pack(">I", n)


def u64(n):
    return struct.pack(">Q", n)


def slug(s):
    return "".join(c if c.isalnum() else "-" for c in s.lower()).strip("-")[:60]


symmetric = load("symmetric.json")
asymmetric = load("asymmetric.json")
sealed = load("sealed.json")

# ----- blob: selector (pick << 2 | op) then the bytes --------------------------------------
contexts = []
for v in symmetric["vectors"]:
    ctx = sorted(tuple(p) for p in v["context"])
    if ctx not in contexts:
        contexts.append(ctx)
for v in symmetric["vectors"]:
    pick = contexts.index(sorted(tuple(p) for p in v["context"]))
    write("blob", "sym-" + slug(v["name"]), u8(pick << 2) + bytes.fromhex(v["blob"]))

valid_oaep = [v for v in asymmetric["oaep"] if v["valid"]]
oaep_keys = []
for v in valid_oaep:
    if v["key_id"] not in oaep_keys:
        oaep_keys.append(v["key_id"])
seen = set()
for v in valid_oaep:
    sha256 = v["algorithm"] == "RSAES_OAEP_SHA_256"
    if (v["key_id"], sha256) in seen:
        continue
    seen.add((v["key_id"], sha256))
    pick = oaep_keys.index(v["key_id"]) + len(oaep_keys) * sha256
    write("blob", "oaep-" + slug(v["name"]), u8(pick << 2 | 2) + bytes.fromhex(v["ciphertext"]))

for i, v in enumerate(asymmetric["signatures"]):
    if i % 8 == 0 and i < 64:
        write("blob", "sig-" + slug(v["name"]), u8(i << 2 | 3) + bytes.fromhex(v["signature"]))

# ----- sealed_record: 0 ‖ record, or 1 ‖ u8 k ‖ key id ‖ payload -----------------------------
for r in sealed["records"]:
    write("sealed_record", "record-" + slug(r["name"]), b"\x00" + bytes.fromhex(r["record"]))


def str8(s):
    b = s.encode()
    return u8(len(b)) + b


def bytes32(b):
    return u32(len(b)) + b


def opt_time(t):
    return u8(t is not None) + u64(t or 0)


def payload(spec, usage, origin, state, versions, aliases=(), fingerprint=b"", valid_to=None,
            deletion=None, rotation=None):
    out = str8(spec) + str8(usage) + str8(origin) + str8(state)
    out += u64(1_795_000_000_000_000_000) + bytes32(b"a fuzz seed") + opt_time(deletion)
    out += u8(rotation is not None) + u64(rotation or 0) + u32(0)
    out += u64(0) + u32(1) + u8(1)
    out += u16(len(aliases)) + b"".join(str8(a) for a in aliases)
    out += u32(len(versions))
    for number, material in enumerate(versions, 1):
        out += u32(number) + u64(1_795_000_000_000_000_000) + u64(5) + bytes32(material)
    return out + bytes32(fingerprint) + opt_time(valid_to)


def fingerprint(key_id, material):
    data = u32(len(key_id)) + key_id.encode() + material
    return hmac.new(b"keyplane imported material v1", data, hashlib.sha256).digest()


def sealed_payload(name, key_id, body):
    write("sealed_record", "payload-" + name, b"\x01" + str8(key_id) + body)


p256 = next(k for k in asymmetric["keys"] if k["key_spec"] == "ECC_NIST_P256")
rsa = next(k for k in asymmetric["keys"] if k["key_id"] == "oaep-rsa-2048")
sealed_payload("symmetric", "fuzz-sym", payload(
    "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "KEYPLANE", "Enabled",
    [bytes(range(32)), bytes(range(32, 64))], aliases=["alias/fuzz"],
    rotation=365 * 86400))
sealed_payload("hmac", "fuzz-mac", payload(
    "HMAC_256", "GENERATE_VERIFY_MAC", "KEYPLANE", "Disabled", [bytes(64)]))
sealed_payload("pending-import", "fuzz-ext", payload(
    "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "EXTERNAL", "PendingImport", []))
sealed_payload("imported", "fuzz-imp", payload(
    "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "EXTERNAL", "Enabled", [bytes(32)],
    fingerprint=fingerprint("fuzz-imp", bytes(32)), valid_to=4_000_000_000_000_000_000))
sealed_payload("ecc", "fuzz-ecc", payload(
    "ECC_NIST_P256", "SIGN_VERIFY", "KEYPLANE", "PendingDeletion",
    [bytes.fromhex(p256["private_key_pkcs8"])], deletion=4_000_000_000_000_000_000))

# ----- import_token: selector (key << ... ) % 3 is the mode ---------------------------------
# Keys, in the target's order: SYMMETRIC_DEFAULT, HMAC_256, ECC_NIST_P256, RSA_2048,
# ECC_SECG_P256K1; selector = key * 3 + mode.
k1 = next(k for k in asymmetric["keys"] if k["key_spec"] == "ECC_SECG_P256K1")
materials = [bytes(range(32)), bytes(range(100, 132)), bytes.fromhex(p256["private_key_pkcs8"]),
             bytes.fromhex(rsa["private_key_pkcs8"]), bytes.fromhex(k1["private_key_pkcs8"])]
for key, material in enumerate(materials):
    write("import_token", f"material-{key}", u8(key * 3 + 1) + material)
wrapped = next(v for v in asymmetric["oaep"]
               if v["key_id"] == "oaep-rsa-2048" and v["algorithm"] == "RSAES_OAEP_SHA_256"
               and v["valid"])
token_payload = u64(4_000_000_000_000_000_000) + u8(2) + bytes.fromhex(rsa["private_key_pkcs8"])
write("import_token", "token-payload-oaep",
      u8(2) + u16(len(token_payload)) + token_payload + bytes.fromhex(wrapped["ciphertext"]))
token = b"KPIT\x01" + str8("import-SYMMETRIC_DEFAULT") + str8("root") + u16(60) + bytes(60) \
    + bytes(12) + bytes(48)
write("import_token", "token-shape", u8(0) + u16(len(token)) + token + bytes(256))

# ----- audit_log: selector % 3 is the mode --------------------------------------------------
KEY = bytes([0x11]) * 32
bodies = [
    '"time":1795000000000000001,"request_id":"1-1","operation":"CreateKey","key_id":"k1","outcome":"ok"',
    '"time":1795000000000000002,"request_id":"1-2","operation":"Encrypt","key_id":"k1","key_version":1,"caller":"billing","context":{"tenant":"acme"},"outcome":"ok"',
    None,
    '"time":1795000000000000004,"request_id":"2-1","operation":"Decrypt","key_id":"k1","key_version":1,"outcome":"KP_INVALID_CIPHERTEXT"',
    None,
]
prev = bytes(32)
lines = []
for seq, body in enumerate(bodies, 1):
    if body is None:
        time = 1_795_000_000_000_000_000 + seq
        closed = seq == 5
        mac = hmac.new(KEY, b"keyplane audit checkpoint v1\0" + u64(seq) + u64(time)
                       + u8(closed) + prev, hashlib.sha256).hexdigest()
        line = (f'{{"seq":{seq},"checkpoint":true,"time":{time},'
                f'"closed":{"true" if closed else "false"},"mac":"{mac}","prev":"{prev.hex()}"}}')
    else:
        line = f'{{"seq":{seq},{body},"prev":"{prev.hex()}"}}'
    line = line.encode()
    prev = hashlib.sha256(line).digest()
    lines.append(line + b"\n")
write("audit_log", "one-file", u8(0) + b"".join(lines))
first = b"".join(lines[:3])
write("audit_log", "two-files", u8(1) + u16(len(first)) + first + b"".join(lines[3:]))
write("audit_log", "cut-tail", u8(0) + b"".join(lines[:4]) + lines[4][:40])
write("audit_log", "closing-line", u8(2) + lines[4].rstrip(b"\n"))

# ----- context: fields separated by 0xFF, read as key, value, key, value ... -----------------
seen = set()
for v in symmetric["vectors"]:
    if v["context"] and str(v["context"]) not in seen:
        seen.add(str(v["context"]))
        fields = [s.encode() for pair in v["context"] for s in pair]
        write("context", "ctx-" + slug(v["name"]), b"\xff".join(fields))
write("context", "empty-key", b"\xffvalue")
write("context", "repeated-key", b"a\xff1\xffa\xff2")
write("context", "at-the-limit", b"k\xff" + b"v" * 8191)

# ----- cli_context: one --context argument --------------------------------------------------
for name, arg in [
    ("two-pairs", "tenant=acme,table=orders"),
    ("empty-value-equals", "a=x=y,b=,c=3"),
    ("quoted", "a=\"1,2\",b='it\\'s',c=\"q\\\"\\\\\""),
    ("escaped-comma", "a=1\\,2,b=c\\d"),
    ("list-refused", "a=1,2"),
    ("json", '{"tenant":"acme","région":"Île-de-France","e":"\\u00e9\\n"}'),
    ("json-twice", '{"a":"1","a":"2"}'),
    ("json-nested", '{"a":{"b":"c"}}'),
]:
    write("cli_context", name, arg.encode())
