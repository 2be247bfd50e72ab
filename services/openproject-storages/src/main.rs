//! `openproject-storages [--config FILE] [serve|migrate|ready]`

use std::process::ExitCode;

use openproject_storages::startup::OpenProjectStorages;

#[global_allocator]
static ALLOCATOR: service_kit::allocator::Allocator = service_kit::allocator::Allocator;

fn main() -> ExitCode {
    service_kit::cli::main::<OpenProjectStorages>()
}
