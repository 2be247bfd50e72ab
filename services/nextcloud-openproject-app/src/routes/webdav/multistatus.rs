//! The `207 Multi-Status` document (RFC 4918 §13) of PROPFIND and PROPPATCH, written response
//! by response with the prefixes Nextcloud's server uses.

use actix_web::{http::StatusCode, HttpResponse};
use storage_protocol::{files::Propfind, proppatch::PropertyName};

use crate::{
    domain::files::properties::{DAV, NC, OC},
    error::xml_escape,
};

/// One `<d:propstat>` of a PROPPATCH answer: the properties that share a status line, with the
/// precondition code (RFC 4918 §16) and an explanation where they help the client.
pub(super) struct Propstat<'a> {
    pub status: &'static str,
    pub names: Vec<&'a PropertyName>,
    pub error: Option<&'static str>,
    pub description: Option<String>,
}

pub(super) struct Multistatus {
    xml: String,
}

impl Multistatus {
    pub(super) fn new() -> Self {
        Self {
            xml: String::from(
                "<?xml version=\"1.0\"?>\n<d:multistatus xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\" xmlns:oc=\"http://owncloud.org/ns\" xmlns:nc=\"http://nextcloud.org/ns\">",
            ),
        }
    }

    /// One `<d:response>` to a PROPFIND. `value` gives a property's XML content, `None` when
    /// the resource does not have it; `names` are the properties `allprop` and `propname` show
    /// (those `value` has). Found properties go in a 200 propstat and, for named ones, those
    /// missing in a 404 propstat.
    pub(super) fn response(
        &mut self,
        href: &str,
        request: &Propfind,
        names: &[(&str, &str)],
        value: impl Fn(&str, &str) -> Option<String>,
    ) {
        let mut found = String::new();
        let mut missing = String::new();
        match request {
            Propfind::AllProp => {
                for (namespace, name) in names {
                    if let Some(v) = value(namespace, name) {
                        found.push_str(&element(namespace, name, Some(&v)));
                    }
                }
            }
            Propfind::PropName => {
                for (namespace, name) in names {
                    if value(namespace, name).is_some() {
                        found.push_str(&element(namespace, name, None));
                    }
                }
            }
            Propfind::Props(props) => {
                for (namespace, name) in props {
                    match value(namespace, name) {
                        Some(v) => found.push_str(&element(namespace, name, Some(&v))),
                        None => missing.push_str(&element(namespace, name, None)),
                    }
                }
            }
        }
        self.open_response(href);
        for (props, status) in [(found, "200 OK"), (missing, "404 Not Found")] {
            if !props.is_empty() {
                self.xml.push_str(&format!(
                    "<d:propstat><d:prop>{props}</d:prop><d:status>HTTP/1.1 {status}</d:status></d:propstat>"
                ));
            }
        }
        self.xml.push_str("</d:response>");
    }

    /// One `<d:response>` to a PROPPATCH: the properties by outcome, without values.
    pub(super) fn propstats(&mut self, href: &str, propstats: &[Propstat<'_>]) {
        self.open_response(href);
        for propstat in propstats.iter().filter(|p| !p.names.is_empty()) {
            self.xml.push_str("<d:propstat><d:prop>");
            for name in &propstat.names {
                self.xml
                    .push_str(&element(&name.namespace, &name.name, None));
            }
            self.xml.push_str(&format!(
                "</d:prop><d:status>HTTP/1.1 {}</d:status>",
                propstat.status
            ));
            if let Some(code) = propstat.error {
                self.xml
                    .push_str(&format!("<d:error><d:{code}/></d:error>"));
            }
            if let Some(description) = &propstat.description {
                self.xml.push_str(&format!(
                    "<d:responsedescription>{}</d:responsedescription>",
                    xml_escape(description)
                ));
            }
            self.xml.push_str("</d:propstat>");
        }
        self.xml.push_str("</d:response>");
    }

    fn open_response(&mut self, href: &str) {
        self.xml.push_str("<d:response><d:href>");
        self.xml.push_str(&xml_escape(href));
        self.xml.push_str("</d:href>");
    }

    pub(super) fn finish(mut self) -> HttpResponse {
        self.xml.push_str("</d:multistatus>");
        HttpResponse::build(StatusCode::MULTI_STATUS)
            .content_type("application/xml; charset=utf-8")
            .body(self.xml)
    }
}

/// A property element with the document's prefixes; a property in no namespace is written
/// with an empty default namespace, which XML allows (an empty prefix binding it does not).
/// The document binds no default namespace, so values (whose elements declare theirs where it
/// is not the empty one) read the same inside.
fn element(namespace: &str, name: &str, value: Option<&str>) -> String {
    let (open, close) = match namespace {
        DAV => (format!("d:{name}"), format!("d:{name}")),
        OC => (format!("oc:{name}"), format!("oc:{name}")),
        NC => (format!("nc:{name}"), format!("nc:{name}")),
        "" => (format!("{name} xmlns=\"\""), name.to_string()),
        other => (
            format!("x:{name} xmlns:x=\"{}\"", xml_escape(other)),
            format!("x:{name}"),
        ),
    };
    match value {
        Some(v) if !v.is_empty() => format!("<{open}>{v}</{close}>"),
        _ => format!("<{open}/>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_elements_bind_their_namespace() {
        assert_eq!(
            element(DAV, "getetag", Some("x")),
            "<d:getetag>x</d:getetag>"
        );
        assert_eq!(element("", "plain", None), "<plain xmlns=\"\"/>");
        assert_eq!(
            element("urn:a&b", "p", Some("<foo xmlns=\"bar\"/>")),
            "<x:p xmlns:x=\"urn:a&amp;b\"><foo xmlns=\"bar\"/></x:p>"
        );
    }
}
