"""Interop with pyca/cryptography: its verifiers accept our signatures and public keys, it loads
our data key pairs, and we decrypt what it encrypts with our RSA public keys."""

from __future__ import annotations

import hashlib
import os

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import keyplane

HASH: dict[str, type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
ECDSA = [
    ("ECC_NIST_P256", "ECDSA_SHA_256", ec.SECP256R1),
    ("ECC_NIST_P384", "ECDSA_SHA_384", ec.SECP384R1),
    ("ECC_NIST_P521", "ECDSA_SHA_512", ec.SECP521R1),
    ("ECC_SECG_P256K1", "ECDSA_SHA_256", ec.SECP256K1),
]


@pytest.mark.parametrize(("spec", "algorithm", "curve"), ECDSA)
def test_cryptography_verifies_our_ecdsa(ring: keyplane.Keyring, spec: str, algorithm: str, curve: type) -> None:
    key = ring.create_key(spec).key_id  # type: ignore[arg-type]
    public = serialization.load_der_public_key(ring.get_public_key(key).public_key)
    assert isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, curve)
    pem = serialization.load_pem_public_key(ring.get_public_key(key).to_pem().encode())
    assert pem.public_numbers() == public.public_numbers()  # type: ignore[union-attr]
    h = HASH[algorithm[-3:]]()
    for message in [b"", b"release v1.2", os.urandom(3000)]:
        sig = ring.sign(key, message, algorithm)  # type: ignore[arg-type]
        public.verify(sig, message, ec.ECDSA(h))
        with pytest.raises(InvalidSignature):
            public.verify(sig, message + b"x", ec.ECDSA(h))
        digest = hashlib.new(h.name, message).digest()
        dsig = ring.sign(key, digest, algorithm, message_type="DIGEST")  # type: ignore[arg-type]
        public.verify(dsig, digest, ec.ECDSA(utils.Prehashed(h)))


@pytest.fixture(scope="module")
def rsa_ring() -> tuple[keyplane.Keyring, str, str]:
    ring = keyplane.Keyring()
    signer = ring.create_key("RSA_3072", usage="SIGN_VERIFY").key_id
    decrypter = ring.create_key("RSA_2048", usage="ENCRYPT_DECRYPT").key_id
    return ring, signer, decrypter


@pytest.mark.parametrize("bits", ["256", "384", "512"])
def test_cryptography_verifies_our_rsa(rsa_ring: tuple[keyplane.Keyring, str, str], bits: str) -> None:
    ring, signer, _ = rsa_ring
    public = serialization.load_der_public_key(ring.get_public_key(signer).public_key)
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 3072
    h = HASH[bits]()
    message = b"signed by keyplane"
    pss = ring.sign(signer, message, f"RSASSA_PSS_SHA_{bits}")  # type: ignore[arg-type]
    public.verify(pss, message, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
    pkcs1 = ring.sign(signer, message, f"RSASSA_PKCS1_V1_5_SHA_{bits}")  # type: ignore[arg-type]
    public.verify(pkcs1, message, padding.PKCS1v15(), h)
    with pytest.raises(InvalidSignature):
        public.verify(pkcs1, message + b"x", padding.PKCS1v15(), h)


@pytest.mark.parametrize(("algorithm", "h"), [("RSAES_OAEP_SHA_256", hashes.SHA256), ("RSAES_OAEP_SHA_1", hashes.SHA1)])
def test_we_decrypt_cryptography_oaep(
    rsa_ring: tuple[keyplane.Keyring, str, str], algorithm: str, h: type[hashes.SHA256 | hashes.SHA1]
) -> None:
    ring, _, decrypter = rsa_ring
    public = serialization.load_der_public_key(ring.get_public_key(decrypter).public_key)
    assert isinstance(public, rsa.RSAPublicKey)
    oaep = padding.OAEP(mgf=padding.MGF1(h()), algorithm=h(), label=None)
    for message in [b"", b"wrapped by cryptography", os.urandom(ring.max_asymmetric_plaintext_len(decrypter, algorithm))]:  # type: ignore[arg-type]
        assert ring.decrypt_asymmetric(decrypter, public.encrypt(message, oaep), algorithm) == message  # type: ignore[arg-type]


@pytest.mark.parametrize("spec", ["ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1", "RSA_2048"])
def test_cryptography_loads_our_data_key_pairs(ring: keyplane.Keyring, sym: str, spec: str) -> None:
    pair = ring.generate_data_key_pair(sym, spec)  # type: ignore[arg-type]
    private = serialization.load_der_private_key(pair.private_key_plaintext, password=None)
    public = serialization.load_der_public_key(pair.public_key)
    der = serialization.Encoding.DER
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    assert private.public_key().public_bytes(der, spki) == pair.public_key
    assert public.public_bytes(der, spki) == pair.public_key
    assert private.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()) == pair.private_key_plaintext
    message = b"signed with a data key pair"
    if isinstance(private, ec.EllipticCurvePrivateKey):
        assert isinstance(public, ec.EllipticCurvePublicKey)
        public.verify(private.sign(message, ec.ECDSA(hashes.SHA256())), message, ec.ECDSA(hashes.SHA256()))
    else:
        assert isinstance(private, rsa.RSAPrivateKey) and isinstance(public, rsa.RSAPublicKey)
        assert private.key_size == 2048
        public.verify(private.sign(message, padding.PKCS1v15(), hashes.SHA256()), message, padding.PKCS1v15(), hashes.SHA256())


def test_data_key_works_as_an_aesgcm_key(ring: keyplane.Keyring, sym: str) -> None:
    dk = ring.generate_data_key(sym, context={"file": "a.bin"})
    nonce = os.urandom(12)
    sealed = AESGCM(dk.plaintext).encrypt(nonce, b"file contents", None)
    again = ring.decrypt(dk.ciphertext_blob, {"file": "a.bin"})
    assert AESGCM(again).decrypt(nonce, sealed, None) == b"file contents"

