//! HTTP(S) downloads: streamed, size-limited, resumed, retried.

use std::io::Read;
use std::time::{Duration, SystemTime};

use super::content::{Blob, BlobWriter};
use super::{FetchOptions, Fetched, Fetcher, Progress, Source, SourceKind, Throttle};
use crate::error::{Error, Result};
use crate::retry::{Backoff, retry_after};

/// One file at an `http://` or `https://` URL.
///
/// # Examples
///
/// ```
/// use harper_edge_core::fetch::HttpSource;
///
/// assert!(HttpSource::new("https://example.com/model.onnx").is_ok());
/// assert!(HttpSource::new("ftp://example.com/model.onnx").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSource {
    url: String,
}

impl HttpSource {
    /// The file at `url`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when `url` is not an `http://` or `https://` URL.
    pub fn new(url: impl Into<String>) -> Result<Self> {
        let url = url.into();
        let lower = url.to_ascii_lowercase();
        let rest = lower.strip_prefix("http://").or_else(|| lower.strip_prefix("https://"));
        match rest {
            Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(HttpSource { url }),
            _ => Err(Error::invalid_input(format!(
                "'{}' is not an http:// or https:// URL",
                redact(&url)
            ))),
        }
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Source for HttpSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Http
    }

    fn fetch(
        &self,
        fetcher: &Fetcher,
        options: &FetchOptions,
        progress: &mut Progress<'_>,
    ) -> Result<Vec<Fetched>> {
        let (blob, revision) = download(fetcher, &self.url, &[], options, progress)?;
        let reference = redact(&self.url);
        let name = file_name(&reference);
        let provenance = fetcher.provenance(options, SourceKind::Http, reference, revision, &blob);
        Ok(vec![Fetched { name, blob, provenance }])
    }
}

/// The URL without user info, query or fragment: what errors and records may show.
pub(crate) fn redact(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let url = &url[..end];
    match url.find("://") {
        Some(i) => {
            let (scheme, rest) = url.split_at(i + 3);
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
            format!("{scheme}{host}{path}")
        }
        None => url.to_string(),
    }
}

fn file_name(url: &str) -> String {
    let path = url.split_once("://").map_or(url, |(_, rest)| rest);
    match path.split_once('/') {
        Some((_, path)) => match path.rsplit('/').next() {
            Some(last) if !last.is_empty() => last.to_string(),
            _ => "download".to_string(),
        },
        None => "download".to_string(),
    }
}

/// Why an attempt ended without the whole file.
enum Failure {
    /// Give up.
    Fatal(Error),
    /// Try again, after the server's `Retry-After` when it sent one.
    Retry(Error, Option<Duration>),
}

/// What the attempts share: the file so far and what the server said about it.
struct State<'w> {
    writer: &'w mut BlobWriter,
    total: Option<u64>,
    /// The `ETag` or `Last-Modified` of the answer the bytes so far came from.
    validator: Option<String>,
}

impl State<'_> {
    fn restart(&mut self) -> Result<(), Failure> {
        self.total = None;
        self.validator = None;
        self.writer.reset().map_err(Failure::Fatal)
    }
}

/// Downloads `url` into the content store; returns the stored file and the revision the
/// server reported (`ETag`, else `Last-Modified`).
pub(crate) fn download(
    fetcher: &Fetcher,
    url: &str,
    headers: &[(String, String)],
    options: &FetchOptions,
    progress: &mut Progress<'_>,
) -> Result<(Blob, Option<String>)> {
    let expected = options.expected()?;
    let agent = agent(options);
    let mut writer = fetcher.store.writer()?;
    let mut state = State { writer: &mut writer, total: None, validator: None };
    let mut throttle = Throttle::new(progress, options.progress_interval);
    let mut backoff = Backoff::new(options.backoff_base, options.backoff_max);
    let mut failures = 0u32;
    throttle.report(0, None);
    loop {
        fetcher.check_cancelled(&redact(url))?;
        let before = state.writer.len();
        let headers = options.headers.iter().chain(headers);
        match attempt(&agent, url, headers, options, fetcher, &mut state, &mut throttle) {
            Ok(()) => break,
            Err(Failure::Fatal(e)) => return Err(e),
            Err(Failure::Retry(e, wait)) => {
                if state.writer.len() > before {
                    failures = 0;
                }
                failures += 1;
                if failures > options.retries {
                    return Err(e);
                }
                let wait = wait.unwrap_or_else(|| backoff.wait(failures));
                fetcher.wait(wait);
            }
        }
    }
    let size = state.writer.len();
    throttle.finish(size, Some(size));
    let revision = state.validator.take();
    let blob = writer.commit(expected.as_deref()).map_err(|e| match e {
        Error::Integrity { message } => {
            Error::Integrity { message: format!("download of '{}': {message}", redact(url)) }
        }
        other => other,
    })?;
    Ok((blob, revision))
}

fn agent(options: &FetchOptions) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(options.connect_timeout))
        .timeout_per_read(Some(options.read_timeout))
        .http_status_as_error(false)
        .user_agent(options.user_agent.as_str())
        // Bytes as stored: a transparently decompressed body would not match the sha256 or
        // the size the server announced.
        .accept_encoding("identity")
        .build()
        .into()
}

/// What a `HEAD` request says about `url`: its size and revision (`ETag`, else
/// `Last-Modified`), each when the server tells. A server that does not allow `HEAD` (405,
/// 501) gives neither.
pub(crate) fn head(url: &str, options: &FetchOptions) -> Result<(Option<u64>, Option<String>)> {
    let shown = redact(url);
    let mut request = agent(options).head(url);
    for (name, value) in &options.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let response = request.call().map_err(|e| match request_failure(&shown, e) {
        Failure::Fatal(e) | Failure::Retry(e, _) => e,
    })?;
    let status = response.status().as_u16();
    let header = |name: &str| {
        response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim).map(String::from)
    };
    match status {
        200..=299 => Ok((
            header("content-length").and_then(|v| v.parse().ok()),
            header("etag").or_else(|| header("last-modified")),
        )),
        405 | 501 => Ok((None, None)),
        404 | 410 => Err(Error::not_found("file", &shown)),
        _ => Err(Error::Network {
            message: format!("HEAD {shown} answered HTTP {status}"),
            status: Some(status),
            retryable: status == 408 || status == 429 || status >= 500,
            source: None,
        }),
    }
}

pub(crate) fn file_name_of(url: &str) -> String {
    file_name(&redact(url))
}

fn attempt<'h>(
    agent: &ureq::Agent,
    url: &str,
    headers: impl Iterator<Item = &'h (String, String)>,
    options: &FetchOptions,
    fetcher: &Fetcher,
    state: &mut State<'_>,
    throttle: &mut Throttle<'_, '_>,
) -> Result<(), Failure> {
    let shown = redact(url);
    let mut request = agent.get(url);
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let offset = state.writer.len();
    if offset > 0 {
        request = request.header("range", format!("bytes={offset}-"));
        if let Some(v) = &state.validator {
            request = request.header("if-range", v.as_str());
        }
    }
    let response = request.call().map_err(|e| request_failure(&shown, e))?;
    let status = response.status().as_u16();
    let header = |name: &str| {
        response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim).map(String::from)
    };
    // If-Range takes a strong validator only: a weak ETag falls back to Last-Modified.
    let validator =
        header("etag").filter(|e| !e.starts_with("W/")).or_else(|| header("last-modified"));
    let content_length = header("content-length").and_then(|v| v.parse::<u64>().ok());
    match status {
        200 => {
            if offset > 0 {
                // The server ignored the range (or the file changed): start over.
                state.restart()?;
            }
            state.total = content_length;
        }
        206 => {
            let range = header("content-range").and_then(|v| parse_content_range(&v));
            let same_file = state.validator.is_none() || validator == state.validator;
            match range {
                Some((start, total)) if start == offset && same_file => {
                    state.total = total.or(state.total);
                }
                _ => {
                    state.restart()?;
                    return Err(Failure::Retry(
                        Error::Integrity {
                            message: format!(
                                "GET {shown}: the server answered bytes {} to a request from \
                                 byte {offset}",
                                header("content-range").unwrap_or_else(|| "(none)".into())
                            ),
                        },
                        None,
                    ));
                }
            }
        }
        416 if offset > 0 => {
            let complete = header("content-range")
                .and_then(|v| v.strip_prefix("bytes */").and_then(|n| n.parse::<u64>().ok()))
                == Some(offset);
            if complete && state.total.is_none_or(|t| t == offset) {
                return Ok(());
            }
            state.restart()?;
            return Err(Failure::Retry(
                Error::network(
                    format!("GET {shown} answered 416 to a resumed request"),
                    Some(416),
                    true,
                ),
                None,
            ));
        }
        404 | 410 => return Err(Failure::Fatal(Error::not_found("url", shown))),
        401 | 403 => {
            return Err(Failure::Fatal(Error::network(
                format!("GET {shown} answered {status}: not authorised (check the credentials)"),
                Some(status),
                false,
            )));
        }
        408 | 429 | 500..=599 => {
            let now = SystemTime::UNIX_EPOCH
                + Duration::from_millis(
                    u64::try_from(fetcher.clock.now().as_millis()).unwrap_or(0),
                );
            let wait = header("retry-after")
                .and_then(|v| retry_after(&v, now, options.retry_after_cap))
                // A rate limit without a hint waits the longest backoff rather than hammering.
                .or_else(|| (status == 429).then_some(options.backoff_max));
            let error =
                Error::network(format!("GET {shown} answered {status}"), Some(status), true);
            return Err(Failure::Retry(error, wait));
        }
        _ => {
            return Err(Failure::Fatal(Error::network(
                format!("GET {shown} answered {status}"),
                Some(status),
                false,
            )));
        }
    }
    if let Some(total) = state.total
        && total > options.max_bytes
    {
        return Err(Failure::Fatal(too_large(&shown, total, options.max_bytes)));
    }
    if state.validator.is_none() {
        state.validator = validator;
    }
    let mut body = response.into_body().into_reader();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let what = if e.kind() == std::io::ErrorKind::TimedOut
                    || e.to_string().to_ascii_lowercase().contains("timeout")
                {
                    "timed out"
                } else {
                    "broke off"
                };
                let done = state.writer.len();
                return Err(Failure::Retry(
                    Error::Network {
                        message: format!("GET {shown} {what} after {done} bytes"),
                        status: None,
                        retryable: true,
                        source: Some(Box::new(e)),
                    },
                    None,
                ));
            }
        };
        fetcher.check_cancelled(&shown).map_err(Failure::Fatal)?;
        let done = state.writer.len() + n as u64;
        if done > options.max_bytes {
            return Err(Failure::Fatal(too_large(&shown, done, options.max_bytes)));
        }
        state.writer.write(&buf[..n]).map_err(Failure::Fatal)?;
        throttle.report(done, state.total);
    }
    let done = state.writer.len();
    match state.total {
        Some(total) if total != done => Err(Failure::Retry(
            Error::network(format!("GET {shown} ended at byte {done} of {total}"), None, true),
            None,
        )),
        _ => Ok(()),
    }
}

fn too_large(shown: &str, size: u64, max: u64) -> Error {
    Error::Capacity {
        message: format!(
            "download of '{shown}' is over the limit of {max} bytes ({size} bytes or more)"
        ),
    }
}

fn request_failure(shown: &str, e: ureq::Error) -> Failure {
    match e {
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => {
            Failure::Fatal(Error::invalid_input(format!("cannot request '{shown}': {e}")))
        }
        ureq::Error::Timeout(_)
        | ureq::Error::Io(_)
        | ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::Protocol(_) => {
            let what = if matches!(e, ureq::Error::Timeout(_)) { "timed out" } else { "failed" };
            Failure::Retry(
                Error::Network {
                    message: format!("GET {shown} {what}"),
                    status: None,
                    retryable: true,
                    source: Some(Box::new(e)),
                },
                None,
            )
        }
        other => Failure::Fatal(Error::Network {
            message: format!("GET {shown} failed"),
            status: None,
            retryable: false,
            source: Some(Box::new(other)),
        }),
    }
}

/// `bytes START-END/TOTAL` (TOTAL may be `*`) → (START, TOTAL).
fn parse_content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let start = start.trim().parse::<u64>().ok()?;
    let end = end.trim().parse::<u64>().ok()?;
    if end < start {
        return None;
    }
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse::<u64>().ok().filter(|&t| t > end)?),
    };
    Some((start, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_is_parsed_strictly() {
        assert_eq!(parse_content_range("bytes 100-199/200"), Some((100, Some(200))));
        assert_eq!(parse_content_range("bytes 0-9/*"), Some((0, None)));
        assert_eq!(parse_content_range("bytes 10-5/20"), None);
        assert_eq!(parse_content_range("bytes 0-19/10"), None);
        assert_eq!(parse_content_range("items 0-1/2"), None);
    }

    #[test]
    fn urls_are_redacted_and_named() {
        assert_eq!(
            redact("https://user:secret@host:8080/a/model.onnx?sig=abc#x"),
            "https://host:8080/a/model.onnx"
        );
        assert_eq!(file_name("https://host/a/model.onnx"), "model.onnx");
        assert_eq!(file_name("https://host/"), "download");
        assert_eq!(file_name("https://host"), "download");
    }
}
