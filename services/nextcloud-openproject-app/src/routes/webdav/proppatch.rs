//! PROPPATCH (RFC 4918 §9.2): sets and removes the caller's dead properties of a node, all or
//! nothing, and answers 207 with each property's outcome as Sabre does: 200 when applied, 403
//! for a live property, 424 for the others when one is refused. Limits on names, values and
//! their number answer 403 or 507 for the property concerned. A body that is not a
//! `propertyupdate` document is 400.

use actix_web::{web, HttpRequest, HttpResponse};
use storage_protocol::{
    multistatus::{Multistatus, Propstat},
    proppatch::parse_proppatch,
};

use super::{multi_status, DavPath};
use crate::{
    domain::{
        authentication::AuthenticatedUser,
        files::properties::{PropertyStatus, MAX_NAME_BYTES, MAX_PER_NODE, MAX_VALUE_BYTES},
    },
    error::ApiError,
    flows,
    state::AppState,
};

/// The outcomes in the order their propstats are written.
const ORDER: [PropertyStatus; 6] = [
    PropertyStatus::Applied,
    PropertyStatus::Protected,
    PropertyStatus::NameTooLong,
    PropertyStatus::ValueTooLarge,
    PropertyStatus::TooMany,
    PropertyStatus::FailedDependency,
];

/// An outcome's status line, precondition code (RFC 4918 §16) and explanation.
fn describe(outcome: PropertyStatus) -> (&'static str, Option<&'static str>, Option<String>) {
    match outcome {
        PropertyStatus::Applied => ("200 OK", None, None),
        PropertyStatus::Protected => (
            "403 Forbidden",
            Some("cannot-modify-protected-property"),
            Some("The server computes this property; it cannot be set or removed".into()),
        ),
        PropertyStatus::NameTooLong => (
            "403 Forbidden",
            None,
            Some(format!(
                "Property names ({{namespace}}name) are limited to {MAX_NAME_BYTES} bytes"
            )),
        ),
        PropertyStatus::ValueTooLarge => (
            "507 Insufficient Storage",
            None,
            Some(format!(
                "Property values are limited to {MAX_VALUE_BYTES} bytes"
            )),
        ),
        PropertyStatus::TooMany => (
            "507 Insufficient Storage",
            None,
            Some(format!(
                "A resource keeps at most {MAX_PER_NODE} properties per user"
            )),
        ),
        PropertyStatus::FailedDependency => (
            "424 Failed Dependency",
            None,
            Some("Not applied because another property of the request was refused".into()),
        ),
    }
}

/// PROPPATCH — 207 multistatus.
pub(super) async fn proppatch(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    user: &AuthenticatedUser,
    target: DavPath,
) -> Result<HttpResponse, ApiError> {
    let raw = crate::body::read_limited(req, payload, state.settings.common.max_body_bytes).await?;
    let updates = std::str::from_utf8(&raw)
        .map_err(|e| e.to_string())
        .and_then(|body| parse_proppatch(body).map_err(|e| e.to_string()))
        .map_err(|reason| {
            ApiError::BadRequest(format!(
                "The request body is not a valid propertyupdate document: {reason}"
            ))
        })?;
    let (node, results) =
        flows::webdav::proppatch(state, user, target.segments.clone(), updates).await?;
    let propstats: Vec<Propstat<'_>> = ORDER
        .into_iter()
        .map(|outcome| {
            let (status, error, description) = describe(outcome);
            Propstat {
                status,
                names: results
                    .iter()
                    .filter(|(_, s)| *s == outcome)
                    .map(|(name, _)| name)
                    .collect(),
                error,
                description,
            }
        })
        .collect();
    let mut out = Multistatus::new();
    out.propstats(&target.href(&node.path, node.node.is_folder), &propstats);
    Ok(multi_status(out))
}
