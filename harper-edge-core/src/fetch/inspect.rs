//! Looking at a source before fetching it: its files and sizes, which of them a fetch would
//! take, the framework they imply and a name to register them under.

use serde::{Deserialize, Serialize};

use super::jobs::SourceSpec;
use super::{FetchOptions, SourceKind, framework_of, http};
use crate::backend::Framework;
use crate::error::Result;

/// One file of an inspected source (serde camelCase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InspectedFile {
    /// Path in the source (`onnx/model.onnx`), or the file name of a URL.
    pub name: String,
    /// Size in bytes, when the source tells.
    pub size: Option<u64>,
    /// Whether a fetch with the same options would take it.
    pub selected: bool,
}

/// What [`inspect`] found (serde camelCase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inspection {
    /// The kind of source.
    pub source: SourceKind,
    /// The source as shown in records (a URL without query or user info).
    pub reference: String,
    /// The revision a fetch now would record: the commit on the Hub, the `ETag` or
    /// `Last-Modified` of a URL; none for files on disk.
    pub revision: Option<String>,
    /// Every file, in the source's order (the Hub's listing, a directory walk).
    pub files: Vec<InspectedFile>,
    /// Bytes a fetch would take, when every selected file's size is known.
    pub download_bytes: Option<u64>,
    /// The framework the selected model file implies (`.onnx` → onnx, `.safetensors` →
    /// transformers).
    pub framework: Option<Framework>,
    /// The main model file a registration would load.
    pub model_file: Option<String>,
    /// The task the files suggest: `text-embedding` for a sentence-transformers layout.
    pub task_type: Option<String>,
    /// A model name derived from the source, valid as a registry name.
    pub suggested_name: String,
    /// Whether the listing came from the local Hugging Face cache.
    pub from_cache: bool,
}

/// Describes what `spec` holds without downloading model files: a Hub listing (one API
/// call, or none when the local cache has the revision), a `HEAD` request, or a directory
/// walk.
///
/// # Errors
///
/// As the source's fetch would fail before its first byte: [`crate::Error::NotFound`],
/// [`crate::Error::Network`], [`crate::Error::InvalidInput`] (a path leaving its root).
///
/// # Examples
///
/// ```
/// use harper_edge_core::fetch::{inspect, FetchOptions};
/// use harper_edge_core::fetch::jobs::SourceSpec;
///
/// let dir = tempfile::tempdir()?;
/// std::fs::create_dir(dir.path().join("My Model"))?;
/// std::fs::write(dir.path().join("My Model/model.onnx"), b"onnx bytes")?;
/// std::fs::write(dir.path().join("My Model/tokenizer.json"), b"{}")?;
///
/// let spec = SourceSpec::fs(dir.path(), "My Model");
/// let found = inspect(&spec, &FetchOptions::default())?;
/// assert_eq!(found.model_file.as_deref(), Some("model.onnx"));
/// assert_eq!(found.suggested_name, "my-model");
/// assert_eq!(found.download_bytes, Some(12));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn inspect(spec: &SourceSpec, options: &FetchOptions) -> Result<Inspection> {
    match spec {
        SourceSpec::Hf { repo, .. } => {
            let source = spec.hf_source()?;
            let listing = source.list(options)?;
            let selected = source.selection(&listing, options.variant.as_deref())?;
            let files: Vec<InspectedFile> = listing
                .files
                .iter()
                .map(|(name, size)| InspectedFile {
                    name: name.clone(),
                    size: *size,
                    selected: selected.contains(name),
                })
                .collect();
            let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
            let embedding = names.iter().any(|n| {
                matches!(*n, "modules.json" | "sentence_bert_config.json")
                    || n.starts_with("1_Pooling/")
            });
            let model_file = selected.iter().find(|f| framework_of(f).is_some()).cloned();
            Ok(finish(Inspection {
                source: SourceKind::Hf,
                reference: repo.clone(),
                revision: Some(listing.commit.clone()),
                framework: model_file.as_deref().and_then(framework_of),
                model_file,
                task_type: embedding.then(|| "text-embedding".to_string()),
                suggested_name: suggest(repo.rsplit('/').next().unwrap_or(repo)),
                download_bytes: None,
                files,
                from_cache: listing.from_cache,
            }))
        }
        SourceSpec::Http { url } => {
            let (size, revision) = http::head(url, options)?;
            let name = http::file_name_of(url);
            Ok(finish(Inspection {
                source: SourceKind::Http,
                reference: http::redact(url),
                revision,
                framework: framework_of(&name),
                model_file: framework_of(&name).map(|_| name.clone()),
                task_type: None,
                suggested_name: suggest(stem(&name)),
                download_bytes: None,
                files: vec![InspectedFile { name, size, selected: true }],
                from_cache: false,
            }))
        }
        SourceSpec::Fs { root, path } => {
            let source = super::FsSource::new(root, path.as_str());
            let listed = source.list()?;
            let files: Vec<InspectedFile> = listed
                .into_iter()
                .map(|(name, size)| InspectedFile { name, size: Some(size), selected: true })
                .collect();
            let model_files: Vec<&str> = files
                .iter()
                .map(|f| f.name.as_str())
                .filter(|n| framework_of(n).is_some())
                .collect();
            let model_file = match model_files.as_slice() {
                [one] => Some((*one).to_string()),
                many => many
                    .iter()
                    .find(|n| matches!(**n, "model.onnx" | "model.safetensors"))
                    .map(|n| (*n).to_string()),
            };
            let last = std::path::Path::new(path.as_str())
                .file_name()
                .map_or_else(|| path.clone(), |n| n.to_string_lossy().into_owned());
            let embedding = files.iter().any(|f| f.name == "modules.json");
            Ok(finish(Inspection {
                source: SourceKind::Fs,
                reference: format!("{}/{path}", root.display()),
                revision: None,
                framework: model_file.as_deref().and_then(framework_of),
                model_file,
                task_type: embedding.then(|| "text-embedding".to_string()),
                suggested_name: suggest(stem(&last)),
                download_bytes: None,
                files,
                from_cache: false,
            }))
        }
    }
}

fn finish(mut found: Inspection) -> Inspection {
    found.download_bytes =
        found.files.iter().filter(|f| f.selected).map(|f| f.size).sum::<Option<u64>>();
    found
}

fn stem(name: &str) -> &str {
    let name = name.rsplit('/').next().unwrap_or(name);
    name.rsplit_once('.').map_or(name, |(stem, _)| if stem.is_empty() { name } else { stem })
}

/// A registry name from free text: lowercase letters, digits, `.`, `_`, `-`; runs of other
/// characters become one `-`.
pub(crate) fn suggest(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches(|c| matches!(c, '-' | '.')).to_string();
    let mut out: String = out.chars().take(128).collect();
    if out.is_empty() {
        out = "model".into();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_names_are_valid_registry_names() {
        assert_eq!(suggest("all-MiniLM-L6-v2"), "all-minilm-l6-v2");
        assert_eq!(suggest("My Model (v2)"), "my-model-v2");
        assert_eq!(suggest("..."), "model");
        assert_eq!(stem("onnx/model_quantized.onnx"), "model_quantized");
        for s in ["all-MiniLM-L6-v2", "My Model (v2)", "...", ".hidden"] {
            assert!(suggest(s).parse::<crate::ModelRef>().is_ok(), "{s}");
        }
    }
}
