// Drift and rollups split by a segment key: SegmentedBaseline / checkDriftSegments on columns,
// and the engine's segmented checks on events and rollups.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { Baseline, Engine, SegmentedBaseline, checkDriftSegments } from '../index.js'
import { throwsWithCode } from './helpers.mjs'

/** A fixed LCG in [0, 1). */
function rng(seed) {
  let s = BigInt(seed)
  return () => {
    s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn
    return Number(s >> 11n) / 2 ** 53
  }
}

/** Cohort north (x around 0) and south (x around 5, + southShift); arm alternates a / b. */
function cohorts(n, seed, southShift = 0) {
  const u = rng(seed)
  const x = new Float64Array(n)
  const cohort = []
  const arm = []
  for (let i = 0; i < n; i++) {
    const south = i % 3 === 0
    x[i] = (south ? 5 + southShift : 0) + 4 * u()
    cohort.push(south ? 'south' : 'north')
    arm.push(i % 2 === 0 ? 'a' : 'b')
  }
  return { x, cohort, arm }
}

test('cohorts are compared with their own part of the reference', () => {
  const { x, cohort } = cohorts(3000, 1)
  const segmented = SegmentedBaseline.fit({ x, cohort }, 'cohort')
  assert.equal(segmented.key, 'cohort')
  assert.deepEqual(segmented.segmentRows, { north: 2000, south: 1000 })
  assert.deepEqual(segmented.whole.features, ['x'])
  const report = segmented.check(cohorts(3000, 2, 1.0), { segment: 'cohort' })
  assert.equal(report.key, 'cohort')
  assert.equal(report.driftedSegments, 1)
  const [south, north] = report.segments
  assert.equal(south.segment, 'south')
  assert.ok(south.drifted && south.comparedWith === 'segment' && south.referenceRows === 1000)
  assert.ok(south.report.features[0].featureName === 'x' && south.report.features[0].drifted)
  assert.ok(!north.drifted)
  assert.equal(report.model.correction, 'holm')
  // The saved form reads back; a corrupt one is refused.
  assert.deepEqual(SegmentedBaseline.fromJson(segmented.toJson()).segmentRows, segmented.segmentRows)
  throwsWithCode(() => SegmentedBaseline.fromJson('{"key": 3}'), 'HARPER_EDGE_INTEGRITY')
})

test('arms are compared with the whole baseline; bad requests are named', () => {
  const baseline = Baseline.fit({ x: cohorts(3000, 3).x })
  const current = cohorts(3000, 4)
  current.x = current.x.map((v, i) => (i % 2 === 1 ? v + 1 : v))
  const report = checkDriftSegments(baseline, current, { segment: 'arm', minRows: 10 })
  const arms = Object.fromEntries(report.segments.map((s) => [s.segment, s]))
  assert.ok(arms.b.drifted && !arms.a.drifted)
  assert.equal(arms.a.comparedWith, 'whole')
  const small = checkDriftSegments(baseline, current, { segment: 'arm', minRows: 5000 })
  assert.ok(small.segments.every((s) => s.report === null && /fewer than minRows 5000/.test(s.skipped)))
  throwsWithCode(() => checkDriftSegments(baseline, current, { segment: 'tier' }), 'HARPER_EDGE_INVALID_INPUT', /no column 'tier'/)
  throwsWithCode(() => checkDriftSegments(baseline, current, {}), 'HARPER_EDGE_INVALID_INPUT', /segment/)
})

function events(version, n, shift, start) {
  const u = rng(start + (version === '2' ? 7 : 3))
  return Array.from({ length: n }, (_, i) => ({
    id: `${version}-${start + i}`,
    modelName: 'scorer',
    modelVersion: version,
    framework: 'onnx',
    latencyMs: version === '1' ? 10 : 20,
    timestamp: 1_767_225_600_000 + (start + i) * 100,
    featuresIn: { x: 4 * u() + shift, arm: i % 2 ? 'a' : 'b' },
    prediction: 'ok',
    userId: `user-${i % 5}`,
  }))
}

test('the engine checks a canary version and splits rollups by segment', () => {
  const engine = Engine.inMemory({ tickIntervalMs: null })
  const reference = events('1', 2000, 0, 0)
  engine.fitBaselineFromEvents('scorer:1', reference, { segmentBy: ['userId'] })
  const current = [...events('1', 1000, 0, 5000), ...events('2', 1000, 1, 5000)]
  const byVersion = engine.checkDriftSegmentsEvents('scorer:1', current, { segment: 'modelVersion' })
  const versions = Object.fromEntries(byVersion.segments.map((s) => [s.segment, s]))
  assert.ok(versions['2'].drifted && !versions['1'].drifted)
  const users = engine.checkDriftSegmentsEvents('scorer:1', current, { segment: 'userId' })
  assert.equal(users.segments.length, 5)
  assert.ok(users.segments.every((s) => s.comparedWith === 'segment'))
  throwsWithCode(
    () => engine.checkDriftSegments('scorer:1', null, { segment: 'userId' }),
    'HARPER_EDGE_INVALID_INPUT',
    /event field 'userId'/,
  )

  for (const e of [...reference, ...events('2', 600, 0, 9000)]) engine.recordEvent(e)
  const split = engine.metricsBySegment('scorer', { granularity: 'hourly', segment: 'modelVersion' })
  assert.equal(split.key, 'modelVersion')
  assert.equal(split.truncated, false)
  const counts = Object.fromEntries(split.segments.map((s) => [s.segment, s.requestCount]))
  assert.deepEqual(counts, { 1: 2000, 2: 600 })
  const canary = split.segments.find((s) => s.segment === '2')
  assert.ok(Math.abs(canary.rows[0].p50Latency - 20) < 0.5)
  assert.ok(canary.rows[0].id.endsWith(':modelVersion=2'))
  throwsWithCode(() => engine.metricsBySegment('scorer', { granularity: 'hourly' }), 'HARPER_EDGE_INVALID_INPUT', /segment/)
})
