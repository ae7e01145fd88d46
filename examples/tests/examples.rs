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
