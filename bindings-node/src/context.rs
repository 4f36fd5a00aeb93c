//! Encryption contexts: the reusable `EncryptionContext` class, and the reader of every
//! `context` argument (`undefined`/`null`, a plain object of strings, or that class).
//!
//! A prebuilt `EncryptionContext` costs a call almost nothing: its pairs were validated,
//! sorted and hashed once, and passing it shares them. A plain object is read in one call of a
//! helper script that returns all its keys and values as one length-prefixed string, which is
//! read once as UTF-16 and converted to UTF-8 on the stack: no Node-API call per property and
//! no `String` per key or value. Anything that helper does not take in stride (not a plain
//! object, a value that is not a string, a lone surrogate, a context over the size limit) is
//! read again by the property-by-property reader, so the errors are the same as ever.

use core::ffi::CStr;

use keyplane::context::MAX_CONTEXT_BYTES;
use napi::JsValue;
use napi::bindgen_prelude::{Env, Result, Unknown};
use napi::sys;
use napi_derive::napi;

use crate::error::Failure;
use crate::js::{Js, JsAny};

type R<T> = core::result::Result<T, Failure>;

/// An encryption context built once and reused: `new EncryptionContext({ tenant: 'acme' })`.
///
/// Anywhere a `context` is accepted, a plain object of strings works too; a prebuilt context
/// saves validating, sorting and hashing the pairs on every call. Its pairs cannot change.
#[napi]
#[derive(Debug)]
pub struct EncryptionContext {
    pub(crate) inner: keyplane::EncryptionContext,
}

#[napi]
impl EncryptionContext {
    /// A context from a plain object of strings or a `Map` of strings (or another
    /// `EncryptionContext`); none, `undefined` or `null` is the empty context. The errors are
    /// those of a `context` argument: `TypeError` for a wrong type, `KP_INVALID_INPUT` for an
    /// empty key or a lone surrogate, `KP_LIMIT_EXCEEDED` over 8192 bytes.
    #[napi(
        constructor,
        ts_args_type = "pairs?: Record<string, string> | Map<string, string> | EncryptionContext | null"
    )]
    pub fn new(env: Env, pairs: Unknown<'_>) -> Result<Self> {
        let js = Js::new(&env);
        let read = match read_map(js, pairs.raw()) {
            Ok(None) => js.context(pairs.raw(), "context"),
            other => other,
        };
        read.map(|c| Self {
            inner: c.unwrap_or_default(),
        })
        .map_err(|f| f.throw(js))
    }

    /// The value for `key`, or `undefined` (as `Map.prototype.get`).
    #[napi(ts_return_type = "string | undefined")]
    pub fn get(&self, env: Env, key: String) -> Result<JsAny> {
        let js = Js::new(&env);
        match self.inner.get(&key) {
            Some(v) => js.str_value(v),
            None => js.undefined(),
        }
        .map(JsAny)
        .map_err(|f| f.throw(js))
    }

    /// Whether the context has `key`.
    #[napi]
    pub fn has(&self, key: String) -> bool {
        self.inner.get(&key).is_some()
    }

    /// The number of pairs.
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        u32::try_from(self.inner.len()).unwrap_or(u32::MAX)
    }

    /// The keys, sorted (by their UTF-8 bytes, the canonical order).
    #[napi]
    pub fn keys(&self) -> Vec<String> {
        self.inner.iter().map(|(k, _)| k.to_owned()).collect()
    }

    /// The `[key, value]` pairs, sorted by key: `new Map(context.entries())` copies it.
    #[napi(ts_return_type = "Array<[string, string]>")]
    pub fn entries(&self, env: Env) -> Result<JsAny> {
        let js = Js::new(&env);
        let made = (|| {
            let mut out = js.new_array(self.inner.len())?;
            for (k, v) in self.inner.iter() {
                let mut pair = js.new_array(2)?;
                pair.push(js.str_value(k)?)?;
                pair.push(js.str_value(v)?)?;
                out.push(pair.raw)?;
            }
            Ok(JsAny(out.raw))
        })();
        made.map_err(|f: Failure| f.throw(js))
    }

    /// A new plain object of the pairs, keys in order: what `JSON.stringify` writes, and a
    /// `context` argument equal to this one.
    #[napi(js_name = "toJSON", ts_return_type = "Record<string, string>")]
    pub fn to_json(&self, env: Env) -> Result<JsAny> {
        let js = Js::new(&env);
        let made = (|| {
            let mut flat = js.new_array(self.inner.len().saturating_mul(2))?;
            for (k, v) in self.inner.iter() {
                flat.push(js.str_value(k)?)?;
                flat.push(js.str_value(v)?)?;
            }
            let helper = js.helper(TO_OBJECT_JS)?;
            js.call(helper, &[flat.raw]).map(JsAny)
        })();
        made.map_err(|f: Failure| f.throw(js))
    }

    /// Whether `other` is an `EncryptionContext` with the same pairs.
    #[napi(ts_args_type = "other: unknown")]
    pub fn equals(&self, env: Env, other: Unknown<'_>) -> Result<bool> {
        let js = Js::new(&env);
        let same = (|| {
            if js.type_of(other.raw())? != sys::ValueType::napi_object {
                return Ok(false);
            }
            Ok(js
                .instance_if::<Self, _>(other.raw(), |o| o.inner == self.inner)?
                .unwrap_or(false))
        })();
        same.map_err(|f: Failure| f.throw(js))
    }
}

/// `(flat) => object`: a plain object of `[k0, v0, k1, v1, …]`, every key an own data property
/// (`Object.fromEntries`, so a key `__proto__` is a key, not the prototype).
static TO_OBJECT_JS: &CStr = c"(function (fromEntries) {
  return function (flat) {
    const entries = []
    for (let i = 0; i < flat.length; i += 2) entries.push([flat[i], flat[i + 1]])
    return fromEntries(entries)
  }
})(Object.fromEntries)";

/// `(o) => string | 0`: for a plain object whose own enumerable values are all strings and
/// whose keys and values hold at most `MAX_CONTEXT_BYTES` UTF-16 units in all (more units are
/// more UTF-8 bytes, so too large anyway), one string: the pair count as one unit, then per
/// key and value its length as one unit and its units. `0` for anything else, which the
/// property-by-property reader then reads (and refuses with its own error). The builtins are
/// taken when the helper is made, so a caller patching `Object.keys` later changes nothing.
static READ_OBJECT_JS: &CStr = c"(function (getPrototypeOf, keys, isArray, isView, fromCharCode) {
  return function (o) {
    if (isArray(o) || isView(o)) return 0
    const p = getPrototypeOf(o)
    if (p !== null && getPrototypeOf(p) !== null) return 0
    const ks = keys(o)
    const n = ks.length
    if (n > 8192) return 0
    let s = fromCharCode(n)
    let total = 0
    for (let i = 0; i < n; i++) {
      const k = ks[i]
      const v = o[k]
      if (typeof v !== 'string') return 0
      total += k.length + v.length
      if (total > 8192) return 0
      s += fromCharCode(k.length) + k + fromCharCode(v.length) + v
    }
    return s
  }
})(Object.getPrototypeOf, Object.keys, Array.isArray, ArrayBuffer.isView, String.fromCharCode)";

/// `(m) => [k0, v0, k1, v1, …] | null`: a `Map`'s entries, flat; `null` for anything else.
static READ_MAP_JS: &CStr = c"(function (MapClass) {
  return function (m) {
    if (!(m instanceof MapClass)) return null
    const flat = []
    for (const [k, v] of m) flat.push(k, v)
    return flat
  }
})(Map)";

/// The UTF-16 units a context string of a small context fits in (the common case: no heap).
const SMALL_UNITS: usize = 128;

/// The bytes the UTF-8 form of such a context (with 2 bytes of length per string) fits in.
const SMALL_BYTES: usize = 3 * SMALL_UNITS;

impl Js {
    /// An encryption context argument: `undefined`/`null` for none, an `EncryptionContext`
    /// (shared, not copied), or a plain object whose own enumerable properties are all strings.
    pub(crate) fn context(
        self,
        v: sys::napi_value,
        what: impl core::fmt::Display + Copy,
    ) -> R<Option<keyplane::EncryptionContext>> {
        let t = self.type_of(v)?;
        if t == sys::ValueType::napi_undefined || t == sys::ValueType::napi_null {
            return Ok(None);
        }
        if t == sys::ValueType::napi_object {
            if let Some(c) = self.instance_if::<EncryptionContext, _>(v, |c| c.inner.clone())? {
                return Ok(Some(c));
            }
            if let Some(c) = self.context_in_one_call(v)? {
                return Ok(Some(c));
            }
        }
        self.context_by_property(v, what)
    }

    /// A plain object of strings read with one call of [`READ_OBJECT_JS`], or `None` when
    /// [`context_by_property`](Self::context_by_property) must read it (and tell what is wrong).
    fn context_in_one_call(self, v: sys::napi_value) -> R<Option<keyplane::EncryptionContext>> {
        let helper = self.helper(READ_OBJECT_JS)?;
        let packed = self.call(helper, &[v])?;
        if self.type_of(packed)? != sys::ValueType::napi_string {
            return Ok(None);
        }
        let mut small_units = [0u16; SMALL_UNITS];
        let units = self.utf16_in(packed, &mut small_units)?;
        let mut small_bytes = [0u8; SMALL_BYTES];
        let mut big_bytes;
        let bytes: &mut [u8] = match units.len().checked_mul(3) {
            Some(n) if n <= SMALL_BYTES => &mut small_bytes,
            Some(n) => {
                big_bytes = vec![0u8; n];
                &mut big_bytes
            }
            None => return Ok(None),
        };
        let Some(used) = to_utf8(&units, bytes) else {
            return Ok(None);
        };
        let packed = bytes.get(..used).unwrap_or_default();
        keyplane::EncryptionContext::new(Pairs(packed))
            .map(Some)
            .map_err(Failure::Core)
    }
}

/// Converts the helper's string (count, then length-prefixed keys and values, in UTF-16) into
/// `out` as length-prefixed UTF-8 (`u16` little-endian lengths), returning the bytes written.
/// `None` for a lone surrogate, more than `MAX_CONTEXT_BYTES` of UTF-8, or a malformed string
/// (which the helper never makes): the slow reader then says what is wrong.
fn to_utf8(units: &[u16], out: &mut [u8]) -> Option<usize> {
    let (&count, mut rest) = units.split_first()?;
    let mut at = 0usize;
    let mut total = 0usize;
    for _ in 0..usize::from(count).checked_mul(2)? {
        let (&len, tail) = rest.split_first()?;
        let (piece, tail) = tail.split_at_checked(usize::from(len))?;
        rest = tail;
        let start = at.checked_add(2)?;
        let mut end = start;
        for c in char::decode_utf16(piece.iter().copied()) {
            let c = c.ok()?;
            let n = c.len_utf8();
            let next = end.checked_add(n)?;
            c.encode_utf8(out.get_mut(end..next)?);
            end = next;
        }
        let written = end - start;
        total = total.checked_add(written)?;
        if total > MAX_CONTEXT_BYTES {
            return None;
        }
        out.get_mut(at..start)?
            .copy_from_slice(&u16::try_from(written).ok()?.to_le_bytes());
        at = end;
    }
    rest.is_empty().then_some(at)
}

/// The `(key, value)` pairs of [`to_utf8`]'s output, borrowed.
#[derive(Clone, Copy)]
struct Pairs<'a>(&'a [u8]);

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let mut piece = || {
            let (len, rest) = self.0.split_first_chunk::<2>()?;
            let (s, rest) = rest.split_at_checked(usize::from(u16::from_le_bytes(*len)))?;
            self.0 = rest;
            // Written by `to_utf8` from whole characters: always valid.
            core::str::from_utf8(s).ok()
        };
        Some((piece()?, piece()?))
    }
}

/// A `Map` of strings read into a context, or `None` when `v` is not a `Map`.
fn read_map(js: Js, v: sys::napi_value) -> R<Option<keyplane::EncryptionContext>> {
    if js.type_of(v)? != sys::ValueType::napi_object {
        return Ok(None);
    }
    let helper = js.helper(READ_MAP_JS)?;
    let flat = js.call(helper, &[v])?;
    if js.is_nullish(flat)? {
        return Ok(None);
    }
    // Every key but one holds at least one byte: more pairs than the limit cannot fit.
    let max = MAX_CONTEXT_BYTES.saturating_add(1).saturating_mul(2);
    if usize::try_from(js.array_len(flat, "context")?).map_or(true, |n| n > max) {
        return Err(Failure::Core(keyplane::Error::LimitExceeded(
            "encryption context exceeds 8192 bytes",
        )));
    }
    let items = js.array(flat, "context", max)?;
    let mut pairs = Vec::with_capacity(items.len() / 2);
    for kv in items.chunks_exact(2) {
        let key = js.string(kv[0], "a key of context")?;
        let value = js.string(kv[1], format!("context[{key:?}]").as_str())?;
        pairs.push((key, value));
    }
    keyplane::EncryptionContext::new(pairs)
        .map(Some)
        .map_err(Failure::Core)
}
