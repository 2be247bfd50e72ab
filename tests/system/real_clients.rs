//! Nextcloud's own clients against the Nextcloud side as a real process: the desktop client's
//! `nextcloudcmd` and `rclone` (webdav, vendor nextcloud) from their Debian packages, the WebDAV
//! compliance suite `litmus`, and the chunked-upload protocols the clients use, spoken over HTTP
//! where a test needs to control each step.
//!
//! The client tests return early with a message when a client is not installed, except under
//! `CI=true`, where that fails them (`scripts/install-deps.sh` installs them).
//!
//! Not here: the expiry of abandoned chunked uploads (24 h in Nextcloud). The service has no
//! clock a test can move and no purge a test can trigger, and a test must not wait a day.

mod chunking;
mod litmus;
mod nextcloudcmd;
mod rclone;
