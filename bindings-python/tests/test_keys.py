"""Key management: creation of every spec, metadata, states, deletion, aliases, rotation policy."""

from __future__ import annotations

import datetime as dt

import pytest

import keyplane

ALL_SPECS = [
    ("SYMMETRIC_DEFAULT", None, "ENCRYPT_DECRYPT"),
    ("HMAC_224", None, "GENERATE_VERIFY_MAC"),
    ("HMAC_256", None, "GENERATE_VERIFY_MAC"),
    ("HMAC_384", None, "GENERATE_VERIFY_MAC"),
    ("HMAC_512", None, "GENERATE_VERIFY_MAC"),
    ("RSA_2048", "SIGN_VERIFY", "SIGN_VERIFY"),
    ("RSA_2048", "ENCRYPT_DECRYPT", "ENCRYPT_DECRYPT"),
    ("ECC_NIST_P256", None, "SIGN_VERIFY"),
    ("ECC_NIST_P384", None, "SIGN_VERIFY"),
    ("ECC_NIST_P521", None, "SIGN_VERIFY"),
    ("ECC_SECG_P256K1", None, "SIGN_VERIFY"),
]


@pytest.mark.parametrize(("spec", "usage", "expected_usage"), ALL_SPECS)
def test_create_every_spec(ring: keyplane.Keyring, spec: str, usage: str | None, expected_usage: str) -> None:
    meta = ring.create_key(spec, usage=usage)  # type: ignore[arg-type]
    assert meta.key_spec == spec
    assert meta.key_usage == expected_usage
    assert meta.key_state == "Enabled"
    assert meta.origin == "KEYPLANE"
    assert ring.describe_key(meta.key_id).key_spec == spec


def test_metadata_fields(ring: keyplane.Keyring) -> None:
    before = dt.datetime.now(dt.timezone.utc)
    meta = ring.create_key(
        key_id="orders-key",
        alias="alias/orders",
        description="order rows",
        rotation_period_days=90,
    )
    assert meta.key_id == "orders-key"
    assert meta.description == "order rows"
    assert meta.aliases == ("alias/orders",)
    assert meta.encryption_algorithms == ("SYMMETRIC_DEFAULT",)
    assert meta.signing_algorithms == ()
    assert meta.mac_algorithms == ()
    assert meta.rotation_period == dt.timedelta(days=90)
    assert meta.creation_date.tzinfo is not None
    assert before - dt.timedelta(seconds=5) <= meta.creation_date <= before + dt.timedelta(seconds=5)
    assert meta.next_rotation_date is not None
    assert meta.next_rotation_date - meta.creation_date == pytest.approx(dt.timedelta(days=90), abs=dt.timedelta(seconds=5))
    assert meta.deletion_date is None
    assert (meta.current_version, meta.min_decryption_version, meta.rotate_on_budget) == (1, 1, True)
    assert len(meta.versions) == 1 and meta.versions[0].version == 1
    assert "orders-key" in repr(meta)
    with pytest.raises(AttributeError):
        meta.key_id = "x"  # type: ignore[misc]
    mac = ring.describe_key(ring.create_key("HMAC_384").key_id)
    assert mac.mac_algorithms == ("HMAC_SHA_384",)
    ec = ring.describe_key(ring.create_key("ECC_NIST_P384").key_id)
    assert ec.signing_algorithms == ("ECDSA_SHA_384",)
    rsa = ring.create_key("RSA_2048", usage="ENCRYPT_DECRYPT")
    assert rsa.encryption_algorithms == ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256")


def test_custom_rotation_period(ring: keyplane.Keyring) -> None:
    key = ring.create_key(rotation_period=dt.timedelta(milliseconds=1)).key_id
    import time

    time.sleep(0.01)
    ring.encrypt(key, b"x")  # the first use after the period rotates first
    assert ring.describe_key(key).current_version >= 2
    ring.disable_key_rotation(key)
    assert ring.describe_key(key).rotation_period is None
    ring.enable_key_rotation(key)
    assert ring.describe_key(key).rotation_period == dt.timedelta(days=365)
    ring.enable_key_rotation(key, 100)
    assert ring.describe_key(key).rotation_period == dt.timedelta(days=100)
    ring.enable_key_rotation(key, rotation_period=dt.timedelta(hours=1))
    assert ring.describe_key(key).rotation_period == dt.timedelta(hours=1)


def test_list_keys_and_aliases(ring: keyplane.Keyring) -> None:
    a = ring.create_key(key_id="a-key", alias="alias/one").key_id
    b = ring.create_key(key_id="b-key").key_id
    assert ring.list_keys() == [a, b]
    ring.create_alias("alias/two", b)
    ring.create_alias("alias/three", "alias/one")  # an alias may name an alias
    assert ring.list_aliases() == {"alias/one": a, "alias/three": a, "alias/two": b}
    ring.update_alias("alias/one", b)
    assert ring.list_aliases()["alias/one"] == b
    assert keyplane.inspect_blob(ring.encrypt("alias/one", b"x")).key_id == b
    ring.delete_alias("alias/one")
    assert "alias/one" not in ring.list_aliases()
    with pytest.raises(keyplane.NotFoundError):
        ring.encrypt("alias/one", b"x")
    with pytest.raises(keyplane.AlreadyExistsError):
        ring.create_alias("alias/two", a)
    with pytest.raises(keyplane.AlreadyExistsError):
        ring.create_key(key_id="a-key")
    assert "keys=2" in repr(ring)


def test_enable_disable(ring: keyplane.Keyring, sym: str) -> None:
    blob = ring.encrypt(sym, b"x")
    ring.disable_key(sym)
    assert ring.describe_key(sym).key_state == "Disabled"
    with pytest.raises(keyplane.KeyDisabledError) as err:
        ring.encrypt(sym, b"x")
    assert isinstance(err.value, keyplane.KeyStateError)
    with pytest.raises(keyplane.KeyDisabledError):
        ring.decrypt(blob)
    ring.enable_key(sym)
    assert ring.decrypt(blob) == b"x"


def test_schedule_and_cancel_deletion(ring: keyplane.Keyring, sym: str) -> None:
    date = ring.schedule_key_deletion(sym, 7)
    now = dt.datetime.now(dt.timezone.utc)
    assert dt.timedelta(days=6, hours=23) < date - now <= dt.timedelta(days=7)
    meta = ring.describe_key(sym)
    assert meta.key_state == "PendingDeletion" and meta.deletion_date == date
    with pytest.raises(keyplane.KeyStateError) as err:
        ring.encrypt(sym, b"x")
    assert not isinstance(err.value, keyplane.KeyDisabledError)
    with pytest.raises(keyplane.KeyStateError):
        ring.schedule_key_deletion(sym)
    ring.cancel_key_deletion(sym)
    assert ring.describe_key(sym).key_state == "Disabled"  # as AWS KMS does
    ring.enable_key(sym)
    default = ring.schedule_key_deletion(sym)
    assert default - now > dt.timedelta(days=29)


def test_deletion_window_passes(ring: keyplane.Keyring, sym: str) -> None:
    ring.schedule_key_deletion(sym, pending_window=dt.timedelta(0))
    with pytest.raises(keyplane.NotFoundError):
        ring.describe_key(sym)
    assert ring.list_keys() == []
    assert ring.list_aliases() == {}


def test_keyring_options() -> None:
    ring = keyplane.Keyring(threads=2, encryption_budget=10, max_batch_items=5)
    key = ring.create_key().key_id
    assert len(ring.encrypt_many(key, [b"x"] * 5)) == 5
    with pytest.raises(keyplane.LimitExceededError):
        ring.encrypt_many(key, [b"x"] * 6)
    assert keyplane.Keyring(threads=0).list_keys() == []
