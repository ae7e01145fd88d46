//! `harper-edge drift`: data drift and data quality of a current file against a reference
//! file (or a saved baseline), without a model or a data directory.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{ArgGroup, Args};
use harper_edge_core::drift::baseline::{Baseline, BaselineConfig, FeatureKind};
use harper_edge_core::drift::check::{
    self, DriftConfig, DriftMethod, DriftReport, FeatureOverride,
};
use harper_edge_core::drift::distance::PsiConfig;
use harper_edge_core::drift::quality::{DataQuality, DataQualityMetrics};
use harper_edge_core::drift::segment::{
    ComparedWith, SegmentConfig, SegmentReference, SegmentedBaseline, SegmentedReport,
    check_segments,
};
use harper_edge_core::report::{RenderOptions, render_drift_report};
use harper_edge_core::{Clock as _, Error, Result, SystemClock};
use serde::Serialize;

use crate::table::{self, Format, Table, Want};

/// Exit status of `drift --fail-on-drift` when at least one feature drifted.
pub const DRIFT_EXIT_CODE: u8 = 2;

/// Arguments of `harper-edge drift`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["reference", "baseline"])))]
pub struct DriftArgs {
    /// Reference data (.csv, .parquet or .pq) to fit the baseline on.
    #[arg(long, value_name = "FILE")]
    reference: Option<PathBuf>,
    /// A baseline saved earlier with --save-baseline, instead of --reference.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["categorical", "numeric", "bins"])]
    baseline: Option<PathBuf>,
    /// Current data (.csv, .parquet or .pq) to check against the baseline.
    #[arg(long, value_name = "FILE")]
    current: PathBuf,
    /// Save the baseline fitted on --reference to this JSON file.
    #[arg(long, value_name = "FILE", requires = "reference")]
    save_baseline: Option<PathBuf>,
    /// Columns to read as categorical (comma-separated).
    #[arg(long, value_name = "COLS", value_delimiter = ',')]
    categorical: Vec<String>,
    /// Columns to read as numeric (comma-separated); a cell that is not a number is a schema
    /// violation.
    #[arg(long, value_name = "COLS", value_delimiter = ',')]
    numeric: Vec<String>,
    /// Columns to leave out of both files (comma-separated).
    #[arg(long, value_name = "COLS", value_delimiter = ',')]
    ignore: Vec<String>,
    /// Per-column test deciding the verdict, `COL=METHOD` (ks, chi2, psi, wasserstein, js;
    /// comma-separated).
    #[arg(long, value_name = "COL=METHOD", value_delimiter = ',')]
    method: Vec<String>,
    /// Significance level of ks and chi2: drifted when p < alpha.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Threshold of psi: drifted when PSI > threshold (and, calibrated, significant).
    #[arg(long, default_value_t = 0.2)]
    psi_threshold: f64,
    /// How the model verdict adjusts the features' p-values for their number: holm (error
    /// rate across features at most alpha), bh (false discovery rate) or none.
    #[arg(long, default_value = "holm", value_name = "holm|bh|none")]
    correction: String,
    /// Distance verdicts (psi, js, wasserstein) by their threshold alone, without the
    /// significance test that accounts for the sample sizes.
    #[arg(long)]
    uncalibrated: bool,
    /// Quantile bins of the numeric PSI (fitting only).
    #[arg(long, default_value_t = PsiConfig::DEFAULT_BINS)]
    bins: usize,
    /// File format of both files, instead of their extensions: csv or parquet.
    #[arg(long)]
    format: Option<String>,
    /// Print `{"report": …, "quality": …}` as one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Exit with status 2 when the model verdict says drifted (features' p-values adjusted
    /// by --correction).
    #[arg(long)]
    fail_on_drift: bool,
    /// Also check each segment of this column separately (a model version, an A/B arm, a
    /// cohort, any column read as categorical): against its own part of --reference when the
    /// reference has the column, else against the whole reference. Errors are controlled
    /// across all segments.
    #[arg(long, value_name = "COL")]
    segment: Option<String>,
    /// Segments with fewer rows (current, or reference when compared per segment) are listed
    /// but not tested.
    #[arg(long, value_name = "N", default_value_t = 30, requires = "segment")]
    segment_min_rows: u64,
    /// Also write the report as one self-contained HTML file (drift table, histograms of the
    /// drifted features, data quality; opens offline).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

/// The `--json` output.
#[derive(Debug, Serialize)]
struct JsonOutput<'a> {
    report: &'a DriftReport,
    quality: &'a DataQualityMetrics,
    #[serde(skip_serializing_if = "Option::is_none")]
    segments: Option<&'a SegmentedReport>,
}

/// What the current data is compared with.
struct Reference {
    baseline: Baseline,
    /// Per segment, when --segment names a column of --reference.
    segmented: Option<SegmentedBaseline>,
}

fn warn(message: &str) {
    eprintln!("warning: {message}");
}

fn names(list: &[String]) -> BTreeSet<&str> {
    list.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect()
}

fn read_json_file(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

/// Runs the command; the exit code is 0, or [`DRIFT_EXIT_CODE`] with `--fail-on-drift` when a
/// feature drifted.
///
/// # Errors
///
/// Unreadable or malformed files, invalid flags, and the core's errors (a baseline that cannot
/// be fitted or read back, a current file without a usable column).
pub fn run(args: &DriftArgs) -> Result<ExitCode> {
    let forced = args.format.as_deref().map(str::parse::<Format>).transpose()?;
    let ignore = names(&args.ignore);
    let key = args.segment.as_deref();
    if key.is_some_and(|k| ignore.contains(k)) {
        return Err(Error::invalid_input("--segment names a column that --ignore leaves out"));
    }
    let Reference { baseline, segmented } = match (&args.reference, &args.baseline) {
        (Some(reference), _) => fit(args, reference, forced, &ignore)?,
        (None, Some(path)) => Reference { baseline: load(path, &ignore)?, segmented: None },
        (None, None) => {
            return Err(Error::invalid_input("give --reference or --baseline"));
        }
    };
    if let Some(out) = &args.save_baseline {
        std::fs::write(out, baseline.to_json()?).map_err(|e| Error::io(out, e))?;
    }

    let current = read_current(args, &baseline, forced, &ignore)?;
    let config = drift_config(args)?;
    let report = current
        .frame
        .with_columns(|c| check::check(&baseline, &baseline.known_columns(c), &config))?;
    let model = args.current.file_stem().and_then(|s| s.to_str()).unwrap_or("current");
    let quality = current.frame.with_columns(|c| {
        DataQuality::check(&baseline, &baseline.known_columns(c), model, "file", SystemClock.now())
    })?;
    let segments = match key {
        Some(key) => {
            Some(check_by_segment(args, key, &baseline, segmented.as_ref(), &current, &config)?)
        }
        None => None,
    };

    if args.json {
        let output = JsonOutput { report: &report, quality: &quality, segments: segments.as_ref() };
        println!("{}", serde_json::to_string(&output)?);
    } else {
        print!("{}", render(&report, &quality, &args.current));
        if let Some(s) = &segments {
            print!("{}", render_segments(s));
        }
    }
    if let Some(path) = &args.html {
        let title = format!("Drift of {}", args.current.display());
        let options = RenderOptions { title: Some(title), ..RenderOptions::default() };
        let html = render_drift_report(&report, Some(&quality), &options);
        std::fs::write(path, &html).map_err(|e| Error::io(path, e))?;
        eprintln!("wrote {} ({} bytes)", path.display(), html.len());
    }
    let drifted = report.model.drifted || segments.as_ref().is_some_and(|s| s.model.drifted);
    Ok(if args.fail_on_drift && drifted {
        ExitCode::from(DRIFT_EXIT_CODE)
    } else {
        ExitCode::SUCCESS
    })
}

/// Fits the baseline on the reference file.
fn fit(
    args: &DriftArgs,
    path: &Path,
    forced: Option<Format>,
    ignore: &BTreeSet<&str>,
) -> Result<Reference> {
    let categorical = names(&args.categorical);
    let key = args.segment.as_deref();
    let numeric = names(&args.numeric);
    if let Some(both) = categorical.intersection(&numeric).next() {
        return Err(Error::invalid_input(format!(
            "column '{both}' is given both --categorical and --numeric"
        )));
    }
    let want = |name: &str| {
        if ignore.contains(name) {
            Want::Skip
        } else if categorical.contains(name) || key == Some(name) {
            Want::Kind(FeatureKind::Categorical)
        } else if numeric.contains(name) {
            Want::Kind(FeatureKind::Numeric)
        } else {
            Want::Infer
        }
    };
    let Table { frame, skipped } = table::read(path, Format::of(path, forced)?, &want)?;
    let shown = path.display();
    for (flag, list) in [("--categorical", &categorical), ("--numeric", &numeric)] {
        if let Some(name) = list.iter().find(|n| frame.column(n).is_none()) {
            return Err(Error::invalid_input(format!(
                "{flag} names '{name}', which is not a column of {shown}"
            )));
        }
    }
    for name in ignore.iter().filter(|n| !skipped.iter().any(|s| s == *n)) {
        warn(&format!("--ignore names '{name}', which is not a column of {shown}"));
    }
    if frame.names().is_empty() {
        return Err(Error::invalid_input(format!(
            "{shown} has no column left to fit a baseline on"
        )));
    }
    let mut schema = frame.infer_schema();
    for feature in &mut schema {
        if categorical.contains(feature.name.as_str()) || key == Some(feature.name.as_str()) {
            feature.kind = FeatureKind::Categorical;
        } else if numeric.contains(feature.name.as_str()) {
            feature.kind = FeatureKind::Numeric;
        }
    }
    let config = BaselineConfig {
        psi: PsiConfig { bins: args.bins, ..PsiConfig::default() },
        ..BaselineConfig::default()
    };
    let baseline =
        frame.fit_baseline(Some(&schema), config).map_err(|e| table::in_file(path, e))?;
    let segmented = match key {
        Some(key) if frame.column(key).is_some() => Some(
            frame
                .with_columns(|c| {
                    SegmentedBaseline::fit(&schema, c, key, args.segment_min_rows, config)
                })
                .map_err(|e| table::in_file(path, e))?,
        ),
        _ => None,
    };
    Ok(Reference { baseline, segmented })
}

/// The check split by `key`: per reference segment when the reference had the column, else
/// against the whole baseline (refused when the key is one of its features).
fn check_by_segment(
    args: &DriftArgs,
    key: &str,
    baseline: &Baseline,
    segmented: Option<&SegmentedBaseline>,
    current: &Table,
    config: &DriftConfig,
) -> Result<SegmentedReport> {
    let shown = args.current.display();
    if current.frame.column(key).is_none() {
        return Err(Error::invalid_input(format!(
            "--segment names '{key}', which is not a column of {shown}"
        )));
    }
    let reference = match segmented {
        Some(s) => SegmentReference::PerSegment(s),
        None if baseline.feature(key).is_some() => {
            return Err(Error::invalid_input(format!(
                "'{key}' is a feature of the saved baseline: comparing each segment with the \
                 whole reference would report the segments' differences as drift; give \
                 --reference with the '{key}' column instead"
            )));
        }
        None => SegmentReference::Whole(baseline),
    };
    let segments = SegmentConfig {
        key: key.to_string(),
        min_rows: args.segment_min_rows,
        ..SegmentConfig::default()
    };
    current.frame.with_columns(|c| check_segments(reference, c, &segments, config))
}

/// Reads a saved baseline, without the ignored features.
fn load(path: &Path, ignore: &BTreeSet<&str>) -> Result<Baseline> {
    let text = read_json_file(path)?;
    let baseline = Baseline::from_json(&text)?;
    if ignore.is_empty() {
        return Ok(baseline);
    }
    for name in ignore.iter().filter(|n| baseline.feature(n).is_none()) {
        warn(&format!("--ignore names '{name}', which is not a feature of {}", path.display()));
    }
    let ignored: Vec<&str> = ignore.iter().copied().collect();
    Ok(baseline.without(&ignored))
}

/// Reads the current file with the baseline's kinds.
fn read_current(
    args: &DriftArgs,
    baseline: &Baseline,
    forced: Option<Format>,
    ignore: &BTreeSet<&str>,
) -> Result<Table> {
    let path = &args.current;
    let key = args.segment.as_deref();
    let want = |name: &str| match baseline.feature(name) {
        _ if key == Some(name) => Want::Kind(FeatureKind::Categorical),
        Some(f) if !ignore.contains(name) => Want::Kind(f.schema.kind),
        _ => Want::Skip,
    };
    let table = table::read(path, Format::of(path, forced)?, &want)?;
    let shown = path.display();
    if table.frame.names().is_empty() {
        let features: Vec<&str> = baseline.features().iter().map(|f| f.name()).collect();
        return Err(Error::invalid_input(format!(
            "{shown} has no column in common with the baseline (its features: {})",
            features.join(", ")
        )));
    }
    for name in table.skipped.iter().filter(|n| !ignore.contains(n.as_str())) {
        warn(&format!("column '{name}' of {shown} is not in the baseline: ignored"));
    }
    for f in baseline.features().iter().filter(|f| table.frame.column(f.name()).is_none()) {
        warn(&format!(
            "feature '{}' has no column in {shown}: not checked for drift, counted as null \
             and as a schema violation in data quality",
            f.name()
        ));
    }
    Ok(table)
}

/// The drift configuration of the flags.
fn drift_config(args: &DriftArgs) -> Result<DriftConfig> {
    let mut overrides = BTreeMap::new();
    for spec in args.method.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let Some((column, method)) = spec.split_once('=') else {
            return Err(Error::invalid_input(format!(
                "--method takes COL=METHOD (e.g. age=psi), got '{spec}'"
            )));
        };
        let method: DriftMethod = method.trim().parse()?;
        overrides.insert(
            column.trim().to_string(),
            FeatureOverride { method: Some(method), threshold: None },
        );
    }
    Ok(DriftConfig {
        alpha: args.alpha,
        psi_threshold: args.psi_threshold,
        overrides,
        correction: args.correction.parse()?,
        calibrate_distances: !args.uncalibrated,
        ..DriftConfig::default()
    })
}

/// A score or distance, to four decimals (scientific below 10⁻⁴).
fn number(x: f64) -> String {
    if x != 0.0 && x.abs() < 1e-4 { format!("{x:.2e}") } else { format!("{x:.4}") }
}

/// A p-value, to four decimals (scientific below 10⁻³).
fn p_value(p: f64) -> String {
    if p != 0.0 && p < 1e-3 { format!("{p:.2e}") } else { format!("{p:.4}") }
}

/// The human-readable report: the feature table, the summary line, the data-quality block.
fn render(report: &DriftReport, quality: &DataQualityMetrics, current: &Path) -> String {
    let header = ["feature", "kind", "method", "score", "p-value", "PSI", "drifted"];
    let rows: Vec<Vec<String>> = report
        .features
        .iter()
        .map(|f| {
            vec![
                f.feature_name.clone(),
                f.kind.as_str().to_string(),
                f.drift_method.as_str().to_string(),
                number(f.drift_score),
                f.p_value.map_or_else(|| "-".to_string(), p_value),
                f.psi.map_or_else(|| "-".to_string(), number),
                if f.drifted { "yes" } else { "no" }.to_string(),
            ]
        })
        .collect();
    // Text columns left-aligned, numbers right-aligned.
    let mut out = text_table(&header, &rows, &[3, 4, 5]);
    let n = report.features.len();
    let _ = writeln!(
        out,
        "\n{} of {n} feature{} drifted",
        report.drifted_count,
        if n == 1 { "" } else { "s" }
    );
    let m = &report.model;
    let _ = writeln!(
        out,
        "model verdict: {} ({} correction over {} tested feature{}: {} significant at alpha \
         {}{}{})",
        if m.drifted { "DRIFTED" } else { "not drifted" },
        m.correction,
        m.tested,
        if m.tested == 1 { "" } else { "s" },
        m.rejected,
        m.alpha,
        m.min_adjusted_p_value
            .map_or_else(String::new, |p| format!(", smallest adjusted p {}", p_value(p))),
        if m.distance_drifted > 0 {
            format!("; {} drifted by threshold alone", m.distance_drifted)
        } else {
            String::new()
        }
    );

    let _ = writeln!(out, "\ndata quality of {}:", current.display());
    let _ = writeln!(out, "  rows:               {}", quality.total_records);
    let _ = writeln!(out, "  schema violations:  {} rows", quality.schema_violations);
    let nonzero_rates: Vec<String> = quality
        .null_rates
        .iter()
        .filter(|(_, r)| **r > 0.0)
        .map(|(name, r)| format!("{name} {:.2}%", r * 100.0))
        .collect();
    let counts = |m: &BTreeMap<String, u64>| -> String {
        let v: Vec<String> =
            m.iter().filter(|(_, c)| **c > 0).map(|(name, c)| format!("{name} {c}")).collect();
        if v.is_empty() { "none".to_string() } else { v.join(", ") }
    };
    let _ = writeln!(
        out,
        "  null rates:         {}",
        if nonzero_rates.is_empty() { "none".to_string() } else { nonzero_rates.join(", ") }
    );
    let _ = writeln!(out, "  outliers:           {}", counts(&quality.outlier_counts));
    let _ = writeln!(out, "  unknown categories: {}", counts(&quality.unknown_categories));
    if !quality.range_violations.is_empty() {
        let _ = writeln!(out, "  range violations:   {}", counts(&quality.range_violations));
    }
    out
}

/// The segment table: one line per segment, then the verdict across segments.
fn render_segments(report: &SegmentedReport) -> String {
    let header = ["segment", "rows", "compared with", "drifted features", "min adj. p", "drifted"];
    let rows: Vec<Vec<String>> = report
        .segments
        .iter()
        .map(|s| {
            let compared = match (s.compared_with, s.reference_rows) {
                (ComparedWith::Segment, n) => format!("its reference ({n} rows)"),
                (ComparedWith::Whole, n) => format!("whole reference ({n} rows)"),
            };
            let features = match (&s.report, &s.skipped) {
                (Some(r), _) => {
                    let names: Vec<&str> = r
                        .features
                        .iter()
                        .filter(|f| f.drifted)
                        .map(|f| f.feature_name.as_str())
                        .collect();
                    if names.is_empty() { "-".to_string() } else { names.join(", ") }
                }
                (None, Some(why)) => format!("not tested: {why}"),
                (None, None) => "-".to_string(),
            };
            vec![
                s.segment.clone().unwrap_or_else(|| "(null)".to_string()),
                s.rows.to_string(),
                compared,
                features,
                s.min_adjusted_p_value.map_or_else(|| "-".to_string(), p_value),
                if s.drifted { "yes" } else { "no" }.to_string(),
            ]
        })
        .collect();
    let mut out = format!("\ndrift by segment of '{}':\n", report.key);
    out.push_str(&text_table(&header, &rows, &[1, 4]));
    if report.omitted_segments > 0 {
        let _ = writeln!(
            out,
            "({} smaller segments with {} rows not listed)",
            report.omitted_segments, report.omitted_rows
        );
    }
    let m = &report.model;
    let _ = writeln!(
        out,
        "segment verdict: {} of {} segment{} drifted ({} correction over {} tests across all \
         segments, alpha {})",
        report.drifted_segments,
        report.segments.len(),
        if report.segments.len() == 1 { "" } else { "s" },
        m.correction,
        m.tested,
        m.alpha
    );
    out
}

/// A plain-text table: a header line, then one line per row; columns as wide as their widest
/// cell, those in `right` right-aligned, the others left-aligned.
fn text_table(header: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, (cell, &w)) in cells.zip(&widths).enumerate() {
            let _ = if right.contains(&i) {
                write!(text, "{cell:>w$}  ")
            } else {
                write!(text, "{cell:<w$}  ")
            };
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}
