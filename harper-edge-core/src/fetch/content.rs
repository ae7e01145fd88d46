//! The content-addressed file area of the data directory.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Folder of the content-addressed files inside the data directory.
pub(crate) const MODELS_DIR: &str = "models";

/// The files of a data directory, each named by the hex sha256 of its content:
/// `<home>/models/<sha256>`, where the embedded store keeps registered models.
///
/// Files are written to a temporary file in the same directory, flushed to disk and renamed
/// into place, so a reader never sees a partial file and a crash leaves at most a
/// `.*.tmp` file behind. Equal content is stored once.
///
/// # Examples
///
/// ```
/// use harper_edge_core::fetch::ContentStore;
///
/// let home = tempfile::tempdir()?;
/// let store = ContentStore::open(home.path())?;
/// let blob = store.put_bytes(b"weights")?;
/// assert_eq!(blob.path, home.path().join("models").join(&blob.sha256));
/// assert_eq!(store.put_bytes(b"weights")?, blob);
/// assert_eq!(store.verify(&blob.sha256)?, blob);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ContentStore {
    dir: PathBuf,
}

/// A file in a [`ContentStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// Hex sha256 of the content, lowercase.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Where the file is.
    pub path: PathBuf,
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl ContentStore {
    /// The content store of data directory `home` (its `models` folder, created if needed).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the folder cannot be created.
    pub fn open(home: impl AsRef<Path>) -> Result<Self> {
        let dir = home.as_ref().join(MODELS_DIR);
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(ContentStore { dir })
    }

    /// The folder holding the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the file with this sha256 is or would be; `None` when `sha256` is not 64
    /// lowercase hex digits.
    pub fn path(&self, sha256: &str) -> Option<PathBuf> {
        is_sha256(sha256).then(|| self.dir.join(sha256))
    }

    /// Whether a file with this sha256 is stored.
    pub fn contains(&self, sha256: &str) -> bool {
        self.path(sha256).is_some_and(|p| p.is_file())
    }

    /// The stored file with this sha256 (its content is not re-hashed: see
    /// [`ContentStore::verify`]).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when no such file is stored.
    pub fn get(&self, sha256: &str) -> Result<Blob> {
        let path = self.path(sha256).ok_or_else(|| Error::not_found("model file", sha256))?;
        match fs::metadata(&path) {
            Ok(m) if m.is_file() => Ok(Blob { sha256: sha256.to_string(), size: m.len(), path }),
            Ok(_) => Err(Error::not_found("model file", sha256)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(Error::not_found("model file", sha256))
            }
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Re-reads the stored file and checks its sha256.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when no such file is stored; [`Error::Integrity`] when its content
    /// no longer matches its name; [`Error::Io`] when it cannot be read.
    pub fn verify(&self, sha256: &str) -> Result<Blob> {
        let blob = self.get(sha256)?;
        let mut file = File::open(&blob.path).map_err(|e| Error::io(&blob.path, e))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = file.read(&mut buf).map_err(|e| Error::io(&blob.path, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let actual = hex::encode(hasher.finalize());
        if actual == sha256 {
            Ok(blob)
        } else {
            Err(Error::Integrity {
                message: format!("stored file '{}' has sha256 {actual}", blob.path.display()),
            })
        }
    }

    /// Stores `bytes` (once per content).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be written.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<Blob> {
        let mut writer = self.writer()?;
        writer.write(bytes)?;
        writer.commit(None)
    }

    /// A new temporary file in the store's folder, hashed as it is written.
    /// Deletes temporary files (`.<uuid>.tmp`) not written to for `idle`: what a process
    /// killed during a download leaves. Returns how many were deleted.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the folder cannot be read.
    pub fn sweep_temporary(&self, idle: std::time::Duration) -> Result<usize> {
        let mut removed = 0;
        for entry in fs::read_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))?.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if !(name.starts_with('.') && name.ends_with(".tmp")) {
                continue;
            }
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age >= idle));
            if stale && fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Deletes the file with this sha256; returns whether it was there.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when it exists and cannot be removed.
    pub fn remove(&self, sha256: &str) -> Result<bool> {
        let Some(path) = self.path(sha256) else { return Ok(false) };
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    pub(crate) fn writer(&self) -> Result<BlobWriter> {
        let path = self.dir.join(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        Ok(BlobWriter {
            store: self.clone(),
            file,
            path,
            hasher: Sha256::new(),
            len: 0,
            done: false,
        })
    }
}

/// A temporary file being written into a [`ContentStore`]; removed when dropped uncommitted.
#[derive(Debug)]
pub(crate) struct BlobWriter {
    store: ContentStore,
    file: File,
    path: PathBuf,
    hasher: Sha256,
    len: u64,
    done: bool,
}

impl BlobWriter {
    /// Appends `buf`.
    pub(crate) fn write(&mut self, buf: &[u8]) -> Result<()> {
        self.file.write_all(buf).map_err(|e| Error::io(&self.path, e))?;
        self.hasher.update(buf);
        self.len += buf.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Empties the file, to start over.
    pub(crate) fn reset(&mut self) -> Result<()> {
        self.file.set_len(0).map_err(|e| Error::io(&self.path, e))?;
        self.file.seek(SeekFrom::Start(0)).map_err(|e| Error::io(&self.path, e))?;
        self.hasher = Sha256::new();
        self.len = 0;
        Ok(())
    }

    /// Flushes the file to disk and moves it to its content address, after checking the
    /// `expected` sha256; the temporary file is removed either way.
    pub(crate) fn commit(mut self, expected: Option<&str>) -> Result<Blob> {
        let sha256 = hex::encode(std::mem::take(&mut self.hasher).finalize());
        if let Some(expected) = expected
            && expected != sha256
        {
            return Err(Error::Integrity {
                message: format!("expected sha256 {expected}, got {sha256}"),
            });
        }
        let path = self.store.dir.join(&sha256);
        let size = self.len;
        if fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() == size) {
            return Ok(Blob { sha256, size, path });
        }
        self.file.sync_all().map_err(|e| Error::io(&self.path, e))?;
        fs::rename(&self.path, &path).map_err(|e| Error::io(&path, e))?;
        self.done = true;
        // The rename is durable only once the directory is flushed too; not every platform
        // can open a directory, so a failure here is not an error.
        if let Ok(dir) = File::open(&self.store.dir) {
            let _ = dir.sync_all();
        }
        Ok(Blob { sha256, size, path })
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_names_that_are_not_digests() {
        let home = tempfile::tempdir().unwrap();
        let store = ContentStore::open(home.path()).unwrap();
        assert_eq!(store.path("../x"), None);
        assert_eq!(store.path(&"A".repeat(64)), None);
        let err = store.get(&"0".repeat(64)).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::NotFound);
    }

    #[test]
    fn an_uncommitted_writer_leaves_nothing() {
        let home = tempfile::tempdir().unwrap();
        let store = ContentStore::open(home.path()).unwrap();
        let mut w = store.writer().unwrap();
        w.write(b"abc").unwrap();
        w.reset().unwrap();
        w.write(b"xyz").unwrap();
        let err = w.commit(Some(&"0".repeat(64))).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Integrity);
        assert_eq!(fs::read_dir(store.dir()).unwrap().count(), 0);
        let blob = store.put_bytes(b"xyz").unwrap();
        assert_eq!(fs::read(&blob.path).unwrap(), b"xyz");
        assert_eq!(blob.sha256, crate::registry::sha256_hex(b"xyz"));
    }

    #[test]
    fn only_idle_temporary_files_are_swept() {
        let home = tempfile::tempdir().unwrap();
        let store = ContentStore::open(home.path()).unwrap();
        let blob = store.put_bytes(b"kept").unwrap();
        let old = store.dir().join(".dead.tmp");
        let fresh = store.dir().join(".live.tmp");
        fs::write(&old, b"partial").unwrap();
        fs::write(&fresh, b"partial").unwrap();
        let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        File::options().write(true).open(&old).unwrap().set_modified(an_hour_ago).unwrap();
        assert_eq!(store.sweep_temporary(std::time::Duration::from_secs(600)).unwrap(), 1);
        assert!(!old.exists() && fresh.exists() && blob.path.exists());
    }

    #[test]
    fn verify_finds_a_corrupted_file() {
        let home = tempfile::tempdir().unwrap();
        let store = ContentStore::open(home.path()).unwrap();
        let blob = store.put_bytes(b"abc").unwrap();
        fs::write(&blob.path, b"abd").unwrap();
        assert_eq!(store.verify(&blob.sha256).unwrap_err().kind(), crate::ErrorKind::Integrity);
    }
}
