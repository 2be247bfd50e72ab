//! Tables and the queries on them. Every function takes the connection; multi-step writes own
//! their transaction.

pub mod app_passwords;
pub mod auth_failures;
pub mod groups;
pub mod schema;
pub mod sessions;
pub mod users;
