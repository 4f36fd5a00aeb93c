//! The Node-API boundary: the environment of the current call ([`Js`]), the values it inspects
//! and makes (strings, numbers, objects, arrays, `Buffer`s, `Date`s, `Error`s), references,
//! function calls and scripts.
//!
//! Every `unsafe` block of the crate is in this module (this file, and the submodules that extend
//! [`Js`] on top of it), except the thread-safe function that carries audit events to the
//! JavaScript thread (`audit.rs`). Each reads or creates a value through a Node-API call on the
//! JavaScript thread, with the `napi_env` of the current call, and checks the returned status
//! before trusting any out-parameter.

use core::ffi::c_char;
use core::fmt::Display;
use core::ptr;
use std::time::{SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::{ToNapiValue, TypeName};
use napi::sys;

use crate::error::Failure;

// Extensions of `Js`, each using only this file: reading arguments, reading byte arguments, the
// per-environment pool and the results and batch reads built on it, and JavaScript errors.
mod args;
mod byte_args;
mod error;
mod pool;

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

type JsResult<T> = Result<T, Failure>;

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

    /// Element `i` of an array this module made.
    pub(crate) fn element(self, array: sys::napi_value, i: u32) -> JsResult<sys::napi_value> {
        let mut out = ptr::null_mut();
        // SAFETY: `array` is an array handle; valid out-pointer.
        check(unsafe { sys::napi_get_element(self.env, array, i, &mut out) })?;
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
}

/// A count as a number (exact below 2^53; counts and line numbers stay far below).
pub(crate) fn exact_f64_u64(n: u64) -> f64 {
    let high = u32::try_from(n >> 32).unwrap_or(u32::MAX);
    let low = u32::try_from(n & 0xffff_ffff).unwrap_or(u32::MAX);
    f64::from(high) * 4_294_967_296.0 + f64::from(low)
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
