//! User-bound file calls to a storage's Nextcloud (openproject-storages.md §12): how their
//! failures read. The calls themselves are [`crate::flows::files`].

use super::connections::UserBound;
use crate::peer::Probe;

/// Why a user-bound file call failed; each has its contract response (§12).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The user holds no usable token: not connected, or it was refused and not refreshed.
    #[error("not connected to the storage")]
    NotConnected,
    /// Nextcloud answered 404 (or a file-info record said so).
    #[error("not found on the storage")]
    NotFound,
    /// Nextcloud answered 403 (or a file-info record said so).
    #[error("forbidden on the storage")]
    Forbidden,
    /// Nextcloud answered something unusable, or nothing.
    #[error("storage unreachable")]
    Unreachable,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

/// The failure of a user-bound call that did not answer with a usable result (§12).
pub fn failure<T>(outcome: UserBound<T>) -> FileError {
    match outcome {
        UserBound::NotConnected | UserBound::RefreshFailed | UserBound::Unauthorized => {
            FileError::NotConnected
        }
        UserBound::Answered(Probe::Status(status)) if status == reqwest::StatusCode::NOT_FOUND => {
            FileError::NotFound
        }
        UserBound::Answered(Probe::Status(status)) if status == reqwest::StatusCode::FORBIDDEN => {
            FileError::Forbidden
        }
        UserBound::Unexpected(e) => FileError::Unexpected(e),
        UserBound::Answered(_) => FileError::Unreachable,
    }
}

/// A file-info record's `statuscode` 403/404 maps like the HTTP statuses (§12).
pub fn record_failure(statuscode: i64) -> FileError {
    match statuscode {
        404 => FileError::NotFound,
        403 => FileError::Forbidden,
        _ => FileError::Unreachable,
    }
}
