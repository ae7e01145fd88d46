//! The HTML report: drift tables and charts with the numbers and verdicts, escaping of user
//! text, no network reference, labelled charts, bounded size on large inputs, and a model
//! page collected from a real engine run (rollups, drift, an alert, a pending request).
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::sync::Arc;
use std::time::Duration;

use harper_edge_core::drift::baseline::{Baseline, BaselineConfig, Column, FeatureSchema};
use harper_edge_core::drift::check::{DistributionSummary, DriftConfig, DriftReport, check};
use harper_edge_core::drift::multiple::Correction;
use harper_edge_core::drift::quality::DataQuality;
use harper_edge_core::monitor::config::ConfigScope;
use harper_edge_core::monitor::retrain::RetrainingStatus;
use harper_edge_core::monitor::{CurrentData, Monitor, MonitorOptions};
use harper_edge_core::report::{
    DriftSnapshot, HealthQuery, ModelHealth, RenderOptions, render_drift_report, render_model_page,
    render_model_section,
};
use harper_edge_core::{
    Engine, Framework, InferContext, ManualClock, ModelRef, ModelRegistration, Timestamp,
};
use serde_json::json;

const MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/iris_logreg.onnx");
const T0: i64 = 1_767_225_600_000; // 2026-01-01
const HOSTILE: &str = "<script>alert('x')</script>";

/// Deterministic values in [0, 1).
fn u(i: usize, k: usize) -> f64 {
    ((i * 7919 + k * 104_729) % 1000) as f64 / 1000.0
}

/// Checks every structural promise of a document.
fn assert_self_contained(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"));
    for needle in ["http://", "https://", "src=", "<link", "@import", "url("] {
        assert!(!html.contains(needle), "the report references '{needle}'");
    }
    assert!(!html.contains(HOSTILE), "user text must be escaped");
    assert_eq!(html.matches("<script").count(), html.matches("<script>document.").count());
    // Every href is a local anchor.
    for (i, _) in html.match_indices("href=\"") {
        assert_eq!(&html[i + 6..i + 7], "#", "non-local href at {i}");
    }
    assert_labelled(html);
}

fn assert_labelled(html: &str) {
    let svgs: Vec<&str> = html.split("<svg").skip(1).collect();
    for svg in &svgs {
        let head = &svg[..svg.find('>').unwrap()];
        assert!(head.contains("role=\"img\""), "{head}");
        let id = head.split("id=\"").nth(1).unwrap().split('"').next().unwrap();
        assert!(head.contains(&format!("aria-labelledby=\"{id}-t\"")), "{head}");
        assert!(svg.contains(&format!("<title id=\"{id}-t\">")), "svg {id} has no title");
        assert!(svg.contains(&format!("<desc id=\"{id}-d\">")), "svg {id} has no desc");
        let after = &svg[svg.find("</svg>").unwrap()..];
        assert!(after.starts_with("</svg><details class=\"he-data\">"), "svg {id}: no data table");
    }
}

fn report_with_hostile_names() -> (DriftReport, harper_edge_core::drift::quality::DataQualityMetrics)
{
    let n = 2000;
    let reference: Vec<f64> = (0..n).map(|i| 100.0 * u(i, 1)).collect();
    let shifted: Vec<f64> = (0..n).map(|i| 100.0 * u(i, 1) + 40.0).collect();
    let same: Vec<f64> = (0..n).map(|i| u(i, 2)).collect();
    let cats = ["card", "cash", HOSTILE];
    let ref_cat: Vec<Option<&str>> = (0..n).map(|i| Some(cats[i % 3])).collect();
    let cur_cat: Vec<Option<&str>> =
        (0..n).map(|i| Some(if i % 5 == 0 { cats[i % 3] } else { "card" })).collect();
    let schema = [
        FeatureSchema::numeric("amount"),
        FeatureSchema::numeric(HOSTILE),
        FeatureSchema::categorical("payment"),
    ];
    let b = Baseline::fit(
        &schema,
        &[
            ("amount", Column::Numeric(&reference)),
            (HOSTILE, Column::Numeric(&same)),
            ("payment", Column::Categorical(&ref_cat)),
        ],
        BaselineConfig::default(),
    )
    .unwrap();
    let current = [
        ("amount", Column::Numeric(&shifted)),
        (HOSTILE, Column::Numeric(&same)),
        ("payment", Column::Categorical(&cur_cat)),
    ];
    let r = check(&b, &current, &DriftConfig::default()).unwrap();
    let q = DataQuality::check(&b, &current, "m", "1", Timestamp::from_millis(T0)).unwrap();
    (r, q)
}

#[test]
fn a_drift_report_shows_every_feature_its_numbers_and_verdicts_and_escapes_names() {
    let (r, q) = report_with_hostile_names();
    let html = render_drift_report(&r, Some(&q), &RenderOptions::default());
    assert_self_contained(&html);
    // Report order: the drifted features first.
    let amount = html.find(">amount<").unwrap();
    let payment = html.find(">payment<").unwrap();
    let hostile = html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;").unwrap();
    assert!(amount < hostile && payment < hostile, "drifted first");
    assert_eq!(r.drifted_count, 2);
    assert!(html.contains("▲ drifted") && html.contains("✓ no drift"));
    assert!(html.contains("Model verdict: <span class=\"he-bad-text\">▲ drifted</span>"));
    assert!(html.contains("2 of 3 tested features significant after holm correction"));
    // The KS statistic and the p-values as written in the table.
    let a = r.features.iter().find(|f| f.feature_name == "amount").unwrap();
    assert!(html.contains(&format!("data-v=\"{:e}\">0.4", a.drift_score)), "KS D ≈ 0.4");
    assert!(a.p_value.unwrap() < 1e-100);
    assert!(html.contains("e-1") || html.contains("e-2"), "tiny p-values in scientific notation");
    // Histogram of the numeric feature (bins labelled by the baseline's edges), bars of the
    // categorical one; the stable feature's chart is collapsed.
    assert!(html.contains("Share of rows per bin of the baseline"));
    assert!(html.contains(">≤ 9.99<") && html.contains(">(9.99, 19.98]<"), "bins by their edges");
    assert!(html.contains("Share of rows per category"));
    assert!(html.contains("<summary>Highest-scoring features without drift</summary>"));
    // Data quality.
    assert!(html.contains("2,000 rows checked"));
}

fn columns<'a>(names: &'a [String], values: &'a [Vec<f64>]) -> Vec<(&'a str, Column<'a>)> {
    names.iter().zip(values).map(|(n, v)| (n.as_str(), Column::Numeric(v))).collect()
}

#[test]
fn a_thousand_feature_report_stays_small_and_many_categories_are_folded() {
    let n = 300;
    let features = 1000;
    let names: Vec<String> = (0..features).map(|f| format!("feature_{f:04}")).collect();
    let reference: Vec<Vec<f64>> =
        (0..features).map(|f| (0..n).map(|i| u(i, f + 1)).collect()).collect();
    // Every 20th feature shifted: 50 drifted.
    let current: Vec<Vec<f64>> = (0..features)
        .map(|f| (0..n).map(|i| u(i + 7, f + 1) + if f % 20 == 0 { 0.5 } else { 0.0 }).collect())
        .collect();
    let schema: Vec<FeatureSchema> = names.iter().map(FeatureSchema::numeric).collect();
    let b =
        Baseline::fit(&schema, &columns(&names, &reference), BaselineConfig::default()).unwrap();
    let r = check(&b, &columns(&names, &current), &DriftConfig::default()).unwrap();
    assert!(r.drifted_count >= 50, "{}", r.drifted_count);
    let options = RenderOptions { max_feature_charts: 20, ..RenderOptions::default() };
    let html = render_drift_report(&r, None, &options);
    assert_self_contained(&html);
    assert_eq!(html.matches("<svg").count(), 20, "charts capped");
    assert!(html.contains(&format!(
        "{} drifted features have no chart (at most 20 charts)",
        r.drifted_count - 20
    )));
    let listed = html.matches("<th scope=\"row\">feature_").count()
        + html.matches("<th scope=\"row\"><a href=\"#he-drift-f").count();
    assert_eq!(listed, 1000, "every feature listed");
    // Stated size: a 1,000-feature report with 20 charts is under 600 kB.
    assert!(html.len() < 600_000, "{} bytes", html.len());

    // 10,000 categories: 12 bars (11 + "other"), a few kB.
    let cats: Vec<String> = (0..10_000).map(|i| format!("c{i}")).collect();
    let reference: Vec<Option<&str>> =
        (0..20_000).map(|i| Some(cats[i % 10_000].as_str())).collect();
    let current: Vec<Option<&str>> =
        (0..20_000).map(|i| Some(cats[(i * i) % 97].as_str())).collect();
    let schema = [FeatureSchema::categorical("sku")];
    let b = Baseline::fit(
        &schema,
        &[("sku", Column::Categorical(&reference))],
        BaselineConfig::default(),
    )
    .unwrap();
    let r = check(&b, &[("sku", Column::Categorical(&current))], &DriftConfig::default()).unwrap();
    assert!(r.features[0].drifted);
    let html = render_drift_report(&r, None, &RenderOptions::default());
    assert_self_contained(&html);
    assert!(html.contains("other (9,989 categories)"), "top 11 + other");
    assert!(html.len() < 40_000, "{} bytes", html.len());
}

#[test]
fn summaries_stored_before_bin_edges_still_read_and_render() {
    let old = json!({"kind": "numeric", "count": 10, "nulls": 0, "violations": 0, "mean": 1.0,
        "sd": 0.5, "min": 0.0, "quartiles": [0.5, 1.0, 1.5], "max": 2.0,
        "binProportions": [0.5, 0.5]});
    let s: DistributionSummary = serde_json::from_value(old).unwrap();
    let DistributionSummary::Numeric { bin_edges, .. } = &s else { panic!("{s:?}") };
    assert!(bin_edges.is_empty());
    let (mut r, _) = report_with_hostile_names();
    r.features[0].baseline_summary = s.clone();
    r.features[0].current_summary = s;
    let html = render_drift_report(&r, None, &RenderOptions::default());
    assert!(html.contains(">bin 1<") && html.contains(">bin 2<"), "bins numbered without edges");
}

/// An engine with iris:1, a drifted check, a drift alert and a pending retraining request.
fn monitored_engine() -> (Arc<ManualClock>, Arc<Engine>, Monitor) {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(T0)));
    let e = Arc::new(Engine::builder().clock(clock.clone()).tick_interval(None).build().unwrap());
    e.register_model(ModelRegistration::new("iris", "1", Framework::Onnx).file(MODEL)).unwrap();
    let m = Monitor::new(e.clone(), MonitorOptions::default()).unwrap();
    m.set_config(
        &ConfigScope::Global,
        json!({
            "aggregation": {"driftCheck": "1h"},
            "retrainingTriggers": {"minNewLabeledSamples": 0, "conditions": [{"type": "drift", "driftTypes": ["input"], "threshold": 0.3}]}
        }),
    )
    .unwrap();
    let iris: ModelRef = "iris:1".parse().unwrap();
    let row = |i: usize, shift: f64| {
        json!([[
            4.5 + 3.0 * u(i, 1),
            2.0 + 2.0 * u(i, 2),
            1.0 + 5.0 * u(i, 3) + shift,
            0.1 + 2.4 * u(i, 4)
        ]])
    };
    for i in 0..400 {
        e.infer_json(&iris, &row(i, 0.0), &InferContext::new()).unwrap();
        clock.advance(Duration::from_millis(500));
    }
    e.fit_baseline(&iris, None, None, Default::default(), Default::default()).unwrap();
    m.put_rule_json(
        &json!({"ruleName": "model <drift>", "modelName": "iris", "alertType": "drift",
        "severity": "critical",
        "condition": {"metric": "adjustedPValue", "operator": "<", "threshold": 0.05}}),
    )
    .unwrap();
    m.tick().unwrap();
    for i in 0..300 {
        e.infer_json(&iris, &row(i, 3.0), &InferContext::new()).unwrap();
        clock.advance(Duration::from_millis(500));
    }
    clock.advance(Duration::from_secs(3600));
    let r = m.tick().unwrap();
    assert_eq!(r.fired.len(), 1);
    assert_eq!(r.retraining_requests.len(), 1);
    assert_eq!(r.retraining_requests[0].status, RetrainingStatus::PendingApproval);
    e.tick().unwrap();
    (clock, e, m)
}

#[test]
fn a_model_page_from_an_engine_run_shows_traffic_drift_the_alert_and_the_pending_request() {
    let (_clock, e, m) = monitored_engine();
    let query = HealthQuery { from: Some(Timestamp::from_millis(T0)), ..HealthQuery::default() };
    let health = ModelHealth::collect(&e, &"iris".parse().unwrap(), &query).unwrap();
    assert_eq!((health.model_name.as_str(), health.model_version.as_str()), ("iris", "1"));
    let requests: u64 = health.rollups.iter().map(|r| r.request_count).sum();
    assert_eq!(requests, 700);
    let drift = health.drift.as_ref().unwrap();
    assert!(drift.report.model.drifted);
    let petal = drift.report.features.iter().find(|f| f.feature_name == "input[2]").unwrap();
    assert!(petal.drifted);
    let all = m.alerts(&Default::default()).unwrap();
    assert_eq!(health.alerts.len(), 1, "{all:?} {:?} {:?}", health.from, health.to);
    assert_eq!(health.retraining.len(), 1);
    let pending = &health.retraining[0];
    assert_eq!(pending.status, RetrainingStatus::PendingApproval);

    let options = RenderOptions { actions: true, ..RenderOptions::default() };
    let html = render_model_page(std::slice::from_ref(&health), &options);
    assert_self_contained(&html);
    assert!(html.contains("<h2 id=\"he-iris-1-"), "the model's section");
    assert!(html.contains("Model iris:1"));
    assert!(
        html.contains("<title id=\"he-iris-1-") && html.contains("-rate-t\">Request rate</title>")
    );
    assert!(html.contains("Latency p50, p95 and p99"));
    assert!(html.contains("<dt>Requests</dt><dd>700</dd>"));
    assert!(html.contains("Alert timeline") && html.contains("model &lt;drift&gt;"));
    assert!(html.contains("▲ critical"));
    assert!(html.contains(&format!(
        "<button type=\"button\" data-action=\"approve\" data-kind=\"retraining\" data-id=\"{}\">",
        pending.id
    )));
    assert!(html.contains("data-action=\"reject\""));
    let alert_id = &health.alerts[0].id;
    assert!(html.contains(&format!(
        "data-action=\"acknowledge\" data-kind=\"alert\" data-id=\"{alert_id}\""
    )));
    assert!(html.contains(">input[2]</a>"), "the drifted feature links to its chart");

    // Without actions: no buttons. A section alone is a fragment.
    let plain = render_model_page(std::slice::from_ref(&health), &RenderOptions::default());
    assert!(!plain.contains("<button"));
    let section = render_model_section(&health, &options);
    assert!(
        section.starts_with("<section class=\"he-model he-report\"")
            && section.ends_with("</section>")
    );
    assert!(!section.contains("<html") && !section.contains("<style"));
    assert!(section.contains("data-model=\"iris\" data-version=\"1\""));

    // Acknowledged and approved: the buttons go.
    m.acknowledge(alert_id, "ana").unwrap();
    m.approve(&pending.id, "ana", None).unwrap();
    let after = ModelHealth::collect(&e, &"iris:1".parse().unwrap(), &query).unwrap();
    assert!(after.retraining.is_empty());
    let html = render_model_page(&[after], &options);
    assert!(!html.contains("<button"), "nothing left to act on");
    assert!(html.contains("yes, by ana"));
}

#[test]
fn the_collected_drift_view_equals_the_check_that_wrote_the_rows() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(T0)));
    let e = Engine::builder().clock(clock.clone()).tick_interval(None).build().unwrap();
    let reference: Vec<f64> = (0..1000).map(|i| u(i, 1)).collect();
    let other: Vec<f64> = (0..1000).map(|i| u(i, 2)).collect();
    let cats: Vec<Option<&str>> = (0..1000).map(|i| Some(["a", "b"][i % 2])).collect();
    let schema =
        [FeatureSchema::numeric("x"), FeatureSchema::numeric("y"), FeatureSchema::categorical("c")];
    let cols = [
        ("x", Column::Numeric(&reference)),
        ("y", Column::Numeric(&other)),
        ("c", Column::Categorical(&cats)),
    ];
    let b = Baseline::fit(&schema, &cols, BaselineConfig::default()).unwrap();
    let host: ModelRef = "host:7".parse().unwrap();
    e.set_baseline(&host, b, Default::default()).unwrap();
    let shifted: Vec<f64> = reference.iter().map(|v| v + 0.1).collect();
    let cur_cats: Vec<Option<&str>> =
        (0..1000).map(|i| Some(["a", "b"][usize::from(i % 3 == 0)])).collect();
    let current = [
        ("x", Column::Numeric(&shifted)),
        ("y", Column::Numeric(&other)),
        ("c", Column::Categorical(&cur_cats)),
    ];
    clock.advance(Duration::from_secs(60));
    let checked = e
        .check_drift(
            &host,
            CurrentData::Columns { columns: &current, labels: None },
            &Default::default(),
        )
        .unwrap();
    let health = ModelHealth::collect(&e, &host, &HealthQuery::default()).unwrap();
    let snapshot = health.drift.unwrap();
    // A host that keeps the rows itself rebuilds the same view from them, older checks and
    // row order notwithstanding.
    clock.advance(Duration::from_secs(60));
    let later = e
        .check_drift(
            &host,
            CurrentData::Columns { columns: &current, labels: None },
            &Default::default(),
        )
        .unwrap();
    let mut rows = checked.rows.clone();
    rows.extend(later.rows.iter().rev().cloned());
    let rebuilt = DriftSnapshot::from_rows(&rows, Correction::Holm).unwrap().unwrap();
    assert_eq!(rebuilt.timestamp, later.timestamp);
    assert_eq!(rebuilt.report.model, later.report.model);
    assert_eq!(DriftSnapshot::from_rows(&[], Correction::Holm).unwrap(), None);
    let mut mixed = rows.clone();
    mixed[0].model_version = "8".into();
    assert!(DriftSnapshot::from_rows(&mixed, Correction::Holm).is_err());
    assert_eq!(snapshot.timestamp, checked.timestamp);
    assert_eq!(snapshot.report.model, checked.report.model);
    assert_eq!(snapshot.report.features.len(), 3);
    for (a, b) in snapshot.report.features.iter().zip(&checked.report.features) {
        assert_eq!(
            (&a.feature_name, a.kind, a.drift_method, a.drifted, a.p_value, a.adjusted_p_value),
            (&b.feature_name, b.kind, b.drift_method, b.drifted, b.p_value, b.adjusted_p_value)
        );
        assert_eq!(
            (&a.baseline_summary, &a.current_summary),
            (&b.baseline_summary, &b.current_summary)
        );
    }
    assert_eq!(health.quality.unwrap().total_records, 1000);
    assert!(health.rollups.is_empty() && health.alerts.is_empty());
    let html = render_model_page(
        &[ModelHealth::collect(&e, &host, &HealthQuery::default()).unwrap()],
        &RenderOptions::default(),
    );
    assert_self_contained(&html);
    assert!(html.contains("No rollup in this range"));
}

#[test]
fn a_rate_chart_is_labelled_escaped_and_has_its_numbers_in_a_table() {
    use harper_edge_core::report::{RateRow, rate_chart, render_page};
    let rows = vec![
        RateRow { label: "none, n = 1000".into(), values: vec![Some((0.055, 0.031, 0.096)), None] },
        RateRow {
            label: "<b>shift</b>".into(),
            values: vec![Some((1.0, 0.981, 1.0)), Some((0.5, 0.4, 0.6))],
        },
    ];
    let chart =
        rate_chart("c1", "Power", "two rows", &["ours", "peer <x>"], &rows, Some((0.05, "α")));
    assert!(chart.contains(r#"role="img""#) && chart.contains(r#"aria-labelledby="c1-t""#));
    assert!(chart.contains("&lt;b&gt;shift&lt;/b&gt;") && !chart.contains("<b>shift</b>"));
    assert!(chart.contains("peer &lt;x&gt;"));
    assert!(chart.contains("<td>5.5 % (3.1 %–9.6 %)</td>"), "{chart}");
    assert!(chart.contains("<td>n/a</td>"));
    let page = render_page("Study", &chart, &RenderOptions::default());
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<title>Study</title>"));
    assert!(!page.contains("http://") && !page.contains("https://"));
}
