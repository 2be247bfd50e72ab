//! `nextcloud-openproject-app [--config FILE] [serve|migrate|ready]`

use std::process::ExitCode;

use nextcloud_openproject_app::startup::NextcloudOpenProjectApp;

#[global_allocator]
static ALLOCATOR: service_kit::allocator::Allocator = service_kit::allocator::Allocator;

fn main() -> ExitCode {
    service_kit::cli::main::<NextcloudOpenProjectApp>()
}
