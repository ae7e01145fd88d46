//! What a benchmark feeds the models: texts for text models, numeric rows for tabular ones,
//! synthetic (seeded, so every run and every model sees the same) or read from a file.

use std::path::Path;

use serde_json::{Value, json};

use crate::error::{Error, Result};

/// The inputs of a benchmark.
#[derive(Debug, Clone, PartialEq)]
pub enum BenchInputs {
    /// Texts, for text and sentence-embedding models.
    Texts(Vec<String>),
    /// Rows of numbers (all the same width), for models of one float input `[batch, width]`.
    Rows(Vec<Vec<f32>>),
}

/// A small English vocabulary the synthetic sentences are drawn from.
const WORDS: &[&str] = &[
    "the",
    "a",
    "model",
    "engine",
    "data",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
    "dog",
    "river",
    "mountain",
    "city",
    "light",
    "network",
    "signal",
    "noise",
    "table",
    "record",
    "cluster",
    "node",
    "replica",
    "sensor",
    "reading",
    "temperature",
    "pressure",
    "weekly",
    "report",
    "shows",
    "strong",
    "growth",
    "in",
    "of",
    "and",
    "with",
    "without",
    "under",
    "between",
    "customers",
    "prefer",
    "faster",
    "answers",
    "latency",
    "matters",
    "when",
    "traffic",
    "peaks",
    "every",
    "morning",
    "quiet",
    "evening",
    "storm",
    "arrives",
    "late",
    "bright",
    "summer",
    "winter",
    "garden",
    "flowers",
    "bloom",
    "early",
    "market",
    "prices",
    "rose",
    "fell",
    "sharply",
    "after",
    "announcement",
    "team",
    "ships",
    "release",
    "on",
    "friday",
    "bug",
    "fixed",
    "tests",
    "pass",
    "slowly",
    "carefully",
    "reads",
    "writes",
    "memory",
    "disk",
    "cache",
    "warm",
    "cold",
    "start",
    "query",
    "returns",
    "rows",
    "empty",
    "result",
    "café",
    "naïve",
    "résumé",
    "2026",
    "42",
    "3.14",
    "—",
    "!",
    "?",
    ",",
];

/// SplitMix64: a tiny, well-mixed generator (no dependency; same sequence on every platform).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    #[allow(clippy::cast_possible_truncation)]
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in (0, 1].
    #[allow(clippy::cast_precision_loss)]
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }
}

impl BenchInputs {
    /// `count` English-like sentences of 4 to 40 words, the same for the same `seed`.
    ///
    /// # Examples
    ///
    /// ```
    /// use harper_edge_core::bench::BenchInputs;
    ///
    /// let a = BenchInputs::synthetic_texts(8, 7);
    /// assert_eq!(a, BenchInputs::synthetic_texts(8, 7));
    /// assert_eq!(a.len(), 8);
    /// ```
    pub fn synthetic_texts(count: usize, seed: u64) -> BenchInputs {
        let mut rng = SplitMix(seed);
        let texts = (0..count)
            .map(|_| {
                let words = 4 + rng.below(37);
                let mut s = String::new();
                for i in 0..words {
                    let w = WORDS[rng.below(WORDS.len())];
                    if i > 0 {
                        s.push(' ');
                    }
                    if i == 0 {
                        let mut c = w.chars();
                        if let Some(first) = c.next() {
                            s.extend(first.to_uppercase());
                            s.push_str(c.as_str());
                        }
                    } else {
                        s.push_str(w);
                    }
                }
                s.push('.');
                s
            })
            .collect();
        BenchInputs::Texts(texts)
    }

    /// `count` rows of `width` standard-normal numbers, the same for the same `seed`.
    pub fn synthetic_rows(count: usize, width: usize, seed: u64) -> BenchInputs {
        let mut rng = SplitMix(seed);
        let rows = (0..count)
            .map(|_| {
                (0..width)
                    .map(|_| {
                        // Box–Muller.
                        let (u, v) = (rng.unit(), rng.unit());
                        #[allow(clippy::cast_possible_truncation)]
                        let z = ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32;
                        z
                    })
                    .collect()
            })
            .collect();
        BenchInputs::Rows(rows)
    }

    /// Inputs from JSON: an array of strings (texts), an array of arrays of numbers (rows), or
    /// an object `{"texts": [...]}` / `{"rows": [[...], ...]}`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for anything else, an empty list, or rows of different widths.
    pub fn from_json(value: &Value) -> Result<BenchInputs> {
        let list = match value {
            Value::Object(map) => match (map.get("texts"), map.get("rows")) {
                (Some(t), None) => t,
                (None, Some(r)) => r,
                _ => {
                    return Err(Error::invalid_input(
                        "benchmark inputs: give an object with exactly one of 'texts' or 'rows'",
                    ));
                }
            },
            other => other,
        };
        let Value::Array(items) = list else {
            return Err(Error::invalid_input("benchmark inputs must be a JSON array"));
        };
        if items.is_empty() {
            return Err(Error::invalid_input("benchmark inputs are empty"));
        }
        if items.iter().all(Value::is_string) {
            return Ok(BenchInputs::Texts(
                items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
            ));
        }
        let mut rows = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let Value::Array(cells) = item else {
                return Err(Error::invalid_input(format!(
                    "benchmark input {i} is neither a text nor an array of numbers"
                )));
            };
            let row: Option<Vec<f32>> = cells
                .iter()
                .map(|c| {
                    #[allow(clippy::cast_possible_truncation)]
                    c.as_f64().map(|x| x as f32)
                })
                .collect();
            let row = row.ok_or_else(|| {
                Error::invalid_input(format!("benchmark input row {i} holds a non-number"))
            })?;
            rows.push(row);
        }
        let width = rows[0].len();
        if let Some(i) = rows.iter().position(|r| r.len() != width || r.is_empty()) {
            return Err(Error::invalid_input(format!(
                "benchmark input row {i} has {} numbers, row 0 has {width}",
                rows[i].len()
            )));
        }
        Ok(BenchInputs::Rows(rows))
    }

    /// Inputs from a file: JSON as [`BenchInputs::from_json`] reads it, or, for any other
    /// extension, plain text with one input text per non-empty line.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be read; as [`BenchInputs::from_json`].
    pub fn from_file(path: &Path) -> Result<BenchInputs> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
            let value: Value = serde_json::from_str(&text)
                .map_err(|e| Error::invalid_input(format!("{}: not JSON: {e}", path.display())))?;
            return BenchInputs::from_json(&value);
        }
        let lines: Vec<String> =
            text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect();
        if lines.is_empty() {
            return Err(Error::invalid_input(format!("{}: no input lines", path.display())));
        }
        Ok(BenchInputs::Texts(lines))
    }

    /// How many inputs.
    pub fn len(&self) -> usize {
        match self {
            BenchInputs::Texts(t) => t.len(),
            BenchInputs::Rows(r) => r.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A short description for the result record (`testDataSummary`).
    pub(crate) fn summary(&self, source: &str) -> Value {
        match self {
            BenchInputs::Texts(t) => {
                let words: Vec<usize> = t.iter().map(|s| s.split_whitespace().count()).collect();
                json!({
                    "kind": "texts",
                    "source": source,
                    "count": t.len(),
                    "minWords": words.iter().min(),
                    "maxWords": words.iter().max(),
                })
            }
            BenchInputs::Rows(r) => json!({
                "kind": "rows",
                "source": source,
                "count": r.len(),
                "width": r.first().map_or(0, Vec::len),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_inputs_are_seeded_and_varied() {
        let BenchInputs::Texts(t) = BenchInputs::synthetic_texts(50, 1) else { panic!() };
        assert_ne!(BenchInputs::Texts(t.clone()), BenchInputs::synthetic_texts(50, 2));
        let words: Vec<usize> = t.iter().map(|s| s.split_whitespace().count()).collect();
        assert!(words.iter().all(|&w| (4..=40).contains(&w)), "{words:?}");
        assert!(words.iter().max() > words.iter().min(), "lengths vary");
        assert!(t.iter().all(|s| s.ends_with('.')));
        let BenchInputs::Rows(r) = BenchInputs::synthetic_rows(2000, 3, 9) else { panic!() };
        assert!(r.iter().all(|row| row.len() == 3));
        #[allow(clippy::cast_precision_loss)]
        let n = (r.len() * 3) as f64;
        let mean = r.iter().flatten().map(|&x| f64::from(x)).sum::<f64>() / n;
        let var = r.iter().flatten().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / n;
        assert!(mean.abs() < 0.1 && (var - 1.0).abs() < 0.1, "mean {mean} var {var}");
    }

    #[test]
    fn inputs_from_json_and_files() {
        assert_eq!(
            BenchInputs::from_json(&json!(["a", "b"])).unwrap(),
            BenchInputs::Texts(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            BenchInputs::from_json(&json!({"rows": [[1, 2], [3.5, 4]]})).unwrap(),
            BenchInputs::Rows(vec![vec![1.0, 2.0], vec![3.5, 4.0]])
        );
        for bad in [
            json!([]),
            json!([[1], [1, 2]]),
            json!([["x"]]),
            json!({"texts": [], "rows": []}),
            json!(3),
        ] {
            let err = BenchInputs::from_json(&bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{bad}");
        }
        let dir = tempfile::tempdir().unwrap();
        let lines = dir.path().join("texts.txt");
        std::fs::write(&lines, "first text\n\n  second text \n").unwrap();
        assert_eq!(
            BenchInputs::from_file(&lines).unwrap(),
            BenchInputs::Texts(vec!["first text".into(), "second text".into()])
        );
        let json_file = dir.path().join("rows.json");
        std::fs::write(&json_file, "{\"rows\": [[0.5]]}").unwrap();
        assert_eq!(BenchInputs::from_file(&json_file).unwrap().len(), 1);
        std::fs::write(&json_file, "{oops").unwrap();
        assert!(BenchInputs::from_file(&json_file).unwrap_err().to_string().contains("not JSON"));
        let missing = BenchInputs::from_file(&dir.path().join("none.txt")).unwrap_err();
        assert_eq!(missing.kind(), crate::ErrorKind::Io);
    }
}
