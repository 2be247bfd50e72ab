//! The Nextcloud OAuth client for OpenProject (oauth.md §3.4): named `OpenProject client`,
//! id and secret of 64 characters `[A-Za-z0-9]`, the secret stored as an HMAC digest (keyed
//! with `NCOA_SECRET_KEY`, so a copy of the database alone cannot test guesses) and shown once,
//! redirect URI `<opUrl>/oauth_clients/<clientId>/callback`. At most one exists; its internal
//! id is the app config `nc_oauth_client_id`. Deleting it deletes what it issued (foreign keys).

use service_kit::{
    crypto::{self, constant_time_eq, SecretBox, SecretString, KEYED_DIGEST_PREFIX},
    db::AnyConnection,
    time::now_millis,
};
use storage_protocol::integration_app::{keys, APP_ID, NC_OAUTH_CLIENT_NAME};
use storage_protocol::storages::openproject_oauth_callback;

use crate::db::{
    app_config,
    oauth_clients::{self, NewOAuthClientRow, OAuthClientRow},
};

pub const CLIENT_ID_LEN: usize = 64;
pub const CLIENT_SECRET_LEN: usize = 64;

/// A client as shown to admins (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Internal id.
    pub id: i64,
    pub name: String,
    pub client_id: String,
    pub redirect_uri: String,
}

impl From<OAuthClientRow> for Client {
    fn from(row: OAuthClientRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            client_id: row.client_identifier,
            redirect_uri: row.redirect_uri,
        }
    }
}

/// A client just created, with the only plaintext copy of its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedClient {
    pub client: Client,
    pub secret: SecretString,
}

/// The client for OpenProject, when one exists.
pub fn current(conn: &mut AnyConnection) -> diesel::QueryResult<Option<Client>> {
    let id = app_config::get(conn, APP_ID, keys::NC_OAUTH_CLIENT_ID)?.and_then(|v| v.parse().ok());
    match id {
        Some(id) => Ok(oauth_clients::find(conn, id)?.map(Client::from)),
        None => Ok(None),
    }
}

/// A new client's id and secret before it is stored: pairing sends them to OpenProject first
/// and stores the client only once OpenProject has answered.
#[derive(Debug, Clone)]
pub struct NewCredentials {
    pub client_id: String,
    pub secret: SecretString,
}

impl NewCredentials {
    pub fn generate() -> Self {
        Self {
            client_id: crypto::random_alphanumeric(CLIENT_ID_LEN),
            secret: SecretString::new(crypto::random_alphanumeric(CLIENT_SECRET_LEN)),
        }
    }
}

/// Deletes any client (with everything it issued) and creates a new one for `openproject_url`.
/// Run inside the caller's transaction.
pub fn replace(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    openproject_url: &str,
) -> diesel::QueryResult<IssuedClient> {
    replace_with(
        conn,
        secret_box,
        openproject_url,
        NewCredentials::generate(),
    )
}

/// [`replace`] with credentials made beforehand.
pub fn replace_with(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    openproject_url: &str,
    NewCredentials { client_id, secret }: NewCredentials,
) -> diesel::QueryResult<IssuedClient> {
    delete(conn)?;
    let redirect_uri = openproject_oauth_callback(openproject_url, &client_id);
    let id = oauth_clients::insert(
        conn,
        &NewOAuthClientRow {
            name: NC_OAUTH_CLIENT_NAME,
            client_identifier: &client_id,
            secret_digest: &secret_box.keyed_digest(secret.expose()),
            redirect_uri: &redirect_uri,
            created_at: now_millis(),
        },
    )?;
    app_config::set(conn, APP_ID, keys::NC_OAUTH_CLIENT_ID, &id.to_string())?;
    Ok(IssuedClient {
        client: Client {
            id,
            name: NC_OAUTH_CLIENT_NAME.into(),
            client_id,
            redirect_uri,
        },
        secret,
    })
}

/// Whether `secret` is `client`'s, in constant time. A secret stored by an earlier version as a
/// plain SHA-256 digest is still accepted once and then stored as an HMAC digest.
pub fn secret_matches(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    client: &OAuthClientRow,
    secret: &str,
) -> diesel::QueryResult<bool> {
    if client.secret_digest.starts_with(KEYED_DIGEST_PREFIX) {
        return Ok(secret_box.verify_keyed_digest(secret, &client.secret_digest));
    }
    if !constant_time_eq(&client.secret_digest, &crypto::digest(secret)) {
        return Ok(false);
    }
    oauth_clients::set_secret_digest(conn, client.id, &secret_box.keyed_digest(secret))?;
    Ok(true)
}

/// Points the client's redirect URI at a new OpenProject URL; its id, secret and tokens stay.
pub fn move_redirect_uri(
    conn: &mut AnyConnection,
    openproject_url: &str,
) -> diesel::QueryResult<()> {
    if let Some(client) = current(conn)? {
        let uri = openproject_oauth_callback(openproject_url, &client.client_id);
        oauth_clients::set_redirect_uri(conn, client.id, &uri)?;
    }
    Ok(())
}

/// Deletes every client (so "at most one" holds even after an interrupted past) and forgets
/// `nc_oauth_client_id`.
pub fn delete(conn: &mut AnyConnection) -> diesel::QueryResult<()> {
    oauth_clients::delete_all(conn)?;
    app_config::delete(conn, APP_ID, keys::NC_OAUTH_CLIENT_ID)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_rotates_and_keeps_one_client() {
        let (_database, db) = crate::db::test_db();
        let conn = &mut db.get().unwrap();
        assert_eq!(current(conn).unwrap(), None);
        let secret_box = crypto::SecretKey::generate().secret_box();
        let first = replace(conn, &secret_box, "https://op.example/").unwrap();
        assert_eq!(first.client.client_id.len(), 64);
        assert_eq!(first.secret.expose().len(), 64);
        assert!(first
            .secret
            .expose()
            .chars()
            .all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(
            first.client.redirect_uri,
            format!(
                "https://op.example/oauth_clients/{}/callback",
                first.client.client_id
            )
        );
        assert_eq!(current(conn).unwrap(), Some(first.client.clone()));
        let row = oauth_clients::find(conn, first.client.id).unwrap().unwrap();
        assert_eq!(
            row.secret_digest,
            secret_box.keyed_digest(first.secret.expose())
        );
        assert!(secret_matches(conn, &secret_box, &row, first.secret.expose()).unwrap());
        assert!(!secret_matches(conn, &secret_box, &row, "wrong").unwrap());

        let second = replace(conn, &secret_box, "https://op.example").unwrap();
        assert_ne!(second.client.client_id, first.client.client_id);
        assert!(second.client.id > first.client.id);
        let all = oauth_clients::all(conn).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].id, second.client.id);

        move_redirect_uri(conn, "http://new.example/").unwrap();
        let moved = current(conn).unwrap().unwrap();
        assert_eq!(moved.client_id, second.client.client_id);
        assert_eq!(
            moved.redirect_uri,
            format!(
                "http://new.example/oauth_clients/{}/callback",
                moved.client_id
            )
        );

        delete(conn).unwrap();
        assert_eq!(current(conn).unwrap(), None);
        assert!(oauth_clients::all(conn).unwrap().is_empty());
        // Moving without a client is a no-op.
        move_redirect_uri(conn, "http://x.example").unwrap();
    }

    #[test]
    fn a_secret_stored_as_a_plain_digest_is_upgraded_at_its_first_use() {
        let (_database, db) = crate::db::test_db();
        let conn = &mut db.get().unwrap();
        let secret_box = crypto::SecretKey::generate().secret_box();
        let issued = replace(conn, &secret_box, "https://op.example").unwrap();
        let secret = issued.secret.expose();
        oauth_clients::set_secret_digest(conn, issued.client.id, &crypto::digest(secret)).unwrap();
        let legacy = oauth_clients::find(conn, issued.client.id)
            .unwrap()
            .unwrap();
        assert!(!secret_matches(conn, &secret_box, &legacy, "wrong").unwrap());
        assert!(secret_matches(conn, &secret_box, &legacy, secret).unwrap());
        let upgraded = oauth_clients::find(conn, issued.client.id)
            .unwrap()
            .unwrap();
        assert_eq!(upgraded.secret_digest, secret_box.keyed_digest(secret));
        assert!(secret_matches(conn, &secret_box, &upgraded, secret).unwrap());
    }
}
