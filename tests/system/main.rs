//! System tests: both services as real processes on port 0 with real databases.

mod concurrency;
mod direct_upload;
mod file_links;
mod housekeeping;
mod is_valid_op_instance;
mod malformed_input;
mod oauth_flows;
mod operations;
mod pairing;
mod processes;
mod real_clients;
mod replicas;
mod scripted_setup;
mod secrets_in_logs;
mod work_package_creation;
mod write_ahead_log;
