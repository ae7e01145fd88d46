//! The HTML of model pages, model sections and drift reports.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::chart::{self, Line, Mark};
use super::format::{
    count, escape, latency, num, p_value, percent, push_escaped, span, time, truncate,
};
use super::{ModelHealth, RenderOptions};
use crate::clock::Timestamp;
use crate::drift::check::{DistributionSummary, DriftReport, FeatureDrift};
use crate::drift::quality::DataQualityMetrics;
use crate::monitor::alert::{AlertStatus, Severity};
use crate::monitor::retrain::RetrainingStatus;
use crate::telemetry::{ModelMetrics, QuantileSketch};

/// The report's stylesheet. Every rule is scoped to `.he-report` (the documents' `<main>` and
/// each model `<section>`) and classes start with `he-`, so a host page (a dashboard, a
/// notebook cell) that embeds [`render_model_section`] fragments includes it once without
/// restyling anything else.
pub const STYLE: &str = ".he-report{font:14px/1.45 system-ui,sans-serif;color:#1d1d1d}\
main.he-report{max-width:1040px;margin:0 auto;padding:16px 20px}\
.he-report h1{font-size:22px}.he-report h2{font-size:19px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}.he-report h3{font-size:16px;margin-top:24px}\
.he-model{background:#fff;border:1px solid #ddd;border-radius:6px;padding:4px 18px 18px;margin:18px 0}\
.he-summary{display:flex;flex-wrap:wrap;gap:8px 28px;margin:8px 0;padding:0}.he-summary div{min-width:120px}.he-summary dt{font-size:12px;color:#555}.he-summary dd{margin:0;font-size:17px;font-weight:600}\
.he-chart{margin:10px 0 18px}.he-data summary,.he-more summary{cursor:pointer;color:#0b5394;font-size:13px}\
.he-report table{border-collapse:collapse;font-size:13px;margin:6px 0}.he-report th,.he-report td{padding:3px 9px;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}\
.he-report .n{text-align:right;font-variant-numeric:tabular-nums}.he-report thead th{background:#f1f1f1}.he-report th[data-col]{cursor:pointer}\
.he-report tr.he-bad th,.he-report tr.he-bad td{background:#fff3ed}.he-bad-text{color:#a63a00;font-weight:600}.he-ok-text{color:#1b6e3a}\
.he-note{color:#555;font-size:13px}.he-verdict{font-size:15px;padding:6px 10px;border-left:4px solid #888;background:#f4f4f4}\
.he-verdict.he-bad{border-color:#D55E00}.he-report button[data-action]{font:inherit;font-size:12px;margin:0 4px 0 0}";

/// The report's script: sorts a table by a clicked (or Enter-pressed) header, numbers by
/// their `data-v`. The report reads the same without it.
pub const SCRIPT: &str = "document.querySelectorAll('.he-report th[data-col]').forEach(function(h){h.tabIndex=0;\
function s(){var t=h.closest('table'),b=t.tBodies[0],i=+h.dataset.col,d=h.getAttribute('aria-sort')==='ascending'?-1:1;\
t.querySelectorAll('th[data-col]').forEach(function(o){o.removeAttribute('aria-sort')});h.setAttribute('aria-sort',d>0?'ascending':'descending');\
Array.from(b.rows).sort(function(x,y){var a=x.cells[i],c=y.cells[i],p=a.dataset.v,q=c.dataset.v;\
return d*(p!==undefined&&q!==undefined?p-q:a.textContent.localeCompare(c.textContent))}).forEach(function(r){b.appendChild(r)})}\
h.addEventListener('click',s);h.addEventListener('keydown',function(e){if(e.key==='Enter')s()})});";

/// A self-contained document around `body` (HTML the caller built — e.g. from
/// [`super::rate_chart`] figures — and is responsible for escaping): the report's stylesheet,
/// a `<main class="he-report">` with `title` as its heading, and the sorting script when
/// `options.script`.
pub fn render_page(title: &str, body: &str, options: &RenderOptions) -> String {
    document(title, "", body, options)
}

fn document(title: &str, intro: &str, body: &str, options: &RenderOptions) -> String {
    let mut out = String::with_capacity(body.len() + STYLE.len() + SCRIPT.len() + 512);
    out.push_str("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>");
    push_escaped(&mut out, title);
    out.push_str("</title><style>body{margin:0;background:#fafafa}");
    out.push_str(STYLE);
    out.push_str("</style></head><body><main class=\"he-report\"><h1>");
    push_escaped(&mut out, title);
    out.push_str("</h1>");
    out.push_str(intro);
    out.push_str(body);
    out.push_str("</main>");
    if options.script {
        out.push_str("<script>");
        out.push_str(SCRIPT);
        out.push_str("</script>");
    }
    out.push_str("</body></html>\n");
    out
}

/// A self-contained HTML document of the health of `models` (one section each, in order,
/// with a table of contents when there are several).
///
/// # Examples
///
/// See [`super::ModelHealth::collect`].
pub fn render_model_page(models: &[ModelHealth], options: &RenderOptions) -> String {
    let title = options.title.as_deref().unwrap_or("harper-edge report");
    let mut intro = String::new();
    if let Some(newest) = models.iter().map(|m| m.generated_at).max() {
        let _ = write!(intro, "<p class=\"he-note\">Generated {}.</p>", time(newest));
    }
    if models.is_empty() {
        intro.push_str("<p>No model to report.</p>");
    }
    if models.len() > 1 {
        intro.push_str("<nav aria-label=\"Models\"><ul>");
        for m in models {
            let _ = write!(
                intro,
                "<li><a href=\"#{}\">{}</a></li>",
                section_id(m),
                escape(&format!("{}:{}", m.model_name, m.model_version))
            );
        }
        intro.push_str("</ul></nav>");
    }
    let body: String = models.iter().map(|m| render_model_section(m, options)).collect();
    document(title, &intro, &body, options)
}

fn section_id(m: &ModelHealth) -> String {
    chart::chart_id(&[&m.model_name, &m.model_version])
}

/// One model's `<section class="he-model he-report">` (a fragment: no document shell, no style, no
/// script), for a host page that includes [`STYLE`] (and optionally [`SCRIPT`]) itself.
/// Ids inside are derived from the model name and version, so sections of different models
/// can share a page.
pub fn render_model_section(health: &ModelHealth, options: &RenderOptions) -> String {
    let id = section_id(health);
    let name = format!("{}:{}", health.model_name, health.model_version);
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<section class=\"he-model he-report\" id=\"{id}\" aria-labelledby=\"{id}-h\" data-model=\"{}\" data-version=\"{}\"><h2 id=\"{id}-h\">Model {}</h2>",
        escape(&health.model_name),
        escape(&health.model_version),
        escape(&name)
    );
    let _ = write!(
        out,
        "<p class=\"he-note\">From {} to {}, {} periods; collected {}.</p>",
        time(health.from),
        time(health.to),
        span(health.granularity.millis()),
        time(health.generated_at)
    );
    summary(&mut out, health);
    out.push_str("<h3>Traffic</h3>");
    traffic(&mut out, &id, health, options);
    out.push_str("<h3>Drift</h3>");
    match &health.drift {
        Some(d) => {
            let _ = write!(out, "<p class=\"he-note\">Newest check: {}.</p>", time(d.timestamp));
            if let Some(c) = &d.concept {
                let _ = write!(
                    out,
                    "<p>Concept drift (accuracy drop {}, threshold {}): {}.</p>",
                    num(c.drift_score),
                    c.threshold.map_or_else(|| "–".into(), num),
                    verdict(c.drifted)
                );
            }
            drift_body(&mut out, &id, &d.report, options, 4);
        }
        None => out.push_str("<p>No drift check yet.</p>"),
    }
    out.push_str("<h3>Data quality</h3>");
    match &health.quality {
        Some(q) => quality(&mut out, q, options),
        None => out.push_str("<p>No data-quality check yet.</p>"),
    }
    out.push_str("<h3>Alerts</h3>");
    alerts(&mut out, &id, health, options);
    out.push_str("<h3>Retraining requests waiting for approval</h3>");
    retraining(&mut out, health, options);
    out.push_str("</section>");
    out
}

/// A self-contained HTML document of a drift result without a model (e.g. the CLI's
/// `drift` command): the verdicts, the drift table, the features' charts and, when given,
/// the data quality of the same data.
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::baseline::{Baseline, BaselineConfig, Column, FeatureSchema};
/// use harper_edge_core::drift::check::{check, DriftConfig};
/// use harper_edge_core::report::{render_drift_report, RenderOptions};
///
/// let reference: Vec<f64> = (0..500).map(f64::from).collect();
/// let b = Baseline::fit(&[FeatureSchema::numeric("amount")], &[("amount", Column::Numeric(&reference))], BaselineConfig::default())?;
/// let shifted: Vec<f64> = (250..750).map(f64::from).collect();
/// let report = check(&b, &[("amount", Column::Numeric(&shifted))], &DriftConfig::default())?;
/// let html = render_drift_report(&report, None, &RenderOptions::default());
/// assert!(html.contains("amount") && html.contains("▲ drifted"));
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn render_drift_report(
    report: &DriftReport,
    quality: Option<&DataQualityMetrics>,
    options: &RenderOptions,
) -> String {
    let title = options.title.as_deref().unwrap_or("harper-edge drift report");
    let mut body = String::with_capacity(64 * 1024);
    drift_content(&mut body, report, quality, options);
    let intro = quality.map_or_else(String::new, |q| {
        format!("<p class=\"he-note\">Checked {}.</p>", time(q.timestamp))
    });
    document(title, &intro, &body, options)
}

/// A drift result as a `<section class="he-drift he-report">` fragment (no document shell,
/// style or script): what [`render_drift_report`] shows, for a host page or a notebook cell
/// that includes [`STYLE`] itself.
pub fn render_drift_section(
    report: &DriftReport,
    quality: Option<&DataQualityMetrics>,
    options: &RenderOptions,
) -> String {
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("<section class=\"he-drift he-report\" aria-label=\"Drift report\">");
    drift_content(&mut out, report, quality, options);
    out.push_str("</section>");
    out
}

fn drift_content(
    out: &mut String,
    report: &DriftReport,
    quality: Option<&DataQualityMetrics>,
    options: &RenderOptions,
) {
    out.push_str("<h2>Drift</h2>");
    drift_body(out, "he-drift", report, options, 3);
    if let Some(q) = quality {
        out.push_str("<h2>Data quality</h2>");
        self::quality(out, q, options);
    }
}

fn verdict(drifted: bool) -> &'static str {
    if drifted {
        "<span class=\"he-bad-text\">▲ drifted</span>"
    } else {
        "<span class=\"he-ok-text\">✓ no drift</span>"
    }
}

/// The key figures of a model over the range.
fn summary(out: &mut String, h: &ModelHealth) {
    let requests: u64 = h.rollups.iter().map(|r| r.request_count).sum();
    let errors: u64 = h.rollups.iter().map(|r| r.error_count).sum();
    let p95 = merged_sketch(&h.rollups).and_then(|s| s.quantile(0.95));
    let firing = h.alerts.iter().filter(|a| a.status == AlertStatus::Firing).count();
    out.push_str("<dl class=\"he-summary\">");
    let mut item = |k: &str, v: String| {
        let _ = write!(out, "<div><dt>{k}</dt><dd>{v}</dd></div>");
    };
    item("Requests", count(requests));
    item(
        "Error rate",
        if requests == 0 { "–".into() } else { percent(errors as f64 / requests as f64) },
    );
    item("p95 latency", p95.map_or_else(|| "–".into(), latency));
    item(
        "Drift",
        h.drift
            .as_ref()
            .map_or_else(|| "not checked".into(), |d| verdict(d.report.model.drifted).to_string()),
    );
    item("Alerts firing", count(firing as u64));
    item("Pending retraining", count(h.retraining.len() as u64));
    out.push_str("</dl>");
}

fn merged_sketch(rows: &[ModelMetrics]) -> Option<QuantileSketch> {
    let mut s = QuantileSketch::new(QuantileSketch::DEFAULT_ALPHA).ok()?;
    for r in rows {
        s.merge(&r.latency_sketch).ok()?;
    }
    (!s.is_empty()).then_some(s)
}

/// One point of the traffic charts: consecutive rollups merged.
struct Point {
    start: i64,
    rate: f64,
    error_rate: Option<f64>,
    p50: Option<f64>,
    p95: Option<f64>,
    p99: Option<f64>,
}

fn thin(rows: &[ModelMetrics], max_points: usize) -> (Vec<Point>, usize) {
    let k = rows.len().div_ceil(max_points.max(1)).max(1);
    let points = rows
        .chunks(k)
        .map(|chunk| {
            let start = chunk[0].period_start.as_millis();
            let end = chunk[chunk.len() - 1].period_end.as_millis();
            let requests: u64 = chunk.iter().map(|r| r.request_count).sum();
            let errors: u64 = chunk.iter().map(|r| r.error_count).sum();
            let (p50, p95, p99) = if k == 1 {
                (chunk[0].p50_latency, chunk[0].p95_latency, chunk[0].p99_latency)
            } else {
                merged_sketch(chunk).map_or((None, None, None), |s| {
                    (s.quantile(0.5), s.quantile(0.95), s.quantile(0.99))
                })
            };
            Point {
                start,
                rate: requests as f64 / ((end - start).max(1) as f64 / 1000.0),
                error_rate: (requests > 0).then(|| errors as f64 / requests as f64),
                p50,
                p95,
                p99,
            }
        })
        .collect();
    (points, k)
}

/// Min, mean and max of some values, with the time of the max, in words.
fn in_words(xs: &[i64], values: &[Option<f64>], unit: &dyn Fn(f64) -> String) -> String {
    let present: Vec<(i64, f64)> =
        xs.iter().zip(values).filter_map(|(&t, v)| v.map(|v| (t, v))).collect();
    if present.is_empty() {
        return "no values".into();
    }
    let min = present.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let mean = present.iter().map(|p| p.1).sum::<f64>() / present.len() as f64;
    let (at, max) =
        present.iter().copied().fold((0, f64::NEG_INFINITY), |a, p| if p.1 > a.1 { p } else { a });
    format!(
        "lowest {}, mean {}, highest {} (period from {})",
        unit(min),
        unit(mean),
        unit(max),
        time(Timestamp::from_millis(at))
    )
}

fn traffic(out: &mut String, id: &str, h: &ModelHealth, options: &RenderOptions) {
    if h.rollups.is_empty() {
        out.push_str("<p>No rollup in this range (no calls, or not yet ticked).</p>");
        return;
    }
    let (points, k) = thin(&h.rollups, options.max_points);
    let period = h.granularity.millis() * k as i64;
    let xs: Vec<i64> = points.iter().map(|p| p.start).collect();
    let range =
        format!("{} to {}, {} points of {}", time(h.from), time(h.to), points.len(), span(period));
    if k > 1 {
        let _ = write!(
            out,
            "<p class=\"he-note\">{} rollup rows shown as {} points of {} each (consecutive periods merged).</p>",
            count(h.rollups.len() as u64),
            points.len(),
            span(period)
        );
    }
    let gap = period * 3 / 2;
    let rate_unit = |v: f64| format!("{}/s", num(v));
    let rates: Vec<Option<f64>> = points.iter().map(|p| Some(p.rate)).collect();
    out.push_str(&chart::time_series(
        &format!("{id}-rate"),
        "Request rate",
        &format!("Requests per second, {range}: {}.", in_words(&xs, &rates, &rate_unit)),
        &xs,
        &[Line { name: "requests per second", values: rates }],
        &rate_unit,
        gap,
    ));
    let errors: Vec<Option<f64>> = points.iter().map(|p| p.error_rate).collect();
    out.push_str(&chart::time_series(
        &format!("{id}-errors"),
        "Error rate",
        &format!("Share of failed calls, {range}: {}.", in_words(&xs, &errors, &percent)),
        &xs,
        &[Line { name: "error rate", values: errors }],
        &percent,
        gap,
    ));
    let p50: Vec<Option<f64>> = points.iter().map(|p| p.p50).collect();
    let p95: Vec<Option<f64>> = points.iter().map(|p| p.p95).collect();
    let p99: Vec<Option<f64>> = points.iter().map(|p| p.p99).collect();
    let desc = format!(
        "Latency percentiles in milliseconds, {range}. p50 (solid line, circles): {}. p95 (dashed, squares): {}. p99 (dotted, triangles): {}.",
        in_words(&xs, &p50, &latency),
        in_words(&xs, &p95, &latency),
        in_words(&xs, &p99, &latency)
    );
    out.push_str(&chart::time_series(
        &format!("{id}-latency"),
        "Latency p50, p95 and p99",
        &desc,
        &xs,
        &[
            Line { name: "p50", values: p50 },
            Line { name: "p95", values: p95 },
            Line { name: "p99", values: p99 },
        ],
        &latency,
        gap,
    ));
}

/// A table cell's escaped text and its `data-v` sort attribute.
fn opt(v: Option<f64>, f: fn(f64) -> String) -> (String, String) {
    match v {
        Some(x) => (escape(&f(x)), format!(" data-v=\"{x:e}\"")),
        None => ("–".into(), String::new()),
    }
}

fn header(out: &mut String, cols: &[(&str, bool)]) {
    out.push_str("<thead><tr>");
    for (i, (c, numeric)) in cols.iter().enumerate() {
        let _ = write!(
            out,
            "<th scope=\"col\" data-col=\"{i}\"{}>{c}</th>",
            if *numeric { " class=\"n\"" } else { "" }
        );
    }
    out.push_str("</tr></thead>");
}

/// The model verdict, the drift table and the feature charts; `level` is the heading level
/// of the parts.
fn drift_body(out: &mut String, id: &str, r: &DriftReport, options: &RenderOptions, level: u8) {
    let m = &r.model;
    let _ = write!(
        out,
        "<p class=\"he-verdict{}\">Model verdict: {}. {} of {} tested features significant after {} correction at α = {}",
        if m.drifted { " he-bad" } else { "" },
        verdict(m.drifted),
        count(m.rejected),
        count(m.tested),
        m.correction,
        num(m.alpha)
    );
    if let Some(p) = m.min_adjusted_p_value {
        let _ = write!(out, " (smallest adjusted p-value {})", escape(&p_value(p)));
    }
    let _ = write!(
        out,
        "; {} distance-method features drifted. {} of {} features drifted at their own threshold ({}).</p>",
        count(m.distance_drifted),
        count(r.drifted_count),
        count(r.features.len() as u64),
        percent(r.drifted_share)
    );
    if r.features.is_empty() {
        out.push_str("<p>No feature was checked.</p>");
        return;
    }
    let charted = charted_features(r, options);
    let _ = write!(out, "<h{level}>Features, drifted first, by score</h{level}>");
    out.push_str("<table class=\"he-drift\">");
    header(
        out,
        &[
            ("feature", false),
            ("kind", false),
            ("method", false),
            ("statistic", true),
            ("p-value", true),
            ("adjusted p-value", true),
            ("threshold", true),
            ("verdict", false),
        ],
    );
    out.push_str("<tbody>");
    let shown = r.features.len().min(options.max_table_rows);
    for (i, f) in r.features[..shown].iter().enumerate() {
        let (p, pv) = opt(f.p_value, p_value);
        let (a, av) = opt(f.adjusted_p_value, p_value);
        let name = escape(&f.feature_name);
        let name =
            if charted.contains(&i) { format!("<a href=\"#{id}-f{i}\">{name}</a>") } else { name };
        let _ = write!(
            out,
            "<tr{}><th scope=\"row\">{name}</th><td>{}</td><td>{}</td><td class=\"n\" data-v=\"{:e}\">{}</td><td class=\"n\"{pv}>{p}</td><td class=\"n\"{av}>{a}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            if f.drifted { " class=\"he-bad\"" } else { "" },
            f.kind.as_str(),
            f.drift_method,
            f.drift_score,
            num(f.drift_score),
            if f.drift_method.uses_p_value() {
                format!("p &lt; {}", num(f.threshold))
            } else {
                format!("score &gt; {}", num(f.threshold))
            },
            verdict(f.drifted)
        );
    }
    out.push_str("</tbody></table>");
    if shown < r.features.len() {
        let _ = write!(
            out,
            "<p class=\"he-note\">{} more features not listed (the table shows the first {}; none of them drifted unless the count above says more).</p>",
            count((r.features.len() - shown) as u64),
            count(shown as u64)
        );
    }
    let drifted_charted = charted.iter().filter(|&&i| r.features[i].drifted).count();
    if drifted_charted > 0 {
        let _ = write!(out, "<h{level}>Drifted features: baseline and current</h{level}>");
    }
    let mut stable_open = false;
    for &i in &charted {
        let f = &r.features[i];
        if !f.drifted && !stable_open {
            let _ = write!(
                out,
                "<details class=\"he-more\"><summary>Highest-scoring features without drift</summary>"
            );
            stable_open = true;
        }
        feature_chart(out, &format!("{id}-f{i}"), f, options);
    }
    if stable_open {
        out.push_str("</details>");
    }
    let left_out = r.drifted_count as usize - drifted_charted;
    if left_out > 0 {
        let _ = write!(
            out,
            "<p class=\"he-note\">{} drifted features have no chart (at most {} charts); see the table.</p>",
            count(left_out as u64),
            options.max_feature_charts
        );
    }
}

/// Indices of the features that get a chart: drifted ones, then the top stable ones.
fn charted_features(r: &DriftReport, options: &RenderOptions) -> BTreeSet<usize> {
    let max = options.max_feature_charts;
    let drifted = (0..r.features.len()).filter(|&i| r.features[i].drifted).take(max);
    let mut out: BTreeSet<usize> = drifted.collect();
    let room = max.saturating_sub(out.len()).min(options.stable_feature_charts);
    out.extend((0..r.features.len()).filter(|&i| !r.features[i].drifted).take(room));
    out
}

fn feature_chart(out: &mut String, id: &str, f: &FeatureDrift, options: &RenderOptions) {
    let head = format!(
        "{} ({}, {} {}{})",
        f.feature_name,
        f.kind.as_str(),
        f.drift_method,
        num(f.drift_score),
        f.p_value.map_or_else(String::new, |p| format!(", p-value {}", p_value(p)))
    );
    let _ = write!(out, "<div id=\"{id}\">");
    match (&f.baseline_summary, &f.current_summary) {
        (
            DistributionSummary::Numeric {
                bin_proportions: b, bin_edges, mean: bm, sd: bs, ..
            },
            DistributionSummary::Numeric { bin_proportions: c, mean: cm, sd: cs, .. },
        ) => {
            let n = b.len().max(c.len());
            let labels: Vec<String> = (0..n)
                .map(|i| {
                    if bin_edges.len() + 1 != n {
                        format!("bin {}", i + 1)
                    } else if n == 1 {
                        "all".into()
                    } else if i == 0 {
                        format!("≤ {}", num(bin_edges[0]))
                    } else if i == n - 1 {
                        format!("> {}", num(bin_edges[n - 2]))
                    } else {
                        format!("({}, {}]", num(bin_edges[i - 1]), num(bin_edges[i]))
                    }
                })
                .collect();
            let (mut worst, mut delta) = (0, -1.0);
            for i in 0..n {
                let d = (b.get(i).copied().unwrap_or(0.0) - c.get(i).copied().unwrap_or(0.0)).abs();
                if d > delta {
                    (worst, delta) = (i, d);
                }
            }
            let desc = format!(
                "Share of rows per bin of the baseline, baseline and current, for {head}: {}. Largest change in bin {}: baseline {}, current {}. Mean {} (sd {}) in the baseline, {} (sd {}) now.",
                if f.drifted { "drifted" } else { "no drift" },
                labels.get(worst).map_or("–", String::as_str),
                percent(b.get(worst).copied().unwrap_or(0.0)),
                percent(c.get(worst).copied().unwrap_or(0.0)),
                num(*bm),
                num(*bs),
                num(*cm),
                num(*cs)
            );
            out.push_str(&chart::histogram(id, &head, &desc, &labels, b, c));
        }
        (
            DistributionSummary::Categorical { counts: b, .. },
            DistributionSummary::Categorical { counts: c, .. },
        ) => {
            let rows = fold_categories(b, c, options.max_categories);
            let (worst, _) = rows.iter().enumerate().fold((0, -1.0), |acc, (i, r)| {
                let d = (r.1 - r.2).abs();
                if d > acc.1 { (i, d) } else { acc }
            });
            let desc = match rows.get(worst) {
                Some((name, bs, cs)) => format!(
                    "Share of rows per category, baseline and current, for {head}: {}. {} categories shown. Largest change: {name}, baseline {}, current {}.",
                    if f.drifted { "drifted" } else { "no drift" },
                    rows.len(),
                    percent(*bs),
                    percent(*cs)
                ),
                None => format!("No category counted for {head}."),
            };
            out.push_str(&chart::category_bars(id, &head, &desc, &rows));
        }
        _ => {
            let _ = write!(
                out,
                "<p>{}: the baseline and current summaries are of different kinds.</p>",
                escape(&head)
            );
        }
    }
    out.push_str("</div>");
}

/// Category shares of both sides, the `max` largest (by the larger side) and the rest as
/// "other (N categories)".
fn fold_categories(
    b: &BTreeMap<String, u64>,
    c: &BTreeMap<String, u64>,
    max: usize,
) -> Vec<(String, f64, f64)> {
    let total = |m: &BTreeMap<String, u64>| m.values().sum::<u64>().max(1) as f64;
    let (tb, tc) = (total(b), total(c));
    let names: BTreeSet<&String> = b.keys().chain(c.keys()).collect();
    let mut rows: Vec<(String, f64, f64)> = names
        .into_iter()
        .map(|n| {
            let share =
                |m: &BTreeMap<String, u64>, t: f64| m.get(n).copied().unwrap_or(0) as f64 / t;
            (n.clone(), share(b, tb), share(c, tc))
        })
        .collect();
    rows.sort_by(|x, y| y.1.max(y.2).total_cmp(&x.1.max(x.2)).then_with(|| x.0.cmp(&y.0)));
    let max = max.max(2);
    if rows.len() > max {
        let rest = rows.split_off(max - 1);
        let (sb, sc) = rest.iter().fold((0.0, 0.0), |a, r| (a.0 + r.1, a.1 + r.2));
        rows.push((format!("other ({} categories)", count(rest.len() as u64)), sb, sc));
    }
    rows
}

fn quality(out: &mut String, q: &DataQualityMetrics, options: &RenderOptions) {
    let _ = write!(
        out,
        "<p>{} rows checked at {}; {} with a schema violation or a missing column ({}).</p>",
        count(q.total_records),
        time(q.timestamp),
        count(q.schema_violations),
        percent(if q.total_records == 0 {
            0.0
        } else {
            q.schema_violations as f64 / q.total_records as f64
        })
    );
    let names: BTreeSet<&String> = q
        .null_rates
        .keys()
        .chain(q.outlier_counts.keys())
        .chain(q.range_violations.keys())
        .chain(q.unknown_categories.keys())
        .collect();
    let affected = |n: &String| {
        q.null_rates.get(n).is_some_and(|r| *r > 0.0)
            || [&q.outlier_counts, &q.range_violations, &q.unknown_categories]
                .iter()
                .any(|m| m.get(n).is_some_and(|c| *c > 0))
    };
    let mut names: Vec<&String> = names.into_iter().collect();
    names.sort_by_key(|n| !affected(n));
    let n_affected = names.iter().filter(|n| affected(n)).count();
    let _ = write!(
        out,
        "<p>{} of {} features have nulls, outliers, range violations or unknown categories.</p>",
        count(n_affected as u64),
        count(names.len() as u64)
    );
    if names.is_empty() {
        return;
    }
    out.push_str("<table class=\"he-quality\">");
    header(
        out,
        &[
            ("feature", false),
            ("null rate", true),
            ("outliers", true),
            ("range violations", true),
            ("unknown categories", true),
        ],
    );
    out.push_str("<tbody>");
    let shown = names.len().min(options.max_table_rows);
    let cell = |m: &BTreeMap<String, u64>, n: &String| match m.get(n) {
        Some(c) => format!("<td class=\"n\" data-v=\"{c}\">{}</td>", count(*c)),
        None => "<td class=\"n\">–</td>".into(),
    };
    for n in &names[..shown] {
        let _ = write!(
            out,
            "<tr{}><th scope=\"row\">{}</th>{}{}{}{}</tr>",
            if affected(n) { " class=\"he-bad\"" } else { "" },
            escape(n),
            match q.null_rates.get(*n) {
                Some(r) => format!("<td class=\"n\" data-v=\"{r:e}\">{}</td>", percent(*r)),
                None => "<td class=\"n\">–</td>".into(),
            },
            cell(&q.outlier_counts, n),
            cell(&q.range_violations, n),
            cell(&q.unknown_categories, n)
        );
    }
    out.push_str("</tbody></table>");
    if shown < names.len() {
        let _ = write!(
            out,
            "<p class=\"he-note\">{} more features without any issue not listed.</p>",
            count((names.len() - shown) as u64)
        );
    }
}

fn severity(s: Severity) -> (usize, &'static str) {
    match s {
        Severity::Critical => (0, "▲ critical"),
        Severity::Warning => (1, "◆ warning"),
        Severity::Info => (2, "● info"),
    }
}

fn button(action: &str, kind: &str, id: &str, label: &str) -> String {
    format!(
        "<button type=\"button\" data-action=\"{action}\" data-kind=\"{kind}\" data-id=\"{}\">{label}</button>",
        escape(id)
    )
}

fn alerts(out: &mut String, id: &str, h: &ModelHealth, options: &RenderOptions) {
    if h.alerts.is_empty() {
        out.push_str("<p>No alert fired in this range.</p>");
        return;
    }
    let columns = ["fired (UTC)", "severity", "rule", "message", "status", "acknowledged"];
    let mut marks: Vec<Mark> = h
        .alerts
        .iter()
        .map(|a| {
            let (lane, sev) = severity(a.severity);
            let status = match (a.status, a.resolved_at) {
                (AlertStatus::Resolved, Some(t)) => format!("resolved {}", time(t)),
                (s, _) => s.as_str().to_string(),
            };
            Mark {
                lane,
                at: a.timestamp.as_millis(),
                until: a.resolved_at.map(Timestamp::as_millis),
                label: format!("{sev} at {}: {} — {}", time(a.timestamp), a.rule_name, a.message),
                row: vec![
                    time(a.timestamp),
                    sev.to_string(),
                    a.rule_name.clone(),
                    a.message.clone(),
                    status,
                    if a.acknowledged {
                        format!("yes, by {}", a.acknowledged_by.as_deref().unwrap_or("–"))
                    } else {
                        "no".into()
                    },
                ],
            }
        })
        .collect();
    marks.sort_by_key(|m| m.at);
    let by_sev = |lane: usize| marks.iter().filter(|m| m.lane == lane).count() as u64;
    let desc = format!(
        "{} alerts from {} to {}: {} critical, {} warning, {} info; {} still firing.",
        count(marks.len() as u64),
        time(h.from),
        time(h.to),
        count(by_sev(0)),
        count(by_sev(1)),
        count(by_sev(2)),
        count(h.alerts.iter().filter(|a| a.status == AlertStatus::Firing).count() as u64)
    );
    out.push_str(&chart::alert_timeline(
        &format!("{id}-alerts"),
        "Alert timeline",
        &desc,
        h.from.as_millis(),
        h.to.as_millis(),
        &marks,
        &columns,
    ));
    out.push_str("<table class=\"he-alerts\">");
    let mut cols: Vec<(&str, bool)> = columns.iter().map(|h| (*h, false)).collect();
    if options.actions {
        cols.push(("actions", false));
    }
    header(out, &cols);
    out.push_str("<tbody>");
    for a in &h.alerts {
        let (_, sev) = severity(a.severity);
        let _ = write!(
            out,
            "<tr{}><td data-v=\"{}\">{}</td><td>{sev}</td><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td>",
            if a.status == AlertStatus::Firing { " class=\"he-bad\"" } else { "" },
            a.timestamp.as_millis(),
            time(a.timestamp),
            escape(&a.rule_name),
            escape(&a.message),
            a.status.as_str(),
            if a.acknowledged {
                format!("yes, by {}", escape(a.acknowledged_by.as_deref().unwrap_or("–")))
            } else {
                "no".into()
            }
        );
        if options.actions {
            out.push_str("<td>");
            if !a.acknowledged {
                out.push_str(&button("acknowledge", "alert", &a.id, "Acknowledge"));
            }
            out.push_str("</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

fn retraining(out: &mut String, h: &ModelHealth, options: &RenderOptions) {
    if h.retraining.is_empty() {
        out.push_str("<p>None.</p>");
        return;
    }
    out.push_str("<table class=\"he-retraining\">");
    let mut cols = vec![
        ("requested (UTC)", false),
        ("version", false),
        ("reason", false),
        ("requested by", false),
        ("safety checks", false),
        ("id", false),
    ];
    if options.actions {
        cols.push(("actions", false));
    }
    header(out, &cols);
    out.push_str("<tbody>");
    for r in &h.retraining {
        let passed = r.safety_checks.iter().filter(|c| c.passed).count();
        let _ = write!(
            out,
            "<tr><td data-v=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} of {} passed</td><th scope=\"row\">{}</th>",
            r.requested_at.as_millis(),
            time(r.requested_at),
            escape(&r.model_version),
            r.trigger_reason.as_str().replace('_', " "),
            escape(r.requested_by.as_deref().unwrap_or("monitor")),
            passed,
            r.safety_checks.len(),
            escape(&truncate(&r.id, 48))
        );
        if options.actions {
            out.push_str("<td>");
            if r.status == RetrainingStatus::PendingApproval {
                out.push_str(&button("approve", "retraining", &r.id, "Approve"));
                out.push_str(&button("reject", "retraining", &r.id, "Reject"));
            }
            out.push_str("</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}
