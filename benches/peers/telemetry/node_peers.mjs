// Peer benchmark, not a test: how many calls per second each library records from Node.js, in
// one run on this machine. `make bench-peers-node` installs the pinned peers and runs it.
//
//   harper-edge recordBatch, 1M-element arrays   one binding call per batch (typed arrays read in place)
//   harper-edge recordBatch, per call            a JS loop, one binding call per call (1-element arrays)
//   harper-edge recordEvent, per call            a JS loop, one full raw event per call
//   @datadog/sketches-js DDSketch.accept(v)      pure JS, one sketch, per value
//   prom-client Histogram.observe(v)             pure JS, 12 fixed buckets, per value
//
// harper-edge does more per call than the peers: each call goes into a real-time window (30
// slots of 10 s, each a DDSketch) and a 5-minute rollup sketch, with its error flag; recordEvent
// also keeps the raw event for the store. The DDSketch peer keeps one sketch; the prom-client
// peer counts fixed buckets (no quantiles within 1%). Rates are the median of 5 timed runs
// after a warm-up run.
import os from 'node:os'

import { DDSketch } from '@datadog/sketches-js'
import { Engine } from 'harper-edge'
import promClient from 'prom-client'

const N = 1_000_000
const N_EVENTS = 200_000
const RUNS = 5

// Latencies in milliseconds, log-normal around 20 ms (deterministic: a fixed LCG).
function latencies(n) {
  const out = new Float64Array(n)
  let state = 42
  const uniform = () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0
    return (state + 0.5) / 2 ** 32
  }
  for (let i = 0; i < n; i++) {
    const normal = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform())
    out[i] = Math.exp(Math.log(20) + 0.6 * normal)
  }
  return out
}

const latency = latencies(N)
const errors = Uint8Array.from(latency, (_, i) => (i % 100 === 0 ? 1 : 0))

// Calls per second of `run` (which records `calls` calls): median of RUNS timed runs. `after`
// runs after each run, untimed.
function measure(calls, run, after = () => {}) {
  run()
  after()
  const rates = []
  for (let r = 0; r < RUNS; r++) {
    const started = process.hrtime.bigint()
    run()
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    rates.push(calls / seconds)
    after()
  }
  rates.sort((a, b) => a - b)
  return rates[Math.floor(RUNS / 2)]
}

const engine = Engine.inMemory({ tickIntervalMs: null })
// Raw events: a buffer that holds one run, written between runs (as the ticker would, off the
// recording path) to a store that keeps the last run's events.
const events = Engine.inMemory({ tickIntervalMs: null, eventCapacity: N_EVENTS, maxEvents: N_EVENTS })
const results = []

results.push({
  name: 'harper-edge `recordBatch`, 1M-element arrays',
  rate: measure(N, () => engine.recordBatch('batch:1', latency, { errors })),
  p95: engine.realtime('batch:1').p95Latency,
})

const one = new Float64Array(1)
const oneError = new Uint8Array(1)
results.push({
  name: 'harper-edge `recordBatch`, per call (1-element arrays)',
  rate: measure(N, () => {
    for (let i = 0; i < N; i++) {
      one[0] = latency[i]
      oneError[0] = errors[i]
      engine.recordBatch('loop:1', one, { errors: oneError })
    }
  }),
  p95: engine.realtime('loop:1').p95Latency,
})

results.push({
  name: 'harper-edge `recordEvent`, per call (raw event kept)',
  rate: measure(
    N_EVENTS,
    () => {
      for (let i = 0; i < N_EVENTS; i++) {
        events.recordEvent({
          modelName: 'event',
          modelVersion: '1',
          framework: 'onnx',
          latencyMs: latency[i],
          error: errors[i] ? 'failed' : null,
        })
      }
    },
    () => {
      events.flush()
      events.pruneOutbox(Number.MAX_SAFE_INTEGER)
    },
  ),
  p95: events.realtime('event:1').p95Latency,
})

let sketch
results.push({
  name: '@datadog/sketches-js 2.1.1 `DDSketch.accept(v)`',
  rate: measure(N, () => {
    sketch = new DDSketch({ relativeAccuracy: 0.01 })
    for (let i = 0; i < N; i++) sketch.accept(latency[i])
  }),
  p95: sketch.getValueAtQuantile(0.95),
})

let histogram
results.push({
  name: 'prom-client 15.1.3 `Histogram.observe(v)`',
  rate: measure(N, () => {
    histogram = new promClient.Histogram({
      name: 'inference_latency_ms',
      help: 'Inference latency in milliseconds',
      buckets: promClient.exponentialBuckets(0.5, 2, 12),
      registers: [],
    })
    for (let i = 0; i < N; i++) histogram.observe(latency[i])
  }),
  p95: null,
})

// Sanity: every library saw every value of its last run.
const counted = {
  'batch:1': engine.realtime('batch:1').requestCount,
  'loop:1': engine.realtime('loop:1').requestCount,
  'event:1': events.telemetryStats().eventsWritten,
}
const expected = { 'batch:1': (RUNS + 1) * N, 'loop:1': (RUNS + 1) * N, 'event:1': (RUNS + 1) * N_EVENTS }
for (const [model, n] of Object.entries(expected)) {
  if (counted[model] !== n) throw new Error(`${model}: counted ${counted[model]}, expected ${n}`)
}
if (sketch.count !== N) throw new Error(`DDSketch counted ${sketch.count}`)
const promCount = (await histogram.get()).values.find((v) => v.metricName.endsWith('_count')).value
if (promCount !== N) throw new Error(`prom-client counted ${promCount}`)

const sorted = Float64Array.from(latency).sort()
const exactP95 = sorted[Math.floor(0.95 * (N - 1))]
const [batch, perCall] = results
const fmt = (rate) => `${(rate / 1e6).toFixed(2)} M/s`
const ratio = (rate, of) => `${(rate / of.rate).toFixed(rate / of.rate < 0.1 ? 3 : 2)}×`
console.log(
  `Calls recorded per second, ${N.toLocaleString('en')} log-normal latencies (median ${RUNS} runs); ` +
    `Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ${os.platform()}-${os.arch()}.\n`,
)
console.log(`| recorder | calls/s | vs \`recordBatch\` 1M | vs \`recordBatch\` per call | p95 (exact ${exactP95.toFixed(2)} ms) |`)
console.log('| --- | ---: | ---: | ---: | ---: |')
for (const r of results) {
  const p95 = r.p95 === null ? 'n/a (buckets)' : `${r.p95.toFixed(2)} ms`
  console.log(`| ${r.name} | ${fmt(r.rate)} | ${ratio(r.rate, batch)} | ${ratio(r.rate, perCall)} | ${p95} |`)
}
