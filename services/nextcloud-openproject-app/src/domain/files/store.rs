//! File contents in the data directory, each under a random key: uploads are written to a
//! staging file first and renamed into place by the transaction that records them, so a reader
//! never sees half a file and an aborted upload leaves nothing behind. A content never changes
//! once in place (a new version is a new key), so a copy may share it through a hard link.

use std::{
    fs::File,
    io::{self, Read, Write},
    path::{Path, PathBuf},
};

use service_kit::crypto;
use sha1::{Digest, Sha1};

const STAGING: &str = "staging";
const KEY_LEN: usize = 40;
/// Staging files older than this are left over from interrupted uploads (a replica sharing the
/// directory may be writing younger ones).
const STALE_STAGING: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

#[derive(Debug, Clone)]
pub struct ContentStore {
    dir: PathBuf,
}

/// What a staging file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staging {
    /// A whole content, hashed as it is written.
    Content,
    /// A chunk of an upload: not hashed, since the assembled content is (hashing each chunk too
    /// was a second pass over every chunked upload).
    Chunk,
}

/// An upload written to the staging area, not yet in place.
#[derive(Debug)]
pub struct Staged {
    path: PathBuf,
    pub key: String,
    pub size: i64,
    /// The SHA-1 of what was written so far; none for a chunk of an upload, which is hashed
    /// when the chunks are assembled.
    hasher: Option<Sha1>,
}

impl Staged {
    /// The content's SHA-1 as lowercase hex (an error for a chunk, which is staged without).
    pub fn sha1_hex(&self) -> io::Result<String> {
        let hasher = self
            .hasher
            .as_ref()
            .ok_or_else(|| io::Error::other("a chunk has no SHA-1 of its own"))?;
        Ok(crypto::lower_hex(&hasher.clone().finalize()))
    }
}

/// Contents are copied and assembled in pieces of this size.
const COPY_BUFFER: usize = 1024 * 1024;

impl ContentStore {
    /// Creates the directory (and its staging area) when missing, and removes stale staging
    /// files.
    pub fn open(dir: &Path) -> io::Result<Self> {
        let staging = dir.join(STAGING);
        std::fs::create_dir_all(&staging)?;
        let now = std::time::SystemTime::now();
        for entry in std::fs::read_dir(&staging)?.flatten() {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|modified| now.duration_since(modified).ok())
                .is_some_and(|age| age > STALE_STAGING);
            if stale {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    /// A key is 40 alphanumeric characters: never a path.
    fn path_of(&self, key: &str) -> io::Result<PathBuf> {
        if key.len() == KEY_LEN && key.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(self.dir.join(key))
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "bad content key",
            ))
        }
    }

    /// A new staging file to write `what` to.
    pub fn begin(&self, what: Staging) -> io::Result<(File, Staged)> {
        let hasher = match what {
            Staging::Content => Some(Sha1::new()),
            Staging::Chunk => None,
        };
        let key = crypto::random_alphanumeric(KEY_LEN);
        let path = self.dir.join(STAGING).join(&key);
        let file = File::create(&path)?;
        Ok((
            file,
            Staged {
                path,
                key,
                size: 0,
                hasher,
            },
        ))
    }

    /// Appends a chunk to a staging file.
    pub fn write(file: &mut File, staged: &mut Staged, chunk: &[u8]) -> io::Result<()> {
        file.write_all(chunk)?;
        if let Some(hasher) = &mut staged.hasher {
            hasher.update(chunk);
        }
        staged.size += chunk.len() as i64;
        Ok(())
    }

    /// A new staged content made of `keys`' contents in order (the chunks of an upload).
    /// Blocking; on failure nothing is left behind. The bytes are copied by the kernel
    /// (`copy_file_range`) while this thread hashes them, so the assembly costs about one pass.
    pub fn assemble(&self, keys: &[String]) -> io::Result<Staged> {
        let (mut file, mut staged) = self.begin(Staging::Content)?;
        let result = std::thread::scope(|scope| {
            let copier = scope.spawn(|| -> io::Result<u64> {
                let mut copied = 0;
                for key in keys {
                    copied += io::copy(&mut self.read(key)?, &mut file)?;
                }
                file.flush()?;
                Ok(copied)
            });
            let mut buffer = vec![0u8; COPY_BUFFER];
            let mut hasher = Sha1::new();
            let mut hashed = 0u64;
            for key in keys {
                let mut chunk = self.read(key)?;
                loop {
                    let n = chunk.read(&mut buffer)?;
                    if n == 0 {
                        break;
                    }
                    hasher.update(&buffer[..n]);
                    hashed += n as u64;
                }
            }
            let copied = copier
                .join()
                .map_err(|_| io::Error::other("the copying thread panicked"))??;
            if copied != hashed {
                return Err(io::Error::other("a chunk changed while it was assembled"));
            }
            staged.size = copied as i64;
            staged.hasher = Some(hasher);
            Ok(())
        });
        match result {
            Ok(()) => Ok(staged),
            Err(e) => {
                self.discard(&staged);
                Err(e)
            }
        }
    }

    /// A new key holding the same content as `key`: a hard link where the filesystem allows,
    /// else a copy.
    pub fn duplicate(&self, key: &str) -> io::Result<String> {
        let from = self.path_of(key)?;
        let new_key = crypto::random_alphanumeric(KEY_LEN);
        let to = self.path_of(&new_key)?;
        if std::fs::hard_link(&from, &to).is_err() {
            let staging = self.dir.join(STAGING).join(&new_key);
            std::fs::copy(&from, &staging)?;
            std::fs::rename(&staging, &to)?;
        }
        Ok(new_key)
    }

    /// Moves the upload into place under its key.
    pub fn commit(&self, staged: &Staged) -> io::Result<()> {
        std::fs::rename(&staged.path, self.path_of(&staged.key)?)
    }

    /// Drops an upload that was not committed.
    pub fn discard(&self, staged: &Staged) {
        let _ = std::fs::remove_file(&staged.path);
    }

    /// Opens a content for reading.
    pub fn read(&self, key: &str) -> io::Result<File> {
        File::open(self.path_of(key)?)
    }

    /// Removes contents no node refers to any more; failures are logged, not fatal.
    pub fn remove(&self, keys: &[String]) {
        for key in keys {
            match self.path_of(key).and_then(std::fs::remove_file) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(error = %e, "a deleted file's content could not be removed")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn staged_uploads_become_readable_once_committed() {
        let dir = std::env::temp_dir().join(format!("ncoa-store-{}", uuid::Uuid::new_v4()));
        let store = ContentStore::open(&dir).unwrap();
        let (mut file, mut staged) = store.begin(Staging::Content).unwrap();
        ContentStore::write(&mut file, &mut staged, b"abc").unwrap();
        drop(file);
        assert_eq!(staged.size, 3);
        assert!(store.read(&staged.key).is_err());
        store.commit(&staged).unwrap();
        let mut content = String::new();
        store
            .read(&staged.key)
            .unwrap()
            .read_to_string(&mut content)
            .unwrap();
        assert_eq!(content, "abc");
        store.remove(std::slice::from_ref(&staged.key));
        assert!(store.read(&staged.key).is_err());
        assert!(store.read("../etc/passwd").is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn stale_staging_files_are_removed_on_open() {
        let dir = std::env::temp_dir().join(format!("ncoa-store-{}", uuid::Uuid::new_v4()));
        let store = ContentStore::open(&dir).unwrap();
        let (old, old_staged) = store.begin(Staging::Content).unwrap();
        old.set_modified(std::time::SystemTime::now() - 2 * STALE_STAGING)
            .unwrap();
        let (_young, young_staged) = store.begin(Staging::Content).unwrap();
        ContentStore::open(&dir).unwrap();
        assert!(!old_staged.path.exists());
        assert!(young_staged.path.exists());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
