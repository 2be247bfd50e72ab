//! The `filters` query parameter (README §3.1): a JSON array of objects mapping filter names to
//! `{"operator", "values"}`. Anything else, an unknown name or an unsupported operator is 400
//! `InvalidQuery`.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub name: String,
    pub operator: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidQuery;

/// Parses `raw` against the allowed `(name, operators)` pairs. Values are strings; numbers are
/// read as their decimal text (leniency).
pub fn parse(raw: Option<&str>, allowed: &[(&str, &[&str])]) -> Result<Vec<Filter>, InvalidQuery> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let parsed: Value = serde_json::from_str(raw).map_err(|_| InvalidQuery)?;
    let Value::Array(objects) = parsed else {
        return Err(InvalidQuery);
    };
    let mut filters = Vec::new();
    for object in objects {
        let Value::Object(map) = object else {
            return Err(InvalidQuery);
        };
        for (name, spec) in map {
            let operators = allowed
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, ops)| *ops)
                .ok_or(InvalidQuery)?;
            let operator = spec
                .get("operator")
                .and_then(Value::as_str)
                .ok_or(InvalidQuery)?;
            if !operators.contains(&operator) {
                return Err(InvalidQuery);
            }
            let values = match spec.get("values") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(values)) => values
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => Ok(s.clone()),
                        Value::Number(n) => Ok(n.to_string()),
                        _ => Err(InvalidQuery),
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err(InvalidQuery),
            };
            filters.push(Filter {
                name,
                operator: operator.to_string(),
                values,
            });
        }
    }
    Ok(filters)
}

/// Integer values of a filter; a value that is no id matches nothing.
pub fn ids(values: &[String]) -> Vec<i64> {
    values
        .iter()
        .filter_map(|v| v.trim().parse::<i64>().ok())
        .collect()
}

/// Whether a host given in a filter or a body names the storage host (normalised with one
/// trailing `/`): URL-decoded, with or without one trailing `/`.
pub fn host_matches(value: &str, storage_host: Option<&str>) -> bool {
    let Some(storage_host) = storage_host else {
        return false;
    };
    let decoded = percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .map(|s| s.into_owned())
        .unwrap_or_else(|_| value.to_string());
    let trimmed = |s: &str| s.strip_suffix('/').unwrap_or(s).to_string();
    trimmed(decoded.trim()) == trimmed(storage_host)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALLOWED: &[(&str, &[&str])] = &[("id", &["="]), ("status", &["o", "c", "="])];

    #[test]
    fn shapes() {
        assert_eq!(parse(None, ALLOWED), Ok(vec![]));
        let parsed = parse(
            Some(r#"[{"id":{"operator":"=","values":["1",2]},"status":{"operator":"o","values":null}}]"#),
            ALLOWED,
        )
        .unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].values, vec!["1", "2"]);
        for bad in [
            "x",
            "{}",
            "[1]",
            r#"[{"nope":{"operator":"=","values":[]}}]"#,
            r#"[{"id":{"operator":"!","values":[]}}]"#,
            r#"[{"id":{"values":[]}}]"#,
            r#"[{"id":{"operator":"=","values":"1"}}]"#,
        ] {
            assert_eq!(parse(Some(bad), ALLOWED), Err(InvalidQuery), "{bad}");
        }
    }

    #[test]
    fn hosts() {
        let host = Some("https://nc.example.com/");
        assert!(host_matches("https://nc.example.com", host));
        assert!(host_matches("https://nc.example.com/", host));
        assert!(host_matches("https%3A%2F%2Fnc.example.com", host));
        assert!(!host_matches("https://nc.example.com//", host));
        assert!(!host_matches("https://other", host));
        assert!(!host_matches("https://nc.example.com", None));
    }
}
