//! The Rust examples quoted in the README run and assert what they print.

#[path = "../rust/quickstart.rs"]
mod quickstart;

#[test]
fn quickstart_runs() {
    quickstart::main().unwrap();
}
