//! Browser tests: both services' pages in headless Chromium (Debian's `chromium` through
//! `chromedriver`), driven the way a person would, with axe-core checking each page.
//! `make test` installs the browser and axe-core (`make deps`) and builds the binaries first.

mod harness;
mod nextcloud_ui;
mod openproject_ui;
mod pairing;
mod whole_guide;
