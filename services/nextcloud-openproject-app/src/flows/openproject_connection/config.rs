//! `PUT APP/config` (nextcloud-openproject-app.md §4): the user's preferences stored, then a
//! personal access token connected or the connection cleared and its refresh token revoked.

use service_kit::crypto::SecretString;
use storage_protocol::integration_app::messages;

use crate::{
    domain::{
        openproject_connection::{connection_lock, ConfigChanges, ConfigOutcome},
        preferences::{self, keys, PreferenceError, Whose},
        settings::AdminSettings,
    },
    error::ApiError,
    peer::{self, Tokens},
    state::AppState,
};

use super::{tokens, OpenProject};

/// `PUT APP/config`: stores the preferences, then connects with a personal access token or
/// disconnects (revoking the refresh token at OpenProject, best effort).
pub async fn update_config(
    state: &AppState,
    uid: &str,
    changes: ConfigChanges,
) -> Result<ConfigOutcome, ApiError> {
    let op = state.openproject();
    let secret_box = op.secret_box.clone();
    let owner = uid.to_string();
    let values = changes.values.clone();
    op.db
        .run(move |conn| {
            service_kit::db::write_transaction(conn, |conn| {
                for (key, value) in &values {
                    match value {
                        Some(value) => preferences::set(conn, &secret_box, &owner, key, value)?,
                        None => preferences::delete(conn, &owner, key).map(drop)?,
                    }
                }
                Ok::<_, diesel::result::Error>(())
            })
            .map_err(ApiError::from)
        })
        .await?;
    match changes.token.as_deref() {
        None => Ok(ConfigOutcome::Stored),
        Some("") => {
            disconnect(op, uid).await?;
            Ok(ConfigOutcome::Disconnected)
        }
        Some(token) => connect_with_personal_token(op, uid, token).await,
    }
}

/// Clears the user's connection, then revokes its refresh token at OpenProject (Extension, best
/// effort: the answer is ignored).
async fn disconnect(op: OpenProject<'_>, uid: &str) -> Result<(), ApiError> {
    let secret_box = op.secret_box.clone();
    let owner = uid.to_string();
    let (refresh_token, settings) = op
        .db
        .run(move |conn| {
            service_kit::db::write_transaction(conn, |conn| {
                // A token sealed with another key cannot be revoked; the rest goes on.
                let refresh = preferences::get(conn, &secret_box, &owner, keys::REFRESH_TOKEN)
                    .or_else(|e| match e {
                        PreferenceError::Sealed(_) => Ok(None),
                        other => Err(ApiError::from(other)),
                    })?;
                preferences::clear_openproject_connection(conn, Whose::User(&owner))?;
                Ok::<_, ApiError>((refresh, AdminSettings::load(conn, &secret_box)?))
            })
        })
        .await?;
    let Some(refresh_token) = refresh_token.filter(|t| !t.is_empty()) else {
        return Ok(());
    };
    peer::revoke_refresh_token(op.http, &settings, &refresh_token).await;
    Ok(())
}

async fn connect_with_personal_token(
    op: OpenProject<'_>,
    uid: &str,
    token: &str,
) -> Result<ConfigOutcome, ApiError> {
    let tokens = Tokens {
        access: SecretString::new(token),
        refresh: None,
        expires_at: 0,
    };
    let secret_box = op.secret_box.clone();
    let owner = uid.to_string();
    let openproject_url = op
        .db
        .run(move |conn| {
            crate::db::serialized_transaction(conn, connection_lock(&owner), |conn| {
                preferences::clear_openproject_connection(conn, Whose::User(&owner))?;
                preferences::set(
                    conn,
                    &secret_box,
                    &owner,
                    keys::TOKEN,
                    tokens.access.expose(),
                )?;
                Ok::<_, ApiError>(AdminSettings::load(conn, &secret_box)?.openproject_instance_url)
            })
        })
        .await?;
    // Through the token getter, as every OpenProject call goes (a personal token never expires).
    let identity = match tokens::openproject_access_token(op, uid).await {
        Ok(token) if !openproject_url.is_empty() => {
            peer::fetch_me(op.http, &openproject_url, &token).await
        }
        Ok(_) => Err(messages::ADMIN_CONFIG_NOT_VALID.to_string()),
        Err(tokens::AccessTokenError::Unexpected(cause)) => {
            return Err(ApiError::Unexpected(cause))
        }
        Err(e) => Err(e.to_string()),
    };
    match identity {
        Ok(identity) => {
            let name = identity.name.clone();
            tokens::store_identity(op, uid, Some(identity)).await?;
            Ok(ConfigOutcome::Connected(name))
        }
        Err(reason) => {
            let owner = uid.to_string();
            op.db
                .run(move |conn| {
                    preferences::clear_openproject_connection(conn, Whose::User(&owner))
                        .map_err(ApiError::from)
                })
                .await?;
            Ok(ConfigOutcome::Refused(reason))
        }
    }
}
