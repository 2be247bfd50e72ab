//! A field of a write body as the contract reads it: a wrong JSON type is a validation error
//! reported in its order among the others (OpenProject answers 422 with every violation), not a
//! parse error of the whole body. So a service parses write bodies into the `*Write` types,
//! whose fields are [`Lenient`], and its rules look at each field's state.

use serde::{de::DeserializeOwned, Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Lenient<T> {
    /// The key is not in the body.
    #[default]
    Absent,
    Value(T),
    /// The key holds a value of another JSON type.
    Invalid,
}

impl<T> Lenient<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Self::Absent)
    }

    pub fn value(&self) -> Option<&T> {
        match self {
            Self::Value(value) => Some(value),
            Self::Absent | Self::Invalid => None,
        }
    }
}

impl<T> From<T> for Lenient<T> {
    fn from(value: T) -> Self {
        Self::Value(value)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = serde_json::Value::deserialize(deserializer)?;
        Ok(serde_json::from_value(raw).map_or(Self::Invalid, Self::Value))
    }
}

/// Only values are written: a client never sends `Absent` (skipped) or `Invalid` (`null`).
impl<T: Serialize> Serialize for Lenient<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Value(value) => value.serialize(serializer),
            Self::Absent | Self::Invalid => serializer.serialize_none(),
        }
    }
}

/// `T` read from a JSON object only: serde would also read a struct from an array, by position,
/// and a body's nested object (`_links`, a link) given as an array is of the wrong type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Object<T>(pub T);

impl<'de, T: DeserializeOwned> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = serde_json::Value::deserialize(deserializer)?;
        if !raw.is_object() {
            return Err(serde::de::Error::custom("expected an object"));
        }
        T::deserialize(raw)
            .map(Object)
            .map_err(serde::de::Error::custom)
    }
}

impl<T: Serialize> Serialize for Object<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// A write body as its `*Write` type, whose fields are all [`Lenient`]: a body that is not an
/// object reads as one without keys.
pub fn read_write_body<T: DeserializeOwned + Default>(body: &serde_json::Value) -> T {
    if body.is_object() {
        T::deserialize(body).unwrap_or_default()
    } else {
        T::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, Deserialize, Serialize)]
    struct Body {
        #[serde(default, skip_serializing_if = "Lenient::is_absent")]
        name: Lenient<String>,
        #[serde(default, skip_serializing_if = "Lenient::is_absent")]
        note: Lenient<Option<String>>,
    }

    #[test]
    fn a_wrong_type_is_invalid_not_a_parse_error() {
        let body: Body = serde_json::from_str(r#"{"name": 3, "note": null}"#).unwrap();
        assert_eq!(body.name, Lenient::Invalid);
        assert_eq!(body.note, Lenient::Value(None));
        let body: Body = serde_json::from_str(r#"{"name": "x"}"#).unwrap();
        assert_eq!(body.name.value().map(String::as_str), Some("x"));
        assert!(body.note.is_absent());
        assert_eq!(serde_json::to_string(&body).unwrap(), r#"{"name":"x"}"#);
        let positional: Body = read_write_body(&serde_json::json!(["x", "y"]));
        assert!(positional.name.is_absent());
    }
}
