//! Streaming drift detectors, per update: the stream of `benches/peers/drift/river_stream.py`
//! (100,000 values, uniform on [0, 0.2), shifted by 0.5 halfway), so the figures compare with
//! River's on the same values. And the full tabular report (`drift_report/*`): fit a baseline
//! on a reference of 20 numeric and 5 categorical columns, check a current of the same size
//! (KS, chi-square, PSI, Wasserstein) and its data quality — the work
//! `benches/peers/drift/report_peers.py` compares with scipy and Evidently.
use std::hint::black_box;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use harper_edge_core::Timestamp;
use harper_edge_core::drift::baseline::{Baseline, BaselineConfig, Column, FeatureSchema};
use harper_edge_core::drift::check::{DriftConfig, check};
use harper_edge_core::drift::quality::DataQuality;
use harper_edge_core::drift::stream::{Adwin, AdwinConfig, PageHinkley, PageHinkleyConfig};

const CATEGORIES: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "h"];

/// 20 numeric columns (normal, `shift` added to every fourth) and 5 categorical ones.
fn table(rows: usize, seed: u64, shift: f64) -> (Vec<Vec<f64>>, Vec<Vec<Option<&'static str>>>) {
    let mut state = seed;
    let mut uniform = move || {
        state =
            state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let numeric = (0..20)
        .map(|c| {
            (0..rows)
                .map(|_| {
                    let z =
                        (-2.0 * uniform().ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos();
                    z + if c % 4 == 0 { shift } else { 0.0 }
                })
                .collect()
        })
        .collect();
    let categorical = (0..5)
        .map(|_| (0..rows).map(|_| Some(CATEGORIES[(uniform() * 8.0) as usize % 8])).collect())
        .collect();
    (numeric, categorical)
}

fn schema() -> Vec<FeatureSchema> {
    (0..20)
        .map(|c| FeatureSchema::numeric(format!("num_{c}")))
        .chain((0..5).map(|c| FeatureSchema::categorical(format!("cat_{c}"))))
        .collect()
}

fn bench_report(c: &mut Criterion) {
    let names: Vec<String> = schema().into_iter().map(|f| f.name).collect();
    let mut group = c.benchmark_group("drift_report");
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    for rows in [10_000, 100_000, 1_000_000] {
        let (rn, rc) = table(rows, 1, 0.0);
        let (cn, cc) = table(rows, 2, 0.1);
        let columns = |n: &'static [Vec<f64>], k: &'static [Vec<Option<&'static str>>]| {
            names
                .iter()
                .zip(
                    n.iter()
                        .map(|v| Column::Numeric(v))
                        .chain(k.iter().map(|v| Column::Categorical(v))),
                )
                .map(|(name, col)| (name.as_str(), col))
                .collect::<Vec<_>>()
        };
        // Leaked for the closures' 'static borrows: a few hundred MB freed at exit.
        let (rn, rc, cn, cc) = (rn.leak(), rc.leak(), cn.leak(), cc.leak());
        let reference = columns(rn, rc);
        let current = columns(cn, cc);
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_function(BenchmarkId::new("fit_check_quality", rows), |b| {
            b.iter(|| {
                let base = Baseline::fit(&schema(), &reference, BaselineConfig::default())
                    .expect("valid reference");
                let report =
                    check(&base, &current, &DriftConfig::default()).expect("valid current");
                let quality =
                    DataQuality::check(&base, &current, "m", "1", Timestamp::from_millis(0))
                        .expect("valid current");
                black_box((report.drifted_count, quality.total_records))
            });
        });
        let base = Baseline::fit(&schema(), &reference, BaselineConfig::default()).expect("valid");
        group.bench_function(BenchmarkId::new("check_quality_saved_baseline", rows), |b| {
            b.iter(|| {
                let report =
                    check(&base, &current, &DriftConfig::default()).expect("valid current");
                let quality =
                    DataQuality::check(&base, &current, "m", "1", Timestamp::from_millis(0))
                        .expect("valid current");
                black_box((report.drifted_count, quality.total_records))
            });
        });
    }
    group.finish();
}

const N: usize = 100_000;

fn stream() -> Vec<f64> {
    let mut seed: u64 = 11;
    (0..N)
        .map(|i| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let u = (seed >> 11) as f64 / (1u64 << 53) as f64;
            u * 0.2 + if i >= N / 2 { 0.5 } else { 0.0 }
        })
        .collect()
}

fn bench_drift(c: &mut Criterion) {
    let values = stream();
    let mut group = c.benchmark_group("drift");
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function("adwin_update", |b| {
        b.iter(|| {
            let mut adwin = Adwin::new(AdwinConfig::default()).expect("default settings");
            let mut changes = 0u32;
            for &v in &values {
                changes += u32::from(adwin.update(v).expect("finite"));
            }
            black_box(changes)
        });
    });
    group.bench_function("adwin_insert_only", |b| {
        b.iter(|| {
            let config = AdwinConfig { clock: 1 << 40, ..AdwinConfig::default() };
            let mut adwin = Adwin::new(config).expect("valid settings");
            for &v in &values {
                adwin.update(v).expect("finite");
            }
            black_box(adwin.width())
        });
    });
    group.bench_function("page_hinkley_update", |b| {
        b.iter(|| {
            let mut ph = PageHinkley::new(PageHinkleyConfig::default()).expect("default settings");
            let mut changes = 0u32;
            for &v in &values {
                changes += u32::from(ph.update(v).expect("finite"));
            }
            black_box(changes)
        });
    });
    group.finish();
}

criterion_group!(benches, bench_drift, bench_report);
criterion_main!(benches);
