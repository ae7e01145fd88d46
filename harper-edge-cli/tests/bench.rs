//! `harper-edge bench`: deploy a profile, benchmark its equivalence group, print the tables,
//! write JSON and Markdown, store the result and list the history; typed errors for bad
//! arguments and unknown groups.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cli(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harper-edge"))
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A profile of three iris classifiers from the repository's test data: the same logistic
/// regression twice (the reference, and a copy), and a random forest.
fn write_profile(dir: &Path) -> PathBuf {
    let model = |name: &str, file: &str, reference: bool| {
        json!({
            "modelName": name,
            "modelVersion": "v1",
            "framework": "onnx",
            "metadata": {
                "taskType": "classification",
                "equivalenceGroup": "iris-classifiers",
                "outputDimensions": [3],
                "benchmarkReference": reference,
            },
            "modelBlob": {"source": "filesystem", "path": repo().join("tests/data").join(file)},
        })
    };
    let profile = json!({
        "name": "bench-test",
        "models": [
            model("iris-logreg", "iris_logreg.onnx", true),
            model("iris-logreg-copy", "iris_logreg.onnx", false),
            model("iris-forest", "sklearn_forest_classifier.onnx", false),
        ],
    });
    let path = dir.join("profile.json");
    std::fs::write(&path, profile.to_string()).unwrap();
    path
}

#[test]
fn bench_a_profile_writes_tables_json_markdown_and_history() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let profile = write_profile(dir.path());
    let (json_out, md_out) = (dir.path().join("out.json"), dir.path().join("out.md"));
    let out = cli(
        &home,
        &[
            "bench",
            "--profile",
            profile.to_str().unwrap(),
            "--batch",
            "1,4",
            "--concurrency",
            "1,2",
            "--iterations",
            "6",
            "--warmup",
            "1",
            "--json",
            json_out.to_str().unwrap(),
            "--markdown",
            md_out.to_str().unwrap(),
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    // The deploy, then a progress line per model and phase (stderr is not a terminal).
    assert!(stderr.contains("profile 'bench-test': 3 registered"), "{stderr}");
    assert!(stderr.contains("iris-forest:v1 measuring, batch 4, concurrency 2"), "{stderr}");
    // The tables on stdout.
    for id in ["iris-logreg:v1", "iris-logreg-copy:v1", "iris-forest:v1"] {
        assert!(stdout.contains(&format!("`{id}`")), "{stdout}");
    }
    assert!(
        stdout.contains("| model | backend | load ms |")
            && stdout.contains("Reference: `iris-logreg:v1`"),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(&md_out).unwrap(), stdout);

    let results: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&json_out).unwrap()).unwrap();
    assert_eq!(results.len(), 1);
    let r = &results[0];
    assert_eq!(
        (r["equivalenceGroup"].as_str(), r["taskType"].as_str()),
        (Some("iris-classifiers"), Some("classification"))
    );
    assert_eq!(r["modelIds"][0], "iris-logreg:v1");
    assert_eq!(r["runBy"], "harper-edge bench");
    let models = r["results"].as_array().unwrap();
    assert_eq!(models.len(), 3);
    for m in models {
        assert_eq!(m["cells"].as_array().unwrap().len(), 4, "{m}");
        for cell in m["cells"].as_array().unwrap() {
            assert_eq!(cell["calls"], 6);
            assert_eq!(cell["latency"]["count"], 6);
        }
        assert_eq!(m["errorCount"], 0);
    }
    // The copy answers exactly like the reference.
    let copy = models.iter().find(|m| m["modelId"] == "iris-logreg-copy:v1").unwrap();
    assert_eq!(copy["agreement"]["labelAgreement"], 1.0);
    assert_eq!(copy["agreement"]["maxAbsDiff"], 0.0);
    assert!(r["winner"].is_string());

    // Stored: the history lists it, filtered by group.
    let out = cli(&home, &["bench", "--history", "--group", "iris-classifiers"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<Value> =
        text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], r["id"]);
    let out = cli(&home, &["bench", "--history", "--group", "other"]);
    assert!(out.status.success() && out.stdout.is_empty());

    // Again from the registered models, JSON on stdout, not stored.
    let out = cli(
        &home,
        &["bench", "--group", "iris-classifiers", "--iterations", "2", "--json", "-", "--no-save"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let again: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(again.as_array().unwrap().len(), 1);
    let out = cli(&home, &["bench", "--history"]);
    assert_eq!(text(&out.stdout).lines().count(), 1, "--no-save stored nothing");
}

#[test]
fn the_shipped_tabular_profile_benchmarks_offline() {
    let dir = tempfile::tempdir().unwrap();
    let profile = repo().join("profiles/benchmarking-tabular.json");
    let out = cli(
        dir.path(),
        &["bench", "--profile", profile.to_str().unwrap(), "--iterations", "5", "--json", "-"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let results: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    let r = &results[0];
    assert_eq!(r["equivalenceGroup"], "iris-classifiers");
    assert_eq!(r["modelIds"], json!(["iris-logreg:v1", "iris-forest:v1"]));
    assert_eq!(r["testDataSummary"]["source"], "synthetic");
    assert!(r["results"].as_array().unwrap().iter().all(|m| m["errorCount"] == 0));
}

#[test]
fn bad_arguments_and_unknown_groups_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let out = cli(&home, &["bench"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no equivalence group to benchmark"),
        "{}",
        text(&out.stderr)
    );
    let profile = write_profile(dir.path());
    let out = cli(&home, &["bench", "--profile", profile.to_str().unwrap(), "--batch", "0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("batch sizes must be"), "{}", text(&out.stderr));
    let out = cli(
        &home,
        &["bench", "--profile", profile.to_str().unwrap(), "--group", "nope", "--iterations", "1"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("benchmark of 'nope' failed"), "{}", text(&out.stderr));
    let inputs = dir.path().join("inputs.json");
    std::fs::write(&inputs, "[[1, 2]]").unwrap();
    let out = cli(
        &home,
        &[
            "bench",
            "--group",
            "iris-classifiers",
            "--inputs",
            inputs.to_str().unwrap(),
            "--iterations",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("dimension mismatch"), "{}", text(&out.stderr));
}
