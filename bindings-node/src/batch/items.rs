//! Reading a batch's items: the fields of every item in one script call, each distinct value of
//! a field parsed once, byte fields copied together once every read that could run script is
//! done, and an item's own problem kept in its slot.

use core::ffi::CStr;

use keyplane::Keyring;
use napi::sys;
use zeroize::Zeroizing;

use crate::error::Failure;
use crate::js::Js;
use crate::ops::{Ctx, Field, ctx};

pub(super) type R<T> = Result<T, Failure>;

pub(super) type ItemResult<T> = Result<T, Failure>;

/// Keeps an item's own problem (a Keyplane refusal, a wrong type, a number out of range) in
/// its slot; a failed Node-API call (an exception thrown by the caller's getter) fails the
/// batch.
pub(super) fn in_slot<T>(r: R<T>) -> R<ItemResult<T>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(
            e @ (Failure::Core(_) | Failure::Type(_) | Failure::Range(_) | Failure::Invalid(_)),
        ) => Ok(Err(e)),
        Err(other) => Err(other),
    }
}

/// The contexts of a batch, each distinct one parsed once.
#[derive(Default)]
pub(super) struct Contexts {
    list: Vec<Ctx>,
}

impl Contexts {
    pub(super) fn parse(
        &mut self,
        js: Js,
        v: sys::napi_value,
        what: Field,
    ) -> R<ItemResult<usize>> {
        let parsed = match in_slot(js.context(v, what))? {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        self.list.push(parsed);
        Ok(Ok(self.list.len() - 1))
    }

    /// The parsed contexts, to move into the work.
    pub(super) fn done(self) -> Vec<Ctx> {
        self.list
    }
}

pub(super) fn context_at(list: &[Ctx], index: usize) -> &keyplane::EncryptionContext {
    list.get(index).map_or_else(|| ctx(&None), ctx)
}

/// A batch's items as one script call read them ([`Js::collect`]): for each item and field,
/// the index of its value among the distinct values, so that a value shared by consecutive
/// items (a key id, a context object, an algorithm name) crosses Node-API once.
pub(super) struct Table {
    js: Js,
    items: sys::napi_value,
    values: sys::napi_value,
    refs: Vec<i32>,
    fields: usize,
    /// The items that are not objects, in order (their fields were not read).
    not_objects: Vec<u32>,
}

impl Table {
    /// The fields `names` of every item of the array `items`, if `ring` allows that many.
    pub(super) fn read(
        js: Js,
        items: sys::napi_value,
        names: &'static [&'static CStr],
        ring: &Keyring,
    ) -> R<Self> {
        Self::collect(js, items, "items", names, ring)
    }

    /// The elements of the array `list` themselves (one field), if `ring` allows that many.
    pub(super) fn values(
        js: Js,
        list: sys::napi_value,
        what: &'static str,
        ring: &Keyring,
    ) -> R<Self> {
        Self::collect(js, list, what, &[], ring)
    }

    fn collect(
        js: Js,
        items: sys::napi_value,
        what: &'static str,
        names: &'static [&'static CStr],
        ring: &Keyring,
    ) -> R<Self> {
        // The keyring's `maxBatchItems` counts every item, whatever its values (the core sees
        // only the items whose values were accepted), and before anything is read or
        // allocated for them (a sparse `new Array(2 ** 32 - 1)` costs the caller nothing).
        let len = js.array_len(items, what)?;
        ring.check_batch_len(usize::try_from(len).unwrap_or(usize::MAX))?;
        let (refs, values, not_objects) = js.collect(items, names)?;
        Ok(Self {
            js,
            items,
            values,
            refs,
            fields: names.len().max(1),
            not_objects,
        })
    }

    /// The `TypeError` of item `i`, which is not an object.
    fn not_object(&self, i: usize) -> R<Failure> {
        let index =
            u32::try_from(i).map_err(|_| Failure::Napi(sys::Status::napi_generic_failure))?;
        // Read again to say what it is (a proxy may answer differently the second time).
        let item = self.js.element(self.items, index)?;
        match self.js.object(item, ItemName(i)) {
            Err(e @ Failure::Type(_)) => Ok(e),
            Err(other) => Err(other),
            Ok(()) => Ok(Failure::Type(format!("{} must be an object", ItemName(i)))),
        }
    }

    /// How many items.
    fn len(&self) -> usize {
        self.refs.len() / self.fields
    }

    /// Field `j` of item `i`: the index of its value, and the value.
    pub(super) fn get(&self, i: usize, j: usize) -> R<(i32, sys::napi_value)> {
        let r = i
            .checked_mul(self.fields)
            .and_then(|n| n.checked_add(j))
            .and_then(|n| self.refs.get(n))
            .copied()
            .ok_or(Failure::Napi(sys::Status::napi_generic_failure))?;
        let index =
            u32::try_from(r).map_err(|_| Failure::Napi(sys::Status::napi_generic_failure))?;
        Ok((r, self.js.element(self.values, index)?))
    }

    /// The index of the value of field `j` of item `i` (no Node-API call).
    pub(super) fn key(&self, i: usize, j: usize) -> i32 {
        i.checked_mul(self.fields)
            .and_then(|n| n.checked_add(j))
            .and_then(|n| self.refs.get(n))
            .copied()
            .unwrap_or(-1)
    }
}

/// One field of a batch, parsed once per distinct value (the values of a field come in order,
/// so remembering the last one suffices).
pub(super) struct Column<T> {
    last: Option<(i64, ItemResult<T>)>,
}

impl<T: Clone> Column<T> {
    pub(super) fn new() -> Self {
        Self { last: None }
    }

    /// The parsed value for `key` (the value's index, or a pair of them), parsing it with
    /// `parse` when it differs from the previous item's.
    pub(super) fn get(
        &mut self,
        key: i64,
        parse: impl FnOnce() -> R<ItemResult<T>>,
    ) -> R<ItemResult<T>> {
        if let Some((last, value)) = &self.last
            && *last == key
        {
            return Ok(value.clone());
        }
        let value = parse()?;
        self.last = Some((key, value.clone()));
        Ok(value)
    }

    /// Field `j` of item `i` of `table`, parsed with `parse`.
    pub(super) fn field(
        &mut self,
        table: &Table,
        i: usize,
        j: usize,
        parse: impl FnOnce(sys::napi_value) -> R<ItemResult<T>>,
    ) -> R<ItemResult<T>> {
        self.get(i64::from(table.key(i, j)), || parse(table.get(i, j)?.1))
    }
}

/// The key ids of a batch, each distinct one read once.
#[derive(Default)]
pub(super) struct KeyIds {
    pub(super) list: Vec<String>,
}

impl KeyIds {
    pub(super) fn parse(
        &mut self,
        js: Js,
        v: sys::napi_value,
        what: Field,
    ) -> R<ItemResult<usize>> {
        match in_slot(js.string(v, what))? {
            Ok(id) => self.list.push(id),
            Err(e) => return Ok(Err(e)),
        }
        Ok(Ok(self.list.len() - 1))
    }

    pub(super) fn at(list: &[String], index: usize) -> &str {
        list.get(index).map_or("", String::as_str)
    }
}

/// The byte fields of a batch (plaintexts, blobs, messages): type-checked as they are read,
/// copied into one buffer once every read that could run script code is done (a getter could
/// otherwise detach a buffer already looked at), and zeroized when the batch is done.
#[derive(Default)]
pub(super) struct ByteValues {
    handles: Vec<sys::napi_value>,
}

/// Where each distinct byte value lies in the batch's one copy of them.
pub(super) struct Packed {
    bytes: Zeroizing<Vec<u8>>,
    spans: Vec<(usize, usize)>,
}

impl Packed {
    pub(super) fn at(&self, index: usize) -> &[u8] {
        self.spans
            .get(index)
            .and_then(|&(start, len)| self.bytes.get(start..start.checked_add(len)?))
            .unwrap_or_default()
    }
}

impl ByteValues {
    pub(super) fn parse(
        &mut self,
        js: Js,
        v: sys::napi_value,
        what: impl core::fmt::Display + Copy,
    ) -> R<ItemResult<usize>> {
        if let Err(e) = in_slot(js.typed_array(v, what))? {
            return Ok(Err(e));
        }
        self.handles.push(v);
        Ok(Ok(self.handles.len() - 1))
    }

    /// The copy, made once every read that could run script is done.
    pub(super) fn pack(self, js: Js) -> R<Packed> {
        let (bytes, spans) = js.concat_bytes(&self.handles)?;
        Ok(Packed { bytes, spans })
    }
}

/// Combines two value indices (each at least -1 and below 2^31) into one column key.
pub(super) fn pair(a: i32, b: i32) -> i64 {
    i64::from(a) * (1 << 32) + i64::from(b)
}

/// The item itself (`items[3]`), for error messages.
#[derive(Debug, Clone, Copy)]
pub(super) struct ItemName(pub(super) usize);

impl core::fmt::Display for ItemName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "items[{}]", self.0)
    }
}

/// Runs `f` for every item that is an object, collecting each item's parsed fields or its own
/// refusal (a `TypeError` for an item that is not an object).
pub(super) fn each<T>(
    table: &Table,
    mut f: impl FnMut(usize) -> R<ItemResult<T>>,
) -> R<Vec<ItemResult<T>>> {
    let mut not_objects = table.not_objects.iter().peekable();
    (0..table.len())
        .map(|i| {
            if not_objects
                .peek()
                .is_some_and(|&&bad| usize::try_from(bad).is_ok_and(|bad| bad == i))
            {
                not_objects.next();
                return Ok(Err(table.not_object(i)?));
            }
            f(i)
        })
        .collect()
}
