//! System tests: both services as real processes on port 0 with real databases.

mod processes;
mod scripted_setup;
