// Rollups: 5-minute, hourly and daily ModelMetrics rows, written by tick/flush, read by metrics.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'

import { Engine } from '../index.js'
import { MODEL_PATH, REFERENCE, irisEngine, throwsWithCode } from './helpers.mjs'

const { inputs } = REFERENCE
const home = mkdtempSync(join(tmpdir(), 'harper-edge-node-metrics-'))
after(() => rmSync(home, { recursive: true, force: true }))

const FIVE_MINUTES = 300_000
const HOUR = 3_600_000
const DAY = 86_400_000

const KEYS = [
  'avgLatency',
  'errorCount',
  'errorRate',
  'granularity',
  'id',
  'latencySketch',
  'maxLatency',
  'modelName',
  'modelVersion',
  'p50Latency',
  'p95Latency',
  'p99Latency',
  'periodEnd',
  'periodStart',
  'requestCount',
  'throughputPerSecond',
]

const sum = (rows, key) => rows.reduce((total, row) => total + row[key], 0)

// 7 answered calls and 2 failed ones (wrong shape) on iris:1; returns the answers.
async function traffic(engine) {
  const answered = []
  for (let i = 0; i < 7; i++) answered.push(await engine.inferJson('iris:1', inputs[i]))
  for (let i = 0; i < 2; i++) {
    await assert.rejects(engine.inferJson('iris:1', [1, 2, 3]), { code: 'HARPER_EDGE_SHAPE' })
  }
  return answered
}

test('flush writes 5-minute, hourly and daily rows that metrics reads back', async () => {
  const engine = await irisEngine(Engine.inMemory())
  const started = Date.now()
  const answered = await traffic(engine)
  const ticked = engine.tick()
  const period = (t) => Math.floor(t / FIVE_MINUTES)
  if (period(started) === period(Date.now())) {
    assert.deepEqual(ticked, [], 'tick writes only periods that ended')
  }

  const flushed = engine.flush()
  const fiveMinute = engine.metrics('iris')
  assert.ok(fiveMinute.length >= 1)
  for (const row of fiveMinute) {
    assert.deepEqual(Object.keys(row).sort(), KEYS)
    assert.equal(row.modelName, 'iris')
    assert.equal(row.modelVersion, '1')
    assert.equal(row.granularity, '5min')
    assert.equal(row.periodStart % FIVE_MINUTES, 0)
    assert.equal(row.periodEnd - row.periodStart, FIVE_MINUTES)
    assert.equal(row.id, `iris:1:5min:${row.periodStart}`)
    assert.ok(row.periodStart <= Date.now() && row.periodEnd > started)
    assert.equal(row.latencySketch.count, row.requestCount, 'the sketch holds every call')
    assert.equal(row.throughputPerSecond, row.requestCount / 300)
  }
  // Whatever the 5-minute boundaries, every call is counted once.
  assert.equal(sum(fiveMinute, 'requestCount'), 9)
  assert.equal(sum(fiveMinute, 'errorCount'), 2)
  // What flush wrote is what is stored (rows written by tick before are stored too).
  for (const row of flushed.filter((r) => r.granularity === '5min')) {
    assert.deepEqual(fiveMinute.find((r) => r.id === row.id), row)
  }

  const [hourly, ...moreHours] = engine.metrics('iris:1', { granularity: 'hourly' })
  if (moreHours.length === 0) {
    assert.equal(hourly.id, `iris:1:hourly:${hourly.periodStart}`)
    assert.equal(hourly.periodStart % HOUR, 0)
    assert.equal(hourly.periodEnd - hourly.periodStart, HOUR)
    assert.deepEqual([hourly.requestCount, hourly.errorCount], [9, 2])
    assert.equal(hourly.errorRate, 2 / 9)
    assert.equal(hourly.throughputPerSecond, 9 / 3600)
    // The answered calls' latencies are known here (the failed calls' are not).
    const slowest = Math.max(...answered.map((p) => p.latencyMs))
    assert.ok(hourly.maxLatency >= slowest, `${hourly.maxLatency} < ${slowest}`)
    assert.ok(hourly.p50Latency <= hourly.p95Latency && hourly.p95Latency <= hourly.p99Latency)
    assert.ok(hourly.p99Latency <= hourly.maxLatency * 1.01)
    assert.ok(hourly.avgLatency > 0 && hourly.avgLatency <= hourly.maxLatency)
  }
  const daily = engine.metrics('iris', { granularity: 'daily', version: '1' })
  assert.equal(sum(daily, 'requestCount'), 9)
  for (const row of daily) {
    assert.equal(row.periodStart % DAY, 0)
    assert.equal(row.periodEnd - row.periodStart, DAY)
  }

  // Nothing pending: a second flush writes nothing. New calls merge into the stored rows.
  assert.deepEqual(engine.flush(), [])
  await engine.inferJson('iris:1', inputs[7])
  const merged = engine.flush()
  assert.deepEqual(
    merged.map((r) => r.granularity).sort(),
    ['5min', 'daily', 'hourly'],
    'one row per granularity for the current period',
  )
  assert.equal(sum(engine.metrics('iris', { granularity: 'daily' }), 'requestCount'), 10)
  assert.equal(sum(engine.metrics('iris'), 'requestCount'), 10)
})

test('rows go through the outbox as ModelMetrics records', async () => {
  const engine = await irisEngine(Engine.inMemory())
  await engine.inferJson('iris', inputs[0])
  engine.flush()
  // Copied in order, the newest entry of each id is the stored row.
  const latest = new Map()
  for (const { table, id, record } of engine.outbox()) {
    if (table === 'ModelMetrics') latest.set(id, record)
  }
  const stored = ['5min', 'hourly', 'daily'].flatMap((granularity) => engine.metrics('iris', { granularity }))
  assert.deepEqual(new Set(stored.map((r) => r.granularity)), new Set(['5min', 'hourly', 'daily']))
  assert.deepEqual([...latest.keys()].sort(), stored.map((r) => r.id).sort())
  for (const row of stored) assert.deepEqual(latest.get(row.id), row)
})

test('rows persist in the SQLite store and are read by another engine', async () => {
  const first = await irisEngine(Engine.open(home))
  await traffic(first)
  first.flush()
  const second = Engine.open(home)
  assert.equal(sum(second.metrics('iris:1'), 'requestCount'), 9)
  assert.deepEqual(second.metrics('iris:1', { granularity: 'hourly' }), first.metrics('iris', { granularity: 'hourly' }))
})

test('metrics filters by version, period start and limit', async () => {
  const engine = await irisEngine(Engine.inMemory())
  await engine.inferJson('iris', inputs[0])
  await engine.registerModel({ name: 'iris', version: '2', path: MODEL_PATH })
  await engine.inferJson('iris', inputs[1])
  await engine.inferJson('iris', inputs[2])
  engine.flush()

  const byVersion = (rows) => Object.fromEntries(rows.map((r) => [r.modelVersion, r.requestCount]))
  const hourly = { granularity: 'hourly' }
  // A bare name: every version (the real-time view would take the newest).
  assert.deepEqual(byVersion(engine.metrics('iris', hourly)), { 1: 1, 2: 2 })
  assert.deepEqual(byVersion(engine.metrics('iris:2', hourly)), { 2: 2 })
  assert.deepEqual(byVersion(engine.metrics('iris', { ...hourly, version: '1' })), { 1: 1 })
  assert.deepEqual(byVersion(engine.metrics('iris:1', { ...hourly, version: '1' })), { 1: 1 })
  assert.equal(engine.metrics('iris', { ...hourly, limit: 1 }).length, 1)

  const [row] = engine.metrics('iris:1', hourly)
  const start = row.periodStart
  const count = (options) => engine.metrics('iris:1', { ...hourly, ...options }).length
  assert.equal(count({ from: start }), 1, 'from is inclusive')
  assert.equal(count({ from: start + 1 }), 0)
  assert.equal(count({ to: start }), 0, 'to is exclusive')
  assert.equal(count({ to: start + 1 }), 1)
  assert.equal(count({ from: start, to: start + HOUR }), 1)
  // An unknown model has no rows (metrics reads rows; it does not resolve the model).
  assert.deepEqual(engine.metrics('nope'), [])
})

test('bad arguments are INVALID_INPUT with the core message', async () => {
  const engine = await irisEngine(Engine.inMemory())
  throwsWithCode(
    () => engine.metrics('iris', { granularity: 'weekly' }),
    'HARPER_EDGE_INVALID_INPUT',
    /unknown granularity 'weekly' \(expected 5min, hourly or daily\)/,
  )
  throwsWithCode(
    () => engine.metrics('iris:1', { version: '2' }),
    'HARPER_EDGE_INVALID_INPUT',
    /names version '1' but options.version is '2'/,
  )
  throwsWithCode(() => engine.metrics('bad name!'), 'HARPER_EDGE_INVALID_INPUT')
  throwsWithCode(() => engine.metrics(42), 'HARPER_EDGE_INVALID_INPUT', /model must be/)
  throwsWithCode(() => engine.metrics('iris', 'hourly'), 'HARPER_EDGE_INVALID_INPUT', /options must be/)
  throwsWithCode(() => engine.metrics('iris', { from: -1 }), 'HARPER_EDGE_INVALID_INPUT', /options.from/)
  throwsWithCode(() => engine.metrics('iris', { to: 1.5 }), 'HARPER_EDGE_INVALID_INPUT', /options.to/)
  throwsWithCode(() => engine.metrics('iris', { limit: -1 }), 'HARPER_EDGE_INVALID_INPUT', /options.limit/)
  throwsWithCode(() => engine.metrics('iris', { from: 'today' }), 'HARPER_EDGE_INVALID_INPUT')
})
