//! Reading JavaScript arguments other than bytes: strings (key ids, aliases, enum names),
//! numbers, booleans, `Date`s, functions, instances of this addon's classes, objects, arrays
//! and encryption contexts. Each reader checks the value's type first and names the argument
//! in its error.

use core::ffi::c_char;
use core::fmt::Display;
use core::ptr;
use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keyplane::EncryptionContext;
use keyplane::context::MAX_CONTEXT_BYTES;
use napi::bindgen_prelude::{
    ClassInstance, FromNapiValue, MaybeTypeTag, TypeTag, ValidateNapiValue,
};
use napi::sys;

use super::{Js, JsResult, NAME_BUF, check};
use crate::error::Failure;

impl Js {
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

    /// An encryption context read property by property: `undefined`/`null` for none, else a
    /// plain object whose own enumerable properties are all strings. The reference reader,
    /// whose errors every faster reader of a context object returns by falling back to it.
    pub(crate) fn context_by_property(
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

    /// The UTF-16 code units of the string `v` (type-checked by the caller): in `buf` when they
    /// fit, else on the heap.
    pub(crate) fn utf16_in<'b>(
        self,
        v: sys::napi_value,
        buf: &'b mut [u16],
    ) -> JsResult<Cow<'b, [u16]>> {
        let mut written = 0usize;
        // SAFETY: `buf` is writable for `buf.len()` units; Node writes at most one less plus a
        // NUL and reports the count (without the NUL) in `written`.
        check(unsafe {
            sys::napi_get_value_string_utf16(self.env, v, buf.as_mut_ptr(), buf.len(), &mut written)
        })?;
        // A string that filled the buffer may have been cut: read it whole instead.
        if written.saturating_add(1) < buf.len() {
            return buf
                .get(..written)
                .map(Cow::Borrowed)
                .ok_or(Failure::Napi(sys::Status::napi_generic_failure));
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
        // SAFETY: `units` is writable for `cap` code units, the string and its NUL.
        check(unsafe {
            sys::napi_get_value_string_utf16(self.env, v, units.as_mut_ptr(), cap, &mut written)
        })?;
        units.truncate(written);
        Ok(Cow::Owned(units))
    }

    // ----- dates, functions, class instances --------------------------------------------------

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

    /// `f` of the object `v` when it is an instance of the `#[napi]` class `T`, else `None`:
    /// a test cheap enough for a hot path that takes either a class instance or a plain
    /// object (two Node-API calls, no error made, none of napi-rs's per-borrow bookkeeping,
    /// which `T` does not need: its instances are never borrowed mutably).
    pub(crate) fn instance_if<T, U>(
        self,
        v: sys::napi_value,
        f: impl FnOnce(&T) -> U,
    ) -> JsResult<Option<U>>
    where
        T: TypeTag + 'static,
    {
        let tag = T::type_tag();
        let mut tagged = false;
        // SAFETY: `v` is a live object handle (the caller checked its type); valid pointers.
        check(unsafe { sys::napi_check_object_type_tag(self.env, v, &tag, &mut tagged) })?;
        if !tagged {
            return Ok(None);
        }
        let mut wrapped = ptr::null_mut();
        // SAFETY: as above; `napi_unwrap` reads the object's wrap slot.
        check(unsafe { sys::napi_unwrap(self.env, v, &mut wrapped) })?;
        if wrapped.is_null() {
            return Ok(None);
        }
        // SAFETY: only napi-rs's class glue for `T` stamps `T`'s type tag (no script can), and
        // it does so on the object that wraps the `Box<T>` it made, which lives as long as the
        // object: `v` is alive for this call, and no script runs while `f` has the reference.
        let instance = unsafe { &*wrapped.cast::<T>() };
        Ok(Some(f(instance)))
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
