//! Multiple testing: a model-level drift verdict over many features that controls the error
//! rate across them.
//!
//! Testing 25 features at α = 0.05 each flags at least one of them on healthy data about
//! 72 % of the time (`1 − 0.95²⁵`). A model-level verdict therefore adjusts the features'
//! p-values:
//!
//! - **Holm** (the default): step-down Bonferroni. With `m` p-values sorted ascending
//!   `p₍₁₎ ≤ … ≤ p₍ₘ₎`, the adjusted value of the `i`-th is
//!   `max_{j ≤ i} min(1, (m − j + 1)·p₍ⱼ₎)`. The model drifted when an adjusted p-value is
//!   below α: the chance of saying so on healthy data is at most α (family-wise error rate),
//!   whatever the dependence between features.
//! - **Benjamini–Hochberg**: adjusted `min_{j ≥ i} min(1, m·p₍ⱼ₎ / j)`. The features it flags
//!   contain on average at most a share α of false discoveries (false discovery rate, for
//!   independent or positively dependent tests). More features are flagged when several
//!   really moved; when none did it still says "drifted" with probability at most α.
//! - **None**: the adjusted p-value is the p-value (the model verdict is "any feature").
//!
//! Both equal `statsmodels.stats.multitest.multipletests(p, method="holm" | "fdr_bh")`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The adjustment of a model-level verdict (serde: `"holm"`, `"bh"`, `"none"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Correction {
    /// Holm's step-down procedure: family-wise error rate ≤ α.
    #[default]
    Holm,
    /// Benjamini–Hochberg: false discovery rate ≤ α.
    Bh,
    /// No adjustment.
    None,
}

impl Correction {
    /// The serde name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Correction::Holm => "holm",
            Correction::Bh => "bh",
            Correction::None => "none",
        }
    }
}

impl fmt::Display for Correction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Correction {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "holm" => Ok(Correction::Holm),
            "bh" | "fdr_bh" | "benjamini-hochberg" => Ok(Correction::Bh),
            "none" => Ok(Correction::None),
            other => Err(Error::invalid_input(format!(
                "unknown correction '{other}' (expected holm, bh or none)"
            ))),
        }
    }
}

/// The adjusted p-values of `p` (same order), by `correction`.
///
/// # Errors
///
/// [`Error::InvalidInput`] if a p-value is NaN or outside `[0, 1]`, naming its index.
///
/// # Examples
///
/// ```
/// use harper_edge_core::drift::multiple::{adjust, Correction};
///
/// let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12);
/// let p = [0.01, 0.04, 0.03, 0.005];
/// assert!(close(&adjust(&p, Correction::Holm)?, &[0.03, 0.06, 0.06, 0.02]));
/// assert!(close(&adjust(&p, Correction::Bh)?, &[0.02, 0.04, 0.04, 0.02]));
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
#[allow(clippy::cast_precision_loss)]
pub fn adjust(p: &[f64], correction: Correction) -> Result<Vec<f64>> {
    if let Some(i) = p.iter().position(|v| !(0.0..=1.0).contains(v)) {
        return Err(Error::invalid_input(format!(
            "p-value at index {i} is {}, not in [0, 1]",
            p[i]
        )));
    }
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(a.cmp(&b)));
    let mut out = vec![0.0; m];
    match correction {
        Correction::None => out.copy_from_slice(p),
        Correction::Holm => {
            let mut running: f64 = 0.0;
            for (rank, &i) in order.iter().enumerate() {
                let v = ((m - rank) as f64 * p[i]).min(1.0);
                running = running.max(v);
                out[i] = running;
            }
        }
        Correction::Bh => {
            let mut running: f64 = 1.0;
            for (rank, &i) in order.iter().enumerate().rev() {
                let v = (m as f64 * p[i] / (rank + 1) as f64).min(1.0);
                running = running.min(v);
                out[i] = running;
            }
        }
    }
    Ok(out)
}

/// The model-level verdict over features' p-values (serde camelCase).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelVerdict {
    /// The adjustment used.
    pub correction: Correction,
    /// The level α of the verdict.
    pub alpha: f64,
    /// Features with a p-value that took part.
    pub tested: u64,
    /// Features whose adjusted p-value is below α.
    pub rejected: u64,
    /// The smallest adjusted p-value (`None` without a tested feature).
    pub min_adjusted_p_value: Option<f64>,
    /// Features judged by a distance (no p-value) that drifted: they count as drifted for
    /// the model verdict too, outside the error control.
    pub distance_drifted: u64,
    /// Whether the model drifted: a rejected feature or a drifted distance feature.
    pub drifted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values from statsmodels 0.15.0 `multipletests` (holm, fdr_bh).
    #[test]
    fn adjusted_values_equal_statsmodels() {
        let p = [0.2, 0.001, 0.04, 0.04, 0.5, 0.011, 1.0, 0.0];
        let holm = adjust(&p, Correction::Holm).unwrap();
        let want_holm = [0.6, 0.007, 0.2, 0.2, 1.0, 0.066, 1.0, 0.0];
        let bh = adjust(&p, Correction::Bh).unwrap();
        let want_bh = [
            0.26666666666666666,
            0.004,
            0.064,
            0.064,
            0.5714285714285714,
            0.02933333333333333,
            1.0,
            0.0,
        ];
        for i in 0..p.len() {
            assert!(
                (holm[i] - want_holm[i]).abs() < 1e-12,
                "holm {i}: {} vs {}",
                holm[i],
                want_holm[i]
            );
            assert!((bh[i] - want_bh[i]).abs() < 1e-12, "bh {i}: {} vs {}", bh[i], want_bh[i]);
        }
        assert_eq!(adjust(&p, Correction::None).unwrap(), p);
        assert!(adjust(&[], Correction::Holm).unwrap().is_empty());
        assert_eq!(adjust(&[0.3], Correction::Bh).unwrap(), [0.3]);
    }

    #[test]
    fn bad_p_values_are_named() {
        let e = adjust(&[0.1, f64::NAN], Correction::Holm).unwrap_err();
        assert!(e.to_string().contains("index 1"), "{e}");
        assert!(adjust(&[1.5], Correction::Bh).is_err());
    }

    #[test]
    fn holm_controls_the_family_wise_error_on_uniform_p_values() {
        // 4,000 families of 20 independent uniform p-values: Holm at 0.05 rejects any in
        // about 5 % of them at most (Bonferroni's bound); unadjusted, in about 64 %.
        let mut state = 0x853C_49E6_748F_EA9Bu64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut holm, mut bh, mut raw) = (0, 0, 0);
        let families = 4000;
        for _ in 0..families {
            let p: Vec<f64> = (0..20).map(|_| next()).collect();
            holm += usize::from(adjust(&p, Correction::Holm).unwrap().iter().any(|&v| v < 0.05));
            bh += usize::from(adjust(&p, Correction::Bh).unwrap().iter().any(|&v| v < 0.05));
            raw += usize::from(p.iter().any(|&v| v < 0.05));
        }
        let rate = |n: usize| n as f64 / families as f64;
        // Binomial(4000, 0.05): sd 0.0034; 0.065 is over 4 sd above.
        assert!(rate(holm) < 0.065, "holm {}", rate(holm));
        assert!(rate(bh) < 0.065, "bh {}", rate(bh));
        assert!(rate(raw) > 0.55, "raw {}", rate(raw));
    }
}
