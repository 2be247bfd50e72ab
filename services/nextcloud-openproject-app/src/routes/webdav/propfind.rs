//! PROPFIND (spec §7.2): a 207 multistatus of the resource and, with `Depth: 1`, its children;
//! `Depth: infinity` walks the whole subtree (OpenProject maps paths to ids with it), bounded
//! by [`crate::domain::files::MAX_WALK_ENTRIES`]. Each node shows its live properties and the caller's dead ones
//! (PROPPATCH); `allprop` and `propname` include the dead ones.

use actix_web::{web, HttpRequest, HttpResponse};
use storage_protocol::files::{parse_propfind, Propfind};

use storage_protocol::{multistatus::Multistatus, xml::escape};

use super::{header_str, http_date, multi_status, oc_id, DavPath};
// The tests check the live properties against the domain's protected list.
#[cfg(test)]
use crate::domain::files::properties;
use crate::{
    domain::{
        authentication::AuthenticatedUser,
        files::{
            properties::{DAV, OC},
            Located,
        },
    },
    error::ApiError,
    flows::{self, webdav::Context},
    state::AppState,
};

/// `quota-available-bytes` of a tree without a quota, as Nextcloud writes it.
const UNLIMITED: i64 = -3;

/// Every live property of §7.2 in allprop order: (namespace, name).
const ALL_PROPS: [(&str, &str); 11] = [
    (OC, "fileid"),
    (OC, "id"),
    (OC, "size"),
    (DAV, "getcontentlength"),
    (DAV, "getcontenttype"),
    (DAV, "getlastmodified"),
    (DAV, "getetag"),
    (DAV, "resourcetype"),
    (OC, "permissions"),
    (OC, "owner-id"),
    (OC, "owner-display-name"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Depth {
    Zero,
    One,
    Infinity,
}

/// Reads the request body as a propfind document; malformed XML is 400.
pub(super) async fn request_body(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<Propfind, ApiError> {
    let raw = crate::body::read_limited(req, payload, state.settings.common.max_body_bytes).await?;
    let body = std::str::from_utf8(&raw)
        .map_err(|_| ApiError::BadRequest("The request body is not valid XML".into()))?;
    parse_propfind(body)
        .map_err(|_| ApiError::BadRequest("The request body is not valid XML".into()))
}

/// Whether the request wants children (`Depth` missing counts as 1, as the spec says).
pub(super) fn wants_children(req: &HttpRequest) -> bool {
    header_str(req, "Depth").is_none_or(|v| v.trim() != "0")
}

/// PROPFIND — 207 multistatus.
pub(super) async fn propfind(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    user: &AuthenticatedUser,
    target: DavPath,
) -> Result<HttpResponse, ApiError> {
    let request = request_body(req, payload, state).await?;
    let depth = match header_str(req, "Depth").map(str::trim) {
        Some("0") => Depth::Zero,
        Some(v) if v.eq_ignore_ascii_case("infinity") => Depth::Infinity,
        _ => Depth::One,
    };
    let (nodes, context) = flows::webdav::propfind(
        state,
        user,
        target.segments.clone(),
        depth != Depth::Zero,
        depth == Depth::Infinity,
    )
    .await?;
    let mut out = Multistatus::new();
    for located in &nodes {
        let href = target.href(&located.path, located.node.is_folder);
        let dead = context
            .dead
            .get(&located.node.id)
            .map_or(&[][..], Vec::as_slice);
        let mut names = ALL_PROPS.to_vec();
        names.extend(
            dead.iter()
                .map(|d| (d.name.namespace.as_str(), d.name.name.as_str())),
        );
        out.response(&href, &request, &names, |namespace, name| {
            property(state, located, &context, namespace, name).or_else(|| {
                dead.iter()
                    .find(|d| d.name.namespace == namespace && d.name.name == name)
                    .map(|d| d.value.clone())
            })
        });
    }
    Ok(multi_status(out))
}

/// The value of a live property as XML content, `None` when it does not apply.
fn property(
    state: &AppState,
    located: &Located,
    context: &Context,
    namespace: &str,
    name: &str,
) -> Option<String> {
    let node = &located.node;
    let text = |s: &str| Some(escape(s).into_owned());
    match (namespace, name) {
        (OC, "fileid") => Some(node.id.to_string()),
        (OC, "id") => Some(oc_id(state, node.id)),
        (OC, "size") => Some(node.size.to_string()),
        (DAV, "getcontentlength") if !node.is_folder => Some(node.size.to_string()),
        (DAV, "getcontenttype") if !node.is_folder => text(&node.mime_type),
        (DAV, "getlastmodified") => Some(http_date(node.mtime)),
        (DAV, "getetag") => text(&format!("\"{}\"", node.etag)),
        (DAV, "resourcetype") if node.is_folder => Some("<d:collection/>".into()),
        (DAV, "resourcetype") => Some(String::new()),
        (OC, "permissions") => Some(located.permissions().into()),
        // Team folder items are the requester's, as Nextcloud shows them.
        (OC, "owner-id") => text(node.owner_uid.as_deref().unwrap_or(&context.owner.0)),
        (OC, "owner-display-name") => text(&context.owner.1),
        (OC, "checksums") if !node.is_folder => node
            .checksum
            .as_deref()
            .map(|c| format!("<oc:checksum>{}</oc:checksum>", escape(c))),
        (DAV, "quota-used-bytes") if node.is_folder => Some(node.size.to_string()),
        (DAV, "quota-available-bytes") if node.is_folder => {
            let free = match located.in_team_folder() {
                true => None,
                false => context.free,
            };
            Some(free.unwrap_or(UNLIMITED).to_string())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_properties_cannot_be_patched() {
        let others = [
            (OC, "checksums"),
            (DAV, "quota-used-bytes"),
            (DAV, "quota-available-bytes"),
        ];
        for (namespace, name) in ALL_PROPS.iter().chain(&others) {
            assert!(properties::is_protected(namespace, name), "{name}");
        }
    }
}
