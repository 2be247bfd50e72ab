//! GET /index.php/search?q=… — the user's files by name and, when the user enabled unified
//! search, the OpenProject work packages matching the query.

use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;
use serde_json::Value;

use crate::{
    auth::MaybeUser,
    domain::{openproject_api::CallError, search::FoundFile},
    error::ApiError,
    flows,
    routes::{
        home::html,
        pages::{shell, to_login, Section, Shell},
    },
    state::AppState,
};

pub enum WorkPackageResults {
    SearchOff,
    NotConnected,
    Failed,
    Found(Vec<WorkPackageHit>),
}

pub struct WorkPackageHit {
    id: i64,
    subject: String,
    status: String,
    project: String,
    href: String,
}

/// One result line from an OpenProject work package.
fn hit(base: &str, wp: &Value) -> Option<WorkPackageHit> {
    let id = wp["id"].as_i64()?;
    let title = |link: &str| {
        wp["_links"][link]["title"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    Some(WorkPackageHit {
        id,
        subject: wp["subject"].as_str().unwrap_or("").to_string(),
        status: title("status"),
        project: title("project"),
        href: format!("{base}/work_packages/{id}"),
    })
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    shell: Shell,
    query: String,
    files: Vec<FoundFile>,
    work_packages: WorkPackageResults,
}

#[derive(serde::Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

pub async fn get(
    req: HttpRequest,
    caller: MaybeUser,
    query: web::Query<SearchQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(user) = caller.0 else {
        return Ok(to_login(&req));
    };
    let shell = shell(&state, &user, Section::Search).await?;
    let query = query.into_inner().q.unwrap_or_default().trim().to_string();
    let files = flows::search::matching_files(&state, user.uid.clone(), query.clone()).await?;
    let work_packages = if !shell.search_enabled {
        WorkPackageResults::SearchOff
    } else if query.is_empty() {
        WorkPackageResults::Found(Vec::new())
    } else {
        search_work_packages(&state, &user.uid, &query).await?
    };
    html(
        StatusCode::OK,
        &SearchPage {
            shell,
            query,
            files,
            work_packages,
        },
    )
}

async fn search_work_packages(
    state: &AppState,
    uid: &str,
    query: &str,
) -> Result<WorkPackageResults, ApiError> {
    Ok(
        match flows::search::work_packages(state, uid, query).await? {
            Ok((base, Some(list))) => {
                WorkPackageResults::Found(list.iter().filter_map(|wp| hit(&base, wp)).collect())
            }
            Ok((_, None)) => WorkPackageResults::Failed,
            Err(CallError::NoToken | CallError::Refused { status: 401, .. }) => {
                WorkPackageResults::NotConnected
            }
            Err(_) => WorkPackageResults::Failed,
        },
    )
}
