//! Output agreement: does a model answer like its group's reference on the same inputs?
//!
//! - **Embeddings** (`[n, dim]` vectors): the cosine of each row with the reference's row; the
//!   model agrees when the lowest cosine reaches [`AgreementThresholds::min_cosine`].
//! - **Classifiers** (a `label` / `output_label` output): the fraction of rows given the same
//!   label; the model agrees when it reaches [`AgreementThresholds::min_label_agreement`].
//!   The largest absolute difference of the probabilities is reported beside it.
//! - **Anything else** (regressors, raw tensors): the largest absolute difference over the float
//!   outputs both models have; the model agrees when it is at most
//!   [`AgreementThresholds::max_abs_diff`].
//!
//! Outputs of different dimensions are not compared: [`compare`] refuses them with
//! [`Error::InvalidInput`] naming both shapes.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::task::{label_output, probability_output};
use crate::tensor::{Outputs, Tensor};

/// When a model counts as agreeing with its reference.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgreementThresholds {
    /// Lowest acceptable cosine of an embedding with the reference's (default 0.99).
    pub min_cosine: f64,
    /// Largest acceptable absolute difference of a float output (default 1e-3).
    pub max_abs_diff: f64,
    /// Lowest acceptable fraction of rows with the reference's label (default 1.0).
    pub min_label_agreement: f64,
}

impl Default for AgreementThresholds {
    fn default() -> Self {
        AgreementThresholds { min_cosine: 0.99, max_abs_diff: 1e-3, min_label_agreement: 1.0 }
    }
}

/// How agreement was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AgreementMetric {
    /// Cosine of embedding rows.
    Cosine,
    /// Label agreement of classifiers.
    Labels,
    /// Largest absolute difference of float outputs.
    MaxAbsDiff,
}

/// How one model's outputs compare with the reference's on the same inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agreement {
    /// The measure that decides [`Agreement::passed`].
    pub metric: AgreementMetric,
    /// Rows compared.
    pub compared: usize,
    /// Lowest row cosine (embeddings).
    pub min_cosine: Option<f64>,
    /// Mean row cosine (embeddings).
    pub mean_cosine: Option<f64>,
    /// Largest absolute difference of float outputs (probabilities for classifiers).
    pub max_abs_diff: Option<f64>,
    /// Fraction of rows with the reference's label (classifiers).
    pub label_agreement: Option<f64>,
    /// Whether the model agrees by the thresholds in force.
    pub passed: bool,
}

/// What a model answered on the agreement inputs.
#[derive(Debug, Clone)]
pub enum BenchOutput {
    /// Embeddings: `rows × dim` floats, row-major.
    Vectors {
        /// Dimension of each vector.
        dim: usize,
        /// The vectors.
        data: Vec<f32>,
    },
    /// Raw named outputs.
    Tensors(Outputs),
}

impl BenchOutput {
    /// The dimensions of one answer (one row): `[dim]` for embeddings, the first float
    /// output's shape without its batch dimension otherwise.
    pub fn row_shape(&self) -> Vec<usize> {
        match self {
            BenchOutput::Vectors { dim, .. } => vec![*dim],
            BenchOutput::Tensors(outputs) => outputs
                .iter()
                .find(|(_, t)| t.as_f32().is_some())
                .map(|(_, t)| t.shape().iter().skip(1).copied().collect())
                .unwrap_or_default(),
        }
    }
}

/// Compares `candidate` with `reference` (both answers to the same inputs).
///
/// # Errors
///
/// [`Error::InvalidInput`] when the two cannot be compared: different dimensions or row
/// counts, one an embedding and the other not, or no output in common.
///
/// # Examples
///
/// ```
/// use harper_edge_core::bench::{AgreementThresholds, BenchOutput, compare};
///
/// let reference = BenchOutput::Vectors { dim: 2, data: vec![1.0, 0.0, 0.0, 1.0] };
/// let close = BenchOutput::Vectors { dim: 2, data: vec![0.9999, 0.01, 0.0, 1.0] };
/// let a = compare(&reference, &close, &AgreementThresholds::default())?;
/// assert!(a.passed && a.min_cosine.unwrap() > 0.9999);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn compare(
    reference: &BenchOutput,
    candidate: &BenchOutput,
    thresholds: &AgreementThresholds,
) -> Result<Agreement> {
    match (reference, candidate) {
        (BenchOutput::Vectors { dim: d1, data: a }, BenchOutput::Vectors { dim: d2, data: b }) => {
            compare_vectors(*d1, a, *d2, b, thresholds)
        }
        (BenchOutput::Tensors(a), BenchOutput::Tensors(b)) => compare_tensors(a, b, thresholds),
        _ => Err(Error::invalid_input(
            "cannot compare an embedding model with a model that is not one",
        )),
    }
}

fn mismatch(what: &str, reference: &[usize], candidate: &[usize]) -> Error {
    Error::invalid_input(format!(
        "dimension mismatch: the reference's {what} has shape {reference:?}, this model's \
         {candidate:?}"
    ))
}

fn compare_vectors(
    d1: usize,
    a: &[f32],
    d2: usize,
    b: &[f32],
    thresholds: &AgreementThresholds,
) -> Result<Agreement> {
    let rows = |d: usize, v: &[f32]| v.len().checked_div(d).unwrap_or(0);
    if d1 != d2 || a.len() != b.len() {
        return Err(mismatch("embedding", &[rows(d1, a), d1], &[rows(d2, b), d2]));
    }
    let cosines: Vec<f64> = a
        .chunks_exact(d1.max(1))
        .zip(b.chunks_exact(d2.max(1)))
        .map(|(x, y)| cosine(x, y))
        .collect();
    let min = cosines.iter().copied().fold(f64::INFINITY, f64::min);
    #[allow(clippy::cast_precision_loss)]
    let mean = cosines.iter().sum::<f64>() / cosines.len().max(1) as f64;
    let max_abs = max_abs_diff(a, b);
    let compared = cosines.len();
    Ok(Agreement {
        metric: AgreementMetric::Cosine,
        compared,
        min_cosine: (compared > 0).then_some(min),
        mean_cosine: (compared > 0).then_some(mean),
        max_abs_diff: Some(max_abs),
        label_agreement: None,
        passed: compared > 0 && min >= thresholds.min_cosine,
    })
}

/// Cosine of two vectors in f64; 1 for two zero vectors, 0 when only one is zero.
fn cosine(x: &[f32], y: &[f32]) -> f64 {
    let (mut dot, mut nx, mut ny) = (0.0_f64, 0.0_f64, 0.0_f64);
    for (&a, &b) in x.iter().zip(y) {
        let (a, b) = (f64::from(a), f64::from(b));
        dot += a * b;
        nx += a * a;
        ny += b * b;
    }
    match (nx == 0.0, ny == 0.0) {
        (true, true) => 1.0,
        (true, false) | (false, true) => 0.0,
        (false, false) => dot / (nx.sqrt() * ny.sqrt()),
    }
}

/// Largest |a − b| (NaN on one side only counts as infinite; NaN on both as equal).
fn max_abs_diff(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| match (x.is_nan(), y.is_nan()) {
            (true, true) => 0.0,
            (false, false) => (f64::from(x) - f64::from(y)).abs(),
            _ => f64::INFINITY,
        })
        .fold(0.0, f64::max)
}

fn labels(t: &Tensor<'_>) -> Option<Vec<String>> {
    match (t.as_i64(), t.as_strings()) {
        (Some(l), _) => Some(l.iter().map(ToString::to_string).collect()),
        (_, Some(l)) => Some(l.to_vec()),
        _ => None,
    }
}

fn compare_tensors(
    a: &Outputs,
    b: &Outputs,
    thresholds: &AgreementThresholds,
) -> Result<Agreement> {
    if let (Some(la), Some(lb)) = (label_output(a), label_output(b)) {
        let (Some(x), Some(y)) = (labels(la), labels(lb)) else {
            return Err(Error::invalid_input("a label output holds neither integers nor strings"));
        };
        if x.len() != y.len() {
            return Err(mismatch("labels", la.shape(), lb.shape()));
        }
        let same = x.iter().zip(&y).filter(|(p, q)| p == q).count();
        #[allow(clippy::cast_precision_loss)]
        let fraction = if x.is_empty() { 0.0 } else { same as f64 / x.len() as f64 };
        let probs = match (probability_output(a), probability_output(b)) {
            (Some(pa), Some(pb)) if pa.shape() == pb.shape() => {
                pa.as_f32().zip(pb.as_f32()).map(|(p, q)| max_abs_diff(p, q))
            }
            (Some(pa), Some(pb)) => return Err(mismatch("probabilities", pa.shape(), pb.shape())),
            _ => None,
        };
        return Ok(Agreement {
            metric: AgreementMetric::Labels,
            compared: x.len(),
            min_cosine: None,
            mean_cosine: None,
            max_abs_diff: probs,
            label_agreement: Some(fraction),
            passed: !x.is_empty() && fraction >= thresholds.min_label_agreement,
        });
    }
    let mut worst: Option<f64> = None;
    let mut compared = 0;
    for (name, ta) in a.iter() {
        let (Some(x), Some(tb)) = (ta.as_f32(), b.get(name)) else { continue };
        let Some(y) = tb.as_f32() else { continue };
        if ta.shape() != tb.shape() {
            return Err(mismatch(&format!("output '{name}'"), ta.shape(), tb.shape()));
        }
        compared = compared.max(ta.shape().first().copied().unwrap_or(1));
        worst = Some(worst.unwrap_or(0.0).max(max_abs_diff(x, y)));
    }
    let Some(worst) = worst else {
        let names =
            |o: &Outputs| o.iter().map(|(n, _)| n.to_string()).collect::<Vec<_>>().join(", ");
        return Err(Error::invalid_input(format!(
            "no float output in common to compare (reference: {}; this model: {})",
            names(a),
            names(b)
        )));
    };
    Ok(Agreement {
        metric: AgreementMetric::MaxAbsDiff,
        compared,
        min_cosine: None,
        mean_cosine: None,
        max_abs_diff: Some(worst),
        label_agreement: None,
        passed: worst <= thresholds.max_abs_diff,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors(dim: usize, data: &[f32]) -> BenchOutput {
        BenchOutput::Vectors { dim, data: data.to_vec() }
    }

    fn outputs(pairs: Vec<(&str, Tensor<'static>)>) -> BenchOutput {
        BenchOutput::Tensors(Outputs::new(
            pairs.into_iter().map(|(name, t)| (name.to_string(), t)).collect(),
        ))
    }

    const T: AgreementThresholds =
        AgreementThresholds { min_cosine: 0.99, max_abs_diff: 1e-3, min_label_agreement: 1.0 };

    #[test]
    fn cosine_on_known_vectors() {
        // Row 0 identical up to scale (cos 1); row 1 at 45° (cos 1/√2).
        let a = vectors(2, &[1.0, 0.0, 0.0, 1.0]);
        let b = vectors(2, &[3.0, 0.0, 1.0, 1.0]);
        let r = compare(&a, &b, &T).unwrap();
        assert_eq!(r.metric, AgreementMetric::Cosine);
        assert_eq!(r.compared, 2);
        assert!((r.min_cosine.unwrap() - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12);
        assert!(
            (r.mean_cosine.unwrap() - (1.0 + std::f64::consts::FRAC_1_SQRT_2) / 2.0).abs() < 1e-12
        );
        assert!(!r.passed);
        let same = compare(&a, &a, &T).unwrap();
        assert!(same.passed);
        assert_eq!((same.min_cosine, same.max_abs_diff), (Some(1.0), Some(0.0)));
        // Opposite vectors: cos −1; a zero row against a non-zero one: 0.
        let c = compare(&vectors(2, &[1.0, 0.0]), &vectors(2, &[-1.0, 0.0]), &T).unwrap();
        assert_eq!(c.min_cosine, Some(-1.0));
        let z = compare(&vectors(2, &[0.0, 0.0]), &vectors(2, &[0.0, 1.0]), &T).unwrap();
        assert_eq!(z.min_cosine, Some(0.0));
    }

    #[test]
    fn dimension_mismatch_is_refused() {
        let err = compare(&vectors(2, &[1.0, 0.0]), &vectors(3, &[1.0, 0.0, 0.0]), &T).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("dimension mismatch"), "{err}");
        let rows = compare(&vectors(2, &[1.0, 0.0]), &vectors(2, &[1.0, 0.0, 0.0, 1.0]), &T);
        assert!(rows.unwrap_err().to_string().contains("[1, 2]"));
        let y1 = Tensor::from_f32(&[2, 1], &[1.0, 2.0]).unwrap().into_owned();
        let y2 = Tensor::from_f32(&[1, 2], &[1.0, 2.0]).unwrap().into_owned();
        let err = compare(&outputs(vec![("y", y1)]), &outputs(vec![("y", y2)]), &T).unwrap_err();
        assert!(err.to_string().contains("output 'y'"), "{err}");
        let mixed = compare(&vectors(1, &[1.0]), &outputs(vec![]), &T).unwrap_err();
        assert_eq!(mixed.kind(), crate::ErrorKind::InvalidInput);
    }

    #[test]
    fn classifiers_agree_on_labels() {
        let labels = |l: &[i64]| Tensor::from_i64(&[l.len()], l).unwrap().into_owned();
        let probs = |p: &[f32]| Tensor::from_f32(&[p.len() / 2, 2], p).unwrap().into_owned();
        let a = outputs(vec![
            ("label", labels(&[0, 1, 1, 0])),
            ("probabilities", probs(&[0.9, 0.1, 0.2, 0.8, 0.3, 0.7, 0.6, 0.4])),
        ]);
        let b = outputs(vec![
            ("label", labels(&[0, 1, 0, 0])),
            ("probabilities", probs(&[0.9, 0.1, 0.2, 0.8, 0.55, 0.45, 0.6, 0.4])),
        ]);
        let r = compare(&a, &b, &T).unwrap();
        assert_eq!(r.metric, AgreementMetric::Labels);
        assert_eq!((r.compared, r.label_agreement), (4, Some(0.75)));
        assert!((r.max_abs_diff.unwrap() - 0.25).abs() < 1e-6);
        assert!(!r.passed);
        let lenient = AgreementThresholds { min_label_agreement: 0.75, ..T };
        assert!(compare(&a, &b, &lenient).unwrap().passed);
        // String labels (ZipMap-free scikit-learn exports with class names) compare as well.
        let s = |l: &[&str]| {
            let owned: Vec<String> = l.iter().map(|x| (*x).to_string()).collect();
            Tensor::new(vec![l.len()], crate::TensorData::String(owned.into())).unwrap()
        };
        let r = compare(
            &outputs(vec![("output_label", s(&["a", "b"]))]),
            &outputs(vec![("label", s(&["a", "b"]))]),
            &T,
        )
        .unwrap();
        assert_eq!((r.label_agreement, r.max_abs_diff, r.passed), (Some(1.0), None, true));
    }

    #[test]
    fn regressors_compare_by_max_abs_difference() {
        let y = |v: &[f32]| Tensor::from_f32(&[v.len(), 1], v).unwrap().into_owned();
        let a = outputs(vec![("variable", y(&[1.0, 2.0, 3.0]))]);
        let b = outputs(vec![("variable", y(&[1.0, 2.0005, 3.0]))]);
        let r = compare(&a, &b, &T).unwrap();
        assert_eq!((r.metric, r.compared), (AgreementMetric::MaxAbsDiff, 3));
        assert!((r.max_abs_diff.unwrap() - 0.0005).abs() < 1e-6 && r.passed);
        let far = outputs(vec![("variable", y(&[1.0, 2.5, 3.0]))]);
        assert!(!compare(&a, &far, &T).unwrap().passed);
        let nan = outputs(vec![("variable", y(&[1.0, f32::NAN, 3.0]))]);
        assert_eq!(compare(&a, &nan, &T).unwrap().max_abs_diff, Some(f64::INFINITY));
        let other = outputs(vec![("other", y(&[1.0]))]);
        assert!(
            compare(&a, &other, &T).unwrap_err().to_string().contains("no float output in common")
        );
    }
}
