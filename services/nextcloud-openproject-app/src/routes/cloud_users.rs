//! `/ocs/v{1,2}.php/cloud/user` and `/cloud/users` (contract §2).

use actix_web::{web, HttpRequest, HttpResponse};
use storage_protocol::nextcloud::{messages, ProvisionUser, ProvisionedUser};

use crate::{
    auth::{check_csrf, MaybeUser, REQUEST_TOKEN},
    body,
    domain::provisioning,
    error::{ApiError, OcsFormat},
    flows,
    state::AppState,
};

/// GET /ocs/v{1,2}.php/cloud/user — the caller.
pub async fn current(
    format: OcsFormat,
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let uid = caller.require_user()?.uid.clone();
    let user = flows::cloud_users::current(&state, uid).await?;
    format.ok(user)
}

/// GET /ocs/v{1,2}.php/cloud/users/{userid} — admins, or the user themself. Others get the
/// same answer as for an unknown user.
pub async fn get(
    format: OcsFormat,
    caller: MaybeUser,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.require_user()?.clone();
    let (_, wanted) = path.into_inner();
    let user = flows::cloud_users::get(&state, caller, wanted).await?;
    format.ok(user)
}

/// POST /ocs/v{1,2}.php/cloud/users — admins create users. Parameters from the query, a form
/// body or a JSON body; refusals in the contract's order.
pub async fn create(
    req: HttpRequest,
    format: OcsFormat,
    caller: MaybeUser,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.require_user()?;
    let raw = body::read_limited(&req, payload, state.settings.common.max_body_bytes).await?;
    let json = body::is_json(&req);
    let form = if json || raw.is_empty() {
        Vec::new()
    } else {
        body::parse_pairs(&raw)?
    };
    let form_token = form
        .iter()
        .find_map(|(k, v)| (k == REQUEST_TOKEN).then_some(v.as_str()));
    check_csrf(&state, &req, caller, form_token)?;
    if !caller.is_admin {
        return Err(ApiError::ocs(403, messages::MUST_BE_SUBADMIN));
    }
    let query = body::parse_pairs(req.query_string().as_bytes())?;
    let mut request = from_pairs(query.into_iter().chain(form));
    if json && !raw.is_empty() {
        overlay(&mut request, body::parse_json(&raw)?);
    }

    let uid = flows::cloud_users::create(&state, request).await?;
    tracing::info!(
        uid = uid.as_str(),
        by = caller.uid.as_str(),
        "user provisioned"
    );
    format.ok(ProvisionedUser {
        id: uid.as_str().to_string(),
    })
}

/// PUT /ocs/v{1,2}.php/cloud/users/{userid} — admins edit a user: `key` and `value` from the
/// query, a form or a JSON body. The key this host model keeps is `quota` (bytes, `5 GB`,
/// `none`); others answer 103.
pub async fn edit(
    req: HttpRequest,
    format: OcsFormat,
    caller: MaybeUser,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.require_user()?;
    let raw = body::read_limited(&req, payload, state.settings.common.max_body_bytes).await?;
    let json = body::is_json(&req);
    let mut pairs = body::parse_pairs(req.query_string().as_bytes())?;
    if json && !raw.is_empty() {
        let body: EditUser = body::parse_json(&raw)?;
        pairs.push(("key".into(), body.key));
        pairs.push(("value".into(), body.value));
    } else if !raw.is_empty() {
        pairs.extend(body::parse_pairs(&raw)?);
    }
    let form_token = pairs
        .iter()
        .find_map(|(k, v)| (k == REQUEST_TOKEN).then_some(v.as_str()));
    check_csrf(&state, &req, caller, form_token)?;
    if !caller.is_admin {
        return Err(ApiError::ocs(403, messages::MUST_BE_SUBADMIN));
    }
    let param = |name: &str| {
        pairs
            .iter()
            .rev()
            .find_map(|(k, v)| (k == name).then(|| v.clone()))
            .unwrap_or_default()
    };
    let (key, value) = (param("key"), param("value"));
    if key != "quota" {
        return Err(ApiError::ocs(103, "Invalid key"));
    }
    let quota = provisioning::parse_quota(&value)
        .map_err(|_| ApiError::ocs(102, format!("Invalid quota value: {value}")))?;
    let (_, uid) = path.into_inner();
    let changed = flows::cloud_users::set_quota(&state, uid, quota).await?;
    tracing::info!(
        uid = changed.as_str(),
        by = caller.uid.as_str(),
        "quota set"
    );
    format.ok(serde_json::Value::Array(vec![]))
}

/// The JSON body of an edit.
#[derive(Debug, serde::Deserialize)]
struct EditUser {
    key: String,
    #[serde(default)]
    value: String,
}

/// Query and form parameters, `groups[]` repeated (also `groups[<n>]` and `groups`).
fn from_pairs(pairs: impl Iterator<Item = (String, String)>) -> ProvisionUser {
    let mut request = ProvisionUser::default();
    for (key, value) in pairs {
        match key.as_str() {
            "userid" => request.userid = value,
            "password" => request.password = value,
            "displayName" => request.display_name = Some(value),
            "email" => request.email = Some(value),
            "groups" => request.groups.push(value),
            k if k.starts_with("groups[") && k.ends_with(']') => request.groups.push(value),
            _ => {}
        }
    }
    request
}

/// A JSON body's values win over the query's.
fn overlay(request: &mut ProvisionUser, body: ProvisionUser) {
    if !body.userid.is_empty() {
        request.userid = body.userid;
    }
    if !body.password.is_empty() {
        request.password = body.password;
    }
    if body.display_name.is_some() {
        request.display_name = body.display_name;
    }
    if body.email.is_some() {
        request.email = body.email;
    }
    if !body.groups.is_empty() {
        request.groups = body.groups;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_parameters() {
        let pairs = body::parse_pairs(
            b"userid=bob&password=pw&displayName=Bob+B&groups%5B%5D=a&groups[]=b&groups[2]=c",
        )
        .unwrap();
        let request = from_pairs(pairs.into_iter());
        assert_eq!(request.userid, "bob");
        assert_eq!(request.display_name.as_deref(), Some("Bob B"));
        assert_eq!(request.groups, ["a", "b", "c"]);
    }

    #[test]
    fn json_overlays_the_query() {
        let mut request = from_pairs([("userid".to_string(), "q".to_string())].into_iter());
        overlay(
            &mut request,
            serde_json::from_str(r#"{"password": "pw", "groups": ["x"]}"#).unwrap(),
        );
        assert_eq!(request.userid, "q");
        assert_eq!(request.password, "pw");
        assert_eq!(request.groups, ["x"]);
    }
}
