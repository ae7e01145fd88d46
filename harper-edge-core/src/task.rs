//! What a model is for, on top of raw tensors: turning outputs into a prediction.

use serde_json::Value;

use crate::tensor::{Outputs, Tensor};

/// Summarises raw outputs as a prediction and a confidence.
///
/// Classifiers (an integer or string output called `label` or `output_label`, and a float
/// output called `probabilities` or `output_probability`, as scikit-learn exports them):
/// the prediction is the label and the confidence its probability. For a batch of `n > 1`
/// rows the prediction is the array of labels and the confidence the mean of the row
/// confidences. Any other model: the prediction is every output as JSON, with no confidence.
pub fn summarize(outputs: &Outputs) -> (Value, Option<f64>) {
    match (label_output(outputs), probability_output(outputs)) {
        (Some(label), Some(probs)) => {
            classification(label, probs).unwrap_or_else(|| (outputs.to_json(), None))
        }
        _ => (outputs.to_json(), None),
    }
}

/// A classifier's label output, as scikit-learn exports it (`label` or `output_label`).
pub(crate) fn label_output(outputs: &Outputs) -> Option<&Tensor<'static>> {
    ["label", "output_label"].iter().find_map(|n| outputs.get(n))
}

/// A classifier's probability output (`probabilities` or `output_probability`).
pub(crate) fn probability_output(outputs: &Outputs) -> Option<&Tensor<'static>> {
    ["probabilities", "output_probability"].iter().find_map(|n| outputs.get(n))
}

fn classification(label: &Tensor<'_>, probs: &Tensor<'_>) -> Option<(Value, Option<f64>)> {
    let p = probs.as_f32()?;
    let [rows, classes] = *probs.shape() else { return None };
    if label.len() != rows || classes == 0 {
        return None;
    }
    let labels: Vec<Value> = match (label.as_i64(), label.as_strings()) {
        (Some(l), _) => l.iter().map(|&x| Value::from(x)).collect(),
        (_, Some(l)) => l.iter().map(|s| Value::from(s.as_str())).collect(),
        _ => return None,
    };
    // A row with a NaN probability (NaN inputs) has no confidence, and neither has its batch.
    let confidences: Option<Vec<f64>> = p
        .chunks_exact(classes)
        .map(|row| {
            (!row.iter().any(|x| x.is_nan()))
                .then(|| f64::from(row.iter().copied().fold(f32::NEG_INFINITY, f32::max)))
        })
        .collect();
    #[allow(clippy::cast_precision_loss)]
    let mean =
        confidences.filter(|c| !c.is_empty()).map(|c| c.iter().sum::<f64>() / c.len() as f64);
    match labels.as_slice() {
        [one] => Some((one.clone(), mean)),
        _ => Some((Value::Array(labels), mean)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classifier_outputs_become_label_and_confidence() {
        let label = Tensor::from_i64(&[1], &[2]).unwrap().into_owned();
        let probs = Tensor::from_f32(&[1, 3], &[0.1, 0.2, 0.7]).unwrap().into_owned();
        let out = Outputs::new(vec![("label".into(), label), ("probabilities".into(), probs)]);
        let (pred, conf) = summarize(&out);
        assert_eq!(pred, json!(2));
        assert!((conf.unwrap() - 0.7).abs() < 1e-6);
    }

    #[test]
    fn batches_give_label_arrays_and_mean_confidence() {
        let label = Tensor::from_i64(&[2], &[0, 1]).unwrap().into_owned();
        let probs = Tensor::from_f32(&[2, 2], &[0.9, 0.1, 0.3, 0.7]).unwrap().into_owned();
        let out = Outputs::new(vec![("label".into(), label), ("probabilities".into(), probs)]);
        let (pred, conf) = summarize(&out);
        assert_eq!(pred, json!([0, 1]));
        assert!((conf.unwrap() - 0.8).abs() < 1e-6);
    }

    #[test]
    fn nan_probabilities_have_no_confidence() {
        let label = Tensor::from_i64(&[2], &[0, 1]).unwrap().into_owned();
        let probs =
            Tensor::from_f32(&[2, 2], &[f32::NAN, f32::NAN, 0.3, 0.7]).unwrap().into_owned();
        let out = Outputs::new(vec![("label".into(), label), ("probabilities".into(), probs)]);
        assert_eq!(summarize(&out).1, None);
    }

    #[test]
    fn other_models_predict_their_outputs() {
        let y = Tensor::from_f32(&[1, 1], &[3.5]).unwrap().into_owned();
        let out = Outputs::new(vec![("variable".into(), y)]);
        assert_eq!(summarize(&out), (json!({"variable": [[3.5]]}), None));
    }
}
