//! The web UI's screens: HTML shells with OpenProject's header and left menus. Each shell names
//! its screen in `data-page`; `/assets/op-pages.js` builds the screen from the REST API v3 (the
//! session cookie plus `X-Requested-With`), so every click is an API call a script can make too.

use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;
use service_kit::{
    time::now_millis,
    web::{find, page_csp_connecting_to, Asset, PAGE_HEADERS, UI_KIT_JS},
};

use super::pages::{login_location, redirect, session_id};
use crate::{
    auth::{Caller, MaybeCaller},
    error::ApiError,
    flows::{self, screens::About},
    state::{AppState, State},
};

/// The CSS and JavaScript of the screens, compiled into the binary.
const ASSETS: [Asset; 3] = [
    UI_KIT_JS,
    Asset::new("op.css", include_bytes!("../../assets/op.css")),
    Asset::new("op-pages.js", include_bytes!("../../assets/op-pages.js")),
];

const SESSION_LIFETIME_SECS: i64 = 8 * 60 * 60;

/// One entry of a left menu.
pub struct MenuItem {
    pub label: &'static str,
    pub href: &'static str,
    pub current: bool,
}

/// A menu whose entries the server knows.
pub struct FixedMenu {
    pub title: &'static str,
    pub items: Vec<MenuItem>,
}

/// The left menu of a screen.
pub enum Menu {
    /// Administration or My account: known without asking the API.
    Fixed(FixedMenu),
    /// Project settings: its entries depend on the project's modules, so the script fills it.
    Project,
    None,
}

impl Menu {
    fn administration(current: &str) -> Menu {
        Menu::Fixed(FixedMenu {
            title: "Administration",
            items: vec![MenuItem {
                label: "File storages",
                href: "/admin/settings/storages",
                current: current == "storages",
            }],
        })
    }

    fn my_account(current: &str) -> Menu {
        Menu::Fixed(FixedMenu {
            title: "My account",
            items: vec![
                MenuItem {
                    label: "Account",
                    href: "/my/account",
                    current: current == "account",
                },
                MenuItem {
                    label: "File storages",
                    href: "/my/file_storages",
                    current: current == "file_storages",
                },
            ],
        })
    }
}

/// What every screen's frame shows: the instance, the header (Administration for admins only),
/// the sign-out form's token, and the left menu.
pub struct Frame {
    pub instance_name: String,
    pub admin: bool,
    pub csrf_token: String,
    pub menu: Menu,
}

impl Frame {
    pub fn new(state: &AppState, req: &HttpRequest, caller: &Caller, menu: Menu) -> Frame {
        let expires = now_millis() / 1000 + SESSION_LIFETIME_SECS;
        Frame {
            instance_name: state.settings.instance_name.clone(),
            admin: caller.user.is_active_admin(),
            csrf_token: state.csrf.issue(&session_id(req), expires),
            menu,
        }
    }
}

#[derive(Template)]
#[template(path = "app.html")]
struct Shell<'a> {
    frame: Frame,
    title: &'a str,
    page: &'a str,
    id: &'a str,
    project: &'a str,
    tab: &'a str,
    message: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage<'a> {
    instance_name: &'a str,
}

/// A screen: which one, its title, its left menu and what it is about.
struct Screen<'a> {
    page: &'a str,
    title: &'a str,
    menu: Menu,
    id: &'a str,
    project: &'a str,
    tab: &'a str,
    about: About,
    /// Origins the page's scripts may connect to beyond its own (`connect-src`).
    connect_to: Vec<String>,
}

impl<'a> Screen<'a> {
    fn new(page: &'a str, title: &'a str, menu: Menu) -> Self {
        Screen {
            page,
            title,
            menu,
            id: "",
            project: "",
            tab: "",
            about: About::Nothing,
            connect_to: Vec::new(),
        }
    }
}

/// An HTML response with the page security headers, never cached.
pub fn html(
    status: StatusCode,
    body: Result<String, askama::Error>,
) -> Result<HttpResponse, ApiError> {
    html_connecting(status, body, &[])
}

/// [`html`] for a page whose scripts also call the hosts `connect_to` (direct upload).
fn html_connecting(
    status: StatusCode,
    body: Result<String, askama::Error>,
    connect_to: &[String],
) -> Result<HttpResponse, ApiError> {
    let body = body.map_err(|e| anyhow::anyhow!("template: {e}"))?;
    let mut response = HttpResponse::build(status);
    for header in PAGE_HEADERS {
        response.insert_header(header);
    }
    if !connect_to.is_empty() {
        response.insert_header((
            "Content-Security-Policy",
            page_csp_connecting_to(connect_to),
        ));
    }
    Ok(response
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(body))
}

/// Who may see a screen.
#[derive(PartialEq)]
enum Audience {
    SignedIn,
    Admins,
}

/// Renders `screen` for a signed-in caller; without a session, to the login page and back.
async fn render(
    state: &AppState,
    req: &HttpRequest,
    caller: MaybeCaller,
    audience: Audience,
    screen: Screen<'_>,
) -> Result<HttpResponse, ApiError> {
    let Some(caller) = caller.0 else {
        return Ok(redirect(&login_location(state, req)));
    };
    let allowed = audience == Audience::SignedIn || caller.user.is_active_admin();
    if allowed && !flows::screens::visible(state, &caller, screen.about).await? {
        return not_found_page(state);
    }
    let frame = Frame::new(
        state,
        req,
        &caller,
        if allowed { screen.menu } else { Menu::None },
    );
    let (status, shell) = if allowed {
        let shell = Shell {
            frame,
            title: screen.title,
            page: screen.page,
            id: screen.id,
            project: screen.project,
            tab: screen.tab,
            message: None,
        };
        (StatusCode::OK, shell)
    } else {
        let shell = Shell {
            frame,
            title: "Not authorized",
            page: "",
            id: "",
            project: "",
            tab: "",
            message: Some("You are not authorized to access this page. Only administrators can."),
        };
        (StatusCode::FORBIDDEN, shell)
    };
    html_connecting(status, shell.render(), &screen.connect_to)
}

/// A positive id from a path segment, as written and as a number.
fn path_id(raw: &str) -> Option<(&str, i64)> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0 && raw.bytes().all(|b| b.is_ascii_digit()))
        .map(|id| (raw, id))
}

/// The HTML 404 page, for every path outside the API that no route takes.
pub async fn not_found(state: State) -> Result<HttpResponse, ApiError> {
    not_found_page(&state)
}

fn not_found_page(state: &AppState) -> Result<HttpResponse, ApiError> {
    html(
        StatusCode::NOT_FOUND,
        NotFoundPage {
            instance_name: &state.settings.instance_name,
        }
        .render(),
    )
}

/// GET /assets/{name}
pub async fn asset(
    state: State,
    req: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    match find(&ASSETS, &name) {
        Some(asset) => Ok(asset.respond(&req)),
        None => not_found(state).await,
    }
}

/// GET /admin: Administration opens on its only section.
pub async fn administration(
    state: State,
    req: HttpRequest,
    caller: MaybeCaller,
) -> Result<HttpResponse, ApiError> {
    if caller.0.is_none() {
        return Ok(redirect(&login_location(&state, &req)));
    }
    Ok(redirect("/admin/settings/storages"))
}

/// GET /admin/settings/storages: the storages, with "+ Storage".
pub async fn storages(
    state: State,
    req: HttpRequest,
    caller: MaybeCaller,
) -> Result<HttpResponse, ApiError> {
    let screen = Screen::new(
        "storages",
        "File storages",
        Menu::administration("storages"),
    );
    render(&state, &req, caller, Audience::Admins, screen).await
}

/// GET /admin/settings/storages/new: the new-storage wizard (steps 2 and 4 of the setup).
pub async fn new_storage(
    state: State,
    req: HttpRequest,
    caller: MaybeCaller,
) -> Result<HttpResponse, ApiError> {
    let screen = Screen::new(
        "storage-new",
        "New storage",
        Menu::administration("storages"),
    );
    render(&state, &req, caller, Audience::Admins, screen).await
}

/// GET /admin/settings/storages/{id}/edit: one storage, its health, OAuth values and deletion.
pub async fn storage(
    state: State,
    req: HttpRequest,
    caller: MaybeCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let Some((id, number)) = path_id(&id) else {
        return not_found(state).await;
    };
    let screen = Screen {
        id,
        about: About::Storage(number),
        ..Screen::new("storage", "File storage", Menu::administration("storages"))
    };
    render(&state, &req, caller, Audience::Admins, screen).await
}

/// GET /projects: the caller's projects.
pub async fn projects(
    state: State,
    req: HttpRequest,
    caller: MaybeCaller,
) -> Result<HttpResponse, ApiError> {
    let screen = Screen::new("projects", "Projects", Menu::None);
    render(&state, &req, caller, Audience::SignedIn, screen).await
}

/// The project screens: `{project}` is an id or identifier, resolved by the API.
fn project_screen<'a>(page: &'a str, title: &'a str, project: &'a str) -> Screen<'a> {
    Screen {
        project,
        about: About::Project(project.to_string()),
        ..Screen::new(page, title, Menu::Project)
    }
}

/// GET /projects/{project}: the project's work packages.
pub async fn project(
    state: State,
    req: HttpRequest,
    caller: MaybeCaller,
    project: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let screen = project_screen("project", "Work packages", &project);
    render(&state, &req, caller, Audience::SignedIn, screen).await
}

/// GET /projects/{project}/settings: project settings open on Modules.
pub async fn project_settings(project: web::Path<String>) -> HttpResponse {
    let path: String = url::form_urlencoded::byte_serialize(project.as_bytes()).collect();
    redirect(&format!("/projects/{path}/settings/modules"))
}

/// GET /projects/{project}/settings/modules
pub async fn project_modules(
    state: State,
    req: HttpRequest,
    caller: MaybeCaller,
    project: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let screen = project_screen("project-modules", "Modules", &project);
    render(&state, &req, caller, Audience::SignedIn, screen).await
}

/// GET /projects/{project}/settings/project_storages: the project's file storages (step 5).
pub async fn project_storages(
    state: State,
    req: HttpRequest,
    caller: MaybeCaller,
    project: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let screen = project_screen("project-storages", "File storages", &project);
    render(&state, &req, caller, Audience::SignedIn, screen).await
}

/// GET /work_packages/{id} and /work_packages/{id}/{tab}: a work package, with its "Files" tab.
pub async fn work_package(
    state: State,
    req: HttpRequest,
    caller: MaybeCaller,
) -> Result<HttpResponse, ApiError> {
    let id = req.match_info().get("id").unwrap_or_default().to_string();
    let tab = req
        .match_info()
        .get("tab")
        .unwrap_or("overview")
        .to_string();
    let (Some((id, number)), true) = (path_id(&id), matches!(tab.as_str(), "overview" | "files"))
    else {
        return not_found(state).await;
    };
    // The Files tab posts uploads straight to the storages of the work package's project.
    let connect_to = match (&caller.0, tab.as_str()) {
        (Some(who), "files") => flows::screens::upload_hosts(&state, who, number).await?,
        _ => Vec::new(),
    };
    let screen = Screen {
        id,
        about: About::WorkPackage(number),
        tab: &tab,
        connect_to,
        ..Screen::new("work-package", "Work package", Menu::Project)
    };
    render(&state, &req, caller, Audience::SignedIn, screen).await
}

/// GET /my/account
pub async fn my_account(
    state: State,
    req: HttpRequest,
    caller: MaybeCaller,
) -> Result<HttpResponse, ApiError> {
    let screen = Screen::new("my-account", "Account", Menu::my_account("account"));
    render(&state, &req, caller, Audience::SignedIn, screen).await
}

/// GET /my/file_storages: the caller's connection to each visible storage.
pub async fn my_file_storages(
    state: State,
    req: HttpRequest,
    caller: MaybeCaller,
) -> Result<HttpResponse, ApiError> {
    let screen = Screen::new(
        "my-storages",
        "File storages",
        Menu::my_account("file_storages"),
    );
    render(&state, &req, caller, Audience::SignedIn, screen).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_positive_numbers_are_ids() {
        assert_eq!(path_id("12"), Some(("12", 12)));
        assert_eq!(path_id("0"), None);
        assert_eq!(path_id("-3"), None);
        assert_eq!(path_id("+3"), None);
        assert_eq!(path_id("12a"), None);
    }

    #[test]
    fn the_screens_assets_are_served_by_name() {
        for name in ["ui-kit.js", "op.css", "op-pages.js"] {
            assert!(find(&ASSETS, name).is_some(), "{name}");
        }
    }
}
