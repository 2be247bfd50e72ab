//! Direct download (spec §8): `POST /ocs/v{1,2}.php/apps/dav/api/v1/direct` makes a link for a
//! file; `/remote.php/direct/{token}` and `APP/direct/{token}/{fileName}` serve it without
//! authentication until the token expires.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use serde_json::Value;
use storage_protocol::{nextcloud::DirectDownload, xml::escape};

use crate::{
    auth::{check_csrf, MaybeUser},
    body,
    domain::files::{
        direct::{DEFAULT_LIFETIME_SECS, FILE_NOT_FOUND, MAX_LIFETIME_SECS},
        Located,
    },
    error::{ApiError, OcsFormat},
    flows,
    flows::files::read_stream,
    routes::webdav::http_date,
    state::AppState,
};

/// POST /ocs/v{1,2}.php/apps/dav/api/v1/direct — `fileId`, optional `expirationTime` (JSON,
/// form or query).
pub async fn create(
    req: HttpRequest,
    format: OcsFormat,
    caller: MaybeUser,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = caller.require_user()?;
    check_csrf(&state, &req, user, None)?;
    let raw = body::read_limited(&req, payload, state.settings.common.max_body_bytes).await?;
    let params = parameters(&req, &raw)?;
    // Nextcloud casts the parameter to an integer: anything but digits names no file (404).
    let file_id = match params.get("fileId") {
        None => return Err(ApiError::ocs(400, "fileId must be an integer")),
        Some(raw) => integer(Some(raw)).ok_or_else(|| ApiError::ocs(404, FILE_NOT_FOUND))?,
    };
    let lifetime = match params.get("expirationTime") {
        None => DEFAULT_LIFETIME_SECS,
        Some(raw) => match integer(Some(raw)) {
            Some(secs) if secs <= 0 => {
                return Err(ApiError::ocs(
                    400,
                    "Expiration time should be greater than 0",
                ))
            }
            Some(secs) if secs > MAX_LIFETIME_SECS => {
                return Err(ApiError::ocs(
                    400,
                    "Expiration time cannot be greater than 24 hours",
                ))
            }
            Some(secs) => secs,
            None => return Err(ApiError::ocs(400, "expirationTime must be an integer")),
        },
    };
    let token = flows::direct::create(&state, user.uid.clone(), file_id, lifetime).await?;
    format.ok(DirectDownload {
        url: format!("{}/remote.php/direct/{token}", state.public_url),
    })
}

/// Query, then form or JSON body parameters (the body wins), as strings or JSON scalars.
pub(crate) fn parameters(
    req: &HttpRequest,
    raw: &[u8],
) -> Result<serde_json::Map<String, Value>, ApiError> {
    let mut params = serde_json::Map::new();
    for (key, value) in body::parse_pairs(req.query_string().as_bytes())? {
        params.insert(key, Value::String(value));
    }
    if raw.is_empty() {
        return Ok(params);
    }
    if body::is_json(req) {
        if let Value::Object(map) = body::parse_json::<Value>(raw)? {
            params.extend(map);
        }
    } else {
        for (key, value) in body::parse_pairs(raw)? {
            params.insert(key, Value::String(value));
        }
    }
    Ok(params)
}

/// An integer given as a JSON number or a string of digits.
pub(crate) fn integer(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn download(located: &Located, file: std::fs::File, file_name: &str) -> HttpResponse {
    let node = &located.node;
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, node.mime_type.as_str()))
        .insert_header((header::CONTENT_DISPOSITION, disposition(file_name)))
        .insert_header((header::ETAG, format!("\"{}\"", node.etag)))
        .insert_header((header::LAST_MODIFIED, http_date(node.mtime)))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .no_chunking(node.size.max(0) as u64)
        .streaming(read_stream(file, node.size.max(0) as u64))
}

/// `attachment; filename="<name>"`, quotes and backslashes escaped, control characters dropped;
/// non-ASCII names also as `filename*`.
fn disposition(name: &str) -> String {
    let plain: String = name
        .chars()
        .filter(|c| !c.is_control())
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    if name.is_ascii() {
        format!("attachment; filename=\"{plain}\"")
    } else {
        let encoded =
            percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
        format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{encoded}")
    }
}

/// GET /remote.php/direct/{token} — public; 404 when the link does not work.
pub async fn by_token(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    match flows::direct::open(&state, path.into_inner()).await? {
        Some((located, file)) => {
            let name = located.name().to_string();
            Ok(download(&located, file, &name))
        }
        None => Err(ApiError::Missing("File not found".into())),
    }
}

/// GET APP/direct/{token}/{fileName} — public; failure is an HTML page.
pub async fn by_token_and_name(
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (token, file_name) = path.into_inner();
    match flows::direct::open(&state, token).await? {
        Some((located, file)) => Ok(download(&located, file, &file_name)),
        None => Ok(HttpResponse::NotFound()
            .content_type("text/html; charset=utf-8")
            .body(format!(
                "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head><body><h1>{title}</h1><p>{message}</p></body></html>",
                title = escape("Direct download error"),
                message = escape("This direct download link is invalid or has expired"),
            ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions() {
        assert_eq!(disposition("plan.pdf"), "attachment; filename=\"plan.pdf\"");
        assert_eq!(disposition("a\"b"), "attachment; filename=\"a\\\"b\"");
        assert_eq!(
            disposition("ü.txt"),
            "attachment; filename=\"ü.txt\"; filename*=UTF-8''%C3%BC%2Etxt"
        );
    }
}
