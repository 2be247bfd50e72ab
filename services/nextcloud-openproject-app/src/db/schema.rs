//! The tables (identical logical schema on SQLite and PostgreSQL; see `migrations/`).

diesel::table! {
    users (uid) {
        uid -> Text,
        uid_lower -> Text,
        display_name -> Text,
        email -> Nullable<Text>,
        enabled -> Bool,
        password_hash -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        quota_bytes -> Nullable<BigInt>,
    }
}

diesel::table! {
    groups (gid) {
        gid -> Text,
    }
}

diesel::table! {
    group_members (gid, uid) {
        gid -> Text,
        uid -> Text,
        is_subadmin -> Bool,
    }
}

diesel::table! {
    app_passwords (id) {
        id -> BigInt,
        uid -> Text,
        name -> Text,
        token_digest -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    sessions (id_digest) {
        id_digest -> Text,
        uid -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    app_config (app, config_key) {
        app -> Text,
        config_key -> Text,
        value -> Text,
    }
}

diesel::table! {
    user_preferences (uid, app, config_key) {
        uid -> Text,
        app -> Text,
        config_key -> Text,
        value -> Text,
    }
}

diesel::table! {
    oauth_clients (id) {
        id -> BigInt,
        name -> Text,
        client_identifier -> Text,
        secret_digest -> Text,
        redirect_uri -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    team_folders (id) {
        id -> BigInt,
        name -> Text,
        gid -> Nullable<Text>,
        permissions -> Integer,
        acl -> Bool,
        acl_manager_uid -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    oauth_pending_authorizations (id_digest) {
        id_digest -> Text,
        client_pk -> BigInt,
        uid -> Text,
        state -> Text,
        code_challenge -> Nullable<Text>,
        code_challenge_method -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    openproject_token_refreshes (uid) {
        uid -> Text,
        locked_until -> BigInt,
    }
}

diesel::table! {
    file_nodes (id) {
        id -> BigInt,
        owner_uid -> Nullable<Text>,
        team_folder_id -> Nullable<BigInt>,
        parent_id -> Nullable<BigInt>,
        name -> Text,
        is_folder -> Bool,
        size -> BigInt,
        mime_type -> Text,
        content_key -> Nullable<Text>,
        etag -> Text,
        mtime -> BigInt,
        ctime -> BigInt,
        modifier_uid -> Nullable<Text>,
        checksum -> Nullable<Text>,
    }
}

diesel::table! {
    uploads (id) {
        id -> BigInt,
        owner_uid -> Text,
        name -> Text,
        destination -> Nullable<Text>,
        chunk_count -> Nullable<BigInt>,
        assembling_since -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    upload_chunks (upload_id, name) {
        upload_id -> BigInt,
        name -> Text,
        content_key -> Text,
        size -> BigInt,
    }
}

diesel::table! {
    direct_downloads (token_digest) {
        token_digest -> Text,
        uid -> Text,
        file_id -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    direct_uploads (token_digest) {
        token_digest -> Text,
        uid -> Text,
        folder_id -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    dead_properties (node_id, uid, namespace, name) {
        node_id -> BigInt,
        uid -> Text,
        namespace -> Text,
        name -> Text,
        value -> Text,
    }
}

diesel::joinable!(group_members -> groups (gid));
diesel::joinable!(group_members -> users (uid));
diesel::joinable!(app_passwords -> users (uid));
diesel::joinable!(sessions -> users (uid));
diesel::joinable!(upload_chunks -> uploads (upload_id));
diesel::joinable!(user_preferences -> users (uid));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    groups,
    group_members,
    app_passwords,
    sessions,
    app_config,
    user_preferences,
    oauth_clients,
    team_folders,
    oauth_pending_authorizations,
    openproject_token_refreshes,
    file_nodes,
    direct_downloads,
    direct_uploads,
    uploads,
    upload_chunks,
    dead_properties,
);
