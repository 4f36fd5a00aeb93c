//! What the fuzz targets share: the project's known-answer vectors, and FORMAT.md's encodings
//! written again here, independently of the core, so a target can check the core against them.

// Each target uses its own part of this module.
#![allow(dead_code)]

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::{digest, hkdf};
use serde_json::Value;

pub const SYMMETRIC: &str = include_str!("../../../vectors/symmetric.json");
pub const ASYMMETRIC: &str = include_str!("../../../vectors/asymmetric.json");
pub const SEALED: &str = include_str!("../../../vectors/sealed.json");

pub fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("the vectors are JSON")
}

pub fn hex_of(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("a hex string")).expect("valid hex")
}

pub fn str_of(v: &Value) -> &str {
    v.as_str().expect("a string")
}

/// A vector's context, `[[key, value], ...]`, as pairs.
pub fn pairs_of(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .expect("a context array")
        .iter()
        .map(|p| (str_of(&p[0]).to_owned(), str_of(&p[1]).to_owned()))
        .collect()
}

/// FORMAT.md's canonical encoding of a valid context: pairs sorted by the key's bytes,
/// `u16 count` then `u16 len ‖ key ‖ u16 len ‖ value` each.
pub fn canonical(pairs: &[(String, String)]) -> Vec<u8> {
    let mut sorted: Vec<_> = pairs.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let len16 = |n: usize| {
        u16::try_from(n)
            .expect("a valid context's lengths fit")
            .to_be_bytes()
    };
    let mut out = len16(sorted.len()).to_vec();
    for (k, v) in sorted {
        out.extend_from_slice(&len16(k.len()));
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(&len16(v.len()));
        out.extend_from_slice(v.as_bytes());
    }
    out
}

/// A blob's header fields as FORMAT.md defines them (the key id as bytes).
pub struct Header<'a> {
    /// The format byte: 1, or 2 (FIPS builds; the AAD leaves the nonce out).
    pub format: u8,
    pub key_id: &'a [u8],
    pub version: u32,
    pub header: &'a [u8],
    pub nonce: &'a [u8],
    /// Ciphertext and tag.
    pub sealed: &'a [u8],
}

/// FORMAT.md: "Anything shorter than `34 + L`, a format byte other than `0x01` or `0x02`,
/// `L = 0` or `v = 0` is not a blob."
pub fn parse_blob(blob: &[u8]) -> Option<Header<'_>> {
    let (&format, rest) = blob.split_first()?;
    let (&l, _) = rest.split_first()?;
    let l = usize::from(l);
    if !(format == 1 || format == 2) || l == 0 || blob.len() < 34 + l {
        return None;
    }
    let version = u32::from_be_bytes(blob[2 + l..6 + l].try_into().ok()?);
    if version == 0 {
        return None;
    }
    Some(Header {
        format,
        key_id: &blob[2..2 + l],
        version,
        header: &blob[..18 + l],
        nonce: &blob[6 + l..18 + l],
        sealed: &blob[18 + l..],
    })
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// FORMAT.md's decryption with `root`, the root material of the blob's key version, and the
/// canonical encoding of the context presented.
pub fn format_decrypt(h: &Header<'_>, root: &[u8], canonical_context: &[u8]) -> Option<Vec<u8>> {
    let id_len = [u8::try_from(h.key_id.len()).ok()?];
    let version = h.version.to_be_bytes();
    let info: [&[u8]; 5] = [
        b"keyplane/v1/aes-256-gcm",
        &[0],
        &id_len,
        h.key_id,
        &version,
    ];
    let mut key = [0u8; 32];
    hkdf::Salt::new(hkdf::HKDF_SHA256, b"keyplane/v1")
        .extract(root)
        .expand(&info, Len(32))
        .ok()?
        .fill(&mut key)
        .ok()?;
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key).ok()?);
    // Format 0x02: the header before the nonce.
    let aad_header = if h.format == 2 {
        &h.header[..h.header.len() - 12]
    } else {
        h.header
    };
    let mut aad = aad_header.to_vec();
    aad.extend_from_slice(digest::digest(&digest::SHA256, canonical_context).as_ref());
    let mut buf = h.sealed.to_vec();
    let n = key
        .open_in_place(
            Nonce::try_assume_unique_for_key(h.nonce).ok()?,
            Aad::from(&aad),
            &mut buf,
        )
        .ok()?
        .len();
    buf.truncate(n);
    Some(buf)
}
