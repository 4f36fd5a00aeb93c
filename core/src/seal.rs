//! Sealed key records: a key's whole definition, material included, encrypted and authenticated
//! under a root key the embedding control plane supplies.
//!
//! [`Keyring::export_sealed`](crate::Keyring::export_sealed) writes a record that the control plane may store anywhere (a
//! database row, an object store, another region); [`Keyring::import_sealed`](crate::Keyring::import_sealed) brings the key
//! back, in this keyring or another, with the same id, versions, state, aliases and policy, so
//! blobs made before decrypt after: backup and restore, and replicas in other processes or
//! regions (AWS KMS's multi-Region keys). [`reseal`] moves a record to a new root key.
//!
//! The root key is a trait, [`RootKey`]: [`LocalRootKey`] holds 32 bytes in this process; a
//! control plane can implement it with its own HSM or KMS (AWS KMS's "custom key store"). A
//! record is envelope-encrypted: a fresh 256-bit record key encrypts the key's definition
//! (AES-256-GCM) and the root key wraps only those 32 bytes, so an HSM-backed root does one
//! small operation per record. The byte format is in `FORMAT.md`.

use core::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, RandomizedNonceKey, UnboundKey};
use zeroize::Zeroizing;

use crate::aead::{KEY_LEN, NONCE_LEN, TAG_LEN, hkdf_sha256};
use crate::error::{Error, Result};
use crate::key::{KeySnapshot, VersionSnapshot};
use crate::spec::{KeySpec, KeyState, KeyUsage, Origin, RotationPeriod};

/// The first bytes of every sealed record.
pub const RECORD_MAGIC: [u8; 4] = *b"KPSR";
/// The record format this version writes and reads.
pub const RECORD_FORMAT_V1: u8 = 0x01;
/// The longest root key id a record can name.
pub const MAX_ROOT_ID_LEN: usize = 255;

/// What a sealed envelope holds: key records and import tokens share the layout, and differ in
/// their magic and in the context bound into the wrap of their envelope key, so that neither
/// can pass for the other.
#[derive(Clone, Copy)]
pub(crate) struct Kind {
    magic: [u8; 4],
    /// Bound into every wrap of an envelope key, with the key id after it.
    wrap_context: &'static [u8],
    not_one: Error,
    unknown_format: Error,
    other_root: Error,
}

/// A sealed key record.
pub(crate) const KEY_RECORD: Kind = Kind {
    magic: RECORD_MAGIC,
    wrap_context: b"keyplane sealed record key v1\0",
    not_one: Error::InvalidInput("not a Keyplane sealed key record"),
    unknown_format: Error::InvalidInput("sealed key record of an unknown format"),
    other_root: Error::InvalidInput(
        "sealed key record was sealed under a root key with another id",
    ),
};

/// An import token: the private half of import parameters, sealed to the keyring that issued
/// them.
pub(crate) const IMPORT_TOKEN: Kind = Kind {
    magic: *b"KPIT",
    wrap_context: b"keyplane import token key v1\0",
    not_one: Error::InvalidInput("not an import token"),
    unknown_format: Error::InvalidInput("import token of an unknown format"),
    other_root: Error::InvalidInput("import token was issued under another root key"),
};
/// HKDF `info` of a [`LocalRootKey`]'s wrapping key.
const LOCAL_ROOT_INFO: &[u8] = b"keyplane local root key v1";

/// A root key: wraps and unwraps the 32-byte key of each sealed record.
///
/// Implement it to keep the root in an HSM or an external KMS; [`LocalRootKey`] keeps it in
/// this process. `wrap` must authenticate `aad`, and `unwrap` must fail (with
/// [`Error::InvalidCiphertext`]) for anything `wrap` did not produce with that same `aad`.
pub trait RootKey: Send + Sync {
    /// A short name for this root key (1 to 255 bytes), written in the clear in each record so
    /// an operator can tell which root a record needs.
    fn id(&self) -> &str;

    /// Encrypts and authenticates `record_key`, binding `aad`.
    ///
    /// # Errors
    /// Whatever the implementation fails with; Keyplane passes it on.
    fn wrap(&self, record_key: &[u8], aad: &[u8]) -> Result<Vec<u8>>;

    /// Reverses [`wrap`](Self::wrap).
    ///
    /// # Errors
    /// [`Error::InvalidCiphertext`] for anything not wrapped by this root with this `aad`.
    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>>;
}

/// A root key held in this process: AES-256-GCM under a key derived (HKDF-SHA256) from 32
/// bytes of root material, with a random nonce per wrap.
pub struct LocalRootKey {
    id: String,
    key: RandomizedNonceKey,
}

impl LocalRootKey {
    /// A root key named `id` from 32 bytes of material.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for material that is not 32 bytes or an id that is empty or
    /// longer than 255 bytes.
    pub fn new(id: impl Into<String>, material: &[u8]) -> Result<Self> {
        let id = id.into();
        if id.is_empty() || id.len() > MAX_ROOT_ID_LEN {
            return Err(Error::InvalidInput("root key id must be 1 to 255 bytes"));
        }
        if material.len() != KEY_LEN {
            return Err(Error::InvalidInput("root key material must be 32 bytes"));
        }
        let mut derived = Zeroizing::new([0u8; KEY_LEN]);
        // 32 zero bytes: the same key as an empty salt (RFC 5869 pads a short salt with zeros
        // to the hash length, as HMAC pads its key), and the form a FIPS module accepts.
        hkdf_sha256(&[0; 32], material, &[LOCAL_ROOT_INFO], derived.as_mut())?;
        let key =
            RandomizedNonceKey::new(&AES_256_GCM, derived.as_ref()).map_err(|_| Error::Internal)?;
        Ok(Self { id, key })
    }

    /// Fresh root material from the system's random number generator, to store (for example in
    /// a 0600 file) and pass to [`new`](Self::new).
    ///
    /// # Errors
    /// [`Error::Internal`] if the random number generator fails.
    pub fn generate_material() -> Result<Zeroizing<[u8; KEY_LEN]>> {
        crate::aead::random_root()
    }
}

impl fmt::Debug for LocalRootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalRootKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl RootKey for LocalRootKey {
    fn id(&self) -> &str {
        &self.id
    }

    fn wrap(&self, record_key: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        let mut sealed = record_key.to_vec();
        let nonce = self
            .key
            .seal_in_place_append_tag(Aad::from(aad), &mut sealed)
            .map_err(|_| Error::Internal)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(nonce.as_ref());
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        if wrapped.len() < NONCE_LEN + TAG_LEN {
            return Err(Error::InvalidCiphertext);
        }
        let (nonce, sealed) = wrapped.split_at(NONCE_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| Error::InvalidCiphertext)?;
        let mut buf = Zeroizing::new(sealed.to_vec());
        let len = self
            .key
            .open_in_place(nonce, Aad::from(aad), &mut buf)
            .map_err(|_| Error::InvalidCiphertext)?
            .len();
        buf.truncate(len);
        Ok(buf)
    }
}

/// What a sealed record says in the clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordInfo {
    /// The record format (1).
    pub format: u8,
    /// The id of the key inside.
    pub key_id: String,
    /// The id of the root key that sealed it.
    pub root_id: String,
}

/// Reads a record's clear header (nothing in it is authenticated until the record is opened).
///
/// # Errors
/// [`Error::InvalidInput`] for bytes that are not a sealed record of a known format.
pub fn inspect(record: &[u8]) -> Result<RecordInfo> {
    let parsed = Parsed::new(KEY_RECORD, record)?;
    Ok(RecordInfo {
        format: RECORD_FORMAT_V1,
        key_id: parsed.key_id.to_owned(),
        root_id: parsed.root_id.to_owned(),
    })
}

/// Moves a record from `old` root key to `new` (root rotation) without loading the key into a
/// keyring.
///
/// # Errors
/// As [`Keyring::import_sealed`](crate::Keyring::import_sealed) for `old`, and whatever `new.wrap` fails with.
pub fn reseal(record: &[u8], old: &dyn RootKey, new: &dyn RootKey) -> Result<Vec<u8>> {
    let parsed = Parsed::new(KEY_RECORD, record)?;
    let payload = parsed.open(old)?;
    seal_payload(KEY_RECORD, parsed.key_id, &payload, new)
}

/// `snapshot` as a sealed record under `root`.
pub(crate) fn seal_snapshot(snapshot: &KeySnapshot, root: &dyn RootKey) -> Result<Vec<u8>> {
    let payload = encode(snapshot)?;
    seal_payload(KEY_RECORD, &snapshot.id, &payload, root)
}

/// The key definition inside a sealed record.
pub(crate) fn open_snapshot(record: &[u8], root: &dyn RootKey) -> Result<KeySnapshot> {
    let parsed = Parsed::new(KEY_RECORD, record)?;
    let payload = parsed.open(root)?;
    decode(parsed.key_id, &payload)
}

// ----- record layout ------------------------------------------------------------------------

fn wrap_aad(kind: Kind, key_id: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(kind.wrap_context.len() + key_id.len());
    aad.extend_from_slice(kind.wrap_context);
    aad.extend_from_slice(key_id.as_bytes());
    aad
}

/// `payload` for `key_id` in an envelope of `kind` under `root`.
pub(crate) fn seal_payload(
    kind: Kind,
    key_id: &str,
    payload: &[u8],
    root: &dyn RootKey,
) -> Result<Vec<u8>> {
    let root_id = root.id();
    let key_id_len = u8::try_from(key_id.len()).map_err(|_| Error::Internal)?;
    let root_id_len = u8::try_from(root_id.len())
        .ok()
        .filter(|&n| n > 0)
        .ok_or(Error::InvalidInput("root key id must be 1 to 255 bytes"))?;

    let mut record_key = Zeroizing::new([0u8; KEY_LEN]);
    crate::fork::fill(record_key.as_mut()).map_err(|_| Error::Internal)?;
    let wrapped = root.wrap(record_key.as_ref(), &wrap_aad(kind, key_id))?;
    let wrapped_len = u16::try_from(wrapped.len())
        .map_err(|_| Error::LimitExceeded("wrapped record key longer than 65535 bytes"))?;

    // Magic, format, the two id lengths and the wrapped key's length: 4 + 1 + 1 + 1 + 2.
    let mut record = Vec::with_capacity(
        9 + key_id.len() + root_id.len() + wrapped.len() + NONCE_LEN + payload.len() + TAG_LEN,
    );
    record.extend_from_slice(&kind.magic);
    record.push(RECORD_FORMAT_V1);
    record.push(key_id_len);
    record.extend_from_slice(key_id.as_bytes());
    record.push(root_id_len);
    record.extend_from_slice(root_id.as_bytes());
    record.extend_from_slice(&wrapped_len.to_be_bytes());
    record.extend_from_slice(&wrapped);
    let header_len = record.len();

    // The record key is fresh for every record, so a random nonce is only belt and braces. The
    // module draws it (AES-GCM with an internal IV: the route a FIPS module approves), and the
    // AAD is the header before it, so it goes into its slot after sealing.
    record.extend_from_slice(&[0; NONCE_LEN]);
    record.extend_from_slice(payload);
    let key =
        RandomizedNonceKey::new(&AES_256_GCM, record_key.as_ref()).map_err(|_| Error::Internal)?;
    let (head, body) = record.split_at_mut(header_len + NONCE_LEN);
    let (aad, nonce_slot) = head.split_at_mut(header_len);
    let (nonce, tag) =
        crate::fork::guarded(|| key.seal_in_place_separate_tag(Aad::from(&*aad), body))
            .map_err(|_| Error::Internal)?;
    nonce_slot.copy_from_slice(nonce.as_ref());
    record.extend_from_slice(tag.as_ref());
    Ok(record)
}

fn payload_key(record_key: &[u8]) -> Result<LessSafeKey> {
    UnboundKey::new(&AES_256_GCM, record_key)
        .map(LessSafeKey::new)
        .map_err(|_| Error::InvalidCiphertext)
}

/// An envelope's header fields, borrowed from it.
pub(crate) struct Parsed<'a> {
    kind: Kind,
    header: &'a [u8],
    pub(crate) key_id: &'a str,
    root_id: &'a str,
    wrapped: &'a [u8],
    nonce: [u8; NONCE_LEN],
    sealed: &'a [u8],
}

impl<'a> Parsed<'a> {
    pub(crate) fn new(kind: Kind, record: &'a [u8]) -> Result<Self> {
        let not_a_record = kind.not_one;
        let mut r = Reader::new(record, not_a_record);
        if r.take(kind.magic.len())? != kind.magic {
            return Err(not_a_record);
        }
        if r.u8()? != RECORD_FORMAT_V1 {
            return Err(kind.unknown_format);
        }
        let key_id = r.str8()?;
        let root_id = r.str8()?;
        let wrapped_len = usize::from(r.u16()?);
        let wrapped = r.take(wrapped_len)?;
        let header = &record[..r.pos];
        let nonce = r.take(NONCE_LEN)?.try_into().map_err(|_| not_a_record)?;
        let sealed = r.rest();
        if sealed.len() < TAG_LEN {
            return Err(not_a_record);
        }
        Ok(Self {
            kind,
            header,
            key_id,
            root_id,
            wrapped,
            nonce,
            sealed,
        })
    }

    /// The authenticated, decrypted payload.
    pub(crate) fn open(&self, root: &dyn RootKey) -> Result<Zeroizing<Vec<u8>>> {
        if self.root_id != root.id() {
            return Err(self.kind.other_root);
        }
        let record_key = root.unwrap(self.wrapped, &wrap_aad(self.kind, self.key_id))?;
        let key = payload_key(&record_key)?;
        let mut payload = Zeroizing::new(self.sealed.to_vec());
        let len = key
            .open_in_place(
                Nonce::assume_unique_for_key(self.nonce),
                Aad::from(self.header),
                &mut payload,
            )
            .map_err(|_| Error::InvalidCiphertext)?
            .len();
        payload.truncate(len);
        Ok(payload)
    }
}

// ----- payload encoding ---------------------------------------------------------------------

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn time(nanos: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(nanos)
}

struct Writer(Zeroizing<Vec<u8>>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn bytes32(&mut self, v: &[u8]) -> Result<()> {
        self.u32(u32::try_from(v.len()).map_err(|_| Error::LimitExceeded("field too long"))?);
        self.0.extend_from_slice(v);
        Ok(())
    }
    fn str8(&mut self, v: &str) -> Result<()> {
        self.u8(u8::try_from(v.len()).map_err(|_| Error::Internal)?);
        self.0.extend_from_slice(v.as_bytes());
        Ok(())
    }
    fn opt_time(&mut self, v: Option<SystemTime>) {
        self.u8(u8::from(v.is_some()));
        self.u64(v.map_or(0, nanos));
    }
}

/// The exact length of `s`'s payload. The buffer holds key material, so it must never grow:
/// a growing `Vec` hands its old block back to the allocator unwiped.
fn encoded_len(s: &KeySnapshot) -> Result<usize> {
    const TOO_LONG: Error = Error::LimitExceeded("key record too long");
    let str8 = |v: &str| v.len().checked_add(1).ok_or(TOO_LONG);
    let bytes32 = |n: usize| n.checked_add(4).ok_or(TOO_LONG);
    const OPT_TIME: usize = 1 + 8;
    let fixed = [
        str8(s.spec.as_str())?,
        str8(s.usage.as_str())?,
        str8(s.origin.as_str())?,
        str8(s.state.as_str())?,
        8, // creation date
        bytes32(s.description.len())?,
        OPT_TIME,  // deletion date
        1 + 8 + 4, // rotation period
        8,         // next rotation
        4,         // minimum decryption version
        1,         // rotate on budget
        2,         // alias count
        4,         // version count
        bytes32(s.imported.map_or(0, |f| f.len()))?,
        OPT_TIME, // valid_to
    ];
    let aliases = s.aliases.iter().map(|a| str8(a));
    // Number, creation date and encryptions, then the material.
    let versions = s.versions.iter().map(|v| {
        bytes32(v.material.len())?
            .checked_add(4 + 8 + 8)
            .ok_or(TOO_LONG)
    });
    fixed
        .into_iter()
        .map(Ok)
        .chain(aliases)
        .chain(versions)
        .try_fold(0usize, |sum, n| sum.checked_add(n?).ok_or(TOO_LONG))
}

fn encode(s: &KeySnapshot) -> Result<Zeroizing<Vec<u8>>> {
    let len = encoded_len(s)?;
    let mut w = Writer(Zeroizing::new(Vec::with_capacity(len)));
    w.str8(s.spec.as_str())?;
    w.str8(s.usage.as_str())?;
    w.str8(s.origin.as_str())?;
    w.str8(s.state.as_str())?;
    w.u64(nanos(s.creation_date));
    w.bytes32(s.description.as_bytes())?;
    w.opt_time(s.deletion_date);
    match s.rotation_period {
        Some(p) => {
            w.u8(1);
            w.u64(p.as_duration().as_secs());
            w.u32(p.as_duration().subsec_nanos());
        }
        None => {
            w.u8(0);
            w.u64(0);
            w.u32(0);
        }
    }
    w.u64(s.next_rotation);
    w.u32(s.min_decryption_version);
    w.u8(u8::from(s.rotate_on_budget));
    w.u16(u16::try_from(s.aliases.len()).map_err(|_| Error::LimitExceeded("too many aliases"))?);
    for alias in &s.aliases {
        w.str8(alias)?;
    }
    w.u32(u32::try_from(s.versions.len()).map_err(|_| Error::Internal)?);
    for v in &s.versions {
        w.u32(v.number);
        w.u64(nanos(v.creation_date));
        w.u64(v.encryptions);
        w.bytes32(&v.material)?;
    }
    w.bytes32(s.imported.as_ref().map_or(&[][..], |f| &f[..]))?;
    w.opt_time(s.valid_to);
    debug_assert_eq!(w.0.len(), len, "encoded_len is exact");
    Ok(w.0)
}

/// Bounds-checked reads; every failure is `err`.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    err: Error,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], err: Error) -> Self {
        Self { bytes, pos: 0, err }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(self.err)?;
        let out = self.bytes.get(self.pos..end).ok_or(self.err)?;
        self.pos = end;
        Ok(out)
    }
    fn rest(&mut self) -> &'a [u8] {
        let out = &self.bytes[self.pos..];
        self.pos = self.bytes.len();
        out
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        self.take(N)?.try_into().map_err(|_| self.err)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    fn str_of(&self, bytes: &'a [u8]) -> Result<&'a str> {
        core::str::from_utf8(bytes).map_err(|_| self.err)
    }
    fn str8(&mut self) -> Result<&'a str> {
        let n = usize::from(self.u8()?);
        let bytes = self.take(n)?;
        self.str_of(bytes)
    }
    fn bytes32(&mut self) -> Result<&'a [u8]> {
        let n = usize::try_from(self.u32()?).map_err(|_| self.err)?;
        self.take(n)
    }
    fn opt_time(&mut self) -> Result<Option<SystemTime>> {
        let present = self.u8()? != 0;
        let t = self.u64()?;
        Ok(present.then(|| time(t)))
    }
}

fn decode(key_id: &str, payload: &[u8]) -> Result<KeySnapshot> {
    // The payload authenticated, so a malformed one was written by something else.
    const MALFORMED: Error = Error::InvalidInput("sealed key record payload is malformed");
    let mut r = Reader::new(payload, MALFORMED);
    let spec: KeySpec = r.str8()?.parse()?;
    let usage: KeyUsage = r.str8()?.parse()?;
    let origin: Origin = r.str8()?.parse()?;
    let state: KeyState = r.str8()?.parse()?;
    let creation_date = time(r.u64()?);
    let description = r.bytes32()?;
    let description = r.str_of(description)?.to_owned();
    let deletion_date = r.opt_time()?;
    let has_rotation = r.u8()? != 0;
    let (secs, subsec) = (r.u64()?, r.u32()?);
    let rotation_period = if has_rotation {
        // The writer never stores a whole second in the fraction; `Duration::new` would carry
        // it into the seconds and panic on overflow.
        if subsec >= 1_000_000_000 {
            return Err(MALFORMED);
        }
        Some(RotationPeriod::custom(Duration::new(secs, subsec)).map_err(|_| MALFORMED)?)
    } else {
        None
    };
    let next_rotation = r.u64()?;
    let min_decryption_version = r.u32()?;
    let rotate_on_budget = r.u8()? != 0;
    let aliases = (0..r.u16()?)
        .map(|_| r.str8().map(str::to_owned))
        .collect::<Result<Vec<_>>>()?;
    let count = r.u32()?;
    let mut versions = Vec::new();
    for _ in 0..count {
        let number = r.u32()?;
        let creation_date = time(r.u64()?);
        let encryptions = r.u64()?;
        let material = Zeroizing::new(r.bytes32()?.to_vec());
        versions.push(VersionSnapshot {
            number,
            creation_date,
            encryptions,
            material,
        });
    }
    let imported = match r.bytes32()? {
        [] => None,
        fingerprint => Some(fingerprint.try_into().map_err(|_| MALFORMED)?),
    };
    let valid_to = r.opt_time()?;
    if r.pos != payload.len() {
        return Err(MALFORMED);
    }
    Ok(KeySnapshot {
        id: key_id.to_owned(),
        spec,
        usage,
        origin,
        creation_date,
        description,
        state,
        deletion_date,
        rotation_period,
        next_rotation,
        min_decryption_version,
        rotate_on_budget,
        aliases,
        versions,
        imported,
        valid_to,
    })
}
