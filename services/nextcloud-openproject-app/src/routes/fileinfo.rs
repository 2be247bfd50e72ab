//! `OCSAPP/fileinfo/{fileId}` and `OCSAPP/filesinfo` (spec §5): what OpenProject learns about
//! linked files with the user's token.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;
use storage_protocol::files::{messages, MAX_FILES_INFO_IDS};

use crate::{
    auth::{check_csrf, MaybeUser},
    body,
    error::{ApiError, OcsFormat},
    flows,
    state::AppState,
};

/// GET OCSAPP/fileinfo/{fileId} — one record; 403/404 records carry their code to the envelope.
pub async fn fileinfo(
    format: OcsFormat,
    caller: MaybeUser,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let uid = caller.require_user()?.uid.clone();
    let (_, file_id) = path.into_inner();
    let record = flows::fileinfo::record(&state, uid, file_id).await?;
    match record.statuscode() {
        200 => format.ok(record),
        code => Ok(format.failure(code, serde_json::to_value(record).unwrap_or_default())),
    }
}

/// POST OCSAPP/filesinfo — `{"fileIds": [...]}`, one record per distinct id in request order.
pub async fn filesinfo(
    req: HttpRequest,
    format: OcsFormat,
    caller: MaybeUser,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = caller.require_user()?;
    check_csrf(&state, &req, user, None)?;
    let raw = body::read_limited(&req, payload, state.settings.common.max_body_bytes).await?;
    let Some(ids) = requested_ids(&raw) else {
        return Ok(format.failure(400, Value::String(messages::INVALID_REQUEST.into())));
    };
    let records = flows::fileinfo::records(&state, user.uid.clone(), ids).await?;
    format.ok(records)
}

/// The distinct ids of a `filesinfo` body in request order, `None` when it is not
/// `{"fileIds": [<int or numeric string>, …]}` with at most 1000 ids.
fn requested_ids(raw: &[u8]) -> Option<Vec<String>> {
    let body: Value = serde_json::from_slice(raw).ok()?;
    let list = body.get("fileIds")?.as_array()?;
    if list.len() > MAX_FILES_INFO_IDS {
        return None;
    }
    let mut ids: Vec<String> = Vec::with_capacity(list.len());
    for value in list {
        let id = match value {
            Value::Number(n) => n.as_i64()?.to_string(),
            Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.clone(),
            _ => return None,
        };
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Some(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_ids_are_validated() {
        assert_eq!(
            requested_ids(br#"{"fileIds": [12, "7", 12, "12", "0099"]}"#),
            Some(vec!["12".into(), "7".into(), "0099".into()])
        );
        assert_eq!(requested_ids(br#"{"fileIds": []}"#), Some(vec![]));
        for bad in [
            &br#"{"fileIds": "12"}"#[..],
            br#"{"ids": [1]}"#,
            br#"[1]"#,
            br#"{"fileIds": [1.5]}"#,
            br#"{"fileIds": ["a1"]}"#,
            br#"{"fileIds": [true]}"#,
            br#"{"fileIds": [null]}"#,
            b"not json",
        ] {
            assert_eq!(requested_ids(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        let too_many = format!("{{\"fileIds\": [{}]}}", vec!["1"; 1001].join(","));
        assert_eq!(requested_ids(too_many.as_bytes()), None);
        let most = format!("{{\"fileIds\": [{}]}}", vec!["1"; 1000].join(","));
        assert!(requested_ids(most.as_bytes()).is_some());
    }
}
