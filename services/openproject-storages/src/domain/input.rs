//! Reading JSON write bodies leniently: an absent key is `None`, a key of the wrong type is
//! `Some(Field::Invalid)` so the rule for that attribute reports it instead of a parse error.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Field<T> {
    Value(T),
    Invalid,
}

impl<T> Field<T> {
    pub fn value(&self) -> Option<&T> {
        match self {
            Self::Value(v) => Some(v),
            Self::Invalid => None,
        }
    }
}

/// A string property.
pub fn string_field(body: &Value, key: &str) -> Option<Field<String>> {
    body.get(key).map(|v| match v {
        Value::String(s) => Field::Value(s.clone()),
        _ => Field::Invalid,
    })
}

/// The trimmed string of a field, `""` when absent, invalid or null.
pub fn trimmed(field: &Option<Field<String>>) -> &str {
    field
        .as_ref()
        .and_then(Field::value)
        .map_or("", |s| s.trim())
}
