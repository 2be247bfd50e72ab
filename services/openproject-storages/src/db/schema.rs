//! Tables of the OpenProject side. Written by hand to match both migration folders: ids BIGINT,
//! instants BIGINT unix milliseconds.

diesel::table! {
    users (id) {
        id -> BigInt,
        login -> Text,
        login_lower -> Text,
        first_name -> Text,
        last_name -> Text,
        email -> Text,
        email_lower -> Text,
        admin -> Bool,
        status -> Text,
        password_hash -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_digest -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    sessions (id_digest) {
        id_digest -> Text,
        user_id -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(users, api_tokens, sessions);
