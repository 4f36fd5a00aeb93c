//! Every key spec through its operations once: create, use, get_public_key, verify with
//! aws-lc-rs's own verifier from the returned DER. What a FIPS build refuses (secp256k1 keys,
//! DIGEST messages, RSA-OAEP) is asserted refused there.

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use keyplane::fips::{self, FIPS_BUILD};
use keyplane::{
    CreateKey, DataKeyPairSpec, EncryptionAlgorithm, EncryptionContext, Error, KeySpec, KeyUsage,
    Keyring, MacAlgorithm, MessageType, SigningAlgorithm,
};

fn independent(alg: SigningAlgorithm, spec: KeySpec) -> &'static dyn VerificationAlgorithm {
    use SigningAlgorithm as S;
    match (spec, alg) {
        (KeySpec::EccNistP256, _) => &signature::ECDSA_P256_SHA256_ASN1,
        (KeySpec::EccNistP384, _) => &signature::ECDSA_P384_SHA384_ASN1,
        (KeySpec::EccNistP521, _) => &signature::ECDSA_P521_SHA512_ASN1,
        (KeySpec::EccSecgP256k1, _) => &signature::ECDSA_P256K1_SHA256_ASN1,
        (_, S::RsassaPssSha256) => &signature::RSA_PSS_2048_8192_SHA256,
        (_, S::RsassaPssSha384) => &signature::RSA_PSS_2048_8192_SHA384,
        (_, S::RsassaPssSha512) => &signature::RSA_PSS_2048_8192_SHA512,
        (_, S::RsassaPkcs1V15Sha256) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (_, S::RsassaPkcs1V15Sha384) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (_, S::RsassaPkcs1V15Sha512) => &signature::RSA_PKCS1_2048_8192_SHA512,
        _ => unreachable!(),
    }
}

#[test]
fn every_signing_spec_signs_and_verifies() -> keyplane::Result<()> {
    let ring = Keyring::new();
    for spec in [
        KeySpec::EccNistP256,
        KeySpec::EccNistP384,
        KeySpec::EccNistP521,
        KeySpec::EccSecgP256k1,
        KeySpec::Rsa2048,
    ] {
        let request = CreateKey::new(spec).usage(KeyUsage::SignVerify);
        if !fips::allows_key(spec, KeyUsage::SignVerify) {
            assert_eq!(
                ring.create_key(&request),
                Err(Error::NotApproved(fips::SECP256K1))
            );
            continue;
        }
        let key = ring.create_key(&request)?;
        let public = ring.get_public_key(&key.key_id)?;
        assert_eq!(public.signing_algorithms, spec.signing_algorithms());
        assert!(public.to_pem().starts_with("-----BEGIN PUBLIC KEY-----\n"));
        for &alg in spec.signing_algorithms() {
            let sig = ring.sign(&key.key_id, b"message", MessageType::Raw, alg)?;
            assert!(sig.len() <= ring.max_signature_len(&key.key_id)?);
            assert!(ring.verify(&key.key_id, b"message", MessageType::Raw, alg, &sig)?);
            assert!(!ring.verify(&key.key_id, b"massage", MessageType::Raw, alg, &sig)?);
            UnparsedPublicKey::new(independent(alg, spec), &public.public_key)
                .verify(b"message", &sig)
                .expect("aws-lc-rs verifies Keyplane's signature");

            let digest = aws_lc_rs::digest::digest(alg.digest_algorithm(), b"message");
            if FIPS_BUILD {
                // Refused before the digest's length is checked.
                for digest in [digest.as_ref(), &digest.as_ref()[1..]] {
                    assert_eq!(
                        ring.sign(&key.key_id, digest, MessageType::Digest, alg),
                        Err(Error::NotApproved(fips::DIGEST_MESSAGE))
                    );
                }
                continue;
            }
            let sig = ring.sign(&key.key_id, digest.as_ref(), MessageType::Digest, alg)?;
            assert!(ring.verify(&key.key_id, b"message", MessageType::Raw, alg, &sig)?);
            assert_eq!(
                ring.sign(&key.key_id, &digest.as_ref()[1..], MessageType::Digest, alg),
                Err(Error::InvalidInput(
                    "digest length does not match the signing algorithm"
                ))
            );
        }
        let wrong = if spec == KeySpec::Rsa2048 {
            SigningAlgorithm::EcdsaSha256
        } else {
            SigningAlgorithm::RsassaPssSha256
        };
        assert_eq!(
            ring.sign(&key.key_id, b"m", MessageType::Raw, wrong),
            Err(Error::InvalidKeyUsage)
        );
        assert_eq!(
            ring.encrypt(&key.key_id, b"m", EncryptionContext::empty()),
            Err(Error::InvalidKeyUsage)
        );
        assert_eq!(
            ring.rotate_key(&key.key_id),
            Err(Error::UnsupportedAlgorithm)
        );
    }
    Ok(())
}

#[test]
fn hmac_keys_mac_and_verify() -> keyplane::Result<()> {
    let ring = Keyring::new();
    for (spec, alg) in [
        (KeySpec::Hmac224, MacAlgorithm::HmacSha224),
        (KeySpec::Hmac256, MacAlgorithm::HmacSha256),
        (KeySpec::Hmac384, MacAlgorithm::HmacSha384),
        (KeySpec::Hmac512, MacAlgorithm::HmacSha512),
    ] {
        let key = ring.create_key(&CreateKey::new(spec))?;
        let mac = ring.generate_mac(&key.key_id, b"msg", alg)?;
        assert_eq!(mac.len(), alg.mac_len());
        assert!(ring.verify_mac(&key.key_id, b"msg", alg, &mac)?);
        let mut bad = mac.clone();
        bad[0] ^= 1;
        assert!(!ring.verify_mac(&key.key_id, b"msg", alg, &bad)?);
        assert!(!ring.verify_mac(&key.key_id, b"msg", alg, &mac[1..])?);
        let other = if alg == MacAlgorithm::HmacSha256 {
            MacAlgorithm::HmacSha512
        } else {
            MacAlgorithm::HmacSha256
        };
        assert_eq!(
            ring.generate_mac(&key.key_id, b"msg", other),
            Err(Error::InvalidKeyUsage)
        );
        assert_eq!(
            ring.sign(
                &key.key_id,
                b"m",
                MessageType::Raw,
                SigningAlgorithm::EcdsaSha256
            ),
            Err(Error::InvalidKeyUsage)
        );
        assert_eq!(
            ring.get_public_key(&key.key_id),
            Err(Error::UnsupportedAlgorithm)
        );
        ring.disable_key(&key.key_id)?;
        assert_eq!(
            ring.generate_mac(&key.key_id, b"msg", alg),
            Err(Error::KeyDisabled)
        );
    }
    Ok(())
}

#[test]
#[cfg_attr(
    feature = "fips",
    ignore = "a FIPS build refuses RSA-OAEP (RSA ENCRYPT_DECRYPT keys); core/tests/fips.rs tests \
              the refusal"
)]
fn rsa_oaep_round_trips_within_kms_limits() -> keyplane::Result<()> {
    let ring = Keyring::new();
    let key = ring.create_key(&CreateKey::new(KeySpec::Rsa2048).usage(KeyUsage::EncryptDecrypt))?;
    for (alg, limit) in [
        (EncryptionAlgorithm::RsaesOaepSha1, 214),
        (EncryptionAlgorithm::RsaesOaepSha256, 190),
    ] {
        assert_eq!(ring.max_asymmetric_plaintext_len(&key.key_id, alg)?, limit);
        let pt = vec![7u8; limit];
        let ct = ring.encrypt_asymmetric(&key.key_id, &pt, alg)?;
        assert_eq!(
            &ring.decrypt_asymmetric(&key.key_id, &ct, alg)?[..],
            &pt[..]
        );
        assert!(matches!(
            ring.encrypt_asymmetric(&key.key_id, &vec![7u8; limit + 1], alg),
            Err(Error::InvalidInput(_))
        ));
        let mut bad = ct.clone();
        bad[10] ^= 1;
        assert_eq!(
            ring.decrypt_asymmetric(&key.key_id, &bad, alg).map(|_| ()),
            Err(Error::InvalidCiphertext)
        );
    }
    assert_eq!(
        ring.sign(
            &key.key_id,
            b"m",
            MessageType::Raw,
            SigningAlgorithm::RsassaPssSha256
        ),
        Err(Error::InvalidKeyUsage)
    );
    Ok(())
}

#[test]
fn data_key_pairs_decrypt_to_their_private_key() -> keyplane::Result<()> {
    let ring = Keyring::new();
    let key = ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault))?;
    let ctx = EncryptionContext::new([("purpose", "signing")])?;
    for spec in [DataKeyPairSpec::EccNistP256, DataKeyPairSpec::Rsa2048] {
        let pair = ring.generate_data_key_pair(&key.key_id, spec, &ctx)?;
        let decrypted = ring.decrypt(pair.private_key_ciphertext_blob(), &ctx)?;
        assert_eq!(&decrypted[..], pair.private_key_plaintext());
        let without = ring.generate_data_key_pair_without_plaintext(&key.key_id, spec, &ctx)?;
        assert!(!without.public_key.is_empty());
    }
    let signer = ring.create_key(&CreateKey::new(KeySpec::EccNistP256))?;
    assert_eq!(
        ring.generate_data_key_pair(&signer.key_id, DataKeyPairSpec::EccNistP256, &ctx)
            .map(|_| ()),
        Err(Error::InvalidKeyUsage)
    );
    Ok(())
}
