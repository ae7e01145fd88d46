//! The Rust examples quoted in the README run and assert what they print.

#[path = "../rust/quickstart.rs"]
mod quickstart;

#[test]
fn quickstart_runs() {
    quickstart::main().unwrap();
}

#[path = "../rust/host_telemetry.rs"]
mod host_telemetry;

#[test]
fn host_telemetry_runs() {
    host_telemetry::main().unwrap();
}

#[path = "../rust/drift_check.rs"]
mod drift_check;

#[test]
fn drift_check_runs() {
    drift_check::main().unwrap();
}

#[path = "../rust/monitoring.rs"]
mod monitoring;

#[test]
fn monitoring_runs() {
    monitoring::main().unwrap();
}

#[path = "../rust/benchmark.rs"]
mod benchmark;

#[test]
fn benchmark_runs() {
    benchmark::main().unwrap();
}

#[path = "../rust/demo.rs"]
mod demo;

#[test]
fn the_demo_runs_the_lifecycle_twice_on_one_home() {
    let home = tempfile::tempdir().unwrap();
    for run in 1..=2 {
        let mut out = Vec::new();
        let s = demo::run(home.path(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(s.version, run.to_string(), "{text}");
        assert!(s.drifted_checks >= 1, "{text}");
        assert!(s.alerts >= 1, "{text}");
        assert!(s.training_job.as_deref().is_some_and(|j| j.starts_with("train-")), "{text}");
        assert!(text.contains("approved"), "{text}");
    }
}
