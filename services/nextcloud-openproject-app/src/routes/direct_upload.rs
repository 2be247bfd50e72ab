//! Direct upload (spec §10.1): `POST APP/direct-upload-token` gives a user a single-use token
//! for one folder; `POST APP/direct-upload/{token}` (public, CORS) takes one multipart file
//! into it, streamed to the file store like a WebDAV PUT.

use actix_multipart::Multipart;
use actix_web::{
    http::{header, StatusCode},
    web, HttpRequest, HttpResponse, ResponseError,
};
use futures_util::StreamExt;
use storage_protocol::integration_app::direct_upload::{
    self as wire, messages, parse_overwrite, DirectUploadToken, DirectUploaded,
};

use crate::{
    auth::MaybeUser,
    body,
    domain::files::{
        direct_upload::{self, DirectUploadError},
        store::{ContentStore, Staged, Staging},
    },
    error::ApiError,
    flows::{self, files::stage_stream},
    routes::direct::{integer, parameters},
    state::AppState,
};

/// How long a browser may keep the preflight's answer (Nextcloud's `@CORS` default).
const PREFLIGHT_MAX_AGE_SECS: &str = "1728000";
/// The longest `overwrite` value read.
const OVERWRITE_MAX_BYTES: usize = 16;

/// POST APP/direct-upload-token — user, no CSRF: `folder_id` (JSON, form or query).
pub async fn create_token(
    req: HttpRequest,
    caller: MaybeUser,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = caller.require_user()?;
    let raw = body::read_limited(&req, payload, state.settings.common.max_body_bytes).await?;
    let params = parameters(&req, &raw)?;
    // As Nextcloud casts the parameter: what is not an integer names no folder.
    let folder_id = match params.get("folder_id") {
        None => return Err(ApiError::BadRequest(messages::FOLDER_ID_REQUIRED.into())),
        Some(raw) => {
            integer(Some(raw)).ok_or_else(|| ApiError::from(DirectUploadError::FolderNotFound))?
        }
    };
    let (token, expires_on) =
        flows::direct_upload::create_token(&state, user.uid.clone(), folder_id).await?;
    Ok(HttpResponse::Ok().json(DirectUploadToken { token, expires_on }))
}

/// OPTIONS APP/direct-upload/{token} — the CORS preflight of a browser on another origin.
pub async fn preflight(req: HttpRequest) -> HttpResponse {
    let mut response = HttpResponse::Ok()
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "POST"))
        .insert_header((
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            "Content-Type, Accept, Authorization",
        ))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE_SECS))
        .finish();
    allow_origin(&req, &mut response);
    response
}

/// POST APP/direct-upload/{token} — public, CORS: multipart `file` and optional `overwrite`.
/// Every answer, success or error, may be read by the requesting origin.
pub async fn upload(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let mut response = match receive(&req, path.into_inner(), payload, &state).await {
        Ok(response) => response,
        Err(e) => e.error_response(),
    };
    allow_origin(&req, &mut response);
    response
}

/// `Access-Control-Allow-Origin: <the request's Origin>`.
fn allow_origin(req: &HttpRequest, response: &mut HttpResponse) {
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        headers.insert(header::VARY, header::HeaderValue::from_static("Origin"));
    }
}

async fn receive(
    req: &HttpRequest,
    token: String,
    payload: web::Payload,
    state: &AppState,
) -> Result<HttpResponse, ApiError> {
    let grant = flows::direct_upload::redeem(state, token).await?;
    let form = read_form(req, payload, &state.files, state.settings.max_upload_bytes).await?;
    let Form {
        name,
        overwrite,
        staged,
    } = form;
    let placed = flows::direct_upload::place(state, grant, name, overwrite, staged).await?;
    let status = if placed.outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(DirectUploaded {
        file_name: placed.name,
        file_id: placed.outcome.node.node.id,
    }))
}

/// The form of an upload: the file's name, `overwrite`, and the content, staged.
struct Form {
    name: String,
    overwrite: Option<bool>,
    staged: Staged,
}

/// Reads the multipart body: `overwrite` is checked as soon as it arrives, the file's name
/// before its content is read, and the content streamed to a staging file (refused past
/// `limit`). Other fields are skipped; a second `file` is ignored. On failure nothing is left.
async fn read_form(
    req: &HttpRequest,
    payload: web::Payload,
    store: &ContentStore,
    limit: u64,
) -> Result<Form, ApiError> {
    let mut multipart = Multipart::new(req.headers(), payload);
    let mut overwrite = None;
    let mut file: Option<(String, Staged)> = None;
    let result: Result<(), ApiError> = async {
        while let Some(field) = multipart.next().await {
            // Not a multipart body (or a broken one): there is no file name to take.
            let mut field =
                field.map_err(|_| ApiError::from(DirectUploadError::InvalidFileName))?;
            match field.name() {
                Some(wire::OVERWRITE_FIELD) if overwrite.is_none() => {
                    let mut value = Vec::new();
                    while let Some(chunk) = field.next().await {
                        let chunk = chunk.map_err(unreadable)?;
                        value.extend_from_slice(&chunk);
                        if value.len() > OVERWRITE_MAX_BYTES {
                            return Err(DirectUploadError::InvalidOverwrite.into());
                        }
                    }
                    let value = std::str::from_utf8(&value)
                        .map_err(|_| ApiError::from(DirectUploadError::InvalidOverwrite))?;
                    overwrite = Some(
                        parse_overwrite(Some(value))
                            .map_err(|_| ApiError::from(DirectUploadError::InvalidOverwrite))?,
                    );
                }
                Some(wire::FILE_FIELD) if file.is_none() => {
                    let name = field
                        .content_disposition()
                        .and_then(|cd| cd.get_filename())
                        .map(str::to_string)
                        .ok_or(DirectUploadError::InvalidFileName)?;
                    direct_upload::check_name(&name)?;
                    let staged = stage_stream(&mut field, store, limit, Staging::Content)
                        .await
                        .map_err(|e| match e {
                            ApiError::PayloadTooLarge => ApiError::UploadTooLarge { limit },
                            other => other,
                        })?;
                    file = Some((name, staged));
                }
                _ => {
                    while let Some(chunk) = field.next().await {
                        chunk.map_err(unreadable)?;
                    }
                }
            }
        }
        Ok(())
    }
    .await;
    match (result, file) {
        (Ok(()), Some((name, staged))) => Ok(Form {
            name,
            overwrite: overwrite.flatten(),
            staged,
        }),
        (Ok(()), None) => Err(DirectUploadError::InvalidFileName.into()),
        (Err(e), file) => {
            if let Some((_, staged)) = file {
                store.discard(&staged);
            }
            Err(e)
        }
    }
}

fn unreadable(e: actix_multipart::MultipartError) -> ApiError {
    ApiError::BadRequest(format!("unreadable body: {e}"))
}
