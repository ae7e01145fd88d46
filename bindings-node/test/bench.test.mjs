// Engine.benchmark from Node: the committed iris classifier on tract and ONNX Runtime
// (onnxruntime-node's runtime) and a random forest in one equivalence group; agreement, the
// winner rule, the stored history, Markdown and typed errors. Rules, never timings.
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { before, test } from 'node:test'

import { Engine, benchmarkMarkdown } from '../index.js'
import { MODEL_PATH, REFERENCE, rejectsWithCode, throwsWithCode, useNodeOrt } from './helpers.mjs'

const FOREST = fileURLToPath(new URL('../../tests/data/sklearn_forest_classifier.onnx', import.meta.url))
const GROUP = { taskType: 'classification', equivalenceGroup: 'iris', outputDimensions: [3] }

async function groupEngine() {
  const engine = Engine.inMemory()
  await engine.registerModel({ name: 'iris', version: 'tract', path: MODEL_PATH, metadata: { ...GROUP, backend: 'tract', benchmarkReference: true } })
  await engine.registerModel({ name: 'iris', version: 'ort', path: MODEL_PATH, metadata: { ...GROUP, backend: 'ort' } })
  await engine.registerModel({ name: 'forest', version: '1', path: FOREST, metadata: GROUP })
  return engine
}

before(async () => {
  await useNodeOrt()
})

test('a group is benchmarked, compared with its reference and stored', async () => {
  const engine = await groupEngine()
  const groups = engine.benchmarkGroups()
  assert.deepEqual(groups.map((g) => [g.equivalenceGroup, g.problem, g.modelIds]), [['iris', null, ['forest:1', 'iris:ort', 'iris:tract']]])

  const seen = []
  const result = await engine.benchmark(
    'iris',
    {
      batchSizes: [1, 8],
      concurrency: [1, 2],
      iterations: 10,
      warmup: 2,
      inputs: REFERENCE.inputs,
      runBy: 'node --test',
    },
    (p) => seen.push(p),
  )
  // Progress reaches the JS thread before the Promise settles: load to done, ending at the total.
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(seen[0].phase, 'load')
  assert.equal(seen.at(-1).phase, 'done')
  assert.equal(seen.at(-1).done, seen.at(-1).total)
  assert.equal(seen.at(-1).total, 3 * (1 + 4 * (2 + 10)))
  assert.ok(seen.some((p) => p.phase === 'measure' && p.batchSize === 8 && p.concurrency === 2))
  assert.equal(result.referenceModel, 'iris:tract')
  assert.deepEqual(result.testDataSummary, { kind: 'rows', source: 'given', count: 18, width: 4 })
  const byId = Object.fromEntries(result.results.map((r) => [r.modelId, r]))
  const ort = byId['iris:ort']
  assert.equal(ort.backend, 'ort')
  assert.equal(ort.agreement.metric, 'labels')
  assert.equal(ort.agreement.labelAgreement, 1)
  assert.ok(ort.agreement.maxAbsDiff < 1e-5)
  for (const r of result.results) {
    assert.equal(r.cells.length, 4)
    for (const c of r.cells) {
      assert.equal(c.latency.count + c.errors, 10)
      assert.ok(c.latency.minUs <= c.latency.p50Us && c.latency.p50Us <= c.latency.p99Us && c.latency.p99Us <= c.latency.maxUs)
      assert.ok(c.throughputPerSec > 0)
    }
  }
  const qualified = result.results.filter((r) => r.agrees && r.errorCount === 0)
  qualified.sort((a, b) => a.latency.p50Us - b.latency.p50Us || a.latency.meanUs - b.latency.meanUs)
  assert.equal(result.winner, qualified[0].modelId)

  assert.deepEqual(engine.benchmarkResult(result.id), result)
  assert.deepEqual(engine.benchmarkHistory({ group: 'iris' }).map((r) => r.id), [result.id])
  assert.deepEqual(engine.benchmarkHistory({ group: 'other' }), [])
  assert.deepEqual(engine.benchmarkHistory({ from: Date.now() + 3_600_000 }), [])
  const md = benchmarkMarkdown(result)
  assert.match(md, /`iris:ort`/)
  assert.match(md, /\| model \| batch \| concurrency \|/)
})

test('bad options and groups reject with typed errors before running', async () => {
  const engine = await groupEngine()
  await rejectsWithCode(engine.benchmark('nope'), 'HARPER_EDGE_NOT_FOUND', /nope/)
  await rejectsWithCode(engine.benchmark('iris', { batchSizes: [0] }), 'HARPER_EDGE_INVALID_INPUT', /batch sizes/)
  await rejectsWithCode(engine.benchmark('iris', { batch: [1] }), 'HARPER_EDGE_INVALID_INPUT', /unknown benchmark option 'batch'/)
  await rejectsWithCode(engine.benchmark('iris', { inputs: ['text'] }), 'HARPER_EDGE_INVALID_INPUT', /does not take text/)
  await rejectsWithCode(engine.benchmark('iris', { inputs: [[1, 2]] }), 'HARPER_EDGE_INVALID_INPUT', /dimension mismatch/)
  await rejectsWithCode(engine.benchmark(42), 'HARPER_EDGE_INVALID_INPUT', /group/)
  await rejectsWithCode(engine.benchmark('iris', {}, 'not a function'), 'HARPER_EDGE_INVALID_INPUT', /onProgress must be a function/)
  throwsWithCode(() => engine.benchmarkResult('bench-missing'), 'HARPER_EDGE_NOT_FOUND')
  throwsWithCode(() => engine.benchmarkHistory({ limt: 3 }), 'HARPER_EDGE_INVALID_INPUT', /unknown query key 'limt'/)
  throwsWithCode(() => benchmarkMarkdown({ id: 'x' }), 'HARPER_EDGE_INVALID_INPUT', /result/)
  assert.deepEqual(engine.benchmarkHistory(), [])
})
