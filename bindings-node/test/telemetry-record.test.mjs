// Telemetry settings, and recording calls of models the host runs itself: recordBatch (typed
// arrays), recordEvent (raw events), telemetryStats, and combineMetrics over several engines.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'

import { Engine, combineMetrics } from '../index.js'
import { irisEngine, throwsWithCode } from './helpers.mjs'

const home = mkdtempSync(join(tmpdir(), 'harper-edge-node-record-'))
after(() => rmSync(home, { recursive: true, force: true }))

const FIVE_MINUTES = 300_000
const HOUR = 3_600_000
// 2026-01-01T00:00:00Z: far enough in the past that every call is late for the real-time view
// and lands in a rollup period chosen here.
const T0 = Date.UTC(2026, 0, 1)

const STATS_KEYS = [
  'eventCapacity',
  'eventsBuffered',
  'eventsDropped',
  'eventsDuplicate',
  'eventsExpired',
  'eventsRejected',
  'eventsSampledOut',
  'eventsWritten',
  'flushErrors',
  'lastFlushError',
  'late',
  'observations',
]

// An engine without a background ticker: what is buffered stays buffered until tick/flush.
const manual = (options = {}) => Engine.inMemory({ tickIntervalMs: null, ...options })

// A deterministic spread of latencies: multiples of 1/8 ms (sums are exact in floating point)
// from 0.125 to 250 ms, shuffled by a multiplicative step.
function latencies(n, seed = 1) {
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = (((i * 7919 + seed * 104729) % 2000) + 1) / 8
  return out
}

// The value the sketch estimates for quantile q: rank floor(q (n - 1)) of the sorted values.
function exactQuantile(values, q) {
  const sorted = Float64Array.from(values).sort()
  return sorted[Math.floor(q * (sorted.length - 1))]
}

function hostEvent(fields = {}) {
  return { modelName: 'host', modelVersion: '1', framework: 'onnx', latencyMs: 2.5, ...fields }
}

test('telemetry settings are checked: HARPER_EDGE_INVALID_INPUT naming the field', () => {
  const bad = [
    [{ eventCapacity: 0 }, /event_capacity must be at least 1/],
    [{ eventCapacity: -1 }, /options\.eventCapacity must be a non-negative integer, got -1/],
    [{ eventCapacity: 2.5 }, /options\.eventCapacity must be a non-negative integer, got 2\.5/],
    [{ eventCapacity: '10' }, /eventCapacity/],
    [{ overflow: 'drop_newest' }, /overflow policy must be "drop_oldest" or "reject", got "drop_newest"/],
    [{ overflow: 1 }, /overflow/],
    [{ sampleRate: 1.5 }, /sample_rate must be between 0 and 1, got 1\.5/],
    [{ sampleRate: -0.1 }, /sample_rate must be between 0 and 1, got -0\.1/],
    [{ sampleRate: Number.NaN }, /sample_rate must be between 0 and 1, got NaN/],
    [{ retentionMs: 0 }, /retention must be positive \(or none\)/],
    [{ retentionMs: -5 }, /options\.retentionMs must be a non-negative integer, got -5/],
    [{ retentionMs: '30d' }, /retentionMs/],
    [{ tickIntervalMs: 0 }, /options\.tickIntervalMs must be positive \(or null for no ticker thread\)/],
    [{ tickIntervalMs: 0.5 }, /options\.tickIntervalMs must be a non-negative integer, got 0\.5/],
    [{ tickIntervalMs: true }, /tickIntervalMs/],
  ]
  for (const [i, [options, message]] of bad.entries()) {
    const what = JSON.stringify(options)
    const error = throwsWithCode(() => Engine.inMemory(options), 'HARPER_EDGE_INVALID_INPUT', message)
    assert.match(error.message, message, what)
    // Engine.open checks the same settings before it creates its directory.
    const dir = join(home, `refused-${i}`)
    throwsWithCode(() => Engine.open(dir, options), 'HARPER_EDGE_INVALID_INPUT', message)
    assert.equal(existsSync(dir), false, `${what}: no directory for a refused engine`)
  }
  throwsWithCode(() => Engine.inMemory(7), 'HARPER_EDGE_INVALID_INPUT', /options must be an object \{ maxEvents\?, eventCapacity\?/)

  // Valid settings, nulls included, build engines whose stats report the capacity.
  const open = Engine.open(join(home, 'settings'), {
    outbox: true,
    eventCapacity: 64,
    overflow: 'reject',
    sampleRate: 0.5,
    retentionMs: null,
    tickIntervalMs: null,
  })
  assert.deepEqual(Object.keys(open.telemetryStats()).sort(), STATS_KEYS)
  assert.equal(open.telemetryStats().eventCapacity, 64)
  const memory = Engine.inMemory({ retentionMs: 3_600_000, tickIntervalMs: 250, sampleRate: 0 })
  assert.equal(memory.telemetryStats().eventCapacity, 100_000, 'the default capacity')
})

test('a tiny buffer without a ticker drops (or rejects) raw events and says so', () => {
  const engine = manual({ eventCapacity: 2 })
  // The buffer is split in per-thread shards, so its real capacity is a multiple of them.
  const capacity = engine.telemetryStats().eventCapacity
  assert.ok(capacity >= 2 && capacity <= 32, `capacity ${capacity}`)
  const ids = []
  const admissions = []
  for (let i = 0; i < capacity + 5; i++) {
    const { inferenceId, admission } = engine.recordEvent(hostEvent({ id: `e${i}`, latencyMs: i }))
    ids.push(inferenceId)
    admissions.push(admission)
  }
  assert.deepEqual(ids, ids.map((_, i) => `e${i}`), 'given ids are kept')
  assert.deepEqual(admissions, [
    ...Array(capacity).fill('buffered'),
    ...Array(5).fill('dropped_oldest'),
  ])
  let stats = engine.telemetryStats()
  assert.equal(stats.observations, capacity + 5, 'the metrics count every call')
  assert.equal(stats.eventsBuffered, capacity)
  assert.equal(stats.eventsDropped, 5)
  assert.equal(stats.eventsWritten, 0, 'no ticker: nothing written yet')
  assert.equal(engine.realtime('host:1').requestCount, capacity + 5)

  engine.flush()
  stats = engine.telemetryStats()
  assert.equal(stats.eventsBuffered, 0)
  assert.equal(stats.eventsWritten, capacity)
  const kept = engine.events({ modelName: 'host', limit: 1000 }).map((e) => e.id).sort()
  assert.deepEqual(kept, ids.slice(5).sort(), 'the oldest events were dropped')

  const rejecting = manual({ eventCapacity: 2, overflow: 'reject' })
  const answers = []
  for (let i = 0; i < capacity + 3; i++) answers.push(rejecting.recordEvent(hostEvent()).admission)
  assert.deepEqual(answers, [...Array(capacity).fill('buffered'), ...Array(3).fill('rejected')])
  const refused = rejecting.telemetryStats()
  assert.deepEqual([refused.eventsRejected, refused.eventsDropped, refused.eventsBuffered], [3, 0, capacity])

  // Sampling keeps no successful call at rate 0, but every failed one.
  const sampled = manual({ sampleRate: 0 })
  assert.equal(sampled.recordEvent(hostEvent()).admission, 'sampled_out')
  assert.equal(sampled.recordEvent(hostEvent({ error: 'timeout' })).admission, 'buffered')
  const s = sampled.telemetryStats()
  assert.deepEqual([s.eventsSampledOut, s.eventsBuffered, s.observations], [1, 1, 2])
})

test('recordEvent fills id and timestamp, keeps the fields, and the event takes feedback', () => {
  const engine = manual()
  const before = Date.now()
  const { inferenceId, admission } = engine.recordEvent(
    hostEvent({ featuresIn: { prompt: 'hi' }, prediction: 'hello', confidence: 0.75, userId: 'u7' }),
  )
  assert.equal(admission, 'buffered')
  assert.match(inferenceId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  const past = engine.recordEvent(hostEvent({ id: 'old', timestamp: T0 + 1234, error: 'boom' }))
  assert.deepEqual(past, { inferenceId: 'old', admission: 'buffered' })
  // framework defaults to onnx; null is an absent key.
  const bare = engine.recordEvent({ modelName: 'host', modelVersion: '1', latencyMs: 0, id: null })
  assert.equal(bare.admission, 'buffered')

  const event = engine.event(inferenceId) // flushes the buffer first
  assert.equal(event.modelName, 'host')
  assert.equal(event.modelVersion, '1')
  assert.equal(event.framework, 'onnx')
  assert.equal(event.latencyMs, 2.5)
  assert.equal(event.confidence, 0.75)
  assert.equal(event.userId, 'u7')
  assert.deepEqual(event.featuresIn, { prompt: 'hi' })
  assert.equal(event.prediction, 'hello')
  assert.equal(event.error, null)
  assert.ok(event.timestamp >= before && event.timestamp <= Date.now(), `${event.timestamp}`)
  const old = engine.event('old')
  assert.deepEqual([old.timestamp, old.error, old.prediction, old.featuresIn], [T0 + 1234, 'boom', null, null])
  const minimal = engine.event(bare.inferenceId)
  assert.deepEqual([minimal.framework, minimal.latencyMs, minimal.userId, minimal.confidence], ['onnx', 0, null, null])

  assert.equal(engine.feedback(inferenceId, 'hello').correct, true)
  // The 2026 event is far outside the real-time window: counted in its own period only.
  const live = engine.realtime('host:1')
  assert.deepEqual([live.requestCount, live.labelledCount, live.accuracy], [2, 1, 1])
  assert.equal(engine.telemetryStats().observations, 3)
})

test('recordBatch counts reach realtime: counts and max exact, p95 within 1%', () => {
  const engine = manual()
  const n = 200_000
  const latency = latencies(n)
  const errors = new Uint8Array(n)
  const confidence = new Float64Array(n)
  let failed = 0
  let confidenceSum = 0
  let confident = 0
  for (let i = 0; i < n; i++) {
    if (i % 97 === 0) {
      errors[i] = i % 2 === 0 ? 1 : 255 // any non-zero value is a failure
      failed++
    }
    confidence[i] = i % 5 === 0 ? Number.NaN : (i % 100) / 100 // NaN: no confidence
    if (i % 5 !== 0) {
      confidenceSum += confidence[i]
      confident++
    }
  }
  assert.equal(engine.recordBatch('host:1', latency, { errors, confidence }), n)

  const stats = engine.realtime('host:1')
  assert.equal(stats.requestCount, n)
  assert.equal(stats.errorCount, failed)
  assert.equal(stats.errorRate, failed / n)
  assert.equal(stats.maxLatency, 250)
  const sum = latency.reduce((a, b) => a + b, 0)
  assert.equal(stats.avgLatency, sum / n, 'multiples of 1/8: the mean is exact')
  for (const [key, q] of [['p50Latency', 0.5], ['p95Latency', 0.95], ['p99Latency', 0.99]]) {
    const exact = exactQuantile(latency, q)
    assert.ok(Math.abs(stats[key] - exact) <= 0.01 * exact, `${key} ${stats[key]} vs ${exact}`)
  }
  assert.ok(Math.abs(stats.avgConfidence - confidenceSum / confident) < 1e-9, `${stats.avgConfidence}`)
  assert.equal(stats.labelledCount, 0)
  assert.equal(engine.telemetryStats().observations, n)
  assert.equal(engine.telemetryStats().eventsBuffered, 0, 'columns keep no raw events')

  // Without columns: successful calls now; an empty batch counts nothing.
  assert.equal(engine.recordBatch('host:1', new Float64Array([1, 2, 3])), 3)
  assert.equal(engine.recordBatch('host:1', new Float64Array(0), {}), 0)
  assert.equal(engine.realtime('host:1').requestCount, n + 3)
  assert.equal(engine.realtime('host:1').errorCount, failed)
})

test('recordBatch resolves a bare name to the newest registered version', async () => {
  const engine = await irisEngine(manual())
  assert.equal(engine.recordBatch('iris', new Float64Array([4, 8])), 2)
  assert.equal(engine.realtime('iris:1').requestCount, 2)
  assert.equal(engine.realtime('iris:1').maxLatency, 8)
  throwsWithCode(() => engine.recordBatch('nope', new Float64Array([1])), 'HARPER_EDGE_NOT_FOUND', /model 'nope' not found/)
})

test('recordBatch refuses mismatched columns and bad times, counting nothing', () => {
  const engine = manual()
  const latency = new Float64Array([1, 2, 3])
  const cases = [
    [{ errors: new Uint8Array(2) }, /column 'errors' has length 2 but latency_ms has length 3/],
    [{ confidence: new Float64Array(4) }, /column 'confidence' has length 4 but latency_ms has length 3/],
    [{ timestamps: new Float64Array([T0, T0]) }, /column 'timestamps' has length 2/],
    [{ timestamps: new Float64Array([T0, Number.NaN, T0]) }, /column 'timestamps' entry 1 is not a time/],
    [{ timestamps: new Float64Array([T0, T0, Infinity]) }, /column 'timestamps' entry 2 is not a time/],
  ]
  for (const [columns, message] of cases) {
    throwsWithCode(() => engine.recordBatch('host:1', latency, columns), 'HARPER_EDGE_INVALID_INPUT', message)
  }
  // A latency that is not a finite number of milliseconds, 0 or more, is not a measurement.
  for (const [bad, shown] of [[Number.NaN, 'NaN'], [-1, '-1'], [Infinity, 'inf']]) {
    throwsWithCode(
      () => engine.recordBatch('host:1', new Float64Array([1, bad, 3])),
      'HARPER_EDGE_INVALID_INPUT',
      new RegExp(`column 'latency_ms' entry 1 is ${shown}`),
    )
  }
  assert.equal(engine.realtime('host:1').requestCount, 0)
  assert.equal(engine.telemetryStats().observations, 0)
  assert.equal(engine.telemetryStats().late, 0)
  assert.deepEqual(engine.flush(), [], 'no period was opened')
})

test('past timestamps land in their own 5-minute rows after flush()', () => {
  const engine = manual()
  // 3 calls in [T0, T0 + 5 min), 2 in [T0 + 5 min, T0 + 10 min), 1 the next hour.
  const times = new Float64Array([T0 + 1, T0 + 60_000, T0 + FIVE_MINUTES - 1, T0 + FIVE_MINUTES, T0 + 599_999.9, T0 + HOUR])
  const latency = new Float64Array([1, 2, 3, 40, 50, 7])
  const errors = new Uint8Array([0, 1, 0, 0, 1, 0])
  assert.equal(engine.recordBatch('host:1', latency, { errors, timestamps: times }), 6)
  assert.equal(engine.realtime('host:1').requestCount, 0, 'far outside the real-time window')
  assert.equal(engine.telemetryStats().observations, 6)

  engine.flush()
  const rows = engine.metrics('host:1', { from: T0, to: T0 + 2 * HOUR })
  assert.deepEqual(
    rows.map((r) => [r.id, r.periodStart, r.requestCount, r.errorCount, r.maxLatency]),
    [
      [`host:1:5min:${T0}`, T0, 3, 1, 3],
      [`host:1:5min:${T0 + FIVE_MINUTES}`, T0 + FIVE_MINUTES, 2, 1, 50],
      [`host:1:5min:${T0 + HOUR}`, T0 + HOUR, 1, 0, 7],
    ],
  )
  assert.equal(rows[0].avgLatency, 2)
  const hourly = engine.metrics('host', { granularity: 'hourly', from: T0, to: T0 + 2 * HOUR })
  assert.deepEqual(hourly.map((r) => [r.periodStart, r.requestCount, r.errorCount]), [[T0, 5, 2], [T0 + HOUR, 1, 0]])
  const daily = engine.metrics('host', { granularity: 'daily' })
  assert.deepEqual(daily.map((r) => [r.periodStart, r.requestCount, r.maxLatency]), [[T0, 6, 50]])
})

test('combineMetrics of two engines equals one engine that saw every call', () => {
  const n = 30_000
  const latency = latencies(n, 3)
  const times = new Float64Array(n).map((_, i) => T0 + ((i * 37) % (3 * HOUR)))
  const errors = new Uint8Array(n).map((_, i) => (i % 41 === 0 ? 1 : 0))
  const split = 12_345
  const part = (a, from, to) => a.subarray(from, to)

  const one = manual()
  one.recordBatch('host:1', latency, { errors, timestamps: times })
  one.recordBatch('host:2', latency.subarray(0, 100), { timestamps: times.subarray(0, 100) })
  const whole = one.flush()

  const [a, b] = [manual(), manual()]
  a.recordBatch('host:1', part(latency, 0, split), { errors: part(errors, 0, split), timestamps: part(times, 0, split) })
  b.recordBatch('host:1', part(latency, split, n), { errors: part(errors, split, n), timestamps: part(times, split, n) })
  b.recordBatch('host:2', latency.subarray(0, 100), { timestamps: times.subarray(0, 100) })
  const rowsA = a.flush()
  const rowsB = b.flush()
  assert.ok(rowsA.length > 3 && rowsB.length > 3)

  // As a host stores them: one row per producer, told apart by an origin in the id.
  const stored = [
    ...rowsA.map((r) => ({ ...r, id: `${r.id}@worker-a`, origin: 'worker-a' })),
    ...rowsB.map((r) => ({ ...r, id: `${r.id}@worker-b`, origin: 'worker-b' })),
  ]
  const combined = combineMetrics(stored)
  const expected = combineMetrics(whole)
  assert.equal(expected.length, whole.length, 'one engine has one row per period already')
  assert.deepEqual(combined, expected)
  assert.equal(combined.reduce((s, r) => s + (r.granularity === 'daily' ? r.requestCount : 0), 0), n + 100)
  for (const row of combined) {
    assert.equal(row.id, `host:${row.modelVersion}:${row.granularity}:${row.periodStart}`)
    assert.equal(Object.hasOwn(row, 'origin'), false)
  }
  // Ordered by version, granularity (finest first) and period; each part of `whole` matches.
  const byId = new Map(whole.map((r) => [r.id, r]))
  for (const row of combined) assert.deepEqual(row, byId.get(row.id), row.id)
  const order = combined.map((r) => `${r.modelVersion}|${['5min', 'hourly', 'daily'].indexOf(r.granularity)}|${r.periodStart}`)
  assert.deepEqual(order, [...order].sort())

  assert.deepEqual(combineMetrics([]), [])
  assert.deepEqual(combineMetrics(rowsA.slice(0, 1)), rowsA.slice(0, 1), 'one row combines to itself')
})

test('garbage input to the recording calls throws typed errors', () => {
  const engine = manual()
  const code = 'HARPER_EDGE_INVALID_INPUT'
  throwsWithCode(() => engine.recordBatch('host:1', [1, 2]), code, /latencyMs must be a Float64Array, got an Array \(convert it with Float64Array\.from\(values\)\)/)
  throwsWithCode(() => engine.recordBatch('host:1', new Float32Array(2)), code, /latencyMs must be a Float64Array, got a Float32Array/)
  throwsWithCode(() => engine.recordBatch('host:1'), code, /latencyMs must be a Float64Array, got undefined/)
  throwsWithCode(() => engine.recordBatch(7, new Float64Array(1)), code, /model must be a string/)
  throwsWithCode(() => engine.recordBatch('host:', new Float64Array(1)), code)
  throwsWithCode(() => engine.recordBatch('host:1', new Float64Array(1), 5), code, /columns must be an object/)
  throwsWithCode(() => engine.recordBatch('host:1', new Float64Array(1), { errors: [0] }), code, /columns\.errors must be a Uint8Array, got an Array/)
  throwsWithCode(() => engine.recordBatch('host:1', new Float64Array(1), { errors: new Int8Array(1) }), code, /columns\.errors must be a Uint8Array, got an Int8Array/)
  throwsWithCode(() => engine.recordBatch('host:1', new Float64Array(1), { timestamps: new BigInt64Array(1) }), code, /columns\.timestamps must be a Float64Array, got a BigInt64Array/)
  throwsWithCode(() => engine.recordBatch('host:1', new Float64Array(1), { confidence: 'high' }), code, /columns\.confidence must be a Float64Array, got a string/)
  // null columns are absent columns.
  assert.equal(engine.recordBatch('host:1', new Float64Array(1), { errors: null, timestamps: undefined }), 1)

  throwsWithCode(() => engine.recordEvent('event'), code, /event must be an object \{ modelName, modelVersion, latencyMs, framework\?.*got a string/)
  throwsWithCode(() => engine.recordEvent([hostEvent()]), code, /event must be an object/)
  throwsWithCode(() => engine.recordEvent({ modelName: 'host', latencyMs: 1 }), code, /missing field `modelVersion`/)
  throwsWithCode(() => engine.recordEvent(hostEvent({ latencyMs: undefined })), code, /missing field `latencyMs`/)
  throwsWithCode(() => engine.recordEvent(hostEvent({ userID: 'u1' })), code, /event has no key 'userID' \(the keys are those of events\(\): .*userId/)
  throwsWithCode(() => engine.recordEvent(hostEvent({ id: 'neg', latencyMs: -1 })), code, /event 'neg' has latency_ms -1: it must be a finite number of milliseconds, 0 or more/)
  throwsWithCode(() => engine.recordEvent(hostEvent({ latencyMs: Number.NaN })), code, /event holds NaN or an infinite number/)
  throwsWithCode(() => engine.recordEvent(hostEvent({ confidence: Infinity })), code, /event holds NaN or an infinite number/)
  throwsWithCode(() => engine.recordEvent(hostEvent({ framework: 'pytorch' })), code, /unknown variant `pytorch`/)
  throwsWithCode(() => engine.recordEvent(hostEvent({ latencyMs: 'slow' })), code, /invalid type: string "slow", expected f64/)
  throwsWithCode(() => engine.recordEvent(hostEvent({ timestamp: 1.5 })), code, /invalid type: floating point `1\.5`, expected i64/)
  throwsWithCode(() => engine.recordEvent(hostEvent({ modelVersion: '' })), code, /needs a model name and a model version/)
  assert.equal(engine.telemetryStats().observations, 1, 'only the valid batch was counted')
  assert.deepEqual(engine.realtime('host:1').requestCount, 1)

  throwsWithCode(() => combineMetrics(), code, /rows must be an array of ModelMetrics rows, got undefined/)
  throwsWithCode(() => combineMetrics({}), code, /rows must be an array of ModelMetrics rows/)
  throwsWithCode(() => combineMetrics([1]), code, /rows\[0\] must be a ModelMetrics object/)
  const [row] = engine.flush()
  throwsWithCode(() => combineMetrics([row, { ...row, requestCount: undefined, id: undefined }]), code, /rows\[1\] is invalid: missing field `id`/)
  throwsWithCode(() => combineMetrics([{ ...row, granularity: 'weekly' }]), code, /rows\[0\] is invalid: unknown variant `weekly`/)
  const tampered = { ...row, latencySketch: { ...row.latencySketch, count: 99 } }
  throwsWithCode(() => combineMetrics([tampered]), code, /rows\[0\] is invalid: .*corrupt sketch/)
  const coarser = { ...row, latencySketch: { ...row.latencySketch, alpha: 0.02 } }
  throwsWithCode(() => combineMetrics([row, coarser]), code, /accurac/)
})

test('a process that exits without flushing loses nothing', async () => {
  const { execFileSync } = await import('node:child_process')
  const dir = join(home, 'exit')
  const index = new URL('../index.js', import.meta.url).href
  const script = `
    import { Engine } from ${JSON.stringify(index)}
    const engine = Engine.open(${JSON.stringify(dir)})
    engine.recordEvent({ modelName: 'm', modelVersion: '1', latencyMs: 1 })
    engine.recordBatch('m:1', new Float64Array([1, 2, 3]))
  `
  execFileSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 120_000 })
  const engine = Engine.open(dir, { tickIntervalMs: null })
  assert.equal(engine.events().length, 1)
  const rows = engine.metrics('m:1', { granularity: '5min' })
  assert.equal(rows.reduce((n, r) => n + r.requestCount, 0), 4)
})
