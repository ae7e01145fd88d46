//! The drift check (`drift::check`): verdicts, agreement with the underlying tests,
//! parallelism, overrides, `DriftMetrics` rows, concept drift and config validation.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::collections::BTreeMap;

use harper_edge_core::drift::baseline::{Baseline, BaselineConfig, Column, FeatureSchema};
use harper_edge_core::drift::check::{
    ConceptDriftConfig, DistributionSummary, DriftConfig, DriftMethod, DriftReport, DriftType,
    FeatureOverride, check, concept_drift, normal_sf,
};
use harper_edge_core::drift::chi2;
use harper_edge_core::drift::ks::{Alternative, Method, ks_2samp};
use harper_edge_core::{Error, Timestamp};

/// xorshift64* with Box–Muller normals: deterministic across platforms.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        mean + sd * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
    fn normals(&mut self, n: usize, mean: f64, sd: f64) -> Vec<f64> {
        (0..n).map(|_| self.normal(mean, sd)).collect()
    }
    /// Categories drawn with the given weights.
    fn categories(&mut self, n: usize, cats: &[(&'static str, f64)]) -> Vec<Option<&'static str>> {
        let total: f64 = cats.iter().map(|c| c.1).sum();
        (0..n)
            .map(|_| {
                let mut u = self.uniform() * total;
                for &(c, w) in cats {
                    if u < w {
                        return Some(c);
                    }
                    u -= w;
                }
                Some(cats[cats.len() - 1].0)
            })
            .collect()
    }
}

const COLORS: [(&str, f64); 3] = [("red", 0.5), ("green", 0.3), ("blue", 0.2)];

/// A baseline of numeric `a`, `b`, `c` (N(0, 1)) and categorical `color`.
struct Fixture {
    a: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
    color: Vec<Option<&'static str>>,
    baseline: Baseline,
}

fn fixture() -> Fixture {
    let mut rng = Rng::new(1);
    let (a, b, c) =
        (rng.normals(2000, 0.0, 1.0), rng.normals(2000, 0.0, 1.0), rng.normals(2000, 0.0, 1.0));
    let color = rng.categories(2000, &COLORS);
    let schema = [
        FeatureSchema::numeric("a"),
        FeatureSchema::numeric("b"),
        FeatureSchema::numeric("c"),
        FeatureSchema::categorical("color"),
    ];
    let baseline = Baseline::fit(
        &schema,
        &[
            ("a", Column::Numeric(&a)),
            ("b", Column::Numeric(&b)),
            ("c", Column::Numeric(&c)),
            ("color", Column::Categorical(&color)),
        ],
        BaselineConfig::default(),
    )
    .unwrap();
    Fixture { a, b, c, color, baseline }
}

fn by_name<'r>(r: &'r DriftReport, name: &str) -> &'r harper_edge_core::drift::check::FeatureDrift {
    r.features.iter().find(|f| f.feature_name == name).unwrap()
}

fn invalid_message(e: Error) -> String {
    match e {
        Error::InvalidInput { message } => message,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[test]
fn undrifted_data_has_no_verdict() {
    let fx = fixture();
    let mut rng = Rng::new(2);
    let (a, b, c) =
        (rng.normals(1000, 0.0, 1.0), rng.normals(1000, 0.0, 1.0), rng.normals(1000, 0.0, 1.0));
    let color = rng.categories(1000, &COLORS);
    let cols = [
        ("a", Column::Numeric(&a)),
        ("b", Column::Numeric(&b)),
        ("c", Column::Numeric(&c)),
        ("color", Column::Categorical(&color)),
    ];
    let r = check(&fx.baseline, &cols, &DriftConfig::default()).unwrap();
    assert_eq!(r.features.len(), 4);
    assert_eq!((r.drifted_count, r.drifted_share), (0, 0.0));
    for f in &r.features {
        assert!(f.p_value.unwrap() >= 0.05, "{}: p = {:?}", f.feature_name, f.p_value);
        assert!(f.psi.unwrap() < 0.1, "{}: psi = {:?}", f.feature_name, f.psi);
        assert_eq!(f.threshold, 0.05);
    }
    // sorted by score descending when nothing drifted
    for w in r.features.windows(2) {
        assert!(w[0].drift_score >= w[1].drift_score);
    }
}

#[test]
fn shift_scale_and_new_category_are_flagged_with_the_right_method() {
    let fx = fixture();
    let mut rng = Rng::new(3);
    let a = rng.normals(1000, 0.5, 1.0); // mean shift
    let b = rng.normals(1000, 0.0, 2.0); // scale change
    let c = rng.normals(1000, 0.0, 1.0); // unchanged
    let mut color = rng.categories(1000, &COLORS);
    for v in color.iter_mut().step_by(5) {
        *v = Some("violet"); // a new category, 20 %
    }
    let cols = [
        ("a", Column::Numeric(&a)),
        ("b", Column::Numeric(&b)),
        ("c", Column::Numeric(&c)),
        ("color", Column::Categorical(&color)),
    ];
    let r = check(&fx.baseline, &cols, &DriftConfig::default()).unwrap();
    assert_eq!(r.drifted_count, 3);
    assert_eq!(r.drifted_share, 0.75);
    for name in ["a", "b"] {
        let f = by_name(&r, name);
        assert_eq!((f.drift_method, f.drifted), (DriftMethod::Ks, true), "{name}");
        assert!(f.p_value.unwrap() < 1e-6, "{name}");
    }
    let f = by_name(&r, "color");
    assert_eq!((f.drift_method, f.drifted), (DriftMethod::Chi2, true));
    match &f.current_summary {
        DistributionSummary::Categorical { counts, count, .. } => {
            assert_eq!(counts["violet"], 200);
            assert_eq!(*count, 1000);
        }
        other => panic!("{other:?}"),
    }
    assert!(!by_name(&r, "c").drifted);
    // drifted first, by score descending; the undrifted `c` last
    assert!(r.features[..3].iter().all(|f| f.drifted));
    assert_eq!(r.features[3].feature_name, "c");
    for w in r.features[..3].windows(2) {
        assert!(w[0].drift_score >= w[1].drift_score);
    }
    // the mean-shifted current summary
    match &by_name(&r, "a").current_summary {
        DistributionSummary::Numeric { mean, bin_proportions, count, nulls, .. } => {
            assert!((mean - 0.5).abs() < 0.1);
            assert_eq!((*count, *nulls), (1000, 0));
            assert!((bin_proportions.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn ks_and_chi2_equal_the_underlying_tests_on_raw_data() {
    let fx = fixture();
    let mut rng = Rng::new(4);
    let a = rng.normals(500, 0.1, 1.0);
    let color = rng.categories(700, &[("red", 0.4), ("green", 0.4), ("blue", 0.2)]);
    let r = check(&fx.baseline, &[("a", Column::Numeric(&a))], &DriftConfig::default()).unwrap();
    let want = ks_2samp(&fx.a, &a, Alternative::TwoSided, Method::Auto).unwrap();
    let f = by_name(&r, "a");
    assert_eq!(f.drift_score, want.statistic);
    assert_eq!(f.p_value, Some(want.p_value));

    let r = check(&fx.baseline, &[("color", Column::Categorical(&color))], &DriftConfig::default())
        .unwrap();
    let tally = |v: &[Option<&'static str>]| {
        let mut m: BTreeMap<&str, u64> = BTreeMap::new();
        for s in v.iter().flatten() {
            *m.entry(s).or_default() += 1;
        }
        m
    };
    let want = chi2::categorical(tally(&fx.color), tally(&color), true).unwrap();
    let f = by_name(&r, "color");
    assert_eq!(f.drift_score, want.test.statistic);
    assert_eq!(f.p_value, Some(want.test.p_value));
    assert_eq!(r.features.len(), 1); // features without a column are not checked
    // b and c: unused here but part of the fixture
    assert_eq!((fx.b.len(), fx.c.len()), (2000, 2000));
}

#[test]
fn parallel_equals_sequential() {
    let mut rng = Rng::new(5);
    let names: Vec<String> = (0..9).map(|i| format!("f{i}")).collect();
    let reference: Vec<Vec<f64>> = (0..9).map(|_| rng.normals(800, 0.0, 1.0)).collect();
    let current: Vec<Vec<f64>> = (0..9).map(|i| rng.normals(400, 0.05 * i as f64, 1.0)).collect();
    let schema: Vec<FeatureSchema> = names.iter().map(FeatureSchema::numeric).collect();
    let ref_cols: Vec<(&str, Column<'_>)> =
        names.iter().zip(&reference).map(|(n, v)| (n.as_str(), Column::Numeric(v))).collect();
    let baseline = Baseline::fit(&schema, &ref_cols, BaselineConfig::default()).unwrap();
    let cols: Vec<(&str, Column<'_>)> =
        names.iter().zip(&current).map(|(n, v)| (n.as_str(), Column::Numeric(v))).collect();
    let run = |threads| {
        check(&baseline, &cols, &DriftConfig { threads, ..DriftConfig::default() }).unwrap()
    };
    let sequential = run(Some(1));
    assert_eq!(sequential.features.len(), 9);
    for threads in [Some(2), Some(3), Some(4), Some(16), None] {
        assert_eq!(run(threads), sequential, "threads {threads:?}");
    }
}

#[test]
fn overrides_apply() {
    let fx = fixture();
    let mut rng = Rng::new(6);
    let a = rng.normals(1000, 0.5, 1.0);
    let b = rng.normals(1000, 0.0, 1.0);
    let c = rng.normals(1000, 0.3, 1.0);
    let color = rng.categories(1000, &COLORS);
    let cols = [
        ("a", Column::Numeric(&a)),
        ("b", Column::Numeric(&b)),
        ("c", Column::Numeric(&c)),
        ("color", Column::Categorical(&color)),
    ];
    let mut config = DriftConfig::default();
    config.overrides.insert(
        "a".into(),
        FeatureOverride { method: Some(DriftMethod::Psi), threshold: Some(0.1) },
    );
    config.overrides.insert(
        "c".into(),
        FeatureOverride { method: Some(DriftMethod::Wasserstein), threshold: None },
    );
    config.overrides.insert(
        "color".into(),
        FeatureOverride { method: Some(DriftMethod::Js), threshold: Some(0.5) },
    );
    config.overrides.insert("b".into(), FeatureOverride { method: None, threshold: Some(0.9) });
    let r = check(&fx.baseline, &cols, &config).unwrap();
    let a_ = by_name(&r, "a");
    assert_eq!((a_.drift_method, a_.threshold), (DriftMethod::Psi, 0.1));
    assert!(a_.p_value.unwrap() < 1e-10, "calibrated PSI p-value {:?}", a_.p_value);
    assert_eq!(Some(a_.drift_score), a_.psi);
    assert!(a_.drifted && a_.drift_score > 0.1);
    let c_ = by_name(&r, "c");
    assert_eq!((c_.drift_method, c_.threshold), (DriftMethod::Wasserstein, 0.1));
    assert_eq!(Some(c_.drift_score), c_.wasserstein);
    assert!(c_.drifted && (c_.drift_score - 0.3).abs() < 0.1);
    let color_ = by_name(&r, "color");
    assert_eq!(
        (color_.drift_method, color_.threshold, color_.drifted),
        (DriftMethod::Js, 0.5, false)
    );
    assert!(color_.drift_score > 0.0 && color_.drift_score < 0.1);
    let b_ = by_name(&r, "b");
    assert_eq!((b_.drift_method, b_.threshold), (DriftMethod::Ks, 0.9));
    assert_eq!(b_.drifted, b_.p_value.unwrap() < 0.9);
    // Wasserstein asks KS for significance; uncalibrated, distances have no p-value.
    assert!(c_.p_value.unwrap() < 0.05);
    let fixed = DriftConfig { calibrate_distances: false, ..config.clone() };
    let r = check(&fx.baseline, &cols, &fixed).unwrap();
    assert_eq!((by_name(&r, "a").p_value, by_name(&r, "c").p_value), (None, None));
    assert!(by_name(&r, "a").drifted);

    // methods by name, and their serde form
    assert_eq!("wasserstein".parse::<DriftMethod>().unwrap(), DriftMethod::Wasserstein);
    assert!(invalid_message("kl".parse::<DriftMethod>().unwrap_err()).contains("'kl'"));
    let json = serde_json::to_string(&config).unwrap();
    assert!(json.contains(r#""a":{"method":"psi","threshold":0.1}"#), "{json}");
    assert!(json.contains(r#""psiThreshold":0.2"#), "{json}");
    let back: DriftConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, config);
    let defaults: DriftConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(defaults, DriftConfig::default());
}

#[test]
fn nulls_and_violations_are_counted_not_tested() {
    let fx = fixture();
    let mut a = Rng::new(7).normals(100, 0.0, 1.0);
    a[3] = f64::NAN;
    a[4] = f64::INFINITY;
    a[5] = f64::NEG_INFINITY;
    let r = check(&fx.baseline, &[("a", Column::Numeric(&a))], &DriftConfig::default()).unwrap();
    let valid: Vec<f64> = a.iter().copied().filter(|x| x.is_finite()).collect();
    let want = ks_2samp(&fx.a, &valid, Alternative::TwoSided, Method::Auto).unwrap();
    let f = by_name(&r, "a");
    assert_eq!(f.p_value, Some(want.p_value));
    match &f.current_summary {
        DistributionSummary::Numeric { count, nulls, violations, .. } => {
            assert_eq!((*count, *nulls, *violations), (100, 1, 2));
        }
        other => panic!("{other:?}"),
    }
    let empty = [f64::NAN, f64::INFINITY];
    let e = check(&fx.baseline, &[("a", Column::Numeric(&empty))], &DriftConfig::default());
    assert!(invalid_message(e.unwrap_err()).contains("feature 'a'"));
}

#[test]
fn to_rows_fields_and_ids() {
    let fx = fixture();
    let mut rng = Rng::new(8);
    let a = rng.normals(300, 1.0, 1.0);
    let color = rng.categories(300, &COLORS);
    let cols = [("a", Column::Numeric(&a)), ("color", Column::Categorical(&color))];
    let r = check(&fx.baseline, &cols, &DriftConfig::default()).unwrap();
    let t = Timestamp::from_millis(1_700_000_000_000);
    let rows = r.to_rows("fraud", "2", t, &["color"]).unwrap();
    assert_eq!(rows.len(), 2);
    let a_row = rows.iter().find(|x| x.feature_name == "a").unwrap();
    assert_eq!(a_row.id, "fraud:2:1700000000000:input:a");
    assert_eq!(a_row.drift_type, DriftType::Input);
    assert_eq!(a_row.drift_method, "ks");
    assert_eq!(a_row.drift_score, by_name(&r, "a").drift_score);
    assert_eq!(a_row.p_value, by_name(&r, "a").p_value);
    assert_eq!(a_row.current_distribution["kind"], "numeric");
    assert_eq!(a_row.current_distribution["count"], 300);
    assert!(a_row.baseline_distribution["binProportions"].is_array());
    let c_row = rows.iter().find(|x| x.feature_name == "color").unwrap();
    assert_eq!(c_row.id, "fraud:2:1700000000000:prediction:color");
    assert_eq!((c_row.drift_type, c_row.drift_method.as_str()), (DriftType::Prediction, "chi2"));
    let json = serde_json::to_value(a_row).unwrap();
    for key in [
        "id",
        "modelName",
        "modelVersion",
        "timestamp",
        "driftType",
        "featureName",
        "driftScore",
        "driftMethod",
        "pValue",
        "baselineDistribution",
        "currentDistribution",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    assert_eq!(json["driftType"], "input");
    assert_eq!(json["timestamp"], 1_700_000_000_000i64);
    let report_json = serde_json::to_value(&r).unwrap();
    assert!(report_json["driftedCount"].is_u64());
    assert!(report_json["features"][0]["featureName"].is_string());
    assert!(report_json["features"][0]["baselineSummary"].is_object());
}

/// `P(Z ≥ z)` by Simpson integration of the normal density over `[z, z + 12]`, independent of
/// the library.
fn normal_sf_by_quadrature(z: f64) -> f64 {
    let n = 200_000;
    let h = 12.0 / n as f64;
    let pdf = |x: f64| (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let mut s = pdf(z) + pdf(z + 12.0);
    for i in 1..n {
        s += pdf(z + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

#[test]
fn concept_drift_on_hand_computed_numbers() {
    let config = ConceptDriftConfig::default();
    assert_eq!(
        (config.min_labeled_samples, config.accuracy_drop_threshold, config.alpha),
        (100, 0.05, 0.05)
    );
    // 900/1000 → 850/1000: pooled 0.875, se = √(0.875·0.125·(2/1000))
    let c = concept_drift(900, 1000, 850, 1000, &config).unwrap();
    let se = (0.875f64 * 0.125 * 0.002).sqrt();
    let z = (0.9 - 0.85) / se;
    assert!((c.z_statistic.unwrap() - z).abs() < 1e-9);
    assert!((c.z_statistic.unwrap() - 3.3806170189140694).abs() < 1e-9); // Python
    let p = normal_sf_by_quadrature(z);
    assert!((c.p_value.unwrap() - p).abs() < 1e-12);
    assert!((c.p_value.unwrap() - 0.00036161635821509283).abs() < 1e-15); // 0.5·erfc(z/√2)
    assert!((c.accuracy_drop.unwrap() - 0.05).abs() < 1e-12);
    assert!(c.enough_data && c.drifted);
    // a drop below the threshold: not drifted despite p < alpha
    let strict = ConceptDriftConfig { accuracy_drop_threshold: 0.06, ..config };
    let c = concept_drift(900, 1000, 850, 1000, &strict).unwrap();
    assert!(c.enough_data && !c.drifted && c.p_value.unwrap() < 0.05);

    // 90/100 → 80/100: drop 0.1, z = 1.98, p = 0.0238
    let c = concept_drift(90, 100, 80, 100, &config).unwrap();
    assert!((c.z_statistic.unwrap() - 1.9802950859533481).abs() < 1e-9);
    assert!((c.p_value.unwrap() - 0.023835190328080753).abs() < 1e-14);
    assert!(c.enough_data && c.drifted);

    // too few labels on one side: judged not drifted, not an error
    let c = concept_drift(90, 100, 40, 99, &config).unwrap();
    assert!(!c.enough_data && !c.drifted);
    assert!(c.p_value.unwrap() < 1e-6);

    // a big drop that is not significant on few labels
    let small = ConceptDriftConfig { min_labeled_samples: 5, ..config };
    let c = concept_drift(9, 10, 8, 10, &small).unwrap();
    assert!(c.enough_data && !c.drifted && c.p_value.unwrap() > 0.05);

    // no labels at all: no accuracy, no row
    let c = concept_drift(0, 0, 5, 10, &config).unwrap();
    assert_eq!((c.baseline_accuracy, c.accuracy_drop, c.enough_data), (None, None, false));
    assert!(c.to_row("m", "1", Timestamp::from_millis(5)).is_none());

    // the concept row
    let c = concept_drift(180, 200, 160, 200, &config).unwrap();
    assert!(c.drifted);
    let row = c.to_row("fraud", "2", Timestamp::from_millis(42)).unwrap();
    assert_eq!(row.id, "fraud:2:42:concept:accuracy");
    assert_eq!((row.drift_type, row.drift_method.as_str()), (DriftType::Concept, "accuracy_drop"));
    assert!((row.drift_score - 0.1).abs() < 1e-12);
    assert!((row.p_value.unwrap() - 0.002550699823002498).abs() < 1e-14);
    assert_eq!(row.current_distribution["total"], 200);
    assert_eq!(row.baseline_distribution["correct"], 180);

    // normal_sf on both sides of 0
    assert_eq!(normal_sf(0.0).unwrap(), 0.5);
    assert!((normal_sf(-1.0).unwrap() + normal_sf(1.0).unwrap() - 1.0).abs() < 1e-15);
    assert!((normal_sf(1.0).unwrap() - 0.15865525393145707).abs() < 1e-16);
    assert!(normal_sf(f64::NAN).is_err());
}

#[test]
fn config_validation_names_the_field() {
    let fx = fixture();
    let a = [0.0, 1.0];
    let cols = [("a", Column::Numeric(&a))];
    let bad =
        |config: DriftConfig| invalid_message(check(&fx.baseline, &cols, &config).unwrap_err());
    assert!(bad(DriftConfig { alpha: 0.0, ..DriftConfig::default() }).contains("alpha"));
    assert!(bad(DriftConfig { alpha: f64::NAN, ..DriftConfig::default() }).contains("alpha"));
    assert!(
        bad(DriftConfig { psi_threshold: -1.0, ..DriftConfig::default() }).contains("psiThreshold")
    );
    assert!(
        bad(DriftConfig { js_threshold: 2.0, ..DriftConfig::default() }).contains("jsThreshold")
    );
    assert!(
        bad(DriftConfig { wasserstein_threshold: f64::INFINITY, ..DriftConfig::default() })
            .contains("wassersteinThreshold")
    );
    assert!(bad(DriftConfig { threads: Some(0), ..DriftConfig::default() }).contains("threads"));
    let with = |name: &str, o: FeatureOverride| {
        let mut c = DriftConfig::default();
        c.overrides.insert(name.into(), o);
        c
    };
    let m = bad(with("zz", FeatureOverride::default()));
    assert!(m.contains("overrides['zz']") && m.contains("not a feature"), "{m}");
    let m = bad(with("a", FeatureOverride { method: Some(DriftMethod::Chi2), threshold: None }));
    assert!(m.contains("overrides['a']") && m.contains("chi2"), "{m}");
    let m = bad(with("color", FeatureOverride { method: Some(DriftMethod::Ks), threshold: None }));
    assert!(m.contains("overrides['color']"), "{m}");
    let m = bad(with("a", FeatureOverride { method: None, threshold: Some(1.5) }));
    assert!(m.contains("overrides['a'].threshold"), "{m}");
    // column errors
    let m = invalid_message(
        check(&fx.baseline, &[("nope", Column::Numeric(&a))], &DriftConfig::default()).unwrap_err(),
    );
    assert!(m.contains("'nope'"), "{m}");

    let bad_concept =
        |c: ConceptDriftConfig| invalid_message(concept_drift(1, 2, 1, 2, &c).unwrap_err());
    let d = ConceptDriftConfig::default();
    assert!(
        bad_concept(ConceptDriftConfig { min_labeled_samples: 0, ..d })
            .contains("minLabeledSamples")
    );
    assert!(
        bad_concept(ConceptDriftConfig { accuracy_drop_threshold: 1.0, ..d })
            .contains("accuracyDropThreshold")
    );
    assert!(bad_concept(ConceptDriftConfig { alpha: 1.0, ..d }).contains("alpha"));
    let m = invalid_message(concept_drift(3, 2, 1, 2, &d).unwrap_err());
    assert!(m.contains("baseline_correct"), "{m}");
    let json = serde_json::to_string(&d).unwrap();
    assert_eq!(json, r#"{"minLabeledSamples":100,"accuracyDropThreshold":0.05,"alpha":0.05}"#);
}

#[test]
fn text_in_a_numeric_feature_is_a_violation_and_numbers_still_count() {
    use harper_edge_core::drift::baseline::Value;
    let fx = fixture();
    let raw = Rng::new(9).normals(50, 0.0, 1.0);
    let mut mixed: Vec<Value<'_>> = raw.iter().map(|&x| Value::Number(x)).collect();
    mixed[0] = Value::Text("oops");
    mixed[1] = Value::Null;
    let r = check(&fx.baseline, &[("a", Column::Mixed(&mixed))], &DriftConfig::default()).unwrap();
    let f = by_name(&r, "a");
    match &f.current_summary {
        DistributionSummary::Numeric { count, nulls, violations, .. } => {
            assert_eq!((*count, *nulls, *violations), (50, 1, 1));
        }
        other => panic!("{other:?}"),
    }
    let want = ks_2samp(&fx.a, &raw[2..], Alternative::TwoSided, Method::Auto).unwrap();
    assert_eq!(f.p_value, Some(want.p_value), "the 48 numbers are tested");
}

#[test]
fn a_subsampled_baseline_tests_against_its_order_statistics() {
    let fx = fixture();
    let schema = [FeatureSchema::numeric("a")];
    let config = BaselineConfig { max_sample: Some(101), ..BaselineConfig::default() };
    let small = Baseline::fit(&schema, &[("a", Column::Numeric(&fx.a))], config).unwrap();
    let current = Rng::new(11).normals(300, 0.5, 1.0);
    let r = check(&small, &[("a", Column::Numeric(&current))], &DriftConfig::default()).unwrap();
    let f = by_name(&r, "a");
    // The test runs on the 101 kept values, so it equals ks_2samp on exactly those.
    let sample = small.feature("a").unwrap().numeric.as_ref().unwrap().sample.as_slice().to_vec();
    assert_eq!(sample.len(), 101);
    let want = ks_2samp(&sample, &current, Alternative::TwoSided, Method::Auto).unwrap();
    assert_eq!(f.p_value, Some(want.p_value));
    assert!(f.drifted, "a 0.5 sd shift is found even against 101 order statistics");
    // Against the full reference the statistic differs by at most about 1/100.
    let full = ks_2samp(&fx.a, &current, Alternative::TwoSided, Method::Auto).unwrap();
    assert!(
        (full.statistic - f.drift_score).abs() <= 0.011,
        "{} vs {}",
        full.statistic,
        f.drift_score
    );
}

#[test]
fn the_model_verdict_adjusts_p_values_across_features() {
    use harper_edge_core::drift::multiple::{Correction, adjust};
    // One feature at a borderline p-value (0.01 < p < 0.05), nine identical ones (p = 1).
    let reference: Vec<f64> = (0..40).map(f64::from).collect();
    let (shift, shifted) = (1..40)
        .map(|k| (k, (k..40 + k).map(f64::from).collect::<Vec<f64>>()))
        .find(|(_, cur)| {
            let schema = [FeatureSchema::numeric("x")];
            let b = Baseline::fit(
                &schema,
                &[("x", Column::Numeric(&reference))],
                BaselineConfig::default(),
            )
            .unwrap();
            let r = check(&b, &[("x", Column::Numeric(cur))], &DriftConfig::default()).unwrap();
            let p = r.features[0].p_value.unwrap();
            p > 0.01 && p < 0.05
        })
        .expect("a shift with a borderline p-value");
    let names: Vec<String> = (0..10).map(|i| format!("f{i}")).collect();
    let schema: Vec<FeatureSchema> =
        names.iter().map(|n| FeatureSchema::numeric(n.as_str())).collect();
    let refs: Vec<(&str, Column<'_>)> =
        names.iter().map(|n| (n.as_str(), Column::Numeric(&reference))).collect();
    let b = Baseline::fit(&schema, &refs, BaselineConfig::default()).unwrap();
    let cur: Vec<(&str, Column<'_>)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), Column::Numeric(if i == 0 { &shifted } else { &reference })))
        .collect();

    let holm = check(&b, &cur, &DriftConfig::default()).unwrap();
    assert_eq!(holm.drifted_count, 1, "shift {shift}: the feature itself drifted");
    let p: Vec<f64> = holm.features.iter().map(|f| f.p_value.unwrap()).collect();
    let want = adjust(&p, Correction::Holm).unwrap();
    let got: Vec<f64> = holm.features.iter().map(|f| f.adjusted_p_value.unwrap()).collect();
    assert_eq!(got, want);
    assert!((got[0] - (10.0 * p[0]).min(1.0)).abs() < 1e-15);
    assert_eq!((holm.model.tested, holm.model.rejected), (10, 0));
    assert!(!holm.model.drifted, "one borderline feature among ten is not a drifted model");

    let none = DriftConfig { correction: Correction::None, ..DriftConfig::default() };
    let raw = check(&b, &cur, &none).unwrap();
    assert!(raw.model.drifted);
    assert_eq!(raw.model.min_adjusted_p_value, Some(p[0]));

    // A strong shift survives the adjustment.
    let far: Vec<f64> = (100..140).map(f64::from).collect();
    let mut strong = cur.clone();
    strong[1] = ("f1", Column::Numeric(&far));
    let r = check(&b, &strong, &DriftConfig::default()).unwrap();
    assert!(r.model.drifted);
    assert_eq!(r.model.rejected, 1);
    let bh = DriftConfig { correction: Correction::Bh, ..DriftConfig::default() };
    let r = check(&b, &strong, &bh).unwrap();
    assert!(r.model.drifted);
    assert_eq!(serde_json::to_value(r.model).unwrap()["correction"], "bh");
}

#[test]
fn calibrated_distances_keep_their_false_positive_rate_on_small_samples() {
    // 400 checks of two samples of 150 from one distribution: a PSI or JS threshold set low
    // flags nearly every one of them; with the chi-square null the verdict flags about α.
    let trials = 400;
    let (mut fixed_psi, mut psi, mut js, mut p_sum) = (0, 0, 0, 0.0);
    for t in 0..trials {
        let mut rng = Rng::new(1000 + t);
        let reference = rng.normals(150, 0.0, 1.0);
        let current = rng.normals(150, 0.0, 1.0);
        let schema = [FeatureSchema::numeric("x")];
        let b = Baseline::fit(
            &schema,
            &[("x", Column::Numeric(&reference))],
            BaselineConfig::default(),
        )
        .unwrap();
        let cols = [("x", Column::Numeric(&current))];
        let with = |method, threshold, calibrate| {
            let mut c = DriftConfig { calibrate_distances: calibrate, ..DriftConfig::default() };
            c.overrides.insert(
                "x".into(),
                FeatureOverride { method: Some(method), threshold: Some(threshold) },
            );
            check(&b, &cols, &c).unwrap().features.remove(0)
        };
        fixed_psi += usize::from(with(DriftMethod::Psi, 0.02, false).drifted);
        let f = with(DriftMethod::Psi, 0.02, true);
        psi += usize::from(f.drifted);
        p_sum += f.p_value.unwrap();
        js += usize::from(with(DriftMethod::Js, 0.01, true).drifted);
    }
    let rate = |n: usize| n as f64 / trials as f64;
    assert!(rate(fixed_psi) > 0.9, "a fixed PSI threshold of 0.02 at n = 150: {}", rate(fixed_psi));
    // Binomial(400, 0.05) has sd 0.011: 0.09 is well above chance for a calibrated verdict.
    assert!(rate(psi) < 0.09, "calibrated PSI false-positive rate {}", rate(psi));
    assert!(rate(js) < 0.09, "calibrated JS false-positive rate {}", rate(js));
    let mean_p = p_sum / f64::from(trials as u32);
    assert!(
        (mean_p - 0.5).abs() < 0.08,
        "PSI p-values under no drift should be about uniform: mean {mean_p}"
    );
}
