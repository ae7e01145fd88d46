//! The power study's plot in the report format: reads the counts `power.py` wrote
//! (`docs/data/drift-power.json`) and writes one self-contained HTML page with a rate chart
//! per feature kind — each tool's detection rate and its 95 % Wilson interval, per shift and
//! sample size, α marked — via `harper_edge_core::report`.
//!
//! `cargo run --release -p harper-edge-benches --bin drift_study_html -- [IN.json] [OUT.html]`
//! (defaults: docs/data/drift-power.json, docs/drift-study.html).
use std::fmt::Write as _;

use harper_edge_core::report::{RateRow, RenderOptions, rate_chart, render_page};
use serde_json::Value;

/// The 95 % Wilson interval of `k` successes in `n` trials.
#[allow(clippy::cast_precision_loss)]
fn wilson(k: u64, n: u64) -> (f64, f64, f64) {
    let (k, n) = (k as f64, n as f64);
    let z = 1.959_963_984_540_054;
    let p = k / n;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    (p, (centre - half).max(0.0), (centre + half).min(1.0))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let input = args.first().map_or("docs/data/drift-power.json", String::as_str);
    let output = args.get(1).map_or("docs/drift-study.html", String::as_str);
    let data: Value = serde_json::from_str(&std::fs::read_to_string(input)?)?;
    let shifts = data["shifts"].as_object().ok_or("no 'shifts' in the input")?;
    let sizes: Vec<u64> = data["sizes"]
        .as_array()
        .ok_or("no 'sizes' in the input")?
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    let tools = data["tools"].as_object().ok_or("no 'tools' in the input")?;
    let names: Vec<&str> = tools.keys().map(String::as_str).collect();
    // harper_edge first: it is the subject.
    let mut series: Vec<&str> = names.iter().copied().filter(|n| *n == "harper_edge").collect();
    series.extend(names.iter().copied().filter(|n| *n != "harper_edge"));

    let mut body = String::new();
    let _ = write!(
        body,
        "<p>Detection rate of each tool's default drift verdict on the same simulated data: the \
         share of {} trials per cell (fewer where the table says) in which the shifted feature \
         was flagged, with its 95&nbsp;% Wilson interval. On the rows marked \"none\" nothing \
         changed, so the rate is the false-positive rate; the dashed line is α = 5&nbsp;%. \
         Generated from <code>{}</code> (run {}); the method and the reading are in \
         docs/drift-calibration.md.</p>",
        data["trials"],
        escape(input),
        escape(data["date"].as_str().unwrap_or("?"))
    );
    for (kind, prefix) in [("Numeric feature", "num_"), ("Categorical feature", "cat_")] {
        let mut rows = Vec::new();
        // "none" (the false-positive rows) first, then the shifts.
        let mut keys: Vec<(&String, &Value)> =
            shifts.iter().filter(|(k, _)| k.starts_with(prefix)).collect();
        keys.sort_by_key(|(k, _)| !k.ends_with("_none"));
        for (key, label) in keys {
            for n in &sizes {
                let cell = format!("{key}@{n}");
                let values = series
                    .iter()
                    .map(|tool| {
                        let c = &tools[*tool]["cells"][&cell];
                        let (k, trials) = (c["drifted"].as_u64()?, c["trials"].as_u64()?);
                        (trials > 0).then(|| wilson(k, trials))
                    })
                    .collect();
                let label = label.as_str().unwrap_or(key).split(": ").last().unwrap_or(key);
                rows.push(RateRow { label: format!("{label}, n = {n}"), values });
            }
        }
        let title = format!("{kind}: detection rate by shift and rows per side");
        let desc = format!(
            "{} rows of shift and sample size; for each, the share of trials flagged by {}, \
             with 95 % intervals. The data table below the chart has every number.",
            rows.len(),
            series.join(", ")
        );
        let id = if prefix == "num_" { "power-numeric" } else { "power-categorical" };
        let _ = write!(body, "<h2>{kind}</h2>");
        body.push_str(&rate_chart(id, &title, &desc, &series, &rows, Some((0.05, "α = 5 %"))));
    }
    let html = render_page(
        "Drift verdicts: power against standard shifts",
        &body,
        &RenderOptions::default(),
    );
    std::fs::write(output, &html)?;
    eprintln!("wrote {output} ({} bytes)", html.len());
    Ok(())
}
