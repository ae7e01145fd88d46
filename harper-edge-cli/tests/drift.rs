//! `harper-edge drift` on generated CSV and Parquet files, run as a user would.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const N: usize = 200;

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harper-edge"))
        // `drift` must not need a data directory: point it at one that cannot exist.
        .env("HARPER_EDGE_HOME", "/nonexistent/harper-edge-home")
        .args(args)
        .output()
        .expect("run harper-edge")
}

fn ok_json(out: &Output) -> Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn err_line(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one clear line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The generated data, column by column.
struct Data {
    /// `0..200` in the reference, `100..300` in the current: KS D is exactly 0.5.
    shifted: Vec<f64>,
    /// A permutation of `0..200` on both sides: D = 0.
    stable: Vec<i64>,
    /// red/green/blue in the reference; a quarter `purple` (new) in the current.
    color: Vec<&'static str>,
}

fn reference_data() -> Data {
    Data {
        shifted: (0..N).map(|i| i as f64).collect(),
        stable: (0..N).map(|i| ((i * 7) % N) as i64).collect(),
        color: (0..N).map(|i| ["red", "green", "blue"][i % 3]).collect(),
    }
}

fn current_data() -> Data {
    Data {
        shifted: (0..N).map(|i| (i + 100) as f64).collect(),
        stable: (0..N).map(|i| ((i * 13) % N) as i64).collect(),
        color: (0..N).map(|i| ["red", "green", "blue", "purple"][i % 4]).collect(),
    }
}

fn csv_text(d: &Data) -> String {
    let mut out = String::from("shifted,stable,color\n");
    for i in 0..d.shifted.len() {
        writeln!(out, "{},{},{}", d.shifted[i], d.stable[i], d.color[i]).unwrap();
    }
    out
}

fn csv_pair(dir: &Path) -> (PathBuf, PathBuf) {
    (
        write(dir, "reference.csv", &csv_text(&reference_data())),
        write(dir, "current.csv", &csv_text(&current_data())),
    )
}

/// KS D computed the plain way: the largest gap between the two ECDFs over every value.
fn ks_d(a: &[f64], b: &[f64]) -> f64 {
    let ecdf = |s: &[f64], x: f64| s.iter().filter(|&&v| v <= x).count() as f64 / s.len() as f64;
    a.iter().chain(b).map(|&x| (ecdf(a, x) - ecdf(b, x)).abs()).fold(0.0, f64::max)
}

fn feature<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["features"].as_array().unwrap().iter().find(|f| f["featureName"] == name).unwrap()
}

fn check_verdicts(out: &Value) {
    let report = &out["report"];
    assert_eq!(report["driftedCount"], 2, "{report}");
    let shifted = feature(report, "shifted");
    assert_eq!(
        (shifted["driftMethod"].as_str(), shifted["drifted"].as_bool()),
        (Some("ks"), Some(true))
    );
    let d = ks_d(&reference_data().shifted, &current_data().shifted);
    assert_eq!(d, 0.5);
    assert!((shifted["driftScore"].as_f64().unwrap() - d).abs() < 1e-12, "{shifted}");
    assert!(shifted["pValue"].as_f64().unwrap() < 1e-10);

    let stable = feature(report, "stable");
    assert_eq!(stable["drifted"], false);
    assert_eq!(stable["driftScore"], 0.0);
    assert_eq!(stable["pValue"], 1.0);

    let color = feature(report, "color");
    assert_eq!(
        (color["kind"].as_str(), color["driftMethod"].as_str()),
        (Some("categorical"), Some("chi2"))
    );
    assert_eq!(color["drifted"], true);

    let quality = &out["quality"];
    assert_eq!(quality["totalRecords"], N);
    assert_eq!(quality["schemaViolations"], 0);
    assert_eq!(quality["unknownCategories"]["color"], N / 4);
    assert_eq!(quality["modelName"], "current");
}

#[test]
fn csv_drift_json_has_exact_verdicts_and_ks_statistic() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, current) = csv_pair(dir.path());
    let out =
        ok_json(&cli(&["drift", "--reference", s(&reference), "--current", s(&current), "--json"]));
    check_verdicts(&out);
}

#[test]
fn table_output_and_fail_on_drift_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, current) = csv_pair(dir.path());
    let out = cli(&["drift", "--reference", s(&reference), "--current", s(&current)]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["feature", "kind", "method", "score", "p-value", "PSI", "drifted"]
    );
    let shifted: Vec<&str> =
        lines.iter().find(|l| l.starts_with("shifted")).unwrap().split_whitespace().collect();
    assert_eq!(shifted[..4], ["shifted", "numeric", "ks", "0.5000"]);
    assert!(shifted[4].contains("e-"), "small p-values in scientific notation: {shifted:?}");
    assert_eq!(shifted[6], "yes");
    let stable = lines.iter().find(|l| l.starts_with("stable")).unwrap();
    assert!(stable.ends_with("no"), "{stable}");
    assert!(text.contains("2 of 3 features drifted"), "{text}");
    assert!(
        text.contains(
            "model verdict: DRIFTED (holm correction over 3 tested features: 2 significant"
        ),
        "{text}"
    );
    assert!(text.contains("unknown categories: color 50"), "{text}");
    assert!(text.contains("rows:               200"), "{text}");

    let out =
        cli(&["drift", "--reference", s(&reference), "--current", s(&current), "--fail-on-drift"]);
    assert_eq!(out.status.code(), Some(2));
    // No drift (the reference against itself): exit 0 even with --fail-on-drift.
    let out = cli(&[
        "drift",
        "--reference",
        s(&reference),
        "--current",
        s(&reference),
        "--fail-on-drift",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("0 of 3 features drifted"), "{text}");
    assert!(text.contains("model verdict: not drifted"), "{text}");
}

#[test]
fn saved_baseline_gives_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, current) = csv_pair(dir.path());
    let saved = dir.path().join("baseline.json");
    let first = ok_json(&cli(&[
        "drift",
        "--reference",
        s(&reference),
        "--current",
        s(&current),
        "--json",
        "--save-baseline",
        s(&saved),
    ]));
    let second =
        ok_json(&cli(&["drift", "--baseline", s(&saved), "--current", s(&current), "--json"]));
    assert_eq!(first["report"], second["report"]);
    let strip = |mut q: Value| {
        let o = q.as_object_mut().unwrap();
        o.remove("timestamp");
        o.remove("id"); // both hold the time of the check

        q
    };
    assert_eq!(strip(first["quality"].clone()), strip(second["quality"].clone()));

    // --ignore applies to a saved baseline too.
    let third = ok_json(&cli(&[
        "drift",
        "--baseline",
        s(&saved),
        "--current",
        s(&current),
        "--json",
        "--ignore",
        "color",
    ]));
    assert_eq!(third["report"]["features"].as_array().unwrap().len(), 2);
    assert_eq!(third["quality"]["schemaViolations"], 0);
    assert!(third["quality"]["nullRates"].get("color").is_none());
}

#[test]
fn flags_change_kinds_methods_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, current) = csv_pair(dir.path());
    let out = ok_json(&cli(&[
        "drift",
        "--reference",
        s(&reference),
        "--current",
        s(&current),
        "--json",
        "--categorical",
        "stable",
        "--ignore",
        "color",
        "--method",
        "shifted=psi",
        "--psi-threshold",
        "0.5",
        "--bins",
        "4",
    ]));
    let report = &out["report"];
    assert_eq!(report["features"].as_array().unwrap().len(), 2);
    assert_eq!(feature(report, "stable")["kind"], "categorical");
    let shifted = feature(report, "shifted");
    assert_eq!(shifted["driftMethod"], "psi");
    assert_eq!(shifted["threshold"], 0.5);
    assert_eq!(shifted["baselineSummary"]["binProportions"].as_array().unwrap().len(), 4);
    assert_eq!(shifted["drifted"], true);

    let e = err_line(&cli(&[
        "drift",
        "--reference",
        s(&reference),
        "--current",
        s(&current),
        "--method",
        "shifted=chi2",
    ]));
    assert!(e.contains("chi2") && e.contains("shifted"), "{e}");
    let e = err_line(&cli(&[
        "drift",
        "--reference",
        s(&reference),
        "--current",
        s(&current),
        "--numeric",
        "nope",
    ]));
    assert!(e.contains("--numeric names 'nope'"), "{e}");
}

/// Writes `d` as Parquet (snappy, row groups of 64 rows), `color` as a dictionary when
/// `dictionary`.
fn write_parquet(path: &Path, d: &Data, dictionary: bool) {
    use std::sync::Arc;

    use arrow_array::types::Int32Type;
    use arrow_array::{
        ArrayRef, DictionaryArray, Float64Array, Int64Array, RecordBatch, StringArray,
    };
    use parquet::arrow::ArrowWriter;
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;

    let color: ArrayRef = if dictionary {
        Arc::new(d.color.iter().copied().collect::<DictionaryArray<Int32Type>>())
    } else {
        Arc::new(StringArray::from(d.color.clone()))
    };
    let batch = RecordBatch::try_from_iter([
        ("shifted", Arc::new(Float64Array::from(d.shifted.clone())) as ArrayRef),
        ("stable", Arc::new(Int64Array::from(d.stable.clone())) as ArrayRef),
        ("color", color),
    ])
    .unwrap();
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(64)) // several row groups, several batches
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_gives_the_same_report_as_csv() {
    let dir = tempfile::tempdir().unwrap();
    let (reference_csv, current_csv) = csv_pair(dir.path());
    let reference = dir.path().join("reference.parquet");
    let current = dir.path().join("current.pq");
    write_parquet(&reference, &reference_data(), false);
    write_parquet(&current, &current_data(), true);
    let from_parquet =
        ok_json(&cli(&["drift", "--reference", s(&reference), "--current", s(&current), "--json"]));
    check_verdicts(&from_parquet);
    let from_csv = ok_json(&cli(&[
        "drift",
        "--reference",
        s(&reference_csv),
        "--current",
        s(&current_csv),
        "--json",
    ]));
    assert_eq!(from_parquet["report"], from_csv["report"]);
    // Mixed: a Parquet reference, a CSV current.
    let mixed = ok_json(&cli(&[
        "drift",
        "--reference",
        s(&reference),
        "--current",
        s(&current_csv),
        "--json",
    ]));
    assert_eq!(mixed["report"], from_csv["report"]);
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_column_of_an_unsupported_type_is_named() {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Date32Array, Float64Array, RecordBatch};
    use parquet::arrow::ArrowWriter;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dates.parquet");
    let batch = RecordBatch::try_from_iter([
        ("x", Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0])) as ArrayRef),
        ("day", Arc::new(Date32Array::from(vec![1, 2, 3])) as ArrayRef),
    ])
    .unwrap();
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    let e = err_line(&cli(&["drift", "--reference", s(&path), "--current", s(&path)]));
    assert!(e.contains("column 'day' has type Date32"), "{e}");
    // Ignored, it is never read.
    let out = ok_json(&cli(&[
        "drift",
        "--reference",
        s(&path),
        "--current",
        s(&path),
        "--json",
        "--ignore",
        "day",
    ]));
    assert_eq!(out["report"]["features"][0]["featureName"], "x");
    assert_eq!(out["report"]["driftedCount"], 0);
}

#[cfg(not(feature = "parquet"))]
#[test]
fn parquet_without_the_feature_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (_, current) = csv_pair(dir.path());
    let reference = dir.path().join("reference.parquet");
    write_parquet(&reference, &reference_data(), false);
    let e = err_line(&cli(&["drift", "--reference", s(&reference), "--current", s(&current)]));
    assert!(e.contains("built without Parquet support"), "{e}");
}

#[test]
fn text_in_a_numeric_column_counts_as_schema_violations() {
    let dir = tempfile::tempdir().unwrap();
    let reference = write(dir.path(), "reference.csv", "x,y\n1,a\n2,b\n3,a\n4,b\n5,a\nNA,b\n");
    // Rows 2 and 4 hold text in x, row 3 a null (empty cell), row 5 `null`.
    let current = write(dir.path(), "current.csv", "x,y\n1,a\noops,b\n,a\nbad,b\nnull,a\n3,b\n");
    let out = ok_json(&cli(&[
        "drift",
        "--reference",
        s(&reference),
        "--current",
        s(&current),
        "--json",
        "--numeric",
        "x",
    ]));
    let quality = &out["quality"];
    assert_eq!(quality["schemaViolations"], 2, "{quality}");
    assert_eq!(quality["nullRates"]["x"], 2.0 / 6.0);
    let x = feature(&out["report"], "x");
    assert_eq!(x["kind"], "numeric");
    assert_eq!(x["currentSummary"]["violations"], 2);
    assert_eq!(x["baselineSummary"]["nulls"], 1);

    // Forcing a text column of the reference numeric cannot fit a baseline: name the place.
    let e = err_line(&cli(&[
        "drift",
        "--reference",
        s(&current),
        "--current",
        s(&current),
        "--numeric",
        "x",
    ]));
    assert!(e.contains("current.csv") && e.contains("feature 'x' row 1"), "{e}");
}

#[test]
fn errors_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, current) = csv_pair(dir.path());
    let missing = dir.path().join("missing.csv");
    let e = err_line(&cli(&["drift", "--reference", s(&missing), "--current", s(&current)]));
    assert!(e.contains("missing.csv") && e.ends_with("[HARPER_EDGE_IO]\n"), "{e}");

    let txt = write(dir.path(), "data.txt", "a\n1\n");
    let e = err_line(&cli(&["drift", "--reference", s(&reference), "--current", s(&txt)]));
    assert!(
        e.contains("cannot tell the format of") && e.contains("[HARPER_EDGE_INVALID_INPUT]"),
        "{e}"
    );
    // --format overrides the extension.
    let e = err_line(&cli(&[
        "drift",
        "--reference",
        s(&reference),
        "--current",
        s(&txt),
        "--format",
        "csv",
    ]));
    assert!(e.contains("no column in common with the baseline"), "{e}");

    let ragged = write(dir.path(), "ragged.csv", "a,b,c\n1,2,3\n4,5\n");
    let e = err_line(&cli(&["drift", "--reference", s(&ragged), "--current", s(&current)]));
    assert!(e.contains("ragged.csv") && e.contains("line 3 has 2 cells, the header has 3"), "{e}");

    let other = write(dir.path(), "other.csv", "p,q\n1,2\n");
    let out = cli(&["drift", "--reference", s(&reference), "--current", s(&other)]);
    let e = err_line(&out);
    assert!(
        e.contains("other.csv has no column in common with the baseline (its features: shifted, stable, color)"),
        "{e}"
    );

    // Neither --reference nor --baseline: clap's usage error.
    let out = cli(&["drift", "--current", s(&current)]);
    assert_eq!(out.status.code(), Some(2));

    // A current column unknown to the baseline: a warning, then the check.
    let extra =
        write(dir.path(), "extra.csv", &csv_text(&current_data()).replacen("color", "colour", 1));
    let out = cli(&["drift", "--reference", s(&reference), "--current", s(&extra), "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        stderr.contains("column 'colour' of") && stderr.contains("not in the baseline"),
        "{stderr}"
    );
    let v = ok_json(&out);
    assert_eq!(v["report"]["features"].as_array().unwrap().len(), 2);
}

/// Rows `i..i + n` of `x,cohort[,arm]`: cohort north (x = 0..99) or south (x = 500..599,
/// plus `south_shift`); arm alternates a / b.
fn cohort_csv(n: usize, south_shift: f64, with_arm: bool) -> String {
    let mut text = String::from(if with_arm { "x,cohort,arm\n" } else { "x,cohort\n" });
    for i in 0..n {
        let south = i % 3 == 0;
        let x = if south { 500.0 + south_shift } else { 0.0 } + ((i * 37) % 100) as f64;
        let cohort = if south { "south" } else { "north" };
        if with_arm {
            writeln!(text, "{x},{cohort},{}", if i % 2 == 0 { "a" } else { "b" }).unwrap();
        } else {
            writeln!(text, "{x},{cohort}").unwrap();
        }
    }
    text
}

#[test]
fn segments_are_checked_against_their_own_reference_or_the_whole() {
    let dir = tempfile::tempdir().unwrap();
    let reference = write(dir.path(), "ref.csv", &cohort_csv(900, 0.0, false));
    let current = write(dir.path(), "cur.csv", &cohort_csv(900, 40.0, true));
    let (r, c) = (s(&reference), s(&current));

    let out = ok_json(&cli(&[
        "drift",
        "--reference",
        r,
        "--current",
        c,
        "--segment",
        "cohort",
        "--json",
    ]));
    let segments = &out["segments"];
    assert_eq!(segments["key"], "cohort");
    let by = |v: &str| {
        segments["segments"].as_array().unwrap().iter().find(|s| s["segment"] == v).unwrap().clone()
    };
    let south = by("south");
    assert_eq!(
        (south["comparedWith"].as_str(), south["drifted"].as_bool()),
        (Some("segment"), Some(true))
    );
    assert_eq!((south["rows"].as_u64(), south["referenceRows"].as_u64()), (Some(300), Some(300)));
    assert_eq!(by("north")["drifted"], false);
    assert_eq!(segments["driftedSegments"], 1);

    // The arm is not in the reference: each arm against the whole reference.
    let out =
        ok_json(&cli(&["drift", "--reference", r, "--current", c, "--segment", "arm", "--json"]));
    let arms = out["segments"]["segments"].as_array().unwrap();
    assert_eq!(arms.len(), 2);
    assert!(arms.iter().all(|a| a["comparedWith"] == "whole" && a["referenceRows"] == 900));

    // The table names the segments; --fail-on-drift follows the verdict across segments.
    let out =
        cli(&["drift", "--reference", r, "--current", c, "--segment", "cohort", "--fail-on-drift"]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("drift by segment of 'cohort':"), "{text}");
    assert!(text.contains("its reference (300 rows)"), "{text}");
    assert!(text.contains("segment verdict: 1 of 2 segments drifted"), "{text}");

    // The HTML report of the same check: the drifted feature and its verdict, offline.
    let html_path = dir.path().join("drift.html");
    let out = cli(&["drift", "--reference", r, "--current", c, "--html", s(&html_path)]);
    assert!(out.status.success());
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.contains("<title>Drift of ") && html.contains("▲ drifted"), "drift html");
    assert!(!html.contains("https://"));

    // Small segments are listed, not tested.
    let out = ok_json(&cli(&[
        "drift",
        "--reference",
        r,
        "--current",
        c,
        "--segment",
        "cohort",
        "--segment-min-rows",
        "500",
        "--json",
    ]));
    let south = out["segments"]["segments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["segment"] == "south")
        .unwrap()
        .clone();
    assert!(south["report"].is_null());
    assert!(south["skipped"].as_str().unwrap().contains("fewer than minRows 500"), "{south}");

    // A saved baseline keeps no segments: a feature key is refused with the way out.
    let saved = dir.path().join("b.json");
    cli(&["drift", "--reference", r, "--current", c, "--save-baseline", s(&saved)]);
    let e =
        err_line(&cli(&["drift", "--baseline", s(&saved), "--current", r, "--segment", "cohort"]));
    assert!(e.contains("give --reference with the 'cohort' column"), "{e}");
    let e = err_line(&cli(&["drift", "--reference", r, "--current", r, "--segment", "arm"]));
    assert!(e.contains("'arm', which is not a column of"), "{e}");
}
