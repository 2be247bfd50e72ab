-- The host model around file links: projects with their enabled modules, the three seeded roles
-- (their permissions are a fixed table in code, openproject-storages.md §2), memberships, the
-- seeded statuses, types and priorities, work packages, notifications, and the two tables of the
-- integration: project storages and file links. Both reference storages ON DELETE CASCADE, so
-- deleting a storage removes them in the same statement.
CREATE TABLE projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    identifier TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE project_modules (
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    PRIMARY KEY (project_id, name)
);

CREATE TABLE roles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Stable key of the role's permission set in code.
    role_key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);
INSERT INTO roles (role_key, name) VALUES ('project_admin', 'Project admin'), ('member', 'Member'), ('reader', 'Reader');

CREATE TABLE memberships (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (project_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE membership_roles (
    membership_id BIGINT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    role_id BIGINT NOT NULL REFERENCES roles (id),
    PRIMARY KEY (membership_id, role_id)
);

CREATE TABLE statuses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    is_closed BOOLEAN NOT NULL,
    is_default BOOLEAN NOT NULL,
    color TEXT NOT NULL,
    position BIGINT NOT NULL
);
INSERT INTO statuses (name, is_closed, is_default, color, position) VALUES
    ('New', 0, 1, '#1A67A3', 1), ('In progress', 0, 0, '#F08C00', 2), ('Closed', 1, 0, '#868E96', 3);

CREATE TABLE types (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    color TEXT NOT NULL,
    position BIGINT NOT NULL,
    is_default BOOLEAN NOT NULL,
    is_milestone BOOLEAN NOT NULL
);
INSERT INTO types (name, color, position, is_default, is_milestone) VALUES
    ('Task', '#1A67A3', 1, 1, 0), ('Bug', '#C92A2A', 2, 0, 0);

CREATE TABLE priorities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    is_default BOOLEAN NOT NULL,
    is_active BOOLEAN NOT NULL
);
INSERT INTO priorities (name, position, is_default, is_active) VALUES
    ('Low', 1, 0, 1), ('Normal', 2, 1, 1), ('High', 3, 0, 1);

CREATE TABLE work_packages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    start_date TEXT,
    due_date TEXT,
    type_id BIGINT NOT NULL REFERENCES types (id),
    status_id BIGINT NOT NULL REFERENCES statuses (id),
    priority_id BIGINT NOT NULL REFERENCES priorities (id),
    author_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    assignee_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    lock_version BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX work_packages_project ON work_packages (project_id);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    actor_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    resource_id BIGINT NOT NULL REFERENCES work_packages (id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    read_ian BOOLEAN NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX notifications_recipient ON notifications (recipient_id);

CREATE TABLE project_storages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    storage_id BIGINT NOT NULL REFERENCES storages (id) ON DELETE CASCADE,
    project_folder_mode TEXT NOT NULL,
    project_folder_id TEXT,
    creator_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (project_id, storage_id)
);
CREATE INDEX project_storages_storage ON project_storages (storage_id);

CREATE TABLE file_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    storage_id BIGINT NOT NULL REFERENCES storages (id) ON DELETE CASCADE,
    container_id BIGINT NOT NULL REFERENCES work_packages (id) ON DELETE CASCADE,
    origin_id TEXT NOT NULL,
    origin_name TEXT NOT NULL,
    origin_mime_type TEXT,
    origin_created_at BIGINT,
    origin_updated_at BIGINT,
    origin_created_by_name TEXT,
    origin_last_modified_by_name TEXT,
    creator_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (storage_id, container_id, origin_id)
);
CREATE INDEX file_links_container ON file_links (container_id);
CREATE INDEX file_links_origin ON file_links (origin_id);
