//! Pearson chi-square tests: goodness of fit ([`chisquare`], as `scipy.stats.chisquare`),
//! independence in a contingency table ([`contingency`], as `scipy.stats.chi2_contingency`),
//! and the reference-vs-current comparison of a categorical feature built on it
//! ([`categorical`]).
//!
//! # Statistic and p-value
//!
//! For observed counts `oᵢ` and expected counts `eᵢ > 0`,
//! `χ² = Σᵢ (oᵢ − eᵢ)² / eᵢ`, and the p-value is the chi-square survival function
//! `p = sf(χ²; dof) = Q(dof/2, χ²/2)` ([`super::special::chi2_sf`], scipy `chdtrc`). Each
//! result also carries `ln_p_value` ([`super::special::chi2_ln_sf`]), finite where `p`
//! underflows to 0 — large samples with a real shift easily give `p < 10⁻³⁰⁸`.
//!
//! # Conventions (scipy 1.18.1)
//!
//! - Goodness of fit: `dof = k − 1 − ddof` for `k` categories. Without expected counts, each
//!   is the mean of the observed ones. With expected counts, their sum must equal the observed
//!   sum within a relative tolerance of `√ε = 2⁻²⁶ ≈ 1.49 · 10⁻⁸`
//!   (`|Σo − Σe| / min(Σo, Σe) ≤ 2⁻²⁶`), else [`Error::InvalidInput`] — scipy ≥ 1.9 raises
//!   the same way and no longer rescales `f_exp`. Rescale yourself if the expected
//!   frequencies are proportions.
//! - Contingency: for an `R × C` table with row sums `rᵢ`, column sums `cⱼ` and total `n`,
//!   `eᵢⱼ = rᵢ cⱼ / n` (computed in that order, as scipy's `expected_freq`), and
//!   `dof = (R − 1)(C − 1)`. A zero expected count (an all-zero row or column) is an
//!   [`Error::InvalidInput`] naming the cell, as scipy raises `ValueError`. With
//!   `dof = 0` (one row or one column) the statistic is 0 and `p = 1`, as scipy.
//! - Yates' continuity correction applies only when `dof = 1` (a 2 × 2 table) and
//!   `correction` is true (scipy's default): each observed count moves toward its expected
//!   count by `min(½, |eᵢⱼ − oᵢⱼ|)`, so the correction never overshoots (scipy gh-13875).
//!
//! Counts may be non-integer but must be finite and non-negative; NaN, infinities and
//! negative counts are [`Error::InvalidInput`] naming the cell (scipy propagates NaN or
//! raises). Where scipy answers a degenerate input with NaN or 0 (`dof ≤ 0` in [`chisquare`],
//! all-zero observations) this module returns [`Error::InvalidInput`] instead.
//!
//! # Categorical drift
//!
//! [`categorical`] compares the category counts of a reference sample with those of a current
//! sample in the `2 × K` table (row 0 reference, row 1 current; columns the categories in
//! ascending order). Policy for categories that are not in both samples:
//!
//! - a category **unseen in the reference** (count 0 there, > 0 now) is kept as its own
//!   column and listed in [`CategoricalTest::new_categories`]: its expected current count is
//!   positive and its reference count 0, so it adds to `χ²` — a chi-square test flags a new
//!   category, which is usually what drift monitoring wants;
//! - a category **missing from the current sample** is kept too and listed in
//!   [`CategoricalTest::missing_categories`];
//! - a category with count 0 in both (or not given at all) is dropped: it would be an all-zero
//!   column, whose expected counts are 0.
//!
//! Counts of a category given several times are added.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::special::{chi2_ln_sf, chi2_sf, compensated_sum};
use crate::error::{Error, Result};

/// Relative tolerance scipy allows between the observed and expected sums: `√ε = 2⁻²⁶`.
pub const SUM_TOLERANCE: f64 = 1.490_116_119_384_765_6e-8;

/// Result of [`chisquare`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChiSquareTest {
    /// `χ² = Σᵢ (oᵢ − eᵢ)² / eᵢ`.
    pub statistic: f64,
    /// `sf(χ²; dof)`; may underflow to 0 (see `ln_p_value`).
    pub p_value: f64,
    /// `ln sf(χ²; dof)`, finite where `p_value` underflows.
    pub ln_p_value: f64,
    /// Degrees of freedom, `k − 1 − ddof`.
    pub dof: usize,
}

/// Result of [`contingency`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContingencyTest {
    /// `χ²` of the (Yates-corrected, when [`ContingencyTest::corrected`]) table.
    pub statistic: f64,
    /// `sf(χ²; dof)`; may underflow to 0 (see `ln_p_value`).
    pub p_value: f64,
    /// `ln sf(χ²; dof)`, finite where `p_value` underflows.
    pub ln_p_value: f64,
    /// `(R − 1)(C − 1)`.
    pub dof: usize,
    /// Expected counts under independence, `eᵢⱼ = rᵢ cⱼ / n`, row-major (`R` rows of `C`).
    pub expected: Vec<Vec<f64>>,
    /// Whether Yates' correction was applied (`correction` asked and `dof = 1`).
    pub corrected: bool,
}

/// Result of [`categorical`]: the contingency test of the `2 × K` table and how its columns
/// were formed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoricalTest<K> {
    /// The columns of the table: every category counted in either sample, ascending.
    pub categories: Vec<K>,
    /// Reference count of each category (row 0 of the table).
    pub reference: Vec<u64>,
    /// Current count of each category (row 1 of the table).
    pub current: Vec<u64>,
    /// Categories counted now but not in the reference (ascending); included in the test.
    pub new_categories: Vec<K>,
    /// Categories counted in the reference but not now (ascending); included in the test.
    pub missing_categories: Vec<K>,
    /// The test of the table; `expected[0]` / `expected[1]` are the reference / current rows.
    pub test: ContingencyTest,
}

/// Checks that a count is finite and non-negative.
fn check_count(value: f64, what: impl FnOnce() -> String) -> Result<()> {
    if value.is_nan() {
        Err(Error::invalid_input(format!("{} is NaN", what())))
    } else if value.is_infinite() {
        Err(Error::invalid_input(format!("{} is infinite", what())))
    } else if value < 0.0 {
        Err(Error::invalid_input(format!("{} is negative ({value})", what())))
    } else {
        Ok(())
    }
}

/// Pearson's chi-square goodness-of-fit test, as `scipy.stats.chisquare(f_obs, f_exp, ddof)`.
///
/// `expected = None` means equally likely categories (each expected count is the mean of
/// `observed`). See the module documentation for the sum rule, `dof = k − 1 − ddof`, and the
/// p-value.
///
/// # Errors
///
/// [`Error::InvalidInput`] if `observed` is empty, a count is NaN, infinite or negative, an
/// expected count is not `> 0`, the lengths differ, the sums disagree by more than
/// [`SUM_TOLERANCE`] (relative), all observed counts are 0, or `k − 1 − ddof < 1`.
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::chi2::chisquare;
/// let t = chisquare(&[16.0, 18.0, 16.0, 14.0, 12.0, 12.0], None, 0)?;
/// assert!((t.statistic - 2.0).abs() < 1e-12);
/// assert_eq!(t.dof, 5);
/// assert!((t.p_value - 0.8491450360846096).abs() < 1e-12);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn chisquare(observed: &[f64], expected: Option<&[f64]>, ddof: usize) -> Result<ChiSquareTest> {
    if observed.is_empty() {
        return Err(Error::invalid_input("chisquare: observed counts are empty"));
    }
    for (i, &o) in observed.iter().enumerate() {
        check_count(o, || format!("observed[{i}]"))?;
    }
    let k = observed.len();
    let dof = (k - 1).checked_sub(ddof).filter(|&d| d >= 1).ok_or_else(|| {
        Error::invalid_input(format!(
            "chisquare: degrees of freedom k - 1 - ddof = {k} - 1 - {ddof} must be at least 1"
        ))
    })?;
    let observed_sum = compensated_sum(observed.iter().copied());
    let statistic = match expected {
        None => {
            if observed_sum == 0.0 {
                return Err(Error::invalid_input("chisquare: all observed counts are 0"));
            }
            let mean = observed_sum / k as f64;
            compensated_sum(observed.iter().map(|&o| (o - mean) * (o - mean) / mean))
        }
        Some(expected) => {
            if expected.len() != k {
                return Err(Error::invalid_input(format!(
                    "chisquare: {k} observed counts but {} expected counts",
                    expected.len()
                )));
            }
            for (i, &e) in expected.iter().enumerate() {
                check_count(e, || format!("expected[{i}]"))?;
                if e == 0.0 {
                    return Err(Error::invalid_input(format!("expected[{i}] is 0")));
                }
            }
            let expected_sum = compensated_sum(expected.iter().copied());
            let relative = (observed_sum - expected_sum).abs() / observed_sum.min(expected_sum);
            if relative > SUM_TOLERANCE {
                return Err(Error::invalid_input(format!(
                    "chisquare: observed counts sum to {observed_sum} but expected counts to \
                     {expected_sum} (relative difference {relative:e} > {SUM_TOLERANCE:e}); \
                     rescale the expected counts"
                )));
            }
            compensated_sum(observed.iter().zip(expected).map(|(&o, &e)| (o - e) * (o - e) / e))
        }
    };
    let (p_value, ln_p_value) = p_values(statistic, dof)?;
    Ok(ChiSquareTest { statistic, p_value, ln_p_value, dof })
}

fn p_values(statistic: f64, dof: usize) -> Result<(f64, f64)> {
    let dof = dof as f64;
    Ok((chi2_sf(statistic, dof)?, chi2_ln_sf(statistic, dof)?))
}

/// Chi-square test of independence of the rows and columns of a two-way contingency table,
/// as `scipy.stats.chi2_contingency(table, correction)`.
///
/// `table` is row-major: `table[i][j]` is the count of row category `i` and column category
/// `j`; all rows must have the same length. See the module documentation for the expected
/// counts, the degrees of freedom and Yates' correction.
///
/// # Errors
///
/// [`Error::InvalidInput`] if the table is empty or ragged, a count is NaN, infinite or
/// negative, all counts are 0 (scipy: NaN), or an expected count is 0 (an all-zero row or
/// column).
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::chi2::contingency;
/// let t = contingency(&[[12.0, 5.0], [7.0, 9.0]], true)?;
/// assert!(t.corrected); // 2 × 2: Yates
/// assert_eq!(t.dof, 1);
/// assert_eq!(t.expected[0][0], 17.0 * 19.0 / 33.0); // row sum × column sum / total
/// assert!((t.statistic - 1.455996378814684).abs() < 1e-12);
/// assert!((t.p_value - 0.22756821457580642).abs() < 1e-12);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn contingency<R: AsRef<[f64]>>(table: &[R], correction: bool) -> Result<ContingencyTest> {
    let rows = table.len();
    let cols = table.first().map_or(0, |r| r.as_ref().len());
    if rows == 0 || cols == 0 {
        return Err(Error::invalid_input("contingency table is empty"));
    }
    for (i, row) in table.iter().enumerate() {
        let row = row.as_ref();
        if row.len() != cols {
            return Err(Error::invalid_input(format!(
                "contingency table is ragged: row 0 has {cols} columns, row {i} has {}",
                row.len()
            )));
        }
        for (j, &v) in row.iter().enumerate() {
            check_count(v, || format!("table[{i}][{j}]"))?;
        }
    }
    let row_sums: Vec<f64> =
        table.iter().map(|r| compensated_sum(r.as_ref().iter().copied())).collect();
    let col_sums: Vec<f64> =
        (0..cols).map(|j| compensated_sum(table.iter().map(|r| r.as_ref()[j]))).collect();
    let total = compensated_sum(row_sums.iter().copied());
    if total == 0.0 {
        // scipy answers NaN here.
        return Err(Error::invalid_input("contingency table has no counts (all cells are 0)"));
    }
    let expected: Vec<Vec<f64>> =
        row_sums.iter().map(|&r| col_sums.iter().map(|&c| r * c / total).collect()).collect();
    for (i, row) in expected.iter().enumerate() {
        if let Some(j) = row.iter().position(|&e| e == 0.0) {
            return Err(Error::invalid_input(format!(
                "the table of expected frequencies has a zero element at ({i}, {j}): \
                 row {i} or column {j} has no counts"
            )));
        }
    }
    let dof = (rows - 1) * (cols - 1);
    if dof == 0 {
        return Ok(ContingencyTest {
            statistic: 0.0,
            p_value: 1.0,
            ln_p_value: 0.0,
            dof,
            expected,
            corrected: false,
        });
    }
    let corrected = correction && dof == 1;
    let terms = table.iter().zip(&expected).flat_map(|(row, erow)| {
        row.as_ref().iter().zip(erow).map(move |(&o, &e)| {
            let o = if corrected {
                // Move o toward e by min(½, |e − o|), as scipy.
                let diff = e - o;
                o + diff.abs().min(0.5) * sign(diff)
            } else {
                o
            };
            (o - e) * (o - e) / e
        })
    });
    let statistic = compensated_sum(terms);
    let (p_value, ln_p_value) = p_values(statistic, dof)?;
    Ok(ContingencyTest { statistic, p_value, ln_p_value, dof, expected, corrected })
}

/// `np.sign`: −1, 0 or 1.
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Adds up `(category, count)` pairs per category, in ascending order of category.
pub(crate) fn tally<K: Ord>(
    pairs: impl IntoIterator<Item = (K, u64)>,
    side: &str,
) -> Result<BTreeMap<K, u64>> {
    let mut map = BTreeMap::new();
    for (k, c) in pairs {
        let slot = map.entry(k).or_insert(0u64);
        *slot = slot.checked_add(c).ok_or_else(|| {
            Error::invalid_input(format!("{side} counts of a category overflow u64"))
        })?;
    }
    Ok(map)
}

/// Chi-square test of a categorical feature: reference counts against current counts in the
/// `2 × K` contingency table, with the unseen-category policy of the module documentation
/// (new categories kept and reported, categories absent from both dropped).
///
/// `reference` and `current` are `(category, count)` pairs in any order (a `Vec`, a map, an
/// iterator; see [`super::distance::category_counts`] to count raw values). `correction`
/// is Yates' correction, used only when the table is `2 × 2` (exactly two categories), as
/// in [`contingency`]; scipy's default is `true`. With a single category the test is
/// degenerate: statistic 0, `p = 1`.
///
/// # Errors
///
/// [`Error::InvalidInput`] if either sample has no counts at all, or a category's counts
/// overflow `u64`.
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::chi2::categorical;
/// let reference = [("red", 50), ("green", 30), ("blue", 20)];
/// let current = [("red", 45), ("green", 30), ("blue", 15), ("violet", 10)];
/// let t = categorical(reference, current, true)?;
/// assert_eq!(t.categories, ["blue", "green", "red", "violet"]);
/// assert_eq!(t.new_categories, ["violet"]);
/// assert_eq!(t.test.dof, 3);
/// assert!((t.test.statistic - 10.977443609022556).abs() < 1e-12);
/// assert!((t.test.p_value - 0.011848473896240023).abs() < 1e-12);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn categorical<K: Ord + Clone>(
    reference: impl IntoIterator<Item = (K, u64)>,
    current: impl IntoIterator<Item = (K, u64)>,
    correction: bool,
) -> Result<CategoricalTest<K>> {
    let reference = tally(reference, "reference")?;
    let current = tally(current, "current")?;
    let mut merged: BTreeMap<K, (u64, u64)> = BTreeMap::new();
    for (k, c) in reference {
        merged.entry(k).or_default().0 = c;
    }
    for (k, c) in current {
        merged.entry(k).or_default().1 = c;
    }
    merged.retain(|_, &mut (r, c)| r > 0 || c > 0);
    let (mut ref_total, mut cur_total) = (0u64, 0u64);
    for &(r, c) in merged.values() {
        ref_total = ref_total.saturating_add(r);
        cur_total = cur_total.saturating_add(c);
    }
    if ref_total == 0 {
        return Err(Error::invalid_input("categorical chi-square: the reference has no counts"));
    }
    if cur_total == 0 {
        return Err(Error::invalid_input(
            "categorical chi-square: the current sample has no counts",
        ));
    }
    let mut out = CategoricalTest {
        categories: Vec::with_capacity(merged.len()),
        reference: Vec::with_capacity(merged.len()),
        current: Vec::with_capacity(merged.len()),
        new_categories: Vec::new(),
        missing_categories: Vec::new(),
        test: ContingencyTest {
            statistic: 0.0,
            p_value: 1.0,
            ln_p_value: 0.0,
            dof: 0,
            expected: Vec::new(),
            corrected: false,
        },
    };
    for (k, (r, c)) in merged {
        if r == 0 {
            out.new_categories.push(k.clone());
        } else if c == 0 {
            out.missing_categories.push(k.clone());
        }
        out.categories.push(k);
        out.reference.push(r);
        out.current.push(c);
    }
    let table = [
        out.reference.iter().map(|&c| c as f64).collect::<Vec<_>>(),
        out.current.iter().map(|&c| c as f64).collect::<Vec<_>>(),
    ];
    out.test = contingency(&table, correction)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn yates_never_overshoots() {
        // |e − o| = 0.25 < ½ in every cell: the corrected table equals the expected one.
        let t = contingency(&[[5.25, 4.75], [4.75, 5.25]], true).unwrap();
        assert!(t.corrected);
        assert_eq!(t.statistic, 0.0);
        assert_eq!(t.p_value, 1.0);
        let t = contingency(&[[5.25, 4.75], [4.75, 5.25]], false).unwrap();
        assert!(!t.corrected);
        assert!((t.statistic - 0.05).abs() < 1e-15, "{}", t.statistic);
    }

    #[test]
    fn degenerate_tables_and_errors() {
        let t = contingency(&[[1.0, 2.0, 3.0]], true).unwrap();
        assert_eq!((t.statistic, t.p_value, t.dof), (0.0, 1.0, 0));
        let err = contingency(&[[1.0, 0.0], [2.0, 0.0]], true).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("(0, 1)"), "{err}");
        let empty: [[f64; 0]; 0] = [];
        assert!(contingency(&empty, true).is_err());
        assert!(contingency(&[vec![1.0, 2.0], vec![3.0]], true).is_err());
        let err = contingency(&[[1.0, f64::NAN], [1.0, 2.0]], true).unwrap_err();
        assert!(err.to_string().contains("table[0][1] is NaN"), "{err}");
        assert!(contingency(&[[1.0, -1.0], [1.0, 2.0]], true).is_err());
        assert!(chisquare(&[], None, 0).is_err());
        assert!(chisquare(&[1.0, 2.0], None, 1).is_err());
        assert!(chisquare(&[0.0, 0.0], None, 0).is_err());
        assert!(chisquare(&[1.0, 2.0], Some(&[1.0, 2.0, 3.0]), 0).is_err());
        assert!(chisquare(&[1.0, 2.0], Some(&[3.0, 0.0]), 0).is_err());
        let err = chisquare(&[1.0, 2.0, 3.0], Some(&[2.0, 2.0, 2.0001]), 0).unwrap_err();
        assert!(err.to_string().contains("rescale"), "{err}");
        // Within scipy's tolerance: accepted.
        assert!(chisquare(&[1.0, 2.0, 3.0], Some(&[2.0, 2.0, 2.000_000_001]), 0).is_ok());
    }

    #[test]
    fn categorical_policy() {
        let t = categorical(
            vec![("a", 10), ("b", 0), ("c", 5), ("a", 5)],
            vec![("a", 7), ("c", 0), ("d", 3), ("e", 0)],
            true,
        )
        .unwrap();
        assert_eq!(t.categories, ["a", "c", "d"]);
        assert_eq!(t.reference, [15, 5, 0]);
        assert_eq!(t.current, [7, 0, 3]);
        assert_eq!(t.new_categories, ["d"]);
        assert_eq!(t.missing_categories, ["c"]);
        assert_eq!(t.test.dof, 2);
        assert!(!t.test.corrected);
        let only = categorical([("x", 3u64)], [("x", 4u64)], true).unwrap();
        assert_eq!((only.test.dof, only.test.p_value), (0, 1.0));
        assert!(categorical([("x", 0u64)], [("x", 4u64)], true).is_err());
        assert!(categorical(Vec::<(u8, u64)>::new(), [(1u8, 4u64)], true).is_err());
        assert!(categorical([(1u8, 4u64)], Vec::<(u8, u64)>::new(), true).is_err());
        assert!(categorical([(1u8, u64::MAX), (1u8, 1)], [(1u8, 4u64)], true).is_err());
    }
}
