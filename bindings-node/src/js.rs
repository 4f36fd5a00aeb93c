//! The Node-API boundary: reading JavaScript arguments and building results.
//!
//! Every `unsafe` block of the crate is here, except the thread-safe function that carries audit
//! events to the JavaScript thread (`audit.rs`). Each reads or creates a value through a
//! Node-API call on the JavaScript thread, with the `napi_env` of the current call, and checks
//! the returned status before trusting any out-parameter.
//!
//! Borrowed byte slices ([`Js::bytes`]) point into a typed array's backing store. They are only
//! used during a synchronous call, after every read that could run JavaScript (property getters,
//! proxies) is done, so no script can detach or resize the array while the slice is alive;
//! asynchronous tasks copy their inputs instead ([`Js::bytes_owned`]).

use core::ffi::c_char;
use core::fmt::Display;
use core::ptr;
use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keyplane::EncryptionContext;
use keyplane::context::MAX_CONTEXT_BYTES;
use napi::bindgen_prelude::{
    ClassInstance, FromNapiValue, MaybeTypeTag, ToNapiValue, TypeName, ValidateNapiValue,
};
use napi::sys;
use zeroize::{Zeroize, Zeroizing};

use crate::error::Failure;

/// A JavaScript value returned as is (its TypeScript type is given on each export).
#[derive(Debug, Clone, Copy)]
pub struct JsAny(pub(crate) sys::napi_value);

impl ToNapiValue for JsAny {
    unsafe fn to_napi_value(_env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        Ok(val.0)
    }
}

impl TypeName for JsAny {
    fn type_name() -> &'static str {
        "unknown"
    }

    fn value_type() -> napi::ValueType {
        napi::ValueType::Unknown
    }
}

/// Key ids and aliases are at most 256 bytes: read them into a stack buffer this large, so the
/// hot path does not allocate for them.
pub(crate) const NAME_BUF: usize = 512;

pub(crate) type JsResult<T> = Result<T, Failure>;

fn check(status: sys::napi_status) -> JsResult<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Failure::Napi(status))
    }
}

/// The environment of the current call on the JavaScript thread.
#[derive(Clone, Copy)]
pub(crate) struct Js {
    env: sys::napi_env,
}

impl Js {
    pub(crate) fn new(env: &napi::Env) -> Self {
        Self { env: env.raw() }
    }

    pub(crate) fn from_raw(env: sys::napi_env) -> Self {
        Self { env }
    }

    pub(crate) fn raw(self) -> sys::napi_env {
        self.env
    }

    pub(crate) fn type_of(self, v: sys::napi_value) -> JsResult<sys::napi_valuetype> {
        let mut t = 0;
        // SAFETY: `v` is a live handle of this call's scope; `t` is a valid out-pointer.
        check(unsafe { sys::napi_typeof(self.env, v, &mut t) })?;
        Ok(t)
    }

    /// A short description of a value's type for error messages, as Node's own errors give it.
    fn describe(self, v: sys::napi_value) -> &'static str {
        use sys::ValueType as T;
        match self.type_of(v) {
            Ok(T::napi_undefined) => "undefined",
            Ok(T::napi_null) => "null",
            Ok(T::napi_boolean) => "a boolean",
            Ok(T::napi_number) => "a number",
            Ok(T::napi_string) => "a string",
            Ok(T::napi_symbol) => "a symbol",
            Ok(T::napi_function) => "a function",
            Ok(T::napi_bigint) => "a bigint",
            Ok(T::napi_object) if self.is_array(v).unwrap_or(false) => "an array",
            Ok(T::napi_object) if self.is_typed_array(v).unwrap_or(false) => "a typed array",
            Ok(T::napi_object) => "an object",
            _ => "an unknown value",
        }
    }

    pub(crate) fn type_error(
        self,
        what: impl Display + Copy,
        expected: &str,
        v: sys::napi_value,
    ) -> Failure {
        Failure::Type(format!(
            "{what} must be {expected}, got {}",
            self.describe(v)
        ))
    }

    pub(crate) fn is_nullish(self, v: sys::napi_value) -> JsResult<bool> {
        let t = self.type_of(v)?;
        Ok(t == sys::ValueType::napi_undefined || t == sys::ValueType::napi_null)
    }

    pub(crate) fn is_array(self, v: sys::napi_value) -> JsResult<bool> {
        let mut is = false;
        // SAFETY: live handle, valid out-pointer.
        check(unsafe { sys::napi_is_array(self.env, v, &mut is) })?;
        Ok(is)
    }

    pub(crate) fn is_typed_array(self, v: sys::napi_value) -> JsResult<bool> {
        let mut is = false;
        // SAFETY: live handle, valid out-pointer.
        check(unsafe { sys::napi_is_typedarray(self.env, v, &mut is) })?;
        Ok(is)
    }

    // ----- strings ----------------------------------------------------------------------------

    /// A string argument, copied into `buf` when it fits (key ids, aliases), else onto the heap.
    pub(crate) fn str_in<'b>(
        self,
        v: sys::napi_value,
        what: impl Display + Copy,
        buf: &'b mut [u8; NAME_BUF],
    ) -> JsResult<Cow<'b, str>> {
        if self.type_of(v)? != sys::ValueType::napi_string {
            return Err(self.type_error(what, "a string", v));
        }
        let mut written = 0usize;
        // SAFETY: `buf` is writable for `NAME_BUF` bytes; Node writes at most `NAME_BUF - 1`
        // bytes plus a NUL and reports the count (without the NUL) in `written`.
        check(unsafe {
            sys::napi_get_value_string_utf8(
                self.env,
                v,
                buf.as_mut_ptr().cast::<c_char>(),
                NAME_BUF,
                &mut written,
            )
        })?;
        // A string that filled the buffer may have been cut: read it whole instead.
        if written + 1 < NAME_BUF {
            let s = buf
                .get(..written)
                .ok_or(Failure::Napi(sys::Status::napi_generic_failure))?;
            self.check_unicode(v, s, what)?;
            return core::str::from_utf8(s)
                .map(Cow::Borrowed)
                .map_err(|_| Failure::Napi(sys::Status::napi_generic_failure));
        }
        self.string_value(v, what).map(Cow::Owned)
    }

    /// A string argument, owned.
    pub(crate) fn string(self, v: sys::napi_value, what: impl Display + Copy) -> JsResult<String> {
        if self.type_of(v)? != sys::ValueType::napi_string {
            return Err(self.type_error(what, "a string", v));
        }
        self.string_value(v, what)
    }

    /// The UTF-8 form of the string `v`; every string the caller passes is read here or in
    /// [`str_in`](Self::str_in), and both refuse one that is not valid Unicode.
    fn string_value(self, v: sys::napi_value, what: impl Display + Copy) -> JsResult<String> {
        self.string_within(v, what, usize::MAX)?
            .ok_or(Failure::Napi(sys::Status::napi_generic_failure))
    }

    /// As [`string_value`](Self::string_value), or `None` when the UTF-8 form is longer than
    /// `max` bytes (nothing is allocated for it then).
    fn string_within(
        self,
        v: sys::napi_value,
        what: impl Display + Copy,
        max: usize,
    ) -> JsResult<Option<String>> {
        let mut len = 0usize;
        // SAFETY: a NULL buffer asks Node for the UTF-8 length only.
        check(unsafe {
            sys::napi_get_value_string_utf8(self.env, v, ptr::null_mut(), 0, &mut len)
        })?;
        if len > max {
            return Ok(None);
        }
        let cap = len
            .checked_add(1)
            .ok_or(Failure::Napi(sys::Status::napi_generic_failure))?;
        let mut bytes = vec![0u8; cap];
        let mut written = 0usize;
        // SAFETY: `bytes` is writable for `cap` bytes, which holds the string and its NUL.
        check(unsafe {
            sys::napi_get_value_string_utf8(
                self.env,
                v,
                bytes.as_mut_ptr().cast::<c_char>(),
                cap,
                &mut written,
            )
        })?;
        bytes.truncate(written);
        self.check_unicode(v, &bytes, what)?;
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| Failure::Napi(sys::Status::napi_generic_failure))
    }

    /// Refuses a string with a lone surrogate (`'a\uD800'`). Node writes U+FFFD in its place
    /// when it converts to UTF-8, so `'a\uD800'`, `'a\uDBFF'` and `'a\uFFFD'` would read as
    /// the same string, and a blob bound to one context would decrypt with another. Only a
    /// string whose UTF-8 form holds U+FFFD (rare) is read again, as UTF-16, to tell a real
    /// U+FFFD from a replaced surrogate.
    fn check_unicode(self, v: sys::napi_value, utf8: &[u8], what: impl Display) -> JsResult<()> {
        const REPLACEMENT: [u8; 3] = [0xEF, 0xBF, 0xBD];
        if !utf8.windows(3).any(|w| w == REPLACEMENT) {
            return Ok(());
        }
        let mut len = 0usize;
        // SAFETY: a NULL buffer asks Node for the UTF-16 length only.
        check(unsafe {
            sys::napi_get_value_string_utf16(self.env, v, ptr::null_mut(), 0, &mut len)
        })?;
        let cap = len
            .checked_add(1)
            .ok_or(Failure::Napi(sys::Status::napi_generic_failure))?;
        let mut units = vec![0u16; cap];
        let mut written = 0usize;
        // SAFETY: `units` is writable for `cap` code units, the string and its NUL.
        check(unsafe {
            sys::napi_get_value_string_utf16(self.env, v, units.as_mut_ptr(), cap, &mut written)
        })?;
        units.truncate(written);
        if char::decode_utf16(units.iter().copied()).any(|c| c.is_err()) {
            return Err(Failure::Invalid(format!(
                "{what} must be valid Unicode: it holds a lone surrogate (U+D800 to U+DFFF \
                 without its pair)"
            )));
        }
        Ok(())
    }

    /// An optional string: `undefined` and `null` are `None`.
    pub(crate) fn opt_string(
        self,
        v: sys::napi_value,
        what: impl Display + Copy,
    ) -> JsResult<Option<String>> {
        if self.is_nullish(v)? {
            return Ok(None);
        }
        self.string(v, what).map(Some)
    }

    /// A string naming one of a Keyplane enum's values (`"SYMMETRIC_DEFAULT"`, …).
    pub(crate) fn parse<T>(self, v: sys::napi_value, what: impl Display + Copy) -> JsResult<T>
    where
        T: core::str::FromStr<Err = keyplane::Error>,
    {
        let mut buf = [0u8; NAME_BUF];
        let s = self.str_in(v, what, &mut buf)?;
        s.parse::<T>().map_err(Failure::Core)
    }

    /// An optional enum string; `undefined`/`null` give `default`.
    pub(crate) fn parse_or<T>(
        self,
        v: sys::napi_value,
        what: impl Display + Copy,
        default: T,
    ) -> JsResult<T>
    where
        T: core::str::FromStr<Err = keyplane::Error>,
    {
        if self.is_nullish(v)? {
            return Ok(default);
        }
        self.parse(v, what)
    }

    // ----- numbers and booleans ---------------------------------------------------------------

    fn number(self, v: sys::napi_value, what: impl Display + Copy) -> JsResult<f64> {
        if self.type_of(v)? != sys::ValueType::napi_number {
            return Err(self.type_error(what, "a number", v));
        }
        let mut n = 0f64;
        // SAFETY: `v` is a number (checked above); valid out-pointer.
        check(unsafe { sys::napi_get_value_double(self.env, v, &mut n) })?;
        Ok(n)
    }

    /// A non-negative safe integer (`0 ..= 2^53 - 1`).
    pub(crate) fn uint(self, v: sys::napi_value, what: impl Display + Copy) -> JsResult<u64> {
        const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
        let n = self.number(v, what)?;
        if !(n.is_finite() && n.fract() == 0.0 && (0.0..=MAX_SAFE).contains(&n)) {
            return Err(Failure::Range(format!(
                "{what} must be a non-negative integer, got {n}"
            )));
        }
        let mut exact = 0i64;
        // SAFETY: `v` is a number (checked above); valid out-pointer. The value is an integer
        // within 2^53, so the int64 reading is exact.
        check(unsafe { sys::napi_get_value_int64(self.env, v, &mut exact) })?;
        u64::try_from(exact)
            .map_err(|_| Failure::Range(format!("{what} must be a non-negative integer")))
    }

    /// A non-negative integer that fits in `T` (`usize`, `u32`).
    pub(crate) fn uint_as<T: TryFrom<u64>>(
        self,
        v: sys::napi_value,
        what: impl Display + Copy,
    ) -> JsResult<T> {
        let n = self.uint(v, what)?;
        T::try_from(n).map_err(|_| Failure::Range(format!("{what} is out of range: {n}")))
    }

    /// A count the core bounds (`threads`): an integer from 0 to `max`, else `KP_INVALID_INPUT`
    /// (what the core says above `max`), for a fraction, a negative number or NaN too, so that
    /// nothing is rounded, wrapped or clamped on the way.
    pub(crate) fn count_within(
        self,
        v: sys::napi_value,
        what: impl Display + Copy,
        max: usize,
    ) -> JsResult<usize> {
        let n = self.number(v, what)?;
        let limit = u32::try_from(max).map_or(f64::from(u32::MAX), f64::from);
        if !(n.fract() == 0.0 && (0.0..=limit).contains(&n)) {
            return Err(Failure::Invalid(format!(
                "{what} must be an integer from 0 to {max}, got {n}"
            )));
        }
        let mut exact = 0u32;
        // SAFETY: `v` is a number (checked above); valid out-pointer. The value is an integer
        // within `u32`, so the reading is exact.
        check(unsafe { sys::napi_get_value_uint32(self.env, v, &mut exact) })?;
        usize::try_from(exact).map_err(|_| Failure::Invalid(format!("{what} is out of range")))
    }

    /// A number of seconds, zero or more, as a `Duration`.
    pub(crate) fn positive_seconds(
        self,
        v: sys::napi_value,
        what: impl Display + Copy,
    ) -> JsResult<Duration> {
        let n = self.number(v, what)?;
        Duration::try_from_secs_f64(n).map_err(|_| {
            Failure::Range(format!(
                "{what} must be a finite number of seconds, 0 or more"
            ))
        })
    }

    pub(crate) fn bool(self, v: sys::napi_value, what: impl Display + Copy) -> JsResult<bool> {
        if self.type_of(v)? != sys::ValueType::napi_boolean {
            return Err(self.type_error(what, "a boolean", v));
        }
        let mut b = false;
        // SAFETY: `v` is a boolean (checked above); valid out-pointer.
        check(unsafe { sys::napi_get_value_bool(self.env, v, &mut b) })?;
        Ok(b)
    }

    // ----- bytes ------------------------------------------------------------------------------

    /// The bytes of a `Buffer` or `Uint8Array` argument, borrowed from its backing store.
    ///
    /// Only for synchronous calls, once every argument read that could run JavaScript is done:
    /// the slice is valid while no script runs (see the module documentation).
    pub(crate) fn bytes<'a>(
        self,
        v: sys::napi_value,
        what: impl Display + Copy,
    ) -> JsResult<&'a [u8]> {
        let (data, len) = self.typed_array(v, what)?;
        if len == 0 || data.is_null() {
            return Ok(&[]);
        }
        // SAFETY: Node reports `data` (already adjusted by the view's byte offset) and `len`
        // elements of one byte each for a Uint8Array; the backing store stays alive and
        // unmoved while `v` is referenced by the current call and no JavaScript runs, which the
        // callers guarantee for the slice's lifetime.
        Ok(unsafe { core::slice::from_raw_parts(data.cast::<u8>(), len) })
    }

    /// Runs `f` on the bytes of `input`, borrowed, and the bytes of `output`, borrowed for
    /// writing (both a `Buffer` or `Uint8Array`). For synchronous calls only, once every read
    /// that could run script is done (as [`bytes`](Self::bytes)). When the two overlap (views of
    /// one `ArrayBuffer`), `f` reads a copy of the input, zeroized afterwards.
    pub(crate) fn in_out<T>(
        self,
        input: sys::napi_value,
        in_what: impl Display + Copy,
        output: sys::napi_value,
        out_what: impl Display + Copy,
        f: impl FnOnce(&[u8], &mut [u8]) -> JsResult<T>,
    ) -> JsResult<T> {
        let (ip, il) = self.typed_array(input, in_what)?;
        let (op, ol) = self.typed_array(output, out_what)?;
        let input_live = il > 0 && !ip.is_null();
        let output_live = ol > 0 && !op.is_null();
        let overlap = input_live
            && output_live
            && ip.addr() < op.addr().saturating_add(ol)
            && op.addr() < ip.addr().saturating_add(il);
        let copy = if overlap {
            // SAFETY: Node reported `il` readable bytes at `ip`; read once here, before any
            // mutable borrow of the same memory exists.
            Some(Zeroizing::new(
                unsafe { core::slice::from_raw_parts(ip.cast::<u8>(), il) }.to_vec(),
            ))
        } else {
            None
        };
        let out: &mut [u8] = if output_live {
            // SAFETY: Node reported `ol` writable bytes at `op`, the output's backing store,
            // alive while this call references it; no script runs while the slice lives, and
            // no other slice of it exists (an overlapping input was copied above).
            unsafe { core::slice::from_raw_parts_mut(op.cast::<u8>(), ol) }
        } else {
            &mut []
        };
        match &copy {
            Some(copy) => f(copy, out),
            None if input_live => {
                // SAFETY: `il` readable bytes at `ip`, which do not overlap `out` (checked
                // above); alive and unchanged while no script runs.
                f(
                    unsafe { core::slice::from_raw_parts(ip.cast::<u8>(), il) },
                    out,
                )
            }
            None => f(&[], out),
        }
    }

    /// The bytes of several `Buffer`s or `Uint8Array`s (type-checked before), copied back to
    /// back into one buffer that is zeroized when dropped, and where each lies in it. For
    /// synchronous reads once every read that could run script is done: the buffer is sized
    /// first and filled after, and no script may detach an array in between.
    pub(crate) fn concat_bytes(self, values: &[sys::napi_value]) -> JsResult<Concatenated> {
        let views = values
            .iter()
            .map(|&v| self.typed_array(v, "bytes"))
            .collect::<JsResult<Vec<_>>>()?;
        // Views of one large buffer cost the caller nothing, but their total is what the copy
        // allocates: refuse it above the largest Buffer Node makes (no batch output could hold
        // it either), and a failed allocation below that too, rather than abort the process.
        let too_large = || Failure::Core(keyplane::Error::LimitExceeded("batch input too large"));
        let total = views
            .iter()
            .try_fold(0usize, |t, &(_, len)| t.checked_add(len))
            .filter(|&t| t <= MAX_BATCH_INPUT)
            .ok_or_else(too_large)?;
        let mut bytes = Zeroizing::new(Vec::new());
        bytes.try_reserve_exact(total).map_err(|_| too_large())?;
        let mut spans = Vec::with_capacity(views.len());
        for (data, len) in views {
            spans.push((bytes.len(), len));
            if len > 0 && !data.is_null() {
                // SAFETY: Node reported `len` bytes at `data` for a Uint8Array this call still
                // references; no script has run since, so nothing detached or resized it, and
                // the slice is copied at once.
                let view = unsafe { core::slice::from_raw_parts(data.cast::<u8>(), len) };
                bytes.extend_from_slice(view);
            }
        }
        Ok((bytes, spans))
    }

    /// Just the length of a `Buffer` or `Uint8Array` argument (type-checked).
    pub(crate) fn bytes_len(
        self,
        v: sys::napi_value,
        what: impl Display + Copy,
    ) -> JsResult<usize> {
        self.typed_array(v, what).map(|(_, len)| len)
    }

    /// The bytes of a `Buffer` or `Uint8Array` argument, copied (for asynchronous tasks and
    /// batches); zeroized when dropped, as inputs may be secrets.
    pub(crate) fn bytes_owned(
        self,
        v: sys::napi_value,
        what: impl Display + Copy,
    ) -> JsResult<Zeroizing<Vec<u8>>> {
        self.bytes(v, what).map(|b| Zeroizing::new(b.to_vec()))
    }

    pub(crate) fn typed_array(
        self,
        v: sys::napi_value,
        what: impl Display + Copy,
    ) -> JsResult<(*mut core::ffi::c_void, usize)> {
        let mut kind = 0;
        let mut len = 0usize;
        let mut data = ptr::null_mut();
        // SAFETY: `v` is a live handle; all out-pointers are valid or null (not wanted). For a
        // value that is not a typed array Node reports `napi_invalid_arg` and writes nothing.
        let status = unsafe {
            sys::napi_get_typedarray_info(
                self.env,
                v,
                &mut kind,
                &mut len,
                &mut data,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if status == sys::Status::napi_invalid_arg {
            return Err(self.type_error(what, "a Buffer or Uint8Array", v));
        }
        check(status)?;
        if kind != sys::TypedarrayType::uint8_array {
            return Err(Failure::Type(format!(
                "{what} must be a Buffer or Uint8Array, got another typed array"
            )));
        }
        Ok((data, len))
    }

    // ----- objects ----------------------------------------------------------------------------

    /// Checks that `v` is an object (not an array, a typed array or a function).
    pub(crate) fn object(self, v: sys::napi_value, what: impl Display + Copy) -> JsResult<()> {
        if self.type_of(v)? != sys::ValueType::napi_object
            || self.is_array(v)?
            || self.is_typed_array(v)?
        {
            return Err(self.type_error(what, "an object", v));
        }
        Ok(())
    }

    /// A property of an object (may run a getter).
    pub(crate) fn get(
        self,
        obj: sys::napi_value,
        name: &core::ffi::CStr,
    ) -> JsResult<sys::napi_value> {
        let mut out = ptr::null_mut();
        // SAFETY: `obj` is a live object handle; `name` is NUL-terminated.
        check(unsafe { sys::napi_get_named_property(self.env, obj, name.as_ptr(), &mut out) })?;
        Ok(out)
    }

    /// A string from a NUL-terminated constant (property names, fixed scripts).
    pub(crate) fn name(self, name: &core::ffi::CStr) -> JsResult<sys::napi_value> {
        let mut out = ptr::null_mut();
        // SAFETY: `name` is NUL-terminated (length -1 asks Node to find the NUL).
        check(unsafe { sys::napi_create_string_utf8(self.env, name.as_ptr(), -1, &mut out) })?;
        Ok(out)
    }

    /// The elements of an array argument of at most `max` elements (a longer one, even a
    /// sparse one that costs JavaScript nothing, is refused before anything is allocated).
    pub(crate) fn array(
        self,
        v: sys::napi_value,
        what: impl Display + Copy,
        max: usize,
    ) -> JsResult<Vec<sys::napi_value>> {
        let len = self.array_len(v, what)?;
        if usize::try_from(len).map_or(true, |n| n > max) {
            return Err(Failure::Range(format!(
                "{what} must have at most {max} elements, got {len}"
            )));
        }
        let mut out = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        for i in 0..len {
            let mut item = ptr::null_mut();
            // SAFETY: `v` is an array and `i` below its length; valid out-pointer.
            check(unsafe { sys::napi_get_element(self.env, v, i, &mut item) })?;
            out.push(item);
        }
        Ok(out)
    }

    /// The length of an array argument (type-checked).
    pub(crate) fn array_len(self, v: sys::napi_value, what: impl Display + Copy) -> JsResult<u32> {
        if self.type_of(v)? != sys::ValueType::napi_object || !self.is_array(v)? {
            return Err(self.type_error(what, "an array", v));
        }
        let mut len = 0u32;
        // SAFETY: `v` is an array (checked above); valid out-pointer.
        check(unsafe { sys::napi_get_array_length(self.env, v, &mut len) })?;
        Ok(len)
    }

    /// An encryption context: `undefined`/`null` for none, else a plain object whose own
    /// enumerable properties are all strings.
    pub(crate) fn context(
        self,
        v: sys::napi_value,
        what: impl Display + Copy,
    ) -> JsResult<Option<EncryptionContext>> {
        if self.is_nullish(v)? {
            return Ok(None);
        }
        if self.type_of(v)? != sys::ValueType::napi_object || !self.is_plain_object(v)? {
            return Err(self.type_error(what, "a plain object of strings", v));
        }
        let mut keys = ptr::null_mut();
        // SAFETY: `v` is an object; valid out-pointer.
        check(unsafe {
            sys::napi_get_all_property_names(
                self.env,
                v,
                sys::KeyCollectionMode::own_only,
                sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
                sys::KeyConversion::numbers_to_strings,
                &mut keys,
            )
        })?;
        let mut n = 0u32;
        // SAFETY: `keys` is the array Node just returned; valid out-pointer.
        check(unsafe { sys::napi_get_array_length(self.env, keys, &mut n) })?;
        // The core's limit, checked while reading: every key holds at least one byte, so a
        // larger count cannot fit, and no string is copied past what is left of the budget.
        let too_large = || {
            Failure::Core(keyplane::Error::LimitExceeded(
                "encryption context exceeds 8192 bytes",
            ))
        };
        let count = usize::try_from(n).map_err(|_| too_large())?;
        if count > MAX_CONTEXT_BYTES {
            return Err(too_large());
        }
        let mut left = MAX_CONTEXT_BYTES;
        let mut pairs = Vec::with_capacity(count);
        for i in 0..n {
            let mut key = ptr::null_mut();
            let mut value = ptr::null_mut();
            // SAFETY: `keys` is an array and `i` below its length; valid out-pointer.
            check(unsafe { sys::napi_get_element(self.env, keys, i, &mut key) })?;
            // SAFETY: `v` is an object and `key` a string handle; valid out-pointer.
            check(unsafe { sys::napi_get_property(self.env, v, key, &mut value) })?;
            let key = self
                .string_within(key, ContextKey(what), left)?
                .ok_or_else(too_large)?;
            left = left.saturating_sub(key.len());
            if self.type_of(value)? != sys::ValueType::napi_string {
                return Err(Failure::Type(format!(
                    "{what} values must be strings, got {} for key {key:?}",
                    self.describe(value)
                )));
            }
            let value = self
                .string_within(value, ContextValue(what, &key), left)?
                .ok_or_else(too_large)?;
            left = left.saturating_sub(value.len());
            pairs.push((key, value));
        }
        EncryptionContext::new(pairs)
            .map(Some)
            .map_err(Failure::Core)
    }

    /// A plain object: its prototype is `null` or `Object.prototype` (whose prototype is null),
    /// so a `Map`, a class instance or a `Date` is refused rather than read as an empty context.
    fn is_plain_object(self, v: sys::napi_value) -> JsResult<bool> {
        if self.is_array(v)? || self.is_typed_array(v)? {
            return Ok(false);
        }
        let proto = self.prototype(v)?;
        if self.type_of(proto)? == sys::ValueType::napi_null {
            return Ok(true);
        }
        let grand = self.prototype(proto)?;
        Ok(self.type_of(grand)? == sys::ValueType::napi_null)
    }

    fn prototype(self, v: sys::napi_value) -> JsResult<sys::napi_value> {
        let mut out = ptr::null_mut();
        // SAFETY: `v` is an object handle; valid out-pointer.
        check(unsafe { sys::napi_get_prototype(self.env, v, &mut out) })?;
        Ok(out)
    }

    // ----- results ----------------------------------------------------------------------------

    /// A new `Buffer` of `len` bytes that `fill` writes; `fill` returns how many bytes it wrote,
    /// which must be `len`.
    pub(crate) fn buffer_with(
        self,
        len: usize,
        fill: impl FnOnce(&mut [u8]) -> Result<usize, Failure>,
    ) -> JsResult<sys::napi_value> {
        let mut data = ptr::null_mut();
        let mut out = ptr::null_mut();
        // SAFETY: valid out-pointers; Node allocates `len` bytes and reports where.
        check(unsafe { sys::napi_create_buffer(self.env, len, &mut data, &mut out) })?;
        let slice: &mut [u8] = if len == 0 || data.is_null() {
            &mut []
        } else {
            // SAFETY: Node just allocated `len` writable bytes at `data` for a Buffer that no
            // script has seen yet; the slice is dropped before the Buffer is returned.
            unsafe { core::slice::from_raw_parts_mut(data.cast::<u8>(), len) }
        };
        let written = fill(slice)?;
        if written != len {
            return Err(Failure::Core(keyplane::Error::Internal));
        }
        Ok(out)
    }

    /// A new `Buffer` holding a copy of `bytes` (secrets: never pooled).
    pub(crate) fn buffer(self, bytes: &[u8]) -> JsResult<sys::napi_value> {
        self.buffer_with(bytes.len(), |out| {
            out.copy_from_slice(bytes);
            Ok(bytes.len())
        })
    }

    /// A `Buffer` holding a copy of non-secret `bytes`, from the pool when small.
    pub(crate) fn public_buffer(self, bytes: &[u8]) -> JsResult<sys::napi_value> {
        self.pooled_buffer_with(bytes.len(), |out| {
            out.copy_from_slice(bytes);
            Ok(bytes.len())
        })
    }

    /// The results of a batch as one array: `Buffer`s that view one new `ArrayBuffer` holding
    /// every output back to back, and the error objects of failed items in their slots.
    ///
    /// `secret` outputs (plaintexts) each get a `Buffer` of their own instead, copied out of
    /// that `ArrayBuffer` by the same script call (`Buffer.allocUnsafeSlow`, which never pools),
    /// and the `ArrayBuffer`, which no script keeps, is zeroized after: a result's `.buffer`
    /// shows no other item. About 0.1 µs per item, where a Node-API `Buffer` per item costs 0.7.
    pub(crate) fn batch_buffers(
        self,
        slots: &[Result<&[u8], sys::napi_value>],
        secret: bool,
    ) -> JsResult<sys::napi_value> {
        let total = slots
            .iter()
            .try_fold(0usize, |t, s| t.checked_add(s.map_or(0, <[u8]>::len)))
            .ok_or(Failure::Core(keyplane::Error::LimitExceeded(
                "batch output too large",
            )))?;
        // A Buffer's memory is not zero-filled first (every byte is written below); its
        // ArrayBuffer is what the views share.
        let mut data = ptr::null_mut();
        let mut whole = ptr::null_mut();
        // SAFETY: valid out-pointers; Node allocates `total` bytes.
        check(unsafe { sys::napi_create_buffer(self.env, total, &mut data, &mut whole) })?;
        let mut array_buffer = ptr::null_mut();
        // SAFETY: `whole` is the Buffer just made; only its ArrayBuffer is asked for.
        check(unsafe {
            sys::napi_get_typedarray_info(
                self.env,
                whole,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
                &mut array_buffer,
                ptr::null_mut(),
            )
        })?;
        let span_bytes = slots
            .len()
            .checked_mul(16)
            .ok_or(Failure::Napi(sys::Status::napi_generic_failure))?;
        let mut span_data = ptr::null_mut();
        let mut span_buffer = ptr::null_mut();
        // SAFETY: valid out-pointers; Node allocates `span_bytes` bytes (8-byte aligned).
        check(unsafe {
            sys::napi_create_arraybuffer(self.env, span_bytes, &mut span_data, &mut span_buffer)
        })?;
        let mut out = self.new_array(slots.len())?;
        {
            let bytes: &mut [u8] = if total == 0 || data.is_null() {
                &mut []
            } else {
                // SAFETY: Node just allocated `total` writable bytes at `data`, seen by no script.
                unsafe { core::slice::from_raw_parts_mut(data.cast::<u8>(), total) }
            };
            let spans: &mut [u8] = if span_bytes == 0 || span_data.is_null() {
                &mut []
            } else {
                // SAFETY: as above, `span_bytes` fresh bytes at `span_data`.
                unsafe { core::slice::from_raw_parts_mut(span_data.cast::<u8>(), span_bytes) }
            };
            let mut offset = 0usize;
            let mut index = 0u32;
            for (slot, span) in slots.iter().zip(spans.chunks_exact_mut(16)) {
                let (start, len) = match slot {
                    Ok(b) => {
                        let end = offset
                            .checked_add(b.len())
                            .ok_or(Failure::Napi(sys::Status::napi_generic_failure))?;
                        bytes
                            .get_mut(offset..end)
                            .ok_or(Failure::Napi(sys::Status::napi_generic_failure))?
                            .copy_from_slice(b);
                        let start = offset;
                        offset = end;
                        (exact_f64(start), exact_f64(b.len()))
                    }
                    Err(error) => {
                        // SAFETY: `out.raw` is a fresh array; `error` is live.
                        check(unsafe { sys::napi_set_element(self.env, out.raw, index, *error) })?;
                        (0.0, -1.0)
                    }
                };
                span[..8].copy_from_slice(&start.to_ne_bytes());
                span[8..].copy_from_slice(&len.to_ne_bytes());
                index = index.saturating_add(1);
            }
        }
        let mut spans = ptr::null_mut();
        let span_count = slots.len().saturating_mul(2);
        // SAFETY: `span_buffer` holds exactly `2 * slots.len()` f64 values.
        check(unsafe {
            sys::napi_create_typedarray(
                self.env,
                sys::TypedarrayType::float64_array,
                span_count,
                span_buffer,
                0,
                &mut spans,
            )
        })?;
        let views = with_pool(self, |p| self.dereference(p.views))?;
        let mut global = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check(unsafe { sys::napi_get_global(self.env, &mut global) })?;
        let argv = [array_buffer, spans, out.raw, self.boolean(secret)?];
        let mut result = ptr::null_mut();
        // SAFETY: `views` is the helper function; four live arguments.
        let called = check(unsafe {
            sys::napi_call_function(
                self.env,
                global,
                views,
                argv.len(),
                argv.as_ptr(),
                &mut result,
            )
        });
        if secret {
            // Also when the helper threw part way.
            self.wipe_array_buffer(array_buffer)?;
        }
        called?;
        out.raw = result;
        Ok(out.raw)
    }

    /// Zeroizes the memory an `ArrayBuffer` owns now: asked again after script ran, because the
    /// script (a caller's patched global) may have detached it, and then its old memory belongs
    /// to another owner (or was freed) and must not be written.
    fn wipe_array_buffer(self, array_buffer: sys::napi_value) -> JsResult<()> {
        let mut data = ptr::null_mut();
        let mut len = 0usize;
        // SAFETY: `array_buffer` is a live ArrayBuffer handle; valid out-pointers.
        check(unsafe {
            sys::napi_get_arraybuffer_info(self.env, array_buffer, &mut data, &mut len)
        })?;
        if len > 0 && !data.is_null() {
            // SAFETY: the ArrayBuffer owns `len` bytes at `data` right now (a detached one
            // reports none), and no script runs while the slice lives.
            unsafe { core::slice::from_raw_parts_mut(data.cast::<u8>(), len) }.zeroize();
        }
        Ok(())
    }

    /// Reads a batch in one script call (see [`collect_source`]): `(refs, values,
    /// not_objects)`. `names` empty: the items are the values ([`COLLECT_VALUES_JS`]).
    pub(crate) fn collect(
        self,
        items: sys::napi_value,
        names: &'static [&'static core::ffi::CStr],
    ) -> JsResult<(Vec<i32>, sys::napi_value, Vec<u32>)> {
        let helper = with_pool(self, |p| {
            if names.is_empty() {
                return self.dereference(p.collect_values);
            }
            if let Some(&(_, r)) = p.collectors.iter().find(|(n, _)| *n == names) {
                return self.dereference(r);
            }
            let source =
                collect_source(names).ok_or(Failure::Napi(sys::Status::napi_generic_failure))?;
            let helper = self.script(&source)?;
            p.collectors.push((names, self.reference(helper)?));
            Ok(helper)
        })?;
        let result = self.call(helper, &[items])?;
        let mut parts = 0u32;
        // SAFETY: the helper returned an array of two or three elements.
        check(unsafe { sys::napi_get_array_length(self.env, result, &mut parts) })?;
        let mut not_objects = Vec::new();
        if parts == 3 {
            let bad = self.element(result, 2)?;
            let mut n = 0u32;
            // SAFETY: the helper's third element is an array of item indices.
            check(unsafe { sys::napi_get_array_length(self.env, bad, &mut n) })?;
            for i in 0..n {
                let mut index = 0u32;
                // SAFETY: `bad` holds `n` integers below the batch's length (a u32).
                check(unsafe {
                    sys::napi_get_value_uint32(self.env, self.element(bad, i)?, &mut index)
                })?;
                not_objects.push(index);
            }
        }
        let mut refs = ptr::null_mut();
        let mut values = ptr::null_mut();
        // SAFETY: the helper returned `[refs, values]`, an array of two elements.
        check(unsafe { sys::napi_get_element(self.env, result, 0, &mut refs) })?;
        // SAFETY: as above.
        check(unsafe { sys::napi_get_element(self.env, result, 1, &mut values) })?;
        let mut kind = 0;
        let mut len = 0usize;
        let mut data = ptr::null_mut();
        let mut array_buffer = ptr::null_mut();
        let mut offset = 0usize;
        // SAFETY: `refs` is the Int32Array the helper made; all out-pointers are valid.
        check(unsafe {
            sys::napi_get_typedarray_info(
                self.env,
                refs,
                &mut kind,
                &mut len,
                &mut data,
                &mut array_buffer,
                &mut offset,
            )
        })?;
        if kind != sys::TypedarrayType::int32_array {
            return Err(Failure::Napi(sys::Status::napi_generic_failure));
        }
        let bytes: &[u8] = match len.checked_mul(4) {
            Some(0) => &[],
            Some(n) if !data.is_null() => {
                // SAFETY: an Int32Array of `len` elements owns `4 * len` bytes at `data`; only
                // read here, while no script runs.
                unsafe { core::slice::from_raw_parts(data.cast::<u8>(), n) }
            }
            _ => return Err(Failure::Napi(sys::Status::napi_generic_failure)),
        };
        let refs = bytes
            .chunks_exact(4)
            .map(|c| i32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Ok((refs, values, not_objects))
    }

    /// Element `i` of an array this module made.
    pub(crate) fn element(self, array: sys::napi_value, i: u32) -> JsResult<sys::napi_value> {
        let mut out = ptr::null_mut();
        // SAFETY: `array` is an array handle; valid out-pointer.
        check(unsafe { sys::napi_get_element(self.env, array, i, &mut out) })?;
        Ok(out)
    }

    /// As [`buffer_with`](Self::buffer_with), for non-secret results (ciphertext blobs, MACs,
    /// signatures): up to [`POOL_MAX`] bytes are a view into a shared pool `ArrayBuffer`, as
    /// Node's own `Buffer.allocUnsafe` does, which saves a memory allocation per call.
    pub(crate) fn pooled_buffer_with(
        self,
        len: usize,
        fill: impl FnOnce(&mut [u8]) -> Result<usize, Failure>,
    ) -> JsResult<sys::napi_value> {
        if len == 0 || len > POOL_MAX {
            return self.buffer_with(len, fill);
        }
        let (array_buffer, class, from, start) = with_pool(self, |p| {
            let mut array_buffer = p.live(self)?;
            let mut start = p.used.saturating_add(7) & !7;
            if start.saturating_add(len) > POOL_SIZE {
                p.refill(self)?;
                array_buffer = self.dereference(p.array_buffer)?;
                start = 0;
            }
            write_pool(p, start, len, fill)?;
            Ok((
                array_buffer,
                self.dereference(p.buffer_class)?,
                self.dereference(p.buffer_from)?,
                start,
            ))
        })?;
        // Out of the pool's borrow, its bytes written and counted as used: `Buffer.from` can be
        // the caller's own function (or read a patched `byteLength` getter), which may call
        // back into Keyplane and take the next slice.
        let argv = [
            array_buffer,
            self.usize_value(start)?,
            self.usize_value(len)?,
        ];
        let mut out = ptr::null_mut();
        // SAFETY: `from` is `Buffer.from`, called with `Buffer` as `this` and three live values.
        check(unsafe {
            sys::napi_call_function(self.env, class, from, argv.len(), argv.as_ptr(), &mut out)
        })?;
        Ok(out)
    }

    pub(crate) fn boolean(self, b: bool) -> JsResult<sys::napi_value> {
        let mut out = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check(unsafe { sys::napi_get_boolean(self.env, b, &mut out) })?;
        Ok(out)
    }

    pub(crate) fn str_value(self, s: &str) -> JsResult<sys::napi_value> {
        let len = isize::try_from(s.len())
            .map_err(|_| Failure::Napi(sys::Status::napi_generic_failure))?;
        let mut out = ptr::null_mut();
        // SAFETY: `s` is valid UTF-8 of `len` bytes; valid out-pointer.
        check(unsafe {
            sys::napi_create_string_utf8(self.env, s.as_ptr().cast::<c_char>(), len, &mut out)
        })?;
        Ok(out)
    }

    /// A `Date` for a system time (millisecond precision).
    pub(crate) fn date(self, t: SystemTime) -> JsResult<sys::napi_value> {
        let ms = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs_f64() * 1000.0,
            Err(e) => -(e.duration().as_secs_f64() * 1000.0),
        };
        let mut out = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check(unsafe { sys::napi_create_date(self.env, ms.floor(), &mut out) })?;
        Ok(out)
    }

    pub(crate) fn new_array(self, len: usize) -> JsResult<Arr> {
        let mut out = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check(unsafe { sys::napi_create_array_with_length(self.env, len, &mut out) })?;
        Ok(Arr {
            js: self,
            raw: out,
            next: 0,
        })
    }

    // ----- errors -----------------------------------------------------------------------------

    /// Whether a JavaScript exception is pending (a getter threw while reading arguments).
    pub(crate) fn exception_pending(self) -> bool {
        let mut pending = false;
        // SAFETY: valid out-pointer.
        let status = unsafe { sys::napi_is_exception_pending(self.env, &mut pending) };
        status == sys::Status::napi_ok && pending
    }

    /// Takes the pending exception, if any.
    pub(crate) fn take_exception(self) -> Option<sys::napi_value> {
        if !self.exception_pending() {
            return None;
        }
        let mut out = ptr::null_mut();
        // SAFETY: valid out-pointer; an exception is pending.
        let status = unsafe { sys::napi_get_and_clear_last_exception(self.env, &mut out) };
        (status == sys::Status::napi_ok).then_some(out)
    }

    /// An `Error` (`TypeError`, `RangeError`) with a `code` property.
    pub(crate) fn error(
        self,
        kind: ErrorKind,
        code: &str,
        message: &str,
    ) -> JsResult<sys::napi_value> {
        let code = self.str_value(code)?;
        let message = self.str_value(message)?;
        let mut out = ptr::null_mut();
        // SAFETY: `code` and `message` are string handles; valid out-pointer. Node sets the
        // `code` property from `code`.
        check(unsafe {
            match kind {
                ErrorKind::Error => sys::napi_create_error(self.env, code, message, &mut out),
                ErrorKind::Type => sys::napi_create_type_error(self.env, code, message, &mut out),
                ErrorKind::Range => sys::napi_create_range_error(self.env, code, message, &mut out),
            }
        })?;
        Ok(out)
    }

    pub(crate) fn reference(self, v: sys::napi_value) -> JsResult<sys::napi_ref> {
        let mut r = ptr::null_mut();
        // SAFETY: live handle; valid out-pointer.
        check(unsafe { sys::napi_create_reference(self.env, v, 1, &mut r) })?;
        Ok(r)
    }

    pub(crate) fn dereference(self, r: sys::napi_ref) -> JsResult<sys::napi_value> {
        let mut v = ptr::null_mut();
        // SAFETY: `r` is a strong reference made in this environment.
        check(unsafe { sys::napi_get_reference_value(self.env, r, &mut v) })?;
        Ok(v)
    }

    fn usize_value(self, n: usize) -> JsResult<sys::napi_value> {
        let n = u32::try_from(n).map_err(|_| Failure::Napi(sys::Status::napi_generic_failure))?;
        let mut out = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check(unsafe { sys::napi_create_uint32(self.env, n, &mut out) })?;
        Ok(out)
    }

    pub(crate) fn throw(self, error: sys::napi_value) {
        // SAFETY: `error` is a live handle. A failure here (the environment is shutting down)
        // leaves nothing to report to.
        unsafe { sys::napi_throw(self.env, error) };
    }
}

impl Js {
    // ----- building objects, calling functions ------------------------------------------------

    /// A new empty object.
    pub(crate) fn new_object(self) -> JsResult<sys::napi_value> {
        let mut out = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check(unsafe { sys::napi_create_object(self.env, &mut out) })?;
        Ok(out)
    }

    /// Sets `obj[name] = value`.
    pub(crate) fn set(
        self,
        obj: sys::napi_value,
        name: &core::ffi::CStr,
        value: sys::napi_value,
    ) -> JsResult<()> {
        // SAFETY: `obj` is an object handle made by this module, `name` is NUL-terminated and
        // `value` is live.
        check(unsafe { sys::napi_set_named_property(self.env, obj, name.as_ptr(), value) })
    }

    /// Sets `obj[key] = value` for a key given as a Rust string.
    pub(crate) fn set_str_key(
        self,
        obj: sys::napi_value,
        key: &str,
        value: sys::napi_value,
    ) -> JsResult<()> {
        let key = self.str_value(key)?;
        // SAFETY: `obj` is an object handle made by this module; `key` and `value` are live.
        check(unsafe { sys::napi_set_property(self.env, obj, key, value) })
    }

    pub(crate) fn null(self) -> JsResult<sys::napi_value> {
        let mut out = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check(unsafe { sys::napi_get_null(self.env, &mut out) })?;
        Ok(out)
    }

    pub(crate) fn undefined(self) -> JsResult<sys::napi_value> {
        let mut out = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check(unsafe { sys::napi_get_undefined(self.env, &mut out) })?;
        Ok(out)
    }

    pub(crate) fn num(self, n: f64) -> JsResult<sys::napi_value> {
        let mut out = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check(unsafe { sys::napi_create_double(self.env, n, &mut out) })?;
        Ok(out)
    }

    /// A string, or `null` for `None`.
    pub(crate) fn str_or_null(self, s: Option<&str>) -> JsResult<sys::napi_value> {
        s.map_or_else(|| self.null(), |s| self.str_value(s))
    }

    /// Checks that `v` is a function.
    pub(crate) fn function(self, v: sys::napi_value, what: impl Display + Copy) -> JsResult<()> {
        if self.type_of(v)? != sys::ValueType::napi_function {
            return Err(self.type_error(what, "a function", v));
        }
        Ok(())
    }

    /// A `Date` argument as a system time.
    pub(crate) fn date_arg(
        self,
        v: sys::napi_value,
        what: impl Display + Copy,
    ) -> JsResult<SystemTime> {
        let mut is_date = false;
        // SAFETY: live handle, valid out-pointer.
        check(unsafe { sys::napi_is_date(self.env, v, &mut is_date) })?;
        if !is_date {
            return Err(self.type_error(what, "a Date", v));
        }
        let mut ms = 0f64;
        // SAFETY: `v` is a Date (checked above); valid out-pointer.
        check(unsafe { sys::napi_get_date_value(self.env, v, &mut ms) })?;
        let invalid = || Failure::Range(format!("{what} must be a valid Date"));
        let since = Duration::try_from_secs_f64(ms.abs() / 1000.0).map_err(|_| invalid())?;
        if ms >= 0.0 {
            UNIX_EPOCH.checked_add(since)
        } else {
            UNIX_EPOCH.checked_sub(since)
        }
        .ok_or_else(invalid)
    }

    /// Calls `f` with `this` undefined; an exception it throws stays pending (the result is
    /// then a [`Failure::Napi`]).
    pub(crate) fn call(
        self,
        f: sys::napi_value,
        args: &[sys::napi_value],
    ) -> JsResult<sys::napi_value> {
        let this = self.undefined()?;
        let mut out = ptr::null_mut();
        // SAFETY: `f` is a function handle and `args` live handles, `args.len()` of them.
        check(unsafe {
            sys::napi_call_function(self.env, this, f, args.len(), args.as_ptr(), &mut out)
        })?;
        Ok(out)
    }

    /// The value of a fixed script (a function expression) of this module.
    pub(crate) fn script(self, source: &core::ffi::CStr) -> JsResult<sys::napi_value> {
        let source = self.name(source)?;
        let mut out = ptr::null_mut();
        // SAFETY: `source` is a string handle of one of this module's scripts (fixed, or made
        // by `collect_source` from this module's own field names), each a function expression.
        check(unsafe { sys::napi_run_script(self.env, source, &mut out) })?;
        Ok(out)
    }

    pub(crate) fn delete_reference(self, r: sys::napi_ref) {
        // SAFETY: `r` is a reference made in this environment, deleted once (callers clear
        // their copy). A failure (the environment is going away) leaves nothing to do.
        unsafe { sys::napi_delete_reference(self.env, r) };
    }

    /// An instance of the `#[napi]` class `T` (`LocalRootKey`), seen through `f`.
    pub(crate) fn instance<T, U>(
        self,
        v: sys::napi_value,
        what: impl Display + Copy,
        class: &str,
        f: impl FnOnce(&T) -> U,
    ) -> JsResult<U>
    where
        T: MaybeTypeTag + 'static,
        for<'a> &'a T: ValidateNapiValue,
    {
        let wrong = || {
            Failure::Type(format!(
                "{what} must be a {class}, got {}",
                self.describe(v)
            ))
        };
        if self.type_of(v)? != sys::ValueType::napi_object {
            return Err(wrong());
        }
        // SAFETY: `v` is a live object handle of this call; the check runs `instanceof`
        // against the class's registered constructor.
        if unsafe { <&T as ValidateNapiValue>::validate(self.env, v) }.is_err() {
            return Err(wrong());
        }
        // SAFETY: `v` is an instance of `T`'s class (checked above); napi-rs unwraps it and
        // checks that the wrapped value was made by `T`'s class glue before handing out the
        // instance, which is used only within this call, while `v` is alive and no script runs.
        let instance =
            unsafe { ClassInstance::<'_, T>::from_napi_value(self.env, v) }.map_err(|_| wrong())?;
        Ok(f(&instance))
    }
}

/// `context key`, for error messages about one of a context's keys.
#[derive(Clone, Copy)]
struct ContextKey<W>(W);

impl<W: Display> Display for ContextKey<W> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "a key of {}", self.0)
    }
}

/// `context["key"]`, for error messages about one of a context's values.
#[derive(Clone, Copy)]
struct ContextValue<'k, W>(W, &'k str);

impl<W: Display> Display for ContextValue<'_, W> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}[{:?}]", self.0, self.1)
    }
}

/// The most bytes a batch's inputs may add up to: Node's largest `Buffer` (4 GiB).
const MAX_BATCH_INPUT: usize = 1 << 32;

/// A count as a number (exact below 2^53; counts and line numbers stay far below).
pub(crate) fn exact_f64_u64(n: u64) -> f64 {
    let high = u32::try_from(n >> 32).unwrap_or(u32::MAX);
    let low = u32::try_from(n & 0xffff_ffff).unwrap_or(u32::MAX);
    f64::from(high) * 4_294_967_296.0 + f64::from(low)
}

/// Bytes copied back to back, and the `(start, length)` of each part.
pub(crate) type Concatenated = (Zeroizing<Vec<u8>>, Vec<(usize, usize)>);

/// A byte count or offset as a number (exact: Node-API buffers are far below 2^53 bytes).
fn exact_f64(n: usize) -> f64 {
    u32::try_from(n).map_or_else(
        |_| {
            let n = u64::try_from(n).unwrap_or(u64::MAX);
            f64::from(u32::try_from(n >> 32).unwrap_or(u32::MAX)) * 4_294_967_296.0
                + f64::from(u32::try_from(n & 0xffff_ffff).unwrap_or(0))
        },
        f64::from,
    )
}

/// The largest result served from the pool.
const POOL_MAX: usize = 4096;
/// The size of one pool `ArrayBuffer`.
const POOL_SIZE: usize = 64 * 1024;

thread_local! {
    /// The current pool of this thread's JavaScript environment.
    static POOL: core::cell::RefCell<Option<Pool>> = const { core::cell::RefCell::new(None) };
}

/// A pool `ArrayBuffer` handed out in slices, and `Buffer.from` to view them as `Buffer`s.
struct Pool {
    env: sys::napi_env,
    array_buffer: sys::napi_ref,
    data: *mut u8,
    used: usize,
    buffer_class: sys::napi_ref,
    buffer_from: sys::napi_ref,
    /// `(arrayBuffer, spans, out) => out`: fills `out[i]` with `Buffer.from(arrayBuffer,
    /// spans[2i], spans[2i+1])` where the length is not negative. One call per batch result
    /// instead of one Node-API call per item.
    views: sys::napi_ref,
    /// [`COLLECT_VALUES_JS`].
    collect_values: sys::napi_ref,
    /// Item readers made by [`collect_source`], by field list.
    collectors: Vec<(&'static [&'static core::ffi::CStr], sys::napi_ref)>,
}

/// `(values) => [refs, values]`: the distinct elements of an array (an element `===` to the one
/// before is not repeated) and, for each element, the index of its value.
const COLLECT_VALUES_JS: &core::ffi::CStr = c"(function (items) {
  const n = items.length
  const refs = new Int32Array(n)
  const values = []
  let last
  for (let i = 0; i < n; i++) {
    const v = items[i]
    if (i === 0 || v !== last) { last = v; values.push(v) }
    refs[i] = values.length - 1
  }
  return [refs, values]
})";

/// The source of `(items) => [refs, values, notObjects?]` for the fields `names` (identifiers
/// of this module, written as property accesses so each load is monomorphic): `values` holds
/// each distinct value once (a value `===` to the same field of the previous item is not
/// repeated) and `refs[i * names.length + j]` is the index in `values` of field `j` of item `i`.
/// The indices of the items that are not objects (an array or a typed array is not one), whose
/// fields are not read, come third when there are any.
fn collect_source(names: &[&core::ffi::CStr]) -> Option<std::ffi::CString> {
    use core::fmt::Write as _;
    let k = names.len();
    let mut src = String::from("(function (items) {\n  const n = items.length\n");
    let _ = writeln!(
        src,
        "  const refs = new Int32Array(n * {k})\n  const values = []"
    );
    for j in 0..k {
        let _ = writeln!(src, "  let l{j}, r{j} = 0");
    }
    src.push_str(
        "  const bad = []\n  for (let i = 0; i < n; i++) {\n    const item = items[i]\n    if (typeof item !== 'object' || item === null || Array.isArray(item) || ArrayBuffer.isView(item)) { bad.push(i); continue }\n",
    );
    for (j, name) in names.iter().enumerate() {
        let name = name.to_str().ok()?;
        if !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        let _ = writeln!(
            src,
            "    const v{j} = item.{name}\n    if (i === 0 || v{j} !== l{j}) {{ l{j} = v{j}; r{j} = values.length; values.push(v{j}) }}\n    refs[i * {k} + {j}] = r{j}"
        );
    }
    src.push_str("  }\n  return bad.length === 0 ? [refs, values] : [refs, values, bad]\n})");
    std::ffi::CString::new(src).ok()
}

const VIEWS_JS: &core::ffi::CStr = c"(function (ab, spans, out, own) {
  for (let i = 0; i < out.length; i++) {
    const len = spans[2 * i + 1]
    if (len < 0) continue
    if (own) {
      const b = Buffer.allocUnsafeSlow(len)
      b.set(new Uint8Array(ab, spans[2 * i], len))
      out[i] = b
    } else {
      out[i] = Buffer.from(ab, spans[2 * i], len)
    }
  }
  return out
})";

/// Runs `f` on this thread's pool, made first when there is none for this environment.
///
/// `f` must not run script: a script could call back into Keyplane, which needs the pool too.
/// Making the pool reads `globalThis.Buffer`, which can run the caller's getter, so it is made
/// outside the borrow. A call that still finds the pool borrowed gets an error, never a panic.
fn with_pool<T>(js: Js, f: impl FnOnce(&mut Pool) -> JsResult<T>) -> JsResult<T> {
    let reentrant = || {
        Failure::Invalid(
            "a Keyplane call made while another was building its result is refused".to_owned(),
        )
    };
    let ready = POOL
        .with(|pool| {
            pool.try_borrow()
                .map(|p| p.as_ref().is_some_and(|p| p.env == js.env))
        })
        .map_err(|_| reentrant())?;
    if !ready {
        let fresh = Pool::new(js)?;
        POOL.with(|pool| -> JsResult<()> {
            let mut pool = pool.try_borrow_mut().map_err(|_| reentrant())?;
            if pool.as_ref().is_some_and(|p| p.env == js.env) {
                // A call made while this one read `Buffer` made one first: keep that one.
                fresh.release(js);
            } else {
                // Another environment's pool (never the case for one thread in practice) is
                // left alone: its references belong to that environment.
                *pool = Some(fresh);
            }
            Ok(())
        })?;
    }
    POOL.with(|pool| {
        let mut pool = pool.try_borrow_mut().map_err(|_| reentrant())?;
        let p = pool
            .as_mut()
            .filter(|p| p.env == js.env)
            .ok_or(Failure::Napi(sys::Status::napi_generic_failure))?;
        f(p)
    })
}

impl Pool {
    fn new(js: Js) -> JsResult<Self> {
        let mut global = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check(unsafe { sys::napi_get_global(js.env, &mut global) })?;
        let class = js.get(global, c"Buffer")?;
        let from = js.get(class, c"from")?;
        if js.type_of(from)? != sys::ValueType::napi_function {
            return Err(Failure::Napi(sys::Status::napi_function_expected));
        }
        let views = js.script(VIEWS_JS)?;
        let collect_values = js.script(COLLECT_VALUES_JS)?;
        let mut pool = Self {
            views: js.reference(views)?,
            collect_values: js.reference(collect_values)?,
            collectors: Vec::new(),
            env: js.env,
            array_buffer: ptr::null_mut(),
            data: ptr::null_mut(),
            used: 0,
            buffer_class: js.reference(class)?,
            buffer_from: js.reference(from)?,
        };
        pool.refill(js)?;
        Ok(pool)
    }

    /// Starts a new pool `ArrayBuffer` (the old one lives on in the views made from it).
    fn refill(&mut self, js: Js) -> JsResult<()> {
        let mut data = ptr::null_mut();
        let mut array_buffer = ptr::null_mut();
        // SAFETY: valid out-pointers; Node allocates `POOL_SIZE` bytes.
        check(unsafe {
            sys::napi_create_arraybuffer(js.env, POOL_SIZE, &mut data, &mut array_buffer)
        })?;
        let reference = js.reference(array_buffer)?;
        if !self.array_buffer.is_null() {
            // SAFETY: a reference this pool made in this environment.
            unsafe { sys::napi_delete_reference(js.env, self.array_buffer) };
        }
        self.array_buffer = reference;
        self.data = data.cast::<u8>();
        self.used = 0;
        Ok(())
    }

    /// The pool's `ArrayBuffer`, after making sure it still owns its memory: a caller may
    /// have detached it (`structuredClone(buf.buffer, { transfer: [buf.buffer] })`,
    /// `buf.buffer.transfer()`, `postMessage` with a transfer list) from any result it viewed.
    /// Its memory then belongs to the new owner (and is freed with it), so the pool starts a
    /// new `ArrayBuffer` instead of writing there. One Node-API call per pooled result; see
    /// the README for what it costs.
    fn live(&mut self, js: Js) -> JsResult<sys::napi_value> {
        let array_buffer = js.dereference(self.array_buffer)?;
        let mut data = ptr::null_mut();
        let mut len = 0usize;
        // SAFETY: `array_buffer` is the pool's ArrayBuffer (a live handle); valid out-pointers.
        check(unsafe {
            sys::napi_get_arraybuffer_info(js.env, array_buffer, &mut data, &mut len)
        })?;
        if len == POOL_SIZE && data.cast::<u8>() == self.data {
            return Ok(array_buffer);
        }
        self.refill(js)?;
        js.dereference(self.array_buffer)
    }

    /// Deletes this pool's references (a pool made but not kept).
    fn release(self, js: Js) {
        let refs = [
            self.array_buffer,
            self.buffer_class,
            self.buffer_from,
            self.views,
            self.collect_values,
        ];
        for r in refs
            .into_iter()
            .chain(self.collectors.iter().map(|&(_, r)| r))
        {
            if !r.is_null() {
                js.delete_reference(r);
            }
        }
    }
}

/// Fills `len` bytes of the pool at `start` (after [`Pool::live`]) and counts them as used.
fn write_pool(
    p: &mut Pool,
    start: usize,
    len: usize,
    fill: impl FnOnce(&mut [u8]) -> Result<usize, Failure>,
) -> JsResult<()> {
    let end = start.checked_add(len).filter(|&e| e <= POOL_SIZE);
    let (Some(end), false) = (end, p.data.is_null()) else {
        return Err(Failure::Napi(sys::Status::napi_generic_failure));
    };
    // SAFETY: `data` points at the pool's `POOL_SIZE` bytes, which its ArrayBuffer (kept alive
    // by `array_buffer`'s reference) still owns: `Pool::live` checked it is not detached just
    // before, and no script has run since. `start..end` lies inside them and past every slice
    // already handed out, so no view aliases it; no script runs while the slice lives.
    let region = unsafe { core::slice::from_raw_parts_mut(p.data.add(start), len) };
    if fill(region)? != len {
        return Err(Failure::Core(keyplane::Error::Internal));
    }
    p.used = end;
    Ok(())
}

/// Which constructor an error is made with.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ErrorKind {
    Error,
    Type,
    Range,
}

/// An array being filled in order.
pub(crate) struct Arr {
    js: Js,
    pub(crate) raw: sys::napi_value,
    next: u32,
}

impl Arr {
    pub(crate) fn push(&mut self, value: sys::napi_value) -> JsResult<()> {
        // SAFETY: `raw` is a fresh array; `value` is live.
        check(unsafe { sys::napi_set_element(self.js.env, self.raw, self.next, value) })?;
        self.next = self
            .next
            .checked_add(1)
            .ok_or(Failure::Napi(sys::Status::napi_generic_failure))?;
        Ok(())
    }
}
