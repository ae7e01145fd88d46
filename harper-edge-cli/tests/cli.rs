//! The `harper-edge` binary, run as a user would, against the committed iris model.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/iris_logreg.onnx");
const REFERENCE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/iris_logreg.reference.json");

fn cli(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harper-edge"))
        .env("HARPER_EDGE_HOME", home)
        .args(args)
        .output()
        .expect("run harper-edge")
}

fn ok_json_lines(out: &Output) -> Vec<Value> {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn err_line(out: &Output) -> String {
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one clear line: {stderr}");
    stderr
}

#[test]
fn add_infer_feedback_events_round_trip_matches_reference() {
    let home = tempfile::tempdir().unwrap();
    let added = ok_json_lines(&cli(
        home.path(),
        &["model", "add", "iris", "1", "--framework", "onnx", "--file", MODEL],
    ));
    assert_eq!(added[0]["id"], "iris:1");
    let listed = ok_json_lines(&cli(home.path(), &["model", "list"]));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["inputSchema"][0]["name"], "X");

    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(REFERENCE).unwrap()).unwrap();
    let inputs = reference["inputs"].to_string();
    let out = ok_json_lines(&cli(home.path(), &["infer", "iris:1", "--input", &inputs]));
    let out = &out[0];
    assert_eq!(out["outputs"]["label"], reference["labels"]);
    let tol = reference["tolerance"].as_f64().unwrap();
    let got = out["outputs"]["probabilities"].as_array().unwrap();
    let want = reference["probabilities"].as_array().unwrap();
    for (g, w) in got
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .zip(want.iter().flat_map(|r| r.as_array().unwrap()))
    {
        assert!((g.as_f64().unwrap() - w.as_f64().unwrap()).abs() <= tol);
    }

    let one = ok_json_lines(&cli(
        home.path(),
        &["infer", "iris", "--input", "[6.7, 3.0, 5.2, 2.3]", "--user-id", "ann"],
    ));
    assert_eq!(one[0]["prediction"], 2);
    let id = one[0]["inferenceId"].as_str().unwrap();
    let fb = ok_json_lines(&cli(home.path(), &["feedback", id, "--outcome", "2"]));
    assert_eq!(fb[0]["correct"], true);

    let metrics = ok_json_lines(&cli(home.path(), &["metrics", "iris", "--realtime"]));
    assert_eq!(metrics[0]["requestCount"], 2);
    assert_eq!(metrics[0]["labelledCount"], 1);
    assert_eq!(metrics[0]["accuracy"], 1.0);

    // Every `infer` flushes its rollups: two calls in this hour (same 5-minute period unless
    // the test straddles a boundary, so count across rows).
    let hourly = ok_json_lines(&cli(home.path(), &["metrics", "iris", "--granularity", "hourly"]));
    let calls: u64 = hourly.iter().map(|r| r["requestCount"].as_u64().unwrap()).sum();
    assert_eq!(calls, 2);
    assert!(hourly[0].get("p95Latency").is_some() && hourly[0].get("latencySketch").is_none());
    let e = err_line(&cli(home.path(), &["metrics", "iris", "--granularity", "weekly"]));
    assert!(e.contains("unknown granularity 'weekly'"), "{e}");
    let none =
        ok_json_lines(&cli(home.path(), &["metrics", "iris", "--from", "2999-01-01T00:00:00Z"]));
    assert!(none.is_empty());
    // Split by a segment key read from the stored calls: one row per user here.
    let users = ok_json_lines(&cli(home.path(), &["metrics", "iris", "--segment", "userId"]));
    let mut seen: Vec<(Value, u64)> =
        users.iter().map(|r| (r["segment"].clone(), r["requestCount"].as_u64().unwrap())).collect();
    seen.sort_by_key(|(s, _)| s.to_string());
    assert_eq!(seen, [(Value::from("ann"), 1), (Value::Null, 1)]);
    assert!(users.iter().all(|r| r["segmentKey"] == "userId" && r.get("latencySketch").is_none()));

    // The HTML report of every model: self-contained, the model and its traffic in it.
    let out = home.path().join("report.html");
    let written = ok_json_lines(&cli(home.path(), &["report", "--out", out.to_str().unwrap()]));
    assert_eq!(written[0]["models"], serde_json::json!(["iris:1"]));
    let html = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written[0]["bytes"].as_u64().unwrap(), html.len() as u64);
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("Model iris:1"));
    assert!(html.contains("<dt>Requests</dt><dd>2</dd>"), "two calls in the summary");
    assert!(!html.contains("http://") && !html.contains("https://"));
    let e = err_line(&cli(home.path(), &["report", "nosuch", "--out", out.to_str().unwrap()]));
    assert!(e.contains("nosuch"), "{e}");

    let events = ok_json_lines(&cli(home.path(), &["events", "--model", "iris"]));
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["id"], id);
    assert_eq!(events[0]["userId"], "ann");
    assert_eq!(events[0]["actualOutcome"], 2);
}

#[test]
fn errors_are_one_line_with_their_code_and_exit_non_zero() {
    let home = tempfile::tempdir().unwrap();
    let e = err_line(&cli(home.path(), &["infer", "nope", "--input", "[1,2,3,4]"]));
    assert!(e.contains("model 'nope' not found") && e.contains("HARPER_EDGE_NOT_FOUND"), "{e}");

    ok_json_lines(&cli(home.path(), &["model", "add", "iris", "1", "--file", MODEL]));
    let e = err_line(&cli(home.path(), &["infer", "iris", "--input", "[1,2,3]"]));
    assert!(
        e.contains("expected shape [?, 4], got [1, 3]") && e.contains("HARPER_EDGE_SHAPE"),
        "{e}"
    );

    let e = err_line(&cli(home.path(), &["infer", "iris", "--input", "[1,2,"]));
    assert!(e.contains("HARPER_EDGE_INVALID_INPUT"), "{e}");

    let corrupt = home.path().join("corrupt.onnx");
    std::fs::write(&corrupt, b"\x08\x07garbage").unwrap();
    let e = err_line(&cli(
        home.path(),
        &["model", "add", "bad", "1", "--file", corrupt.to_str().unwrap()],
    ));
    assert!(e.contains("cannot load model 'bad:1'") && e.contains("HARPER_EDGE_MODEL_LOAD"), "{e}");

    let e = err_line(&cli(home.path(), &["feedback", "missing-id", "--outcome", "1"]));
    assert!(e.contains("HARPER_EDGE_NOT_FOUND"), "{e}");
}
