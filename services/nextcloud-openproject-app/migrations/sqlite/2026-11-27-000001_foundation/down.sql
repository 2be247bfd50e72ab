DROP TABLE auth_failures;
DROP TABLE sessions;
DROP TABLE app_passwords;
DROP TABLE group_members;
DROP TABLE "groups";
DROP TABLE users;
