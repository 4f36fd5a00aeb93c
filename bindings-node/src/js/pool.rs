//! What the addon keeps per JavaScript environment, and the calls built on it: a pool
//! `ArrayBuffer` that small non-secret results (blobs, MACs, signatures) are sliced from, as
//! Node's own `Buffer.allocUnsafe` does, and compiled helper scripts that build a batch's results
//! and read a batch's items in one script call each, instead of one Node-API call per item.

use core::ptr;

use napi::sys;
use zeroize::Zeroize;

use super::{Js, JsResult, check};
use crate::error::Failure;

impl Js {
    /// A `Buffer` holding a copy of non-secret `bytes`, from the pool when small.
    pub(crate) fn public_buffer(self, bytes: &[u8]) -> JsResult<sys::napi_value> {
        self.pooled_buffer_with(bytes.len(), |out| {
            out.copy_from_slice(bytes);
            Ok(bytes.len())
        })
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

    /// The function a fixed script of this crate evaluates to (`source`, a function
    /// expression held in a `static`, which is how it is found again), compiled once per
    /// environment and kept with the pool.
    pub(crate) fn helper(self, source: &'static core::ffi::CStr) -> JsResult<sys::napi_value> {
        with_pool(self, |p| {
            // By address: each helper is one `static`/`const` of this crate.
            if let Some(&(_, r)) = p.helpers.iter().find(|(s, _)| ptr::eq(*s, source)) {
                return self.dereference(r);
            }
            let helper = self.script(source)?;
            p.helpers.push((source, self.reference(helper)?));
            Ok(helper)
        })
    }

    fn usize_value(self, n: usize) -> JsResult<sys::napi_value> {
        let n = u32::try_from(n).map_err(|_| Failure::Napi(sys::Status::napi_generic_failure))?;
        let mut out = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check(unsafe { sys::napi_create_uint32(self.env, n, &mut out) })?;
        Ok(out)
    }
}

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
    /// Other modules' fixed helper scripts ([`Js::helper`]), compiled on first use, by source.
    helpers: Vec<(&'static core::ffi::CStr, sys::napi_ref)>,
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
            helpers: Vec::new(),
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
            .chain(self.helpers.iter().map(|&(_, r)| r))
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
