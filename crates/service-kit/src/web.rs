//! What both services' web pages share: the headers every page carries, and static assets
//! (CSS, JavaScript, icons) compiled into the binary and served with validators, so `make run`
//! needs no Node toolchain and a deployment ships one file.

use actix_web::{
    http::header::{self, HeaderValue},
    HttpRequest, HttpResponse,
};
use sha2::{Digest, Sha256};

/// The security headers of every HTML page: scripts and styles only from our own origin (the
/// pages hold no inline script), no framing, no sniffing, no referrer beyond our origin.
pub const PAGE_HEADERS: [(&str, &str); 4] = [
    (
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'",
    ),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
];

/// The page `Content-Security-Policy` of [`PAGE_HEADERS`], also allowing the page's scripts to
/// connect to `origins` (`connect-src`): a page that posts files straight to a file storage.
/// Only `scheme://host[:port]` origins of http(s) URLs are added; anything else is left out.
pub fn page_csp_connecting_to(origins: &[String]) -> String {
    let base = PAGE_HEADERS[0].1;
    let allowed: Vec<String> = origins
        .iter()
        .filter_map(|raw| url::Url::parse(raw).ok())
        .filter(|url| matches!(url.scheme(), "http" | "https"))
        .map(|url| url.origin().ascii_serialization())
        .filter(|origin| origin != "null")
        .collect();
    if allowed.is_empty() {
        return base.to_string();
    }
    format!("{base}; connect-src 'self' {}", allowed.join(" "))
}

/// The script both services' pages load first (`/assets/ui-kit.js`): copy buttons, confirmation
/// dialogs, inline errors and busy buttons, written once.
pub const UI_KIT_JS: Asset = Asset::new("ui-kit.js", include_bytes!("../assets/ui-kit.js"));

/// A file compiled into the binary, served under `/assets/<name>`.
#[derive(Clone, Copy)]
pub struct Asset {
    pub name: &'static str,
    pub body: &'static [u8],
}

impl Asset {
    pub const fn new(name: &'static str, body: &'static [u8]) -> Self {
        Self { name, body }
    }

    fn content_type(&self) -> &'static str {
        match self.name.rsplit('.').next() {
            Some("css") => "text/css; charset=utf-8",
            Some("js") => "text/javascript; charset=utf-8",
            Some("svg") => "image/svg+xml",
            Some("png") => "image/png",
            Some("ico") => "image/x-icon",
            _ => "application/octet-stream",
        }
    }

    /// A strong validator from the content: assets change only with the binary.
    fn etag(&self) -> String {
        let digest = Sha256::digest(self.body);
        format!("\"{}\"", hex_prefix(&digest, 16))
    }

    /// The response to `GET /assets/<name>`: 304 when the browser's copy is current.
    pub fn respond(&self, req: &HttpRequest) -> HttpResponse {
        let etag = self.etag();
        let fresh = req
            .headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
        let mut response = if fresh {
            HttpResponse::NotModified()
        } else {
            HttpResponse::Ok()
        };
        response
            .insert_header((header::ETAG, etag))
            // Revalidated on each load: names carry no version, and a 304 is cheap.
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .insert_header(("X-Content-Type-Options", "nosniff"));
        if fresh {
            response.finish()
        } else {
            response
                .insert_header((
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(self.content_type()),
                ))
                .body(self.body)
        }
    }
}

/// Finds `name` among `assets`.
pub fn find<'a>(assets: &'a [Asset], name: &str) -> Option<&'a Asset> {
    assets.iter().find(|asset| asset.name == name)
}

fn hex_prefix(bytes: &[u8], len: usize) -> String {
    use std::fmt::Write;
    bytes.iter().take(len).fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn an_asset_is_served_with_its_type_and_revalidated_by_etag() {
        let asset = Asset::new("app.css", b"body{}");
        let first = asset.respond(&TestRequest::default().to_http_request());
        assert_eq!(first.status(), 200);
        assert_eq!(
            first.headers().get(header::CONTENT_TYPE).unwrap(),
            "text/css; charset=utf-8"
        );
        let etag = first.headers().get(header::ETAG).unwrap().clone();
        let again = asset.respond(
            &TestRequest::default()
                .insert_header((header::IF_NONE_MATCH, etag))
                .to_http_request(),
        );
        assert_eq!(again.status(), 304);
    }

    #[test]
    fn a_page_may_connect_only_to_the_origins_it_names() {
        assert_eq!(page_csp_connecting_to(&[]), PAGE_HEADERS[0].1);
        let csp = page_csp_connecting_to(&[
            "https://nc.example.com/nextcloud/".into(),
            "http://localhost:8081/".into(),
            "javascript:alert(1)".into(),
            "not a url; script-src *".into(),
        ]);
        assert_eq!(
            csp,
            format!(
                "{}; connect-src 'self' https://nc.example.com http://localhost:8081",
                PAGE_HEADERS[0].1
            )
        );
    }

    #[test]
    fn assets_are_found_by_name_only() {
        let assets = [UI_KIT_JS];
        assert!(find(&assets, "ui-kit.js").is_some());
        assert!(find(&assets, "../ui-kit.js").is_none());
    }
}
