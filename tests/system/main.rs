//! System tests: both services as real processes on port 0 with real databases.

mod is_valid_op_instance;
mod processes;
mod scripted_setup;
