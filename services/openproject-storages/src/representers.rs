//! Rows to wire types. Kept apart from the rows so a column rename cannot change the API.

use service_kit::time::iso8601_millis;
use storage_protocol::{
    hal::Link,
    openproject::{self as wire, user_href},
};

use crate::db::users::User;

/// A user as `viewer` may see them: `login`, `email` and `admin` only for themself and admins.
pub fn user(user: &User, viewer: &User) -> wire::User {
    let full = viewer.id == user.id || viewer.is_active_admin();
    let name = user.name();
    wire::User {
        type_: "User".into(),
        id: user.id,
        name: name.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        status: user.status(),
        avatar: String::new(),
        created_at: iso8601_millis(user.created_at),
        updated_at: iso8601_millis(user.updated_at),
        login: full.then(|| user.login.clone()),
        email: full.then(|| user.email.clone()),
        admin: full.then_some(user.admin),
        links: wire::UserLinks {
            self_: Link::titled(user_href(user.id), name),
        },
    }
}
