//! The `207 Multi-Status` document (RFC 4918 §13) Nextcloud answers PROPFIND and PROPPATCH
//! with, written response by response with the prefixes Nextcloud's server uses; and the Sabre
//! error document of its other WebDAV failures.

use crate::{
    dav::{DAV, NC, OC},
    files::Propfind,
    proppatch::PropertyName,
    xml::escape,
};

/// One `<d:propstat>` of a PROPPATCH answer: the properties that share a status line, with the
/// precondition code (RFC 4918 §16) and an explanation where they help the client.
pub struct Propstat<'a> {
    pub status: &'static str,
    pub names: Vec<&'a PropertyName>,
    pub error: Option<&'static str>,
    pub description: Option<String>,
}

pub struct Multistatus {
    xml: String,
}

impl Multistatus {
    pub fn new() -> Self {
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
    pub fn response(
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
    pub fn propstats(&mut self, href: &str, propstats: &[Propstat<'_>]) {
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
                    escape(description)
                ));
            }
            self.xml.push_str("</d:propstat>");
        }
        self.xml.push_str("</d:response>");
    }

    fn open_response(&mut self, href: &str) {
        self.xml.push_str("<d:response><d:href>");
        self.xml.push_str(&escape(href));
        self.xml.push_str("</d:href>");
    }

    /// The whole document, to be sent with `207 Multi-Status`.
    pub fn finish(mut self) -> String {
        self.xml.push_str("</d:multistatus>");
        self.xml
    }
}

impl Default for Multistatus {
    fn default() -> Self {
        Self::new()
    }
}

/// The Sabre exception class Nextcloud names for a WebDAV error status.
pub fn sabre_exception(status: u16) -> &'static str {
    match status {
        400 => "Sabre\\DAV\\Exception\\BadRequest",
        401 => "Sabre\\DAV\\Exception\\NotAuthenticated",
        403 => "Sabre\\DAV\\Exception\\Forbidden",
        404 => "Sabre\\DAV\\Exception\\NotFound",
        405 => "Sabre\\DAV\\Exception\\MethodNotAllowed",
        409 => "Sabre\\DAV\\Exception\\Conflict",
        412 => "Sabre\\DAV\\Exception\\PreconditionFailed",
        413 => "OCA\\DAV\\Connector\\Sabre\\Exception\\EntityTooLarge",
        415 => "Sabre\\DAV\\Exception\\UnsupportedMediaType",
        416 => "Sabre\\DAV\\Exception\\RequestedRangeNotSatisfiable",
        507 => "Sabre\\DAV\\Exception\\InsufficientStorage",
        429 => "OCA\\DAV\\Connector\\Sabre\\Exception\\TooManyRequests",
        _ => "Sabre\\DAV\\Exception",
    }
}

/// `<d:error>` with the Sabre exception of `status` and `message`.
pub fn sabre_error(status: u16, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:error xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\"><s:exception>{}</s:exception><s:message>{}</s:message></d:error>",
        sabre_exception(status),
        escape(message)
    )
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
            format!("x:{name} xmlns:x=\"{}\"", escape(other)),
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
    fn sabre_errors_name_the_exception_and_escape_the_message() {
        assert_eq!(
            sabre_error(404, "File <x> not found"),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:error xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\"><s:exception>Sabre\\DAV\\Exception\\NotFound</s:exception><s:message>File &lt;x&gt; not found</s:message></d:error>"
        );
    }

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
