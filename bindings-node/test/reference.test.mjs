// The binding reproduces the committed reference outputs (onnxruntime via skl2onnx) of the
// iris model, through both entry points.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { Engine } from '../index.js'
import { REFERENCE, assertClose, irisEngine } from './helpers.mjs'

const { inputs, labels, probabilities, tolerance } = REFERENCE
const classes = probabilities[0].length

test('a batch as one Float32Array matches the reference', async () => {
  const engine = await irisEngine(Engine.inMemory())
  const batch = Float32Array.from(inputs.flat())
  const p = await engine.infer('iris:1', batch)

  assert.deepEqual(Object.keys(p.outputs).sort(), [...REFERENCE.outputs].sort())
  const probs = p.outputs.probabilities
  assert.ok(probs.data instanceof Float32Array)
  assert.deepEqual(probs.shape, [inputs.length, classes])
  assertClose(probs.data, probabilities.flat(), tolerance, 'probabilities')

  const label = p.outputs.label
  assert.ok(label.data instanceof BigInt64Array)
  assert.deepEqual([...label.data].map(Number), labels)
  assert.deepEqual(p.prediction, labels)
  const meanTop =
    probabilities.map((row) => Math.max(...row)).reduce((a, b) => a + b, 0) / inputs.length
  assert.ok(Math.abs(p.confidence - meanTop) <= tolerance, `${p.confidence} vs ${meanTop}`)
  assert.equal(p.modelName, 'iris')
  assert.equal(p.modelVersion, '1')
  assert.ok(p.latencyMs > 0)
})

test('an explicit shape and a subarray view give the same rows', async () => {
  const engine = await irisEngine(Engine.inMemory())
  const batch = Float32Array.from(inputs.flat())
  const p = await engine.infer('iris', batch, { shape: [inputs.length, 4] })
  assertClose(p.outputs.probabilities.data, probabilities.flat(), tolerance, 'probabilities')

  // A view into the middle of a larger buffer: the binding must honour its byte offset.
  const row = 7
  const view = batch.subarray(row * 4, row * 4 + 4)
  const one = await engine.infer('iris', view)
  assert.deepEqual(one.outputs.probabilities.shape, [1, classes])
  assertClose(one.outputs.probabilities.data, probabilities[row], tolerance, `row ${row}`)
  assert.equal(one.prediction, labels[row])
})

test('every row as JSON matches the reference', async () => {
  const engine = await irisEngine(Engine.inMemory())
  for (const [i, row] of inputs.entries()) {
    const p = await engine.inferJson('iris:1', row)
    assert.equal(p.prediction, labels[i], `label of row ${i}`)
    assert.ok(
      Math.abs(p.confidence - Math.max(...probabilities[i])) <= tolerance,
      `confidence of row ${i}`,
    )
    assertClose(p.outputs.probabilities.data, probabilities[i], tolerance, `row ${i}`)
  }
})
