//! The Rust side of the inference peer benchmark (`benches/peers/inference`, `make
//! bench-peers-inference`): MiniLM-L6 sentence vectors through harper-edge's engine on one
//! backend, or through a bare `ort` session (`rust-bare-ort`, what a user of the `ort` and
//! `tokenizers` crates would write), timed and printed as one JSON object in the peers'
//! protocol (`benches/peers/inference/README.md`):
//!
//! ```text
//! embed_peer --peer harper-edge-rust-ort|harper-edge-rust-tract|harper-edge-rust-candle|rust-bare-ort
//!            [--model-dir DIR] [--sentences FILE] [--warmup N] [--runs N] [--batch N]
//!            [--batch-runs N] [--batch-warmup N]
//! ```
//!
//! A peer this build cannot run (ort or candle not compiled in, no ONNX Runtime) prints
//! `{"peer": …, "skipped": reason}`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use harper_edge_core::fetch::jobs::{FetchRequest, JobRegistration, JobState, SourceSpec};
use harper_edge_core::{Engine, InferContext, ModelRef};
use serde_json::{Value, json};

struct Args {
    peer: String,
    model_dir: PathBuf,
    sentences: PathBuf,
    warmup: usize,
    runs: usize,
    batch: usize,
    batch_runs: usize,
    batch_warmup: usize,
}

fn parse_args() -> Result<Args, String> {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let mut a = Args {
        peer: String::new(),
        model_dir: std::env::var_os("HARPER_EDGE_MINILM_DIR")
            .map_or_else(|| home.join(".cache/harper-edge/models/minilm-l6"), PathBuf::from),
        sentences: PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/peers/inference/sentences.json"
        )),
        warmup: 10,
        runs: 200,
        batch: 32,
        batch_runs: 20,
        batch_warmup: 2,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let count = || value.parse::<usize>().map_err(|e| format!("{flag} {value}: {e}"));
        match flag.as_str() {
            "--peer" => a.peer = value.clone(),
            "--model-dir" => a.model_dir = PathBuf::from(&value),
            "--sentences" => a.sentences = PathBuf::from(&value),
            "--warmup" => a.warmup = count()?,
            "--runs" => a.runs = count()?,
            "--batch" => a.batch = count()?,
            "--batch-runs" => a.batch_runs = count()?,
            "--batch-warmup" => a.batch_warmup = count()?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.peer.is_empty() {
        return Err("--peer is required".into());
    }
    Ok(a)
}

type Embed = Box<dyn FnMut(&[&str]) -> Result<(usize, Vec<f32>), String>>;

/// harper-edge's engine on `backend`: a fresh home, the MiniLM directory fetched from the
/// filesystem (as a user registers it), then [`Engine::embed`] (which records each call).
fn engine_peer(backend: &str, dir: &Path, home: &Path) -> Result<(Embed, String), String> {
    let main = if backend == "candle" { "model.safetensors" } else { "model.onnx" };
    let engine = Engine::open(home).map_err(|e| e.full_message())?;
    let parent = dir.parent().ok_or("the model directory has no parent")?;
    let name = dir.file_name().and_then(|n| n.to_str()).ok_or("bad model directory name")?;
    let request = FetchRequest::new("minilm", backend, SourceSpec::fs(parent, name)).registration(
        JobRegistration {
            metadata: json!({"backend": backend, "taskType": "text-embedding"}),
            main_file: Some(main.into()),
            ..JobRegistration::default()
        },
    );
    let job = engine.fetch_model(request).map_err(|e| e.full_message())?;
    let queue = engine.fetch_queue().map_err(|e| e.full_message())?;
    let job = queue.wait(&job.id, Duration::from_secs(600)).map_err(|e| e.full_message())?;
    if job.state != JobState::Completed {
        return Err(format!("fetch {:?}: {:?}", job.state, job.error));
    }
    let reference = ModelRef::new("minilm", Some(backend)).map_err(|e| e.full_message())?;
    let context = InferContext::new();
    let embed: Embed = Box::new(move |texts| {
        engine
            .embed(&reference, texts, &context)
            .map(|e| (e.dim, e.vectors))
            .map_err(|e| e.full_message())
    });
    let runtime = match backend {
        "ort" => format!(
            "harper-edge engine, ONNX Runtime ({})",
            harper_edge_core::backend::ort::library_path()
                .map_or_else(|e| e.to_string(), |p| p.display().to_string())
        ),
        "tract" => "harper-edge engine, tract-onnx 0.23".into(),
        _ => "harper-edge engine, candle 0.11 (safetensors)".into(),
    };
    Ok((embed, runtime))
}

fn load(peer: &str, dir: &Path, home: &Path) -> Result<(Embed, String), String> {
    let compiled = |feature: &str| -> Result<(), String> {
        let on = match feature {
            "ort" => cfg!(feature = "ort"),
            _ => cfg!(feature = "candle"),
        };
        if on {
            Ok(())
        } else {
            Err(format!(
                "not built with feature {feature} (cargo build --release -p harper-edge-benches --bin embed_peer --features ort,candle)"
            ))
        }
    };
    match peer {
        "harper-edge-rust-ort" => compiled("ort").and_then(|()| engine_peer("ort", dir, home)),
        "harper-edge-rust-tract" => engine_peer("tract", dir, home),
        "harper-edge-rust-candle" => {
            compiled("candle").and_then(|()| engine_peer("candle", dir, home))
        }
        "rust-bare-ort" => {
            compiled("ort")?;
            bare(dir)
        }
        other => Err(format!("unknown peer {other}")),
    }
}

#[cfg(feature = "ort")]
fn bare(dir: &Path) -> Result<(Embed, String), String> {
    let lib = harper_edge_core::backend::ort::library_path().map_err(|e| e.to_string())?;
    let dir = dir.to_path_buf();
    let mut session = harper_edge_benches::bare_ort::Bare::load(&dir);
    let embed: Embed = Box::new(move |texts| Ok(session.embed(texts)));
    Ok((embed, format!("ort crate + tokenizers crate, ONNX Runtime ({})", lib.display())))
}

#[cfg(not(feature = "ort"))]
fn bare(_: &Path) -> Result<(Embed, String), String> {
    Err("not built with feature ort".into())
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn run(args: &Args) -> Result<Value, String> {
    let text = std::fs::read_to_string(&args.sentences)
        .map_err(|e| format!("{}: {e}", args.sentences.display()))?;
    let parsed: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let sentences: Vec<String> = parsed["sentences"]
        .as_array()
        .ok_or("sentences.json has no 'sentences' array")?
        .iter()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect();
    if sentences.len() < 2 * args.batch {
        return Err(format!("need at least {} sentences", 2 * args.batch));
    }
    let all: Vec<&str> = sentences.iter().map(String::as_str).collect();
    let batches = [&all[..args.batch], &all[args.batch..2 * args.batch]];
    let home = tempfile::tempdir().map_err(|e| e.to_string())?;

    let t = Instant::now();
    let (mut embed, runtime) = match load(&args.peer, &args.model_dir, home.path()) {
        Ok(loaded) => loaded,
        Err(why) => return Ok(json!({"peer": args.peer, "skipped": why})),
    };
    // As the other harper-edge peers: the first embed loads the session; it counts as load.
    embed(&all[..1])?;
    let load_ms = ms_since(t);

    let mut k = 0;
    for _ in 0..args.warmup {
        embed(&[all[k % all.len()]])?;
        k += 1;
    }
    let mut b1 = Vec::with_capacity(args.runs);
    for _ in 0..args.runs {
        let text = [all[k % all.len()]];
        k += 1;
        let t = Instant::now();
        embed(&text)?;
        b1.push(ms_since(t));
    }
    for j in 0..args.batch_warmup {
        embed(batches[j % 2])?;
    }
    let mut b32 = Vec::with_capacity(args.batch_runs);
    for j in 0..args.batch_runs {
        let t = Instant::now();
        let (dim, v) = embed(batches[j % 2])?;
        b32.push(ms_since(t));
        if dim != 384 || v.len() != args.batch * 384 {
            return Err(format!("got {} floats of dimension {dim}", v.len()));
        }
    }
    let (dim, v) = embed(&all[..4])?;
    let vectors: Vec<&[f32]> = v.chunks(dim.max(1)).collect();
    Ok(json!({
        "peer": args.peer,
        "runtime": runtime,
        "loadMs": load_ms,
        "b1Ms": b1,
        "b32Ms": b32,
        "vectors": vectors,
        "loadNote": if args.peer.starts_with("harper-edge") {
            "loadMs = Engine::open + fetch_model + wait (copies the files into the home) + first embed of one sentence (loads the session)"
        } else {
            "loadMs = ONNX Runtime environment + session + tokenizer + first embed of one sentence"
        },
    }))
}

fn main() -> std::process::ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("embed_peer: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(v) => {
            println!("{v}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            println!("{}", json!({"peer": args.peer, "skipped": format!("failed: {e}")}));
            std::process::ExitCode::SUCCESS
        }
    }
}
