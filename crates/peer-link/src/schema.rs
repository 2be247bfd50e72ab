diesel::table! {
    pairing_keys (kid) {
        kid -> Text,
        seed_sealed -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    peer_outbox (id) {
        id -> BigInt,
        message_id -> Text,
        peer -> Text,
        peer_url -> Text,
        path -> Text,
        event_sealed -> Text,
        event_type -> Text,
        created_at -> BigInt,
        attempts -> BigInt,
        next_attempt_at -> BigInt,
        claimed_until -> Nullable<BigInt>,
        last_attempt_at -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<BigInt>,
        failed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    peer_inbox (peer, message_id) {
        peer -> Text,
        message_id -> Text,
        received_at -> BigInt,
    }
}
