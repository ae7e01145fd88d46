//! The drift statistics against scipy 1.18.1 / numpy 2.4.6: every case of
//! `tests/data/drift/stats_fixtures.json` (written by `make_stats_fixtures.py`) to 1e-9
//! relative, plus properties (proptest) and typed errors for bad input.
//!
//! `cargo test --release -p harper-edge-core --test drift_stats -- --nocapture` prints the
//! worst relative error per statistic; the ignored `timings_on_a_million_rows` prints timings.
#![allow(clippy::unwrap_used)]

use std::sync::LazyLock;

use harper_edge_core::ErrorKind;
use harper_edge_core::drift::chi2::{self, categorical, chisquare, contingency};
use harper_edge_core::drift::distance::{
    CategoricalPsiBaseline, PsiBaseline, PsiConfig, jensen_shannon, psi, wasserstein,
    wasserstein_drift, wasserstein_weighted,
};
use harper_edge_core::drift::special::{
    chi2_ln_sf, chi2_sf, gamma_p, gamma_q, ln_gamma, ln_gamma_q,
};
use proptest::prelude::*;
use serde_json::Value;

const TOLERANCE: f64 = 1e-9;

static FIXTURES: LazyLock<Value> = LazyLock::new(|| {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/drift/stats_fixtures.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
});

fn cases(name: &str) -> &'static [Value] {
    FIXTURES[name].as_array().unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(f).collect()
}

fn ints(v: &Value) -> Vec<u64> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect()
}

fn pairs(v: &Value) -> Vec<(String, u64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_u64().unwrap()))
        .collect()
}

/// The fixture generator (see "generator" in the JSON): splitmix64 and exact float ops.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 * 2f64.powi(-53)
    }
}

fn generate(spec: &Value) -> Vec<f64> {
    let mut rng = SplitMix64(spec["seed"].as_u64().unwrap());
    let (loc, scale) = (f(&spec["loc"]), f(&spec["scale"]));
    let kind = spec["kind"].as_str().unwrap();
    let n = spec["n"].as_u64().unwrap();
    (0..n)
        .map(|_| match kind {
            "uniform" => loc + scale * rng.unit(),
            "irwin_hall" => {
                let mut s = rng.unit();
                s += rng.unit();
                s += rng.unit();
                s += rng.unit();
                loc + scale * (s - 2.0)
            }
            "cubic" => {
                let u = rng.unit();
                loc + scale * (u * u * u)
            }
            "integers" => loc + scale * (rng.next() % spec["k"].as_u64().unwrap()) as f64,
            other => panic!("unknown generator kind {other}"),
        })
        .collect()
}

fn sample(v: &Value) -> Vec<f64> {
    if v.get("values").is_some() { floats(&v["values"]) } else { generate(&v["gen"]) }
}

/// Relative error of `got` against `want` (0 when equal; `want = 0` needs `got = 0`).
fn rel(got: f64, want: f64) -> f64 {
    if got == want {
        0.0
    } else if want == 0.0 {
        f64::INFINITY
    } else {
        ((got - want) / want).abs()
    }
}

/// Worst relative error of one statistic, asserted and reported.
struct Worst {
    name: &'static str,
    worst: f64,
    at: String,
    checked: usize,
}

impl Worst {
    fn new(name: &'static str) -> Self {
        Worst { name, worst: 0.0, at: String::new(), checked: 0 }
    }

    fn check(&mut self, got: f64, want: f64, at: impl FnOnce() -> String) {
        let r = rel(got, want);
        let at = at();
        assert!(r <= TOLERANCE, "{}: {at}: got {got:e}, want {want:e} (rel {r:e})", self.name);
        self.checked += 1;
        if r > self.worst || self.at.is_empty() {
            self.worst = r;
            self.at = at;
        }
    }

    fn report(&self) {
        println!(
            "{:<24} {:>5} values, worst rel {:.2e} at {}",
            self.name, self.checked, self.worst, self.at
        );
    }
}

// ----------------------------------------------------------------------------------------------
// Special functions

#[test]
fn ln_gamma_matches_scipy_and_60_digit_arithmetic() {
    let (mut w, mut exact) = (Worst::new("gammaln"), Worst::new("ln gamma (decimal)"));
    for c in cases("ln_gamma") {
        let (x, scipy, want) = (f(&c[0]), f(&c[1]), f(&c[2]));
        let got = ln_gamma(x).unwrap();
        exact.check(got, want, || format!("x={x}"));
        // Near its zeros at 1 and 2 scipy's gammaln is only absolutely accurate (2e-10
        // relative at x = 0.999999, where ln Γ = 5.8e-7): there, compare within 1e-15.
        if (got - scipy).abs() <= 1e-15 && rel(got, scipy) > TOLERANCE {
            continue;
        }
        w.check(got, scipy, || format!("x={x}"));
    }
    w.report();
    exact.report();
    assert!(exact.worst < 1e-14, "{}", exact.worst);
}

/// Checks against scipy to 1e-9 unless scipy itself is further than that from the 60-digit
/// value (then the row is listed), and against the 60-digit value always.
fn check_scipy_and_exact(
    vs_scipy: &mut Worst,
    vs_exact: &mut Worst,
    got: f64,
    scipy: f64,
    exact: f64,
    at: &dyn Fn() -> String,
) {
    vs_exact.check(got, exact, at);
    if rel(scipy, exact) > TOLERANCE {
        println!(
            "  scipy off: {} {} = {scipy:e}, 60 digits {exact:e}, ours {got:e}",
            vs_scipy.name,
            at()
        );
    } else {
        vs_scipy.check(got, scipy, at);
    }
}

#[test]
fn incomplete_gamma_matches_scipy_and_60_digit_arithmetic() {
    let (mut wp, mut wq) = (Worst::new("gammainc P"), Worst::new("gammaincc Q"));
    let (mut ep, mut eq) = (Worst::new("P (decimal)"), Worst::new("Q (decimal)"));
    for c in cases("gammainc") {
        let (a, x) = (f(&c[0]), f(&c[1]));
        let (p, q, exact_p, exact_q) = (f(&c[2]), f(&c[3]), f(&c[4]), f(&c[5]));
        let at = || format!("a={a} x={x}");
        // Below the smallest normal f64 values are subnormal: no relative accuracy to check.
        if exact_p >= 1e-300 {
            check_scipy_and_exact(&mut wp, &mut ep, gamma_p(a, x).unwrap(), p, exact_p, &at);
        }
        if exact_q >= 1e-300 {
            check_scipy_and_exact(&mut wq, &mut eq, gamma_q(a, x).unwrap(), q, exact_q, &at);
            let ln_q = ln_gamma_q(a, x).unwrap();
            assert!((ln_q - exact_q.ln()).abs() <= 1e-12 * exact_q.ln().abs() + 1e-13, "{}", at());
        }
    }
    for w in [wp, wq, ep, eq] {
        w.report();
    }
}

#[test]
fn chi2_sf_matches_scipy_down_to_1e_minus_300() {
    let (mut w, mut exact) = (Worst::new("chi2.sf (chdtrc)"), Worst::new("chi2 sf (decimal)"));
    let mut tiny = 0;
    for c in cases("chi2_sf") {
        let (x, k, scipy, want) = (f(&c[0]), f(&c[1]), f(&c[2]), f(&c[3]));
        if want >= 1e-300 {
            let at = || format!("x={x} k={k}");
            check_scipy_and_exact(&mut w, &mut exact, chi2_sf(x, k).unwrap(), scipy, want, &at);
            tiny += usize::from(want < 1e-100);
        }
    }
    assert!(tiny >= 30, "the grid reaches the far tail");
    w.report();
    exact.report();
}

#[test]
fn chi2_ln_sf_matches_decimal_arithmetic_beyond_underflow() {
    let mut w = Worst::new("chi2 ln sf (decimal)");
    for c in cases("chi2_ln_sf") {
        let (x, k, want) = (f(&c[0]), f(&c[1]), f(&c[2]));
        w.check(chi2_ln_sf(x, k).unwrap(), want, || format!("x={x} k={k}"));
        if want < -745.0 {
            assert_eq!(chi2_sf(x, k).unwrap(), 0.0);
        }
    }
    w.report();
}

// ----------------------------------------------------------------------------------------------
// Chi-square tests

#[test]
fn chisquare_matches_scipy() {
    let (mut ws, mut wp, mut wl) =
        (Worst::new("chisquare stat"), Worst::new("chisquare p"), Worst::new("chisquare ln p"));
    for (i, c) in cases("chisquare").iter().enumerate() {
        let observed = floats(&c["observed"]);
        let expected = (!c["expected"].is_null()).then(|| floats(&c["expected"]));
        let ddof = c["ddof"].as_u64().unwrap() as usize;
        let got = chisquare(&observed, expected.as_deref(), ddof);
        if c.get("error").is_some() {
            assert_eq!(got.unwrap_err().kind(), ErrorKind::InvalidInput, "case {i}");
            continue;
        }
        let got = got.unwrap();
        assert_eq!(got.dof as u64, c["dof"].as_u64().unwrap());
        ws.check(got.statistic, f(&c["statistic"]), || format!("case {i}"));
        check_p(&mut wp, got.p_value, f(&c["p_value"]), || format!("case {i}"));
        wl.check(got.ln_p_value, f(&c["ln_p_value"]), || format!("case {i}"));
    }
    ws.report();
    wp.report();
    wl.report();
}

/// p-values: relative below 1e-9 where scipy's is a normal float, else underflowed in both.
fn check_p(w: &mut Worst, got: f64, want: f64, at: impl FnOnce() -> String) {
    if want >= 1e-300 {
        w.check(got, want, at);
    } else {
        assert!(got < 1e-300, "{}: got {got:e}, want {want:e}", at());
    }
}

#[test]
fn contingency_matches_scipy() {
    let (mut ws, mut wp, mut wl, mut we) = (
        Worst::new("contingency stat"),
        Worst::new("contingency p"),
        Worst::new("contingency ln p"),
        Worst::new("contingency expected"),
    );
    for (i, c) in cases("contingency").iter().enumerate() {
        let table: Vec<Vec<f64>> = c["table"].as_array().unwrap().iter().map(floats).collect();
        let correction = c["correction"].as_bool().unwrap();
        let got = contingency(&table, correction);
        if c.get("error").is_some() {
            assert_eq!(got.unwrap_err().kind(), ErrorKind::InvalidInput, "case {i}");
            continue;
        }
        let got = got.unwrap();
        let dof = c["dof"].as_u64().unwrap();
        assert_eq!(got.dof as u64, dof, "case {i}");
        assert_eq!(got.corrected, correction && dof == 1, "case {i}");
        ws.check(got.statistic, f(&c["statistic"]), || format!("case {i}"));
        check_p(&mut wp, got.p_value, f(&c["p_value"]), || format!("case {i}"));
        wl.check(got.ln_p_value, f(&c["ln_p_value"]), || format!("case {i}"));
        for (row, want_row) in got.expected.iter().zip(c["expected"].as_array().unwrap()) {
            for (&e, want) in row.iter().zip(floats(want_row)) {
                we.check(e, want, || format!("case {i}"));
            }
        }
    }
    for w in [ws, wp, wl, we] {
        w.report();
    }
}

#[test]
fn categorical_chi2_matches_scipy_on_the_policy_table() {
    let (mut ws, mut wp) = (Worst::new("categorical stat"), Worst::new("categorical p"));
    for (i, c) in cases("categorical").iter().enumerate() {
        let got = categorical(
            pairs(&c["reference"]),
            pairs(&c["current"]),
            c["correction"].as_bool().unwrap(),
        )
        .unwrap();
        assert_eq!(got.categories, strings(&c["categories"]), "case {i}");
        assert_eq!(got.new_categories, strings(&c["new_categories"]), "case {i}");
        assert_eq!(got.missing_categories, strings(&c["missing_categories"]), "case {i}");
        assert_eq!(got.test.dof as u64, c["dof"].as_u64().unwrap(), "case {i}");
        ws.check(got.test.statistic, f(&c["statistic"]), || format!("case {i}"));
        check_p(&mut wp, got.test.p_value, f(&c["p_value"]), || format!("case {i}"));
    }
    ws.report();
    wp.report();
}

// ----------------------------------------------------------------------------------------------
// Distances

#[test]
fn psi_matches_the_documented_numpy_binning() {
    let mut w = Worst::new("psi");
    for (i, c) in cases("psi").iter().enumerate() {
        let (reference, current) = (sample(&c["reference"]), sample(&c["current"]));
        let config =
            PsiConfig { bins: c["bins"].as_u64().unwrap() as usize, epsilon: f(&c["epsilon"]) };
        let baseline = PsiBaseline::fit(&reference, config).unwrap();
        // np.quantile edges, bit for bit, and the same counts.
        assert_eq!(baseline.edges(), floats(&c["edges"]).as_slice(), "case {i}");
        assert_eq!(baseline.counts(), ints(&c["reference_counts"]).as_slice(), "case {i}");
        let got = baseline.psi(&current).unwrap();
        assert_eq!(got.current_counts, ints(&c["current_counts"]), "case {i}");
        w.check(got.value, f(&c["psi"]), || format!("case {i}"));
        assert_eq!(psi(&reference, &current, config).unwrap(), got);
        // A stored baseline gives the same answer.
        let stored: PsiBaseline =
            serde_json::from_str(&serde_json::to_string(&baseline).unwrap()).unwrap();
        assert_eq!(stored.psi(&current).unwrap(), got);
    }
    w.report();
}

#[test]
fn categorical_psi_matches_numpy() {
    let mut w = Worst::new("categorical psi");
    for (i, c) in cases("categorical_psi").iter().enumerate() {
        let baseline =
            CategoricalPsiBaseline::fit(pairs(&c["reference"]), f(&c["epsilon"])).unwrap();
        let got = baseline.psi(pairs(&c["current"])).unwrap();
        assert_eq!(got.categories, strings(&c["categories"]), "case {i}");
        assert_eq!(got.new_categories, strings(&c["new_categories"]), "case {i}");
        w.check(got.value, f(&c["psi"]), || format!("case {i}"));
    }
    w.report();
}

#[test]
fn jensen_shannon_matches_scipy() {
    let mut w = Worst::new("jensenshannon");
    for (i, c) in cases("jensenshannon").iter().enumerate() {
        let (p, q) = (sample(&c["p"]), sample(&c["q"]));
        let base = c["base"].as_f64();
        w.check(jensen_shannon(&p, &q, base).unwrap(), f(&c["distance"]), || format!("case {i}"));
    }
    w.report();
}

#[test]
fn wasserstein_matches_scipy() {
    let (mut w, mut wn) = (Worst::new("wasserstein"), Worst::new("wasserstein / np.std"));
    for (i, c) in cases("wasserstein").iter().enumerate() {
        let (u, v) = (sample(&c["u"]), sample(&c["v"]));
        let want = f(&c["distance"]);
        if c["u_weights"].is_null() {
            w.check(wasserstein(&u, &v).unwrap(), want, || format!("case {i}"));
            let drift = wasserstein_drift(&u, &v).unwrap();
            let std = f(&c["u_std"]);
            assert!(
                rel(drift.reference_std, std) <= TOLERANCE
                    || (std < 1e-300 && drift.reference_std == 0.0)
            );
            match drift.normalized {
                Some(n) => wn.check(n, want / std, || format!("case {i}")),
                None => assert_eq!(drift.reference_std, 0.0),
            }
        } else {
            let (uw, vw) = (sample(&c["u_weights"]), sample(&c["v_weights"]));
            w.check(wasserstein_weighted(&u, &uw, &v, &vw).unwrap(), want, || {
                format!("case {i} (weighted)")
            });
        }
    }
    w.report();
    wn.report();
}

#[test]
fn constant_columns_have_documented_answers() {
    let constant = [4.0; 100];
    // PSI: one bin, 0 — it cannot see a moved constant.
    let b = PsiBaseline::fit(&constant, PsiConfig::default()).unwrap();
    assert_eq!((b.edges().len(), b.counts()), (0, &[100u64][..]));
    assert_eq!(b.psi(&[9.0, 9.0]).unwrap().value, 0.0);
    // Wasserstein: 0 between equal constants, the shift otherwise; no normalised value.
    let same = wasserstein_drift(&constant, &[4.0; 7]).unwrap();
    assert_eq!((same.distance, same.reference_std, same.normalized), (0.0, 0.0, None));
    let moved = wasserstein_drift(&constant, &[6.5; 3]).unwrap();
    assert_eq!((moved.distance, moved.normalized), (2.5, None));
    // JS of a one-bin histogram: 0.
    assert_eq!(jensen_shannon(&[5.0], &[2.0], None).unwrap(), 0.0);
}

// ----------------------------------------------------------------------------------------------
// Typed errors

#[test]
fn bad_input_gives_typed_errors_naming_the_sample_and_index() {
    let named = |r: harper_edge_core::Result<()>, text: &str| {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        assert!(e.to_string().contains(text), "{e} does not name {text}");
    };
    let nan = [1.0, 2.0, f64::NAN];
    named(psi(&nan, &[1.0], PsiConfig::default()).map(drop), "reference[2] is NaN");
    named(psi(&[1.0], &nan, PsiConfig::default()).map(drop), "current[2] is NaN");
    named(psi(&[], &[1.0], PsiConfig::default()).map(drop), "reference sample is empty");
    named(psi(&[1.0], &[], PsiConfig::default()).map(drop), "current sample is empty");
    named(wasserstein(&nan, &[1.0]).map(drop), "u[2] is NaN");
    named(wasserstein(&[1.0], &[f64::NEG_INFINITY]).map(drop), "v[0] is infinite");
    named(wasserstein(&[], &[1.0]).map(drop), "u sample is empty");
    named(wasserstein_drift(&[1.0], &nan).map(drop), "current[2] is NaN");
    named(
        wasserstein_weighted(&[1.0], &[f64::NAN], &[1.0], &[1.0]).map(drop),
        "u_weights[0] is NaN",
    );
    named(jensen_shannon(&nan, &[1.0, 1.0, 1.0], None).map(drop), "p[2] is NaN");
    named(jensen_shannon(&[1.0], &[-1.0], None).map(drop), "q[0] is negative");
    named(jensen_shannon(&[1.0], &[1.0], Some(0.5)).map(drop), "base");
    named(chisquare(&nan, None, 0).map(drop), "observed[2] is NaN");
    named(
        chisquare(&[1.0, 2.0, 3.0], Some(&[2.0, 2.0, f64::NAN]), 0).map(drop),
        "expected[2] is NaN",
    );
    named(chisquare(&[1.0, 2.0], None, 1).map(drop), "degrees of freedom");
    named(
        contingency(&[[1.0, 2.0], [f64::INFINITY, 1.0]], true).map(drop),
        "table[1][0] is infinite",
    );
    named(contingency(&[[1.0, 0.0], [2.0, 0.0]], true).map(drop), "zero element at (0, 1)");
    named(contingency(&[[0.0, 0.0], [0.0, 0.0]], true).map(drop), "no counts");
    named(
        chi2::categorical(Vec::<(u8, u64)>::new(), [(1u8, 1)], true).map(drop),
        "reference has no counts",
    );
    named(gamma_q(-1.0, 1.0).map(drop), "a > 0");
    named(chi2_sf(f64::NAN, 1.0).map(drop), "NaN");
}

// ----------------------------------------------------------------------------------------------
// Properties

fn finite_sample() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(
        prop_oneof![
            4 => -1e3f64..1e3,
            1 => (0u8..5).prop_map(f64::from), // ties
        ],
        1..200,
    )
}

fn histogram() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(prop_oneof![3 => 0.0f64..100.0, 1 => Just(0.0)], 1..30)
        .prop_filter("positive sum", |h| h.iter().sum::<f64>() > 0.0)
}

proptest! {
    // Integration tests have no lib.rs beside them to persist failures next to.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn psi_is_non_negative_and_zero_for_identical_distributions(
        reference in finite_sample(),
        current in finite_sample(),
        bins in 1usize..25,
    ) {
        let config = PsiConfig { bins, epsilon: 1e-4 };
        let baseline = PsiBaseline::fit(&reference, config).unwrap();
        let value = baseline.psi(&current).unwrap().value;
        prop_assert!(value >= 0.0 && value.is_finite(), "{value}");
        prop_assert_eq!(baseline.psi(&reference).unwrap().value, 0.0);
        // Same distribution, twice the sample, another order.
        let mut doubled = [reference.as_slice(), reference.as_slice()].concat();
        doubled.reverse();
        prop_assert_eq!(baseline.psi(&doubled).unwrap().value, 0.0);
        prop_assert_eq!(baseline.counts().iter().sum::<u64>(), reference.len() as u64);
    }

    #[test]
    fn categorical_psi_is_non_negative(
        reference in prop::collection::vec((0u8..8, 0u64..50), 1..10),
        current in prop::collection::vec((0u8..10, 0u64..50), 1..10),
    ) {
        prop_assume!(reference.iter().any(|p| p.1 > 0) && current.iter().any(|p| p.1 > 0));
        let baseline = CategoricalPsiBaseline::fit(reference.clone(), 1e-4).unwrap();
        let p = baseline.psi(current).unwrap();
        prop_assert!(p.value >= 0.0);
        prop_assert_eq!(baseline.psi(reference).unwrap().value, 0.0);
    }

    #[test]
    fn jensen_shannon_is_symmetric_and_bounded(p in histogram(), q in histogram()) {
        let n = p.len().min(q.len());
        let (p, q) = (&p[..n], &q[..n]);
        prop_assume!(p.iter().sum::<f64>() > 0.0 && q.iter().sum::<f64>() > 0.0);
        let d = jensen_shannon(p, q, None).unwrap();
        prop_assert_eq!(d, jensen_shannon(q, p, None).unwrap());
        prop_assert!((0.0..=2f64.ln().sqrt() * (1.0 + 1e-15)).contains(&d), "{d}");
        let bits = jensen_shannon(p, q, Some(2.0)).unwrap();
        prop_assert!((0.0..=1.0 + 1e-15).contains(&bits), "{bits}");
        prop_assert_eq!(jensen_shannon(p, p, None).unwrap(), 0.0);
    }

    #[test]
    fn wasserstein_is_symmetric_and_translation_equivariant(
        u in finite_sample(),
        v in finite_sample(),
        shift in -1e3f64..1e3,
    ) {
        let d = wasserstein(&u, &v).unwrap();
        prop_assert!(d >= 0.0);
        prop_assert_eq!(d, wasserstein(&v, &u).unwrap());
        prop_assert_eq!(wasserstein(&u, &u).unwrap(), 0.0);
        let us: Vec<f64> = u.iter().map(|x| x + shift).collect();
        let vs: Vec<f64> = v.iter().map(|x| x + shift).collect();
        let shifted = wasserstein(&us, &vs).unwrap();
        // Shifting rounds each value to the grid of |x| + |shift| ≤ 2e3 (ulp 2.3e-13).
        prop_assert!((shifted - d).abs() <= 1e-12 * d + 1e-9, "{shifted} vs {d}");
        // Scaling by a power of two is exact.
        let u4: Vec<f64> = u.iter().map(|x| x * 4.0).collect();
        let v4: Vec<f64> = v.iter().map(|x| x * 4.0).collect();
        prop_assert_eq!(wasserstein(&u4, &v4).unwrap(), 4.0 * d);
        // Unit weights are the unweighted distance.
        let ones_u = vec![1.0; u.len()];
        let ones_v = vec![1.0; v.len()];
        let weighted = wasserstein_weighted(&u, &ones_u, &v, &ones_v).unwrap();
        prop_assert!((weighted - d).abs() <= 1e-12 * d + 1e-12, "{weighted} vs {d}");
    }

    #[test]
    fn chi_square_p_values_are_probabilities(
        table in prop::collection::vec(prop::collection::vec(0u32..1_000_000, 3), 2..6),
        correction: bool,
    ) {
        let table: Vec<Vec<f64>> =
            table.into_iter().map(|r| r.into_iter().map(f64::from).collect()).collect();
        if let Ok(t) = contingency(&table, correction) {
            prop_assert!((0.0..=1.0).contains(&t.p_value), "{}", t.p_value);
            prop_assert!(t.ln_p_value <= 0.0);
            prop_assert!(t.statistic >= 0.0);
            let g = chisquare(&table[0], None, 0);
            if let Ok(g) = g {
                prop_assert!((0.0..=1.0).contains(&g.p_value));
            }
        }
    }

    #[test]
    fn incomplete_gamma_halves_add_to_one(a in 0.5f64..1e5, f in 0.0f64..3.0) {
        let x = a * f;
        let (p, q) = (gamma_p(a, x).unwrap(), gamma_q(a, x).unwrap());
        prop_assert!((0.0..=1.0).contains(&p) && (0.0..=1.0).contains(&q));
        prop_assert!((p + q - 1.0).abs() < 1e-13, "a={a} x={x} p={p} q={q}");
        let sf = chi2_sf(2.0 * x, 2.0 * a).unwrap();
        prop_assert_eq!(sf, q);
    }
}
