//! What every signed-in page shares: the header ([`Shell`]: app entries, search, user menu),
//! the way anonymous browsers are sent to the login page, and the assets the pages load.

use actix_web::{
    http::{header, StatusCode},
    web, HttpRequest, HttpResponse,
};
use service_kit::web::{find, Asset, UI_KIT_JS};

use crate::{
    auth::{session_token, MaybeUser},
    domain::{authentication::AuthenticatedUser, user_view::Toggles},
    error::{login_url, ApiError},
    flows,
    routes::home::html,
    state::AppState,
};

/// The CSS and JavaScript of the pages, compiled into the binary.
const ASSETS: [Asset; 10] = [
    UI_KIT_JS,
    Asset::new("app.css", include_bytes!("../../assets/app.css")),
    Asset::new("app.js", include_bytes!("../../assets/app.js")),
    Asset::new(
        "admin-settings.js",
        include_bytes!("../../assets/admin-settings.js"),
    ),
    Asset::new(
        "personal-settings.js",
        include_bytes!("../../assets/personal-settings.js"),
    ),
    Asset::new("files.js", include_bytes!("../../assets/files.js")),
    Asset::new(
        "create-work-package.js",
        include_bytes!("../../assets/create-work-package.js"),
    ),
    Asset::new("dashboard.js", include_bytes!("../../assets/dashboard.js")),
    Asset::new("apps.js", include_bytes!("../../assets/apps.js")),
    Asset::new("favicon.svg", include_bytes!("../../assets/favicon.svg")),
];

/// GET /assets/{name} — public; unknown names are 404.
pub async fn asset(req: HttpRequest, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    find(&ASSETS, &name)
        .map(|asset| asset.respond(&req))
        .ok_or(ApiError::NotFound)
}

/// Which header entry or settings section a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Files,
    Dashboard,
    Search,
    PersonalSettings,
    AdminSettings,
    Apps,
}

/// The header and settings navigation of a signed-in page.
pub struct Shell {
    pub uid: String,
    pub display_name: String,
    /// Up to two letters for the avatar.
    pub initials: String,
    pub is_admin: bool,
    pub requesttoken: String,
    pub logout_url: String,
    /// OpenProject's URL when the header lists it (app enabled, user's navigation link on).
    pub openproject_link: Option<String>,
    pub app_enabled: bool,
    /// The user's navigation and unified-search toggles.
    pub toggles: Toggles,
    /// Unified search includes OpenProject (app enabled, user's toggle on).
    pub search_enabled: bool,
    pub section: Section,
}

impl Shell {
    pub fn is(&self, section: Section) -> bool {
        self.section == section
    }
}

/// The [`Shell`] of `user` on a page of `section`.
pub async fn shell(
    state: &AppState,
    user: &AuthenticatedUser,
    section: Section,
) -> Result<Shell, ApiError> {
    let uid = user.uid.clone();
    let view = flows::pages::user_view(state, uid).await?;
    let requesttoken = session_token(state, user).unwrap_or_default();
    Ok(Shell {
        uid: user.uid.clone(),
        display_name: user.display_name.clone(),
        initials: initials(&user.display_name),
        is_admin: user.is_admin,
        logout_url: format!("/index.php/logout?requesttoken={requesttoken}"),
        requesttoken,
        openproject_link: view.openproject_link,
        app_enabled: view.app_enabled,
        search_enabled: view.app_enabled && view.toggles.search,
        toggles: view.toggles,
        section,
    })
}

/// The first letters of the first two words, upper case.
fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

#[derive(askama::Template)]
#[template(path = "access_forbidden.html")]
struct AccessForbiddenPage {
    shell: Shell,
}

/// The shell of an admin page for a signed-in admin, or the response a browser gets instead: the login
/// page for anonymous visitors, an "Access forbidden" page for other users.
pub async fn admin_page(
    req: &HttpRequest,
    caller: MaybeUser,
    state: &AppState,
    section: Section,
) -> Result<Result<Shell, HttpResponse>, ApiError> {
    let Some(user) = caller.0 else {
        return Ok(Err(to_login(req)));
    };
    let page_shell = shell(state, &user, section).await?;
    if !user.is_admin {
        let page = AccessForbiddenPage { shell: page_shell };
        return Ok(Err(html(StatusCode::FORBIDDEN, &page)?));
    }
    Ok(Ok(page_shell))
}

/// The page CSP, with the origin of `redirect_uri` added to `form-action`: browsers apply
/// `form-action` to the redirects a form submission leads to, and the OAuth consent form ends
/// in a redirect to the client. `None` when the URI has no origin to add.
pub fn csp_with_form_redirect_to(redirect_uri: &str) -> Option<String> {
    let origin = url::Url::parse(redirect_uri).ok()?.origin();
    if !origin.is_tuple() {
        return None;
    }
    let (_, csp) = service_kit::web::PAGE_HEADERS
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("Content-Security-Policy"))?;
    Some(csp.replace(
        "form-action 'self'",
        &format!("form-action 'self' {}", origin.ascii_serialization()),
    ))
}

/// 303 to the login page, coming back to this page afterwards.
pub fn to_login(req: &HttpRequest) -> HttpResponse {
    let here = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_string(), |pq| pq.as_str().to_string());
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, login_url(Some(&here))))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_of_display_names() {
        assert_eq!(initials("Ada Lovelace"), "AL");
        assert_eq!(initials("admin"), "A");
        assert_eq!(initials("élise de la Tour"), "ÉD");
        assert_eq!(initials(""), "");
    }

    #[test]
    fn the_consent_form_may_redirect_to_the_client_only() {
        let csp =
            csp_with_form_redirect_to("https://op.example:8443/oauth_clients/x/callback").unwrap();
        assert!(
            csp.contains("form-action 'self' https://op.example:8443;"),
            "{csp}"
        );
        assert!(csp.contains("default-src 'self'"), "{csp}");
        assert_eq!(csp_with_form_redirect_to("not a url"), None);
        assert_eq!(csp_with_form_redirect_to("data:text/plain,x"), None);
    }

    #[test]
    fn every_asset_is_served_by_name() {
        for asset in ASSETS {
            assert!(!asset.body.is_empty(), "{}", asset.name);
        }
        assert!(find(&ASSETS, "app.css").is_some());
        assert!(find(&ASSETS, "../app.css").is_none());
    }
}
