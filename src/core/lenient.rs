//! Typed reading of JSON documents that must survive odd fields.
//!
//! Every document the widget reads (the health report, a token's claims, a
//! host page's message, a message from another tab) is read with
//! [`from_str`] into a plain `#[derive(Deserialize)]` struct whose fields
//! are [`Lenient`]: a missing or `null` field is `Absent`, one of the wrong
//! kind or otherwise unreadable is `Unreadable`, and either way the rest of
//! the document is still read. A nested object that is not an object, or an
//! array that is not an array, is unreadable the same way. Only a document
//! that is not JSON at all is an error. Each reader then decides what those
//! mean (a missing metric shows as "—", a missing `exp` means no expiry
//! while an unreadable one refuses the token, ...).
//!
//! Why not the obvious alternatives:
//! - **Strict structs** throw the whole document away for one field of the
//!   wrong type: a `"stream_drift_session_avg":"384"` would blank the
//!   widget instead of showing "—" for that one metric.
//! - **`serde_json::Value`** builds a tree of every map, vector and string
//!   in the body only to look at four leaves.
//!
//! How it reads:
//! - **One pass, nothing buffered.** serde_json parses the document once.
//!   Every value it meets is handed, already classified as a scalar, an
//!   object or an array (`Value`), to whoever wants it; a [`Lenient`]
//!   field looks at the kind its type asks for and takes the value, or
//!   marks the field unreadable. What nobody asks for (unknown keys, the
//!   rest of an array) is skipped with `IgnoredAny`, which builds nothing
//!   and uses no recursion, so a deeply nested value in an ignored field
//!   cannot exhaust the stack.
//! - **Repeated keys.** A derived struct refuses a key it has already seen,
//!   which would make any repeat fatal. An object is handed to a struct
//!   with only the struct's own fields, each once: the **first**
//!   occurrence of a key is read and later ones are skipped. (`JSON.parse`
//!   keeps the last; knowing the last would mean buffering, and none of
//!   the producers repeat keys.)
//! - **Syntax errors stay errors.** A truncated body, trailing garbage, a
//!   number too large for an `f64` (`1e400`), or nesting deeper than
//!   serde_json's limit (128) along the values that are read: the whole
//!   document is [`NotJson`].
//!
//! Why the plumbing below is shaped so (the WebAssembly's size):
//! - serde_json's value parser is generic over the visitor it calls, so a
//!   visitor per struct would be a copy of the parser per struct. Here one
//!   visitor (`Dispatch`) serves every value of every document, and objects
//!   and arrays reach the structs through two small trait objects
//!   (`Entries`, `Elements`); the code per struct is what `derive` writes.
//!   (Measured on the widget: 0.6 KB gzip less than a gate visitor per
//!   struct, for the six structs read.)
//! - No error message is ever built. serde's "invalid type" errors print
//!   the unexpected value, floats included, and serde_json parses a
//!   position out of every message; either would link Rust's float
//!   formatting or its panicking string search into the bundle (5 to
//!   11 KB gzip). A type's visitor is only handed kinds it accepts, and
//!   the errors here are plain markers (`Broken`, `Fault`).
//! - Scalars are `f64`, `String` and `bool`: numbers are read as `f64`
//!   (an integer type would reach serde's range errors).
//!
//! The fields of a struct read this way are `Lenient<T>` (whose
//! `Absent` and `Unreadable` let a reader tell "not given" from "given but
//! unusable") or `Lenient<First<T>>` (the first element of an array); a
//! missing key is an absent field, with no `#[serde(default)]` needed.
//! [`Lenient`] and [`First`] rely on [`from_str`] delivering each value
//! already classified: handed to another deserializer, they are not
//! lenient.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::U64Deserializer;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// A field read leniently: absent, unreadable, or a value. A field of the
/// wrong kind never fails the document around it. `T` is `f64`, `String`,
/// `bool`, a derived struct or [`First`].
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Lenient<T> {
    /// The key is missing, or its value is `null`.
    #[default]
    Absent,
    /// There, but not of the kind `T` wants (a string where a number was
    /// wanted, an array where an object was) or otherwise unreadable.
    Unreadable,
    /// The value.
    Value(T),
}

impl<T> Lenient<T> {
    /// The value, if the field had a readable one.
    pub fn value(self) -> Option<T> {
        match self {
            Lenient::Value(value) => Some(value),
            Lenient::Absent | Lenient::Unreadable => None,
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Through `Option`, so that a missing key (which derived structs
        // read as `None`) and `null` are absent without `#[serde(default)]`.
        deserializer.deserialize_option(LenientVisitor(PhantomData))
    }
}

struct LenientVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for LenientVisitor<T> {
    type Value = Lenient<T>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a value")
    }

    fn visit_none<E>(self) -> Result<Lenient<T>, E> {
        Ok(Lenient::Absent)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Lenient<T>, D::Error> {
        match T::deserialize(Gate(deserializer)) {
            Ok(value) => Ok(Lenient::Value(value)),
            Err(Fault::Refused) => Ok(Lenient::Unreadable),
            Err(Fault::Input(error)) => Err(error),
        }
    }
}

/// The first element of an array, read leniently; the rest are skipped.
/// `First(None)` for an empty array or an unreadable first element.
#[derive(Clone, Debug, PartialEq)]
pub struct First<T>(pub Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for First<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(FirstVisitor(PhantomData))
    }
}

struct FirstVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for FirstVisitor<T> {
    type Value = First<T>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an array")
    }

    /// Reads the first element; the caller skips the rest.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<First<T>, A::Error> {
        let first = seq.next_element::<Lenient<T>>()?;
        Ok(First(first.and_then(Lenient::value)))
    }
}

/// The document is not JSON (or not only JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotJson;

/// Reads a whole document as a `T`, leniently. `Ok(None)` when it is JSON
/// but not of the kind `T` wants (an array where `T` is a struct).
pub fn from_str<T: for<'de> Deserialize<'de>>(text: &str) -> Result<Option<T>, NotJson> {
    let mut json = serde_json::Deserializer::from_str(text);
    let mut root = Root(None);
    match json.deserialize_any(Dispatch(&mut root)) {
        Ok(Ok(())) => {}
        Ok(Err(Broken)) | Err(_) => return Err(NotJson),
    }
    json.end().map_err(|_| NotJson)?;
    Ok(root.0.flatten())
}

/// Takes a whole document: `Some(None)` when it is not of the kind `T`
/// wants.
struct Root<T>(Option<Option<T>>);

impl<'de, T: Deserialize<'de>> Reader<'de> for Root<T> {
    fn read(&mut self, value: Value<'_, 'de>) -> Result<(), Broken> {
        self.0 = Some(match T::deserialize(Gate(value)) {
            Ok(value) => Some(value),
            Err(Fault::Refused) => None,
            Err(Fault::Input(broken)) => return Err(broken),
        });
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Errors

/// A value could not be read: serde_json found the input broken (its own
/// error is passed up separately), or a struct gave up on an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Broken;

impl fmt::Display for Broken {
    fn fmt(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("the document could not be read")
    }
}

impl std::error::Error for Broken {}

impl serde::de::Error for Broken {
    fn custom<T: fmt::Display>(_message: T) -> Self {
        Broken
    }
}

/// Why a lenient value was not read: the input's own error, or a value
/// that is not of the kind the type wants (the field is then absent).
#[derive(Debug)]
enum Fault<E> {
    /// The input's own error.
    Input(E),
    /// Not of the kind the type wants.
    Refused,
}

impl<E: fmt::Display> fmt::Display for Fault<E> {
    fn fmt(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Fault::Input(error) => error.fmt(formatter),
            Fault::Refused => formatter.write_str("not the expected kind of value"),
        }
    }
}

impl<E: std::error::Error> std::error::Error for Fault<E> {}

impl<E: serde::de::Error> serde::de::Error for Fault<E> {
    fn custom<T: fmt::Display>(_message: T) -> Self {
        Fault::Refused
    }
}

// ---------------------------------------------------------------------------
// The serde_json side: one visitor for every value

/// Whoever wants the next value: the root of a document, or a seed
/// waiting for the value of a field or an element.
trait Reader<'de> {
    fn read(&mut self, value: Value<'_, 'de>) -> Result<(), Broken>;
}

/// A seed waiting for its value.
struct Slot<'de, S: DeserializeSeed<'de>> {
    seed: Option<S>,
    read: Option<S::Value>,
}

impl<'de, S: DeserializeSeed<'de>> Reader<'de> for Slot<'de, S> {
    fn read(&mut self, value: Value<'_, 'de>) -> Result<(), Broken> {
        if let Some(seed) = self.seed.take() {
            self.read = Some(seed.deserialize(value)?);
        }
        Ok(())
    }
}

impl<'de, S: DeserializeSeed<'de>> Slot<'de, S> {
    fn new(seed: S) -> Self {
        Slot {
            seed: Some(seed),
            read: None,
        }
    }
}

/// A JSON value as serde_json delivered it: a scalar, or an object or an
/// array still being read.
enum Value<'v, 'de> {
    Scalar(Scalar),
    Object(&'v mut dyn Entries<'de>),
    Array(&'v mut dyn Elements<'de>),
}

/// A scalar. Numbers are always finite: serde_json refuses `1e400`.
enum Scalar {
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
}

/// An object being read.
trait Entries<'de> {
    /// The next key that is one of `fields` and not yet in `seen` (bit `i`
    /// for `fields[i]`), as its position; other keys are skipped with their
    /// values. `None` at the end of the object.
    fn next_field(
        &mut self,
        fields: &'static [&'static str],
        seen: &mut u64,
    ) -> Result<Option<u32>, Broken>;

    /// Hands the value of the key just returned to `read`.
    fn value(&mut self, read: &mut dyn Reader<'de>) -> Result<(), Broken>;
}

/// An array being read.
trait Elements<'de> {
    /// Hands the next element to `read`; `false` at the end of the array.
    fn next(&mut self, read: &mut dyn Reader<'de>) -> Result<bool, Broken>;
}

/// The one visitor serde_json calls, for every value of every document:
/// it hands the value to its reader and then skips whatever the reader
/// left unread. Its result is the reader's.
struct Dispatch<'a, 'de>(&'a mut dyn Reader<'de>);

impl<'de> Visitor<'de> for Dispatch<'_, 'de> {
    type Value = Result<(), Broken>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(self.0.read(Value::Scalar(Scalar::Null)))
    }

    fn visit_bool<E>(self, value: bool) -> Result<Self::Value, E> {
        Ok(self.0.read(Value::Scalar(Scalar::Bool(value))))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
        Ok(self.0.read(Value::Scalar(Scalar::Number(value as f64))))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
        Ok(self.0.read(Value::Scalar(Scalar::Number(value as f64))))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E> {
        Ok(self.0.read(Value::Scalar(Scalar::Number(value))))
    }

    fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
        Ok(self.0.read(Value::Scalar(Scalar::Text(value.to_owned()))))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let mut object = JsonObject {
            map,
            value_pending: false,
            error: None,
        };
        let read = self.0.read(Value::Object(&mut object));
        if let Some(error) = object.error {
            return Err(error);
        }
        if object.value_pending {
            object.map.next_value::<IgnoredAny>()?;
        }
        while object.map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(read)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let mut array = JsonArray { seq, error: None };
        let read = self.0.read(Value::Array(&mut array));
        if let Some(error) = array.error {
            return Err(error);
        }
        while array.seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(read)
    }
}

/// [`Dispatch`] as a seed, for the values inside objects and arrays.
struct DispatchSeed<'a, 'de>(&'a mut dyn Reader<'de>);

impl<'de> DeserializeSeed<'de> for DispatchSeed<'_, 'de> {
    type Value = Result<(), Broken>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(Dispatch(self.0))
    }
}

/// serde_json's object, read through [`Entries`]. Its first error is kept
/// for [`Dispatch`] to pass up.
struct JsonObject<A, E> {
    map: A,
    /// A key was handed out and its value not yet read.
    value_pending: bool,
    error: Option<E>,
}

impl<'de, A: MapAccess<'de>> Entries<'de> for JsonObject<A, A::Error> {
    fn next_field(
        &mut self,
        fields: &'static [&'static str],
        seen: &mut u64,
    ) -> Result<Option<u32>, Broken> {
        loop {
            let position = match self.map.next_key_seed(FieldPosition(fields)) {
                Ok(Some(position)) => position,
                Ok(None) => return Ok(None),
                Err(error) => return Err(keep(&mut self.error, error)),
            };
            // Fields past the 64th are never handed out; none of the
            // structs read here comes close.
            if let Some(index) = position.filter(|index| *index < 64) {
                if *seen & 1 << index == 0 {
                    *seen |= 1 << index;
                    self.value_pending = true;
                    return Ok(Some(index));
                }
            }
            if let Err(error) = self.map.next_value::<IgnoredAny>() {
                return Err(keep(&mut self.error, error));
            }
        }
    }

    fn value(&mut self, read: &mut dyn Reader<'de>) -> Result<(), Broken> {
        self.value_pending = false;
        match self.map.next_value_seed(DispatchSeed(read)) {
            Ok(read) => read,
            Err(error) => Err(keep(&mut self.error, error)),
        }
    }
}

/// serde_json's array, read through [`Elements`].
struct JsonArray<A, E> {
    seq: A,
    error: Option<E>,
}

impl<'de, A: SeqAccess<'de>> Elements<'de> for JsonArray<A, A::Error> {
    fn next(&mut self, read: &mut dyn Reader<'de>) -> Result<bool, Broken> {
        match self.seq.next_element_seed(DispatchSeed(read)) {
            Ok(Some(read)) => read.map(|()| true),
            Ok(None) => Ok(false),
            Err(error) => Err(keep(&mut self.error, error)),
        }
    }
}

/// Keeps serde_json's error to pass up, and says the value is broken.
fn keep<E>(kept: &mut Option<E>, error: E) -> Broken {
    kept.get_or_insert(error);
    Broken
}

/// Reads an object key as its position among a struct's fields, without
/// allocating it.
#[derive(Clone, Copy)]
struct FieldPosition(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for FieldPosition {
    type Value = Option<u32>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<u32>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for FieldPosition {
    type Value = Option<u32>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Option<u32>, E> {
        let index = self.0.iter().position(|field| *field == key);
        Ok(index.and_then(|index| u32::try_from(index).ok()))
    }
}

// ---------------------------------------------------------------------------
// The typed side: a delivered value as a deserializer

impl<'de> Deserializer<'de> for Value<'_, 'de> {
    type Error = Broken;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Broken> {
        match self {
            Value::Scalar(Scalar::Null) => visitor.visit_unit(),
            Value::Scalar(Scalar::Bool(value)) => visitor.visit_bool(value),
            Value::Scalar(Scalar::Number(value)) => visitor.visit_f64(value),
            Value::Scalar(Scalar::Text(value)) => visitor.visit_string(value),
            // Only structs see an object's entries (see `deserialize_struct`).
            Value::Object(entries) => visitor.visit_map(Keys {
                entries,
                fields: &[],
                seen: 0,
            }),
            Value::Array(elements) => visitor.visit_seq(Items(elements)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Broken> {
        match self {
            Value::Object(entries) => visitor.visit_map(Keys {
                entries,
                fields,
                seen: 0,
            }),
            // Not an object: said with one call rather than the value, so
            // that no struct brings its own copy of the dispatch above.
            _ => visitor.visit_unit(),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Broken> {
        match self {
            Value::Array(elements) => visitor.visit_seq(Items(elements)),
            _ => visitor.visit_unit(),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Broken> {
        match self {
            Value::Scalar(Scalar::Null) => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    /// Whatever is left unread of the value is skipped by [`Dispatch`].
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Broken> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct tuple tuple_struct map
        enum identifier
    }
}

/// An object's entries as a struct sees them: only its own fields, each
/// once, by position.
struct Keys<'v, 'de> {
    entries: &'v mut dyn Entries<'de>,
    fields: &'static [&'static str],
    seen: u64,
}

impl<'de> MapAccess<'de> for Keys<'_, 'de> {
    type Error = Broken;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Broken> {
        match self.entries.next_field(self.fields, &mut self.seen)? {
            // Derived structs also take a field by its position.
            Some(index) => seed
                .deserialize(U64Deserializer::new(u64::from(index)))
                .map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Broken> {
        let mut slot = Slot::new(seed);
        self.entries.value(&mut slot)?;
        slot.read.ok_or(Broken)
    }
}

/// An array's elements.
struct Items<'v, 'de>(&'v mut dyn Elements<'de>);

impl<'de> SeqAccess<'de> for Items<'_, 'de> {
    type Error = Broken;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Broken> {
        let mut slot = Slot::new(seed);
        let more = self.0.next(&mut slot)?;
        Ok(if more { slot.read } else { None })
    }
}

// ---------------------------------------------------------------------------
// Leniency: what a `Lenient<T>` hands its `T`

/// The deserializer a [`Lenient`] hands to its `T`: by the `deserialize_*`
/// hint `T` calls, it knows what `T` wants, and passes the value on only
/// when it is of that kind; otherwise the field is refused.
struct Gate<D>(D);

impl<'de, D: Deserializer<'de>> Gate<D> {
    fn scalar(self) -> Result<Option<Scalar>, Fault<D::Error>> {
        self.0.deserialize_any(ScalarVisitor).map_err(Fault::Input)
    }
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Gate<D> {
    type Error = Fault<D::Error>;

    /// Types that take any input see it unfiltered.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_any(visitor).map_err(Fault::Input)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.scalar()? {
            Some(Scalar::Bool(value)) => visitor.visit_bool(value),
            _ => Err(Fault::Refused),
        }
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.scalar()? {
            Some(Scalar::Number(value)) => visitor.visit_f64(value),
            _ => Err(Fault::Refused),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.scalar()? {
            Some(Scalar::Text(value)) => visitor.visit_string(value),
            _ => Err(Fault::Refused),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let mut out = None;
        let object = StructGate {
            visitor,
            out: &mut out,
        };
        self.0
            .deserialize_struct(name, fields, object)
            .map_err(Fault::Input)?;
        out.ok_or(Fault::Refused)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let mut out = None;
        let array = SeqGate {
            visitor,
            out: &mut out,
        };
        self.0.deserialize_seq(array).map_err(Fault::Input)?;
        out.ok_or(Fault::Refused)
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 char bytes byte_buf option
        unit unit_struct newtype_struct tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// Reads a scalar; `None` for an object or an array (left to be skipped).
struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Option<Scalar>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a value")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Some(Scalar::Null))
    }

    fn visit_bool<E>(self, value: bool) -> Result<Self::Value, E> {
        Ok(Some(Scalar::Bool(value)))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E> {
        Ok(Some(Scalar::Number(value)))
    }

    fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Some(Scalar::Text(value.to_owned())))
    }

    fn visit_string<E>(self, value: String) -> Result<Self::Value, E> {
        Ok(Some(Scalar::Text(value)))
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Ok(None)
    }
}

/// The scalars a container gate refuses: it leaves its output empty.
macro_rules! refuse_scalars {
    () => {
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }

        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }

        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }

        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
    };
}

/// Hands an object to a struct's visitor; leaves `out` empty for any
/// other kind of value.
struct StructGate<'o, V, T> {
    visitor: V,
    out: &'o mut Option<T>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for StructGate<'_, V, V::Value> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an object")
    }

    refuse_scalars!();

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        *self.out = Some(self.visitor.visit_map(map)?);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Ok(())
    }
}

/// Hands an array to a sequence's visitor; leaves `out` empty for any
/// other kind of value.
struct SeqGate<'o, V, T> {
    visitor: V,
    out: &'o mut Option<T>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for SeqGate<'_, V, V::Value> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an array")
    }

    refuse_scalars!();

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        *self.out = Some(self.visitor.visit_seq(seq)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use Lenient::{Absent, Unreadable, Value};

    #[derive(Debug, Deserialize, PartialEq)]
    struct Leaves {
        number: Lenient<f64>,
        text: Lenient<String>,
        flag: Lenient<bool>,
    }

    fn leaves(text: &str) -> Result<Option<Leaves>, NotJson> {
        from_str(text)
    }

    fn read(text: &str) -> Leaves {
        match leaves(text) {
            Ok(Some(read)) => read,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn each_field_takes_only_its_own_kind() {
        let good = read(r#"{"number":-12.5,"text":"a\"b\u00e9","flag":true}"#);
        assert_eq!(good.number, Value(-12.5));
        assert_eq!(good.text, Value("a\"bé".into()));
        assert_eq!(good.flag, Value(true));
        let odd = read(r#"{"number":"12","text":12,"flag":"true"}"#);
        assert_eq!(odd.number, Unreadable, "numbers as strings are not numbers");
        assert_eq!(odd.text, Unreadable);
        assert_eq!(odd.flag, Unreadable);
        for containers in [
            r#"{"number":{},"text":[],"flag":{"a":[1]}}"#,
            r#"{"number":[{}]}"#,
        ] {
            assert_eq!(read(containers).number, Unreadable, "{containers}");
        }
        assert_eq!(good.number.value(), Some(-12.5));
        assert_eq!(odd.number.value(), None);
    }

    #[test]
    fn missing_and_null_are_absent() {
        let empty = read("{}");
        assert_eq!(
            (empty.number, empty.text, empty.flag),
            (Absent, Absent, Absent)
        );
        let nulls = read(r#"{"number":null,"text":null,"flag":null}"#);
        assert_eq!(
            (nulls.number, nulls.text, nulls.flag),
            (Absent, Absent, Absent)
        );
    }

    #[test]
    fn integers_of_any_size_read_as_f64() {
        assert_eq!(read(r#"{"number":-3}"#).number, Value(-3.0));
        assert_eq!(
            read(r#"{"number":18446744073709551615}"#).number,
            Value(18_446_744_073_709_551_615.0)
        );
        assert_eq!(read(r#"{"number":1e300}"#).number, Value(1e300));
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Outer {
        inner: Lenient<Inner>,
        list: Lenient<First<Inner>>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        value: Lenient<f64>,
    }

    fn inner(value: f64) -> Inner {
        Inner {
            value: Value(value),
        }
    }

    fn outer(text: &str) -> Outer {
        match from_str::<Outer>(text) {
            Ok(Some(outer)) => outer,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn nested_objects_and_arrays_of_another_kind_are_unreadable() {
        let both = outer(r#"{"list":[{"value":2},{"value":3}],"inner":{"value":1}}"#);
        assert_eq!(both.inner, Value(inner(1.0)));
        assert_eq!(both.list, Value(First(Some(inner(2.0)))));
        for text in [
            r#"{"inner":[{"value":1}],"list":{"value":2}}"#,
            r#"{"inner":"x","list":7}"#,
        ] {
            let odd = outer(text);
            assert_eq!((odd.inner, odd.list), (Unreadable, Unreadable), "{text}");
        }
        let nulls = outer(r#"{"inner":null,"list":null}"#);
        assert_eq!((nulls.inner, nulls.list), (Absent, Absent));
        assert_eq!(outer(r#"{"list":[]}"#).list, Value(First(None)));
        assert_eq!(
            outer(r#"{"list":[5,{"value":2}]}"#).list,
            Value(First(None))
        );
    }

    #[test]
    fn a_root_of_another_kind_is_no_document() {
        for text in ["[1]", "null", "\"{}\"", "5", "[[[[{}]]]]"] {
            assert_eq!(leaves(text), Ok(None), "{text}");
        }
    }

    #[test]
    fn the_first_of_repeated_keys_is_read_and_the_rest_skipped() {
        let repeated =
            read(r#"{"number":1,"number":"x","number":{"a":[2]},"text":"a","text":"b"}"#);
        assert_eq!(repeated.number, Value(1.0));
        assert_eq!(repeated.text, Value("a".into()));
        // A first occurrence of the wrong kind still wins.
        assert_eq!(read(r#"{"number":"x","number":2}"#).number, Unreadable);
        let nested = outer(r#"{"inner":{"value":1,"value":2},"inner":{"value":3}}"#);
        assert_eq!(nested.inner, Value(inner(1.0)));
    }

    #[test]
    fn skipped_values_are_only_checked_for_syntax() {
        // A number too large for f64 is an error where it is read, and
        // skipped like any other value where it is not.
        let skipped = read(r#"{"other":1e400,"number":1,"more":[{"x":1e999}]}"#);
        assert_eq!(skipped.number, Value(1.0));
        assert_eq!(leaves(r#"{"number":1e400}"#), Err(NotJson));
        assert_eq!(leaves(r#"{"other":[1e400,}"#), Err(NotJson));
    }

    #[test]
    fn deep_nesting_where_nothing_is_read_is_skipped_without_recursion() {
        // Far deeper than any stack would take if it were read recursively.
        let depth = 200_000;
        let deep = format!(
            r#"{{"other":{}{},"number":4}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        assert_eq!(read(&deep).number, Value(4.0));
        let root = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(leaves(&root), Ok(None));
        assert_eq!(leaves(&"[".repeat(depth)), Err(NotJson));
    }

    #[derive(Debug, Deserialize)]
    struct Chain {
        #[allow(dead_code)]
        next: Lenient<Box<Chain>>,
    }

    #[test]
    fn nesting_along_what_is_read_stops_at_the_parsers_limit() {
        let chain = |depth: usize| {
            let open = r#"{"next":"#.repeat(depth - 1);
            let text = format!("{open}{{}}{}", "}".repeat(depth - 1));
            from_str::<Chain>(&text).map(|chain| chain.is_some())
        };
        assert_eq!(chain(100), Ok(true));
        // serde_json's recursion limit (128): an error, not a crash.
        assert_eq!(chain(1_000), Err(NotJson));
    }

    #[test]
    fn only_broken_syntax_is_an_error() {
        for text in [
            "",
            "{",
            r#"{"number":}"#,
            "{} {}",
            "{}x",
            "nul",
            "NaN",
            r#"{"number":NaN}"#,
            r#"{"number":Infinity}"#,
            "<html>",
            r#"{"text":"unterminated}"#,
        ] {
            assert_eq!(leaves(text), Err(NotJson), "{text}");
        }
    }
}
