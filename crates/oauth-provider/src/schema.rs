//! The two tables of the engine. Each service creates them in its own migrations, with
//! `client_pk` referencing its client table `ON DELETE CASCADE`: deleting a client deletes every
//! code and token it was issued. `successor_sealed` holds a rotated pair's successor, sealed
//! with the service's secret box, until `retry_until` (unix ms) or the successor's first use.

diesel::table! {
    oauth_codes (id) {
        id -> BigInt,
        client_pk -> BigInt,
        subject -> Text,
        code_digest -> Text,
        redirect_uri -> Text,
        scope -> Text,
        code_challenge -> Nullable<Text>,
        code_challenge_method -> Nullable<Text>,
        family_id -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        consumed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    oauth_tokens (id) {
        id -> BigInt,
        client_pk -> BigInt,
        subject -> Text,
        family_id -> Text,
        scope -> Text,
        access_digest -> Text,
        refresh_digest -> Nullable<Text>,
        access_expires_at -> BigInt,
        previous_id -> Nullable<BigInt>,
        created_at -> BigInt,
        rotated_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
        successor_sealed -> Nullable<Text>,
        retry_until -> Nullable<BigInt>,
        legacy -> Bool,
    }
}

diesel::allow_tables_to_appear_in_same_query!(oauth_codes, oauth_tokens);
