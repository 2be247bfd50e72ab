//! What the files' flows share around one connection and the content store: the caller's view
//! loaded for the work, file writes in one serialized transaction, and staged content committed
//! with the transaction that records it (for the WebDAV and direct upload flows); and content
//! streamed to and from the store on blocking threads (for the handlers that read a body into
//! the store or answer with a file).

use std::io::Read;

use actix_web::web;
use futures_util::StreamExt;
use service_kit::db::{serialized_transaction, AnyConnection};

use crate::{
    domain::{
        authentication::AuthenticatedUser,
        files::{
            self,
            store::{ContentStore, Staged, Staging},
            FileError, Viewer, FILES_LOCK,
        },
    },
    error::ApiError,
    state::AppState,
};

/// Uploads reach the disk in pieces of this size.
const WRITE_CHUNK: usize = 1024 * 1024;
/// Downloads are read in pieces of this size.
const READ_CHUNK: usize = 256 * 1024;

/// The caller's view, loaded inside `work`'s connection.
pub(super) async fn read<T: Send + 'static>(
    state: &AppState,
    user: &AuthenticatedUser,
    work: impl FnOnce(&mut AnyConnection, &Viewer) -> Result<T, FileError> + Send + 'static,
) -> Result<T, ApiError> {
    let uid = user.uid.clone();
    state
        .db
        .run(move |conn| {
            let viewer = Viewer::load(conn, &uid)?;
            files::ensure_roots(conn, &viewer)?;
            work(conn, &viewer).map_err(ApiError::from)
        })
        .await
}

/// Like [`read`], in one serialized transaction.
pub(super) async fn write<T: Send + 'static>(
    state: &AppState,
    user: &AuthenticatedUser,
    work: impl FnOnce(&mut AnyConnection, &Viewer) -> Result<T, FileError> + Send + 'static,
) -> Result<T, ApiError> {
    write_as(state, user.uid.clone(), work).await
}

/// [`write`] for `uid`'s view, errors in the caller's type (anything a [`FileError`] converts
/// into).
async fn write_as<T: Send + 'static, E>(
    state: &AppState,
    uid: String,
    work: impl FnOnce(&mut AnyConnection, &Viewer) -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError>
where
    E: From<FileError> + From<diesel::result::Error> + Send + 'static,
    ApiError: From<E>,
{
    state
        .db
        .run(move |conn| {
            serialized_transaction(conn, FILES_LOCK, |conn| {
                let viewer = Viewer::load(conn, &uid)?;
                work(conn, &viewer)
            })
            .map_err(ApiError::from)
        })
        .await
}

/// Records a staged upload with `work` in one serialized transaction. The content is moved into
/// place before the commit; if anything fails, nothing of it is left (neither the staging file
/// nor, after a rolled-back commit, the content).
pub(super) async fn record_staged<T: Send + 'static>(
    state: &AppState,
    user: &AuthenticatedUser,
    staged: Staged,
    work: impl FnOnce(&mut AnyConnection, &Viewer, &Staged) -> Result<T, FileError> + Send + 'static,
) -> Result<T, ApiError> {
    record_staged_as(state, user.uid.clone(), staged, work).await
}

/// [`record_staged`] for `uid`'s view, errors in the caller's type.
pub(super) async fn record_staged_as<T: Send + 'static, E>(
    state: &AppState,
    uid: String,
    staged: Staged,
    work: impl FnOnce(&mut AnyConnection, &Viewer, &Staged) -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError>
where
    E: From<FileError> + From<diesel::result::Error> + Send + 'static,
    ApiError: From<E>,
{
    let store = state.files.clone();
    let key = staged.key.clone();
    let result = write_as(state, uid, move |conn, viewer| {
        let recorded = work(conn, viewer, &staged).and_then(|value| {
            store.commit(&staged).map_err(FileError::from)?;
            Ok(value)
        });
        if recorded.is_err() {
            store.discard(&staged);
        }
        recorded
    })
    .await;
    if result.is_err() {
        // Content moved into place by a transaction that then rolled back is unreferenced.
        state.files.remove(&[key]);
    }
    result
}

/// `length` bytes of the file from where it stands, in pieces read on blocking threads.
pub fn read_stream(
    file: std::fs::File,
    length: u64,
) -> impl futures_util::Stream<Item = Result<web::Bytes, actix_web::Error>> {
    futures_util::stream::unfold(Some((file, length)), |slot| async move {
        let (mut file, left) = slot?;
        if left == 0 {
            return None;
        }
        let read = web::block(move || {
            let mut buffer = vec![0u8; READ_CHUNK.min(left as usize)];
            let n = file.read(&mut buffer)?;
            buffer.truncate(n);
            Ok::<_, std::io::Error>((buffer, file))
        })
        .await;
        match read {
            Ok(Ok((buffer, _))) if buffer.is_empty() => None,
            Ok(Ok((buffer, file))) => {
                let left = left - buffer.len() as u64;
                Some((Ok(web::Bytes::from(buffer)), Some((file, left))))
            }
            Ok(Err(e)) => Some((Err(actix_web::error::ErrorInternalServerError(e)), None)),
            Err(e) => Some((Err(actix_web::error::ErrorInternalServerError(e)), None)),
        }
    })
}

/// Writes a stream of bytes (a body, a multipart field) as `what` to a staging file in pieces of
/// [`WRITE_CHUNK`], refusing it past `limit` ([`ApiError::PayloadTooLarge`]); a stream that
/// breaks off leaves nothing behind.
pub async fn stage_stream<E: std::fmt::Display>(
    mut payload: impl futures_util::Stream<Item = Result<web::Bytes, E>> + Unpin,
    store: &ContentStore,
    limit: u64,
    what: Staging,
) -> Result<Staged, ApiError> {
    let (file, staged) = store.begin(what).map_err(FileError::from)?;
    let mut slot = Some((file, staged));
    let mut buffer = web::BytesMut::new();
    let result: Result<(), ApiError> = async {
        loop {
            let chunk = payload.next().await;
            let done = chunk.is_none();
            if let Some(chunk) = chunk {
                let chunk =
                    chunk.map_err(|e| ApiError::BadRequest(format!("unreadable body: {e}")))?;
                let written = slot.as_ref().map_or(0, |(_, s)| s.size as u64);
                if written + (buffer.len() + chunk.len()) as u64 > limit {
                    return Err(ApiError::PayloadTooLarge);
                }
                buffer.extend_from_slice(&chunk);
            }
            if buffer.len() >= WRITE_CHUNK || (done && !buffer.is_empty()) {
                let piece = buffer.split().freeze();
                let (mut file, mut staged) = slot.take().ok_or_else(|| {
                    ApiError::Unexpected(anyhow::anyhow!("the staging file is gone"))
                })?;
                let (file, staged) = web::block(move || {
                    ContentStore::write(&mut file, &mut staged, &piece).map(|()| (file, staged))
                })
                .await
                .map_err(|e| ApiError::Unexpected(anyhow::Error::new(e)))?
                .map_err(FileError::from)?;
                slot = Some((file, staged));
            }
            if done {
                return Ok(());
            }
        }
    }
    .await;
    let (_, staged) =
        slot.ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("the staging file is gone")))?;
    match result {
        Ok(()) => Ok(staged),
        Err(e) => {
            store.discard(&staged);
            Err(e)
        }
    }
}
