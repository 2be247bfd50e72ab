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

/// A property that is a string or `null`.
pub fn nullable_string_field(body: &Value, key: &str) -> Option<Field<Option<String>>> {
    body.get(key).map(|v| match v {
        Value::String(s) => Field::Value(Some(s.clone())),
        Value::Null => Field::Value(None),
        _ => Field::Invalid,
    })
}

/// `_links.<name>.href`: absent when the link is absent; `null` (the link or its href) reads as
/// `Value(None)`.
pub fn link_href(body: &Value, name: &str) -> Option<Field<Option<String>>> {
    let link = body.get("_links")?.get(name)?;
    Some(match link {
        Value::Null => Field::Value(None),
        Value::Object(object) => match object.get("href") {
            None | Some(Value::Null) => Field::Value(None),
            Some(Value::String(href)) => Field::Value(Some(href.clone())),
            Some(_) => Field::Invalid,
        },
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn links() {
        let body =
            json!({"_links": {"origin": {"href": "https://x"}, "type": null, "bad": {"href": 3}}});
        assert_eq!(
            link_href(&body, "origin"),
            Some(Field::Value(Some("https://x".into())))
        );
        assert_eq!(link_href(&body, "type"), Some(Field::Value(None)));
        assert_eq!(link_href(&body, "bad"), Some(Field::Invalid));
        assert_eq!(link_href(&body, "missing"), None);
        assert_eq!(link_href(&json!({}), "origin"), None);
    }
}
