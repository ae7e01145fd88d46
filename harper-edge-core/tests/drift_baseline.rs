//! Baselines and data quality: fitting on generated data (checked against direct
//! computations), JSON round trips, refusal of corrupt JSON, merges equal to the fit of the
//! union, KS on the stored sample equal to KS on the raw reference, and data-quality counts on
//! a hand-built batch.
#![allow(clippy::unwrap_used, clippy::cast_precision_loss)]

use harper_edge_core::drift::baseline::{
    Baseline, BaselineConfig, Column, FeatureBaseline, FeatureKind, FeatureSchema, Value,
};
use harper_edge_core::drift::distance::{CategoricalPsiBaseline, PsiBaseline, PsiConfig};
use harper_edge_core::drift::ks::{Alternative, Method, SortedSample, ks_2samp, ks_2samp_sorted};
use harper_edge_core::drift::quality::{DataQuality, DataQualityMetrics};
use harper_edge_core::{ErrorKind, Timestamp};

/// xorshift64*: a small deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `[0, 1)`.
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly normal (Irwin–Hall, 12 uniforms), mean `mu`, sd `sigma`.
    fn normal(&mut self, mu: f64, sigma: f64) -> f64 {
        let s: f64 = (0..12).map(|_| self.uniform()).sum();
        mu + sigma * (s - 6.0)
    }
}

/// Generated reference rows: `x` (numeric, ~5 % null), `score` (the prediction, numeric),
/// `color` (categorical, ~3 % null), `label` (categorical).
struct Data {
    x: Vec<f64>,
    score: Vec<f64>,
    color: Vec<Option<&'static str>>,
    label: Vec<Option<&'static str>>,
}

impl Data {
    fn generate(n: usize, seed: u64) -> Self {
        let mut rng = Rng(seed);
        let mut d = Data { x: vec![], score: vec![], color: vec![], label: vec![] };
        for _ in 0..n {
            let x = if rng.uniform() < 0.05 { f64::NAN } else { rng.normal(10.0, 2.0) };
            d.x.push(x);
            // Rounded to 2 decimals: ties in the sample.
            d.score.push((rng.uniform() * 100.0).round() / 100.0);
            let u = rng.uniform();
            d.color.push(if u < 0.03 {
                None
            } else if u < 0.5 {
                Some("red")
            } else if u < 0.8 {
                Some("green")
            } else {
                Some("blue")
            });
            d.label.push(Some(if rng.uniform() < 0.3 { "yes" } else { "no" }));
        }
        d
    }

    fn slice(&self, from: usize, to: usize) -> Data {
        Data {
            x: self.x[from..to].to_vec(),
            score: self.score[from..to].to_vec(),
            color: self.color[from..to].to_vec(),
            label: self.label[from..to].to_vec(),
        }
    }

    fn columns(&self) -> Vec<(&'static str, Column<'_>)> {
        vec![
            ("x", Column::Numeric(&self.x)),
            ("score", Column::Numeric(&self.score)),
            ("color", Column::Categorical(&self.color)),
            ("label", Column::Categorical(&self.label)),
        ]
    }
}

fn schema() -> Vec<FeatureSchema> {
    vec![
        FeatureSchema::numeric("x").with_range(0.0, 20.0),
        FeatureSchema::numeric("score"),
        FeatureSchema::categorical("color").with_categories(["red", "green", "blue", "violet"]),
        FeatureSchema::categorical("label"),
    ]
}

fn fit(d: &Data, config: BaselineConfig) -> Baseline {
    Baseline::fit(&schema(), &d.columns(), config).unwrap()
}

/// numpy's `"linear"` quantile, written plainly.
fn np_quantile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let j = h.floor() as usize;
    if j + 1 >= sorted.len() {
        return sorted[sorted.len() - 1];
    }
    sorted[j] + (h - j as f64) * (sorted[j + 1] - sorted[j])
}

fn sorted_non_null(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    v
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

#[test]
fn fit_keeps_the_statistics_of_each_feature() {
    let d = Data::generate(5000, 42);
    let b = fit(&d, BaselineConfig::default());
    assert_eq!(
        b.features().iter().map(FeatureBaseline::name).collect::<Vec<_>>(),
        ["x", "score", "color", "label"]
    );

    let x = b.feature("x").unwrap();
    let nulls = d.x.iter().filter(|v| v.is_nan()).count() as u64;
    assert_eq!((x.count, x.null_count), (5000, nulls));
    assert!(nulls > 150 && nulls < 350, "{nulls}");
    let s = x.numeric.as_ref().unwrap();
    let sorted = sorted_non_null(&d.x);
    assert_eq!(s.sample.as_slice(), sorted.as_slice());
    let n = sorted.len() as f64;
    let mean = sorted.iter().sum::<f64>() / n;
    let sd = (sorted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    assert!(close(s.mean, mean, 1e-12) && close(s.sd, sd, 1e-12), "{} {}", s.mean, s.sd);
    assert!((s.mean - 10.0).abs() < 0.1 && (s.sd - 2.0).abs() < 0.1);
    assert_eq!((s.min, s.max), (sorted[0], sorted[sorted.len() - 1]));
    for (q, p) in s.quartiles.iter().zip([0.25, 0.5, 0.75]) {
        assert!(close(*q, np_quantile(&sorted, p), 1e-15));
    }
    let iqr = s.quartiles[2] - s.quartiles[0];
    assert_eq!(s.lower_fence, s.quartiles[0] - 1.5 * iqr);
    assert_eq!(s.upper_fence, s.quartiles[2] + 1.5 * iqr);
    assert_eq!(s.psi, PsiBaseline::fit(&sorted, PsiConfig::default()).unwrap());
    assert_eq!(s.psi.edges().len(), 9);
    assert!(x.categories.is_empty());

    let color = b.feature("color").unwrap();
    let count = |c: &str| d.color.iter().filter(|v| **v == Some(c)).count() as u64;
    assert_eq!(color.categories.len(), 3);
    assert_eq!(color.categories["red"], count("red"));
    assert_eq!(color.categories["blue"], count("blue"));
    assert_eq!(color.null_count, d.color.iter().filter(|v| v.is_none()).count() as u64);
    assert_eq!(color.null_count + color.categories.values().sum::<u64>(), 5000, "counts add up");
    assert!(color.numeric.is_none());
    let psi = color.categorical_psi(PsiConfig::DEFAULT_EPSILON).unwrap();
    let want = CategoricalPsiBaseline::fit(
        [("blue", count("blue")), ("green", count("green")), ("red", count("red"))]
            .map(|(k, c)| (k.to_string(), c)),
        1e-4,
    )
    .unwrap();
    assert_eq!(psi, want);
    assert!(color.is_known_category("violet")); // declared, never seen
    let label = b.feature("label").unwrap();
    assert!(label.is_known_category("yes") && !label.is_known_category("maybe")); // seen only
}

#[test]
fn fit_of_a_small_case_has_exact_values() {
    let x = [4.0, f64::NAN, 1.0, 3.0, 2.0];
    let b = Baseline::fit(
        &[FeatureSchema::numeric("x")],
        &[("x", Column::Numeric(&x))],
        BaselineConfig::default(),
    )
    .unwrap();
    let f = b.feature("x").unwrap();
    assert_eq!((f.count, f.null_count, f.non_null()), (5, 1, 4));
    let s = f.numeric.as_ref().unwrap();
    assert_eq!(s.sample.as_slice(), [1.0, 2.0, 3.0, 4.0]);
    assert_eq!((s.mean, s.sd), (2.5, 1.25f64.sqrt()));
    assert_eq!(s.quartiles, [1.75, 2.5, 3.25]); // np.quantile([1, 2, 3, 4], ...)
    assert_eq!((s.lower_fence, s.upper_fence), (-0.5, 5.5));
    assert!(s.is_outlier(5.6) && s.is_outlier(-0.6) && !s.is_outlier(5.5));
    // All-null numeric feature: no statistics.
    let b = Baseline::fit(
        &[FeatureSchema::numeric("x")],
        &[("x", Column::Numeric(&[f64::NAN, f64::NAN]))],
        BaselineConfig::default(),
    )
    .unwrap();
    assert_eq!(b.features()[0].null_count, 2);
    assert!(b.features()[0].numeric.is_none());
    assert_eq!(Baseline::from_json(&b.to_json().unwrap()).unwrap(), b);
}

#[test]
fn json_round_trip_is_equal() {
    let d = Data::generate(800, 7);
    for config in [
        BaselineConfig::default(),
        BaselineConfig { psi: PsiConfig::default(), max_sample: Some(50) },
    ] {
        let b = fit(&d, config);
        let json = b.to_json().unwrap();
        assert!(json.contains("\"nullCount\"") && json.contains("\"lowerFence\""), "camelCase");
        assert_eq!(Baseline::from_json(&json).unwrap(), b);
        assert_eq!(serde_json::from_str::<Baseline>(&json).unwrap(), b);
    }
}

/// A corruption of a baseline's JSON.
type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;

/// Reads a baseline's JSON as a value, lets `edit` corrupt it, and loads it back.
fn load_edited(b: &Baseline, edit: impl FnOnce(&mut serde_json::Value)) -> harper_edge_core::Error {
    let mut v: serde_json::Value = serde_json::from_str(&b.to_json().unwrap()).unwrap();
    edit(&mut v);
    Baseline::from_json(&v.to_string()).unwrap_err()
}

#[test]
fn load_refuses_corrupt_json() {
    let d = Data::generate(300, 3);
    let b = fit(&d, BaselineConfig::default());
    let cases: Vec<(&str, Edit)> = vec![
        (
            "feature 'x': invalid input: sample is not sorted ascending",
            Box::new(|v| {
                let s = v["features"][0]["numeric"]["sample"].as_array_mut().unwrap();
                s.swap(0, 5);
            }),
        ),
        ("'x': null count", Box::new(|v| v["features"][0]["nullCount"] = 301.into())),
        ("'x': sample has", Box::new(|v| v["features"][0]["count"] = 301.into())),
        (
            "'color': category counts do not add up",
            Box::new(|v| v["features"][2]["categories"]["red"] = 1.into()),
        ),
        (
            "'score': quartiles or fences",
            Box::new(|v| v["features"][1]["numeric"]["upperFence"] = 1e9.into()),
        ),
        (
            "feature 'label' appears twice",
            Box::new(|v| {
                let f = v["features"][3].clone();
                v["features"].as_array_mut().unwrap().push(f);
            }),
        ),
        (
            "'x': a numeric feature has category counts",
            Box::new(|v| v["features"][0]["categories"] = serde_json::json!({"a": 1})),
        ),
        ("expected", Box::new(|v| v["features"] = 3.into())),
    ];
    for (want, edit) in cases {
        let err = load_edited(&b, edit);
        assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
        assert!(err.to_string().contains(want), "{want}: {err}");
    }
    let err = Baseline::from_json("{not json").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity);
}

fn assert_same(merged: &Baseline, whole: &Baseline) {
    assert_eq!(merged.config(), whole.config());
    assert_eq!(merged.features().len(), whole.features().len());
    for (m, w) in merged.features().iter().zip(whole.features()) {
        let name = w.name();
        assert_eq!(m.schema, w.schema, "{name}");
        assert_eq!((m.count, m.null_count), (w.count, w.null_count), "{name}");
        assert_eq!(m.categories, w.categories, "{name}");
        match (&m.numeric, &w.numeric) {
            (None, None) => {}
            (Some(m), Some(w)) => {
                assert_eq!(m.sample, w.sample, "{name}");
                assert_eq!(m.psi, w.psi, "{name}");
                assert_eq!((m.min, m.max), (w.min, w.max), "{name}");
                assert_eq!(m.quartiles, w.quartiles, "{name}");
                assert_eq!((m.lower_fence, m.upper_fence), (w.lower_fence, w.upper_fence));
                assert!(close(m.mean, w.mean, 1e-12), "{name}: {} {}", m.mean, w.mean);
                assert!(close(m.sd, w.sd, 1e-12), "{name}: {} {}", m.sd, w.sd);
            }
            _ => panic!("{name}: numeric statistics on one side only"),
        }
    }
}

#[test]
fn merge_equals_the_fit_of_the_union() {
    let d = Data::generate(3000, 11);
    let config = BaselineConfig::default();
    let whole = fit(&d, config);
    let (a, b) = (fit(&d.slice(0, 1000), config), fit(&d.slice(1000, 3000), config));
    assert_same(&a.merge(&b).unwrap(), &whole);
    // Three parts, merged in either order of association.
    let parts = [d.slice(0, 7), d.slice(7, 2000), d.slice(2000, 3000)].map(|p| fit(&p, config));
    let left = parts[0].merge(&parts[1]).unwrap().merge(&parts[2]).unwrap();
    let right = parts[0].merge(&parts[1].merge(&parts[2]).unwrap()).unwrap();
    assert_same(&left, &whole);
    assert_same(&right, &whole);
    // The merge is a valid baseline.
    assert_eq!(Baseline::from_json(&left.to_json().unwrap()).unwrap(), left);

    // A part whose numeric feature is all null.
    let mut n = d.slice(0, 10);
    n.x = vec![f64::NAN; 10];
    let mut all = d.slice(10, 500);
    let merged = fit(&n, config).merge(&fit(&all, config)).unwrap();
    all.x.splice(0..0, vec![f64::NAN; 10]);
    all.score.splice(0..0, n.score.iter().copied());
    all.color.splice(0..0, n.color.iter().copied());
    all.label.splice(0..0, n.label.iter().copied());
    assert_same(&merged, &fit(&all, config));
}

#[test]
fn merge_with_max_sample() {
    let d = Data::generate(3000, 5);
    // Parts below max_sample, union above: the merge is exactly the fit of the union.
    let config = BaselineConfig { psi: PsiConfig::default(), max_sample: Some(2000) };
    let whole = fit(&d, config);
    let x = whole.feature("x").unwrap();
    assert_eq!(x.numeric.as_ref().unwrap().sample.len(), 2000);
    assert!(x.non_null() > 2000);
    let merged = fit(&d.slice(0, 1500), config).merge(&fit(&d.slice(1500, 3000), config)).unwrap();
    assert_same(&merged, &whole);

    // Parts subsampled: approximate, but a valid baseline with exact counts and extremes.
    let config = BaselineConfig { psi: PsiConfig::default(), max_sample: Some(500) };
    let whole = fit(&d, config);
    let merged = fit(&d.slice(0, 1000), config).merge(&fit(&d.slice(1000, 3000), config)).unwrap();
    assert_eq!(Baseline::from_json(&merged.to_json().unwrap()).unwrap(), merged);
    let (m, w) = (merged.feature("x").unwrap(), whole.feature("x").unwrap());
    assert_eq!((m.count, m.null_count), (w.count, w.null_count));
    let (m, w) = (m.numeric.as_ref().unwrap(), w.numeric.as_ref().unwrap());
    assert_eq!(m.sample.len(), 500);
    assert_eq!((m.min, m.max), (w.min, w.max));
    assert!(close(m.mean, w.mean, 1e-12) && close(m.sd, w.sd, 1e-12));
    for (q, r) in m.quartiles.iter().zip(w.quartiles) {
        assert!((q - r).abs() < 0.05, "{q} vs {r}"); // sd 2: within 2.5 % of an sd
    }
    // KS between the merged and the full subsample: the same distribution.
    let ks = ks_2samp_sorted(&m.sample, &w.sample, Alternative::TwoSided, Method::Auto).unwrap();
    assert!(ks.statistic < 0.02, "{}", ks.statistic);
}

#[test]
fn merge_refuses_other_schemas() {
    let d = Data::generate(100, 1);
    let a = fit(&d, BaselineConfig::default());
    let mut other = schema();
    other[1] = FeatureSchema::numeric("score").with_range(0.0, 1.0);
    let b = Baseline::fit(&other, &d.columns(), BaselineConfig::default()).unwrap();
    let err = a.merge(&b).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("'score'"), "{err}");
    let c = fit(&d, BaselineConfig { psi: PsiConfig { bins: 5, epsilon: 1e-4 }, max_sample: None });
    assert_eq!(a.merge(&c).unwrap_err().kind(), ErrorKind::InvalidInput);
}

#[test]
fn ks_on_the_stored_sample_equals_ks_on_the_raw_reference() {
    let d = Data::generate(4000, 9);
    let b = fit(&d, BaselineConfig::default());
    let mut rng = Rng(99);
    let current: Vec<f64> = (0..700).map(|_| rng.normal(10.3, 2.0)).collect();
    let current_sorted = SortedSample::new(current.clone()).unwrap();
    let raw: Vec<f64> = d.x.iter().copied().filter(|v| !v.is_nan()).collect();
    let sample = &b.feature("x").unwrap().numeric.as_ref().unwrap().sample;
    for alternative in [Alternative::TwoSided, Alternative::Less, Alternative::Greater] {
        let want = ks_2samp(&raw, &current, alternative, Method::Auto).unwrap();
        let got = ks_2samp_sorted(sample, &current_sorted, alternative, Method::Auto).unwrap();
        assert_eq!(got, want);
    }
    let two = ks_2samp_sorted(sample, &current_sorted, Alternative::TwoSided, Method::Auto);
    assert!(two.unwrap().p_value < 0.01); // a shift of 0.15 sd over 700 values

    // Subsampled to 1001 evenly spaced order statistics: the statistic moves by at most
    // about 1/1000.
    let config = BaselineConfig { psi: PsiConfig::default(), max_sample: Some(1001) };
    let small = fit(&d, config);
    let sub = &small.feature("x").unwrap().numeric.as_ref().unwrap().sample;
    assert_eq!(sub.len(), 1001);
    let sorted = sorted_non_null(&d.x);
    let n = sorted.len();
    assert_eq!(sub.as_slice()[500], sorted[500 * (n - 1) / 1000]);
    let full = ks_2samp_sorted(sample, &current_sorted, Alternative::TwoSided, Method::Auto);
    let approx = ks_2samp_sorted(sub, &current_sorted, Alternative::TwoSided, Method::Auto);
    let (full, approx) = (full.unwrap(), approx.unwrap());
    assert!((full.statistic - approx.statistic).abs() <= 1.0 / 1000.0 + 1.0 / n as f64);
}

/// Schema, columns, configuration, and a part of the expected error message.
type FitCase<'a> = (Vec<FeatureSchema>, Vec<(&'a str, Column<'a>)>, BaselineConfig, &'a str);

#[test]
fn fit_errors_name_the_feature_or_column() {
    let x = [1.0, 2.0, 3.0];
    let short = [1.0, 2.0];
    let config = BaselineConfig::default();
    let one = [FeatureSchema::numeric("x")];
    let cases: Vec<FitCase<'_>> = vec![
        (
            vec![FeatureSchema::numeric("x"), FeatureSchema::numeric("y")],
            vec![("x", Column::Numeric(&x)), ("y", Column::Numeric(&short))],
            config,
            "column 'y' has 2 rows",
        ),
        (one.to_vec(), vec![("x", Column::Numeric(&x)), ("z", Column::Numeric(&x))], config, "'z'"),
        (one.to_vec(), vec![], config, "no rows"),
        (
            vec![FeatureSchema::numeric("x"), FeatureSchema::numeric("y")],
            vec![("x", Column::Numeric(&x))],
            config,
            "no column for feature 'y'",
        ),
        (
            vec![FeatureSchema::numeric("x"), FeatureSchema::categorical("x")],
            vec![("x", Column::Numeric(&x))],
            config,
            "feature 'x' is declared twice",
        ),
        (
            one.to_vec(),
            vec![("x", Column::Numeric(&x)), ("x", Column::Numeric(&x))],
            config,
            "column 'x' is given twice",
        ),
        (
            one.to_vec(),
            vec![("x", Column::Numeric(&[1.0, f64::INFINITY]))],
            config,
            "feature 'x' row 1: inf is not finite",
        ),
        (
            one.to_vec(),
            vec![("x", Column::Categorical(&[Some("a")]))],
            config,
            "feature 'x' row 0: value of the wrong kind",
        ),
        (
            vec![FeatureSchema::categorical("c")],
            vec![("c", Column::Mixed(&[Value::Text("a"), Value::Number(1.0)]))],
            config,
            "feature 'c' row 1: value of the wrong kind",
        ),
        (
            vec![FeatureSchema::categorical("c").with_range(0.0, 1.0)],
            vec![("c", Column::Categorical(&[Some("a")]))],
            config,
            "'c': a range is only allowed on a numeric feature",
        ),
        (
            vec![FeatureSchema::numeric("x").with_range(2.0, 1.0)],
            vec![("x", Column::Numeric(&x))],
            config,
            "'x': range [2, 1]",
        ),
        (
            vec![FeatureSchema::categorical("c").with_categories(["a", "a"])],
            vec![("c", Column::Categorical(&[Some("a")]))],
            config,
            "category 'a' is declared twice",
        ),
        (
            one.to_vec(),
            vec![("x", Column::Numeric(&x))],
            BaselineConfig { psi: PsiConfig::default(), max_sample: Some(1) },
            "max_sample",
        ),
        (
            one.to_vec(),
            vec![("x", Column::Numeric(&x))],
            BaselineConfig { psi: PsiConfig { bins: 0, epsilon: 1e-4 }, max_sample: None },
            "PSI bins",
        ),
    ];
    for (schema, columns, config, want) in cases {
        let err = Baseline::fit(&schema, &columns, config).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains(want), "{want}: {err}");
    }
}

fn quality_baseline() -> Baseline {
    // x: 1..=8 → quartiles 2.75, 4.5, 6.25, IQR 3.5, fences −2.5 and 11.5.
    let x: Vec<f64> = (1..=8).map(f64::from).collect();
    let color = [Some("red"), Some("red"), Some("blue"), None, Some("red"), None, None, None];
    let label = [Some("no"); 8];
    Baseline::fit(
        &[
            FeatureSchema::numeric("x").with_range(0.0, 10.0),
            FeatureSchema::numeric("score"),
            FeatureSchema::categorical("color").with_categories(["red", "blue", "green"]),
            FeatureSchema::categorical("label"),
        ],
        &[
            ("x", Column::Numeric(&x)),
            ("score", Column::Numeric(&[0.5; 8])),
            ("color", Column::Categorical(&color)),
            ("label", Column::Categorical(&label)),
        ],
        BaselineConfig::default(),
    )
    .unwrap()
}

#[test]
fn quality_counts_on_a_hand_built_batch() {
    let b = quality_baseline();
    let x = b.feature("x").unwrap().numeric.as_ref().unwrap();
    assert_eq!((x.lower_fence, x.upper_fence), (-2.5, 11.5));
    // Row by row:
    // 0: clean
    // 1: x null, color unknown ("violet")
    // 2: x = 10.5 out of range (not an outlier), label unknown ("maybe")
    // 3: x = 12 outlier and out of range, color null
    // 4: x = −3 outlier and out of range; score = ∞ (violation)
    // 5: x = ∞ (violation); label null
    // 6: score = "high" (violation, wrong kind); color = 7 (violation, wrong kind)
    // 7: x = −1 out of range (not an outlier); color "green" (declared, never seen: known)
    let xs = [1.0, f64::NAN, 10.5, 12.0, -3.0, f64::INFINITY, 5.0, -1.0];
    let score = [
        Value::Number(0.5),
        Value::Null,
        Value::Number(0.1),
        Value::Number(0.2),
        Value::Number(f64::INFINITY),
        Value::Number(f64::NAN),
        Value::Text("high"),
        Value::Number(0.9),
    ];
    let color = [
        Value::Text("red"),
        Value::Text("violet"),
        Value::Text("blue"),
        Value::Null,
        Value::Text("red"),
        Value::Text("red"),
        Value::Number(7.0),
        Value::Text("green"),
    ];
    let label = [
        Some("no"),
        Some("no"),
        Some("maybe"),
        Some("no"),
        Some("no"),
        None,
        Some("no"),
        Some("no"),
    ];
    let m = DataQuality::check(
        &b,
        &[
            ("x", Column::Numeric(&xs)),
            ("score", Column::Mixed(&score)),
            ("color", Column::Mixed(&color)),
            ("label", Column::Categorical(&label)),
        ],
        "churn",
        "2",
        Timestamp::from_millis(1_700_000_000_000),
    )
    .unwrap();
    assert_eq!((m.model_name.as_str(), m.model_version.as_str()), ("churn", "2"));
    assert_eq!(m.timestamp, Timestamp::from_millis(1_700_000_000_000));
    assert_eq!(m.total_records, 8);
    assert_eq!(m.schema_violations, 3); // rows 4, 5, 6
    assert_eq!(m.null_rates["x"], 0.125);
    assert_eq!(m.null_rates["score"], 0.25); // Null and NaN
    assert_eq!(m.null_rates["color"], 0.125);
    assert_eq!(m.null_rates["label"], 0.125);
    assert_eq!(m.outlier_counts["x"], 2);
    // score's baseline is constant 0.5: fences 0.5 and 0.5, every other value is an outlier.
    assert_eq!(m.outlier_counts["score"], 3); // rows 2, 3, 7

    assert_eq!(m.range_violations.len(), 1);
    assert_eq!(m.range_violations["x"], 4);
    assert_eq!(m.unknown_categories["color"], 1);
    assert_eq!(m.unknown_categories["label"], 1);
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "id": "churn:2:1700000000000",
            "modelName": "churn", "modelVersion": "2", "timestamp": 1_700_000_000_000i64,
            "totalRecords": 8, "schemaViolations": 3,
            "nullRates": {"color": 0.125, "label": 0.125, "score": 0.25, "x": 0.125},
            "outlierCounts": {"score": 3, "x": 2},
            "rangeViolations": {"x": 4},
            "unknownCategories": {"color": 1, "label": 1},
        })
    );
    assert_eq!(serde_json::from_value::<DataQualityMetrics>(json).unwrap(), m);
}

#[test]
fn quality_missing_columns_and_errors() {
    let b = quality_baseline();
    let xs = [1.0, 2.0, 3.0];
    // Only x given: the other three features are missing in every row.
    let m =
        DataQuality::check(&b, &[("x", Column::Numeric(&xs))], "m", "1", Timestamp::from_millis(5))
            .unwrap();
    assert_eq!((m.total_records, m.schema_violations), (3, 3));
    assert_eq!(m.null_rates["x"], 0.0);
    assert_eq!(m.null_rates["score"], 1.0);
    assert_eq!(m.unknown_categories["color"], 0);
    // No columns at all: no rows.
    let m = DataQuality::check(&b, &[], "m", "1", Timestamp::from_millis(5)).unwrap();
    assert_eq!((m.total_records, m.schema_violations, m.null_rates["x"]), (0, 0, 0.0));
    // A categorical column given for a numeric feature: every non-null value violates.
    let m = DataQuality::check(
        &b,
        &[("x", Column::Categorical(&[Some("1"), None]))],
        "m",
        "1",
        Timestamp::from_millis(5),
    )
    .unwrap();
    assert_eq!((m.schema_violations, m.null_rates["x"]), (2, 0.5));

    let t = Timestamp::from_millis(0);
    let err = DataQuality::check(
        &b,
        &[("x", Column::Numeric(&xs)), ("score", Column::Numeric(&[1.0]))],
        "m",
        "1",
        t,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.to_string(), "invalid input: column 'score' has 1 rows, column 'x' has 3");
    let err = DataQuality::check(&b, &[("age", Column::Numeric(&xs))], "m", "1", t).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.to_string(), "invalid input: column 'age' is not a feature of the schema");
    assert_eq!(FeatureKind::Categorical.as_str(), "categorical");
}
