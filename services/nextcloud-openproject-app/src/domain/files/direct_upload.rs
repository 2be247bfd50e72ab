//! Direct upload (spec §10.1): a user asks for a token standing for "a new file in this folder,
//! as me"; anyone holding it may then post one file there, once, within the hour. The content
//! goes through the same staging and [`ops::put`] as a WebDAV PUT.

use service_kit::{crypto, db::AnyConnection};
use storage_protocol::{
    integration_app::direct_upload::{messages::*, LIFETIME_SECS, TOKEN_LEN},
    nextcloud::FORBIDDEN_FILE_NAMES,
};

use super::{
    info::{lookup, Lookup},
    ops::{self, NewContent, PutOutcome},
    preconditions::Preconditions,
    resolve, valid_name, FileError, Located, Memo, Viewer,
};
use crate::db::{direct_uploads, users};

#[derive(Debug, thiserror::Error)]
pub enum DirectUploadError {
    /// Unknown, already used or expired.
    #[error("{INVALID_TOKEN}")]
    InvalidToken,
    /// The token's user is gone or disabled.
    #[error("{UNAUTHORIZED}")]
    Unauthorized,
    /// Missing, not a folder, or not writable by the user.
    #[error("{FOLDER_NOT_FOUND}")]
    FolderNotFound,
    #[error("{NOT_ENOUGH_PERMISSIONS}")]
    NotEnoughPermissions,
    #[error("{INVALID_FILE_NAME}")]
    InvalidFileName,
    #[error("{INVALID_OVERWRITE}")]
    InvalidOverwrite,
    /// The name exists and the request did not say what to do.
    #[error("{CONFLICT}")]
    Conflict,
    /// `overwrite=true` on a folder.
    #[error("{OVERWRITE_NON_FILE}")]
    OverwriteNonFile,
    /// The file is larger than the upload limit (bytes).
    #[error("the file exceeds the upload limit of {0} bytes")]
    TooLarge(u64),
    #[error("{INSUFFICIENT_QUOTA}")]
    InsufficientQuota,
    #[error(transparent)]
    File(FileError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl From<FileError> for DirectUploadError {
    fn from(e: FileError) -> Self {
        match e {
            FileError::InsufficientStorage => Self::InsufficientQuota,
            FileError::Forbidden(_) => Self::NotEnoughPermissions,
            FileError::BadName => Self::InvalidFileName,
            FileError::Database(e) => Self::Database(e),
            other => Self::File(other),
        }
    }
}

/// What a redeemed token allows: writing into `folder_id` as `uid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub uid: String,
    pub folder_id: i64,
}

/// A new token for a folder the viewer may write to, and its expiry (unix seconds).
pub fn create_token(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    folder_id: i64,
    now: i64,
) -> Result<(String, i64), DirectUploadError> {
    writable_folder(conn, viewer, folder_id)?;
    let token = crypto::random_alphanumeric(TOKEN_LEN);
    let expires_on = now + LIFETIME_SECS;
    direct_uploads::insert(
        conn,
        &crypto::digest(&token),
        &viewer.uid,
        folder_id,
        expires_on,
    )?;
    Ok((token, expires_on))
}

/// Consumes a token (whatever happens next, it is used up) and checks its user may still act.
pub fn redeem(conn: &mut AnyConnection, token: &str, now: i64) -> Result<Grant, DirectUploadError> {
    if token.len() != TOKEN_LEN || !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(DirectUploadError::InvalidToken);
    }
    let row = direct_uploads::take(conn, &crypto::digest(token))?
        .filter(|row| row.is_valid_at(now))
        .ok_or(DirectUploadError::InvalidToken)?;
    match users::find(conn, &row.uid)? {
        Some(user) if user.enabled && user.uid == row.uid => Ok(Grant {
            uid: row.uid,
            folder_id: row.folder_id,
        }),
        _ => Err(DirectUploadError::Unauthorized),
    }
}

/// The folder as the viewer sees it, when they may create files in it. (Every folder a user
/// sees in this host model is writable: their own tree and the team folder.)
pub fn writable_folder(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    folder_id: i64,
) -> Result<Located, DirectUploadError> {
    match lookup(conn, viewer, folder_id, &mut Memo::default())? {
        Lookup::Visible(located) if located.node.is_folder => Ok(*located),
        _ => Err(DirectUploadError::FolderNotFound),
    }
}

/// The name of the uploaded file, when the server accepts it: not blank, `.` or `..`, no `/`,
/// `\` or control characters, at most 250 bytes, and not a forbidden name (`.htaccess`).
pub fn check_name(name: &str) -> Result<&str, DirectUploadError> {
    let trimmed = name.trim();
    let forbidden = FORBIDDEN_FILE_NAMES
        .iter()
        .any(|f| f.eq_ignore_ascii_case(trimmed));
    if trimmed.is_empty() || trimmed == "." || trimmed == ".." || forbidden {
        return Err(DirectUploadError::InvalidFileName);
    }
    valid_name(name).map_err(|_| DirectUploadError::InvalidFileName)
}

/// The first of `name`, `name (2)`, `name (3)`… (before the extension) for which `taken` is
/// false, as Nextcloud's `Folder::getNonExistingName` numbers it: a name already ending in
/// `(n)` counts on from `n`.
pub fn numbered_name(name: &str, mut taken: impl FnMut(&str) -> bool) -> String {
    if !taken(name) {
        return name.to_string();
    }
    // The extension starts at the last `.`, unless that is the first character.
    let (stem, extension) = match name.rfind('.') {
        Some(pos) if pos > 0 => name.split_at(pos),
        _ => (name, ""),
    };
    let last_number = last_parenthesized_number(stem);
    let mut counter = last_number
        .as_ref()
        .map_or(2, |(_, _, n)| n.saturating_add(1));
    loop {
        let candidate = match &last_number {
            // Nextcloud tests the offset for truth: a `(n)` at the very start is not replaced.
            Some((start, end, _)) if *start > 0 => {
                format!("{}({counter}){}{extension}", &stem[..*start], &stem[*end..])
            }
            _ => format!("{stem} ({counter}){extension}"),
        };
        if !taken(&candidate) {
            return candidate;
        }
        counter = counter.saturating_add(1);
    }
}

/// The byte range and value of the last `(<digits>)` in `stem`.
fn last_parenthesized_number(stem: &str) -> Option<(usize, usize, u64)> {
    let bytes = stem.as_bytes();
    let mut found = None;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'(' {
            let digits = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let close = i + 1 + digits;
            if digits > 0 && bytes.get(close) == Some(&b')') {
                if let Ok(n) = stem[i + 1..close].parse::<u64>() {
                    found = Some((i, close + 1, n));
                }
                i = close + 1;
                continue;
            }
        }
        i += 1;
    }
    found
}

/// Where the file goes and what it became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// The name the file got (numbered when `overwrite=false` met an existing name).
    pub name: String,
    pub outcome: PutOutcome,
}

/// Writes the staged content as `name` into the grant's folder, following `overwrite`: absent
/// and the name exists → conflict; `true` → replace the file (never a folder); `false` → a
/// numbered name. Runs in the caller's serialized transaction.
pub fn place(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    folder_id: i64,
    name: &str,
    overwrite: Option<bool>,
    content: &NewContent<'_>,
) -> Result<Placed, DirectUploadError> {
    let folder = writable_folder(conn, viewer, folder_id)?;
    let at = |name: &str| {
        let mut segments = folder.path.clone();
        segments.push(name.to_string());
        segments
    };
    let existing = resolve(conn, viewer, &at(name))?;
    let name = match (existing, overwrite) {
        (None, _) => name.to_string(),
        (Some(_), None) => return Err(DirectUploadError::Conflict),
        (Some(existing), Some(true)) if existing.node.is_folder => {
            return Err(DirectUploadError::OverwriteNonFile)
        }
        (Some(_), Some(true)) => name.to_string(),
        (Some(_), Some(false)) => {
            let mut failure = None;
            let numbered = numbered_name(name, |candidate| {
                match resolve(conn, viewer, &at(candidate)) {
                    Ok(found) => found.is_some(),
                    Err(e) => {
                        failure = Some(e);
                        false
                    }
                }
            });
            if let Some(e) = failure {
                return Err(e.into());
            }
            numbered
        }
    };
    let outcome = ops::put(conn, viewer, &at(&name), content, &Preconditions::default())?;
    Ok(Placed { name, outcome })
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::{
        db::{test_db, users},
        domain::files::store::Staging,
        domain::files::{ops::mkcol, store::ContentStore},
    };

    #[test]
    fn names_are_numbered_as_nextcloud_does() {
        let taken = |names: &'static [&'static str]| move |n: &str| names.contains(&n);
        assert_eq!(numbered_name("a.txt", taken(&[])), "a.txt");
        assert_eq!(numbered_name("a.txt", taken(&["a.txt"])), "a (2).txt");
        assert_eq!(
            numbered_name("a.txt", taken(&["a.txt", "a (2).txt"])),
            "a (3).txt"
        );
        assert_eq!(
            numbered_name("a (2).txt", taken(&["a (2).txt"])),
            "a (3).txt"
        );
        assert_eq!(
            numbered_name("x (1) y (7).tar.gz", taken(&["x (1) y (7).tar.gz"])),
            "x (1) y (8).tar.gz"
        );
        assert_eq!(numbered_name("README", taken(&["README"])), "README (2)");
        assert_eq!(numbered_name(".bashrc", taken(&[".bashrc"])), ".bashrc (2)");
        assert_eq!(numbered_name("(4).txt", taken(&["(4).txt"])), "(4) (5).txt");
    }

    #[test]
    fn names_the_server_refuses() {
        for bad in [
            "",
            "  ",
            ".",
            "..",
            " .. ",
            "a/b",
            "a\\b",
            ".htaccess",
            ".HTACCESS",
            "a\nb",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        let long = "x".repeat(251);
        assert!(check_name(&long).is_err());
        for good in ["a.txt", " spaced ", "ümlaut (2).pdf", ".hidden"] {
            assert_eq!(check_name(good).unwrap(), good);
        }
    }

    fn staged(store: &ContentStore, content: &[u8]) -> crate::domain::files::store::Staged {
        let (mut file, mut staged) = store.begin(Staging::Content).unwrap();
        ContentStore::write(&mut file, &mut staged, content).unwrap();
        file.flush().unwrap();
        staged
    }

    #[test]
    fn tokens_are_single_use_and_placing_follows_overwrite() {
        let (_database, db) = test_db();
        let conn = &mut db.get().unwrap();
        users::insert_for_tests(conn, "alice");
        let alice = Viewer::load(conn, "alice").unwrap();
        let folder = mkcol(conn, &alice, &["docs".to_string()]).unwrap();
        let (token, expires_on) = create_token(conn, &alice, folder.node.id, 1000).unwrap();
        assert_eq!(expires_on, 1000 + LIFETIME_SECS);
        let grant = redeem(conn, &token, 1001).unwrap();
        assert_eq!(grant.folder_id, folder.node.id);
        assert!(matches!(
            redeem(conn, &token, 1001),
            Err(DirectUploadError::InvalidToken)
        ));
        let (late, _) = create_token(conn, &alice, folder.node.id, 1000).unwrap();
        assert!(matches!(
            redeem(conn, &late, 1000 + LIFETIME_SECS),
            Err(DirectUploadError::InvalidToken)
        ));
        assert!(matches!(
            create_token(conn, &alice, 999_999, 1000),
            Err(DirectUploadError::FolderNotFound)
        ));

        let dir = std::env::temp_dir().join(format!("ncoa-du-{}", uuid::Uuid::new_v4()));
        let store = ContentStore::open(&dir).unwrap();
        let first = staged(&store, b"one");
        let content = NewContent {
            staged: &first,
            mime_type: "text/plain",
            client_mtime: None,
            checksum: "",
        };
        let placed = place(conn, &alice, folder.node.id, "a.txt", None, &content).unwrap();
        assert!(placed.outcome.created);
        assert!(matches!(
            place(conn, &alice, folder.node.id, "a.txt", None, &content),
            Err(DirectUploadError::Conflict)
        ));
        let numbered = place(conn, &alice, folder.node.id, "a.txt", Some(false), &content).unwrap();
        assert_eq!(numbered.name, "a (2).txt");
        let replaced = place(conn, &alice, folder.node.id, "a.txt", Some(true), &content).unwrap();
        assert!(!replaced.outcome.created);
        assert_eq!(replaced.outcome.node.node.id, placed.outcome.node.node.id);
        mkcol(conn, &alice, &["docs".to_string(), "sub".to_string()]).unwrap();
        assert!(matches!(
            place(conn, &alice, folder.node.id, "sub", Some(true), &content),
            Err(DirectUploadError::OverwriteNonFile)
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
