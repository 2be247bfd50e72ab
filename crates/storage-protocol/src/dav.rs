//! The WebDAV subset both sides speak (nextcloud-openproject-app.md §7, openproject-storages.md
//! §11): the PROPFIND request OpenProject sends and a reader for the `multistatus` answer.

use quick_xml::{
    events::Event,
    name::{Namespace, ResolveResult},
    NsReader,
};

/// The namespaces of Nextcloud's WebDAV properties.
pub const DAV: &str = "DAV:";
pub const OC: &str = "http://owncloud.org/ns";
pub const NC: &str = "http://nextcloud.org/ns";

/// The properties OpenProject asks for when listing a folder (openproject-storages.md §12).
pub const PROPFIND_BODY: &str = r#"<?xml version="1.0"?>
<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">
  <d:prop>
    <oc:fileid/>
    <oc:size/>
    <d:getcontenttype/>
    <d:getlastmodified/>
    <oc:permissions/>
    <oc:owner-display-name/>
    <d:resourcetype/>
  </d:prop>
</d:propfind>"#;

/// One `<d:response>`: its href (percent-decoded) and the properties found with status 200.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    pub href: String,
    pub is_collection: bool,
    pub file_id: Option<String>,
    pub size: Option<u64>,
    pub content_type: Option<String>,
    pub last_modified: Option<String>,
    pub permissions: Option<String>,
    pub owner_display_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultistatusError(pub String);

#[derive(Default)]
struct Propstat {
    ok: bool,
    props: Vec<(String, String)>,
    collection: bool,
}

/// Reads a `207 Multi-Status` body.
pub fn parse_multistatus(xml: &str) -> Result<Vec<Entry>, MultistatusError> {
    let mut reader = NsReader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut entries = Vec::new();
    let mut entry: Option<Entry> = None;
    let mut propstat: Option<Propstat> = None;
    // The path of local names below the current <response>.
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut seen_multistatus = false;
    loop {
        let (namespace, event) = reader
            .read_resolved_event()
            .map_err(|e| MultistatusError(e.to_string()))?;
        let in_dav =
            matches!(namespace, ResolveResult::Bound(Namespace(ns)) if ns == DAV.as_bytes());
        match event {
            Event::Start(start) => {
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                text.clear();
                match (in_dav, name.as_str()) {
                    (true, "multistatus") => seen_multistatus = true,
                    (true, "response") => entry = Some(Entry::default()),
                    (true, "propstat") => propstat = Some(Propstat::default()),
                    _ => {}
                }
                path.push(name);
            }
            Event::Empty(start) => {
                let name = start.local_name();
                if in_dav && name.as_ref() == b"collection" {
                    if let Some(p) = propstat.as_mut() {
                        p.collection = true;
                    }
                } else if let Some(p) = propstat.as_mut() {
                    // An empty property element: present with no value.
                    if path.last().is_some_and(|parent| parent == "prop") {
                        p.props.push((
                            String::from_utf8_lossy(name.as_ref()).into_owned(),
                            String::new(),
                        ));
                    }
                }
            }
            Event::Text(t) => {
                text.push_str(&t.unescape().map_err(|e| MultistatusError(e.to_string()))?);
            }
            Event::CData(t) => text.push_str(&String::from_utf8_lossy(&t)),
            Event::End(_) => {
                let name = path.pop().unwrap_or_default();
                let parent = path.last().map(String::as_str);
                match name.as_str() {
                    "href" if parent == Some("response") => {
                        if let Some(e) = entry.as_mut() {
                            e.href = percent_encoding::percent_decode_str(text.trim())
                                .decode_utf8_lossy()
                                .into_owned();
                        }
                    }
                    "status" if parent == Some("propstat") => {
                        if let Some(p) = propstat.as_mut() {
                            p.ok = text.split_whitespace().nth(1) == Some("200");
                        }
                    }
                    "propstat" => {
                        if let (Some(p), Some(e)) = (propstat.take(), entry.as_mut()) {
                            if p.ok {
                                apply(e, p);
                            }
                        }
                    }
                    "response" => {
                        if let Some(e) = entry.take() {
                            entries.push(e);
                        }
                    }
                    _ if parent == Some("prop") => {
                        if let Some(p) = propstat.as_mut() {
                            p.props.push((name, text.trim().to_string()));
                        }
                    }
                    _ => {}
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if seen_multistatus {
        Ok(entries)
    } else {
        Err(MultistatusError("not a multistatus document".into()))
    }
}

fn apply(entry: &mut Entry, propstat: Propstat) {
    entry.is_collection |= propstat.collection;
    for (name, value) in propstat.props {
        let value = Some(value).filter(|v| !v.is_empty());
        match name.as_str() {
            "fileid" => entry.file_id = value,
            "size" => entry.size = value.and_then(|v| v.parse().ok()),
            "getcontenttype" => entry.content_type = value,
            "getlastmodified" => entry.last_modified = value,
            "permissions" => entry.permissions = value,
            "owner-display-name" => entry.owner_display_name = value,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = r#"<?xml version="1.0"?>
<d:multistatus xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns" xmlns:oc="http://owncloud.org/ns">
 <d:response>
  <d:href>/remote.php/dav/files/OpenProject/OpenProject/</d:href>
  <d:propstat><d:prop><oc:fileid>12</oc:fileid><oc:size>3</oc:size><d:resourcetype><d:collection/></d:resourcetype><oc:permissions>RGDNVCK</oc:permissions></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
  <d:propstat><d:prop><d:getcontenttype/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>
 </d:response>
 <d:response>
  <d:href>/remote.php/dav/files/OpenProject/OpenProject/My%20Project%20(3)/</d:href>
  <d:propstat><d:prop><oc:fileid>13</oc:fileid><d:resourcetype><d:collection/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
 </d:response>
 <d:response>
  <d:href>/remote.php/dav/files/OpenProject/OpenProject/notes.txt</d:href>
  <d:propstat><d:prop><oc:fileid>14</oc:fileid><oc:size>3</oc:size><d:getcontenttype>text/plain</d:getcontenttype><d:resourcetype/></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
 </d:response>
</d:multistatus>"#;

    #[test]
    fn reads_a_listing() {
        let entries = parse_multistatus(LISTING).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(
            entries[0].href,
            "/remote.php/dav/files/OpenProject/OpenProject/"
        );
        assert!(entries[0].is_collection);
        assert_eq!(entries[0].file_id.as_deref(), Some("12"));
        assert_eq!(entries[0].content_type, None);
        assert_eq!(entries[0].permissions.as_deref(), Some("RGDNVCK"));
        assert_eq!(
            entries[1].href,
            "/remote.php/dav/files/OpenProject/OpenProject/My Project (3)/"
        );
        assert!(!entries[2].is_collection);
        assert_eq!(entries[2].content_type.as_deref(), Some("text/plain"));
        assert_eq!(entries[2].size, Some(3));
    }

    #[test]
    fn refuses_what_is_not_a_multistatus() {
        assert!(parse_multistatus("<html><body>hi</body></html>").is_err());
        assert!(parse_multistatus("not xml <<<").is_err());
    }
}
