//! Imports from a directory on this machine, confined to a root.

use std::collections::HashSet;
use std::fs::{self, File, Metadata};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use super::{FetchOptions, Fetched, Fetcher, Progress, Source, SourceKind, Throttle};
use crate::error::{Error, Result};

/// A file or a directory tree below a root directory.
///
/// The path may not leave the root: `..` components are refused, an absolute path must lie
/// inside the root, and every symlink met (the path itself or an entry of the tree) must
/// resolve inside it. Only regular files are imported; a fifo, socket or device is an error
/// naming it. A symlinked directory seen twice is imported once.
///
/// # Examples
///
/// ```
/// use harper_edge_core::fetch::FsSource;
///
/// let source = FsSource::new("/srv/models", "minilm/onnx");
/// assert_eq!(source.root(), std::path::Path::new("/srv/models"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsSource {
    root: PathBuf,
    path: PathBuf,
}

impl FsSource {
    /// `path` (relative to `root`, or absolute inside it) below `root`.
    pub fn new(root: impl Into<PathBuf>, path: impl Into<PathBuf>) -> Self {
        FsSource { root: root.into(), path: path.into() }
    }

    /// The root no file may be outside of.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file or directory to import.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A regular file to import: its name below the imported path and its canonical path.
struct Entry {
    name: String,
    path: PathBuf,
    size: u64,
}

fn canonical(path: &Path) -> Result<PathBuf> {
    fs::canonicalize(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::not_found("path", path.display().to_string())
        } else {
            Error::io(path, e)
        }
    })
}

fn outside(path: &Path, resolved: &Path, root: &Path) -> Error {
    Error::invalid_input(format!(
        "'{}' resolves to '{}', outside the import root '{}'",
        path.display(),
        resolved.display(),
        root.display()
    ))
}

fn special(path: &Path, meta: &Metadata) -> Error {
    #[cfg(unix)]
    let what = {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            "a fifo"
        } else if t.is_socket() {
            "a socket"
        } else if t.is_block_device() || t.is_char_device() {
            "a device"
        } else {
            "a special file"
        }
    };
    #[cfg(not(unix))]
    let what = {
        let _ = meta;
        "a special file"
    };
    Error::invalid_input(format!("'{}' is {what}, not a regular file or directory", path.display()))
}

impl FsSource {
    /// The canonical root and the entries to import, every path checked.
    /// The files an import would take, as `(name, size)`, checked as the import checks them.
    pub(crate) fn list(&self) -> Result<Vec<(String, u64)>> {
        Ok(self.resolve()?.1.into_iter().map(|e| (e.name, e.size)).collect())
    }

    fn resolve(&self) -> Result<(PathBuf, Vec<Entry>, bool)> {
        let root = canonical(&self.root)?;
        if self.path.components().any(|c| c == Component::ParentDir) {
            return Err(Error::invalid_input(format!(
                "path '{}' contains '..'; give a path inside the import root '{}'",
                self.path.display(),
                root.display()
            )));
        }
        let target =
            if self.path.is_absolute() { self.path.clone() } else { root.join(&self.path) };
        let resolved = canonical(&target)?;
        if !resolved.starts_with(&root) {
            return Err(outside(&self.path, &resolved, &root));
        }
        let meta = fs::metadata(&resolved).map_err(|e| Error::io(&resolved, e))?;
        let mut entries = Vec::new();
        if meta.is_file() {
            // The name asked for, not the target of a symlink.
            let name = self
                .path
                .file_name()
                .or_else(|| resolved.file_name())
                .map_or_else(|| "file".to_string(), |n| n.to_string_lossy().into_owned());
            entries.push(Entry { name, path: resolved, size: meta.len() });
            Ok((root, entries, true))
        } else if meta.is_dir() {
            let mut seen = HashSet::from([resolved.clone()]);
            walk(&root, &resolved, "", &mut seen, &mut entries)?;
            Ok((root, entries, false))
        } else {
            Err(special(&target, &meta))
        }
    }
}

fn walk(
    root: &Path,
    dir: &Path,
    prefix: &str,
    seen: &mut HashSet<PathBuf>,
    entries: &mut Vec<Entry>,
) -> Result<()> {
    let mut children = fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::io(dir, e))?;
    children.sort();
    for child in children {
        let name = child.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let name = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        let link = fs::symlink_metadata(&child).map_err(|e| Error::io(&child, e))?;
        let (real, meta) = if link.is_symlink() {
            let real = canonical(&child).map_err(|_| {
                Error::invalid_input(format!("symlink '{}' is dangling", child.display()))
            })?;
            if !real.starts_with(root) {
                return Err(outside(&child, &real, root));
            }
            let meta = fs::metadata(&real).map_err(|e| Error::io(&real, e))?;
            (real, meta)
        } else {
            (child.clone(), link)
        };
        if meta.is_dir() {
            let key = canonical(&real)?;
            if seen.insert(key) {
                walk(root, &real, &name, seen, entries)?;
            }
        } else if meta.is_file() {
            entries.push(Entry { name, path: real, size: meta.len() });
        } else {
            return Err(special(&child, &meta));
        }
    }
    Ok(())
}

impl Source for FsSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Fs
    }

    fn fetch(
        &self,
        fetcher: &Fetcher,
        options: &FetchOptions,
        progress: &mut Progress<'_>,
    ) -> Result<Vec<Fetched>> {
        let expected = options.expected()?;
        let (_, entries, single) = self.resolve()?;
        if expected.is_some() && !single {
            return Err(Error::invalid_input(format!(
                "expectedSha256 applies to one file, and '{}' is a directory",
                self.path.display()
            )));
        }
        if let Some(e) = entries.iter().find(|e| e.size > options.max_bytes) {
            return Err(too_large(&e.path, e.size, options.max_bytes));
        }
        let total: u64 = entries.iter().map(|e| e.size).sum();
        let mut throttle = Throttle::new(progress, options.progress_interval);
        throttle.report(0, Some(total));
        let mut done = 0u64;
        let mut fetched = Vec::with_capacity(entries.len());
        for entry in entries {
            let blob =
                import(fetcher, &entry.path, options.max_bytes, expected.as_deref(), &mut |n| {
                    done += n;
                    throttle.report(done, Some(total));
                })?;
            let reference = entry.path.display().to_string();
            let provenance = fetcher.provenance(options, SourceKind::Fs, reference, None, &blob);
            fetched.push(Fetched { name: entry.name, blob, provenance });
        }
        throttle.finish(done, Some(done));
        Ok(fetched)
    }
}

/// Copies the regular file at `path` into the fetcher's content store, hashing it on the way;
/// `on_read` is told how many bytes each read added.
pub(crate) fn import(
    fetcher: &Fetcher,
    path: &Path,
    max_bytes: u64,
    expected: Option<&str>,
    on_read: &mut dyn FnMut(u64),
) -> Result<super::Blob> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut writer = fetcher.store.writer()?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        fetcher.check_cancelled(&path.display().to_string())?;
        if writer.len() + n as u64 > max_bytes {
            return Err(too_large(path, writer.len() + n as u64, max_bytes));
        }
        writer.write(&buf[..n])?;
        on_read(n as u64);
    }
    writer.commit(expected).map_err(|e| match e {
        Error::Integrity { message } => {
            Error::Integrity { message: format!("import of '{}': {message}", path.display()) }
        }
        other => other,
    })
}

fn too_large(path: &Path, size: u64, max: u64) -> Error {
    Error::Capacity {
        message: format!(
            "'{}' is over the limit of {max} bytes ({size} bytes or more)",
            path.display()
        ),
    }
}
