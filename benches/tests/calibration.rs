//! The reduced validation study CI runs: every default verdict's false-positive rate under no
//! drift stays in its stated band (see `harper_edge_benches::calibration::band`), for small
//! and unequal samples. The full study (2,000 trials per cell, up to 100,000 rows) is
//! `cargo run --release -p harper-edge-benches --bin drift_calibration`; its table is in
//! docs/drift-calibration.md.

use harper_edge_benches::calibration::{Scenario, band, run_cell, verdicts};

#[test]
fn default_verdicts_keep_their_false_positive_rate() {
    let trials = 600;
    let mut out_of_band = Vec::new();
    for scenario in [Scenario::Continuous, Scenario::Ties, Scenario::zipf(5), Scenario::zipf(50)] {
        for (n, m) in [(200, 200), (2_000, 500)] {
            let r = run_cell(&scenario, n, m, trials, 0xC1 ^ n as u64, 2);
            for v in verdicts(&scenario) {
                let rate = r.rate(v).unwrap();
                if let Some((lo, hi)) = band(&scenario, v, trials)
                    && (rate < lo || rate > hi)
                {
                    out_of_band.push(format!(
                        "{} n={n} m={m} {}: {rate:.3} not in [{lo:.3}, {hi:.3}]",
                        scenario.name(),
                        v.name()
                    ));
                }
            }
        }
    }
    assert!(out_of_band.is_empty(), "{out_of_band:#?}");
}

#[test]
fn the_model_verdict_holds_alpha_across_twenty_features() {
    let trials = 300;
    let scenario = Scenario::Model20;
    let r = run_cell(&scenario, 300, 300, trials, 0xA11, 2);
    let rate = r.rate(verdicts(&scenario)[0]).unwrap();
    let (_, hi) = band(&scenario, verdicts(&scenario)[0], trials).unwrap();
    assert!(rate <= hi, "Holm over 20 null features flagged {rate:.3} of models (bound {hi:.3})");
}
