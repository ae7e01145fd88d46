//! `model inspect|fetch|show|list|remove`, `job …` and `profile …`: fetching model files,
//! watching fetch jobs, deploying profiles.
//!
//! Progress goes to stderr: a live bar (indicatif) when stderr is a terminal, else one
//! plain line per job whenever its state changes or at most every two seconds. Records go
//! to stdout as JSON, one object per line, as everywhere in this CLI.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use harper_edge_core::fetch::jobs::{
    FetchJob, FetchRequest, JobFilter, JobRegistration, JobState, SourceSpec, list_jobs, read_job,
};
use harper_edge_core::fetch::{FetchOptions, inspect};
use harper_edge_core::profile::{DeployAction, DeployOptions, DeployReport, Profile, deploy};
use harper_edge_core::{Engine, Error, Framework, ModelFilter, ModelRef, Result, Stage};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use crate::{parse_json, print_json};

/// Where files come from, as `model inspect` and `model fetch` take it.
#[derive(Debug, Args)]
pub(crate) struct SourceArgs {
    /// `hf:ORG/NAME[@REVISION]`, an `http(s)://` URL, or a file or directory path.
    source: String,
    /// Model variant on the Hub: default, quantized, fp16, safetensors, …
    #[arg(long)]
    variant: Option<String>,
    /// A file of the Hub repository to take (repeat for several) instead of the variant's.
    #[arg(long = "file", value_name = "PATH")]
    files: Vec<String>,
    /// Branch, tag or commit on the Hub (overrides `@REVISION`).
    #[arg(long)]
    revision: Option<String>,
}

impl SourceArgs {
    fn spec(&self) -> Result<SourceSpec> {
        let spec = SourceSpec::parse(&self.source)?;
        match spec {
            SourceSpec::Hf { repo, revision, endpoint, .. } => Ok(SourceSpec::Hf {
                repo,
                revision: self.revision.clone().or(revision),
                files: self.files.clone(),
                endpoint,
            }),
            _ if !self.files.is_empty() || self.revision.is_some() => Err(Error::invalid_input(
                "--file and --revision apply to Hugging Face sources (hf:ORG/NAME)",
            )),
            other => Ok(other),
        }
    }

    fn options(&self) -> FetchOptions {
        FetchOptions { variant: self.variant.clone(), ..FetchOptions::default() }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum JobCommand {
    /// List fetch jobs, newest first, one JSON object per line.
    List {
        /// Only jobs of this model.
        #[arg(long)]
        model: Option<String>,
        /// Only jobs in this state (queued, downloading, verifying, completed, failed,
        /// cancelled).
        #[arg(long)]
        state: Option<String>,
    },
    /// Show one job (`NAME:VERSION`).
    Show {
        /// Job id.
        id: String,
    },
    /// Run the queue until the job has ended, drawing its progress; recovers jobs a killed
    /// process left behind. Exit status 1 when the job fails.
    Watch {
        /// Job id.
        id: String,
    },
    /// Queue a failed or cancelled job again and watch it (unless --detach).
    Retry {
        /// Job id.
        id: String,
        /// Return once queued.
        #[arg(long)]
        detach: bool,
    },
    /// Cancel a queued or running job.
    Cancel {
        /// Job id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ProfileCommand {
    /// Check a profile file: every problem, naming the model and the field. Exit status 1
    /// when it has problems.
    Validate {
        /// The profile JSON file.
        file: PathBuf,
    },
    /// Fetch what is missing and register every model of a profile; idempotent. Exit
    /// status 1 when a model could not be deployed.
    Deploy {
        /// The profile JSON file.
        file: PathBuf,
        /// Every filesystem path must lie inside this directory (relative paths are read
        /// from it).
        #[arg(long)]
        root: Option<PathBuf>,
        /// Only report what would be done.
        #[arg(long)]
        dry_run: bool,
        /// Longest wait for the fetches, in seconds.
        #[arg(long, default_value_t = 3600)]
        timeout: u64,
    },
}

/// `model fetch` arguments.
#[derive(Debug, Args)]
pub(crate) struct FetchArgs {
    /// Model name.
    name: String,
    /// Model version.
    version: String,
    #[command(flatten)]
    source: SourceArgs,
    /// Expected sha256 of the (single) file.
    #[arg(long)]
    sha256: Option<String>,
    /// Framework (default: from the model file's name).
    #[arg(long)]
    framework: Option<String>,
    /// Lifecycle stage.
    #[arg(long, default_value = "candidate")]
    stage: String,
    /// Metadata as a JSON object (taskType, equivalenceGroup, outputDimensions, …).
    #[arg(long, default_value = "{}")]
    metadata: String,
    /// The file to load, when several model files are fetched.
    #[arg(long)]
    main_file: Option<String>,
    /// Only fetch the files; register nothing.
    #[arg(long)]
    no_register: bool,
    /// Return once queued (the job runs when a later command starts the queue: `job watch`).
    #[arg(long)]
    detach: bool,
}

/// `model list` filters.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only this model name.
    #[arg(long)]
    name: Option<String>,
    /// Only this framework.
    #[arg(long)]
    framework: Option<String>,
    /// Only this metadata taskType.
    #[arg(long)]
    task: Option<String>,
    /// Only this stage.
    #[arg(long)]
    stage: Option<String>,
}

pub(crate) fn inspect_source(args: &SourceArgs) -> Result<()> {
    print_json(&inspect(&args.spec()?, &args.options())?)
}

pub(crate) fn list(engine: &Engine, args: &ListArgs) -> Result<()> {
    let filter = ModelFilter {
        name: args.name.clone(),
        framework: args.framework.as_deref().map(str::parse::<Framework>).transpose()?,
        task_type: args.task.clone(),
        stage: args.stage.as_deref().map(str::parse::<Stage>).transpose()?,
    };
    engine.list_models(&filter)?.iter().try_for_each(print_json)
}

pub(crate) fn show(engine: &Engine, model: &str) -> Result<()> {
    print_json(&engine.model(&model.parse()?)?)
}

pub(crate) fn remove(engine: &Engine, model: &str) -> Result<()> {
    let reference: ModelRef = model.parse()?;
    let removed = engine.remove_model(&reference)?;
    print_json(&json!({"removed": removed.id, "sha256": removed.sha256}))
}

pub(crate) fn fetch(engine: &Engine, args: FetchArgs) -> Result<ExitCode> {
    let spec = args.source.spec()?;
    let mut options = args.source.options();
    options.expected_sha256 = args.sha256;
    let registration = (!args.no_register)
        .then(|| -> Result<JobRegistration> {
            Ok(JobRegistration {
                framework: args.framework.as_deref().map(str::parse).transpose()?,
                stage: args.stage.parse()?,
                metadata: parse_json("--metadata", &args.metadata)?,
                main_file: args.main_file,
            })
        })
        .transpose()?;
    let mut request = FetchRequest::new(args.name, args.version, spec).options(options);
    request.registration = registration;
    if args.detach {
        // Queue without starting workers here: the record is written and the next process
        // that runs the queue picks it up.
        let queue = engine.fetch_queue()?;
        let job = queue.submit_request(request)?;
        drop(queue);
        return print_json(&job).map(|()| ExitCode::SUCCESS);
    }
    let job = engine.fetch_model(request)?;
    watch_jobs(engine, &[job.id])
}

pub(crate) fn job(engine: &Engine, command: JobCommand) -> Result<ExitCode> {
    match command {
        JobCommand::List { model, state } => {
            let filter = JobFilter {
                model_name: model,
                state: state.as_deref().map(JobState::parse).transpose()?,
                limit: Some(usize::MAX),
            };
            list_jobs(engine.store().as_ref(), &filter)?.iter().try_for_each(print_json)?;
        }
        JobCommand::Show { id } => print_json(&read_job(engine.store().as_ref(), &id)?)?,
        JobCommand::Watch { id } => {
            read_job(engine.store().as_ref(), &id)?;
            return watch_jobs(engine, &[id]);
        }
        JobCommand::Retry { id, detach } => {
            let job = engine.fetch_queue()?.retry(&id)?;
            if !detach {
                return watch_jobs(engine, &[job.id]);
            }
            print_json(&job)?;
        }
        JobCommand::Cancel { id } => {
            // A job running in another process stops when that process next writes
            // progress and finds the job cancelled.
            print_json(&engine.fetch_queue()?.cancel(&id)?)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn profile(engine: &Engine, command: ProfileCommand) -> Result<ExitCode> {
    match command {
        ProfileCommand::Validate { file } => {
            let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
            let value = parse_json(&file.display().to_string(), &text)?;
            let problems = Profile::problems(&value);
            let models: Vec<String> = value["models"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|m| {
                            format!(
                                "{}:{}",
                                m["modelName"].as_str().unwrap_or("?"),
                                m["modelVersion"].as_str().unwrap_or("?")
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            print_json(&json!({
                "file": file,
                "name": value["name"],
                "models": models,
                "valid": problems.is_empty(),
                "problems": problems,
            }))?;
            for p in &problems {
                eprintln!("{}: {p}", file.display());
            }
            Ok(if problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        ProfileCommand::Deploy { file, root, dry_run, timeout } => {
            let profile = Profile::load(&file)?;
            let options = DeployOptions { root, dry_run, timeout: Duration::from_secs(timeout) };
            let report = deploy_with_progress(engine, &profile, &options)?;
            print_json(&report)?;
            Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

/// Deploys `profile`, drawing the fetches' progress and a line per model on stderr.
pub(crate) fn deploy_with_progress(
    engine: &Engine,
    profile: &Profile,
    options: &DeployOptions,
) -> Result<DeployReport> {
    let mut view = Progress::new();
    let report = deploy(engine, profile, options, &mut |job| view.update(job))?;
    view.finish();
    for m in &report.models {
        let what = match m.action {
            DeployAction::AlreadyRegistered => "already registered".to_string(),
            DeployAction::Registered => format!("registered ({})", bytes(m.bytes)),
            DeployAction::WouldRegister => "would be fetched and registered".to_string(),
            DeployAction::Failed => format!(
                "FAILED: {}",
                m.error.as_ref().map_or("unknown error", |e| e.message.as_str())
            ),
        };
        eprintln!("  {:<32} {what}", m.model_id);
    }
    eprintln!(
        "profile '{}': {} registered, {} already there, {} failed",
        report.profile,
        report.count(DeployAction::Registered),
        report.count(DeployAction::AlreadyRegistered),
        report.count(DeployAction::Failed)
    );
    Ok(report)
}

/// Runs the queue until every job in `ids` has ended, drawing progress; prints each final
/// job. Exit status 1 when one did not complete.
fn watch_jobs(engine: &Engine, ids: &[String]) -> Result<ExitCode> {
    let queue = engine.fetch_queue()?;
    let mut view = Progress::new();
    let mut ok = true;
    for id in ids {
        let job = loop {
            let job = queue.wait(id, Duration::from_millis(200))?;
            view.update(&job);
            if job.state.is_terminal() {
                break job;
            }
        };
        ok &= job.state == JobState::Completed;
        view.finish_job(&job);
        print_json(&job)?;
    }
    view.finish();
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[unit]) }
}

/// Draws job progress on stderr: bars on a terminal, plain lines otherwise.
struct Progress {
    bars: Option<MultiProgress>,
    jobs: HashMap<String, ProgressBar>,
    /// Plain mode: the last state shown and when, per job.
    shown: HashMap<String, (JobState, Instant)>,
}

impl Progress {
    fn new() -> Self {
        let tty = std::io::stderr().is_terminal();
        Progress {
            bars: tty.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            jobs: HashMap::new(),
            shown: HashMap::new(),
        }
    }

    fn update(&mut self, job: &FetchJob) {
        let Some(multi) = &self.bars else {
            let due = match self.shown.get(&job.id) {
                None => true,
                Some((state, at)) => *state != job.state || at.elapsed() >= Duration::from_secs(2),
            };
            if due && !job.state.is_terminal() {
                eprintln!("{}", line(job));
                self.shown.insert(job.id.clone(), (job.state, Instant::now()));
            }
            return;
        };
        let bar = self.jobs.entry(job.id.clone()).or_insert_with(|| {
            let bar = multi.add(ProgressBar::new(0));
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:24} {msg:12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_prefix(job.id.clone());
            bar
        });
        if let Some(total) = job.bytes_total {
            bar.set_length(total);
        }
        bar.set_position(job.bytes_done);
        bar.set_message(job.state.as_str().to_string());
    }

    fn finish_job(&mut self, job: &FetchJob) {
        match self.jobs.get(&job.id) {
            Some(bar) => bar.finish_with_message(job.state.as_str().to_string()),
            None => eprintln!("{}", line(job)),
        }
    }

    fn finish(&mut self) {
        for bar in self.jobs.values() {
            if !bar.is_finished() {
                bar.finish();
            }
        }
    }
}

fn line(job: &FetchJob) -> String {
    let mut s = format!("{} {}", job.id, job.state.as_str());
    match job.bytes_total {
        Some(total) if job.state == JobState::Downloading => {
            s.push_str(&format!(
                " {}% ({} of {})",
                job.percent,
                bytes(job.bytes_done),
                bytes(total)
            ));
        }
        None if job.bytes_done > 0 => s.push_str(&format!(" {}", bytes(job.bytes_done))),
        _ => {}
    }
    if let Some(e) = &job.error {
        s.push_str(&format!(": {} [{}]", e.message, e.code));
    }
    s
}
