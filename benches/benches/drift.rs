//! Streaming drift detectors, per update: the stream of `benches/peers/drift/river_stream.py`
//! (100,000 values, uniform on [0, 0.2), shifted by 0.5 halfway), so the figures compare with
//! River's on the same values.
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use harper_edge_core::drift::stream::{Adwin, AdwinConfig, PageHinkley, PageHinkleyConfig};

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

criterion_group!(benches, bench_drift);
criterion_main!(benches);
