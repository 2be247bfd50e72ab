//! HTTP preconditions on a file's ETag and modification time (`If-Match`, `If-None-Match`,
//! `If-Modified-Since`, `If-Unmodified-Since`), as RFC 9110 §13.2.2 evaluates them.

/// An `If-Match` or `If-None-Match` value: `*` or a list of entity tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EtagList {
    Any,
    /// The tags without quotes (weak tags compare by their opaque part).
    Tags(Vec<String>),
}

impl EtagList {
    pub fn parse(raw: &str) -> Self {
        if raw.trim() == "*" {
            return Self::Any;
        }
        Self::Tags(
            raw.split(',')
                .map(|tag| {
                    let tag = tag.trim();
                    let tag = tag.strip_prefix("W/").unwrap_or(tag);
                    tag.trim_matches('"').to_string()
                })
                .filter(|tag| !tag.is_empty())
                .collect(),
        )
    }

    /// Whether a resource with `etag` (`None`: it does not exist) matches.
    pub fn matches(&self, etag: Option<&str>) -> bool {
        match (self, etag) {
            (_, None) => false,
            (Self::Any, Some(_)) => true,
            (Self::Tags(tags), Some(etag)) => tags.iter().any(|t| t == etag),
        }
    }
}

/// The preconditions of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preconditions {
    pub if_match: Option<EtagList>,
    pub if_none_match: Option<EtagList>,
    /// Unix seconds.
    pub if_modified_since: Option<i64>,
    pub if_unmodified_since: Option<i64>,
}

/// What the preconditions decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Proceed,
    /// 304 for GET and HEAD.
    NotModified,
    /// 412.
    Failed,
}

impl Preconditions {
    /// The verdict for a resource with `etag` and `mtime` (`None`: it does not exist); `read`
    /// is GET or HEAD.
    pub fn evaluate(&self, current: Option<(&str, i64)>, read: bool) -> Verdict {
        let etag = current.map(|(etag, _)| etag);
        if let Some(list) = &self.if_match {
            if !list.matches(etag) {
                return Verdict::Failed;
            }
        } else if let (Some(since), Some((_, mtime))) = (self.if_unmodified_since, current) {
            if mtime > since {
                return Verdict::Failed;
            }
        }
        if let Some(list) = &self.if_none_match {
            if list.matches(etag) {
                return if read {
                    Verdict::NotModified
                } else {
                    Verdict::Failed
                };
            }
        } else if let (true, Some(since), Some((_, mtime))) =
            (read, self.if_modified_since, current)
        {
            if mtime <= since {
                return Verdict::NotModified;
            }
        }
        Verdict::Proceed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(raw: &str) -> Option<EtagList> {
        Some(EtagList::parse(raw))
    }

    #[test]
    fn etag_lists_match_quoted_weak_and_any() {
        assert!(EtagList::parse("\"a\", W/\"b\"").matches(Some("b")));
        assert!(!EtagList::parse("\"a\"").matches(Some("c")));
        assert!(EtagList::parse("*").matches(Some("x")));
        assert!(!EtagList::parse("*").matches(None));
    }

    #[test]
    fn reads_and_writes_are_decided_as_rfc_9110_says() {
        let current = Some(("e1", 100));
        let none_match = Preconditions {
            if_none_match: tags("\"e1\""),
            ..Default::default()
        };
        assert_eq!(none_match.evaluate(current, true), Verdict::NotModified);
        assert_eq!(none_match.evaluate(current, false), Verdict::Failed);
        let create_only = Preconditions {
            if_none_match: tags("*"),
            ..Default::default()
        };
        assert_eq!(create_only.evaluate(None, false), Verdict::Proceed);
        assert_eq!(create_only.evaluate(current, false), Verdict::Failed);
        let if_match = Preconditions {
            if_match: tags("\"old\""),
            ..Default::default()
        };
        assert_eq!(if_match.evaluate(current, false), Verdict::Failed);
        assert_eq!(if_match.evaluate(None, false), Verdict::Failed);
        let since = Preconditions {
            if_modified_since: Some(100),
            ..Default::default()
        };
        assert_eq!(since.evaluate(current, true), Verdict::NotModified);
        assert_eq!(since.evaluate(Some(("e1", 101)), true), Verdict::Proceed);
        let unmodified = Preconditions {
            if_unmodified_since: Some(99),
            ..Default::default()
        };
        assert_eq!(unmodified.evaluate(current, true), Verdict::Failed);
    }
}
