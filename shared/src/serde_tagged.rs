//! Reading internally tagged enums (`{"op": "set_mtu", "link": ..., "mtu": 1400}`) without
//! serde's buffering.
//!
//! What `#[serde(tag = "...")]` derives reads every object into serde's generic `Content`
//! tree first, then reads the variant again from that tree: each field type is compiled a
//! second time, for the tree, and that was the largest part of the editor's wasm. Here the
//! tag is read and then the variant's fields straight from the text, with the field
//! readers the rest of the document uses. Everything nslab writes puts the tag first; an
//! object written by hand with the tag later is kept as raw JSON text, reordered and read
//! again, so it still reads exactly as the derive read it.
//!
//! The derive's rules are kept: a missing tag is "missing field `op`", an unknown one is
//! "unknown variant `x`, expected one of ...", a second tag is "duplicate field `op`", and
//! an enum may also be read from an array whose first element is the tag. Errors inside a
//! variant are located more closely than the derive's: at the field, not at the end of the
//! object, and `serde_path_to_error` paths reach into the variant.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{DeserializeOwned, DeserializeSeed, Error, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// An enum written as one object whose `TAG` field names the variant.
pub trait Tagged: Sized + DeserializeOwned {
    /// The enum's name, for "expected internally tagged enum NAME".
    const NAME: &'static str;
    /// The field that names the variant.
    const TAG: &'static str;
    /// The variants' names: a field-less enum with `#[serde(variant_identifier)]`, whose
    /// reader refuses unknown names as the derive did.
    type Kind: DeserializeOwned;

    /// Reads the variant `kind` from the object's other fields.
    fn read_variant<'de, D: Deserializer<'de>>(kind: Self::Kind, fields: D) -> Result<Self, D::Error>;
}

/// The `Deserialize::deserialize` of a `Tagged` enum.
pub fn deserialize<'de, T: Tagged, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_any(TaggedVisitor(PhantomData))
}

struct TaggedVisitor<T>(PhantomData<T>);

impl<'de, T: Tagged> Visitor<'de> for TaggedVisitor<T> {
    type Value = T;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        write!(formatter, "internally tagged enum {}", T::NAME)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        let kind = seq.next_element()?.ok_or_else(|| A::Error::missing_field(T::TAG))?;
        T::read_variant(kind, SeqAccessDeserializer::new(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        match map.next_key::<String>()? {
            Some(key) if key == T::TAG => {
                let kind = map.next_value()?;
                T::read_variant(kind, MapAccessDeserializer::new(WithoutTag { map, tag: T::TAG }))
            }
            Some(key) => read_tag_later(key, map),
            None => Err(A::Error::missing_field(T::TAG)),
        }
    }
}

/// The object's fields after its tag; a second tag is refused as the derive refuses it.
struct WithoutTag<A> {
    map: A,
    tag: &'static str,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for WithoutTag<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        match self.map.next_key::<String>()? {
            Some(key) if key == self.tag => Err(A::Error::duplicate_field(self.tag)),
            Some(key) => seed.deserialize(IntoDeserializer::<A::Error>::into_deserializer(key)).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// An object whose tag is not its first field (written by hand): its fields are kept as
/// raw JSON text, then the object is written again with the tag first and read from that.
/// An error there is reported as the derive reports it, at the end of the object.
fn read_tag_later<'de, T: Tagged, A: MapAccess<'de>>(first_key: String, mut map: A) -> Result<T, A::Error> {
    let mut kind: Option<Box<RawValue>> = None;
    let mut fields = Vec::new();
    let mut key = Some(first_key);
    while let Some(name) = key {
        if name != T::TAG {
            fields.push((name, map.next_value::<Box<RawValue>>()?));
        } else if kind.is_some() {
            return Err(A::Error::duplicate_field(T::TAG));
        } else {
            kind = Some(map.next_value_seed(KindText::<T::Kind>(PhantomData))?);
        }
        key = map.next_key()?;
    }
    let kind = kind.ok_or_else(|| A::Error::missing_field(T::TAG))?;
    serde_json::from_str(&tag_first::<T>(&kind, &fields)).map_err(relocated)
}

/// The JSON text of an object with the tag first, then `fields` in their order.
fn tag_first<T: Tagged>(kind: &RawValue, fields: &[(String, Box<RawValue>)]) -> String {
    let mut text = format!("{{{}:{}", json_string(T::TAG), kind.get());
    for (name, value) in fields {
        text.push(',');
        text.push_str(&json_string(name));
        text.push(':');
        text.push_str(value.get());
    }
    text.push('}');
    text
}

fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// The text of a tag, refused (where it stands) if it names no variant, as the derive
/// refuses it as soon as it sees it.
struct KindText<K>(PhantomData<K>);

impl<'de, K: DeserializeOwned> DeserializeSeed<'de> for KindText<K> {
    type Value = Box<RawValue>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Box<RawValue>, D::Error> {
        let text = Box::<RawValue>::deserialize(deserializer)?;
        serde_json::from_str::<K>(text.get()).map_err(relocated)?;
        Ok(text)
    }
}

/// An error from reading the rewritten text, without its place in that text (the reader of
/// the document puts the document's place on it).
fn relocated<E: Error>(error: serde_json::Error) -> E {
    let text = error.to_string();
    let place = format!(" at line {} column {}", error.line(), error.column());
    E::custom(text.strip_suffix(&place).unwrap_or(&text))
}
