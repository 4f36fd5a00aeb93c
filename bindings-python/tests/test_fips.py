"""FIPS mode: ``keyplane.FIPS`` and ``keyplane.fips_status()`` for the build under test, and the
services a FIPS build refuses, decided at run time from the status: in FIPS mode they raise
``UnsupportedAlgorithmError`` with a message naming FIPS; otherwise they work.

The shipped build tested by ``scripts/test`` is the non-FIPS one. The README's "FIPS mode"
section says how to build the FIPS wheel and run this file against it.
"""

from __future__ import annotations

import hashlib
from typing import Callable

import pytest

import keyplane

STATUS = keyplane.fips_status()
IN_FIPS_MODE = STATUS["fips_mode"]


def test_status_has_the_documented_shape() -> None:
    assert set(STATUS) == {"fips_build", "fips_mode", "module", "module_version", "fips_branch"}
    assert type(STATUS["fips_build"]) is bool
    assert type(STATUS["fips_mode"]) is bool
    assert isinstance(STATUS["module"], str)
    assert isinstance(STATUS["module_version"], str)
    assert STATUS["module_version"][:1].isdigit(), STATUS["module_version"]
    assert STATUS["fips_branch"] is None or type(STATUS["fips_branch"]) is int
    # A new dict on every call, so a caller's edit cannot leak into the next one.
    assert keyplane.fips_status() == STATUS
    assert keyplane.fips_status() is not keyplane.fips_status()


def test_fips_flag_is_fips_build_in_fips_mode() -> None:
    assert type(keyplane.FIPS) is bool
    assert keyplane.FIPS == (STATUS["fips_build"] and STATUS["fips_mode"])


def test_status_names_the_module_of_this_build() -> None:
    if STATUS["fips_build"]:
        assert STATUS["module"] == "AWS-LC FIPS"
        assert isinstance(STATUS["fips_branch"], int) and STATUS["fips_branch"] > 0
        # A FIPS build whose module is not in FIPS mode cannot make a keyring at all.
        assert STATUS["fips_mode"], "the FIPS module under test is not in FIPS mode"
    else:
        assert STATUS["module"] == "AWS-LC"
        assert STATUS["fips_mode"] is False
        assert STATUS["fips_branch"] is None
        assert keyplane.FIPS is False


def test_status_takes_no_arguments() -> None:
    with pytest.raises(TypeError):
        keyplane.fips_status(True)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        keyplane.fips_status(fips=True)  # type: ignore[call-arg]


def refused_in_fips_mode(ring: keyplane.Keyring) -> dict[str, Callable[[], object]]:
    """Each service a FIPS build refuses, ready to call."""
    p256 = ring.create_key("ECC_NIST_P256").key_id
    sym = ring.create_key().key_id
    digest = hashlib.sha256(b"message").digest()
    return {
        "secp256k1 key": lambda: ring.create_key("ECC_SECG_P256K1"),
        "RSA encryption key": lambda: ring.create_key("RSA_2048", usage="ENCRYPT_DECRYPT"),
        "EXTERNAL key": lambda: ring.create_key(origin="EXTERNAL"),
        "DIGEST signing": lambda: ring.sign(p256, digest, "ECDSA_SHA_256", message_type="DIGEST"),
        "secp256k1 data key pair": lambda: ring.generate_data_key_pair(sym, "ECC_SECG_P256K1"),
        "secp256k1 data key pair without plaintext": lambda: (
            ring.generate_data_key_pair_without_plaintext(sym, "ECC_SECG_P256K1")
        ),
    }


@pytest.mark.parametrize(
    "service",
    [
        "secp256k1 key",
        "RSA encryption key",
        "EXTERNAL key",
        "DIGEST signing",
        "secp256k1 data key pair",
        "secp256k1 data key pair without plaintext",
    ],
)
def test_service_refused_only_in_fips_mode(ring: keyplane.Keyring, service: str) -> None:
    call = refused_in_fips_mode(ring)[service]
    if not IN_FIPS_MODE:
        call()
        return
    with pytest.raises(keyplane.UnsupportedAlgorithmError) as err:
        call()
    # The class of every "not supported" error, with the core's message kept.
    assert err.value.code == "KP_UNSUPPORTED_ALGORITHM" and err.value.number == 9
    assert isinstance(err.value, ValueError)
    assert str(err.value).startswith("not approved in FIPS mode: "), str(err.value)


def test_digest_verification_and_batches_follow_the_mode(ring: keyplane.Keyring) -> None:
    p256 = ring.create_key("ECC_NIST_P256").key_id
    digest = hashlib.sha256(b"message").digest()
    signature = ring.sign(p256, b"message", "ECDSA_SHA_256")
    # A batch item fails on its own, with the same error a single call raises.
    (item,) = ring.sign_many(p256, [digest], "ECDSA_SHA_256", message_type="DIGEST")
    if IN_FIPS_MODE:
        with pytest.raises(keyplane.UnsupportedAlgorithmError, match="FIPS"):
            ring.verify(p256, digest, signature, "ECDSA_SHA_256", message_type="DIGEST")
        assert isinstance(item, keyplane.UnsupportedAlgorithmError)
        assert "FIPS" in str(item)
    else:
        assert ring.verify(p256, digest, signature, "ECDSA_SHA_256", message_type="DIGEST")
        assert isinstance(item, bytes)


def test_approved_services_work_in_every_build(ring: keyplane.Keyring) -> None:
    sym = ring.create_key().key_id
    blob = ring.encrypt(sym, b"data", {"tenant": "acme"})
    assert ring.decrypt(blob, {"tenant": "acme"}) == b"data"
    p256 = ring.create_key("ECC_NIST_P256").key_id
    assert ring.verify(p256, b"m", ring.sign(p256, b"m", "ECDSA_SHA_256"), "ECDSA_SHA_256")
    rsa = ring.create_key("RSA_2048", usage="SIGN_VERIFY").key_id
    sig = ring.sign(rsa, b"m", "RSASSA_PSS_SHA_256")
    assert ring.verify(rsa, b"m", sig, "RSASSA_PSS_SHA_256")
    assert ring.generate_data_key_pair(sym, "ECC_NIST_P256").private_key_plaintext
