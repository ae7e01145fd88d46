//! The two-sample Kolmogorov–Smirnov test against scipy 1.18.1 (fixtures written by
//! `tests/data/drift/make_ks_fixtures.py`), plus properties that hold for any input: the
//! statistic by its definition, the exact p-value by counting lattice paths, symmetry under
//! swapping the samples, invariance under increasing transforms, and typed errors.
//!
//! Tolerance: statistic and p-value within 1e-9 relative of scipy's; a reference p-value
//! below 1e-300 (where a relative error says nothing about a drift decision) is matched to
//! 1e-300 absolute instead.
#![allow(clippy::unwrap_used, clippy::cast_precision_loss)]

use harper_edge_core::ErrorKind;
use harper_edge_core::drift::ks::{
    Alternative, KsResult, MAX_AUTO_EXACT, Method, SortedSample, ks_2samp, ks_2samp_sorted,
    kstwo_sf,
};
use proptest::prelude::*;
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/drift/ks_fixtures.json");
const REL_TOL: f64 = 1e-9;
const ABS_FLOOR: f64 = 1e-300;

// ----- the fixture sample generator (see make_ks_fixtures.py) -----

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The first `count` outputs of SplitMix64 seeded with `seed`: the k-th is the mix of
/// `seed + k·GOLDEN`.
fn splitmix64(seed: u64, count: usize) -> impl Iterator<Item = u64> {
    (1..=count as u64).map(move |k| {
        let mut z = seed.wrapping_add(k.wrapping_mul(GOLDEN));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

fn unit(z: u64) -> f64 {
    (z >> 11) as f64 * 2f64.powi(-53)
}

fn generate(spec: &Value) -> Vec<f64> {
    let seed = spec["seed"].as_u64().unwrap();
    let n = usize::try_from(spec["n"].as_u64().unwrap()).unwrap();
    let loc = spec["loc"].as_f64().unwrap();
    let scale = spec["scale"].as_f64().unwrap();
    match spec["transform"].as_str().unwrap() {
        "uniform" => splitmix64(seed, n).map(|z| loc + scale * unit(z)).collect(),
        "normal4" => {
            let u: Vec<f64> = splitmix64(seed, 4 * n).map(unit).collect();
            u.chunks_exact(4)
                .map(|c| loc + scale * ((((c[0] + c[1]) + c[2]) + c[3]) - 2.0))
                .collect()
        }
        "discrete" => {
            let levels = spec["levels"].as_u64().unwrap();
            splitmix64(seed, n).map(|z| loc + scale * (z % levels) as f64).collect()
        }
        other => panic!("unknown transform {other}"),
    }
}

fn value(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        v => v.as_f64().unwrap(),
    }
}

fn sample(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(values) => values.iter().map(value).collect(),
        Value::Object(o) => generate(&o["generate"]),
        other => panic!("bad sample {other}"),
    }
}

fn fixtures() -> Value {
    serde_json::from_str(&std::fs::read_to_string(FIXTURES).unwrap()).unwrap()
}

/// Relative error of `got` against `want`, or `None` when `want` is below the absolute floor
/// (then `got` must be within the floor).
fn rel_err(got: f64, want: f64) -> Option<f64> {
    if got == want {
        return Some(0.0);
    }
    if want.abs() < ABS_FLOOR {
        assert!((got - want).abs() <= ABS_FLOOR, "got {got:e}, want {want:e}");
        return None;
    }
    Some((got - want).abs() / want.abs())
}

#[derive(Default, Debug)]
struct Worst {
    statistic: f64,
    p_value: f64,
    cases: usize,
    floored: usize,
}

impl Worst {
    fn record(&mut self, name: &str, r: &KsResult, stat: f64, p: f64) {
        self.cases += 1;
        let es = rel_err(r.statistic, stat).unwrap();
        assert!(es <= REL_TOL, "{name}: statistic {} vs scipy {stat} (rel {es:e})", r.statistic);
        self.statistic = self.statistic.max(es);
        match rel_err(r.p_value, p) {
            Some(ep) => {
                assert!(ep <= REL_TOL, "{name}: p {:e} vs scipy {p:e} (rel {ep:e})", r.p_value);
                self.p_value = self.p_value.max(ep);
            }
            None => self.floored += 1,
        }
    }
}

#[test]
fn matches_scipy_on_every_fixture_case() {
    let fx = fixtures();
    assert_eq!(fx["scipy"], "1.18.1");
    let (mut exact, mut asymp) = (Worst::default(), Worst::default());
    let mut errors = 0;
    for case in fx["cases"].as_array().unwrap() {
        let name = format!(
            "{} / {} / {}",
            case["name"].as_str().unwrap(),
            case["alternative"].as_str().unwrap(),
            case["method"].as_str().unwrap()
        );
        let reference = sample(&case["reference"]);
        let current = sample(&case["current"]);
        assert_eq!(reference.len() as u64, case["n1"].as_u64().unwrap(), "{name}");
        assert_eq!(current.len() as u64, case["n2"].as_u64().unwrap(), "{name}");
        let alternative: Alternative = case["alternative"].as_str().unwrap().parse().unwrap();
        let method: Method = case["method"].as_str().unwrap().parse().unwrap();
        let result = ks_2samp(&reference, &current, alternative, method);
        if case["pvalue"].is_null() {
            // scipy's NaN: two one-value samples, two-sided, asymptotic.
            let err = result.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name}");
            errors += 1;
            continue;
        }
        let r = result.unwrap();
        let (stat, p) = (case["statistic"].as_f64().unwrap(), case["pvalue"].as_f64().unwrap());
        assert_eq!(r.statistic_location, value(&case["statistic_location"]), "{name}");
        assert_eq!(i64::from(r.statistic_sign), case["statistic_sign"].as_i64().unwrap(), "{name}");
        let used: Method = case["method_used"].as_str().unwrap().parse().unwrap();
        assert_eq!(r.method, used, "{name}");
        match used {
            Method::Exact => exact.record(&name, &r, stat, p),
            _ => asymp.record(&name, &r, stat, p),
        }
        // The sorted entry point gives the very same result.
        let sorted = ks_2samp_sorted(
            &SortedSample::new(reference).unwrap(),
            &SortedSample::new(current).unwrap(),
            alternative,
            method,
        )
        .unwrap();
        assert_eq!(sorted, r, "{name}");
    }
    eprintln!(
        "ks_2samp vs scipy: exact {exact:?}; asymptotic {asymp:?}; {errors} undefined (NaN in scipy)"
    );
    assert!(exact.cases > 100 && asymp.cases > 80, "{exact:?} {asymp:?}");
}

#[test]
fn kstwo_sf_matches_scipy() {
    let fx = fixtures();
    let (mut worst, mut count) = (0.0f64, 0);
    for row in fx["kstwo_sf"].as_array().unwrap() {
        let (n, d, want) =
            (row["n"].as_u64().unwrap(), row["d"].as_f64().unwrap(), row["sf"].as_f64().unwrap());
        let got = kstwo_sf(d, n).unwrap();
        if let Some(e) = rel_err(got, want) {
            assert!(e <= REL_TOL, "kstwo.sf({d}, {n}) = {got:e}, scipy {want:e} (rel {e:e})");
            worst = worst.max(e);
        }
        count += 1;
    }
    eprintln!("kstwo.sf vs scipy: {count} values, worst relative error {worst:e}");
    assert!(count > 300);
}

// ----- properties -----

/// The statistic by its definition: for every pooled value z, `#{r ≤ z}/n₁ − #{c ≤ z}/n₂`,
/// ECDF values as `k · (1/n)` (scipy's `linspace`), the first extreme in ascending order.
fn brute_force(a: &[f64], b: &[f64], alternative: Alternative) -> (f64, f64, i8) {
    let mut pooled: Vec<f64> = a.iter().chain(b).copied().collect();
    pooled.sort_by(f64::total_cmp);
    let ecdf = |s: &[f64], z: f64| {
        let k = s.iter().filter(|&&x| x <= z).count();
        if k == s.len() { 1.0 } else { k as f64 * (1.0 / s.len() as f64) }
    };
    let (mut max, mut max_at, mut min, mut min_at) = (f64::MIN, 0.0, f64::MAX, 0.0);
    for &z in &pooled {
        let diff = ecdf(a, z) - ecdf(b, z);
        if diff > max {
            (max, max_at) = (diff, z);
        }
        if diff < min {
            (min, min_at) = (diff, z);
        }
    }
    let minus = (-min).clamp(0.0, 1.0);
    match alternative {
        Alternative::Greater => (max, max_at, 1),
        Alternative::Less => (minus, min_at, -1),
        Alternative::TwoSided if minus > max => (minus, min_at, -1),
        Alternative::TwoSided => (max, max_at, 1),
    }
}

/// The exact p-value by counting, in integers, the lattice paths (orderings of the pooled
/// sample, all equally likely under the null for continuous data) whose statistic is at
/// least `d`: `count / C(n₁+n₂, n₁)`.
fn lattice_p_value(n1: usize, n2: usize, d: f64, alternative: Alternative) -> f64 {
    let reaches = |x: usize, y: usize| {
        // F_r − F_c after x reference and y current values, compared in integers:
        // x/n₁ − y/n₂ ≥ d  ⇔  x·n₂ − y·n₁ ≥ d·n₁n₂ (d is a multiple of 1/lcm up to rounding).
        let diff = (x * n2) as f64 - (y * n1) as f64;
        let bound = d * (n1 * n2) as f64 - 1e-6;
        match alternative {
            Alternative::Greater => diff >= bound,
            Alternative::Less => -diff >= bound,
            Alternative::TwoSided => diff.abs() >= bound,
        }
    };
    // paths[x][y]: paths to (x, y) that have not reached the boundary.
    let mut inside = vec![vec![0u128; n2 + 1]; n1 + 1];
    for x in 0..=n1 {
        for y in 0..=n2 {
            if (x, y) != (0, 0) && reaches(x, y) {
                continue;
            }
            inside[x][y] = if (x, y) == (0, 0) {
                1
            } else {
                (if x > 0 { inside[x - 1][y] } else { 0 })
                    + (if y > 0 { inside[x][y - 1] } else { 0 })
            };
        }
    }
    let total: u128 = (1..=n2 as u128).fold(1, |c, k| c * (n1 as u128 + k) / k);
    let outside = total - if d > 0.0 { inside[n1][n2] } else { 0 };
    outside as f64 / total as f64
}

fn small_sample() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(prop_oneof![4 => -1000i32..1000, 1 => -3i32..3], 1..40)
        .prop_map(|v| v.into_iter().map(f64::from).collect())
}

fn distinct_sample(max: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::hash_set(-100_000i32..100_000, 1..=max)
        .prop_map(|s| s.into_iter().map(f64::from).collect())
}

fn alternative() -> impl Strategy<Value = Alternative> {
    prop_oneof![Just(Alternative::TwoSided), Just(Alternative::Less), Just(Alternative::Greater)]
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![Just(Method::Auto), Just(Method::Exact), Just(Method::Asymptotic)]
}

fn run(a: &[f64], b: &[f64], alt: Alternative, method: Method) -> Option<KsResult> {
    match ks_2samp(a, b, alt, method) {
        Ok(r) => Some(r),
        Err(e) => {
            // The one undefined case: two one-value samples, two-sided, asymptotic.
            assert_eq!(
                (a.len(), b.len(), alt, method),
                (1, 1, Alternative::TwoSided, Method::Asymptotic),
                "{e}"
            );
            None
        }
    }
}

proptest! {
    // No regression files: a failure prints its minimal case, which goes into a fixture.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn statistic_is_the_definition_and_everything_is_in_range(
        a in small_sample(), b in small_sample(), alt in alternative(), m in method()
    ) {
        let Some(r) = run(&a, &b, alt, m) else { return Ok(()) };
        prop_assert!((0.0..=1.0).contains(&r.statistic), "{r:?}");
        prop_assert!((0.0..=1.0).contains(&r.p_value), "{r:?}");
        prop_assert!(r.method != Method::Auto);
        let (d, at, sign) = brute_force(&a, &b, alt);
        prop_assert_eq!((r.statistic, r.statistic_location, r.statistic_sign), (d, at, sign));
    }

    #[test]
    fn swapping_the_samples_mirrors_the_result(
        a in small_sample(), b in small_sample(), m in method()
    ) {
        let (Some(less), Some(greater)) =
            (run(&a, &b, Alternative::Less, m), run(&b, &a, Alternative::Greater, m))
        else { return Ok(()) };
        // D⁻ of (a, b) is D⁺ of (b, a), at the same place, with the same p-value.
        prop_assert_eq!(less.statistic, greater.statistic);
        prop_assert_eq!(less.statistic_location, greater.statistic_location);
        prop_assert_eq!(less.p_value, greater.p_value);
        prop_assert_eq!((less.statistic_sign, greater.statistic_sign), (-1, 1));
        if let (Some(ab), Some(ba)) =
            (run(&a, &b, Alternative::TwoSided, m), run(&b, &a, Alternative::TwoSided, m))
        {
            prop_assert_eq!(ab.statistic, ba.statistic);
            prop_assert_eq!(ab.p_value, ba.p_value);
            let plus = run(&a, &b, Alternative::Greater, m).unwrap().statistic;
            if plus != less.statistic {
                // Without a tie between D⁺ and D⁻, the sign flips.
                prop_assert_eq!(ab.statistic_sign, -ba.statistic_sign);
            }
        }
    }

    #[test]
    fn identical_samples_have_p_one(a in small_sample(), alt in alternative(), m in method()) {
        let Some(r) = run(&a, &a, alt, m) else { return Ok(()) };
        prop_assert_eq!(r.statistic, 0.0);
        prop_assert_eq!(r.p_value, 1.0);
    }

    #[test]
    fn increasing_transforms_change_only_the_location(
        a in small_sample(), b in small_sample(), alt in alternative(), m in method()
    ) {
        // x³ + 5x is strictly increasing and exact on these integers.
        let f = |x: f64| x * x * x + 5.0 * x;
        let (fa, fb): (Vec<f64>, Vec<f64>) = (a.iter().map(|&x| f(x)).collect(), b.iter().map(|&x| f(x)).collect());
        let (Some(r), Some(t)) = (run(&a, &b, alt, m), run(&fa, &fb, alt, m)) else { return Ok(()) };
        prop_assert_eq!((r.statistic, r.p_value, r.statistic_sign, r.method), (t.statistic, t.p_value, t.statistic_sign, t.method));
        prop_assert_eq!(f(r.statistic_location), t.statistic_location);
    }

    #[test]
    fn exact_p_value_counts_lattice_paths(
        a in distinct_sample(14), b in distinct_sample(14), alt in alternative()
    ) {
        // Continuous data: no value in both samples.
        prop_assume!(a.iter().all(|x| !b.contains(x)));
        let r = ks_2samp(&a, &b, alt, Method::Exact).unwrap();
        let want = lattice_p_value(a.len(), b.len(), r.statistic, alt);
        if r.method == Method::Asymptotic {
            // scipy's fallback: an exact sum that rounds past 1 (interleaved equal-size
            // samples, D = 1/n) is refused and the asymptotic p-value is used instead.
            prop_assert!(want >= 1.0 - 1e-12, "fell back with an exact p of {want}: {r:?}");
            return Ok(());
        }
        prop_assert_eq!(r.method, Method::Exact);
        prop_assert!((r.p_value - want).abs() <= 1e-12 * want.max(1e-300), "{r:?} vs {want}");
    }

    #[test]
    fn sorted_input_gives_the_same_result(
        a in small_sample(), b in small_sample(), alt in alternative(), m in method()
    ) {
        let mut sa = a.clone();
        sa.sort_by(f64::total_cmp);
        let (ra, rb) = (SortedSample::from_sorted(sa).unwrap(), SortedSample::new(b.clone()).unwrap());
        prop_assert_eq!(ks_2samp_sorted(&ra, &rb, alt, m).ok(), run(&a, &b, alt, m));
    }
}

// ----- errors and edges -----

#[test]
fn empty_and_nan_input_are_typed_errors() {
    let e = ks_2samp(&[], &[1.0], Alternative::TwoSided, Method::Auto).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(e.to_string(), "invalid input: reference sample is empty");
    let e = ks_2samp(&[1.0], &[], Alternative::Less, Method::Exact).unwrap_err();
    assert_eq!(e.to_string(), "invalid input: current sample is empty");
    let e =
        ks_2samp(&[1.0, 2.0, f64::NAN], &[1.0], Alternative::TwoSided, Method::Auto).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(e.to_string(), "invalid input: reference sample has NaN at index 2");
    let e =
        ks_2samp(&[1.0], &[f64::NAN, 0.0], Alternative::Greater, Method::Asymptotic).unwrap_err();
    assert_eq!(e.to_string(), "invalid input: current sample has NaN at index 0");

    let e = SortedSample::new(vec![0.0, f64::NAN]).unwrap_err();
    assert_eq!(e.to_string(), "invalid input: sample has NaN at index 1");
    let e = SortedSample::from_sorted(vec![1.0, 3.0, 2.0]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("index 2"), "{e}");
    // −0.0 and 0.0 are equal: either order is sorted.
    assert!(SortedSample::from_sorted(vec![-1.0, 0.0, -0.0, f64::INFINITY]).is_ok());
    let empty = SortedSample::new(Vec::new()).unwrap();
    let one = SortedSample::new(vec![1.0]).unwrap();
    let e = ks_2samp_sorted(&one, &empty, Alternative::TwoSided, Method::Auto).unwrap_err();
    assert_eq!(e.to_string(), "invalid input: current sample is empty");

    let e = ks_2samp(&[1.0], &[2.0], Alternative::TwoSided, Method::Asymptotic).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(kstwo_sf(f64::NAN, 3).is_err());
    assert!(kstwo_sf(0.5, 0).is_err());
}

#[test]
fn names_parse_and_print_as_scipy_spells_them() {
    for a in [Alternative::TwoSided, Alternative::Less, Alternative::Greater] {
        assert_eq!(a.as_str().parse::<Alternative>().unwrap(), a);
        assert_eq!(a.to_string(), a.as_str());
    }
    for m in [Method::Auto, Method::Exact, Method::Asymptotic] {
        assert_eq!(m.as_str().parse::<Method>().unwrap(), m);
    }
    assert_eq!("asymp".parse::<Method>().unwrap(), Method::Asymptotic);
    assert_eq!("two_sided".parse::<Alternative>().unwrap_err().kind(), ErrorKind::InvalidInput);
    assert!("approx".parse::<Method>().is_err());
}

#[test]
fn auto_switches_at_ten_thousand() {
    let uniform = |seed, n| -> Vec<f64> { splitmix64(seed, n).map(unit).collect() };
    let at =
        ks_2samp(&uniform(1, MAX_AUTO_EXACT), &uniform(2, 50), Alternative::TwoSided, Method::Auto);
    assert_eq!(at.unwrap().method, Method::Exact);
    let past = ks_2samp(
        &uniform(1, MAX_AUTO_EXACT + 1),
        &uniform(2, 50),
        Alternative::TwoSided,
        Method::Auto,
    );
    assert_eq!(past.unwrap().method, Method::Asymptotic);
}
