//! Criterion benchmarks of harper-edge: `cargo bench -p harper-edge-benches`.
//! Bench ids start with the backend (`tract/iris_logreg_b1`).

/// Path of the committed iris test model.
pub const IRIS_MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/iris_logreg.onnx");

pub mod calibration;

/// The baseline: what a user of the `ort` and `tokenizers` crates would write, with the
/// same tokenizer settings, inputs and pooling as harper-edge's sentence encoder.
#[cfg(feature = "ort")]
pub mod bare_ort {
    use std::path::Path;

    use harper_edge_core::embedding::{Pooling, pool};
    use ort::session::Session;
    use ort::value::Tensor;
    use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

    /// A bare ort session with the MiniLM tokenizer.
    #[allow(missing_debug_implementations)] // ort's Session and Environment are not Debug
    pub struct Bare {
        // Dropped after the session.
        session: Session,
        _env: ort::environment::Environment,
        tokenizer: Tokenizer,
    }

    impl Bare {
        /// Loads `dir/model.onnx` and `dir/tokenizer.json`; panics on failure (a bench).
        pub fn load(dir: &Path) -> Self {
            let library =
                harper_edge_core::backend::ort::library_path().expect("ONNX Runtime library");
            // As harper-edge's backend: the default environment and session options.
            let env = ort::init_from(&library)
                .expect("ONNX Runtime loads")
                .with_name("harper-edge")
                .build()
                .expect("environment");
            let session = Session::builder(&env)
                .expect("session builder")
                .commit_from_file(dir.join("model.onnx"))
                .expect("MiniLM loads");
            let mut tokenizer =
                Tokenizer::from_file(dir.join("tokenizer.json")).expect("tokenizer.json");
            let padding = tokenizer.get_padding().cloned().unwrap_or_default();
            tokenizer.with_padding(Some(PaddingParams {
                strategy: PaddingStrategy::BatchLongest,
                ..padding
            }));
            let truncation = tokenizer.get_truncation().cloned().unwrap_or_default();
            let max_length = tokenizer.get_truncation().map_or(512, |t| t.max_length);
            tokenizer
                .with_truncation(Some(TruncationParams { max_length, ..truncation }))
                .expect("truncation");
            Bare { session, _env: env, tokenizer }
        }

        /// Tokenizes, runs and mean-pools `texts`: `(dim, row-major L2-normalised vectors)`.
        pub fn embed(&mut self, texts: &[&str]) -> (usize, Vec<f32>) {
            let encodings = self.tokenizer.encode_batch(texts.to_vec(), true).expect("tokenize");
            let (batch, seq) = (encodings.len(), encodings[0].len());
            let mut ids = Vec::with_capacity(batch * seq);
            let mut mask = Vec::with_capacity(batch * seq);
            let mut types = Vec::with_capacity(batch * seq);
            for e in &encodings {
                ids.extend(e.get_ids().iter().map(|&x| i64::from(x)));
                mask.extend(e.get_attention_mask().iter().map(|&x| i64::from(x)));
                types.extend(e.get_type_ids().iter().map(|&x| i64::from(x)));
            }
            let shape = [batch, seq];
            let tensor = |v: Vec<i64>| Tensor::from_array((shape, v)).expect("tensor");
            let inputs = ort::inputs! {
                "input_ids" => tensor(ids),
                "attention_mask" => tensor(mask.clone()),
                "token_type_ids" => tensor(types),
            };
            let outputs = self.session.run(inputs).expect("run");
            let (dims, hidden) =
                outputs["last_hidden_state"].try_extract_tensor::<f32>().expect("f32 output");
            let dim = usize::try_from(dims[2]).expect("dimension");
            (dim, pool(hidden, &mask, batch, seq, dim, Pooling::Mean, true))
        }
    }
}
