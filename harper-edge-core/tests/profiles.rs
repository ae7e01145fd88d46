//! Profiles: the shipped ones parse, deploy is idempotent and re-runs failures, a bad file
//! names the model and the field, and a deploy root confines filesystem paths.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use harper_edge_core::profile::{DeployAction, DeployOptions, Profile, deploy};
use harper_edge_core::{Engine, ErrorKind, Stage};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn every_shipped_profile_is_valid() {
    let mut n = 0;
    for entry in std::fs::read_dir(repo().join("profiles")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let profile =
                Profile::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(!profile.models.is_empty(), "{}", path.display());
            n += 1;
        }
    }
    assert!(n >= 3, "minimal, testing and benchmarking are shipped");
}

#[test]
fn the_minimal_profile_deploys_once() {
    let home = tempfile::tempdir().unwrap();
    let engine = Engine::open(home.path()).unwrap();
    let profile = Profile::load(repo().join("profiles/minimal.json")).unwrap();
    let mut seen = 0;
    let report = deploy(&engine, &profile, &DeployOptions::default(), &mut |_| seen += 1).unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.count(DeployAction::Registered), 1);
    assert!(seen > 0, "progress is reported");
    let model = engine.model(&"iris-logreg:v1".parse().unwrap()).unwrap();
    assert_eq!(model.stage, Stage::Candidate);
    assert_eq!(model.task_type(), Some("classification"));
    assert_eq!(model.provenance.as_ref().unwrap().source.as_str(), "fs");

    let again = deploy(&engine, &profile, &DeployOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(again.count(DeployAction::AlreadyRegistered), 1);
    assert_eq!(engine.models().unwrap().len(), 1);
}

fn write(dir: &Path, name: &str, json: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, json).unwrap();
    path
}

#[test]
fn a_bad_profile_names_the_model_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "bad.json",
        r#"{"name": "bad", "models": [
            {"modelName": "ok", "modelVersion": "1", "framework": "onnx", "modelBlob": "x.onnx"},
            {"modelName": "emb", "modelVersion": "1", "framework": "onnx",
             "metadata": {"outputDimensions": [384, "x"]}, "modelBlob": {"source": "ftp", "path": "y"}},
            {"modelName": "gen", "modelVersion": "1", "framework": "pytorch", "modelBlob": "z"}
        ]}"#,
    );
    let err = Profile::load(&path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let text = err.to_string();
    for part in [
        "3 problems",
        "model 'emb', field models[1].metadata.outputDimensions",
        "model 'emb', field models[1].modelBlob.source: unknown source 'ftp'",
        "model 'gen', field models[2].framework",
    ] {
        assert!(text.contains(part), "{part:?} not in {text}");
    }
    let broken = write(dir.path(), "broken.json", "{\"name\": ");
    assert!(Profile::load(&broken).unwrap_err().to_string().contains("line 1"));
}

#[test]
fn failures_are_reported_per_model_and_a_root_confines_paths() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir(&models).unwrap();
    std::fs::copy(repo().join("tests/data/iris_logreg.onnx"), models.join("iris.onnx")).unwrap();
    std::fs::write(dir.path().join("secret.onnx"), b"outside").unwrap();
    let path = write(
        &models,
        "p.json",
        r#"{"name": "p", "models": [
            {"modelName": "iris", "modelVersion": "1", "framework": "onnx", "modelBlob": "iris.onnx"},
            {"modelName": "escape", "modelVersion": "1", "framework": "onnx", "modelBlob": "../secret.onnx"},
            {"modelName": "ghost", "modelVersion": "1", "framework": "onnx", "modelBlob": "../../etc/passwd"},
            {"modelName": "chat", "modelVersion": "1", "framework": "ollama",
             "modelBlob": {"modelName": "llama3.2", "mode": "chat"}}
        ]}"#,
    );
    let profile = Profile::load(&path).unwrap();
    let home = tempfile::tempdir().unwrap();
    let engine = Engine::open(home.path()).unwrap();
    let options = DeployOptions { root: Some(models.clone()), ..DeployOptions::default() };
    let report = deploy(&engine, &profile, &options, &mut |_| {}).unwrap();
    assert!(!report.ok());
    let by_id = |id: &str| report.models.iter().find(|m| m.model_id == id).unwrap();
    assert_eq!(by_id("iris:1").action, DeployAction::Registered);
    for id in ["escape:1", "ghost:1"] {
        let escape = by_id(id).error.as_ref().unwrap();
        assert!(escape.message.contains("outside the deploy root"), "{id}: {}", escape.message);
    }
    // A model Ollama serves is registered from its manifest (the daemon is asked at the
    // first call, not now).
    let chat = by_id("chat:1");
    assert_eq!(chat.action, DeployAction::Registered, "{:?}", chat.error);
    let model = engine.model(&"chat:1".parse().unwrap()).unwrap();
    assert_eq!(model.framework.as_str(), "ollama");

    let dry = DeployOptions { dry_run: true, ..DeployOptions::default() };
    let fresh_home = tempfile::tempdir().unwrap();
    let fresh = Engine::open(fresh_home.path()).unwrap();
    let report = deploy(&fresh, &profile, &dry, &mut |_| {}).unwrap();
    assert_eq!(report.count(DeployAction::WouldRegister), 4, "{report:?}");
    assert!(fresh.models().unwrap().is_empty());
}
