use actix_web::{get, http::StatusCode, patch, post, web, HttpResponse};
use serde::Deserialize;
use storage_protocol::{hal::Paging, lenient::read_write_body};

use super::hal;
use crate::{
    auth::Caller,
    body::{parse_id, JsonBody},
    db::users::User,
    error::ApiError,
    flows, representers,
    state::State,
};

async fn visible_user(state: &State, caller: &Caller, raw_id: &str) -> Result<User, ApiError> {
    flows::users::visible_user(state, caller, parse_id(raw_id)?).await
}

/// GET /api/v3/users/me: the caller.
#[utoipa::path(responses((status = 200, description = "User")))]
#[get("/users/me")]
pub async fn me(caller: Caller) -> HttpResponse {
    hal(
        StatusCode::OK,
        &representers::user(&caller.user, &caller.user),
    )
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    #[serde(rename = "pageSize")]
    page_size: Option<String>,
    offset: Option<String>,
}

/// GET /api/v3/users: every user, paged (admin).
#[utoipa::path(responses((status = 200, description = "Collection of users"), (status = 403, description = "Not an admin")))]
#[get("/users")]
pub async fn list(
    state: State,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let paging = Paging::parse(query.page_size.as_deref(), query.offset.as_deref());
    let (page, size) = (paging.page as i64, paging.page_size as i64);
    let (rows, total) = flows::users::page(&state, page, size).await?;
    let elements = rows
        .iter()
        .map(|u| representers::user(u, &caller.user))
        .collect();
    Ok(hal(
        StatusCode::OK,
        &paging.collection("/api/v3/users", total as u64, elements),
    ))
}

/// POST /api/v3/users: create a user (admin).
#[utoipa::path(responses((status = 201, description = "User"), (status = 422, description = "Validation failed")))]
#[post("/users")]
pub async fn create(
    state: State,
    caller: Caller,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let created = flows::users::create(&state, read_write_body(&body.0)).await?;
    Ok(hal(
        StatusCode::CREATED,
        &representers::user(&created, &caller.user),
    ))
}

/// GET /api/v3/users/{id}: the caller themself, or anyone for admins.
#[utoipa::path(responses((status = 200, description = "User"), (status = 404, description = "Not visible")))]
#[get("/users/{id}")]
pub async fn get(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let user = visible_user(&state, &caller, &id).await?;
    Ok(hal(
        StatusCode::OK,
        &representers::user(&user, &caller.user),
    ))
}

/// PATCH /api/v3/users/{id}: change names, e-mail, admin flag, password or status (admin).
#[utoipa::path(responses((status = 200, description = "User"), (status = 422, description = "Validation failed")))]
#[patch("/users/{id}")]
pub async fn update(
    state: State,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let user = visible_user(&state, &caller, &id).await?;
    caller.require_admin()?;
    let updated = flows::users::update(&state, user, read_write_body(&body.0)).await?;
    Ok(hal(
        StatusCode::OK,
        &representers::user(&updated, &caller.user),
    ))
}

/// GET /api/v3/users/{id}/avatar: the host model has no avatars, so clients fall back.
#[utoipa::path(responses((status = 404, description = "No avatar")))]
#[get("/users/{id}/avatar")]
pub async fn avatar(_caller: Caller) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found())
}
