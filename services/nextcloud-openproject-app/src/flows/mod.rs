//! The use cases, one async function per operation, grouped by area like the route modules.
//! A flow owns what an operation does outside the request: its database hops (one
//! [`service_kit::db::Db::run`] per transaction), its calls to OpenProject, and the order of
//! both. Handlers extract, authorize, call the operation's flow and map its result (an
//! OpenProject wrapper opens the user's session first and checks its parameters in between, as
//! the contract orders the refusals); `domain` holds the synchronous rules the flows run on a
//! connection.
//!
//! Error rule: a flow returns [`ApiError`], the service's one error; domain errors reach it
//! through their `From` conversions in `crate::error`. Where a handler answers a failure case
//! by case, the case is a value inside the `Ok`: an OpenProject call returns
//! [`openproject_api::Outcome`], `Result<Result<T, CallError>, ApiError>`, whose inner error is
//! OpenProject's and outer error this service's. No domain error wraps [`ApiError`].

use service_kit::db::AnyConnection;

use crate::{error::ApiError, state::AppState};

pub mod admin;
pub mod apps;
pub mod authentication;
pub mod cloud_users;
pub mod direct;
pub mod direct_upload;
pub mod fileinfo;
pub mod files;
pub mod home;
pub mod oauth2;
pub mod op_instance;
pub mod openproject_api;
pub mod openproject_connection;
pub mod pages;
pub mod pairing;
pub mod search;
pub mod sessions;
pub mod setup;
pub mod webdav;

/// Runs synchronous domain work on a pooled connection; its error converts into [`ApiError`].
async fn run<T, E, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
{
    state
        .db
        .run(move |conn| work(conn).map_err(Into::into))
        .await
}
