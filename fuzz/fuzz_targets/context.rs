//! Encryption contexts built from outside strings (`EncryptionContext::new`, which the C, Python
//! and Node bindings call with their callers' pairs): the validation against FORMAT.md's rules,
//! and the canonical encoding that the AAD binds, which must be one-to-one.
//!
//! Input: fields separated by 0xFF (a byte no UTF-8 string holds), read as key, value, key,
//! value, ... Inputs with other invalid UTF-8 are skipped: every binding refuses those before
//! the core sees them.
#![no_main]

mod common;

use keyplane::{EncryptionContext, Error, context::MAX_CONTEXT_BYTES};
use libfuzzer_sys::fuzz_target;

/// Reads FORMAT.md's canonical encoding back into pairs; `None` if it is not one.
fn decode(mut bytes: &[u8]) -> Option<Vec<(String, String)>> {
    let u16_then = |bytes: &mut &[u8]| -> Option<usize> {
        let (n, rest) = bytes.split_first_chunk::<2>()?;
        *bytes = rest;
        Some(usize::from(u16::from_be_bytes(*n)))
    };
    let count = u16_then(&mut bytes)?;
    let mut pairs = Vec::new();
    for _ in 0..count {
        let mut field = || -> Option<String> {
            let n = u16_then(&mut bytes)?;
            let (s, rest) = bytes.split_at_checked(n)?;
            bytes = rest;
            String::from_utf8(s.to_vec()).ok()
        };
        let k = field()?;
        let v = field()?;
        pairs.push((k, v));
    }
    bytes.is_empty().then_some(pairs)
}

fuzz_target!(|data: &[u8]| {
    let Ok(fields) = data
        .split(|&b| b == 0xff)
        .map(core::str::from_utf8)
        .collect::<Result<Vec<_>, _>>()
    else {
        return;
    };
    let pairs: Vec<(String, String)> = fields
        .chunks(2)
        .map(|kv| {
            (
                kv[0].to_owned(),
                kv.get(1).copied().unwrap_or("").to_owned(),
            )
        })
        .collect();

    // FORMAT.md: keys unique and non-empty; keys' and values' bytes at most 8192 in all.
    let total: usize = pairs.iter().map(|(k, v)| k.len() + v.len()).sum();
    let mut keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    let unique = keys.windows(2).all(|w| w[0] != w[1]);
    let valid = total <= MAX_CONTEXT_BYTES && unique && keys.iter().all(|k| !k.is_empty());

    let ctx = match EncryptionContext::new(pairs.iter().map(|(k, v)| (k, v))) {
        Ok(ctx) => ctx,
        Err(e) => {
            assert!(!valid, "a valid context was refused: {e}");
            assert!(
                matches!(e, Error::InvalidInput(_) | Error::LimitExceeded(_)),
                "{e:?}"
            );
            return;
        }
    };
    assert!(valid, "an invalid context was accepted");
    let _ = format!("{ctx:?}");

    // The canonical encoding is FORMAT.md's and reads back to exactly these pairs, so two
    // different contexts never share one.
    let canonical = ctx.canonical_bytes();
    assert_eq!(canonical, common::canonical(&pairs));
    let mut sorted = pairs.clone();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    assert_eq!(decode(&canonical), Some(sorted.clone()));
    assert!(
        ctx.iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .eq(sorted.iter().cloned())
    );
    assert_eq!(ctx.len(), pairs.len());
    for (k, v) in &pairs {
        assert_eq!(ctx.get(k), Some(v.as_str()));
    }
    // The order pairs are given in does not matter.
    let reversed =
        EncryptionContext::new(pairs.iter().rev().map(|(k, v)| (k, v))).expect("same pairs");
    assert_eq!(reversed, ctx);
});
