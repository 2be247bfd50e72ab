//! Pairing by one code (Extension, issue 20), Nextcloud's half: the OpenProject this instance is
//! paired with, kept in the app config; the transaction that ends a pairing with both halves
//! configured; and what OpenProject's signed messages do here.
//!
//! After pairing, a change of Nextcloud's OAuth client or a reset is sent to OpenProject through
//! peer-link's outbox, in the same transaction as the change.

use peer_link::{inbox, outbox};
use service_kit::{
    crypto::{SecretBox, SecretString},
    db::AnyConnection,
};
use storage_protocol::{
    integration_app::{APP_ID, AUTHORIZATION_METHOD_OAUTH2},
    pairing::{openproject_messages_path, JwkSet, PeerEvent, PeerMessage, Refusal},
};

use super::{
    oauth_clients::{self, IssuedClient, NewCredentials},
    settings::{self, AdminSettings, Changes, Key, Scalar},
    setup::{self, SetupError, SETTINGS_LOCK},
};
use crate::db::{app_config, serialized_transaction};

/// The outbox's and inbox's name for the paired OpenProject.
pub const PEER: &str = "openproject";
/// The inbox's name for the nonces of the pairing codes this instance redeemed.
const CODES: &str = "pairing-codes";
/// Nextcloud's key ids: `nc-<random>`.
pub const KID_PREFIX: &str = "nc";

mod config_keys {
    pub const URL: &str = "pairing_openproject_url";
    pub const STORAGE_ID: &str = "pairing_storage_id";
    pub const KEYS: &str = "pairing_openproject_keys";
    pub const PAIRED_AT: &str = "pairing_paired_at";
    pub const ALL: [&str; 4] = [URL, STORAGE_ID, KEYS, PAIRED_AT];
}

/// The OpenProject this instance is paired with.
#[derive(Debug, Clone, PartialEq)]
pub struct Peer {
    /// OpenProject's public URL, as its codes and messages name it.
    pub openproject_url: String,
    /// The storage that represents this Nextcloud there.
    pub storage_id: i64,
    /// The keys OpenProject's messages are signed with.
    pub keys: JwkSet,
    /// Unix ms.
    pub paired_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum PairingError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A message from an OpenProject this instance is not paired with.
    #[error("this Nextcloud is not paired with OpenProject")]
    NotPaired,
    /// A message Nextcloud never receives (one of its own events).
    #[error("a {0} message is not for Nextcloud")]
    NotForNextcloud(&'static str),
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// The paired OpenProject, when there is one.
pub fn peer(conn: &mut AnyConnection) -> diesel::QueryResult<Option<Peer>> {
    let mut get = |key| app_config::get(conn, APP_ID, key);
    let (Some(url), Some(storage_id), Some(keys), Some(paired_at)) = (
        get(config_keys::URL)?,
        get(config_keys::STORAGE_ID)?,
        get(config_keys::KEYS)?,
        get(config_keys::PAIRED_AT)?,
    ) else {
        return Ok(None);
    };
    // Rows this service wrote; unreadable ones mean no usable pairing.
    let parsed = (|| {
        Some(Peer {
            openproject_url: url,
            storage_id: storage_id.parse().ok()?,
            keys: serde_json::from_str(&keys).ok()?,
            paired_at: paired_at.parse().ok()?,
        })
    })();
    Ok(parsed)
}

fn remember(conn: &mut AnyConnection, peer: &Peer) -> diesel::QueryResult<()> {
    let keys = serde_json::to_string(&peer.keys).expect("a JWK set serializes");
    app_config::set(conn, APP_ID, config_keys::URL, &peer.openproject_url)?;
    app_config::set(
        conn,
        APP_ID,
        config_keys::STORAGE_ID,
        &peer.storage_id.to_string(),
    )?;
    app_config::set(conn, APP_ID, config_keys::KEYS, &keys)?;
    app_config::set(
        conn,
        APP_ID,
        config_keys::PAIRED_AT,
        &peer.paired_at.to_string(),
    )
}

fn forget(conn: &mut AnyConnection) -> diesel::QueryResult<()> {
    for key in config_keys::ALL {
        app_config::delete(conn, APP_ID, key)?;
    }
    Ok(())
}

/// Keeps newer keys OpenProject published (it signed a message with a key not seen before).
pub fn update_keys(conn: &mut AnyConnection, keys: &JwkSet) -> diesel::QueryResult<()> {
    let keys = serde_json::to_string(keys).expect("a JWK set serializes");
    app_config::set(conn, APP_ID, config_keys::KEYS, &keys)
}

/// Whether this instance redeemed the code with nonce `jti` before.
pub fn code_used(conn: &mut AnyConnection, jti: &str) -> diesel::QueryResult<bool> {
    inbox::seen(conn, CODES, jti)
}

/// What the exchange established, to be stored on this side.
#[derive(Debug)]
pub struct Pairing {
    pub peer: Peer,
    /// The code's nonce, used up.
    pub jti: String,
    /// Nextcloud's client for OpenProject, sent in the exchange.
    pub nextcloud_client: NewCredentials,
    /// OpenProject's client for Nextcloud, from its answer.
    pub openproject_client_id: String,
    pub openproject_client_secret: SecretString,
}

/// Ends a pairing in one transaction: OpenProject's URL and OAuth values stored as the admin
/// would enter them, Nextcloud's client as sent, the project-folder step decided (without
/// project folders) when it still was open, and the peer remembered. Messages still waiting
/// for an OpenProject paired before are dropped: they were for that pairing.
pub fn complete(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    pairing: Pairing,
    now: i64,
) -> Result<(), PairingError> {
    serialized_transaction(conn, SETTINGS_LOCK, |conn| {
        if !inbox::accept(conn, CODES, &pairing.jti, now)? {
            return Err(PairingError::Refused(Refusal::Used));
        }
        let url = pairing.peer.openproject_url.clone();
        let mut values = vec![
            (Key::OpenprojectInstanceUrl, Scalar::Text(url.clone())),
            (
                Key::OpenprojectClientId,
                Scalar::Text(pairing.openproject_client_id.clone()),
            ),
            (
                Key::OpenprojectClientSecret,
                Scalar::Text(pairing.openproject_client_secret.expose().to_string()),
            ),
            (
                Key::AuthorizationMethod,
                Scalar::Text(AUTHORIZATION_METHOD_OAUTH2.into()),
            ),
        ];
        if AdminSettings::load(conn, secret_box)?.fresh_project_folder_setup {
            values.push((Key::SetupProjectFolder, Scalar::Bool(false)));
            values.push((Key::SetupAppPassword, Scalar::Bool(false)));
            settings::set_fresh_project_folder_setup(conn, false)?;
        }
        setup::apply_settings(conn, secret_box, &Changes::of(values))?;
        oauth_clients::replace_with(conn, secret_box, &url, pairing.nextcloud_client)?;
        outbox::discard(conn, PEER)?;
        remember(conn, &pairing.peer)?;
        Ok(())
    })
}

/// Tells the paired OpenProject, if any, about Nextcloud's new client. Run in the transaction
/// that replaced it.
pub fn client_replaced(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    client: &IssuedClient,
    now: i64,
) -> diesel::QueryResult<()> {
    let event = PeerEvent::OAuthValuesReplaced {
        client_id: client.client.client_id.clone(),
        client_secret: client.secret.expose().to_string(),
    };
    send(conn, secret_box, &event, now)
}

/// Tells the paired OpenProject, if any, that the integration was reset, and forgets it. Run in
/// the reset's transaction.
pub fn integration_reset(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    now: i64,
) -> diesel::QueryResult<()> {
    send(conn, secret_box, &PeerEvent::IntegrationReset, now)?;
    forget(conn)
}

fn send(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    event: &PeerEvent,
    now: i64,
) -> diesel::QueryResult<()> {
    let Some(peer) = peer(conn)? else {
        return Ok(());
    };
    let destination = outbox::Destination {
        peer: PEER.to_string(),
        path: openproject_messages_path(peer.storage_id),
        peer_url: peer.openproject_url,
    };
    outbox::enqueue(conn, secret_box, &destination, event, now).map(drop)
}

/// Applies a verified message from the paired OpenProject once: `false` when its id was applied
/// before. OpenProject's new OAuth values are stored as the admin would store them (users
/// authorize again); a deleted storage resets the integration here, without telling OpenProject
/// back.
pub fn apply(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    message: &PeerMessage,
    now: i64,
) -> Result<bool, PairingError> {
    serialized_transaction(conn, SETTINGS_LOCK, |conn| {
        if peer(conn)?.is_none() {
            return Err(PairingError::NotPaired);
        }
        if !inbox::accept(conn, PEER, &message.jti, now)? {
            return Ok(false);
        }
        match &message.event {
            PeerEvent::OAuthValuesReplaced {
                client_id,
                client_secret,
            } => {
                let values = Changes::of([
                    (Key::OpenprojectClientId, Scalar::Text(client_id.clone())),
                    (
                        Key::OpenprojectClientSecret,
                        Scalar::Text(client_secret.clone()),
                    ),
                ]);
                setup::apply_settings(conn, secret_box, &values)?;
            }
            PeerEvent::StorageDeleted => {
                setup::reset_settings(conn, secret_box)?;
                forget(conn)?;
            }
            event @ PeerEvent::IntegrationReset => {
                return Err(PairingError::NotForNextcloud(event.type_name()));
            }
        }
        Ok(true)
    })
}

#[cfg(test)]
mod tests {
    use peer_link::outbox::{last_exchange, Policy};
    use service_kit::crypto::SecretKey;
    use storage_protocol::pairing::SigningKey;

    use super::*;
    use crate::domain::setup;

    const OP: &str = "https://openproject.example.com";

    fn pairing(jti: &str) -> Pairing {
        Pairing {
            peer: Peer {
                openproject_url: OP.into(),
                storage_id: 7,
                keys: JwkSet {
                    keys: vec![SigningKey::from_seed("op-1", &[7; 32]).public_jwk()],
                },
                paired_at: 1,
            },
            jti: jti.into(),
            nextcloud_client: NewCredentials::generate(),
            openproject_client_id: "op-client".into(),
            openproject_client_secret: SecretString::new("op-secret".to_string()),
        }
    }

    fn message(id: &str, event: PeerEvent) -> PeerMessage {
        PeerMessage::new(OP, id, 1, event)
    }

    #[test]
    fn a_pairing_configures_nextcloud_and_its_code_works_once() {
        let (_database, db) = crate::db::test_db();
        let conn = &mut db.get().unwrap();
        let secret_box = SecretKey::generate().secret_box();
        complete(conn, &secret_box, pairing("nonce-1"), 1).unwrap();
        assert!(
            setup::check(conn, &secret_box)
                .unwrap()
                .config_status_without_project_folder
        );
        let settings = AdminSettings::load(conn, &secret_box).unwrap();
        assert_eq!(settings.openproject_instance_url, OP);
        assert_eq!(settings.openproject_client_id, "op-client");
        assert_eq!(peer(conn).unwrap(), Some(pairing("nonce-1").peer));
        assert!(code_used(conn, "nonce-1").unwrap());
        assert!(matches!(
            complete(conn, &secret_box, pairing("nonce-1"), 2),
            Err(PairingError::Refused(Refusal::Used))
        ));
    }

    #[test]
    fn changes_reach_the_outbox_only_while_paired() {
        let (_database, db) = crate::db::test_db();
        let conn = &mut db.get().unwrap();
        let secret_box = SecretKey::generate().secret_box();
        let policy = Policy::default();
        let changes =
            settings::Changes::of([(Key::OpenprojectInstanceUrl, Scalar::Text(OP.into()))]);
        setup::admin_config(conn, &secret_box, &changes).unwrap();
        setup::rotate_client(conn, &secret_box, 1).unwrap();
        assert_eq!(last_exchange(conn, PEER, &policy).unwrap(), None);

        complete(conn, &secret_box, pairing("nonce-1"), 1).unwrap();
        setup::rotate_client(conn, &secret_box, 2).unwrap();
        let queued = last_exchange(conn, PEER, &policy).unwrap().unwrap();
        assert_eq!(queued.event_type, "oauth_values_replaced");
        setup::reset(conn, &secret_box, "admin", 3).unwrap();
        assert_eq!(peer(conn).unwrap(), None);
        // Unpaired now: a further change tells nobody.
        setup::admin_config(conn, &secret_box, &changes).unwrap();
        setup::rotate_client(conn, &secret_box, 4).unwrap();
        assert_eq!(peer(conn).unwrap(), None);
    }

    #[test]
    fn a_message_applies_once_and_a_deleted_storage_resets_the_integration() {
        let (_database, db) = crate::db::test_db();
        let conn = &mut db.get().unwrap();
        let secret_box = SecretKey::generate().secret_box();
        let replaced = |client_id: &str| PeerEvent::OAuthValuesReplaced {
            client_id: client_id.into(),
            client_secret: "new-secret".into(),
        };
        assert!(matches!(
            apply(conn, &secret_box, &message("m-0", replaced("x")), 1),
            Err(PairingError::NotPaired)
        ));
        complete(conn, &secret_box, pairing("nonce-1"), 1).unwrap();

        let first = message("m-1", replaced("client-2"));
        assert!(apply(conn, &secret_box, &first, 2).unwrap());
        assert!(apply(conn, &secret_box, &message("m-2", replaced("client-3")), 3).unwrap());
        // The first again (a retried delivery): acknowledged, not applied.
        assert!(!apply(conn, &secret_box, &first, 4).unwrap());
        let settings = AdminSettings::load(conn, &secret_box).unwrap();
        assert_eq!(settings.openproject_client_id, "client-3");
        assert_eq!(settings.openproject_client_secret.expose(), "new-secret");

        assert!(matches!(
            apply(
                conn,
                &secret_box,
                &message("m-3", PeerEvent::IntegrationReset),
                5
            ),
            Err(PairingError::NotForNextcloud("integration_reset"))
        ));
        assert!(apply(
            conn,
            &secret_box,
            &message("m-4", PeerEvent::StorageDeleted),
            6
        )
        .unwrap());
        assert_eq!(peer(conn).unwrap(), None);
        assert!(
            !setup::check(conn, &secret_box)
                .unwrap()
                .config_status_without_project_folder
        );
        assert_eq!(
            AdminSettings::load(conn, &secret_box)
                .unwrap()
                .openproject_instance_url,
            ""
        );
    }
}
