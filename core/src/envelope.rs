//! The ciphertext blob: a self-describing, versioned envelope (`FORMAT.md` has every byte).
//!
//! ```text
//! offset      size  field
//! 0           1     format version (0x01, or 0x02 from a FIPS build)
//! 1           1     L = key id length (1..=255)
//! 2           L     key id (UTF-8)
//! 2+L         4     key version (u32, big-endian, >= 1)
//! 6+L         12    nonce
//! 18+L        n     AES-256-GCM ciphertext
//! 18+L+n      16    tag
//! ```
//! The AAD is the header (bytes `0..18+L`) followed by the SHA-256 digest of the encryption
//! context's canonical encoding. Format `0x02` differs only there: its AAD leaves the nonce out
//! (bytes `0..6+L`), because the FIPS module draws the nonce itself while sealing, after the AAD
//! is fixed. GCM authenticates the nonce in both (it determines the tag's mask).

use crate::aead::{NONCE_LEN, TAG_LEN};
use crate::context::EncryptionContext;
use crate::error::{Error, Result};

/// The format version byte a non-FIPS build writes: Keyplane draws the nonce.
pub const FORMAT_V1: u8 = 0x01;
/// The format version byte a FIPS build writes: the FIPS module draws the nonce, so the AAD
/// cannot contain it. Every build reads both.
pub const FORMAT_V2: u8 = 0x02;
/// The format this build writes.
pub const FORMAT_WRITTEN: u8 = if crate::fips::FIPS_BUILD {
    FORMAT_V2
} else {
    FORMAT_V1
};
/// The longest key id a blob can name.
pub const MAX_KEY_ID_LEN: usize = 255;
/// Header bytes besides the key id: version byte, id length, key version, nonce.
const FIXED_HEADER: usize = 1 + 1 + 4 + NONCE_LEN;
/// The largest header, and so the largest AAD (header plus a 32-byte context digest).
pub(crate) const MAX_HEADER_LEN: usize = FIXED_HEADER + MAX_KEY_ID_LEN;
pub(crate) const MAX_AAD_LEN: usize = MAX_HEADER_LEN + 32;

/// What a blob's header says, readable without any key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobInfo<'a> {
    /// The format version byte.
    pub format_version: u8,
    /// The key that encrypted it.
    pub key_id: &'a str,
    /// The key version that encrypted it.
    pub key_version: u32,
}

/// A parsed blob: header fields plus the slices around them.
pub(crate) struct Parsed<'a> {
    pub(crate) format: u8,
    /// The key id's bytes, not yet checked to be UTF-8: a key look-up compares bytes anyway.
    pub(crate) key_id: &'a [u8],
    pub(crate) key_version: u32,
    pub(crate) nonce: [u8; NONCE_LEN],
    pub(crate) header: &'a [u8],
    pub(crate) ciphertext: &'a [u8],
    pub(crate) tag: &'a [u8],
}

/// The header length for a key id of `key_id_len` bytes.
#[must_use]
pub const fn header_len(key_id_len: usize) -> usize {
    FIXED_HEADER + key_id_len
}

/// The blob length for a key id of `key_id_len` bytes and `plaintext_len` bytes of plaintext,
/// or `None` on overflow.
#[must_use]
pub fn ciphertext_len(key_id_len: usize, plaintext_len: usize) -> Option<usize> {
    header_len(key_id_len)
        .checked_add(plaintext_len)?
        .checked_add(TAG_LEN)
}

/// The largest blob any key id can give for `plaintext_len` bytes, or `None` on overflow.
#[must_use]
pub fn max_ciphertext_len(plaintext_len: usize) -> Option<usize> {
    ciphertext_len(MAX_KEY_ID_LEN, plaintext_len)
}

/// Reads a blob's header without decrypting it.
///
/// # Errors
/// [`Error::InvalidCiphertext`] when the blob is not a well-formed Keyplane blob.
pub fn inspect(blob: &[u8]) -> Result<BlobInfo<'_>> {
    let parsed = parse(blob)?;
    Ok(BlobInfo {
        format_version: parsed.format,
        key_id: core::str::from_utf8(parsed.key_id).map_err(|_| Error::InvalidCiphertext)?,
        key_version: parsed.key_version,
    })
}

pub(crate) fn parse(blob: &[u8]) -> Result<Parsed<'_>> {
    let bad = Error::InvalidCiphertext;
    let (&format_version, rest) = blob.split_first().ok_or(bad)?;
    if format_version != FORMAT_V1 && format_version != FORMAT_V2 {
        return Err(bad);
    }
    let (&id_len, rest) = rest.split_first().ok_or(bad)?;
    let id_len = usize::from(id_len);
    if id_len == 0 || rest.len() < id_len + 4 + NONCE_LEN + TAG_LEN {
        return Err(bad);
    }
    let (key_id, rest) = rest.split_at(id_len);
    let (version, rest) = rest.split_at(4);
    let key_version = u32::from_be_bytes(version.try_into().map_err(|_| bad)?);
    if key_version == 0 {
        return Err(bad);
    }
    let (nonce, rest) = rest.split_at(NONCE_LEN);
    let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
    Ok(Parsed {
        format: format_version,
        key_id,
        key_version,
        nonce: nonce.try_into().map_err(|_| bad)?,
        header: &blob[..header_len(id_len)],
        ciphertext,
        tag,
    })
}

impl Parsed<'_> {
    /// The header bytes the AAD begins with: all of them in format `0x01`, those before the
    /// nonce in `0x02`.
    pub(crate) fn aad_header(&self) -> &[u8] {
        aad_header(self.format, self.header)
    }
}

/// The part of a `format` header that goes into the AAD.
pub(crate) fn aad_header(format: u8, header: &[u8]) -> &[u8] {
    if format == FORMAT_V2 {
        header.split_at(header.len().saturating_sub(NONCE_LEN)).0
    } else {
        header
    }
}

/// Writes the header of a `format` blob into `out` (which must hold it) and returns its length.
pub(crate) fn write_header(
    out: &mut [u8],
    format: u8,
    key_id: &str,
    key_version: u32,
    nonce: &[u8; NONCE_LEN],
) -> Result<usize> {
    let id_len = u8::try_from(key_id.len()).map_err(|_| Error::InvalidInput("key id too long"))?;
    let len = header_len(key_id.len());
    let header = out
        .get_mut(..len)
        .ok_or(Error::BufferTooSmall { needed: len })?;
    let (first, rest) = header.split_at_mut(2);
    first.copy_from_slice(&[format, id_len]);
    let (id, rest) = rest.split_at_mut(key_id.len());
    id.copy_from_slice(key_id.as_bytes());
    let (version, nonce_out) = rest.split_at_mut(4);
    version.copy_from_slice(&key_version.to_be_bytes());
    nonce_out.copy_from_slice(nonce);
    Ok(len)
}

/// Headers up to this long (key ids up to 78 bytes, UUIDs included) get a small AAD buffer.
const SHORT_HEADER_LEN: usize = 96;

/// Calls `f` with the AAD: header ‖ SHA-256 of the context's canonical encoding.
///
/// The AAD lives on the stack; zeroing its buffer is a cost of every call, so short headers get a
/// short buffer.
pub(crate) fn with_aad<R>(
    header: &[u8],
    context: &EncryptionContext,
    f: impl FnOnce(&[u8]) -> R,
) -> R {
    if header.len() <= SHORT_HEADER_LEN {
        aad_in::<{ SHORT_HEADER_LEN + 32 }, R>(header, context, f)
    } else {
        aad_in::<MAX_AAD_LEN, R>(header, context, f)
    }
}

fn aad_in<const N: usize, R>(
    header: &[u8],
    context: &EncryptionContext,
    f: impl FnOnce(&[u8]) -> R,
) -> R {
    let mut buf = [0u8; N];
    let len = header.len() + 32;
    let (head, rest) = buf.split_at_mut(header.len());
    head.copy_from_slice(header);
    rest[..32].copy_from_slice(context.digest());
    f(&buf[..len])
}
