//! The engine against a real database (SQLite, or PostgreSQL with `TEST_DATABASE=postgres`).

use diesel::connection::SimpleConnection;
use service_kit::{
    crypto::{random_alphanumeric, random_urlsafe, SecretKey},
    db::{Db, Dialect},
    testing::TestDatabase,
};

use super::*;

/// The tests' clock (unix ms); time passes only where a test says so.
const NOW: i64 = 1_750_000_000_000;

fn sealer() -> SecretBox {
    SecretKey::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        .unwrap()
        .secret_box()
}

struct Fixture {
    db: Db,
    _database: TestDatabase,
}

fn fixture() -> Fixture {
    let database = TestDatabase::create("oauth");
    let db = Db::connect(&database.url).expect("connects");
    // The engine's own migrations, over a client table of the tests' own.
    let (dialect, clients) = if db.is_sqlite() {
        (
            Dialect::Sqlite,
            "CREATE TABLE clients (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL);",
        )
    } else {
        (
            Dialect::Postgres,
            "CREATE TABLE clients (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL);",
        )
    };
    let conn = &mut db.get().unwrap();
    conn.batch_execute(clients).expect("clients");
    conn.batch_execute(&migrations::tables(dialect, "clients"))
        .expect("tables");
    conn.batch_execute(&(migrations::REFRESH_RETRY.up)(dialect))
        .expect("retry columns");
    conn.batch_execute(&migrations::token_selectors(dialect, "clients"))
        .expect("token selectors");
    conn.batch_execute("INSERT INTO clients (name) VALUES ('one'), ('two');")
        .expect("clients");
    Fixture {
        db,
        _database: database,
    }
}

const GRACE: Policy = Policy {
    code_ttl_secs: 600,
    access_ttl_secs: 7200,
    rotation: Rotation::GraceUntilSuccessorUsed,
    retry_window_secs: 600,
    pkce_methods: &[PkceMethod::S256, PkceMethod::Plain],
    new_code: || random_urlsafe(32),
    access_token: TokenShape::Base64Url43,
    refresh_token: TokenShape::Base64Url43,
};

const IMMEDIATE: Policy = Policy {
    code_ttl_secs: 600,
    access_ttl_secs: 3600,
    rotation: Rotation::Immediate,
    retry_window_secs: 120,
    pkce_methods: &[PkceMethod::S256],
    new_code: || random_alphanumeric(128),
    access_token: TokenShape::Alphanumeric(72),
    refresh_token: TokenShape::Alphanumeric(128),
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
    let code = issue_code(conn, policy, &authorization(None, None), NOW).unwrap();
    let row = usable(find_code(conn, &code, NOW).unwrap());
    redeem_code(conn, policy, &row, NOW).unwrap()
}

fn refresh(
    conn: &mut Conn,
    policy: &Policy,
    refresh_token: &SecretString,
) -> Result<TokenPair, String> {
    refresh_at(conn, policy, refresh_token, NOW)
}

fn refresh_at(
    conn: &mut Conn,
    policy: &Policy,
    refresh_token: &SecretString,
    now: i64,
) -> Result<TokenPair, String> {
    match find_refresh(conn, policy, refresh_token.expose(), now).unwrap() {
        RefreshState::Usable(row) => rotate(conn, policy, &sealer(), &row, &row.scope.clone(), now)
            .map_err(|e| format!("{e:?}")),
        other => Err(format!("{other:?}")),
    }
}

/// The policy whose shape `token` has: the tests issue GRACE's in base64url, IMMEDIATE's in
/// alphanumerics.
fn policy_of(token: &str) -> &'static Policy {
    if token.len() == 43 {
        &GRACE
    } else {
        &IMMEDIATE
    }
}

/// Whether `token` authenticates at `NOW`.
fn works(conn: &mut Conn, token: &SecretString) -> bool {
    authenticate_access(conn, policy_of(token.expose()), token.expose(), NOW)
        .unwrap()
        .is_some()
}

#[test]
fn a_code_is_exchanged_once_and_a_replay_revokes_what_it_produced() {
    let f = fixture();
    let conn = &mut f.db.get().unwrap();
    let code = issue_code(conn, &GRACE, &authorization(None, None), NOW).unwrap();
    assert_eq!(code.len(), 43);
    let row = usable(find_code(conn, &code, NOW).unwrap());
    assert_eq!(row.subject, "alice");
    let pair = redeem_code(conn, &GRACE, &row, NOW).unwrap();
    assert_eq!(pair.expires_in, 7200);
    assert!(works(conn, &pair.access_token));

    assert!(matches!(
        find_code(conn, &code, NOW).unwrap(),
        CodeState::Replayed
    ));
    assert!(!works(conn, &pair.access_token), "revoked by the replay");
    assert!(matches!(
        find_refresh(conn, &GRACE, pair.refresh_token.expose(), NOW).unwrap(),
        RefreshState::Reused
    ));
    // Racing a second redeem of the same row also loses.
    assert!(matches!(
        redeem_code(conn, &GRACE, &row, NOW),
        Err(GrantError::Replayed)
    ));
    assert!(matches!(
        find_code(conn, "nonsense", NOW).unwrap(),
        CodeState::Unknown
    ));
}

#[test]
fn dead_codes_and_tokens_are_purged_after_the_retention_and_live_ones_never() {
    let f = fixture();
    let conn = &mut f.db.get().unwrap();
    // A chain: the first pair rotated, its successor used (so the first is retired), and a
    // code left unused.
    let first = first_pair(conn, &IMMEDIATE);
    let second = refresh(conn, &IMMEDIATE, &first.refresh_token).unwrap();
    assert!(works(conn, &second.access_token));
    issue_code(conn, &IMMEDIATE, &authorization(None, None), NOW).unwrap();
    // Within the retention nothing goes: a replay of the first pair is still recognised.
    assert_eq!(
        purge(conn, NOW + RETENTION_MILLIS - 1).unwrap(),
        Purged::default()
    );
    let later = NOW + RETENTION_MILLIS + 11 * 60 * 1000;
    let purged = purge(conn, later).unwrap();
    assert_eq!(
        purged,
        Purged {
            codes: 2,
            tokens: 1,
            sealed_successors: 0,
        }
    );
    // The live refresh token, whose access token expired long ago, still rotates.
    assert!(refresh_at(conn, &IMMEDIATE, &second.refresh_token, later).is_ok());
    assert_eq!(purge(conn, later).unwrap(), Purged::default());
}

#[test]
fn expired_codes_are_deleted() {
    let f = fixture();
    let conn = &mut f.db.get().unwrap();
    let policy = Policy {
        code_ttl_secs: 0,
        ..IMMEDIATE
    };
    let code = issue_code(conn, &policy, &authorization(None, None), NOW).unwrap();
    assert!(matches!(
        find_code(conn, &code, NOW).unwrap(),
        CodeState::Expired
    ));
    assert!(matches!(
        find_code(conn, &code, NOW).unwrap(),
        CodeState::Unknown
    ));
}

#[test]
fn pkce_s256_and_plain_and_no_downgrade() {
    let f = fixture();
    let conn = &mut f.db.get().unwrap();
    let verifier = random_urlsafe(48);
    let challenge = s256_challenge(&verifier);
    let code = issue_code(
        conn,
        &GRACE,
        &authorization(Some(&challenge), Some(PkceMethod::S256)),
        NOW,
    )
    .unwrap();
    let row = usable(find_code(conn, &code, NOW).unwrap());
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
        NOW,
    )
    .unwrap();
    let row = usable(find_code(conn, &code, NOW).unwrap());
    assert_eq!(verify_pkce(&row, Some("plain-verifier")), Ok(()));
    assert_eq!(verify_pkce(&row, Some("other")), Err(PkceError::Mismatch));

    let code = issue_code(conn, &GRACE, &authorization(None, None), NOW).unwrap();
    let row = usable(find_code(conn, &code, NOW).unwrap());
    assert_eq!(verify_pkce(&row, None), Ok(()));
    assert_eq!(
        verify_pkce(&row, Some("")),
        Ok(()),
        "an empty field is no verifier"
    );
    assert_eq!(
        verify_pkce(&row, Some(&verifier)),
        Err(PkceError::Unexpected),
        "a verifier for a code issued without a challenge is a downgrade"
    );
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
    assert_eq!(first.access_token.expose().len(), 72);
    assert_eq!(first.refresh_token.expose().len(), 128);
    let second = refresh(conn, &IMMEDIATE, &first.refresh_token).unwrap();
    assert!(!works(conn, &first.access_token));
    assert!(works(conn, &second.access_token));

    // The rotated-out refresh token comes back: the whole family dies.
    assert_eq!(
        refresh(conn, &IMMEDIATE, &first.refresh_token).unwrap_err(),
        "Reused"
    );
    assert!(!works(conn, &second.access_token));
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
    assert!(works(conn, &first.access_token));
    // The new access token is used: the old pair is revoked.
    assert!(works(conn, &second.access_token));
    assert!(!works(conn, &first.access_token));
    assert_eq!(
        refresh(conn, &GRACE, &first.refresh_token).unwrap_err(),
        "Reused"
    );
    assert!(
        !works(conn, &second.access_token),
        "reuse revoked the family"
    );

    // Using the new refresh token also retires the old pair.
    let first = first_pair(conn, &GRACE);
    let second = refresh(conn, &GRACE, &first.refresh_token).unwrap();
    let third = refresh(conn, &GRACE, &second.refresh_token).unwrap();
    assert!(!works(conn, &first.access_token));
    assert!(works(conn, &second.access_token), "until the third is used");
    assert!(works(conn, &third.access_token));
    assert!(!works(conn, &second.access_token));
}

#[test]
fn revocation_introspection_and_deleting_a_client() {
    let f = fixture();
    let conn = &mut f.db.get().unwrap();
    let pair = first_pair(conn, &GRACE);
    assert!(introspect(conn, &GRACE, 1, pair.access_token.expose(), NOW)
        .unwrap()
        .is_some());
    assert!(
        introspect(conn, &GRACE, 2, pair.access_token.expose(), NOW)
            .unwrap()
            .is_none(),
        "another client's token"
    );
    assert!(has_live_grant(conn, 1, "alice", "api_v3").unwrap());
    assert!(!has_live_grant(conn, 1, "bob", "api_v3").unwrap());

    assert_eq!(
        revoke(conn, &GRACE, 2, pair.refresh_token.expose()).unwrap(),
        RevokeOutcome::OtherClient
    );
    assert!(works(conn, &pair.access_token));
    assert_eq!(
        revoke(conn, &GRACE, 1, pair.refresh_token.expose()).unwrap(),
        RevokeOutcome::Revoked
    );
    assert!(!works(conn, &pair.access_token), "both tokens of the pair");
    assert_eq!(
        revoke(conn, &GRACE, 1, "unknown").unwrap(),
        RevokeOutcome::Unknown
    );
    assert!(!has_live_grant(conn, 1, "alice", "api_v3").unwrap());

    let pair = first_pair(conn, &GRACE);
    let next = refresh(conn, &GRACE, &pair.refresh_token).unwrap();
    assert_eq!(
        revoke_family_of(conn, &GRACE, 1, pair.access_token.expose()).unwrap(),
        RevokeOutcome::Revoked
    );
    assert!(!works(conn, &next.access_token));

    let pair = first_pair(conn, &GRACE);
    assert_eq!(revoke_subject(conn, 1, "alice").unwrap(), 1);
    assert!(!works(conn, &pair.access_token));

    // Deleting the client deletes everything it was issued.
    let pair = first_pair(conn, &GRACE);
    let code = issue_code(conn, &GRACE, &authorization(None, None), NOW).unwrap();
    conn.batch_execute("DELETE FROM clients WHERE id = 1")
        .unwrap();
    assert!(!works(conn, &pair.access_token));
    assert!(matches!(
        find_code(conn, &code, NOW).unwrap(),
        CodeState::Unknown
    ));
    assert!(matches!(
        find_refresh(conn, &GRACE, pair.refresh_token.expose(), NOW).unwrap(),
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
    assert!(!works(conn, &pair.access_token));
    assert!(refresh(conn, &IMMEDIATE, &pair.refresh_token).is_ok());
}

#[test]
fn code_challenges_have_the_rfc_7636_shape() {
    assert!(is_valid_code_challenge(&"a".repeat(43)));
    assert!(is_valid_code_challenge(&"Az09-._~".repeat(16)));
    assert!(!is_valid_code_challenge(&"a".repeat(42)));
    assert!(!is_valid_code_challenge(&"a".repeat(129)));
    assert!(!is_valid_code_challenge(&format!("{}+", "a".repeat(43))));
    assert!(!is_valid_code_challenge(&format!("{}=", "a".repeat(43))));
    assert!(!is_valid_code_challenge(&format!("{}é", "a".repeat(43))));
    assert!(is_valid_code_challenge(&s256_challenge("anything")));
}

#[test]
fn expiry_follows_the_clock_passed_in() {
    let f = fixture();
    let conn = &mut f.db.get().unwrap();
    let code = issue_code(conn, &GRACE, &authorization(None, None), NOW).unwrap();
    assert!(matches!(
        find_code(conn, &code, NOW + 599_999).unwrap(),
        CodeState::Usable(_)
    ));
    assert!(matches!(
        find_code(conn, &code, NOW + 600_000).unwrap(),
        CodeState::Expired
    ));
    let pair = first_pair(conn, &GRACE);
    let at = |conn: &mut Conn, now| {
        authenticate_access(conn, &GRACE, pair.access_token.expose(), now)
            .unwrap()
            .is_some()
    };
    assert!(at(conn, NOW + 7_199_999));
    assert!(!at(conn, NOW + 7_200_000));
}

/// Both rotations: a retry of the rotated refresh token within the window, while the successor
/// is unused, gets the very same successor; no second chain is ever started.
#[test]
fn a_retry_within_the_window_gets_the_same_successor() {
    for policy in [GRACE, IMMEDIATE] {
        let f = fixture();
        let conn = &mut f.db.get().unwrap();
        let first = first_pair(conn, &policy);
        let second = refresh(conn, &policy, &first.refresh_token).unwrap();
        // The response was lost; the client tries again, twice.
        let later = NOW + policy.retry_window_secs * 1000 - 1;
        for _ in 0..2 {
            let again = refresh_at(conn, &policy, &first.refresh_token, later).unwrap();
            assert_eq!(again.access_token, second.access_token, "{policy:?}");
            assert_eq!(again.refresh_token, second.refresh_token);
            assert_eq!(again.scope, second.scope);
            assert_eq!(again.subject, "alice");
            assert_eq!(again.created_at, second.created_at);
            assert_eq!(
                again.expires_in,
                policy.access_ttl_secs - policy.retry_window_secs,
                "what is left of it"
            );
        }
        let live: i64 = oauth_tokens::table
            .filter(oauth_tokens::revoked_at.is_null())
            .filter(oauth_tokens::rotated_at.is_null())
            .count()
            .get_result_on(conn)
            .unwrap();
        assert_eq!(live, 1, "one chain head");
        // Only the successor is sealed at rest, never the plaintext.
        let sealed: Vec<Option<String>> = oauth_tokens::table
            .select(oauth_tokens::successor_sealed)
            .load_on(conn)
            .unwrap();
        let sealed: Vec<String> = sealed.into_iter().flatten().collect();
        assert_eq!(sealed.len(), 1);
        assert!(sealed[0].starts_with("v1."));
        assert!(!sealed[0].contains(second.refresh_token.expose()));
        // The successor chain goes on normally.
        assert!(works(conn, &second.access_token));
        assert!(refresh(conn, &policy, &second.refresh_token).is_ok());
    }
}

#[test]
fn a_replay_after_the_window_revokes_the_family() {
    for policy in [GRACE, IMMEDIATE] {
        let f = fixture();
        let conn = &mut f.db.get().unwrap();
        let first = first_pair(conn, &policy);
        let second = refresh(conn, &policy, &first.refresh_token).unwrap();
        let after = NOW + policy.retry_window_secs * 1000;
        assert_eq!(
            refresh_at(conn, &policy, &first.refresh_token, after).unwrap_err(),
            if policy.rotation == Rotation::Immediate {
                "Reused"
            } else {
                "Replayed"
            },
            "{policy:?}"
        );
        assert!(!works(conn, &second.access_token), "the family is revoked");
        assert!(refresh_at(conn, &policy, &second.refresh_token, after).is_err());
        let sealed: i64 = oauth_tokens::table
            .filter(oauth_tokens::successor_sealed.is_not_null())
            .count()
            .get_result_on(conn)
            .unwrap();
        assert_eq!(sealed, 0, "no successor stays sealed in a revoked family");
    }
}

#[test]
fn a_replay_once_the_successor_was_used_revokes_the_family() {
    for policy in [GRACE, IMMEDIATE] {
        // Used by its access token.
        let f = fixture();
        let conn = &mut f.db.get().unwrap();
        let first = first_pair(conn, &policy);
        let second = refresh(conn, &policy, &first.refresh_token).unwrap();
        assert!(works(conn, &second.access_token));
        assert!(
            refresh(conn, &policy, &first.refresh_token).is_err(),
            "{policy:?}"
        );
        assert!(!works(conn, &second.access_token));

        // Used by its refresh token: a replay of anything older than the head.
        let first = first_pair(conn, &policy);
        let second = refresh(conn, &policy, &first.refresh_token).unwrap();
        let third = refresh(conn, &policy, &second.refresh_token).unwrap();
        assert!(refresh(conn, &policy, &first.refresh_token).is_err());
        assert!(!works(conn, &third.access_token));
        assert!(refresh(conn, &policy, &third.refresh_token).is_err());
    }
}

#[test]
fn a_replay_of_a_revoked_successor_revokes_the_family() {
    let f = fixture();
    let conn = &mut f.db.get().unwrap();
    let first = first_pair(conn, &IMMEDIATE);
    let second = refresh(conn, &IMMEDIATE, &first.refresh_token).unwrap();
    assert_eq!(
        revoke(conn, &IMMEDIATE, 1, second.refresh_token.expose()).unwrap(),
        RevokeOutcome::Revoked
    );
    assert!(refresh(conn, &IMMEDIATE, &first.refresh_token).is_err());
}

#[test]
fn a_successor_sealed_under_another_key_is_not_handed_out() {
    let f = fixture();
    let conn = &mut f.db.get().unwrap();
    let first = first_pair(conn, &GRACE);
    let second = refresh(conn, &GRACE, &first.refresh_token).unwrap();
    let RefreshState::Usable(row) =
        find_refresh(conn, &GRACE, first.refresh_token.expose(), NOW).unwrap()
    else {
        panic!("within the window")
    };
    let other_key = SecretKey::generate().secret_box();
    assert!(matches!(
        rotate(conn, &GRACE, &other_key, &row, "api_v3", NOW),
        Err(GrantError::Replayed)
    ));
    assert!(!works(conn, &second.access_token));
}

#[test]
fn expired_sealed_successors_are_dropped_by_housekeeping() {
    let f = fixture();
    let conn = &mut f.db.get().unwrap();
    let first = first_pair(conn, &GRACE);
    refresh(conn, &GRACE, &first.refresh_token).unwrap();
    assert_eq!(purge(conn, NOW + 599_999).unwrap().sealed_successors, 0);
    assert_eq!(purge(conn, NOW + 600_000).unwrap().sealed_successors, 1);
    // Past the window, the rotated token is a replay like any other.
    assert_eq!(
        refresh_at(conn, &GRACE, &first.refresh_token, NOW + 600_000).unwrap_err(),
        "Replayed"
    );
}

#[test]
fn token_pairs_never_print_their_tokens() {
    let f = fixture();
    let conn = &mut f.db.get().unwrap();
    let pair = first_pair(conn, &GRACE);
    let printed = format!("{pair:?}");
    assert!(!printed.contains(pair.access_token.expose()));
    assert!(!printed.contains(pair.refresh_token.expose()));
}

#[test]
fn tokens_carry_their_pair_id_in_the_services_shapes() {
    for (shape, len) in [
        (TokenShape::Base64Url43, 43),
        (TokenShape::Alphanumeric(72), 72),
        (TokenShape::Alphanumeric(128), 128),
    ] {
        for id in [1, 61, 62, 4_000_000_007, i64::MAX] {
            let verifier = shape.new_verifier();
            let token = shape.token(id, &verifier);
            assert_eq!(token.len(), len, "{shape:?} {id}");
            let base64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
            match shape {
                TokenShape::Base64Url43 => assert!(token.bytes().all(base64url), "{token}"),
                TokenShape::Alphanumeric(_) => {
                    assert!(token.bytes().all(|b| b.is_ascii_alphanumeric()), "{token}")
                }
            }
            assert_eq!(shape.split(&token), Some((id, verifier.as_str())));
        }
        // Anything else is no token of this shape.
        assert_eq!(shape.split(""), None);
        assert_eq!(shape.split(&"é".repeat(len / 2)), None);
        assert_eq!(shape.split(&shape.token(1, "short")), None);
        assert_eq!(shape.split(&"0".repeat(len)), None, "id 0 is never issued");
    }
}

#[test]
fn only_the_verifiers_digests_are_stored_and_a_wrong_verifier_authenticates_nobody() {
    let f = fixture();
    let conn = &mut f.db.get().unwrap();
    for policy in [&GRACE, &IMMEDIATE] {
        let pair = first_pair(conn, policy);
        let (id, verifier) = policy
            .access_token
            .split(pair.access_token.expose())
            .unwrap();
        let (stored_access, stored_refresh): (String, Option<String>) = oauth_tokens::table
            .find(id)
            .select((oauth_tokens::access_digest, oauth_tokens::refresh_digest))
            .first_on(conn)
            .unwrap();
        assert_eq!(stored_access, digest(verifier));
        let (_, refresh_verifier) = policy
            .refresh_token
            .split(pair.refresh_token.expose())
            .unwrap();
        assert_eq!(stored_refresh, Some(digest(refresh_verifier)));

        // The pair's selector with another verifier, or the refresh token as an access token.
        let forged = policy
            .access_token
            .token(id, &policy.access_token.new_verifier());
        assert!(authenticate_access(conn, policy, &forged, NOW)
            .unwrap()
            .is_none());
        let refresh = pair.refresh_token.expose();
        if refresh.len() == pair.access_token.expose().len() {
            assert!(authenticate_access(conn, policy, refresh, NOW)
                .unwrap()
                .is_none());
        }
        assert!(works(conn, &pair.access_token));
    }
}

#[test]
fn pairs_issued_before_selectors_keep_working_until_rotated() {
    let f = fixture();
    let conn = &mut f.db.get().unwrap();
    // A pair as the engine stored it before: whole-token digests, then marked by the migration.
    let (access, refresh_token) = (random_urlsafe(32), random_urlsafe(32));
    diesel::insert_into(oauth_tokens::table)
        .values((
            oauth_tokens::client_pk.eq(1),
            oauth_tokens::subject.eq("alice"),
            oauth_tokens::family_id.eq("legacy-family"),
            oauth_tokens::scope.eq("api_v3"),
            oauth_tokens::access_digest.eq(digest(&access)),
            oauth_tokens::refresh_digest.eq(digest(&refresh_token)),
            oauth_tokens::access_expires_at.eq(NOW + 3_600_000),
            oauth_tokens::created_at.eq(NOW),
            oauth_tokens::legacy.eq(true),
        ))
        .execute_on(conn)
        .unwrap();
    let (access, legacy_refresh) = (SecretString::new(access), SecretString::new(refresh_token));
    assert!(works(conn, &access));
    assert_eq!(
        introspect(conn, &GRACE, 1, access.expose(), NOW)
            .unwrap()
            .map(|row| row.subject),
        Some("alice".to_string())
    );
    let next = refresh(conn, &GRACE, &legacy_refresh).unwrap();
    assert!(works(conn, &next.access_token));
    assert!(!works(conn, &access), "retired once its successor is used");
    // Reusing the rotated legacy refresh token after the window revokes the family.
    assert!(refresh_at(conn, &GRACE, &legacy_refresh, NOW + 600_001).is_err());
    assert!(!works(conn, &next.access_token));
}
