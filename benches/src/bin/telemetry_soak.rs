//! The billion-event memory run: records `N` calls (default 1,000,000,000) of four model
//! versions through `Series::observe_batch`, on a manual clock spanning ten simulated days,
//! ticking every simulated five minutes into an SQLite store, and prints the resident memory
//! after each power of ten. Memory must stay flat: `cargo run --release -p
//! harper-edge-benches --bin telemetry_soak [-- N]`.
use std::sync::Arc;
use std::time::Instant;

use harper_edge_core::{
    Clock, ManualClock, Observation, Recorder, SqliteStore, TelemetryConfig, Timestamp,
};

/// Resident and peak resident memory in KiB, from /proc (Linux).
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let total: u64 =
        std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(1_000_000_000);
    let dir = tempfile::tempdir()?;
    let t0 = 1_700_006_400_000_i64;
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(t0)));
    let store = Arc::new(SqliteStore::open(dir.path())?);
    let recorder = Recorder::with_config(store, clock.clone(), TelemetryConfig::new())?;
    let series: Vec<_> =
        (0..4).map(|v| recorder.series("soak", &v.to_string())).collect::<Result<_, _>>()?;
    let span_ms = 10 * 86_400_000_i64;
    const BATCH: u64 = 4096;
    let mut batch = Vec::with_capacity(BATCH as usize);
    let (mut next_report, mut next_tick) = (1_000_000_u64, t0 + 300_000);
    let start = Instant::now();
    let (rss0, _) = memory_kib();
    println!("{:>14} {:>12} {:>12} {:>10}", "events", "rss_kib", "peak_kib", "M/s");
    println!("{:>14} {:>12} {:>12} {:>10}", 0, rss0, memory_kib().1, "-");
    let mut done = 0u64;
    while done < total {
        let n = BATCH.min(total - done);
        let now = t0 + ((done as i128 * span_ms as i128) / total as i128) as i64;
        clock.set(Timestamp::from_millis(now));
        batch.clear();
        batch.extend((0..n).map(|k| {
            let i = done + k;
            let latency = 0.05 * 10f64.powf((i % 4000) as f64 / 1000.0);
            Observation::new(Timestamp::from_millis(now), latency).error(i.is_multiple_of(101))
        }));
        series[(done / BATCH % 4) as usize].observe_batch(&batch);
        done += n;
        if now >= next_tick {
            recorder.tick()?;
            next_tick = now + 300_000;
        }
        if done >= next_report {
            let (rss, peak) = memory_kib();
            let rate = done as f64 / start.elapsed().as_secs_f64() / 1e6;
            println!("{done:>14} {rss:>12} {peak:>12} {rate:>10.1}");
            next_report *= 10;
        }
    }
    recorder.flush(None)?;
    let (rss, peak) = memory_kib();
    let rate = done as f64 / start.elapsed().as_secs_f64() / 1e6;
    println!("{done:>14} {rss:>12} {peak:>12} {rate:>10.1}  (after the final flush)");
    println!("simulated to {}", clock.now());
    Ok(())
}
