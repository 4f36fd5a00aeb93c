//! Reading `Buffer` and `Uint8Array` arguments: borrowed, copied, as an input and output pair,
//! or several copied back to back for a batch.
//!
//! Borrowed byte slices ([`Js::bytes`]) point into a typed array's backing store. They are only
//! used during a synchronous call, after every read that could run JavaScript (property getters,
//! proxies) is done, so no script can detach or resize the array while the slice is alive;
//! asynchronous tasks copy their inputs instead ([`Js::bytes_owned`]).

use core::fmt::Display;
use core::ptr;

use napi::sys;
use zeroize::Zeroizing;

use super::{Js, JsResult, check};
use crate::error::Failure;

impl Js {
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
}

/// The most bytes a batch's inputs may add up to: Node's largest `Buffer` (4 GiB).
const MAX_BATCH_INPUT: usize = 1 << 32;

/// Bytes copied back to back, and the `(start, length)` of each part.
pub(crate) type Concatenated = (Zeroizing<Vec<u8>>, Vec<(usize, usize)>);
