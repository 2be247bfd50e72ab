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

diesel::table! {
    storages (id) {
        id -> BigInt,
        name -> Text,
        provider_type -> Text,
        host -> Nullable<Text>,
        authentication_method -> Text,
        application_password_sealed -> Nullable<Text>,
        storage_audience -> Nullable<Text>,
        token_exchange_scope -> Nullable<Text>,
        forbidden_file_name_characters -> Nullable<Text>,
        creator_id -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    oauth_applications (id) {
        id -> BigInt,
        name -> Text,
        client_id -> Text,
        secret_digest -> Text,
        redirect_uri -> Text,
        scopes -> Text,
        confidential -> Bool,
        owner_id -> Nullable<BigInt>,
        storage_id -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    oauth_client_credentials (id) {
        id -> BigInt,
        storage_id -> BigInt,
        client_id -> Text,
        client_secret_sealed -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    oauth_client_tokens (id) {
        id -> BigInt,
        oauth_client_credentials_id -> BigInt,
        user_id -> BigInt,
        access_token_sealed -> Text,
        refresh_token_sealed -> Nullable<Text>,
        expires_at -> Nullable<BigInt>,
        origin_user_id -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        refresh_claimed_at -> Nullable<BigInt>,
        refreshed_at -> Nullable<BigInt>,
    }
}

diesel::joinable!(oauth_applications -> storages (storage_id));
diesel::joinable!(oauth_client_credentials -> storages (storage_id));
diesel::joinable!(oauth_client_tokens -> oauth_client_credentials (oauth_client_credentials_id));
diesel::allow_tables_to_appear_in_same_query!(
    storages,
    oauth_applications,
    oauth_client_credentials,
    oauth_client_tokens,
    users
);

diesel::table! {
    oauth_client_states (id) {
        id -> BigInt,
        state_digest -> Text,
        user_id -> BigInt,
        storage_id -> BigInt,
        code_verifier_sealed -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
        consumed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    projects (id) {
        id -> BigInt,
        identifier -> Text,
        name -> Text,
        description -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    project_modules (project_id, name) {
        project_id -> BigInt,
        name -> Text,
    }
}

diesel::table! {
    roles (id) {
        id -> BigInt,
        role_key -> Text,
        name -> Text,
    }
}

diesel::table! {
    memberships (id) {
        id -> BigInt,
        project_id -> BigInt,
        user_id -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    membership_roles (membership_id, role_id) {
        membership_id -> BigInt,
        role_id -> BigInt,
    }
}

diesel::table! {
    statuses (id) {
        id -> BigInt,
        name -> Text,
        is_closed -> Bool,
        is_default -> Bool,
        color -> Text,
        position -> BigInt,
        is_readonly -> Bool,
        default_done_ratio -> Nullable<BigInt>,
    }
}

diesel::table! {
    types (id) {
        id -> BigInt,
        name -> Text,
        color -> Text,
        position -> BigInt,
        is_default -> Bool,
        is_milestone -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    priorities (id) {
        id -> BigInt,
        name -> Text,
        position -> BigInt,
        is_default -> Bool,
        is_active -> Bool,
    }
}

diesel::table! {
    work_packages (id) {
        id -> BigInt,
        project_id -> BigInt,
        subject -> Text,
        description -> Text,
        start_date -> Nullable<Text>,
        due_date -> Nullable<Text>,
        type_id -> BigInt,
        status_id -> BigInt,
        priority_id -> BigInt,
        author_id -> Nullable<BigInt>,
        assignee_id -> Nullable<BigInt>,
        lock_version -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        recipient_id -> BigInt,
        actor_id -> Nullable<BigInt>,
        project_id -> BigInt,
        resource_id -> BigInt,
        reason -> Text,
        read_ian -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    project_storages (id) {
        id -> BigInt,
        project_id -> BigInt,
        storage_id -> BigInt,
        project_folder_mode -> Text,
        project_folder_id -> Nullable<Text>,
        creator_id -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    file_links (id) {
        id -> BigInt,
        storage_id -> BigInt,
        container_id -> BigInt,
        origin_id -> Text,
        origin_name -> Text,
        origin_mime_type -> Nullable<Text>,
        origin_created_at -> Nullable<BigInt>,
        origin_updated_at -> Nullable<BigInt>,
        origin_created_by_name -> Nullable<Text>,
        origin_last_modified_by_name -> Nullable<Text>,
        creator_id -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::joinable!(project_modules -> projects (project_id));
diesel::joinable!(memberships -> projects (project_id));
diesel::joinable!(membership_roles -> memberships (membership_id));
diesel::joinable!(membership_roles -> roles (role_id));
diesel::joinable!(work_packages -> projects (project_id));
diesel::joinable!(project_storages -> projects (project_id));
diesel::joinable!(project_storages -> storages (storage_id));
diesel::joinable!(file_links -> work_packages (container_id));
diesel::allow_tables_to_appear_in_same_query!(
    projects,
    project_modules,
    roles,
    memberships,
    membership_roles,
    work_packages,
    project_storages,
    file_links,
    storages,
    notifications
);

diesel::table! {
    pairing_codes (nonce_digest) {
        nonce_digest -> Text,
        storage_id -> BigInt,
        issued_by -> Nullable<BigInt>,
        created_at -> BigInt,
        expires_at -> BigInt,
        consumed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    pairing_peers (storage_id) {
        storage_id -> BigInt,
        nextcloud_url -> Text,
        public_key -> Text,
        paired_at -> BigInt,
        reset_at -> Nullable<BigInt>,
    }
}
