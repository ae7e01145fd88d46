//! The drift-verdict validation study: false-positive rates of the default verdicts under no
//! drift, by simulation with the library itself.
//!
//! Each trial draws a reference and a current sample from the **same** distribution, fits a
//! baseline on the reference and checks the current against it; a verdict that says
//! "drifted" is a false positive. The rate over many trials is compared with the level the
//! verdict claims (α = 0.05): a binomial 99.9 % band around it for tests whose null
//! distribution is continuous, and an upper bound only for the conservative ones (KS with
//! ties, chi-square with rare categories, the model verdict under Holm).
//!
//! `cargo run --release -p harper-edge-benches --bin drift_calibration` writes the table of
//! docs/drift-calibration.md; `benches/tests/calibration.rs` runs a reduced version in CI.

use harper_edge_core::drift::baseline::{Baseline, BaselineConfig, Column, FeatureSchema};
use harper_edge_core::drift::check::{DriftConfig, DriftMethod, FeatureOverride, check};

/// The level every verdict is run at.
pub const ALPHA: f64 = 0.05;

/// SplitMix64: a small, fast, seedable generator.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    #[allow(clippy::cast_precision_loss)]
    pub fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit(), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// A null scenario: what both samples are drawn from.
#[derive(Debug, Clone, PartialEq)]
pub enum Scenario {
    /// Continuous numeric (standard normal).
    Continuous,
    /// Numeric with many ties: integers 0–9, uniform.
    Ties,
    /// A prediction score: Beta(2, 5)-like confidence (continuous, skewed).
    Score,
    /// Categorical with these probabilities.
    Categorical(Vec<f64>),
    /// A model of 20 continuous features: the model verdict (Holm over KS p-values).
    Model20,
}

impl Scenario {
    /// Categorical with `k` categories, Zipf-like (`1/i`), the rarest near 1/(k·H_k).
    #[allow(clippy::cast_precision_loss)]
    pub fn zipf(k: usize) -> Scenario {
        let w: Vec<f64> = (1..=k).map(|i| 1.0 / i as f64).collect();
        let total: f64 = w.iter().sum();
        Scenario::Categorical(w.into_iter().map(|x| x / total).collect())
    }

    /// A short name for tables.
    pub fn name(&self) -> String {
        match self {
            Scenario::Continuous => "numeric, continuous (normal)".into(),
            Scenario::Ties => "numeric, ties (integers 0–9)".into(),
            Scenario::Score => "prediction score (skewed, continuous)".into(),
            Scenario::Categorical(p) => {
                let rare = p.iter().copied().fold(f64::INFINITY, f64::min);
                format!("categorical, {} categories (rarest {:.2} %)", p.len(), rare * 100.0)
            }
            Scenario::Model20 => "model of 20 numeric features".into(),
        }
    }

    fn numbers(&self, rng: &mut Rng, n: usize) -> Vec<f64> {
        match self {
            Scenario::Ties => (0..n).map(|_| (rng.unit() * 10.0).floor()).collect(),
            Scenario::Score => (0..n)
                .map(|_| {
                    // The smaller of two of five uniforms' order statistics: a skewed score.
                    let mut u: [f64; 6] = std::array::from_fn(|_| rng.unit());
                    u.sort_by(f64::total_cmp);
                    u[1]
                })
                .collect(),
            _ => (0..n).map(|_| rng.normal()).collect(),
        }
    }

    fn codes(p: &[f64], rng: &mut Rng, n: usize) -> Vec<i64> {
        let cumulative: Vec<f64> = p
            .iter()
            .scan(0.0, |acc, &x| {
                *acc += x;
                Some(*acc)
            })
            .collect();
        (0..n)
            .map(|_| {
                let u = rng.unit() * cumulative[cumulative.len() - 1];
                i64::try_from(cumulative.partition_point(|&c| c < u).min(p.len() - 1))
                    .unwrap_or_default()
            })
            .collect()
    }
}

/// The verdicts measured in a trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The default test: KS (numeric) or chi-square (categorical); Holm for the model.
    Default,
    /// PSI with the chi-square null (threshold 0: significance alone).
    PsiCalibrated,
    /// Jensen–Shannon with the chi-square null (threshold 0: significance alone).
    JsCalibrated,
    /// PSI > 0.1 with no null (the common fixed-threshold rule), for comparison.
    PsiFixed,
}

impl Verdict {
    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Default => "default test",
            Verdict::PsiCalibrated => "PSI, calibrated",
            Verdict::JsCalibrated => "JS, calibrated",
            Verdict::PsiFixed => "PSI > 0.1, fixed",
        }
    }
}

/// The false positives of one cell.
#[derive(Debug, Clone, PartialEq)]
pub struct CellResult {
    /// Trials run.
    pub trials: u64,
    /// False positives per verdict.
    pub positives: Vec<(Verdict, u64)>,
}

impl CellResult {
    /// The false-positive rate of `verdict`.
    #[allow(clippy::cast_precision_loss)]
    pub fn rate(&self, verdict: Verdict) -> Option<f64> {
        self.positives
            .iter()
            .find(|(v, _)| *v == verdict)
            .map(|(_, k)| *k as f64 / self.trials as f64)
    }
}

/// The verdicts measured for `scenario`.
pub fn verdicts(scenario: &Scenario) -> Vec<Verdict> {
    match scenario {
        Scenario::Model20 => vec![Verdict::Default],
        _ => {
            vec![Verdict::Default, Verdict::PsiCalibrated, Verdict::JsCalibrated, Verdict::PsiFixed]
        }
    }
}

fn config(verdict: Verdict, feature: &str) -> DriftConfig {
    let mut c = DriftConfig {
        alpha: ALPHA,
        compute_psi: false,
        compute_wasserstein: false,
        ..DriftConfig::default()
    };
    let (method, threshold, calibrate) = match verdict {
        Verdict::Default => return c,
        Verdict::PsiCalibrated => (DriftMethod::Psi, 1e-12, true),
        Verdict::JsCalibrated => (DriftMethod::Js, 1e-12, true),
        Verdict::PsiFixed => (DriftMethod::Psi, 0.1, false),
    };
    c.calibrate_distances = calibrate;
    c.overrides.insert(
        feature.into(),
        FeatureOverride { method: Some(method), threshold: Some(threshold) },
    );
    c
}

/// One trial: fit on a reference of `n`, check a current of `m`; which verdicts said drifted.
///
/// # Panics
///
/// Never for valid sizes (`n`, `m` ≥ 2): a library error here is a defect the study must show.
#[allow(clippy::expect_used)]
pub fn trial(scenario: &Scenario, n: usize, m: usize, rng: &mut Rng) -> Vec<(Verdict, bool)> {
    let names: Vec<String> = match scenario {
        Scenario::Model20 => (0..20).map(|i| format!("x{i}")).collect(),
        _ => vec!["x".into()],
    };
    let categorical = matches!(scenario, Scenario::Categorical(_));
    let schema: Vec<FeatureSchema> = names
        .iter()
        .map(|n| {
            if categorical {
                FeatureSchema::categorical(n.as_str())
            } else {
                FeatureSchema::numeric(n.as_str())
            }
        })
        .collect();
    let labels: Vec<String> = match scenario {
        Scenario::Categorical(p) => (0..p.len()).map(|i| format!("c{i}")).collect(),
        _ => Vec::new(),
    };
    let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    let draw = |rng: &mut Rng, size: usize| -> (Vec<Vec<f64>>, Vec<Vec<i64>>) {
        match scenario {
            Scenario::Categorical(p) => (Vec::new(), vec![Scenario::codes(p, rng, size)]),
            _ => (names.iter().map(|_| scenario.numbers(rng, size)).collect(), Vec::new()),
        }
    };
    let (rn, rc) = draw(rng, n);
    let (cn, cc) = draw(rng, m);
    let reference: Vec<(&str, Column<'_>)> =
        names.iter().map(String::as_str).zip(columns(categorical, &rn, &rc, &label_refs)).collect();
    let current: Vec<(&str, Column<'_>)> =
        names.iter().map(String::as_str).zip(columns(categorical, &cn, &cc, &label_refs)).collect();
    let baseline = Baseline::fit(&schema, &reference, BaselineConfig::default()).expect("fit");
    verdicts(scenario)
        .into_iter()
        .map(|v| {
            let mut c = config(v, "x");
            c.threads = Some(1);
            let report = check(&baseline, &current, &c).expect("check");
            let drifted = match scenario {
                Scenario::Model20 => report.model.drifted,
                _ => report.features[0].drifted,
            };
            (v, drifted)
        })
        .collect()
}

fn columns<'a>(
    categorical: bool,
    nums: &'a [Vec<f64>],
    codes: &'a [Vec<i64>],
    labels: &'a [&'a str],
) -> Vec<Column<'a>> {
    if categorical {
        codes.iter().map(|c| Column::Coded { codes: c, categories: labels }).collect()
    } else {
        nums.iter().map(|v| Column::Numeric(v)).collect()
    }
}

/// `trials` trials of a cell on `threads` threads, seeded by `seed`.
pub fn run_cell(
    scenario: &Scenario,
    n: usize,
    m: usize,
    trials: u64,
    seed: u64,
    threads: u64,
) -> CellResult {
    let threads = threads.clamp(1, trials.max(1));
    let parts: Vec<Vec<(Verdict, u64)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut counts: Vec<(Verdict, u64)> =
                        verdicts(scenario).into_iter().map(|v| (v, 0)).collect();
                    let mut i = t;
                    while i < trials {
                        let mut rng = Rng::new(seed ^ i.wrapping_mul(0xD134_2543_DE82_EF95));
                        for (v, drifted) in trial(scenario, n, m, &mut rng) {
                            if drifted && let Some(c) = counts.iter_mut().find(|(x, _)| *x == v) {
                                c.1 += 1;
                            }
                        }
                        i += threads;
                    }
                    counts
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut positives: Vec<(Verdict, u64)> =
        verdicts(scenario).into_iter().map(|v| (v, 0)).collect();
    for part in parts {
        for (v, k) in part {
            if let Some(c) = positives.iter_mut().find(|(x, _)| *x == v) {
                c.1 += k;
            }
        }
    }
    CellResult { trials, positives }
}

/// The band a false-positive rate must stay in: `(lower, upper)`; the lower bound is 0 for
/// verdicts that are conservative by construction. The half-width is 3.3 binomial standard
/// deviations at α (a 99.9 % band), so a correct verdict leaves it about once in a thousand
/// cells.
#[allow(clippy::cast_precision_loss)]
pub fn band(scenario: &Scenario, verdict: Verdict, trials: u64) -> Option<(f64, f64)> {
    let half = 3.3 * (ALPHA * (1.0 - ALPHA) / trials as f64).sqrt();
    let exact_null = matches!(scenario, Scenario::Continuous | Scenario::Score);
    match verdict {
        Verdict::PsiFixed => None, // no claim: shown for comparison
        Verdict::Default if exact_null => Some((ALPHA - half, ALPHA + half)),
        // Ties, rare categories, Holm, asymptotic distances: at most α.
        _ => Some((0.0, ALPHA + half)),
    }
}
