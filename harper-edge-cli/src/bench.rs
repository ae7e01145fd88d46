//! `bench`: compare the models of equivalence groups (deploying a profile first, if given);
//! `bench --history`: stored results.
//!
//! Progress goes to stderr (a bar on a terminal, else a line per model and phase); the
//! results go to stdout as Markdown tables, or as JSON with `--json -`.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use harper_edge_core::bench::{
    AgreementThresholds, BenchInputs, BenchOptions, BenchPhase, BenchProgress, BenchQuery,
    BenchmarkResult,
};
use harper_edge_core::profile::{DeployOptions, Profile};
use harper_edge_core::{Engine, Error, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{parse_time, print_json};

/// `bench` arguments.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Deploy this profile first (fetch and register what is missing) and benchmark its
    /// groups.
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
    /// Every filesystem path of the profile must lie inside this directory.
    #[arg(long, requires = "profile")]
    root: Option<PathBuf>,
    /// Only this equivalence group (`GROUP` or `TASKTYPE/GROUP`); default: every group that
    /// can be benchmarked (of the profile's models, with --profile).
    #[arg(long)]
    group: Option<String>,
    /// Batch sizes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    batch: Vec<usize>,
    /// Concurrency levels (threads calling at once), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    concurrency: Vec<usize>,
    /// Measured calls per batch size and concurrency.
    #[arg(long, default_value_t = 50)]
    iterations: usize,
    /// Unmeasured calls before each batch size and concurrency.
    #[arg(long, default_value_t = 5)]
    warmup: usize,
    /// Inputs: a JSON file (an array of texts or of rows, or {"texts": …} / {"rows": …}) or
    /// a text file (one text per line); default synthetic.
    #[arg(long, value_name = "FILE")]
    inputs: Option<PathBuf>,
    /// The reference model (`NAME:VERSION`) the others are compared with.
    #[arg(long)]
    reference: Option<String>,
    /// Lowest cosine with the reference for an embedding model to agree.
    #[arg(long, default_value_t = 0.99)]
    min_cosine: f64,
    /// Largest absolute difference with the reference for a float output to agree.
    #[arg(long, default_value_t = 1e-3)]
    max_abs_diff: f64,
    /// Write the results as JSON (an array) to this file; `-` prints them instead of tables.
    #[arg(long, value_name = "OUT")]
    json: Option<PathBuf>,
    /// Write the Markdown tables to this file too.
    #[arg(long, value_name = "OUT")]
    markdown: Option<PathBuf>,
    /// Free text stored with the results.
    #[arg(long)]
    notes: Option<String>,
    /// Do not store the results.
    #[arg(long)]
    no_save: bool,
    /// Longest wait for the profile's fetches, in seconds.
    #[arg(long, default_value_t = 3600)]
    timeout: u64,
    /// List stored results instead (newest first, one JSON object per line; with --group,
    /// --from, --to, --limit).
    #[arg(long, conflicts_with_all = ["profile", "json", "markdown", "inputs", "reference"])]
    history: bool,
    /// With --history: only results from this time (RFC 3339 or epoch milliseconds).
    #[arg(long, requires = "history")]
    from: Option<String>,
    /// With --history: only results before this time.
    #[arg(long, requires = "history")]
    to: Option<String>,
    /// With --history: at most this many.
    #[arg(long, requires = "history", default_value_t = 20)]
    limit: usize,
}

pub(crate) fn bench(engine: &Engine, args: BenchArgs) -> Result<ExitCode> {
    if args.history {
        let query = BenchQuery {
            equivalence_group: args.group,
            from: args.from.as_deref().map(parse_time).transpose()?,
            to: args.to.as_deref().map(parse_time).transpose()?,
            limit: Some(args.limit),
        };
        engine.benchmark_history(&query)?.iter().try_for_each(print_json)?;
        return Ok(ExitCode::SUCCESS);
    }
    let options = BenchOptions {
        warmup: args.warmup,
        iterations: args.iterations,
        batch_sizes: args.batch.clone(),
        concurrency: args.concurrency.clone(),
        inputs: args.inputs.as_deref().map(BenchInputs::from_file).transpose()?,
        thresholds: AgreementThresholds {
            min_cosine: args.min_cosine,
            max_abs_diff: args.max_abs_diff,
            ..AgreementThresholds::default()
        },
        reference: args.reference.clone(),
        run_by: Some("harper-edge bench".into()),
        notes: args.notes.clone(),
        persist: !args.no_save,
    };
    options.validate()?;

    let mut deploy_failed = false;
    let profile_models: Option<Vec<String>> = match &args.profile {
        Some(file) => {
            let profile = Profile::load(file)?;
            let deploy_options = DeployOptions {
                root: args.root.clone(),
                timeout: Duration::from_secs(args.timeout),
                dry_run: false,
            };
            let report = crate::fetch::deploy_with_progress(engine, &profile, &deploy_options)?;
            deploy_failed = !report.ok();
            Some(report.models.iter().map(|m| m.model_id.clone()).collect())
        }
        None => None,
    };

    let groups = engine.benchmark_groups()?;
    let chosen: Vec<String> = match &args.group {
        Some(g) => vec![g.clone()],
        None => {
            let mut chosen = Vec::new();
            for g in &groups {
                let ours = profile_models
                    .as_ref()
                    .is_none_or(|ids| g.model_ids.iter().any(|m| ids.contains(m)));
                if !ours {
                    continue;
                }
                match &g.problem {
                    None => chosen.push(format!("{}/{}", g.task_type, g.equivalence_group)),
                    Some(p) => eprintln!("skipping group '{}': {p}", g.equivalence_group),
                }
            }
            if chosen.is_empty() {
                return Err(Error::invalid_input(
                    "no equivalence group to benchmark: give at least two models the same \
                     metadata taskType and equivalenceGroup",
                ));
            }
            chosen
        }
    };

    let mut results: Vec<BenchmarkResult> = Vec::new();
    let mut failed = deploy_failed;
    for group in &chosen {
        let mut view = View::new(group);
        let outcome = engine.benchmark_with_progress(group, &options, &mut |p| view.update(p));
        view.finish();
        match outcome {
            Ok(r) => results.push(r),
            Err(e) => {
                eprintln!("benchmark of '{group}' failed: {}", e.full_message());
                failed = true;
            }
        }
    }

    let markdown: String =
        results.iter().map(BenchmarkResult::to_markdown).collect::<Vec<_>>().join("\n");
    let to_stdout_json = args.json.as_deref().is_some_and(|p| p.as_os_str() == "-");
    if let Some(path) = args.json.as_ref().filter(|_| !to_stdout_json) {
        let text = serde_json::to_string_pretty(&results)?;
        std::fs::write(path, text + "\n").map_err(|e| Error::io(path, e))?;
    }
    if let Some(path) = &args.markdown {
        std::fs::write(path, &markdown).map_err(|e| Error::io(path, e))?;
    }
    if to_stdout_json {
        print_json(&results)?;
    } else {
        print!("{markdown}");
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Benchmark progress on stderr: a bar on a terminal, else a line per model and phase.
struct View {
    bar: Option<ProgressBar>,
    last: Option<(String, BenchPhase)>,
}

impl View {
    fn new(group: &str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{prefix:20} [{bar:30}] {pos}/{len} calls {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_prefix(group.to_string());
            bar
        });
        View { bar, last: None }
    }

    fn update(&mut self, p: &BenchProgress<'_>) {
        let phase = match p.phase {
            BenchPhase::Load => "loading".to_string(),
            BenchPhase::Agreement => "agreement run".to_string(),
            BenchPhase::WarmUp { batch, concurrency } => {
                format!("warm-up, batch {batch}, concurrency {concurrency}")
            }
            BenchPhase::Measure { batch, concurrency } => {
                format!("measuring, batch {batch}, concurrency {concurrency}")
            }
            BenchPhase::Done => "done".to_string(),
        };
        if let Some(bar) = &self.bar {
            bar.set_length(p.total);
            bar.set_position(p.done);
            bar.set_message(format!("{} · {phase}", p.model));
            return;
        }
        let key = (p.model.to_string(), p.phase);
        if self.last.as_ref() != Some(&key) {
            eprintln!("{} {phase} ({}/{} calls)", p.model, p.done, p.total);
            self.last = Some(key);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
