//! Special functions for the drift tests: `ln Γ`, the regularized incomplete gamma functions
//! and the chi-square distribution, in plain `f64` arithmetic with documented accuracy.
//!
//! # Definitions
//!
//! - `ln Γ(x) = ln ∫₀^∞ t^(x−1) e^(−t) dt` for `x > 0` ([`ln_gamma`]).
//! - `P(a, x) = γ(a, x) / Γ(a) = (1/Γ(a)) ∫₀^x t^(a−1) e^(−t) dt` ([`gamma_p`], scipy's
//!   `gammainc`), and `Q(a, x) = 1 − P(a, x) = Γ(a, x) / Γ(a)` ([`gamma_q`], scipy's
//!   `gammaincc`), for `a > 0`, `x ≥ 0`.
//! - The chi-square survival function with `k` degrees of freedom:
//!   `sf(x; k) = Q(k/2, x/2)` ([`chi2_sf`], scipy's `chdtrc` / `scipy.stats.chi2.sf`), and its
//!   logarithm [`chi2_ln_sf`], which stays finite where `sf` underflows to 0.
//!
//! # Methods
//!
//! `ln Γ`: for `x < 2.5` the Taylor series of `ln Γ(2 + z)` in `z`, whose coefficients are
//! `(−1)^k (ζ(k) − 1) / k`, with `ln Γ(x) = ln Γ(x + 1) − ln x` below 1.5; for `2.5 ≤ x < 10`
//! the recurrence `Γ(x + 1) = x Γ(x)` down to `[1.5, 2.5)`; from 10 on Stirling's series
//! `(x − ½) ln x − x + ½ ln 2π + Σₖ B₂ₖ / (2k (2k − 1) x^(2k−1))` with ten terms. Relative
//! error is a few ulps everywhere, including near the zeros at 1 and 2 (where an absolute
//! error would be the best a Lanczos sum gives).
//!
//! `P` and `Q` share the prefactor `D(a, x) = x^a e^(−x) / Γ(a)`, evaluated in log space as
//! an unevaluated sum `hi + lo` (the additions exact by TwoSum) and exponentiated as
//! `e^hi (1 + lo)`: for `a ≥ 10` as `a · log1pmx(t) + ½ ln(a / 2π) − S(a)` with
//! `t = (x − a)/a`, `log1pmx(t) = ln(1 + t) − t` and `S` the Stirling correction above, so
//! that nothing of size `a ln a` cancels (this keeps chi-square with many degrees of freedom
//! accurate); when `|t| > ½`, `a · log1pmx(t)` is formed as `a ln(x/a) + (a − x)` instead;
//! for `a < 10` as `a ln x − ln Γ(a) − x`. Then, as in Numerical Recipes §6.2:
//!
//! - `x < a + 1`: the series `P = D(a, x) · Σₙ xⁿ / (a (a+1) ⋯ (a+n))`, and `Q = 1 − P`;
//! - `x ≥ a + 1`: the continued fraction `Q = D(a, x) · 1/(x + 1 − a − 1(1 − a)/(x + 3 − a −
//!   2(2 − a)/(x + 5 − a − ⋯)))` (modified Lentz), and `P = 1 − Q`.
//!
//! So the small side of each split is computed directly: a tiny upper tail `Q` (a chi-square
//! p-value of `10⁻³⁰⁰`) keeps its relative accuracy, and `ln Q = hi + lo + ln(fraction)`
//! keeps it where `Q` itself underflows. Near `x = a` the series needs about `8√a` steps and
//! the fraction `0.4√a` (8 000 and 400 at `a = 10⁶`: microseconds); there is no asymptotic
//! (Temme) expansion, so the cost grows as `√a` for huge `a`.
//!
//! # Accuracy
//!
//! `tests/drift_stats.rs` checks every point of `tests/data/drift/stats_fixtures.json` against
//! scipy 1.18.1 (`gammaln`, `gammainc`, `gammaincc`, `chdtrc`) to 10⁻⁹ and against 60-digit
//! decimal arithmetic, and prints the worst relative errors. Against 60 digits: `ln Γ`
//! 5 · 10⁻¹⁶ (42 points from 10⁻³⁰⁰ to 10³⁰⁰, including 0.999999 and 2.01); `P` 1.7 · 10⁻¹³
//! and `Q` 9 · 10⁻¹⁴ (760 points, `a` from 0.1 to 10⁶, `x` from 10⁻¹⁰ to 10⁶, values down to
//! 10⁻³⁰⁰); [`chi2_sf`] 7.5 · 10⁻¹⁴ (304 points, 1 to 10⁵ degrees of freedom, p-values down
//! to 10⁻³⁰⁰); [`chi2_ln_sf`] 1.3 · 10⁻¹⁶ (29 points, `ln sf` down to −5 · 10⁵). The errors
//! that remain come from rounding the logarithms in an exponent of several hundred; they are
//! below the condition number of the problem (an ulp of `x` alone changes `Q` by `≈ x ε`
//! relative in the tail).
//!
//! Where scipy is less accurate, the tests compare with the 60-digit value instead and list
//! the points: scipy's `gammaln` is only absolutely accurate near its zeros at 1 and 2
//! (2 · 10⁻¹⁰ relative at `x = 0.999999`), and its `gammainc(10⁶, 995 000)` is 4 · 10⁻⁶ low
//! (its series stops after 2000 terms just outside its asymptotic region). Elsewhere scipy
//! and this module agree to 5 · 10⁻¹² (the rest of scipy's error budget).
//!
//! Results below the smallest normal `f64` (≈ 2.2 · 10⁻³⁰⁸) lose relative accuracy as
//! subnormals, then are 0; use the `ln_*` functions there.

use crate::error::{Error, Result};

/// `ζ(k) − 1` for `k = 2, 3, …, 33` (scipy `zetac`), the Taylor coefficients of `ln Γ(2 + z)`.
const ZETA_MINUS_ONE: [f64; 32] = [
    0.644_934_066_848_226_4,
    0.202_056_903_159_594_3,
    0.082_323_233_711_138_19,
    0.036_927_755_143_369_93,
    0.017_343_061_984_449_14,
    0.008_349_277_381_922_827,
    0.004_077_356_197_944_34,
    0.002_008_392_826_082_214_3,
    0.000_994_575_127_818_085_3,
    0.000_494_188_604_119_464_5,
    0.000_246_086_553_308_048_3,
    0.000_122_713_347_578_489_15,
    6.124_813_505_870_483e-5,
    3.058_823_630_702_049e-5,
    1.528_225_940_865_187e-5,
    7.637_197_637_899_763e-6,
    3.817_293_264_999_84e-6,
    1.908_212_716_553_939e-6,
    9.539_620_338_727_962e-7,
    4.769_329_867_878_064e-7,
    2.384_505_027_277_33e-7,
    1.192_199_259_653_110_6e-7,
    5.960_818_905_125_948e-8,
    2.980_350_351_465_228e-8,
    1.490_155_482_836_504_3e-8,
    7.450_711_789_835_43e-9,
    3.725_334_024_788_457e-9,
    1.862_659_723_513_049e-9,
    9.313_274_324_196_682e-10,
    4.656_629_065_033_784e-10,
    2.328_311_833_676_505_3e-10,
    1.164_155_017_270_052e-10,
];

/// Euler–Mascheroni constant γ.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// `½ ln 2π`.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// Stirling coefficients `B₂ₖ / (2k (2k − 1))`, `k = 1, …, 10`.
const STIRLING: [f64; 10] = [
    1.0 / 12.0,
    -1.0 / 360.0,
    1.0 / 1260.0,
    -1.0 / 1680.0,
    1.0 / 1188.0,
    -691.0 / 360_360.0,
    1.0 / 156.0,
    -3617.0 / 122_400.0,
    43867.0 / 244_188.0,
    -174_611.0 / 125_400.0,
];

/// Relative convergence threshold of the series and the continued fraction.
const TOLERANCE: f64 = f64::EPSILON / 2.0;

/// `ln Γ(x)` for `x > 0`.
///
/// Relative error of a few ulps (see the module documentation for the method). `ln Γ(x)`
/// overflows to `+∞` beyond `x ≈ 2.55 · 10³⁰⁵`, and `x = +∞` gives `+∞`.
///
/// # Errors
///
/// [`Error::InvalidInput`] if `x` is NaN, zero or negative.
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::special::ln_gamma;
/// assert_eq!(ln_gamma(1.0)?, 0.0);
/// assert!((ln_gamma(0.5)? - 0.5 * std::f64::consts::PI.ln()).abs() < 1e-15);
/// assert!((ln_gamma(11.0)? - 3_628_800f64.ln()).abs() < 1e-14);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn ln_gamma(x: f64) -> Result<f64> {
    if x.is_nan() || x <= 0.0 {
        return Err(Error::invalid_input(format!("ln_gamma needs x > 0, got {x}")));
    }
    Ok(ln_gamma_pos(x))
}

/// `ln Γ(x)` for `x > 0` (not NaN), unchecked.
pub(crate) fn ln_gamma_pos(x: f64) -> f64 {
    if x == f64::INFINITY {
        f64::INFINITY
    } else if x >= 10.0 {
        (x - 0.5) * x.ln() - x + HALF_LN_2PI + stirling_correction(x)
    } else if x >= 2.5 {
        // Γ(x) = Γ(y) · y (y + 1) ⋯ (x − 1) with y in [1.5, 2.5).
        let mut y = x;
        let mut product = 1.0;
        while y >= 2.5 {
            y -= 1.0;
            product *= y;
        }
        ln_gamma_2p(y - 2.0) + product.ln()
    } else if x >= 1.5 {
        ln_gamma_2p(x - 2.0)
    } else if x >= 0.5 {
        // ln Γ(1 + z) = ln Γ(2 + z) − ln(1 + z), z = x − 1 exact.
        let z = x - 1.0;
        ln_gamma_2p(z) - z.ln_1p()
    } else {
        // ln Γ(x) = ln Γ(2 + x) − ln(1 + x) − ln x.
        ln_gamma_2p(x) - x.ln_1p() - x.ln()
    }
}

/// `ln Γ(2 + z)` for `|z| ≤ 0.5` (`−1 ≤ z` also converges, slowly): `(1 − γ) z +
/// Σ_{k≥2} (−1)^k (ζ(k) − 1) z^k / k`.
fn ln_gamma_2p(z: f64) -> f64 {
    // Horner from the highest term; the truncation error at |z| = 0.5 is below 4^-33.
    let mut sum = 0.0;
    for (i, &c) in ZETA_MINUS_ONE.iter().enumerate().rev() {
        let k = (i + 2) as f64;
        let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
        sum = sum * z + sign * c / k;
    }
    z * ((1.0 - EULER_GAMMA) + z * sum)
}

/// Stirling's correction `ln Γ(x) − ((x − ½) ln x − x + ½ ln 2π)` for `x ≥ 10`.
fn stirling_correction(x: f64) -> f64 {
    let r = 1.0 / x;
    let r2 = r * r;
    let mut sum = 0.0;
    for &c in STIRLING.iter().rev() {
        sum = sum * r2 + c;
    }
    sum * r
}

/// `ln(1 + t) − t` for `t > −1`, accurate also for small `|t|`.
pub(crate) fn log1pmx(t: f64) -> f64 {
    if t.abs() > 0.5 {
        t.ln_1p() - t
    } else {
        // ln(1 + t) = 2 atanh(y), y = t / (2 + t); 2y − t = −t² / (2 + t).
        let y = t / (2.0 + t);
        let y2 = y * y;
        let mut power = y * y2;
        let mut series = 0.0;
        let mut k = 3.0;
        loop {
            let term = power / k;
            series += term;
            if term.abs() <= TOLERANCE * series.abs() {
                break;
            }
            power *= y2;
            k += 2.0;
        }
        -t * t / (2.0 + t) + 2.0 * series
    }
}

/// `ln D(a, x) = ln(x^a e^(−x) / Γ(a))` for `a > 0`, `x > 0`, both finite, as an unevaluated
/// sum `hi + lo`: the additions are kept exact (TwoSum), so that `e^(hi) (1 + lo)` is
/// accurate also for an exponent of −700; what remains is the rounding of the logarithms
/// and products, a few ulps of `a ln x` or `a · log1pmx(t)`.
fn ln_prefactor(a: f64, x: f64) -> (f64, f64) {
    if a >= 10.0 {
        // a ln(x/a) + a − x, the part that would cancel, is a · log1pmx(t) near x = a; away
        // from it (where 1 + t = x/a would lose digits of a small x) it is formed directly.
        let t = (x - a) / a;
        let rest = 0.5 * (a / std::f64::consts::TAU).ln() - stirling_correction(a);
        if t.abs() <= 0.5 {
            two_sum(a * log1pmx(t), rest)
        } else {
            let ratio = x / a;
            let ln_ratio = if ratio >= f64::MIN_POSITIVE { ratio.ln() } else { x.ln() - a.ln() };
            let (d, d_lo) = two_sum(a, -x);
            let (m, m_lo) = two_sum(a * ln_ratio, d);
            let (hi, lo) = two_sum(m, rest);
            (hi, lo + m_lo + d_lo)
        }
    } else {
        two_sum(a * x.ln() - ln_gamma_pos(a), -x)
    }
}

/// Knuth's TwoSum: `(s, e)` with `s = fl(a + b)` and `s + e = a + b` exactly.
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// `Σₙ xⁿ / (a (a+1) ⋯ (a+n))`, so that `P(a, x) = D(a, x) · series`; for `x < a + 1`.
fn lower_series(a: f64, x: f64) -> f64 {
    let mut ap = a;
    let mut term = 1.0 / a;
    let mut sum = term;
    for _ in 0..max_iterations(a) {
        ap += 1.0;
        term *= x / ap;
        sum += term;
        if term <= sum * TOLERANCE {
            break;
        }
    }
    sum
}

/// A bound on the steps of the series and the continued fraction, which need about `8√a`
/// and `0.4√a` steps near `x = a` (a safety net: with finite arguments both converge).
fn max_iterations(a: f64) -> usize {
    (1000.0 + 50.0 * a.sqrt()) as usize
}

/// The continued fraction `F` with `Q(a, x) = D(a, x) · F`; for `x ≥ a + 1` (modified
/// Lentz, Numerical Recipes `gcf`).
fn upper_fraction(a: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut h = d;
    let mut i = 1.0;
    for _ in 0..max_iterations(a) {
        let an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY {
            d = TINY;
        }
        c = b + an / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() <= TOLERANCE {
            break;
        }
        i += 1.0;
    }
    h
}

/// Which side of the split at `x = a + 1` is computed directly.
enum Side {
    /// `P` from the series.
    Lower(f64),
    /// `Q = e^(hi) (1 + lo) · fraction`, kept apart: `Q` may underflow, `ln Q` does not.
    Upper {
        /// `ln D`, high part.
        hi: f64,
        /// `ln D`, low part.
        lo: f64,
        /// The continued fraction.
        fraction: f64,
    },
    /// `x = 0`: `P = 0`.
    Zero,
    /// `x = +∞`: `Q = 0`.
    Infinite,
}

impl Side {
    fn q(self) -> f64 {
        match self {
            Side::Zero => 1.0,
            Side::Infinite => 0.0,
            Side::Lower(p) => (1.0 - p).max(0.0),
            Side::Upper { hi, lo, fraction } => hi.exp() * (1.0 + lo) * fraction,
        }
    }

    fn ln_q(self) -> f64 {
        match self {
            Side::Zero => 0.0,
            Side::Infinite => f64::NEG_INFINITY,
            Side::Lower(p) => (-p.min(1.0)).ln_1p(),
            Side::Upper { hi, lo, fraction } => hi + (lo + fraction.ln()),
        }
    }

    fn p(self) -> f64 {
        match self {
            Side::Zero => 0.0,
            Side::Infinite => 1.0,
            Side::Lower(p) => p.min(1.0),
            Side::Upper { .. } => 1.0 - self.q(),
        }
    }
}

fn check_gamma_args(name: &str, a: f64, x: f64) -> Result<()> {
    if !(a > 0.0 && a.is_finite()) {
        return Err(Error::invalid_input(format!("{name} needs a finite a > 0, got a = {a}")));
    }
    if x.is_nan() || x < 0.0 {
        return Err(Error::invalid_input(format!("{name} needs x >= 0, got x = {x}")));
    }
    Ok(())
}

/// The directly computed side, for checked `a` and `x`.
fn incomplete_gamma(a: f64, x: f64) -> Side {
    if x == 0.0 {
        Side::Zero
    } else if x == f64::INFINITY {
        Side::Infinite
    } else if x < a + 1.0 {
        let (hi, lo) = ln_prefactor(a, x);
        Side::Lower(hi.exp() * (1.0 + lo) * lower_series(a, x))
    } else {
        let (hi, lo) = ln_prefactor(a, x);
        Side::Upper { hi, lo, fraction: upper_fraction(a, x) }
    }
}

/// The regularized lower incomplete gamma function `P(a, x) = γ(a, x) / Γ(a)` (scipy
/// `gammainc`).
///
/// `P(a, 0) = 0`, `P(a, +∞) = 1`. See the module documentation for method and accuracy.
///
/// # Errors
///
/// [`Error::InvalidInput`] unless `a` is finite and `> 0` and `x ≥ 0` (NaN refused).
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::special::gamma_p;
/// // P(1, x) = 1 − e^(−x)
/// assert!((gamma_p(1.0, 2.0)? - (1.0 - (-2f64).exp())).abs() < 1e-16);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn gamma_p(a: f64, x: f64) -> Result<f64> {
    check_gamma_args("gamma_p", a, x)?;
    Ok(incomplete_gamma(a, x).p())
}

/// The regularized upper incomplete gamma function `Q(a, x) = Γ(a, x) / Γ(a) = 1 − P(a, x)`
/// (scipy `gammaincc`).
///
/// `Q(a, 0) = 1`, `Q(a, +∞) = 0`. Small values of `Q` (`x` well above `a`) keep their
/// relative accuracy down to the smallest normal `f64`. See the module documentation.
///
/// # Errors
///
/// [`Error::InvalidInput`] unless `a` is finite and `> 0` and `x ≥ 0` (NaN refused).
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::special::gamma_q;
/// // Q(1, x) = e^(−x), also far below 1e-300
/// assert!((gamma_q(1.0, 700.0)? / (-700f64).exp() - 1.0).abs() < 1e-13);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn gamma_q(a: f64, x: f64) -> Result<f64> {
    check_gamma_args("gamma_q", a, x)?;
    Ok(incomplete_gamma(a, x).q())
}

/// `ln Q(a, x)`, the natural logarithm of [`gamma_q`], computed without forming `Q`: finite
/// (and relatively accurate) far beyond the point where `Q` underflows to 0.
///
/// # Errors
///
/// As [`gamma_q`].
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::special::ln_gamma_q;
/// assert!((ln_gamma_q(1.0, 5000.0)? + 5000.0).abs() < 1e-9);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn ln_gamma_q(a: f64, x: f64) -> Result<f64> {
    check_gamma_args("ln_gamma_q", a, x)?;
    Ok(incomplete_gamma(a, x).ln_q())
}

fn check_chi2_args(name: &str, x: f64, dof: f64) -> Result<()> {
    if !(dof > 0.0 && dof.is_finite()) {
        return Err(Error::invalid_input(format!(
            "{name} needs finite degrees of freedom > 0, got {dof}"
        )));
    }
    if x.is_nan() {
        return Err(Error::invalid_input(format!("{name} got a NaN statistic")));
    }
    Ok(())
}

/// Survival function of the chi-square distribution with `dof` degrees of freedom:
/// `sf(x; k) = P(X > x) = Q(k/2, x/2)`, the p-value of a chi-square statistic `x` (scipy
/// `chdtrc(k, x)` and `scipy.stats.chi2.sf(x, k)`).
///
/// `dof` need not be an integer. `x ≤ 0` gives 1 (as `scipy.stats.chi2.sf`, outside the
/// support), `x = +∞` gives 0. Tiny p-values keep their relative accuracy down to ≈ 10⁻³⁰⁷;
/// below that use [`chi2_ln_sf`].
///
/// # Errors
///
/// [`Error::InvalidInput`] if `x` is NaN or `dof` is not finite and `> 0`.
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::special::chi2_sf;
/// // k = 2: sf(x) = e^(−x/2)
/// assert!((chi2_sf(10.0, 2.0)? - (-5f64).exp()).abs() < 1e-17);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn chi2_sf(x: f64, dof: f64) -> Result<f64> {
    check_chi2_args("chi2_sf", x, dof)?;
    Ok(if x <= 0.0 { 1.0 } else { incomplete_gamma(0.5 * dof, 0.5 * x).q() })
}

/// `ln sf(x; k)`, the natural logarithm of [`chi2_sf`], finite where the p-value underflows:
/// lets a caller rank or report p-values like `10⁻⁵⁰⁰⁰` of very large statistics.
///
/// # Errors
///
/// As [`chi2_sf`].
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::special::chi2_ln_sf;
/// // k = 2: ln sf(x) = −x/2, far below ln(1e-308) ≈ −709
/// assert!((chi2_ln_sf(20_000.0, 2.0)? + 10_000.0).abs() < 1e-8);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn chi2_ln_sf(x: f64, dof: f64) -> Result<f64> {
    check_chi2_args("chi2_ln_sf", x, dof)?;
    Ok(if x <= 0.0 { 0.0 } else { incomplete_gamma(0.5 * dof, 0.5 * x).ln_q() })
}

/// Sum with Neumaier's compensation: error of a couple of ulps of the result (plus `ε` times
/// the sum of magnitudes squared), independent of the number of terms in practice.
pub(crate) fn compensated_sum(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut sum = 0.0f64;
    let mut compensation = 0.0f64;
    for x in values {
        let t = sum + x;
        if t.is_finite() {
            compensation += if sum.abs() >= x.abs() { (sum - t) + x } else { (x - t) + sum };
        }
        sum = t;
    }
    sum + compensation
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        if a == b { 0.0 } else { ((a - b) / b).abs() }
    }

    #[test]
    fn ln_gamma_matches_factorials_and_half_integers() {
        let mut factorial = 1.0f64;
        for n in 1..=170u32 {
            // Γ(n) = (n − 1)!
            let got = ln_gamma(f64::from(n)).unwrap();
            let want = factorial.ln();
            assert!(rel(got, want) < 4e-15 || (got - want).abs() < 1e-15, "n={n} {got} {want}");
            factorial *= f64::from(n);
        }
        // Γ(½) = √π, Γ(3/2) = √π / 2
        let ln_sqrt_pi = 0.5 * std::f64::consts::PI.ln();
        assert!(rel(ln_gamma(0.5).unwrap(), ln_sqrt_pi) < 2e-16);
        assert!(rel(ln_gamma(1.5).unwrap(), ln_sqrt_pi - 2f64.ln()) < 4e-15);
        assert_eq!(ln_gamma(1.0).unwrap(), 0.0);
        assert_eq!(ln_gamma(2.0).unwrap(), 0.0);
        assert_eq!(ln_gamma(f64::INFINITY).unwrap(), f64::INFINITY);
        // Near the zero at 1: ln Γ(1 + z) ≈ −γ z.
        let x = 1.0 + 1e-12;
        let z = x - 1.0;
        assert!(rel(ln_gamma(x).unwrap(), -EULER_GAMMA * z) < 1e-11);
        // Tiny x: ln Γ(x) ≈ −ln x − γ x.
        assert!(rel(ln_gamma(1e-300).unwrap(), 300.0 * 10f64.ln()) < 1e-15);
        for bad in [0.0, -1.0, f64::NAN] {
            assert_eq!(ln_gamma(bad).unwrap_err().kind(), crate::ErrorKind::InvalidInput);
        }
    }

    #[test]
    fn log1pmx_is_accurate_on_both_branches() {
        for t in [-0.9, -0.5, -0.1, -1e-3, 1e-8, 0.3, 0.5, 0.51, 3.0, 1e10] {
            let want = (1.0f64 + t).ln() - t;
            let got = log1pmx(t);
            if t.abs() >= 0.1 {
                assert!(rel(got, want) < 1e-14, "t={t} {got} {want}");
            }
        }
        // −t²/2 + t³/3 − …
        let t = 1e-5;
        assert!(rel(log1pmx(t), -t * t / 2.0 + t * t * t / 3.0) < 1e-10);
    }

    #[test]
    fn closed_forms_of_the_incomplete_gamma() {
        // a = 1: Q = e^(−x)
        for x in [1e-10, 0.3, 1.0, 2.0, 10.0, 100.0, 700.0] {
            assert!(rel(gamma_q(1.0, x).unwrap(), (-x).exp()) < 1e-14, "x={x}");
            assert!(rel(gamma_p(1.0, x).unwrap(), -(-x).exp_m1()) < 1e-14, "x={x}");
        }
        // a = 2: Q = (1 + x) e^(−x)
        for x in [0.5, 3.0, 50.0, 600.0] {
            assert!(rel(gamma_q(2.0, x).unwrap(), (1.0 + x) * (-x).exp()) < 1e-14, "x={x}");
        }
        assert_eq!(gamma_q(3.0, 0.0).unwrap(), 1.0);
        assert_eq!(gamma_p(3.0, 0.0).unwrap(), 0.0);
        assert_eq!(gamma_q(3.0, f64::INFINITY).unwrap(), 0.0);
        assert_eq!(gamma_p(3.0, f64::INFINITY).unwrap(), 1.0);
        // ln Q(1, x) = −x, far below the underflow of Q
        assert!(rel(ln_gamma_q(1.0, 1e5).unwrap(), -1e5) < 1e-14);
        assert!(gamma_q(0.0, 1.0).is_err());
        assert!(gamma_q(1.0, -1.0).is_err());
        assert!(gamma_p(f64::NAN, 1.0).is_err());
        assert!(ln_gamma_q(1.0, f64::NAN).is_err());
    }

    #[test]
    fn chi2_sf_closed_forms_and_edges() {
        // k = 2: e^(−x/2); k = 4: (1 + x/2) e^(−x/2)
        for x in [0.1, 1.0, 7.5, 100.0, 1400.0] {
            assert!(rel(chi2_sf(x, 2.0).unwrap(), (-x / 2.0).exp()) < 1e-14, "x={x}");
            assert!(
                rel(chi2_sf(x, 4.0).unwrap(), (1.0 + x / 2.0) * (-x / 2.0).exp()) < 1e-14,
                "x={x}"
            );
        }
        assert_eq!(chi2_sf(0.0, 3.0).unwrap(), 1.0);
        assert_eq!(chi2_sf(-2.0, 3.0).unwrap(), 1.0);
        assert_eq!(chi2_ln_sf(-2.0, 3.0).unwrap(), 0.0);
        assert_eq!(chi2_sf(f64::INFINITY, 3.0).unwrap(), 0.0);
        assert!(chi2_sf(1.0, 0.0).is_err());
        assert!(chi2_sf(f64::NAN, 1.0).is_err());
        assert!(chi2_ln_sf(1.0, f64::INFINITY).is_err());
    }

    #[test]
    fn p_plus_q_is_one() {
        for a in [0.5, 1.5, 7.0, 10.0, 33.5, 1000.0, 1e6] {
            for f in [0.01, 0.5, 0.9, 1.0, 1.1, 2.0] {
                let x = a * f;
                let (p, q) = (gamma_p(a, x).unwrap(), gamma_q(a, x).unwrap());
                assert!((p + q - 1.0).abs() < 1e-14, "a={a} x={x} p={p} q={q}");
            }
        }
    }
}
