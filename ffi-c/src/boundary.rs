//! The boundary every entry point goes through: status codes, the thread-local last-error
//! message, `catch_unwind`, and the checked conversion of C pointers into Rust references.

use core::cell::RefCell;
use core::ffi::c_char;
use core::fmt::{self, Write as _};
use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};

use keyplane_core::{EncryptionContext, Error};

/// The status every fallible function returns. `KP_OK` is 0; 1 to 99 and 100 are Keyplane's
/// error numbers (the same codes as the Rust, Python and Node surfaces); 200 and up are errors
/// of the C boundary itself. Numbers are never reused.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum kp_status {
    /// Success.
    KP_OK = 0,
    /// No key or alias with that id exists (`KP_NOT_FOUND`).
    KP_ERR_NOT_FOUND = 1,
    /// The key id or alias is taken (`KP_ALREADY_EXISTS`).
    KP_ERR_ALREADY_EXISTS = 2,
    /// A malformed or out-of-range argument; the last-error message says which
    /// (`KP_INVALID_INPUT`).
    KP_ERR_INVALID_INPUT = 3,
    /// The key's spec or usage does not allow the operation (`KP_INVALID_KEY_USAGE`).
    KP_ERR_INVALID_KEY_USAGE = 4,
    /// The key is disabled (`KP_KEY_DISABLED`).
    KP_ERR_KEY_DISABLED = 5,
    /// The key is pending deletion or pending import (`KP_INVALID_KEY_STATE`).
    KP_ERR_INVALID_KEY_STATE = 6,
    /// The ciphertext is not authentic here with this context; one error for every cause
    /// (`KP_INVALID_CIPHERTEXT`).
    KP_ERR_INVALID_CIPHERTEXT = 7,
    /// The output buffer is too small; `*out_len` holds the size needed
    /// (`KP_BUFFER_TOO_SMALL`).
    KP_ERR_BUFFER_TOO_SMALL = 8,
    /// The spec or algorithm is not supported for this operation (`KP_UNSUPPORTED_ALGORITHM`).
    KP_ERR_UNSUPPORTED_ALGORITHM = 9,
    /// A size or count limit was reached (`KP_LIMIT_EXCEEDED`).
    KP_ERR_LIMIT_EXCEEDED = 10,
    /// An authentic blob of a version below the key's minimum decryption version
    /// (`KP_VERSION_RETIRED`).
    KP_ERR_VERSION_RETIRED = 11,
    /// A key store or audit log could not be read or written, is in use by another process,
    /// or (audit) the keyring's writer thread is in the parent of this forked process
    /// (`KP_STORAGE`).
    KP_ERR_STORAGE = 12,
    /// The cryptographic library failed unexpectedly; never caused by input (`KP_INTERNAL`).
    KP_ERR_INTERNAL = 100,
    /// A required pointer argument was NULL, or a buffer was NULL with a non-zero length
    /// (`KP_NULL_ARGUMENT`).
    KP_ERR_NULL_ARGUMENT = 200,
    /// A key id, alias, description or context string was not valid UTF-8 (`KP_INVALID_UTF8`).
    KP_ERR_INVALID_UTF8 = 201,
    /// Keyplane panicked (a bug); the call had no effect that can be relied on (`KP_PANIC`).
    KP_ERR_PANIC = 202,
}

impl kp_status {
    /// Every status, for the name table and the tests.
    pub const ALL: [Self; 17] = [
        Self::KP_OK,
        Self::KP_ERR_NOT_FOUND,
        Self::KP_ERR_ALREADY_EXISTS,
        Self::KP_ERR_INVALID_INPUT,
        Self::KP_ERR_INVALID_KEY_USAGE,
        Self::KP_ERR_KEY_DISABLED,
        Self::KP_ERR_INVALID_KEY_STATE,
        Self::KP_ERR_INVALID_CIPHERTEXT,
        Self::KP_ERR_BUFFER_TOO_SMALL,
        Self::KP_ERR_UNSUPPORTED_ALGORITHM,
        Self::KP_ERR_LIMIT_EXCEEDED,
        Self::KP_ERR_VERSION_RETIRED,
        Self::KP_ERR_STORAGE,
        Self::KP_ERR_INTERNAL,
        Self::KP_ERR_NULL_ARGUMENT,
        Self::KP_ERR_INVALID_UTF8,
        Self::KP_ERR_PANIC,
    ];

    /// The status of a core error: the same number. An error the core adds later and this
    /// table does not know yet is `KP_ERR_INTERNAL` (its message still says what it was).
    pub(crate) fn of(error: &Error) -> Self {
        Self::ALL
            .into_iter()
            .find(|s| *s as u32 == error.number() && *s != Self::KP_OK)
            .unwrap_or(Self::KP_ERR_INTERNAL)
    }

    /// The stable code string, NUL-terminated (the same strings as `Error::code()`).
    const fn code(self) -> &'static str {
        match self {
            Self::KP_OK => "KP_OK\0",
            Self::KP_ERR_NOT_FOUND => "KP_NOT_FOUND\0",
            Self::KP_ERR_ALREADY_EXISTS => "KP_ALREADY_EXISTS\0",
            Self::KP_ERR_INVALID_INPUT => "KP_INVALID_INPUT\0",
            Self::KP_ERR_INVALID_KEY_USAGE => "KP_INVALID_KEY_USAGE\0",
            Self::KP_ERR_KEY_DISABLED => "KP_KEY_DISABLED\0",
            Self::KP_ERR_INVALID_KEY_STATE => "KP_INVALID_KEY_STATE\0",
            Self::KP_ERR_INVALID_CIPHERTEXT => "KP_INVALID_CIPHERTEXT\0",
            Self::KP_ERR_BUFFER_TOO_SMALL => "KP_BUFFER_TOO_SMALL\0",
            Self::KP_ERR_UNSUPPORTED_ALGORITHM => "KP_UNSUPPORTED_ALGORITHM\0",
            Self::KP_ERR_LIMIT_EXCEEDED => "KP_LIMIT_EXCEEDED\0",
            Self::KP_ERR_VERSION_RETIRED => "KP_VERSION_RETIRED\0",
            Self::KP_ERR_STORAGE => "KP_STORAGE\0",
            Self::KP_ERR_INTERNAL => "KP_INTERNAL\0",
            Self::KP_ERR_NULL_ARGUMENT => "KP_NULL_ARGUMENT\0",
            Self::KP_ERR_INVALID_UTF8 => "KP_INVALID_UTF8\0",
            Self::KP_ERR_PANIC => "KP_PANIC\0",
        }
    }
}

/// The stable code of a status as a static NUL-terminated string (`"KP_OK"`,
/// `"KP_INVALID_CIPHERTEXT"`, …; the same strings the Rust, Python and Node surfaces use), or
/// `"KP_UNKNOWN_STATUS"` for a number that is not a status. Never NULL. Takes any integer so
/// that a value from anywhere can be passed.
#[unsafe(no_mangle)]
pub extern "C" fn kp_status_str(status: u32) -> *const c_char {
    let code = kp_status::ALL
        .into_iter()
        .find(|s| *s as u32 == status)
        .map_or("KP_UNKNOWN_STATUS\0", kp_status::code);
    code.as_ptr().cast()
}

/// The message of the last failure on the calling thread, NUL-terminated: for example
/// `"invalid input: random length must be 1 to 1024 bytes"` or `"NULL argument: out_len"`.
/// The empty string if no call on this thread has failed yet. Calls that succeed leave it as
/// it was. The pointer stays valid until the thread's next failing call (or its exit); copy
/// the text to keep it longer. Never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn kp_last_error_message() -> *const c_char {
    LAST_ERROR.with(|m| m.as_ptr().cast::<c_char>().cast_const())
}

/// The library's version, NUL-terminated (for example `"0.1.0"`). Never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn kp_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

const MESSAGE_CAP: usize = 256;

thread_local! {
    /// NUL-terminated; written only when a call fails.
    static LAST_ERROR: RefCell<[u8; MESSAGE_CAP]> = const { RefCell::new([0; MESSAGE_CAP]) };
}

/// Formats into a fixed buffer, truncating (at a character boundary) and NUL-terminating.
struct MessageWriter<'a> {
    buf: &'a mut [u8; MESSAGE_CAP],
    len: usize,
}

impl fmt::Write for MessageWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for ch in s.chars() {
            let mut utf8 = [0; 4];
            let bytes = ch.encode_utf8(&mut utf8).as_bytes();
            let end = self.len + bytes.len();
            // Keep one byte for the NUL.
            if end >= MESSAGE_CAP {
                break;
            }
            self.buf[self.len..end].copy_from_slice(bytes);
            self.len = end;
        }
        Ok(())
    }
}

fn set_last_error(message: fmt::Arguments<'_>) {
    LAST_ERROR.with(|cell| {
        if let Ok(mut buf) = cell.try_borrow_mut() {
            let mut w = MessageWriter {
                buf: &mut buf,
                len: 0,
            };
            let _ = w.write_fmt(message);
            let len = w.len;
            buf[len] = 0;
        }
    });
}

/// Why a call failed, before it becomes a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// An error of the core library.
    Core(Error),
    /// A NULL pointer where one is required (the parameter's name).
    Null(&'static str),
    /// Text that is not UTF-8 (the parameter's name).
    Utf8(&'static str),
    /// A status whose message [`report`] has already set.
    Reported(kp_status),
}

/// A failure with `status` and a message of its own (for details a core error does not carry).
pub(crate) fn report(status: kp_status, message: fmt::Arguments<'_>) -> Failure {
    set_last_error(message);
    Failure::Reported(status)
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self::Core(e)
    }
}

impl Failure {
    /// The status of this failure.
    pub fn status(&self) -> kp_status {
        match self {
            Self::Core(e) => kp_status::of(e),
            Self::Null(_) => kp_status::KP_ERR_NULL_ARGUMENT,
            Self::Utf8(_) => kp_status::KP_ERR_INVALID_UTF8,
            Self::Reported(status) => *status,
        }
    }

    /// Records the message for `kp_last_error_message` and returns the status.
    pub(crate) fn record(self) -> kp_status {
        if !matches!(self, Self::Reported(_)) {
            set_last_error(format_args!("{self}"));
        }
        self.status()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Core(e) => write!(f, "{e}"),
            Self::Null(name) => write!(f, "NULL argument: {name}"),
            Self::Utf8(name) => write!(f, "{name} is not valid UTF-8"),
            Self::Reported(status) => write!(f, "{}", status.code().trim_end_matches('\0')),
        }
    }
}

/// The result of a boundary body.
pub type FfiResult<T = ()> = Result<T, Failure>;

/// Runs a function body: `Ok` becomes `KP_OK`, a failure its status (with the thread's
/// last-error message set), and a panic `KP_ERR_PANIC`. Nothing unwinds into C.
#[inline(always)]
pub(crate) fn run(body: impl FnOnce() -> FfiResult) -> kp_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => kp_status::KP_OK,
        Ok(Err(failure)) => failure.record(),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("unknown");
            set_last_error(format_args!("panic inside keyplane (a bug): {what}"));
            kp_status::KP_ERR_PANIC
        }
    }
}

/// Runs the body of a function that returns a value rather than a status (accessors, `free`):
/// a panic returns `fallback`.
#[inline(always)]
pub(crate) fn run_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// The one boundary of every status-returning entry point: `ffi! { body }` where `body`
/// evaluates to `FfiResult<()>` and may use `?` on core errors and argument checks.
macro_rules! ffi {
    ($($body:tt)*) => {
        $crate::boundary::run(move || -> $crate::boundary::FfiResult { $($body)* })
    };
}

/// The boundary of entry points that return a value: `ffi_value!(fallback, { body })`.
macro_rules! ffi_value {
    ($fallback:expr, $($body:tt)*) => {
        $crate::boundary::run_value($fallback, move || { $($body)* })
    };
}

// ----- handles --------------------------------------------------------------------------------

/// An opaque C handle type and the Rust value behind it.
pub(crate) trait Handle {
    /// What a handle of this type points at (a `Box<Inner>`).
    type Inner;
    /// The parameter name used in error messages.
    const NAME: &'static str;
}

/// Boxes `value` and returns it as a handle the caller owns.
pub(crate) fn into_handle<H: Handle>(value: H::Inner) -> *mut H {
    Box::into_raw(Box::new(value)).cast::<H>()
}

/// Stores a new handle in `*out`.
pub(crate) fn give<H: Handle>(out: &mut *mut H, value: H::Inner) {
    *out = into_handle::<H>(value);
}

/// The value behind a handle.
///
/// # Safety
/// `ptr` is NULL or a live handle of type `H` made by this library, not used mutably
/// elsewhere for `'a`.
pub(crate) unsafe fn handle<'a, H: Handle>(ptr: *const H) -> FfiResult<&'a H::Inner> {
    // SAFETY: the caller guarantees that a non-NULL `ptr` came from `into_handle::<H>` (a
    // `Box<H::Inner>`) and is live for `'a`.
    unsafe { ptr.cast::<H::Inner>().as_ref() }.ok_or(Failure::Null(H::NAME))
}

/// Reads one field of a handle for an accessor that returns a value: `fallback` for NULL (or a
/// panic), otherwise `f` of the value behind it.
///
/// # Safety
/// As [`handle`].
pub(crate) unsafe fn handle_field<H: Handle, T: Copy>(
    ptr: *const H,
    fallback: T,
    f: impl FnOnce(&H::Inner) -> T,
) -> T {
    run_value(fallback, move || {
        // SAFETY: as `handle`: a non-NULL `ptr` came from `into_handle::<H>` and is live.
        unsafe { ptr.cast::<H::Inner>().as_ref() }.map_or(fallback, f)
    })
}

/// Frees the handle in `*slot` and sets `*slot` to NULL; NULL `slot` or `*slot` is a no-op.
///
/// # Safety
/// `slot` is NULL or points to a handle pointer that is NULL or a live handle of type `H`.
pub(crate) unsafe fn free_handle<H: Handle>(slot: *mut *mut H) {
    // SAFETY: the caller guarantees that a non-NULL `slot` is a valid, writable pointer.
    let Some(slot) = (unsafe { slot.as_mut() }) else {
        return;
    };
    let ptr = core::mem::replace(slot, core::ptr::null_mut());
    if !ptr.is_null() {
        // SAFETY: a non-NULL handle came from `into_handle::<H>`, i.e. `Box::into_raw` of a
        // `Box<H::Inner>`, and is freed only here, once: the slot no longer holds it.
        drop(unsafe { Box::from_raw(ptr.cast::<H::Inner>()) });
    }
}

// ----- arguments --------------------------------------------------------------------------------

/// `(ptr, len)` as a byte slice; `(NULL, 0)` (or any pointer with length 0) is empty.
///
/// # Safety
/// A non-NULL `ptr` points to `len` readable bytes that stay valid and unchanged for `'a`.
pub(crate) unsafe fn bytes<'a>(
    ptr: *const u8,
    len: usize,
    name: &'static str,
) -> FfiResult<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Failure::Null(name));
    }
    if isize::try_from(len).is_err() {
        return Err(Error::InvalidInput("length larger than any buffer").into());
    }
    // SAFETY: `ptr` is non-NULL, `len` fits in `isize`, and the caller guarantees `len`
    // readable bytes valid for `'a`.
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// `(ptr, len)` as UTF-8 text.
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn text<'a>(
    ptr: *const c_char,
    len: usize,
    name: &'static str,
) -> FfiResult<&'a str> {
    // SAFETY: forwarded from the caller.
    let raw = unsafe { bytes(ptr.cast::<u8>(), len, name) }?;
    // Key ids are short ASCII: check that inline before the general validation.
    if raw.is_ascii() {
        // SAFETY: ASCII bytes are valid UTF-8.
        return Ok(unsafe { core::str::from_utf8_unchecked(raw) });
    }
    core::str::from_utf8(raw).map_err(|_| Failure::Utf8(name))
}

/// An array of `count` `T`s; `(NULL, 0)` is empty.
///
/// # Safety
/// A non-NULL `ptr` points to `count` initialized `T`s valid for `'a`.
pub(crate) unsafe fn array<'a, T>(
    ptr: *const T,
    count: usize,
    name: &'static str,
) -> FfiResult<&'a [T]> {
    if count == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Failure::Null(name));
    }
    if !ptr.is_aligned() {
        return Err(Error::InvalidInput("misaligned array").into());
    }
    let size = count
        .checked_mul(core::mem::size_of::<T>())
        .filter(|n| isize::try_from(*n).is_ok());
    if size.is_none() {
        return Err(Error::InvalidInput("array larger than any buffer").into());
    }
    // SAFETY: `ptr` is non-NULL, the array's size fits in `isize`, and the caller guarantees
    // `count` initialized elements valid for `'a`.
    Ok(unsafe { core::slice::from_raw_parts(ptr, count) })
}

/// The caller's output buffer `(out, cap)`; `(NULL, 0)` is an empty buffer (a size query).
///
/// # Safety
/// A non-NULL `ptr` points to `cap` writable bytes, valid for `'a` and not read or written by
/// anything else meanwhile (in particular not overlapping any input).
pub(crate) unsafe fn out_bytes<'a>(
    ptr: *mut u8,
    cap: usize,
    name: &'static str,
) -> FfiResult<&'a mut [u8]> {
    if cap == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(Failure::Null(name));
    }
    if isize::try_from(cap).is_err() {
        return Err(Error::InvalidInput("capacity larger than any buffer").into());
    }
    // SAFETY: `ptr` is non-NULL, `cap` fits in `isize`, and the caller guarantees `cap`
    // writable bytes, exclusively ours for `'a`.
    Ok(unsafe { core::slice::from_raw_parts_mut(ptr, cap) })
}

/// A required out-parameter.
///
/// # Safety
/// A non-NULL `ptr` is valid for writes of a `T` (it need not be initialized) for `'a`.
pub(crate) unsafe fn out_ref<'a, T>(ptr: *mut T, name: &'static str) -> FfiResult<&'a mut T> {
    if ptr.is_null() {
        return Err(Failure::Null(name));
    }
    if !ptr.is_aligned() {
        return Err(Error::InvalidInput("misaligned out-parameter").into());
    }
    // SAFETY: `ptr` is non-NULL and aligned; the caller guarantees it is valid for writes.
    // Every out-parameter type is a plain C scalar, pointer or struct of them, for which any
    // bit pattern the caller left there is never read before it is written here.
    unsafe {
        ptr.write_bytes(0, 1);
        Ok(&mut *ptr)
    }
}

/// An optional out-parameter (NULL: not wanted), checked like [`out_ref`] when given. Functions
/// that change state take it before acting, so that a bad one fails the call with no effect.
///
/// # Safety
/// As [`out_ref`].
pub(crate) unsafe fn out_opt<'a, T>(
    ptr: *mut T,
    name: &'static str,
) -> FfiResult<Option<&'a mut T>> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded from the caller.
    unsafe { out_ref(ptr, name) }.map(Some)
}

/// An optional input struct (NULL: not given).
///
/// # Safety
/// A non-NULL `ptr` points to an initialized `T` valid for `'a`.
pub(crate) unsafe fn in_opt<'a, T>(ptr: *const T) -> FfiResult<Option<&'a T>> {
    if !ptr.is_aligned() {
        return Err(Error::InvalidInput("misaligned input struct").into());
    }
    // SAFETY: aligned, and the caller guarantees that a non-NULL `ptr` points to an
    // initialized `T`.
    Ok(unsafe { ptr.as_ref() })
}

/// A required input struct.
///
/// # Safety
/// A non-NULL `ptr` points to an initialized `T` valid for `'a`.
pub(crate) unsafe fn in_ref<'a, T>(ptr: *const T, name: &'static str) -> FfiResult<&'a T> {
    if !ptr.is_aligned() {
        return Err(Error::InvalidInput("misaligned input struct").into());
    }
    // SAFETY: aligned, and the caller guarantees that a non-NULL `ptr` points to an
    // initialized `T`.
    unsafe { ptr.as_ref() }.ok_or(Failure::Null(name))
}

/// Fails when the input `(ptr, len)` and the output `(out, cap)` overlap: Rust may not read a
/// buffer it is writing.
pub(crate) fn disjoint(input: *const u8, len: usize, out: *mut u8, cap: usize) -> FfiResult {
    if len == 0 || cap == 0 || input.is_null() || out.is_null() {
        return Ok(());
    }
    let (a, b) = (input.addr(), out.addr());
    let overlap = a < b.saturating_add(cap) && b < a.saturating_add(len);
    if overlap {
        return Err(Error::InvalidInput("the output buffer overlaps an input").into());
    }
    Ok(())
}

/// One pair of an encryption context: UTF-8 `key` (non-empty) and `value`, as `(ptr, len)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kp_context_entry {
    /// The key's UTF-8 bytes (not NUL-terminated; a NUL byte is a character like any other).
    pub key: *const c_char,
    /// The key's length in bytes (at least 1).
    pub key_len: usize,
    /// The value's UTF-8 bytes.
    pub value: *const c_char,
    /// The value's length in bytes (may be 0).
    pub value_len: usize,
}

/// The most pairs a context can have: each key takes at least one of its 8192 bytes.
const MAX_CONTEXT_PAIRS: usize = keyplane_core::context::MAX_CONTEXT_BYTES;

/// Fails when an encryption context (its entry array, a key or a value) overlaps the output
/// `(out, cap)`: the context is read while the output is written.
///
/// # Safety
/// `entries` is NULL or points to `count` entries (read only once the array itself is known
/// to be apart from the output).
pub(crate) unsafe fn context_disjoint(
    entries: *const kp_context_entry,
    count: usize,
    out: *mut u8,
    cap: usize,
) -> FfiResult {
    // Too many entries is refused by `context` before any entry is read.
    if count == 0 || count > MAX_CONTEXT_PAIRS || cap == 0 || out.is_null() || entries.is_null() {
        return Ok(());
    }
    let size = count.saturating_mul(size_of::<kp_context_entry>());
    disjoint(entries.cast(), size, out, cap)?;
    // SAFETY: forwarded from the caller; the array is apart from the output.
    let entries = unsafe { array(entries, count, "context") }?;
    for e in entries {
        disjoint(e.key.cast(), e.key_len, out, cap)?;
        disjoint(e.value.cast(), e.value_len, out, cap)?;
    }
    Ok(())
}

/// Fails when an input the call reads while it writes `(out, cap)` overlaps it: texts (key
/// ids, the data) as `(ptr, len)`, and encryption contexts as `(entries, count)`.
///
/// # Safety
/// Every context is NULL or points to its `count` entries.
pub(crate) unsafe fn apart(
    out: *mut u8,
    cap: usize,
    inputs: &[(*const u8, usize)],
    contexts: &[(*const kp_context_entry, usize)],
) -> FfiResult {
    for &(ptr, len) in inputs {
        disjoint(ptr, len, out, cap)?;
    }
    for &(entries, count) in contexts {
        // SAFETY: forwarded from the caller.
        unsafe { context_disjoint(entries, count, out, cap) }?;
    }
    Ok(())
}

/// An encryption context from `count` entries; `(NULL, 0)` is the empty context.
///
/// # Safety
/// `entries` is NULL or points to `count` entries whose pointers satisfy [`bytes`].
pub(crate) unsafe fn context(
    entries: *const kp_context_entry,
    count: usize,
) -> FfiResult<Cow<'static, EncryptionContext>> {
    if count == 0 {
        return Ok(Cow::Borrowed(EncryptionContext::empty()));
    }
    if count > MAX_CONTEXT_PAIRS {
        return Err(Error::LimitExceeded("encryption context exceeds 8192 bytes").into());
    }
    // SAFETY: forwarded from the caller.
    let entries = unsafe { array(entries, count, "context") }?;
    let mut pairs = Vec::with_capacity(entries.len());
    for e in entries {
        // SAFETY: forwarded from the caller: each entry's pointers satisfy `bytes`.
        let key = unsafe { text(e.key, e.key_len, "context key") }?;
        // SAFETY: as above.
        let value = unsafe { text(e.value, e.value_len, "context value") }?;
        pairs.push((key, value));
    }
    Ok(Cow::Owned(EncryptionContext::new(pairs)?))
}

/// Applies the output convention to `(out, cap, out_len)` around the WHOLE body of a function
/// with a byte output. The buffer and `out_len` are checked first; then `f` checks every other
/// argument, does the work, writes into the buffer and returns the length written, stored in
/// `*out_len`. Whatever fails inside `f` (a NULL handle, invalid UTF-8, an unknown enumeration
/// value, the operation itself, even a panic), the whole buffer is zeroed and `*out_len` is the
/// size needed (`KP_ERR_BUFFER_TOO_SMALL`) or 0. Validating inside `f` is what makes the
/// promise hold for every failure: a check placed before this call could fail and leave the
/// caller's stale bytes in `out`.
///
/// `out` NULL with a non-zero `cap` (or a `cap` no buffer can have) cannot be zeroed; `*out_len`
/// is still set to 0 when it is valid.
///
/// # Safety
/// As [`out_bytes`] for `(out, cap)` and [`out_ref`] for `out_len`.
pub(crate) unsafe fn output(
    out: *mut u8,
    cap: usize,
    out_len: *mut usize,
    f: impl FnOnce(&mut [u8]) -> FfiResult<usize>,
) -> FfiResult {
    // `*out_len` must not lie inside the buffer: both are written, and Rust may not hold two
    // mutable references to the same bytes.
    let len_slot = disjoint(out_len.cast_const().cast(), size_of::<usize>(), out, cap)
        // SAFETY: forwarded from the caller; checked not to overlap `(out, cap)`.
        .and_then(|()| unsafe { out_ref(out_len, "out_len") });
    // SAFETY: forwarded from the caller.
    let buf = unsafe { out_bytes(out, cap, "out") }?;
    let out_len = match len_slot {
        Ok(slot) => slot,
        Err(failure) => {
            buf.fill(0);
            return Err(failure);
        }
    };
    // A panic inside `f` must not leave half an output behind either; it is re-raised for the
    // boundary's `catch_unwind` to turn into `KP_ERR_PANIC`.
    match catch_unwind(AssertUnwindSafe(|| f(&mut *buf))) {
        Ok(Ok(n)) => {
            *out_len = n;
            Ok(())
        }
        Ok(Err(failure)) => {
            buf.fill(0);
            if let Failure::Core(Error::BufferTooSmall { needed }) = failure {
                *out_len = needed;
            }
            Err(failure)
        }
        Err(payload) => {
            buf.fill(0);
            std::panic::resume_unwind(payload)
        }
    }
}

/// Copies `src` into `buf`, or fails with the size needed.
pub(crate) fn copy_out(src: &[u8], buf: &mut [u8]) -> FfiResult<usize> {
    let dst = buf
        .get_mut(..src.len())
        .ok_or(Failure::Core(Error::BufferTooSmall { needed: src.len() }))?;
    dst.copy_from_slice(src);
    Ok(src.len())
}

/// Fails with the size needed when a length helper (which performs nothing and is not audited)
/// says `buf` is too small. A helper that fails says nothing: the operation then runs and fails
/// by itself, so that an audited keyring records the failure. Size queries answered here leave
/// no failed operation in the audit trail.
pub(crate) fn too_small(buf: &[u8], needed: keyplane_core::Result<usize>) -> FfiResult {
    match needed {
        Ok(needed) if buf.len() < needed => Err(Error::BufferTooSmall { needed }.into()),
        _ => Ok(()),
    }
}

// ----- views returned to C ------------------------------------------------------------------------

/// UTF-8 text borrowed from a handle: `data` is NUL-terminated (never NULL; `""` when empty)
/// and `len` excludes the NUL. Valid until the handle is freed.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kp_str {
    /// The text, NUL-terminated.
    pub data: *const c_char,
    /// Its length in bytes, without the NUL.
    pub len: usize,
}

impl kp_str {
    pub(crate) const EMPTY: Self = Self {
        data: c"".as_ptr(),
        len: 0,
    };
}

/// Bytes borrowed from a handle, valid until the handle is freed; `(NULL, 0)` when empty.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kp_bytes {
    /// The bytes, or NULL when `len` is 0.
    pub data: *const u8,
    /// The number of bytes.
    pub len: usize,
}

impl kp_bytes {
    pub(crate) const EMPTY: Self = Self {
        data: core::ptr::null(),
        len: 0,
    };

    pub(crate) fn of(b: &[u8]) -> Self {
        if b.is_empty() {
            Self::EMPTY
        } else {
            Self {
                data: b.as_ptr(),
                len: b.len(),
            }
        }
    }
}

/// Text kept NUL-terminated for C, handed out as [`kp_str`].
#[derive(Debug, Clone, Default)]
pub(crate) struct CText(String);

impl CText {
    pub(crate) fn new(s: &str) -> Self {
        let mut owned = String::with_capacity(s.len() + 1);
        owned.push_str(s);
        owned.push('\0');
        Self(owned)
    }

    pub(crate) fn view(&self) -> kp_str {
        match self.0.len().checked_sub(1) {
            Some(len) => kp_str {
                data: self.0.as_ptr().cast(),
                len,
            },
            None => kp_str::EMPTY,
        }
    }
}

/// Seconds since the Unix epoch (negative before it), saturating.
pub(crate) fn unix_seconds(t: std::time::SystemTime) -> i64 {
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// Nanoseconds since the Unix epoch; 0 before it, saturating.
pub(crate) fn unix_nanos(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests;
