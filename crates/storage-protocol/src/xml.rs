//! XML text: the one escape every document either side writes goes through.

use std::borrow::Cow;

/// `text` as XML character data or attribute value: `<`, `>`, `&`, `'` and `"` escaped.
pub fn escape(text: &str) -> Cow<'_, str> {
    quick_xml::escape::escape(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_both_quotes() {
        assert_eq!(escape("a<b>&'\""), "a&lt;b&gt;&amp;&apos;&quot;");
        assert!(matches!(escape("plain"), Cow::Borrowed("plain")));
    }
}
