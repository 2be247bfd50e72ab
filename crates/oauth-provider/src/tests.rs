//! The engine against a real database (SQLite, or PostgreSQL with `TEST_DATABASE=postgres`).

use diesel::connection::SimpleConnection;
use service_kit::{
    crypto::{random_alphanumeric, random_urlsafe},
    db::Db,
    testing::TestDatabase,
};

use super::*;

const SCHEMA_SQLITE: &str = "
CREATE TABLE clients (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL);
CREATE TABLE oauth_codes (id INTEGER PRIMARY KEY AUTOINCREMENT,
  client_pk BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE, subject TEXT NOT NULL,
  code_digest TEXT NOT NULL UNIQUE, redirect_uri TEXT NOT NULL, scope TEXT NOT NULL,
  code_challenge TEXT, code_challenge_method TEXT, family_id TEXT NOT NULL,
  created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, consumed_at BIGINT);
CREATE TABLE oauth_tokens (id INTEGER PRIMARY KEY AUTOINCREMENT,
  client_pk BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE, subject TEXT NOT NULL,
  family_id TEXT NOT NULL, scope TEXT NOT NULL, access_digest TEXT NOT NULL UNIQUE,
  refresh_digest TEXT UNIQUE, access_expires_at BIGINT NOT NULL, previous_id BIGINT,
  created_at BIGINT NOT NULL, rotated_at BIGINT, revoked_at BIGINT);
INSERT INTO clients (name) VALUES ('one'), ('two');
";

struct Fixture {
    db: Db,
    _database: TestDatabase,
}

fn fixture() -> Fixture {
    let database = TestDatabase::create("oauth");
    let db = Db::connect(&database.url).expect("connects");
    let schema = if db.is_sqlite() {
        SCHEMA_SQLITE.to_string()
    } else {
        SCHEMA_SQLITE.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
    };
    db.get().unwrap().batch_execute(&schema).expect("schema");
    Fixture {
        db,
        _database: database,
    }
}

const GRACE: Policy = Policy {
    code_ttl_secs: 600,
    access_ttl_secs: 7200,
    rotation: Rotation::GraceUntilSuccessorUsed,
    pkce_methods: &[PkceMethod::S256, PkceMethod::Plain],
    new_code: || random_urlsafe(32),
    new_access_token: || random_urlsafe(32),
    new_refresh_token: || random_urlsafe(32),
};

const IMMEDIATE: Policy = Policy {
    code_ttl_secs: 600,
    access_ttl_secs: 3600,
    rotation: Rotation::Immediate,
    pkce_methods: &[PkceMethod::S256],
    new_code: || random_alphanumeric(128),
    new_access_token: || random_alphanumeric(72),
    new_refresh_token: || random_alphanumeric(128),
};

fn authorization<'a>(challenge: Option<&'a str>, method: Option<PkceMethod>) -> Authorization<'a> {
    Authorization {
        client_pk: 1,
        subject: "alice",
        redirect_uri: "https://client.example/cb",
        scope: "api_v3",
        code_challenge: challenge,
        code_challenge_method: method,
    }
}

fn usable(state: CodeState) -> CodeRow {
    match state {
        CodeState::Usable(row) => *row,
        other => panic!("expected a usable code, got {other:?}"),
    }
}

fn first_pair(conn: &mut Conn, policy: &Policy) -> TokenPair {
    let code = issue_code(conn, policy, &authorization(None, None)).unwrap();
    let row = usable(find_code(conn, &code).unwrap());
    redeem_code(conn, policy, &row).unwrap()
}

fn refresh(conn: &mut Conn, policy: &Policy, refresh_token: &str) -> Result<TokenPair, String> {
    match find_refresh(conn, refresh_token).unwrap() {
        RefreshState::Usable(row) => {
            rotate(conn, policy, &row, &row.scope.clone()).map_err(|e| format!("{e:?}"))
        }
        other => Err(format!("{other:?}")),
    }
}

#[test]
fn a_code_is_exchanged_once_and_a_replay_revokes_what_it_produced() {
    let f = fixture();
    let conn = &mut f.db.get().unwrap();
    let code = issue_code(conn, &GRACE, &authorization(None, None)).unwrap();
    assert_eq!(code.len(), 43);
    let row = usable(find_code(conn, &code).unwrap());
    assert_eq!(row.subject, "alice");
    let pair = redeem_code(conn, &GRACE, &row).unwrap();
    assert_eq!(pair.expires_in, 7200);
    assert!(authenticate_access(conn, &pair.access_token)
        .unwrap()
        .is_some());

    assert!(matches!(
        find_code(conn, &code).unwrap(),
        CodeState::Replayed
    ));
    assert!(
        authenticate_access(conn, &pair.access_token)
            .unwrap()
            .is_none(),
        "revoked by the replay"
    );
    assert!(matches!(
        find_refresh(conn, &pair.refresh_token).unwrap(),
        RefreshState::Reused
    ));
    // Racing a second redeem of the same row also loses.
    assert!(matches!(
        redeem_code(conn, &GRACE, &row),
        Err(GrantError::Replayed)
    ));
    assert!(matches!(
        find_code(conn, "nonsense").unwrap(),
        CodeState::Unknown
    ));
}

#[test]
fn expired_codes_are_deleted() {
    let f = fixture();
    let conn = &mut f.db.get().unwrap();
    let policy = Policy {
        code_ttl_secs: 0,
        ..IMMEDIATE
    };
    let code = issue_code(conn, &policy, &authorization(None, None)).unwrap();
    assert!(matches!(
        find_code(conn, &code).unwrap(),
        CodeState::Expired
    ));
    assert!(matches!(
        find_code(conn, &code).unwrap(),
        CodeState::Unknown
    ));
}

#[test]
fn pkce_s256_and_plain() {
    let f = fixture();
    let conn = &mut f.db.get().unwrap();
    let verifier = random_urlsafe(48);
    let challenge = s256_challenge(&verifier);
    let code = issue_code(
        conn,
        &GRACE,
        &authorization(Some(&challenge), Some(PkceMethod::S256)),
    )
    .unwrap();
    let row = usable(find_code(conn, &code).unwrap());
    assert_eq!(verify_pkce(&row, None), Err(PkceError::Missing));
    assert_eq!(verify_pkce(&row, Some("")), Err(PkceError::Missing));
    assert_eq!(verify_pkce(&row, Some("wrong")), Err(PkceError::Mismatch));
    assert_eq!(
        verify_pkce(&row, Some(&challenge)),
        Err(PkceError::Mismatch),
        "the challenge is not the verifier"
    );
    assert_eq!(verify_pkce(&row, Some(&verifier)), Ok(()));

    let code = issue_code(
        conn,
        &GRACE,
        &authorization(Some("plain-verifier"), Some(PkceMethod::Plain)),
    )
    .unwrap();
    let row = usable(find_code(conn, &code).unwrap());
    assert_eq!(verify_pkce(&row, Some("plain-verifier")), Ok(()));
    assert_eq!(verify_pkce(&row, Some("other")), Err(PkceError::Mismatch));

    let code = issue_code(conn, &GRACE, &authorization(None, None)).unwrap();
    let row = usable(find_code(conn, &code).unwrap());
    assert_eq!(verify_pkce(&row, Some("ignored")), Ok(()));
    // Computed independently (Python hashlib + base64).
    assert_eq!(
        s256_challenge("dBjftJeZ4CVP-mJ92K9LSdKhoA5bEZGx9tdCcJpoYUg"),
        "xO8Dkayi8z9QX2eMZ-q09rRK96MZKP684hN77jJ4LFY"
    );
}

#[test]
fn immediate_rotation_retires_the_old_pair_and_reuse_revokes_the_family() {
    let f = fixture();
    let conn = &mut f.db.get().unwrap();
    let first = first_pair(conn, &IMMEDIATE);
    assert_eq!(first.access_token.len(), 72);
    assert_eq!(first.refresh_token.len(), 128);
    let second = refresh(conn, &IMMEDIATE, &first.refresh_token).unwrap();
    assert!(authenticate_access(conn, &first.access_token)
        .unwrap()
        .is_none());
    assert!(authenticate_access(conn, &second.access_token)
        .unwrap()
        .is_some());

    // The rotated-out refresh token comes back: the whole family dies.
    assert_eq!(
        refresh(conn, &IMMEDIATE, &first.refresh_token).unwrap_err(),
        "Reused"
    );
    assert!(authenticate_access(conn, &second.access_token)
        .unwrap()
        .is_none());
    assert_eq!(
        refresh(conn, &IMMEDIATE, &second.refresh_token).unwrap_err(),
        "Reused"
    );
}

#[test]
fn grace_rotation_keeps_the_old_pair_until_the_new_one_is_used() {
    let f = fixture();
    let conn = &mut f.db.get().unwrap();
    let first = first_pair(conn, &GRACE);
    let second = refresh(conn, &GRACE, &first.refresh_token).unwrap();
    // The response might have been lost: the old pair still works.
    assert!(authenticate_access(conn, &first.access_token)
        .unwrap()
        .is_some());
    // The new access token is used: the old pair is revoked.
    assert!(authenticate_access(conn, &second.access_token)
        .unwrap()
        .is_some());
    assert!(authenticate_access(conn, &first.access_token)
        .unwrap()
        .is_none());
    assert_eq!(
        refresh(conn, &GRACE, &first.refresh_token).unwrap_err(),
        "Reused"
    );
    assert!(
        authenticate_access(conn, &second.access_token)
            .unwrap()
            .is_none(),
        "reuse revoked the family"
    );

    // Using the new refresh token also retires the old pair.
    let first = first_pair(conn, &GRACE);
    let second = refresh(conn, &GRACE, &first.refresh_token).unwrap();
    let third = refresh(conn, &GRACE, &second.refresh_token).unwrap();
    assert!(authenticate_access(conn, &first.access_token)
        .unwrap()
        .is_none());
    assert!(
        authenticate_access(conn, &second.access_token)
            .unwrap()
            .is_some(),
        "until the third is used"
    );
    assert!(authenticate_access(conn, &third.access_token)
        .unwrap()
        .is_some());
    assert!(authenticate_access(conn, &second.access_token)
        .unwrap()
        .is_none());
}

#[test]
fn revocation_introspection_and_deleting_a_client() {
    let f = fixture();
    let conn = &mut f.db.get().unwrap();
    let pair = first_pair(conn, &GRACE);
    assert!(introspect(conn, 1, &pair.access_token).unwrap().is_some());
    assert!(
        introspect(conn, 2, &pair.access_token).unwrap().is_none(),
        "another client's token"
    );
    assert!(has_live_grant(conn, 1, "alice", "api_v3").unwrap());
    assert!(!has_live_grant(conn, 1, "bob", "api_v3").unwrap());

    assert_eq!(
        revoke(conn, 2, &pair.refresh_token).unwrap(),
        RevokeOutcome::OtherClient
    );
    assert!(authenticate_access(conn, &pair.access_token)
        .unwrap()
        .is_some());
    assert_eq!(
        revoke(conn, 1, &pair.refresh_token).unwrap(),
        RevokeOutcome::Revoked
    );
    assert!(
        authenticate_access(conn, &pair.access_token)
            .unwrap()
            .is_none(),
        "both tokens of the pair"
    );
    assert_eq!(revoke(conn, 1, "unknown").unwrap(), RevokeOutcome::Unknown);
    assert!(!has_live_grant(conn, 1, "alice", "api_v3").unwrap());

    let pair = first_pair(conn, &GRACE);
    let next = refresh(conn, &GRACE, &pair.refresh_token).unwrap();
    assert_eq!(
        revoke_family_of(conn, 1, &pair.access_token).unwrap(),
        RevokeOutcome::Revoked
    );
    assert!(authenticate_access(conn, &next.access_token)
        .unwrap()
        .is_none());

    let pair = first_pair(conn, &GRACE);
    assert_eq!(revoke_subject(conn, 1, "alice").unwrap(), 1);
    assert!(authenticate_access(conn, &pair.access_token)
        .unwrap()
        .is_none());

    // Deleting the client deletes everything it was issued.
    let pair = first_pair(conn, &GRACE);
    let code = issue_code(conn, &GRACE, &authorization(None, None)).unwrap();
    conn.batch_execute("DELETE FROM clients WHERE id = 1")
        .unwrap();
    assert!(authenticate_access(conn, &pair.access_token)
        .unwrap()
        .is_none());
    assert!(matches!(
        find_code(conn, &code).unwrap(),
        CodeState::Unknown
    ));
    assert!(matches!(
        find_refresh(conn, &pair.refresh_token).unwrap(),
        RefreshState::Unknown
    ));
}

#[test]
fn expired_access_tokens_authenticate_nobody_but_refresh_still_works() {
    let f = fixture();
    let conn = &mut f.db.get().unwrap();
    let policy = Policy {
        access_ttl_secs: 0,
        ..IMMEDIATE
    };
    let pair = first_pair(conn, &policy);
    assert!(authenticate_access(conn, &pair.access_token)
        .unwrap()
        .is_none());
    assert!(refresh(conn, &IMMEDIATE, &pair.refresh_token).is_ok());
}
