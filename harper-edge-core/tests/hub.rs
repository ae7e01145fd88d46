//! The Hugging Face source against a loopback server laid out like the Hub (the real Hub is
//! not reachable here): revision pinning, variant selection, the token header, the local
//! cache, and a fetch job that registers the model with its provenance.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Server, hub_server};
use harper_edge_core::fetch::jobs::{FetchRequest, JobState, SourceSpec};
use harper_edge_core::fetch::{ContentStore, FetchOptions, Fetcher, HfSource, SourceKind, inspect};
use harper_edge_core::registry::sha256_hex;
use harper_edge_core::{Engine, ErrorKind, Framework, InferContext, Inputs, ModelFilter, Tensor};

const COMMIT: &str = "5f1b8e7c2d0a4e6b9c3f1a2b4c6d8e0f1a3b5c7d";
const REPO: &str = "harper-test/tiny-iris";

fn iris() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/iris_logreg.onnx")).unwrap()
}

fn hub() -> Server {
    hub_server(
        REPO,
        COMMIT,
        vec![
            ("onnx/model.onnx".into(), iris()),
            ("onnx/model_quantized.onnx".into(), b"int8 bytes".to_vec()),
            ("config.json".into(), br#"{"architectures": ["LogReg"]}"#.to_vec()),
            ("README.md".into(), b"# tiny iris".to_vec()),
        ],
    )
}

fn fetcher(home: &tempfile::TempDir) -> Fetcher {
    Fetcher::new(ContentStore::open(home.path()).unwrap())
}

fn fast() -> FetchOptions {
    FetchOptions { retries: 0, ..FetchOptions::default() }
}

#[test]
fn a_branch_is_pinned_to_its_commit_and_the_variant_files_are_fetched() {
    let server = hub();
    let home = tempfile::tempdir().unwrap();
    let source = HfSource::new(REPO).unwrap().endpoint(&server.url).token("hf_secret_token");
    let files = fetcher(&home).fetch(&source, &fast(), &mut |_, _| {}).unwrap();

    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["onnx/model.onnx", "config.json"], "README and the int8 file are left");
    let model = &files[0];
    assert_eq!(model.blob.sha256, sha256_hex(&iris()));
    assert_eq!(model.provenance.source, SourceKind::Hf);
    assert_eq!(model.provenance.reference, format!("{REPO}/onnx/model.onnx"));
    assert_eq!(model.provenance.revision.as_deref(), Some(COMMIT), "main resolved to its commit");

    let requests = server.requests();
    assert!(requests[0].path.starts_with(&format!("/api/models/{REPO}/revision/main")));
    // Files are requested at the commit, so a moving branch cannot mix two commits.
    assert_eq!(requests[1].path, format!("/{REPO}/resolve/{COMMIT}/onnx/model.onnx"));
    for r in &requests {
        assert_eq!(
            r.headers.get("authorization").map(String::as_str),
            Some("Bearer hf_secret_token")
        );
    }
    let recorded = serde_json::to_string(&model.provenance).unwrap();
    assert!(!recorded.contains("hf_secret_token"));
}

#[test]
fn the_quantized_variant_and_explicit_files() {
    let server = hub();
    let home = tempfile::tempdir().unwrap();
    let options = FetchOptions { variant: Some("quantized".into()), ..fast() };
    let source = HfSource::new(REPO).unwrap().endpoint(&server.url);
    let files = fetcher(&home).fetch(&source, &options, &mut |_, _| {}).unwrap();
    assert_eq!(files[0].name, "onnx/model_quantized.onnx");
    assert_eq!(files[0].provenance.variant.as_deref(), Some("quantized"));

    let source = source.files(["README.md"]);
    let files = fetcher(&home).fetch(&source, &fast(), &mut |_, _| {}).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(std::fs::read(&files[0].blob.path).unwrap(), b"# tiny iris");
}

#[test]
fn missing_files_repos_and_revisions_are_not_found() {
    let server = hub();
    let home = tempfile::tempdir().unwrap();
    let f = fetcher(&home);
    let missing = HfSource::new(REPO).unwrap().endpoint(&server.url).files(["onnx/nope.onnx"]);
    let err = f.fetch(&missing, &fast(), &mut |_, _| {}).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("onnx/nope.onnx") && err.to_string().contains("config.json"));

    let other = HfSource::new("harper-test/other").unwrap().endpoint(&server.url);
    assert_eq!(f.fetch(&other, &fast(), &mut |_, _| {}).unwrap_err().kind(), ErrorKind::NotFound);
    let rev = HfSource::new(REPO).unwrap().endpoint(&server.url).revision("v9");
    assert_eq!(f.fetch(&rev, &fast(), &mut |_, _| {}).unwrap_err().kind(), ErrorKind::NotFound);
    // Nothing half-written is left in the content folder.
    let leftovers = std::fs::read_dir(home.path().join("models")).unwrap().count();
    assert_eq!(leftovers, 0);
}

#[test]
fn the_local_cache_is_reused_without_the_network() {
    let cache = tempfile::tempdir().unwrap();
    let repo_dir = cache.path().join("models--harper-test--tiny-iris");
    let snapshot = repo_dir.join("snapshots").join(COMMIT);
    std::fs::create_dir_all(snapshot.join("onnx")).unwrap();
    std::fs::create_dir_all(repo_dir.join("blobs")).unwrap();
    std::fs::create_dir_all(repo_dir.join("refs")).unwrap();
    // The cache's own layout: a blob, a snapshot symlink to it, a ref naming the commit.
    let blob = repo_dir.join("blobs").join(sha256_hex(&iris()));
    std::fs::write(&blob, iris()).unwrap();
    std::os::unix::fs::symlink(&blob, snapshot.join("onnx/model.onnx")).unwrap();
    std::fs::write(repo_dir.join("refs/main"), COMMIT).unwrap();

    let home = tempfile::tempdir().unwrap();
    // Port 9 refuses connections: a request would fail the test.
    let source =
        HfSource::new(REPO).unwrap().endpoint("http://127.0.0.1:9").cache_dir(cache.path());
    let pinned = source.clone().revision(COMMIT);
    let files = fetcher(&home).fetch(&pinned, &fast(), &mut |_, _| {}).unwrap();
    assert_eq!(files[0].blob.sha256, sha256_hex(&iris()));
    assert_eq!(files[0].provenance.revision.as_deref(), Some(COMMIT));
    // A branch falls back to the cached ref when the Hub cannot be reached.
    let files = fetcher(&home).fetch(&source, &fast(), &mut |_, _| {}).unwrap();
    assert_eq!(files[0].name, "onnx/model.onnx");
}

#[test]
fn inspect_lists_sizes_and_suggests_a_name_without_downloading() {
    let server = hub();
    let spec = SourceSpec::Hf {
        repo: REPO.into(),
        revision: None,
        files: Vec::new(),
        endpoint: Some(server.url.clone()),
    };
    let found = inspect(&spec, &FetchOptions::default()).unwrap();
    assert_eq!(found.revision.as_deref(), Some(COMMIT));
    assert_eq!(found.suggested_name, "tiny-iris");
    assert_eq!(found.framework, Some(Framework::Onnx));
    assert_eq!(found.model_file.as_deref(), Some("onnx/model.onnx"));
    let config_len = br#"{"architectures": ["LogReg"]}"#.len() as u64;
    assert_eq!(found.download_bytes, Some(iris().len() as u64 + config_len));
    assert_eq!(found.files.iter().filter(|f| f.selected).count(), 2);
    assert_eq!(server.requests().len(), 1, "one listing call, no file downloaded");
}

#[test]
fn a_fetch_job_registers_the_model_with_its_provenance() {
    let server = hub();
    let home = tempfile::tempdir().unwrap();
    let engine = Engine::open(home.path()).unwrap();
    let spec = SourceSpec::Hf {
        repo: REPO.into(),
        revision: Some("main".into()),
        files: Vec::new(),
        endpoint: Some(server.url.clone()),
    };
    let request = FetchRequest::new("tiny-iris", "1", spec)
        .register(serde_json::json!({"taskType": "classification"}));
    let job = engine.fetch_model(request).unwrap();
    let job = engine.fetch_queue().unwrap().wait(&job.id, Duration::from_secs(60)).unwrap();
    assert_eq!(job.state, JobState::Completed, "{:?}", job.error);
    assert_eq!(job.result.as_ref().unwrap().model_id.as_deref(), Some("tiny-iris:1"));

    let model = engine.model(&"tiny-iris:1".parse().unwrap()).unwrap();
    let provenance = model.provenance.as_ref().unwrap();
    assert_eq!(provenance.revision.as_deref(), Some(COMMIT));
    assert_eq!(provenance.reference, format!("{REPO}/onnx/model.onnx"));
    assert_eq!(model.sha256, sha256_hex(&iris()));
    assert_eq!(model.files.len(), 2);
    assert_eq!(model.framework, Framework::Onnx);

    let filter = ModelFilter { task_type: Some("classification".into()), ..Default::default() };
    assert_eq!(engine.list_models(&filter).unwrap().len(), 1);
    let inputs = Inputs::single(Tensor::from_f32(&[1, 4], &[5.1, 3.5, 1.4, 0.2]).unwrap());
    let p = engine.infer(&"tiny-iris:1".parse().unwrap(), &inputs, &InferContext::new()).unwrap();
    assert_eq!(p.prediction, serde_json::json!(0));

    // Removing the model removes its job and the files no other model uses.
    let removed = engine.remove_model(&"tiny-iris:1".parse().unwrap()).unwrap();
    assert_eq!(removed.id, "tiny-iris:1");
    for f in &removed.files {
        assert!(!home.path().join("models").join(&f.sha256).exists(), "{} left", f.name);
    }
    assert_eq!(
        engine.fetch_queue().unwrap().get("tiny-iris:1").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert!(engine.list_models(&ModelFilter::default()).unwrap().is_empty());
    let err = engine.remove_model(&"tiny-iris".parse().unwrap()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "removal names a version");
}

#[test]
fn a_corrupt_model_fails_its_job_without_registering() {
    let server = hub();
    let home = tempfile::tempdir().unwrap();
    let engine = Engine::open(home.path()).unwrap();
    let spec = SourceSpec::Hf {
        repo: REPO.into(),
        revision: None,
        files: vec!["onnx/model_quantized.onnx".into()],
        endpoint: Some(server.url.clone()),
    };
    let request = FetchRequest::new("broken", "1", spec).register(serde_json::json!({}));
    let job = engine.fetch_model(request).unwrap();
    let job = engine.fetch_queue().unwrap().wait(&job.id, Duration::from_secs(60)).unwrap();
    assert_eq!(job.state, JobState::Failed);
    let error = job.error.unwrap();
    assert_eq!(error.code, ErrorKind::ModelLoad.code());
    assert!(!error.retryable);
    assert!(engine.models().unwrap().is_empty());
}
