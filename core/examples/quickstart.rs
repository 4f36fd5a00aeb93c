//! Keyplane's main job in one run: a named key, encryption bound to a context, rotation that
//! keeps old ciphertexts decrypting, and an envelope-encryption data key.
//!
//! `cargo run --release -p keyplane --example quickstart`

use keyplane::{CreateKey, DataKeySpec, EncryptionContext, Error, KeySpec, Keyring, envelope};

fn main() -> Result<(), Error> {
    let ring = Keyring::new();

    let key = ring.create_key(
        &CreateKey::new(KeySpec::SymmetricDefault)
            .alias("alias/orders")
            .description("order records"),
    )?;
    println!(
        "created key {} ({}, {}), alias/orders -> it",
        key.key_id, key.key_spec, key.key_usage
    );

    let context = EncryptionContext::new([("tenant", "acme"), ("table", "orders")])?;
    let secret = b"card 4111 1111 1111 1111";
    let old_blob = ring.encrypt("alias/orders", secret, &context)?;
    let info = envelope::inspect(&old_blob)?;
    println!(
        "encrypted {} bytes -> {}-byte blob under {} version {}",
        secret.len(),
        old_blob.len(),
        info.key_id,
        info.key_version
    );

    let plaintext = ring.decrypt(&old_blob, &context)?;
    println!(
        "decrypted with the same context: {:?}",
        String::from_utf8_lossy(&plaintext)
    );

    let wrong = EncryptionContext::new([("tenant", "globex"), ("table", "orders")])?;
    match ring.decrypt(&old_blob, &wrong) {
        Err(e) => println!("decrypt with tenant=globex refused: {e} ({})", e.code()),
        Ok(_) => unreachable!("a wrong context must never decrypt"),
    }

    let version = ring.rotate_key("alias/orders")?;
    let new_blob = ring.encrypt("alias/orders", secret, &context)?;
    println!(
        "rotated to version {version}; new blobs use version {}",
        envelope::inspect(&new_blob)?.key_version
    );
    let still = ring.decrypt(&old_blob, &context)?;
    println!(
        "the version-1 blob still decrypts after rotation: {}",
        *still == secret[..]
    );

    let data_key = ring.generate_data_key("alias/orders", DataKeySpec::Aes256, &context)?;
    println!(
        "data key: {} plaintext bytes for local AES-256, {}-byte blob to store beside the data",
        data_key.plaintext().len(),
        data_key.ciphertext_blob().len()
    );
    let unwrapped = ring.decrypt(data_key.ciphertext_blob(), &context)?;
    println!(
        "the stored blob decrypts back to the same data key: {}",
        *unwrapped == data_key.plaintext()
    );

    let meta = ring.describe_key(&key.key_id)?;
    for v in &meta.versions {
        println!(
            "version {}: {} encryptions so far",
            v.version, v.encryptions
        );
    }
    Ok(())
}
