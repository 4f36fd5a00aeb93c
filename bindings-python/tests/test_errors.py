"""The bad-input matrix: wrong types, str for bytes, None, huge and out-of-range values, tampered
blobs, wrong contexts, unknown, disabled and pending keys, wrong usages; and the exception model."""

from __future__ import annotations

import datetime as dt
import pickle
from typing import Any, Callable

import pytest

import keyplane

NOT_BYTES: list[Any] = ["text", None, 3, 1.5, [1, 2], {"a": "b"}, object()]
NOT_STR: list[Any] = [b"key", None, 3, ["k"], bytearray(b"k")]


@pytest.fixture
def keys(ring: keyplane.Keyring) -> dict[str, str]:
    return {
        "sym": ring.create_key(alias="alias/sym").key_id,
        "hmac": ring.create_key("HMAC_256").key_id,
        "ec": ring.create_key("ECC_NIST_P256").key_id,
        "rsa_enc": ring.create_key("RSA_2048", usage="ENCRYPT_DECRYPT").key_id,
    }


def byte_arguments(ring: keyplane.Keyring, k: dict[str, str]) -> list[Callable[[Any], object]]:
    """Every operation, with the bytes-like argument under test left open."""
    blob = ring.encrypt(k["sym"], b"x")
    sig = ring.sign(k["ec"], b"m", "ECDSA_SHA_256")
    tag = ring.generate_mac(k["hmac"], b"m", "HMAC_SHA_256")
    return [
        lambda v: ring.encrypt(k["sym"], v),
        lambda v: ring.decrypt(v),
        lambda v: ring.re_encrypt(v, k["sym"]),
        lambda v: ring.plaintext_len(v),
        lambda v: keyplane.inspect_blob(v),
        lambda v: ring.sign(k["ec"], v, "ECDSA_SHA_256"),
        lambda v: ring.verify(k["ec"], v, sig, "ECDSA_SHA_256"),
        lambda v: ring.verify(k["ec"], b"m", v, "ECDSA_SHA_256"),
        lambda v: ring.generate_mac(k["hmac"], v, "HMAC_SHA_256"),
        lambda v: ring.verify_mac(k["hmac"], v, tag, "HMAC_SHA_256"),
        lambda v: ring.verify_mac(k["hmac"], b"m", v, "HMAC_SHA_256"),
        lambda v: ring.encrypt_asymmetric(k["rsa_enc"], v, "RSAES_OAEP_SHA_256"),
        lambda v: ring.decrypt_asymmetric(k["rsa_enc"], v, "RSAES_OAEP_SHA_256"),
        lambda v: ring.encrypt_many(k["sym"], [v]),
        lambda v: ring.decrypt_many([blob, v]),
        lambda v: ring.sign_many(k["ec"], [v], "ECDSA_SHA_256"),
    ]


def test_every_bytes_argument_refuses_non_bytes(ring: keyplane.Keyring, keys: dict[str, str]) -> None:
    for call in byte_arguments(ring, keys):
        for value in NOT_BYTES:
            with pytest.raises(TypeError) as err:
                call(value)
            assert not isinstance(err.value, keyplane.KeyplaneError)
            if isinstance(value, str):
                assert "not 'str'" in str(err.value) and "encode" in str(err.value)


def test_every_key_id_argument_refuses_non_str(ring: keyplane.Keyring, keys: dict[str, str]) -> None:
    calls: list[Callable[[Any], object]] = [
        lambda v: ring.encrypt(v, b"x"),
        lambda v: ring.describe_key(v),
        lambda v: ring.sign(v, b"x", "ECDSA_SHA_256"),
        lambda v: ring.generate_mac(v, b"x", "HMAC_SHA_256"),
        lambda v: ring.generate_data_key(v),
        lambda v: ring.disable_key(v),
        lambda v: ring.create_alias("alias/a", v),
        lambda v: ring.create_key(key_id=v or 5),  # type: ignore[arg-type]  # None: "generate one"
        lambda v: ring.re_encrypt(ring.encrypt(keys["sym"], b"x"), v),
    ]
    for call in calls:
        for value in NOT_STR:
            with pytest.raises(TypeError):
                call(value)
    for value in [b"k", 3, [b"k"]]:
        with pytest.raises(TypeError):
            ring.encrypt_many(value, [b"x"])  # type: ignore[arg-type]


def test_context_types(ring: keyplane.Keyring, keys: dict[str, str]) -> None:
    bad_contexts: list[Any] = ["a=b", [("a", "b")], ("a", "b"), {"a": 1}, {1: "a"}, {"a": b"b"}, {b"a": "b"}, 5]
    for bad in bad_contexts:
        with pytest.raises(TypeError):
            ring.encrypt(keys["sym"], b"x", bad)
        with pytest.raises(TypeError):
            keyplane.EncryptionContext(bad)  # type: ignore[arg-type]
    with pytest.raises(keyplane.InvalidInputError):
        ring.encrypt(keys["sym"], b"x", {"": "empty key"})
    with pytest.raises(keyplane.LimitExceededError):
        ring.encrypt(keys["sym"], b"x", {"k": "v" * 8192})
    ring.encrypt(keys["sym"], b"x", {"k": "v" * 8191})  # exactly 8192 bytes is allowed


def test_unknown_names(ring: keyplane.Keyring, keys: dict[str, str]) -> None:
    cases: list[Callable[[], object]] = [
        lambda: ring.create_key("AES_256"),  # type: ignore[arg-type]
        lambda: ring.create_key(usage="ENCRYPT"),  # type: ignore[arg-type]
        lambda: ring.sign(keys["ec"], b"x", "ECDSA"),  # type: ignore[arg-type]
        lambda: ring.sign(keys["ec"], b"x", "ECDSA_SHA_256", message_type="HASH"),  # type: ignore[arg-type]
        lambda: ring.generate_mac(keys["hmac"], b"x", "hmac_sha_256"),  # type: ignore[arg-type]
        lambda: ring.encrypt_asymmetric(keys["rsa_enc"], b"x", "OAEP"),  # type: ignore[arg-type]
        lambda: ring.generate_data_key(keys["sym"], "AES_512"),  # type: ignore[arg-type]
        lambda: ring.generate_data_key_pair(keys["sym"], "ECC_NIST_P999"),  # type: ignore[arg-type]
    ]
    for case in cases:
        with pytest.raises(keyplane.InvalidInputError) as err:
            case()
        assert isinstance(err.value, ValueError)
        assert "expected one of" in str(err.value)
    with pytest.raises(TypeError):
        ring.create_key(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ring.sign(keys["ec"], b"x", None)  # type: ignore[arg-type]


def test_out_of_range_numbers(ring: keyplane.Keyring, keys: dict[str, str]) -> None:
    for n in [0, 1025, -1, 2**70]:
        with pytest.raises(keyplane.InvalidInputError):
            ring.generate_random(n)
        with pytest.raises(keyplane.InvalidInputError):
            ring.generate_data_key(keys["sym"], number_of_bytes=n)
    for bad in ["3", 1.0, None, True]:
        with pytest.raises(TypeError):
            ring.generate_random(bad)  # type: ignore[arg-type]
    with pytest.raises(keyplane.InvalidInputError):
        ring.generate_data_key(keys["sym"], "AES_128", number_of_bytes=16)
    for days in [89, 2561, -5]:
        with pytest.raises(keyplane.InvalidInputError):
            ring.create_key(rotation_period_days=days)
    with pytest.raises(keyplane.InvalidInputError):
        ring.create_key(rotation_period_days=90, rotation_period=dt.timedelta(days=1))
    with pytest.raises(keyplane.InvalidInputError):
        ring.create_key(rotation_period=dt.timedelta(0))
    with pytest.raises((ValueError, OverflowError)):
        ring.create_key(rotation_period=dt.timedelta(days=-1))
    for days in [6, 31]:
        with pytest.raises(keyplane.InvalidInputError):
            ring.schedule_key_deletion(keys["sym"], days)
    kwargs: dict[str, int]
    for kwargs in [{"encryption_budget": 0}, {"threads": -1}, {"max_batch_items": -1}]:
        with pytest.raises(keyplane.InvalidInputError):
            keyplane.Keyring(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(keyplane.InvalidInputError):
        ring.set_min_decryption_version(keys["sym"], 0)
    with pytest.raises(keyplane.InvalidInputError):
        ring.set_min_decryption_version(keys["sym"], 2**40)


def test_bad_key_ids_and_aliases(ring: keyplane.Keyring) -> None:
    for key_id in ["", "alias/x", "has space", "x" * 256, "ünï"]:
        with pytest.raises(keyplane.InvalidInputError):
            ring.create_key(key_id=key_id)
    for alias in ["orders", "alias/", "alias/has space", "alias/" + "x" * 251]:
        with pytest.raises(keyplane.InvalidInputError):
            ring.create_key(alias=alias)
    ring.create_key(key_id="x" * 255)


def test_spec_and_usage_rules(ring: keyplane.Keyring) -> None:
    with pytest.raises(keyplane.InvalidInputError):
        ring.create_key("RSA_2048")  # RSA must name a usage
    with pytest.raises(keyplane.InvalidKeyUsageError):
        ring.create_key("HMAC_256", usage="SIGN_VERIFY")
    with pytest.raises(keyplane.UnsupportedAlgorithmError):
        ring.create_key("ECC_NIST_P256", usage="KEY_AGREEMENT")
    with pytest.raises(keyplane.InvalidInputError):
        ring.create_key("ECC_NIST_P256", rotation_period_days=90)


def test_every_bit_flip_and_truncation_is_one_error(ring: keyplane.Keyring, keys: dict[str, str]) -> None:
    ctx = {"tenant": "acme"}
    blob = ring.encrypt(keys["sym"], b"tamper me", ctx)
    for i in range(len(blob) * 8):
        flipped = bytearray(blob)
        flipped[i // 8] ^= 1 << (i % 8)
        with pytest.raises(keyplane.InvalidCiphertextError) as err:
            ring.decrypt(flipped, ctx)
        assert str(err.value) == "invalid ciphertext"
    for n in range(len(blob)):
        with pytest.raises(keyplane.InvalidCiphertextError):
            ring.decrypt(blob[:n], ctx)
    with pytest.raises(keyplane.InvalidCiphertextError):
        ring.decrypt(blob + b"\x00", ctx)
    with pytest.raises(keyplane.InvalidCiphertextError):
        keyplane.Keyring().decrypt(blob, ctx)  # another keyring


def test_unknown_key(ring: keyplane.Keyring, keys: dict[str, str]) -> None:
    calls: list[Callable[[], object]] = [
        lambda: ring.encrypt("nope", b"x"),
        lambda: ring.encrypt("alias/nope", b"x"),
        lambda: ring.describe_key("nope"),
        lambda: ring.sign("nope", b"x", "ECDSA_SHA_256"),
        lambda: ring.verify("nope", b"x", b"s", "ECDSA_SHA_256"),
        lambda: ring.generate_mac("nope", b"x", "HMAC_SHA_256"),
        lambda: ring.get_public_key("nope"),
        lambda: ring.generate_data_key("nope"),
        lambda: ring.generate_data_key_pair("nope", "ECC_NIST_P256"),
        lambda: ring.rotate_key("nope"),
        lambda: ring.disable_key("nope"),
        lambda: ring.delete_alias("alias/nope"),
        lambda: ring.create_alias("alias/new", "nope"),
        lambda: ring.re_encrypt(ring.encrypt(keys["sym"], b"x"), "nope"),
    ]
    for call in calls:
        with pytest.raises(keyplane.NotFoundError) as err:
            call()
        assert isinstance(err.value, KeyError)
        assert str(err.value) == "key not found"  # no KeyError quoting


def test_disabled_and_pending_keys(ring: keyplane.Keyring, keys: dict[str, str]) -> None:
    blob = ring.encrypt(keys["sym"], b"x")
    sig = ring.sign(keys["ec"], b"m", "ECDSA_SHA_256")
    tag = ring.generate_mac(keys["hmac"], b"m", "HMAC_SHA_256")
    calls: list[Callable[[], object]] = [
        lambda: ring.encrypt(keys["sym"], b"x"),
        lambda: ring.decrypt(blob),
        lambda: ring.generate_data_key(keys["sym"]),
        lambda: ring.generate_data_key_pair(keys["sym"], "ECC_NIST_P256"),
        lambda: ring.rotate_key(keys["sym"]),
        lambda: ring.sign(keys["ec"], b"m", "ECDSA_SHA_256"),
        lambda: ring.verify(keys["ec"], b"m", sig, "ECDSA_SHA_256"),
        lambda: ring.get_public_key(keys["ec"]),
        lambda: ring.generate_mac(keys["hmac"], b"m", "HMAC_SHA_256"),
        lambda: ring.verify_mac(keys["hmac"], b"m", tag, "HMAC_SHA_256"),
        lambda: ring.encrypt_asymmetric(keys["rsa_enc"], b"x", "RSAES_OAEP_SHA_256"),
    ]
    for key in keys.values():
        ring.disable_key(key)
    for call in calls:
        with pytest.raises(keyplane.KeyDisabledError):
            call()
    for key in keys.values():
        ring.enable_key(key)
        ring.schedule_key_deletion(key)
    for call in calls:
        with pytest.raises(keyplane.KeyStateError) as err:
            call()
        assert type(err.value) is keyplane.KeyStateError
    with pytest.raises(keyplane.KeyStateError):
        ring.enable_key(keys["sym"])


def test_wrong_usage(ring: keyplane.Keyring, keys: dict[str, str]) -> None:
    rsa_sign = ring.create_key("RSA_2048", usage="SIGN_VERIFY").key_id
    usage_errors: list[Callable[[], object]] = [
        lambda: ring.encrypt(keys["hmac"], b"x"),
        lambda: ring.encrypt(keys["ec"], b"x"),
        lambda: ring.generate_data_key(keys["hmac"]),
        lambda: ring.generate_data_key_pair(keys["ec"], "ECC_NIST_P256"),
        lambda: ring.sign(keys["sym"], b"x", "ECDSA_SHA_256"),
        lambda: ring.sign(keys["ec"], b"x", "ECDSA_SHA_384"),
        lambda: ring.sign(keys["ec"], b"x", "RSASSA_PSS_SHA_256"),
        lambda: ring.sign(keys["rsa_enc"], b"x", "RSASSA_PSS_SHA_256"),
        lambda: ring.generate_mac(keys["ec"], b"x", "HMAC_SHA_256"),
        lambda: ring.generate_mac(keys["hmac"], b"x", "HMAC_SHA_512"),
        lambda: ring.encrypt_asymmetric(rsa_sign, b"x", "RSAES_OAEP_SHA_256"),
        lambda: ring.encrypt_asymmetric(keys["rsa_enc"], b"x", "SYMMETRIC_DEFAULT"),
        lambda: ring.decrypt_asymmetric(keys["sym"], b"x", "RSAES_OAEP_SHA_256"),
    ]
    for call in usage_errors:
        with pytest.raises(keyplane.InvalidKeyUsageError) as err:
            call()
        assert isinstance(err.value, ValueError)
    with pytest.raises(keyplane.UnsupportedAlgorithmError):
        ring.get_public_key(keys["sym"])
    with pytest.raises(keyplane.UnsupportedAlgorithmError):
        ring.rotate_key(keys["ec"])
    with pytest.raises(keyplane.InvalidInputError):
        ring.sign(keys["ec"], b"short digest", "ECDSA_SHA_256", message_type="DIGEST")


def test_huge_inputs(ring: keyplane.Keyring, keys: dict[str, str]) -> None:
    big = bytes(64 << 20)
    blob = ring.encrypt(keys["sym"], big)
    assert len(blob) == len(big) + 34 + len(keys["sym"])
    assert ring.decrypt(blob) == big
    assert len(ring.generate_mac(keys["hmac"], big, "HMAC_SHA_256")) == 32
    with pytest.raises(keyplane.LimitExceededError):
        ring.encrypt(keys["sym"], b"x", {f"k{i}": "v" * 100 for i in range(100)})


def test_exception_model() -> None:
    table = {
        keyplane.NotFoundError: ("KP_NOT_FOUND", 1, KeyError),
        keyplane.AlreadyExistsError: ("KP_ALREADY_EXISTS", 2, ValueError),
        keyplane.InvalidInputError: ("KP_INVALID_INPUT", 3, ValueError),
        keyplane.InvalidKeyUsageError: ("KP_INVALID_KEY_USAGE", 4, ValueError),
        keyplane.KeyDisabledError: ("KP_KEY_DISABLED", 5, keyplane.KeyStateError),
        keyplane.KeyStateError: ("KP_INVALID_KEY_STATE", 6, keyplane.KeyplaneError),
        keyplane.InvalidCiphertextError: ("KP_INVALID_CIPHERTEXT", 7, ValueError),
        keyplane.BufferTooSmallError: ("KP_BUFFER_TOO_SMALL", 8, ValueError),
        keyplane.UnsupportedAlgorithmError: ("KP_UNSUPPORTED_ALGORITHM", 9, ValueError),
        keyplane.LimitExceededError: ("KP_LIMIT_EXCEEDED", 10, keyplane.KeyplaneError),
        keyplane.VersionRetiredError: ("KP_VERSION_RETIRED", 11, keyplane.KeyplaneError),
        keyplane.StorageError: ("KP_STORAGE", 12, OSError),
        keyplane.InternalError: ("KP_INTERNAL", 100, keyplane.KeyplaneError),
    }
    for cls, (code, number, parent) in table.items():
        assert issubclass(cls, keyplane.KeyplaneError) and issubclass(cls, parent)
        assert cls.code == code and cls.number == number
        err = cls("message")
        assert err.code == code and str(err) == "message"
        again = pickle.loads(pickle.dumps(err))
        assert type(again) is cls and str(again) == "message"
    assert len({c.code for c in table}) == len(table)
