// Drift checks: Baseline.fit / checkDrift on columns, and the engine's stored checks.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { Baseline, Engine, checkDrift } from '../index.js'
import { irisEngine, throwsWithCode } from './helpers.mjs'

/** A fixed LCG in [0, 1). */
function rng(seed) {
  let s = BigInt(seed)
  return () => {
    s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn
    return Number(s >> 11n) / 2 ** 53
  }
}

function columns(n, shift, seed) {
  const u = rng(seed)
  const age = new Float64Array(n)
  const plan = []
  for (let i = 0; i < n; i++) {
    age[i] = 20 + 40 * u() + shift
    const r = u()
    plan.push(r < 0.6 ? 'free' : r < 0.9 ? 'pro' : shift > 0 ? 'vip' : 'team')
  }
  return { age, plan, stable: Array.from({ length: n }, (_, i) => i % 10) }
}

/** Two-sample KS statistic computed independently (max ECDF gap). */
function ks(a, b) {
  const sa = [...a].sort((x, y) => x - y)
  const sb = [...b].sort((x, y) => x - y)
  let i = 0
  let j = 0
  let d = 0
  while (i < sa.length && j < sb.length) {
    const x = Math.min(sa[i], sb[j])
    while (i < sa.length && sa[i] <= x) i++
    while (j < sb.length && sb[j] <= x) j++
    d = Math.max(d, Math.abs(i / sa.length - j / sb.length))
  }
  return d
}

test('checkDrift finds the planted shifts with exact KS statistics', () => {
  const ref = columns(1000, 0, 1)
  const cur = columns(1000, 10, 2)
  const baseline = Baseline.fit(ref)
  assert.deepEqual(baseline.features, ['age', 'plan', 'stable'])
  assert.deepEqual(
    baseline.schema.map((f) => f.kind),
    ['numeric', 'categorical', 'numeric'],
  )
  const r = checkDrift(baseline, cur)
  const byName = Object.fromEntries(r.report.features.map((f) => [f.featureName, f]))
  assert.equal(byName.age.driftMethod, 'ks')
  assert.ok(byName.age.drifted && byName.plan.drifted && !byName.stable.drifted)
  assert.ok(Math.abs(byName.age.driftScore - ks(ref.age, cur.age)) < 1e-12)
  assert.equal(r.report.driftedCount, 2)
  assert.equal(r.quality.unknownCategories.plan, cur.plan.filter((p) => p === 'vip').length)
  assert.equal(r.quality.totalRecords, 1000)
  assert.equal(r.quality.id, undefined)

  const psi = checkDrift(baseline, cur, { methods: { age: 'psi' }, thresholds: { age: 50 } })
  const age = psi.report.features.find((f) => f.featureName === 'age')
  assert.equal(age.driftMethod, 'psi')
  assert.equal(age.drifted, false)
  assert.ok(age.pValue < 1e-10, 'a calibrated PSI has a p-value')

  // The model verdict: Holm over the three tested features, or as asked.
  assert.deepEqual(
    [r.report.model.correction, r.report.model.tested, r.report.model.rejected, r.report.model.drifted],
    ['holm', 3, 2, true],
  )
  const stable = r.report.features.find((f) => f.featureName === 'stable')
  assert.ok(stable.adjustedPValue >= stable.pValue)
  assert.equal(checkDrift(baseline, cur, { correction: 'bh' }).report.model.correction, 'bh')
  throwsWithCode(() => checkDrift(baseline, cur, { correction: 'sidak' }), 'HARPER_EDGE_INVALID_INPUT', /unknown correction/)
})

test('baselines round-trip through JSON and merge', () => {
  const ref = columns(400, 0, 3)
  const b = Baseline.fit(ref, { categorical: ['stable'], bins: 4 })
  assert.equal(b.schema.find((f) => f.name === 'stable').kind, 'categorical')
  const again = Baseline.fromJson(b.toJson())
  assert.equal(again.toJson(), b.toJson())
  const half = (c, lo, hi) => ({ age: c.age.slice(lo, hi), plan: c.plan.slice(lo, hi), stable: c.stable.slice(lo, hi) })
  const merged = Baseline.fit(half(ref, 0, 200), { categorical: ['stable'], bins: 4 }).merge(
    Baseline.fit(half(ref, 200, 400), { categorical: ['stable'], bins: 4 }),
  )
  const cur = columns(400, 5, 4)
  const scores = (x) => checkDrift(x, cur).report.features.map((f) => [f.featureName, f.driftScore, f.pValue])
  assert.deepEqual(scores(merged), scores(b))
  throwsWithCode(() => Baseline.fromJson('{"config": 1}'), 'HARPER_EDGE_INTEGRITY')
})

test('bad input throws typed errors', () => {
  throwsWithCode(() => Baseline.fit(42), 'HARPER_EDGE_INVALID_INPUT', /columns must be/)
  throwsWithCode(() => Baseline.fit({ x: [1, { a: 1 }] }), 'HARPER_EDGE_INVALID_INPUT', /columns\.x\[1\]/)
  throwsWithCode(
    () => Baseline.fit({ x: new Float64Array([1, Infinity]) }),
    'HARPER_EDGE_INVALID_INPUT',
  )
  throwsWithCode(
    () => Baseline.fit({ x: [1, 2] }, { categorical: ['nope'] }),
    'HARPER_EDGE_INVALID_INPUT',
    /no column 'nope'/,
  )
  const b = Baseline.fit({ x: [1, 2, 3] })
  throwsWithCode(() => checkDrift(b, { x: [1, 2] }, { alpha: 2 }), 'HARPER_EDGE_INVALID_INPUT', /alpha/)
  throwsWithCode(
    () => checkDrift(b, { x: [1, 2] }, { methods: { x: 'magic' } }),
    'HARPER_EDGE_INVALID_INPUT',
    /unknown drift method/,
  )
})

test('the engine checks its window of calls and stores the rows', async () => {
  const engine = await irisEngine(Engine.inMemory({ tickIntervalMs: null }))
  const u = rng(9)
  const row = (shift) =>
    new Float32Array([4.5 + 3 * u(), 2 + 2 * u(), 1 + 5 * u() + shift, 0.1 + 2.4 * u()])
  for (let i = 0; i < 300; i++) {
    const p = await engine.infer('iris:1', row(0))
    await engine.feedback(p.inferenceId, p.prediction)
  }
  const stored = engine.fitBaseline('iris:1')
  assert.deepEqual(stored.accuracy, { correct: 300, total: 300 })
  assert.deepEqual(stored.predictionFeatures, ['confidence', 'prediction'])
  assert.equal(stored.features, 6)
  throwsWithCode(() => engine.checkDrift('iris:1'), 'HARPER_EDGE_INVALID_INPUT', /no successful call/)
  for (let i = 0; i < 300; i++) await engine.infer('iris:1', row(2))
  const r = engine.checkDrift('iris:1')
  assert.equal(r.window.calls, 300)
  const drifted = r.report.features.filter((f) => f.drifted).map((f) => f.featureName)
  assert.ok(drifted.includes('input[2]') && !drifted.includes('input[0]'), drifted.join())
  assert.equal(r.rows.length, 6)
  assert.equal(r.drifted, true)
  assert.equal(engine.driftMetrics('iris', { driftType: 'input' }).length, 4)
  assert.equal(engine.dataQuality('iris:1')[0].totalRecords, 300)
  const tables = new Set(engine.outbox(0, 100000).map((e) => e.table))
  for (const t of ['DriftBaseline', 'DriftMetrics', 'DataQualityMetrics']) assert.ok(tables.has(t), t)

  // Given columns with labels: concept drift.
  const x = new Float64Array(200).map((_, i) => i % 50)
  engine.setBaseline('iris:1', Baseline.fit({ 'input[2]': x }), { accuracy: { correct: 95, total: 100 } })
  const c = engine.checkDrift('iris:1', { 'input[2]': x.map((v) => v + 25) }, { labels: { correct: 40, total: 100 } })
  assert.equal(c.concept.drifted, true)
  assert.equal(c.rows.at(-1).driftType, 'concept')
  assert.equal(engine.baseline('iris:1').features.length, 1)
  throwsWithCode(() => engine.baseline('other:1'), 'HARPER_EDGE_NOT_FOUND')
  throwsWithCode(() => engine.driftMetrics('iris', { driftType: 'x' }), 'HARPER_EDGE_INVALID_INPUT', /driftType/)
})

test('the drift window size is a setting', async () => {
  throwsWithCode(() => Engine.inMemory({ driftSampleSize: 0 }), 'HARPER_EDGE_INVALID_INPUT', /driftSampleSize|drift_sample_size/)
  const engine = await irisEngine(Engine.inMemory({ driftSampleSize: 5, tickIntervalMs: null }))
  engine.setBaseline('iris:1', Baseline.fit({ 'input[0]': new Float64Array([4, 5, 6, 7]) }))
  for (let i = 0; i < 40; i++) await engine.infer('iris:1', new Float32Array([4 + (i % 4), 3, 4, 1]))
  const r = engine.checkDrift('iris:1')
  assert.deepEqual([r.window.calls, r.window.sampled], [40, 5])
})
