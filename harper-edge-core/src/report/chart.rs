//! Hand-written SVG charts: time series, overlaid histograms, grouped category bars and an
//! alert timeline. Every chart is a `<figure>` holding an `<svg role="img">` labelled by its
//! `<title>` and described by its `<desc>` (the numbers in words), and a `<details>` data
//! table with the plotted numbers. Series differ by dash pattern and marker shape as well as
//! colour (Okabe–Ito palette); presentation is in attributes, so a chart needs no stylesheet.

use std::fmt::Write;

use super::format::{push_escaped, tick_time, truncate};
use crate::clock::Timestamp;

const WIDTH: f64 = 720.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 34.0;
const AXIS: &str = "#555";
const GRID: &str = "#e3e3e3";

/// Colour, dash pattern and marker of the `i`-th series.
const STYLES: [(&str, &str, Marker); 4] = [
    ("#0072B2", "", Marker::Circle),
    ("#D55E00", "7 4", Marker::Square),
    ("#009E73", "2 3", Marker::Triangle),
    ("#CC79A7", "10 3 2 3", Marker::Diamond),
];

/// A point's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
}

impl Marker {
    fn draw(self, out: &mut String, x: f64, y: f64, r: f64, fill: &str) {
        let _ = match self {
            Marker::Circle => {
                write!(out, r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r:.1}" fill="{fill}"/>"#)
            }
            Marker::Square => write!(
                out,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{fill}"/>"#,
                x - r,
                y - r,
                2.0 * r,
                2.0 * r
            ),
            Marker::Triangle => write!(
                out,
                r#"<path d="M{x:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z" fill="{fill}"/>"#,
                y - r * 1.2,
                x + r * 1.1,
                y + r * 0.8,
                x - r * 1.1,
                y + r * 0.8
            ),
            Marker::Diamond => write!(
                out,
                r#"<path d="M{x:.1} {:.1}L{:.1} {y:.1}L{x:.1} {:.1}L{:.1} {y:.1}Z" fill="{fill}"/>"#,
                y - r * 1.3,
                x + r * 1.1,
                y + r * 1.3,
                x - r * 1.1
            ),
        };
    }
}

/// The opening of a labelled chart: `<figure>`, `<svg>` with title and description.
fn open(out: &mut String, id: &str, height: f64, title: &str, desc: &str) {
    let _ = write!(
        out,
        r#"<figure class="he-chart"><svg id="{id}" role="img" aria-labelledby="{id}-t" aria-describedby="{id}-d" viewBox="0 0 {WIDTH} {height}" width="100%" style="max-width:{WIDTH}px" font-family="system-ui,sans-serif" font-size="11"><title id="{id}-t">"#
    );
    push_escaped(out, title);
    let _ = write!(out, r#"</title><desc id="{id}-d">"#);
    push_escaped(out, desc);
    out.push_str("</desc>");
}

/// The closing of a chart and its data table (`header` cells, then rows of cells, all
/// escaped here).
fn close(out: &mut String, title: &str, header: &[&str], rows: &[Vec<String>]) {
    out.push_str("</svg><details class=\"he-data\"><summary>Data table: ");
    push_escaped(out, title);
    out.push_str("</summary><table><thead><tr>");
    for h in header {
        out.push_str("<th scope=\"col\">");
        push_escaped(out, h);
        out.push_str("</th>");
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            out.push_str(if i == 0 { "<th scope=\"row\">" } else { "<td>" });
            push_escaped(out, cell);
            out.push_str(if i == 0 { "</th>" } else { "</td>" });
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></details></figure>");
}

fn text(out: &mut String, x: f64, y: f64, anchor: &str, s: &str) {
    let _ = write!(out, r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}" fill="{AXIS}">"#);
    push_escaped(out, s);
    out.push_str("</text>");
}

/// A legend line at the top: for each series its line sample (dash), marker and name.
fn legend(out: &mut String, names: &[(&str, Option<&str>)], kinds: &[LegendKind]) {
    let mut x = LEFT;
    for (i, ((name, _), kind)) in names.iter().zip(kinds).enumerate() {
        let (color, dash, marker) = STYLES[i % STYLES.len()];
        match kind {
            LegendKind::Line => {
                let _ = write!(
                    out,
                    r#"<path d="M{x:.1} 12h22" stroke="{color}" stroke-width="2" stroke-dasharray="{dash}" fill="none"/>"#
                );
                marker.draw(out, x + 11.0, 12.0, 3.5, color);
            }
            LegendKind::Outline => {
                let _ = write!(
                    out,
                    r#"<rect x="{x:.1}" y="6" width="22" height="12" fill="none" stroke="{color}" stroke-width="2"/>"#
                );
            }
            LegendKind::Filled => {
                let _ = write!(
                    out,
                    r#"<rect x="{x:.1}" y="6" width="22" height="12" fill="{color}" fill-opacity="0.55" stroke="{color}" stroke-dasharray="3 2"/>"#
                );
            }
        }
        text(out, x + 27.0, 16.0, "start", name);
        x += 40.0 + 6.5 * name.chars().count() as f64;
    }
}

#[derive(Debug, Clone, Copy)]
enum LegendKind {
    Line,
    Outline,
    Filled,
}

/// Nice axis ticks from 0 to at least `max` (steps of 1, 2 or 5 × 10ᵏ, about 4 of them).
fn nice_ticks(max: f64) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 { max } else { 1.0 };
    let raw = max / 4.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(mag);
    let n = (max / step).ceil() as usize;
    (0..=n.max(1)).map(|i| i as f64 * step).collect()
}

/// The y axis: grid lines and labels from `ticks` (the last is the top).
fn y_axis(out: &mut String, ticks: &[f64], bottom: f64, label: &dyn Fn(f64) -> String) {
    let top_value = ticks.last().copied().unwrap_or(1.0);
    for &t in ticks {
        let y = bottom - (bottom - TOP) * t / top_value;
        let _ = write!(out, r#"<path d="M{LEFT} {y:.1}H{:.1}" stroke="{GRID}"/>"#, WIDTH - RIGHT);
        text(out, LEFT - 6.0, y + 4.0, "end", &label(t));
    }
    let _ = write!(out, r#"<path d="M{LEFT} {TOP}V{bottom:.1}" stroke="{AXIS}"/>"#);
}

const TIME_STEPS: [i64; 14] = [
    60_000,
    300_000,
    900_000,
    1_800_000,
    3_600_000,
    10_800_000,
    21_600_000,
    43_200_000,
    86_400_000,
    172_800_000,
    604_800_000,
    1_209_600_000,
    2_592_000_000,
    31_536_000_000,
];

/// The x axis of a time range: ticks on round UTC times, at most 7.
fn time_axis(out: &mut String, from: i64, to: i64, bottom: f64, left: f64) {
    let span = (to - from).max(1);
    let step = TIME_STEPS.iter().copied().find(|s| span / s <= 6).unwrap_or(span);
    let x_of = |t: i64| left + (WIDTH - left - RIGHT) * (t - from) as f64 / span as f64;
    let _ = write!(out, r#"<path d="M{left} {bottom:.1}H{:.1}" stroke="{AXIS}"/>"#, WIDTH - RIGHT);
    let mut t = from.div_euclid(step) * step;
    if t < from {
        t += step;
    }
    while t <= to {
        let x = x_of(t);
        let _ = write!(out, r#"<path d="M{x:.1} {bottom:.1}v4" stroke="{AXIS}"/>"#);
        text(out, x, bottom + 15.0, "middle", &tick_time(Timestamp::from_millis(t), step));
        t += step;
    }
    text(out, WIDTH - RIGHT, bottom + 29.0, "end", "time (UTC)");
}

/// One line series of a [`time_series`] chart.
pub(crate) struct Line<'a> {
    /// The name in the legend and table.
    pub name: &'a str,
    /// One value per x (`None`: no value there).
    pub values: Vec<Option<f64>>,
}

/// A time-series line chart of several series over shared times `xs` (epoch ms, ascending);
/// a line breaks where consecutive times are more than `gap_ms` apart. The caller bounds the
/// number of points.
pub(crate) fn time_series(
    id: &str,
    title: &str,
    desc: &str,
    xs: &[i64],
    lines: &[Line<'_>],
    unit: &dyn Fn(f64) -> String,
    gap_ms: i64,
) -> String {
    let height = 230.0;
    let bottom = height - BOTTOM;
    let mut out = String::with_capacity(4096 + xs.len() * lines.len() * 40);
    open(&mut out, id, height, title, desc);
    let names: Vec<(&str, Option<&str>)> = lines.iter().map(|l| (l.name, None)).collect();
    legend(&mut out, &names, &vec![LegendKind::Line; lines.len()]);
    let (from, to) = match (xs.first(), xs.last()) {
        (Some(&a), Some(&b)) => (a, b.max(a + 1)),
        _ => (0, 1),
    };
    let max = lines.iter().flat_map(|l| l.values.iter().flatten()).copied().fold(0.0, f64::max);
    let ticks = nice_ticks(max);
    let top_value = ticks.last().copied().unwrap_or(1.0);
    y_axis(&mut out, &ticks, bottom, unit);
    time_axis(&mut out, from, to, bottom, LEFT);
    let x_of = |t: i64| LEFT + (WIDTH - LEFT - RIGHT) * (t - from) as f64 / (to - from) as f64;
    let y_of = |v: f64| bottom - (bottom - TOP) * v / top_value;
    let every = (xs.len() / 12).max(1);
    for (i, line) in lines.iter().enumerate() {
        let (color, dash, marker) = STYLES[i % STYLES.len()];
        let mut d = String::with_capacity(xs.len() * 14);
        let mut last: Option<i64> = None;
        for (&t, v) in xs.iter().zip(&line.values) {
            let Some(v) = v else {
                last = None;
                continue;
            };
            let cmd = if last.is_some_and(|l| t - l <= gap_ms) { 'L' } else { 'M' };
            let _ = write!(d, "{cmd}{:.1} {:.1}", x_of(t), y_of(*v));
            last = Some(t);
        }
        let _ = write!(
            out,
            r#"<path d="{d}" fill="none" stroke="{color}" stroke-width="1.8" stroke-dasharray="{dash}"/>"#
        );
        // Markers on every `every`-th point (offset per series so they do not hide each other).
        for (k, (&t, v)) in xs.iter().zip(&line.values).enumerate() {
            if let Some(v) = v
                && (k + i * every / lines.len().max(1)).is_multiple_of(every)
            {
                marker.draw(&mut out, x_of(t), y_of(*v), 3.0, color);
            }
        }
    }
    let mut header = vec!["period start (UTC)"];
    header.extend(lines.iter().map(|l| l.name));
    let rows: Vec<Vec<String>> = xs
        .iter()
        .enumerate()
        .map(|(k, &t)| {
            let mut row = vec![super::format::time(Timestamp::from_millis(t))];
            row.extend(lines.iter().map(|l| l.values[k].map_or_else(|| "–".into(), unit)));
            row
        })
        .collect();
    close(&mut out, title, &header, &rows);
    out
}

/// A baseline-vs-current histogram on the baseline's bins, drawn equal-width: the baseline
/// as outlined bars, the current as filled dashed-edged bars. `labels` name the bins.
pub(crate) fn histogram(
    id: &str,
    title: &str,
    desc: &str,
    labels: &[String],
    baseline: &[f64],
    current: &[f64],
) -> String {
    let height = 230.0;
    let bottom = height - BOTTOM - 10.0;
    let mut out = String::with_capacity(4096 + labels.len() * 300);
    open(&mut out, id, height, title, desc);
    legend(
        &mut out,
        &[("baseline (outline)", None), ("current (filled)", None)],
        &[LegendKind::Outline, LegendKind::Filled],
    );
    let max = baseline.iter().chain(current).copied().fold(0.0, f64::max);
    let ticks = nice_ticks(max);
    let top_value = ticks.last().copied().unwrap_or(1.0);
    y_axis(&mut out, &ticks, bottom, &|v| super::format::percent(v));
    let _ = write!(out, r#"<path d="M{LEFT} {bottom:.1}H{:.1}" stroke="{AXIS}"/>"#, WIDTH - RIGHT);
    let n = labels.len().max(1);
    let slot = (WIDTH - LEFT - RIGHT) / n as f64;
    let y_of = |v: f64| bottom - (bottom - TOP) * v / top_value;
    let label_every = n.div_ceil(10);
    let (bc, _, _) = STYLES[0];
    let (cc, _, _) = STYLES[1];
    for (i, label) in labels.iter().enumerate() {
        let x = LEFT + slot * i as f64;
        let c = current.get(i).copied().unwrap_or(0.0);
        let b = baseline.get(i).copied().unwrap_or(0.0);
        let _ = write!(
            out,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{cc}" fill-opacity="0.55" stroke="{cc}" stroke-dasharray="3 2"/>"#,
            x + slot * 0.12,
            y_of(c),
            slot * 0.76,
            bottom - y_of(c)
        );
        let _ = write!(
            out,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="{bc}" stroke-width="2"/>"#,
            x + slot * 0.06,
            y_of(b),
            slot * 0.88,
            bottom - y_of(b)
        );
        if i % label_every == 0 {
            text(&mut out, x + slot / 2.0, bottom + 14.0, "middle", &truncate(label, 14));
        }
    }
    text(&mut out, WIDTH - RIGHT, bottom + 30.0, "end", "bins of the baseline (equal width)");
    let rows: Vec<Vec<String>> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            vec![
                l.clone(),
                super::format::percent(baseline.get(i).copied().unwrap_or(0.0)),
                super::format::percent(current.get(i).copied().unwrap_or(0.0)),
            ]
        })
        .collect();
    close(&mut out, title, &["bin", "baseline", "current"], &rows);
    out
}

/// Grouped horizontal bars of category shares: per category the baseline as an outlined bar
/// and the current as a filled one. The caller folds rare categories into "other".
pub(crate) fn category_bars(
    id: &str,
    title: &str,
    desc: &str,
    categories: &[(String, f64, f64)],
) -> String {
    let row_h = 24.0;
    let height = TOP + 8.0 + row_h * categories.len().max(1) as f64 + BOTTOM;
    let bottom = height - BOTTOM;
    let left = 150.0;
    let mut out = String::with_capacity(2048 + categories.len() * 400);
    open(&mut out, id, height, title, desc);
    legend(
        &mut out,
        &[("baseline (outline)", None), ("current (filled)", None)],
        &[LegendKind::Outline, LegendKind::Filled],
    );
    let max = categories.iter().map(|(_, b, c)| b.max(*c)).fold(0.0, f64::max);
    let ticks = nice_ticks(max);
    let top_value = ticks.last().copied().unwrap_or(1.0);
    let x_of = |v: f64| left + (WIDTH - left - RIGHT) * v / top_value;
    for &t in &ticks {
        let x = x_of(t);
        let _ = write!(out, r#"<path d="M{x:.1} {TOP}V{bottom:.1}" stroke="{GRID}"/>"#);
        text(&mut out, x, bottom + 14.0, "middle", &super::format::percent(t));
    }
    let (bc, _, _) = STYLES[0];
    let (cc, _, _) = STYLES[1];
    for (i, (name, b, c)) in categories.iter().enumerate() {
        let y = TOP + 8.0 + row_h * i as f64;
        out.push_str("<g><title>");
        push_escaped(
            &mut out,
            &format!(
                "{name}: baseline {}, current {}",
                super::format::percent(*b),
                super::format::percent(*c)
            ),
        );
        out.push_str("</title>");
        text(&mut out, left - 6.0, y + 15.0, "end", &truncate(name, 22));
        let _ = write!(
            out,
            r#"<rect x="{left}" y="{:.1}" width="{:.1}" height="9" fill="none" stroke="{bc}" stroke-width="2"/><rect x="{left}" y="{:.1}" width="{:.1}" height="9" fill="{cc}" fill-opacity="0.55" stroke="{cc}" stroke-dasharray="3 2"/></g>"#,
            y + 2.0,
            x_of(*b) - left,
            y + 12.0,
            x_of(*c) - left,
        );
    }
    let _ = write!(out, r#"<path d="M{left} {TOP}V{bottom:.1}" stroke="{AXIS}"/>"#);
    text(&mut out, WIDTH - RIGHT, bottom + 29.0, "end", "share of rows");
    let rows: Vec<Vec<String>> = categories
        .iter()
        .map(|(n, b, c)| vec![n.clone(), super::format::percent(*b), super::format::percent(*c)])
        .collect();
    close(&mut out, title, &["category", "baseline", "current"], &rows);
    out
}

/// One mark of an [`alert_timeline`].
pub(crate) struct Mark {
    /// Lane: 0 critical, 1 warning, 2 info.
    pub lane: usize,
    /// When it fired.
    pub at: i64,
    /// When it resolved, if it did.
    pub until: Option<i64>,
    /// Tooltip text.
    pub label: String,
    /// The table row.
    pub row: Vec<String>,
}

/// The lanes of the alert timeline, top to bottom: name, marker, colour.
const LANES: [(&str, Marker, &str); 3] = [
    ("critical ▲", Marker::Triangle, "#D55E00"),
    ("warning ◆", Marker::Diamond, "#E69F00"),
    ("info ●", Marker::Circle, "#0072B2"),
];

/// Alerts on a time axis `[from, to]`: one lane per severity, labelled in words, each with
/// its own marker shape; a resolved alert draws a line to its resolution.
pub(crate) fn alert_timeline(
    id: &str,
    title: &str,
    desc: &str,
    from: i64,
    to: i64,
    marks: &[Mark],
    header: &[&str],
) -> String {
    let lane_h = 26.0;
    let height = TOP + lane_h * 3.0 + BOTTOM;
    let bottom = height - BOTTOM;
    let mut out = String::with_capacity(2048 + marks.len() * 300);
    open(&mut out, id, height, title, desc);
    let to = to.max(from + 1);
    let x_of = |t: i64| {
        let t = t.clamp(from, to);
        LEFT + 30.0 + (WIDTH - LEFT - 30.0 - RIGHT) * (t - from) as f64 / (to - from) as f64
    };
    for (i, (name, marker, color)) in LANES.iter().enumerate() {
        let y = TOP + lane_h * (i as f64 + 0.5);
        let _ = write!(
            out,
            r#"<path d="M{:.1} {y:.1}H{:.1}" stroke="{GRID}"/>"#,
            LEFT + 30.0,
            WIDTH - RIGHT
        );
        text(&mut out, LEFT + 24.0, y + 4.0, "end", name);
        for m in marks.iter().filter(|m| m.lane == i) {
            let x = x_of(m.at);
            out.push_str("<g><title>");
            push_escaped(&mut out, &m.label);
            out.push_str("</title>");
            if let Some(u) = m.until {
                let _ = write!(
                    out,
                    r#"<path d="M{x:.1} {y:.1}H{:.1}" stroke="{color}" stroke-width="2"/>"#,
                    x_of(u)
                );
            }
            marker.draw(&mut out, x, y, 5.0, color);
            out.push_str("</g>");
        }
    }
    time_axis(&mut out, from, to, bottom, LEFT + 30.0);
    let rows: Vec<Vec<String>> = marks.iter().map(|m| m.row.clone()).collect();
    close(&mut out, title, header, &rows);
    out
}

/// An id safe in HTML attributes and CSS selectors, unique for distinct `parts`.
pub(crate) fn chart_id(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut slug = String::from("he");
    for p in parts {
        slug.push('-');
        for c in p.chars().take(24) {
            slug.push(if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' });
        }
        for b in p.bytes().chain([0]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    format!("{slug}-{:08x}", h as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(nice_ticks(0.93), vec![0.0, 0.5, 1.0]);
        assert_eq!(nice_ticks(37.0), vec![0.0, 10.0, 20.0, 30.0, 40.0]);
        assert_eq!(nice_ticks(0.0), vec![0.0, 0.5, 1.0]);
    }

    #[test]
    fn ids_are_safe_and_distinct() {
        let a = chart_id(&["<a b>", "1"]);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{a}");
        assert_ne!(a, chart_id(&["<a_b>", "1"]));
    }
}

/// One row of a [`rate_chart`]: a label and, per series, a rate in `[0, 1]` with its interval
/// `(rate, low, high)` (`None`: not measured).
#[derive(Debug, Clone, PartialEq)]
pub struct RateRow {
    /// The row's label (e.g. a shift and a sample size).
    pub label: String,
    /// One entry per series.
    pub values: Vec<Option<(f64, f64, f64)>>,
}

/// A dot plot of rates with their intervals: one row per [`RateRow`], one marker (shape,
/// colour and vertical offset per series) with an interval line for each series, on a 0–100 %
/// axis; `reference` draws a dashed vertical line (e.g. the nominal false-positive rate α).
/// Labelled and with a data table like every chart here.
pub fn rate_chart(
    id: &str,
    title: &str,
    desc: &str,
    series: &[&str],
    rows: &[RateRow],
    reference: Option<(f64, &str)>,
) -> String {
    let series = &series[..series.len().min(STYLES.len())];
    let row_h = 10.0 + 7.0 * series.len() as f64;
    let height = TOP + 8.0 + row_h * rows.len().max(1) as f64 + BOTTOM;
    let bottom = height - BOTTOM;
    let left = 230.0;
    let x_of = |v: f64| left + (WIDTH - left - RIGHT) * v.clamp(0.0, 1.0);
    let mut out = String::with_capacity(2048 + rows.len() * series.len() * 200);
    open(&mut out, id, height, title, desc);
    let names: Vec<(&str, Option<&str>)> = series.iter().map(|s| (*s, None)).collect();
    legend(&mut out, &names, &vec![LegendKind::Line; names.len()]);
    for t in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let x = x_of(t);
        let _ = write!(out, r#"<path d="M{x:.1} {TOP}V{bottom:.1}" stroke="{GRID}"/>"#);
        text(&mut out, x, bottom + 14.0, "middle", &super::format::percent(t));
    }
    for (i, row) in rows.iter().enumerate() {
        let y0 = TOP + 8.0 + row_h * i as f64;
        if i % 2 == 1 {
            let _ = write!(
                out,
                r##"<rect x="{left}" y="{y0:.1}" width="{:.1}" height="{row_h:.1}" fill="#f6f6f6"/>"##,
                WIDTH - left - RIGHT
            );
        }
        text(&mut out, left - 6.0, y0 + row_h / 2.0 + 4.0, "end", &truncate(&row.label, 40));
        for (j, (name, value)) in series.iter().zip(&row.values).enumerate() {
            let Some((rate, low, high)) = *value else { continue };
            let (color, _, marker) = STYLES[j];
            let y = y0 + 8.0 + 7.0 * j as f64;
            out.push_str("<g><title>");
            push_escaped(
                &mut out,
                &format!(
                    "{}, {name}: {} ({}–{})",
                    row.label,
                    super::format::percent(rate),
                    super::format::percent(low),
                    super::format::percent(high)
                ),
            );
            let _ = write!(
                out,
                r#"</title><path d="M{:.1} {y:.1}H{:.1}" stroke="{color}" stroke-width="1.5"/>"#,
                x_of(low),
                x_of(high)
            );
            marker.draw(&mut out, x_of(rate), y, 3.2, color);
            out.push_str("</g>");
        }
    }
    if let Some((r, name)) = reference {
        // Over the row bands, under nothing: drawn last.
        let x = x_of(r);
        let _ = write!(
            out,
            r#"<path d="M{x:.1} {TOP}V{bottom:.1}" stroke="{AXIS}" stroke-dasharray="4 3"><title>"#
        );
        push_escaped(&mut out, name);
        out.push_str("</title></path>");
        text(&mut out, x, TOP - 2.0, "middle", name);
    }
    let _ = write!(out, r#"<path d="M{left} {bottom:.1}H{:.1}" stroke="{AXIS}"/>"#, WIDTH - RIGHT);
    text(&mut out, WIDTH - RIGHT, bottom + 29.0, "end", "share of trials flagged");
    let mut header = vec!["row"];
    header.extend(series.iter().copied());
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut cells = vec![r.label.clone()];
            cells.extend(r.values.iter().map(|v| {
                v.map_or_else(
                    || "n/a".to_string(),
                    |(rate, low, high)| {
                        format!(
                            "{} ({}–{})",
                            super::format::percent(rate),
                            super::format::percent(low),
                            super::format::percent(high)
                        )
                    },
                )
            }));
            cells
        })
        .collect();
    close(&mut out, title, &header, &table);
    out
}
