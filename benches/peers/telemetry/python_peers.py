"""Peer benchmark, not a test: calls recorded per second from Python, harper_edge against the
usual Python latency recorders. Run with `make bench-peers-python` (a venv with the pinned
peers of requirements.txt and ./bindings-python).

Every recorder gets the same latencies (lognormal, median ~2.7 ms, float64) and keeps what a
p95/p99 needs:

- harper_edge `Engine.record_batch` on 1M-element numpy arrays: real-time window (5 minutes in
  10 s slots) and 5-minute rollup period, each with a DDSketch (1% relative error);
- harper_edge per call from a Python loop: `record_batch` with a one-element list (the
  simplest single-call path), and `record_event` (also keeps the raw event for the store);
- ddsketch `DDSketch().add(v)` per value (Datadog's sketch, 1% relative error by default);
- prometheus_client `Histogram.observe(v)` per value (fixed buckets, the default ones).

Each figure is the best of several repetitions (the machine is shared and noisy). Prints a
Markdown table with each rate's ratio to `record_batch` on 1M elements and to harper_edge's
per-call `record_batch`.
"""

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from importlib.metadata import version

import numpy as np
from ddsketch import DDSketch
from prometheus_client import CollectorRegistry, Histogram

import harper_edge


def best_rate(
    calls: int, run: Callable[[], None], repeat: int, before: Callable[[], None] | None = None
) -> float:
    """The highest calls-per-second of `repeat` runs of `run`, which records `calls` calls;
    `before` (untimed) runs before each."""
    best = float("inf")
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return calls / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=1_000_000, help="elements per record_batch call")
    parser.add_argument("--loop", type=int, default=200_000, help="calls per per-call loop")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions; the best counts")
    args = parser.parse_args()

    rng = np.random.default_rng(42)
    batch = rng.lognormal(mean=1.0, sigma=0.7, size=args.batch)  # float64, C-contiguous
    errors = rng.random(args.batch) < 0.01
    loop = batch[: args.loop].tolist()  # Python floats, as a host's timer gives them

    # No background ticker: nothing but the recording is timed.
    engine = harper_edge.Engine.in_memory(tick_interval=None, event_capacity=args.loop)
    model = "bench:1"
    engine.record_batch(model, batch[:1000])  # warm: the series and its sketches exist

    def harper_batch() -> None:
        engine.record_batch(model, batch)

    def harper_batch_errors() -> None:
        engine.record_batch(model, batch, errors=errors)

    def harper_loop() -> None:
        record = engine.record_batch
        for v in loop:
            record(model, [v])

    # record_event keeps raw events: a fresh engine per run, so the buffer (room for one run)
    # never overflows and events written to the store do not pile up in memory.
    events_engine = [engine]

    def fresh_events_engine() -> None:
        events_engine[0] = harper_edge.Engine.in_memory(tick_interval=None, event_capacity=args.loop)

    def harper_events() -> None:
        record = events_engine[0].record_event
        for v in loop:
            record({"model_name": "bench", "model_version": "1", "latency_ms": v})

    sketch = DDSketch()

    def ddsketch_loop() -> None:
        add = sketch.add
        for v in loop:
            add(v)

    histogram = Histogram("latency_ms", "call latency", registry=CollectorRegistry())

    def prometheus_loop() -> None:
        observe = histogram.observe
        for v in loop:
            observe(v)

    rows = [
        ("harper_edge", f"`Engine.record_batch`, {args.batch:,}-element float64 array", best_rate(args.batch, harper_batch, args.repeat)),
        ("harper_edge", f"`Engine.record_batch`, {args.batch:,} latencies + bool errors", best_rate(args.batch, harper_batch_errors, args.repeat)),
        ("harper_edge", "`Engine.record_batch(model, [v])` per call, Python loop", best_rate(args.loop, harper_loop, args.repeat)),
        ("harper_edge", "`Engine.record_event({...})` per call, Python loop (+ raw event)", best_rate(args.loop, harper_events, args.repeat, fresh_events_engine)),
        ("ddsketch", "`DDSketch().add(v)` per call, Python loop", best_rate(args.loop, ddsketch_loop, args.repeat)),
        ("prometheus_client", "`Histogram.observe(v)` per call, Python loop", best_rate(args.loop, prometheus_loop, args.repeat)),
    ]
    ours = rows[0][2]
    per_call = rows[2][2]

    # Sanity: every recorder saw what it was given (harper_edge: all but the warm-up).
    counted = engine.telemetry_stats()["observations"] - 1000
    expected = 2 * args.batch * args.repeat + args.loop * args.repeat
    assert counted == expected, (counted, expected)
    assert events_engine[0].telemetry_stats()["events_buffered"] == args.loop
    assert sketch.count == args.loop * args.repeat

    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, harper-edge {harper_edge.__version__}, "
        f"ddsketch {version('ddsketch')}, prometheus-client {version('prometheus-client')}; "
        f"{os.cpu_count()} CPUs ({platform.machine()}); best of {args.repeat}\n"
    )
    print("| library | call | calls recorded per second | `record_batch` rate ÷ this | this ÷ harper_edge per-call `record_batch` |")
    print("|---|---|---:|---:|---:|")
    for library, how, rate in rows:
        print(f"| {library} | {how} | {rate:,.0f} | {ours / rate:,.1f} | {rate / per_call:,.2f} |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
