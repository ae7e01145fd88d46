//! `harper-edge`: the command-line face of harper-edge-core.

mod bench;
mod drift;
mod fetch;
mod monitor;
mod table;

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use harper_edge_core::report::{HealthQuery, ModelHealth, RenderOptions, render_model_page};
use harper_edge_core::{
    Engine, Error, EventQuery, Framework, InferContext, MetricsQuery, ModelMetrics, ModelRef,
    ModelRegistration, Result, Stage, Timestamp,
};
use serde_json::{Value, json};

/// Embeddable MLOps engine: register models, run inference, read telemetry.
#[derive(Debug, Parser)]
#[command(name = "harper-edge", version, about)]
struct Cli {
    /// Data directory (SQLite database and model files).
    #[arg(long, global = true, env = "HARPER_EDGE_HOME", default_value = ".harper-edge")]
    home: PathBuf,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Register, fetch, inspect, list, show and remove models.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Fetch jobs: list, show, watch, retry, cancel.
    #[command(subcommand)]
    Job(fetch::JobCommand),
    /// Profiles (JSON files naming model sets): validate, deploy.
    #[command(subcommand)]
    Profile(fetch::ProfileCommand),
    /// Benchmark equivalent models (same taskType and equivalenceGroup): latency
    /// percentiles, throughput per batch size and concurrency, load time, peak memory, errors
    /// and agreement with a reference model; picks a winner and stores the result. Exit
    /// status 1 when a group could not be benchmarked.
    Bench(Box<bench::BenchArgs>),
    /// Run a model on a JSON input and record the call.
    Infer {
        /// `NAME` (newest version) or `NAME:VERSION`.
        model: String,
        /// Input as JSON: nested arrays, or an object keyed by input name; `-` reads stdin.
        #[arg(long)]
        input: String,
        /// User id stored with the event.
        #[arg(long)]
        user_id: Option<String>,
        /// Session id stored with the event.
        #[arg(long)]
        session_id: Option<String>,
    },
    /// Embed texts with an embedding model, all in one batch; prints one JSON object
    /// (inferenceId, count, dim, vectors).
    Embed {
        /// `NAME` (newest version) or `NAME:VERSION`.
        model: String,
        /// The texts; `-` reads one text per line from stdin.
        #[arg(required = true)]
        texts: Vec<String>,
    },
    /// Ask a chat or generate model (Ollama) and stream its answer to stdout.
    Chat {
        /// `NAME` (newest version) or `NAME:VERSION`.
        model: String,
        /// The prompt; `-` reads stdin.
        prompt: String,
        /// A system message first.
        #[arg(long)]
        system: Option<String>,
        /// Print the whole answer as one JSON object (inference id, text, tokens, latency)
        /// instead of streaming text.
        #[arg(long)]
        json: bool,
    },
    /// List recorded inference events, newest first, one JSON object per line.
    Events {
        /// Only events of this model.
        #[arg(long)]
        model: Option<String>,
        /// Only events of this version (with --model).
        #[arg(long, requires = "model")]
        version: Option<String>,
        /// At most this many events.
        #[arg(long, default_value_t = EventQuery::DEFAULT_LIMIT)]
        limit: usize,
    },
    /// Show a model's metrics: rollup rows (one JSON object per line, oldest first) or, with
    /// --realtime, the sliding five-minute view.
    Metrics {
        /// `NAME` (every version, or the newest with --realtime) or `NAME:VERSION`.
        model: String,
        /// Rollup period: 5min, hourly or daily.
        #[arg(long, default_value = "hourly", conflicts_with = "realtime")]
        granularity: String,
        /// Only periods starting at or after this time (RFC 3339 or epoch milliseconds).
        #[arg(long, conflicts_with = "realtime")]
        from: Option<String>,
        /// Only periods starting before this time (RFC 3339 or epoch milliseconds).
        #[arg(long, conflicts_with = "realtime")]
        to: Option<String>,
        /// The sliding five-minute window instead of rollups.
        #[arg(long)]
        realtime: bool,
        /// Split the rollups by this key, computed from the stored calls: an event field
        /// (modelVersion, userId, sessionId, framework) or a feature of the calls (an A/B
        /// arm, a cohort); one JSON object per segment and row, with `segment`.
        #[arg(long, value_name = "KEY", conflicts_with = "realtime")]
        segment: Option<String>,
    },
    /// Record the ground truth of an earlier inference.
    Feedback {
        /// The inference id printed by `infer`.
        id: String,
        /// The actual outcome as JSON (e.g. `2` or `"setosa"`).
        #[arg(long)]
        outcome: String,
    },
    /// Compare a current data file with a reference file (or a saved baseline): per-feature
    /// drift verdicts and data quality. Exit status 2 with --fail-on-drift when a feature
    /// drifted.
    Drift(Box<drift::DriftArgs>),
    /// Alert events and rules: list, acknowledge, add and delete.
    #[command(subcommand)]
    Alerts(monitor::AlertsCommand),
    /// Retraining requests: list, request by hand, approve, reject, complete.
    #[command(subcommand)]
    Retrain(monitor::RetrainCommand),
    /// Run the monitor (scheduled jobs, retraining conditions, alert rules) and set its
    /// configuration.
    #[command(subcommand)]
    Monitor(monitor::MonitorCommand),
    /// Write a self-contained HTML report (inline SVG, opens offline) of models' health:
    /// request rate, errors and latency over time, the newest drift check with histograms,
    /// data quality, alerts and pending retraining requests.
    Report {
        /// `NAME` (newest version) or `NAME:VERSION`; default: every registered model.
        models: Vec<String>,
        /// The HTML file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Rollup period of the charts: 5min, hourly or daily.
        #[arg(long, default_value = "5min")]
        granularity: String,
        /// Start of the range (RFC 3339 or epoch milliseconds); default 288 periods before --to.
        #[arg(long)]
        from: Option<String>,
        /// End of the range (RFC 3339 or epoch milliseconds); default now.
        #[arg(long)]
        to: Option<String>,
        /// The document's title.
        #[arg(long)]
        title: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ModelCommand {
    /// Register a model file under NAME:VERSION, or a model an Ollama daemon serves
    /// (--ollama MODEL).
    Add {
        /// Model name.
        name: String,
        /// Model version.
        version: String,
        /// Model format (ollama with --ollama).
        #[arg(long, default_value = "onnx")]
        framework: String,
        /// The model file.
        #[arg(long, required_unless_present = "ollama", conflicts_with = "ollama")]
        file: Option<PathBuf>,
        /// The model's name in Ollama (`llama3.2`, `nomic-embed-text`): registers an Ollama
        /// model, no file.
        #[arg(long, value_name = "MODEL")]
        ollama: Option<String>,
        /// What the Ollama model is for: chat, generate or embeddings.
        #[arg(long, default_value = "chat", requires = "ollama")]
        mode: String,
        /// The Ollama daemon's address (default OLLAMA_HOST, else 127.0.0.1:11434).
        #[arg(long, requires = "ollama")]
        host: Option<String>,
        /// Lifecycle stage.
        #[arg(long, default_value = "candidate")]
        stage: String,
        /// Metadata as a JSON object (taskType, equivalenceGroup, description, …).
        #[arg(long, default_value = "{}")]
        metadata: String,
    },
    /// List registered models, one JSON object per line, oldest first.
    List(fetch::ListArgs),
    /// Show one model (`NAME` for the newest version, or `NAME:VERSION`).
    Show {
        /// The model.
        model: String,
    },
    /// Remove a model version, its fetch job and the files no other model uses.
    Remove {
        /// `NAME:VERSION`.
        model: String,
    },
    /// Describe a source before fetching it: files, sizes, the files a fetch would take,
    /// framework, a suggested name. Downloads no model file.
    Inspect(fetch::SourceArgs),
    /// Fetch a model from the Hugging Face Hub, a URL or a path, as a durable job, and
    /// register it; draws progress and waits (unless --detach). Exit status 1 when the job
    /// fails.
    Fetch(Box<fetch::FetchArgs>),
}

pub(crate) fn parse_json(what: &str, text: &str) -> Result<Value> {
    serde_json::from_str(text)
        .map_err(|e| Error::invalid_input(format!("{what} is not valid JSON: {e}")))
}

fn read_input(arg: &str) -> Result<Value> {
    if arg == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| Error::io("<stdin>", e))?;
        parse_json("--input", &text)
    } else {
        parse_json("--input", arg)
    }
}

pub(crate) fn parse_time(text: &str) -> Result<Timestamp> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(Timestamp::from_millis(ms));
    }
    let t = humantime::parse_rfc3339_weak(text).map_err(|e| {
        Error::invalid_input(format!("'{text}' is neither RFC 3339 nor epoch milliseconds: {e}"))
    })?;
    let ms = t.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    Ok(Timestamp::from_millis(i64::try_from(ms).unwrap_or(i64::MAX)))
}

pub(crate) fn print_json(v: &impl serde::Serialize) -> Result<()> {
    use std::io::Write as _;
    let line = serde_json::to_string(v)?;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{line}").and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        // The reader went away (`| head`): stop quietly, as other command-line tools do.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Error::io("<stdout>", e)),
    }
}

#[cfg(feature = "ollama")]
fn ollama_manifest(model: &str, mode: &str, host: Option<String>) -> Result<Vec<u8>> {
    use harper_edge_core::backend::ollama::{OllamaMode, OllamaModel};
    let mode = match mode {
        "chat" => OllamaMode::Chat,
        "generate" => OllamaMode::Generate,
        "embeddings" => OllamaMode::Embeddings,
        other => {
            return Err(Error::invalid_input(format!(
                "unknown --mode '{other}' (expected chat, generate or embeddings)"
            )));
        }
    };
    let mut manifest = OllamaModel::new(model, mode);
    manifest.host = host;
    Ok(manifest.to_bytes())
}

#[cfg(not(feature = "ollama"))]
fn ollama_manifest(_model: &str, _mode: &str, _host: Option<String>) -> Result<Vec<u8>> {
    Err(Error::BackendNotCompiled { backend: "ollama".into(), feature: "ollama".into() })
}

fn chat(
    engine: &Engine,
    model: &str,
    prompt: String,
    system: Option<String>,
    json: bool,
) -> Result<()> {
    use harper_edge_core::backend::{ChatMessage, Prompt};
    use std::io::Write as _;
    let prompt = if prompt == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| Error::io("<stdin>", e))?;
        text
    } else {
        prompt
    };
    let mut messages = Vec::new();
    if let Some(system) = system {
        messages.push(ChatMessage::new("system", system));
    }
    messages.push(ChatMessage::user(prompt));
    let mut out = std::io::stdout();
    let answer = engine.generate(
        &model.parse()?,
        &Prompt::Chat(&messages),
        &InferContext::new(),
        &mut |piece| {
            if json {
                return true;
            }
            // A closed stdout (`| head`) stops the answer.
            out.write_all(piece.as_bytes()).and_then(|()| out.flush()).is_ok()
        },
    );
    engine.flush()?;
    let answer = answer?;
    if json {
        print_json(&answer)
    } else {
        let _ = writeln!(out);
        Ok(())
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let engine = Engine::open(&cli.home)?;
    match cli.command {
        Command::Retrain(command) => monitor::retrain(engine, command),
        Command::Model(ModelCommand::Fetch(args)) => fetch::fetch(&engine, *args),
        Command::Job(command) => fetch::job(&engine, command),
        Command::Profile(command) => fetch::profile(&engine, command),
        Command::Bench(args) => bench::bench(&engine, *args),
        command => run_command(engine, command).map(|()| ExitCode::SUCCESS),
    }
}

fn run_command(engine: Engine, command: Command) -> Result<()> {
    match command {
        Command::Model(ModelCommand::Add {
            name,
            version,
            framework,
            file,
            ollama,
            mode,
            host,
            stage,
            metadata,
        }) => {
            let stage: Stage = stage.parse()?;
            let metadata = parse_json("--metadata", &metadata)?;
            let registration = match (file, ollama) {
                (Some(file), _) => {
                    ModelRegistration::new(name, version, framework.parse()?).file(file)
                }
                (None, Some(model)) => ModelRegistration::new(name, version, Framework::Ollama)
                    .bytes(ollama_manifest(&model, &mode, host)?),
                (None, None) => return Err(Error::invalid_input("give --file or --ollama")),
            };
            let model = engine.register_model(registration.stage(stage).metadata(metadata))?;
            print_json(&model)
        }
        Command::Chat { model, prompt, system, json } => {
            chat(&engine, &model, prompt, system, json)
        }
        Command::Embed { model, texts } => {
            let texts = if texts == ["-"] {
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text).map_err(|e| Error::io("<stdin>", e))?;
                text.lines().map(str::to_string).collect()
            } else {
                texts
            };
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let e = engine.embed(&model.parse()?, &refs, &InferContext::new());
            engine.flush()?;
            let e = e?;
            let vectors: Vec<&[f32]> = e.vectors.chunks(e.dim.max(1)).collect();
            print_json(&json!({
                "inferenceId": e.inference_id,
                "modelName": e.model_name,
                "modelVersion": e.model_version,
                "count": e.count,
                "dim": e.dim,
                "latencyMs": e.latency_ms,
                "vectors": vectors,
            }))
        }
        Command::Model(ModelCommand::List(args)) => fetch::list(&engine, &args),
        Command::Model(ModelCommand::Show { model }) => fetch::show(&engine, &model),
        Command::Model(ModelCommand::Remove { model }) => fetch::remove(&engine, &model),
        Command::Model(ModelCommand::Inspect(args)) => fetch::inspect_source(&args),
        // `run` handles these (their own exit status).
        Command::Model(ModelCommand::Fetch(args)) => fetch::fetch(&engine, *args).map(drop),
        Command::Job(command) => fetch::job(&engine, command).map(drop),
        Command::Profile(command) => fetch::profile(&engine, command).map(drop),
        Command::Bench(args) => bench::bench(&engine, *args).map(drop),
        Command::Infer { model, input, user_id, session_id } => {
            let reference: ModelRef = model.parse()?;
            let input = read_input(&input)?;
            let mut context = InferContext::new();
            context.user_id = user_id;
            context.session_id = session_id;
            let p = engine.infer_json(&reference, &input, &context);
            // Keep the rollups current: this process ends right after the call.
            engine.flush()?;
            let p = p?;
            let mut out = serde_json::to_value(&p)?;
            out["outputs"] = p.outputs.to_json();
            print_json(&out)
        }
        Command::Events { model, version, limit } => {
            let mut query = EventQuery::new().limit(limit);
            query.model_name = model;
            query.model_version = version;
            engine.events(&query)?.iter().try_for_each(print_json)
        }
        Command::Metrics { model, realtime: true, .. } => {
            print_json(&engine.realtime(&model.parse()?)?)
        }
        Command::Metrics { model, granularity, from, to, realtime: false, segment } => {
            let reference: ModelRef = model.parse()?;
            let mut query = MetricsQuery::new(reference.name, granularity.parse()?).between(
                from.as_deref().map(parse_time).transpose()?,
                to.as_deref().map(parse_time).transpose()?,
            );
            query.model_version = reference.version;
            // The sketch is for merging rows, not for reading.
            let readable = |row: &ModelMetrics| -> Result<serde_json::Value> {
                let mut v = serde_json::to_value(row)?;
                if let Some(o) = v.as_object_mut() {
                    o.remove("latencySketch");
                }
                Ok(v)
            };
            match segment {
                None => engine.metrics(&query)?.iter().try_for_each(|r| print_json(&readable(r)?)),
                Some(key) => {
                    let split = engine.metrics_by_segment(&query, &key)?;
                    if split.truncated {
                        eprintln!(
                            "warning: only the newest {} stored calls were read",
                            split.events
                        );
                    }
                    split.segments.iter().try_for_each(|s| {
                        s.rows.iter().try_for_each(|r| {
                            let mut v = readable(r)?;
                            if let Some(o) = v.as_object_mut() {
                                o.insert("segmentKey".into(), json!(key));
                                o.insert("segment".into(), json!(s.segment));
                            }
                            print_json(&v)
                        })
                    })
                }
            }
        }
        Command::Feedback { id, outcome } => {
            let event = engine.feedback(&id, parse_json("--outcome", &outcome)?)?;
            print_json(&json!({
                "id": event.id,
                "prediction": event.prediction,
                "actualOutcome": event.actual_outcome,
                "correct": event.correct,
                "feedbackTimestamp": event.feedback_timestamp,
            }))
        }
        // `main` runs `drift` without opening the engine; this arm is not reached from there.
        Command::Drift(args) => drift::run(&args).map(drop),
        Command::Alerts(command) => monitor::alerts(engine, command),
        Command::Monitor(command) => monitor::run(engine, command),
        Command::Report { models, out, granularity, from, to, title } => {
            // Rollups of the periods still open are written first, so the report is current.
            engine.flush()?;
            let query = HealthQuery {
                granularity: granularity.parse()?,
                from: from.as_deref().map(parse_time).transpose()?,
                to: to.as_deref().map(parse_time).transpose()?,
                ..HealthQuery::default()
            };
            let references: Vec<ModelRef> =
                models.iter().map(|m| m.parse()).collect::<Result<_>>()?;
            let health = ModelHealth::collect_many(&engine, &references, &query)?;
            let html =
                render_model_page(&health, &RenderOptions { title, ..RenderOptions::default() });
            std::fs::write(&out, &html).map_err(|e| Error::io(&out, e))?;
            print_json(&json!({
                "out": out,
                "bytes": html.len(),
                "models": health.iter().map(|h| format!("{}:{}", h.model_name, h.model_version)).collect::<Vec<_>>(),
            }))
        }
        // `run` handles `retrain` (its own exit status).
        Command::Retrain(command) => monitor::retrain(engine, command).map(drop),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `drift` works on files only: no data directory, and its own exit status.
    let outcome = match &cli.command {
        Command::Drift(args) => drift::run(args),
        // Looks at a source only: no data directory is created.
        Command::Model(ModelCommand::Inspect(args)) => {
            fetch::inspect_source(args).map(|()| ExitCode::SUCCESS)
        }
        _ => run(cli),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {} [{}]", e.full_message(), e.kind().code());
            ExitCode::FAILURE
        }
    }
}
