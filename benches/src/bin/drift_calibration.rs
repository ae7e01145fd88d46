//! The drift-verdict validation study (see `harper_edge_benches::calibration`): false-positive
//! rates under no drift, per scenario and sample sizes, written as a Markdown table.
//!
//! `cargo run --release -p harper-edge-benches --bin drift_calibration -- [--trials N]
//! [--min-n N] [--max-n N] [--only TEXT] [--out FILE]` (defaults: 2,000 trials per cell,
//! cells whose larger sample is up to 100,000 rows, every scenario, stdout; `--only` keeps the
//! scenarios whose name contains TEXT). `--min-n 1000000 --max-n 1000000` runs the
//! million-row cells alone; the model of 20 features stops at 100,000 rows there (20 features
//! × 1M rows × 2,000 trials is about two hours on two cores).
use std::fmt::Write as _;
use std::time::Instant;

use harper_edge_benches::calibration::{ALPHA, Scenario, Verdict, band, run_cell, verdicts};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1));
    let trials: u64 = value("--trials").map(|v| v.parse()).transpose()?.unwrap_or(2000);
    let max_n: usize = value("--max-n").map(|v| v.parse()).transpose()?.unwrap_or(100_000);
    let min_n: usize = value("--min-n").map(|v| v.parse()).transpose()?.unwrap_or(0);
    // `--only TEXT`: the scenarios whose name contains TEXT (e.g. `categorical`).
    let only = value("--only").cloned().unwrap_or_default();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let scenarios = [
        Scenario::Continuous,
        Scenario::Ties,
        Scenario::Score,
        Scenario::zipf(2),
        Scenario::zipf(5),
        Scenario::zipf(20),
        Scenario::zipf(50),
        Scenario::Model20,
    ];
    let sizes = [
        (100, 100),
        (1_000, 1_000),
        (10_000, 10_000),
        (100_000, 100_000),
        (1_000, 100_000),
        (100_000, 1_000),
        (1_000_000, 1_000_000),
        (10_000, 1_000_000),
    ];
    let all = [Verdict::Default, Verdict::PsiCalibrated, Verdict::JsCalibrated, Verdict::PsiFixed];
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| scenario | reference n | current m | trials | {} | all in band |",
        all.map(|v| v.name()).join(" | ")
    );
    let _ = writeln!(out, "|---|---:|---:|---:|{}---|", "---:|".repeat(all.len()));
    let started = Instant::now();
    let mut failures = 0;
    for scenario in scenarios.iter().filter(|s| s.name().contains(only.as_str())) {
        let largest =
            if matches!(scenario, Scenario::Model20) { max_n.min(100_000) } else { max_n };
        for (n, m) in sizes.into_iter().filter(|&(n, m)| (min_n..=largest).contains(&n.max(m))) {
            let t = Instant::now();
            let seed = 0x5EED ^ (n as u64) << 20 ^ m as u64;
            let r = run_cell(scenario, n, m, trials, seed, threads);
            let mut ok = true;
            let cells: Vec<String> = all
                .iter()
                .map(|&v| {
                    if !verdicts(scenario).contains(&v) {
                        return "–".to_string();
                    }
                    let rate = r.rate(v).unwrap_or(f64::NAN);
                    let inside =
                        band(scenario, v, trials).is_none_or(|(lo, hi)| rate >= lo && rate <= hi);
                    ok &= inside;
                    format!("{:.3}{}", rate, if inside { "" } else { " ✗" })
                })
                .collect();
            failures += usize::from(!ok);
            let _ = writeln!(
                out,
                "| {} | {n} | {m} | {trials} | {} | {} |",
                scenario.name(),
                cells.join(" | "),
                if ok { "yes" } else { "**no**" }
            );
            eprintln!("{} {n}x{m}: {:.1} s", scenario.name(), t.elapsed().as_secs_f64());
            // Each row as it is done too: a long run keeps what it measured if stopped.
            eprintln!("{}", out.lines().last().unwrap_or_default());
        }
    }
    let _ = writeln!(
        out,
        "\nα = {ALPHA}; {threads} threads; {:.0} s in all; cells out of band: {failures}.",
        started.elapsed().as_secs_f64()
    );
    match value("--out") {
        Some(path) => std::fs::write(path, &out)?,
        None => print!("{out}"),
    }
    Ok(())
}
