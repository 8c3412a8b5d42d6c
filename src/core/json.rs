//! Picking a few fields out of a JSON document, tolerantly.
//!
//! Both JSON documents the widget reads (the health report and a token's
//! claims) need a handful of fields at a known place, and must shrug off
//! everything else: extra fields, fields of the wrong type, odd nesting.
//! Parsing them into `serde_json::Value` does that, but builds a whole tree
//! (maps, vectors, strings) only to look at four leaves, and its code is a
//! good share of the widget's WebAssembly. Typed `#[derive(Deserialize)]`
//! structs are small but strict: one field of the wrong type throws the
//! whole document away.
//!
//! So this module walks the document once with a single serde visitor: it
//! follows a short [`Step`] path (a key of an object, or the first element
//! of an array), keeps the wanted fields of the object at its end as
//! [`Scalar`]s, and skips everything else with `IgnoredAny`. Only syntax
//! errors are errors; a shape that does not match is reported by how far
//! along the path the document went ([`Picked::reached`]), so each caller
//! decides what that means. Like `Value`, when a key repeats, the last one
//! wins.

use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One step from a container to the next one along the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The value of this key of an object.
    Key(&'static str),
    /// The first element of an array.
    First,
}

/// A leaf value, as far as the readers in this crate care.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Scalar {
    /// The key is not there.
    #[default]
    Absent,
    /// `null`.
    Null,
    /// A JSON number (always finite: serde_json refuses to read `1e400`).
    Number(f64),
    /// A JSON string.
    Text(String),
    /// A boolean, an array or an object.
    Other,
}

impl Scalar {
    /// The number, if this is one.
    pub fn number(&self) -> Option<f64> {
        match self {
            Scalar::Number(value) => Some(*value),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn text(self) -> Option<String> {
        match self {
            Scalar::Text(text) => Some(text),
            _ => None,
        }
    }
}

/// What [`pick`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct Picked {
    /// How many containers of the expected kind were found along the path,
    /// the root included: `path.len() + 1` when the object at its end was
    /// there, 0 when even the root was of another kind.
    pub reached: usize,
    /// The wanted fields, in the order asked for; all [`Scalar::Absent`]
    /// unless the whole path was reached.
    pub fields: Vec<Scalar>,
}

/// The document was not JSON (or not only JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotJson;

/// Follows `path` from the root of `text` and picks `fields` from the
/// object at its end.
pub fn pick(text: &str, path: &[Step], fields: &[&str]) -> Result<Picked, NotJson> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let walk = Walk::Path { path, fields };
    let found = walk.deserialize(&mut deserializer).map_err(|_| NotJson)?;
    deserializer.end().map_err(|_| NotJson)?;
    let mut picked = match found {
        Found::Picked(picked) => picked,
        Found::Scalar(_) => Picked {
            reached: 0,
            fields: Vec::new(),
        },
    };
    picked.fields.resize(fields.len(), Scalar::Absent);
    Ok(picked)
}

/// What the visitor is looking at: a container on the path, or a field.
#[derive(Clone, Copy)]
enum Walk<'p> {
    Path {
        path: &'p [Step],
        fields: &'p [&'p str],
    },
    Field,
}

enum Found {
    Picked(Picked),
    Scalar(Scalar),
}

impl Walk<'_> {
    /// What a value that is not the container expected here amounts to.
    fn mismatch(self, scalar: Scalar) -> Found {
        match self {
            Walk::Path { .. } => Found::Picked(Picked {
                reached: 0,
                fields: Vec::new(),
            }),
            Walk::Field => Found::Scalar(scalar),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = Found;

    fn deserialize<D>(self, deserializer: D) -> Result<Found, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = Found;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Found, E> {
        Ok(self.mismatch(Scalar::Other))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Found, E> {
        Ok(self.mismatch(Scalar::Number(value as f64)))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Found, E> {
        Ok(self.mismatch(Scalar::Number(value as f64)))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Found, E> {
        Ok(self.mismatch(Scalar::Number(value)))
    }

    fn visit_str<E>(self, value: &str) -> Result<Found, E> {
        Ok(match self {
            Walk::Field => Found::Scalar(Scalar::Text(value.to_owned())),
            path => path.mismatch(Scalar::Other),
        })
    }

    fn visit_unit<E>(self) -> Result<Found, E> {
        Ok(self.mismatch(Scalar::Null))
    }

    fn visit_seq<A>(self, mut seq: A) -> Result<Found, A::Error>
    where
        A: SeqAccess<'de>,
    {
        let mut found = self.mismatch(Scalar::Other);
        if let Walk::Path {
            path: [Step::First, rest @ ..],
            fields,
        } = self
        {
            let first = seq.next_element_seed(Walk::Path { path: rest, fields })?;
            found = Found::Picked(descend(first));
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(found)
    }

    fn visit_map<A>(self, mut map: A) -> Result<Found, A::Error>
    where
        A: MapAccess<'de>,
    {
        let Walk::Path { path, fields } = self else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Found::Scalar(Scalar::Other));
        };
        let mut next = None;
        let mut picked = vec![Scalar::Absent; fields.len()];
        while let Some(key) = map.next_key::<String>()? {
            match path.first() {
                Some(Step::Key(wanted)) if key == *wanted => {
                    let rest = &path[1..];
                    next = Some(map.next_value_seed(Walk::Path { path: rest, fields })?);
                }
                None => match fields.iter().position(|f| *f == key) {
                    Some(index) => {
                        if let Found::Scalar(scalar) = map.next_value_seed(Walk::Field)? {
                            picked[index] = scalar;
                        }
                    }
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                },
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Found::Picked(match path.first() {
            None => Picked {
                reached: 1,
                fields: picked,
            },
            Some(Step::Key(_)) => descend(next),
            Some(Step::First) => Picked {
                reached: 0,
                fields: Vec::new(),
            },
        }))
    }
}

/// One container further along the path than what the child found.
fn descend(child: Option<Found>) -> Picked {
    match child {
        Some(Found::Picked(mut picked)) => {
            picked.reached += 1;
            picked
        }
        _ => Picked {
            reached: 1,
            fields: Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: [Step; 2] = [Step::Key("data"), Step::First];

    fn picked(text: &str) -> Result<(usize, Vec<Scalar>), NotJson> {
        pick(text, &PATH, &["a", "b"]).map(|p| (p.reached, p.fields))
    }

    #[test]
    fn follows_the_path_and_picks_fields() {
        let found = picked(r#"{"x":[1,{"y":2}],"data":[{"b":"two","a":1.5,"c":{}},{"a":9}]}"#);
        assert_eq!(
            found,
            Ok((3, vec![Scalar::Number(1.5), Scalar::Text("two".into())]))
        );
    }

    #[test]
    fn reports_how_far_the_shape_matched() {
        let cases = [
            ("[1]", 0),
            ("null", 0),
            (r#""data""#, 0),
            ("{}", 1),
            (r#"{"data":{}}"#, 1),
            (r#"{"data":null}"#, 1),
            (r#"{"data":[]}"#, 2),
            (r#"{"data":[[]]}"#, 2),
            (r#"{"data":[{}]}"#, 3),
            (r#"{"data":[5]}"#, 2),
        ];
        for (text, reached) in cases {
            assert_eq!(picked(text).map(|p| p.0), Ok(reached), "{text}");
        }
    }

    #[test]
    fn field_values_of_any_type_are_classified() {
        let found = pick(
            r#"{"n":null,"t":true,"i":-3,"u":18446744073709551615,"f":1e300,"s":"<x>","o":{"a":[1]},"l":[{}]}"#,
            &[],
            &["n", "t", "i", "u", "f", "s", "o", "l", "missing"],
        );
        let expected = vec![
            Scalar::Null,
            Scalar::Other,
            Scalar::Number(-3.0),
            Scalar::Number(18_446_744_073_709_551_615.0),
            Scalar::Number(1e300),
            Scalar::Text("<x>".into()),
            Scalar::Other,
            Scalar::Other,
            Scalar::Absent,
        ];
        assert_eq!(found.map(|p| p.fields), Ok(expected));
    }

    #[test]
    fn the_last_of_repeated_keys_wins() {
        assert_eq!(
            picked(r#"{"data":[{"a":1,"a":"x"}]}"#).map(|p| p.1[0].clone()),
            Ok(Scalar::Text("x".into()))
        );
        assert_eq!(
            picked(r#"{"data":[{"a":1}],"data":{}}"#).map(|p| p.0),
            Ok(1)
        );
    }

    #[test]
    fn skipped_values_are_only_checked_for_syntax() {
        // A number too large for f64 is an error where it is read, and
        // skipped like any other value where it is not.
        assert_eq!(picked(r#"{"x":1e400,"data":[]}"#).map(|p| p.0), Ok(2));
    }

    #[test]
    fn only_syntax_errors_are_errors() {
        for text in [
            "",
            "{",
            r#"{"data":[}"#,
            "{} {}",
            "nul",
            r#"{"data":[{"a":1e400}]}"#,
            "<html>",
        ] {
            assert_eq!(picked(text), Err(NotJson), "{text}");
        }
    }
}
