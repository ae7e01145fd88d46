//! The Hugging Face Hub as a source: a repository at a revision, the files of one model
//! variant, reused from the local Hugging Face cache when it has them.
//!
//! `hf-hub` provides the Hub's layout and conventions: the repository and revision naming
//! ([`hf_hub::Repo`]), the repo-info API call, the cache layout (`models--org--name/refs`,
//! `snapshots/<commit>/…`, [`hf_hub::Cache`]) and the token file. The files themselves go
//! through this crate's HTTP download (streamed to the content store, resumed with `Range`,
//! retried with backoff, size-limited, cancellable), from
//! `{endpoint}/{repo}/resolve/{commit}/{file}` — the commit, not the branch, so every file of
//! one fetch comes from the same commit even if the branch moves meanwhile.

use std::path::{Path, PathBuf};

use hf_hub::api::sync::ApiBuilder;
use hf_hub::{Cache, Repo, RepoType};
use serde::Deserialize;

use super::http::download;
use super::{FetchOptions, Fetched, Fetcher, Progress, Source, SourceKind, Throttle};
use crate::backend::Framework;
use crate::error::{Error, Result};

/// The Hub used when neither the source nor `HF_ENDPOINT` names one.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// Files fetched beside the model file when the repository has them: what tokenizers,
/// configs and sentence-transformers pooling need.
pub const COMPANION_FILES: &[&str] = &[
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "modules.json",
    "sentence_bert_config.json",
    "1_Pooling/config.json",
];

/// A model repository on the Hugging Face Hub.
///
/// Which files are fetched: the ones named with [`HfSource::files`], or else the model file
/// of the [variant](FetchOptions::variant) (see [`select_files`]) and the
/// [companion files](COMPANION_FILES) the repository has.
///
/// The token is, in order: [`HfSource::token`], the `HF_TOKEN` environment variable, the
/// token file of the Hugging Face cache. It is sent only as an `Authorization` header and is
/// never stored or shown. The endpoint is [`HfSource::endpoint`], else `HF_ENDPOINT`, else
/// [`DEFAULT_ENDPOINT`]. The cache is [`HfSource::cache_dir`], else `HF_HUB_CACHE`, else
/// `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
///
/// # Examples
///
/// ```
/// use harper_edge_core::fetch::HfSource;
///
/// let source = HfSource::new("sentence-transformers/all-MiniLM-L6-v2")?
///     .revision("main")
///     .files(["onnx/model.onnx", "tokenizer.json"]);
/// assert_eq!(source.repo(), "sentence-transformers/all-MiniLM-L6-v2");
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct HfSource {
    repo: String,
    revision: String,
    files: Vec<String>,
    endpoint: Option<String>,
    token: Option<String>,
    cache_dir: Option<PathBuf>,
}

impl std::fmt::Debug for HfSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HfSource")
            .field("repo", &self.repo)
            .field("revision", &self.revision)
            .field("files", &self.files)
            .field("endpoint", &self.endpoint)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("cache_dir", &self.cache_dir)
            .finish()
    }
}

/// What the Hub (or the cache) says a repository holds at a revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HfListing {
    /// The commit the revision resolved to.
    pub commit: String,
    /// Every file, with its size when known.
    pub files: Vec<(String, Option<u64>)>,
    /// Whether the listing came from the local cache rather than the Hub.
    pub from_cache: bool,
}

#[derive(Deserialize)]
struct RepoInfo {
    sha: String,
    #[serde(default)]
    siblings: Vec<Sibling>,
}

#[derive(Deserialize)]
struct Sibling {
    rfilename: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    lfs: Option<Lfs>,
}

#[derive(Deserialize)]
struct Lfs {
    size: u64,
}

impl HfSource {
    /// The repository `repo` (`org/name` or `name`) at `main`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when `repo` is not a repository id.
    pub fn new(repo: impl Into<String>) -> Result<Self> {
        let repo = repo.into();
        let parts: Vec<&str> = repo.split('/').collect();
        let ok_part = |p: &str| {
            !p.is_empty()
                && !p.starts_with(['.', '-'])
                && !p.contains("..")
                && p.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if parts.len() > 2 || !parts.iter().all(|p| ok_part(p)) {
            return Err(Error::invalid_input(format!(
                "'{repo}' is not a Hugging Face repository id (expected 'org/name' or 'name')"
            )));
        }
        Ok(HfSource {
            repo,
            revision: "main".into(),
            files: Vec::new(),
            endpoint: None,
            token: None,
            cache_dir: None,
        })
    }

    /// Pins a branch, tag or commit (default `main`). The commit it resolves to is recorded
    /// in each file's provenance.
    #[must_use]
    pub fn revision(mut self, revision: impl Into<String>) -> Self {
        self.revision = revision.into();
        self
    }

    /// Fetches exactly these files (paths in the repository) instead of the variant's.
    #[must_use]
    pub fn files<S: Into<String>>(mut self, files: impl IntoIterator<Item = S>) -> Self {
        self.files = files.into_iter().map(Into::into).collect();
        self
    }

    /// The Hub's base URL (default: `HF_ENDPOINT`, else [`DEFAULT_ENDPOINT`]).
    #[must_use]
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The access token (default: `HF_TOKEN`, else the cache's token file).
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The Hugging Face cache to reuse (default: `HF_HUB_CACHE`, `$HF_HOME/hub`,
    /// `~/.cache/huggingface/hub`).
    #[must_use]
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// The repository id.
    pub fn repo(&self) -> &str {
        &self.repo
    }

    /// The revision asked for.
    pub fn revision_name(&self) -> &str {
        &self.revision
    }

    /// The files asked for (empty: chosen by variant).
    pub fn requested_files(&self) -> &[String] {
        &self.files
    }

    /// The endpoint in use.
    pub fn endpoint_url(&self) -> String {
        let e = self
            .endpoint
            .clone()
            .or_else(|| std::env::var("HF_ENDPOINT").ok().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| DEFAULT_ENDPOINT.into());
        e.trim_end_matches('/').to_string()
    }

    fn cache(&self) -> Cache {
        if let Some(dir) = &self.cache_dir {
            return Cache::new(dir.clone());
        }
        match std::env::var_os("HF_HUB_CACHE").filter(|v| !v.is_empty()) {
            Some(dir) => Cache::new(PathBuf::from(dir)),
            None => Cache::from_env(),
        }
    }

    fn hf_repo(&self, revision: &str) -> Repo {
        Repo::with_revision(self.repo.clone(), RepoType::Model, revision.to_string())
    }

    fn token_value(&self, cache: &Cache) -> Option<String> {
        self.token
            .clone()
            .or_else(|| std::env::var("HF_TOKEN").ok().filter(|v| !v.trim().is_empty()))
            .or_else(|| cache.token())
            .map(|t| t.trim().to_string())
    }

    fn repo_dir(&self, cache: &Cache) -> PathBuf {
        cache.path().join(self.hf_repo(&self.revision).folder_name())
    }

    /// The commit the cache has for the revision: the revision itself when it is a commit
    /// hash with a snapshot, else what `refs/<revision>` says.
    fn cached_commit(&self, cache: &Cache) -> Option<String> {
        let dir = self.repo_dir(cache);
        if is_commit(&self.revision) && dir.join("snapshots").join(&self.revision).is_dir() {
            return Some(self.revision.clone());
        }
        let commit = std::fs::read_to_string(dir.join("refs").join(&self.revision)).ok()?;
        let commit = commit.trim().to_string();
        (is_commit(&commit) && dir.join("snapshots").join(&commit).is_dir()).then_some(commit)
    }

    fn cached_file(&self, cache: &Cache, commit: &str, file: &str) -> Option<PathBuf> {
        let path = self.repo_dir(cache).join("snapshots").join(commit).join(file);
        // Cache snapshots are symlinks into `blobs/`; follow them, but only to a regular file.
        std::fs::metadata(&path).ok().filter(std::fs::Metadata::is_file).map(|_| path)
    }

    fn cached_listing(&self, cache: &Cache) -> Option<HfListing> {
        let commit = self.cached_commit(cache)?;
        let root = self.repo_dir(cache).join("snapshots").join(&commit);
        let mut files = Vec::new();
        list_dir(&root, "", &mut files);
        files.sort();
        Some(HfListing { commit, files, from_cache: true })
    }

    /// What the repository holds at the revision: from the Hub, or from the local cache
    /// when the revision is a commit the cache has, when `HF_HUB_OFFLINE` is set, or when
    /// the Hub cannot be reached and the cache has the revision.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown repository or revision; [`Error::Network`] when
    /// the Hub refuses (401/403, not retryable) or cannot be reached and the cache does not
    /// have the revision.
    pub fn list(&self, options: &FetchOptions) -> Result<HfListing> {
        let cache = self.cache();
        let offline = std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| !v.is_empty() && v != "0");
        if offline || is_commit(&self.revision) {
            if let Some(listing) = self.cached_listing(&cache) {
                return Ok(listing);
            }
            if offline {
                return Err(Error::not_found(
                    "Hugging Face cache entry (HF_HUB_OFFLINE is set)",
                    format!("{}@{}", self.repo, self.revision),
                ));
            }
        }
        match self.list_online(&cache, options) {
            Ok(listing) => Ok(listing),
            Err(e) if e.is_retryable() => self.cached_listing(&cache).ok_or(e),
            Err(e) => Err(e),
        }
    }

    fn list_online(&self, cache: &Cache, options: &FetchOptions) -> Result<HfListing> {
        let api = ApiBuilder::from_cache(cache.clone())
            .with_endpoint(self.endpoint_url())
            .with_token(self.token_value(cache))
            .with_progress(false)
            .with_user_agent("harper-edge", env!("CARGO_PKG_VERSION"))
            .build()
            .map_err(|e| Error::invalid_input(format!("Hugging Face client: {e}")))?;
        let shown = format!("{}/api/models/{}@{}", self.endpoint_url(), self.repo, self.revision);
        let mut request = api
            .repo(self.hf_repo(&self.revision))
            .info_request()
            .query("blobs", "true")
            .config()
            .timeout_connect(Some(options.connect_timeout))
            .timeout_per_read(Some(options.read_timeout))
            .http_status_as_error(false)
            .build();
        for (name, value) in &options.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let mut response = request.call().map_err(|e| Error::Network {
            message: format!("could not reach the Hugging Face Hub at '{shown}'"),
            status: None,
            retryable: true,
            source: Some(Box::new(e)),
        })?;
        let status = response.status().as_u16();
        match status {
            200..=299 => {}
            404 => {
                return Err(Error::not_found(
                    "Hugging Face repository or revision",
                    format!("{}@{}", self.repo, self.revision),
                ));
            }
            401 | 403 => {
                return Err(Error::Network {
                    message: format!(
                        "the Hugging Face Hub refused '{}' (HTTP {status}): a gated or private \
                         repository needs a token (HF_TOKEN)",
                        self.repo
                    ),
                    status: Some(status),
                    retryable: false,
                    source: None,
                });
            }
            _ => {
                return Err(Error::Network {
                    message: format!("the Hugging Face Hub answered HTTP {status} for '{shown}'"),
                    status: Some(status),
                    retryable: status == 408 || status == 429 || status >= 500,
                    source: None,
                });
            }
        }
        let info: RepoInfo = response.body_mut().read_json().map_err(|e| Error::Network {
            message: "the Hugging Face Hub sent an unreadable repository listing".into(),
            status: Some(status),
            retryable: false,
            source: Some(Box::new(e)),
        })?;
        if !is_commit(&info.sha) {
            return Err(Error::Network {
                message: format!("the Hub gave '{}' as the commit of '{}'", info.sha, self.repo),
                status: Some(status),
                retryable: false,
                source: None,
            });
        }
        let files = info
            .siblings
            .into_iter()
            .map(|s| {
                let size = s.lfs.map(|l| l.size).or(s.size);
                (s.rfilename, size)
            })
            .collect();
        Ok(HfListing { commit: info.sha, files, from_cache: false })
    }

    /// The files a fetch would take from `listing`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when a requested file is not in the repository, or the repository
    /// has no model file of the variant.
    pub fn selection(&self, listing: &HfListing, variant: Option<&str>) -> Result<Vec<String>> {
        let names: Vec<&str> = listing.files.iter().map(|(n, _)| n.as_str()).collect();
        if self.files.is_empty() {
            return select_files(&names, variant).map_err(|message| {
                Error::not_found(
                    "model file",
                    format!("{}@{} ({message})", self.repo, listing.commit),
                )
            });
        }
        for f in &self.files {
            if !names.contains(&f.as_str()) {
                return Err(Error::not_found(
                    "file",
                    format!(
                        "{}@{}/{f} (the repository has {} files: {})",
                        self.repo,
                        listing.commit,
                        names.len(),
                        preview(&names)
                    ),
                ));
            }
        }
        Ok(self.files.clone())
    }
}

fn preview(names: &[&str]) -> String {
    let mut shown: Vec<&str> = names.iter().take(12).copied().collect();
    if names.len() > shown.len() {
        shown.push("…");
    }
    shown.join(", ")
}

fn list_dir(dir: &Path, prefix: &str, out: &mut Vec<(String, Option<u64>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        let path = entry.path();
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => list_dir(&path, &rel, out),
            Ok(m) if m.is_file() => out.push((rel, Some(m.len()))),
            _ => {}
        }
    }
}

/// Whether `s` is a full commit hash (40 hex digits).
pub fn is_commit(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The framework a model file's name implies: `.onnx` → ONNX, `.safetensors` →
/// transformers.
pub fn framework_of(file: &str) -> Option<Framework> {
    let lower = file.to_ascii_lowercase();
    if lower.ends_with(".onnx") {
        Some(Framework::Onnx)
    } else if lower.ends_with(".safetensors") {
        Some(Framework::Transformers)
    } else {
        None
    }
}

/// Whether an ONNX file name marks a quantized export (`*_quantized.onnx`, `*int8*`,
/// `*uint8*`, `*q4*`, `*bnb4*`).
fn is_quantized(name: &str) -> bool {
    let stem = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    ["quantized", "int8", "uint8", "_q4", "q4f16", "bnb4"].iter().any(|m| stem.contains(m))
}

/// Chooses a repository's files for a model variant: the model file, then the
/// [companion files](COMPANION_FILES) present.
///
/// - `None` or `default`: `model.onnx` or `onnx/model.onnx`; else the only ONNX file that is
///   not quantized; else `model.safetensors`.
/// - `quantized`: `onnx/model_quantized.onnx` or `model_quantized.onnx`; else the only
///   quantized ONNX file (`int8`, `uint8`, `q4`, …).
/// - any other name `v`: the ONNX file whose stem ends with `_v` (`model_fp16.onnx` for
///   `fp16`); for `safetensors`, `model.safetensors`.
///
/// # Errors
///
/// A message naming the candidates when no file, or more than one, fits.
///
/// # Examples
///
/// ```
/// use harper_edge_core::fetch::select_files;
///
/// let repo = ["config.json", "onnx/model.onnx", "onnx/model_quantized.onnx", "tokenizer.json"];
/// assert_eq!(select_files(&repo, None)?, ["onnx/model.onnx", "config.json", "tokenizer.json"]);
/// assert_eq!(select_files(&repo, Some("quantized"))?[0], "onnx/model_quantized.onnx");
/// # Ok::<(), String>(())
/// ```
pub fn select_files(
    names: &[&str],
    variant: Option<&str>,
) -> std::result::Result<Vec<String>, String> {
    let onnx: Vec<&str> =
        names.iter().copied().filter(|n| n.to_ascii_lowercase().ends_with(".onnx")).collect();
    let pick = |preferred: &[&str], filter: &dyn Fn(&str) -> bool, what: &str| {
        if let Some(p) = preferred.iter().find(|p| names.contains(p)) {
            return Ok((*p).to_string());
        }
        let fits: Vec<&str> = onnx.iter().copied().filter(|n| filter(n)).collect();
        match fits.as_slice() {
            [one] => Ok((*one).to_string()),
            [] => Err(format!(
                "no {what} model file (ONNX files: {})",
                if onnx.is_empty() { "none".to_string() } else { onnx.join(", ") }
            )),
            many => Err(format!(
                "{} files fit the {what} variant ({}); name the one to fetch",
                many.len(),
                many.join(", ")
            )),
        }
    };
    let variant = variant.map(str::to_ascii_lowercase);
    let main = match variant.as_deref() {
        None | Some("default" | "fp32") => {
            pick(&["model.onnx", "onnx/model.onnx"], &|n: &str| !is_quantized(n), "default (fp32)")
                .or_else(|e| {
                    if names.contains(&"model.safetensors") {
                        Ok("model.safetensors".to_string())
                    } else {
                        Err(e)
                    }
                })?
        }
        Some("quantized") => pick(
            &["onnx/model_quantized.onnx", "model_quantized.onnx"],
            &is_quantized,
            "quantized",
        )?,
        Some("safetensors") => {
            if names.contains(&"model.safetensors") {
                "model.safetensors".to_string()
            } else {
                return Err("no model.safetensors".to_string());
            }
        }
        Some(v) => {
            let suffix = format!("_{v}.onnx");
            pick(&[], &|n: &str| n.to_ascii_lowercase().ends_with(&suffix), v)?
        }
    };
    let mut files = vec![main];
    files.extend(COMPANION_FILES.iter().filter(|c| names.contains(c)).map(|c| (*c).to_string()));
    Ok(files)
}

impl Source for HfSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Hf
    }

    fn fetch(
        &self,
        fetcher: &Fetcher,
        options: &FetchOptions,
        progress: &mut Progress<'_>,
    ) -> Result<Vec<Fetched>> {
        let expected = options.expected()?;
        let listing = self.list(options)?;
        let files = self.selection(&listing, options.variant.as_deref())?;
        if expected.is_some() && files.len() != 1 {
            return Err(Error::invalid_input(format!(
                "expectedSha256 applies to one file, and {} files are fetched from '{}'",
                files.len(),
                self.repo
            )));
        }
        let size_of = |f: &str| listing.files.iter().find(|(n, _)| n == f).and_then(|(_, s)| *s);
        if let Some((f, size)) =
            files.iter().find_map(|f| size_of(f).filter(|s| *s > options.max_bytes).map(|s| (f, s)))
        {
            return Err(Error::Capacity {
                message: format!(
                    "'{}/{f}' is {size} bytes, over the limit of {} bytes",
                    self.repo, options.max_bytes
                ),
            });
        }
        let total: Option<u64> = files.iter().map(|f| size_of(f)).sum();
        let cache = self.cache();
        let endpoint = self.endpoint_url();
        let mut headers = Vec::new();
        if let Some(token) = self.token_value(&cache) {
            headers.push(("Authorization".to_string(), format!("Bearer {token}")));
        }
        let mut throttle = Throttle::new(progress, options.progress_interval);
        throttle.report(0, total);
        let mut done = 0u64;
        let mut fetched = Vec::with_capacity(files.len());
        for file in files {
            let base = done;
            let blob = if let Some(path) = self.cached_file(&cache, &listing.commit, &file) {
                super::fs::import(
                    fetcher,
                    &path,
                    options.max_bytes,
                    expected.as_deref(),
                    &mut |n| {
                        done += n;
                        throttle.report(done, total);
                    },
                )?
            } else {
                let url = format!("{endpoint}/{}/resolve/{}/{}", self.repo, listing.commit, file);
                let (blob, _etag) = download(fetcher, &url, &headers, options, &mut |d, _| {
                    throttle.report(base + d, total);
                })?;
                done = base + blob.size;
                blob
            };
            let reference = format!("{}/{file}", self.repo);
            let provenance = fetcher.provenance(
                options,
                SourceKind::Hf,
                reference,
                Some(listing.commit.clone()),
                &blob,
            );
            fetched.push(Fetched { name: file, blob, provenance });
        }
        throttle.finish(done, Some(done));
        Ok(fetched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_pick_the_expected_file() {
        let xenova = [
            "config.json",
            "onnx/model.onnx",
            "onnx/model_fp16.onnx",
            "onnx/model_quantized.onnx",
            "onnx/model_int8.onnx",
            "tokenizer.json",
            "README.md",
        ];
        assert_eq!(select_files(&xenova, None).unwrap()[0], "onnx/model.onnx");
        assert_eq!(
            select_files(&xenova, Some("quantized")).unwrap()[0],
            "onnx/model_quantized.onnx"
        );
        assert_eq!(select_files(&xenova, Some("fp16")).unwrap()[0], "onnx/model_fp16.onnx");
        assert_eq!(select_files(&xenova, Some("int8")).unwrap()[0], "onnx/model_int8.onnx");
        let st = ["config.json", "model.safetensors", "tokenizer.json", "1_Pooling/config.json"];
        assert_eq!(
            select_files(&st, None).unwrap(),
            ["model.safetensors", "config.json", "tokenizer.json", "1_Pooling/config.json"]
        );
        let err = select_files(&st, Some("quantized")).unwrap_err();
        assert!(err.contains("no quantized model file"), "{err}");
        let two = ["a.onnx", "b.onnx"];
        let err = select_files(&two, None).unwrap_err();
        assert!(err.contains("2 files fit") && err.contains("a.onnx, b.onnx"), "{err}");
    }

    #[test]
    fn repo_ids_are_checked() {
        assert!(HfSource::new("org/name").is_ok());
        assert!(HfSource::new("gpt2").is_ok());
        for bad in ["", "a/b/c", "../x", "org/..", "a b", "/x", "org/"] {
            assert!(HfSource::new(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let s = HfSource::new("org/name").unwrap().token("hf_secret");
        assert!(!format!("{s:?}").contains("hf_secret"));
    }

    #[test]
    fn a_commit_in_the_cache_is_listed_offline() {
        let dir = tempfile::tempdir().unwrap();
        let commit = "0123456789abcdef0123456789abcdef01234567";
        let snap = dir.path().join("models--org--tiny/snapshots").join(commit);
        std::fs::create_dir_all(snap.join("onnx")).unwrap();
        std::fs::write(snap.join("onnx/model.onnx"), b"abc").unwrap();
        std::fs::create_dir_all(dir.path().join("models--org--tiny/refs")).unwrap();
        std::fs::write(dir.path().join("models--org--tiny/refs/main"), commit).unwrap();
        let source = HfSource::new("org/tiny").unwrap().cache_dir(dir.path()).revision(commit);
        // The endpoint is unreachable: the listing must come from the cache.
        let source = source.endpoint("http://127.0.0.1:9");
        let listing = source.list(&FetchOptions::default()).unwrap();
        assert!(listing.from_cache);
        assert_eq!(listing.files, [("onnx/model.onnx".to_string(), Some(3))]);
        // A branch whose Hub cannot be reached falls back to the cached ref.
        let listing = source.clone().revision("main").list(&FetchOptions::default()).unwrap();
        assert_eq!(listing.commit, commit);
    }
}
