// Many calls in flight at once on the libuv pool: each resolves with its own row's answer.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { Engine } from '../index.js'
import { REFERENCE, assertClose, irisEngine } from './helpers.mjs'

test('Promise.all of many infer and inferJson calls resolves each correctly', async () => {
  const engine = await irisEngine(Engine.inMemory())
  const { inputs, labels, probabilities, tolerance } = REFERENCE
  const n = 240
  const calls = Array.from({ length: n }, (_, k) => {
    const i = k % inputs.length
    const call =
      k % 2 === 0
        ? engine.infer('iris:1', Float32Array.from(inputs[i]), { requestId: `r${k}` })
        : engine.inferJson('iris:1', inputs[i], { requestId: `r${k}` })
    return call.then((p) => ({ i, k, p }))
  })
  const results = await Promise.all(calls)
  for (const { i, k, p } of results) {
    assert.equal(p.prediction, labels[i], `call ${k}`)
    assertClose(p.outputs.probabilities.data, probabilities[i], tolerance, `call ${k}`)
  }
  const ids = new Set(results.map((r) => r.p.inferenceId))
  assert.equal(ids.size, n)
  const events = engine.events({ limit: 1000 })
  assert.equal(events.length, n)
  for (const { k, p } of results) {
    assert.equal(engine.event(p.inferenceId).requestId, `r${k}`)
  }
})
