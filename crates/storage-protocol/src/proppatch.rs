//! PROPPATCH request bodies (RFC 4918 §9.2, §14.19): the property updates of a
//! `propertyupdate` document in document order, each set value kept as XML that stands on its
//! own, so that it means the same wherever it is written back.
//!
//! A value's elements carry their namespace as a default-namespace declaration wherever it
//! changes (`<foo xmlns="bar"/>`), and namespaced attributes get prefixes declared on their own
//! element. Prefixes the client bound further up (on `propertyupdate`, say) are therefore not
//! needed to read the value later. Text is kept as it was sent (whitespace included);
//! comments and processing instructions are dropped; CDATA becomes escaped text.

use quick_xml::{
    escape::escape,
    events::{BytesStart, Event},
    name::{Namespace, ResolveResult},
    NsReader,
};

use crate::dav::DAV;

/// The namespace the `xml` prefix is bound to by definition.
const XML_NS: &[u8] = b"http://www.w3.org/XML/1998/namespace";

/// A property's name: its namespace (empty for none) and local name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PropertyName {
    pub namespace: String,
    pub name: String,
}

impl PropertyName {
    pub fn new(namespace: &str, name: &str) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// `{namespace}name`, the way Sabre and Nextcloud's `oc_properties` write names.
    pub fn clark(&self) -> String {
        format!("{{{}}}{}", self.namespace, self.name)
    }
}

/// One instruction of a `propertyupdate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropertyUpdate {
    /// `<d:set>`: the property gets `value`, XML content (possibly empty).
    Set { name: PropertyName, value: String },
    /// `<d:remove>`: the property goes.
    Remove(PropertyName),
}

impl PropertyUpdate {
    pub fn name(&self) -> &PropertyName {
        match self {
            Self::Set { name, .. } | Self::Remove(name) => name,
        }
    }
}

/// The body is not a well-formed `propertyupdate` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProppatchError(pub String);

impl std::fmt::Display for ProppatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Set,
    Remove,
}

/// What an open element is, outside property values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    Update,
    Instruction(Op),
    Prop(Op),
    /// An element we do not know, skipped with what it holds (RFC 4918 §17).
    Other,
}

/// A property element being read: its value so far and the value's open elements as (local
/// name, default namespace in effect inside it).
struct Capture {
    op: Op,
    name: PropertyName,
    xml: String,
    open: Vec<(String, String)>,
}

impl Capture {
    /// The default namespace in effect where the next element is written; the value starts
    /// in no namespace.
    fn default_namespace(&self) -> &str {
        self.open.last().map_or("", |(_, ns)| ns.as_str())
    }

    /// The update the property element stands for, once it is closed.
    fn finish(self) -> PropertyUpdate {
        match self.op {
            Op::Set => PropertyUpdate::Set {
                name: self.name,
                value: self.xml,
            },
            Op::Remove => PropertyUpdate::Remove(self.name),
        }
    }
}

/// Reads a `PROPPATCH` request body into its updates, in document order.
pub fn parse_proppatch(body: &str) -> Result<Vec<PropertyUpdate>, ProppatchError> {
    let mut reader = NsReader::from_str(body);
    let mut frames: Vec<Frame> = Vec::new();
    let mut capture: Option<Capture> = None;
    let mut seen_root = false;
    let mut updates = Vec::new();
    loop {
        let (resolved, event) = reader.read_resolved_event().map_err(malformed)?;
        // The resolved namespace borrows the reader; an owned copy lets attributes be resolved.
        let element = match &event {
            Event::Start(start) | Event::Empty(start) => Some(element_name(&resolved, start)?),
            _ => None,
        };
        if let Some(current) = capture.as_mut() {
            match (event, element) {
                (Event::Start(start), Some(element)) => {
                    write_start(&reader, element.clone(), &start, current, false)?;
                    current.open.push(element);
                }
                (Event::Empty(start), Some(element)) => {
                    write_start(&reader, element, &start, current, true)?;
                }
                (Event::End(_), _) => match current.open.pop() {
                    Some((local, _)) => {
                        current.xml.push_str("</");
                        current.xml.push_str(&local);
                        current.xml.push('>');
                    }
                    None => {
                        if let Some(done) = capture.take() {
                            updates.push(done.finish());
                        }
                    }
                },
                (Event::Text(text), _) => current
                    .xml
                    .push_str(&escape(text.unescape().map_err(malformed)?)),
                (Event::CData(data), _) => {
                    let raw = std::str::from_utf8(&data).map_err(malformed)?;
                    current.xml.push_str(&escape(raw));
                }
                (Event::Eof, _) => break,
                _ => {}
            }
            continue;
        }
        let ((local, ns), empty) = match (event, element) {
            (Event::Start(_), Some(element)) => (element, false),
            (Event::Empty(_), Some(element)) => (element, true),
            (Event::End(_), _) => {
                frames.pop();
                continue;
            }
            (Event::Eof, _) => break,
            _ => continue,
        };
        let is_dav = ns.as_bytes() == DAV.as_bytes();
        let frame = match (frames.last(), is_dav, local.as_str()) {
            (None, true, "propertyupdate") if !seen_root => Frame::Update,
            (None, _, _) => {
                return Err(ProppatchError(
                    "the root is not one DAV:propertyupdate".into(),
                ))
            }
            (Some(Frame::Update), true, "set") => Frame::Instruction(Op::Set),
            (Some(Frame::Update), true, "remove") => Frame::Instruction(Op::Remove),
            (Some(Frame::Instruction(op)), true, "prop") => Frame::Prop(*op),
            (Some(Frame::Prop(op)), _, _) => {
                let name = PropertyName {
                    namespace: ns,
                    name: local,
                };
                let property = Capture {
                    op: *op,
                    name,
                    xml: String::new(),
                    open: Vec::new(),
                };
                if empty {
                    updates.push(property.finish());
                } else {
                    capture = Some(property);
                }
                continue;
            }
            _ => Frame::Other,
        };
        seen_root = true;
        if !empty {
            frames.push(frame);
        }
    }
    if !seen_root || !frames.is_empty() || capture.is_some() {
        return Err(ProppatchError(
            "not a complete propertyupdate document".into(),
        ));
    }
    if updates.is_empty() {
        return Err(ProppatchError(
            "a propertyupdate sets or removes at least one property".into(),
        ));
    }
    Ok(updates)
}

fn malformed(e: impl std::fmt::Display) -> ProppatchError {
    ProppatchError(e.to_string())
}

/// An element's local name and namespace (empty for none). A prefix bound to no namespace
/// (`xmlns:p=""`, which Namespaces in XML 1.0 §3 forbids) or not bound at all is malformed.
fn element_name(
    resolved: &ResolveResult,
    start: &BytesStart,
) -> Result<(String, String), ProppatchError> {
    let ns = namespace(resolved, start.name().prefix().is_some())?;
    let local = std::str::from_utf8(start.local_name().into_inner())
        .map_err(malformed)?
        .to_string();
    Ok((local, ns))
}

fn namespace(resolved: &ResolveResult, prefixed: bool) -> Result<String, ProppatchError> {
    let ns = match resolved {
        ResolveResult::Bound(Namespace(ns)) => std::str::from_utf8(ns).map_err(malformed)?,
        ResolveResult::Unbound => "",
        ResolveResult::Unknown(prefix) => {
            return Err(ProppatchError(format!(
                "the prefix {} is not bound",
                String::from_utf8_lossy(prefix)
            )))
        }
    };
    if prefixed && ns.is_empty() {
        return Err(ProppatchError("a prefix is bound to no namespace".into()));
    }
    Ok(ns.to_string())
}

/// Writes the start tag of a value's element (its local name and namespace) with the
/// declarations it needs.
fn write_start(
    reader: &NsReader<&[u8]>,
    (local, ns): (String, String),
    start: &BytesStart,
    capture: &mut Capture,
    empty: bool,
) -> Result<(), ProppatchError> {
    let mut tag = format!("<{local}");
    if ns != capture.default_namespace() {
        tag.push_str(&format!(" xmlns=\"{}\"", escape(ns.as_str())));
    }
    let mut prefixes: Vec<String> = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(malformed)?;
        if attribute.key.as_namespace_binding().is_some() {
            continue;
        }
        let (resolved, attribute_local) = reader.resolve_attribute(attribute.key);
        let attribute_ns = namespace(&resolved, attribute.key.prefix().is_some())?;
        let attribute_local =
            std::str::from_utf8(attribute_local.into_inner()).map_err(malformed)?;
        let value = attribute.unescape_value().map_err(malformed)?;
        let qualified = if attribute_ns.is_empty() {
            attribute_local.to_string()
        } else if attribute_ns.as_bytes() == XML_NS {
            format!("xml:{attribute_local}")
        } else {
            let index = match prefixes.iter().position(|p| *p == attribute_ns) {
                Some(index) => index,
                None => {
                    tag.push_str(&format!(
                        " xmlns:a{}=\"{}\"",
                        prefixes.len(),
                        escape(attribute_ns.as_str())
                    ));
                    prefixes.push(attribute_ns);
                    prefixes.len() - 1
                }
            };
            format!("a{index}:{attribute_local}")
        };
        tag.push_str(&format!(" {qualified}=\"{}\"", escape(value)));
    }
    tag.push_str(if empty { "/>" } else { ">" });
    capture.xml.push_str(&tag);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ns: &str, name: &str, value: &str) -> PropertyUpdate {
        PropertyUpdate::Set {
            name: PropertyName::new(ns, name),
            value: value.into(),
        }
    }

    fn remove(ns: &str, name: &str) -> PropertyUpdate {
        PropertyUpdate::Remove(PropertyName::new(ns, name))
    }

    const LITMUS: &str = "http://example.com/neon/litmus/";

    #[test]
    fn sets_and_removes_in_document_order() {
        let body = r#"<?xml version="1.0" encoding="utf-8"?>
<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><prop0 xmlns="http://example.com/neon/litmus/">value0</prop0><prop1 xmlns="http://example.com/neon/litmus/"/></D:prop></D:set>
<D:remove><D:prop><prop2 xmlns="http://example.com/neon/litmus/"/></D:prop></D:remove>
<D:set><D:prop><prop2 xmlns="http://example.com/neon/litmus/"> spaced &amp; kept </prop2></D:prop></D:set></D:propertyupdate>"#;
        assert_eq!(
            parse_proppatch(body).unwrap(),
            vec![
                set(LITMUS, "prop0", "value0"),
                set(LITMUS, "prop1", ""),
                remove(LITMUS, "prop2"),
                set(LITMUS, "prop2", " spaced &amp; kept "),
            ]
        );
    }

    #[test]
    fn names_in_no_namespace_and_high_unicode_values() {
        let body = "<propertyupdate xmlns=\"DAV:\"><set><prop><nonamespace xmlns=\"\">randomvalue</nonamespace><high-unicode xmlns=\"http://x/\">\u{10000}&#x10001;</high-unicode></prop></set></propertyupdate>";
        assert_eq!(
            parse_proppatch(body).unwrap(),
            vec![
                set("", "nonamespace", "randomvalue"),
                set("http://x/", "high-unicode", "\u{10000}\u{10001}"),
            ]
        );
    }

    #[test]
    fn values_carry_their_own_namespace_declarations() {
        // The prefix Z is bound on the root; the stored value must not depend on it.
        let body = r#"<D:propertyupdate xmlns:D="DAV:" xmlns:Z="http://ns.example.com/z/"><D:set><D:prop><Z:Authors><Z:Author x="1" Z:role="lead" xml:lang="en">Jim &lt;3</Z:Author><plain/><foo xmlns='bar'/></Z:Authors></D:prop></D:set></D:propertyupdate>"#;
        let updates = parse_proppatch(body).unwrap();
        assert_eq!(
            updates,
            vec![set(
                "http://ns.example.com/z/",
                "Authors",
                concat!(
                    r#"<Author xmlns="http://ns.example.com/z/" x="1" xmlns:a0="http://ns.example.com/z/" a0:role="lead" xml:lang="en">Jim &lt;3</Author>"#,
                    r#"<plain/><foo xmlns="bar"/>"#
                )
            )]
        );
        // Inside a namespaced element, a child in no namespace says so.
        let nested = r#"<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><p xmlns="urn:p"><a xmlns="urn:a"><b xmlns=""/></a></p></D:prop></D:set></D:propertyupdate>"#;
        assert_eq!(
            parse_proppatch(nested).unwrap(),
            vec![set("urn:p", "p", r#"<a xmlns="urn:a"><b xmlns=""/></a>"#)]
        );
    }

    #[test]
    fn stored_values_read_back_as_well_formed_xml() {
        let body = r#"<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:v><Z:a Z:b="&quot;"><![CDATA[<x>]]></Z:a></Z:v></D:prop></D:set></D:propertyupdate>"#;
        let [PropertyUpdate::Set { value, .. }] = &parse_proppatch(body).unwrap()[..] else {
            panic!("one set expected")
        };
        let wrapped = format!("<wrapper>{value}</wrapper>");
        let mut reader = NsReader::from_str(&wrapped);
        let mut elements = Vec::new();
        loop {
            let (resolved, event) = reader.read_resolved_event().unwrap();
            match event {
                Event::Start(e) | Event::Empty(e) => elements.push((
                    format!("{resolved:?}"),
                    String::from_utf8(e.local_name().into_inner().to_vec()).unwrap(),
                )),
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(elements[1].1, "a");
        assert!(elements[1].0.contains("urn:z"), "{elements:?}");
    }

    #[test]
    fn malformed_documents_are_refused() {
        for body in [
            "",
            "not xml <<<",
            "<html/>",
            r#"<D:propertyupdate xmlns:D="DAV:"/>"#,
            r#"<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:a xmlns:x="urn:x">"#,
            r#"<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><zz:a/></D:prop></D:set></D:propertyupdate>"#,
            r#"<D:propertyupdate xmlns:D="DAV:" xmlns:bar=""><D:set><D:prop><bar:a/></D:prop></D:set></D:propertyupdate>"#,
            r#"<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><a xmlns="urn:a"><b></c></a></D:prop></D:set></D:propertyupdate>"#,
            r#"<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><a xmlns="urn:a">&unknown;</a></D:prop></D:set></D:propertyupdate>"#,
            r#"<D:propertyupdate xmlns:D="DAV:"></D:propertyupdate><D:propertyupdate xmlns:D="DAV:"/>"#,
        ] {
            assert!(parse_proppatch(body).is_err(), "{body}");
        }
    }

    #[test]
    fn unknown_elements_are_skipped() {
        let body = r#"<D:propertyupdate xmlns:D="DAV:"><D:extra><D:prop><a xmlns="urn:a">1</a></D:prop></D:extra><D:remove><D:prop><b xmlns="urn:b">ignored</b></D:prop></D:remove></D:propertyupdate>"#;
        assert_eq!(parse_proppatch(body).unwrap(), vec![remove("urn:b", "b")]);
        assert_eq!(PropertyName::new("urn:b", "b").clark(), "{urn:b}b");
    }
}
