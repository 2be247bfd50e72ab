//! The WebDAV server's use cases (spec §7): each reads or writes the caller's tree through
//! [`super::files`] (the view loaded in the work's connection, writes serialized, staged
//! content committed with the transaction that records it) and removes from the store the
//! content a committed write let go.

use std::collections::HashMap;

use actix_web::web;
use storage_protocol::proppatch::{PropertyName, PropertyUpdate};

use super::files::{read, record_staged, write};
use crate::{
    domain::{
        authentication::AuthenticatedUser,
        files::{
            checksum, mime_for, now_secs,
            ops::{self, CopyOutcome, MoveOutcome, NewContent, PutOutcome},
            preconditions::Preconditions,
            properties::{self, DeadProperty, PropertyStatus},
            resolve,
            store::Staged,
            uploads::{self, add_legacy_chunk, Assembly, LegacyChunk, LegacyProgress, UploadEntry},
            walk, FileError, Located,
        },
    },
    error::ApiError,
    state::AppState,
};

/// A file's node, opened for reading when it has content.
pub async fn open(
    state: &AppState,
    user: &AuthenticatedUser,
    segments: Vec<String>,
) -> Result<(Located, Option<std::fs::File>), ApiError> {
    let store = state.files.clone();
    read(state, user, move |conn, viewer| {
        let located = resolve(conn, viewer, &segments)?.ok_or(FileError::NotFound)?;
        // Opened here: the content stays readable even if a concurrent PUT replaces it.
        let file = match &located.node.content_key {
            Some(key) if !located.node.is_folder => Some(store.read(key)?),
            _ => None,
        };
        Ok((located, file))
    })
    .await
}

/// What a tree's owner sees of it beside each node.
pub struct Context {
    /// The owner's uid and display name.
    pub owner: (String, String),
    /// Bytes free in the user's own tree; `None` without a quota.
    pub free: Option<i64>,
    /// The caller's dead properties by node id.
    pub dead: HashMap<i64, Vec<DeadProperty>>,
}

/// The node at `segments` and, for a folder with `children`, what is below it (everything
/// with `deep`), with the context their properties need.
pub async fn propfind(
    state: &AppState,
    user: &AuthenticatedUser,
    segments: Vec<String>,
    children: bool,
    deep: bool,
) -> Result<(Vec<Located>, Context), ApiError> {
    read(state, user, move |conn, viewer| {
        let located = resolve(conn, viewer, &segments)?.ok_or(FileError::NotFound)?;
        let mut nodes = vec![located.clone()];
        if located.node.is_folder && children {
            walk(conn, viewer, &located, deep, &mut nodes)?;
        }
        let ids: Vec<i64> = nodes.iter().map(|n| n.node.id).collect();
        let context = Context {
            owner: (viewer.uid.clone(), viewer.display_name.clone()),
            free: viewer.free_bytes(conn)?,
            dead: properties::of_nodes(conn, viewer, &ids)?,
        };
        Ok((nodes, context))
    })
    .await
}

/// Sets and removes dead properties of the node at `segments`.
pub async fn proppatch(
    state: &AppState,
    user: &AuthenticatedUser,
    segments: Vec<String>,
    updates: Vec<PropertyUpdate>,
) -> Result<(Located, Vec<(PropertyName, PropertyStatus)>), ApiError> {
    write(state, user, move |conn, viewer| {
        properties::patch(conn, viewer, &segments, &updates)
    })
    .await
}

/// Refuses, before the body is read, an upload of `length` bytes that the quota cannot take.
pub async fn check_room(
    state: &AppState,
    user: &AuthenticatedUser,
    segments: &[String],
    length: Option<u64>,
) -> Result<(), ApiError> {
    let Some(length) = length.and_then(|l| i64::try_from(l).ok()) else {
        return Ok(());
    };
    let segments = segments.to_vec();
    read(state, user, move |conn, viewer| {
        if viewer.quota_bytes.is_none() {
            return Ok(());
        }
        match resolve(conn, viewer, &segments)? {
            Some(existing) => viewer.check_quota(conn, &existing.node, length - existing.node.size),
            None => match resolve(conn, viewer, &segments[..segments.len().saturating_sub(1)])? {
                Some(parent) => viewer.check_quota(conn, &parent.node, length),
                None => Ok(()),
            },
        }
    })
    .await
}

/// What a client says about content it sends beside the bytes.
pub struct ContentClaims {
    /// `OC-Checksum`.
    pub checksum: Option<String>,
    /// `X-OC-Mtime`.
    pub mtime: Option<i64>,
    pub preconditions: Preconditions,
}

/// Stores staged content as the file at `segments`: the client's checksum checked against the
/// content, the write recorded, the replaced content removed.
pub async fn put(
    state: &AppState,
    user: &AuthenticatedUser,
    segments: Vec<String>,
    staged: Staged,
    claims: ContentClaims,
) -> Result<PutOutcome, ApiError> {
    let (outcome, ()) =
        record_content(state, user, segments, staged, claims, |_, _| Ok(())).await?;
    state
        .files
        .remove(&outcome.replaced_key.iter().cloned().collect::<Vec<_>>());
    Ok(outcome)
}

/// [`put`]'s check and record; `also` runs in the same transaction after the write.
async fn record_content<T: Send + 'static>(
    state: &AppState,
    user: &AuthenticatedUser,
    segments: Vec<String>,
    staged: Staged,
    claims: ContentClaims,
    also: impl FnOnce(&mut service_kit::db::AnyConnection, &PutOutcome) -> Result<T, FileError>
        + Send
        + 'static,
) -> Result<(PutOutcome, T), ApiError> {
    let checksum = match checksum::of_staged(claims.checksum.as_deref(), &staged) {
        Ok(checksum) => checksum,
        Err(e) => {
            state.files.discard(&staged);
            return Err(e.into());
        }
    };
    let mime = mime_for(segments.last().map_or("", String::as_str));
    record_staged(state, user, staged, move |conn, viewer, staged| {
        let content = NewContent {
            staged,
            mime_type: mime,
            client_mtime: claims.mtime,
            checksum: &checksum,
        };
        let outcome = ops::put(conn, viewer, &segments, &content, &claims.preconditions)?;
        let more = also(conn, &outcome)?;
        Ok((outcome, more))
    })
    .await
}

/// Keeps a legacy chunk aside for the file at `destination`; the chunk that completes the set
/// claims the upload for assembly, returned then.
pub async fn add_legacy_chunk_for(
    state: &AppState,
    user: &AuthenticatedUser,
    chunk: LegacyChunk,
    destination: String,
    staged: Staged,
) -> Result<Option<Assembly>, ApiError> {
    let progress = record_staged(state, user, staged, move |conn, viewer, staged| {
        add_legacy_chunk(
            conn,
            viewer,
            &chunk,
            &destination,
            &staged.key,
            staged.size,
            now_secs(),
        )
    })
    .await?;
    let (stored, assembly) = match progress {
        LegacyProgress::Pending(stored) => (stored, None),
        LegacyProgress::Complete(stored, assembly) => (stored, Some(assembly)),
    };
    state
        .files
        .remove(&stored.replaced_key.into_iter().collect::<Vec<_>>());
    Ok(assembly)
}

/// Creates the folder at `segments`.
pub async fn mkcol(
    state: &AppState,
    user: &AuthenticatedUser,
    segments: Vec<String>,
) -> Result<Located, ApiError> {
    write(state, user, move |conn, viewer| {
        ops::mkcol(conn, viewer, &segments)
    })
    .await
}

/// Deletes the node at `segments`, folders recursively, and then their content.
pub async fn delete(
    state: &AppState,
    user: &AuthenticatedUser,
    segments: Vec<String>,
) -> Result<(), ApiError> {
    let keys = write(state, user, move |conn, viewer| {
        ops::delete(conn, viewer, &segments)
    })
    .await?;
    state.files.remove(&keys);
    Ok(())
}

/// Moves the node at `from` to `to`; what it replaced leaves the store.
pub async fn move_node(
    state: &AppState,
    user: &AuthenticatedUser,
    from: Vec<String>,
    to: Vec<String>,
    overwrite: bool,
) -> Result<MoveOutcome, ApiError> {
    let outcome = write(state, user, move |conn, viewer| {
        ops::move_node(conn, viewer, &from, &to, overwrite)
    })
    .await?;
    state.files.remove(&outcome.removed_keys);
    Ok(outcome)
}

/// Copies the node at `from` to `to` (a folder's contents with `recursive`); what it replaced
/// leaves the store, and so do the copies of a copy that failed.
pub async fn copy_node(
    state: &AppState,
    user: &AuthenticatedUser,
    from: Vec<String>,
    to: Vec<String>,
    overwrite: bool,
    recursive: bool,
) -> Result<CopyOutcome, ApiError> {
    let store = state.files.clone();
    let made = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let made_here = made.clone();
    let result = write(state, user, move |conn, viewer| {
        let mut new_keys = Vec::new();
        let outcome = ops::copy_node(
            conn,
            &store,
            viewer,
            &from,
            &to,
            overwrite,
            recursive,
            &mut new_keys,
        );
        if let Ok(mut made) = made_here.lock() {
            made.extend(new_keys);
        }
        outcome
    })
    .await;
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(e) => {
            if let Ok(made) = made.lock() {
                state.files.remove(&made);
            }
            return Err(e);
        }
    };
    state.files.remove(&outcome.removed_keys);
    Ok(outcome)
}

/// Creates the chunked upload `name`, for the file at `destination` when given (chunking v2).
pub async fn create_upload(
    state: &AppState,
    user: &AuthenticatedUser,
    name: String,
    destination: Option<String>,
) -> Result<(), ApiError> {
    write(state, user, move |conn, viewer| {
        uploads::create(conn, viewer, &name, destination.as_deref(), now_secs())
    })
    .await
}

/// The destination of upload `name` (`None` for one without); `Missing` when there is no
/// such upload.
pub async fn upload_destination(
    state: &AppState,
    user: &AuthenticatedUser,
    name: String,
) -> Result<Option<String>, ApiError> {
    let lookup = name.clone();
    read(state, user, move |conn, viewer| {
        uploads::find(conn, viewer, &lookup)
    })
    .await
    .map(|upload| upload.destination)
    .map_err(|_| ApiError::Missing(format!("Upload {name} does not exist")))
}

/// Records a chunk of upload `name`; whether it is new (not a replacement).
pub async fn put_chunk(
    state: &AppState,
    user: &AuthenticatedUser,
    name: String,
    chunk: String,
    staged: Staged,
) -> Result<bool, ApiError> {
    let stored = record_staged(state, user, staged, move |conn, viewer, staged| {
        let upload = uploads::find(conn, viewer, &name)?;
        uploads::add_chunk(conn, &upload, &chunk, &staged.key, staged.size, now_secs())
    })
    .await?;
    state
        .files
        .remove(&stored.replaced_key.into_iter().collect::<Vec<_>>());
    Ok(stored.created)
}

/// Claims upload `name` for assembly.
pub async fn begin_assembly(
    state: &AppState,
    user: &AuthenticatedUser,
    name: String,
) -> Result<Assembly, ApiError> {
    write(state, user, move |conn, viewer| {
        let upload = uploads::find(conn, viewer, &name)?;
        uploads::begin_assembly(conn, &upload, now_secs())
    })
    .await
}

/// Turns a claimed upload into the file at `target`: checks the total length, concatenates
/// the chunks into a staged content, stores it as PUT does, and ends the upload. On failure the
/// claim is released (the client may retry) and nothing is left of the attempt.
pub async fn assemble(
    state: &AppState,
    user: &AuthenticatedUser,
    assembly: Assembly,
    target: Vec<String>,
    expected_total: Option<i64>,
    claims: ContentClaims,
) -> Result<PutOutcome, ApiError> {
    let upload_id = assembly.upload_id;
    let result = assemble_claimed(state, user, assembly, target, expected_total, claims).await;
    match result {
        Ok((outcome, chunk_keys)) => {
            state.files.remove(&chunk_keys);
            state
                .files
                .remove(&outcome.replaced_key.iter().cloned().collect::<Vec<_>>());
            Ok(outcome)
        }
        Err(e) => {
            let released = write(state, user, move |conn, _| {
                uploads::release(conn, upload_id)
            })
            .await;
            if let Err(release) = released {
                tracing::warn!(error = %release, "a failed upload's claim could not be released");
            }
            Err(e)
        }
    }
}

async fn assemble_claimed(
    state: &AppState,
    user: &AuthenticatedUser,
    assembly: Assembly,
    target: Vec<String>,
    expected_total: Option<i64>,
    claims: ContentClaims,
) -> Result<(PutOutcome, Vec<String>), ApiError> {
    if let Some(expected) = expected_total.filter(|e| *e != assembly.total) {
        return Err(ApiError::BadRequest(format!(
            "Chunks on server do not sum up to {expected} but to {} bytes",
            assembly.total
        )));
    }
    if assembly.total as u64 > state.settings.max_upload_bytes {
        return Err(ApiError::PayloadTooLarge);
    }
    let store = state.files.clone();
    let keys = assembly.keys.clone();
    let staged = web::block(move || store.assemble(&keys))
        .await
        .map_err(|e| ApiError::Unexpected(anyhow::Error::new(e)))?
        .map_err(FileError::from)?;
    let upload_id = assembly.upload_id;
    record_content(state, user, target, staged, claims, move |conn, _| {
        uploads::finish(conn, upload_id)
    })
    .await
}

/// Ends upload `name` (no `chunk`) or drops one of its chunks, then removes their content.
pub async fn delete_upload(
    state: &AppState,
    user: &AuthenticatedUser,
    name: String,
    chunk: Option<String>,
) -> Result<(), ApiError> {
    let keys = write(state, user, move |conn, viewer| {
        uploads::delete(conn, viewer, &name, chunk.as_deref())
    })
    .await?;
    state.files.remove(&keys);
    Ok(())
}

/// The entries of a PROPFIND of the uploads tree (see [`uploads::listing`]).
pub async fn list_uploads(
    state: &AppState,
    user: &AuthenticatedUser,
    upload: Option<String>,
    chunk: Option<String>,
    deep: bool,
) -> Result<Vec<UploadEntry>, ApiError> {
    read(state, user, move |conn, viewer| {
        uploads::listing(conn, viewer, upload.as_deref(), chunk.as_deref(), deep)
    })
    .await
}
