//! Batches: equal to the sequential operations item by item, one bad item never fails the
//! rest, no deadlock under concurrency and rotation, the pool size is honoured, limits hold.

use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use keyplane::{
    CreateKey, DataKeyRequest, DataKeySpec, DecryptRequest, EncryptRequest, EncryptionContext,
    Error, KeySpec, KeyUsage, Keyring, MacAlgorithm, MacRequest, MessageType, ReEncryptRequest,
    SignRequest, SigningAlgorithm, VerifyMacRequest, VerifyRequest,
};
use proptest::prelude::*;

const SYM: [&str; 3] = ["sym-a", "sym-b", "alias/sym-c"];

fn ring_with_keys(builder: keyplane::KeyringBuilder) -> Keyring {
    let ring = builder.build();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("sym-a"))
        .unwrap();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("sym-b"))
        .unwrap();
    ring.create_key(
        &CreateKey::new(KeySpec::SymmetricDefault)
            .key_id("a-much-longer-key-id-behind-an-alias")
            .alias("alias/sym-c"),
    )
    .unwrap();
    ring.create_key(&CreateKey::new(KeySpec::Hmac256).key_id("mac-256"))
        .unwrap();
    ring.create_key(&CreateKey::new(KeySpec::Hmac512).key_id("mac-512"))
        .unwrap();
    ring.create_key(&CreateKey::new(KeySpec::EccNistP256).key_id("ec-256"))
        .unwrap();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("sym-disabled"))
        .unwrap();
    ring.disable_key("sym-disabled").unwrap();
    ring
}

fn contexts() -> Vec<EncryptionContext> {
    vec![
        EncryptionContext::empty().clone(),
        EncryptionContext::new([("tenant", "acme")]).unwrap(),
        EncryptionContext::new([("tenant", "globex"), ("table", "orders")]).unwrap(),
    ]
}

/// One random item: (key index, plaintext, context index).
fn item() -> impl Strategy<Value = (usize, Vec<u8>, usize)> {
    (
        0..SYM.len(),
        prop_oneof![
            4 => proptest::collection::vec(any::<u8>(), 0..128),
            1 => proptest::collection::vec(any::<u8>(), 0..5000),
        ],
        0..3usize,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn batches_equal_sequential_operations(
        items in proptest::collection::vec(item(), 0..400),
        threads in 1..4usize,
    ) {
        let ring = ring_with_keys(Keyring::builder().threads(threads).unwrap());
        let ctxs = contexts();

        // encrypt_many: every blob decrypts (sequentially) to its item's plaintext.
        let requests: Vec<_> = items
            .iter()
            .map(|(k, p, c)| EncryptRequest { key_id: SYM[*k], plaintext: p, context: &ctxs[*c] })
            .collect();
        let blobs: Vec<_> = ring.encrypt_many(&requests).unwrap();
        prop_assert_eq!(blobs.len(), items.len());
        for ((_, p, c), blob) in items.iter().zip(&blobs) {
            let blob = blob.as_ref().unwrap();
            prop_assert_eq!(&ring.decrypt(blob, &ctxs[*c]).unwrap()[..], &p[..]);
        }

        // decrypt_many of sequential blobs returns the plaintexts.
        let sequential: Vec<Vec<u8>> = items
            .iter()
            .map(|(k, p, c)| ring.encrypt(SYM[*k], p, &ctxs[*c]).unwrap())
            .collect();
        let requests: Vec<_> = items
            .iter()
            .zip(&sequential)
            .map(|((_, _, c), blob)| DecryptRequest { blob, context: &ctxs[*c] })
            .collect();
        for ((_, p, _), out) in items.iter().zip(ring.decrypt_many(&requests).unwrap()) {
            prop_assert_eq!(&out.unwrap()[..], &p[..]);
        }

        // re_encrypt_many moves every blob to another key and context.
        let requests: Vec<_> = items
            .iter()
            .zip(&sequential)
            .map(|((k, _, c), blob)| ReEncryptRequest {
                blob,
                source_context: &ctxs[*c],
                destination_key_id: SYM[(k + 1) % SYM.len()],
                destination_context: &ctxs[(c + 1) % 3],
            })
            .collect();
        for ((_, p, c), out) in items.iter().zip(ring.re_encrypt_many(&requests).unwrap()) {
            let blob = out.unwrap();
            prop_assert_eq!(&ring.decrypt(&blob, &ctxs[(c + 1) % 3]).unwrap()[..], &p[..]);
        }

        // generate_mac_many equals generate_mac; verify_mac_many equals verify_mac.
        let macs: Vec<(&str, MacAlgorithm)> = vec![
            ("mac-256", MacAlgorithm::HmacSha256),
            ("mac-512", MacAlgorithm::HmacSha512),
        ];
        let requests: Vec<_> = items
            .iter()
            .map(|(k, p, _)| {
                let (key_id, algorithm) = macs[k % 2];
                MacRequest { key_id, message: p, algorithm }
            })
            .collect();
        let batch_macs = ring.generate_mac_many(&requests).unwrap();
        for (r, mac) in requests.iter().zip(&batch_macs) {
            let expected = ring.generate_mac(r.key_id, r.message, r.algorithm).unwrap();
            prop_assert_eq!(&mac.as_ref().unwrap()[..], &expected[..]);
        }
        let checks: Vec<_> = requests
            .iter()
            .zip(&batch_macs)
            .enumerate()
            .map(|(i, (r, mac))| VerifyMacRequest {
                key_id: r.key_id,
                // Every third message is altered, so its MAC must not verify.
                message: if i % 3 == 0 { b"altered" } else { r.message },
                algorithm: r.algorithm,
                mac: mac.as_ref().unwrap(),
            })
            .collect();
        for (r, ok) in checks.iter().zip(ring.verify_mac_many(&checks).unwrap()) {
            let expected = ring.verify_mac(r.key_id, r.message, r.algorithm, r.mac).unwrap();
            prop_assert_eq!(ok.unwrap(), expected);
        }

        // Data keys: each blob decrypts to its plaintext.
        let requests: Vec<_> = items
            .iter()
            .map(|(k, p, c)| DataKeyRequest {
                key_id: SYM[*k],
                spec: if p.len() % 2 == 0 { DataKeySpec::Aes256 } else { DataKeySpec::NumberOfBytes(p.len() % 1024 + 1) },
                context: &ctxs[*c],
            })
            .collect();
        for (r, dk) in requests.iter().zip(ring.generate_data_key_many(&requests).unwrap()) {
            let dk = dk.unwrap();
            prop_assert_eq!(dk.plaintext().len(), r.spec.byte_len().unwrap());
            prop_assert_eq!(&ring.decrypt(dk.ciphertext_blob(), r.context).unwrap()[..], &dk.plaintext()[..]);
            prop_assert_eq!(dk.key_id(), ring.describe_key(r.key_id).unwrap().key_id);
        }
        for (r, blob) in requests.iter().zip(ring.generate_data_key_without_plaintext_many(&requests).unwrap()) {
            prop_assert_eq!(ring.decrypt(&blob.unwrap(), r.context).unwrap().len(), r.spec.byte_len().unwrap());
        }
    }
}

#[test]
fn signatures_in_a_batch_verify_sequentially_and_back() {
    let ring = ring_with_keys(Keyring::builder().threads(2).unwrap());
    let messages: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; usize::from(i) * 3]).collect();
    let requests: Vec<_> = messages
        .iter()
        .map(|m| SignRequest {
            key_id: "ec-256",
            message: m,
            message_type: MessageType::Raw,
            algorithm: SigningAlgorithm::EcdsaSha256,
        })
        .collect();
    let signatures = ring.sign_many(&requests).unwrap();
    for (m, sig) in messages.iter().zip(&signatures) {
        let sig = sig.as_ref().unwrap();
        assert!(
            ring.verify(
                "ec-256",
                m,
                MessageType::Raw,
                SigningAlgorithm::EcdsaSha256,
                sig
            )
            .unwrap()
        );
    }
    let checks: Vec<_> = messages
        .iter()
        .zip(&signatures)
        .enumerate()
        .map(|(i, (m, sig))| VerifyRequest {
            key_id: "ec-256",
            message: if i % 4 == 1 { b"not the message" } else { m },
            message_type: MessageType::Raw,
            algorithm: SigningAlgorithm::EcdsaSha256,
            signature: sig.as_ref().unwrap(),
        })
        .collect();
    for (i, ok) in ring.verify_many(&checks).unwrap().into_iter().enumerate() {
        assert_eq!(ok.unwrap(), i % 4 != 1, "item {i}");
    }
}

#[test]
fn bad_items_fail_alone() {
    let ring = ring_with_keys(Keyring::builder().threads(2).unwrap());
    let ctx = EncryptionContext::new([("tenant", "acme")]).unwrap();
    let other = EncryptionContext::new([("tenant", "other")]).unwrap();
    let good = ring.encrypt("sym-a", b"good", &ctx).unwrap();
    let mut tampered = good.clone();
    *tampered.last_mut().unwrap() ^= 1;
    let disabled_blob = {
        ring.enable_key("sym-disabled").unwrap();
        let blob = ring.encrypt("sym-disabled", b"x", &ctx).unwrap();
        ring.disable_key("sym-disabled").unwrap();
        blob
    };

    // Encrypt: unknown key, disabled key, wrong usage between good items; many rounds of the
    // pattern so the bad items land in different scheduled runs.
    let pattern: [(&str, Option<Error>); 5] = [
        ("sym-a", None),
        ("no-such-key", Some(Error::NotFound)),
        ("sym-disabled", Some(Error::KeyDisabled)),
        ("mac-256", Some(Error::InvalidKeyUsage)),
        ("alias/sym-c", None),
    ];
    let requests: Vec<_> = (0..2000)
        .map(|i| EncryptRequest {
            key_id: pattern[i % 5].0,
            plaintext: b"payload",
            context: &ctx,
        })
        .collect();
    for (i, out) in ring.encrypt_many(&requests).unwrap().iter().enumerate() {
        match (&pattern[i % 5].1, out) {
            (None, Ok(blob)) => assert_eq!(&ring.decrypt(blob, &ctx).unwrap()[..], b"payload"),
            (Some(expected), Err(e)) => assert_eq!(e, expected, "item {i}"),
            (expected, got) => panic!("item {i}: expected {expected:?}, got {got:?}"),
        }
    }

    // Decrypt: wrong context, tampered, truncated, empty, disabled key, between good items.
    let cases: [(&[u8], &EncryptionContext, Option<Error>); 7] = [
        (&good, &ctx, None),
        (&good, &other, Some(Error::InvalidCiphertext)),
        (&tampered, &ctx, Some(Error::InvalidCiphertext)),
        (
            &good[..good.len() - 1],
            &ctx,
            Some(Error::InvalidCiphertext),
        ),
        (b"", &ctx, Some(Error::InvalidCiphertext)),
        (&disabled_blob, &ctx, Some(Error::KeyDisabled)),
        (
            &good,
            EncryptionContext::empty(),
            Some(Error::InvalidCiphertext),
        ),
    ];
    let requests: Vec<_> = (0..1400)
        .map(|i| DecryptRequest {
            blob: cases[i % 7].0,
            context: cases[i % 7].1,
        })
        .collect();
    for (i, out) in ring.decrypt_many(&requests).unwrap().iter().enumerate() {
        match (&cases[i % 7].2, out) {
            (None, Ok(p)) => assert_eq!(&p[..], b"good"),
            (Some(expected), Err(e)) => assert_eq!(e, expected, "item {i}"),
            (expected, got) => panic!("item {i}: expected {expected:?}, got {got:?}"),
        }
    }

    // Re-encrypt to an unknown or disabled destination, or from a tampered source.
    let requests = [
        ReEncryptRequest {
            blob: &good,
            source_context: &ctx,
            destination_key_id: "sym-b",
            destination_context: &other,
        },
        ReEncryptRequest {
            blob: &good,
            source_context: &ctx,
            destination_key_id: "nope",
            destination_context: &other,
        },
        ReEncryptRequest {
            blob: &tampered,
            source_context: &ctx,
            destination_key_id: "sym-b",
            destination_context: &other,
        },
        ReEncryptRequest {
            blob: &good,
            source_context: &ctx,
            destination_key_id: "sym-disabled",
            destination_context: &other,
        },
    ];
    let out = ring.re_encrypt_many(&requests).unwrap();
    assert_eq!(
        &ring.decrypt(out[0].as_ref().unwrap(), &other).unwrap()[..],
        b"good"
    );
    assert_eq!(out[1].as_ref().unwrap_err(), &Error::NotFound);
    assert_eq!(out[2].as_ref().unwrap_err(), &Error::InvalidCiphertext);
    assert_eq!(out[3].as_ref().unwrap_err(), &Error::KeyDisabled);

    // Data keys: bad length, wrong usage.
    let requests = [
        DataKeyRequest {
            key_id: "sym-a",
            spec: DataKeySpec::Aes128,
            context: &ctx,
        },
        DataKeyRequest {
            key_id: "sym-a",
            spec: DataKeySpec::NumberOfBytes(0),
            context: &ctx,
        },
        DataKeyRequest {
            key_id: "ec-256",
            spec: DataKeySpec::Aes256,
            context: &ctx,
        },
        DataKeyRequest {
            key_id: "sym-b",
            spec: DataKeySpec::NumberOfBytes(1025),
            context: &ctx,
        },
    ];
    let out = ring.generate_data_key_many(&requests).unwrap();
    assert_eq!(out[0].as_ref().unwrap().plaintext().len(), 16);
    assert!(matches!(out[1], Err(Error::InvalidInput(_))));
    assert_eq!(out[2].as_ref().unwrap_err(), &Error::InvalidKeyUsage);
    assert!(matches!(out[3], Err(Error::InvalidInput(_))));

    // MAC with the wrong algorithm or a symmetric key; sign with an HMAC key.
    let requests = [
        MacRequest {
            key_id: "mac-256",
            message: b"m",
            algorithm: MacAlgorithm::HmacSha256,
        },
        MacRequest {
            key_id: "mac-256",
            message: b"m",
            algorithm: MacAlgorithm::HmacSha384,
        },
        MacRequest {
            key_id: "sym-a",
            message: b"m",
            algorithm: MacAlgorithm::HmacSha256,
        },
    ];
    let out = ring.generate_mac_many(&requests).unwrap();
    assert_eq!(out[0].as_ref().unwrap().len(), 32);
    assert_eq!(out[1].as_ref().unwrap_err(), &Error::InvalidKeyUsage);
    assert_eq!(out[2].as_ref().unwrap_err(), &Error::InvalidKeyUsage);
    let requests = [
        SignRequest {
            key_id: "mac-256",
            message: b"m",
            message_type: MessageType::Raw,
            algorithm: SigningAlgorithm::EcdsaSha256,
        },
        SignRequest {
            key_id: "ec-256",
            message: b"short",
            message_type: MessageType::Digest,
            algorithm: SigningAlgorithm::EcdsaSha256,
        },
        SignRequest {
            key_id: "ec-256",
            message: b"m",
            message_type: MessageType::Raw,
            algorithm: SigningAlgorithm::EcdsaSha256,
        },
    ];
    let out = ring.sign_many(&requests).unwrap();
    assert_eq!(out[0].as_ref().unwrap_err(), &Error::InvalidKeyUsage);
    if keyplane::fips::FIPS_BUILD {
        // A FIPS build refuses DIGEST messages before it looks at their length.
        assert!(matches!(out[1], Err(Error::NotApproved(_))));
    } else {
        assert!(matches!(out[1], Err(Error::InvalidInput(_))));
    }
    assert!(out[2].is_ok());
}

#[test]
fn empty_batches_and_the_size_limit() {
    let ring = ring_with_keys(Keyring::builder().max_batch_items(3));
    assert!(ring.encrypt_many(&[]).unwrap().is_empty());
    assert!(ring.decrypt_many(&[]).unwrap().is_empty());
    assert!(ring.verify_many(&[]).unwrap().is_empty());
    assert!(ring.generate_data_key_many(&[]).unwrap().is_empty());
    let ctx = EncryptionContext::empty();
    let one = EncryptRequest {
        key_id: "sym-a",
        plaintext: b"",
        context: ctx,
    };
    assert_eq!(ring.encrypt_many(&[one; 3]).unwrap().len(), 3);
    assert!(matches!(
        ring.encrypt_many(&[one; 4]),
        Err(Error::LimitExceeded(_))
    ));
    let check = VerifyMacRequest {
        key_id: "mac-256",
        message: b"",
        algorithm: MacAlgorithm::HmacSha256,
        mac: b"",
    };
    assert!(matches!(
        ring.verify_mac_many(&[check; 4]),
        Err(Error::LimitExceeded(_))
    ));
    // The empty plaintext round-trips through a batch too.
    let blob = ring.encrypt_many(&[one]).unwrap().remove(0).unwrap();
    assert!(ring.decrypt(&blob, ctx).unwrap().is_empty());
}

#[test]
fn outputs_outlive_the_batch_and_each_other() {
    let ring = ring_with_keys(Keyring::builder().threads(2).unwrap());
    let ctx = EncryptionContext::empty();
    let plaintexts: Vec<Vec<u8>> = (0..1000u32).map(|i| i.to_be_bytes().repeat(5)).collect();
    let requests: Vec<_> = plaintexts
        .iter()
        .map(|p| EncryptRequest {
            key_id: "sym-a",
            plaintext: p,
            context: ctx,
        })
        .collect();
    let mut blobs = ring.encrypt_many(&requests).unwrap();
    // Keep only one view alive; it must still read correctly after the rest are dropped.
    let kept = blobs.swap_remove(617).unwrap();
    drop(blobs);
    drop(requests);
    assert_eq!(&ring.decrypt(&kept, ctx).unwrap()[..], &plaintexts[617][..]);
}

/// Runs `f` on another thread and fails the test if it does not finish within `secs`.
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .expect("deadlock: the batch did not finish in time")
}

#[test]
fn concurrent_batches_while_keys_rotate() {
    within(120, || {
        let ring = ring_with_keys(Keyring::builder().threads(2).unwrap());
        let rotator = {
            let ring = ring.clone();
            thread::spawn(move || {
                for _ in 0..50 {
                    ring.rotate_key("sym-a").unwrap();
                    ring.rotate_key("sym-b").unwrap();
                    thread::sleep(Duration::from_millis(2));
                }
            })
        };
        let workers: Vec<_> = (0..4u8)
            .map(|t| {
                let ring = ring.clone();
                thread::spawn(move || {
                    let ctx = EncryptionContext::new([("worker", t.to_string())]).unwrap();
                    for round in 0..25u32 {
                        let plaintexts: Vec<Vec<u8>> = (0..300u32)
                            .map(|i| format!("{t}/{round}/{i}").into_bytes())
                            .collect();
                        let requests: Vec<_> = plaintexts
                            .iter()
                            .enumerate()
                            .map(|(i, p)| EncryptRequest {
                                key_id: SYM[i % 3],
                                plaintext: p,
                                context: &ctx,
                            })
                            .collect();
                        let blobs = ring.encrypt_many(&requests).unwrap();
                        let back: Vec<_> = blobs
                            .iter()
                            .map(|b| DecryptRequest {
                                blob: b.as_ref().unwrap(),
                                context: &ctx,
                            })
                            .collect();
                        for (p, out) in plaintexts.iter().zip(ring.decrypt_many(&back).unwrap()) {
                            assert_eq!(&out.unwrap()[..], &p[..]);
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        rotator.join().unwrap();
        assert!(ring.describe_key("sym-a").unwrap().current_version > 1);
    });
}

#[test]
fn a_batch_started_inside_the_pool_does_not_deadlock() {
    within(60, || {
        let pool = shared_pool(1);
        let ring = ring_with_keys(Keyring::builder().thread_pool(Arc::clone(&pool)));
        let plaintexts: Vec<Vec<u8>> = (0..5000u32).map(|i| i.to_le_bytes().to_vec()).collect();
        // The only pool thread runs a task that itself submits a batch to the same pool.
        let outputs = pool.install(|| {
            let requests = encrypt_requests("sym-b", &plaintexts);
            ring.encrypt_many(&requests).unwrap()
        });
        for (p, blob) in plaintexts.iter().zip(outputs) {
            assert_eq!(
                &ring
                    .decrypt(&blob.unwrap(), EncryptionContext::empty())
                    .unwrap()[..],
                &p[..]
            );
        }
    });
}

#[test]
fn batches_started_by_every_pool_thread_at_once_do_not_deadlock() {
    within(60, || {
        let pool = shared_pool(2);
        let ring = ring_with_keys(Keyring::builder().thread_pool(Arc::clone(&pool)));
        let plaintexts: Vec<Vec<u8>> = (0..20_000u32).map(|i| i.to_le_bytes().to_vec()).collect();
        // Both pool threads are busy with a batch each, so neither can lend a hand to the
        // other's: each finishes its own.
        let outputs = pool.broadcast(|_| {
            let requests = encrypt_requests("sym-a", &plaintexts);
            ring.encrypt_many(&requests).unwrap()
        });
        for blobs in outputs {
            assert_eq!(blobs.len(), plaintexts.len());
            for (p, blob) in plaintexts.iter().zip(blobs).step_by(97) {
                let blob = blob.unwrap();
                assert_eq!(
                    &ring.decrypt(&blob, EncryptionContext::empty()).unwrap()[..],
                    &p[..]
                );
            }
        }
    });
}

#[test]
fn usage_and_state_are_checked_per_item_not_per_batch() {
    let ring = ring_with_keys(Keyring::builder());
    rsa_encryption_key(&ring, "rsa-enc");
    let ctx = EncryptionContext::empty();
    let requests = [
        EncryptRequest {
            key_id: "rsa-enc",
            plaintext: b"x",
            context: ctx,
        },
        EncryptRequest {
            key_id: "sym-a",
            plaintext: b"x",
            context: ctx,
        },
    ];
    let out = ring.encrypt_many(&requests).unwrap();
    assert_eq!(out[0].as_ref().unwrap_err(), &Error::InvalidKeyUsage);
    assert!(out[1].is_ok());
}

/// An RSA-2048 `ENCRYPT_DECRYPT` key named `id`. A FIPS build refuses to create one, so there
/// it comes from the test hooks, as from a store a non-FIPS build wrote.
fn rsa_encryption_key(ring: &Keyring, id: &str) {
    let options = CreateKey::new(KeySpec::Rsa2048)
        .key_id(id)
        .usage(KeyUsage::EncryptDecrypt);
    if keyplane::fips::FIPS_BUILD {
        use aws_lc_rs::encoding::AsDer;
        let pair = aws_lc_rs::rsa::PrivateDecryptingKey::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .unwrap();
        let pkcs8 = pair.as_der().unwrap();
        ring.insecure_import_key_material(
            id,
            KeySpec::Rsa2048,
            KeyUsage::EncryptDecrypt,
            pkcs8.as_ref(),
        )
        .unwrap();
    } else {
        ring.create_key(&options).unwrap();
    }
}

/// A caller's own pool of `threads` threads, to hand to a keyring.
fn shared_pool(threads: usize) -> Arc<rayon::ThreadPool> {
    Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap(),
    )
}

fn encrypt_requests<'a>(key_id: &'a str, plaintexts: &'a [Vec<u8>]) -> Vec<EncryptRequest<'a>> {
    plaintexts
        .iter()
        .map(|p| EncryptRequest {
            key_id,
            plaintext: p,
            context: EncryptionContext::empty(),
        })
        .collect()
}

#[test]
fn batches_count_every_encryption_against_the_budget() {
    // A batch task reserves encryptions in blocks: the budget still holds to the item, and a
    // batch that ran alone hands back what it did not use, so the count is exact.
    // 3,000 items are several runs, so two threads both reserve.
    let budget = std::num::NonZeroU64::new(1000).unwrap();
    for threads in [1, 2] {
        let ring = Keyring::builder()
            .threads(threads)
            .unwrap()
            .encryption_budget(budget)
            .build();
        ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("k"))
            .unwrap();
        ring.set_rotate_on_budget("k", false).unwrap();
        let plaintexts = vec![vec![1u8; 16]; 3000];
        let out = ring
            .encrypt_many(&encrypt_requests("k", &plaintexts))
            .unwrap();
        let ok = out.iter().filter(|r| r.is_ok()).count() as u64;
        assert!(
            out.iter()
                .filter_map(|r| r.as_ref().err())
                .all(|e| matches!(e, Error::LimitExceeded(_)))
        );
        let counted = ring.describe_key("k").unwrap().versions[0].encryptions;
        if threads == 1 {
            assert_eq!((ok, counted), (1000, 1000));
        } else {
            // Another task's unused reservation may end the budget a little early; nothing
            // is ever counted short.
            assert!(
                ok <= counted && counted <= 1000,
                "{ok} ok, {counted} counted"
            );
            assert!(ok >= 1000 - 64, "{ok} ok");
        }
    }
    let ring = Keyring::builder().threads(1).unwrap().build();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("k"))
        .unwrap();
    let plaintexts = vec![vec![1u8; 16]; 1001];
    for _ in 0..3 {
        ring.encrypt_many(&encrypt_requests("k", &plaintexts))
            .unwrap();
    }
    ring.encrypt("k", b"one more", EncryptionContext::empty())
        .unwrap();
    assert_eq!(
        ring.describe_key("k").unwrap().versions[0].encryptions,
        3004
    );
}

#[test]
fn a_store_backed_batch_is_covered_by_the_stored_count() {
    let dir = std::env::temp_dir().join(format!("keyplane-batch-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let root: Arc<dyn keyplane::RootKey> =
        Arc::new(keyplane::LocalRootKey::new("r", &[5; 32]).unwrap());
    let open = || {
        Keyring::builder()
            .threads(2)
            .unwrap()
            .open(keyplane::Store::open(&dir).unwrap(), Arc::clone(&root))
            .unwrap()
            .0
    };
    let mut counted = 0;
    for round in 0..3 {
        let ring = open();
        if round == 0 {
            ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("k"))
                .unwrap();
        }
        let resumed = ring.describe_key("k").unwrap().versions[0].encryptions;
        assert!(resumed >= counted, "round {round}: {resumed} < {counted}");
        let plaintexts = vec![vec![2u8; 32]; 5000];
        let out = ring
            .encrypt_many(&encrypt_requests("k", &plaintexts))
            .unwrap();
        assert!(out.iter().all(Result::is_ok));
        counted = ring.describe_key("k").unwrap().versions[0].encryptions;
        assert!(counted >= resumed + 5000);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Batches whose outputs all have one size (one key id length, one input length) take a path
/// of their own; failures there still land on their own items.
#[test]
fn same_size_batches_equal_sequential_and_fail_item_by_item() {
    for threads in [1, 3] {
        let ring = ring_with_keys(Keyring::builder().threads(threads).unwrap());
        // Same id length as "sym-a" and "sym-b", so its blobs would have the same size.
        ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("sym-x"))
            .unwrap();
        ring.disable_key("sym-x").unwrap();
        let ctxs = contexts();
        let plaintexts: Vec<Vec<u8>> = (0..600u32).map(|i| i.to_le_bytes().repeat(16)).collect();
        let key = |i: usize| match i % 7 {
            0 => "sym-x",
            1 | 2 => "sym-b",
            _ => "sym-a",
        };
        let requests: Vec<_> = plaintexts
            .iter()
            .enumerate()
            .map(|(i, p)| EncryptRequest {
                key_id: key(i),
                plaintext: p,
                context: &ctxs[i % 3],
            })
            .collect();
        let blobs = ring.encrypt_many(&requests).unwrap();
        assert_eq!(blobs.len(), 600);
        let mut good = Vec::new();
        for (i, blob) in blobs.iter().enumerate() {
            if key(i) == "sym-x" {
                assert_eq!(blob.as_ref().unwrap_err(), &Error::KeyDisabled, "item {i}");
                continue;
            }
            let blob = blob.as_ref().unwrap();
            assert_eq!(
                ring.decrypt(blob, &ctxs[i % 3]).unwrap()[..],
                plaintexts[i][..],
                "item {i}"
            );
            good.push((i, blob.to_vec()));
        }

        // Decrypting them: tampered (same length) and wrong-context items fail alone.
        for (n, (_, blob)) in good.iter_mut().enumerate() {
            if n % 5 == 1 {
                let last = blob.len() - 1; // the tag: the blob keeps its size
                blob[last] ^= 0x10;
            }
        }
        let requests: Vec<_> = good
            .iter()
            .enumerate()
            .map(|(n, (i, blob))| DecryptRequest {
                blob,
                context: &ctxs[if n % 5 == 3 { (i + 1) % 3 } else { i % 3 }],
            })
            .collect();
        let plain = ring.decrypt_many(&requests).unwrap();
        for (n, ((i, _), out)) in good.iter().zip(&plain).enumerate() {
            match n % 5 {
                1 | 3 => assert!(out.is_err(), "item {i}"),
                _ => assert_eq!(&out.as_ref().unwrap()[..], &plaintexts[*i][..], "item {i}"),
            }
        }

        // One MAC key, one message length: equal to the sequential MACs.
        let requests: Vec<_> = plaintexts
            .iter()
            .map(|p| MacRequest {
                key_id: "mac-256",
                message: p,
                algorithm: MacAlgorithm::HmacSha256,
            })
            .collect();
        for (r, mac) in requests
            .iter()
            .zip(ring.generate_mac_many(&requests).unwrap())
        {
            let expected = ring.generate_mac(r.key_id, r.message, r.algorithm).unwrap();
            assert_eq!(&mac.unwrap()[..], &expected[..]);
        }
    }
}

#[test]
fn request_debug_shows_lengths_not_secrets() {
    let ctx = EncryptionContext::empty();
    let secret: &[u8] = b"TOP-SECRET-PLAINTEXT-4242";
    let needle = "TOP-SECRET";
    // Bytes print as a list of numbers under a derived Debug: look for those too.
    let as_numbers = format!("{:?}", &secret[..4]);
    let as_numbers = as_numbers.trim_matches(|c| c == '[' || c == ']');
    let printed = [
        format!(
            "{:?}",
            EncryptRequest {
                key_id: "k",
                plaintext: secret,
                context: ctx,
            }
        ),
        format!(
            "{:?}",
            MacRequest {
                key_id: "k",
                message: secret,
                algorithm: MacAlgorithm::HmacSha256,
            }
        ),
        format!(
            "{:?}",
            VerifyMacRequest {
                key_id: "k",
                message: secret,
                algorithm: MacAlgorithm::HmacSha256,
                mac: secret,
            }
        ),
        format!(
            "{:?}",
            SignRequest {
                key_id: "k",
                message: secret,
                message_type: MessageType::Raw,
                algorithm: SigningAlgorithm::EcdsaSha256,
            }
        ),
        format!(
            "{:?}",
            VerifyRequest {
                key_id: "k",
                message: secret,
                message_type: MessageType::Raw,
                algorithm: SigningAlgorithm::EcdsaSha256,
                signature: secret,
            }
        ),
        format!(
            "{:?}",
            DecryptRequest {
                blob: secret,
                context: ctx,
            }
        ),
        format!(
            "{:?}",
            ReEncryptRequest {
                blob: secret,
                source_context: ctx,
                destination_key_id: "k",
                destination_context: ctx,
            }
        ),
    ];
    for text in &printed {
        assert!(!text.contains(needle), "{text}");
        assert!(!text.contains(as_numbers), "{text}");
        assert!(text.contains(&secret.len().to_string()), "{text}");
    }
}

#[test]
fn caller_chosen_counts_are_refused_before_anything_is_allocated() {
    let ring = ring_with_keys(Keyring::builder());
    let ctx = EncryptionContext::empty();
    for n in [usize::MAX, 1 << 40, 1025] {
        assert!(
            matches!(ring.generate_random(n), Err(Error::InvalidInput(_))),
            "generate_random({n})"
        );
        let spec = DataKeySpec::NumberOfBytes(n);
        assert!(matches!(
            ring.generate_data_key("sym-a", spec, ctx),
            Err(Error::InvalidInput(_))
        ));
        let request = [DataKeyRequest {
            key_id: "sym-a",
            spec,
            context: ctx,
        }];
        let out = ring.generate_data_key_many(&request).unwrap();
        assert!(matches!(out[0], Err(Error::InvalidInput(_))));
        let out = ring
            .generate_data_key_without_plaintext_many(&request)
            .unwrap();
        assert!(matches!(out[0], Err(Error::InvalidInput(_))));
    }
    // A binding that builds its request list from a count asks first.
    for n in [usize::MAX, 1 << 40] {
        assert!(matches!(
            ring.check_batch_len(n),
            Err(Error::LimitExceeded(_))
        ));
    }
    ring.check_batch_len(10).unwrap();
}

#[test]
fn a_batch_output_too_large_to_allocate_is_an_error_not_an_abort() {
    // 2^17 items naming one 1 GiB plaintext: a 2^47-byte output, which no allocator grants.
    // The plaintext is zero pages the kernel never backs (nothing reads or writes them before
    // the batch refuses).
    let ring = ring_with_keys(Keyring::builder().max_batch_items(usize::MAX));
    let ctx = EncryptionContext::empty();
    let plaintext = vec![0u8; 1 << 30];
    let items = vec![
        EncryptRequest {
            key_id: "sym-a",
            plaintext: &plaintext,
            context: ctx,
        };
        1 << 17
    ];
    assert!(matches!(
        ring.encrypt_many(&items),
        Err(Error::LimitExceeded(_))
    ));
    // Sizes that differ take the other path to the same refusal.
    let small = [0u8; 1];
    let mut mixed = items;
    mixed[0].plaintext = &small;
    assert!(matches!(
        ring.encrypt_many(&mixed),
        Err(Error::LimitExceeded(_))
    ));
}
