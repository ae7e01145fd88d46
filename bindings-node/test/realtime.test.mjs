// The real-time view of a model: the last five minutes of calls and feedback.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'

import { Engine } from '../index.js'
import { MODEL_PATH, REFERENCE, irisEngine, throwsWithCode } from './helpers.mjs'

const { inputs, labels } = REFERENCE
const home = mkdtempSync(join(tmpdir(), 'harper-edge-node-realtime-'))
after(() => rmSync(home, { recursive: true, force: true }))

test('realtime counts calls, errors and feedback; a fresh engine reads them from the store', async () => {
  const engine = await irisEngine(Engine.open(home))
  const started = Date.now()
  const ids = []
  for (let i = 0; i < 7; i++) ids.push((await engine.inferJson('iris', inputs[i])).inferenceId)
  for (let i = 0; i < 2; i++) {
    await assert.rejects(engine.inferJson('iris:1', [1, 2, 3]), { code: 'HARPER_EDGE_SHAPE' })
  }
  engine.feedback(ids[0], labels[0])
  engine.feedback(ids[1], labels[1])
  engine.feedback(ids[2], (labels[2] + 1) % 3)

  const stats = engine.realtime('iris')
  assert.equal(stats.requestCount, 9)
  assert.equal(stats.errorCount, 2)
  assert.equal(stats.labelledCount, 3)
  assert.ok(Math.abs(stats.accuracy - 2 / 3) < 1e-12)
  assert.ok(Math.abs(stats.errorRate - 2 / 9) < 1e-12)
  assert.ok(Math.abs(stats.throughputPerSecond - 9 / 300) < 1e-12)
  assert.equal(stats.windowEnd - stats.windowStart, 300_000)
  // The window is whole 10 s slots and ends at the end of the current one.
  assert.equal(stats.windowEnd % 10_000, 0)
  assert.ok(stats.windowStart <= started, `${stats.windowStart}`)
  assert.ok(stats.windowEnd > started && stats.windowEnd <= Date.now() + 10_000, `${stats.windowEnd}`)
  for (const key of ['avgLatency', 'p50Latency', 'p95Latency', 'p99Latency', 'maxLatency']) {
    assert.ok(typeof stats[key] === 'number' && stats[key] > 0, key)
  }
  assert.ok(stats.avgLatency <= stats.maxLatency)
  assert.ok(stats.avgConfidence > 0 && stats.avgConfidence <= 1)
  assert.equal(engine.realtime('iris:1').requestCount, 9)

  const reopened = Engine.open(home)
  const again = reopened.realtime('iris:1')
  assert.deepEqual(
    [again.requestCount, again.errorCount, again.labelledCount, again.accuracy],
    [9, 2, 3, stats.accuracy],
  )
  // ... and keeps counting from there.
  reopened.feedback(ids[3], labels[3])
  assert.equal(reopened.realtime('iris').labelledCount, 4)
})

test('a model without calls has counts of 0 and null statistics', async () => {
  const engine = await irisEngine(Engine.inMemory())
  const stats = engine.realtime('iris')
  assert.deepEqual(
    [stats.requestCount, stats.errorCount, stats.errorRate, stats.labelledCount],
    [0, 0, 0, 0],
  )
  for (const key of ['avgLatency', 'p50Latency', 'p99Latency', 'maxLatency', 'avgConfidence', 'accuracy']) {
    assert.equal(stats[key], null, key)
  }
})

test('realtime follows the newest version unless the reference names one', async () => {
  const engine = await irisEngine(Engine.inMemory())
  await engine.inferJson('iris:1', inputs[0])
  await engine.registerModel({ name: 'iris', version: '2', path: MODEL_PATH })
  await engine.inferJson('iris', inputs[0])
  await engine.inferJson('iris', inputs[1])
  assert.equal(engine.realtime('iris').requestCount, 2)
  assert.equal(engine.realtime('iris:1').requestCount, 1)
})

test('realtime of an unknown model is NOT_FOUND; a bad argument INVALID_INPUT', async () => {
  const engine = await irisEngine(Engine.inMemory())
  throwsWithCode(() => engine.realtime('nope'), 'HARPER_EDGE_NOT_FOUND', /model 'nope' not found/)
  throwsWithCode(() => engine.realtime('iris:9'), 'HARPER_EDGE_NOT_FOUND', /iris:9/)
  throwsWithCode(() => engine.realtime(42), 'HARPER_EDGE_INVALID_INPUT', /model must be/)
  throwsWithCode(() => engine.realtime(), 'HARPER_EDGE_INVALID_INPUT', /got undefined/)
})
